//! AMD GPUs through HIP: load a code object, launch, copy memory.
//!
//! Every raw `hip*` call of the project is in this file, through the table
//! in `hip/ffi.rs`. Nothing of HIP is linked at build time: the HIP runtime
//! library is loaded, and so initialized, the first time a function here
//! needs it ([`Device::open`]), from the first of `libamdhip64.so`,
//! `libamdhip64.so.6` and `libamdhip64.so.5` that the dynamic loader finds,
//! or from `$TRITONC_HIP_LIBRARY` alone when that is set. A process that
//! never asks for a GPU never loads HIP.
//!
//! With no HIP library, or no device, [`Device::open`] returns
//! [`RuntimeError::NoDevice`] with one line that names the CPU backend (and,
//! without a library, the names tried).

mod ffi;

use crate::{Grid, RuntimeError};
use ffi::{Api, HipError};
use std::{
    ffi::{c_void, CString},
    mem::MaybeUninit,
    sync::OnceLock,
};

/// The HIP library's functions, loaded once, at the first use; or why it
/// could not be loaded.
fn api() -> Result<&'static Api, RuntimeError> {
    static API: OnceLock<Result<Api, String>> = OnceLock::new();
    API.get_or_init(|| ffi::load(&ffi::candidates()))
        .as_ref()
        .map_err(|why| RuntimeError::NoDevice(no_library(why)))
}

/// The one-line message for "no usable HIP library".
fn no_library(why: &str) -> String {
    format!("no AMD GPU found ({why}); use `--backend cpu` to run on the host")
}

fn check(e: HipError, what: &str) -> Result<(), RuntimeError> {
    if e == HipError::SUCCESS {
        return Ok(());
    }
    let api = api()?;
    // SAFETY: hipGetErrorString returns a static C string for any code.
    let msg = unsafe {
        let p = (api.get_error_string)(e);
        if p.is_null() {
            format!("hipError_t {}", e.0)
        } else {
            std::ffi::CStr::from_ptr(p).to_string_lossy().into_owned()
        }
    };
    Err(RuntimeError::Launch(format!("{what}: {msg}")))
}

/// A HIP device, chosen by index.
#[derive(Debug)]
pub struct Device {
    pub index: i32,
}

/// The message for "no AMD GPU here".
pub const NO_DEVICE: &str = "no AMD GPU found (HIP reports no device); use `--backend cpu` to run on the host";

impl Device {
    /// Opens device `index`, or says clearly that there is none.
    pub fn open(index: i32) -> Result<Device, RuntimeError> {
        let api = api()?;
        let mut count = 0;
        // SAFETY: a plain query with a valid out pointer.
        let e = unsafe { (api.get_device_count)(&mut count) };
        if e != HipError::SUCCESS || count == 0 {
            return Err(RuntimeError::NoDevice(NO_DEVICE.into()));
        }
        if index < 0 || index >= count {
            return Err(RuntimeError::NoDevice(format!(
                "HIP device {index} does not exist ({count} found)"
            )));
        }
        // SAFETY: the index was checked against the device count.
        check(unsafe { (api.set_device)(index) }, "hipSetDevice")?;
        Ok(Device { index })
    }

    /// The device's architecture (`gfx942`, ...), read from its properties.
    /// The properties structure differs between ROCm releases: ROCm 6's
    /// `hipGetDevicePropertiesR0600` is tried first, then the older layout's
    /// functions; each writes into an oversized buffer, and a name is
    /// accepted only if it looks like one; otherwise `None`.
    pub fn arch(&self) -> Option<String> {
        let api = api().ok()?;
        api.get_device_properties.iter().find_map(|get| {
            // Four times the largest known structure (1472 bytes).
            let mut buf = vec![0u64; 4 * 1472 / 8];
            // SAFETY: the buffer is zeroed, 8-byte aligned (as the
            // structure) and larger than any known version of it.
            let e = unsafe { (get.call)(buf.as_mut_ptr() as *mut c_void, self.index) };
            if e != HipError::SUCCESS {
                return None;
            }
            let bytes: Vec<u8> = buf
                .iter()
                .flat_map(|w| w.to_le_bytes())
                .skip(get.arch_name_offset)
                .take(256)
                .collect();
            let name: String = bytes.iter().take_while(|b| **b != 0).map(|b| *b as char).collect();
            // `gfx90a:sramecc+:xnack-`: the architecture is the first part.
            let arch = name.split(':').next().unwrap_or("").to_string();
            (arch.starts_with("gfx") && arch.len() <= 16 && arch.chars().all(|c| c.is_ascii_alphanumeric()))
                .then_some(arch)
        })
    }

    /// Copies `bytes` to a new device allocation.
    pub fn upload(&self, bytes: &[u8]) -> Result<DeviceBuffer, RuntimeError> {
        let api = api()?;
        let mut ptr: *mut c_void = std::ptr::null_mut();
        let size = bytes.len().max(1);
        // SAFETY: valid out pointer; size is nonzero.
        check(unsafe { (api.malloc)(&mut ptr, size) }, "hipMalloc")?;
        let buf = DeviceBuffer { ptr, len: bytes.len() };
        if !bytes.is_empty() {
            // SAFETY: `ptr` holds at least `bytes.len()` bytes; HIP only reads the source.
            check(
                unsafe { (api.memcpy_htod)(ptr, bytes.as_ptr() as *mut c_void, bytes.len()) },
                "hipMemcpyHtoD",
            )?;
        }
        Ok(buf)
    }

    /// Loads a code object.
    pub fn load(&self, hsaco: &[u8], kernel: &str) -> Result<GpuKernel, RuntimeError> {
        let api = api()?;
        let mut module: ffi::Module = std::ptr::null_mut();
        // SAFETY: the image is a complete ELF code object held in memory
        // for the duration of the call.
        check(
            unsafe { (api.module_load_data)(&mut module, hsaco.as_ptr() as *const c_void) },
            "hipModuleLoadData",
        )?;
        let name = CString::new(kernel).map_err(|_| RuntimeError::Load("kernel name contains NUL".into()))?;
        let mut func: ffi::Function = std::ptr::null_mut();
        // SAFETY: module is loaded; name is NUL-terminated.
        check(
            unsafe { (api.module_get_function)(&mut func, module, name.as_ptr()) },
            "hipModuleGetFunction",
        )?;
        Ok(GpuKernel { module, func })
    }
}

/// Copies `out.len()` bytes from device address `addr`.
///
/// # Safety
/// `addr` must be device memory holding at least `out.len()` bytes.
pub unsafe fn read_device(addr: u64, out: &mut [u8]) -> Result<(), RuntimeError> {
    if out.is_empty() {
        return Ok(());
    }
    let api = api()?;
    // SAFETY: upheld by the caller; `out` holds `out.len()` bytes.
    check(
        unsafe { (api.memcpy_dtoh)(out.as_mut_ptr() as *mut c_void, addr as *mut c_void, out.len()) },
        "hipMemcpyDtoH",
    )
}

/// Copies `data` to device address `addr`.
///
/// # Safety
/// `addr` must be device memory holding at least `data.len()` bytes.
pub unsafe fn write_device(addr: u64, data: &[u8]) -> Result<(), RuntimeError> {
    if data.is_empty() {
        return Ok(());
    }
    let api = api()?;
    // SAFETY: upheld by the caller; HIP only reads the source.
    check(
        unsafe { (api.memcpy_htod)(addr as *mut c_void, data.as_ptr() as *mut c_void, data.len()) },
        "hipMemcpyHtoD",
    )
}

/// Device memory, freed on drop.
#[derive(Debug)]
pub struct DeviceBuffer {
    ptr: *mut c_void,
    len: usize,
}

// SAFETY: the pointer is a device allocation owned by this value (freed
// once, on drop, which needs ownership). Device addresses are valid in
// every host thread of the process, and HIP's copy functions may be called
// from any thread and concurrently; the host memory they touch is borrowed
// (`&`/`&mut`) as Rust requires, so sharing a `DeviceBuffer` between
// threads cannot make a Rust-visible data race.
unsafe impl Send for DeviceBuffer {}
// SAFETY: see `Send` above.
unsafe impl Sync for DeviceBuffer {}

impl DeviceBuffer {
    pub fn address(&self) -> u64 {
        self.ptr as u64
    }

    /// The size in bytes.
    pub fn len(&self) -> usize {
        self.len
    }

    pub fn is_empty(&self) -> bool {
        self.len == 0
    }

    /// Copies the first `out.len()` bytes (at most the buffer's size).
    pub fn download(&self, out: &mut [u8]) -> Result<(), RuntimeError> {
        let n = out.len().min(self.len);
        // SAFETY: `u8` and `MaybeUninit<u8>` have the same layout, and only
        // bytes are written into it.
        let out = unsafe { std::slice::from_raw_parts_mut(out.as_mut_ptr() as *mut MaybeUninit<u8>, n) };
        self.download_into(out)
    }

    /// Copies the whole buffer into `out`, which must be exactly as large
    /// (and may be uninitialized: every byte is written on success).
    pub fn download_into(&self, out: &mut [MaybeUninit<u8>]) -> Result<(), RuntimeError> {
        if out.len() != self.len {
            return Err(RuntimeError::Launch(format!(
                "hipMemcpyDtoH: the buffer holds {} bytes, the destination {}",
                self.len,
                out.len()
            )));
        }
        if out.is_empty() {
            return Ok(());
        }
        let api = api()?;
        // SAFETY: both sides hold `len` bytes; HIP writes every byte of
        // `out` or fails.
        check(
            unsafe { (api.memcpy_dtoh)(out.as_mut_ptr() as *mut c_void, self.ptr, self.len) },
            "hipMemcpyDtoH",
        )
    }

    /// Overwrites the buffer with `data`, which must be exactly as large.
    pub fn upload_from(&self, data: &[u8]) -> Result<(), RuntimeError> {
        if data.len() != self.len {
            return Err(RuntimeError::Launch(format!(
                "hipMemcpyHtoD: the buffer holds {} bytes, the source {}",
                self.len,
                data.len()
            )));
        }
        if data.is_empty() {
            return Ok(());
        }
        let api = api()?;
        // SAFETY: both sides hold `len` bytes; HIP only reads the source.
        check(
            unsafe { (api.memcpy_htod)(self.ptr, data.as_ptr() as *mut c_void, self.len) },
            "hipMemcpyHtoD",
        )
    }
}

impl Drop for DeviceBuffer {
    fn drop(&mut self) {
        // A buffer exists only once the library is loaded.
        if let Ok(api) = api() {
            // SAFETY: `ptr` came from hipMalloc and is freed once.
            unsafe {
                (api.free)(self.ptr);
            }
        }
    }
}

/// A loaded kernel.
#[derive(Debug)]
pub struct GpuKernel {
    module: ffi::Module,
    func: ffi::Function,
}

// SAFETY: the module and function are HIP handles, valid in every host
// thread of the process; HIP's launch API may be called from several
// threads at once (`launch_on` reads the handles only); the module is
// unloaded once, on drop, which needs ownership.
unsafe impl Send for GpuKernel {}
// SAFETY: see `Send` above.
unsafe impl Sync for GpuKernel {}

impl GpuKernel {
    /// Launches on `lanes` work-items per program and waits for completion.
    /// `args` holds each argument's bytes (8 for pointers).
    ///
    /// # Safety
    /// Pointer arguments must be device addresses of buffers large enough
    /// for every access the kernel makes.
    pub unsafe fn launch(&self, grid: Grid, lanes: u32, args: &[Vec<u8>]) -> Result<(), RuntimeError> {
        // SAFETY: upheld by the caller.
        unsafe { self.launch_on(None, grid, lanes, args) }
    }

    /// Launches on `stream` without waiting (HIP copies the arguments at
    /// the call), or, with no stream, on the null stream and waits.
    ///
    /// # Safety
    /// As [`GpuKernel::launch`]; the buffers must also stay allocated until
    /// the stream has run the kernel (freeing device memory waits for the
    /// device in HIP, so dropping a buffer early is safe, only slow).
    pub unsafe fn launch_on(
        &self,
        stream: Option<&Stream>,
        grid: Grid,
        lanes: u32,
        args: &[Vec<u8>],
    ) -> Result<(), RuntimeError> {
        grid.validate()?;
        let mut storage: Vec<Vec<u8>> = args.to_vec();
        let api = api()?;
        let mut params: Vec<*mut c_void> = storage.iter_mut().map(|a| a.as_mut_ptr() as *mut c_void).collect();
        // SAFETY: `params` points at live argument values; upheld by the caller.
        let e = unsafe {
            (api.module_launch_kernel)(
                self.func,
                grid.0[0],
                grid.0[1],
                grid.0[2],
                lanes,
                1,
                1,
                0,
                stream.map_or(std::ptr::null_mut(), |s| s.raw),
                params.as_mut_ptr(),
                std::ptr::null_mut(),
            )
        };
        check(e, "hipModuleLaunchKernel")?;
        if stream.is_some() {
            return Ok(());
        }
        // SAFETY: no arguments.
        check(unsafe { (api.device_synchronize)() }, "hipDeviceSynchronize")
    }
}

/// A HIP stream: kernels launched on it run in order, asynchronously to
/// the host. It is a blocking stream, so copies on the null stream (buffer
/// downloads) wait for it.
#[derive(Debug)]
pub struct Stream {
    raw: ffi::Stream,
}

// SAFETY: a HIP stream handle is valid in every host thread, and HIP allows
// launching on and synchronizing a stream from several threads at once; it
// is destroyed once, on drop, which needs ownership.
unsafe impl Send for Stream {}
// SAFETY: see `Send` above.
unsafe impl Sync for Stream {}

impl Stream {
    pub fn new(_device: &Device) -> Result<Stream, RuntimeError> {
        let api = api()?;
        let mut raw: ffi::Stream = std::ptr::null_mut();
        // SAFETY: valid out pointer.
        check(unsafe { (api.stream_create)(&mut raw) }, "hipStreamCreate")?;
        Ok(Stream { raw })
    }

    /// Waits until every launch on the stream has finished.
    pub fn synchronize(&self) -> Result<(), RuntimeError> {
        let api = api()?;
        // SAFETY: the stream is alive.
        check(unsafe { (api.stream_synchronize)(self.raw) }, "hipStreamSynchronize")
    }
}

impl Drop for Stream {
    fn drop(&mut self) {
        // A stream exists only once the library is loaded.
        if let Ok(api) = api() {
            // SAFETY: created once, destroyed once (HIP finishes its work first).
            unsafe {
                (api.stream_destroy)(self.raw);
            }
        }
    }
}

impl Drop for GpuKernel {
    fn drop(&mut self) {
        // A module exists only once the library is loaded.
        if let Ok(api) = api() {
            // SAFETY: the module was loaded once and is unloaded once.
            unsafe {
                (api.module_unload)(self.module);
            }
        }
    }
}
