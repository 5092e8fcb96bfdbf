//! Compile errors of `#[kernel]`: every `tests/ui/NAME.rs` must fail to
//! compile with exactly the diagnostics of `tests/ui/NAME.stderr` (each
//! points at the user's token; launches are typed).
//!
//! Each file is compiled by rustc against the `tritonc` library this
//! test binary was built with, from the target directory's `deps/`
//! (`--emit=metadata`: type-checked, not linked). trybuild did this
//! before, but it builds the whole dependency tree again in a target
//! directory of its own: two minutes and a gigabyte for nine files.
//! `UI_BLESS=1` writes what rustc printed into the `.stderr` files.

use std::path::{Path, PathBuf};
use std::process::Command;

fn manifest_dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

/// `target/<profile>/deps`: where cargo put this test binary and the
/// libraries it links.
fn deps_dir() -> PathBuf {
    let exe = std::env::current_exe().expect("the test binary's path");
    exe.parent().expect("the test binary is in deps/").to_path_buf()
}

fn rustc() -> String {
    std::env::var("RUSTC").unwrap_or_else(|_| "rustc".to_string())
}

/// rustc on one file, from the crate's directory so that paths print as
/// `tests/ui/NAME.rs`; `Ok(stderr)` when it failed to compile.
fn compile(file: &Path, tritonc_rlib: &Path, out_dir: &Path) -> Result<String, String> {
    let name = file.file_stem().and_then(|s| s.to_str()).unwrap_or("ui");
    let out = Command::new(rustc())
        .current_dir(manifest_dir())
        .arg(file.strip_prefix(manifest_dir()).unwrap_or(file))
        .args(["--edition", "2021", "--crate-type", "bin", "--emit=metadata"])
        .args(["--crate-name", &format!("ui_{name}"), "--color", "never"])
        .arg("--out-dir")
        .arg(out_dir)
        .arg("-L")
        .arg(format!("dependency={}", deps_dir().display()))
        .arg("--extern")
        .arg(format!("tritonc={}", tritonc_rlib.display()))
        .output()
        .map_err(|e| format!("cannot run {}: {e}", rustc()))?;
    let stderr = String::from_utf8_lossy(&out.stderr).into_owned();
    if out.status.success() {
        Err(stderr)
    } else {
        Ok(stderr)
    }
}

/// rustc's output without its closing summary lines, which say only how
/// many errors there were and where to read more about their codes.
fn normalize(stderr: &str) -> String {
    let kept: Vec<&str> = stderr
        .lines()
        .filter(|l| {
            !l.starts_with("error: aborting due to")
                && !l.starts_with("For more information about")
                && !l.starts_with("Some errors have detailed explanations")
        })
        .collect();
    kept.join("\n").trim().to_string()
}

/// The `tritonc` library to compile against: of the `libtritonc-*.rlib`
/// in `deps/` (a target directory can hold several: other features,
/// older builds), the newest one a correct program compiles against.
fn tritonc_rlib(out_dir: &Path) -> PathBuf {
    let mut candidates: Vec<(std::time::SystemTime, PathBuf)> = std::fs::read_dir(deps_dir())
        .expect("deps/ is readable")
        .filter_map(|e| e.ok())
        .map(|e| e.path())
        .filter(|p| {
            p.file_name()
                .and_then(|n| n.to_str())
                .is_some_and(|n| n.starts_with("libtritonc-") && n.ends_with(".rlib"))
        })
        .filter_map(|p| Some((p.metadata().ok()?.modified().ok()?, p)))
        .collect();
    candidates.sort_by_key(|c| std::cmp::Reverse(c.0));
    let probe = manifest_dir().join("tests/ui/ok/launch.rs");
    let mut tried = Vec::new();
    for (_, rlib) in candidates {
        match compile(&probe, &rlib, out_dir) {
            Err(_) => return rlib,
            Ok(stderr) => tried.push(format!("{}:\n{stderr}", rlib.display())),
        }
    }
    panic!(
        "no libtritonc-*.rlib in {} compiles tests/ui/ok/launch.rs:\n{}",
        deps_dir().display(),
        tried.join("\n")
    );
}

#[test]
fn kernel_macro_compile_errors() {
    let out_dir = std::env::temp_dir().join(format!("tritonc-ui-{}", std::process::id()));
    std::fs::create_dir_all(&out_dir).expect("a temporary directory");
    let rlib = tritonc_rlib(&out_dir);
    let mut files: Vec<PathBuf> = std::fs::read_dir(manifest_dir().join("tests/ui"))
        .expect("tests/ui")
        .filter_map(|e| e.ok())
        .map(|e| e.path())
        .filter(|p| p.extension().is_some_and(|x| x == "rs"))
        .collect();
    files.sort();
    assert!(files.len() >= 9, "tests/ui has lost files: {files:?}");
    let bless = std::env::var_os("UI_BLESS").is_some();
    // Both cores: the files are independent.
    let results: Vec<(PathBuf, Result<String, String>)> = std::thread::scope(|s| {
        let handles: Vec<_> = files
            .iter()
            .map(|f| {
                let (rlib, out_dir) = (&rlib, &out_dir);
                s.spawn(move || (f.clone(), compile(f, rlib, out_dir)))
            })
            .collect();
        handles
            .into_iter()
            .map(|h| h.join().expect("a compile thread"))
            .collect()
    });
    let _ = std::fs::remove_dir_all(&out_dir);
    let mut failures = Vec::new();
    for (file, result) in results {
        let name = file.display();
        let stderr = match result {
            Ok(stderr) => normalize(&stderr),
            Err(warnings) => {
                failures.push(format!("{name} compiled, but must not:\n{warnings}"));
                continue;
            }
        };
        let expected_path = file.with_extension("stderr");
        if bless {
            std::fs::write(&expected_path, format!("{stderr}\n")).expect("write .stderr");
            continue;
        }
        let expected = std::fs::read_to_string(&expected_path).unwrap_or_default();
        if expected.trim() != stderr {
            failures.push(format!(
                "{name}: rustc printed\n{stderr}\n--- but {} expects\n{}",
                expected_path.display(),
                expected.trim()
            ));
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n\n"));
}
