//! Every stage of the pipeline for the tutorials in `dsl-examples/`,
//! pinned by snapshots, plus the properties every stage must have: tile IR
//! parses in real MLIR, the code object's metadata is right, and output is
//! deterministic.

use crate::common;

use common::{example_request, EXAMPLES, MORE_EXAMPLES};
use std::process::Command;
use tritonc::{codegen::llvm::parse_unregistered, driver::compile};

/// Pins every text stage of `c` as snapshot `stage@{prefix}-{stage}`.
fn snapshot_stages(c: &tritonc::driver::Compiled, prefix: &str) {
    for stage in &c.stages {
        if stage.file_name.ends_with(".hsaco") {
            continue;
        }
        let text = String::from_utf8(stage.contents.clone()).unwrap();
        let name = format!("{prefix}-{}", stage.file_name);
        insta::with_settings!({ snapshot_suffix => name.clone(), prepend_module_to_snapshot => false, omit_expression => true }, {
            insta::assert_snapshot!("stage", text);
        });
    }
}

/// The text of stage `prefix*` of `c`.
fn stage_text(c: &tritonc::driver::Compiled, prefix: &str) -> String {
    c.stages
        .iter()
        .find(|s| s.file_name.starts_with(prefix))
        .map(|s| String::from_utf8_lossy(&s.contents).to_string())
        .unwrap_or_default()
}

#[test]
fn snapshots_of_every_stage_for_gfx942() {
    let gfx942 = tritonc::codegen::target::lookup("gfx942").unwrap();
    for (file, kernel, consts) in EXAMPLES {
        // Snapshots show the code Triton's JIT would get: aligned arguments
        // and buffers under 4 GiB.
        let mut req = example_request(file, kernel, consts);
        req.divisible = tritonc::driver::Divisible::All;
        req.small_buffers = true;
        req.assembly = true;
        let c = compile(&req, gfx942.as_ref()).unwrap();
        snapshot_stages(&c, &format!("{kernel}-gfx942"));
    }
}

/// The matmul tutorial on the matrix-instruction path: one wave holding
/// the whole 32×32 tile (one MFMA tile on gfx942, four WMMA tiles on
/// gfx1100), every stage.
#[test]
fn snapshots_of_every_stage_on_matrix_instructions() {
    for (target, family) in [("gfx942", "mfma"), ("gfx1100", "wmma")] {
        let t = tritonc::codegen::target::lookup(target).unwrap();
        let (file, kernel, consts) = EXAMPLES.iter().find(|e| e.1 == "matmul").expect("the matmul example");
        let mut req = example_request(file, kernel, consts);
        req.num_warps = Some(1);
        req.divisible = tritonc::driver::Divisible::All;
        req.small_buffers = true;
        req.assembly = true;
        let c = compile(&req, t.as_ref()).unwrap();
        let dist = stage_text(&c, "3-dist");
        assert!(dist.contains(&format!("#tk.{family}<")), "{target}: {dist}");
        snapshot_stages(&c, &format!("matmul-{family}-{target}"));
    }
}

#[test]
fn tile_ir_and_dist_ir_dumps_parse_in_real_mlir() {
    let host = tritonc::codegen::target::lookup("gfx942").unwrap();
    for (file, kernel, consts) in EXAMPLES {
        let c = compile(&example_request(file, kernel, consts), host.as_ref()).unwrap();
        for stage in c
            .stages
            .iter()
            .filter(|s| ["1-", "2-", "3-"].iter().any(|p| s.file_name.starts_with(p)))
        {
            let text = String::from_utf8(stage.contents.clone()).unwrap();
            assert!(
                parse_unregistered(&text),
                "{kernel} {}: MLIR does not parse it:\n{text}",
                stage.file_name
            );
        }
    }
}

fn readelf() -> Option<std::path::PathBuf> {
    ["/usr/lib/llvm-22/bin/llvm-readelf", "/usr/bin/llvm-readelf-22"]
        .iter()
        .map(std::path::PathBuf::from)
        .find(|p| p.exists())
}

#[test]
fn code_object_metadata_names_kernel_target_and_arguments() {
    let readelf = readelf().expect("llvm-readelf from LLVM 22 (scripts/setup.sh installs it)");
    for (target, wave) in [("gfx942", 64), ("gfx90a", 64), ("gfx1100", 32)] {
        for version in [4u32, 5, 6] {
            let t = tritonc::codegen::target::lookup(target).unwrap();
            let mut req = example_request("vector_add.tk", "add", &[("BLOCK", 1024)]);
            req.code_object_version = version;
            let c = compile(&req, t.as_ref()).unwrap();
            let dir = std::env::temp_dir().join(format!("tritonc-notes-{}-{target}-{version}", std::process::id()));
            std::fs::create_dir_all(&dir).unwrap();
            let path = dir.join("add.hsaco");
            std::fs::write(&path, &c.binary).unwrap();
            let out = Command::new(&readelf).arg("--notes").arg(&path).output().unwrap();
            let notes = String::from_utf8_lossy(&out.stdout).to_string();
            let _ = std::fs::remove_dir_all(&dir);
            assert!(notes.contains("NT_AMDGPU_METADATA"), "{notes}");
            assert!(
                notes.contains(&format!("amdhsa.target:   amdgcn-amd-amdhsa--{target}")),
                "{notes}"
            );
            assert!(notes.contains(".name:           add"), "{notes}");
            assert!(notes.contains(".symbol:         add.kd"), "{notes}");
            assert!(notes.contains(&format!(".wavefront_size: {wave}")), "{notes}");
            // 4 waves of `wave` lanes per program.
            assert!(
                notes.contains(&format!(".max_flat_workgroup_size: {}", 4 * wave)),
                "{notes}"
            );
            // The ELF header's ABI version says the code object version
            // (2 for v4, 3 for v5, 4 for v6); v4 has metadata 1.1, v5 and v6 1.2.
            assert_eq!(u32::from(c.binary[8]), version - 2, "EI_ABIVERSION for v{version}");
            let minor = if version == 4 { 1 } else { 2 };
            assert!(
                notes.contains(&format!("amdhsa.version:\n  - 1\n  - {minor}")),
                "v{version}: {notes}"
            );
            // Arguments: three global pointers then an i32, at offsets 0, 8, 16, 24.
            let args: Vec<(String, String, String)> = notes
                .split("      - ")
                .filter(|a| a.contains(".value_kind:"))
                .map(|a| {
                    let field = |k: &str| {
                        a.lines()
                            .find_map(|l| l.trim().strip_prefix(k).map(|v| v.trim().to_string()))
                            .unwrap_or_default()
                    };
                    (field(".offset:"), field(".size:"), field(".value_kind:"))
                })
                .filter(|(_, _, kind)| !kind.starts_with("hidden"))
                .collect();
            let want: Vec<(String, String, String)> = [
                ("0", "8", "global_buffer"),
                ("8", "8", "global_buffer"),
                ("16", "8", "global_buffer"),
                ("24", "4", "by_value"),
            ]
            .iter()
            .map(|(a, b, c)| (a.to_string(), b.to_string(), c.to_string()))
            .collect();
            assert_eq!(args, want, "{target} v{version}: {notes}");
        }
    }
}

#[test]
fn output_is_deterministic_in_every_stage() {
    for target in ["gfx942", "host"] {
        let t = tritonc::codegen::target::lookup(target).unwrap();
        for (file, kernel, consts) in EXAMPLES {
            let req = example_request(file, kernel, consts);
            let a = compile(&req, t.as_ref()).unwrap();
            let b = compile(&req, t.as_ref()).unwrap();
            assert_eq!(a.stages.len(), b.stages.len());
            for (x, y) in a.stages.iter().zip(&b.stages) {
                assert_eq!(x.file_name, y.file_name);
                assert!(
                    x.contents == y.contents,
                    "{kernel} on {target}: stage {} differs between runs",
                    x.file_name
                );
            }
            assert_eq!(a.binary, b.binary);
        }
    }
}

#[test]
fn every_example_compiles_for_every_gpu() {
    for target in ["gfx90a", "gfx942", "gfx1030", "gfx1100"] {
        let t = tritonc::codegen::target::lookup(target).unwrap();
        for (file, kernel, consts) in EXAMPLES.iter().chain(MORE_EXAMPLES) {
            let mut req = example_request(file, kernel, consts);
            req.divisible = tritonc::driver::Divisible::All;
            compile(&req, t.as_ref()).unwrap_or_else(|e| panic!("{kernel} on {target}: {e}"));
        }
    }
}

/// f32 `exp2` is the hardware's `v_exp_f32` alone on AMD GPUs (as
/// Triton's), `exp` keeps LLVM's range handling (`v_ldexp_f32` scales
/// results below 2^-126), and the host computes `exp2` in full.
#[test]
fn exp2_is_one_instruction_on_amd_gpus_and_exp_keeps_its_range_handling() {
    let src = "#[kernel(num_warps = 1)]\nfn k<const BLOCK: i32>(x: Ptr<f32>, y: Ptr<f32>, z: Ptr<f32>) {\n    let o = arange(0, BLOCK);\n    let v = load(x + o);\n    store(y + o, exp2(v));\n    store(z + o, exp(v));\n}\n";
    let asm_counts = |target: &str, keep_exp: bool| {
        let t = tritonc::codegen::target::lookup(target).unwrap();
        let src = if keep_exp {
            src.to_string()
        } else {
            src.replace("    store(z + o, exp(v));\n", "")
        };
        let mut req = common::request(&src, "k", &[("BLOCK", 256)]);
        req.assembly = true;
        let c = compile(&req, t.as_ref()).unwrap();
        let asm = stage_text(&c, "8-");
        let count = |m: &str| asm.lines().filter(|l| l.trim_start().starts_with(m)).count();
        (count("v_exp_f32"), count("v_ldexp_f32"), stage_text(&c, "6-"))
    };
    for target in ["gfx942", "gfx1100"] {
        // 256 elements over 64 (gfx942) or 32 (gfx1100) lanes of one wave.
        let per_lane = if target == "gfx942" { 4 } else { 8 };
        let (exps, ldexps, ir) = asm_counts(target, false);
        assert!(ir.contains("llvm.amdgcn.exp2"), "{target}:\n{ir}");
        assert_eq!((exps, ldexps), (per_lane, 0), "{target}: exp2 alone");
        let (exps, ldexps, _) = asm_counts(target, true);
        assert_eq!((exps, ldexps), (2 * per_lane, per_lane), "{target}: exp2 and exp");
    }
    let host = tritonc::codegen::target::lookup("host").unwrap();
    let c = compile(&common::request(src, "k", &[("BLOCK", 256)]), host.as_ref()).unwrap();
    assert!(!stage_text(&c, "6-").contains("amdgcn"));
}

/// The attention benchmark's configuration (docs/benchmarks.md: BLOCK_M
/// 128, BLOCK_N 64, HEAD_DIM 64, 4 waves, one stage, `--divisible all`)
/// compiled for `target`, with its assembly.
fn compile_attention(target: &str) -> tritonc::driver::Compiled {
    let t = tritonc::codegen::target::lookup(target).unwrap();
    let mut req = example_request(
        "attention.tk",
        "attn_fwd",
        &[("BLOCK_M", 128), ("BLOCK_N", 64), ("HEAD_DIM", 64)],
    );
    req.divisible = tritonc::driver::Divisible::All;
    req.num_stages = Some(1);
    req.assembly = true;
    compile(&req, t.as_ref()).unwrap()
}

/// Attention on gfx942: the `k` tile is `[HEAD_DIM, BLOCK_N]` with memory
/// contiguous along its first dimension: it is loaded as `[BLOCK_N,
/// HEAD_DIM]` in 128-bit loads and staged for the matrix instruction from
/// those registers (a `tk.trans` the dot folds in, no conversion through
/// shared memory), not element by element; `p` and the output stay in
/// the MFMA layout. (The values: the attention kernel files, on the lane
/// simulators, whose 1-wave 32 x 32 run takes the same paths.)
#[test]
fn attention_moves_through_shared_memory_only_what_the_dots_stage() {
    let c = compile_attention("gfx942");
    let dist = stage_text(&c, "3-");
    let trans: Vec<&str> = dist.lines().filter(|l| l.contains("\"tk.trans\"")).collect();
    assert_eq!(trans.len(), 1, "{dist}");
    let source = trans[0]
        .split("\"tk.trans\"(")
        .nth(1)
        .and_then(|r| r.split(')').next())
        .unwrap();
    let def = dist
        .lines()
        .find(|l| l.trim_start().starts_with(&format!("{source} = ")))
        .unwrap();
    assert!(
        def.contains("\"tk.load\"") && def.contains("tensor<64x64x!tk.ptr<f16>"),
        "{def}"
    );
    let asm = stage_text(&c, "8-");
    let count = |m: &str| asm.lines().filter(|l| l.trim_start().starts_with(m)).count();
    // q (128 x 64), k and v (64 x 64 each) f16 over 256 lanes: 4 + 2 + 2.
    assert_eq!(count("global_load_dwordx4"), 8, "{asm}");
    assert_eq!(count("global_load_ushort"), 0);
    // Staging writes 128 bits per lane per row: q's two (once, before the
    // loop, whose fragments are then read into registers) and k's two. v,
    // row-major, is written transposed: lanes 8 apart trade halves with
    // `row_ror:8` DPP moves (4 a lane), so that each holds consecutive
    // keys of its columns, stored in pairs (8 4-byte stores a lane,
    // merged in twos), not element by element.
    assert_eq!(count("ds_write2_b64"), 6, "{asm}");
    assert_eq!(count("ds_write2_b32"), 4, "{asm}");
    assert_eq!(count("ds_write_b16"), 0, "{asm}");
    assert_eq!(asm.lines().filter(|l| l.contains("row_ror:8")).count(), 4, "{asm}");
    let loop_start = asm.lines().position(|l| l.contains("ds_write2_b32")).unwrap();
    let before_loop = |m: &str| {
        asm.lines()
            .take(loop_start)
            .filter(|l| l.trim_start().starts_with(m))
            .count()
    };
    assert_eq!(before_loop("ds_write2_b64"), 4, "{asm}");
    assert_eq!(before_loop("ds_read2_b64"), 4, "{asm}");
    // `p` (the second dot's first operand) is picked from its own
    // registers, and the output is stored from the MFMA layout in runs of
    // four f16 (Triton's 8 global_store_dwordx2): nothing else goes
    // through shared memory but the row reductions' lane exchanges.
    assert_eq!(count("global_store_dwordx2"), 8, "{asm}");
    assert_eq!(count("ds_read_b32"), 0, "{asm}");
    assert_eq!(count("ds_write_b64"), 0, "{asm}");
    // The row maximum combines a lane's registers first and exchanges
    // once; the row sum keeps the language's order: 8 partials cross the
    // lane halves, each half combines 4 of them (4 exchanges), and the
    // last level is 1 more.
    assert_eq!(count("ds_bpermute_b32"), 6, "{asm}");
}

/// On gfx1100 (WMMA, 32 lanes) 4 waves give attention's 128 rows two per
/// lane: more than the blocked layout of a 128-element row vector holds
/// (one a lane). The row vectors (`m_i`, `l_i`, the row maximum and sum,
/// `alpha`) are still kept in the slice of the WMMA layout, two registers
/// a lane: no `tk.convert_layout` of a row vector, no LDS round trip
/// (`ds_store_b32` + barrier + `ds_load_b32`) for them. The barriers
/// left are the loop's two pairs staging `k` and `v` and the output's
/// conversion to the blocked layout.
#[test]
fn attention_keeps_row_vectors_in_registers_on_wmma() {
    let c = compile_attention("gfx1100");
    let dist = stage_text(&c, "3-");
    let converts: Vec<&str> = dist.lines().filter(|l| l.contains("\"tk.convert_layout\"")).collect();
    assert_eq!(converts.len(), 1, "{dist}");
    assert!(converts[0].contains("tensor<128x64xf32, #wmma"), "{dist}");
    assert!(dist.contains("-> (tensor<128xf32, #slice"), "{dist}");
    let lowering = stage_text(&c, "4-");
    assert!(lowering.contains("vector<2xf32>"), "{lowering}");
    let asm = stage_text(&c, "8-");
    let count = |m: &str| asm.lines().filter(|l| l.trim_start().starts_with(m)).count();
    assert_eq!(count("ds_load_b32"), 0, "{asm}");
    assert_eq!(count("ds_store_b32"), 0, "{asm}");
    assert_eq!(count("s_barrier"), 6, "{asm}");
}

/// The matmul of `docs/benchmarks.md` (2 stages, 4 waves, the flags
/// Triton's JIT specializes on) on gfx1100 keeps its loop in registers:
/// its addresses and masks are one value a lane plus steps every lane
/// shares (`emit/affine.rs`). Before, 16 addresses and 16 mask values a
/// lane were kept across the loop and 112 bytes spilled. (The values:
/// `matmul::pipelined_matmul_loops_match_the_reference` and the kernel
/// files, in the emulator for gfx1100.)
#[test]
fn matmul_loop_does_not_spill_on_wmma() {
    let mut req = example_request(
        "matmul.tk",
        "matmul",
        &[
            ("BLOCK_M", 128),
            ("BLOCK_N", 128),
            ("BLOCK_K", 64),
            ("GROUP_M", 8),
            ("ACTIVATION", 0),
        ],
    );
    req.divisible = tritonc::driver::Divisible::All;
    req.small_buffers = true;
    for s in ["stride_ak", "stride_bn", "stride_cn"] {
        req.assume.insert(s.into(), 1);
    }
    assert_no_scratch(req, "gfx1100");
}

/// A loop's address blocks are one offset a lane plus steps every lane
/// shares (`emit/affine.rs`), so on gfx1100 the linear layer's 2-stage
/// loop keeps its addresses in registers: before, each 8-element run of
/// the `x` and `w` tiles kept its own 64-bit offset across the loop and
/// 16 bytes of them spilled. (The values: the kernel files, in the
/// emulator for gfx1100.)
#[test]
fn loop_addresses_do_not_spill_on_wmma() {
    let path = format!("{}/../../tests/tutorials/linear.tk", env!("CARGO_MANIFEST_DIR"));
    let text = std::fs::read_to_string(&path).unwrap();
    let mut req = common::request(&text, "linear", &[("BLOCK_M", 128), ("BLOCK_N", 128), ("BLOCK_K", 64)]);
    req.divisible = tritonc::driver::Divisible::All;
    assert_no_scratch(req, "gfx1100");
}

/// Compiles `req` for `target` and checks that its code object has no
/// scratch (no spills, no stack).
fn assert_no_scratch(mut req: tritonc::driver::CompileRequest, target: &str) {
    req.assembly = true;
    let t = tritonc::codegen::target::lookup(target).unwrap();
    let c = compile(&req, t.as_ref()).unwrap();
    let asm = stage_text(&c, "8-");
    let scratch: Vec<&str> = asm
        .lines()
        .filter(|l| l.contains(".private_segment_fixed_size:"))
        .map(str::trim)
        .collect();
    assert_eq!(scratch, [".private_segment_fixed_size: 0"], "{asm}");
    assert!(!asm.contains("scratch_store"), "{asm}");
}
