//! Dist IR that the layout pass makes parses back to the same text: every
//! kernel of the tile IR round-trip cases (`crates/ir/tests/roundtrip/`),
//! after the pipeline, gets layouts for programs of several shapes (the
//! host's one lane; waves of 64 lanes with MFMA-like matrix instructions
//! and of 32 with WMMA-like ones, 1 to 8 waves), and each Dist IR function
//! must print, parse (given the lanes, and without), verify and print the
//! same again. More layouts than the dumps hold: blocked layouts of every
//! size against the lanes, slices, matrix layouts over several waves.

use std::path::Path;
use tritonc_ir::{
    parse_function, parse_function_with, parse_module, parse_module_with, print_function, print_module,
    verify_function, verify_layouts, MatrixFamily, MatrixInstr, Module, ParseOptions, ScalarType,
};

fn instrs(wave: u32, input: ScalarType) -> Vec<MatrixInstr> {
    let list: &[(MatrixFamily, u32)] = match (wave, input) {
        (64, ScalarType::F16 | ScalarType::BF16) => &[(MatrixFamily::Mfma32, 8), (MatrixFamily::Mfma16, 16)],
        (64, ScalarType::F32) => &[(MatrixFamily::Mfma32, 2), (MatrixFamily::Mfma16, 4)],
        (32, ScalarType::F16 | ScalarType::BF16 | ScalarType::I8) => &[(MatrixFamily::Wmma16, 16)],
        _ => &[],
    };
    list.iter().map(|&(family, k)| MatrixInstr { family, k }).collect()
}

#[test]
fn layouts_the_pass_assigns_parse_back() {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("../ir/tests/roundtrip");
    let mut files: Vec<_> = std::fs::read_dir(&dir)
        .expect("the ir roundtrip cases")
        .flatten()
        .map(|e| e.path())
        .filter(|p| p.to_str().is_some_and(|s| s.ends_with(".tile.mlir")))
        .collect();
    files.sort();
    assert!(!files.is_empty());
    let mut checked = 0;
    for path in &files {
        let text = std::fs::read_to_string(path).expect("a case");
        let mut m = parse_module(&text).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
        tritonc_passes::run_pipeline(&mut m).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
        for f in &m.functions {
            for (wave, warps) in [(0, 4), (64, 1), (64, 4), (64, 8), (32, 2), (32, 4)] {
                let mut dist = f.clone();
                dist.options.num_warps = warps;
                let lanes = if wave == 0 { 1 } else { wave * warps };
                let what = format!("{} `{}` on {lanes} lanes", path.display(), f.name);
                let pick = |s: ScalarType| instrs(wave, s);
                if tritonc_passes::layouts::assign_for(&mut dist, lanes, &pick).is_err() {
                    continue;
                }
                if verify_layouts(&dist, lanes).is_err() {
                    continue;
                }
                let printed = print_function(&dist);
                let back = parse_function_with(&printed, &ParseOptions { lanes: Some(lanes) })
                    .unwrap_or_else(|e| panic!("{what}: {e}\n{printed}"));
                assert_eq!(print_function(&back), printed, "{what}");
                verify_function(&back).unwrap_or_else(|e| panic!("{what}: {e}"));
                verify_layouts(&back, lanes).unwrap_or_else(|e| panic!("{what}: {e}"));
                let guessed = parse_function(&printed).unwrap_or_else(|e| panic!("{what}: {e}"));
                assert_eq!(print_function(&guessed), printed, "{what} (lanes not given)");
                // In a module, the aliases stand before their function.
                let module = Module {
                    functions: vec![dist.clone(), dist],
                };
                let printed = print_module(&module);
                let back = parse_module_with(&printed, &ParseOptions { lanes: Some(lanes) })
                    .unwrap_or_else(|e| panic!("{what} (module): {e}\n{printed}"));
                assert_eq!(print_module(&back), printed, "{what} (module)");
                checked += 1;
            }
        }
    }
    assert!(checked >= 20, "only {checked} Dist IR functions checked");
}
