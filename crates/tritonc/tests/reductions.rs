//! Reductions along every axis of 3-D blocks (kernel text generated per
//! axis) against plain Rust references in the language's order. The other
//! reduction, scan and shape tests are kernel files (`tests/reductions/`,
//! `tests/tutorials/`, run by `kernel_files.rs`).

use crate::common;
use common::*;
use tritonc::launch::Arg;

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

/// The balanced pairwise tree in index order, as the language defines
/// reductions.
fn tree_sum(xs: &[f32]) -> f32 {
    match xs.len() {
        1 => xs[0],
        n => tree_sum(&xs[..n / 2]) + tree_sum(&xs[n / 2..]),
    }
}

// Shapes whose axes land in a lane's registers, across lanes of a wave
// (from lane bit 0 or above it), across waves and across a lane's
// repetitions; and a block smaller than the program (replicated). One test
// each, so that they run in parallel.

// One and eight waves for this shape only (time); a test per wave count,
// so that they run in parallel.
#[test]
fn axis_reductions_in_registers_lanes_and_waves() {
    axis_reductions_are_index_order_trees([2, 64, 8], &[4]);
}

#[test]
fn axis_reductions_in_registers_lanes_and_one_wave() {
    axis_reductions_are_index_order_trees([2, 64, 8], &[1]);
}

#[test]
fn axis_reductions_in_registers_lanes_and_eight_waves() {
    axis_reductions_are_index_order_trees([2, 64, 8], &[8]);
}

#[test]
fn axis_reductions_across_lane_repetitions() {
    axis_reductions_are_index_order_trees([4, 4, 128], &[4]);
}

#[test]
fn axis_reductions_from_higher_lane_bits() {
    axis_reductions_are_index_order_trees([8, 32, 2], &[4]);
}

#[test]
fn axis_reductions_of_a_replicated_block() {
    axis_reductions_are_index_order_trees([2, 2, 4], &[4]);
}

fn axis_reductions_are_index_order_trees(shape: [usize; 3], warps_list: &[u32]) {
    use tritonc::ir::fold_util::{f16_bits_to_f32, f32_to_f16_bits};
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
        for &warps in warps_list {
            let mut req = request(&src, "k", &[("A", a as i64), ("B", b as i64), ("C", c as i64)]);
            req.num_warps = Some(warps);
            let z = |k: usize| f32s(&vec![0.0; k]);
            let zi = |k: usize| i32s(&vec![0; k]);
            let inputs = vec![
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
            ];
            // The host's code does not depend on the number of waves:
            // other wave counts run the GPU targets' code objects in the
            // machine-code emulator (the lane simulators when it is off,
            // `TRITONC_EMU_TARGETS=`), each checked against the references
            // below. (Four waves run everywhere, through `run_request`.)
            let results: Vec<(String, Vec<Arg>)> = if warps == 4 {
                vec![("host".into(), run_request(req, [1, 1, 1], inputs))]
            } else if emu_targets().is_empty() {
                TARGETS[1..]
                    .iter()
                    .map(|t| (t.to_string(), run_with(t, req.clone(), [1, 1, 1], inputs.clone())))
                    .collect()
            } else {
                emu_targets()
                    .into_iter()
                    .filter_map(|t| run_on_emu(t, &req, [1, 1, 1], inputs.clone()).map(|out| (format!("emu:{t}"), out)))
                    .collect()
            };
            for (target, args) in &results {
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
                    let what = format!("{shape:?} axis {axis} warps {warps} output {o} on {target}");
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
