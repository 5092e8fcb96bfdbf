//! No silent miscompiles: every example kernel and a fixed list of random
//! kernels run in the reference interpreter (the oracle, on tile IR before
//! any pass) and must give the same buffers
//! - in the interpreter again, on the tile IR after the pass pipeline with
//!   each optional pass switched off in turn and all of them off: bit for
//!   bit, since passes must not change meaning at all;
//! - on the host and on the lane simulators of a wave64 (gfx942) and a
//!   wave32 (gfx1100) GPU: integers bit for bit, floats within
//!   `common::float_tolerance` (math functions are few-ulp approximations
//!   there and correctly rounded in the interpreter).
//!
//! Random kernels come from `common/gen.rs`; `cargo fuzz run differential`
//! (see docs/fuzzing.md) runs the same check on endless seeds.

use crate::common;

use common::{differential_check, example_request as example, f32s, gen, i32s, scalar_f32, scalar_i32, Rng};
use tritonc::{driver::CompileRequest, launch::Arg};

fn random_f32(rng: &mut Rng, n: usize) -> Arg {
    f32s(&(0..n).map(|_| rng.uniform(-3.0, 3.0) as f32).collect::<Vec<_>>())
}

#[test]
fn every_example_agrees_with_the_interpreter() {
    let mut rng = Rng(7);
    let n = 1000;
    // Blocks of 64 elements: host code generation grows faster than the
    // block, and the passes and layouts under test are the same.
    let (rows, cols, stride) = (4u32, 50, 64);
    let cases: Vec<(CompileRequest, [u32; 3], Vec<Arg>)> = vec![
        (
            example("vector_add.tk", "add", &[("BLOCK", 64)]),
            [16, 1, 1],
            vec![
                random_f32(&mut rng, n),
                random_f32(&mut rng, n),
                f32s(&vec![0.0; n]),
                scalar_i32(n as i32),
            ],
        ),
        (
            example("elementwise.tk", "activations", &[("BLOCK", 128), ("CLAMP", 1)]),
            [8, 1, 1],
            vec![
                random_f32(&mut rng, n),
                f32s(&vec![0.0; n]),
                scalar_i32(n as i32),
                scalar_f32(0.75),
            ],
        ),
        (
            example("elementwise.tk", "activations", &[("BLOCK", 64), ("CLAMP", 0)]),
            [16, 1, 1],
            vec![
                random_f32(&mut rng, n),
                f32s(&vec![0.0; n]),
                scalar_i32(n as i32),
                scalar_f32(-1.5),
            ],
        ),
        (
            example("elementwise.tk", "shifted_sum", &[("BLOCK", 128)]),
            [8, 1, 1],
            vec![
                i32s(&(0..n).map(|i| (i as i32 * 7919) % 201 - 100).collect::<Vec<_>>()),
                i32s(&vec![0; n]),
                scalar_i32(n as i32),
                scalar_i32(5),
            ],
        ),
        (
            example("softmax.tk", "softmax", &[("BLOCK", 64)]),
            [rows, 1, 1],
            vec![
                f32s(&vec![0.0; (rows * stride) as usize]),
                random_f32(&mut rng, (rows * stride) as usize),
                scalar_i32(stride as i32),
                scalar_i32(stride as i32),
                scalar_i32(cols),
            ],
        ),
        (
            example("layer_norm.tk", "layer_norm", &[("BLOCK", 64)]),
            [rows, 1, 1],
            vec![
                random_f32(&mut rng, (rows * stride) as usize),
                f32s(&vec![0.0; (rows * stride) as usize]),
                random_f32(&mut rng, cols as usize),
                random_f32(&mut rng, cols as usize),
                f32s(&vec![0.0; rows as usize]),
                f32s(&vec![0.0; rows as usize]),
                scalar_i32(stride as i32),
                scalar_i32(cols),
                scalar_f32(1e-5),
            ],
        ),
        (
            example("dropout.tk", "seeded_dropout", &[("BLOCK", 64)]),
            [16, 1, 1],
            vec![
                random_f32(&mut rng, n),
                f32s(&vec![0.0; n]),
                scalar_i32(n as i32),
                scalar_f32(0.3),
                scalar_i32(1234),
            ],
        ),
        (
            example("histogram.tk", "histogram", &[("BLOCK", 64)]),
            [16, 1, 1],
            vec![
                i32s(&(0..n).map(|i| ((i * i) % 37) as i32).collect::<Vec<_>>()),
                i32s(&[0; 37]),
                scalar_i32(n as i32),
                scalar_i32(37),
            ],
        ),
        (
            example(
                "matmul.tk",
                "matmul",
                &[
                    ("BLOCK_M", 32),
                    ("BLOCK_N", 16),
                    ("BLOCK_K", 16),
                    ("GROUP_M", 2),
                    ("ACTIVATION", 1),
                ],
            ),
            [6, 1, 1],
            {
                let (m, n, k) = (40usize, 40usize, 24usize);
                let halves = |rng: &mut Rng, len: usize| {
                    let v: Vec<u16> = (0..len)
                        .map(|_| tritonc::ir::fold_util::f32_to_f16_bits(rng.uniform(-1.0, 1.0) as f32))
                        .collect();
                    common::buf(&v, |h| h.to_le_bytes().to_vec())
                };
                let mut a = vec![
                    halves(&mut rng, m * k),
                    halves(&mut rng, k * n),
                    common::buf(&vec![0u16; m * n], |h| h.to_le_bytes().to_vec()),
                ];
                for s in [m, n, k, k, 1, n, 1, n, 1] {
                    a.push(scalar_i32(s as i32));
                }
                a
            },
        ),
    ];
    for (req, grid, args) in cases {
        let what = format!("{} in {}", req.kernel.clone().unwrap_or_default(), req.file.name);
        differential_check(&req, grid, args, &what);
    }
}

/// The fixed seed list CI runs (reproducible; 0..24 until the suite
/// neared CI's 10 minutes), in two tests that run in parallel;
/// `TRITONC_DIFF_SEEDS=a..b` runs another range (in the first).
fn random_kernels_agree_with_the_interpreter(default: std::ops::Range<u64>, first: bool) {
    let asked = std::env::var("TRITONC_DIFF_SEEDS").ok().and_then(|r| {
        let (a, b) = r.split_once("..")?;
        Some(a.parse::<u64>().ok()?..b.parse::<u64>().ok()?)
    });
    let range = match asked {
        Some(r) if first => r,
        Some(_) => return,
        None => default,
    };
    for seed in range {
        common::check_generated(&gen::generate(seed), &format!("random-{seed}.tk"));
    }
}

#[test]
fn random_kernels_0_to_8_agree_with_the_interpreter() {
    random_kernels_agree_with_the_interpreter(0..8, true);
}

#[test]
fn random_kernels_8_to_16_agree_with_the_interpreter() {
    random_kernels_agree_with_the_interpreter(8..16, false);
}

/// What the generator found, minimized: `select` and `maximum` of two
/// literals were refused ("operator does not apply to the float -2 and the
/// float -1000"), and so was `broadcast_to` of a scalar.
#[test]
fn generator_findings_stay_fixed() {
    let src = "#[kernel]\nfn k(out: Ptr<f32>, n: i32) {\n    let offs = arange(0, 16);\n    let m = offs < n;\n    let a = select(m, 1.5, 2);\n    let b = broadcast_to(maximum(-2.0, -1000.0) + minimum(3, 4.5), [16]);\n    store(out + offs, a + b);\n}\n";
    let out = common::run(src, "k", &[], [1, 1, 1], vec![f32s(&[0.0; 16]), scalar_i32(5)]);
    let want: Vec<f32> = (0..16).map(|i| if i < 5 { 1.5 } else { 2.0 } + (-2.0 + 3.0)).collect();
    assert_eq!(common::as_f32(&out[0]), want);
}

/// Prints the kernel of `TRITONC_SHOW_SEED` (for reading what the
/// generator makes): `cargo test -p tritonc --test all differential::show -- --nocapture`.
#[test]
fn show_a_generated_kernel() {
    let seed = std::env::var("TRITONC_SHOW_SEED")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(3);
    let k = gen::generate(seed);
    assert!(k.source.contains("fn fuzz("));
    println!("{}", k.source);
}
