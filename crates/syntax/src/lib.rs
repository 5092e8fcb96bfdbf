//! The kernel language's syntax: a pest grammar, the AST, spans and
//! diagnostics.
//!
//! Architecture invariant: parsing never panics, whatever the input; every
//! error is a [`Diagnostic`] with a span.

pub mod ast;
pub mod diag;
mod parse;

pub use diag::{closest, Diagnostic, Diagnostics, SourceFile, Span};
pub use parse::{parse_file, MAX_NESTING};

/// Parses `file`, rendering a syntax error against it.
pub fn parse(file: &SourceFile) -> Result<ast::File, Diagnostics> {
    parse_file(&file.text).map_err(|d| Diagnostics {
        file: file.clone(),
        items: vec![d],
    })
}
