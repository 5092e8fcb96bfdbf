//! A user's program: `#[kernel]`s (src/kernels.rs) compiled at their first
//! launch and run on the CPU backend, checked against plain loops. With
//! `TRITONC_EXPORT_BUNDLE=PATH` it also builds them for a portable x86-64
//! level and writes every kernel it launched there to PATH, as a bundle for
//! a program built without the compiler ("Shipping without the compiler").
mod kernels;

use kernels::{row_sum, saxpy};
use tritonc::prelude::*;

/// Launches every kernel on `dev`, checking each result against a loop.
fn run_and_check(dev: &Device) -> Result<(), Error> {
    let n: usize = 3000;
    let xs: Vec<f32> = (0..n).map(|i| i as f32 * 0.5).collect();
    let ys: Vec<f32> = (0..n).map(|i| 1.0 - i as f32).collect();
    let (x, y) = (dev.upload(&xs)?, dev.upload(&ys)?);
    let out = dev.zeros::<f32>(n)?;
    saxpy::<256>().launch(dev, grid![n.div_ceil(256)], (3.0f32, &x, &y, &out, n as i32))?;
    let want: Vec<f32> = (0..n).map(|i| 3.0 * xs[i] + ys[i]).collect();
    check(
        &format!("saxpy of {n} elements on {}", dev.target()),
        &out.download()?,
        &want,
    );

    let (rows, cols) = (200usize, 300usize);
    let values: Vec<f32> = (0..rows * cols).map(|i| (i % 7) as f32).collect();
    let m = dev.upload(&values)?;
    let sums = dev.zeros::<f32>(rows)?;
    row_sum::<512>().launch(dev, grid![rows], (&m, &sums, cols as i32))?;
    let want: Vec<f32> = values.chunks(cols).map(|row| row.iter().sum()).collect();
    check(
        &format!("row sums of {rows}x{cols} on {}", dev.target()),
        &sums.download()?,
        &want,
    );
    Ok(())
}

/// Exits with the first element that differs, else prints `what: ok`.
fn check(what: &str, got: &[f32], want: &[f32]) {
    if let Some(i) = (0..want.len()).find(|&i| got[i] != want[i]) {
        eprintln!("own crate: {what}: element {i}: {} != {}", got[i], want[i]);
        std::process::exit(1);
    }
    println!("own crate: {what}: ok");
}

fn main() -> Result<(), Error> {
    // The CPU backend, with code for this very CPU.
    run_and_check(&Device::cpu()?)?;
    if let Some(path) = std::env::var_os("TRITONC_EXPORT_BUNDLE") {
        // Code for every x86-64 CPU with SSE4.2 and POPCNT (x86-64-v2), not
        // only this one: what a program shipped to other machines needs.
        let dev = Device::cpu_for("host:x86-64-v2")?;
        run_and_check(&dev)?;
        let bundle = dev.export_bundle();
        std::fs::write(&path, bundle.to_bytes()).map_err(|e| Error::Io(format!("{}: {e}", path.display())))?;
        println!("own crate: {} kernels in the bundle {}", bundle.len(), path.display());
    }
    Ok(())
}
