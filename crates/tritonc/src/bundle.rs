//! Bundles: compiled kernels shipped in one file, launched with no
//! compiler (`tritonc bundle` writes them; `tritonc run --bundle`, and
//! [`register_bytes`] / [`register_file`] from Rust, read them).
//!
//! A bundle holds, for each kernel × const set × target it was made for,
//! what a launch needs (the code object or host library, parameters,
//! `device_assert` messages, waves, lanes, LDS bytes), keyed by the
//! request key ([`crate::request::CompileRequest::request_key`]), which is
//! computed without compiling. Launches look in the registered bundles
//! before the cache and the compiler.
//!
//! The file (all integers little-endian):
//!
//! ```text
//! "TKBUNDLE"  u32 format version  str build identity  u64 entry count
//! entries: bytes (a kernel cache entry: its own SHA-256, the request key's
//!          parts and the compiled kernel without its stages)
//! u64 count, then per autotuning winner: str record name, str config
//! 32 bytes: SHA-256 of everything before
//! ```
//!
//! (`str` and `bytes` are a u64 length and the bytes.) A truncated or
//! corrupt file, another format version, or a bundle made by another build
//! of tritonc (its version, the hash of its sources, its LLVM) is refused
//! with an error saying which.

use crate::{cache::KeyParts, request::Compiled};
use sha2::{Digest, Sha256};
use std::{
    collections::{BTreeMap, HashMap},
    path::Path,
    sync::{Arc, RwLock},
};

const MAGIC: &[u8; 8] = b"TKBUNDLE";
const FORMAT: u32 = 1;

/// Why a bundle cannot be used.
#[derive(Debug, thiserror::Error)]
pub enum BundleError {
    #[error("{what}: not a tritonc bundle (it does not start with TKBUNDLE)")]
    NotABundle { what: String },
    #[error(
        "{what}: the bundle is truncated or corrupt (its checksum does not match); make it again with `tritonc bundle`"
    )]
    Corrupt { what: String },
    #[error("{what}: bundle format {found}, this tritonc reads format {FORMAT}; make it again with this tritonc")]
    Format { what: String, found: u32 },
    #[error("{what}: made by {found}, but this is {expected}; make it again with this tritonc (`tritonc bundle`)")]
    Version {
        what: String,
        found: String,
        expected: String,
    },
    #[error("{what}: cannot read it: {message}")]
    Io { what: String, message: String },
}

/// One kernel of a bundle, as `tritonc bundle --list` and error messages
/// describe it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EntryInfo {
    pub kernel: String,
    pub target: String,
    pub consts: String,
    pub options: String,
    pub code_bytes: usize,
}

/// A bundle read into memory.
#[derive(Debug, Clone)]
pub struct Bundle {
    /// Where it came from (a path, or "bundle from memory").
    pub origin: String,
    entries: HashMap<String, (EntryInfo, Arc<Compiled>)>,
    tuned: HashMap<String, String>,
}

/// Adds kernels to a bundle being made.
#[derive(Debug, Default)]
pub struct BundleWriter {
    /// Encoded entries by their key's digest (sorted: the same kernels
    /// make the same bytes).
    entries: BTreeMap<String, Vec<u8>>,
    /// Autotuning winners: record name → the config's text.
    tuned: BTreeMap<String, String>,
}

impl BundleWriter {
    pub fn new() -> BundleWriter {
        BundleWriter::default()
    }

    /// Adds `compiled` under `key` (a request key); its stages are left
    /// out. A key already added is replaced.
    pub fn add(&mut self, key: &KeyParts, compiled: &Compiled) {
        let mut lean = compiled.clone();
        lean.stages.clear();
        lean.timings.clear();
        self.entries.insert(key.digest(), crate::cache::encode(key, &lean));
    }

    /// Records an autotuning winner (a launch with `launch_tuned` then
    /// runs it without trying the configs).
    pub fn add_tuned(&mut self, record: &str, config: &str) {
        self.tuned.insert(record.to_string(), config.to_string());
    }

    pub fn len(&self) -> usize {
        self.entries.len()
    }

    pub fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }

    /// The bundle's bytes.
    pub fn to_bytes(&self) -> Vec<u8> {
        let mut out = MAGIC.to_vec();
        out.extend_from_slice(&FORMAT.to_le_bytes());
        put_bytes(&mut out, crate::request::build_identity().as_bytes());
        out.extend_from_slice(&(self.entries.len() as u64).to_le_bytes());
        for e in self.entries.values() {
            put_bytes(&mut out, e);
        }
        out.extend_from_slice(&(self.tuned.len() as u64).to_le_bytes());
        for (name, config) in &self.tuned {
            put_bytes(&mut out, name.as_bytes());
            put_bytes(&mut out, config.as_bytes());
        }
        let sum = Sha256::digest(&out);
        out.extend_from_slice(&sum);
        out
    }
}

fn put_bytes(out: &mut Vec<u8>, b: &[u8]) {
    out.extend_from_slice(&(b.len() as u64).to_le_bytes());
    out.extend_from_slice(b);
}

/// Reads length-prefixed fields; `None` past the end.
struct Fields<'a>(&'a [u8]);

impl<'a> Fields<'a> {
    fn take(&mut self, n: usize) -> Option<&'a [u8]> {
        if self.0.len() < n {
            return None;
        }
        let (a, b) = self.0.split_at(n);
        self.0 = b;
        Some(a)
    }

    fn u32(&mut self) -> Option<u32> {
        Some(u32::from_le_bytes(self.take(4)?.try_into().ok()?))
    }

    fn u64(&mut self) -> Option<u64> {
        Some(u64::from_le_bytes(self.take(8)?.try_into().ok()?))
    }

    fn bytes(&mut self) -> Option<&'a [u8]> {
        let n = usize::try_from(self.u64()?).ok()?;
        self.take(n)
    }
}

impl Bundle {
    /// Reads a bundle from its bytes; `what` names it in errors.
    pub fn from_bytes(bytes: &[u8], what: &str) -> Result<Bundle, BundleError> {
        let what = what.to_string();
        if bytes.len() < MAGIC.len() || &bytes[..MAGIC.len()] != MAGIC {
            return Err(BundleError::NotABundle { what });
        }
        let corrupt = || BundleError::Corrupt { what: what.clone() };
        if bytes.len() < MAGIC.len() + 4 + 32 {
            return Err(corrupt());
        }
        let (body, sum) = bytes.split_at(bytes.len() - 32);
        let mut f = Fields(&body[MAGIC.len()..]);
        let format = f.u32().ok_or_else(corrupt)?;
        // The format is checked before the checksum: a later format may
        // place its checksum differently.
        if format != FORMAT {
            return Err(BundleError::Format { what, found: format });
        }
        if Sha256::digest(body).as_slice() != sum {
            return Err(corrupt());
        }
        let identity = String::from_utf8_lossy(f.bytes().ok_or_else(corrupt)?).into_owned();
        let expected = crate::request::build_identity();
        if identity != expected {
            return Err(BundleError::Version {
                what,
                found: identity,
                expected,
            });
        }
        let count = f.u64().ok_or_else(corrupt)?;
        let mut entries = HashMap::new();
        for _ in 0..count {
            let entry = f.bytes().ok_or_else(corrupt)?;
            let (parts, compiled) = crate::cache::decode(entry).ok_or_else(corrupt)?;
            let parts = KeyParts(parts);
            let find = |name: &str| parts.get(name).unwrap_or_default().to_string();
            let info = EntryInfo {
                kernel: compiled.kernel.clone(),
                target: find("target"),
                consts: find("consts"),
                options: find("options"),
                code_bytes: compiled.binary.len(),
            };
            entries.insert(parts.digest(), (info, Arc::new(compiled)));
        }
        let mut tuned = HashMap::new();
        for _ in 0..f.u64().ok_or_else(corrupt)? {
            let name = String::from_utf8_lossy(f.bytes().ok_or_else(corrupt)?).into_owned();
            let config = String::from_utf8_lossy(f.bytes().ok_or_else(corrupt)?).into_owned();
            tuned.insert(name, config);
        }
        if !f.0.is_empty() {
            return Err(corrupt());
        }
        Ok(Bundle {
            origin: what.clone(),
            entries,
            tuned,
        })
    }

    /// Reads the bundle at `path`.
    pub fn open(path: &Path) -> Result<Bundle, BundleError> {
        let what = path.display().to_string();
        let bytes = std::fs::read(path).map_err(|e| BundleError::Io {
            what: what.clone(),
            message: e.to_string(),
        })?;
        Bundle::from_bytes(&bytes, &what)
    }

    /// The kernel compiled for the request `key`, if the bundle has it.
    pub fn get(&self, key: &KeyParts) -> Option<Arc<Compiled>> {
        self.entries.get(&key.digest()).map(|(_, c)| c.clone())
    }

    /// What the bundle holds, sorted by kernel, target and consts.
    pub fn entries(&self) -> Vec<EntryInfo> {
        let mut v: Vec<EntryInfo> = self.entries.values().map(|(i, _)| i.clone()).collect();
        v.sort_by(|a, b| (&a.kernel, &a.target, &a.consts).cmp(&(&b.kernel, &b.target, &b.consts)));
        v
    }
}

/// The bundles registered in this process, searched in registration order.
static REGISTERED: RwLock<Vec<Arc<Bundle>>> = RwLock::new(Vec::new());

/// Registers a bundle for every launch of this process: `#[kernel]`
/// launches and [`crate::api::Device`] take their code from it before
/// looking in the cache or compiling.
pub fn register(bundle: Bundle) {
    REGISTERED
        .write()
        .unwrap_or_else(std::sync::PoisonError::into_inner)
        .push(Arc::new(bundle));
}

/// Registers a bundle from its bytes, e.g. `include_bytes!("kernels.tkb")`.
pub fn register_bytes(bytes: &[u8]) -> Result<(), crate::Error> {
    register(Bundle::from_bytes(bytes, "bundle from memory")?);
    Ok(())
}

/// Registers the bundle at `path`.
pub fn register_file(path: impl AsRef<Path>) -> Result<(), crate::Error> {
    register(Bundle::open(path.as_ref())?);
    Ok(())
}

/// Forgets every registered bundle (tests).
pub fn unregister_all() {
    REGISTERED
        .write()
        .unwrap_or_else(std::sync::PoisonError::into_inner)
        .clear();
}

/// Whether any bundle is registered.
pub fn any_registered() -> bool {
    !REGISTERED
        .read()
        .unwrap_or_else(std::sync::PoisonError::into_inner)
        .is_empty()
}

/// The first registered bundle's kernel for the request `key`, with the
/// bundle's origin.
pub fn lookup(key: &KeyParts) -> Option<(Arc<Compiled>, String)> {
    REGISTERED
        .read()
        .unwrap_or_else(std::sync::PoisonError::into_inner)
        .iter()
        .find_map(|b| b.get(key).map(|c| (c, b.origin.clone())))
}

/// The autotuning winner a registered bundle records under `record`.
pub fn tuned(record: &str) -> Option<String> {
    REGISTERED
        .read()
        .unwrap_or_else(std::sync::PoisonError::into_inner)
        .iter()
        .find_map(|b| b.tuned.get(record).cloned())
}

/// What the registered bundles hold for `kernel` (for the error that says
/// a launch's kernel is in none of them).
pub fn held_for(kernel: &str) -> Vec<EntryInfo> {
    REGISTERED
        .read()
        .unwrap_or_else(std::sync::PoisonError::into_inner)
        .iter()
        .flat_map(|b| b.entries())
        .filter(|e| e.kernel == kernel)
        .collect()
}

/// The message for a kernel that must come from a bundle or the cache but
/// is in neither: kernel, target and specialization, and what the bundles
/// hold for that kernel.
pub fn missing_message(key: &KeyParts, kernel: &str, why: &str) -> String {
    let find = |name: &str| key.get(name).unwrap_or_default().to_string();
    let consts = find("consts");
    let mut msg = format!(
        "kernel `{kernel}` for {} with {} ({}) is not compiled: {why}",
        find("target"),
        if consts.is_empty() {
            "no consts".to_string()
        } else {
            consts
        },
        find("options"),
    );
    let held = held_for(kernel);
    if !held.is_empty() {
        msg.push_str("; the bundles hold it for:");
        let more = held.len().saturating_sub(8);
        for e in held.into_iter().take(8) {
            msg.push_str(&format!(
                "\n  {} with {} ({})",
                e.target,
                if e.consts.is_empty() { "no consts" } else { &e.consts },
                e.options
            ));
        }
        if more > 0 {
            msg.push_str(&format!("\n  ... and {more} more (`tritonc bundle-info` lists them)"));
        }
    }
    msg
}
