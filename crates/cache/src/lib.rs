//! What a kernel compilation is asked for and what it gives
//! ([`request`]), the keys that name it, and the kernel cache on disk and
//! in a shared Redis store ([`cache`]). Nothing here links LLVM or MLIR:
//! the compiler (`tritonc` with its `compiler` feature) and programs that
//! only launch kernels share it, and so does the `tritonc` program's
//! front, which answers cache hits without starting the compiler.

pub mod cache;
pub mod request;

/// Whether `TRITONC_LOG` (a comma-separated list of topics) names `topic`
/// (`cache`, `compile`, `tune`).
pub fn log_topic(topic: &str) -> bool {
    std::env::var("TRITONC_LOG").is_ok_and(|v| v.split(',').any(|p| p == topic))
}
