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
    let got = as_f32(&args[0]);
    for r in 0..rows {
        let row = &x[r * cols..(r + 1) * cols];
        let m = row.iter().fold(f64::NEG_INFINITY, |a, v| a.max(f64::from(*v)));
        let den: f64 = row.iter().map(|v| (f64::from(*v) - m).exp()).sum();
        for c in 0..cols {
            let want = (f64::from(row[c]) - m).exp() / den;
            let g = f64::from(got[r * cols + c]);
            // f32 exp (1 ulp) and a sequential f32 sum of 781 terms: 1e-5 relative.
            assert!((g - want).abs() <= 1e-5 * want, "row {r} col {c}: {g} vs {want}");
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
    let (y, mean, rstd) = (as_f32(&args[1]), as_f32(&args[4]), as_f32(&args[5]));
    for r in 0..rows {
        let row: Vec<f64> = x[r * n..(r + 1) * n].iter().map(|v| f64::from(*v)).collect();
        let m = row.iter().sum::<f64>() / n as f64;
        let var = row.iter().map(|v| (v - m) * (v - m)).sum::<f64>() / n as f64;
        let rs = 1.0 / (var + f64::from(eps)).sqrt();
        assert!((f64::from(mean[r]) - m).abs() < 1e-5, "mean row {r}");
        assert!((f64::from(rstd[r]) - rs).abs() < 1e-4 * rs, "rstd row {r}");
        for c in 0..n {
            let want = (row[c] - m) * rs * f64::from(w[c]) + f64::from(b[c]);
            assert!((f64::from(y[r * n + c]) - want).abs() < 1e-4, "y row {r} col {c}");
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
