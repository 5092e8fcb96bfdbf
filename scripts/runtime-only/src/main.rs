//! A program built without tritonc's compiler (`default-features = false,
//! features = ["hip"]`): no LLVM, MLIR or lld in it. It launches the
//! kernels of scripts/own-crate/ (the same src/kernels.rs: a kernel is found
//! by a hash of its text) from the bundle that program wrote with
//! `TRITONC_EXPORT_BUNDLE`, embedded here at build time (`TRITONC_BUNDLE`
//! names the file), and checks them against plain loops.
mod kernels;

use kernels::{row_sum, saxpy};
use tritonc::prelude::*;

/// The bundle: kernels for x86-64-v2, which every launch on a CPU of that
/// level or above finds.
static BUNDLE: &[u8] = include_bytes!(env!("TRITONC_BUNDLE"));

/// Exits with the first element that differs, else prints `what: ok`.
fn check(what: &str, got: &[f32], want: &[f32]) {
    if let Some(i) = (0..want.len()).find(|&i| got[i] != want[i]) {
        eprintln!("runtime only: {what}: element {i}: {} != {}", got[i], want[i]);
        std::process::exit(1);
    }
    println!("runtime only: {what}: ok");
}

fn fail(what: &str) -> ! {
    eprintln!("runtime only: {what}");
    std::process::exit(1)
}

fn main() -> Result<(), Error> {
    // Nothing may come from the kernel cache: an empty one of its own, and
    // no shared one.
    let cache = std::env::temp_dir().join(format!("tritonc-runtime-only-cache.{}", std::process::id()));
    std::fs::create_dir_all(&cache).map_err(|e| Error::Io(format!("{}: {e}", cache.display())))?;
    std::env::set_var("TRITONC_CACHE_DIR", &cache);
    std::env::remove_var("TRITONC_CACHE_REMOTE");

    tritonc::bundle::register_bytes(BUNDLE)?;
    let held = tritonc::bundle::Bundle::from_bytes(BUNDLE, "the embedded bundle")?.entries();
    println!(
        "runtime only: registered a bundle of {} bytes, {} kernels:",
        BUNDLE.len(),
        held.len()
    );
    for e in &held {
        println!(
            "  {} for {} with {} ({}): {} bytes",
            e.kernel, e.target, e.consts, e.options, e.code_bytes
        );
    }

    let dev = Device::cpu()?;
    let n: usize = 3000;
    let xs: Vec<f32> = (0..n).map(|i| i as f32 * 0.5).collect();
    let ys: Vec<f32> = (0..n).map(|i| 1.0 - i as f32).collect();
    let (x, y) = (dev.upload(&xs)?, dev.upload(&ys)?);
    let out = dev.zeros::<f32>(n)?;
    saxpy::<256>().launch(&dev, grid![n.div_ceil(256)], (3.0f32, &x, &y, &out, n as i32))?;
    let want: Vec<f32> = (0..n).map(|i| 3.0 * xs[i] + ys[i]).collect();
    check(
        &format!("saxpy::<256> of {n} elements on {}", dev.target()),
        &out.download()?,
        &want,
    );

    let (rows, cols) = (200usize, 300usize);
    let values: Vec<f32> = (0..rows * cols).map(|i| (i % 7) as f32).collect();
    let m = dev.upload(&values)?;
    let sums = dev.zeros::<f32>(rows)?;
    row_sum::<512>().launch(&dev, grid![rows], (&m, &sums, cols as i32))?;
    let want: Vec<f32> = values.chunks(cols).map(|row| row.iter().sum()).collect();
    check(
        &format!("row_sum::<512> of {rows}x{cols} on {}", dev.target()),
        &sums.download()?,
        &want,
    );

    // Const values the bundle does not hold: no compiler to make them.
    match saxpy::<128>().launch(&dev, grid![n.div_ceil(128)], (3.0f32, &x, &y, &out, n as i32)) {
        Err(Error::NotCompiled(message)) if message.contains("`saxpy`") => {
            println!("runtime only: saxpy::<128> (not in the bundle): Error::NotCompiled: ok");
            for line in message.lines() {
                println!("  | {line}");
            }
        }
        Err(e) => fail(&format!(
            "saxpy::<128>: expected Error::NotCompiled naming `saxpy`, got {e:?}"
        )),
        Ok(()) => fail("saxpy::<128> ran, but the bundle does not hold it and there is no compiler"),
    }

    // Nothing was written to the cache, and nothing was read from it.
    let left = std::fs::read_dir(&cache).map(|d| d.count()).unwrap_or(0);
    let _ = std::fs::remove_dir_all(&cache);
    if left != 0 {
        fail(&format!("{left} files in the kernel cache, which should be empty"));
    }
    println!("runtime only: the kernel cache stayed empty: ok");
    Ok(())
}
