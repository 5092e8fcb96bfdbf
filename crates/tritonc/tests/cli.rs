//! The `tritonc` command line, as a user runs it.

use std::{path::PathBuf, process::Command};

fn tritonc() -> Command {
    let mut c = Command::new(env!("CARGO_BIN_EXE_tritonc"));
    // Tests never touch the user's cache.
    c.env(
        "TRITONC_CACHE_DIR",
        std::env::temp_dir().join(format!("tritonc-cli-cache-{}", std::process::id())),
    );
    c
}

fn examples() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../dsl-examples")
}

fn scratch(name: &str) -> PathBuf {
    let d = std::env::temp_dir().join(format!("tritonc-cli-{}-{name}", std::process::id()));
    let _ = std::fs::remove_dir_all(&d);
    std::fs::create_dir_all(&d).unwrap();
    d
}

#[test]
fn targets_lists_wave_and_lds_sizes() {
    let out = tritonc().arg("targets").output().unwrap();
    assert!(out.status.success());
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(
        text.lines()
            .any(|l| l.starts_with("gfx942") && l.contains(" 64 ") && l.contains("64K")),
        "{text}"
    );
    assert!(
        text.lines().any(|l| l.starts_with("gfx1100") && l.contains(" 32 ")),
        "{text}"
    );
}

#[test]
fn run_on_the_cpu_backend_reads_and_writes_npy() {
    let d = scratch("run");
    let t = |args: &[&str]| {
        let o = tritonc().args(args).output().unwrap();
        assert!(o.status.success(), "{args:?}: {}", String::from_utf8_lossy(&o.stderr));
        o
    };
    let p = |f: &str| d.join(f).display().to_string();
    t(&[
        "npy",
        "create",
        &p("x.npy"),
        "--dtype",
        "f32",
        "--len",
        "4000",
        "--arange",
    ]);
    t(&[
        "npy",
        "create",
        &p("y.npy"),
        "--dtype",
        "f32",
        "--len",
        "4000",
        "--fill",
        "0.25",
    ]);
    t(&["npy", "create", &p("out.npy"), "--dtype", "f32", "--len", "4000"]);
    let file = examples().join("vector_add.tk").display().to_string();
    t(&[
        "run",
        &file,
        "--backend",
        "cpu",
        "--grid",
        "4",
        "--const",
        "BLOCK=1024",
        "--arg",
        &format!("x=@{}", p("x.npy")),
        "--arg",
        &format!("y=@{}", p("y.npy")),
        "--arg",
        &format!("out=@{}", p("out.npy")),
        "--arg",
        "n=4000",
        "--out",
        &format!("out={}", p("r.npy")),
    ]);
    let bytes = std::fs::read(d.join("r.npy")).unwrap();
    let a = tritonc::npy::parse(&bytes).unwrap();
    assert_eq!((a.descr.as_str(), a.shape.as_slice()), ("<f4", &[4000usize][..]));
    for (i, c) in a.data.chunks(4).enumerate() {
        assert_eq!(f32::from_le_bytes([c[0], c[1], c[2], c[3]]), i as f32 + 0.25);
    }
}

#[test]
fn interp_backend_runs_and_checks_every_access() {
    let d = scratch("interp");
    let p = |f: &str| d.join(f).display().to_string();
    for (name, fill) in [("x.npy", "--arange"), ("y.npy", "--fill")] {
        let mut args = vec!["npy", "create", name, "--dtype", "f32", "--len", "1000", fill];
        if fill == "--fill" {
            args.push("0.5");
        }
        let o = tritonc().current_dir(&d).args(&args).output().unwrap();
        assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    }
    let file = examples().join("vector_add.tk").display().to_string();
    let run = |n: &str, extra: &[&str]| {
        let mut c = tritonc();
        c.args([
            "run",
            &file,
            "--backend",
            "interp",
            "--grid",
            "4",
            "--const",
            "BLOCK=256",
        ]);
        c.args([
            "--arg",
            &format!("x=@{}", p("x.npy")),
            "--arg",
            &format!("y=@{}", p("y.npy")),
        ]);
        c.args(["--arg", &format!("out=@{}", p("y.npy")), "--arg", &format!("n={n}")]);
        c.args(["--out", &format!("out={}", p("r.npy"))]);
        c.args(extra).output().unwrap()
    };
    let ok = run("1000", &[]);
    assert!(ok.status.success(), "{}", String::from_utf8_lossy(&ok.stderr));
    let a = tritonc::npy::parse(&std::fs::read(d.join("r.npy")).unwrap()).unwrap();
    for (i, c) in a.data.chunks(4).enumerate() {
        assert_eq!(f32::from_le_bytes([c[0], c[1], c[2], c[3]]), i as f32 + 0.5);
    }
    // n larger than the buffers: the first access past `x` is reported
    // where it is in the source, with the program and the offset.
    let oob = run("1024", &[]);
    let err = String::from_utf8_lossy(&oob.stderr);
    assert_eq!(oob.status.code(), Some(1), "{err}");
    assert!(
        err.contains("vector_add.tk:8:13: error: load out of bounds in program [3, 0, 0]")
            && err.contains("4 bytes at byte offset 4000 of `x`, which has 4000 bytes"),
        "{err}"
    );
    let bad = run("1000", &["--disable-pass", "inline"]);
    assert_eq!(bad.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&bad.stderr).contains("(those are: fold, remat, loop_ptrs, pipeline, cse, dce)"));
    let stages = run("1000", &["--num-stages", "9"]);
    assert_eq!(stages.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&stages.stderr).contains("num_stages (--num-stages) must be from 1 to 8, found 9"));
    assert_eq!(run("1000", &["--num-stages", "3"]).status.code(), Some(0));
}

#[test]
fn hip_backend_without_a_device_says_so_in_one_line() {
    let d = scratch("hip");
    let file = examples().join("vector_add.tk").display().to_string();
    let out = tritonc()
        .args([
            "run",
            &file,
            "--backend",
            "hip",
            "--grid",
            "4",
            "--const",
            "BLOCK=1024",
            "--arg",
            "n=4000",
        ])
        .output()
        .unwrap();
    let err = String::from_utf8_lossy(&out.stderr).to_string();
    if err.contains("no AMD GPU found") || err.contains("without the `hip` feature") {
        assert_eq!(out.status.code(), Some(2), "{err}");
        assert_eq!(err.trim().lines().count(), 1, "{err}");
        assert!(err.contains("--backend cpu"), "{err}");
    } else {
        // A machine with an AMD GPU: the arguments are incomplete instead.
        assert!(!out.status.success());
    }
    let _ = d;
}

#[test]
fn compile_emits_every_stage() {
    let d = scratch("emit");
    let file = examples().join("vector_add.tk").display().to_string();
    let out = tritonc()
        .args(["compile", &file, "--target", "gfx942", "--const", "BLOCK=1024", "-o"])
        .arg(d.join("add.hsaco"))
        .arg("--emit")
        .arg(d.join("stages"))
        .arg("--timings")
        .output()
        .unwrap();
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "{err}");
    assert!(err.contains("LLVM O3") && err.contains("total"), "{err}");
    let mut names: Vec<String> = std::fs::read_dir(d.join("stages"))
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    names.sort();
    assert_eq!(
        names,
        [
            "1-tile.mlir",
            "2-tile-opt.mlir",
            "3-dist.mlir",
            "4-lowering.mlir",
            "5-llvm-dialect.mlir",
            "6-llvm.ll",
            "7-llvm-opt.ll",
            "8-amdgpu.s",
            "9-add.hsaco"
        ]
    );
    assert_eq!(
        std::fs::read(d.join("add.hsaco")).unwrap(),
        std::fs::read(d.join("stages/9-add.hsaco")).unwrap()
    );
}

#[test]
fn errors_have_locations_and_exit_codes() {
    let d = scratch("errors");
    let bad = d.join("bad.tk");
    std::fs::write(&bad, "#[kernel]\nfn k(x: Ptr<f32>) {\n    store(x, lod(x));\n}\n").unwrap();
    let out = tritonc().arg("check").arg(&bad).output().unwrap();
    assert_eq!(out.status.code(), Some(1));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("bad.tk:3:14: error: unknown function `lod`; did you mean `load`?"),
        "{err}"
    );
    let out = tritonc()
        .args(["compile"])
        .arg(&bad)
        .args(["--target", "gfx9999"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("unknown target `gfx9999`"));
    let out = tritonc()
        .args(["run"])
        .arg(examples().join("vector_add.tk"))
        .args(["--grid", "0", "--const", "BLOCK=64"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
}

#[test]
fn cache_commands_and_logging() {
    let dir = scratch("cache-cmd").join("cache");
    let file = examples().join("vector_add.tk").display().to_string();
    let compile = |extra: &[&str]| {
        tritonc()
            .env("TRITONC_CACHE_DIR", &dir)
            .env("TRITONC_LOG", "cache")
            .args(["compile", &file, "--target", "gfx942", "--const", "BLOCK=256", "-o"])
            .arg(dir.with_file_name("k.hsaco"))
            .args(extra)
            .output()
            .unwrap()
    };
    let first = String::from_utf8_lossy(&compile(&[]).stderr).to_string();
    assert!(first.contains("tritonc cache: miss for `add` on gfx942"), "{first}");
    let second = String::from_utf8_lossy(&compile(&[]).stderr).to_string();
    assert!(
        second.contains("tritonc cache: hit (disk) for `add` on gfx942"),
        "{second}"
    );
    let bypass = String::from_utf8_lossy(&compile(&["--no-cache"]).stderr).to_string();
    assert!(!bypass.contains("tritonc cache: hit"), "{bypass}");
    let run = |args: &[&str]| {
        let o = tritonc().env("TRITONC_CACHE_DIR", &dir).args(args).output().unwrap();
        assert!(o.status.success());
        String::from_utf8_lossy(&o.stdout).to_string()
    };
    assert!(run(&["cache", "stats"]).contains(": 1 entries,"));
    assert!(run(&["cache", "list"]).starts_with("add "));
    assert!(run(&["cache", "clear"]).starts_with("removed 1 entry"));
    assert!(run(&["cache", "stats"]).contains(": 0 entries,"));
}

/// `TRITONC_LOG=compile` says what is compiled, with the const values, and
/// how long it took; a cache hit compiles nothing and says nothing.
#[test]
fn compile_logging_says_what_and_how_long() {
    let dir = scratch("compile-log").join("cache");
    let file = examples().join("vector_add.tk").display().to_string();
    let compile = || {
        let out = tritonc()
            .env("TRITONC_CACHE_DIR", &dir)
            .env("TRITONC_LOG", "cache,compile")
            .args(["compile", &file, "--target", "gfx942", "--const", "BLOCK=256", "-o"])
            .arg(dir.with_file_name("k.hsaco"))
            .output()
            .unwrap();
        assert!(out.status.success());
        String::from_utf8_lossy(&out.stderr).to_string()
    };
    let first = compile();
    assert!(
        first.contains("tritonc compile: `add` for gfx942 (BLOCK=256)...\n"),
        "{first}"
    );
    let done = first
        .lines()
        .find(|l| l.starts_with("tritonc compile: `add` for gfx942 (BLOCK=256): done in "))
        .unwrap_or_else(|| panic!("{first}"));
    assert!(
        done.contains(" s (front end") && done.contains("code generation"),
        "{done}"
    );
    let second = compile();
    assert!(
        second.contains("tritonc cache: hit (disk)") && !second.contains("tritonc compile:"),
        "{second}"
    );
}

/// Runs `tritonc` and returns its exit code and standard error.
fn code_and_stderr(c: &mut Command) -> (Option<i32>, String) {
    let out = c.output().unwrap();
    (out.status.code(), String::from_utf8_lossy(&out.stderr).into_owned())
}

/// A kernel file that is not UTF-8 is reported at its first invalid byte,
/// as a diagnostic (the column counts characters: `é` is one).
#[test]
fn a_file_that_is_not_utf8_names_the_line_and_column() {
    let d = scratch("utf8");
    let bad = d.join("latin1.tk");
    std::fs::write(&bad, b"#[kernel]\nfn k(x: Ptr<f32>) {\n    // \xc3\xa9=\xff\n}\n").unwrap();
    let (code, err) = code_and_stderr(tritonc().arg("check").arg(&bad));
    assert_eq!(code, Some(1), "{err}");
    assert_eq!(
        err,
        format!(
            "{}:3:10: error: invalid UTF-8 (byte 0xff); kernel files must be UTF-8 text\n  |\n3 |     // \u{e9}=\u{fffd}\n  |          ^\n",
            bad.display()
        )
    );
}

/// Syntax errors through the command line: in words, with the caret.
#[test]
fn syntax_errors_say_what_was_expected() {
    let d = scratch("syntax");
    let bad = d.join("bad.tk");
    std::fs::write(&bad, "#[kernel]\nfn k(x: Ptr<f32>) {\n    let y = x + ;\n}\n").unwrap();
    let (code, err) = code_and_stderr(tritonc().arg("check").arg(&bad));
    assert_eq!(code, Some(1), "{err}");
    assert_eq!(
        err,
        format!(
            "{}:3:17: error: syntax error: expected an expression, found `;`\n  |\n3 |     let y = x + ;\n  |                 ^\n",
            bad.display()
        )
    );
}

/// Flags that do not match the kernel are usage errors (exit 2), as the
/// README says; the kernel's own errors exit 1.
#[test]
fn flags_that_do_not_fit_the_kernel_exit_2() {
    let file = examples().join("vector_add.tk");
    let name = file.display().to_string();
    let compile = |extra: &[&str]| {
        code_and_stderr(
            tritonc()
                .arg("compile")
                .arg(&file)
                .args(["--target", "host", "--no-cache", "-o", "/dev/null"])
                .args(extra),
        )
    };
    let (code, err) = compile(&[]);
    assert_eq!(code, Some(2), "{err}");
    assert_eq!(
        err,
        format!("error: kernel `add` needs --const BLOCK=VALUE (const parameter `BLOCK`, declared at {name}:4:14)\n")
    );
    let (code, err) = compile(&["--const", "BLOCK=64", "--const", "BLOCKS=2"]);
    assert_eq!(code, Some(2), "{err}");
    assert_eq!(
        err,
        "error: --const BLOCKS: kernel `add` has no const parameter `BLOCKS` (it has BLOCK); did you mean `BLOCK`?\n"
    );
    let (code, err) = compile(&["--const", "BLOCK=true"]);
    assert_eq!(code, Some(2), "{err}");
    assert_eq!(
        err,
        "error: --const BLOCK=true: `BLOCK` is declared i32; give an integer\n"
    );
    let (code, err) = compile(&["--const", "BLOCK=64", "--kernel", "Add"]);
    assert_eq!(code, Some(2), "{err}");
    assert_eq!(
        err,
        format!("error: --kernel Add: {name} has no kernel `Add` (kernels: add); did you mean `add`?\n")
    );
    let (code, err) = compile(&["--const", "BLOCK=64", "--assume", "x=16"]);
    assert_eq!(code, Some(2), "{err}");
    assert_eq!(
        err,
        "error: --assume x: `x` is Ptr<f32>; only integer parameters can be assumed a value\n"
    );
    let (code, err) = compile(&["--const", "BLOCK=64", "--assume", "N=16"]);
    assert_eq!(code, Some(2), "{err}");
    assert_eq!(
        err,
        "error: --assume N: kernel `add` has no parameter `N` (it has x, y, out, n); did you mean `n`?\n"
    );
    // `run` checks the same before compiling.
    let (code, err) = code_and_stderr(tritonc().arg("run").arg(&file).args(["--grid", "1", "--arg", "n=1"]));
    assert_eq!(code, Some(2), "{err}");
    assert!(
        err.starts_with("error: kernel `add` needs --const BLOCK=VALUE"),
        "{err}"
    );
    // A kernel that is wrong for the value given is still the kernel's error.
    let (code, err) = compile(&["--const", "BLOCK=48"]);
    assert_eq!(code, Some(1), "{err}");
    assert!(err.contains("it must be a power of two"), "{err}");
}

/// `--arg` mistakes name the language's types (`f64`, not numpy's `<f8`)
/// and suggest parameters case-insensitively (`N` is `n`, not `x`).
#[test]
fn arg_errors_use_the_languages_names() {
    let d = scratch("args");
    let p = |f: &str| d.join(f).display().to_string();
    for (name, dtype) in [("x.npy", "f32"), ("y.npy", "f32"), ("wide.npy", "f64")] {
        let o = tritonc()
            .args(["npy", "create", &p(name), "--dtype", dtype, "--len", "64"])
            .output()
            .unwrap();
        assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    }
    let file = examples().join("vector_add.tk");
    let run = |args: &[String]| {
        code_and_stderr(
            tritonc()
                .arg("run")
                .arg(&file)
                .args(["--backend", "interp", "--grid", "1", "--const", "BLOCK=64"])
                .args(args),
        )
    };
    let arg = |s: String| ["--arg".to_string(), s];
    let base = [arg(format!("y=@{}", p("y.npy"))), arg(format!("out=@{}", p("y.npy")))].concat();
    let with = |extra: &[[String; 2]]| [base.clone(), extra.concat()].concat();

    let (code, err) = run(&with(&[arg(format!("x=@{}", p("x.npy"))), arg("N=64".into())]));
    assert_eq!(code, Some(2), "{err}");
    assert_eq!(
        err,
        "error: `add` has no parameter `N` (it has x, y, out, n); did you mean `n`?\n"
    );
    let (code, err) = run(&with(&[arg(format!("x=@{}", p("wide.npy"))), arg("n=64".into())]));
    assert_eq!(code, Some(2), "{err}");
    assert_eq!(
        err,
        format!(
            "error: `x` is Ptr<f32>, but {} holds f64 (numpy `<f8`); it must hold f32 (`tritonc npy create --dtype f32`)\n",
            p("wide.npy")
        )
    );
    let (code, err) = run(&with(&[arg(format!("x=@{}", p("x.npy"))), arg("n=64.5".into())]));
    assert_eq!(code, Some(2), "{err}");
    assert_eq!(err, "error: `n` is i32, but `64.5` is not an integer\n");
    let (code, err) = run(&with(&[
        arg(format!("x=@{}", p("x.npy"))),
        arg(format!("n=@{}", p("x.npy"))),
    ]));
    assert_eq!(code, Some(2), "{err}");
    assert_eq!(
        err,
        "error: `n` is i32, not a pointer: pass a value (--arg n=VALUE), not a file\n"
    );
}

#[test]
fn a_closed_pipe_ends_the_output_quietly() {
    use std::process::Stdio;
    let mut child = tritonc()
        .arg("targets")
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    // Close the reading end before anything is read, as `| head -0` does.
    drop(child.stdout.take());
    let out = child.wait_with_output().unwrap();
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(!err.contains("panicked"), "{err}");
}

/// `tritonc` is a front without the compiler: a `compile` whose kernel the
/// cache holds is answered without starting `tritonc-compiler` (pointed
/// at a program that does not exist, the hit still succeeds and writes
/// the same code object), while a miss, or a flag the front does not read
/// (`--emit`), goes to the compiler (which then cannot be started). The
/// front links neither LLVM nor MLIR.
#[test]
fn cache_hits_are_answered_without_the_compiler() {
    let dir = scratch("front");
    let cache = dir.join("cache");
    let softmax = examples().join("softmax.tk");
    let compile = |out: &str, compiler: Option<&str>, block: &str, extra: &[&str]| {
        let mut c = tritonc();
        c.env("TRITONC_CACHE_DIR", &cache).env_remove("TRITONC_LOG");
        if let Some(p) = compiler {
            c.env("TRITONC_COMPILER", p);
        }
        c.arg("compile")
            .arg(&softmax)
            .args(["--kernel", "softmax", "--target", "gfx942", "--const", block])
            .args(["--divisible=all", "-o"])
            .arg(dir.join(out))
            .args(extra)
            .output()
            .unwrap()
    };
    let first = compile("a.hsaco", None, "BLOCK=256", &[]);
    assert!(first.status.success(), "{}", String::from_utf8_lossy(&first.stderr));
    let hit = compile("b.hsaco", Some("/nonexistent/tritonc-compiler"), "BLOCK=256", &[]);
    let said = String::from_utf8_lossy(&hit.stderr);
    assert!(hit.status.success(), "{said}");
    assert!(said.contains("softmax for gfx942"), "{said}");
    let (a, b) = (
        std::fs::read(dir.join("a.hsaco")).unwrap(),
        std::fs::read(dir.join("b.hsaco")).unwrap(),
    );
    assert!(a == b && a.starts_with(b"\x7fELF"));
    // Another request (BLOCK 512) misses; `--emit` is the compiler's.
    let emit = dir.join("stages").display().to_string();
    // (A flag given twice is the compiler's to refuse, not a hit.)
    for (block, extra) in [
        ("BLOCK=512", &[][..]),
        ("BLOCK=256", &["--emit", emit.as_str()][..]),
        ("BLOCK=256", &["--target", "gfx942"][..]),
    ] {
        let miss = compile("c.hsaco", Some("/nonexistent/tritonc-compiler"), block, extra);
        let said = String::from_utf8_lossy(&miss.stderr);
        assert_eq!(miss.status.code(), Some(2), "{said}");
        assert!(
            said.contains("cannot run the compiler /nonexistent/tritonc-compiler"),
            "{said}"
        );
    }
    let front = std::fs::read(env!("CARGO_BIN_EXE_tritonc")).unwrap();
    for symbol in [&b"LLVMContextCreate"[..], b"mlirContextCreate"] {
        assert!(!front.windows(symbol.len()).any(|w| w == symbol));
    }
}
