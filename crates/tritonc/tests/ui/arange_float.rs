use tritonc::prelude::*;

#[kernel]
fn bad<const BLOCK: i32>(x: Ptr<f32>) {
    let o = arange(0.0, 1024);
    store(x + o, 1.0);
}

fn main() {}
