//! MLIR (llvm/rocdl/arith/scf/vector/math dialects) to LLVM IR and machine
//! code: melior parses and lowers, MLIR's translation hands the module to
//! inkwell, which runs LLVM's O3 pipeline and the target's code generator.
//!
//! melior and inkwell share one `libLLVM` (inkwell's `prefer-dynamic`
//! feature), which is what makes handing the module across sound.

use crate::CodegenError;
use inkwell::{
    context::Context as LlvmContext,
    module::Module as LlvmModule,
    passes::PassBuilderOptions,
    targets::{
        CodeModel, FileType, InitializationConfig, RelocMode, Target as LlvmTarget, TargetMachine, TargetTriple,
    },
    OptimizationLevel,
};
use melior::{
    dialect::DialectRegistry,
    ir::{operation::OperationLike, Module as MlirModule},
    pass::PassManager,
    utility::{parse_pass_pipeline, register_all_dialects, register_all_llvm_translations, register_all_passes},
    Context as MlirContext,
};
use std::sync::Once;

extern "C" {
    // From MLIR's C API (`mlir-c/Target/LLVMIR.h`), linked through mlir-sys.
    fn mlirTranslateModuleToLLVMIR(
        module: mlir_sys::MlirOperation,
        context: llvm_sys::prelude::LLVMContextRef,
    ) -> llvm_sys::prelude::LLVMModuleRef;
}

/// The conversion pipeline from our mixed dialects to the `llvm` dialect.
pub const LOWERING_PIPELINE: &str = "builtin.module(convert-scf-to-cf,convert-vector-to-llvm,convert-math-to-llvm,convert-arith-to-llvm,convert-index-to-llvm,convert-cf-to-llvm,reconcile-unrealized-casts)";

fn mlir_context() -> MlirContext {
    static PASSES: Once = Once::new();
    PASSES.call_once(register_all_passes);
    let registry = DialectRegistry::new();
    register_all_dialects(&registry);
    let ctx = MlirContext::new();
    ctx.append_dialect_registry(&registry);
    ctx.load_all_available_dialects();
    register_all_llvm_translations(&ctx);
    ctx
}

/// The context [`mlir_to_llvm`] lowers in: only the dialects the emitted
/// MLIR uses (the conversion passes load the ones they produce), and only
/// the passes of [`LOWERING_PIPELINE`]. Registering every upstream dialect,
/// extension and pass (as [`mlir_context`] does) was most of a cold
/// compile's time; the pipeline and its output are the same.
fn lowering_context() -> MlirContext {
    static PASSES: Once = Once::new();
    // SAFETY: pass registration is global and done once; these functions
    // only add the named passes to MLIR's registry.
    PASSES.call_once(|| unsafe {
        mlir_sys::mlirRegisterConversionSCFToControlFlowPass();
        mlir_sys::mlirRegisterConversionConvertVectorToLLVMPass();
        mlir_sys::mlirRegisterConversionConvertMathToLLVMPass();
        mlir_sys::mlirRegisterConversionArithToLLVMConversionPass();
        mlir_sys::mlirRegisterConversionConvertIndexToLLVMPass();
        mlir_sys::mlirRegisterConversionConvertControlFlowToLLVMPass();
        mlir_sys::mlirRegisterConversionReconcileUnrealizedCastsPass();
    });
    let registry = DialectRegistry::new();
    // SAFETY: the handles are static; the registry is live.
    unsafe {
        for handle in crate::target::emitted_dialects() {
            mlir_sys::mlirDialectHandleInsertDialect(handle, registry.to_raw());
        }
    }
    let ctx = MlirContext::new();
    ctx.append_dialect_registry(&registry);
    ctx.load_all_available_dialects();
    register_all_llvm_translations(&ctx);
    ctx
}

/// Parses MLIR text with every upstream dialect registered and verifies it.
pub fn verify_mlir(text: &str) -> Result<(), CodegenError> {
    let ctx = mlir_context();
    let module =
        MlirModule::parse(&ctx, text).ok_or_else(|| CodegenError::Mlir("the generated MLIR does not parse".into()))?;
    if !module.as_operation().verify() {
        return Err(CodegenError::Mlir("the generated MLIR does not verify".into()));
    }
    Ok(())
}

/// Parses text in MLIR generic syntax with unregistered dialects allowed
/// (how tile IR dumps are checked).
pub fn parse_unregistered(text: &str) -> bool {
    let ctx = mlir_context();
    ctx.set_allow_unregistered_dialects(true);
    MlirModule::parse(&ctx, text).is_some_and(|m| m.as_operation().verify())
}

/// Lowers MLIR text to an LLVM module in `llvm_ctx`, returning it with the
/// text of the lowered MLIR (`llvm` dialect only).
pub fn mlir_to_llvm<'c>(text: &str, llvm_ctx: &'c LlvmContext) -> Result<(LlvmModule<'c>, String), CodegenError> {
    let ctx = lowering_context();
    let mut module = MlirModule::parse(&ctx, text)
        .ok_or_else(|| CodegenError::Mlir("the generated MLIR does not parse (an internal error)".into()))?;
    if !module.as_operation().verify() {
        return Err(CodegenError::Mlir(format!(
            "the generated MLIR does not verify (an internal error):\n{}",
            module.as_operation()
        )));
    }
    let pm = PassManager::new(&ctx);
    parse_pass_pipeline(pm.as_operation_pass_manager(), LOWERING_PIPELINE)
        .map_err(|e| CodegenError::Mlir(format!("pass pipeline: {e}")))?;
    pm.run(&mut module)
        .map_err(|e| CodegenError::Mlir(format!("MLIR lowering failed: {e}")))?;
    let lowered = module.as_operation().to_string();
    // SAFETY: the module operation is valid for the duration of the call,
    // and `llvm_ctx` is a live LLVM context of the same libLLVM.
    let raw = unsafe { mlirTranslateModuleToLLVMIR(module.as_operation().to_raw(), llvm_ctx.raw()) };
    if raw.is_null() {
        return Err(CodegenError::Mlir("translation to LLVM IR failed".into()));
    }
    // SAFETY: `raw` is a fresh module owned by nobody else, created in `llvm_ctx`.
    let m = unsafe { LlvmModule::new(raw) };
    Ok((m, lowered))
}

fn init_targets() {
    static INIT: Once = Once::new();
    INIT.call_once(|| {
        let cfg = InitializationConfig::default();
        LlvmTarget::initialize_amd_gpu(&cfg);
        LlvmTarget::initialize_native(&cfg).ok();
    });
}

/// Creates a target machine for a triple, CPU and feature string.
pub fn target_machine(triple: &str, cpu: &str, features: &str) -> Result<TargetMachine, CodegenError> {
    init_targets();
    let triple = TargetTriple::create(triple);
    let target = LlvmTarget::from_triple(&triple).map_err(|e| CodegenError::Llvm(format!("unknown target: {e}")))?;
    target
        .create_target_machine(
            &triple,
            cpu,
            features,
            OptimizationLevel::Aggressive,
            RelocMode::PIC,
            CodeModel::Default,
        )
        .ok_or_else(|| CodegenError::Llvm(format!("LLVM cannot make a target machine for {cpu}")))
}

/// The host's target machine (for the CPU backend).
pub fn host_machine() -> Result<TargetMachine, CodegenError> {
    init_targets();
    let triple = TargetMachine::get_default_triple();
    let cpu = TargetMachine::get_host_cpu_name().to_string();
    let features = TargetMachine::get_host_cpu_features().to_string();
    let t = triple.as_str().to_string_lossy().into_owned();
    target_machine(&t, &cpu, &features)
}

/// CPUs that `host:CPU` accepts: the baseline and the psABI levels of the
/// host's architecture, which every CPU of that level runs (LLVM's C API
/// cannot say whether it knows a CPU name; an unknown one would silently
/// give generic code).
pub fn host_cpu_levels() -> &'static [&'static str] {
    match std::env::consts::ARCH {
        "x86_64" => &["x86-64", "x86-64-v2", "x86-64-v3", "x86-64-v4"],
        "aarch64" => &["generic"],
        _ => &[],
    }
}

/// Whether `host:CPU` accepts `cpu` (see [`host_cpu_levels`]).
pub fn is_known_host_cpu(cpu: &str) -> bool {
    host_cpu_levels().contains(&cpu)
}

/// Links LLVM IR text (a target's support functions) into `module`.
pub fn link_ir(module: &LlvmModule, ir: &str, name: &str) -> Result<(), CodegenError> {
    let buffer = inkwell::memory_buffer::MemoryBuffer::create_from_memory_range_copy(ir.as_bytes(), name);
    let support = module
        .get_context()
        .create_module_from_ir(buffer)
        .map_err(|e| CodegenError::Internal(format!("{name} does not parse: {e}")))?;
    module
        .link_in_module(support)
        .map_err(|e| CodegenError::Internal(format!("linking {name}: {e}")))
}

/// Runs LLVM's `default<O3>` pipeline on the module for the machine.
pub fn optimize(module: &LlvmModule, tm: &TargetMachine) -> Result<(), CodegenError> {
    module.set_triple(&tm.get_triple());
    module.set_data_layout(&tm.get_target_data().get_data_layout());
    module
        .verify()
        .map_err(|e| CodegenError::Llvm(format!("invalid LLVM IR: {e}")))?;
    module
        .run_passes("default<O3>", tm, PassBuilderOptions::create())
        .map_err(|e| CodegenError::Llvm(format!("LLVM optimization failed: {e}")))
}

/// Emits assembly text, leaving `module` as it was.
pub fn emit_assembly(module: &LlvmModule, tm: &TargetMachine) -> Result<String, CodegenError> {
    // Code generation rewrites the IR (the AMDGPU backend annotates
    // control flow in place), so the text is made from a copy.
    let copy = module.clone();
    let asm = tm
        .write_to_memory_buffer(&copy, FileType::Assembly)
        .map_err(|e| CodegenError::Llvm(format!("assembly emission failed: {e}")))?;
    Ok(String::from_utf8_lossy(asm.as_slice()).into_owned())
}

/// Emits a relocatable object (code generation may rewrite `module`).
pub fn emit_object(module: &LlvmModule, tm: &TargetMachine) -> Result<Vec<u8>, CodegenError> {
    let obj = tm
        .write_to_memory_buffer(module, FileType::Object)
        .map_err(|e| CodegenError::Llvm(format!("object emission failed: {e}")))?;
    Ok(obj.as_slice().to_vec())
}

/// The version of the LLVM library in use (part of the cache key).
pub fn llvm_version() -> String {
    let (mut major, mut minor, mut patch) = (0, 0, 0);
    // SAFETY: plain out-parameters.
    unsafe { llvm_sys::core::LLVMGetVersion(&mut major, &mut minor, &mut patch) };
    format!("{major}.{minor}.{patch}")
}
