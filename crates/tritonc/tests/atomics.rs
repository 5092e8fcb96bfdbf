//! Atomics: the histogram example, and the old values each atomic returns.

mod common;
use common::*;

#[test]
fn histogram_counts_every_value_once() {
    let src = include_str!("../../../dsl-examples/histogram.tk");
    let n = 5000usize;
    let n_bins = 16;
    let mut rng = Rng(9);
    let x: Vec<i32> = (0..n).map(|_| (rng.next_u64() % 20) as i32 - 2).collect();
    let args = run(
        src,
        "histogram",
        &[("BLOCK", 512)],
        [n.div_ceil(512) as u32, 1, 1],
        vec![
            i32s(&x),
            i32s(&vec![0; n_bins]),
            scalar_i32(n as i32),
            scalar_i32(n_bins as i32),
        ],
    );
    let mut want = vec![0; n_bins];
    for v in &x {
        want[(*v).clamp(0, n_bins as i32 - 1) as usize] += 1;
    }
    assert_eq!(as_i32(&args[1]), want);
}

#[test]
fn row_histograms_in_two_d_blocks_count_every_value_once() {
    let src = include_str!("../../../dsl-examples/histogram.tk");
    let (n_rows, n_cols, n_bins) = (11usize, 100usize, 8usize);
    let mut rng = Rng(4);
    let x: Vec<i32> = (0..n_rows * n_cols).map(|_| (rng.next_u64() % 12) as i32 - 2).collect();
    let args = run(
        src,
        "histogram_rows",
        &[("ROWS", 4), ("BLOCK", 128)],
        [n_rows.div_ceil(4) as u32, 1, 1],
        vec![
            i32s(&x),
            i32s(&vec![0; n_rows * n_bins]),
            scalar_i32(n_rows as i32),
            scalar_i32(n_cols as i32),
            scalar_i32(n_bins as i32),
        ],
    );
    let mut want = vec![0; n_rows * n_bins];
    for r in 0..n_rows {
        for c in 0..n_cols {
            want[r * n_bins + x[r * n_cols + c].clamp(0, n_bins as i32 - 1) as usize] += 1;
        }
    }
    assert_eq!(as_i32(&args[1]), want);
}

#[test]
fn atomics_return_old_values() {
    let src = r#"
#[kernel]
fn k<const B: i32>(a: Ptr<i32>, f: Ptr<f32>, u: Ptr<u32>, olds: Ptr<i32>, fold: Ptr<f32>, n: i32) {
    let o = arange(0, B);
    let m = o < n;
    store(olds + o, atomic_add(a + o, o, m), m);
    store(olds + B + o, atomic_max(a + B + o, 5, m), m);
    store(olds + 2 * B + o, atomic_min(a + 2 * B + o, 5), m);
    store(olds + 3 * B + o, atomic_xchg(a + 3 * B + o, -o, m), m);
    store(olds + 4 * B + o, atomic_cas(a + 4 * B + o, o, 100), m);
    store(fold + o, atomic_add(f + o, 0.5, m), m);
    atomic_max(u + o, 7, m);
}
"#;
    let b = 8usize;
    let n = 6;
    let init: Vec<i32> = (0..5 * b as i32).map(|i| i % 10 - 2).collect();
    let f: Vec<f32> = (0..b).map(|i| i as f32).collect();
    let u: Vec<u32> = vec![3, 9, u32::MAX, 0, 7, 8, 1, 2];
    let args = run(
        src,
        "k",
        &[("B", b as i64)],
        [1, 1, 1],
        vec![
            i32s(&init),
            f32s(&f),
            buf(&u, |x| x.to_le_bytes().to_vec()),
            i32s(&vec![-99; 5 * b]),
            f32s(&vec![-99.0; b]),
            scalar_i32(n),
        ],
    );
    let a = as_i32(&args[0]);
    let olds = as_i32(&args[3]);
    let fold = as_f32(&args[4]);
    let f_after = as_f32(&args[1]);
    let u_after: Vec<u32> = bytes_of(&args[2])
        .chunks(4)
        .map(|c| u32::from_le_bytes([c[0], c[1], c[2], c[3]]))
        .collect();
    for i in 0..b {
        let on = (i as i32) < n;
        let (o, iv) = (i, i as i32);
        let section = |s: usize| init[s * b + o];
        // Masked-off elements are neither changed nor returned.
        let expect_old = |s: usize| if on { section(s) } else { -99 };
        assert_eq!(olds[o], expect_old(0));
        assert_eq!(a[o], if on { section(0) + iv } else { section(0) });
        assert_eq!(olds[b + o], expect_old(1));
        assert_eq!(a[b + o], if on { section(1).max(5) } else { section(1) });
        // atomic_min has no mask: every element changes.
        assert_eq!(a[2 * b + o], section(2).min(5));
        assert_eq!(olds[2 * b + o], expect_old(2));
        assert_eq!(olds[3 * b + o], expect_old(3));
        assert_eq!(a[3 * b + o], if on { -iv } else { section(3) });
        assert_eq!(olds[4 * b + o], if on { section(4) } else { -99 });
        assert_eq!(a[4 * b + o], if section(4) == iv { 100 } else { section(4) });
        assert_eq!(fold[o], if on { i as f32 } else { -99.0 });
        assert_eq!(f_after[o], if on { i as f32 + 0.5 } else { i as f32 });
        assert_eq!(u_after[o], if on { u[o].max(7) } else { u[o] });
    }
}

#[test]
fn every_atomic_compiles_for_every_gpu() {
    // LLVM aborts the process on operations a back end cannot select, so
    // each kind and type must be checked to compile.
    let src = r#"
#[kernel]
fn k<const B: i32>(f: Ptr<f32>, d: Ptr<f64>, u: Ptr<u64>, i: Ptr<i32>) {
    let o = arange(0, B);
    atomic_add(f + o, 0.5);
    atomic_max(f + o, 0.5);
    atomic_min(d + o, 0.5);
    atomic_add(d + o, 1.5);
    atomic_max(u + o, 3);
    atomic_min(i + o, -3, o < 7);
    atomic_cas(i + o, o, 5);
    atomic_xchg(f, 1.0);
    atomic_xchg(d + o, 2.0);
}
"#;
    for target in ["gfx90a", "gfx942", "gfx1030", "gfx1100"] {
        compile_for(src, "k", &[("B", 256)], target).unwrap_or_else(|e| panic!("{target}: {e}"));
    }
}
