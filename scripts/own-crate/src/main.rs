//! A user's program: a `#[kernel]` compiled at its first launch and run on
//! the CPU backend, checked against a plain loop.
use tritonc::prelude::*;

#[kernel]
fn saxpy<const BLOCK: i32>(a: f32, x: Ptr<f32>, y: Ptr<f32>, out: Ptr<f32>, n: i32) {
    let offs = program_id(0) * BLOCK + arange(0, BLOCK);
    let mask = offs < n;
    store(out + offs, a * load(x + offs, mask, 0.0) + load(y + offs, mask, 0.0), mask);
}

fn main() -> Result<(), tritonc::Error> {
    let n: usize = 3000;
    let xs: Vec<f32> = (0..n).map(|i| i as f32 * 0.5).collect();
    let ys: Vec<f32> = (0..n).map(|i| 1.0 - i as f32).collect();
    let dev = Device::cpu()?;
    let (x, y) = (dev.upload(&xs)?, dev.upload(&ys)?);
    let out = dev.zeros::<f32>(n)?;
    saxpy::<256>().launch(&dev, grid![n.div_ceil(256)], (3.0f32, &x, &y, &out, n as i32))?;
    let got: Vec<f32> = out.download()?;
    for i in 0..n {
        let want = 3.0 * xs[i] + ys[i];
        if got[i] != want {
            eprintln!("element {i}: {} != {want}", got[i]);
            std::process::exit(1);
        }
    }
    println!("own crate: saxpy of {n} elements on the CPU backend: ok");
    Ok(())
}
