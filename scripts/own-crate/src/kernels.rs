// The kernels of scripts/own-crate/ and scripts/runtime-only/ (which has
// this file through a link): a kernel is found in a bundle by a hash of
// its text, so the program that launches it from the bundle must define
// it with the same tokens as the one that compiled it.
use tritonc::prelude::*;

// (`#[kernel]` makes `saxpy` and `row_sum` public: they give launchers.)

/// `out = a * x + y`, one block of `BLOCK` elements per program.
#[kernel]
fn saxpy<const BLOCK: i32>(a: f32, x: Ptr<f32>, y: Ptr<f32>, out: Ptr<f32>, n: i32) {
    let offs = program_id(0) * BLOCK + arange(0, BLOCK);
    let mask = offs < n;
    store(
        out + offs,
        a * load(x + offs, mask, 0.0) + load(y + offs, mask, 0.0),
        mask,
    );
}

/// The sum of each row of a `rows` x `n_cols` matrix, one row per program.
#[kernel]
fn row_sum<const BLOCK: i32>(x: Ptr<f32>, out: Ptr<f32>, n_cols: i32) {
    let row = program_id(0);
    let cols = arange(0, BLOCK);
    let v = load(x + row * n_cols + cols, cols < n_cols, 0.0);
    store(out + row, sum(v, 0));
}
