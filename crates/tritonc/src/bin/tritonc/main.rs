//! `tritonc`: check, compile and run `.tk` kernels.

mod bundle;
mod emu;

use bundle::{bundle_command, BundleOpts};
use clap::{Parser, Subcommand, ValueEnum};
use emu::{emu_command, EmuOpts};
use std::{path::PathBuf, process::ExitCode, time::Instant};
use tritonc::{
    codegen::target::{self, AMD_GPUS},
    driver::{self, CompileRequest, Compiled},
    launch::{self, Arg, HostBuffer},
    npy,
    runtime::{Grid, RuntimeError},
    sema::ConstArg,
    syntax::{Diagnostic, Diagnostics, SourceFile, Span},
    Error,
};

#[derive(Parser)]
#[command(name = "tritonc", version, about = "A Triton-style kernel compiler for AMD GPUs")]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(clap::Args, Clone)]
struct KernelOpts {
    /// The `.tk` file.
    file: PathBuf,
    /// The kernel to use (may be left out when the file has one).
    #[arg(long)]
    kernel: Option<String>,
    /// A const generic value, `NAME=VALUE` (repeatable).
    #[arg(long = "const", value_name = "NAME=VALUE")]
    consts: Vec<String>,
    /// Override the kernel's `num_warps`.
    #[arg(long)]
    num_warps: Option<u32>,
    /// Override the kernel's `num_stages` (1: no software pipelining; N:
    /// loops feeding `dot` load N - 1 iterations ahead).
    #[arg(long)]
    num_stages: Option<u32>,
    /// Print the time of every stage.
    #[arg(long)]
    timings: bool,
    /// Write every stage (tile IR, MLIR, LLVM IR, assembly, binary) to DIR.
    #[arg(long, value_name = "DIR")]
    emit: Option<PathBuf>,
    /// Pointer/integer parameters divisible by 16 (pointers 16-byte aligned):
    /// `NAME[,NAME..]` or `all`. Enables 128-bit memory accesses.
    #[arg(long, value_name = "NAMES|all")]
    divisible: Option<String>,
    /// Specialize an integer parameter to a known value, `NAME=VALUE` (repeatable).
    #[arg(long, value_name = "NAME=VALUE")]
    assume: Vec<String>,
    /// Promise that every buffer passed is smaller than 4 GiB (as Triton's
    /// JIT learns at launch); lets AMDGPU use 32-bit offsets from a scalar base.
    #[arg(long)]
    small_buffers: bool,
    /// Compile even if the kernel cache has the result (and do not store it).
    #[arg(long)]
    no_cache: bool,
    /// Leave out an optional pass (`fold`, `remat`, `loop_ptrs`, `pipeline`, `cse`, `dce`; repeatable), to
    /// find the pass behind a suspected miscompile.
    #[arg(long = "disable-pass", value_name = "PASS")]
    disable_passes: Vec<String>,
}

/// A kernel's name and parameters: what binding arguments needs.
struct Signature<'a> {
    kernel: &'a str,
    params: &'a [(String, tritonc::ir::Type)],
}

#[derive(Copy, Clone, PartialEq, Eq, ValueEnum)]
enum Backend {
    /// The host CPU, whole blocks as vectors.
    Cpu,
    /// An AMD GPU through HIP.
    Hip,
    /// The `--target` GPU's lanes simulated on the host (checks GPU code paths).
    Sim,
    /// The `--target` GPU's code object run in the machine-code emulator
    /// (gfx942, gfx90a or gfx1100; default gfx942): what LLVM's AMDGPU back
    /// end made of the kernel, instruction by instruction.
    Emu,
    /// The reference interpreter of tile IR: slow, no compilation, every
    /// memory access checked against its buffer (reports the source line).
    Interp,
}

#[derive(Subcommand)]
enum Command {
    /// Parse and type-check a file (kernels whose consts are given are checked fully).
    Check {
        file: PathBuf,
        #[arg(long = "const", value_name = "NAME=VALUE")]
        consts: Vec<String>,
    },
    /// Compile a kernel to a code object.
    Compile {
        #[command(flatten)]
        opts: KernelOpts,
        /// The target: a gfx architecture (see `tritonc targets`) or `host`.
        #[arg(long, default_value = "gfx942")]
        target: String,
        /// Output file (default: KERNEL.hsaco, or KERNEL.so for the host).
        #[arg(short = 'o', long)]
        output: Option<PathBuf>,
        /// AMDGPU code object version.
        #[arg(long, default_value_t = 5)]
        code_object_version: u32,
    },
    /// Compile and run a kernel on the CPU backend or an AMD GPU.
    Run {
        #[command(flatten)]
        opts: KernelOpts,
        #[arg(long, value_enum, default_value = "cpu")]
        backend: Backend,
        /// The gfx target for `--backend hip` (default: the GPU's own),
        /// `--backend sim` and `--backend emu` (default: gfx942).
        #[arg(long)]
        target: Option<String>,
        /// Programs along each axis: X[,Y[,Z]].
        #[arg(long)]
        grid: String,
        /// `NAME=@file.npy` for a pointer, `NAME=VALUE` for a scalar (repeatable).
        #[arg(long = "arg", value_name = "NAME=VALUE")]
        args: Vec<String>,
        /// `NAME=file.npy`: write that buffer after the run (repeatable).
        #[arg(long = "out", value_name = "NAME=FILE")]
        outs: Vec<String>,
        /// Host threads for the CPU backend (default: all cores).
        #[arg(long)]
        threads: Option<usize>,
        /// Take the kernel from this bundle (`tritonc bundle`) and never
        /// compile: a kernel the bundle lacks is an error (exit 2).
        #[arg(long, value_name = "FILE.tkb")]
        bundle: Option<PathBuf>,
    },
    /// Compile every kernel x const set x target into one bundle file, which
    /// `run --bundle` and programs without the compiler launch from.
    Bundle(BundleOpts),
    /// Run an AMDGPU code object (any compiler's) in the machine-code
    /// emulator, its arguments in the kernel's order.
    Emu(EmuOpts),
    /// List what a bundle holds.
    BundleInfo { file: PathBuf },
    /// List the targets this compiler knows.
    Targets,
    /// Inspect or clear the kernel cache.
    Cache {
        #[command(subcommand)]
        action: CacheAction,
    },
    /// Make or show `.npy` files (inputs for `tritonc run`).
    Npy {
        #[command(subcommand)]
        action: NpyAction,
    },
}

#[derive(Subcommand)]
enum CacheAction {
    /// Every entry: kernel, target, size.
    List,
    /// Remove every entry.
    Clear,
    /// Where the cache is, how many entries, how many bytes.
    Stats,
}

#[derive(Subcommand)]
enum NpyAction {
    /// Write a 1-D array: `--arange` (0, 1, 2, ..), `--fill V`, or `--random SEED` (uniform in [-1, 1) for floats, [-100, 100) for ints).
    Create {
        file: PathBuf,
        #[arg(long)]
        dtype: String,
        #[arg(long)]
        len: usize,
        #[arg(long, conflicts_with_all = ["fill", "random"])]
        arange: bool,
        #[arg(long, allow_hyphen_values = true)]
        fill: Option<f64>,
        #[arg(long)]
        random: Option<u64>,
    },
    /// Print an array's dtype, shape and its first and last elements.
    Show { file: PathBuf },
}

/// Lets a closed pipe end the process quietly (`tritonc targets | head -1`),
/// as it does other command-line tools: Rust ignores SIGPIPE, so printing
/// to a closed pipe would panic.
fn default_sigpipe() {
    #[cfg(unix)]
    {
        extern "C" {
            fn signal(signum: i32, handler: usize) -> usize;
        }
        const SIGPIPE: i32 = 13;
        const SIG_DFL: usize = 0;
        // SAFETY: resets one signal's disposition to the default before any
        // thread is started; no handler code is installed.
        unsafe {
            signal(SIGPIPE, SIG_DFL);
        }
    }
}

fn main() -> ExitCode {
    default_sigpipe();
    let cli = Cli::parse();
    // On a terminal, a compilation (seconds, for some kernels) says what
    // it compiles and how long it took, as `TRITONC_LOG=compile` does.
    if std::io::IsTerminal::is_terminal(&std::io::stderr()) {
        tritonc::driver::report_compiles(true);
    }
    match run(cli.command) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("{}", render(&e));
            ExitCode::from(exit_code(&e))
        }
    }
}

fn render(e: &Error) -> String {
    match e {
        Error::Diagnostics(d) => d.rendered(),
        other => format!("error: {other}"),
    }
}

/// 1: the kernel is wrong (or failed an assert); 2: the command line or the
/// machine is (usage, files, no device); 3: a compiler bug.
fn exit_code(e: &Error) -> u8 {
    match e {
        Error::Diagnostics(_) | Error::Runtime(RuntimeError::Assert { .. }) => 1,
        Error::Usage(_)
        | Error::Io(_)
        | Error::Bundle(_)
        | Error::NotCompiled(_)
        | Error::Runtime(RuntimeError::NoDevice(_))
        // The machine lacks something a library needs (a symbol, a file).
        | Error::Runtime(RuntimeError::Load(_)) => 2,
        Error::Codegen(
            tritonc::codegen::CodegenError::Unsupported(_) | tritonc::codegen::CodegenError::UnknownTarget(_),
        ) => 2,
        Error::Codegen(tritonc::codegen::CodegenError::Link(_)) => 2,
        // A fault of the kernel (an access out of bounds, a runaway loop):
        // the kernel is wrong; what the emulator cannot run is its limit.
        Error::Emulator(tritonc::emu::EmuError::Fault { .. }) => 1,
        Error::Emulator(
            tritonc::emu::EmuError::Unimplemented { .. }
            | tritonc::emu::EmuError::CodeObject(_)
            | tritonc::emu::EmuError::Launch(_),
        ) => 2,
        _ => 3,
    }
}

fn read_source(path: &PathBuf) -> Result<SourceFile, Error> {
    let bytes = std::fs::read(path).map_err(|e| Error::Io(format!("cannot read {}: {e}", path.display())))?;
    let name = path.display().to_string();
    match String::from_utf8(bytes) {
        Ok(text) => Ok(SourceFile::new(name, text)),
        Err(e) => Err(not_utf8(name, &e)),
    }
}

/// A kernel file that is not UTF-8: a diagnostic at its first invalid byte,
/// whose line and column count the valid text before it (shown with the
/// invalid bytes replaced).
fn not_utf8(name: String, e: &std::string::FromUtf8Error) -> Error {
    let bytes = e.as_bytes();
    let at = e.utf8_error().valid_up_to();
    let byte = bytes.get(at).copied().unwrap_or_default();
    // The text before `at` is unchanged by the lossy conversion, so `at`
    // is where U+FFFD (3 bytes) stands for the invalid sequence.
    let text = String::from_utf8_lossy(bytes).into_owned();
    Error::Diagnostics(Diagnostics {
        file: SourceFile::new(name, text),
        items: vec![Diagnostic::new(
            Span::new(at, at + '\u{fffd}'.len_utf8()),
            format!("invalid UTF-8 (byte 0x{byte:02x}); kernel files must be UTF-8 text"),
        )],
    })
}

fn request(opts: &KernelOpts) -> Result<CompileRequest, Error> {
    let mut req = CompileRequest::new(read_source(&opts.file)?);
    req.kernel = opts.kernel.clone();
    req.consts = tritonc::request::parse_consts(&opts.consts).map_err(Error::Usage)?;
    req.num_warps = opts.num_warps;
    req.num_stages = opts.num_stages;
    req.small_buffers = opts.small_buffers;
    req.disabled_passes = opts.disable_passes.clone();
    // The assembly text is one more run of the code generator: only for `--emit`.
    req.assembly = opts.emit.is_some();
    req.divisible = tritonc::request::parse_divisible(opts.divisible.as_deref());
    req.assume = tritonc::request::parse_assumes(&opts.assume).map_err(Error::Usage)?;
    check_flags(&req)?;
    Ok(req)
}

/// The language's name of a scalar type (`bool`, not `i1`).
fn type_name(s: tritonc::ir::ScalarType) -> &'static str {
    if s.is_bool() {
        "bool"
    } else {
        s.name()
    }
}

/// Checks `--kernel`, `--const` and `--assume` against the kernel's
/// declaration: a missing, unknown or ill-typed one is a usage error (exit
/// 2), not a fault of the kernel. A file that does not parse is left to the
/// compiler to report.
fn check_flags(req: &CompileRequest) -> Result<(), Error> {
    use tritonc::{ir::ScalarType, syntax::ast::TypeExpr};
    let Ok(ast) = tritonc::syntax::parse(&req.file) else {
        return Ok(());
    };
    let kernel = driver::select_kernel(&ast, &req.file, req.kernel.as_deref())?;
    let suggest = |name: &str, names: &[&str]| {
        tritonc::syntax::closest(name, names.iter().copied())
            .map(|s| format!("; did you mean `{s}`?"))
            .unwrap_or_default()
    };
    let kernels: Vec<&str> = ast.kernels().map(|k| k.name.name.as_str()).collect();
    let k = match ast.function(&kernel) {
        Some(k) if k.is_kernel => k,
        Some(_) => {
            return Err(Error::Usage(format!(
                "--kernel {kernel}: `{kernel}` is a helper, not a `#[kernel]` (kernels: {})",
                kernels.join(", ")
            )))
        }
        None => {
            return Err(Error::Usage(format!(
                "--kernel {kernel}: {} has no kernel `{kernel}` (kernels: {}){}",
                req.file.name,
                kernels.join(", "),
                suggest(&kernel, &kernels)
            )))
        }
    };
    let consts: Vec<&str> = k.const_params.iter().map(|c| c.name.name.as_str()).collect();
    for given in req.consts.keys() {
        if !consts.contains(&given.as_str()) {
            let has = if consts.is_empty() {
                "it has none".to_string()
            } else {
                format!("it has {}", consts.join(", "))
            };
            return Err(Error::Usage(format!(
                "--const {given}: kernel `{kernel}` has no const parameter `{given}` ({has}){}",
                suggest(given, &consts)
            )));
        }
    }
    let missing: Vec<&tritonc::syntax::ast::ConstParam> = k
        .const_params
        .iter()
        .filter(|c| !req.consts.contains_key(&c.name.name))
        .collect();
    if let Some(first) = missing.first() {
        let at = req.file.line_col(first.name.span.start);
        let flags: Vec<String> = missing
            .iter()
            .map(|c| format!("--const {}=VALUE", c.name.name))
            .collect();
        let names: Vec<String> = missing.iter().map(|c| format!("`{}`", c.name.name)).collect();
        return Err(Error::Usage(format!(
            "kernel `{kernel}` needs {} (const parameter{} {}, declared at {}:{}:{})",
            flags.join(" "),
            if missing.len() == 1 { "" } else { "s" },
            names.join(", "),
            req.file.name,
            at.line,
            at.col
        )));
    }
    for c in &k.const_params {
        let (Some(ty), Some(value)) = (ScalarType::from_name(&c.ty.name), req.consts.get(&c.name.name)) else {
            continue;
        };
        let given = match value {
            ConstArg::Bool(b) => b.to_string(),
            ConstArg::Int(i) => i.to_string(),
        };
        let wrong = match value {
            ConstArg::Bool(_) => ty.is_int() && !ty.is_bool(),
            ConstArg::Int(_) => ty.is_bool(),
        };
        if wrong {
            let want = if ty.is_bool() {
                "`true` or `false`"
            } else {
                "an integer"
            };
            return Err(Error::Usage(format!(
                "--const {}={given}: `{}` is declared {}; give {want}",
                c.name.name,
                c.name.name,
                type_name(ty)
            )));
        }
    }
    let params: Vec<&str> = k.params.iter().map(|p| p.name.name.as_str()).collect();
    for name in req.assume.keys() {
        let Some(p) = k.params.iter().find(|p| &p.name.name == name) else {
            return Err(Error::Usage(format!(
                "--assume {name}: kernel `{kernel}` has no parameter `{name}` (it has {}){}",
                params.join(", "),
                suggest(name, &params)
            )));
        };
        let ty = match &p.ty {
            TypeExpr::Ptr(elem, _) => Some(format!("Ptr<{}>", elem.name)),
            TypeExpr::Scalar(t) => match ScalarType::from_name(&t.name) {
                Some(s) if s.is_int() && !s.is_bool() => None,
                _ => Some(t.name.clone()),
            },
        };
        if let Some(ty) = ty {
            return Err(Error::Usage(format!(
                "--assume {name}: `{name}` is {ty}; only integer parameters can be assumed a value"
            )));
        }
    }
    Ok(())
}

/// Compiles, writing `--emit` stages even when a later stage fails.
fn compile_with_emit(
    opts: &KernelOpts,
    req: &CompileRequest,
    t: &dyn tritonc::codegen::target::Target,
) -> Result<Compiled, Error> {
    let mut stages = Vec::new();
    let cache = if opts.no_cache {
        tritonc::cache::Cache::disabled()
    } else {
        tritonc::cache::Cache::from_env()
    };
    let result = driver::compile_cached(req, t, &cache, &mut stages).map(|(c, _)| c);
    if let Some(dir) = &opts.emit {
        std::fs::create_dir_all(dir).map_err(|e| Error::Io(format!("cannot create {}: {e}", dir.display())))?;
        for s in &stages {
            let p = dir.join(&s.file_name);
            std::fs::write(&p, &s.contents).map_err(|e| Error::Io(format!("cannot write {}: {e}", p.display())))?;
        }
    }
    result
}

fn report(opts: &KernelOpts, c: &Compiled, started: Instant) -> Result<(), Error> {
    if opts.timings {
        eprintln!("stage timings for `{}` on {}:", c.kernel, c.target);
        for (name, d) in &c.timings {
            eprintln!("  {:<36} {:>9.3} ms", name, d.as_secs_f64() * 1e3);
        }
        eprintln!("  {:<36} {:>9.3} ms", "total", started.elapsed().as_secs_f64() * 1e3);
    }
    Ok(())
}

fn run(cmd: Command) -> Result<(), Error> {
    match cmd {
        Command::Targets => {
            println!("{:<8} {:>9} {:>9}  description", "target", "wave size", "LDS");
            for g in AMD_GPUS {
                println!("{:<8} {:>9} {:>8}K  {}", g.arch, g.wave, g.lds / 1024, g.about);
            }
            println!(
                "{:<8} {:>9} {:>9}  the host CPU (the CPU backend runs whole blocks as vectors)",
                "host", "-", "-"
            );
            println!(
                "host:<cpu>  host code for another CPU of this architecture ({}), e.g. to build libraries for older machines",
                tritonc::codegen::llvm::host_cpu_levels().join(", ")
            );
            println!("sim:<gfx>  that GPU's lane-level code run on the host, lane by lane (`run --backend sim`)");
            Ok(())
        }
        Command::Npy { action } => npy_command(action),
        Command::Bundle(opts) => bundle_command(&opts),
        Command::Emu(opts) => emu_command(&opts),
        Command::BundleInfo { file } => {
            let b = tritonc::bundle::Bundle::open(&file)?;
            let entries = b.entries();
            println!(
                "{}: {} kernel{}",
                file.display(),
                entries.len(),
                if entries.len() == 1 { "" } else { "s" }
            );
            for e in entries {
                println!(
                    "  {:<20} {:<16} {:<28} {:>8} B  {}",
                    e.kernel,
                    e.target,
                    if e.consts.is_empty() { "-" } else { &e.consts },
                    e.code_bytes,
                    e.options
                );
            }
            Ok(())
        }
        Command::Cache { action } => cache_command(action),
        Command::Check { file, consts } => {
            let src = read_source(&file)?;
            let checked = driver::check(&src, &tritonc::request::parse_consts(&consts).map_err(Error::Usage)?)?;
            for note in &checked.notes {
                println!("{}: note: {note}", src.name);
            }
            let names = checked.kernels;
            println!(
                "{}: ok ({} kernel{}: {})",
                src.name,
                names.len(),
                if names.len() == 1 { "" } else { "s" },
                names.join(", ")
            );
            Ok(())
        }
        Command::Compile {
            opts,
            target,
            output,
            code_object_version,
        } => {
            let started = Instant::now();
            let t = target::lookup(&target)?;
            let mut req = request(&opts)?;
            req.code_object_version = code_object_version;
            let c = compile_with_emit(&opts, &req, t.as_ref())?;
            let ext = t.link_kind().extension();
            let out = output.unwrap_or_else(|| PathBuf::from(format!("{}.{ext}", c.kernel)));
            std::fs::write(&out, &c.binary).map_err(|e| Error::Io(format!("cannot write {}: {e}", out.display())))?;
            report(&opts, &c, started)?;
            eprintln!(
                "wrote {} ({} bytes, {} for {})",
                out.display(),
                c.binary.len(),
                c.kernel,
                c.target
            );
            Ok(())
        }
        Command::Run {
            opts,
            backend,
            target,
            grid,
            args,
            outs,
            threads,
            bundle,
        } => {
            let started = Instant::now();
            let grid = parse_grid(&grid)?;
            if let Some(path) = &bundle {
                if backend == Backend::Interp {
                    return Err(Error::Usage(
                        "--bundle: the interpreter runs tile IR, not compiled code".into(),
                    ));
                }
                tritonc::bundle::register_file(path)?;
            }
            if backend == Backend::Interp {
                let req = request(&opts)?;
                let (module, kernel) = driver::tile_ir(&req)?;
                let f = module
                    .function(&kernel)
                    .ok_or_else(|| Error::Internal(format!("kernel `{kernel}` is missing")))?;
                let params: Vec<(String, tritonc::ir::Type)> = f
                    .param_names
                    .iter()
                    .cloned()
                    .zip(f.params().iter().map(|v| f.ty(*v).clone()))
                    .collect();
                let sig = Signature {
                    kernel: &kernel,
                    params: &params,
                };
                let (mut bound, shapes) = bind_args(&sig, &args)?;
                let outs = parse_outs(&sig, &outs)?;
                let run_started = Instant::now();
                launch::run_interp(&req.file, &module, &kernel, grid, &mut bound)?;
                if opts.timings {
                    eprintln!(
                        "  {:<36} {:>9.3} ms",
                        "interpret",
                        run_started.elapsed().as_secs_f64() * 1e3
                    );
                }
                return write_outs(&sig, &bound, &shapes, outs);
            }
            if backend == Backend::Hip {
                // Say "no device" before spending time compiling.
                launch::hip_device_check()?;
            }
            let t = match backend {
                Backend::Cpu | Backend::Interp => target::lookup("host")?,
                Backend::Hip => target::lookup(&match target {
                    Some(t) => t,
                    None => launch::hip_device_arch()?,
                })?,
                Backend::Sim => target::lookup(&format!("sim:{}", target.as_deref().unwrap_or("gfx942")))?,
                Backend::Emu => target::lookup(target.as_deref().unwrap_or("gfx942"))?,
            };
            let c = match &bundle {
                Some(path) => {
                    let cache = tritonc::cache::Cache::disabled().logging_from_env();
                    let why = format!("{} does not hold it, and `run --bundle` never compiles", path.display());
                    let mut c = (*tritonc::precompiled::require(&request(&opts)?, t.name(), &cache, &why)?.0).clone();
                    c.timings = vec![("bundle lookup".into(), started.elapsed())];
                    c
                }
                None => compile_with_emit(&opts, &request(&opts)?, t.as_ref())?,
            };
            report(&opts, &c, started)?;
            let sig = Signature {
                kernel: &c.kernel,
                params: &c.params,
            };
            let (mut bound, shapes) = bind_args(&sig, &args)?;
            let outs = parse_outs(&sig, &outs)?;
            let run_started = Instant::now();
            match backend {
                Backend::Cpu | Backend::Sim | Backend::Interp => {
                    launch::run_cpu(&c, grid, &mut bound, threads.unwrap_or(usize::MAX))?
                }
                Backend::Hip => launch::run_hip(&c, grid, t.lanes(c.num_warps), &mut bound)?,
                Backend::Emu => {
                    let stats = launch::run_emu(&c, grid, &mut bound)?;
                    emu::warn_uninitialized_reads(&stats);
                    if opts.timings {
                        eprintln!(
                            "  {:<36} {:>9.1} M/s ({} lane-instructions, {} waves)",
                            "emulated",
                            stats.lane_instructions_per_second() / 1e6,
                            stats.lane_instructions,
                            stats.waves
                        );
                    }
                }
            }
            if opts.timings {
                eprintln!("  {:<36} {:>9.3} ms", "run", run_started.elapsed().as_secs_f64() * 1e3);
            }
            write_outs(&sig, &bound, &shapes, outs)
        }
    }
}

/// Writes the `--out` buffers after a run.
fn write_outs(sig: &Signature, bound: &[Arg], shapes: &Shapes, outs: Vec<(String, PathBuf)>) -> Result<(), Error> {
    for (name, path) in outs {
        let i = sig.params.iter().position(|(n, _)| *n == name).unwrap_or(0);
        let (Arg::Buffer(b), Some((descr, shape))) = (&bound[i], &shapes[i]) else {
            return Err(Error::Usage(format!("--out {name}: not a buffer argument")));
        };
        let bytes = npy::write(descr, shape, &b.bytes());
        std::fs::write(&path, bytes).map_err(|e| Error::Io(format!("cannot write {}: {e}", path.display())))?;
        eprintln!("wrote {} ({name})", path.display());
    }
    Ok(())
}

/// `--FLAG X[,Y[,Z]]`: counts along up to three axes (the others 1).
fn parse_dims(flag: &str, text: &str) -> Result<[u32; 3], Error> {
    let parts: Vec<&str> = text.split(',').collect();
    if parts.is_empty() || parts.len() > 3 {
        return Err(Error::Usage(format!("--{flag} expects X[,Y[,Z]], found `{text}`")));
    }
    let mut d = [1u32; 3];
    for (i, p) in parts.iter().enumerate() {
        d[i] = p
            .trim()
            .parse::<u32>()
            .map_err(|_| Error::Usage(format!("--{flag}: `{p}` is not a positive integer")))?;
    }
    Ok(d)
}

fn parse_grid(text: &str) -> Result<Grid, Error> {
    let grid = Grid(parse_dims("grid", text)?);
    grid.validate().map_err(|e| Error::Usage(e.to_string()))?;
    Ok(grid)
}

type Shapes = Vec<Option<(String, Vec<usize>)>>;

fn bind_args(c: &Signature, items: &[String]) -> Result<(Vec<Arg>, Shapes), Error> {
    let mut bound: Vec<Option<Arg>> = vec![None; c.params.len()];
    let mut shapes: Shapes = vec![None; c.params.len()];
    for item in items {
        let (name, value) = item
            .split_once('=')
            .ok_or_else(|| Error::Usage(format!("--arg expects NAME=@file.npy or NAME=VALUE, found `{item}`")))?;
        let Some(i) = c.params.iter().position(|(n, _)| n == name) else {
            let names: Vec<&str> = c.params.iter().map(|(n, _)| n.as_str()).collect();
            let hint = tritonc::syntax::closest(name, names.iter().copied())
                .map(|s| format!("; did you mean `{s}`?"))
                .unwrap_or_default();
            return Err(Error::Usage(format!(
                "`{}` has no parameter `{name}` (it has {}){hint}",
                c.kernel,
                names.join(", ")
            )));
        };
        if bound[i].is_some() {
            return Err(Error::Usage(format!("--arg {name} is given twice")));
        }
        let ty = &c.params[i].1;
        if let Some(path) = value.strip_prefix('@') {
            let tritonc::ir::Elem::Ptr(elem) = ty.elem else {
                let s = ty.elem.scalar().map_or("scalar", type_name);
                return Err(Error::Usage(format!(
                    "`{name}` is {s}, not a pointer: pass a value (--arg {name}=VALUE), not a file"
                )));
            };
            let bytes = std::fs::read(path).map_err(|e| Error::Io(format!("cannot read {path}: {e}")))?;
            let a = npy::parse(&bytes).map_err(|e| Error::Io(format!("{path}: {e}")))?;
            let file_elem = npy::dtype_of(&a.descr);
            let compatible = file_elem == Some(elem)
                || (elem == tritonc::ir::ScalarType::BF16 && matches!(a.descr.as_str(), "<u2" | "<i2"));
            if !compatible {
                // The language's names first; numpy's code for the file.
                let holds = match file_elem {
                    Some(s) => format!("{} (numpy `{}`)", type_name(s), a.descr),
                    None => format!("numpy `{}`", a.descr),
                };
                let bits = if elem == tritonc::ir::ScalarType::BF16 {
                    " (or its bits as u16)"
                } else {
                    ""
                };
                return Err(Error::Usage(format!(
                    "`{name}` is Ptr<{}>, but {path} holds {holds}; it must hold {}{bits} (`tritonc npy create --dtype {}`)",
                    type_name(elem),
                    type_name(elem),
                    type_name(elem)
                )));
            }
            shapes[i] = Some((a.descr.clone(), a.shape.clone()));
            bound[i] = Some(Arg::Buffer(HostBuffer::from_bytes(&a.data)));
        } else {
            bound[i] = Some(Arg::Scalar(launch::parse_scalar(name, value, ty)?));
        }
    }
    let missing: Vec<&str> = c
        .params
        .iter()
        .zip(&bound)
        .filter(|(_, b)| b.is_none())
        .map(|((n, _), _)| n.as_str())
        .collect();
    if !missing.is_empty() {
        return Err(Error::Usage(format!("missing --arg for: {}", missing.join(", "))));
    }
    Ok((bound.into_iter().flatten().collect(), shapes))
}

fn parse_outs(c: &Signature, items: &[String]) -> Result<Vec<(String, PathBuf)>, Error> {
    items
        .iter()
        .map(|item| {
            let (name, path) = item
                .split_once('=')
                .ok_or_else(|| Error::Usage(format!("--out expects NAME=file.npy, found `{item}`")))?;
            match c.params.iter().find(|(n, _)| n == name) {
                Some((_, t)) if matches!(t.elem, tritonc::ir::Elem::Ptr(_)) => {
                    Ok((name.to_string(), PathBuf::from(path)))
                }
                Some(_) => Err(Error::Usage(format!(
                    "--out {name}: `{name}` is a scalar, not a buffer"
                ))),
                None => Err(Error::Usage(format!(
                    "--out {name}: `{}` has no parameter `{name}`",
                    c.kernel
                ))),
            }
        })
        .collect()
}

fn npy_command(action: NpyAction) -> Result<(), Error> {
    use tritonc::ir::ScalarType;
    match action {
        NpyAction::Create {
            file,
            dtype,
            len,
            arange,
            fill,
            random,
        } => {
            let s = ScalarType::from_name(&dtype).ok_or_else(|| {
                Error::Usage(format!(
                    "unknown dtype `{dtype}` (use a language type such as f32, i32, bool)"
                ))
            })?;
            let mut state = random.unwrap_or(0) ^ 0x9e37_79b9_7f4a_7c15;
            let mut next = move || {
                // splitmix64
                state = state.wrapping_add(0x9e37_79b9_7f4a_7c15);
                let mut z = state;
                z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
                z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
                z ^ (z >> 31)
            };
            let mut data = Vec::with_capacity(len * s.bytes() as usize);
            for i in 0..len {
                let v = if arange {
                    i as f64
                } else if let Some(f) = fill {
                    f
                } else if random.is_some() {
                    let u = (next() >> 11) as f64 / (1u64 << 53) as f64;
                    if s.is_float() {
                        2.0 * u - 1.0
                    } else if s.is_bool() {
                        (u < 0.5) as u8 as f64
                    } else {
                        (200.0 * u - 100.0).floor()
                    }
                } else {
                    0.0
                };
                data.extend(launch::encode_scalar(v, s));
            }
            let bytes = npy::write(npy::descr_of(s), &[len], &data);
            std::fs::write(&file, bytes).map_err(|e| Error::Io(format!("cannot write {}: {e}", file.display())))?;
            Ok(())
        }
        NpyAction::Show { file } => {
            let bytes = std::fs::read(&file).map_err(|e| Error::Io(format!("cannot read {}: {e}", file.display())))?;
            let a = npy::parse(&bytes).map_err(|e| Error::Io(format!("{}: {e}", file.display())))?;
            let s = npy::dtype_of(&a.descr).ok_or_else(|| Error::Io("unsupported dtype".into()))?;
            let n = a.data.len() / s.bytes() as usize;
            let vals: Vec<String> = (0..n)
                .map(|i| launch::decode_scalar(&a.data[i * s.bytes() as usize..], s))
                .collect();
            let shown = if n <= 8 {
                vals.join(", ")
            } else {
                format!("{}, ..., {}", vals[..4].join(", "), vals[n - 4..].join(", "))
            };
            println!("{}: dtype {} shape {:?}\n[{shown}]", file.display(), a.descr, a.shape);
            Ok(())
        }
    }
}

fn cache_command(action: CacheAction) -> Result<(), Error> {
    let cache = tritonc::cache::Cache::from_env();
    let Some(dir) = cache.dir().map(|d| d.to_path_buf()) else {
        println!("the kernel cache is off (TRITONC_CACHE=off)");
        return Ok(());
    };
    match action {
        CacheAction::List => {
            for e in cache.entries() {
                let (kernel, target) = e.describe().unwrap_or_else(|| ("?".into(), "(unreadable)".into()));
                let name = e
                    .path
                    .file_name()
                    .map(|n| n.to_string_lossy().into_owned())
                    .unwrap_or_default();
                println!("{:<16} {:<14} {:>9} B  {}", kernel, target, e.bytes, name);
            }
        }
        CacheAction::Clear => {
            let n = cache
                .clear()
                .map_err(|e| Error::Io(format!("cannot clear {}: {e}", dir.display())))?;
            println!(
                "removed {n} entr{} from {}",
                if n == 1 { "y" } else { "ies" },
                dir.display()
            );
        }
        CacheAction::Stats => {
            let entries = cache.entries();
            let bytes: u64 = entries.iter().map(|e| e.bytes).sum();
            println!("{}: {} entries, {} bytes", dir.display(), entries.len(), bytes);
        }
    }
    Ok(())
}
