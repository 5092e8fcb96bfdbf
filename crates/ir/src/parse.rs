//! Reads tile IR and Dist IR back from the text `print.rs` writes.
//!
//! **Guarantee:** for every function `f` the printer can print,
//! `print_function(&parse_function(&print_function(&f))?) ==
//! print_function(&f)`, and the same for modules; the IR read back passes
//! the verifiers whenever `f` did (`crates/ir/tests/roundtrip.rs` checks
//! both on dumps of real kernels; adding a case is adding a file). The
//! parser never panics, whatever the input, and reports every error as a
//! [`ParseError`] with the line and column.
//!
//! What the text does not carry is chosen as the front end would:
//! operation locations are empty ([`crate::Loc`]), a function that is not
//! a kernel has the default launch options. Types print signless (`i32` for
//! both `i32` and `u32`), so a value's signedness is solved from what the
//! operations say (`arith.divui`, `tk.cast {to = "u32"}`, pointers to
//! `ui32`, predicates) over the sets of values that must share a type;
//! a value nothing constrains is signed, which prints the same.
//!
//! Dist IR: layout aliases (`#blocked0 = #tk.blocked<{..}>`) before a
//! function make it Dist IR; each block value takes its tensor encoding's
//! layout and each scalar the uniform layout. How the program's lanes are
//! found when a blocked layout does not name them is in `parse/layouts.rs`
//! ([`ParseOptions::lanes`] says them outright).
//!
//! It is a lexer (`parse/lexer.rs`), a recursive-descent parser to a
//! syntax tree (`parse/syntax.rs`), and the steps that give the tree its
//! meaning: operation kinds (`parse/ops.rs`), layouts (`parse/layouts.rs`)
//! and the function (`parse/build.rs`). Uses may come before definitions
//! (as in MLIR): the verifier, not the parser, rejects them.

mod build;
mod layouts;
mod lexer;
mod ops;
mod syntax;

use crate::func::{Function, Module};

/// A position in the text (1-based; columns count characters).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Pos {
    pub line: u32,
    pub col: u32,
}

/// Why a text is not tile IR or Dist IR.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{}:{}: {message}", pos.line, pos.col)]
pub struct ParseError {
    pub pos: Pos,
    pub message: String,
}

impl ParseError {
    pub(crate) fn new(pos: Pos, message: impl Into<String>) -> ParseError {
        ParseError {
            pos,
            message: message.into(),
        }
    }
}

/// What the text of Dist IR may leave unsaid.
#[derive(Debug, Clone, Copy, Default)]
pub struct ParseOptions {
    /// The program's lanes (`Target::lanes`: waves times lanes per wave,
    /// 1 on the host). A blocked layout smaller than the program prints
    /// the same for any wave size; without this, the lanes are taken from
    /// the function's other layouts, else 64-lane waves are assumed.
    pub lanes: Option<u32>,
}

/// Reads a module as `print_module` writes it.
pub fn parse_module(text: &str) -> Result<Module, ParseError> {
    parse_module_with(text, &ParseOptions::default())
}

/// Reads a module, with `options` for what the text leaves unsaid.
pub fn parse_module_with(text: &str, options: &ParseOptions) -> Result<Module, ParseError> {
    let mut p = syntax::Parser::new(text);
    let asts = p.module()?;
    p.end()?;
    let functions = build::build(&asts, options)?;
    Ok(Module { functions })
}

/// Reads one function as `print_function` writes it (Dist IR with its
/// layout aliases, or tile IR).
pub fn parse_function(text: &str) -> Result<Function, ParseError> {
    parse_function_with(text, &ParseOptions::default())
}

/// Reads one function, with `options` for what the text leaves unsaid.
pub fn parse_function_with(text: &str, options: &ParseOptions) -> Result<Function, ParseError> {
    let mut p = syntax::Parser::new(text);
    let ast = p.function()?;
    p.end()?;
    let mut functions = build::build(std::slice::from_ref(&ast), options)?;
    functions.pop().ok_or_else(|| ParseError::new(ast.pos, "no function"))
}
