//! The tutorial programs in `examples/`, compiled into this binary (each
//! on its own would be a 300 MB program, linked only to be checked; the
//! test script builds no example binaries). The quick ones run here and
//! check their own results against a plain loop; matmul and attention
//! take several seconds each (autotuning, two variants), and `matmul.rs`
//! and the kernel files `tests/tutorials/attention*.tk` test their kernels, so those two are only compiled. `cargo run -p tritonc
//! --example NAME` runs any of them.

#[allow(dead_code)]
mod attention {
    include!("../examples/attention.rs");
}

#[allow(dead_code)]
mod matmul {
    include!("../examples/matmul.rs");
}

mod softmax {
    include!("../examples/softmax.rs");
    pub fn run() -> Result<(), tritonc::Error> {
        main()
    }
}

mod vector_add {
    include!("../examples/vector_add.rs");
    pub fn run() -> Result<(), tritonc::Error> {
        main()
    }
}

#[test]
fn vector_add_example_runs_and_checks_its_result() -> Result<(), tritonc::Error> {
    vector_add::run()
}

#[test]
fn softmax_example_runs_and_checks_its_result() -> Result<(), tritonc::Error> {
    softmax::run()
}
