use tritonc::prelude::*;

#[kernel]
fn bad<const BLOCK: i32>(x: Ptr<f32>, n: i32) {
    let offs = arange(0, BLOCK);
    store(x + offz, 1.0, offs < n);
}

fn main() {}
