//! Request keys in the cache: what lets a kernel compiled before be found
//! without running the front end (`crate::precompiled`).
//!
//! An entry is stored once, under the key of its optimized tile IR. A
//! request key ([`crate::request::CompileRequest::request_key`]) gets an
//! alias instead: a small file `REQUEST-DIGEST.tkr` (and, with a remote
//! store, `tritonc:req:REQUEST-DIGEST`) holding the request key's parts and
//! the digest of the entry it compiled to, checksummed like an entry. A
//! lookup by request key reads the alias, checks that its parts are the
//! ones asked for, then reads the entry it names (verified by its own
//! checksum, and checked to be an entry of optimized IR).

use super::{payload_with, remote_key, write_atomically, Cache, KeyParts, Lookup, Reader, Writer};
use crate::request::Compiled;
use sha2::{Digest, Sha256};
use std::sync::{atomic::Ordering, Arc};

const ALIAS_MAGIC: &[u8; 8] = b"TKALIAS1";

/// The alias's bytes: magic, SHA-256 of the payload, the request key's
/// parts, the entry's digest.
fn encode_alias(request: &KeyParts, entry_digest: &str) -> Vec<u8> {
    let mut w = Writer(Vec::new());
    w.num(request.0.len() as u64);
    for (n, v) in &request.0 {
        w.str(n);
        w.str(v);
    }
    w.str(entry_digest);
    let mut out = ALIAS_MAGIC.to_vec();
    out.extend_from_slice(&Sha256::digest(&w.0));
    out.extend_from_slice(&w.0);
    out
}

/// The entry digest an alias names, if the alias is intact and is for
/// exactly `request`.
fn decode_alias(bytes: &[u8], request: &KeyParts) -> Option<String> {
    let mut r = Reader(payload_with(bytes, ALIAS_MAGIC)?);
    let n = r.num()?;
    if n != request.0.len() as u64 {
        return None;
    }
    for (name, value) in &request.0 {
        if r.str()? != *name || r.str()? != *value {
            return None;
        }
    }
    let digest = r.str()?;
    (digest.len() == 64 && digest.bytes().all(|b| b.is_ascii_hexdigit())).then_some(digest)
}

impl Cache {
    fn alias_path(&self, digest: &str) -> Option<std::path::PathBuf> {
        self.dir.as_ref().map(|d| d.join(format!("{digest}.tkr")))
    }

    /// Looks a request key up: memory, then an alias on disk, then one in
    /// the remote store, each leading to the entry it names.
    pub fn get_request(&self, request: &KeyParts) -> (Option<Arc<Compiled>>, Lookup) {
        if !self.on {
            return (None, Lookup::Miss("the cache is off".into()));
        }
        let digest = request.digest();
        if let Some(c) = self.memory.lock().unwrap_or_else(|e| e.into_inner()).get(&digest) {
            return (Some(c.clone()), Lookup::MemoryHit);
        }
        let on_disk = self
            .alias_path(&digest)
            .and_then(|p| std::fs::read(p).ok())
            .and_then(|bytes| decode_alias(&bytes, request));
        if let Some(entry) = on_disk {
            if let Some((c, how)) = self.entry_by_digest(&entry) {
                return (Some(self.remember(digest, (*c).clone())), how);
            }
        }
        let remote = self.remote.as_ref().filter(|r| !r.dead.load(Ordering::Relaxed));
        if let Some(remote) = remote {
            if let Some(Some(bytes)) = remote.get(&remote_key(&format!("req:{digest}"))) {
                if let Some(entry) = decode_alias(&bytes, request) {
                    if let Some((c, _)) = self.entry_by_digest(&entry) {
                        if let (Some(dir), Some(path)) = (self.dir.as_ref(), self.alias_path(&digest)) {
                            let _ = write_atomically(dir, &path, &bytes);
                        }
                        return (Some(self.remember(digest, (*c).clone())), Lookup::RemoteHit);
                    }
                }
            }
        }
        (
            None,
            Lookup::Miss("not compiled with these settings and this source yet".into()),
        )
    }

    /// The entry of optimized IR with this digest: memory, disk or the
    /// remote store (verified, and written to disk when it came from the
    /// remote store).
    fn entry_by_digest(&self, digest: &str) -> Option<(Arc<Compiled>, Lookup)> {
        if let Some(c) = self.memory.lock().unwrap_or_else(|e| e.into_inner()).get(digest) {
            return Some((c.clone(), Lookup::MemoryHit));
        }
        let is_ir_entry = |parts: &[(&'static str, String)]| {
            parts
                .first()
                .is_some_and(|(n, _)| *n == crate::request::KEY_PART_NAMES[0])
        };
        let path = self.entry_path(digest);
        if let Some(bytes) = path.as_ref().and_then(|p| std::fs::read(p).ok()) {
            if let Some((parts, c)) = super::decode(&bytes) {
                if is_ir_entry(&parts) && KeyParts(parts).digest() == digest {
                    return Some((self.remember(digest.to_string(), c), Lookup::DiskHit));
                }
            }
        }
        let remote = self.remote.as_ref().filter(|r| !r.dead.load(Ordering::Relaxed))?;
        let bytes = remote.get(&remote_key(digest))??;
        let (parts, c) = super::decode(&bytes)?;
        if !is_ir_entry(&parts) || KeyParts(parts).digest() != digest {
            return None;
        }
        if let (Some(dir), Some(path)) = (self.dir.as_ref(), path) {
            let _ = write_atomically(dir, &path, &bytes);
        }
        Some((self.remember(digest.to_string(), c), Lookup::RemoteHit))
    }

    /// Records that `request` compiled to the entry stored under `entry`:
    /// in memory, and as an alias on disk and in the remote store.
    pub fn put_request(&self, request: &KeyParts, entry: &KeyParts, compiled: &Arc<Compiled>) {
        if !self.on {
            return;
        }
        let digest = request.digest();
        self.memory
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .insert(digest.clone(), compiled.clone());
        let bytes = encode_alias(request, &entry.digest());
        if let (Some(dir), Some(path)) = (self.dir.as_ref(), self.alias_path(&digest)) {
            if let Err(e) = write_atomically(dir, &path, &bytes) {
                if self.log {
                    eprintln!("tritonc cache: cannot write {}: {e}", path.display());
                }
            }
        }
        if let Some(remote) = self.remote.as_ref().filter(|r| !r.dead.load(Ordering::Relaxed)) {
            remote.set(&remote_key(&format!("req:{digest}")), &bytes);
        }
    }
}
