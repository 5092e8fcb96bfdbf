//! The emulator's tests, one binary: Triton's code objects against Rust
//! references (`triton.rs`), matrix register layouts against AMD's tables
//! (`layouts.rs`).

mod layouts;
mod triton;
