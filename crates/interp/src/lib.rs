//! The reference interpreter of tile IR: the oracle.
//!
//! It evaluates a kernel's tile IR (before or after any pass; Dist IR too,
//! whose layout conversions are identities here) one program at a time,
//! whole blocks at a time, in the plainest way that follows
//! `docs/language.md`: no layouts, no lanes, no LLVM. It is written to be
//! obviously right, not fast; the compiled kernels on every back end are
//! checked against it (`crates/tritonc/tests/differential.rs`).
//!
//! What it defines that compiled code leaves open, so that comparisons
//! are meaningful:
//! - programs run one after another in order (x fastest), so atomics
//!   return old values in that order;
//! - reductions combine in the order the language fixes (a balanced
//!   pairwise tree for a 1-D block to a scalar, left folds otherwise);
//! - every memory access is checked against the buffer the pointer was
//!   derived from; running off a buffer is an error with the operation's
//!   source location (compiled code would read or corrupt other memory).
//!
//! Architecture invariant: this crate depends on tile IR only; it shares no
//! code with the passes or code generation it checks.

mod eval;
pub mod memory;
pub mod scalar;

pub use eval::{run_kernel, ArgValue};
pub use memory::{BadAccess, BufferId, Memory};
use tritonc_ir::Loc;

/// Why a run stopped.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum InterpError {
    #[error("{what} out of bounds in program {program:?}: {access}")]
    OutOfBounds {
        what: &'static str,
        access: BadAccess,
        program: [u32; 3],
        loc: Loc,
    },
    #[error("device_assert failed in program {program:?}: {message}")]
    Assert {
        message: String,
        program: [u32; 3],
        loc: Loc,
    },
    #[error("{message} (program {program:?})")]
    Runtime {
        message: String,
        program: [u32; 3],
        loc: Loc,
    },
    /// The IR is not something the verifier accepts.
    #[error("invalid tile IR: {message}")]
    Invalid { message: String, loc: Loc },
}

impl InterpError {
    /// The source range of the operation that failed.
    pub fn loc(&self) -> Loc {
        match self {
            InterpError::OutOfBounds { loc, .. }
            | InterpError::Assert { loc, .. }
            | InterpError::Runtime { loc, .. }
            | InterpError::Invalid { loc, .. } => *loc,
        }
    }
}
