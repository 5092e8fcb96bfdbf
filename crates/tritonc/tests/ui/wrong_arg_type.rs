use tritonc::prelude::*;

#[kernel]
fn add<const BLOCK: i32>(x: Ptr<f32>, n: i32) {
    let o = arange(0, BLOCK);
    store(x + o, load(x + o, o < n) * 2.0, o < n);
}

fn main() -> Result<(), tritonc::Error> {
    let dev = Device::cpu()?;
    let ints = dev.upload(&[1i32, 2, 3])?;
    // A buffer of i32 where the kernel takes Ptr<f32>.
    add::<64>().launch(&dev, grid![1], (&ints, 3))?;
    Ok(())
}
