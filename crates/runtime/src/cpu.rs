//! The CPU backend: a kernel compiled for the host is a shared library with
//! one function per kernel; programs of the grid run in parallel over the
//! host's cores.

use crate::{Grid, RuntimeError};
use std::{
    path::PathBuf,
    sync::atomic::{AtomicU64, Ordering},
};

/// `fn(args, pid_x, pid_y, pid_z, nprog_x, nprog_y, nprog_z, status, lane, shared)`.
type HostKernelFn = unsafe extern "C" fn(*const u64, i32, i32, i32, i32, i32, i32, *mut u64, i32, *const SharedCtx);

/// What the lane simulator gives a program whose lanes exchange data: its
/// shared memory and a barrier (the layout generated code reads).
#[repr(C)]
pub struct SharedCtx {
    memory: *mut u8,
    barrier: extern "C" fn(*const std::ffi::c_void),
    barrier_ctx: *const std::ffi::c_void,
}

extern "C" fn barrier_wait(ctx: *const std::ffi::c_void) {
    // SAFETY: `ctx` is the `Barrier` of the program being run, which
    // outlives every lane's call (see `run_program_threaded`).
    let barrier = unsafe { &*(ctx as *const std::sync::Barrier) };
    barrier.wait();
}

/// A host kernel, loaded and ready to launch.
pub struct CpuKernel {
    func: HostKernelFn,
    // Keeps the code mapped; dropped after `func` can no longer be called.
    _lib: libloading::Library,
    path: PathBuf,
}

impl std::fmt::Debug for CpuKernel {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("CpuKernel").field("path", &self.path).finish()
    }
}

impl CpuKernel {
    /// Loads the shared library `image` and finds kernel `symbol` in it.
    pub fn load(image: &[u8], symbol: &str) -> Result<CpuKernel, RuntimeError> {
        static COUNTER: AtomicU64 = AtomicU64::new(0);
        let path = std::env::temp_dir().join(format!(
            "tritonc-cpu-{}-{}.so",
            std::process::id(),
            COUNTER.fetch_add(1, Ordering::Relaxed)
        ));
        std::fs::write(&path, image).map_err(|e| RuntimeError::Load(format!("{}: {e}", path.display())))?;
        // Every symbol is resolved now (RTLD_NOW): a library that needs a
        // function this process lacks fails here, with an error naming it,
        // instead of killing the process at the first call (the dynamic
        // linker's lazy binding cannot report failure to the caller).
        // SAFETY: the library is one we just linked from our own code
        // generator; it has no initializers.
        let lib = unsafe {
            libloading::os::unix::Library::open(
                Some(&path),
                libloading::os::unix::RTLD_NOW | libloading::os::unix::RTLD_LOCAL,
            )
        };
        // The mapping stays valid after the file is removed.
        let _ = std::fs::remove_file(&path);
        let lib: libloading::Library = lib
            .map_err(|e| RuntimeError::Load(format!("the host library cannot be loaded: {e}")))?
            .into();
        // SAFETY: host kernels are generated with exactly this signature.
        let func: HostKernelFn = unsafe {
            *lib.get::<HostKernelFn>(symbol.as_bytes())
                .map_err(|e| RuntimeError::Load(format!("symbol `{symbol}`: {e}")))?
        };
        Ok(CpuKernel { func, _lib: lib, path })
    }

    /// Runs every program of `grid` with the packed arguments `args` (one
    /// 8-byte slot per kernel parameter: pointers as addresses, scalars in
    /// the low bytes). Returns the first failed `device_assert`, if any, as
    /// `(assert id, program id along axis 0)`.
    ///
    /// # Safety
    /// Every pointer argument must point to memory that stays valid during
    /// the launch and is large enough for every unmasked access the kernel
    /// makes; the compiler cannot check this in general.
    ///
    /// `lanes` is 1 for host kernels; the lane simulator passes the GPU's
    /// lanes per program, and every lane of a program runs in turn, or, when
    /// the lanes exchange data through `shared_bytes` of shared memory, on
    /// a thread each, meeting at barriers.
    pub unsafe fn launch(
        &self,
        grid: Grid,
        args: &[u64],
        threads: usize,
        lanes: u32,
        shared_bytes: u32,
    ) -> Result<Option<(u32, u32)>, RuntimeError> {
        grid.validate()?;
        let total = grid.programs();
        let [gx, gy, _] = grid.0;
        let next = AtomicU64::new(0);
        let status = AtomicU64::new(0);
        let failure = std::sync::Mutex::new(None::<RuntimeError>);
        let threads = threads.clamp(1, 256).min(total.min(256) as usize);
        let func = self.func;
        let args_ptr = args.as_ptr() as usize;
        let status_ptr = status.as_ptr() as usize;
        let run = || loop {
            let i = next.fetch_add(1, Ordering::Relaxed);
            if i >= total {
                break;
            }
            let x = (i % u64::from(gx)) as i32;
            let y = ((i / u64::from(gx)) % u64::from(gy)) as i32;
            let z = (i / (u64::from(gx) * u64::from(gy))) as i32;
            // SAFETY: upheld by the caller (see above); the status word is
            // only written atomically by generated code.
            let call = |lane: u32, shared: *const SharedCtx| unsafe {
                func(
                    args_ptr as *const u64,
                    x,
                    y,
                    z,
                    grid.0[0] as i32,
                    grid.0[1] as i32,
                    grid.0[2] as i32,
                    status_ptr as *mut u64,
                    lane as i32,
                    shared,
                )
            };
            if shared_bytes > 0 && lanes > 1 {
                if let Err(e) = run_program_threaded(lanes, shared_bytes, &call) {
                    let mut slot = failure.lock().unwrap_or_else(|e| e.into_inner());
                    slot.get_or_insert(e);
                    break;
                }
            } else {
                for lane in 0..lanes.max(1) {
                    call(lane, std::ptr::null());
                }
            }
        };
        if threads <= 1 {
            run();
        } else {
            std::thread::scope(|s| {
                for _ in 0..threads {
                    s.spawn(run);
                }
            });
        }
        if let Some(e) = failure.into_inner().unwrap_or_else(|e| e.into_inner()) {
            return Err(e);
        }
        let word = status.load(Ordering::Relaxed);
        Ok((word != 0).then_some(((word >> 32) as u32, word as u32)))
    }
}

/// Runs one program's lanes on a thread each, with fresh shared memory and
/// a barrier they all meet at. Lanes start only once every thread exists,
/// so a failed spawn cannot leave the others waiting at a barrier forever.
fn run_program_threaded(
    lanes: u32,
    shared_bytes: u32,
    call: &(dyn Fn(u32, *const SharedCtx) + Sync),
) -> Result<(), RuntimeError> {
    use std::sync::{Condvar, Mutex};
    let mut memory = vec![0u64; (shared_bytes as usize).div_ceil(8)];
    let barrier = std::sync::Barrier::new(lanes as usize);
    let ctx = SharedCtx {
        memory: memory.as_mut_ptr() as *mut u8,
        barrier: barrier_wait,
        barrier_ctx: &barrier as *const std::sync::Barrier as *const std::ffi::c_void,
    };
    let ctx_addr = &ctx as *const SharedCtx as usize;
    // None: wait; Some(true): run; Some(false): give up.
    let gate = (Mutex::new(None::<bool>), Condvar::new());
    let result = std::thread::scope(|s| {
        let mut failed = None;
        for lane in 0..lanes {
            let gate = &gate;
            let spawned = std::thread::Builder::new()
                .stack_size(1 << 20)
                .spawn_scoped(s, move || {
                    let mut go = gate.0.lock().unwrap_or_else(|e| e.into_inner());
                    while go.is_none() {
                        go = gate.1.wait(go).unwrap_or_else(|e| e.into_inner());
                    }
                    if *go == Some(true) {
                        drop(go);
                        call(lane, ctx_addr as *const SharedCtx);
                    }
                });
            if let Err(e) = spawned {
                failed = Some(e);
                break;
            }
        }
        *gate.0.lock().unwrap_or_else(|e| e.into_inner()) = Some(failed.is_none());
        gate.1.notify_all();
        match failed {
            Some(e) => Err(RuntimeError::Launch(format!(
                "cannot start a thread per lane ({lanes}): {e}"
            ))),
            None => Ok(()),
        }
    });
    drop(memory);
    result
}

/// Threads the CPU backend uses by default: the host's cores (asked once;
/// the query reads cgroup files and costs microseconds).
pub fn default_threads() -> usize {
    static THREADS: std::sync::OnceLock<usize> = std::sync::OnceLock::new();
    *THREADS.get_or_init(|| std::thread::available_parallelism().map_or(1, |n| n.get()))
}

/// Asks the kernel to back the 2 MiB-aligned parts of `len` bytes at `ptr`
/// (memory this process allocated and has not touched yet) with huge
/// pages. A fresh allocation costs a page fault per 4 KiB page at first
/// touch, which makes copying into it several times slower than `memcpy`
/// (on a VM, 64 MiB: 80 ms instead of 16); huge pages take 512 times fewer
/// faults. Only advice: it changes no contents, and does nothing where
/// the system does not support it (or for less than 4 MiB).
pub fn advise_huge_pages(ptr: *mut u8, len: usize) {
    const HUGE: usize = 2 << 20;
    let start = (ptr as usize).next_multiple_of(HUGE);
    let end = (ptr as usize).saturating_add(len) & !(HUGE - 1);
    if len < 2 * HUGE || end <= start {
        return;
    }
    #[cfg(all(
        target_os = "linux",
        any(target_arch = "x86_64", target_arch = "aarch64", target_arch = "riscv64")
    ))]
    {
        extern "C" {
            fn madvise(addr: *mut std::ffi::c_void, len: usize, advice: std::ffi::c_int) -> std::ffi::c_int;
        }
        /// `MADV_HUGEPAGE` on these architectures.
        const MADV_HUGEPAGE: std::ffi::c_int = 14;
        // SAFETY: `madvise` with MADV_HUGEPAGE only sets a flag on the
        // pages' mapping (an aligned range inside the caller's
        // allocation); it never changes memory contents. Failure (no
        // transparent huge pages) is harmless and ignored.
        unsafe {
            madvise(start as *mut std::ffi::c_void, end - start, MADV_HUGEPAGE);
        }
    }
}
