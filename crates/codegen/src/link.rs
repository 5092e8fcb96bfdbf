//! Linking a relocatable object into a shared object: an AMDGPU code
//! object (`.hsaco`) or a host library. lld's ELF linker runs in this
//! process (linked from Debian's `liblld-22-dev`, called through
//! `cpp/lld_elf.cpp`), with the arguments `hipcc` and Triton give the
//! `ld.lld` program, so the output is byte for byte what `ld.lld` 22 makes
//! and no linker is needed at run time.
//!
//! lld keeps global state while it links, so links are serialized by a
//! lock; one takes well under a millisecond for our objects.

use crate::CodegenError;
use std::{
    ffi::{c_char, c_int, CString},
    path::PathBuf,
    sync::{
        atomic::{AtomicU64, Ordering},
        Mutex,
    },
};

extern "C" {
    fn tritonc_lld_elf_link(
        args: *const *const c_char,
        n_args: usize,
        messages: *mut *mut c_char,
        messages_len: *mut usize,
        can_run_again: *mut c_int,
    ) -> c_int;
    fn tritonc_lld_version(len: *mut usize) -> *mut c_char;
    fn tritonc_lld_free(p: *mut c_char);
}

/// Takes ownership of a string the C++ wrapper allocated.
///
/// # Safety
/// `p` is null or a `malloc`ed buffer of `len` bytes from the wrapper.
unsafe fn take_c_string(p: *mut c_char, len: usize) -> String {
    if p.is_null() {
        return String::new();
    }
    // SAFETY: the wrapper wrote `len` bytes at `p` (caller's contract).
    let s = String::from_utf8_lossy(unsafe { std::slice::from_raw_parts(p.cast::<u8>(), len) }).into_owned();
    // SAFETY: allocated by the wrapper's malloc, freed once here.
    unsafe { tritonc_lld_free(p) };
    s
}

/// The linker's identity for the cache key: lld's version line.
pub fn lld_version() -> String {
    let mut len = 0;
    // SAFETY: the wrapper returns a malloc'd copy of a static string.
    let v = unsafe { take_c_string(tritonc_lld_version(&mut len), len) };
    format!("in-process {v}")
}

/// Whether lld may still be called: false after it reported that a failed
/// link may have left its state corrupt.
static LLD: Mutex<bool> = Mutex::new(true);

/// Runs lld with `args` (the first being the program name, `ld.lld`).
fn run_lld(args: &[String]) -> Result<(), CodegenError> {
    let c_args = args
        .iter()
        .map(|a| CString::new(a.as_str()))
        .collect::<Result<Vec<_>, _>>()
        .map_err(|_| CodegenError::Link("a linker argument contains a NUL byte".into()))?;
    let ptrs: Vec<*const c_char> = c_args.iter().map(|a| a.as_ptr()).collect();
    let mut usable = LLD.lock().unwrap_or_else(|e| e.into_inner());
    if !*usable {
        return Err(CodegenError::Link(
            "lld failed earlier in this process and cannot be run again; restart the process".into(),
        ));
    }
    let (mut messages, mut messages_len, mut can_run_again) = (std::ptr::null_mut(), 0usize, 1);
    // SAFETY: `ptrs` points at NUL-terminated strings that outlive the
    // call; the out pointers are valid; the lock serializes lld's global
    // state.
    let code = unsafe {
        tritonc_lld_elf_link(
            ptrs.as_ptr(),
            ptrs.len(),
            &mut messages,
            &mut messages_len,
            &mut can_run_again,
        )
    };
    // SAFETY: `messages` came from the wrapper with `messages_len` bytes.
    let messages = unsafe { take_c_string(messages, messages_len) };
    *usable = can_run_again != 0;
    if code != 0 {
        return Err(CodegenError::Link(format!("lld failed: {}", messages.trim())));
    }
    Ok(())
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
        let mut args = vec![
            "ld.lld".to_string(),
            "-shared".to_string(),
            "-o".to_string(),
            out.display().to_string(),
            obj.display().to_string(),
        ];
        match kind {
            LinkKind::Hsaco => args.push("--no-undefined".into()),
            LinkKind::HostLibrary => args.extend(host_libm().map(|m| m.display().to_string())),
        }
        run_lld(&args)?;
        std::fs::read(&out).map_err(|e| CodegenError::Link(format!("cannot read {}: {e}", out.display())))
    })();
    let _ = std::fs::remove_dir_all(&dir);
    result
}
