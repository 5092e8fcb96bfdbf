use tritonc::prelude::*;

#[kernel]
fn bad<const BLOCK: i32>(x: Ptr<f32>, n: i32) {
    let o = arange(0, BLOCK);
    store(x + o, load(x + 1.5, o < n), o < n);
}

fn main() {}
