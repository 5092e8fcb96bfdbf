//! `tritonc bundle`: every kernel x const set x target of a file, compiled
//! in parallel into one bundle.

use super::{check_flags, read_source};
use std::{collections::BTreeMap, io::Write, path::PathBuf, time::Instant};
use tritonc::request::{parse_consts, parse_divisible};
use tritonc::{
    bundler::{compile_bundle, BundleJob},
    codegen::target,
    driver::CompileRequest,
    sema::ConstArg,
    Error,
};

#[derive(clap::Args)]
pub struct BundleOpts {
    /// The `.tk` file.
    pub file: PathBuf,
    /// Kernels to include (repeatable; default: every kernel of the file).
    #[arg(long = "kernel")]
    pub kernels: Vec<String>,
    /// Targets, comma-separated: gfx archs, `host` (this CPU), or a
    /// portable `host:x86-64-v2` ... (found by the CPU backend of any
    /// machine of that level).
    #[arg(long = "target", value_delimiter = ',', required = true)]
    pub targets: Vec<String>,
    /// One set of const values, `A=1,B=2` (repeatable; each kernel is
    /// compiled for every set, given the values it declares).
    #[arg(long = "const-set", value_name = "A=1,B=2")]
    pub const_sets: Vec<String>,
    /// As for `compile`: `NAME[,NAME..]` or `all`.
    #[arg(long, value_name = "NAMES|all")]
    pub divisible: Option<String>,
    /// Override the kernels' `num_warps`.
    #[arg(long)]
    pub num_warps: Option<u32>,
    /// Override the kernels' `num_stages`.
    #[arg(long)]
    pub num_stages: Option<u32>,
    /// Promise every buffer is under 4 GiB (as for `compile`).
    #[arg(long)]
    pub small_buffers: bool,
    /// AMDGPU code object version.
    #[arg(long, default_value_t = 5)]
    pub code_object_version: u32,
    /// Compile on this many threads (default: every core).
    #[arg(long)]
    pub jobs: Option<usize>,
    /// The bundle file to write (`.tkb`).
    #[arg(short = 'o', long)]
    pub output: PathBuf,
}

/// The jobs the options ask for: each kernel with each const set that
/// gives every const it declares (values it does not declare are left
/// out), for each target.
fn jobs(opts: &BundleOpts) -> Result<Vec<BundleJob>, Error> {
    let file = read_source(&opts.file)?;
    let ast = tritonc::syntax::parse(&file)?;
    let kernels: Vec<String> = if opts.kernels.is_empty() {
        ast.kernels().map(|k| k.name.name.clone()).collect()
    } else {
        opts.kernels.clone()
    };
    if kernels.is_empty() {
        return Err(Error::Usage(format!("{} has no `#[kernel]` function", file.name)));
    }
    for t in &opts.targets {
        target::lookup(t)?;
    }
    let sets: Vec<BTreeMap<String, ConstArg>> = if opts.const_sets.is_empty() {
        vec![BTreeMap::new()]
    } else {
        opts.const_sets
            .iter()
            .map(|set| {
                let items: Vec<String> = set
                    .split(',')
                    .map(|s| s.trim().to_string())
                    .filter(|s| !s.is_empty())
                    .collect();
                parse_consts(&items).map_err(Error::Usage)
            })
            .collect::<Result<_, _>>()?
    };
    let mut out = Vec::new();
    for kernel in &kernels {
        let declared: Vec<String> = ast
            .function(kernel)
            .map(|k| k.const_params.iter().map(|c| c.name.name.clone()).collect())
            .unwrap_or_default();
        let mut chosen: Vec<BTreeMap<String, ConstArg>> = Vec::new();
        for set in &sets {
            let mine: BTreeMap<String, ConstArg> = set
                .iter()
                .filter(|(n, _)| declared.contains(n))
                .map(|(n, v)| (n.clone(), *v))
                .collect();
            if mine.len() == declared.len() && !chosen.contains(&mine) {
                chosen.push(mine);
            }
        }
        if chosen.is_empty() {
            return Err(Error::Usage(format!(
                "kernel `{kernel}` needs {} and no --const-set gives all of them",
                declared.join(", ")
            )));
        }
        for consts in chosen {
            let mut req = CompileRequest::new(file.clone());
            req.kernel = Some(kernel.clone());
            req.consts = consts;
            req.num_warps = opts.num_warps;
            req.num_stages = opts.num_stages;
            req.small_buffers = opts.small_buffers;
            req.code_object_version = opts.code_object_version;
            req.divisible = parse_divisible(opts.divisible.as_deref());
            check_flags(&req)?;
            for t in &opts.targets {
                out.push(BundleJob {
                    request: req.clone(),
                    target: t.clone(),
                });
            }
        }
    }
    Ok(out)
}

pub fn bundle_command(opts: &BundleOpts) -> Result<(), Error> {
    let started = Instant::now();
    let jobs = jobs(opts)?;
    let threads = opts
        .jobs
        .unwrap_or_else(|| std::thread::available_parallelism().map_or(1, |n| n.get()));
    let terminal = std::io::IsTerminal::is_terminal(&std::io::stderr());
    let progress = |done: usize, total: usize, job: &BundleJob| {
        if terminal {
            let width = 30;
            let filled = done * width / total.max(1);
            let mut err = std::io::stderr().lock();
            let _ = write!(
                err,
                "\r\x1b[K[{}{}] {done}/{total} {}",
                "#".repeat(filled),
                " ".repeat(width - filled),
                job.describe()
            );
            let _ = err.flush();
        }
    };
    let cache = tritonc::cache::Cache::from_env();
    let result = compile_bundle(&jobs, threads, &cache, &progress);
    if terminal {
        eprint!("\r\x1b[K");
    }
    let writer = result?;
    let bytes = writer.to_bytes();
    std::fs::write(&opts.output, &bytes)
        .map_err(|e| Error::Io(format!("cannot write {}: {e}", opts.output.display())))?;
    eprintln!(
        "wrote {} ({} kernels, {} bytes) in {:.2} s",
        opts.output.display(),
        writer.len(),
        bytes.len(),
        started.elapsed().as_secs_f64()
    );
    Ok(())
}
