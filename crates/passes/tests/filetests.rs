//! Text-in, text-out tests of the passes and the verifiers (as MLIR's lit
//! tests or Cranelift's filetests): every `cases/*.mlir` is IR with a
//! header saying which passes to run and what must come out. The format
//! is in `cases/README.md`; adding a case is adding a file.
//!
//! `FILETESTS_BLESS=1` writes each case's actual output as its expected
//! output (review the diff before committing: the expected text is the
//! independent reference). `FILETESTS_FILTER=SUBSTRING` runs the cases
//! whose file name contains it.

use std::path::{Path, PathBuf};
use tritonc_ir::{
    parse_function_with, parse_module, print_module, verify_function, verify_layouts, verify_module, ParseOptions,
};
use tritonc_passes::PIPELINE;

const EXPECT: &str = "// expect:";

/// A case file: its header's directives, the input, the expected output.
struct Case {
    passes: Vec<String>,
    error: Option<String>,
    lanes: Option<u32>,
    input: String,
    /// The text after `// expect:` (None when the file has no such line).
    expected: Option<String>,
}

fn parse_case(text: &str) -> Result<Case, String> {
    let (input, expected) = match text.find(&format!("\n{EXPECT}\n")) {
        Some(i) => (&text[..i + 1], Some(text[i + EXPECT.len() + 2..].to_string())),
        None => (text, None),
    };
    let mut case = Case {
        passes: Vec::new(),
        error: None,
        lanes: None,
        input: input.to_string(),
        expected,
    };
    for line in input.lines().take_while(|l| l.starts_with("//")) {
        let body = line.trim_start_matches('/').trim();
        if let Some(list) = body.strip_prefix("pass:") {
            for name in list.split([',', ' ']).filter(|n| !n.is_empty()) {
                if !PIPELINE.iter().any(|(n, _)| *n == name) {
                    return Err(format!("unknown pass `{name}` (the passes are those of PIPELINE)"));
                }
                case.passes.push(name.to_string());
            }
        } else if let Some(msg) = body.strip_prefix("error:") {
            case.error = Some(msg.trim().to_string());
        } else if let Some(n) = body.strip_prefix("lanes:") {
            case.lanes = Some(n.trim().parse().map_err(|_| format!("bad `lanes:` {n}"))?);
        }
    }
    if case.error.is_some() && case.expected.is_some() {
        return Err("a case has `// error:` or `// expect:`, not both".into());
    }
    Ok(case)
}

/// Runs a case's input: parse, verify, the passes with the verifier after
/// each. The printed module, or the first error.
fn run(case: &Case) -> Result<String, String> {
    let body = case
        .input
        .lines()
        .skip_while(|l| l.starts_with("//"))
        .collect::<Vec<_>>()
        .join("\n");
    if !body.trim_start().starts_with("\"builtin.module\"") {
        // A function alone: Dist IR, for the verifiers only.
        let lanes = case
            .lanes
            .ok_or("a Dist IR case (a function, not a module) needs `// lanes: N`")?;
        let f = parse_function_with(&case.input, &ParseOptions { lanes: Some(lanes) })
            .map_err(|e| format!("parse error: {e}"))?;
        verify_function(&f).map_err(|e| e.to_string())?;
        verify_layouts(&f, lanes).map_err(|e| format!("Dist IR: {e}"))?;
        return Ok(tritonc_ir::print_function(&f));
    }
    let mut m = parse_module(&case.input).map_err(|e| format!("parse error: {e}"))?;
    verify_module(&m).map_err(|e| format!("input: {e}"))?;
    for name in &case.passes {
        let Some((_, pass)) = PIPELINE.iter().find(|(n, _)| n == name) else {
            return Err(format!("unknown pass `{name}`"));
        };
        pass(&mut m).map_err(|e| format!("pass `{name}`: {e}"))?;
        verify_module(&m).map_err(|e| format!("after pass `{name}`: {e}"))?;
    }
    Ok(print_module(&m))
}

/// A line diff (longest common subsequence): ` ` kept, `-` expected
/// only, `+` actual only.
fn diff(expected: &str, actual: &str) -> String {
    let (a, b): (Vec<&str>, Vec<&str>) = (expected.lines().collect(), actual.lines().collect());
    let mut lcs = vec![vec![0u32; b.len() + 1]; a.len() + 1];
    for i in (0..a.len()).rev() {
        for j in (0..b.len()).rev() {
            lcs[i][j] = if a[i] == b[j] {
                lcs[i + 1][j + 1] + 1
            } else {
                lcs[i + 1][j].max(lcs[i][j + 1])
            };
        }
    }
    let (mut i, mut j, mut out) = (0, 0, String::new());
    while i < a.len() || j < b.len() {
        if i < a.len() && j < b.len() && a[i] == b[j] {
            out += &format!("  {}\n", a[i]);
            i += 1;
            j += 1;
        } else if i < a.len() && (j == b.len() || lcs[i + 1][j] >= lcs[i][j + 1]) {
            out += &format!("- {}\n", a[i]);
            i += 1;
        } else {
            out += &format!("+ {}\n", b[j]);
            j += 1;
        }
    }
    out
}

/// Checks one file; with `bless`, rewrites its expected output.
fn check(path: &Path, bless: bool) -> Result<(), String> {
    let text = std::fs::read_to_string(path).map_err(|e| e.to_string())?;
    let case = parse_case(&text)?;
    let outcome = run(&case);
    if let Some(want) = &case.error {
        return match outcome {
            Err(e) if e.contains(want.as_str()) => Ok(()),
            Err(e) => Err(format!("expected an error containing `{want}`, got: {e}")),
            Ok(_) => Err(format!("expected an error containing `{want}`, but the input passed")),
        };
    }
    let actual = outcome?;
    if case.expected.as_deref() == Some(actual.as_str()) {
        return Ok(());
    }
    if bless {
        let blessed = format!("{}{EXPECT}\n{actual}", case.input);
        return std::fs::write(path, blessed).map_err(|e| e.to_string());
    }
    match &case.expected {
        None => Err(format!(
            "no `{EXPECT}` section (FILETESTS_BLESS=1 writes one); the output is:\n{actual}"
        )),
        Some(want) => Err(format!(
            "the output differs (- expected, + actual):\n{}\nactual output:\n{actual}",
            diff(want, &actual)
        )),
    }
}

fn cases() -> Vec<PathBuf> {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/cases");
    let filter = std::env::var("FILETESTS_FILTER").unwrap_or_default();
    let mut files: Vec<PathBuf> = std::fs::read_dir(&dir)
        .expect("crates/passes/tests/cases")
        .flatten()
        .map(|e| e.path())
        .filter(|p| p.extension().is_some_and(|x| x == "mlir"))
        .filter(|p| {
            p.file_name()
                .and_then(|n| n.to_str())
                .is_some_and(|n| n.contains(&filter))
        })
        .collect();
    files.sort();
    files
}

#[test]
fn filetests() {
    let bless = std::env::var("FILETESTS_BLESS").is_ok_and(|v| v == "1");
    let files = cases();
    assert!(!files.is_empty(), "no cases");
    let failures: Vec<String> = files
        .iter()
        .filter_map(|p| check(p, bless).err().map(|e| format!("=== {}\n{e}", p.display())))
        .collect();
    assert!(
        failures.is_empty(),
        "{} of {} filetests fail:\n{}",
        failures.len(),
        files.len(),
        failures.join("\n")
    );
}

#[test]
fn the_diff_marks_what_changed() {
    assert_eq!(diff("a\nb\nc\n", "a\nx\nc\n"), "  a\n- b\n+ x\n  c\n");
    assert_eq!(diff("", "a\n"), "+ a\n");
}
