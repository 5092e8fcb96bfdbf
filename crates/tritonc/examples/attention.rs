// Fused attention, forward pass (Triton's tutorial 06 algorithm), with
// `#[kernel]`: `out = softmax(q k^T * sm_scale) v` per head, one block of
// queries per program, the keys and values streamed through an online
// softmax; non-causal and causal. The kernels are those of
// `dsl-examples/attention.tk`. Runs on the first AMD GPU, else the CPU.
// `cargo run --release -p tritonc --example attention`

use tritonc::prelude::*;

#[kernel(num_warps = 4, num_stages = 1)]
fn attn_fwd<const BLOCK_M: i32, const BLOCK_N: i32, const HEAD_DIM: i32>(
    q: Ptr<f16>,
    k: Ptr<f16>,
    v: Ptr<f16>,
    out: Ptr<f16>,
    sm_scale: f32,
    n_ctx: i32,
    stride_h: i32,
    stride_m: i32,
) {
    let start_m = program_id(0);
    let off_h = program_id(1);
    let offs_m = start_m * BLOCK_M + arange(0, BLOCK_M);
    let offs_d = arange(0, HEAD_DIM);
    let offs_n = arange(0, BLOCK_N);
    let base = off_h * stride_h;
    let rows = expand_dims(offs_m, 1);
    let qt = load(q + base + rows * stride_m + expand_dims(offs_d, 0), rows < n_ctx, 0.0);
    let mut m_i = full([BLOCK_M], f32::NEG_INFINITY, f32);
    let mut l_i = zeros([BLOCK_M], f32);
    let mut acc = zeros([BLOCK_M, HEAD_DIM], f32);
    // exp(x * sm_scale) == exp2(x * sm_scale * log2(e)).
    let qk_scale = sm_scale * 1.44269504;
    for start_n in range(0, n_ctx, BLOCK_N) {
        let cols = start_n + offs_n;
        // K transposed: [HEAD_DIM, BLOCK_N].
        let kt = load(
            k + base + expand_dims(cols, 0) * stride_m + expand_dims(offs_d, 1),
            expand_dims(cols, 0) < n_ctx,
            0.0,
        );
        let qk = dot(qt, kt);
        let s = select(expand_dims(cols, 0) < n_ctx, qk * qk_scale, f32::NEG_INFINITY);
        // The online softmax: the running maximum, the rescaling of what
        // was summed under the old one.
        let m_ij = maximum(m_i, max(s, 1));
        let p = exp2(s - expand_dims(m_ij, 1));
        let alpha = exp2(m_i - m_ij);
        l_i = l_i * alpha + sum(p, 1);
        let vt = load(
            v + base + expand_dims(cols, 1) * stride_m + expand_dims(offs_d, 0),
            expand_dims(cols, 1) < n_ctx,
            0.0,
        );
        acc = dot(p.to(f16), vt, acc * expand_dims(alpha, 1));
        m_i = m_ij;
    }
    let o = acc / expand_dims(l_i, 1);
    store(
        out + base + rows * stride_m + expand_dims(offs_d, 0),
        o.to(f16),
        rows < n_ctx,
    );
}

/// Query `i` attends to keys `0..=i`: the loop ends after the program's
/// diagonal block, which masks the keys after each query.
#[kernel(num_warps = 4, num_stages = 1)]
fn attn_fwd_causal<const BLOCK_M: i32, const BLOCK_N: i32, const HEAD_DIM: i32>(
    q: Ptr<f16>,
    k: Ptr<f16>,
    v: Ptr<f16>,
    out: Ptr<f16>,
    sm_scale: f32,
    n_ctx: i32,
    stride_h: i32,
    stride_m: i32,
) {
    let start_m = program_id(0);
    let off_h = program_id(1);
    let offs_m = start_m * BLOCK_M + arange(0, BLOCK_M);
    let offs_d = arange(0, HEAD_DIM);
    let offs_n = arange(0, BLOCK_N);
    let base = off_h * stride_h;
    let rows = expand_dims(offs_m, 1);
    let qt = load(q + base + rows * stride_m + expand_dims(offs_d, 0), rows < n_ctx, 0.0);
    let mut m_i = full([BLOCK_M], f32::NEG_INFINITY, f32);
    let mut l_i = zeros([BLOCK_M], f32);
    let mut acc = zeros([BLOCK_M, HEAD_DIM], f32);
    let qk_scale = sm_scale * 1.44269504;
    let hi = minimum(n_ctx, (start_m + 1) * BLOCK_M);
    for start_n in range(0, hi, BLOCK_N) {
        let cols = start_n + offs_n;
        let kt = load(
            k + base + expand_dims(cols, 0) * stride_m + expand_dims(offs_d, 1),
            expand_dims(cols, 0) < n_ctx,
            0.0,
        );
        let qk = dot(qt, kt);
        let keep = (expand_dims(cols, 0) < n_ctx) & (expand_dims(cols, 0) <= rows);
        let s = select(keep, qk * qk_scale, f32::NEG_INFINITY);
        let m_ij = maximum(m_i, max(s, 1));
        let p = exp2(s - expand_dims(m_ij, 1));
        let alpha = exp2(m_i - m_ij);
        l_i = l_i * alpha + sum(p, 1);
        let vt = load(
            v + base + expand_dims(cols, 1) * stride_m + expand_dims(offs_d, 0),
            expand_dims(cols, 1) < n_ctx,
            0.0,
        );
        acc = dot(p.to(f16), vt, acc * expand_dims(alpha, 1));
        m_i = m_ij;
    }
    let o = acc / expand_dims(l_i, 1);
    store(
        out + base + rows * stride_m + expand_dims(offs_d, 0),
        o.to(f16),
        rows < n_ctx,
    );
}

const BLOCK_M: usize = 32;
const BLOCK_N: usize = 16;
const HEAD_DIM: usize = 64;

/// `softmax(q k^T * sm_scale) v` per head of `[heads, n_ctx, HEAD_DIM]`
/// row-major data, in f64 (causal: query `i` sees keys `0..=i`).
fn reference(q: &[f32], k: &[f32], v: &[f32], heads: usize, n_ctx: usize, sm_scale: f64, causal: bool) -> Vec<f64> {
    let d = HEAD_DIM;
    let mut out = vec![0.0; heads * n_ctx * d];
    for h in 0..heads {
        let row = |i: usize| (h * n_ctx + i) * d;
        for i in 0..n_ctx {
            let keys = if causal { i + 1 } else { n_ctx };
            let s: Vec<f64> = (0..keys)
                .map(|j| {
                    let (qi, kj) = (row(i), row(j));
                    (0..d).map(|e| f64::from(q[qi + e]) * f64::from(k[kj + e])).sum::<f64>() * sm_scale
                })
                .collect();
            let m = s.iter().fold(f64::NEG_INFINITY, |a, x| a.max(*x));
            let p: Vec<f64> = s.iter().map(|x| (x - m).exp()).collect();
            let l: f64 = p.iter().sum();
            for e in 0..d {
                let o: f64 = p.iter().enumerate().map(|(j, pj)| pj * f64::from(v[row(j) + e])).sum();
                out[row(i) + e] = o / l;
            }
        }
    }
    out
}

fn main() -> Result<(), tritonc::Error> {
    // n_ctx a multiple of neither block size: the edges are masked.
    let (heads, n_ctx) = (2usize, 100usize);
    let len = heads * n_ctx * HEAD_DIM;
    // Values exactly representable in f16, so the reference sees what the
    // kernel sees.
    let gen = |seed: usize, scale: f32| -> Vec<f32> {
        (0..len)
            .map(|i| ((i * seed + 7) % 61) as f32 / 30.0 - 1.0)
            .map(|x| F16::from_f32(x * scale).to_f32())
            .collect()
    };
    let (qv, kv, vv) = (gen(13, 2.0), gen(29, 2.0), gen(37, 1.0));
    let dev = Device::default()?;
    let upload = |x: &[f32]| dev.upload(&x.iter().map(|x| F16::from_f32(*x)).collect::<Vec<_>>());
    let (q, k, v) = (upload(&qv)?, upload(&kv)?, upload(&vv)?);
    let sm_scale = 1.0 / (HEAD_DIM as f32).sqrt();
    let grid = grid![n_ctx.div_ceil(BLOCK_M), heads];
    let (n, stride_h, stride_m) = (n_ctx as i32, (n_ctx * HEAD_DIM) as i32, HEAD_DIM as i32);
    const M: i32 = BLOCK_M as i32;
    const N: i32 = BLOCK_N as i32;
    const D: i32 = HEAD_DIM as i32;
    for causal in [false, true] {
        let out = dev.zeros::<F16>(len)?;
        let args = (&q, &k, &v, &out, sm_scale, n, stride_h, stride_m);
        if causal {
            attn_fwd_causal::<M, N, D>().launch(&dev, grid, args)?;
        } else {
            attn_fwd::<M, N, D>().launch(&dev, grid, args)?;
        }
        let got = out.download()?;
        let want = reference(&qv, &kv, &vv, heads, n_ctx, f64::from(sm_scale), causal);
        let max_err = got
            .iter()
            .zip(&want)
            .map(|(g, w)| (f64::from(g.to_f32()) - w).abs())
            .fold(0.0, f64::max);
        let name = if causal { "causal" } else { "non-causal" };
        println!(
            "{name} attention, {heads} heads x {n_ctx} x {HEAD_DIM} on {}: max error {max_err:.2e}",
            dev.target()
        );
        // p is rounded to f16 before the second dot and the output to f16:
        // about 2^-11 each, |v| <= 1.
        assert!(max_err < 2e-3, "max error {max_err}");
    }
    Ok(())
}
