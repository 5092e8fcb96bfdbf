//! `dot` and the matmul tutorial: results against plain Rust loops, for
//! ragged shapes, K smaller than a block, every input type, on the host,
//! the lane simulators and the interpreter (`common::run`).

use crate::common;

use common::{buf, bytes_of, run, scalar_i32, Rng};
use tritonc::{
    driver::CompileRequest,
    ir::fold_util::{bf16_bits_to_f32, f16_bits_to_f32, f32_to_bf16_bits, f32_to_f16_bits},
    launch::Arg,
    sema::ConstArg,
    syntax::SourceFile,
};

fn f16s(data: &[f32]) -> Arg {
    buf(data, |x| f32_to_f16_bits(x).to_le_bytes().to_vec())
}

fn as_f16(a: &Arg) -> Vec<f32> {
    bytes_of(a)
        .chunks(2)
        .map(|c| f16_bits_to_f32(u16::from_le_bytes([c[0], c[1]])))
        .collect()
}

/// Values exactly representable in f16 (so the reference sees the same
/// inputs as the kernel).
fn halves(rng: &mut Rng, n: usize) -> Vec<f32> {
    (0..n)
        .map(|_| f16_bits_to_f32(f32_to_f16_bits(rng.uniform(-1.0, 1.0) as f32)))
        .collect()
}

fn matmul_tutorial(m: usize, n: usize, k: usize, activation: bool, seed: u64) {
    matmul_tiles(m, n, k, activation, seed, (32, 32, 16), None);
}

/// Pipelined K loops (`num_stages` 2 to 4 issue the loads of 1 to 3
/// iterations ahead, predicated on those iterations existing) compute
/// what the plain loop (`num_stages` 1) does, for loops of 0 to 5
/// iterations, on the host, the interpreter and both lane simulators.
#[test]
fn pipelined_matmul_loops_match_the_reference() {
    for stages in 1..=4 {
        for (i, k) in [0usize, 9, 16, 40, 80].into_iter().enumerate() {
            matmul_staged(40, 36, k, i % 2 == 0, 30 + i as u64, (32, 32, 16), None, Some(stages));
        }
    }
}

/// The tutorial with tiles `bm × bn × bk` and optionally another number of
/// waves.
fn matmul_tiles(
    m: usize,
    n: usize,
    k: usize,
    activation: bool,
    seed: u64,
    tiles: (usize, usize, usize),
    num_warps: Option<u32>,
) {
    matmul_staged(m, n, k, activation, seed, tiles, num_warps, None);
}

/// [`matmul_tiles`] with `num_stages` too.
#[allow(clippy::too_many_arguments)]
fn matmul_staged(
    m: usize,
    n: usize,
    k: usize,
    activation: bool,
    seed: u64,
    (bm, bn, bk): (usize, usize, usize),
    num_warps: Option<u32>,
    num_stages: Option<u32>,
) {
    let path = format!("{}/../../dsl-examples/matmul.tk", env!("CARGO_MANIFEST_DIR"));
    let text = std::fs::read_to_string(path).unwrap();
    let mut rng = Rng(seed);
    let a = halves(&mut rng, m * k);
    let b = halves(&mut rng, k * n);
    let grid = (m.div_ceil(bm) * n.div_ceil(bn)) as u32;
    let mut req = CompileRequest::new(SourceFile::new("matmul.tk", text));
    req.kernel = Some("matmul".into());
    for (name, v) in [("BLOCK_M", bm), ("BLOCK_N", bn), ("BLOCK_K", bk), ("GROUP_M", 2)] {
        req.consts.insert(name.into(), ConstArg::Int(v as i64));
    }
    req.consts.insert("ACTIVATION".into(), ConstArg::Bool(activation));
    req.num_warps = num_warps;
    req.num_stages = num_stages;
    let args = vec![
        f16s(&a),
        f16s(&b),
        f16s(&vec![0.0; m * n]),
        scalar_i32(m as i32),
        scalar_i32(n as i32),
        scalar_i32(k as i32),
        scalar_i32(k as i32),
        scalar_i32(1),
        scalar_i32(n as i32),
        scalar_i32(1),
        scalar_i32(n as i32),
        scalar_i32(1),
    ];
    let out = common::run_request(req, [grid, 1, 1], args);
    let c = as_f16(&out[2]);
    for i in 0..m {
        for j in 0..n {
            let mut want: f32 = (0..k).map(|p| a[i * k + p] * b[p * n + j]).sum();
            if activation && want < 0.0 {
                want *= 0.01;
            }
            let got = c[i * n + j];
            assert!(
                (got - want).abs() <= 1e-3 * want.abs().max(1.0),
                "{m}x{n}x{k}: c[{i}][{j}] = {got}, want {want}"
            );
        }
    }
}

/// Tiles the waves can share as 32×32 matrix-instruction tiles: the MFMA
/// path on gfx942 (simulated lane by lane on `sim:gfx942`), the general
/// path elsewhere; all must agree with the host bit for bit.
#[test]
fn matmul_on_matrix_instructions_matches_the_reference() {
    matmul_tiles(100, 72, 40, false, 21, (64, 64, 16), None);
    matmul_tiles(64, 64, 32, true, 22, (32, 32, 32), Some(1));
    matmul_tiles(130, 64, 24, false, 23, (128, 64, 16), Some(8));
}

#[test]
fn matmul_tutorial_matches_a_plain_reference() {
    // Whole tiles; ragged M, N and K; K smaller than BLOCK_K; one tile.
    for (i, &(m, n, k)) in [(64, 64, 64), (70, 45, 50), (40, 96, 9), (16, 16, 16)]
        .iter()
        .enumerate()
    {
        matmul_tutorial(m, n, k, i % 2 == 1, 10 + i as u64);
    }
}

/// `dot(a, b, acc)` for one input type `t` and accumulator `acc_t`, on a
/// single [M, K] x [K, N] tile, against a Rust loop in f64 (floats) or
/// wrapping i32 (i8).
fn dot_kernel(t: &str, acc_t: &str) -> String {
    format!(
        "#[kernel(num_warps = 2)]
fn k<const M: i32, const N: i32, const K: i32>(a: Ptr<{t}>, b: Ptr<{t}>, c: Ptr<{acc_t}>) {{
    let rm = expand_dims(arange(0, M), 1);
    let rn = expand_dims(arange(0, N), 0);
    let rk = arange(0, K);
    let x = load(a + rm * K + expand_dims(rk, 0));
    let y = load(b + expand_dims(rk, 1) * N + rn);
    let acc = load(c + rm * N + rn);
    store(c + rm * N + rn, dot(x, y, acc));
}}
"
    )
}

/// Every input type on a tile too small for 32×32 MFMA tiles (16×16 MFMA
/// on gfx942, WMMA on gfx1100) and on one that fits them (every matrix
/// variant, simulated lane by lane on `sim:gfx942` and `sim:gfx1100`).
#[test]
fn dot_of_every_input_type() {
    dot_of_every_input_type_at(16, 32, 64, 3);
    dot_of_every_input_type_at(32, 64, 32, 4);
}

fn dot_of_every_input_type_at(m: usize, n: usize, k: usize, seed: u64) {
    let consts = [("M", m as i64), ("N", n as i64), ("K", k as i64)];
    let mut rng = Rng(seed);
    let values: Vec<f32> = (0..m * k + k * n).map(|_| rng.uniform(-2.0, 2.0) as f32).collect();
    let acc0: Vec<f32> = (0..m * n).map(|i| i as f32 * 0.25).collect();
    type Enc = fn(f32) -> (f32, Vec<u8>);
    let types: [(&str, Enc); 3] = [
        ("f16", |x| {
            let h = f32_to_f16_bits(x);
            (f16_bits_to_f32(h), h.to_le_bytes().to_vec())
        }),
        ("bf16", |x| {
            let h = f32_to_bf16_bits(x);
            (bf16_bits_to_f32(h), h.to_le_bytes().to_vec())
        }),
        ("f32", |x| (x, x.to_le_bytes().to_vec())),
    ];
    for (t, enc) in types {
        let (exact, bytes): (Vec<f32>, Vec<Vec<u8>>) = values.iter().map(|x| enc(*x)).unzip();
        let (a, b) = exact.split_at(m * k);
        let (ab, bb) = bytes.split_at(m * k);
        let arg = |v: &[Vec<u8>]| Arg::Buffer(tritonc::launch::HostBuffer::from_bytes(&v.concat()));
        let out = run(
            &dot_kernel(t, "f32"),
            "k",
            &consts,
            [1, 1, 1],
            vec![arg(ab), arg(bb), common::f32s(&acc0)],
        );
        let c = common::as_f32(&out[2]);
        for i in 0..m {
            for j in 0..n {
                let want = f64::from(acc0[i * n + j])
                    + (0..k)
                        .map(|p| f64::from(a[i * k + p]) * f64::from(b[p * n + j]))
                        .sum::<f64>();
                let got = f64::from(c[i * n + j]);
                assert!(
                    (got - want).abs() <= 1e-4 * want.abs().max(1.0),
                    "{t}: c[{i}][{j}] = {got}, want {want}"
                );
            }
        }
    }
    // i8 x i8 -> i32, with wrapping products at the extremes.
    let ints: Vec<i8> = (0..m * k + k * n)
        .map(|i| match i % 7 {
            0 => i8::MIN,
            1 => i8::MAX,
            _ => (rng.uniform(-128.0, 128.0) as i32).clamp(-128, 127) as i8,
        })
        .collect();
    let (a, b) = ints.split_at(m * k);
    let acc0: Vec<i32> = (0..m * n).map(|i| i as i32 - 100).collect();
    let out = run(
        &dot_kernel("i8", "i32"),
        "k",
        &consts,
        [1, 1, 1],
        vec![
            buf(a, |x| vec![x as u8]),
            buf(b, |x| vec![x as u8]),
            common::i32s(&acc0),
        ],
    );
    let c = common::as_i32(&out[2]);
    for i in 0..m {
        for j in 0..n {
            let want = (0..k).fold(acc0[i * n + j], |s, p| {
                s.wrapping_add(i32::from(a[i * k + p]) * i32::from(b[p * n + j]))
            });
            assert_eq!(c[i * n + j], want, "i8: c[{i}][{j}]");
        }
    }
}

#[test]
fn dot_errors_name_the_problem() {
    let err = |body: &str| {
        let src = format!("#[kernel]\nfn k(p: Ptr<f16>, q: Ptr<i8>) {{\n{body}\n}}\n");
        match tritonc::driver::front_end(&common::request(&src, "k", &[])) {
            Ok(_) => panic!("accepted: {body}"),
            Err(e) => e.to_string(),
        }
    };
    let z = "let a = zeros([16, 32], f16); let b = zeros([32, 16], f16);";
    assert!(err(&format!("{z} let c = dot(a, a);")).contains("the inner dimensions differ"));
    assert!(
        err("let a = zeros([8, 16], f16); let c = dot(a, zeros([16, 16], f16));")
            .contains("at least 16, found [8, 16] x [16, 16]")
    );
    assert!(err(&format!("{z} let c = dot(a, zeros([32, 16], f32));")).contains("one type among f16, bf16, f32 and i8"));
    assert!(err(&format!("{z} let c = dot(a, b, zeros([16, 16], f16));"))
        .contains("the accumulator of this `dot` must be block<f32, [16, 16]>"));
}

/// Every matrix instruction the compiler picks assembles for its target,
/// as many times as the layout says, and the general path is used where
/// there is none (f32 on gfx1100).
#[test]
fn every_matrix_variant_assembles_for_its_target() {
    // (The assembler spells them differently per architecture.) 64x64
    // blocks give each of 4 waves a 32x32 tile; 32x32 blocks are too small
    // for that and take the 16x16 instructions.
    let spelling = |t: &str, target: &str, big: bool| match (t, target, big) {
        ("f16", "gfx90a", true) => Some("v_mfma_f32_32x32x8f16"),
        ("f16", "gfx942", true) => Some("v_mfma_f32_32x32x8_f16"),
        ("bf16", "gfx90a", true) => Some("v_mfma_f32_32x32x8bf16_1k"),
        ("bf16", "gfx942", true) => Some("v_mfma_f32_32x32x8_bf16"),
        ("f32", "gfx90a", true) => Some("v_mfma_f32_32x32x2f32"),
        ("f32", "gfx942", true) => Some("v_mfma_f32_32x32x2_f32"),
        ("i8", "gfx90a", true) => Some("v_mfma_i32_32x32x8i8"),
        ("i8", "gfx942", true) => Some("v_mfma_i32_32x32x16_i8"),
        ("f16", "gfx90a", false) => Some("v_mfma_f32_16x16x16f16"),
        ("f16", "gfx942", false) => Some("v_mfma_f32_16x16x16_f16"),
        ("bf16", "gfx90a", false) => Some("v_mfma_f32_16x16x16bf16_1k"),
        ("bf16", "gfx942", false) => Some("v_mfma_f32_16x16x16_bf16"),
        ("f32", "gfx90a", false) => Some("v_mfma_f32_16x16x4f32"),
        ("f32", "gfx942", false) => Some("v_mfma_f32_16x16x4_f32"),
        ("i8", "gfx90a", false) => Some("v_mfma_i32_16x16x16i8"),
        ("i8", "gfx942", false) => Some("v_mfma_i32_16x16x32_i8"),
        ("f16", _, _) => Some("v_wmma_f32_16x16x16_f16"),
        ("bf16", _, _) => Some("v_wmma_f32_16x16x16_bf16"),
        ("i8", _, _) => Some("v_wmma_i32_16x16x16_iu8"),
        _ => None,
    };
    // Per wave: tiles x (K = 32) / k. 64x64: one 32x32 MFMA tile (k = 8,
    // 2 for f32, 16 for i8 on gfx942) or four 16x16 WMMA tiles (k = 16);
    // 32x32: one 16x16 tile (k = 16, 4 for f32, 32 for i8 on gfx942).
    let expected = |t: &str, target: &str, big: bool| match (t, target, big) {
        (_, "gfx1100", true) => 4 * 2,
        (_, "gfx1100", false) => 2,
        ("f32", _, true) => 16,
        ("i8", "gfx942", true) => 2,
        (_, _, true) => 4,
        ("f32", _, false) => 8,
        ("i8", "gfx942", false) => 1,
        (_, _, false) => 2,
    };
    for (t, acc) in [("f16", "f32"), ("bf16", "f32"), ("f32", "f32"), ("i8", "i32")] {
        let src = dot_kernel(t, acc);
        for big in [true, false] {
            let size = if big { 64 } else { 32 };
            for target in ["gfx90a", "gfx942", "gfx1100"] {
                let mut req = common::request(&src, "k", &[("M", size), ("N", size), ("K", 32)]);
                req.num_warps = Some(4);
                req.assembly = true;
                let c = common::compile_for_request(&req, target).unwrap_or_else(|e| panic!("{t} on {target}: {e}"));
                let asm = c
                    .stages
                    .iter()
                    .find(|s| s.file_name.ends_with(".s"))
                    .map(|s| String::from_utf8_lossy(&s.contents).to_string())
                    .unwrap_or_default();
                let count = |prefix: &str| asm.lines().filter(|l| l.trim_start().starts_with(prefix)).count();
                let what = format!("{t} {size}x{size} on {target}");
                match spelling(t, target, big) {
                    Some(want) => {
                        assert_eq!(count(want), expected(t, target, big), "{what}:\n{asm}");
                        assert_eq!(count("v_mfma") + count("v_wmma"), expected(t, target, big), "{what}");
                    }
                    None => assert_eq!(count("v_mfma") + count("v_wmma"), 0, "{what}"),
                }
            }
        }
    }
}

/// How many loads the optimized tile IR of `src` has with `stages`.
fn loads_after_passes(src: &str, consts: &[(&str, i64)], stages: u32) -> usize {
    let mut req = common::request(src, "k", consts);
    req.num_stages = Some(stages);
    let (module, _, _) = tritonc::driver::front_end(&req).unwrap();
    let f = module.function("k").unwrap();
    f.walk()
        .into_iter()
        .filter(|op| matches!(f.op(*op).kind, tritonc::ir::OpKind::Load { .. }))
        .count()
}

#[test]
fn pipelining_issues_loads_ahead_only_where_it_is_safe() {
    let looped = |extra: &str| {
        format!(
            "#[kernel(num_warps = 1)]
fn k(a: Ptr<f16>, b: Ptr<f16>, c: Ptr<f32>, k: i32) {{
    let r = arange(0, 32);
    let mut pa = a + expand_dims(r, 1) * 16 + expand_dims(arange(0, 16), 0);
    let pb = b + expand_dims(arange(0, 16), 1) * 32 + expand_dims(r, 0);
    let mut acc = zeros([32, 32], f32);
    for i in 0..k {{
        acc = dot(load(pa), load(pb), acc);
        pa += 512;
        {extra}
    }}
    store(c + expand_dims(r, 1) * 32 + expand_dims(r, 0), acc);
}}
"
        )
    };
    let plain = looped("");
    // Two loads in the loop; each stage beyond the first adds a prologue
    // copy of both.
    assert_eq!(loads_after_passes(&plain, &[], 1), 2);
    assert_eq!(loads_after_passes(&plain, &[], 2), 4);
    assert_eq!(loads_after_passes(&plain, &[], 4), 8);
    // A store in the body could feed a later iteration's load: untouched.
    let storing = looped("store(c, 1.0);");
    assert_eq!(loads_after_passes(&storing, &[], 3), 2);
}

/// `loop_ptrs`: the tutorial's K loop carries its two pointer blocks as
/// scalar base pointers once the passes ran (and as blocks without them).
#[test]
fn loop_pointer_blocks_are_carried_as_scalar_bases() {
    let carried = |disabled: &[&str]| {
        let mut req = common::example_request("matmul.tk", "matmul", common::MATMUL_32);
        req.disabled_passes = disabled.iter().map(|s| s.to_string()).collect();
        let (module, _, _) = tritonc::driver::front_end(&req).unwrap();
        let f = module.function("matmul").unwrap();
        let for_op = f
            .walk()
            .into_iter()
            .find(|op| matches!(f.op(*op).kind, tritonc::ir::OpKind::For))
            .expect("the K loop");
        let ptr = |blocks: bool| {
            f.op(for_op)
                .results
                .iter()
                .filter(|v| matches!(f.ty(**v).elem, tritonc::ir::Elem::Ptr(_)) && f.ty(**v).is_block() == blocks)
                .count()
        };
        (ptr(false), ptr(true))
    };
    assert_eq!(carried(&[]), (2, 0));
    assert_eq!(carried(&["loop_ptrs"]), (0, 2));
}
