//! The CPU backend: a kernel compiled for the host is a shared library with
//! one function per kernel; programs of the grid run in parallel over the
//! host's cores, on a pool of threads started once ([`run_programs`]).

use crate::{Grid, RuntimeError};
use std::{
    collections::VecDeque,
    mem::MaybeUninit,
    path::PathBuf,
    sync::{
        atomic::{AtomicBool, AtomicU64, AtomicUsize, Ordering},
        Arc, Condvar, Mutex, OnceLock,
    },
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
        let status = AtomicU64::new(0);
        let failure = std::sync::Mutex::new(None::<RuntimeError>);
        let failed = AtomicBool::new(false);
        let threads = threads.clamp(1, 256).min(total.min(256) as usize);
        let func = self.func;
        let args_ptr = args.as_ptr() as usize;
        let status_ptr = status.as_ptr() as usize;
        let program = |i: u64| {
            // After a failure the remaining programs are skipped.
            if failed.load(Ordering::Relaxed) {
                return;
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
                    failed.store(true, Ordering::Relaxed);
                }
            } else {
                for lane in 0..lanes.max(1) {
                    call(lane, std::ptr::null());
                }
            }
        };
        run_programs(total, threads, &program);
        if let Some(e) = failure.into_inner().unwrap_or_else(|e| e.into_inner()) {
            return Err(e);
        }
        let word = status.load(Ordering::Relaxed);
        Ok((word != 0).then_some(((word >> 32) as u32, word as u32)))
    }
}

/// Runs `program(i)` for every `i` below `total` on up to `threads` threads:
/// the calling thread and workers of the process-wide pool (started once,
/// on first use, one fewer than [`default_threads`]). Returns when every
/// program has run. Several threads may call this at once: the pool's
/// workers help each launch in turn, and every caller works on its own
/// launch, so each makes progress even when all workers are busy. A panic
/// in a program is raised again here, in the caller, once every other
/// program has run; the pool's threads survive it.
pub fn run_programs(total: u64, threads: usize, program: &(dyn Fn(u64) + Sync)) {
    let helpers = threads
        .saturating_sub(1)
        .min(usize::try_from(total.saturating_sub(1)).unwrap_or(usize::MAX));
    let pool = (helpers > 0).then(Pool::get);
    let workers = pool.map_or(0, |p| p.workers.load(Ordering::Relaxed));
    let (Some(pool), true) = (pool, workers > 0) else {
        (0..total).for_each(program);
        return;
    };
    // SAFETY: the job's pointer to `program` is used only to run programs
    // `0..total`, each once, and this function returns only after all of
    // them have finished (`Job::wait`), so never after `program` is gone;
    // workers that keep the job afterwards claim no more programs.
    let program: &'static (dyn Fn(u64) + Sync) = unsafe { std::mem::transmute(program) };
    let job = Arc::new(Job {
        program,
        total,
        next: AtomicU64::new(0),
        // About 16 claims per thread, at most 64 programs each.
        chunk: (total / (helpers as u64 + 1) / 16).clamp(1, 64),
        helpers: AtomicUsize::new(0),
        max_helpers: helpers.min(workers),
        finished: AtomicU64::new(0),
        done: Mutex::new(false),
        done_signal: Condvar::new(),
        panic: Mutex::new(None),
    });
    pool.lock().push_back(job.clone());
    pool.wake.notify_all();
    job.work();
    job.wait();
    pool.lock().retain(|j| !Arc::ptr_eq(j, &job));
    let payload = job.panic.lock().unwrap_or_else(|e| e.into_inner()).take();
    if let Some(payload) = payload {
        std::panic::resume_unwind(payload);
    }
}

/// The programs of one launch, run by the launching thread and workers.
struct Job {
    /// Not really `'static`: valid until every program has finished (see
    /// `run_programs`).
    program: &'static (dyn Fn(u64) + Sync),
    total: u64,
    /// The next program to claim, and how many are claimed at once.
    next: AtomicU64,
    chunk: u64,
    /// Workers that joined, at most `max_helpers` (changed under the
    /// pool's lock).
    helpers: AtomicUsize,
    max_helpers: usize,
    /// Programs that have run (or panicked).
    finished: AtomicU64,
    done: Mutex<bool>,
    done_signal: Condvar,
    /// The first panic of a program.
    panic: Mutex<Option<Box<dyn std::any::Any + Send>>>,
}

impl Job {
    /// Claims and runs programs until none is left, then counts them.
    fn work(&self) {
        let mut ran = 0;
        loop {
            // Programs are claimed a few at a time (fewer atomic updates of
            // a shared counter), in small enough runs to share the work.
            let first = self.next.fetch_add(self.chunk, Ordering::Relaxed);
            if first >= self.total {
                break;
            }
            let end = first.saturating_add(self.chunk).min(self.total);
            let program = self.program;
            for i in first..end {
                if let Err(payload) = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| program(i))) {
                    self.panic
                        .lock()
                        .unwrap_or_else(|e| e.into_inner())
                        .get_or_insert(payload);
                }
            }
            ran += end - first;
        }
        // Release: the programs' writes happen before the caller returns.
        if ran > 0 && self.finished.fetch_add(ran, Ordering::AcqRel) + ran == self.total {
            *self.done.lock().unwrap_or_else(|e| e.into_inner()) = true;
            self.done_signal.notify_all();
        }
    }

    /// Waits until every program has finished.
    fn wait(&self) {
        let mut done = self.done.lock().unwrap_or_else(|e| e.into_inner());
        while !*done {
            done = self.done_signal.wait(done).unwrap_or_else(|e| e.into_inner());
        }
        drop(done);
        // Acquire: pairs with the workers' release above.
        debug_assert_eq!(self.finished.load(Ordering::Acquire), self.total);
    }
}

/// Worker threads that run the programs of launches, started once.
struct Pool {
    /// Launches with programs left to claim.
    queue: Mutex<VecDeque<Arc<Job>>>,
    wake: Condvar,
    /// Worker threads started (fixed once `get` returns).
    workers: AtomicUsize,
}

impl Pool {
    /// The pool, started on first use (with no workers if none could be
    /// started: callers then run their programs themselves).
    fn get() -> &'static Pool {
        static POOL: OnceLock<&'static Pool> = OnceLock::new();
        POOL.get_or_init(|| {
            // Leaked: the workers run for the life of the process.
            let pool: &'static Pool = Box::leak(Box::new(Pool {
                queue: Mutex::new(VecDeque::new()),
                wake: Condvar::new(),
                workers: AtomicUsize::new(0),
            }));
            let mut started = 0;
            for n in 1..default_threads() {
                let spawned = std::thread::Builder::new()
                    .name(format!("tritonc-cpu-{n}"))
                    .spawn(move || pool.serve());
                if spawned.is_err() {
                    break;
                }
                started += 1;
            }
            pool.workers.store(started, Ordering::Relaxed);
            pool
        })
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, VecDeque<Arc<Job>>> {
        self.queue.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// A worker: helps launches for ever.
    fn serve(&self) {
        loop {
            let job = {
                let mut queue = self.lock();
                loop {
                    queue.retain(|j| j.next.load(Ordering::Relaxed) < j.total);
                    let open = queue
                        .iter()
                        .find(|j| j.helpers.load(Ordering::Relaxed) < j.max_helpers)
                        .cloned();
                    if let Some(j) = open {
                        j.helpers.fetch_add(1, Ordering::Relaxed);
                        break j;
                    }
                    queue = self.wake.wait(queue).unwrap_or_else(|e| e.into_inner());
                }
            };
            job.work();
        }
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

/// Copies `src` into `dst` (as long), on the pool's threads when it is
/// large: one core does not reach the memory's bandwidth (on a 2-core VM,
/// 64 MiB: 15.7 ms on one thread, 11.2 on two; into fresh memory, whose
/// page faults are shared too, 23.5 and 14.6).
pub fn copy_bytes(src: &[u8], dst: &mut [u8]) {
    // SAFETY: `u8` and `MaybeUninit<u8>` have the same layout, and only
    // bytes (initialized) are written through the cast.
    let dst = unsafe { std::slice::from_raw_parts_mut(dst.as_mut_ptr() as *mut MaybeUninit<u8>, dst.len()) };
    copy_bytes_uninit(src, dst)
}

/// [`copy_bytes`] into memory that may be uninitialized: every byte of
/// `dst` is written.
pub fn copy_bytes_uninit(src: &[u8], dst: &mut [MaybeUninit<u8>]) {
    assert_eq!(src.len(), dst.len(), "copy_bytes: the lengths differ");
    /// Bytes per program: large enough that a program's cost is the copy.
    const PIECE: usize = 4 << 20;
    let n = src.len();
    let pieces = n.div_ceil(PIECE);
    let threads = default_threads().min(pieces);
    let (from, to) = (src.as_ptr() as usize, dst.as_mut_ptr() as usize);
    if threads <= 1 {
        // SAFETY: both slices hold `n` bytes and do not overlap (`dst` is
        // borrowed mutably).
        unsafe { std::ptr::copy_nonoverlapping(src.as_ptr(), dst.as_mut_ptr() as *mut u8, n) };
        return;
    }
    run_programs(pieces as u64, threads, &|i| {
        let start = i as usize * PIECE;
        let len = PIECE.min(n - start);
        // SAFETY: `[start, start + len)` is inside both slices, which do
        // not overlap and outlive `run_programs`; the programs' ranges are
        // disjoint, so each byte of `dst` is written by one program only.
        unsafe { std::ptr::copy_nonoverlapping((from as *const u8).add(start), (to as *mut u8).add(start), len) };
    });
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

#[cfg(test)]
mod tests {
    use super::*;

    /// Every program runs exactly once, for any number of programs and
    /// threads.
    #[test]
    fn the_pool_runs_every_program_once() {
        for total in [1u64, 2, 3, 64, 1000] {
            for threads in [1, 2, 3, 8, 300] {
                let runs: Vec<AtomicU64> = (0..total).map(|_| AtomicU64::new(0)).collect();
                run_programs(total, threads, &|i| {
                    runs[i as usize].fetch_add(1, Ordering::Relaxed);
                });
                assert!(
                    runs.iter().all(|r| r.load(Ordering::Relaxed) == 1),
                    "{total} programs, {threads} threads"
                );
            }
        }
    }

    /// Launches from several threads at once share the pool and all finish.
    #[test]
    fn the_pool_serves_several_launching_threads() {
        let sum = AtomicU64::new(0);
        std::thread::scope(|s| {
            for t in 0..6u64 {
                let sum = &sum;
                s.spawn(move || {
                    for _ in 0..50 {
                        run_programs(100, 4, &|i| {
                            sum.fetch_add(i + t, Ordering::Relaxed);
                        });
                    }
                });
            }
        });
        let per_launch: u64 = (0..100).sum();
        assert_eq!(
            sum.load(Ordering::Relaxed),
            50 * (6 * per_launch + 100 * (0..6).sum::<u64>())
        );
    }

    /// Large copies, split over the pool, and small ones are exact.
    #[test]
    fn copies_of_every_size_are_exact() {
        for n in [0usize, 1, 4095, (4 << 20) - 1, 4 << 20, (9 << 20) + 3] {
            let src: Vec<u8> = (0..n).map(|i| (i * 31 + i / 4099) as u8).collect();
            let mut dst = vec![0xa5u8; n];
            copy_bytes(&src, &mut dst);
            assert!(src == dst, "{n} bytes");
        }
    }

    /// A panicking program is raised in the launching thread after the
    /// others ran; the pool keeps working.
    #[test]
    fn a_panicking_program_does_not_hang_the_pool() {
        let ran = AtomicU64::new(0);
        let result = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
            run_programs(200, 8, &|i| {
                ran.fetch_add(1, Ordering::Relaxed);
                assert!(i != 17, "program 17 fails");
            })
        }));
        let message = result.expect_err("the panic is raised again");
        let text = message
            .downcast_ref::<&str>()
            .copied()
            .or(message.downcast_ref::<String>().map(String::as_str));
        assert_eq!(text, Some("program 17 fails"));
        assert_eq!(ran.load(Ordering::Relaxed), 200);
        let again = AtomicU64::new(0);
        run_programs(500, 8, &|_| {
            again.fetch_add(1, Ordering::Relaxed);
        });
        assert_eq!(again.load(Ordering::Relaxed), 500);
    }
}
