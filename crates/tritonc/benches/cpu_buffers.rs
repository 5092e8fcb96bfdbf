//! Moving buffers on the CPU backend: `Device::upload`, `Buffer::download`,
//! `Buffer::write_from` and `Buffer::read_into` of 64 MiB of f32, each the
//! median of 10 runs after one warm-up, with the rate in GB/s.
//!
//! Run: `cargo bench -p tritonc --bench cpu_buffers`

use std::time::Instant;
use tritonc::prelude::*;

const BYTES: usize = 64 << 20;
const RUNS: usize = 10;

/// Runs `f` once to warm up, then `RUNS` times; prints the median.
fn measure(what: &str, mut f: impl FnMut() -> Result<(), tritonc::Error>) -> Result<(), tritonc::Error> {
    f()?;
    let mut times = Vec::with_capacity(RUNS);
    for _ in 0..RUNS {
        let t = Instant::now();
        f()?;
        times.push(t.elapsed().as_secs_f64());
    }
    times.sort_by(f64::total_cmp);
    let median = times[RUNS / 2];
    println!(
        "{what:<12} 64 MiB f32: median {:8.3} ms, {:6.2} GB/s (min {:.3} ms, {RUNS} runs)",
        median * 1e3,
        BYTES as f64 / median / 1e9,
        times[0] * 1e3
    );
    Ok(())
}

fn main() -> Result<(), tritonc::Error> {
    let dev = Device::cpu()?;
    let n = BYTES / std::mem::size_of::<f32>();
    let host: Vec<f32> = (0..n).map(|i| i as f32 * 0.5).collect();
    let mut out = vec![0f32; n];

    measure("upload", || {
        std::hint::black_box(dev.upload(&host)?);
        Ok(())
    })?;
    let buf = dev.upload(&host)?;
    measure("download", || {
        std::hint::black_box(buf.download()?);
        Ok(())
    })?;
    measure("write_from", || buf.write_from(&host))?;
    measure("read_into", || buf.read_into(&mut out))?;
    std::hint::black_box(&mut out);
    assert_eq!(dev.upload(&host)?.download()?, host, "the round trip changed the data");
    Ok(())
}
