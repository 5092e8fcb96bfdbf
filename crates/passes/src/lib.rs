//! Passes on tile IR, one file each, and the pipeline that runs them with
//! the verifier as a gate between passes.

pub mod axis;
pub mod cse;
pub mod dce;
pub mod fold;
pub mod inline;
pub mod layouts;
pub mod loop_ptrs;
pub mod pipeline;
pub mod remat;
pub mod transpose_loads;

use tritonc_ir::{verify_module, Module, VerifyError};

#[derive(Debug, thiserror::Error)]
pub enum PassError {
    #[error("after pass `{pass}`: {source}")]
    Verify {
        pass: &'static str,
        #[source]
        source: VerifyError,
    },
    #[error("inlining: {0}")]
    Inline(String),
}

/// A pass over a whole module.
pub type Pass = fn(&mut Module) -> Result<(), PassError>;

/// The default pipeline, in order.
pub const PIPELINE: &[(&str, Pass)] = &[
    ("inline", inline::run),
    ("fold", fold::run),
    ("remat", remat::run),
    ("loop_ptrs", loop_ptrs::run),
    ("pipeline", pipeline::run),
    ("cse", cse::run),
    ("dce", dce::run),
];

/// Passes that may be switched off: code generation needs calls inlined,
/// every other pass only makes the code better.
pub fn optional(name: &str) -> bool {
    name != "inline" && PIPELINE.iter().any(|(n, _)| *n == name)
}

/// Runs the pipeline, verifying the module before the first pass and after
/// every pass.
pub fn run_pipeline(module: &mut Module) -> Result<(), PassError> {
    run_pipeline_without(module, &[])
}

/// Runs the pipeline without the passes named in `skip` (which the caller
/// has checked with [`optional`]), verifying as [`run_pipeline`] does.
pub fn run_pipeline_without(module: &mut Module, skip: &[String]) -> Result<(), PassError> {
    verify_module(module).map_err(|source| PassError::Verify { pass: "input", source })?;
    for (name, pass) in PIPELINE {
        if skip.iter().any(|s| s == name) {
            continue;
        }
        pass(module)?;
        verify_module(module).map_err(|source| PassError::Verify { pass: name, source })?;
    }
    Ok(())
}
