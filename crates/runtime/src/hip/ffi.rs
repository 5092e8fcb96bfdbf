//! The HIP runtime's C functions that `hip.rs` calls, resolved at run time
//! from `libamdhip64` with `libloading` (nothing is linked at build time, so
//! a process loads HIP only when it first needs a device).
//!
//! Only the table lives here; every call through it is in `hip.rs`. The
//! signatures are those of `hip_runtime_api.h` (ROCm 5 and 6 agree on all
//! of them).

use std::ffi::{c_char, c_int, c_uint, c_void};

/// `hipError_t`: a C enum, so an `int`; `hipSuccess` is 0.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[repr(transparent)]
pub struct HipError(pub i32);

impl HipError {
    pub const SUCCESS: HipError = HipError(0);
}

/// `hipModule_t` (`struct ihipModule_t*`).
pub type Module = *mut c_void;
/// `hipFunction_t` (`struct ihipModuleSymbol_t*`).
pub type Function = *mut c_void;
/// `hipStream_t` (`struct ihipStream_t*`).
pub type Stream = *mut c_void;

/// The library names tried, in order, unless `$TRITONC_HIP_LIBRARY` is set
/// (then only that one).
pub const LIBRARY_NAMES: [&str; 3] = ["libamdhip64.so", "libamdhip64.so.6", "libamdhip64.so.5"];

/// The environment variable naming the HIP library to load instead.
pub const LIBRARY_ENV: &str = "TRITONC_HIP_LIBRARY";

/// Where `gcnArchName` lies in each layout of `hipDeviceProp_t`: ROCm 6's
/// `hipDeviceProp_tR0600` (1472 bytes), and the older `R0000` layout of
/// ROCm 5 (792 bytes with ROCm 5.2's header).
pub const ARCH_NAME_OFFSET_R0600: usize = 1160;
pub const ARCH_NAME_OFFSET_R0000: usize = 396;

/// `hipGetDeviceProperties` in one of its versions, with the offset of
/// `gcnArchName` in the structure it fills.
pub struct GetProperties {
    pub call: unsafe extern "C" fn(*mut c_void, c_int) -> HipError,
    pub arch_name_offset: usize,
}

/// The resolved functions. The library stays loaded for the rest of the
/// process (the value lives in a `static`), so the pointers stay valid.
pub struct Api {
    pub get_error_string: unsafe extern "C" fn(HipError) -> *const c_char,
    pub get_device_count: unsafe extern "C" fn(*mut c_int) -> HipError,
    pub set_device: unsafe extern "C" fn(c_int) -> HipError,
    /// The newest version first.
    pub get_device_properties: Vec<GetProperties>,
    pub malloc: unsafe extern "C" fn(*mut *mut c_void, usize) -> HipError,
    pub free: unsafe extern "C" fn(*mut c_void) -> HipError,
    pub memcpy_htod: unsafe extern "C" fn(*mut c_void, *mut c_void, usize) -> HipError,
    pub memcpy_dtoh: unsafe extern "C" fn(*mut c_void, *mut c_void, usize) -> HipError,
    pub module_load_data: unsafe extern "C" fn(*mut Module, *const c_void) -> HipError,
    pub module_get_function: unsafe extern "C" fn(*mut Function, Module, *const c_char) -> HipError,
    pub module_unload: unsafe extern "C" fn(Module) -> HipError,
    #[allow(clippy::type_complexity)]
    pub module_launch_kernel: unsafe extern "C" fn(
        Function,
        c_uint,
        c_uint,
        c_uint,
        c_uint,
        c_uint,
        c_uint,
        c_uint,
        Stream,
        *mut *mut c_void,
        *mut *mut c_void,
    ) -> HipError,
    pub device_synchronize: unsafe extern "C" fn() -> HipError,
    pub stream_create: unsafe extern "C" fn(*mut Stream) -> HipError,
    pub stream_synchronize: unsafe extern "C" fn(Stream) -> HipError,
    pub stream_destroy: unsafe extern "C" fn(Stream) -> HipError,
    /// Keeps the library mapped.
    _library: libloading::Library,
}

/// The candidates: `$TRITONC_HIP_LIBRARY` alone if set, else
/// [`LIBRARY_NAMES`].
pub fn candidates() -> Vec<String> {
    match std::env::var_os(LIBRARY_ENV) {
        Some(v) if !v.is_empty() => vec![v.to_string_lossy().into_owned()],
        _ => LIBRARY_NAMES.iter().map(|s| s.to_string()).collect(),
    }
}

/// Loads the first of `candidates` that opens and resolves every function.
/// The error is one line: which libraries were tried, or which function the
/// library that opened lacks.
pub fn load(candidates: &[String]) -> Result<Api, String> {
    for name in candidates {
        // SAFETY: loading the HIP runtime runs its initializers, which have
        // no preconditions on the loading process.
        let Ok(library) = (unsafe { libloading::Library::new(name) }) else {
            continue;
        };
        return resolve(library).map_err(|missing| format!("{name} has no function {missing}"));
    }
    Err(format!("no HIP runtime library: tried {}", candidates.join(", ")))
}

fn resolve(library: libloading::Library) -> Result<Api, String> {
    /// Looks `name` up and copies the pointer out, with the type of the
    /// field it is assigned to.
    macro_rules! sym {
        ($name:literal) => {{
            // SAFETY: the symbol is the HIP function of that name, whose C
            // signature the field's type repeats; the library outlives the
            // pointer (it is kept in the same `Api`).
            match unsafe { library.get(concat!($name, "\0").as_bytes()) } {
                Ok(s) => *s,
                Err(_) => return Err($name.to_string()),
            }
        }};
    }
    let mut get_device_properties = Vec::new();
    for (name, arch_name_offset) in [
        ("hipGetDevicePropertiesR0600\0", ARCH_NAME_OFFSET_R0600),
        ("hipGetDevicePropertiesR0000\0", ARCH_NAME_OFFSET_R0000),
        ("hipGetDeviceProperties\0", ARCH_NAME_OFFSET_R0000),
    ] {
        // SAFETY: as in `sym!`: `(hipDeviceProp_t*, int) -> hipError_t`.
        if let Ok(s) = unsafe { library.get::<unsafe extern "C" fn(*mut c_void, c_int) -> HipError>(name.as_bytes()) } {
            get_device_properties.push(GetProperties {
                call: *s,
                arch_name_offset,
            });
        }
    }
    Ok(Api {
        get_error_string: sym!("hipGetErrorString"),
        get_device_count: sym!("hipGetDeviceCount"),
        set_device: sym!("hipSetDevice"),
        get_device_properties,
        malloc: sym!("hipMalloc"),
        free: sym!("hipFree"),
        memcpy_htod: sym!("hipMemcpyHtoD"),
        memcpy_dtoh: sym!("hipMemcpyDtoH"),
        module_load_data: sym!("hipModuleLoadData"),
        module_get_function: sym!("hipModuleGetFunction"),
        module_unload: sym!("hipModuleUnload"),
        module_launch_kernel: sym!("hipModuleLaunchKernel"),
        device_synchronize: sym!("hipDeviceSynchronize"),
        stream_create: sym!("hipStreamCreate"),
        stream_synchronize: sym!("hipStreamSynchronize"),
        stream_destroy: sym!("hipStreamDestroy"),
        _library: library,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_missing_library_is_named_in_one_line() {
        let tried = vec!["/nonexistent/a.so".to_string(), "/nonexistent/b.so".to_string()];
        let err = load(&tried).err().unwrap();
        assert_eq!(
            err,
            "no HIP runtime library: tried /nonexistent/a.so, /nonexistent/b.so"
        );
    }

    #[test]
    fn a_library_without_hip_names_the_missing_function() {
        // libc opens but has none of HIP's functions.
        let err = load(&["libc.so.6".to_string()]).err().unwrap();
        assert_eq!(err, "libc.so.6 has no function hipGetErrorString");
    }
}
