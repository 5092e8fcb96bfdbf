//! Host libraries depend on nothing the loading process may lack: every
//! example and every element type's conversions and arithmetic, compiled
//! for this machine's CPU and for the most basic x86-64 CPU (no F16C, no
//! AVX-512 BF16), leave only libc and libm symbols undefined; and the
//! conversions LLVM turns into runtime calls there are correctly rounded
//! (against a nearest-value search over every 16-bit float).

use crate::common;

use common::{bytes_of, example_request, request, EXAMPLES, MORE_EXAMPLES};
use object::{Object, ObjectSymbol};
use tritonc::{
    codegen::target,
    driver::{compile, CompileRequest},
    ir::ScalarType,
    launch::{run_cpu, Arg},
    runtime::Grid,
};

/// The host targets to check: this machine, and the oldest CPU of its
/// architecture (where every 16-bit float conversion is a runtime call).
fn host_targets() -> Vec<&'static str> {
    let mut t = vec!["host"];
    if cfg!(target_arch = "x86_64") {
        t.push("host:x86-64");
    }
    t
}

/// A kernel converting `s` to every element type and doing its arithmetic.
fn conversions_kernel(s: ScalarType) -> String {
    let src = s.name();
    let mut params = format!("x: Ptr<{src}>, y: Ptr<{src}>, a: Ptr<{src}>");
    let mut body = String::from(
        "    let o = program_id(0) * B + arange(0, B);\n    let v = load(x + o);\n    let w = load(y + o);\n",
    );
    if s == ScalarType::I1 {
        body.push_str("    store(a + o, v && w);\n");
    } else if s.is_float() {
        body.push_str("    store(a + o, (v + w) * v / w - sqrt(abs(v)) + maximum(v, w) - floor(v) + exp(v) % w);\n");
    } else {
        body.push_str("    store(a + o, (v + w) * v / (w | 1) + v % (w | 1) + (v >> 1) - maximum(v, w));\n");
    }
    for d in ScalarType::ALL {
        let dst = d.name();
        params.push_str(&format!(", o_{dst}: Ptr<{dst}>"));
        body.push_str(&format!("    store(o_{dst} + o, v.to({dst}));\n"));
    }
    format!("#[kernel]\nfn k<const B: i32>({params}) {{\n{body}}}\n")
}

/// One conversion kernel per element type.
fn conversion_requests() -> Vec<(String, CompileRequest)> {
    ScalarType::ALL
        .iter()
        .map(|s| {
            (
                format!("conversions from {}", s.name()),
                request(&conversions_kernel(*s), "k", &[("B", 16)]),
            )
        })
        .collect()
}

/// The example kernels, with blocks of at most 64 elements a side: the
/// operations and so the runtime calls are the same at any size, and
/// whole-block vectors of thousands of elements take LLVM's x86 back end
/// minutes without AVX.
fn example_requests() -> Vec<(String, CompileRequest)> {
    EXAMPLES
        .iter()
        .chain(MORE_EXAMPLES)
        .map(|(file, kernel, consts)| {
            let small: Vec<(&str, i64)> = consts.iter().map(|(k, v)| (*k, (*v).min(64))).collect();
            (format!("{file}:{kernel}"), example_request(file, kernel, &small))
        })
        .collect()
}

/// The undefined dynamic symbols of a shared object.
fn undefined_symbols(so: &[u8]) -> Vec<String> {
    let file = object::File::parse(so).expect("a host library is an ELF shared object");
    file.dynamic_symbols()
        .filter(|s| s.is_undefined() && !s.name().unwrap_or("").is_empty())
        .map(|s| s.name().expect("symbol names are UTF-8").to_string())
        .collect()
}

/// The compiled libraries' undefined symbols that neither libc nor libm
/// defines, as `what for target needs sym` lines.
fn symbols_outside_libc_and_libm(targets: &[&str], requests: Vec<(String, CompileRequest)>) -> Vec<String> {
    // SAFETY: loading the C library and the math library runs no code of
    // ours; both are already loaded in this process.
    let libs: Vec<libloading::Library> = ["libc.so.6", "libm.so.6"]
        .iter()
        .map(|n| unsafe { libloading::Library::new(n) }.unwrap_or_else(|e| panic!("{n}: {e}")))
        .collect();
    let provided = |name: &str| {
        libs.iter().any(|l| {
            // SAFETY: only the symbol's address is looked up, never used.
            unsafe { l.get::<*const u8>(name.as_bytes()) }.is_ok()
        })
    };
    let mut failures = Vec::new();
    for t in targets {
        let target = target::lookup(t).expect("a host target");
        for (what, req) in &requests {
            let c = compile(req, target.as_ref()).unwrap_or_else(|e| panic!("{what} for {t}: {e}"));
            for sym in undefined_symbols(&c.binary) {
                if !provided(&sym) {
                    failures.push(format!("{what} for {t} needs `{sym}`"));
                }
            }
        }
    }
    failures
}

#[test]
fn every_element_type_needs_only_libc_and_libm() {
    let failures = symbols_outside_libc_and_libm(&host_targets(), conversion_requests());
    assert!(
        failures.is_empty(),
        "symbols outside libc and libm:\n{}",
        failures.join("\n")
    );
}

/// The examples on the oldest CPU, where the most operations become calls
/// (this machine's CPU only removes calls; its libraries are the examples'
/// every end-to-end test loads with every symbol resolved).
#[test]
fn every_example_needs_only_libc_and_libm() {
    let oldest: Vec<&str> = host_targets().into_iter().skip(1).collect();
    let failures = symbols_outside_libc_and_libm(&oldest, example_requests());
    assert!(
        failures.is_empty(),
        "symbols outside libc and libm:\n{}",
        failures.join("\n")
    );
}

/// Special values and a spread of magnitudes around the 16-bit formats'
/// normal, subnormal and overflow ranges, in both signs.
fn f64_inputs() -> Vec<f64> {
    let mut v = vec![
        0.0,
        1.0,
        65504.0,
        65519.99,
        65520.0,
        1e6,
        f64::INFINITY,
        f64::MAX,
        f64::MIN_POSITIVE,
        6.103_515_625e-5,
        5.960_464_477_539_063e-8,
        2.980_232_238_769_531_3e-8,
        2.980_232_238_769_532e-8,
        3.0e-8,
        1.0e-40,
        3.389_531_389_251_535e38,
        3.4e38,
        1.0 + 2f64.powi(-11),
        1.0 + 2f64.powi(-11) + 2f64.powi(-40),
        1.0 + 2f64.powi(-8),
        1.0 + 2f64.powi(-8) + 2f64.powi(-40),
        1.0 + 3.0 * 2f64.powi(-8),
    ];
    let mut rng = common::Rng(7);
    for _ in 0..400 {
        let e = rng.uniform(-30.0, 20.0);
        v.push(2f64.powf(e) * rng.uniform(1.0, 2.0));
    }
    let negated: Vec<f64> = v.iter().map(|x| -x).collect();
    v.extend(negated);
    v
}

/// The value of the bits of a 16-bit float with `mant` mantissa bits
/// (f16: 10, bf16: 7) and the exponent bias `bias`, computed from the
/// definition (not a conversion under test).
fn value16(h: u16, mant: u32, bias: i32) -> f64 {
    let sign = if h & 0x8000 != 0 { -1.0 } else { 1.0 };
    let e = i32::from((h & 0x7fff) >> mant);
    let m = f64::from(h & ((1 << mant) - 1));
    let max_e = (1 << (15 - mant)) - 1;
    if e == max_e {
        return if m == 0.0 { sign * f64::INFINITY } else { f64::NAN };
    }
    let scale = |k: i32| 2f64.powi(k);
    if e == 0 {
        sign * m * scale(1 - bias - mant as i32)
    } else {
        sign * (1.0 + m * scale(-(mant as i32))) * scale(e - bias)
    }
}

/// The bits of the 16-bit float nearest `x` (ties to the even bits; past
/// the largest finite value by half a step, infinity), by binary search
/// over the ordered positive encodings. Distances between neighbours are
/// exact in f64 (Sterbenz), so the search is exact.
fn nearest16(x: f64, mant: u32, bias: i32) -> u16 {
    if x.is_nan() {
        return 0x7fff;
    }
    let sign = if x.is_sign_negative() { 0x8000u16 } else { 0 };
    let a = x.abs();
    let inf = (((1u32 << (15 - mant)) - 1) << mant) as u16;
    // The would-be value of the infinity encoding: 2^(emax + 1).
    let beyond = 2f64.powi(bias + 1);
    let (mut lo, mut hi) = (0u16, inf);
    // Invariant: value(lo) <= a < value(hi) (value(inf) read as `beyond`).
    let v = |h: u16| if h == inf { beyond } else { value16(h, mant, bias) };
    if a >= beyond {
        return sign | inf;
    }
    while hi - lo > 1 {
        let mid = lo + (hi - lo) / 2;
        if v(mid) <= a {
            lo = mid;
        } else {
            hi = mid;
        }
    }
    let (d_lo, d_hi) = (a - v(lo), v(hi) - a);
    let pick = if d_lo < d_hi || (d_lo == d_hi && lo % 2 == 0) {
        lo
    } else {
        hi
    };
    sign | pick
}

fn nearest_f16(x: f64) -> u16 {
    nearest16(x, 10, 15)
}

fn nearest_bf16(x: f64) -> u16 {
    nearest16(x, 7, 127)
}

fn is_nan16(h: u16, mant: u32) -> bool {
    let inf = (((1u32 << (15 - mant)) - 1) << mant) as u16;
    h & 0x7fff > inf
}

#[test]
fn the_reference_agrees_with_known_values() {
    assert_eq!(nearest_f16(1.0), 0x3c00);
    assert_eq!(nearest_f16(-2.0), 0xc000);
    assert_eq!(nearest_f16(65504.0), 0x7bff);
    assert_eq!(nearest_f16(65519.99), 0x7bff);
    assert_eq!(nearest_f16(65520.0), 0x7c00);
    assert_eq!(nearest_f16(5.960_464_477_539_063e-8), 0x0001);
    assert_eq!(nearest_f16(2f64.powi(-25)), 0x0000);
    assert_eq!(nearest_f16(2f64.powi(-25) * (1.0 + 2f64.powi(-40))), 0x0001);
    assert_eq!(nearest_f16(1.0 + 2f64.powi(-11)), 0x3c00);
    assert_eq!(nearest_f16(1.0 + 3.0 * 2f64.powi(-11)), 0x3c02);
    assert_eq!(nearest_bf16(1.0), 0x3f80);
    assert_eq!(nearest_bf16(3.140_625), 0x4049);
    assert_eq!(nearest_bf16(1.0 + 2f64.powi(-8)), 0x3f80);
    assert_eq!(nearest_bf16(1.0 + 3.0 * 2f64.powi(-8)), 0x3f82);
    assert_eq!(nearest_bf16(f64::MAX), 0x7f80);
    assert_eq!(value16(0x3555, 10, 15), 0.333_251_953_125);
    assert_eq!(value16(0x0001, 10, 15), 2f64.powi(-24));
}

/// Runs `dst = src.to(DST)` on `target` over `input` (raw element bytes).
fn convert(t: &str, src: ScalarType, dst: ScalarType, input: &[u8], n: usize) -> Vec<u8> {
    let text = format!(
        "#[kernel]\nfn k<const B: i32>(x: Ptr<{s}>, o: Ptr<{d}>, n: i32) {{\n    let i = program_id(0) * B + arange(0, B);\n    store(o + i, load(x + i, i < n).to({d}), i < n);\n}}\n",
        s = src.name(),
        d = dst.name()
    );
    let req = request(&text, "k", &[("B", 16)]);
    let target = target::lookup(t).expect("a host target");
    let c = compile(&req, target.as_ref()).unwrap_or_else(|e| panic!("{t}: {e}"));
    let mut args = vec![
        common::buf(input, |b| vec![b]),
        Arg::Buffer(tritonc::launch::HostBuffer::from_bytes(&vec![
            0u8;
            n * dst.bytes() as usize
        ])),
        common::scalar_i32(n as i32),
    ];
    run_cpu(&c, Grid([n.div_ceil(16) as u32, 1, 1]), &mut args, 2).unwrap_or_else(|e| panic!("{t}: {e}"));
    bytes_of(&args[1])[..n * dst.bytes() as usize].to_vec()
}

fn u16s(bytes: &[u8]) -> Vec<u16> {
    bytes.chunks(2).map(|c| u16::from_le_bytes([c[0], c[1]])).collect()
}

/// Equal bits, or both NaN (payloads may differ between CPUs).
fn same(got: u16, want: u16, mant: u32) -> bool {
    got == want || (is_nan16(got, mant) && is_nan16(want, mant))
}

#[test]
fn narrowing_to_16_bit_floats_rounds_to_nearest_even_on_every_cpu() {
    let wide = f64_inputs();
    let mut inputs_f32: Vec<f32> = wide.iter().map(|x| *x as f32).collect();
    inputs_f32.extend([f32::NAN, f32::from_bits(0x7f80_0001), f32::from_bits(0xffc1_2345)]);
    let mut inputs_f64 = wide.clone();
    inputs_f64.extend([f64::NAN, -f64::NAN]);
    for t in host_targets() {
        let bytes: Vec<u8> = inputs_f32.iter().flat_map(|x| x.to_le_bytes()).collect();
        let n = inputs_f32.len();
        let h = u16s(&convert(t, ScalarType::F32, ScalarType::F16, &bytes, n));
        let b = u16s(&convert(t, ScalarType::F32, ScalarType::BF16, &bytes, n));
        for (i, x) in inputs_f32.iter().enumerate() {
            let want = nearest_f16(f64::from(*x));
            assert!(
                same(h[i], want, 10),
                "{t}: f32 {x:e} -> f16 {:#06x}, want {want:#06x}",
                h[i]
            );
            let want = nearest_bf16(f64::from(*x));
            assert!(
                same(b[i], want, 7),
                "{t}: f32 {x:e} -> bf16 {:#06x}, want {want:#06x}",
                b[i]
            );
        }
        let bytes: Vec<u8> = inputs_f64.iter().flat_map(|x| x.to_le_bytes()).collect();
        let n = inputs_f64.len();
        let h = u16s(&convert(t, ScalarType::F64, ScalarType::F16, &bytes, n));
        let b = u16s(&convert(t, ScalarType::F64, ScalarType::BF16, &bytes, n));
        for (i, x) in inputs_f64.iter().enumerate() {
            let want = nearest_f16(*x);
            assert!(
                same(h[i], want, 10),
                "{t}: f64 {x:e} -> f16 {:#06x}, want {want:#06x}",
                h[i]
            );
            let want = nearest_bf16(*x);
            assert!(
                same(b[i], want, 7),
                "{t}: f64 {x:e} -> bf16 {:#06x}, want {want:#06x}",
                b[i]
            );
        }
    }
}

#[test]
fn widening_every_f16_is_exact_on_every_cpu() {
    let all: Vec<u8> = (0..=u16::MAX).flat_map(|h| h.to_le_bytes()).collect();
    let n = 1 << 16;
    for t in host_targets() {
        let f = convert(t, ScalarType::F16, ScalarType::F32, &all, n);
        let d = convert(t, ScalarType::F16, ScalarType::F64, &all, n);
        for h in 0..=u16::MAX {
            let i = h as usize;
            let want = value16(h, 10, 15);
            let got32 = f32::from_le_bytes(f[i * 4..i * 4 + 4].try_into().unwrap());
            let got64 = f64::from_le_bytes(d[i * 8..i * 8 + 8].try_into().unwrap());
            if want.is_nan() {
                assert!(got32.is_nan() && got64.is_nan(), "{t}: f16 {h:#06x} -> not NaN");
            } else {
                // Exact: compare values and the sign of zero.
                assert!(
                    f64::from(got32) == want && got32.is_sign_negative() == want.is_sign_negative(),
                    "{t}: f16 {h:#06x} -> f32 {got32:e}, want {want:e}"
                );
                assert!(
                    got64 == want && got64.is_sign_negative() == want.is_sign_negative(),
                    "{t}: f16 {h:#06x} -> f64 {got64:e}, want {want:e}"
                );
            }
        }
    }
}

/// A host library that needs a function the process lacks is refused when
/// it is loaded, with the function's name, instead of killing the process
/// at the first call (lazy binding).
#[test]
fn a_library_needing_a_missing_function_is_an_error_not_a_crash() {
    use tritonc::codegen::{link, llvm};
    let ctx = inkwell::context::Context::create();
    let ir = "declare void @tritonc_test_missing_function()\n\
              define void @tk_k() {\n  call void @tritonc_test_missing_function()\n  ret void\n}\n";
    let buffer = inkwell::memory_buffer::MemoryBuffer::create_from_memory_range_copy(ir.as_bytes(), "missing");
    let module = ctx.create_module_from_ir(buffer).expect("the IR parses");
    let tm = llvm::host_machine().expect("a host target machine");
    llvm::optimize(&module, &tm).expect("optimizes");
    let object = llvm::emit_object(&module, &tm).expect("emits");
    let so = link::link_shared(&object, link::LinkKind::HostLibrary).expect("links (undefined symbols allowed)");
    assert!(undefined_symbols(&so).contains(&"tritonc_test_missing_function".to_string()));
    let err = tritonc::runtime::cpu::CpuKernel::load(&so, "tk_k").expect_err("the library must be refused");
    assert!(
        err.to_string().contains("tritonc_test_missing_function"),
        "the error names the missing function: {err}"
    );
}
