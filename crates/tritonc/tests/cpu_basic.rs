//! End-to-end tests on the CPU backend against plain Rust reference loops.
//! `common::run` also runs every kernel on the lane simulators of a wave64
//! and a wave32 GPU (the GPU code path) and requires bit-identical buffers.

mod common;
use common::*;

const VECTOR_ADD: &str = include_str!("../../../dsl-examples/vector_add.tk");

#[test]
fn vector_add_with_ragged_tail() {
    for (n, block) in [(4000usize, 1024i64), (1000, 256), (1, 64), (257, 128)] {
        let x: Vec<f32> = (0..n).map(|i| i as f32 * 0.5 - 3.0).collect();
        let y: Vec<f32> = (0..n).map(|i| (i as f32).sin()).collect();
        // The output is longer than n: elements past n must stay untouched.
        let out = vec![-7.0f32; n + 5];
        let grid = (n as i64 + block - 1) / block;
        let args = run(
            VECTOR_ADD,
            "add",
            &[("BLOCK", block)],
            [grid as u32, 1, 1],
            vec![f32s(&x), f32s(&y), f32s(&out), scalar_i32(n as i32)],
        );
        let got = as_f32(&args[2]);
        for i in 0..n {
            assert_eq!(got[i], x[i] + y[i], "n={n} i={i}");
        }
        assert!(got[n..].iter().all(|v| *v == -7.0), "masked-off lanes wrote memory");
    }
}

#[test]
fn every_dtype_adds_and_multiplies() {
    // (type, bytes per element, reference on i128 / f64 values, encode, decode)
    let src = |t: &str| {
        format!(
            "#[kernel]\nfn k<const B: i32>(x: Ptr<{t}>, y: Ptr<{t}>, s: Ptr<{t}>, p: Ptr<{t}>, n: i32) {{\n\
             let o = program_id(0) * B + arange(0, B);\n let m = o < n;\n\
             let a = load(x + o, m);\n let b = load(y + o, m);\n\
             store(s + o, a + b, m);\n store(p + o, a * b - a, m);\n}}\n"
        )
    };
    let n = 300usize;
    let mut rng = Rng(42);
    // Integers: wrapping semantics at the type's width.
    for (t, bits, signed) in [
        ("i8", 8, true),
        ("i16", 16, true),
        ("i32", 32, true),
        ("i64", 64, true),
        ("u8", 8, false),
        ("u16", 16, false),
        ("u32", 32, false),
        ("u64", 64, false),
    ] {
        let bytes = bits / 8;
        let gen = |rng: &mut Rng| -> i128 {
            let v = rng.next_u64() as i128 & ((1i128 << bits) - 1);
            if signed && v >= 1i128 << (bits - 1) {
                v - (1i128 << bits)
            } else {
                v
            }
        };
        let xs: Vec<i128> = (0..n).map(|_| gen(&mut rng)).collect();
        let ys: Vec<i128> = (0..n).map(|_| gen(&mut rng)).collect();
        let enc = |v: &i128| (*v as u128).to_le_bytes()[..bytes].to_vec();
        let x = tritonc::launch::Arg::Buffer(tritonc::launch::HostBuffer::from_bytes(
            &xs.iter().flat_map(enc).collect::<Vec<_>>(),
        ));
        let y = tritonc::launch::Arg::Buffer(tritonc::launch::HostBuffer::from_bytes(
            &ys.iter().flat_map(enc).collect::<Vec<_>>(),
        ));
        let zero = tritonc::launch::Arg::Buffer(tritonc::launch::HostBuffer::from_bytes(&vec![0u8; n * bytes]));
        let args = run(
            &src(t),
            "k",
            &[("B", 128)],
            [3, 1, 1],
            vec![x, y, zero.clone(), zero, scalar_i32(n as i32)],
        );
        let wrap = |v: i128| {
            let m = v & ((1i128 << bits) - 1);
            if signed && m >= 1i128 << (bits - 1) {
                m - (1i128 << bits)
            } else {
                m
            }
        };
        let dec = |a: &tritonc::launch::Arg| -> Vec<i128> {
            bytes_of(a)
                .chunks(bytes)
                .map(|c| {
                    let mut w = [0u8; 16];
                    w[..bytes].copy_from_slice(c);
                    wrap(u128::from_le_bytes(w) as i128)
                })
                .collect()
        };
        let (s, p) = (dec(&args[2]), dec(&args[3]));
        for i in 0..n {
            assert_eq!(s[i], wrap(xs[i] + ys[i]), "{t} add at {i}");
            assert_eq!(
                p[i],
                wrap(wrap(xs[i].wrapping_mul(ys[i])) - xs[i]),
                "{t} mul-sub at {i}"
            );
        }
    }
    // Floats: the result of each operation is rounded to the type.
    use tritonc::ir::fold_util::{bf16_bits_to_f32, f16_bits_to_f32, f32_to_bf16_bits, f32_to_f16_bits};
    type Codec = (fn(f64) -> Vec<u8>, fn(&[u8]) -> f64, fn(f64) -> f64);
    let codecs: Vec<(&str, usize, Codec)> = vec![
        (
            "f16",
            2,
            (
                |v| f32_to_f16_bits(v as f32).to_le_bytes().to_vec(),
                |b| f64::from(f16_bits_to_f32(u16::from_le_bytes([b[0], b[1]]))),
                |v| f64::from(f16_bits_to_f32(f32_to_f16_bits(v as f32))),
            ),
        ),
        (
            "bf16",
            2,
            (
                |v| f32_to_bf16_bits(v as f32).to_le_bytes().to_vec(),
                |b| f64::from(bf16_bits_to_f32(u16::from_le_bytes([b[0], b[1]]))),
                |v| f64::from(bf16_bits_to_f32(f32_to_bf16_bits(v as f32))),
            ),
        ),
        (
            "f32",
            4,
            (
                |v| (v as f32).to_le_bytes().to_vec(),
                |b| f64::from(f32::from_le_bytes([b[0], b[1], b[2], b[3]])),
                |v| f64::from(v as f32),
            ),
        ),
        (
            "f64",
            8,
            (
                |v| v.to_le_bytes().to_vec(),
                |b| f64::from_le_bytes(b.try_into().unwrap()),
                |v| v,
            ),
        ),
    ];
    for (t, bytes, (enc, dec, round)) in codecs {
        let xs: Vec<f64> = (0..n).map(|_| round(rng.uniform(-8.0, 8.0))).collect();
        let ys: Vec<f64> = (0..n).map(|_| round(rng.uniform(-8.0, 8.0))).collect();
        let mk = |v: &[f64]| {
            tritonc::launch::Arg::Buffer(tritonc::launch::HostBuffer::from_bytes(
                &v.iter().flat_map(|x| enc(*x)).collect::<Vec<_>>(),
            ))
        };
        let zero = mk(&vec![0.0; n]);
        let args = run(
            &src(t),
            "k",
            &[("B", 64)],
            [5, 1, 1],
            vec![mk(&xs), mk(&ys), zero.clone(), zero, scalar_i32(n as i32)],
        );
        let s: Vec<f64> = bytes_of(&args[2]).chunks(bytes).map(dec).collect();
        let p: Vec<f64> = bytes_of(&args[3]).chunks(bytes).map(dec).collect();
        for i in 0..n {
            assert_eq!(s[i], round(xs[i] + ys[i]), "{t} add at {i}");
            assert_eq!(p[i], round(round(xs[i] * ys[i]) - xs[i]), "{t} mul-sub at {i}");
        }
    }
}

#[test]
fn integer_semantics_with_negatives() {
    let src = r#"
#[kernel]
fn ints<const B: i32>(a: Ptr<i32>, b: Ptr<i32>, q: Ptr<i32>, r: Ptr<i32>, sh: Ptr<i32>, ush: Ptr<u32>, lt: Ptr<bool>, n: i32) {
    let o = arange(0, B);
    let m = o < n;
    let x = load(a + o, m, 1);
    let y = load(b + o, m, 1);
    store(q + o, x / y, m);
    store(r + o, x % y, m);
    store(sh + o, x >> 2, m);
    store(ush + o, x.to(u32) >> 2, m);
    store(lt + o, x.to(u32) < y.to(u32), m);
}
"#;
    let xs = [-7, 7, -7, 7, i32::MIN, -1, 0, 100, -100, 13];
    let ys = [2, -2, -2, 2, 3, 5, -9, 7, 7, -4];
    let n = xs.len();
    let z = i32s(&vec![0; n]);
    let bools = tritonc::launch::Arg::Buffer(tritonc::launch::HostBuffer::from_bytes(&vec![0u8; n]));
    let args = run(
        src,
        "ints",
        &[("B", 16)],
        [1, 1, 1],
        vec![
            i32s(&xs),
            i32s(&ys),
            z.clone(),
            z.clone(),
            z.clone(),
            z,
            bools,
            scalar_i32(n as i32),
        ],
    );
    let (q, r, sh, ush) = (as_i32(&args[2]), as_i32(&args[3]), as_i32(&args[4]), as_i32(&args[5]));
    let lt = bytes_of(&args[6]);
    for i in 0..n {
        assert_eq!(q[i], xs[i].wrapping_div(ys[i]), "{} / {}", xs[i], ys[i]);
        assert_eq!(r[i], xs[i].wrapping_rem(ys[i]), "{} % {}", xs[i], ys[i]);
        assert_eq!(sh[i], xs[i] >> 2);
        assert_eq!(ush[i] as u32, (xs[i] as u32) >> 2);
        assert_eq!(lt[i] != 0, (xs[i] as u32) < (ys[i] as u32));
    }
}

#[test]
fn casts_between_types() {
    let src = r#"
#[kernel]
fn casts<const B: i32>(x: Ptr<f32>, to_i: Ptr<i32>, to_u8: Ptr<u8>, back: Ptr<f32>, half: Ptr<f16>, bits: Ptr<i32>, n: i32) {
    let o = arange(0, B);
    let m = o < n;
    let v = load(x + o, m);
    let i = v.to(i32);
    store(to_i + o, i, m);
    store(to_u8 + o, i.to(u8), m);
    store(back + o, i.to(f32) * 0.5, m);
    store(half + o, v.to(f16), m);
    store(bits + o, v.bitcast(i32), m);
}
"#;
    let xs = [1.9f32, -1.9, 300.7, -300.7, 0.0, -0.0, 65519.0, 1e-8];
    let n = xs.len();
    let zero4 = i32s(&vec![0; n]);
    let zero1 = tritonc::launch::Arg::Buffer(tritonc::launch::HostBuffer::from_bytes(&vec![0u8; n]));
    let zero2 = tritonc::launch::Arg::Buffer(tritonc::launch::HostBuffer::from_bytes(&vec![0u8; 2 * n]));
    let args = run(
        src,
        "casts",
        &[("B", 8)],
        [1, 1, 1],
        vec![
            f32s(&xs),
            zero4.clone(),
            zero1,
            f32s(&vec![0.0; n]),
            zero2,
            zero4,
            scalar_i32(n as i32),
        ],
    );
    let to_i = as_i32(&args[1]);
    let to_u8 = bytes_of(&args[2]);
    let back = as_f32(&args[3]);
    let half = bytes_of(&args[4]);
    let bits = as_i32(&args[5]);
    for k in 0..n {
        let t = xs[k].trunc() as i32;
        assert_eq!(to_i[k], t);
        assert_eq!(to_u8[k], t as u8);
        assert_eq!(back[k], t as f32 * 0.5);
        assert_eq!(
            u16::from_le_bytes([half[2 * k], half[2 * k + 1]]),
            tritonc::ir::fold_util::f32_to_f16_bits(xs[k])
        );
        assert_eq!(bits[k], xs[k].to_bits() as i32);
    }
}

#[test]
fn control_flow_helpers_and_loops() {
    let src = include_str!("../../../dsl-examples/elementwise.tk");
    let n = 1000usize;
    let x: Vec<i32> = (0..n as i32).map(|i| (i * 37) % 101 - 50).collect();
    let reps = 5;
    let args = run(
        src,
        "shifted_sum",
        &[("BLOCK", 128)],
        [8, 1, 1],
        vec![i32s(&x), i32s(&vec![0; n]), scalar_i32(n as i32), scalar_i32(reps)],
    );
    let got = as_i32(&args[1]);
    for i in 0..n {
        let mut acc = 0i32;
        for r in 0..reps as usize {
            acc += x[(i + r) % n];
        }
        acc *= 4; // the while loop doubles twice
        acc -= 1; // static_range subtracts 0, then 1
        assert_eq!(got[i], acc / 3, "i={i}");
    }
}

fn gelu_ref(x: f64) -> f64 {
    0.5 * x * (1.0 + (0.797_884_560_8 * (x + 0.044_715 * x * x * x)).tanh())
}

#[test]
fn helpers_and_compile_time_if() {
    let src = include_str!("../../../dsl-examples/elementwise.tk");
    let n = 700usize;
    let x: Vec<f32> = (0..n).map(|i| (i as f32 - 350.0) / 60.0).collect();
    for clamp in [0i64, 1] {
        let consts = [("BLOCK", 256), ("CLAMP", clamp)];
        let mut req = request(src, "activations", &consts);
        req.consts
            .insert("CLAMP".into(), tritonc::sema::ConstArg::Bool(clamp == 1));
        let c = tritonc::driver::compile(&req, host().as_ref()).unwrap();
        let mut args = vec![f32s(&x), f32s(&vec![0.0; n]), scalar_i32(n as i32), scalar_f32(1.5)];
        tritonc::launch::run_cpu(&c, tritonc::runtime::Grid([3, 1, 1]), &mut args, 4).unwrap();
        let got = as_f32(&args[1]);
        for i in 0..n {
            let v = f64::from(x[i] * 1.5f32);
            let mut y = gelu_ref(v);
            if clamp == 1 {
                y = y.clamp(-1.0, 1.0);
            }
            let want = if v > 0.0 { y } else { v.exp() - 1.0 };
            assert!(
                (f64::from(got[i]) - want).abs() <= 2e-6 * want.abs().max(1.0),
                "clamp={clamp} x={v}: {} vs {want}",
                got[i]
            );
        }
    }
}

#[test]
fn masked_loads_take_other_and_scalar_control_flow() {
    let src = r#"
fn pick(a: i32, b: i32, first: bool) -> i32 {
    if first { a } else { b }
}

#[kernel]
fn k<const B: i32>(x: Ptr<i32>, out: Ptr<i32>, n: i32, mode: i32) {
    let o = program_id(0) * B + arange(0, B);
    let v = load(x + o, o < n, -1);
    let mut bias = 0;
    if mode > 2 {
        bias = 100;
    } else if mode == 2 {
        bias = 10;
    }
    let w = pick(v, v * 2, mode % 2 == 0) + bias + num_programs(0) * 1000;
    store(out + o, w);
}
"#;
    let n = 50;
    let x: Vec<i32> = (0..n).map(|i| i - 25).collect();
    for mode in 0..5 {
        let args = run(
            src,
            "k",
            &[("B", 32)],
            [2, 1, 1],
            vec![i32s(&x), i32s(&[0; 64]), scalar_i32(n), scalar_i32(mode)],
        );
        let got = as_i32(&args[1]);
        let bias = if mode > 2 {
            100
        } else if mode == 2 {
            10
        } else {
            0
        };
        for (i, g) in got.iter().enumerate() {
            let v = if (i as i32) < n { x[i] } else { -1 };
            let picked = if mode % 2 == 0 { v } else { v * 2 };
            assert_eq!(*g, picked + bias + 2000, "mode={mode} i={i}");
        }
    }
}

#[test]
fn nan_and_infinity_in_maximum_minimum_select() {
    let src = r#"
#[kernel]
fn k<const B: i32>(a: Ptr<f32>, b: Ptr<f32>, mx: Ptr<f32>, mn: Ptr<f32>, sel: Ptr<f32>) {
    let o = arange(0, B);
    let x = load(a + o);
    let y = load(b + o);
    store(mx + o, maximum(x, y));
    store(mn + o, minimum(x, y));
    store(sel + o, select(x > y, x, f32::NEG_INFINITY));
}
"#;
    let nan = f32::NAN;
    let xs = [1.0, nan, 2.0, f32::INFINITY, -0.0, 0.0, -5.0, nan];
    let ys = [2.0, 1.0, nan, 3.0, 0.0, -0.0, f32::NEG_INFINITY, nan];
    let z = f32s(&[0.0; 8]);
    let args = run(
        src,
        "k",
        &[("B", 8)],
        [1, 1, 1],
        vec![f32s(&xs), f32s(&ys), z.clone(), z.clone(), z],
    );
    let (mx, mn, sel) = (as_f32(&args[2]), as_f32(&args[3]), as_f32(&args[4]));
    for i in 0..8 {
        let (x, y) = (xs[i], ys[i]);
        // Triton's default maximum/minimum ignore a NaN operand (maxNum).
        if x == 0.0 && y == 0.0 {
            // The sign of a zero result is unspecified.
            assert_eq!((mx[i], mn[i]), (0.0, 0.0), "i={i}");
        } else {
            assert_eq!(mx[i].to_bits(), x.max(y).to_bits(), "i={i}");
            assert_eq!(mn[i].to_bits(), x.min(y).to_bits(), "i={i}");
        }
        assert_eq!(
            sel[i].to_bits(),
            if x > y { x } else { f32::NEG_INFINITY }.to_bits(),
            "i={i}"
        );
    }
}

#[test]
fn bool_buffers_cdiv_and_scalar_pointers() {
    let src = r#"
#[kernel]
fn k<const B: i32>(x: Ptr<i32>, flags: Ptr<bool>, count: Ptr<i32>, n: i32) {
    let o = arange(0, B);
    let m = o < n;
    let v = load(x + o, m, 0);
    let f = load(flags + o, m, false);
    store(flags + o, !f && v > 0, m);
    // A scalar store through a plain pointer.
    store(count, cdiv(n, 4) + cdiv(7, 2));
}
"#;
    let x = [3, -1, 0, 5, 8, -9];
    let flags = [1u8, 0, 0, 0, 1, 0];
    let args = run(
        src,
        "k",
        &[("B", 8)],
        [1, 1, 1],
        vec![
            i32s(&x),
            tritonc::launch::Arg::Buffer(tritonc::launch::HostBuffer::from_bytes(&flags)),
            i32s(&[0]),
            scalar_i32(6),
        ],
    );
    let f = bytes_of(&args[1]);
    for i in 0..6 {
        assert_eq!(f[i], u8::from(flags[i] == 0 && x[i] > 0), "i={i}");
    }
    assert_eq!(as_i32(&args[2])[0], 2 + 4);
}

#[test]
fn failed_device_assert_is_reported_with_its_message() {
    let src = r#"
#[kernel]
fn k<const B: i32>(x: Ptr<i32>, n: i32) {
    let o = program_id(0) * B + arange(0, B);
    let v = load(x + o, o < n, 0);
    device_assert(v >= 0, "negative input");
}
"#;
    let c = compile_for(src, "k", &[("B", 4)], "host").unwrap();
    let mut ok = vec![i32s(&[1, 2, 3, 4, 5, 6, 7, 8]), scalar_i32(8)];
    tritonc::launch::run_cpu(&c, tritonc::runtime::Grid([2, 1, 1]), &mut ok, 2).unwrap();
    let mut bad = vec![i32s(&[1, 2, 3, 4, 5, -6, 7, 8]), scalar_i32(8)];
    let err = tritonc::launch::run_cpu(&c, tritonc::runtime::Grid([2, 1, 1]), &mut bad, 2).unwrap_err();
    assert_eq!(
        err.to_string(),
        "device_assert failed in program (1, ..): negative input"
    );
}

#[test]
fn divisibility_hints_vectorize_and_keep_results() {
    // With --divisible all, n must really be a multiple of 16.
    for target in TARGETS {
        for (n, block) in [(4096usize, 1024i64), (96, 32), (4096, 4096), (1024, 64)] {
            let x: Vec<f32> = (0..n).map(|i| i as f32 * 0.25).collect();
            let y: Vec<f32> = (0..n).map(|i| 1.0 - i as f32).collect();
            let out = vec![-7.0f32; n + 16];
            let mut req = request(VECTOR_ADD, "add", &[("BLOCK", block)]);
            req.divisible = tritonc::driver::Divisible::All;
            req.small_buffers = true;
            let grid = (n as u64).div_ceil(block as u64) as u32;
            let args = run_with(
                target,
                req,
                [grid, 1, 1],
                vec![f32s(&x), f32s(&y), f32s(&out), scalar_i32(n as i32)],
            );
            let got = as_f32(&args[2]);
            for i in 0..n {
                assert_eq!(got[i], x[i] + y[i], "{target} n={n} i={i}");
            }
            assert!(got[n..].iter().all(|v| *v == -7.0), "{target}: wrote past n");
        }
    }
}
