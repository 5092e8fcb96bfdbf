//! Printed IR parses back to IR that prints the same text and passes the
//! verifiers: every file of `tests/roundtrip/` (dumps of real kernels'
//! stages, `tritonc compile --emit`) is parsed, printed and compared byte
//! for byte. Adding a case is adding a file:
//!
//! - `NAME.tile.mlir`: a module (`1-tile.mlir`, `2-tile-opt.mlir`),
//!   checked with `verify_module`;
//! - `NAME.TARGET.mlir`: a function in Dist IR (`3-dist.mlir`) for TARGET
//!   `gfx942`-like (64-lane waves), `gfx1100`-like (32-lane waves) or
//!   `host` (one lane), checked with `verify_function` and
//!   `verify_layouts` for the program's lanes (`num_warps` waves).
//!
//! `ROUNDTRIP_DIR=DIR` checks another folder of such files instead.

use std::path::{Path, PathBuf};
use tritonc_ir::{
    parse_function, parse_function_with, parse_module, print_function, print_module, verify_function, verify_layouts,
    verify_module, ParseOptions,
};

fn case_dir() -> PathBuf {
    match std::env::var_os("ROUNDTRIP_DIR") {
        Some(d) => PathBuf::from(d),
        None => Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/roundtrip"),
    }
}

fn cases() -> Vec<PathBuf> {
    let mut files: Vec<PathBuf> = std::fs::read_dir(case_dir())
        .expect("the roundtrip case folder")
        .flatten()
        .map(|e| e.path())
        .filter(|p| p.extension().is_some_and(|x| x == "mlir"))
        .collect();
    files.sort();
    files
}

/// Lanes per wave of the target a file name ends in (`x.gfx942.mlir`).
fn wave_of(path: &Path) -> Option<u32> {
    let stem = path.file_stem()?.to_str()?;
    let target = stem.rsplit('.').next()?;
    if target == "host" {
        Some(0)
    } else if target.starts_with("gfx9") {
        Some(64)
    } else if target.starts_with("gfx1") {
        Some(32)
    } else {
        None
    }
}

/// Where the texts first differ, for a readable failure.
fn first_difference(want: &str, got: &str) -> String {
    for (i, (w, g)) in want.lines().zip(got.lines()).enumerate() {
        if w != g {
            return format!("line {}:\n  file:    {w}\n  printed: {g}", i + 1);
        }
    }
    format!(
        "one text ends early ({} lines in the file, {} printed)",
        want.lines().count(),
        got.lines().count()
    )
}

fn check(path: &Path) -> Result<(), String> {
    let text = std::fs::read_to_string(path).map_err(|e| e.to_string())?;
    let printed = if text.starts_with("\"builtin.module\"") {
        let m = parse_module(&text).map_err(|e| format!("parse: {e}"))?;
        verify_module(&m).map_err(|e| format!("verify: {e}"))?;
        print_module(&m)
    } else {
        let wave = wave_of(path).ok_or("a Dist IR file is named NAME.TARGET.mlir")?;
        let guess = parse_function(&text).map_err(|e| format!("parse: {e}"))?;
        let lanes = if wave == 0 { 1 } else { wave * guess.options.num_warps };
        let f = parse_function_with(&text, &ParseOptions { lanes: Some(lanes) }).map_err(|e| format!("parse: {e}"))?;
        verify_function(&f).map_err(|e| format!("verify: {e}"))?;
        if f.layouts.is_some() {
            verify_layouts(&f, lanes).map_err(|e| format!("verify_layouts ({lanes} lanes): {e}"))?;
        }
        if print_function(&guess) != text {
            return Err("without the lanes given, the text prints differently".into());
        }
        print_function(&f)
    };
    if printed != text {
        return Err(format!("prints differently: {}", first_difference(&text, &printed)));
    }
    Ok(())
}

#[test]
fn printed_ir_parses_back_to_the_same_text() {
    let files = cases();
    assert!(
        files.len() >= 10,
        "expected the roundtrip cases in {}",
        case_dir().display()
    );
    let failures: Vec<String> = files
        .iter()
        .filter_map(|p| check(p).err().map(|e| format!("{}: {e}", p.display())))
        .collect();
    assert!(
        failures.is_empty(),
        "{} of {} cases fail:\n{}",
        failures.len(),
        files.len(),
        failures.join("\n")
    );
}
