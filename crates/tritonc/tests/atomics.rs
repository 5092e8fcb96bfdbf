//! Every atomic compiles for every GPU. The atomics' results (old values,
//! histograms) are kernel files (`tests/atomics/`, `tests/tutorials/`).

use crate::common;
use common::*;

#[test]
fn every_atomic_compiles_for_every_gpu() {
    // LLVM aborts the process on operations a back end cannot select, so
    // each kind and type must be checked to compile.
    let src = r#"
#[kernel]
fn k<const B: i32>(f: Ptr<f32>, d: Ptr<f64>, u: Ptr<u64>, i: Ptr<i32>) {
    let o = arange(0, B);
    atomic_add(f + o, 0.5);
    atomic_max(f + o, 0.5);
    atomic_min(d + o, 0.5);
    atomic_add(d + o, 1.5);
    atomic_max(u + o, 3);
    atomic_min(i + o, -3, o < 7);
    atomic_cas(i + o, o, 5);
    atomic_xchg(f, 1.0);
    atomic_xchg(d + o, 2.0);
}
"#;
    for target in ["gfx90a", "gfx942", "gfx1030", "gfx1100"] {
        compile_for(src, "k", &[("B", 256)], target).unwrap_or_else(|e| panic!("{target}: {e}"));
    }
}
