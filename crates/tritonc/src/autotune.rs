//! Autotuning: pick, per key, the fastest of a kernel's candidate configs.
//!
//! As Triton's `@autotune(configs=[..], key=[..])`: a kernel launched
//! through an [`Autotuner`] runs, the first time a key is seen, once with
//! every config (const values and launch options) on the device, timed, and
//! then always with the fastest. The key is the values of chosen scalar
//! arguments and the sizes of chosen buffers (`n`, not the data). Winners
//! are remembered in memory and on disk (in the kernel cache directory,
//! one small `.tkt` file per kernel, target, config list and key), so a new
//! process does not tune again. While tuning, every buffer argument is
//! saved first and restored after each trial, so the kernel's side effects
//! (outputs, atomics) happen exactly once, from the winning config's run.
//! `TRITONC_LOG=tune` prints each trial's time and the winner.

use crate::api::LaunchOptions;
use sha2::{Digest, Sha256};
use std::{
    collections::HashMap,
    fmt,
    path::Path,
    sync::{Mutex, PoisonError},
    time::Duration,
};
use tritonc_sema::ConstArg;

/// One candidate: const values and launch options.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Config {
    consts: Vec<(String, ConstArg)>,
    pub options: LaunchOptions,
}

impl Config {
    pub fn new() -> Config {
        Config::default()
    }

    /// Sets an integer const parameter.
    pub fn constant(mut self, name: &str, value: i64) -> Config {
        self.set(name, ConstArg::Int(value));
        self
    }

    /// Sets a bool const parameter.
    pub fn flag(mut self, name: &str, value: bool) -> Config {
        self.set(name, ConstArg::Bool(value));
        self
    }

    pub fn num_warps(mut self, w: u32) -> Config {
        self.options.num_warps = Some(w);
        self
    }

    pub fn num_stages(mut self, s: u32) -> Config {
        self.options.num_stages = Some(s);
        self
    }

    fn set(&mut self, name: &str, v: ConstArg) {
        match self.consts.iter_mut().find(|(n, _)| n == name) {
            Some(slot) => slot.1 = v,
            None => self.consts.push((name.to_string(), v)),
        }
    }

    /// The value of an integer const (for grid functions: the number of
    /// programs usually depends on a block size).
    pub fn get(&self, name: &str) -> Option<i64> {
        self.consts.iter().find(|(n, _)| n == name).map(|(_, v)| match v {
            ConstArg::Int(i) => *i,
            ConstArg::Bool(b) => i64::from(*b),
        })
    }

    pub fn consts(&self) -> &[(String, ConstArg)] {
        &self.consts
    }
}

impl fmt::Display for Config {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut parts: Vec<String> = self
            .consts
            .iter()
            .map(|(n, v)| match v {
                ConstArg::Int(i) => format!("{n}={i}"),
                ConstArg::Bool(b) => format!("{n}={b}"),
            })
            .collect();
        if let Some(w) = self.options.num_warps {
            parts.push(format!("num_warps={w}"));
        }
        if let Some(s) = self.options.num_stages {
            parts.push(format!("num_stages={s}"));
        }
        f.write_str(&parts.join(" "))
    }
}

/// Candidate configs, which arguments form the key, and the winners so far.
#[derive(Debug)]
pub struct Autotuner {
    configs: Vec<Config>,
    key: Vec<usize>,
    /// Timed runs per config (after one untimed warm-up); the best is kept.
    reps: u32,
    /// (A `Mutex`: a tuner may be shared by threads launching at once.)
    best: Mutex<HashMap<(usize, Vec<u64>), usize>>,
    log: bool,
}

impl Autotuner {
    /// A tuner over `configs` (at least one), keyed on nothing until
    /// [`Autotuner::key`] says which arguments matter.
    pub fn new(configs: Vec<Config>) -> Autotuner {
        Autotuner {
            configs,
            key: Vec::new(),
            reps: 3,
            best: Mutex::new(HashMap::new()),
            log: crate::log_topic("tune"),
        }
    }

    /// Tune again whenever these arguments (by position) change: a
    /// scalar's value, a buffer's size.
    pub fn key(mut self, args: &[usize]) -> Autotuner {
        self.key = args.to_vec();
        self
    }

    /// Timed runs per config (default 3).
    pub fn reps(mut self, reps: u32) -> Autotuner {
        self.reps = reps.max(1);
        self
    }

    pub fn configs(&self) -> &[Config] {
        &self.configs
    }

    pub(crate) fn key_of(&self, args: &[crate::api::KernelArg]) -> Vec<u64> {
        self.key
            .iter()
            .map(|i| match args.get(*i) {
                Some(crate::api::KernelArg::Scalar(v, _, _)) => *v,
                Some(crate::api::KernelArg::Buffer(_, bytes)) => *bytes,
                None => u64::MAX,
            })
            .collect()
    }

    pub(crate) fn reps_per_config(&self) -> u32 {
        self.reps
    }

    pub(crate) fn remembered(&self, source: usize, key: &[u64]) -> Option<usize> {
        self.best
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .get(&(source, key.to_vec()))
            .copied()
    }

    pub(crate) fn remember(&self, source: usize, key: &[u64], index: usize) {
        self.best
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .insert((source, key.to_vec()), index);
    }

    /// The config chosen for `key` (argument values as the key takes them)
    /// by launches of the kernel `source`, if tuned in this process.
    pub fn chosen(&self, source: &crate::api::KernelSource, key: &[u64]) -> Option<&Config> {
        let i = self.remembered(source as *const _ as usize, key)?;
        self.configs.get(i)
    }

    pub(crate) fn log(&self, line: impl FnOnce() -> String) {
        if self.log {
            eprintln!("tritonc: tune: {}", line());
        }
    }

    /// The file name of the winner for this kernel, target, config list
    /// and key: a hash of all of them.
    pub(crate) fn record_name(&self, text: &str, kernel: &str, target: &str, key: &[u64]) -> String {
        let mut h = Sha256::new();
        for part in [text, kernel, target] {
            h.update(part.as_bytes());
            h.update([0]);
        }
        for c in &self.configs {
            h.update(c.to_string().as_bytes());
            h.update([0]);
        }
        for k in key {
            h.update(k.to_le_bytes());
        }
        let digest = h.finalize();
        let hex: String = digest.iter().take(16).map(|b| format!("{b:02x}")).collect();
        format!("{hex}.tkt")
    }
}

/// Reads a remembered winner (`index config` on one line), checking that
/// the config at that index is still the one recorded.
pub fn read_record(path: &Path, configs: &[Config]) -> Option<usize> {
    let text = std::fs::read_to_string(path).ok()?;
    let (index, described) = text.trim_end().split_once(' ')?;
    let i: usize = index.parse().ok()?;
    (configs.get(i)?.to_string() == described).then_some(i)
}

/// Writes a winner atomically (temporary file, then rename).
pub fn write_record(path: &Path, index: usize, config: &Config) {
    let tmp = path.with_extension(format!("tmp{}", std::process::id()));
    if std::fs::write(&tmp, format!("{index} {config}\n")).is_ok() && std::fs::rename(&tmp, path).is_err() {
        let _ = std::fs::remove_file(&tmp);
    }
}

/// The fastest of `times` (per config; `None` for a config that failed).
pub fn fastest(times: &[Option<Duration>]) -> Option<usize> {
    times
        .iter()
        .enumerate()
        .filter_map(|(i, t)| t.map(|t| (i, t)))
        .min_by_key(|(_, t)| *t)
        .map(|(i, _)| i)
}
