//! From AST to tile IR: type checking, constant generics, promotion and
//! SSA construction. See `lower.rs`.

mod lower;
pub mod types;

pub use lower::{builtins, lower_kernel, lower_kernel_assuming, ConstArg, MAX_BLOCK_ELEMS, MAX_STATIC_UNROLL};
