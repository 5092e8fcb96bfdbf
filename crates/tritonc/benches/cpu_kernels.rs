//! The CPU backend against plain Rust loops (issue #16): vector add of
//! 2^24 f32 at BLOCK 1024 and 4096, and softmax of 4096 rows of 1024 f32,
//! each beside the same work written as a plain Rust loop on every core
//! (`std::thread::scope`, one contiguous chunk per thread), in the same
//! process. Medians of 10 launches after the first; the first launch
//! (compile, with the kernel cache off, and load) is timed too. Results
//! are checked against the plain loops.
//!
//! Run: `cargo bench -p tritonc --bench cpu_kernels`

use std::time::Instant;
use tritonc::prelude::*;

#[kernel(num_warps = 4)]
fn add<const BLOCK: i32>(x: Ptr<f32>, y: Ptr<f32>, out: Ptr<f32>, n: i32) {
    let offs = program_id(0) * BLOCK + arange(0, BLOCK);
    let mask = offs < n;
    let a = load(x + offs, mask, 0.0);
    let b = load(y + offs, mask, 0.0);
    store(out + offs, a + b, mask);
}

#[kernel(num_warps = 4)]
fn softmax<const BLOCK: i32>(out: Ptr<f32>, inp: Ptr<f32>, in_stride: i32, out_stride: i32, n_cols: i32) {
    let row = program_id(0);
    let cols = arange(0, BLOCK);
    let mask = cols < n_cols;
    let x = load(inp + row * in_stride + cols, mask, f32::NEG_INFINITY);
    let z = x - max(x, 0);
    let num = exp(z);
    let den = sum(num, 0);
    store(out + row * out_stride + cols, num / den, mask);
}

fn median(mut times: Vec<f64>) -> f64 {
    times.sort_by(f64::total_cmp);
    times[times.len() / 2]
}

/// Median milliseconds of 10 runs of `f` after one warm-up run.
fn time_ms(mut f: impl FnMut() -> Result<(), tritonc::Error>) -> Result<f64, tritonc::Error> {
    f()?;
    let mut times = Vec::new();
    for _ in 0..10 {
        let t = Instant::now();
        f()?;
        times.push(t.elapsed().as_secs_f64() * 1e3);
    }
    Ok(median(times))
}

/// Runs `body(chunk_start, out_chunk)` on every core over `out` split in
/// contiguous chunks of whole `unit`s.
fn on_all_cores(out: &mut [f32], unit: usize, body: impl Fn(usize, &mut [f32]) + Sync) {
    let threads = std::thread::available_parallelism().map_or(1, |n| n.get());
    let units = out.len() / unit;
    let per = units.div_ceil(threads) * unit;
    std::thread::scope(|s| {
        for (i, chunk) in out.chunks_mut(per).enumerate() {
            let body = &body;
            s.spawn(move || body(i * per, chunk));
        }
    });
}

fn plain_add(x: &[f32], y: &[f32], out: &mut [f32]) {
    on_all_cores(out, 1, |start, chunk| {
        let (x, y) = (&x[start..start + chunk.len()], &y[start..start + chunk.len()]);
        for ((o, a), b) in chunk.iter_mut().zip(x).zip(y) {
            *o = a + b;
        }
    });
}

fn plain_softmax(inp: &[f32], out: &mut [f32], cols: usize) {
    on_all_cores(out, cols, |start, chunk| {
        for (r, row_out) in chunk.chunks_mut(cols).enumerate() {
            let row = &inp[start + r * cols..start + (r + 1) * cols];
            let m = row.iter().copied().fold(f32::NEG_INFINITY, f32::max);
            let mut den = 0.0;
            for (o, x) in row_out.iter_mut().zip(row) {
                *o = (x - m).exp();
                den += *o;
            }
            for o in row_out.iter_mut() {
                *o /= den;
            }
        }
    });
}

fn main() -> Result<(), tritonc::Error> {
    let dev = Device::cpu()?.with_cache(tritonc::cache::Cache::disabled());
    let n: usize = 1 << 24;
    let xv: Vec<f32> = (0..n).map(|i| (i % 1000) as f32 * 0.5).collect();
    let yv: Vec<f32> = (0..n).map(|i| (i % 777) as f32 * 0.25).collect();
    let (x, y) = (dev.upload(&xv)?, dev.upload(&yv)?);
    let out = dev.zeros::<f32>(n)?;
    let mut want = vec![0f32; n];
    let plain = time_ms(|| {
        plain_add(&xv, &yv, &mut want);
        Ok(())
    })?;
    println!("| workload | tritonc CPU | plain Rust, all cores | ratio | first launch (compile) |");
    println!("|---|---|---|---|---|");
    macro_rules! add_row {
        ($block:literal) => {{
            let grid = grid![(n as u32).div_ceil($block)];
            let t = Instant::now();
            add::<$block>().launch(&dev, grid, (&x, &y, &out, n as i32))?;
            let first = t.elapsed().as_secs_f64();
            let ours = time_ms(|| add::<$block>().launch(&dev, grid, (&x, &y, &out, n as i32)))?;
            assert!(
                out.download()? == want,
                "add BLOCK {} differs from the plain loop",
                $block
            );
            println!(
                "| add 2^24 f32, BLOCK {} | {ours:.1} ms | {plain:.1} ms | {:.2}x | {first:.2} s |",
                $block,
                ours / plain
            );
        }};
    }
    add_row!(1024);
    add_row!(4096);

    let (rows, cols) = (4096usize, 1024usize);
    let inv: Vec<f32> = (0..rows * cols).map(|i| ((i * 37) % 101) as f32 * 0.05 - 2.0).collect();
    let inp = dev.upload(&inv)?;
    let sout = dev.zeros::<f32>(rows * cols)?;
    let mut swant = vec![0f32; rows * cols];
    let plain = time_ms(|| {
        plain_softmax(&inv, &mut swant, cols);
        Ok(())
    })?;
    let args = (&sout, &inp, cols as i32, cols as i32, cols as i32);
    let t = Instant::now();
    softmax::<1024>().launch(&dev, grid![rows as u32], args)?;
    let first = t.elapsed().as_secs_f64();
    let ours = time_ms(|| softmax::<1024>().launch(&dev, grid![rows as u32], args))?;
    let got = sout.download()?;
    let worst = got.iter().zip(&swant).map(|(a, b)| (a - b).abs()).fold(0f32, f32::max);
    assert!(worst < 1e-6, "softmax differs from the plain loop by {worst}");
    println!(
        "| softmax 4096 x 1024 f32 | {ours:.1} ms | {plain:.1} ms | {:.2}x | {first:.2} s |",
        ours / plain
    );
    Ok(())
}
