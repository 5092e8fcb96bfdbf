//! tritonc: a Triton-style kernel compiler for AMD GPUs.
//!
//! This crate is the front door: the [`driver`] that runs the pipeline,
//! the [`Error`] type, and re-exports of the stages.

pub mod api;
pub mod autotune;
pub mod bundle;
#[cfg(feature = "compiler")]
pub mod bundler;
pub use tritonc_cache::cache;
#[cfg(feature = "compiler")]
pub mod driver;
pub mod launch;
pub mod npy;
pub mod precompiled;
pub use tritonc_cache::request;

#[cfg(feature = "compiler")]
pub use tritonc_codegen as codegen;
#[cfg(feature = "compiler")]
pub use tritonc_emu as emu;
pub use tritonc_interp as interp;
pub use tritonc_ir as ir;
pub use tritonc_passes as passes;
pub use tritonc_runtime as runtime;
pub use tritonc_sema as sema;
pub use tritonc_syntax as syntax;

pub use tritonc_macros::kernel;

/// Whether `TRITONC_LOG` (a comma-separated list of topics) names `topic`
/// (`cache`, `compile`, `tune`).
pub use tritonc_cache::log_topic;

/// What kernel code in Rust needs: `use tritonc::prelude::*;`.
pub mod prelude {
    pub use crate::{
        api::{Bf16, Buffer, Device, Grid, LaunchOptions, F16},
        autotune::{Autotuner, Config},
        grid, kernel, Error,
    };
}

/// Everything that can go wrong, from a typo in a kernel to a missing GPU.
///
/// `Debug` shows diagnostics rendered, as `Display` does (`file:line:col:
/// error: ...`, the source line and a caret), so that `fn main() ->
/// Result<(), tritonc::Error>` prints them readably; the other variants
/// show as a derived `Debug` would.
#[derive(thiserror::Error)]
pub enum Error {
    /// Errors in the user's kernel source, rendered with file:line:col.
    #[error("{0}")]
    Diagnostics(#[from] tritonc_syntax::Diagnostics),
    #[error("{0}")]
    Usage(String),
    #[error(transparent)]
    Pass(#[from] tritonc_passes::PassError),
    #[cfg(feature = "compiler")]
    #[error(transparent)]
    Codegen(#[from] tritonc_codegen::CodegenError),
    /// The machine-code emulator refused or stopped a run (`--backend emu`).
    #[cfg(feature = "compiler")]
    #[error("emulator: {0}")]
    Emulator(#[from] tritonc_emu::EmuError),
    #[error(transparent)]
    Runtime(#[from] tritonc_runtime::RuntimeError),
    #[error("{0}")]
    Io(String),
    /// A bundle that cannot be used (corrupt, truncated, another version).
    #[error(transparent)]
    Bundle(#[from] bundle::BundleError),
    /// A kernel that must come from a bundle or the cache (no compiler in
    /// this program, or `tritonc run --bundle`) but is in neither.
    #[error("{0}")]
    NotCompiled(String),
    #[error("internal compiler error: {0}")]
    Internal(String),
}

impl std::fmt::Debug for Error {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Error::Diagnostics(d) => f.write_str(&d.rendered()),
            Error::Usage(m) => f.debug_tuple("Usage").field(m).finish(),
            Error::Pass(e) => f.debug_tuple("Pass").field(e).finish(),
            #[cfg(feature = "compiler")]
            Error::Codegen(e) => f.debug_tuple("Codegen").field(e).finish(),
            #[cfg(feature = "compiler")]
            Error::Emulator(e) => f.debug_tuple("Emulator").field(e).finish(),
            Error::Runtime(e) => f.debug_tuple("Runtime").field(e).finish(),
            Error::Io(m) => f.debug_tuple("Io").field(m).finish(),
            Error::Bundle(e) => f.debug_tuple("Bundle").field(e).finish(),
            Error::NotCompiled(m) => f.debug_tuple("NotCompiled").field(m).finish(),
            Error::Internal(m) => f.debug_tuple("Internal").field(m).finish(),
        }
    }
}
