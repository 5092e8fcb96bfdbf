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
//!
//! # Shared cache for a fleet
//!
//! `TRITONC_CACHE_REMOTE=redis://HOST:PORT[/DB]` puts a Redis server
//! behind the disk cache, so that machines share what any of them
//! compiled. Lookups read through: memory, then disk, then Redis (key
//! `tritonc:<digest>`, the value the disk entry's bytes). A remote entry
//! is verified as a disk entry is (its SHA-256, and its stored key parts
//! must be the wanted ones), then written to the disk cache and memory;
//! a compiled kernel is written to disk and to Redis. A corrupt or
//! foreign remote entry is a miss with a warning, and the recompiled
//! kernel replaces it. `TRITONC_LOG=cache` reports `remote hit` and
//! `remote miss`.
//!
//! The remote never fails a compile. Connecting waits at most 250 ms,
//! each read or write 1 s, a whole command 10 s
//! (`TRITONC_CACHE_REMOTE_TIMEOUT_MS` sets the first two). The first
//! failure (refused, timed out, a reply that is not RESP, an error from
//! the server) prints one warning and turns the remote off for the rest
//! of the process, so no kernel pays a timeout again; a malformed URL
//! prints one warning and the local cache goes on alone. Give the server a
//! `maxmemory` and `maxmemory-policy allkeys-lru` to bound it; entries are
//! never expired by tritonc. The client ([`remote`]) speaks RESP2 without
//! `AUTH` or TLS: run it on a trusted network.

pub mod remote;
mod request_alias;

use crate::request::{Compiled, Stage};
use remote::{Client, Endpoint, RemoteError, Timeouts};
use sha2::{Digest, Sha256};
use std::{
    collections::HashMap,
    path::{Path, PathBuf},
    sync::{
        atomic::{AtomicBool, AtomicU64, Ordering},
        Arc, Mutex, OnceLock,
    },
    time::Duration,
};
use tritonc_ir::{Elem, ScalarType, Type};

const MAGIC: &[u8; 8] = b"TKCACHE1";

/// The named parts of a cache key, in order.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct KeyParts(pub Vec<(&'static str, String)>);

impl KeyParts {
    /// The value of the part named `name`.
    pub fn get(&self, name: &str) -> Option<&str> {
        self.0.iter().find(|(n, _)| *n == name).map(|(_, v)| v.as_str())
    }

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
    /// The shared store behind the disk, if any (one per URL and process).
    remote: Option<Arc<Remote>>,
}

/// How a lookup went.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Lookup {
    MemoryHit,
    DiskHit,
    /// Found in the remote store (and now on disk and in memory too).
    RemoteHit,
    /// Not found (or bypassed); the reason, for `TRITONC_LOG=cache`.
    Miss(String),
    /// Not found locally, and the remote store was asked and had no good
    /// entry; the reason.
    RemoteMiss(String),
    /// Taken from a registered bundle (its origin), not from the cache.
    Bundle(String),
}

impl Lookup {
    /// Whether the kernel came from the cache.
    pub fn is_hit(&self) -> bool {
        matches!(
            self,
            Lookup::MemoryHit | Lookup::DiskHit | Lookup::RemoteHit | Lookup::Bundle(_)
        )
    }
}

/// The Redis key of an entry.
pub fn remote_key(digest: &str) -> String {
    format!("tritonc:{digest}")
}

impl Cache {
    /// The cache the environment asks for.
    pub fn from_env() -> Cache {
        let log = crate::log_topic("cache");
        if std::env::var("TRITONC_CACHE").is_ok_and(|v| v == "off" || v == "0") {
            return Cache {
                dir: None,
                on: false,
                memory: Arc::default(),
                log,
                remote: None,
            };
        }
        let remote = match std::env::var("TRITONC_CACHE_REMOTE") {
            Ok(url) if !url.trim().is_empty() => Remote::from_env(url.trim()),
            _ => None,
        };
        Cache {
            dir: Some(default_dir()),
            on: true,
            memory: Arc::default(),
            log,
            remote,
        }
    }

    /// This cache with a Redis store behind it (`redis://HOST:PORT[/DB]`),
    /// with the default timeouts. Every cache of a process with the same URL
    /// shares one connection, and one verdict once it fails.
    pub fn with_remote(self, url: &str) -> Result<Cache, RemoteError> {
        self.with_remote_timeouts(url, Timeouts::default())
    }

    /// [`Cache::with_remote`] with these timeouts (those of the first
    /// cache of the process with this URL hold).
    pub fn with_remote_timeouts(mut self, url: &str, timeouts: Timeouts) -> Result<Cache, RemoteError> {
        self.remote = Some(Remote::shared(url, timeouts)?);
        Ok(self)
    }

    /// The remote store's URL, if there is one.
    pub fn remote_url(&self) -> Option<&str> {
        self.remote.as_ref().map(|r| r.url.as_str())
    }

    /// Whether the remote store is in use (there is one, and it has not
    /// failed in this process).
    pub fn remote_alive(&self) -> bool {
        self.remote.as_ref().is_some_and(|r| !r.dead.load(Ordering::Relaxed))
    }

    /// A cache in `dir` (tests, tools).
    pub fn at(dir: impl Into<PathBuf>) -> Cache {
        Cache {
            dir: Some(dir.into()),
            on: true,
            memory: Arc::default(),
            log: false,
            remote: None,
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
            remote: None,
        }
    }

    /// No caching at all (`--no-cache`).
    pub fn disabled() -> Cache {
        Cache {
            dir: None,
            on: false,
            memory: Arc::default(),
            log: false,
            remote: None,
        }
    }

    /// This cache, reporting lookups as `TRITONC_LOG=cache` asks (a
    /// disabled cache still reports where a kernel came from).
    pub fn logging_from_env(mut self) -> Cache {
        self.log = crate::log_topic("cache");
        self
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

    /// Looks a key up: memory first, then disk, then the remote store
    /// (each entry verified).
    pub fn get(&self, parts: &KeyParts) -> (Option<Arc<Compiled>>, Lookup) {
        if !self.on {
            return (None, Lookup::Miss("the cache is off".into()));
        }
        let key = parts.digest();
        if let Some(c) = self.memory.lock().unwrap_or_else(|e| e.into_inner()).get(&key) {
            return (Some(c.clone()), Lookup::MemoryHit);
        }
        // Why the disk had nothing (found lazily: it reads every entry).
        let mut why: Option<String> = None;
        match self.entry_path(&key) {
            None => why = Some("not compiled in this process yet".into()),
            Some(path) => {
                if let Ok(bytes) = std::fs::read(&path) {
                    match decode(&bytes) {
                        Some((stored, compiled)) if stored == parts.0 => {
                            return (Some(self.remember(key, compiled)), Lookup::DiskHit);
                        }
                        _ => why = Some("the entry was corrupt or foreign; recompiling and replacing it".into()),
                    }
                }
            }
        }
        if let Some(remote) = &self.remote {
            let rkey = remote_key(&key);
            if let Some(found) = remote.get(&rkey) {
                let Some(bytes) = found else {
                    let why = why.unwrap_or_else(|| self.miss_reason(parts));
                    return (None, Lookup::RemoteMiss(why));
                };
                return match decode(&bytes) {
                    Some((stored, compiled)) if stored == parts.0 => {
                        if let (Some(dir), Some(path)) = (self.dir.as_ref(), self.entry_path(&key)) {
                            if let Err(e) = write_atomically(dir, &path, &bytes) {
                                if self.log {
                                    eprintln!("tritonc cache: cannot write {}: {e}", path.display());
                                }
                            }
                        }
                        (Some(self.remember(key, compiled)), Lookup::RemoteHit)
                    }
                    _ => {
                        eprintln!(
                            "tritonc cache: warning: the entry `{rkey}` in {} is corrupt or foreign; \
                             recompiling and replacing it",
                            remote.url
                        );
                        (
                            None,
                            Lookup::RemoteMiss(
                                "the remote entry was corrupt or foreign; recompiling and replacing it".into(),
                            ),
                        )
                    }
                };
            }
        }
        let why = why.unwrap_or_else(|| self.miss_reason(parts));
        (None, Lookup::Miss(why))
    }

    /// Keeps a kernel read from disk or the remote store in memory.
    fn remember(&self, key: String, compiled: Compiled) -> Arc<Compiled> {
        let c = Arc::new(compiled);
        self.memory
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .insert(key, c.clone());
        c
    }

    /// Stores an entry in memory, on disk and in the remote store (best
    /// effort: a cache that cannot be written only costs time, so errors
    /// are reported to the log, or once for the remote, not returned).
    pub fn put(&self, parts: &KeyParts, compiled: &Compiled) {
        let key = parts.digest();
        self.memory
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .insert(key.clone(), Arc::new(compiled.clone()));
        let remote = self.remote.as_ref().filter(|r| !r.dead.load(Ordering::Relaxed));
        let to_disk = self.dir.as_ref().zip(self.entry_path(&key));
        if remote.is_none() && to_disk.is_none() {
            return;
        }
        let bytes = encode(parts, compiled);
        if let Some((dir, path)) = to_disk {
            if let Err(e) = write_atomically(dir, &path, &bytes) {
                if self.log {
                    eprintln!("tritonc cache: cannot write {}: {e}", path.display());
                }
            }
        }
        if let Some(remote) = remote {
            remote.set(&remote_key(&key), &bytes);
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
            Lookup::RemoteHit => {
                let url = self.remote_url().unwrap_or("the remote store");
                eprintln!("tritonc cache: remote hit for `{kernel}` on {target} ({url})")
            }
            Lookup::Miss(why) => eprintln!("tritonc cache: miss for `{kernel}` on {target}: {why}"),
            Lookup::Bundle(origin) => eprintln!("tritonc cache: from the bundle {origin} for `{kernel}` on {target}"),
            Lookup::RemoteMiss(why) => {
                let url = self.remote_url().unwrap_or("the remote store");
                eprintln!("tritonc cache: remote miss for `{kernel}` on {target} ({url}): {why}")
            }
        }
    }

    /// Why the disk had nothing: with `TRITONC_LOG=cache`, what differs
    /// from the newest entry for the same kernel and target (so that
    /// recompile storms are visible). Finding that reads every entry, so
    /// only when it will be reported: a miss must not cost a pass over a
    /// cache of thousands of entries.
    fn miss_reason(&self, parts: &KeyParts) -> String {
        if self.log {
            self.why_missing(parts)
        } else {
            "not in the cache".into()
        }
    }

    /// On a miss, what differs from the newest entry for the same kernel
    /// and target.
    fn why_missing(&self, parts: &KeyParts) -> String {
        let find = |name: &str| parts.get(name).map(str::to_string);
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
                if e.path().extension().is_some_and(|x| x == "tkt" || x == "tkr") {
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

/// The remote store of one URL, shared by every cache of the process.
#[derive(Debug)]
struct Remote {
    url: String,
    endpoint: Endpoint,
    timeouts: Timeouts,
    /// Connected on first use; dropped after an error.
    conn: Mutex<Option<Client>>,
    /// Set by the first failure: the remote is skipped from then on.
    dead: AtomicBool,
}

/// The remotes of this process by URL (`None`: a malformed URL, already
/// reported).
type Registry = Mutex<HashMap<String, Option<Arc<Remote>>>>;

fn registry() -> &'static Registry {
    static REMOTES: OnceLock<Registry> = OnceLock::new();
    REMOTES.get_or_init(Registry::default)
}

/// Entries larger than this are not stored remotely (Redis refuses
/// bulk strings over 512 MiB by default).
const MAX_REMOTE_ENTRY: usize = 512 << 20;

impl Remote {
    /// The process's remote for `url`.
    fn shared(url: &str, timeouts: Timeouts) -> Result<Arc<Remote>, RemoteError> {
        let mut map = registry().lock().unwrap_or_else(|e| e.into_inner());
        if let Some(Some(r)) = map.get(url) {
            return Ok(r.clone());
        }
        let endpoint = Endpoint::parse(url)?;
        let r = Arc::new(Remote {
            url: url.to_string(),
            endpoint,
            timeouts,
            conn: Mutex::new(None),
            dead: AtomicBool::new(false),
        });
        map.insert(url.to_string(), Some(r.clone()));
        Ok(r)
    }

    /// The remote `TRITONC_CACHE_REMOTE` names; a malformed URL is
    /// reported once and there is no remote.
    fn from_env(url: &str) -> Option<Arc<Remote>> {
        if let Some(known) = registry().lock().unwrap_or_else(|e| e.into_inner()).get(url) {
            return known.clone();
        }
        let timeouts = match std::env::var("TRITONC_CACHE_REMOTE_TIMEOUT_MS") {
            Err(_) => Timeouts::default(),
            Ok(ms) => match ms.trim().parse::<u64>() {
                Ok(ms) if ms > 0 => Timeouts::both(ms),
                _ => {
                    static WARNED: AtomicBool = AtomicBool::new(false);
                    if !WARNED.swap(true, Ordering::Relaxed) {
                        eprintln!(
                            "tritonc cache: warning: TRITONC_CACHE_REMOTE_TIMEOUT_MS=`{ms}` is not a number of \
                         milliseconds; using the default timeouts"
                        );
                    }
                    Timeouts::default()
                }
            },
        };
        match Remote::shared(url, timeouts) {
            Ok(r) => Some(r),
            Err(e) => {
                let mut map = registry().lock().unwrap_or_else(|e| e.into_inner());
                if map.insert(url.to_string(), None).is_none() {
                    eprintln!("tritonc cache: warning: TRITONC_CACHE_REMOTE: {e}; going on with the local cache only");
                }
                None
            }
        }
    }

    /// Runs `op` on the connection (made on first use); `None` when the
    /// remote is off or `op` failed, which turns it off.
    fn with_client<T>(&self, op: impl FnOnce(&mut Client) -> Result<T, RemoteError>) -> Option<T> {
        if self.dead.load(Ordering::Relaxed) {
            return None;
        }
        let mut conn = self.conn.lock().unwrap_or_else(|e| e.into_inner());
        // Another thread may have failed while this one waited.
        if self.dead.load(Ordering::Relaxed) {
            return None;
        }
        if conn.is_none() {
            match Client::connect(&self.endpoint, self.timeouts) {
                Ok(c) => *conn = Some(c),
                Err(e) => {
                    self.fail(&e);
                    return None;
                }
            }
        }
        let client = conn.as_mut()?;
        match op(client) {
            Ok(v) => Some(v),
            Err(e) => {
                *conn = None;
                self.fail(&e);
                None
            }
        }
    }

    fn fail(&self, e: &RemoteError) {
        if !self.dead.swap(true, Ordering::Relaxed) {
            let how = match e {
                RemoteError::Io(_) | RemoteError::Resolve(_) | RemoteError::Closed | RemoteError::Timeout { .. } => {
                    "unreachable"
                }
                _ => "failed",
            };
            eprintln!("tritonc cache: remote {} {how} ({e}); going on without it", self.url);
        }
    }

    /// `Some(value)` when the store answered (`Some(None)`: no such key).
    fn get(&self, key: &str) -> Option<Option<Vec<u8>>> {
        self.with_client(|c| c.get(key.as_bytes()))
    }

    fn set(&self, key: &str, value: &[u8]) {
        if value.len() <= MAX_REMOTE_ENTRY {
            self.with_client(|c| c.set(key.as_bytes(), value));
        }
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

pub fn encode(parts: &KeyParts, c: &Compiled) -> Vec<u8> {
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
    payload_with(bytes, MAGIC)
}

/// The verified payload of a file that starts with `magic` and the
/// SHA-256 of the rest.
fn payload_with<'a>(bytes: &'a [u8], magic: &[u8; 8]) -> Option<&'a [u8]> {
    if bytes.len() < 40 || &bytes[..8] != magic {
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

pub fn decode(bytes: &[u8]) -> Option<(Vec<(&'static str, String)>, Compiled)> {
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
    let known = crate::request::KEY_PART_NAMES
        .iter()
        .chain(crate::request::REQUEST_KEY_PART_NAMES);
    let parts = parts
        .into_iter()
        .map(|(n, v)| known.clone().find(|k| **k == n).map(|k| (*k, v)))
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
