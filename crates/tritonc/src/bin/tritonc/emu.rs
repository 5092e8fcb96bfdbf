//! `tritonc emu`: any AMDGPU code object (ours, Triton's, hipcc's) run in
//! the machine-code emulator, its arguments given in the kernel's order.

use super::parse_dims;
use std::path::PathBuf;
use tritonc::{
    emu::{code_object, Arg, Emulator, Launch, Memory},
    npy, Error,
};

#[derive(clap::Args)]
pub struct EmuOpts {
    /// The code object (`.hsaco`).
    pub file: PathBuf,
    /// The kernel's symbol (may be left out when the code object has one).
    #[arg(long)]
    pub kernel: Option<String>,
    /// Workgroups along each axis: X[,Y[,Z]].
    #[arg(long)]
    pub grid: String,
    /// Work-items per workgroup: X[,Y[,Z]].
    #[arg(long)]
    pub block: String,
    /// Bytes of LDS allocated at launch beyond the kernel's own.
    #[arg(long, default_value_t = 0)]
    pub lds: u32,
    /// The arguments, in the kernel's order (repeatable): `@file.npy` (a
    /// buffer), `i32:V`, `u32:V`, `i64:V`, `f32:V`, or `null` (a null
    /// pointer).
    #[arg(long = "arg", value_name = "@FILE.npy|TYPE:V|null", allow_hyphen_values = true)]
    pub args: Vec<String>,
    /// `POS=file.npy`: after the run, write the buffer of argument POS
    /// (0-based), with the dtype and shape it was read with.
    #[arg(long = "out", value_name = "POS=FILE")]
    pub outs: Vec<String>,
    /// Print what the run executed (waves, lane-instructions, speed).
    #[arg(long)]
    pub stats: bool,
}

/// One `--arg`: the emulator's argument, and for a buffer the array read.
fn argument(text: &str, mem: &mut Memory) -> Result<(Arg, Option<npy::NpyArray>), Error> {
    if let Some(path) = text.strip_prefix('@') {
        let bytes = std::fs::read(path).map_err(|e| Error::Io(format!("--arg {text}: cannot read {path}: {e}")))?;
        let array = npy::parse(&bytes)?;
        let addr = mem.alloc(&array.data);
        return Ok((Arg::Ptr(addr), Some(array)));
    }
    if text == "null" {
        return Ok((Arg::Ptr(0), None));
    }
    let bad = || {
        Error::Usage(format!(
            "--arg `{text}`: expected @file.npy, i32:V, u32:V, i64:V, f32:V or null"
        ))
    };
    let (ty, v) = text.split_once(':').ok_or_else(bad)?;
    let arg = match ty {
        "i32" => Arg::I32(v.parse().map_err(|_| bad())?),
        "u32" => Arg::U32(v.parse().map_err(|_| bad())?),
        "i64" => Arg::I64(v.parse().map_err(|_| bad())?),
        "f32" => Arg::F32(v.parse().map_err(|_| bad())?),
        _ => return Err(bad()),
    };
    Ok((arg, None))
}

pub fn emu_command(opts: &EmuOpts) -> Result<(), Error> {
    let bytes =
        std::fs::read(&opts.file).map_err(|e| Error::Io(format!("cannot read {}: {e}", opts.file.display())))?;
    let kernels = code_object::load(&bytes)?;
    let names: Vec<&str> = kernels.iter().map(|k| k.name.as_str()).collect();
    let name = match (&opts.kernel, names.as_slice()) {
        (Some(k), _) => k.clone(),
        (None, [one]) => one.to_string(),
        (None, _) => {
            return Err(Error::Usage(format!(
                "{} has {} kernels ({}); choose one with --kernel",
                opts.file.display(),
                names.len(),
                names.join(", ")
            )))
        }
    };
    let emu = Emulator::new(&bytes, &name)?;
    let mut mem = Memory::new();
    let mut args = Vec::new();
    let mut arrays = Vec::new();
    for a in &opts.args {
        let (arg, array) = argument(a, &mut mem)?;
        args.push(arg);
        arrays.push(array);
    }
    let mut outs = Vec::new();
    for item in &opts.outs {
        let (pos, path) = item
            .split_once('=')
            .ok_or_else(|| Error::Usage(format!("--out expects POS=file.npy, found `{item}`")))?;
        let pos: usize = pos
            .parse()
            .map_err(|_| Error::Usage(format!("--out {item}: `{pos}` is not an argument position")))?;
        match (args.get(pos), arrays.get(pos)) {
            (Some(Arg::Ptr(addr)), Some(Some(array))) => outs.push((*addr, array, PathBuf::from(path))),
            _ => {
                return Err(Error::Usage(format!(
                    "--out {item}: argument {pos} is not a buffer read from a file"
                )))
            }
        }
    }
    let launch = Launch {
        grid: parse_dims("grid", &opts.grid)?,
        block: parse_dims("block", &opts.block)?,
        dynamic_lds: opts.lds,
    };
    let stats = emu.run(&mut mem, &args, &launch)?;
    warn_uninitialized_reads(&stats);
    for (addr, array, path) in outs {
        let data = mem
            .buffer(addr)
            .ok_or_else(|| Error::Internal("an emulator buffer vanished".into()))?;
        std::fs::write(&path, npy::write(&array.descr, &array.shape, data))
            .map_err(|e| Error::Io(format!("cannot write {}: {e}", path.display())))?;
        eprintln!("wrote {}", path.display());
    }
    if opts.stats {
        eprintln!(
            "emulated `{name}`: {} waves, {} wave-instructions, {} lane-instructions in {:.3} s ({:.1} M lane-instructions/s)",
            stats.waves,
            stats.wave_instructions,
            stats.lane_instructions,
            stats.seconds,
            stats.lane_instructions_per_second() / 1e6
        );
    }
    Ok(())
}

/// Reads of registers nothing had written are not errors (LLVM copies
/// undefined values where nothing uses them) but may be a code
/// generator's bug: said on stderr, with where the first few happened.
pub fn warn_uninitialized_reads(stats: &tritonc::emu::Stats) {
    if stats.uninitialized_reads == 0 {
        return;
    }
    eprintln!(
        "warning: {} instruction execution(s) read a register nothing had written:",
        stats.uninitialized_reads
    );
    for r in &stats.reports {
        eprintln!("  {r}");
    }
}
