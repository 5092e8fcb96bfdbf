use tritonc::prelude::*;

#[kernel]
fn bad<const BLOCK: i32>(x: Ptr<f32>) {
    let o = arange(0, BLOCK);
    store(x + o, 1.0);
    store(x + arange(0, 100), 2.0);
}

fn main() {}
