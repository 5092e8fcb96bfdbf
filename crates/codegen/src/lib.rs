//! Code generation: tile IR to MLIR (`emit`), MLIR to LLVM IR and machine
//! code (`llvm`), linking of AMDGPU code objects (`link`), and the targets
//! (`target`).
//!
//! ```text
//!  tile IR ──emit──► MLIR (llvm, rocdl, arith, math, scf, vector)
//!                      │ melior: convert-*-to-llvm
//!                      ▼
//!                    MLIR (llvm dialect) ──translate──► LLVM IR
//!                                                        │ inkwell: default<O3>
//!                      ┌─────────────────────────────────┤
//!                      ▼                                  ▼
//!            AMDGPU object ──lld (in-process)──► .hsaco      host JIT (CPU backend)
//! ```
//!
//! Architecture invariant: nothing here branches on a target's name; what
//! differs between targets is a method of [`target::Target`].

pub mod emit;
pub mod host_support;
pub mod link;
pub mod llvm;
pub mod staging;
pub mod target;

#[derive(Debug, thiserror::Error)]
pub enum CodegenError {
    #[error("{0}")]
    UnknownTarget(String),
    #[error("not supported: {0}")]
    Unsupported(String),
    #[error("MLIR: {0}")]
    Mlir(String),
    #[error("LLVM: {0}")]
    Llvm(String),
    #[error("linking: {0}")]
    Link(String),
    #[error("internal compiler error: {0}")]
    Internal(String),
}
