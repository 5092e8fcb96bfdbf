// Vector add with `#[kernel]`: runs on the first AMD GPU, else the CPU.
// `cargo run -p tritonc --example vector_add`

use tritonc::prelude::*;

#[kernel]
fn add<const BLOCK: i32>(x: Ptr<f32>, y: Ptr<f32>, out: Ptr<f32>, n: i32) {
    let offs = program_id(0) * BLOCK + arange(0, BLOCK);
    let mask = offs < n;
    store(out + offs, load(x + offs, mask, 0.0) + load(y + offs, mask, 0.0), mask);
}

fn main() -> Result<(), tritonc::Error> {
    let n = 98_432;
    let xs: Vec<f32> = (0..n).map(|i| (i as f32).sin()).collect();
    let ys: Vec<f32> = (0..n).map(|i| (i as f32).cos()).collect();
    let dev = Device::default()?;
    let x = dev.upload(&xs)?;
    let y = dev.upload(&ys)?;
    let out = dev.zeros::<f32>(n)?;
    add::<1024>().launch(&dev, grid![n.div_ceil(1024)], (&x, &y, &out, n as i32))?;
    let result = out.download()?;
    let max_err = result
        .iter()
        .zip(xs.iter().zip(&ys))
        .map(|(r, (a, b))| (r - (a + b)).abs())
        .fold(0.0f32, f32::max);
    println!("vector add of {n} elements on {}: max error {max_err}", dev.target());
    // One rounding of the exact sum, as the loop above does: no error.
    assert_eq!(max_err, 0.0);
    Ok(())
}
