use tritonc::prelude::*;

#[kernel]
fn bad<const BLOCK: i32>(x: Ptr<f32>) {
    store(x + arange(0, BLOCK), exq(load(x + arange(0, BLOCK))));
}

fn main() {}
