//! Every math builtin on the CPU backend against `f64` references, with a
//! stated bound in units in the last place (ulp) of the result type.
//!
//! The host lowers `exp`, `log`, `sin`, ... to LLVM intrinsics (the C math
//! library); `tanh` and `erf` are this compiler's own polynomials, the same
//! code that AMDGPU targets get, so these tests also hold the GPU's
//! implementation of those two to its bound.

use crate::common;
use common::*;

fn kernel(func: &str, ty: &str) -> String {
    format!(
        "#[kernel]\nfn k<const B: i32>(x: Ptr<{ty}>, out: Ptr<{ty}>, n: i32) {{\n\
         let o = program_id(0) * B + arange(0, B);\n let m = o < n;\n\
         store(out + o, {func}(load(x + o, m, 1.0)), m);\n}}\n"
    )
}

/// Inputs for a function: a spread over its domain plus special values.
fn inputs(func: &str) -> Vec<f64> {
    let (lo, hi): (f64, f64) = match func {
        "exp" => (-87.0, 88.0),
        "exp2" => (-126.0, 127.0),
        "log" | "log2" | "sqrt" | "rsqrt" => (1e-30, 1e30),
        "sin" | "cos" => (-100.0, 100.0),
        "tanh" => (-12.0, 12.0),
        "erf" => (-5.0, 5.0),
        _ => (-1000.0, 1000.0),
    };
    let mut rng = Rng(7);
    let mut v: Vec<f64> = (0..4000)
        .map(|_| {
            if matches!(func, "log" | "log2" | "sqrt" | "rsqrt") {
                10f64.powf(rng.uniform(lo.log10(), hi.log10()))
            } else {
                rng.uniform(lo, hi)
            }
        })
        .collect();
    // Small magnitudes, where cancellation would show.
    for e in -30..0 {
        let x = 1.37 * 2f64.powi(e);
        if !matches!(func, "log" | "log2" | "sqrt" | "rsqrt") {
            v.push(-x);
        }
        v.push(x);
    }
    v.extend([0.5, 0.625, 0.6249, 0.6251, 1.0, 2.0, 2.5, 3.0]);
    v
}

fn reference(func: &str, x: f64) -> f64 {
    match func {
        "exp" => x.exp(),
        "exp2" => x.exp2(),
        "log" => x.ln(),
        "log2" => x.log2(),
        "sqrt" => x.sqrt(),
        "rsqrt" => 1.0 / x.sqrt(),
        "sin" => x.sin(),
        "cos" => x.cos(),
        "tanh" => x.tanh(),
        "erf" => libm::erf(x),
        "abs" => x.abs(),
        "floor" => x.floor(),
        "ceil" => x.ceil(),
        _ => unreachable!(),
    }
}

/// The ulp bound each function is held to in f32.
fn f32_bound(func: &str) -> u64 {
    match func {
        "sqrt" | "abs" | "floor" | "ceil" => 0,
        "rsqrt" | "exp" | "exp2" | "log" | "log2" | "sin" | "cos" => 2,
        "tanh" => 3,
        "erf" => 4,
        _ => 0,
    }
}

const FUNCS: [&str; 13] = [
    "exp", "exp2", "log", "log2", "sqrt", "rsqrt", "sin", "cos", "tanh", "erf", "abs", "floor", "ceil",
];

/// The ulp bound of `func` at `x` on the host: [`f32_bound`], and for
/// `exp`, which is `exp2(x * log2(e))` (Triton's), up to 1.25 |x| ulp more
/// from the product's rounding.
fn allowed_ulp(func: &str, x: f32) -> u64 {
    f32_bound(func)
        + if func == "exp" {
            (1.25 * x.abs()).ceil() as u64
        } else {
            0
        }
}

/// How far a GPU's result may be from the exact one, beyond the host's
/// ulp bound: AMDGPU's `sin`/`cos` (LLVM's lowering: the argument times
/// 1/(2 pi), rounded to f32, then the hardware's sine of revolutions) are
/// off by about |x| * 2^-24 radians, an absolute error; `exp` of an f32 is
/// `exp2(x * log2(e))` as on the host. Measured on the emulator, which
/// computes each hardware instruction correctly rounded.
fn gpu_allowed(func: &str, x: f32, got: f32, want: f32) -> bool {
    let d = ulp_diff_f32(got, want);
    let host = allowed_ulp(func, x);
    match func {
        "sin" | "cos" => d <= host || (got - want).abs() <= 2f32.powi(-22) * x.abs().max(1.0),
        _ => d <= host,
    }
}

#[test]
fn f32_math_within_stated_ulp_bounds() {
    let mut report = String::new();
    for func in FUNCS {
        let xs: Vec<f32> = inputs(func).iter().map(|x| *x as f32).collect();
        let n = xs.len();
        let req = request(&kernel(func, "f32"), "k", &[("B", 64)]);
        let grid = [n.div_ceil(64) as u32, 1, 1];
        let args = vec![f32s(&xs), f32s(&vec![0.0; n]), scalar_i32(n as i32)];
        let host = run_host_and_sims(&req, grid, args.clone());
        let got = as_f32(&host[1]);
        let mut worst = (0u64, 0.0f32);
        for i in 0..n {
            let want = reference(func, f64::from(xs[i])) as f32;
            let d = ulp_diff_f32(got[i], want);
            let allowed = allowed_ulp(func, xs[i]);
            assert!(d <= allowed, "{func}: {d} ulp at x = {:e} (bound {allowed})", xs[i]);
            if d > worst.0 {
                worst = (d, xs[i]);
            }
        }
        report.push_str(&format!("{func}: max {} ulp (at x = {:e})", worst.0, worst.1));
        // The GPU targets' code objects, in the machine-code emulator.
        for t in emu_targets() {
            let Some(out) = run_on_emu(t, &req, grid, args.clone()) else {
                continue;
            };
            let got = as_f32(&out[1]);
            let mut worst = (0u64, 0.0f32);
            for i in 0..n {
                let want = reference(func, f64::from(xs[i])) as f32;
                assert!(
                    gpu_allowed(func, xs[i], got[i], want),
                    "{func} on {t}: {} at x = {:e}, want {want} ({} ulp)",
                    got[i],
                    xs[i],
                    ulp_diff_f32(got[i], want)
                );
                let d = ulp_diff_f32(got[i], want);
                if d > worst.0 {
                    worst = (d, xs[i]);
                }
            }
            report.push_str(&format!(", {t} {} ulp (at x = {:e})", worst.0, worst.1));
        }
        report.push('\n');
    }
    println!("{report}");
}

#[test]
fn f64_tanh_and_erf_within_bounds() {
    for (func, bound) in [("tanh", 4.0), ("erf", 12.0)] {
        let xs = inputs(func);
        let n = xs.len();
        let data = buf(&xs, |x| x.to_le_bytes().to_vec());
        let out = buf(&vec![0.0f64; n], |x| x.to_le_bytes().to_vec());
        let args = run(
            &kernel(func, "f64"),
            "k",
            &[("B", 64)],
            [n.div_ceil(64) as u32, 1, 1],
            vec![data, out, scalar_i32(n as i32)],
        );
        let got = as_f64(&args[1]);
        let mut worst = 0.0f64;
        for i in 0..n {
            let want = reference(func, xs[i]);
            // Error in units of f64 epsilon relative to the result.
            let err = (got[i] - want).abs() / (want.abs().max(f64::MIN_POSITIVE) * f64::EPSILON);
            worst = worst.max(err);
        }
        assert!(worst <= bound, "{func} f64: {worst} ulp (bound {bound})");
    }
}

#[test]
fn f16_and_bf16_math_compute_in_f32_and_round_once() {
    use tritonc::ir::fold_util::{bf16_bits_to_f32, f16_bits_to_f32, f32_to_bf16_bits, f32_to_f16_bits};
    for (ty, to_bits, from_bits) in [
        (
            "f16",
            f32_to_f16_bits as fn(f32) -> u16,
            f16_bits_to_f32 as fn(u16) -> f32,
        ),
        ("bf16", f32_to_bf16_bits, bf16_bits_to_f32),
    ] {
        for func in ["exp", "sqrt", "tanh", "erf", "sin"] {
            let xs: Vec<u16> = inputs(func)
                .iter()
                .map(|x| to_bits((*x as f32).clamp(-11.0, 11.0)))
                .collect();
            let n = xs.len();
            let data = buf(&xs, |x| x.to_le_bytes().to_vec());
            let out = buf(&vec![0u16; n], |x| x.to_le_bytes().to_vec());
            let args = run(
                &kernel(func, ty),
                "k",
                &[("B", 64)],
                [n.div_ceil(64) as u32, 1, 1],
                vec![data, out, scalar_i32(n as i32)],
            );
            let got: Vec<u16> = bytes_of(&args[1])
                .chunks(2)
                .map(|c| u16::from_le_bytes([c[0], c[1]]))
                .collect();
            for i in 0..n {
                let x = f64::from(from_bits(xs[i]));
                let want = to_bits(reference(func, x) as f32);
                // One rounding of an f32 result within a few f32 ulp: at most
                // one half-precision ulp away from the correctly rounded value.
                let d = (i32::from(got[i] as i16) - i32::from(want as i16)).abs();
                assert!(d <= 1, "{ty} {func}({x}): got {:#x}, want {want:#x}", got[i]);
            }
        }
    }
}

#[test]
fn integer_abs_and_fma() {
    let src = r#"
#[kernel]
fn k<const B: i32>(a: Ptr<i32>, x: Ptr<f32>, y: Ptr<f32>, z: Ptr<f32>, ia: Ptr<i32>, f: Ptr<f32>) {
    let o = arange(0, B);
    store(ia + o, abs(load(a + o)));
    store(f + o, fma(load(x + o), load(y + o), load(z + o)));
}
"#;
    let a = [-5, 5, 0, i32::MIN, -1, 7, -100, 3];
    let x = [1.0f32 + f32::EPSILON, 3.0, -2.0, 0.1, 1e20, -0.0, 7.5, 2.0];
    let y = [1.0f32 - f32::EPSILON, 0.5, 4.0, 0.2, 1e20, 0.0, -1.5, 2.0];
    let z = [-1.0f32, 1.0, 8.0, 0.3, -1e40f64 as f32, 0.0, 0.25, -4.0];
    let zero = f32s(&[0.0; 8]);
    let args = run(
        src,
        "k",
        &[("B", 8)],
        [1, 1, 1],
        vec![i32s(&a), f32s(&x), f32s(&y), f32s(&z), i32s(&[0; 8]), zero],
    );
    assert_eq!(as_i32(&args[4]), a.iter().map(|v| v.wrapping_abs()).collect::<Vec<_>>());
    let f = as_f32(&args[5]);
    for i in 0..8 {
        // A fused multiply-add rounds once.
        assert_eq!(f[i].to_bits(), x[i].mul_add(y[i], z[i]).to_bits(), "i={i}");
    }
}

#[test]
fn every_math_builtin_compiles_for_amdgpu_and_f64_transcendentals_are_refused() {
    for target in ["gfx90a", "gfx942", "gfx1100"] {
        for func in FUNCS {
            for ty in ["f32", "f16"] {
                compile_for(&kernel(func, ty), "k", &[("B", 256)], target)
                    .unwrap_or_else(|e| panic!("{func} {ty} on {target}: {e}"));
            }
        }
        for func in ["sqrt", "abs", "floor", "ceil"] {
            compile_for(&kernel(func, "f64"), "k", &[("B", 256)], target).unwrap();
        }
        let err = compile_for(&kernel("exp", "f64"), "k", &[("B", 256)], target).unwrap_err();
        assert!(err.to_string().contains("`exp` on f64 is not supported on"), "{err}");
    }
}
