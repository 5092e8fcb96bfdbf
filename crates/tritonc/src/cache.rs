//! The kernel cache: compiled kernels on disk (and in memory), keyed by
//! everything that decides the generated code.
//!
//! The key is a SHA-256 of: the specialized, optimized tile IR (constants,
//! divisibility and assumed values are folded into it), the kernel name,
//! the target's name, triple and features, the launch options and code
//! object version, the LLVM and linker versions, and a hash of the
//! compiler's own sources. An entry holds every stage, so `--emit` shows
//! them on a hit too. Entries are written to a temporary file and renamed
//! (two processes compiling the same kernel both succeed; readers never see
//! half an entry), and verified on read with a SHA-256 of their contents: a
//! corrupt, truncated or foreign entry is recompiled and replaced.
//!
//! Location: `$TRITONC_CACHE_DIR`, else `$XDG_CACHE_HOME/tritonc`, else
//! `~/.cache/tritonc`. `TRITONC_CACHE=off` disables it; `TRITONC_LOG=cache`
//! reports every hit and miss (and, on a miss, which part of the key
//! changed since an entry for the same kernel and target).

use crate::driver::{Compiled, Stage};
use sha2::{Digest, Sha256};
use std::{
    collections::HashMap,
    path::{Path, PathBuf},
    sync::{
        atomic::{AtomicU64, Ordering},
        Arc, Mutex,
    },
    time::Duration,
};
use tritonc_ir::{Elem, ScalarType, Type};

const MAGIC: &[u8; 8] = b"TKCACHE1";

/// The named parts of a cache key, in order.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct KeyParts(pub Vec<(&'static str, String)>);

impl KeyParts {
    pub fn digest(&self) -> String {
        let mut h = Sha256::new();
        for (name, value) in &self.0 {
            h.update(name.as_bytes());
            h.update([0]);
            h.update((value.len() as u64).to_le_bytes());
            h.update(value.as_bytes());
        }
        hex(&h.finalize())
    }
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

/// Where compiled kernels are kept.
#[derive(Debug, Clone)]
pub struct Cache {
    dir: Option<PathBuf>,
    /// Whether lookups happen at all (a cache in memory only has no `dir`).
    on: bool,
    memory: Arc<Mutex<HashMap<String, Arc<Compiled>>>>,
    log: bool,
}

/// How a lookup went.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Lookup {
    MemoryHit,
    DiskHit,
    /// Not found (or bypassed); the reason, for `TRITONC_LOG=cache`.
    Miss(String),
}

impl Cache {
    /// The cache the environment asks for.
    pub fn from_env() -> Cache {
        let log = std::env::var("TRITONC_LOG").is_ok_and(|v| v.split(',').any(|p| p == "cache"));
        if std::env::var("TRITONC_CACHE").is_ok_and(|v| v == "off" || v == "0") {
            return Cache {
                dir: None,
                on: false,
                memory: Arc::default(),
                log,
            };
        }
        Cache {
            dir: Some(default_dir()),
            on: true,
            memory: Arc::default(),
            log,
        }
    }

    /// A cache in `dir` (tests, tools).
    pub fn at(dir: impl Into<PathBuf>) -> Cache {
        Cache {
            dir: Some(dir.into()),
            on: true,
            memory: Arc::default(),
            log: false,
        }
    }

    /// A cache in this process's memory only (tests: the same kernel
    /// compiled once per process).
    pub fn in_memory() -> Cache {
        Cache {
            dir: None,
            on: true,
            memory: Arc::default(),
            log: false,
        }
    }

    /// No caching at all (`--no-cache`).
    pub fn disabled() -> Cache {
        Cache {
            dir: None,
            on: false,
            memory: Arc::default(),
            log: false,
        }
    }

    pub fn dir(&self) -> Option<&Path> {
        self.dir.as_deref()
    }

    pub fn enabled(&self) -> bool {
        self.on
    }

    fn entry_path(&self, key: &str) -> Option<PathBuf> {
        self.dir.as_ref().map(|d| d.join(format!("{key}.tkc")))
    }

    /// Looks a key up: memory first, then disk (verified).
    pub fn get(&self, parts: &KeyParts) -> (Option<Arc<Compiled>>, Lookup) {
        if !self.on {
            return (None, Lookup::Miss("the cache is off".into()));
        }
        let key = parts.digest();
        if let Some(c) = self.memory.lock().unwrap_or_else(|e| e.into_inner()).get(&key) {
            return (Some(c.clone()), Lookup::MemoryHit);
        }
        let Some(path) = self.entry_path(&key) else {
            return (None, Lookup::Miss("not compiled in this process yet".into()));
        };
        match std::fs::read(&path) {
            Ok(bytes) => match decode(&bytes) {
                Some((stored, compiled)) if stored == parts.0 => {
                    let c = Arc::new(compiled);
                    self.memory
                        .lock()
                        .unwrap_or_else(|e| e.into_inner())
                        .insert(key, c.clone());
                    (Some(c), Lookup::DiskHit)
                }
                _ => (
                    None,
                    Lookup::Miss("the entry was corrupt or foreign; recompiling and replacing it".into()),
                ),
            },
            Err(_) => (None, Lookup::Miss(self.why_missing(parts))),
        }
    }

    /// Stores an entry (best effort: a cache that cannot be written only
    /// costs time, so errors are reported to the log, not returned).
    pub fn put(&self, parts: &KeyParts, compiled: &Compiled) {
        let key = parts.digest();
        self.memory
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .insert(key.clone(), Arc::new(compiled.clone()));
        let (Some(dir), Some(path)) = (self.dir.as_ref(), self.entry_path(&key)) else {
            return;
        };
        if let Err(e) = write_atomically(dir, &path, &encode(parts, compiled)) {
            if self.log {
                eprintln!("tritonc cache: cannot write {}: {e}", path.display());
            }
        }
    }

    /// Reports a lookup when `TRITONC_LOG=cache` is set.
    pub fn report(&self, kernel: &str, target: &str, how: &Lookup) {
        if !self.log {
            return;
        }
        match how {
            Lookup::MemoryHit => eprintln!("tritonc cache: hit (memory) for `{kernel}` on {target}"),
            Lookup::DiskHit => eprintln!("tritonc cache: hit (disk) for `{kernel}` on {target}"),
            Lookup::Miss(why) => eprintln!("tritonc cache: miss for `{kernel}` on {target}: {why}"),
        }
    }

    /// On a miss, what differs from the newest entry for the same kernel
    /// and target, so that recompile storms are visible.
    fn why_missing(&self, parts: &KeyParts) -> String {
        let find = |name: &str| parts.0.iter().find(|(n, _)| *n == name).map(|(_, v)| v.clone());
        let (kernel, target) = (find("kernel"), find("target"));
        let mut newest: Option<(std::time::SystemTime, Vec<(String, String)>)> = None;
        for e in self.entries() {
            let Ok(bytes) = std::fs::read(&e.path) else { continue };
            let Some((stored, _)) = decode_parts(&bytes) else {
                continue;
            };
            let get = |name: &str| stored.iter().find(|(n, _)| n == name).map(|(_, v)| v.clone());
            let same = get("kernel") == kernel && get("target") == target;
            if same && newest.as_ref().is_none_or(|(t, _)| e.modified > *t) {
                newest = Some((e.modified, stored));
            }
        }
        let Some((_, stored)) = newest else {
            return "no entry for this kernel and target yet".into();
        };
        let changed: Vec<&str> = parts
            .0
            .iter()
            .filter(|(n, v)| stored.iter().find(|(sn, _)| sn == n).is_none_or(|(_, sv)| sv != v))
            .map(|(n, _)| *n)
            .collect();
        format!("changed since the last entry: {}", changed.join(", "))
    }

    /// The entries on disk.
    pub fn entries(&self) -> Vec<EntryInfo> {
        let Some(dir) = &self.dir else { return Vec::new() };
        let Ok(read) = std::fs::read_dir(dir) else {
            return Vec::new();
        };
        let mut out: Vec<EntryInfo> = read
            .flatten()
            .filter(|e| e.path().extension().is_some_and(|x| x == "tkc"))
            .filter_map(|e| {
                let md = e.metadata().ok()?;
                Some(EntryInfo {
                    path: e.path(),
                    bytes: md.len(),
                    modified: md.modified().unwrap_or(std::time::UNIX_EPOCH),
                })
            })
            .collect();
        out.sort_by(|a, b| a.path.cmp(&b.path));
        out
    }

    /// Removes every entry (and remembered autotuning results); returns
    /// how many entries.
    pub fn clear(&self) -> std::io::Result<usize> {
        let entries = self.entries();
        for e in &entries {
            std::fs::remove_file(&e.path)?;
        }
        if let Some(Ok(read)) = self.dir.as_ref().map(std::fs::read_dir) {
            for e in read.flatten() {
                if e.path().extension().is_some_and(|x| x == "tkt") {
                    std::fs::remove_file(e.path())?;
                }
            }
        }
        self.memory.lock().unwrap_or_else(|e| e.into_inner()).clear();
        Ok(entries.len())
    }
}

/// One entry file.
#[derive(Debug, Clone)]
pub struct EntryInfo {
    pub path: PathBuf,
    pub bytes: u64,
    pub modified: std::time::SystemTime,
}

impl EntryInfo {
    /// The kernel and target the entry is for, if it reads back.
    pub fn describe(&self) -> Option<(String, String)> {
        let bytes = std::fs::read(&self.path).ok()?;
        let (parts, _) = decode_parts(&bytes)?;
        let get = |name: &str| parts.iter().find(|(n, _)| n == name).map(|(_, v)| v.clone());
        Some((get("kernel")?, get("target")?))
    }
}

fn default_dir() -> PathBuf {
    if let Some(d) = std::env::var_os("TRITONC_CACHE_DIR") {
        return PathBuf::from(d);
    }
    if let Some(d) = std::env::var_os("XDG_CACHE_HOME") {
        return PathBuf::from(d).join("tritonc");
    }
    match std::env::var_os("HOME") {
        Some(h) => PathBuf::from(h).join(".cache").join("tritonc"),
        None => std::env::temp_dir().join("tritonc-cache"),
    }
}

fn write_atomically(dir: &Path, path: &Path, bytes: &[u8]) -> std::io::Result<()> {
    static COUNTER: AtomicU64 = AtomicU64::new(0);
    std::fs::create_dir_all(dir)?;
    let tmp = dir.join(format!(
        ".tmp-{}-{}",
        std::process::id(),
        COUNTER.fetch_add(1, Ordering::Relaxed)
    ));
    std::fs::write(&tmp, bytes)?;
    let r = std::fs::rename(&tmp, path);
    if r.is_err() {
        let _ = std::fs::remove_file(&tmp);
    }
    r
}

// ---- the entry format -------------------------------------------------------
//
// MAGIC | sha256(payload) | payload, where payload is a sequence of
// length-prefixed byte strings (u64 little-endian lengths).

struct Writer(Vec<u8>);

impl Writer {
    fn bytes(&mut self, b: &[u8]) {
        self.0.extend_from_slice(&(b.len() as u64).to_le_bytes());
        self.0.extend_from_slice(b);
    }
    fn str(&mut self, s: &str) {
        self.bytes(s.as_bytes());
    }
    fn num(&mut self, n: u64) {
        self.str(&n.to_string());
    }
}

struct Reader<'a>(&'a [u8]);

impl<'a> Reader<'a> {
    fn bytes(&mut self) -> Option<&'a [u8]> {
        let len = u64::from_le_bytes(self.0.get(..8)?.try_into().ok()?) as usize;
        let data = self.0.get(8..8usize.checked_add(len)?)?;
        self.0 = &self.0[8 + len..];
        Some(data)
    }
    fn str(&mut self) -> Option<String> {
        String::from_utf8(self.bytes()?.to_vec()).ok()
    }
    fn num(&mut self) -> Option<u64> {
        self.str()?.parse().ok()
    }
}

fn encode(parts: &KeyParts, c: &Compiled) -> Vec<u8> {
    let mut w = Writer(Vec::new());
    w.num(parts.0.len() as u64);
    for (n, v) in &parts.0 {
        w.str(n);
        w.str(v);
    }
    w.str(&c.kernel);
    w.str(&c.target);
    w.num(u64::from(c.num_warps));
    w.num(u64::from(c.lanes));
    w.num(u64::from(c.shared_bytes));
    w.num(c.params.len() as u64);
    for (name, t) in &c.params {
        w.str(name);
        let (kind, s) = match t.elem {
            Elem::Scalar(s) => ("s", s),
            Elem::Ptr(s) => ("p", s),
        };
        w.str(kind);
        w.str(s.name());
        let dims: Vec<String> = t.shape.iter().map(u32::to_string).collect();
        w.str(&dims.join(","));
    }
    w.num(c.assert_messages.len() as u64);
    for m in &c.assert_messages {
        w.str(m);
    }
    w.num(c.stages.len() as u64);
    for s in &c.stages {
        w.str(&s.file_name);
        w.bytes(&s.contents);
    }
    w.bytes(&c.binary);
    let payload = w.0;
    let mut out = MAGIC.to_vec();
    out.extend_from_slice(&Sha256::digest(&payload));
    out.extend_from_slice(&payload);
    out
}

/// The verified payload of an entry.
fn payload(bytes: &[u8]) -> Option<&[u8]> {
    if bytes.len() < 40 || &bytes[..8] != MAGIC {
        return None;
    }
    let payload = &bytes[40..];
    (Sha256::digest(payload).as_slice() == &bytes[8..40]).then_some(payload)
}

fn decode_parts(bytes: &[u8]) -> Option<(Vec<(String, String)>, Reader<'_>)> {
    let mut r = Reader(payload(bytes)?);
    let n = r.num()?;
    let mut parts = Vec::new();
    for _ in 0..n.min(64) {
        parts.push((r.str()?, r.str()?));
    }
    Some((parts, r))
}

fn decode(bytes: &[u8]) -> Option<(Vec<(&'static str, String)>, Compiled)> {
    let (parts, mut r) = decode_parts(bytes)?;
    let kernel = r.str()?;
    let target = r.str()?;
    let num_warps = r.num()? as u32;
    let lanes = r.num()? as u32;
    let shared_bytes = r.num()? as u32;
    let mut params = Vec::new();
    for _ in 0..r.num()?.min(4096) {
        let name = r.str()?;
        let kind = r.str()?;
        let s = ScalarType::from_name(&r.str()?)?;
        let dims = r.str()?;
        let shape = if dims.is_empty() {
            Vec::new()
        } else {
            dims.split(',').map(|d| d.parse().ok()).collect::<Option<Vec<u32>>>()?
        };
        let elem = if kind == "p" { Elem::Ptr(s) } else { Elem::Scalar(s) };
        params.push((name, Type { elem, shape }));
    }
    let mut assert_messages = Vec::new();
    for _ in 0..r.num()?.min(1 << 16) {
        assert_messages.push(r.str()?);
    }
    let mut stages = Vec::new();
    for _ in 0..r.num()?.min(64) {
        let file_name = r.str()?;
        stages.push(Stage {
            file_name,
            contents: r.bytes()?.to_vec(),
        });
    }
    let binary = r.bytes()?.to_vec();
    // Key part names are static strings in this build; foreign names mean
    // a foreign entry.
    let known = crate::driver::KEY_PART_NAMES;
    let parts = parts
        .into_iter()
        .map(|(n, v)| known.iter().find(|k| **k == n).map(|k| (*k, v)))
        .collect::<Option<Vec<_>>>()?;
    Some((
        parts,
        Compiled {
            kernel,
            params,
            assert_messages,
            num_warps,
            lanes,
            shared_bytes,
            target,
            stages,
            timings: vec![("cache".to_string(), Duration::ZERO)],
            binary,
        },
    ))
}
