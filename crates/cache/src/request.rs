//! What a compilation is asked for ([`CompileRequest`]) and what it gives
//! ([`Compiled`]): plain data, shared by the compiler (`driver`, behind the
//! `compiler` feature) and by what launches kernels without one (bundles,
//! the cache).

use std::{collections::BTreeMap, time::Duration};
use tritonc_sema::ConstArg;
use tritonc_syntax::SourceFile;

/// What to compile and how.
#[derive(Debug, Clone)]
pub struct CompileRequest {
    pub file: SourceFile,
    /// The kernel to compile; `None` when the file has exactly one.
    pub kernel: Option<String>,
    pub consts: BTreeMap<String, ConstArg>,
    /// Overrides of the kernel's `num_warps` / `num_stages` attributes.
    pub num_warps: Option<u32>,
    pub num_stages: Option<u32>,
    /// AMDGPU code object version (4, 5 or 6).
    pub code_object_version: u32,
    /// Pointer and integer parameters known to be divisible by 16 (pointers:
    /// 16-byte aligned), as Triton's JIT learns at launch.
    pub divisible: Divisible,
    /// Integer parameters specialized to known values.
    pub assume: BTreeMap<String, i64>,
    /// Every buffer passed is smaller than 4 GiB (Triton's
    /// `pointer_range = 32`): enables 32-bit offsets from a scalar base.
    pub small_buffers: bool,
    /// Optional passes to leave out (`--disable-pass`), for bisecting a
    /// suspected miscompile and for the differential tests.
    pub disabled_passes: Vec<String>,
    /// Also write the machine code as assembly text (stage `8-*.s`, what
    /// `--emit` shows). Off by default: it runs LLVM's code generator a
    /// second time, which for host code is most of a compile.
    pub assembly: bool,
}

/// Which parameters are divisible by 16.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub enum Divisible {
    #[default]
    None,
    /// Every pointer and integer parameter.
    All,
    Named(Vec<String>),
}

impl CompileRequest {
    pub fn new(file: SourceFile) -> CompileRequest {
        CompileRequest {
            file,
            kernel: None,
            consts: BTreeMap::new(),
            num_warps: None,
            num_stages: None,
            code_object_version: 5,
            divisible: Divisible::None,
            assume: BTreeMap::new(),
            small_buffers: false,
            disabled_passes: Vec::new(),
            assembly: false,
        }
    }
}

/// One intermediate form, by name, in the order produced.
#[derive(Debug, Clone)]
pub struct Stage {
    /// File name used by `--emit` (e.g. `1-tile.mlir`).
    pub file_name: String,
    pub contents: Vec<u8>,
}

/// The result of a compilation.
#[derive(Debug, Clone)]
pub struct Compiled {
    pub kernel: String,
    /// Parameter names and types, in order.
    pub params: Vec<(String, tritonc_ir::Type)>,
    /// The messages of `device_assert`s, by id (1-based in generated code).
    pub assert_messages: Vec<String>,
    pub num_warps: u32,
    /// Lanes per program (1 on the host).
    pub lanes: u32,
    /// Shared memory (LDS) bytes per program; lanes exchange data when > 0.
    pub shared_bytes: u32,
    pub target: String,
    pub stages: Vec<Stage>,
    pub timings: Vec<(String, Duration)>,
    /// The loadable artifact: a `.hsaco` on AMDGPU, a shared library on the host.
    pub binary: Vec<u8>,
}

impl CompileRequest {
    /// The kernel asked for: the named one, else the file's only kernel
    /// (found by parsing, which needs no compiler), else a placeholder that
    /// no kernel is named (compiling then reports why).
    pub fn kernel_name(&self) -> String {
        if let Some(k) = &self.kernel {
            return k.clone();
        }
        match tritonc_syntax::parse(&self.file) {
            Ok(ast) => {
                let names: Vec<&str> = ast.kernels().map(|k| k.name.name.as_str()).collect();
                match names.as_slice() {
                    [one] => one.to_string(),
                    _ => "(not one kernel)".into(),
                }
            }
            Err(_) => "(does not parse)".into(),
        }
    }
}

/// The names of the parts of a cache key of optimized tile IR, in order.
pub const KEY_PART_NAMES: &[&str] = &[
    "compiler", "llvm", "lld", "kernel", "target", "triple", "cpu", "options", "ir",
];

/// The names of the parts of a request key, in order.
pub const REQUEST_KEY_PART_NAMES: &[&str] = &["request", "source", "kernel", "consts", "options", "target", "machine"];

/// The name of the first part of every request key: no key of optimized
/// tile IR (whose first part is `compiler`) can equal one.
pub const REQUEST_KEY_FIRST: &str = "request";

impl CompileRequest {
    /// What identifies this compilation for the target named `target`
    /// before anything is compiled: this build of tritonc and the LLVM it
    /// was built with, the source text (its SHA-256), the kernel, the const
    /// values and every option. Computed without the compiler, so that a
    /// program without it (and a compiler before its front end runs) finds
    /// kernels in bundles and in the cache by it. The host target (`host`,
    /// the CPU this runs on) also names the CPU's features, so that code
    /// built for another CPU is never taken for this one.
    pub fn request_key(&self, target: &str) -> crate::cache::KeyParts {
        use sha2::Digest;
        let target = canonical_target(target);
        let consts = self.const_settings();
        let source: String = sha2::Sha256::digest(self.file.text.as_bytes())
            .iter()
            .map(|b| format!("{b:02x}"))
            .collect();
        let machine = if target == "host" {
            host_cpu_features()
        } else {
            String::new()
        };
        crate::cache::KeyParts(vec![
            (REQUEST_KEY_FIRST, build_identity()),
            ("source", source),
            ("kernel", self.kernel_name()),
            ("consts", consts.join(",")),
            ("options", self.options_text()),
            ("target", target.to_string()),
            ("machine", machine),
        ])
    }
}

impl CompileRequest {
    /// The const values as `NAME=VALUE`, in name order.
    pub fn const_settings(&self) -> Vec<String> {
        self.consts
            .iter()
            .map(|(name, value)| match value {
                ConstArg::Int(v) => format!("{name}={v}"),
                ConstArg::Bool(b) => format!("{name}={b}"),
            })
            .collect()
    }

    /// The options that differ from the defaults, as keys and messages
    /// spell them (`num_warps=8, divisible=n,x`), or `default options`.
    pub fn options_text(&self) -> String {
        let mut v = Vec::new();
        v.extend(self.num_warps.map(|w| format!("num_warps={w}")));
        v.extend(self.num_stages.map(|s| format!("num_stages={s}")));
        if self.code_object_version != 5 {
            v.push(format!("code_object={}", self.code_object_version));
        }
        match normalized(&self.divisible) {
            Divisible::None => {}
            Divisible::All => v.push("divisible=all".into()),
            Divisible::Named(names) => v.push(format!("divisible={}", names.join(","))),
        }
        if !self.assume.is_empty() {
            let a: Vec<String> = self.assume.iter().map(|(k, x)| format!("{k}={x}")).collect();
            v.push(format!("assume={}", a.join(",")));
        }
        if self.small_buffers {
            v.push("small_buffers".into());
        }
        if !self.disabled_passes.is_empty() {
            v.push(format!("disabled={}", self.disabled_passes.join(",")));
        }
        if self.assembly {
            v.push("assembly".into());
        }
        if v.is_empty() {
            "default options".into()
        } else {
            v.join(", ")
        }
    }
}

/// Divisibility as keys spell it: named parameters in sorted order (a
/// launch names them in parameter order, a command line in any).
fn normalized(d: &Divisible) -> Divisible {
    match d {
        Divisible::Named(names) => {
            let mut names = names.clone();
            names.sort();
            names.dedup();
            Divisible::Named(names)
        }
        other => other.clone(),
    }
}

/// `NAME=VALUE` items of the flag `flag` (`--const`, `--assume`), each
/// name at most once, every value read by `value(name, text)`.
fn parse_named<T>(
    flag: &str,
    items: &[String],
    value: impl Fn(&str, &str) -> Result<T, String>,
) -> Result<BTreeMap<String, T>, String> {
    let mut out = BTreeMap::new();
    for item in items {
        let (k, v) = item
            .split_once('=')
            .ok_or_else(|| format!("{flag} expects NAME=VALUE, found `{item}`"))?;
        if out.insert(k.to_string(), value(k, v)?).is_some() {
            return Err(format!("{flag} {k} is given twice"));
        }
    }
    Ok(out)
}

/// `--const NAME=VALUE` items (an integer, `true` or `false`), as the
/// `tritonc` program's flags give them; the error says which item is wrong.
pub fn parse_consts(items: &[String]) -> Result<BTreeMap<String, ConstArg>, String> {
    parse_named("--const", items, |k, v| match v {
        "true" => Ok(ConstArg::Bool(true)),
        "false" => Ok(ConstArg::Bool(false)),
        _ => v
            .parse::<i64>()
            .map(ConstArg::Int)
            .map_err(|_| format!("--const {k}: `{v}` is not an integer or bool")),
    })
}

/// `--divisible`: `all`, or names separated by commas.
pub fn parse_divisible(flag: Option<&str>) -> Divisible {
    match flag {
        None => Divisible::None,
        Some("all") => Divisible::All,
        Some(list) => Divisible::Named(list.split(',').map(|s| s.trim().to_string()).collect()),
    }
}

/// `--assume NAME=VALUE` items (integers).
pub fn parse_assumes(items: &[String]) -> Result<BTreeMap<String, i64>, String> {
    parse_named("--assume", items, |k, v| {
        v.parse::<i64>()
            .map_err(|_| format!("--assume {k}: `{v}` is not an integer"))
    })
}

/// This build's version and the hash of its sources (a key part of every
/// cache entry).
pub fn compiler_version() -> String {
    format!("{} {}", env!("CARGO_PKG_VERSION"), env!("TRITONC_BUILD_HASH"))
}

/// This build of tritonc: its version, the hash of its sources and the
/// LLVM it was built against (bundles and request keys carry it).
pub fn build_identity() -> String {
    format!(
        "tritonc {} build {} llvm {}",
        env!("CARGO_PKG_VERSION"),
        env!("TRITONC_BUILD_HASH"),
        env!("TRITONC_LLVM_VERSION")
    )
}

/// A target's name as keys spell it (`cpu` is `host`).
pub fn canonical_target(name: &str) -> &str {
    if name == "cpu" {
        "host"
    } else {
        name
    }
}

/// The features of this machine's CPU that code generation may use, as
/// the CPU reports them (cpuid on x86-64), without LLVM.
pub fn host_cpu_features() -> String {
    #[cfg(target_arch = "x86_64")]
    {
        macro_rules! detected {
            ($($f:tt),*) => {{
                let mut v: Vec<&str> = Vec::new();
                $(if std::arch::is_x86_feature_detected!($f) { v.push($f); })*
                v
            }};
        }
        let found = detected!(
            "sse3",
            "ssse3",
            "sse4.1",
            "sse4.2",
            "popcnt",
            "avx",
            "avx2",
            "fma",
            "f16c",
            "bmi1",
            "bmi2",
            "lzcnt",
            "movbe",
            "avx512f",
            "avx512bw",
            "avx512cd",
            "avx512dq",
            "avx512vl",
            "avx512bf16",
            "avx512fp16",
            "avx512vnni",
            "avx512vbmi",
            "avx512vbmi2",
            "avx512bitalg",
            "avx512vpopcntdq",
            "avx512ifma",
            "avxvnni",
            "gfni",
            "vaes",
            "vpclmulqdq",
            "sha",
            "adx"
        );
        format!("x86_64 {}", found.join(","))
    }
    #[cfg(not(target_arch = "x86_64"))]
    {
        std::env::consts::ARCH.to_string()
    }
}

/// The targets whose bundle entries a launch on `target` may take, in
/// order: the target itself, and on the host (this CPU) then the portable
/// levels it runs, most capable first.
pub fn bundle_targets(target: &str) -> Vec<&str> {
    let target = canonical_target(target);
    let mut targets = vec![target];
    if target == "host" {
        targets.extend(host_levels_supported());
    }
    targets
}

/// The portable host targets this machine can run, most capable first
/// (`host:x86-64-v4` .. `host:x86-64`): where a launch on the CPU backend
/// also looks in bundles, which are usually made for a level rather than
/// for one machine.
pub fn host_levels_supported() -> Vec<&'static str> {
    #[cfg(target_arch = "x86_64")]
    {
        macro_rules! all {
            ($($f:tt),*) => { true $(&& std::arch::is_x86_feature_detected!($f))* };
        }
        let v2 = all!("sse3", "ssse3", "sse4.1", "sse4.2", "popcnt");
        let v3 = v2 && all!("avx", "avx2", "bmi1", "bmi2", "f16c", "fma", "lzcnt", "movbe");
        let v4 = v3 && all!("avx512f", "avx512bw", "avx512cd", "avx512dq", "avx512vl");
        let mut levels = Vec::new();
        if v4 {
            levels.push("host:x86-64-v4");
        }
        if v3 {
            levels.push("host:x86-64-v3");
        }
        if v2 {
            levels.push("host:x86-64-v2");
        }
        levels.push("host:x86-64");
        levels
    }
    #[cfg(not(target_arch = "x86_64"))]
    {
        Vec::new()
    }
}
