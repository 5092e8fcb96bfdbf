//! Kernels compiled before: what a launch takes without running the
//! compiler. The registered bundles are searched first, then the cache
//! (memory, disk, and the remote store when one is configured), both by
//! the request key ([`CompileRequest::request_key`]), which needs neither
//! the front end nor LLVM. The compiler (`driver::compile_cached`) asks
//! here before its front end runs; a program built without the
//! `compiler` feature asks only here.

use crate::{
    cache::{Cache, KeyParts, Lookup},
    request::{CompileRequest, Compiled},
};
use std::sync::Arc;

/// What [`find`] found.
#[derive(Debug)]
pub struct Found {
    /// The kernel, when a bundle or the cache had it.
    pub compiled: Option<Arc<Compiled>>,
    /// The request key it was looked up by (a compiler stores what it
    /// compiles under it too).
    pub key: KeyParts,
    /// Where it came from, or why it was not found.
    pub how: Lookup,
}

/// Looks the kernel `req` asks for on the target named `target` up in the
/// registered bundles, then in `cache`.
pub fn find(req: &CompileRequest, target: &str, cache: &Cache) -> Found {
    let key = req.request_key(target);
    if crate::bundle::any_registered() {
        for t in crate::request::bundle_targets(target) {
            if let Some((compiled, origin)) = crate::bundle::lookup(&req.request_key(t)) {
                return Found {
                    compiled: Some(compiled),
                    key,
                    how: Lookup::Bundle(origin),
                };
            }
        }
    }
    if !cache.enabled() {
        return Found {
            compiled: None,
            key,
            how: Lookup::Miss("the cache is off".into()),
        };
    }
    let (compiled, how) = cache.get_request(&key);
    Found { compiled, key, how }
}

/// [`find`], or the error that says the kernel is neither in a bundle nor
/// in the cache (for launches that must not compile: a program without
/// the compiler, `tritonc run --bundle`).
pub fn require(
    req: &CompileRequest,
    target: &str,
    cache: &Cache,
    why: &str,
) -> Result<(Arc<Compiled>, Lookup), crate::Error> {
    let found = find(req, target, cache);
    let kernel = req.kernel_name();
    cache.report(&kernel, crate::request::canonical_target(target), &found.how);
    match found.compiled {
        Some(c) => Ok((c, found.how)),
        None => Err(crate::Error::NotCompiled(crate::bundle::missing_message(
            &found.key, &kernel, why,
        ))),
    }
}
