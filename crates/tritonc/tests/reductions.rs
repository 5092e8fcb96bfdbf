//! Multi-dimensional blocks, shape builtins, reductions and scans on the
//! CPU backend against plain Rust references.

mod common;
use common::*;

#[test]
fn softmax_rows_match_a_reference() {
    let src = include_str!("../../../dsl-examples/softmax.tk");
    let (rows, cols, block) = (7usize, 781usize, 1024i64);
    let mut rng = Rng(11);
    let x: Vec<f32> = (0..rows * cols).map(|_| rng.uniform(-5.0, 5.0) as f32).collect();
    let args = run(
        src,
        "softmax",
        &[("BLOCK", block)],
        [rows as u32, 1, 1],
        vec![
            f32s(&vec![0.0; rows * cols]),
            f32s(&x),
            scalar_i32(cols as i32),
            scalar_i32(cols as i32),
            scalar_i32(cols as i32),
        ],
    );
    assert_softmax(&x, &as_f32(&args[0]), cols, "softmax");
}

/// `got` is the row-wise softmax of the `cols`-wide rows of `x`, within
/// 1e-5 relative of an f64 reference: f32 `exp` (a few ulp for these
/// inputs) and an f32 tree sum of up to 1000 terms.
fn assert_softmax(x: &[f32], got: &[f32], cols: usize, what: &str) {
    for (r, row) in x.chunks(cols).enumerate() {
        let m = row.iter().fold(f64::NEG_INFINITY, |a, v| a.max(f64::from(*v)));
        let den: f64 = row.iter().map(|v| (f64::from(*v) - m).exp()).sum();
        for c in 0..cols {
            let want = (f64::from(row[c]) - m).exp() / den;
            let g = f64::from(got[r * cols + c]);
            assert!(
                (g - want).abs() <= 1e-5 * want,
                "{what}: row {r} col {c}: {g} vs {want}"
            );
        }
    }
}

#[test]
fn softmax_of_several_rows_per_program_matches_a_reference() {
    // The row maximum and sum are reductions along axis 1 broadcast back
    // along it (no data moves on GPUs); rows and columns masked.
    let src = include_str!("../../../dsl-examples/softmax.tk");
    for (rows_per, block, n_rows, cols) in [(4i64, 256i64, 9usize, 200usize), (8, 32, 13, 32), (2, 1024, 3, 1000)] {
        let mut rng = Rng(cols as u64);
        let x: Vec<f32> = (0..n_rows * cols).map(|_| rng.uniform(-5.0, 5.0) as f32).collect();
        let programs = (n_rows as i64 + rows_per - 1) / rows_per;
        let args = run(
            src,
            "softmax_rows",
            &[("ROWS", rows_per), ("BLOCK", block)],
            [programs as u32, 1, 1],
            vec![
                f32s(&vec![0.0; n_rows * cols]),
                f32s(&x),
                scalar_i32(cols as i32),
                scalar_i32(cols as i32),
                scalar_i32(n_rows as i32),
                scalar_i32(cols as i32),
            ],
        );
        assert_softmax(&x, &as_f32(&args[0]), cols, &format!("{rows_per}x{block}"));
    }
}

#[test]
fn cumsum_tutorial_matches_a_reference() {
    let src = include_str!("../../../dsl-examples/cumsum.tk");
    // Rows: f32 against an f64 running sum (the scan's order differs from
    // a left fold only by rounding).
    let (rows, cols) = (3usize, 1000usize);
    let mut rng = Rng(5);
    let x: Vec<f32> = (0..rows * cols).map(|_| rng.uniform(-1.0, 1.0) as f32).collect();
    let args = run(
        src,
        "cumsum_rows",
        &[("BLOCK", 1024)],
        [rows as u32, 1, 1],
        vec![
            f32s(&vec![0.0; rows * cols]),
            f32s(&x),
            scalar_i32(cols as i32),
            scalar_i32(cols as i32),
        ],
    );
    let got = as_f32(&args[0]);
    for r in 0..rows {
        let mut run = 0.0f64;
        for c in 0..cols {
            run += f64::from(x[r * cols + c]);
            let g = f64::from(got[r * cols + c]);
            assert!((g - run).abs() <= 1e-4, "row {r} col {c}: {g} vs {run}");
        }
    }
    // Columns: i32, exact, with masked rows and columns.
    let (n_rows, n_cols) = (50usize, 37usize);
    let xi: Vec<i32> = (0..n_rows * n_cols)
        .map(|_| (rng.next_u64() % 201) as i32 - 100)
        .collect();
    let args = run(
        src,
        "cumsum_cols",
        &[("ROWS", 64), ("COLS", 16)],
        [n_cols.div_ceil(16) as u32, 1, 1],
        vec![
            i32s(&vec![0; n_rows * n_cols]),
            i32s(&xi),
            scalar_i32(n_cols as i32),
            scalar_i32(n_rows as i32),
            scalar_i32(n_cols as i32),
        ],
    );
    let got = as_i32(&args[0]);
    for c in 0..n_cols {
        let mut run = 0;
        for r in 0..n_rows {
            run += xi[r * n_cols + c];
            assert_eq!(got[r * n_cols + c], run, "row {r} col {c}");
        }
    }
}

#[test]
fn reductions_and_scans_of_8_16_and_64_bit_elements() {
    // Elements DPP cannot move (not 32-bit) go through shared memory; both
    // axes cross waves on both simulators.
    use tritonc::ir::fold_util::{f16_bits_to_f32, f32_to_f16_bits};
    let src = r#"
#[kernel(num_warps = 4)]
fn k<const R: i32, const C: i32>(a: Ptr<i8>, h: Ptr<f16>, l: Ptr<i64>, o1: Ptr<i32>, o2: Ptr<f16>, o3: Ptr<i64>, o4: Ptr<i64>, o5: Ptr<i32>) {
    let offs = expand_dims(arange(0, R), 1) * C + expand_dims(arange(0, C), 0);
    let va = load(a + offs);
    let vh = load(h + offs);
    let vl = load(l + offs);
    store(o1 + arange(0, C), argmax(va, 0));
    store(o2 + arange(0, R), max(vh, 1));
    store(o3 + arange(0, C), sum(vl, 0));
    store(o4 + offs, cumsum(vl, 1));
    store(o5 + arange(0, R), sum(va > 0, 1));
}
"#;
    let (r, c) = (64usize, 32usize);
    let mut rng = Rng(21);
    let a: Vec<i8> = (0..r * c).map(|_| (rng.next_u64() % 256) as u8 as i8).collect();
    let h: Vec<u16> = (0..r * c)
        .map(|_| f32_to_f16_bits(rng.uniform(-100.0, 100.0) as f32))
        .collect();
    let l: Vec<i64> = (0..r * c).map(|_| rng.next_u64() as i64 >> 8).collect();
    let args = run(
        src,
        "k",
        &[("R", r as i64), ("C", c as i64)],
        [1, 1, 1],
        vec![
            buf(&a, |x| vec![x as u8]),
            buf(&h, |x| x.to_le_bytes().to_vec()),
            buf(&l, |x| x.to_le_bytes().to_vec()),
            i32s(&vec![0; c]),
            buf(&vec![0u16; r], |x| x.to_le_bytes().to_vec()),
            buf(&vec![0i64; c], |x| x.to_le_bytes().to_vec()),
            buf(&vec![0i64; r * c], |x| x.to_le_bytes().to_vec()),
            i32s(&vec![0; r]),
        ],
    );
    let bytes = |i: usize| bytes_of(&args[i]);
    let i64s = |b: Vec<u8>| -> Vec<i64> { b.chunks(8).map(|w| i64::from_le_bytes(w.try_into().unwrap())).collect() };
    let amax = as_i32(&args[3]);
    let hmax: Vec<f32> = bytes(4)
        .chunks(2)
        .map(|w| f16_bits_to_f32(u16::from_le_bytes([w[0], w[1]])))
        .collect();
    let (sums, scans, pos) = (i64s(bytes(5)), i64s(bytes(6)), as_i32(&args[7]));
    for j in 0..c {
        let col: Vec<i8> = (0..r).map(|i| a[i * c + j]).collect();
        let best = *col.iter().max().unwrap();
        assert_eq!(
            amax[j] as usize,
            col.iter().position(|v| *v == best).unwrap(),
            "argmax col {j}"
        );
        let s = (0..r).fold(0i64, |acc, i| acc.wrapping_add(l[i * c + j]));
        assert_eq!(sums[j], s, "sum col {j}");
    }
    for i in 0..r {
        let row: Vec<f32> = (0..c).map(|j| f16_bits_to_f32(h[i * c + j])).collect();
        assert_eq!(
            hmax[i],
            row.iter().copied().fold(f32::NEG_INFINITY, f32::max),
            "f16 max row {i}"
        );
        assert_eq!(
            pos[i] as usize,
            (0..c).filter(|j| a[i * c + j] > 0).count(),
            "positives row {i}"
        );
        let mut run = 0i64;
        for j in 0..c {
            run = run.wrapping_add(l[i * c + j]);
            assert_eq!(scans[i * c + j], run, "cumsum row {i} col {j}");
        }
    }
}

#[test]
fn layer_norm_matches_a_reference() {
    let src = include_str!("../../../dsl-examples/layer_norm.tk");
    let (rows, n, block) = (5usize, 300usize, 512i64);
    let mut rng = Rng(5);
    let x: Vec<f32> = (0..rows * n).map(|_| rng.uniform(-3.0, 3.0) as f32).collect();
    let w: Vec<f32> = (0..n).map(|_| rng.uniform(0.5, 1.5) as f32).collect();
    let b: Vec<f32> = (0..n).map(|_| rng.uniform(-0.1, 0.1) as f32).collect();
    let eps = 1e-5f32;
    let args = run(
        src,
        "layer_norm",
        &[("BLOCK", block)],
        [rows as u32, 1, 1],
        vec![
            f32s(&x),
            f32s(&vec![0.0; rows * n]),
            f32s(&w),
            f32s(&b),
            f32s(&vec![0.0; rows]),
            f32s(&vec![0.0; rows]),
            scalar_i32(n as i32),
            scalar_i32(n as i32),
            scalar_f32(eps),
        ],
    );
    let (mean, rstd) = (as_f32(&args[4]), as_f32(&args[5]));
    let stats = assert_layer_norm(&x, &w, &b, eps, &as_f32(&args[1]), "layer_norm");
    for (r, (m, rs)) in stats.into_iter().enumerate() {
        assert!((f64::from(mean[r]) - m).abs() < 1e-5, "mean row {r}");
        assert!((f64::from(rstd[r]) - rs).abs() < 1e-4 * rs, "rstd row {r}");
    }
}

/// `y` is the layer norm of the rows of `x` (as wide as `w`) with weights
/// `w` and bias `b`, within 1e-4 of an f64 reference; returns each row's
/// mean and reciprocal standard deviation.
fn assert_layer_norm(x: &[f32], w: &[f32], b: &[f32], eps: f32, y: &[f32], what: &str) -> Vec<(f64, f64)> {
    let n = w.len();
    let mut stats = Vec::new();
    for (r, row) in x.chunks(n).enumerate() {
        let row: Vec<f64> = row.iter().map(|v| f64::from(*v)).collect();
        let m = row.iter().sum::<f64>() / n as f64;
        let var = row.iter().map(|v| (v - m) * (v - m)).sum::<f64>() / n as f64;
        let rs = 1.0 / (var + f64::from(eps)).sqrt();
        for c in 0..n {
            let want = (row[c] - m) * rs * f64::from(w[c]) + f64::from(b[c]);
            let got = f64::from(y[r * n + c]);
            assert!((got - want).abs() < 1e-4, "{what}: row {r} col {c}: {got} vs {want}");
        }
        stats.push((m, rs));
    }
    stats
}

#[test]
fn layer_norm_of_several_rows_per_program_matches_a_reference() {
    // Row statistics broadcast back along the rows; weights and bias row
    // vectors broadcast down them (loaded per element, not moved).
    let src = include_str!("../../../dsl-examples/layer_norm.tk");
    for (rows_per, block, n_rows, n) in [(4i64, 256i64, 10usize, 200usize), (8, 64, 8, 64), (2, 512, 3, 300)] {
        let mut rng = Rng(n as u64 + 1);
        let x: Vec<f32> = (0..n_rows * n).map(|_| rng.uniform(-3.0, 3.0) as f32).collect();
        let w: Vec<f32> = (0..n).map(|_| rng.uniform(0.5, 1.5) as f32).collect();
        let b: Vec<f32> = (0..n).map(|_| rng.uniform(-0.1, 0.1) as f32).collect();
        let eps = 1e-5f32;
        let programs = (n_rows as i64 + rows_per - 1) / rows_per;
        let args = run(
            src,
            "layer_norm_rows",
            &[("ROWS", rows_per), ("BLOCK", block)],
            [programs as u32, 1, 1],
            vec![
                f32s(&x),
                f32s(&vec![0.0; n_rows * n]),
                f32s(&w),
                f32s(&b),
                scalar_i32(n as i32),
                scalar_i32(n_rows as i32),
                scalar_i32(n as i32),
                scalar_f32(eps),
            ],
        );
        assert_layer_norm(&x, &w, &b, eps, &as_f32(&args[1]), &format!("{rows_per}x{block}"));
    }
}

#[test]
fn transpose_with_bias_matches_a_reference() {
    let src = include_str!("../../../dsl-examples/transpose.tk");
    let (m, n, tile) = (45usize, 70usize, 32usize);
    let mut rng = Rng(9);
    let x: Vec<f32> = (0..m * n).map(|_| rng.uniform(-4.0, 4.0) as f32).collect();
    let bias: Vec<f32> = (0..n).map(|_| rng.uniform(-1.0, 1.0) as f32).collect();
    let args = run(
        src,
        "transpose_bias",
        &[("TILE", tile as i64)],
        [m.div_ceil(tile) as u32, n.div_ceil(tile) as u32, 1],
        vec![
            f32s(&x),
            f32s(&bias),
            f32s(&vec![0.0; m * n]),
            scalar_i32(m as i32),
            scalar_i32(n as i32),
        ],
    );
    let out = as_f32(&args[2]);
    for i in 0..m {
        for j in 0..n {
            assert_eq!(out[j * m + i], x[i * n + j] + bias[j], "out[{j}, {i}]");
        }
    }
}

const TWO_D: &str = r#"
#[kernel]
fn k<const M: i32, const N: i32>(x: Ptr<i32>, rows: Ptr<i32>, cols: Ptr<i32>, amax: Ptr<i32>, amin: Ptr<i32>, csum: Ptr<i32>, t: Ptr<i32>, xr: Ptr<i32>, mx: Ptr<i32>) {
    let r = expand_dims(arange(0, M), 1);
    let c = expand_dims(arange(0, N), 0);
    let offs = r * N + c;
    let v = load(x + offs);
    store(rows + arange(0, M), sum(v, 1));
    store(cols + arange(0, N), v.sum(0));
    store(amax + arange(0, M), argmax(v, 1));
    store(amin + arange(0, N), argmin(v, 0));
    store(csum + offs, cumsum(v, 1));
    // trans: t[j, i] = v[i, j], stored row-major as [N, M].
    let tr = expand_dims(arange(0, N), 1) * M + expand_dims(arange(0, M), 0);
    store(t + tr, trans(v));
    store(xr + arange(0, M), xor_sum(v, 1));
    store(mx, max(reshape(v, [M * N]), 0));
}
"#;

#[test]
fn reductions_scans_and_transpose_along_every_axis() {
    let (m, n) = (8usize, 16usize);
    let mut rng = Rng(3);
    // Small values with ties, negatives included.
    let x: Vec<i32> = (0..m * n).map(|_| (rng.next_u64() % 21) as i32 - 10).collect();
    let z = |len: usize| i32s(&vec![0; len]);
    let args = run(
        TWO_D,
        "k",
        &[("M", m as i64), ("N", n as i64)],
        [1, 1, 1],
        vec![i32s(&x), z(m), z(n), z(m), z(n), z(m * n), z(m * n), z(m), z(1)],
    );
    let at = |i: usize, j: usize| x[i * n + j];
    let rows = as_i32(&args[1]);
    let cols = as_i32(&args[2]);
    let amax = as_i32(&args[3]);
    let amin = as_i32(&args[4]);
    let csum = as_i32(&args[5]);
    let t = as_i32(&args[6]);
    let xr = as_i32(&args[7]);
    for i in 0..m {
        assert_eq!(rows[i], (0..n).map(|j| at(i, j)).sum::<i32>());
        // argmax: the lowest index of the maximum.
        let best = (0..n).map(|j| at(i, j)).max().unwrap();
        assert_eq!(
            amax[i],
            (0..n).position(|j| at(i, j) == best).unwrap() as i32,
            "row {i}"
        );
        assert_eq!(xr[i], (0..n).fold(0, |a, j| a ^ at(i, j)));
        let mut run = 0;
        for j in 0..n {
            run += at(i, j);
            assert_eq!(csum[i * n + j], run);
            assert_eq!(t[j * m + i], at(i, j));
        }
    }
    for j in 0..n {
        assert_eq!(cols[j], (0..m).map(|i| at(i, j)).sum::<i32>());
        let least = (0..m).map(|i| at(i, j)).min().unwrap();
        assert_eq!(
            amin[j],
            (0..m).position(|i| at(i, j) == least).unwrap() as i32,
            "col {j}"
        );
    }
    assert_eq!(as_i32(&args[8])[0], *x.iter().max().unwrap());
}

#[test]
fn float_reductions_handle_nan_infinity_and_half_precision() {
    let src = r#"
#[kernel]
fn k<const N: i32>(x: Ptr<f32>, out: Ptr<f32>, idx: Ptr<i32>, h: Ptr<f16>, hs: Ptr<f32>, cp: Ptr<f32>) {
    let o = arange(0, N);
    let v = load(x + o);
    store(out, max(v, 0));
    store(out + 1, min(v, 0));
    store(out + 2, sum(v, 0));
    store(idx, argmax(v, 0));
    store(idx + 1, argmin(v, 0));
    // f16 sums accumulate in f32.
    store(hs, sum(load(h + o), 0));
    store(cp + o, cumprod(v, 0));
}
"#;
    let nan = f32::NAN;
    let cases: Vec<(Vec<f32>, f32, f32, i32, i32)> = vec![
        // (data, max, min, argmax, argmin); NaNs are ignored like `maximum`.
        (vec![1.0, nan, 3.0, 3.0, -2.0, nan, 0.5, -2.0], 3.0, -2.0, 2, 4),
        (
            vec![nan, nan, f32::NEG_INFINITY, 7.0, nan, 7.0, 1.0, f32::INFINITY],
            f32::INFINITY,
            f32::NEG_INFINITY,
            7,
            2,
        ),
        (vec![nan; 8], nan, nan, 0, 0),
    ];
    for (data, mx, mn, am, an) in cases {
        let halves: Vec<u16> = (0..8)
            .map(|i| tritonc::ir::fold_util::f32_to_f16_bits(i as f32 * 0.5))
            .collect();
        let args = run(
            src,
            "k",
            &[("N", 8)],
            [1, 1, 1],
            vec![
                f32s(&data),
                f32s(&[0.0; 3]),
                i32s(&[0; 2]),
                buf(&halves, |x| x.to_le_bytes().to_vec()),
                f32s(&[0.0]),
                f32s(&[0.0; 8]),
            ],
        );
        let out = as_f32(&args[1]);
        let idx = as_i32(&args[2]);
        assert_eq!(out[0].to_bits(), mx.to_bits(), "max of {data:?}");
        assert_eq!(out[1].to_bits(), mn.to_bits(), "min of {data:?}");
        assert_eq!(out[2].is_nan(), data.iter().any(|v| v.is_nan()), "sum of {data:?}");
        assert_eq!((idx[0], idx[1]), (am, an), "argmax/argmin of {data:?}");
        assert_eq!(as_f32(&args[4])[0], 14.0);
        let mut p = 1.0f32;
        let cp = as_f32(&args[5]);
        for (i, v) in data.iter().enumerate() {
            p *= v;
            assert_eq!(cp[i].to_bits(), p.to_bits(), "cumprod at {i}");
        }
    }
}

#[test]
fn broadcasting_adds_leading_dimensions() {
    let src = r#"
#[kernel]
fn k<const M: i32, const N: i32>(a: Ptr<f32>, b: Ptr<f32>, out: Ptr<f32>) {
    let col = load(a + arange(0, N));            // [N]
    let r = expand_dims(arange(0, M), 1);         // [M, 1]
    let rowv = load(b + r);                       // [M, 1]
    let grid = rowv * 10.0 + col;                 // [M, 1] with [N] -> [M, N]
    let full2 = broadcast_to(expand_dims(col, 0), [M, N]);
    store(out + r * N + expand_dims(arange(0, N), 0), grid + full2);
}
"#;
    let (m, n) = (4usize, 8usize);
    let a: Vec<f32> = (0..n).map(|j| j as f32).collect();
    let b: Vec<f32> = (0..m).map(|i| i as f32 + 1.0).collect();
    let args = run(
        src,
        "k",
        &[("M", m as i64), ("N", n as i64)],
        [1, 1, 1],
        vec![f32s(&a), f32s(&b), f32s(&vec![0.0; m * n])],
    );
    let got = as_f32(&args[2]);
    for i in 0..m {
        for j in 0..n {
            assert_eq!(got[i * n + j], b[i] * 10.0 + a[j] + a[j], "({i}, {j})");
        }
    }
}

/// A kernel reducing a `[A, B, C]` block of f32 and f16 along `axis`
/// (sum, max, argmax, argmin; f16: sum, max, argmax), storing each reduced
/// block row-major.
fn three_d_kernel(axis: usize) -> String {
    let dims = ["A", "B", "C"];
    let keep: Vec<&str> = (0..3).filter(|d| *d != axis).map(|d| dims[d]).collect();
    format!(
        r#"
#[kernel]
fn k<const A: i32, const B: i32, const C: i32>(x: Ptr<f32>, h: Ptr<f16>, s: Ptr<f32>, mx: Ptr<f32>, am: Ptr<i32>, an: Ptr<i32>, hs: Ptr<f32>, hm: Ptr<f16>, ha: Ptr<i32>, cs: Ptr<f32>, ci: Ptr<i32>) {{
    let offs = (expand_dims(expand_dims(arange(0, A), 1), 2) * B + expand_dims(expand_dims(arange(0, B), 0), 2)) * C + expand_dims(expand_dims(arange(0, C), 0), 1);
    let out = expand_dims(arange(0, {p}), 1) * {q} + expand_dims(arange(0, {q}), 0);
    let v = load(x + offs);
    let w = load(h + offs);
    store(s + out, sum(v, {axis}));
    store(mx + out, max(v, {axis}));
    store(am + out, argmax(v, {axis}));
    store(an + out, argmin(v, {axis}));
    store(hs + out, sum(w, {axis}));
    store(hm + out, max(w, {axis}));
    store(ha + out, argmax(w, {axis}));
    store(cs + offs, cumsum(v, {axis}));
    store(ci + offs, cumprod(offs % 5 - 2, {axis}));
}}
"#,
        p = keep[0],
        q = keep[1],
    )
}

/// The inclusive scan in the language's order: at level `j`, every
/// element whose index has bit `j` set gets, on its left, the element with
/// that bit cleared and the bits below set.
fn scan<T: Copy>(xs: &[T], c: impl Fn(T, T) -> T) -> Vec<T> {
    let mut out = xs.to_vec();
    let mut j = 0;
    while 1 << j < xs.len() {
        for k in (0..xs.len()).filter(|k| k >> j & 1 == 1) {
            out[k] = c(out[(k & !(1 << j)) | ((1 << j) - 1)], out[k]);
        }
        j += 1;
    }
    out
}

/// The balanced pairwise tree in index order, as the language defines
/// reductions.
fn tree_sum(xs: &[f32]) -> f32 {
    match xs.len() {
        1 => xs[0],
        n => tree_sum(&xs[..n / 2]) + tree_sum(&xs[n / 2..]),
    }
}

#[test]
fn axis_reductions_are_index_order_trees_on_every_layout() {
    use tritonc::ir::fold_util::{f16_bits_to_f32, f32_to_f16_bits};
    // Shapes whose axes land in a lane's registers, across lanes of a wave
    // (from lane bit 0 or above it), across waves and across a lane's
    // repetitions; and a block smaller than the program (replicated).
    let shapes: [[usize; 3]; 4] = [[2, 64, 16], [4, 4, 128], [8, 32, 2], [2, 2, 4]];
    for shape in shapes {
        let [a, b, c] = shape;
        let n = a * b * c;
        let mut rng = Rng(n as u64 + 7);
        // Few distinct values (ties), negatives, an infinity and NaNs.
        let x: Vec<f32> = (0..n)
            .map(|i| match i % 37 {
                5 => f32::NAN,
                11 => f32::NEG_INFINITY,
                _ => (rng.next_u64() % 13) as f32 * 0.37 - 2.0,
            })
            .collect();
        let h: Vec<u16> = (0..n).map(|i| f32_to_f16_bits((i % 29) as f32 * 0.25 - 3.0)).collect();
        for axis in 0..3 {
            let len = shape[axis];
            let out_n = n / len;
            let src = three_d_kernel(axis);
            // One and eight waves for the first shape only (time).
            let warps_list: &[u32] = if shape == shapes[0] { &[1, 4, 8] } else { &[4] };
            for &warps in warps_list {
                let mut req = request(&src, "k", &[("A", a as i64), ("B", b as i64), ("C", c as i64)]);
                req.num_warps = Some(warps);
                let z = |k: usize| f32s(&vec![0.0; k]);
                let zi = |k: usize| i32s(&vec![0; k]);
                let args = run_request(
                    req,
                    [1, 1, 1],
                    vec![
                        f32s(&x),
                        buf(&h, |v| v.to_le_bytes().to_vec()),
                        z(out_n),
                        z(out_n),
                        zi(out_n),
                        zi(out_n),
                        z(out_n),
                        buf(&vec![0u16; out_n], |v| v.to_le_bytes().to_vec()),
                        zi(out_n),
                        z(n),
                        zi(n),
                    ],
                );
                let (cs, ci) = (as_f32(&args[9]), as_i32(&args[10]));
                let (sums, maxs, amax, amin, hsum, hmax, hamax) = (
                    as_f32(&args[2]),
                    as_f32(&args[3]),
                    as_i32(&args[4]),
                    as_i32(&args[5]),
                    as_f32(&args[6]),
                    bytes_of(&args[7]),
                    as_i32(&args[8]),
                );
                let stride = [b * c, c, 1][axis];
                for o in 0..out_n {
                    // The first element of this output's row along the axis.
                    let (outer, inner) = (o / stride, o % stride);
                    let base = outer * len * stride + inner;
                    let row: Vec<f32> = (0..len).map(|k| x[base + k * stride]).collect();
                    let hrow: Vec<f32> = (0..len).map(|k| f16_bits_to_f32(h[base + k * stride])).collect();
                    let what = format!("{shape:?} axis {axis} warps {warps} output {o}");
                    assert_eq!(sums[o].to_bits(), tree_sum(&row).to_bits(), "sum, {what}");
                    let ok: Vec<f32> = row.iter().copied().filter(|v| !v.is_nan()).collect();
                    let best = ok.iter().copied().fold(f32::NEG_INFINITY, f32::max);
                    let least = ok.iter().copied().fold(f32::INFINITY, f32::min);
                    assert_eq!(maxs[o], best, "max, {what}");
                    assert_eq!(
                        amax[o] as usize,
                        row.iter().position(|v| *v == best).unwrap(),
                        "argmax, {what}"
                    );
                    assert_eq!(
                        amin[o] as usize,
                        row.iter().position(|v| *v == least).unwrap(),
                        "argmin, {what}"
                    );
                    // f16 sums accumulate in f32 (exactly, for these values).
                    assert_eq!(hsum[o], hrow.iter().sum::<f32>(), "f16 sum, {what}");
                    let hbest = hrow.iter().copied().fold(f32::NEG_INFINITY, f32::max);
                    let got = u16::from_le_bytes([hmax[2 * o], hmax[2 * o + 1]]);
                    assert_eq!(f16_bits_to_f32(got), hbest, "f16 max, {what}");
                    assert_eq!(
                        hamax[o] as usize,
                        hrow.iter().position(|v| *v == hbest).unwrap(),
                        "f16 argmax, {what}"
                    );
                    let want = scan(&row, |p, v| p + v);
                    let ints: Vec<i32> = (0..len).map(|k| ((base + k * stride) % 5) as i32 - 2).collect();
                    let want_i = scan(&ints, |p, v| p.wrapping_mul(v));
                    for k in 0..len {
                        assert_eq!(
                            cs[base + k * stride].to_bits(),
                            want[k].to_bits(),
                            "cumsum at {k}, {what}"
                        );
                        assert_eq!(ci[base + k * stride], want_i[k], "cumprod at {k}, {what}");
                    }
                }
            }
        }
    }
}
