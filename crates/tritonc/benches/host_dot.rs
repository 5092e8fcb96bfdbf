//! `dot` on the CPU backend: a 256×256×256 matmul in 64×64 tiles (one
//! program per tile, a loop over `k` in steps of 32) of f32 inputs and of
//! f16 inputs (accumulated in f32), timed after the first launch; checked
//! against, and timed beside, a plain Rust loop with the same tiles.
//!
//! Run: `cargo bench -p tritonc --bench host_dot`

use std::time::Instant;
use tritonc::prelude::*;

#[kernel(num_warps = 4)]
fn tile_matmul<const N: i32, const BM: i32, const BK: i32>(a: Ptr<f32>, b: Ptr<f32>, c: Ptr<f32>) {
    let pid = program_id(0);
    let rows = expand_dims((pid / (N / BM)) * BM + arange(0, BM), 1);
    let cols = expand_dims((pid % (N / BM)) * BM + arange(0, BM), 0);
    let ks = arange(0, BK);
    let mut acc = zeros([BM, BM], f32);
    for step in 0..N / BK {
        let x = load(a + rows * N + expand_dims(ks, 0) + step * BK);
        let y = load(b + (expand_dims(ks, 1) + step * BK) * N + cols);
        acc = dot(x, y, acc);
    }
    store(c + rows * N + cols, acc);
}

#[kernel(num_warps = 4)]
fn tile_matmul_f16<const N: i32, const BM: i32, const BK: i32>(a: Ptr<f16>, b: Ptr<f16>, c: Ptr<f32>) {
    let pid = program_id(0);
    let rows = expand_dims((pid / (N / BM)) * BM + arange(0, BM), 1);
    let cols = expand_dims((pid % (N / BM)) * BM + arange(0, BM), 0);
    let ks = arange(0, BK);
    let mut acc = zeros([BM, BM], f32);
    for step in 0..N / BK {
        let x = load(a + rows * N + expand_dims(ks, 0) + step * BK);
        let y = load(b + (expand_dims(ks, 1) + step * BK) * N + cols);
        acc = dot(x, y, acc);
    }
    store(c + rows * N + cols, acc);
}

fn main() -> Result<(), tritonc::Error> {
    const N: usize = 256;
    let dev = Device::cpu()?;
    let av: Vec<f32> = (0..N * N).map(|i| ((i * 7) % 13) as f32 * 0.25 - 1.5).collect();
    let bv: Vec<f32> = (0..N * N).map(|i| ((i * 5) % 11) as f32 * 0.5 - 2.5).collect();
    let (a, b) = (dev.upload(&av)?, dev.upload(&bv)?);
    let c = dev.zeros::<f32>(N * N)?;
    let grid = grid![((N / 64) * (N / 64)) as u32];
    let t = Instant::now();
    tile_matmul::<256, 64, 32>().launch(&dev, grid, (&a, &b, &c))?;
    println!(
        "first launch (compile, load, run): {:.1} ms",
        t.elapsed().as_secs_f64() * 1e3
    );
    let got = c.download()?;
    for (i, j) in [(0, 0), (17, 200), (255, 255)] {
        let want: f32 = (0..N).map(|k| av[i * N + k] * bv[k * N + j]).sum();
        assert!(
            (got[i * N + j] - want).abs() <= 1e-3 * want.abs().max(1.0),
            "c[{i}][{j}]"
        );
    }
    let runs = 20;
    let mut times: Vec<f64> = (0..runs)
        .map(|_| {
            let t = Instant::now();
            tile_matmul::<256, 64, 32>()
                .launch(&dev, grid, (&a, &b, &c))
                .map(|_| t.elapsed().as_secs_f64())
        })
        .collect::<Result<_, _>>()?;
    times.sort_by(f64::total_cmp);
    let median = times[runs / 2];
    println!(
        "256x256x256 f32 matmul, 64x64 tiles: median {:.2} ms, {:.2} GFLOP/s ({runs} runs)",
        median * 1e3,
        2.0 * (N * N * N) as f64 / median / 1e9
    );
    // The reference: the same tiling as plain Rust (a thread per tile of
    // rows, the inner loop over a row of `b`, which LLVM vectorizes; `+`
    // and `*`, since `mul_add` is a libm call without the `fma` feature).
    let mut want = vec![0f32; N * N];
    let plain = |out: &mut [f32]| {
        std::thread::scope(|s| {
            for (t, rows) in out.chunks_mut(64 * N).enumerate() {
                let (av, bv) = (&av, &bv);
                s.spawn(move || {
                    for cj in 0..N / 64 {
                        for i in 0..64 {
                            let mut acc = [0f32; 64];
                            for k in 0..N {
                                let x = av[(t * 64 + i) * N + k];
                                let brow = &bv[k * N + cj * 64..k * N + cj * 64 + 64];
                                for (a, y) in acc.iter_mut().zip(brow) {
                                    *a += x * y;
                                }
                            }
                            rows[i * N + cj * 64..i * N + cj * 64 + 64].copy_from_slice(&acc);
                        }
                    }
                });
            }
        });
    };
    plain(&mut want);
    let mut ptimes: Vec<f64> = (0..runs)
        .map(|_| {
            let t = Instant::now();
            plain(&mut want);
            t.elapsed().as_secs_f64()
        })
        .collect();
    ptimes.sort_by(f64::total_cmp);
    let pmedian = ptimes[runs / 2];
    let got = c.download()?;
    let worst = got
        .iter()
        .zip(&want)
        .map(|(g, w)| (g - w).abs() / w.abs().max(1.0))
        .fold(0f32, f32::max);
    assert!(worst <= 1e-4, "the kernel differs from the plain loop by {worst}");
    println!(
        "plain Rust, same tiles, all cores: median {:.2} ms, {:.2} GFLOP/s; tritonc / plain = {:.2}",
        pmedian * 1e3,
        2.0 * (N * N * N) as f64 / pmedian / 1e9,
        median / pmedian
    );
    // f16 inputs (the values are exact in f16, and every product and sum
    // of them exact in f32, so the result equals the f32 one).
    let to_f16 = |v: &[f32]| v.iter().map(|x| F16::from_f32(*x)).collect::<Vec<_>>();
    let (ah, bh) = (dev.upload(&to_f16(&av))?, dev.upload(&to_f16(&bv))?);
    let ch = dev.zeros::<f32>(N * N)?;
    let t = Instant::now();
    tile_matmul_f16::<256, 64, 32>().launch(&dev, grid, (&ah, &bh, &ch))?;
    let first = t.elapsed().as_secs_f64();
    let mut htimes: Vec<f64> = (0..runs)
        .map(|_| {
            let t = Instant::now();
            tile_matmul_f16::<256, 64, 32>()
                .launch(&dev, grid, (&ah, &bh, &ch))
                .map(|_| t.elapsed().as_secs_f64())
        })
        .collect::<Result<_, _>>()?;
    htimes.sort_by(f64::total_cmp);
    let hmedian = htimes[runs / 2];
    assert!(ch.download()? == got, "the f16 kernel differs from the f32 one");
    println!(
        "f16 inputs, f32 accumulator: median {:.2} ms, {:.2} GFLOP/s, first launch {:.1} ms; / plain f32 = {:.2}",
        hmedian * 1e3,
        2.0 * (N * N * N) as f64 / hmedian / 1e9,
        first * 1e3,
        hmedian / pmedian
    );
    Ok(())
}
