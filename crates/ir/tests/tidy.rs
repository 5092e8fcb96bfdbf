//! Tidy: the invariants `docs/architecture.md` states about the code,
//! checked on the source tree (here because this crate's tests build in
//! seconds; the checks read files, not this crate).
//!
//! - The map is complete: every source file of every crate is named in
//!   `docs/architecture.md` (crate roots `lib.rs` and `main.rs` aside).
//! - Tile IR, the front end and the passes know nothing of targets or
//!   LLVM: no target dialect, GPU name or LLVM pointer type in their code.
//! - A target is one trait: outside `target.rs`, code generation names no
//!   target dialect, GPU, address space or memory scope.
//! - Every pass file opens with a `//!` doc of what it guarantees.
//!
//! Comments are not code: lines whose code part is empty are skipped.

use std::path::{Path, PathBuf};

fn repo() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..")
}

fn rust_files(dir: &Path) -> Vec<PathBuf> {
    let mut out = Vec::new();
    let mut stack = vec![dir.to_path_buf()];
    while let Some(d) = stack.pop() {
        let Ok(entries) = std::fs::read_dir(&d) else { continue };
        for e in entries.flatten() {
            let p = e.path();
            if p.is_dir() {
                stack.push(p);
            } else if p.extension().is_some_and(|x| x == "rs") {
                out.push(p);
            }
        }
    }
    out.sort();
    out
}

/// The code part of each line (before a `//` comment), with its number.
/// Good enough for this tree: no `//` inside the string literals the
/// patterns below could match.
fn code_lines(text: &str) -> impl Iterator<Item = (usize, &str)> {
    text.lines().enumerate().filter_map(|(i, l)| {
        let code = l.split("//").next().unwrap_or("");
        (!code.trim().is_empty()).then_some((i + 1, code))
    })
}

/// Every line of the files under `dirs` (but not `except`) whose code
/// contains one of `patterns`, as `path:line: pattern`.
fn offending(dirs: &[&str], except: &[&str], patterns: &[&str]) -> Vec<String> {
    let mut found = Vec::new();
    for dir in dirs {
        for path in rust_files(&repo().join(dir)) {
            let rel = path.strip_prefix(repo()).unwrap_or(&path).display().to_string();
            if except.iter().any(|e| rel.ends_with(e)) {
                continue;
            }
            let text = std::fs::read_to_string(&path).unwrap_or_default();
            for (n, code) in code_lines(&text) {
                for p in patterns {
                    if code.contains(p) {
                        found.push(format!("{rel}:{n}: `{p}`"));
                    }
                }
            }
        }
    }
    found
}

#[test]
fn every_source_file_is_on_the_map() {
    let map = std::fs::read_to_string(repo().join("docs/architecture.md")).expect("docs/architecture.md");
    let mut missing = Vec::new();
    for path in rust_files(&repo().join("crates")) {
        let rel = path.strip_prefix(repo()).unwrap_or(&path).display().to_string();
        let in_src = rel.contains("/src/");
        let name = path.file_name().and_then(|n| n.to_str()).unwrap_or("");
        if !in_src || name == "lib.rs" || name == "main.rs" {
            continue;
        }
        // Named by its path within `src/` (`emit/reduce.rs`) or its name.
        let within = rel.split("/src/").nth(1).unwrap_or(name);
        if !map.contains(within) && !map.contains(&format!("`{name}`")) {
            missing.push(rel);
        }
    }
    assert!(
        missing.is_empty(),
        "docs/architecture.md does not name these source files (add them to the map):\n{}",
        missing.join("\n")
    );
}

#[test]
fn tile_ir_front_end_and_passes_know_no_target() {
    let found = offending(
        &[
            "crates/ir/src",
            "crates/syntax/src",
            "crates/sema/src",
            "crates/passes/src",
        ],
        &[],
        &["rocdl", "amdgcn", "gfx9", "gfx1", "!llvm.ptr", "addrspace", "syncscope"],
    );
    assert!(
        found.is_empty(),
        "target or LLVM details outside code generation:\n{}",
        found.join("\n")
    );
}

#[test]
fn only_the_target_module_names_targets() {
    let found = offending(
        &["crates/codegen/src"],
        &["crates/codegen/src/target.rs"],
        &[
            "rocdl",
            "amdgcn",
            "gfx9",
            "gfx1",
            "llvm.ptr<1>",
            "llvm.ptr<3>",
            "llvm.ptr<5>",
            "addrspace(",
            "syncscope",
            "TargetKind",
        ],
    );
    assert!(
        found.is_empty(),
        "code generation outside target.rs asks which target it is (make it a `Target` hook):\n{}",
        found.join("\n")
    );
}

#[test]
fn every_pass_says_what_it_guarantees() {
    let mut missing = Vec::new();
    for path in rust_files(&repo().join("crates/passes/src")) {
        let text = std::fs::read_to_string(&path).unwrap_or_default();
        if !text.starts_with("//!") {
            missing.push(path.display().to_string());
        }
    }
    assert!(
        missing.is_empty(),
        "pass files without a `//!` doc:\n{}",
        missing.join("\n")
    );
}

/// The checks can fail: a line of code naming a target is found, a
/// comment naming one is not.
#[test]
fn the_checks_see_code_and_skip_comments() {
    let text = "let a = 1; // rocdl in a comment\n    let p = \"!llvm.ptr<3>\";\n/// gfx942 in a doc\n";
    let lines: Vec<(usize, &str)> = code_lines(text).collect();
    assert_eq!(lines.len(), 2);
    assert!(!lines[0].1.contains("rocdl"));
    assert!(lines[1].1.contains("llvm.ptr<3>"));
}
