//! Linking an AMDGPU relocatable object into a `.hsaco` code object with
//! `ld.lld` (the same step `hipcc` and Triton take).

use crate::CodegenError;
use std::{
    path::PathBuf,
    process::Command,
    sync::atomic::{AtomicU64, Ordering},
};

/// The linker to use: `$TRITONC_LLD`, else LLVM 22's `ld.lld`, else `ld.lld`.
pub fn find_lld() -> PathBuf {
    if let Some(p) = std::env::var_os("TRITONC_LLD") {
        return PathBuf::from(p);
    }
    for p in [
        "/usr/lib/llvm-22/bin/ld.lld",
        "/usr/bin/ld.lld-22",
        "/opt/rocm/llvm/bin/ld.lld",
    ] {
        let p = PathBuf::from(p);
        if p.exists() {
            return p;
        }
    }
    PathBuf::from("ld.lld")
}

/// The linker's identity for the cache key: its resolved path, size and
/// modification time (cheap, unlike running `ld.lld --version`, and it
/// changes whenever the linker does).
pub fn lld_version() -> String {
    let lld = find_lld();
    let resolved = std::fs::canonicalize(&lld).unwrap_or(lld);
    match std::fs::metadata(&resolved) {
        Ok(md) => {
            let mtime = md
                .modified()
                .ok()
                .and_then(|t| t.duration_since(std::time::UNIX_EPOCH).ok())
                .map_or(0, |d| d.as_secs());
            format!("{} {} bytes {mtime}", resolved.display(), md.len())
        }
        Err(_) => format!("{} (not found)", resolved.display()),
    }
}

/// What a relocatable object is linked into.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LinkKind {
    /// An AMDGPU code object: every symbol must resolve inside it.
    Hsaco,
    /// A host shared library that may call the C math library.
    HostLibrary,
}

impl LinkKind {
    /// The file extension of what is linked (`hsaco`, `so`).
    pub fn extension(self) -> &'static str {
        match self {
            LinkKind::Hsaco => "hsaco",
            LinkKind::HostLibrary => "so",
        }
    }

    /// The name of the assembly stage file (`tritonc compile --emit`).
    pub fn assembly_stage(self) -> &'static str {
        match self {
            LinkKind::Hsaco => "8-amdgpu.s",
            LinkKind::HostLibrary => "8-host.s",
        }
    }
}

/// The host's C math library, which host kernels may call (`expf`, ...).
fn host_libm() -> Option<PathBuf> {
    [
        "/lib/x86_64-linux-gnu/libm.so.6",
        "/usr/lib/x86_64-linux-gnu/libm.so.6",
        "/lib/aarch64-linux-gnu/libm.so.6",
        "/usr/lib64/libm.so.6",
        "/lib64/libm.so.6",
    ]
    .iter()
    .map(PathBuf::from)
    .find(|p| p.exists())
}

/// Links `object` into a shared object and returns its bytes.
pub fn link_shared(object: &[u8], kind: LinkKind) -> Result<Vec<u8>, CodegenError> {
    static COUNTER: AtomicU64 = AtomicU64::new(0);
    let dir = std::env::temp_dir().join(format!(
        "tritonc-link-{}-{}",
        std::process::id(),
        COUNTER.fetch_add(1, Ordering::Relaxed)
    ));
    std::fs::create_dir_all(&dir).map_err(|e| CodegenError::Link(format!("cannot create {}: {e}", dir.display())))?;
    let result = (|| {
        let obj = dir.join("kernel.o");
        let out = dir.join("kernel.hsaco");
        std::fs::write(&obj, object).map_err(|e| CodegenError::Link(format!("cannot write {}: {e}", obj.display())))?;
        let lld = find_lld();
        let mut cmd = Command::new(&lld);
        cmd.arg("-shared").arg("-o").arg(&out).arg(&obj);
        match kind {
            LinkKind::Hsaco => {
                cmd.arg("--no-undefined");
            }
            LinkKind::HostLibrary => {
                if let Some(m) = host_libm() {
                    cmd.arg(m);
                }
            }
        }
        let output = cmd.output().map_err(|e| {
            CodegenError::Link(format!(
                "cannot run {} ({e}); install lld-22 or set TRITONC_LLD",
                lld.display()
            ))
        })?;
        if !output.status.success() {
            return Err(CodegenError::Link(format!(
                "{} failed: {}",
                lld.display(),
                String::from_utf8_lossy(&output.stderr).trim()
            )));
        }
        std::fs::read(&out).map_err(|e| CodegenError::Link(format!("cannot read {}: {e}", out.display())))
    })();
    let _ = std::fs::remove_dir_all(&dir);
    result
}
