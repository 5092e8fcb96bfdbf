//! Checking generic kernels without their const values (`check_kernel`).
//!
//! Data-driven: every `tests/generic/*.tk` starts with
//! `// expect: ok` (checks pass and the kernel lowers for some placeholder),
//! `// expect: deferred` (a check that depends on a const fails for every
//! placeholder, so it waits for real values), or
//! `// expect: error LINE:COL: MESSAGE` (an error that no const value can
//! avoid, at that place, whose message starts with MESSAGE). A
//! `// valid: NAME=VALUE,...` line gives const values for which the kernel
//! is valid: it must lower with them. Every error case must also fail to
//! lower, with the same diagnostic, for every const value tried (the check
//! reports no error that real values could avoid).

use std::collections::BTreeMap;
use tritonc_sema::{check_kernel, lower_kernel, ConstArg};
use tritonc_syntax::{parse, SourceFile};

fn examples_dir(rel: &str) -> std::path::PathBuf {
    std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join(rel)
}

fn parse_consts(s: &str) -> BTreeMap<String, ConstArg> {
    s.split(',')
        .map(|kv| {
            let (k, v) = kv.trim().split_once('=').expect("NAME=VALUE");
            let v = match v {
                "true" => ConstArg::Bool(true),
                "false" => ConstArg::Bool(false),
                n => ConstArg::Int(n.parse().expect("an integer")),
            };
            (k.to_string(), v)
        })
        .collect()
}

/// Concrete const values to try for a kernel's const parameters.
fn concrete_sets(k: &tritonc_syntax::ast::Function) -> Vec<BTreeMap<String, ConstArg>> {
    let mut sets = Vec::new();
    for (int, flag) in [(16, false), (32, true), (128, false), (128, true), (1, true)] {
        sets.push(
            k.const_params
                .iter()
                .map(|c| {
                    let v = if c.ty.name == "bool" {
                        ConstArg::Bool(flag)
                    } else {
                        ConstArg::Int(int)
                    };
                    (c.name.name.clone(), v)
                })
                .collect(),
        );
    }
    sets
}

/// Whether `concrete` (with `consts`) is message `generic`, in which a
/// const's name stands for its value and `?` for any number.
fn same_message(generic: &str, concrete: &str, consts: &BTreeMap<String, ConstArg>) -> bool {
    if generic == concrete {
        return true;
    }
    let mut g = generic.to_string();
    for (k, v) in consts {
        if let ConstArg::Int(i) = v {
            g = g
                .replace(&format!("[{k}"), &format!("[{i}"))
                .replace(&format!(" {k}"), &format!(" {i}"));
        }
    }
    let mut ci = concrete.chars().peekable();
    for x in g.chars() {
        if x == '?' {
            if !ci.peek().is_some_and(char::is_ascii_digit) {
                return false;
            }
            while ci.peek().is_some_and(char::is_ascii_digit) {
                ci.next();
            }
        } else if ci.next() != Some(x) {
            return false;
        }
    }
    ci.next().is_none()
}

#[test]
fn generic_cases() {
    let mut entries: Vec<_> = std::fs::read_dir(examples_dir("tests/generic"))
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|e| e == "tk"))
        .collect();
    entries.sort();
    assert!(entries.len() >= 20, "the cases are missing");
    let mut failures = Vec::new();
    for path in &entries {
        let name = path.file_name().unwrap().to_string_lossy().to_string();
        let text = std::fs::read_to_string(path).unwrap();
        let expect = text
            .lines()
            .find_map(|l| l.strip_prefix("// expect: "))
            .unwrap_or_else(|| panic!("{name}: no `// expect:` line"))
            .to_string();
        let src = SourceFile::new(&name, text.clone());
        let ast = parse(&src).unwrap_or_else(|e| panic!("{name}: {e}"));
        let kernel = ast.kernels().next().unwrap_or_else(|| panic!("{name}: no kernel"));
        let got = check_kernel(&ast, &kernel.name.name, &BTreeMap::new());
        let describe = match &got {
            Ok(c) if c.lowered => "ok".to_string(),
            Ok(_) => "deferred".to_string(),
            Err(d) => {
                let lc = src.line_col(d.span.start);
                format!("error {}:{}: {}", lc.line, lc.col, d.message)
            }
        };
        let matches = match expect.strip_prefix("error ") {
            Some(want) => describe.starts_with(&format!("error {want}")),
            None => describe == expect,
        };
        if !matches {
            failures.push(format!("{name}: expected `{expect}`, got `{describe}`"));
            continue;
        }
        if let Ok(c) = &got {
            let declared: Vec<&str> = kernel.const_params.iter().map(|c| c.name.name.as_str()).collect();
            assert_eq!(c.missing, declared, "{name}");
        }
        if let Err(d) = &got {
            // Located, with a caret under the offending token.
            let rendered = d.render(&src);
            assert!(
                rendered.contains(&format!("{name}:")) && rendered.contains('^'),
                "{rendered}"
            );
            // Sound: every const value gives the same error.
            for consts in concrete_sets(kernel) {
                match lower_kernel(&ast, &kernel.name.name, &consts) {
                    Ok(_) => failures.push(format!("{name}: no error with {consts:?}, but `check` reported one")),
                    Err(e) if e.span != d.span || !same_message(&d.message, &e.message, &consts) => {
                        failures.push(format!(
                            "{name}: with {consts:?} the error is `{}`, not `{}`",
                            e.message, d.message
                        ))
                    }
                    Err(_) => {}
                }
            }
        }
        if let Some(valid) = text.lines().find_map(|l| l.strip_prefix("// valid: ")) {
            let consts = parse_consts(valid);
            if let Err(d) = lower_kernel(&ast, &kernel.name.name, &consts) {
                failures.push(format!("{name}: not valid with {valid}: {}", d.render(&src)));
            }
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

/// Every example kernel checks without const values, and lowers for the
/// placeholders (no check is set aside).
#[test]
fn examples_check_without_consts() {
    let mut entries: Vec<_> = std::fs::read_dir(examples_dir("../../dsl-examples"))
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|e| e == "tk"))
        .collect();
    entries.sort();
    assert!(!entries.is_empty());
    for path in &entries {
        let name = path.file_name().unwrap().to_string_lossy().to_string();
        let src = SourceFile::new(&name, std::fs::read_to_string(path).unwrap());
        let ast = parse(&src).unwrap_or_else(|e| panic!("{name}: {e}"));
        for k in ast.kernels() {
            let c = check_kernel(&ast, &k.name.name, &BTreeMap::new())
                .unwrap_or_else(|d| panic!("{name}: kernel `{}`: {}", k.name.name, d.render(&src)));
            assert!(
                c.lowered,
                "{name}: kernel `{}` did not lower for any placeholder",
                k.name.name
            );
            assert_eq!(c.missing.len(), k.const_params.len());
        }
    }
}

/// With every const given, the check is `lower_kernel`'s.
#[test]
fn full_consts_check_everything() {
    let text = "#[kernel]\nfn k<const BLOCK: i32>(x: Ptr<f32>) {\n    store(x + arange(0, BLOCK * 3), 1.0);\n}\n";
    let src = SourceFile::new("k.tk", text);
    let ast = parse(&src).unwrap();
    let c = check_kernel(&ast, "k", &BTreeMap::new()).unwrap();
    assert_eq!(c.missing, ["BLOCK"]);
    let d = check_kernel(&ast, "k", &parse_consts("BLOCK=16")).unwrap_err();
    assert!(d.message.contains("has length 48"), "{}", d.message);
    let d = check_kernel(&ast, "nope", &BTreeMap::new()).unwrap_err();
    assert!(d.message.contains("no kernel named `nope`"), "{}", d.message);
}

/// Mutations of the examples (a token swapped, deleted or inserted):
/// checking without consts never panics, and no kernel it rejects lowers
/// with real const values.
#[test]
fn mutated_examples_report_only_errors_real_values_give() {
    let tokens = [
        "BLOCK",
        "0",
        "1",
        "3",
        "16",
        "100",
        "1.5",
        "true",
        "x",
        "offs",
        "mask",
        "+",
        "-",
        "*",
        "&",
        "<",
        "==",
        ",",
        ";",
        "(",
        ")",
        "[",
        "]",
        "{",
        "}",
        "let",
        "mut",
        "if",
        "else",
        "for",
        "in",
        "..",
        "static_range(0, 2)",
        "zeros([4, 4], f32)",
        "arange(0, 8)",
        "load(",
        "store(",
        "dot(",
        "sum(",
        "reshape(",
        ", [2, 2])",
        "trans(",
        ".to(f16)",
        ".to(i32)",
        "expand_dims(",
        "exp(",
        "select(",
        "maximum(",
    ];
    let mut state: u64 = 0x2545_f491_4f6c_dd1d;
    let mut next = |n: usize| -> usize {
        state ^= state << 13;
        state ^= state >> 7;
        state ^= state << 17;
        (state % n as u64) as usize
    };
    let mut paths: Vec<_> = std::fs::read_dir(examples_dir("../../dsl-examples"))
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|e| e == "tk"))
        .collect();
    paths.sort();
    let seeds: Vec<String> = paths.iter().map(|p| std::fs::read_to_string(p).unwrap()).collect();
    // The mutants are made in order (reproducible), then checked on every
    // core.
    let mut mutants = Vec::new();
    for round in 0..3000 {
        let seed = &seeds[round % seeds.len()];
        // Split into words and punctuation, keeping the separators.
        let mut words: Vec<String> = Vec::new();
        let mut cur = String::new();
        for c in seed.chars() {
            if c.is_alphanumeric() || c == '_' || c == '.' {
                cur.push(c);
            } else {
                if !cur.is_empty() {
                    words.push(std::mem::take(&mut cur));
                }
                words.push(c.to_string());
            }
        }
        words.push(cur);
        {
            let i = next(words.len());
            match next(3) {
                0 => words[i] = tokens[next(tokens.len())].to_string(),
                1 => words[i] = String::new(),
                _ => words.insert(i, format!(" {} ", tokens[next(tokens.len())])),
            }
        }
        mutants.push(words.concat());
    }
    let check = |texts: &[String]| {
        let (mut errors, mut failures) = (0, Vec::new());
        for text in texts {
            let src = SourceFile::new("m.tk", text.clone());
            let Ok(ast) = parse(&src) else { continue };
            for k in ast.kernels() {
                let Err(d) = check_kernel(&ast, &k.name.name, &BTreeMap::new()) else {
                    continue;
                };
                errors += 1;
                for consts in concrete_sets(k) {
                    // (Real values may meet another error first.)
                    if lower_kernel(&ast, &k.name.name, &consts).is_ok() {
                        failures.push(format!("`check` says {} but {consts:?} lowers\n{text}", d.render(&src)));
                    }
                }
            }
        }
        (errors, failures)
    };
    let cores = std::thread::available_parallelism().map_or(1, |n| n.get());
    let chunk = mutants.len().div_ceil(cores);
    let (errors, failures) = std::thread::scope(|s| {
        let parts: Vec<_> = mutants.chunks(chunk).map(|c| s.spawn(move || check(c))).collect();
        parts.into_iter().fold((0, Vec::new()), |(e, mut f), p| {
            let (pe, pf) = p.join().expect("a checking thread panicked");
            f.extend(pf);
            (e + pe, f)
        })
    });
    assert!(errors > 100, "too few mutants with errors ({errors})");
    assert!(failures.is_empty(), "{}\n{}", failures.len(), failures.join("\n---\n"));
}
