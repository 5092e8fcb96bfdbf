//! Code generation: tile IR to MLIR, LLVM IR and machine code.
pub mod llvm;

#[derive(Debug, thiserror::Error)]
pub enum CodegenError {
    #[error("MLIR: {0}")]
    Mlir(String),
    #[error("LLVM: {0}")]
    Llvm(String),
}
