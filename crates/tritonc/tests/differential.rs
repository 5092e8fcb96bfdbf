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

mod common;
#[path = "common/gen.rs"]
mod gen;

use common::{assert_agree, bytes_of, f32s, i32s, run_interp, scalar_f32, scalar_i32, Rng};
use tritonc::{
    codegen::{target, CodegenError},
    driver::{compile, front_end, CompileRequest},
    launch::{run_cpu, run_interp as run_interp_module, Arg},
    runtime::Grid,
    sema::ConstArg,
    syntax::SourceFile,
    Error,
};

/// Pipelines to check: the default, each optional pass off, all off.
const VARIANTS: &[&[&str]] = &[&[], &["fold"], &["cse"], &["dce"], &["fold", "cse", "dce"]];

/// Checks one kernel with one set of arguments; `what` names it in failures.
fn check(base: &CompileRequest, grid: [u32; 3], args: Vec<Arg>, what: &str) {
    let oracle = run_interp(base, grid, args.clone());
    for (i, variant) in VARIANTS.iter().enumerate() {
        let mut req = base.clone();
        req.disabled_passes = variant.iter().map(|s| s.to_string()).collect();
        let pipeline = if variant.is_empty() {
            "the default pipeline".to_string()
        } else {
            format!("--disable-pass {}", variant.join(","))
        };
        let (module, _, kernel) = front_end(&req).unwrap_or_else(|e| panic!("{what}: front end failed:\n{e}"));
        let mut after = args.clone();
        run_interp_module(&req.file, &module, &kernel, Grid(grid), &mut after)
            .unwrap_or_else(|e| panic!("{what}: the interpreter failed after passes ({pipeline}):\n{e}"));
        for (k, (a, b)) in oracle.iter().zip(&after).enumerate() {
            if let (Arg::Buffer(_), Arg::Buffer(_)) = (a, b) {
                assert!(
                    bytes_of(a) == bytes_of(b),
                    "{what}: argument {k} differs in the interpreter after the passes ({pipeline})"
                );
            }
        }
        // The lane simulators take the default pipeline and the one with
        // every optional pass off; the host takes them all.
        let targets: &[&str] = if i == 0 || i == VARIANTS.len() - 1 {
            &common::TARGETS
        } else {
            &common::TARGETS[..1]
        };
        for t in targets {
            let tgt = target::lookup(t).expect("known target");
            let c = match compile(&req, tgt.as_ref()) {
                Ok(c) => c,
                Err(Error::Codegen(CodegenError::Unsupported(_))) => continue,
                Err(e) => panic!("{what}: compiling for {t} ({pipeline}) failed:\n{e}"),
            };
            let mut out = args.clone();
            run_cpu(&c, Grid(grid), &mut out, 4).unwrap_or_else(|e| panic!("{what}: run on {t} failed: {e}"));
            assert_agree(&req, &oracle, &out, &format!("{t} ({pipeline}) for {what}"));
        }
    }
}

fn example(file: &str, kernel: &str, consts: &[(&str, i64)]) -> CompileRequest {
    let path = format!("{}/../../dsl-examples/{file}", env!("CARGO_MANIFEST_DIR"));
    let text = std::fs::read_to_string(&path).unwrap();
    let mut req = CompileRequest::new(SourceFile::new(file, text.clone()));
    req.kernel = Some(kernel.to_string());
    for (k, v) in consts {
        let value = if text.contains(&format!("const {k}: bool")) {
            ConstArg::Bool(*v != 0)
        } else {
            ConstArg::Int(*v)
        };
        req.consts.insert(k.to_string(), value);
    }
    req
}

fn random_f32(rng: &mut Rng, n: usize) -> Arg {
    f32s(&(0..n).map(|_| rng.uniform(-3.0, 3.0) as f32).collect::<Vec<_>>())
}

#[test]
fn every_example_agrees_with_the_interpreter() {
    let mut rng = Rng(7);
    let n = 1000;
    let (rows, cols, stride) = (4u32, 200, 256);
    let cases: Vec<(CompileRequest, [u32; 3], Vec<Arg>)> = vec![
        (
            example("vector_add.tk", "add", &[("BLOCK", 256)]),
            [4, 1, 1],
            vec![random_f32(&mut rng, n), random_f32(&mut rng, n), f32s(&vec![0.0; n]), scalar_i32(n as i32)],
        ),
        (
            example("elementwise.tk", "activations", &[("BLOCK", 256), ("CLAMP", 1)]),
            [4, 1, 1],
            vec![random_f32(&mut rng, n), f32s(&vec![0.0; n]), scalar_i32(n as i32), scalar_f32(0.75)],
        ),
        (
            example("elementwise.tk", "activations", &[("BLOCK", 64), ("CLAMP", 0)]),
            [16, 1, 1],
            vec![random_f32(&mut rng, n), f32s(&vec![0.0; n]), scalar_i32(n as i32), scalar_f32(-1.5)],
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
            example("softmax.tk", "softmax", &[("BLOCK", 256)]),
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
            example("layer_norm.tk", "layer_norm", &[("BLOCK", 256)]),
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
            example("dropout.tk", "seeded_dropout", &[("BLOCK", 256)]),
            [4, 1, 1],
            vec![
                random_f32(&mut rng, n),
                f32s(&vec![0.0; n]),
                scalar_i32(n as i32),
                scalar_f32(0.3),
                scalar_i32(1234),
            ],
        ),
        (
            example("histogram.tk", "histogram", &[("BLOCK", 256)]),
            [4, 1, 1],
            vec![
                i32s(&(0..n).map(|i| ((i * i) % 37) as i32).collect::<Vec<_>>()),
                i32s(&[0; 37]),
                scalar_i32(n as i32),
                scalar_i32(37),
            ],
        ),
    ];
    for (req, grid, args) in cases {
        let what = format!("{} in {}", req.kernel.clone().unwrap_or_default(), req.file.name);
        check(&req, grid, args, &what);
    }
}

/// Runs the random kernel of `seed` through [`check`].
fn check_seed(seed: u64) {
    let k = gen::generate(seed);
    let mut req = CompileRequest::new(SourceFile::new(format!("random-{seed}.tk"), k.source.clone()));
    req.kernel = Some("fuzz".into());
    let (red_rows, red_cols) = k.red_lens();
    let args = vec![
        f32s(&k.xf),
        i32s(&k.xi),
        f32s(&vec![0.0; k.len()]),
        i32s(&vec![0; k.len()]),
        f32s(&vec![0.0; red_rows]),
        i32s(&vec![0; red_cols.max(k.grid as usize)]),
        scalar_i32(k.n),
        scalar_i32(k.k),
        scalar_f32(k.s),
    ];
    check(&req, [k.grid, 1, 1], args, &format!("random kernel {seed}:\n{}\n", k.source));
}

/// The fixed seed list CI runs (reproducible); `TRITONC_DIFF_SEEDS=a..b`
/// runs another range.
#[test]
fn random_kernels_agree_with_the_interpreter() {
    let range = std::env::var("TRITONC_DIFF_SEEDS")
        .ok()
        .and_then(|r| {
            let (a, b) = r.split_once("..")?;
            Some(a.parse::<u64>().ok()?..b.parse::<u64>().ok()?)
        })
        .unwrap_or(0..24);
    for seed in range {
        check_seed(seed);
    }
}
