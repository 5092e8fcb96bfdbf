//! tritonc: a Triton-style kernel compiler for AMD GPUs.
//!
//! This crate is the front door: the [`driver`] that runs the pipeline,
//! the [`Error`] type, and re-exports of the stages.

pub mod api;
pub mod autotune;
pub mod cache;
pub mod driver;
pub mod launch;
pub mod npy;

pub use tritonc_codegen as codegen;
pub use tritonc_interp as interp;
pub use tritonc_ir as ir;
pub use tritonc_passes as passes;
pub use tritonc_runtime as runtime;
pub use tritonc_sema as sema;
pub use tritonc_syntax as syntax;

pub use tritonc_macros::kernel;

/// What kernel code in Rust needs: `use tritonc::prelude::*;`.
pub mod prelude {
    pub use crate::{
        api::{Bf16, Buffer, Device, Grid, LaunchOptions, F16},
        autotune::{Autotuner, Config},
        grid, kernel, Error,
    };
}

/// Everything that can go wrong, from a typo in a kernel to a missing GPU.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// Errors in the user's kernel source, rendered with file:line:col.
    #[error("{0}")]
    Diagnostics(#[from] tritonc_syntax::Diagnostics),
    #[error("{0}")]
    Usage(String),
    #[error(transparent)]
    Pass(#[from] tritonc_passes::PassError),
    #[error(transparent)]
    Codegen(#[from] tritonc_codegen::CodegenError),
    #[error(transparent)]
    Runtime(#[from] tritonc_runtime::RuntimeError),
    #[error("{0}")]
    Io(String),
    #[error("internal compiler error: {0}")]
    Internal(String),
}
