//! The compiler driver: source text to a code object, stage by stage,
//! keeping every intermediate form and the time each stage took.
//!
//! ```text
//! parse → lower (tile IR) → passes → emit MLIR → lower MLIR → LLVM IR
//!       → O3 → machine code → link (.hsaco on AMDGPU, .so on the host)
//! ```

pub use crate::request::{CompileRequest, Compiled, Divisible, Stage, KEY_PART_NAMES};
use crate::Error;
use inkwell::{context::Context as LlvmContext, module::FlagBehavior};
use std::{
    collections::BTreeMap,
    time::{Duration, Instant},
};
use tritonc_codegen::{emit::emit_kernel, link, llvm, target::Target};
use tritonc_ir::{print_module, Module};
use tritonc_sema::ConstArg;
use tritonc_syntax::{parse, Diagnostics, SourceFile};

struct Timer {
    timings: Vec<(String, Duration)>,
    at: Instant,
}

impl Timer {
    fn lap(&mut self, name: &str) {
        let now = Instant::now();
        self.timings.push((name.to_string(), now - self.at));
        self.at = now;
    }
}

/// What `check` found: the file's kernels, and for each kernel whose const
/// values were not all given, a one-line note that the checks depending on
/// them wait for `--const`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Checked {
    pub kernels: Vec<String>,
    pub notes: Vec<String>,
}

/// Parses and type-checks every kernel of a file with the given consts,
/// without generating code (`tritonc check`). A kernel given all its
/// consts is checked as `compile` checks it before code generation; one
/// missing some is checked as far as they allow (names, functions,
/// argument counts, types, and the shape and length rules that do not
/// involve the missing consts: `tritonc_sema::check_kernel`).
pub fn check(file: &SourceFile, consts: &BTreeMap<String, ConstArg>) -> Result<Checked, Error> {
    let ast = parse(file)?;
    let mut kernels = Vec::new();
    let mut notes = Vec::new();
    for k in ast.kernels() {
        kernels.push(k.name.name.clone());
        // Consts a kernel does not declare are not an error here: a file may
        // hold several kernels with different const parameters.
        let mine: BTreeMap<String, ConstArg> = consts
            .iter()
            .filter(|(n, _)| k.const_params.iter().any(|c| &c.name.name == *n))
            .map(|(n, v)| (n.clone(), *v))
            .collect();
        if mine.len() < k.const_params.len() {
            let c = tritonc_sema::check_kernel(&ast, &k.name.name, &mine).map_err(|d| diag(file, d))?;
            let consts = c.missing.join(", ");
            notes.push(if c.lowered {
                format!(
                    "kernel `{}`: shapes depend on {consts}; give --const to check them fully",
                    k.name.name
                )
            } else {
                format!(
                    "kernel `{}`: a check that depends on {consts} fails for every placeholder value tried; \
                     give --const to check it",
                    k.name.name
                )
            });
            continue;
        }
        let mut m = tritonc_sema::lower_kernel(&ast, &k.name.name, &mine).map_err(|d| diag(file, d))?;
        tritonc_passes::run_pipeline(&mut m)?;
    }
    Ok(Checked { kernels, notes })
}

fn diag(file: &SourceFile, d: tritonc_syntax::Diagnostic) -> Error {
    Error::Diagnostics(Diagnostics {
        file: file.clone(),
        items: vec![d],
    })
}

/// Picks the kernel: the named one, or the file's only kernel.
pub fn select_kernel(
    ast: &tritonc_syntax::ast::File,
    file: &SourceFile,
    wanted: Option<&str>,
) -> Result<String, Error> {
    if let Some(k) = wanted {
        return Ok(k.to_string());
    }
    let kernels: Vec<&str> = ast.kernels().map(|k| k.name.name.as_str()).collect();
    match kernels.as_slice() {
        [one] => Ok(one.to_string()),
        [] => Err(Error::Usage(format!("{} has no `#[kernel]` function", file.name))),
        many => Err(Error::Usage(format!(
            "{} has several kernels ({}); choose one with --kernel",
            file.name,
            many.join(", ")
        ))),
    }
}

/// Front half: source to optimized tile IR (with the IR before passes).
pub fn front_end(req: &CompileRequest) -> Result<(Module, String, String), Error> {
    let (mut m, kernel) = tile_ir(req)?;
    let before = print_module(&m);
    tritonc_passes::run_pipeline_without(&mut m, &req.disabled_passes)?;
    Ok((m, before, kernel))
}

/// Source to tile IR as the front end lowers it, specialized as `req` says,
/// before any pass (what the reference interpreter runs); with the
/// kernel's name.
pub fn tile_ir(req: &CompileRequest) -> Result<(Module, String), Error> {
    for p in &req.disabled_passes {
        if !tritonc_passes::optional(p) {
            let names: Vec<&str> = tritonc_passes::PIPELINE
                .iter()
                .map(|(n, _)| *n)
                .filter(|n| tritonc_passes::optional(n))
                .collect();
            return Err(Error::Usage(format!(
                "--disable-pass {p}: not a pass that can be switched off (those are: {})",
                names.join(", ")
            )));
        }
    }
    if let Some(w) = req.num_warps {
        if !(1..=16).contains(&w) || !w.is_power_of_two() {
            return Err(Error::Usage(format!(
                "num_warps (--num-warps) must be a power of two from 1 to 16, found {w}"
            )));
        }
    }
    if let Some(s) = req.num_stages {
        if !(1..=8).contains(&s) {
            return Err(Error::Usage(format!(
                "num_stages (--num-stages) must be from 1 to 8, found {s}"
            )));
        }
    }
    if !(4..=6).contains(&req.code_object_version) {
        return Err(Error::Usage(format!(
            "--code-object-version must be 4, 5 or 6, found {}",
            req.code_object_version
        )));
    }
    let ast = parse(&req.file)?;
    let kernel = select_kernel(&ast, &req.file, req.kernel.as_deref())?;
    let mut m =
        tritonc_sema::lower_kernel_assuming(&ast, &kernel, &req.consts, &req.assume).map_err(|d| diag(&req.file, d))?;
    apply_divisibility(&mut m, &kernel, &req.divisible)?;
    for f in &mut m.functions {
        f.small_buffers = req.small_buffers;
        if let Some(w) = req.num_warps {
            f.options.num_warps = w;
        }
        if let Some(s) = req.num_stages {
            f.options.num_stages = s;
        }
    }
    tritonc_ir::verify_module(&m).map_err(|source| tritonc_passes::PassError::Verify { pass: "input", source })?;
    Ok((m, kernel))
}

/// Everything that decides the code generated for `req` on `target`,
/// given the specialized, optimized tile IR of the kernel.
pub fn key_parts(req: &CompileRequest, target: &dyn Target, kernel: &str, tile_ir: &str) -> crate::cache::KeyParts {
    static LLD: std::sync::OnceLock<String> = std::sync::OnceLock::new();
    let lld = LLD.get_or_init(link::lld_version).clone();
    let values = [
        crate::request::compiler_version(),
        llvm::llvm_version(),
        lld,
        kernel.to_string(),
        target.name().to_string(),
        target.triple(),
        format!("{} {}", target.cpu(), target.features()),
        format!(
            "num_warps={:?} num_stages={:?} code_object={} assembly={}",
            req.num_warps, req.num_stages, req.code_object_version, req.assembly
        ),
        tile_ir.to_string(),
    ];
    crate::cache::KeyParts(KEY_PART_NAMES.iter().copied().zip(values).collect())
}

/// [`compile_into`] through the registered bundles and a cache. A kernel
/// compiled before is found by its request key without running the front
/// end ([`crate::precompiled`]); otherwise the front end runs and the key
/// of the optimized tile IR decides whether the rest runs (two requests
/// that optimize to the same IR share it). What is compiled is stored
/// under both keys. Every stage is in `sink` either way (none for a
/// kernel from a bundle, which keeps only the code).
pub fn compile_cached(
    req: &CompileRequest,
    target: &dyn Target,
    cache: &crate::cache::Cache,
    sink: &mut Vec<Stage>,
) -> Result<(Compiled, crate::cache::Lookup), Error> {
    let started = Instant::now();
    let found = crate::precompiled::find(req, target.name(), cache);
    if let Some(c) = found.compiled {
        let mut c = (*c).clone();
        cache.report(&c.kernel, target.name(), &found.how);
        sink.extend(c.stages.iter().cloned());
        c.timings = vec![("bundle or cache lookup".to_string(), started.elapsed())];
        return Ok((c, found.how));
    }
    if !cache.enabled() {
        let c = compile_into(req, target, sink)?;
        return Ok((c, found.how));
    }
    let (m, before, kernel) = front_end(req)?;
    let after = print_module(&m);
    let parts = key_parts(req, target, &kernel, &after);
    let (hit, how) = cache.get(&parts);
    cache.report(&kernel, target.name(), &how);
    if let Some(c) = hit {
        cache.put_request(&found.key, &parts, &c);
        let mut c = (*c).clone();
        sink.extend(c.stages.iter().cloned());
        c.timings = vec![("front end + cache lookup".to_string(), started.elapsed())];
        return Ok((c, how));
    }
    // A miss goes on from the front end's result; it is not run twice.
    let c = back_end(req, target, m, before, after, kernel, started, sink)?;
    cache.put(&parts, &c);
    cache.put_request(&found.key, &parts, &std::sync::Arc::new(c.clone()));
    Ok((c, how))
}

/// Marks parameters divisible by 16 on the kernel.
fn apply_divisibility(m: &mut Module, kernel: &str, divisible: &Divisible) -> Result<(), Error> {
    let Some(f) = m.functions.iter_mut().find(|f| f.name == kernel) else {
        return Ok(());
    };
    let eligible = |t: &tritonc_ir::Type| match t.elem {
        tritonc_ir::Elem::Ptr(_) => true,
        tritonc_ir::Elem::Scalar(s) => s.is_int() && !s.is_bool(),
    };
    let types: Vec<tritonc_ir::Type> = f.params().iter().map(|v| f.ty(*v).clone()).collect();
    match divisible {
        Divisible::None => {}
        Divisible::All => {
            for (i, t) in types.iter().enumerate() {
                if eligible(t) {
                    f.arg_divisibility[i] = 16;
                }
            }
        }
        Divisible::Named(names) => {
            for n in names {
                let i = f.param_names.iter().position(|p| p == n).ok_or_else(|| {
                    Error::Usage(format!(
                        "--divisible {n}: `{kernel}` has no parameter `{n}` (it has {})",
                        f.param_names.join(", ")
                    ))
                })?;
                if !eligible(&types[i]) {
                    return Err(Error::Usage(format!(
                        "--divisible {n}: `{n}` is {}, only pointers and integers can be divisible",
                        types[i]
                    )));
                }
                f.arg_divisibility[i] = 16;
            }
        }
    }
    Ok(())
}

/// Compiles one kernel for `target`.
pub fn compile(req: &CompileRequest, target: &dyn Target) -> Result<Compiled, Error> {
    compile_into(req, target, &mut Vec::new())
}

/// Like [`compile`], but every stage is also pushed to `sink` as soon as it
/// exists, so that `--emit` shows how far a failing compilation got.
pub fn compile_into(req: &CompileRequest, target: &dyn Target, sink: &mut Vec<Stage>) -> Result<Compiled, Error> {
    let started = Instant::now();
    let (m, before, kernel) = front_end(req)?;
    let after = print_module(&m);
    back_end(req, target, m, before, after, kernel, started, sink)
}

/// Whether `TRITONC_LOG` (a comma-separated list) names `compile`: then
/// every compilation that is not a cache hit says on stderr what it
/// compiles and, when done, how long it took (a first launch can take
/// seconds).
fn log_compile() -> bool {
    REPORT_COMPILES.load(std::sync::atomic::Ordering::Relaxed) || crate::log_topic("compile")
}

static REPORT_COMPILES: std::sync::atomic::AtomicBool = std::sync::atomic::AtomicBool::new(false);

/// Makes every compilation of this process that is not a cache hit report
/// itself as `TRITONC_LOG=compile` does (the CLI turns it on when stderr is
/// a terminal).
pub fn report_compiles(on: bool) {
    REPORT_COMPILES.store(on, std::sync::atomic::Ordering::Relaxed);
}

/// What `TRITONC_LOG=compile` calls a compilation: kernel, target, const
/// values and launch options.
fn describe(req: &CompileRequest, target: &dyn Target, kernel: &str) -> String {
    let mut settings = req.const_settings();
    settings.extend(req.num_warps.map(|w| format!("num_warps={w}")));
    settings.extend(req.num_stages.map(|s| format!("num_stages={s}")));
    let settings = if settings.is_empty() {
        String::new()
    } else {
        format!(" ({})", settings.join(", "))
    };
    format!("`{kernel}` for {}{settings}", target.name())
}

/// The rest of [`compile_into`], from the optimized tile IR (`after` is its
/// text) to the binary; `started` is when the front end began. With
/// `TRITONC_LOG=compile`, says what it compiles and how long it took.
#[allow(clippy::too_many_arguments)]
fn back_end(
    req: &CompileRequest,
    target: &dyn Target,
    m: Module,
    before: String,
    after: String,
    kernel: String,
    started: Instant,
    sink: &mut Vec<Stage>,
) -> Result<Compiled, Error> {
    if !log_compile() {
        return back_end_stages(req, target, m, before, after, kernel, started, sink);
    }
    let what = describe(req, target, &kernel);
    eprintln!("tritonc compile: {what}...");
    let result = back_end_stages(req, target, m, before, after, kernel, started, sink);
    let took = started.elapsed().as_secs_f64();
    match &result {
        Ok(c) => {
            let steps: Vec<String> = c
                .timings
                .iter()
                .map(|(step, t)| format!("{step} {:.0} ms", t.as_secs_f64() * 1e3))
                .collect();
            eprintln!("tritonc compile: {what}: done in {took:.3} s ({})", steps.join(", "));
        }
        Err(_) => eprintln!("tritonc compile: {what}: failed after {took:.3} s"),
    }
    result
}

#[allow(clippy::too_many_arguments)]
fn back_end_stages(
    req: &CompileRequest,
    target: &dyn Target,
    m: Module,
    before: String,
    after: String,
    kernel: String,
    started: Instant,
    sink: &mut Vec<Stage>,
) -> Result<Compiled, Error> {
    let mut t = Timer {
        timings: Vec::new(),
        at: started,
    };
    t.lap("front end (parse, check, tile IR)");
    let mut stage = |name: &str, contents: &[u8]| {
        sink.push(Stage {
            file_name: name.to_string(),
            contents: contents.to_vec(),
        })
    };
    stage("1-tile.mlir", before.as_bytes());
    stage("2-tile-opt.mlir", after.as_bytes());
    let f = m
        .function(&kernel)
        .ok_or_else(|| Error::Internal(format!("kernel `{kernel}` vanished in the passes")))?;
    let mut dist = f.clone();
    let lanes = target.lanes(f.options.num_warps);
    tritonc_passes::layouts::assign_for(&mut dist, lanes, &|s| target.matrix_instrs(s))?;
    tritonc_ir::verify_function(&dist).map_err(|e| Error::Internal(format!("Dist IR: {e}")))?;
    tritonc_ir::verify_layouts(&dist, lanes).map_err(|e| Error::Internal(format!("Dist IR layouts: {e}")))?;
    t.lap("layouts (Dist IR)");
    stage("3-dist.mlir", tritonc_ir::print_function(&dist).as_bytes());
    let emitted = emit_kernel(&dist, target)?;
    let mlir = emitted.mlir;
    t.lap("emit MLIR");
    stage("4-lowering.mlir", mlir.as_bytes());
    let llvm_ctx = LlvmContext::create();
    let (module, lowered) = llvm::mlir_to_llvm(&mlir, &llvm_ctx)?;
    t.lap("MLIR lowering + translation");
    stage("5-llvm-dialect.mlir", lowered.as_bytes());
    let tm = llvm::target_machine(&target.triple(), &target.cpu(), &target.features())?;
    for (name, value) in target.module_flags(req.code_object_version) {
        let value = llvm_ctx.i32_type().const_int(value, false);
        module.add_basic_value_flag(name, FlagBehavior::Error, value);
    }
    module.set_triple(&tm.get_triple());
    module.set_data_layout(&tm.get_target_data().get_data_layout());
    if let Some(ir) = target.support_ir() {
        llvm::link_ir(&module, ir, "support functions")?;
    }
    let llvm_before = module.print_to_string().to_string();
    stage("6-llvm.ll", llvm_before.as_bytes());
    llvm::optimize(&module, &tm)?;
    let llvm_after = module.print_to_string().to_string();
    t.lap("LLVM O3");
    stage("7-llvm-opt.ll", llvm_after.as_bytes());
    if req.assembly {
        let asm = llvm::emit_assembly(&module, &tm)?;
        stage(target.link_kind().assembly_stage(), asm.as_bytes());
    }
    let object = llvm::emit_object(&module, &tm)?;
    t.lap("code generation");
    let binary = link::link_shared(&object, target.link_kind())?;
    t.lap("link");
    let bin_name = format!("9-{kernel}.{}", target.link_kind().extension());
    stage(&bin_name, &binary);
    let params = f
        .param_names
        .iter()
        .cloned()
        .zip(f.params().iter().map(|v| f.ty(*v).clone()))
        .collect();
    let assert_messages = f
        .walk()
        .into_iter()
        .filter_map(|op| match &f.op(op).kind {
            tritonc_ir::OpKind::Assert(m) => Some(m.clone()),
            _ => None,
        })
        .collect();
    Ok(Compiled {
        kernel,
        params,
        assert_messages,
        num_warps: f.options.num_warps,
        lanes: target.lanes(f.options.num_warps),
        shared_bytes: emitted.shared_bytes,
        target: target.name().to_string(),
        stages: sink.clone(),
        timings: t.timings,
        binary,
    })
}
