//! Helpers shared by the end-to-end tests: compile a kernel from source
//! text for the host and run it on the CPU backend.
#![allow(dead_code)]

pub mod gen;

use tritonc::{
    codegen::target::{self, Target},
    codegen::CodegenError,
    driver::{compile, front_end, tile_ir, CompileRequest, Compiled},
    interp::scalar::float_value,
    ir::{Elem, ScalarType},
    launch::{decode_scalar, run_cpu, run_interp as run_interp_module, Arg, HostBuffer},
    runtime::Grid,
    sema::ConstArg,
    syntax::SourceFile,
    Error,
};

pub fn request(src: &str, kernel: &str, consts: &[(&str, i64)]) -> CompileRequest {
    let mut req = CompileRequest::new(SourceFile::new("test.tk", src));
    req.kernel = Some(kernel.to_string());
    req.consts = consts.iter().map(|(k, v)| (k.to_string(), ConstArg::Int(*v))).collect();
    req
}

/// A file of `dsl-examples/`, a kernel in it, and its const values.
pub type Example = (&'static str, &'static str, &'static [(&'static str, i64)]);

/// Every example kernel.
pub const EXAMPLES: &[Example] = &[
    ("vector_add.tk", "add", &[("BLOCK", 1024)]),
    ("elementwise.tk", "activations", &[("BLOCK", 256), ("CLAMP", 1)]),
    ("elementwise.tk", "shifted_sum", &[("BLOCK", 128)]),
    ("softmax.tk", "softmax", &[("BLOCK", 1024)]),
    ("softmax.tk", "softmax_rows", &[("ROWS", 4), ("BLOCK", 256)]),
    ("cumsum.tk", "cumsum_rows", &[("BLOCK", 1024)]),
    ("layer_norm.tk", "layer_norm", &[("BLOCK", 1024)]),
    ("matmul.tk", "matmul", MATMUL_32),
];

/// The other tutorial kernels (not pinned by snapshots).
pub const MORE_EXAMPLES: &[Example] = &[
    ("softmax.tk", "softmax_rows", &[("ROWS", 8), ("BLOCK", 64)]),
    ("layer_norm.tk", "layer_norm_rows", &[("ROWS", 4), ("BLOCK", 256)]),
    ("transpose.tk", "transpose_bias", &[("TILE", 32)]),
    ("cumsum.tk", "cumsum_cols", &[("ROWS", 64), ("COLS", 16)]),
    ("histogram.tk", "histogram", &[("BLOCK", 1024)]),
    ("histogram.tk", "histogram_rows", &[("ROWS", 4), ("BLOCK", 128)]),
    ("dropout.tk", "seeded_dropout", &[("BLOCK", 1024)]),
];

/// The matmul tutorial's constants for 32×32×16 tiles (with the fused
/// activation), as the stage snapshots pin it.
pub const MATMUL_32: &[(&str, i64)] = &[
    ("BLOCK_M", 32),
    ("BLOCK_N", 32),
    ("BLOCK_K", 16),
    ("GROUP_M", 2),
    ("ACTIVATION", 1),
];

/// A request for kernel `kernel` of `dsl-examples/{file}` with these const
/// values (bool consts, declared `: bool`, take 0 or 1).
pub fn example_request(file: &str, kernel: &str, consts: &[(&str, i64)]) -> CompileRequest {
    let path = format!("{}/../../dsl-examples/{file}", env!("CARGO_MANIFEST_DIR"));
    let text = std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{path}: {e}"));
    let mut req = CompileRequest::new(SourceFile::new(file, text.clone()));
    req.kernel = Some(kernel.to_string());
    for (k, v) in consts {
        let value = if text.contains(&format!("const {k}: bool")) {
            ConstArg::Bool(*v != 0)
        } else {
            ConstArg::Int(*v)
        };
        req.consts.insert(k.to_string(), value);
    }
    req
}

pub fn compile_for(src: &str, kernel: &str, consts: &[(&str, i64)], target: &str) -> Result<Compiled, Error> {
    compile_for_request(&request(src, kernel, consts), target)
}

pub fn compile_for_request(req: &CompileRequest, target: &str) -> Result<Compiled, Error> {
    let t = target::lookup(target).expect("known target");
    compile(req, t.as_ref())
}

pub fn host() -> Box<dyn Target> {
    target::lookup("host").expect("host target")
}

/// Where end-to-end tests run: the host (whole blocks as vectors) and the
/// lane simulators of a wave64 and a wave32 GPU (the GPU code path).
pub const TARGETS: [&str; 3] = ["host", "sim:gfx942", "sim:gfx1100"];

/// Compiles for the host and runs; returns the arguments after the run.
/// The same kernel also runs on the lane simulators (gfx1100's only where
/// the emulator does not run gfx1100), whose buffers must equal the host's
/// bit for bit (a target that refuses the kernel, such as f64 `exp` on a
/// GPU, is skipped), its code objects in the machine-code emulator
/// ([`check_on_emu`]), and in the reference interpreter, whose buffers
/// must agree with the host's (see [`assert_agree`]).
pub fn run(src: &str, kernel: &str, consts: &[(&str, i64)], grid: [u32; 3], args: Vec<Arg>) -> Vec<Arg> {
    run_request(request(src, kernel, consts), grid, args)
}

/// [`run`] for a prepared request.
pub fn run_request(req: CompileRequest, grid: [u32; 3], args: Vec<Arg>) -> Vec<Arg> {
    let host = run_host_and_sims(&req, grid, args.clone());
    check_on_emu(&req, grid, &args, &host, "");
    host
}

/// [`run_request`] without the machine-code emulator, for a test that
/// checks the code objects' results against bounds of its own (the GPU's
/// math functions are its own approximations).
pub fn run_host_and_sims(req: &CompileRequest, grid: [u32; 3], args: Vec<Arg>) -> Vec<Arg> {
    let req = req.clone();
    let host = run_with("host", req.clone(), grid, args.clone());
    let interp = run_interp(&req, grid, args.clone());
    assert_agree(&req, &interp, &host, "the host");
    // The gfx1100 lane simulator only where the emulator does not run
    // gfx1100's own code (`run_request` does): the suite's time.
    let emulated = emu_targets();
    for target in TARGETS[1..]
        .iter()
        .filter(|t| !(**t == "sim:gfx1100" && emulated.contains(&"gfx1100")))
    {
        let t = target::lookup(target).expect("known target");
        let c = match compile_deduplicated(&req, t.as_ref()) {
            Ok(c) => c,
            Err(Error::Codegen(tritonc::codegen::CodegenError::Unsupported(_))) => continue,
            Err(e) => panic!("compile for {target} failed:\n{e}"),
        };
        let mut sim = args.clone();
        run_cpu(&c, Grid(grid), &mut sim, 4).unwrap_or_else(|e| panic!("run on {target} failed: {e}"));
        for (i, (h, s)) in host.iter().zip(&sim).enumerate() {
            assert!(h == s, "argument {i}: {target} differs from the host");
        }
    }
    host
}

/// The GPU targets whose code objects the end-to-end tests also run in the
/// machine-code emulator: `TRITONC_EMU_TARGETS` (comma-separated; empty for
/// none), by default all three.
pub fn emu_targets() -> Vec<&'static str> {
    let list = std::env::var("TRITONC_EMU_TARGETS").unwrap_or_else(|_| "gfx942,gfx90a,gfx1100".into());
    ["gfx942", "gfx90a", "gfx1100"]
        .into_iter()
        .filter(|t| list.split(',').any(|x| x.trim() == *t))
        .collect()
}

/// Compiles `req` for every [`emu_targets`] target and runs the code object
/// in the machine-code emulator on `args`: every buffer must agree with
/// `reference` (the host's, which the lane simulators equal bit for bit):
/// integers bit for bit, floats by [`floats_agree`] (a GPU's `exp` and
/// division are its own approximations). A target that refuses the kernel
/// (f64 `exp` on a GPU) is skipped. `what` names the check in failures.
pub fn check_on_emu(req: &CompileRequest, grid: [u32; 3], args: &[Arg], reference: &[Arg], what: &str) {
    for t in emu_targets() {
        let Some(out) = run_on_emu(t, req, grid, args.to_vec()) else {
            continue;
        };
        assert_agree(req, reference, &out, &format!("the emulator ({t}){what}"));
    }
}

/// Compiles `req` for the GPU target `t` and runs its code object in the
/// machine-code emulator; `None` when the target refuses the kernel.
pub fn run_on_emu(t: &str, req: &CompileRequest, grid: [u32; 3], mut args: Vec<Arg>) -> Option<Vec<Arg>> {
    let tgt = target::lookup(t).expect("known target");
    let c = match compile_deduplicated(req, tgt.as_ref()) {
        Ok(c) => c,
        Err(Error::Codegen(CodegenError::Unsupported(_))) => return None,
        Err(e) => panic!("compile for {t} failed:\n{e}"),
    };
    let stats = tritonc::launch::run_emu(&c, Grid(grid), &mut args)
        .unwrap_or_else(|e| panic!("run in the emulator for {t} failed: {e}"));
    assert_eq!(
        stats.uninitialized_reads, 0,
        "{t}: registers read before anything wrote them: {:#?}",
        stats.reports
    );
    Some(args)
}

/// Runs the kernel's unoptimized tile IR in the reference interpreter.
pub fn run_interp(req: &CompileRequest, grid: [u32; 3], mut args: Vec<Arg>) -> Vec<Arg> {
    let (module, kernel) = tile_ir(req).unwrap_or_else(|e| panic!("front end failed:\n{e}"));
    run_interp_module(&req.file, &module, &kernel, Grid(grid), &mut args)
        .unwrap_or_else(|e| panic!("the interpreter failed:\n{e}"));
    args
}

/// How far a float computed by compiled code may be from the
/// interpreter's, relative to the larger magnitude: math functions are
/// few-ulp approximations on the back ends and correctly rounded in the
/// interpreter, and a difference can grow through later arithmetic.
pub fn float_tolerance(s: ScalarType) -> f64 {
    match s {
        ScalarType::F16 | ScalarType::BF16 => 1e-2,
        ScalarType::F32 => 2e-5,
        _ => 1e-12,
    }
}

/// Whether two floats agree: the same bits, both NaN, or within
/// [`float_tolerance`] relative to the larger magnitude (with an absolute
/// floor of the tolerance times the type's smallest normal, for values
/// that cancel to near zero).
pub fn floats_agree(s: ScalarType, a: f64, b: f64) -> bool {
    if a.is_nan() || b.is_nan() {
        return a.is_nan() && b.is_nan();
    }
    if a == b {
        return true;
    }
    let tol = float_tolerance(s);
    (a - b).abs() <= tol * a.abs().max(b.abs()).max(1e-6)
}

/// Asserts that every buffer of `other` agrees with the interpreter's:
/// integers bit for bit, floats by [`floats_agree`].
pub fn assert_agree(req: &CompileRequest, interp: &[Arg], other: &[Arg], what: &str) {
    let (module, kernel) = tile_ir(req).expect("front end");
    let f = module.function(&kernel).expect("kernel");
    for (i, p) in f.params().iter().enumerate() {
        let Elem::Ptr(s) = f.ty(*p).elem else { continue };
        let (a, b) = (bytes_of(&interp[i]), bytes_of(&other[i]));
        assert_eq!(a.len(), b.len());
        let n = s.bytes() as usize;
        for (k, (x, y)) in a.chunks(n).zip(b.chunks(n)).enumerate() {
            if x == y {
                continue;
            }
            let value = |c: &[u8]| {
                let mut w = [0u8; 8];
                w[..n].copy_from_slice(c);
                float_value(s, u64::from_le_bytes(w))
            };
            assert!(
                s.is_float() && floats_agree(s, value(x), value(y)),
                "`{}`[{k}] ({s}): the reference has {}, {what} has {}",
                f.param_names[i],
                decode_scalar(x, s),
                decode_scalar(y, s)
            );
        }
    }
}

/// Compiles for `target` (the host or a lane simulator) and runs.
pub fn run_on(
    target: &str,
    src: &str,
    kernel: &str,
    consts: &[(&str, i64)],
    grid: [u32; 3],
    args: Vec<Arg>,
) -> Vec<Arg> {
    run_with(target, request(src, kernel, consts), grid, args)
}

/// Compiles `req` for `target` and runs.
pub fn run_with(target: &str, req: CompileRequest, grid: [u32; 3], mut args: Vec<Arg>) -> Vec<Arg> {
    let t = target::lookup(target).expect("known target");
    let c = compile_deduplicated(&req, t.as_ref()).unwrap_or_else(|e| panic!("compile for {target} failed:\n{e}"));
    run_cpu(&c, Grid(grid), &mut args, 4).unwrap_or_else(|e| panic!("run on {target} failed: {e}"));
    args
}

pub fn buf<T: Copy>(data: &[T], to_bytes: impl Fn(T) -> Vec<u8>) -> Arg {
    let bytes: Vec<u8> = data.iter().flat_map(|x| to_bytes(*x)).collect();
    Arg::Buffer(HostBuffer::from_bytes(&bytes))
}

pub fn f32s(data: &[f32]) -> Arg {
    buf(data, |x| x.to_le_bytes().to_vec())
}

pub fn i32s(data: &[i32]) -> Arg {
    buf(data, |x| x.to_le_bytes().to_vec())
}

pub fn scalar_i32(v: i32) -> Arg {
    Arg::Scalar(v as u32 as u64)
}

pub fn scalar_f32(v: f32) -> Arg {
    Arg::Scalar(u64::from(v.to_bits()))
}

pub fn bytes_of(a: &Arg) -> Vec<u8> {
    match a {
        Arg::Buffer(b) => b.bytes(),
        Arg::Scalar(_) => panic!("not a buffer"),
    }
}

pub fn as_f32(a: &Arg) -> Vec<f32> {
    bytes_of(a)
        .chunks(4)
        .map(|c| f32::from_le_bytes([c[0], c[1], c[2], c[3]]))
        .collect()
}

pub fn as_f64(a: &Arg) -> Vec<f64> {
    bytes_of(a)
        .chunks(8)
        .map(|c| f64::from_le_bytes(c.try_into().unwrap()))
        .collect()
}

pub fn as_i32(a: &Arg) -> Vec<i32> {
    bytes_of(a)
        .chunks(4)
        .map(|c| i32::from_le_bytes([c[0], c[1], c[2], c[3]]))
        .collect()
}

/// A deterministic pseudo-random sequence (splitmix64).
pub struct Rng(pub u64);

impl Rng {
    pub fn next_u64(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9e37_79b9_7f4a_7c15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        z ^ (z >> 31)
    }

    /// Uniform in [lo, hi).
    pub fn uniform(&mut self, lo: f64, hi: f64) -> f64 {
        lo + (hi - lo) * ((self.next_u64() >> 11) as f64 / (1u64 << 53) as f64)
    }
}

/// The inclusive scan in the language's order: at level `j`, every element
/// whose index has bit `j` set gets, on its left, the element with that bit
/// cleared and the bits below set.
pub fn scan<T: Copy>(xs: &[T], c: impl Fn(T, T) -> T) -> Vec<T> {
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

/// Distance in units in the last place between two f32 values.
pub fn ulp_diff_f32(a: f32, b: f32) -> u64 {
    if a.is_nan() && b.is_nan() {
        return 0;
    }
    if a == b {
        return 0;
    }
    let key = |x: f32| {
        let i = x.to_bits() as i32;
        if i < 0 {
            i64::from(i32::MIN) - i64::from(i)
        } else {
            i64::from(i)
        }
    };
    (key(a) - key(b)).unsigned_abs()
}

/// Pipelines to check: the default, each optional pass off, all off.
pub const VARIANTS: &[&[&str]] = &[
    &[],
    &["fold"],
    &["remat"],
    &["loop_ptrs"],
    &["pipeline"],
    &["cse"],
    &["dce"],
    &["fold", "remat", "loop_ptrs", "pipeline", "cse", "dce"],
];

/// [`compile`] through one cache per test process: the same kernel run
/// with other runtime arguments, or a pass pipeline that leaves its tile IR
/// the same (a pass with nothing to do), is compiled once (the key is the
/// optimized tile IR, target and options, not the list of passes).
pub fn compile_deduplicated(req: &CompileRequest, t: &dyn Target) -> Result<Compiled, Error> {
    static CACHE: std::sync::OnceLock<tritonc::cache::Cache> = std::sync::OnceLock::new();
    let cache = CACHE.get_or_init(tritonc::cache::Cache::in_memory);
    tritonc::driver::compile_cached(req, t, cache, &mut Vec::new()).map(|(c, _)| c)
}

/// Checks one kernel with one set of arguments; `what` names it in failures.
pub fn differential_check(base: &CompileRequest, grid: [u32; 3], args: Vec<Arg>, what: &str) {
    let oracle = run_interp(base, grid, args.clone());
    for (i, variant) in VARIANTS.iter().enumerate() {
        let mut req = base.clone();
        req.disabled_passes = variant.iter().map(|s| s.to_string()).collect();
        let pipeline = if variant.is_empty() {
            "the default pipeline".to_string()
        } else {
            format!("--disable-pass {}", variant.join(","))
        };
        let (module, _, kernel) = front_end(&req).unwrap_or_else(|e| panic!("{what}: front end failed:\n{e}"));
        let mut after = args.clone();
        run_interp_module(&req.file, &module, &kernel, Grid(grid), &mut after)
            .unwrap_or_else(|e| panic!("{what}: the interpreter failed after passes ({pipeline}):\n{e}"));
        for (k, (a, b)) in oracle.iter().zip(&after).enumerate() {
            if let (Arg::Buffer(_), Arg::Buffer(_)) = (a, b) {
                assert!(
                    bytes_of(a) == bytes_of(b),
                    "{what}: argument {k} differs in the interpreter after the passes ({pipeline})"
                );
            }
        }
        // The lane simulators take the default pipeline and the one with
        // every optional pass off; the host takes them all.
        let targets: &[&str] = if i == 0 || i == VARIANTS.len() - 1 {
            &TARGETS
        } else {
            &TARGETS[..1]
        };
        for t in targets {
            let tgt = target::lookup(t).expect("known target");
            let c = match compile_deduplicated(&req, tgt.as_ref()) {
                Ok(c) => c,
                Err(Error::Codegen(CodegenError::Unsupported(_))) => continue,
                Err(e) => panic!("{what}: compiling for {t} ({pipeline}) failed:\n{e}"),
            };
            let mut out = args.clone();
            run_cpu(&c, Grid(grid), &mut out, 4).unwrap_or_else(|e| panic!("{what}: run on {t} failed: {e}"));
            assert_agree(&req, &oracle, &out, &format!("{t} ({pipeline}) for {what}"));
        }
        // The default pipeline's code objects in the machine-code emulator.
        if i == 0 {
            check_on_emu(&req, grid, &args, &oracle, &format!(" for {what}"));
        }
    }
}

/// Runs a generated kernel through [`differential_check`].
pub fn check_generated(k: &gen::GenKernel, name: &str) {
    let mut req = CompileRequest::new(SourceFile::new(name, k.source.clone()));
    req.kernel = Some("fuzz".into());
    let (red_rows, red_cols) = k.red_lens();
    let args = vec![
        f32s(&k.xf),
        i32s(&k.xi),
        f32s(&vec![0.0; k.len()]),
        i32s(&vec![0; k.len()]),
        f32s(&vec![0.0; red_rows]),
        i32s(&vec![0; red_cols.max(k.grid as usize)]),
        i32s(&[0; 8]),
        scalar_i32(k.n),
        scalar_i32(k.k),
        scalar_f32(k.s),
    ];
    differential_check(&req, [k.grid, 1, 1], args, &format!("{name}:\n{}\n", k.source));
}
