use tritonc::prelude::*;

#[kernel]
fn add<const BLOCK: i32>(x: Ptr<f32>, y: Ptr<f32>, out: Ptr<f32>, n: i32) {
    let offs = program_id(0) * BLOCK + arange(0, BLOCK);
    let mask = offs < n;
    store(out + offs, load(x + offs, mask, 0.0) + load(y + offs, mask, 0.0), mask);
}

fn main() -> Result<(), tritonc::Error> {
    let n: usize = 4000;
    let xs: Vec<f32> = (0..n).map(|i| i as f32).collect();
    let ys = vec![2.0f32; n];
    let dev = Device::default()?; // the first AMD GPU, else the CPU backend
    let (x, y) = (dev.upload(&xs)?, dev.upload(&ys)?);
    let out = dev.zeros::<f32>(n)?;
    add::<1024>().launch(&dev, grid![n.div_ceil(1024)], (&x, &y, &out, n as i32))?;
    let result: Vec<f32> = out.download()?;
    assert_eq!(result[n - 1], xs[n - 1] + 2.0);
    println!("{:?}", &result[..4]); // [2.0, 3.0, 4.0, 5.0]
    Ok(())
}
