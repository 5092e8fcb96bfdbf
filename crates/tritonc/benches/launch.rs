//! Launch overhead on the CPU backend: an empty kernel launched through the
//! typed API once it is loaded (the in-process path: key lookup, argument
//! packing, running the programs).
//!
//! Run: `cargo bench -p tritonc --bench launch`

use std::time::Instant;
use tritonc::prelude::*;

#[kernel]
fn empty<const B: i32>(x: Ptr<f32>, n: i32) {
    let o = arange(0, B);
    store(x + o, 1.0, o < n - n);
}

fn main() -> Result<(), tritonc::Error> {
    let dev = Device::cpu()?;
    let x = dev.zeros::<f32>(64)?;
    // The first launch compiles (or hits the disk cache) and loads.
    let t = Instant::now();
    empty::<64>().launch(&dev, grid![1], (&x, 0))?;
    println!(
        "first launch (compile or disk hit, load): {:.3} ms",
        t.elapsed().as_secs_f64() * 1e3
    );
    for programs in [1u32, 64, 4096] {
        let runs = if programs > 64 { 200 } else { 2000 };
        let mut times: Vec<f64> = (0..runs)
            .map(|_| {
                let t = Instant::now();
                empty::<64>()
                    .launch(&dev, grid![programs], (&x, 0))
                    .map(|_| t.elapsed().as_secs_f64() * 1e6)
            })
            .collect::<Result<_, _>>()?;
        times.sort_by(f64::total_cmp);
        println!(
            "launch of an empty kernel, {programs} programs: median {:.2} µs, p10 {:.2} µs ({runs} runs)",
            times[times.len() / 2],
            times[times.len() / 10]
        );
    }
    Ok(())
}
