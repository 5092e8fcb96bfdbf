//! `tritonc check` without `--const`: generic kernels are checked as far as
//! their consts allow (the cases themselves are in
//! `crates/sema/tests/generic/`; this is the driver and the command line).

use std::collections::BTreeMap;
use std::path::PathBuf;
use std::process::Command;
use tritonc::driver;
use tritonc::sema::ConstArg;
use tritonc::syntax::SourceFile;

fn examples() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../dsl-examples")
}

#[test]
fn every_example_checks_ok_without_consts_with_one_note_per_generic_kernel() {
    let mut paths: Vec<PathBuf> = std::fs::read_dir(examples())
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|e| e == "tk"))
        .collect();
    paths.sort();
    for path in paths {
        let src = SourceFile::new(path.display().to_string(), std::fs::read_to_string(&path).unwrap());
        let c = driver::check(&src, &BTreeMap::new()).unwrap_or_else(|e| panic!("{}: {e}", src.name));
        assert!(!c.kernels.is_empty());
        assert_eq!(c.notes.len(), c.kernels.len(), "{}: {:?}", src.name, c.notes);
        for (k, note) in c.kernels.iter().zip(&c.notes) {
            assert!(note.starts_with(&format!("kernel `{k}`: shapes depend on ")), "{note}");
            assert!(!note.contains('\n'));
        }
    }
    // With every const given there is nothing to wait for.
    let src = SourceFile::new(
        "vector_add.tk",
        std::fs::read_to_string(examples().join("vector_add.tk")).unwrap(),
    );
    let all: BTreeMap<String, ConstArg> = [("BLOCK".to_string(), ConstArg::Int(256))].into();
    let c = driver::check(&src, &all).unwrap();
    assert_eq!(c.kernels, ["add"]);
    assert!(c.notes.is_empty());
}

#[test]
fn cli_reports_const_independent_errors_and_notes_the_rest() {
    let d = std::env::temp_dir().join(format!("tritonc-check-generic-{}", std::process::id()));
    std::fs::create_dir_all(&d).unwrap();
    let run = |name: &str, text: &str| {
        let f = d.join(name);
        std::fs::write(&f, text).unwrap();
        let out = Command::new(env!("CARGO_BIN_EXE_tritonc"))
            .arg("check")
            .arg(&f)
            .output()
            .unwrap();
        (
            out.status.code(),
            String::from_utf8_lossy(&out.stdout).to_string(),
            String::from_utf8_lossy(&out.stderr).to_string(),
        )
    };
    let (code, _, err) = run(
        "bad.tk",
        "#[kernel]\nfn add<const BLOCK: i32>(x: Ptr<f32>) {\n    let o = arange(0, BLOCK);\n    store(x + o, expp(load(x + o)));\n}\n",
    );
    assert_eq!(code, Some(1), "{err}");
    assert!(err.contains("bad.tk:4:18: error: unknown function `expp`"), "{err}");
    assert!(err.contains('^'), "{err}");
    let (code, out, err) = run(
        "later.tk",
        "#[kernel]\nfn add<const BLOCK: i32>(x: Ptr<f32>) {\n    store(x + arange(0, BLOCK * 3), 1.0);\n}\n",
    );
    assert_eq!(code, Some(0), "{err}");
    let lines: Vec<&str> = out.lines().collect();
    assert_eq!(lines.len(), 2, "{out}");
    assert!(
        lines[0].contains("note: kernel `add`") && lines[0].contains("BLOCK"),
        "{out}"
    );
    assert!(lines[1].ends_with("ok (1 kernel: add)"), "{out}");
    let _ = std::fs::remove_dir_all(&d);
}
