//! Tile IR: Triton's TTIR idea. SSA values of scalar or block type,
//! operations in arenas with typed handles, structured control flow.
//!
//! Architecture invariant: tile IR knows nothing of layouts, targets or
//! LLVM. Every dump is MLIR generic syntax that real MLIR parses.

/// Name prefix of host kernels' symbols, so that they never collide with
/// C symbols: the code generator defines `tk_NAME`, the CPU launcher loads it.
pub const HOST_SYMBOL_PREFIX: &str = "tk_";

pub mod fold_util;
pub mod func;
pub mod layout;
pub mod linear_layout;
pub mod ops;
pub mod parse;
pub mod print;
pub mod types;
pub mod verify;
pub mod verify_dist;

pub use func::{BlockData, BlockId, Function, LaunchOptions, Loc, Module, OpData, OpId, Value, ValueDef};
pub use layout::{
    BlockedDims, BlockedLayout, IndexBit, Layout, MatrixFamily, MatrixInstr, MatrixLayout, RegisterLayout,
};
pub use linear_layout::{ConversionKind, LinearLayout, LinearLayoutError, MatrixOperand};
pub use ops::{AtomicOp, BinaryOp, CmpPred, ConstValue, MathFn, OpKind, ReduceKind, ScanKind};
pub use parse::{parse_function, parse_function_with, parse_module, parse_module_with, ParseError, ParseOptions};
pub use print::{print_function, print_module};
pub use types::{Elem, ScalarType, Type};
pub use verify::{verify_function, verify_module, VerifyError};
pub use verify_dist::verify_layouts;
