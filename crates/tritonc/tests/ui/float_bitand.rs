use tritonc::prelude::*;

// A type error on a block whose shape depends on BLOCK: no value of BLOCK
// makes it right, so it fails at build time.
#[kernel]
fn bad<const BLOCK: i32>(x: Ptr<f32>) {
    let o = arange(0, BLOCK);
    let v = load(x + o);
    store(x + o, v & v);
}

fn main() {}
