//! The CPU backend: a kernel compiled for the host is a shared library with
//! one function per kernel; programs of the grid run in parallel over the
//! host's cores.

use crate::{Grid, RuntimeError};
use std::{
    path::PathBuf,
    sync::atomic::{AtomicU64, Ordering},
};

/// `fn(args, pid_x, pid_y, pid_z, nprog_x, nprog_y, nprog_z, status, lane)`.
type HostKernelFn = unsafe extern "C" fn(*const u64, i32, i32, i32, i32, i32, i32, *mut u64, i32);

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
        // SAFETY: the library is one we just linked from our own code
        // generator; it has no initializers.
        let lib = unsafe { libloading::Library::new(&path) };
        // The mapping stays valid after the file is removed.
        let _ = std::fs::remove_file(&path);
        let lib = lib.map_err(|e| RuntimeError::Load(e.to_string()))?;
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
    /// lanes per program, and every lane of a program runs in turn.
    pub unsafe fn launch(
        &self,
        grid: Grid,
        args: &[u64],
        threads: usize,
        lanes: u32,
    ) -> Result<Option<(u32, u32)>, RuntimeError> {
        grid.validate()?;
        let total = grid.programs();
        let [gx, gy, _] = grid.0;
        let next = AtomicU64::new(0);
        let status = AtomicU64::new(0);
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
            for lane in 0..lanes.max(1) {
                unsafe {
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
                    )
                };
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
        let word = status.load(Ordering::Relaxed);
        Ok((word != 0).then_some(((word >> 32) as u32, word as u32)))
    }
}

/// Threads the CPU backend uses by default: the host's cores.
pub fn default_threads() -> usize {
    std::thread::available_parallelism().map_or(1, |n| n.get())
}
