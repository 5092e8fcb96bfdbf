use tritonc::prelude::*;

#[kernel]
fn add<const BLOCK: i32>(x: Ptr<f32>, n: i32) {
    let o = arange(0, BLOCK);
    store(x + o, 1.0, o < n);
}

fn main() -> Result<(), tritonc::Error> {
    let dev = Device::cpu()?;
    let x = dev.zeros::<f32>(4)?;
    add::<64>().launch(&dev, grid![1], (&x,))?;
    Ok(())
}
