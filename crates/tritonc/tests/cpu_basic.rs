//! End-to-end tests on the CPU backend against plain Rust reference loops
//! that need Rust: kernel text generated per dtype, and a failed
//! `device_assert`'s error. `common::run` also runs every kernel on the lane
//! simulators of a wave64 and a wave32 GPU (the GPU code path) and requires
//! bit-identical buffers. The other basic cases are kernel files
//! (`tests/basic/`, run by `kernel_files.rs`).

use crate::common;
use common::*;

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
