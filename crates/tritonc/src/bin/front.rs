//! `tritonc`, the program users run: a front that answers a `compile`
//! whose kernel the cache already holds without starting the compiler,
//! and runs `tritonc-compiler` (LLVM and MLIR linked in: ~20 ms to start)
//! with the same arguments for everything else. It links only
//! `tritonc-cache`, the syntax and the semantic checker's constants (no
//! LLVM, no MLIR), so it starts in about a millisecond.
//!
//! It answers only what it reads exactly as the compiler does: `compile`
//! with `-o`/`--output` and flags among `--kernel`, `--target` (a plain
//! name), `--const`, `--num-warps`, `--num-stages`, `--divisible`,
//! `--assume`, `--small-buffers` and `--code-object-version`; no
//! `TRITONC_LOG`; a kernel the cache holds under the same request key the
//! compiler would look up. Anything else (another command or flag, a
//! miss, an unreadable file, a flag given twice) is the compiler's to
//! answer, errors included: the front never reports one itself. The
//! compiler is `TRITONC_COMPILER` when set, else `tritonc-compiler` beside
//! this program.

use std::{
    ffi::OsString,
    path::{Path, PathBuf},
    process::ExitCode,
};
use tritonc_cache::{
    cache::Cache,
    request::{self, CompileRequest},
};
use tritonc_syntax::SourceFile;

fn main() -> ExitCode {
    let args: Vec<OsString> = std::env::args_os().skip(1).collect();
    match cache_hit(&args) {
        Some(()) => ExitCode::SUCCESS,
        None => run_compiler(&args),
    }
}

/// The `compile` flags the front reads.
#[derive(Default)]
struct CompileFlags {
    file: Option<String>,
    kernel: Option<String>,
    target: Option<String>,
    output: Option<String>,
    consts: Vec<String>,
    assume: Vec<String>,
    num_warps: Option<u32>,
    num_stages: Option<u32>,
    divisible: Option<String>,
    small_buffers: bool,
    code_object_version: Option<u32>,
}

impl CompileFlags {
    /// The flags after `compile`, or `None` for anything the front does
    /// not read exactly as the compiler's command line does.
    fn parse(args: &[&str]) -> Option<CompileFlags> {
        let mut flags = CompileFlags::default();
        let mut i = 0;
        while i < args.len() {
            let arg = args[i];
            i += 1;
            if !arg.starts_with('-') {
                if flags.file.replace(arg.to_string()).is_some() {
                    return None;
                }
                continue;
            }
            if arg == "--small-buffers" {
                // (Given twice, the compiler's command line refuses it.)
                if std::mem::replace(&mut flags.small_buffers, true) {
                    return None;
                }
                continue;
            }
            // `--flag value` or `--flag=value` (`-o value` for the output).
            let (name, value) = match arg.split_once('=') {
                Some((n, v)) if n.starts_with("--") => (n, v),
                _ => {
                    let v = *args.get(i)?;
                    i += 1;
                    (arg, v)
                }
            };
            let text = || value.to_string();
            match name {
                "--kernel" => set_once(&mut flags.kernel, text())?,
                "--target" => set_once(&mut flags.target, text())?,
                "-o" | "--output" => set_once(&mut flags.output, text())?,
                "--divisible" => set_once(&mut flags.divisible, text())?,
                "--const" => flags.consts.push(text()),
                "--assume" => flags.assume.push(text()),
                "--num-warps" => set_once(&mut flags.num_warps, value.parse().ok()?)?,
                "--num-stages" => set_once(&mut flags.num_stages, value.parse().ok()?)?,
                "--code-object-version" => set_once(&mut flags.code_object_version, value.parse().ok()?)?,
                _ => return None,
            }
        }
        Some(flags)
    }

    /// The request the compiler would make of these flags (its defaults:
    /// target gfx942, code object version 5).
    fn request(&self) -> Option<(CompileRequest, String)> {
        let path = self.file.as_ref()?;
        let text = std::fs::read_to_string(path).ok()?;
        let mut req = CompileRequest::new(SourceFile::new(Path::new(path).display().to_string(), text));
        req.kernel = self.kernel.clone();
        req.consts = request::parse_consts(&self.consts).ok()?;
        req.num_warps = self.num_warps;
        req.num_stages = self.num_stages;
        req.small_buffers = self.small_buffers;
        req.divisible = request::parse_divisible(self.divisible.as_deref());
        req.assume = request::parse_assumes(&self.assume).ok()?;
        req.code_object_version = self.code_object_version.unwrap_or(5);
        let target = self.target.as_deref().unwrap_or("gfx942");
        // A plain name (the request key spells `cpu` as `host`) is the
        // compiler's name for its target too; `host:LEVEL`, `sim:gfxN` and
        // `gfxN:FEATURES` are the compiler's to read.
        (!target.contains(':')).then(|| (req, target.to_string()))
    }
}

/// Fills a flag's slot; `None` when it was given already (the compiler's
/// command line refuses that).
fn set_once<T>(slot: &mut Option<T>, value: T) -> Option<()> {
    slot.replace(value).is_none().then_some(())
}

/// A `compile` answered from the cache: the code object written where
/// `-o` says, and the compiler's line about it.
fn cache_hit(args: &[OsString]) -> Option<()> {
    if std::env::var_os("TRITONC_LOG").is_some() {
        return None;
    }
    let args: Vec<&str> = args.iter().map(|a| a.to_str()).collect::<Option<_>>()?;
    let (command, rest) = args.split_first()?;
    if *command != "compile" {
        return None;
    }
    let flags = CompileFlags::parse(rest)?;
    let output = PathBuf::from(flags.output.as_ref()?);
    let (req, target) = flags.request()?;
    let cache = Cache::from_env();
    if !cache.enabled() {
        return None;
    }
    let compiled = cache.get_request(&req.request_key(&target)).0?;
    std::fs::write(&output, &compiled.binary).ok()?;
    eprintln!(
        "wrote {} ({} bytes, {} for {})",
        output.display(),
        compiled.binary.len(),
        compiled.kernel,
        compiled.target
    );
    Some(())
}

/// Runs the compiler with `args`: on Unix in this process's place (its
/// output and exit status are the program's).
fn run_compiler(args: &[OsString]) -> ExitCode {
    let compiler = match std::env::var_os("TRITONC_COMPILER") {
        Some(p) => PathBuf::from(p),
        None => match std::env::current_exe() {
            Ok(me) => me.with_file_name(format!("tritonc-compiler{}", std::env::consts::EXE_SUFFIX)),
            Err(e) => {
                eprintln!("error: cannot find the compiler (tritonc-compiler): {e}");
                return ExitCode::from(2);
            }
        },
    };
    let mut command = std::process::Command::new(&compiler);
    command.args(args);
    #[cfg(unix)]
    {
        use std::os::unix::process::CommandExt;
        // The compiler's usage lines name the program as the user ran it.
        if let Some(me) = std::env::args_os().next() {
            command.arg0(me);
        }
        let e = command.exec();
        missing_compiler(&compiler, &e)
    }
    #[cfg(not(unix))]
    match command.status() {
        Ok(s) => ExitCode::from(s.code().unwrap_or(1).clamp(0, 255) as u8),
        Err(e) => missing_compiler(&compiler, &e),
    }
}

/// The compiler program could not be started: say where it was looked
/// for and how to get it (exit 2).
fn missing_compiler(compiler: &Path, e: &std::io::Error) -> ExitCode {
    eprintln!(
        "error: cannot run the compiler {}: {e} (it is built beside `tritonc`: `cargo build -p tritonc --bins`; or set TRITONC_COMPILER)",
        compiler.display()
    );
    ExitCode::from(2)
}
