//! The end-to-end tests, as one test binary: every file here is a module
//! of it (cargo builds and links one binary, which carries LLVM and MLIR,
//! instead of one per file, and runs all their tests on one pool of
//! threads). `cargo test -p tritonc --test all kernel_files::` runs one
//! file's tests.

mod common;

mod atomics;
mod buffers;
mod bundle;
mod cache;
mod check_generic;
mod cli;
mod compile_fail;
mod cpu_basic;
mod diagnostics;
mod differential;
mod emu_cli;
mod examples;
mod host_symbols;
mod kernel_files;
mod linking;
mod macro_kernels;
mod math;
mod matmul;
mod reductions;
mod remote_cache;
mod stages;
mod staging;
mod units;
