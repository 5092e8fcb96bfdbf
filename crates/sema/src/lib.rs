//! From AST to tile IR: type checking, constant generics, promotion and
//! SSA construction. See `lower.rs`; `generic.rs` checks kernels whose
//! const values are not all known.

mod generic;
mod lower;
pub mod types;

pub use generic::{check_kernel, GenericCheck};
pub use lower::{builtins, lower_kernel, lower_kernel_assuming, ConstArg, MAX_BLOCK_ELEMS, MAX_STATIC_UNROLL};
