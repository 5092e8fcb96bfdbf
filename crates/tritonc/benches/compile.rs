//! Compile-time benchmark: vector add for gfx942 and the host, stage by
//! stage. The first compilation in the process is the cold one (MLIR and
//! LLVM initialize); the median of the following runs is the warm figure.
//!
//! Run: `cargo bench -p tritonc --bench compile`

use std::time::Duration;
use tritonc::{
    codegen::target,
    driver::{compile, CompileRequest},
    sema::ConstArg,
    syntax::SourceFile,
};

fn main() {
    let text = include_str!("../../../dsl-examples/vector_add.tk");
    let mut req = CompileRequest::new(SourceFile::new("vector_add.tk", text));
    req.consts.insert("BLOCK".into(), ConstArg::Int(1024));
    for name in ["gfx942", "host"] {
        let t = target::lookup(name).expect("target");
        let runs = 21;
        let mut all: Vec<Vec<(String, Duration)>> = Vec::new();
        for _ in 0..runs {
            let c = compile(&req, t.as_ref()).expect("vector add compiles");
            all.push(c.timings);
        }
        println!(
            "vector add (BLOCK=1024) for {name}: cold = first compilation in the process, warm = median of {} more",
            runs - 1
        );
        println!("  {:<36} {:>10} {:>10}", "stage", "cold ms", "warm ms");
        let stages = all[0].len();
        let mut cold_total = 0.0;
        let mut warm_total = 0.0;
        for s in 0..stages {
            let cold = all[0][s].1.as_secs_f64() * 1e3;
            let mut warm: Vec<f64> = all[1..].iter().map(|r| r[s].1.as_secs_f64() * 1e3).collect();
            warm.sort_by(f64::total_cmp);
            let med = warm[warm.len() / 2];
            cold_total += cold;
            warm_total += med;
            println!("  {:<36} {:>10.3} {:>10.3}", all[0][s].0, cold, med);
        }
        println!("  {:<36} {:>10.3} {:>10.3}\n", "total", cold_total, warm_total);
    }
}
