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
