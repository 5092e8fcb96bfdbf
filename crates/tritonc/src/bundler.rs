//! Making bundles (`tritonc bundle`): every kernel × const set × target
//! compiled, in parallel across cores, into one [`crate::bundle`] file.

use crate::{
    bundle::BundleWriter,
    cache::Cache,
    driver::compile_cached,
    request::{canonical_target, CompileRequest},
    Error,
};
use std::sync::{
    atomic::{AtomicUsize, Ordering},
    Mutex,
};

/// One kernel of a bundle: the request and the target to compile it for.
#[derive(Debug, Clone)]
pub struct BundleJob {
    pub request: CompileRequest,
    pub target: String,
}

impl BundleJob {
    /// `kernel for target (A=1, B=2)`, for progress and errors.
    pub fn describe(&self) -> String {
        let consts = self.request.const_settings();
        format!(
            "`{}` for {} ({})",
            self.request.kernel_name(),
            self.target,
            if consts.is_empty() {
                "no consts".to_string()
            } else {
                consts.join(", ")
            }
        )
    }
}

/// Compiles every job on `threads` threads (through `cache`, so a bundle
/// made again recompiles only what changed) and returns the bundle. The
/// first failure stops the others and is returned, naming its job.
/// `progress(done, total, job)` is called as each job finishes.
pub fn compile_bundle(
    jobs: &[BundleJob],
    threads: usize,
    cache: &Cache,
    progress: &(dyn Fn(usize, usize, &BundleJob) + Sync),
) -> Result<BundleWriter, Error> {
    let next = AtomicUsize::new(0);
    let done = AtomicUsize::new(0);
    let results: Mutex<Vec<Option<crate::request::Compiled>>> = Mutex::new(vec![None; jobs.len()]);
    let failure: Mutex<Option<Error>> = Mutex::new(None);
    let threads = threads.clamp(1, jobs.len().max(1));
    std::thread::scope(|s| {
        for _ in 0..threads {
            s.spawn(|| loop {
                if failure
                    .lock()
                    .unwrap_or_else(std::sync::PoisonError::into_inner)
                    .is_some()
                {
                    return;
                }
                let i = next.fetch_add(1, Ordering::Relaxed);
                let Some(job) = jobs.get(i) else { return };
                let compiled = crate::codegen::target::lookup(&job.target)
                    .map_err(Error::from)
                    .and_then(|t| compile_cached(&job.request, t.as_ref(), cache, &mut Vec::new()));
                match compiled {
                    Ok((c, _)) => {
                        results.lock().unwrap_or_else(std::sync::PoisonError::into_inner)[i] = Some(c);
                        progress(done.fetch_add(1, Ordering::Relaxed) + 1, jobs.len(), job);
                    }
                    Err(e) => {
                        let mut f = failure.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
                        if f.is_none() {
                            *f = Some(match e {
                                // Diagnostics already name the file, line and column.
                                Error::Diagnostics(d) => Error::Diagnostics(d),
                                other => Error::Usage(format!("{}: {other}", job.describe())),
                            });
                        }
                        return;
                    }
                }
            });
        }
    });
    if let Some(e) = failure.into_inner().unwrap_or_else(std::sync::PoisonError::into_inner) {
        return Err(e);
    }
    let mut writer = BundleWriter::new();
    let results = results.into_inner().unwrap_or_else(std::sync::PoisonError::into_inner);
    for (job, c) in jobs.iter().zip(results) {
        let c = c.ok_or_else(|| Error::Internal(format!("{} was not compiled", job.describe())))?;
        writer.add(&job.request.request_key(canonical_target(&job.target)), &c);
    }
    Ok(writer)
}
