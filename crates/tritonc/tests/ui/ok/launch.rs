// A correct program: tests/compile_fail.rs compiles it first, to find the
// tritonc library the files beside it are checked against.
use tritonc::prelude::*;

#[kernel]
fn add<const BLOCK: i32>(x: Ptr<f32>, n: i32) {
    let o = arange(0, BLOCK);
    store(x + o, load(x + o, o < n) * 2.0, o < n);
}

fn main() -> Result<(), tritonc::Error> {
    let dev = Device::cpu()?;
    let xs = dev.upload(&[1.0f32, 2.0, 3.0])?;
    add::<64>().launch(&dev, grid![1], (&xs, 3))?;
    Ok(())
}
