//! The emulator's tests, one binary: Triton's code objects against Rust
//! references (`triton.rs`), single instructions (`instructions.rs`), matrix
//! register layouts against AMD's tables
//! (`layouts.rs`).

mod instructions;
mod layouts;
mod triton;
