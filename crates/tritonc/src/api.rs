//! The Rust API behind `#[kernel]`: devices, typed buffers, launches.
//!
//! ```ignore
//! use tritonc::prelude::*;
//!
//! #[kernel]
//! fn add<const BLOCK: i32>(x: Ptr<f32>, y: Ptr<f32>, out: Ptr<f32>, n: i32) { .. }
//!
//! let dev = Device::default()?;            // the first AMD GPU, else the CPU
//! let (x, y) = (dev.upload(&xs)?, dev.upload(&ys)?);
//! let out = dev.zeros::<f32>(n)?;          // n: usize, the length
//! add::<1024>().launch(&dev, grid![n.div_ceil(1024)], (&x, &y, &out, n as i32))?;
//! let result: Vec<f32> = out.download()?;
//! ```
//!
//! (Complete, and run by the tests: `examples/readme.rs`, the README's.)
//!
//! A kernel is compiled for the device the first time it is launched with
//! a set of const values, then kept (in memory, and in the disk cache).
//! As in Triton, a buffer too small for the grid cannot be detected in
//! general: kernels must mask their accesses; on the CPU backend
//! `device_assert` can check bounds.

use crate::{
    autotune::{fastest, read_record, write_record, Autotuner, Config},
    cache::Cache,
    launch::{load_cpu, run_cpu_slots},
    request::{CompileRequest, Compiled},
    Error,
};
use std::{
    collections::HashMap,
    marker::PhantomData,
    mem::MaybeUninit,
    ptr::NonNull,
    sync::{Arc, Mutex, PoisonError, RwLock, RwLockReadGuard, RwLockWriteGuard},
    time::{Duration, Instant},
};
#[cfg(feature = "compiler")]
use tritonc_codegen::target::{self, Target};
use tritonc_ir::{fold_util, ScalarType};
use tritonc_runtime::cpu::CpuKernel;
use tritonc_sema::ConstArg;
use tritonc_syntax::SourceFile;

pub use tritonc_runtime::Grid;

/// `grid![x]`, `grid![x, y]`, `grid![x, y, z]`: programs along each axis.
#[macro_export]
macro_rules! grid {
    ($x:expr) => {
        $crate::api::Grid([($x) as u32, 1, 1])
    };
    ($x:expr, $y:expr) => {
        $crate::api::Grid([($x) as u32, ($y) as u32, 1])
    };
    ($x:expr, $y:expr, $z:expr) => {
        $crate::api::Grid([($x) as u32, ($y) as u32, ($z) as u32])
    };
}

/// IEEE half precision, stored as its bits.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
#[repr(transparent)]
pub struct F16(pub u16);

impl F16 {
    pub fn from_f32(x: f32) -> F16 {
        F16(fold_util::f32_to_f16_bits(x))
    }
    pub fn to_f32(self) -> f32 {
        fold_util::f16_bits_to_f32(self.0)
    }
}

/// bfloat16, stored as its bits.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
#[repr(transparent)]
pub struct Bf16(pub u16);

impl Bf16 {
    pub fn from_f32(x: f32) -> Bf16 {
        Bf16(fold_util::f32_to_bf16_bits(x))
    }
    pub fn to_f32(self) -> f32 {
        fold_util::bf16_bits_to_f32(self.0)
    }
}

/// An element type of buffers: its kernel-language type and its bytes.
pub trait Element: Copy + Default + 'static {
    const TYPE: ScalarType;
    fn write(self, out: &mut Vec<u8>);
    fn read(bytes: &[u8]) -> Self;
}

macro_rules! element {
    ($t:ty, $s:ident) => {
        impl Element for $t {
            const TYPE: ScalarType = ScalarType::$s;
            fn write(self, out: &mut Vec<u8>) {
                out.extend_from_slice(&self.to_le_bytes());
            }
            fn read(bytes: &[u8]) -> Self {
                let mut b = [0u8; std::mem::size_of::<$t>()];
                b.copy_from_slice(&bytes[..std::mem::size_of::<$t>()]);
                <$t>::from_le_bytes(b)
            }
        }
    };
}
element!(i8, I8);
element!(i16, I16);
element!(i32, I32);
element!(i64, I64);
element!(u8, U8);
element!(u16, U16);
element!(u32, U32);
element!(u64, U64);
element!(f32, F32);
element!(f64, F64);

impl Element for bool {
    const TYPE: ScalarType = ScalarType::I1;
    fn write(self, out: &mut Vec<u8>) {
        out.push(u8::from(self));
    }
    fn read(bytes: &[u8]) -> Self {
        bytes[0] != 0
    }
}

impl Element for F16 {
    const TYPE: ScalarType = ScalarType::F16;
    fn write(self, out: &mut Vec<u8>) {
        out.extend_from_slice(&self.0.to_le_bytes());
    }
    fn read(bytes: &[u8]) -> Self {
        F16(u16::from_le_bytes([bytes[0], bytes[1]]))
    }
}

impl Element for Bf16 {
    const TYPE: ScalarType = ScalarType::BF16;
    fn write(self, out: &mut Vec<u8>) {
        out.extend_from_slice(&self.0.to_le_bytes());
    }
    fn read(bytes: &[u8]) -> Self {
        Bf16(u16::from_le_bytes([bytes[0], bytes[1]]))
    }
}

/// Whether `T` is one of the crate's element types whose values are their
/// bytes in memory: no padding, and any bytes are a valid value (numbers,
/// `F16`, `Bf16`; not `bool`). Buffers hold values as they are in memory,
/// which is what kernels on the host read (and AMD GPUs, little-endian like
/// their hosts); such types are copied with one `memcpy`. (Known by type,
/// not by a trait item: `Element` is a safe trait, which any crate may
/// implement, so unsafe code cannot trust what an implementation says.)
fn is_plain<T: 'static>() -> bool {
    use std::any::TypeId;
    let t = TypeId::of::<T>();
    [
        TypeId::of::<i8>(),
        TypeId::of::<i16>(),
        TypeId::of::<i32>(),
        TypeId::of::<i64>(),
        TypeId::of::<u8>(),
        TypeId::of::<u16>(),
        TypeId::of::<u32>(),
        TypeId::of::<u64>(),
        TypeId::of::<f32>(),
        TypeId::of::<f64>(),
        TypeId::of::<F16>(),
        TypeId::of::<Bf16>(),
    ]
    .contains(&t)
}

/// Whether buffers hold values of `T` as their bytes in memory: plain types
/// (see [`is_plain`]) and `bool` (one byte, 0 or 1).
fn is_bytes<T: 'static>() -> bool {
    is_plain::<T>() || std::any::TypeId::of::<T>() == std::any::TypeId::of::<bool>()
}

/// `data`'s bytes as buffers hold them, when they are its memory: for
/// plain types (see [`is_plain`]) and `bool` (one byte, 0 or 1).
fn as_bytes<T: Element>(data: &[T]) -> Option<&[u8]> {
    if !is_bytes::<T>() {
        return None;
    }
    // SAFETY: `T` is a number, `F16`/`Bf16` (`repr(transparent)` over
    // u16) or `bool`: every byte of `data` is initialized (no padding), and
    // `u8` has no alignment to meet.
    Some(unsafe { std::slice::from_raw_parts(data.as_ptr() as *const u8, std::mem::size_of_val(data)) })
}

/// Writes `data` into `out` (exactly its size in the buffer) as bytes.
fn write_bytes<T: Element>(data: &[T], out: &mut [u8]) {
    match as_bytes(data) {
        Some(bytes) => tritonc_runtime::cpu::copy_bytes(bytes, out),
        None => {
            let size = T::TYPE.bytes() as usize;
            let mut one = Vec::with_capacity(size);
            for (x, o) in data.iter().zip(out.chunks_exact_mut(size)) {
                one.clear();
                x.write(&mut one);
                o.copy_from_slice(&one[..size]);
            }
        }
    }
}

/// Reads `out.len()` values from `bytes` (exactly their size) into `out`,
/// writing every element.
fn read_bytes<T: Element>(bytes: &[u8], out: &mut [MaybeUninit<T>]) {
    if is_plain::<T>() {
        assert_eq!(bytes.len(), std::mem::size_of_val(out));
        // SAFETY: `T` is plain (any bytes are a valid value, no padding),
        // so writing `out`'s bytes writes valid values; `out` is
        // `bytes.len()` bytes.
        let out = unsafe { std::slice::from_raw_parts_mut(out.as_mut_ptr() as *mut MaybeUninit<u8>, bytes.len()) };
        tritonc_runtime::cpu::copy_bytes_uninit(bytes, out);
        return;
    }
    // `bool` (a byte other than 0 or 1 is not one, so each is converted)
    // and other crates' types: value by value.
    let size = T::TYPE.bytes() as usize;
    assert_eq!(bytes.len(), out.len() * size);
    for (o, b) in out.iter_mut().zip(bytes.chunks_exact(size)) {
        o.write(T::read(b));
    }
}

/// A kernel's source, embedded by `#[kernel]`: the kernel text rebuilt
/// from the item's tokens, and where those tokens are in the user's file.
#[derive(Debug)]
pub struct KernelSource {
    pub name: &'static str,
    pub text: &'static str,
    /// The user's file, as `file!()` names it.
    pub file: &'static str,
    /// Where the tokens of `text` are in `file` (empty when the compiler
    /// did not say: Rust before 1.88).
    pub tokens: &'static [TokenLocation],
    /// `lines` are the lines of `file` from this one (1-based) on: those
    /// of the kernel, shown under a caret.
    pub first_line: u32,
    pub lines: &'static [&'static str],
}

/// Where a token of a [`KernelSource`]'s text is in the user's file.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct TokenLocation {
    /// Its byte range in the kernel text.
    pub text: (u32, u32),
    /// Line (1-based) and column (0-based, in characters) of its start.
    pub start: (u32, u32),
    /// Line and column just past its end.
    pub end: (u32, u32),
}

impl KernelSource {
    /// Diagnostics about this kernel's text, moved to the user's file: each
    /// at the line and column of the user's token, under the user's line.
    /// Other errors, and diagnostics this source cannot place (no
    /// locations, or a span outside every token), are returned as they are.
    pub fn locate(&self, error: Error) -> Error {
        match error {
            Error::Diagnostics(d) if d.file.text == self.text => match self.locate_diagnostics(&d) {
                Some(located) => Error::Diagnostics(located),
                None => Error::Diagnostics(d),
            },
            other => other,
        }
    }

    fn locate_diagnostics(&self, d: &tritonc_syntax::Diagnostics) -> Option<tritonc_syntax::Diagnostics> {
        // The user's file as far as the kernel's last line: the lines
        // before the kernel are left empty (only the kernel's are shown).
        let first = self.first_line.checked_sub(1)? as usize;
        let mut text = "\n".repeat(first);
        let mut line_starts = vec![0; first];
        for l in self.lines {
            line_starts.push(text.len());
            text.push_str(l);
            text.push('\n');
        }
        // The byte offset in `text` of a (line, column) of the user's file.
        let offset = |(line, col): (u32, u32)| -> Option<usize> {
            let start = *line_starts.get((line as usize).checked_sub(1)?)?;
            let line_text = text[start..].split('\n').next().unwrap_or("");
            let within = line_text
                .char_indices()
                .nth(col as usize)
                .map_or(line_text.len(), |(i, _)| i);
            Some(start + within)
        };
        // The token at a byte of the kernel text, or the nearest before it.
        let token_at = |at: u32| self.tokens.iter().rev().find(|t| t.text.0 <= at);
        let items = d
            .items
            .iter()
            .map(|item| {
                let start = token_at(item.span.start)?;
                let end = token_at(item.span.end.saturating_sub(1).max(item.span.start))?;
                let a = offset(start.start)?;
                let b = offset(end.end)?.max(a);
                Some(tritonc_syntax::Diagnostic::new(
                    tritonc_syntax::Span::new(a, b),
                    item.message.clone(),
                ))
            })
            .collect::<Option<Vec<_>>>()?;
        Some(tritonc_syntax::Diagnostics {
            file: SourceFile::new(self.file, text),
            items,
        })
    }
}

/// One packed launch argument.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum KernelArg {
    /// A buffer's address on the launching device, and its size in bytes.
    Buffer(u64, u64),
    /// A scalar's bits (zero-extended), its size in bytes, and whether it
    /// is an integer (which the JIT may specialize on).
    Scalar(u64, usize, bool),
}

/// What a launch argument can be: buffers and scalars.
pub trait IntoKernelArg {
    fn into_arg(self) -> KernelArg;
}

impl KernelArg {
    pub fn pack(x: impl IntoKernelArg) -> KernelArg {
        x.into_arg()
    }
}

impl<T: Element> IntoKernelArg for &Buffer<T> {
    fn into_arg(self) -> KernelArg {
        KernelArg::Buffer(self.address(), (self.len * T::TYPE.bytes() as usize) as u64)
    }
}

impl<T: Element> IntoKernelArg for T {
    fn into_arg(self) -> KernelArg {
        let mut b = Vec::new();
        self.write(&mut b);
        let size = b.len();
        b.resize(8, 0);
        let is_int = T::TYPE.is_int() && !T::TYPE.is_bool();
        KernelArg::Scalar(u64::from_le_bytes(b.try_into().unwrap_or([0; 8])), size, is_int)
    }
}

/// Host memory of a buffer on the CPU backend: 8-byte words (so that f64
/// and i64 accesses are aligned), owned through a raw pointer because
/// kernels write it while `&Buffer`s are shared (no Rust reference to the
/// contents is ever made: every access is a copy through the pointer).
struct HostMemory {
    words: NonNull<u64>,
    len: usize,
}

// SAFETY: `HostMemory` owns its allocation (like a `Box<[u64]>`), so moving
// it to another thread is sound. Shared access (`Sync`): its contents are
// only touched through the raw pointer, by a kernel during a launch or by a
// copy in `Buffer`/`Device`, and every one of those holds `HOST_ACCESS`
// (launches and writes exclusively, reads shared), so no access races with
// a write from another thread.
unsafe impl Send for HostMemory {}
// SAFETY: see `Send` above.
unsafe impl Sync for HostMemory {}

/// Orders every access to host buffers' contents between threads: a launch
/// on the CPU backend and a write into a buffer hold it exclusively, a
/// read shared. (Launches on the CPU backend use every core, so running
/// them one at a time costs little.)
static HOST_ACCESS: RwLock<()> = RwLock::new(());

fn host_read() -> RwLockReadGuard<'static, ()> {
    HOST_ACCESS.read().unwrap_or_else(PoisonError::into_inner)
}

fn host_write() -> RwLockWriteGuard<'static, ()> {
    HOST_ACCESS.write().unwrap_or_else(PoisonError::into_inner)
}

impl HostMemory {
    /// `bytes` bytes (at least one word), filled by `fill`, which must
    /// initialize all of them; the rest of the last word is zeroed.
    fn new(bytes: usize, fill: impl FnOnce(&mut [u8])) -> HostMemory {
        let len = bytes.div_ceil(8).max(1);
        let mut words: Vec<u64> = Vec::with_capacity(len);
        tritonc_runtime::cpu::advise_huge_pages(words.as_mut_ptr() as *mut u8, len * 8);
        // SAFETY: the capacity is `len` words; the last word is zeroed
        // before `fill` writes the first `bytes` bytes, so all `len` words
        // are initialized before `set_len`.
        unsafe {
            words.as_mut_ptr().add(len - 1).write(0);
            fill(std::slice::from_raw_parts_mut(words.as_mut_ptr() as *mut u8, bytes));
            words.set_len(len);
        }
        HostMemory::own(words)
    }

    /// `bytes` zero bytes (at least one word).
    fn zeroed(bytes: usize) -> HostMemory {
        let len = bytes.div_ceil(8).max(1);
        // Zeroed by the system, and touched only when used.
        let words = vec![0u64; len];
        tritonc_runtime::cpu::advise_huge_pages(words.as_ptr() as *mut u8, len * 8);
        HostMemory::own(words)
    }

    fn own(words: Vec<u64>) -> HostMemory {
        let words = words.into_boxed_slice();
        let len = words.len();
        let words = NonNull::new(Box::into_raw(words) as *mut u64).unwrap_or(NonNull::dangling());
        HostMemory { words, len }
    }

    fn address(&self) -> u64 {
        self.words.as_ptr() as u64
    }

    /// The contents' first `n` bytes, for reading.
    ///
    /// # Safety
    /// The caller holds `HOST_ACCESS` (shared or exclusive) while the slice
    /// lives, and `n` is at most `8 * len`.
    unsafe fn bytes(&self, n: usize) -> &[u8] {
        debug_assert!(n <= self.len * 8);
        // SAFETY: upheld by the caller: no kernel or write runs meanwhile;
        // the words are initialized.
        unsafe { std::slice::from_raw_parts(self.words.as_ptr() as *const u8, n) }
    }

    /// The contents' first `n` bytes, for writing.
    ///
    /// # Safety
    /// The caller holds `HOST_ACCESS` exclusively while the slice lives,
    /// and `n` is at most `8 * len`.
    #[allow(clippy::mut_from_ref)]
    unsafe fn bytes_mut(&self, n: usize) -> &mut [u8] {
        debug_assert!(n <= self.len * 8);
        // SAFETY: upheld by the caller: nothing else reads or writes the
        // memory meanwhile.
        unsafe { std::slice::from_raw_parts_mut(self.words.as_ptr() as *mut u8, n) }
    }
}

impl Drop for HostMemory {
    fn drop(&mut self) {
        // SAFETY: made by `Box::into_raw` of a `len`-word slice in `new`,
        // freed once; dropping needs ownership, so no launch uses it.
        drop(unsafe { Box::from_raw(std::ptr::slice_from_raw_parts_mut(self.words.as_ptr(), self.len)) });
    }
}

enum Storage {
    Host(HostMemory),
    #[cfg(feature = "hip")]
    Hip(tritonc_runtime::hip::DeviceBuffer),
}

/// A typed buffer on a device. Kernels write it through `&Buffer` (like
/// GPU memory, it is shared with the device). It is `Send` and `Sync`: on
/// the CPU backend launches, [`Buffer::write_from`] and the reads
/// ([`Buffer::download`], [`Buffer::read_into`]) from different threads
/// take turns (a process-wide lock); on a GPU the copies are HIP's.
pub struct Buffer<T: Element> {
    storage: Storage,
    len: usize,
    _elem: PhantomData<T>,
}

impl<T: Element> std::fmt::Debug for Buffer<T> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "Buffer<{}>[{}]", T::TYPE, self.len)
    }
}

impl<T: Element> Buffer<T> {
    pub fn len(&self) -> usize {
        self.len
    }

    pub fn is_empty(&self) -> bool {
        self.len == 0
    }

    /// The size of the contents in bytes.
    fn bytes(&self) -> usize {
        self.len * T::TYPE.bytes() as usize
    }

    fn address(&self) -> u64 {
        match &self.storage {
            Storage::Host(m) => m.address(),
            #[cfg(feature = "hip")]
            Storage::Hip(b) => b.address(),
        }
    }

    fn check_len(&self, what: &str, other: usize) -> Result<(), Error> {
        if other == self.len {
            return Ok(());
        }
        Err(Error::Usage(format!(
            "{what}: the buffer holds {} elements of {}, the slice {other}",
            self.len,
            T::TYPE
        )))
    }

    /// Copies the buffer back to the host (waiting for launches on the
    /// device's streams, as every copy does): one allocation, one copy.
    pub fn download(&self) -> Result<Vec<T>, Error> {
        let mut out: Vec<T> = Vec::with_capacity(self.len);
        tritonc_runtime::cpu::advise_huge_pages(out.as_mut_ptr() as *mut u8, self.bytes());
        self.read_uninit(&mut out.spare_capacity_mut()[..self.len])?;
        // SAFETY: `read_uninit` succeeded, so it wrote the first `len`
        // elements.
        unsafe { out.set_len(self.len) };
        Ok(out)
    }

    /// Copies the buffer into `out`, which must be exactly as long.
    pub fn read_into(&self, out: &mut [T]) -> Result<(), Error> {
        self.check_len("read_into", out.len())?;
        // SAFETY: `MaybeUninit<T>` has `T`'s layout, and `read_uninit` only
        // writes valid values of `T` into it.
        let out = unsafe { std::slice::from_raw_parts_mut(out.as_mut_ptr() as *mut MaybeUninit<T>, out.len()) };
        self.read_uninit(out)
    }

    /// Copies `data`, exactly as long as the buffer, into it (after the
    /// launches queued on the device's streams; on the CPU backend, not
    /// during another thread's launch).
    pub fn write_from(&self, data: &[T]) -> Result<(), Error> {
        self.check_len("write_from", data.len())?;
        let n = self.bytes();
        match &self.storage {
            Storage::Host(m) => {
                let _guard = host_write();
                // SAFETY: `HOST_ACCESS` is held exclusively; the buffer's
                // memory holds `n` bytes.
                write_bytes(data, unsafe { m.bytes_mut(n) });
            }
            #[cfg(feature = "hip")]
            Storage::Hip(b) => match as_bytes(data) {
                Some(bytes) => b.upload_from(bytes)?,
                None => {
                    let mut staged = vec![0u8; n];
                    write_bytes(data, &mut staged);
                    b.upload_from(&staged)?;
                }
            },
        }
        Ok(())
    }

    /// Writes every element of `out` (as long as the buffer) from the
    /// buffer, or fails.
    fn read_uninit(&self, out: &mut [MaybeUninit<T>]) -> Result<(), Error> {
        debug_assert_eq!(out.len(), self.len);
        let n = self.bytes();
        match &self.storage {
            Storage::Host(m) => {
                let _guard = host_read();
                // SAFETY: `HOST_ACCESS` is held; the buffer's memory holds
                // `n` bytes.
                read_bytes(unsafe { m.bytes(n) }, out);
            }
            #[cfg(feature = "hip")]
            Storage::Hip(b) if is_plain::<T>() => {
                // SAFETY: plain types take any bytes; `out` is `n` bytes
                // (`MaybeUninit<u8>` may be written with anything).
                let bytes = unsafe { std::slice::from_raw_parts_mut(out.as_mut_ptr() as *mut MaybeUninit<u8>, n) };
                b.download_into(bytes)?;
            }
            #[cfg(feature = "hip")]
            Storage::Hip(b) => {
                let mut staged = vec![0u8; n];
                b.download(&mut staged)?;
                read_bytes(&staged, out);
            }
        }
        Ok(())
    }
}

/// What a launch's arguments let the JIT assume, as Triton does: pointers
/// and integers divisible by 16, integers equal to 1. Part of the key.
/// (Bit `i` stands for argument `i`; arguments past the 64th are not
/// specialized.)
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
struct Specialization {
    divisible: u64,
    ones: u64,
    /// Every buffer argument is under 4 GiB.
    small_buffers: bool,
}

impl Specialization {
    fn of(args: &[KernelArg]) -> Specialization {
        let mut s = Specialization {
            divisible: 0,
            ones: 0,
            small_buffers: true,
        };
        for (i, a) in args.iter().enumerate().take(64) {
            match *a {
                KernelArg::Buffer(p, bytes) if p % 16 == 0 => {
                    s.divisible |= 1 << i;
                    s.small_buffers &= bytes < 1 << 32;
                }
                KernelArg::Buffer(_, bytes) => s.small_buffers &= bytes < 1 << 32,
                KernelArg::Scalar(1, _, true) => s.ones |= 1 << i,
                KernelArg::Scalar(v, size, true) if v % 16 == 0 && (size == 8 || v >> (8 * size) == 0) => {
                    s.divisible |= 1 << i
                }
                _ => {}
            }
        }
        s
    }

    fn has(mask: u64, i: usize) -> bool {
        i < 64 && (mask >> i) & 1 == 1
    }

    /// Sets the request's divisibility and assumed values, by parameter name.
    fn apply(&self, req: &mut CompileRequest, source: &KernelSource) -> Result<(), Error> {
        let ast = tritonc_syntax::parse(&req.file)?;
        let k = ast
            .function(source.name)
            .ok_or_else(|| Error::Internal(format!("kernel `{}` not in its own source", source.name)))?;
        let names = k.params.iter().map(|p| p.name.name.clone()).enumerate();
        req.divisible = crate::request::Divisible::Named(
            names
                .clone()
                .filter(|(i, _)| Self::has(self.divisible, *i))
                .map(|(_, n)| n)
                .collect(),
        );
        req.assume = names
            .filter(|(i, _)| Self::has(self.ones, *i))
            .map(|(_, n)| (n, 1))
            .collect();
        Ok(())
    }
}

/// An ordered queue of launches on one device. On an AMD GPU a launch on
/// a stream returns at once and runs asynchronously, in order with the
/// stream's other launches; [`Stream::synchronize`] waits for them, and
/// [`Buffer::download`] waits too (streams are blocking). On the CPU
/// backend launches run at once, so a stream only orders them.
pub struct Stream<'d> {
    device: &'d Device,
    #[cfg(feature = "hip")]
    raw: Option<tritonc_runtime::hip::Stream>,
}

impl std::fmt::Debug for Stream<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "Stream({:?})", self.device)
    }
}

impl Stream<'_> {
    /// The device the stream runs on.
    pub fn device(&self) -> &Device {
        self.device
    }

    /// Waits until every launch on the stream has finished.
    pub fn synchronize(&self) -> Result<(), Error> {
        #[cfg(feature = "hip")]
        if let Some(s) = &self.raw {
            s.synchronize()?;
        }
        Ok(())
    }
}

/// Which compiled kernel a launch needs.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
struct LoadKey {
    source: usize,
    consts: Vec<(String, ConstArg)>,
    spec: Specialization,
    options: LaunchOptions,
}

/// Launch options that override the kernel's own attributes for one
/// launch (each combination is compiled once and cached).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Hash)]
pub struct LaunchOptions {
    /// Waves per program (a power of two from 1 to 16).
    pub num_warps: Option<u32>,
    /// Software-pipelining depth of loops (recorded; not used yet).
    pub num_stages: Option<u32>,
}

/// A kernel compiled for a device, loaded and ready.
struct Loaded {
    compiled: Compiled,
    /// What it was looked up or compiled by ([`Device::export_bundle`]).
    request_key: crate::cache::KeyParts,
    cpu: Option<CpuKernel>,
    #[cfg(feature = "hip")]
    gpu: Option<tritonc_runtime::hip::GpuKernel>,
}

/// Where kernels run. A device is `Send` and `Sync`: several threads may
/// launch on it (on the CPU backend their launches take turns, each using
/// every core).
pub struct Device {
    kind: DeviceKind,
    /// The target kernels are compiled for, as keys name it.
    target_name: String,
    #[cfg(feature = "compiler")]
    target: Box<dyn Target>,
    cache: Cache,
    loaded: Mutex<HashMap<LoadKey, Arc<Loaded>>>,
    /// Where each kernel loaded came from, in load order.
    origins: Mutex<Vec<(String, crate::cache::Lookup)>>,
    /// Autotuning decisions made on this device: record name → config.
    tuned: Mutex<std::collections::BTreeMap<String, String>>,
    threads: usize,
}

enum DeviceKind {
    Cpu,
    #[cfg(feature = "hip")]
    Hip(tritonc_runtime::hip::Device),
}

impl std::fmt::Debug for Device {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "Device({})", self.target_name)
    }
}

impl Device {
    /// The CPU backend: every core of the host.
    pub fn cpu() -> Result<Device, Error> {
        Ok(Device {
            kind: DeviceKind::Cpu,
            target_name: "host".into(),
            #[cfg(feature = "compiler")]
            target: target::lookup("host")?,
            cache: Cache::from_env(),
            loaded: Mutex::new(HashMap::new()),
            tuned: Mutex::default(),
            origins: Mutex::default(),
            threads: tritonc_runtime::cpu::default_threads(),
        })
    }

    /// The CPU backend, with kernels built for `target`: `host` (this
    /// CPU, as [`Device::cpu`]) or a portable level such as
    /// `host:x86-64-v2`, whose kernels run on every CPU of that level: what
    /// to use when making a bundle to ship ([`Device::export_bundle`]).
    pub fn cpu_for(target: &str) -> Result<Device, Error> {
        if target != "host" && !target.starts_with("host:") {
            return Err(Error::Usage(format!(
                "Device::cpu_for: `{target}` is not a host target (`host` or `host:LEVEL`)"
            )));
        }
        Ok(Device {
            kind: DeviceKind::Cpu,
            target_name: target.to_string(),
            #[cfg(feature = "compiler")]
            target: target::lookup(target)?,
            cache: Cache::from_env(),
            loaded: Mutex::new(HashMap::new()),
            tuned: Mutex::default(),
            origins: Mutex::default(),
            threads: tritonc_runtime::cpu::default_threads(),
        })
    }

    /// Every kernel this device has loaded so far (each kernel × const
    /// values × specialization launched), as a bundle: run a program once
    /// with the compiler (its tests, say), write `to_bytes()` to a file,
    /// and a build without the compiler launches the same kernels after
    /// [`crate::bundle::register_bytes`] (`include_bytes!`). Kernels chosen
    /// by [`Device::launch_tuned`] are among them.
    pub fn export_bundle(&self) -> crate::bundle::BundleWriter {
        let mut writer = crate::bundle::BundleWriter::new();
        for l in self.loaded_table().values() {
            writer.add(&l.request_key, &l.compiled);
        }
        for (name, config) in self.tuned.lock().unwrap_or_else(PoisonError::into_inner).iter() {
            writer.add_tuned(name, config);
        }
        writer
    }

    /// Where every kernel this device loaded came from, in load order:
    /// kernel name and [`crate::cache::Lookup`] (a bundle, the cache, or a
    /// miss: compiled in this process). A deployment that must not compile
    /// at run time can assert on it.
    pub fn kernel_origins(&self) -> Vec<(String, crate::cache::Lookup)> {
        self.origins.lock().unwrap_or_else(PoisonError::into_inner).clone()
    }

    /// The first AMD GPU if HIP finds one (its architecture as the device
    /// reports it, or `TRITONC_GPU_ARCH` to override), else the CPU backend.
    // Named as in the design sketch; it can fail, so it is not `Default`.
    #[allow(clippy::should_implement_trait)]
    pub fn default() -> Result<Device, Error> {
        #[cfg(feature = "hip")]
        if let Ok(d) = tritonc_runtime::hip::Device::open(0) {
            let arch = match std::env::var("TRITONC_GPU_ARCH") {
                Ok(a) => a,
                Err(_) => d.arch().ok_or_else(|| {
                    Error::Usage(
                        "cannot read the GPU's architecture from HIP; set TRITONC_GPU_ARCH (e.g. gfx942)".into(),
                    )
                })?,
            };
            return Ok(Device {
                kind: DeviceKind::Hip(d),
                #[cfg(feature = "compiler")]
                target: target::lookup(&arch)?,
                target_name: arch,
                cache: Cache::from_env(),
                loaded: Mutex::new(HashMap::new()),
                tuned: Mutex::default(),
                origins: Mutex::default(),
                threads: 1,
            });
        }
        Device::cpu()
    }

    /// This device with another kernel cache (by default the one the
    /// environment names, see [`Cache::from_env`]).
    pub fn with_cache(mut self, cache: Cache) -> Device {
        self.cache = cache;
        self.loaded.get_mut().unwrap_or_else(PoisonError::into_inner).clear();
        self
    }

    /// The target kernels are compiled for.
    pub fn target(&self) -> &str {
        &self.target_name
    }

    /// A buffer holding a copy of `data` (one copy, at memory speed).
    pub fn upload<T: Element>(&self, data: &[T]) -> Result<Buffer<T>, Error> {
        let n = data.len() * T::TYPE.bytes() as usize;
        let storage = match &self.kind {
            DeviceKind::Cpu => Storage::Host(HostMemory::new(n, |out| write_bytes(data, out))),
            #[cfg(feature = "hip")]
            DeviceKind::Hip(d) => Storage::Hip(match as_bytes(data) {
                Some(bytes) => d.upload(bytes)?,
                None => {
                    let mut staged = vec![0u8; n];
                    write_bytes(data, &mut staged);
                    d.upload(&staged)?
                }
            }),
        };
        Ok(Buffer {
            storage,
            len: data.len(),
            _elem: PhantomData,
        })
    }

    /// A new buffer on this device with `src`'s contents (`src` may live on
    /// another device: the copy goes through the host).
    pub fn copy<T: Element>(&self, src: &Buffer<T>) -> Result<Buffer<T>, Error> {
        self.upload(&src.download()?)
    }

    /// A buffer of `len` zeros (`T::default()`).
    pub fn zeros<T: Element>(&self, len: usize) -> Result<Buffer<T>, Error> {
        let zero_bytes = is_bytes::<T>();
        match &self.kind {
            // The crate's types are 0 as all-zero bytes: memory the system
            // gives zeroed, touched only when used.
            DeviceKind::Cpu if zero_bytes => Ok(Buffer {
                storage: Storage::Host(HostMemory::zeroed(len * T::TYPE.bytes() as usize)),
                len,
                _elem: PhantomData,
            }),
            _ => self.upload(&vec![T::default(); len]),
        }
    }

    /// Launches a kernel (used by the code `#[kernel]` generates).
    pub fn launch(
        &self,
        source: &'static KernelSource,
        consts: &[(&str, ConstArg)],
        grid: Grid,
        args: Vec<KernelArg>,
    ) -> Result<(), Error> {
        self.launch_with(source, consts, grid, args, LaunchOptions::default())
    }

    /// [`Device::launch`] with launch options overriding the kernel's.
    pub fn launch_with(
        &self,
        source: &'static KernelSource,
        consts: &[(&str, ConstArg)],
        grid: Grid,
        args: Vec<KernelArg>,
        options: LaunchOptions,
    ) -> Result<(), Error> {
        self.launch_on(None, source, consts, grid, args, options)
    }

    /// A stream of launches on this device (see [`Stream`]).
    pub fn stream(&self) -> Result<Stream<'_>, Error> {
        Ok(Stream {
            device: self,
            #[cfg(feature = "hip")]
            raw: match &self.kind {
                DeviceKind::Cpu => None,
                DeviceKind::Hip(d) => Some(tritonc_runtime::hip::Stream::new(d)?),
            },
        })
    }

    /// Launches on `stream` (or, with none, synchronously).
    pub fn launch_on(
        &self,
        stream: Option<&Stream>,
        source: &'static KernelSource,
        consts: &[(&str, ConstArg)],
        grid: Grid,
        args: Vec<KernelArg>,
        options: LaunchOptions,
    ) -> Result<(), Error> {
        if let Some(s) = stream {
            if !std::ptr::eq(s.device, self) {
                return Err(Error::Usage("a stream can only run launches on its own device".into()));
            }
        }
        grid.validate().map_err(Error::from)?;
        let spec = Specialization::of(&args);
        let loaded = self.load(source, consts, &spec, options)?;
        let c = &loaded.compiled;
        if args.len() != c.params.len() {
            return Err(Error::Usage(format!(
                "`{}` takes {} arguments",
                c.kernel,
                c.params.len()
            )));
        }
        match &self.kind {
            DeviceKind::Cpu => {
                let slots: Vec<u64> = args
                    .iter()
                    .map(|a| match a {
                        KernelArg::Buffer(p, _) => *p,
                        KernelArg::Scalar(v, _, _) => *v,
                    })
                    .collect();
                let kernel = loaded
                    .cpu
                    .as_ref()
                    .ok_or_else(|| Error::Internal("kernel not loaded".into()))?;
                // Host buffers are not read or written by other threads
                // during the launch.
                let _guard = host_write();
                // SAFETY: buffers are borrowed by the caller for the launch;
                // their sizes are the kernel's responsibility (documented).
                unsafe { run_cpu_slots(c, kernel, grid, &slots, self.threads) }
            }
            #[cfg(feature = "hip")]
            DeviceKind::Hip(_) => {
                let packed: Vec<Vec<u8>> = args
                    .iter()
                    .map(|a| match a {
                        KernelArg::Buffer(p, _) => p.to_le_bytes().to_vec(),
                        KernelArg::Scalar(v, size, _) => v.to_le_bytes()[..*size].to_vec(),
                    })
                    .collect();
                let kernel = loaded
                    .gpu
                    .as_ref()
                    .ok_or_else(|| Error::Internal("kernel not loaded".into()))?;
                let raw = stream.and_then(|s| s.raw.as_ref());
                // SAFETY: as above, with device addresses.
                unsafe { kernel.launch_on(raw, grid, c.lanes, &packed) }.map_err(Error::from)
            }
        }
    }

    /// Launches through an autotuner: with the config tuned for the key of
    /// these arguments, tuning first if the key is new (see
    /// [`crate::autotune`]). `grid` gives the grid for a config.
    pub fn launch_tuned(
        &self,
        source: &'static KernelSource,
        tuner: &Autotuner,
        grid: &dyn Fn(&Config) -> Grid,
        args: Vec<KernelArg>,
    ) -> Result<(), Error> {
        let configs = tuner.configs();
        if configs.is_empty() {
            return Err(Error::Usage(format!(
                "the autotuner of `{}` has no configs",
                source.name
            )));
        }
        let id = source as *const KernelSource as usize;
        let key = tuner.key_of(&args);
        let run = |i: usize, args: Vec<KernelArg>| -> Result<(), Error> {
            let c = &configs[i];
            let consts: Vec<(&str, ConstArg)> = c.consts().iter().map(|(n, v)| (n.as_str(), *v)).collect();
            self.launch_with(source, &consts, grid(c), args, c.options)
        };
        if let Some(i) = tuner.remembered(id, &key) {
            return run(i, args);
        }
        let record_name = tuner.record_name(source.text, source.name, &self.target_name, &key);
        let note = |i: usize| {
            tuner.remember(id, &key, i);
            self.tuned
                .lock()
                .unwrap_or_else(PoisonError::into_inner)
                .insert(record_name.clone(), configs[i].to_string());
        };
        // A winner baked into a registered bundle, found as kernels are.
        let targets = if crate::bundle::any_registered() {
            crate::request::bundle_targets(&self.target_name)
        } else {
            Vec::new()
        };
        let baked = targets.into_iter().find_map(|t| {
            let name = tuner.record_name(source.text, source.name, t, &key);
            crate::bundle::tuned(&name).and_then(|c| configs.iter().position(|k| k.to_string() == c))
        });
        if let Some(i) = baked {
            note(i);
            tuner.log(|| format!("`{}` key {key:?}: {} (from a bundle)", source.name, configs[i]));
            return run(i, args);
        }
        let record = self.cache.dir().map(|d| d.join(&record_name));
        if let Some(i) = record.as_deref().and_then(|p| read_record(p, configs)) {
            note(i);
            tuner.log(|| format!("`{}` key {key:?}: {} (remembered on disk)", source.name, configs[i]));
            return run(i, args);
        }
        // Every trial's side effects are undone: buffers are restored.
        let saved = self.save_buffers(&args)?;
        let mut times = Vec::with_capacity(configs.len());
        let mut first_error = None;
        for (i, c) in configs.iter().enumerate() {
            let mut best: Option<Duration> = None;
            let mut failed = false;
            // The first run compiles and warms up; the others are timed.
            for rep in 0..=tuner.reps_per_config() {
                let started = Instant::now();
                let result = run(i, args.clone());
                let took = started.elapsed();
                self.restore_buffers(&saved)?;
                match result {
                    Err(e) => {
                        tuner.log(|| format!("`{}` {c}: failed: {e}", source.name));
                        first_error.get_or_insert(e);
                        failed = true;
                        break;
                    }
                    Ok(()) if rep > 0 => best = Some(best.map_or(took, |b| b.min(took))),
                    Ok(()) => {}
                }
            }
            if let (false, Some(t)) = (failed, best) {
                tuner.log(|| format!("`{}` key {key:?}: {c}: {:.3} ms", source.name, t.as_secs_f64() * 1e3));
            }
            times.push(if failed { None } else { best });
        }
        let Some(win) = fastest(&times) else {
            return Err(first_error.unwrap_or_else(|| Error::Internal("no config ran".into())));
        };
        note(win);
        if let Some(p) = &record {
            write_record(p, win, &configs[win]);
        }
        tuner.log(|| format!("`{}` key {key:?}: chose {}", source.name, configs[win]));
        run(win, args)
    }

    /// Copies of every buffer argument's contents.
    fn save_buffers(&self, args: &[KernelArg]) -> Result<Vec<(u64, Vec<u8>)>, Error> {
        let mut saved = Vec::new();
        for a in args {
            let KernelArg::Buffer(addr, bytes) = *a else { continue };
            let mut copy = vec![0u8; bytes as usize];
            match &self.kind {
                // SAFETY: the launcher borrows every buffer for the whole
                // launch; `bytes` is its size; no other thread writes host
                // buffers while `HOST_ACCESS` is held.
                DeviceKind::Cpu => unsafe {
                    let _guard = host_read();
                    std::ptr::copy_nonoverlapping(addr as *const u8, copy.as_mut_ptr(), copy.len())
                },
                #[cfg(feature = "hip")]
                // SAFETY: as above, in device memory.
                DeviceKind::Hip(_) => unsafe { tritonc_runtime::hip::read_device(addr, &mut copy)? },
            }
            saved.push((addr, copy));
        }
        Ok(saved)
    }

    fn restore_buffers(&self, saved: &[(u64, Vec<u8>)]) -> Result<(), Error> {
        for (addr, copy) in saved {
            match &self.kind {
                // SAFETY: as in `save_buffers`; no other thread reads or
                // writes host buffers while `HOST_ACCESS` is held exclusively.
                DeviceKind::Cpu => unsafe {
                    let _guard = host_write();
                    std::ptr::copy_nonoverlapping(copy.as_ptr(), *addr as *mut u8, copy.len())
                },
                #[cfg(feature = "hip")]
                // SAFETY: as in `save_buffers`.
                DeviceKind::Hip(_) => unsafe { tritonc_runtime::hip::write_device(*addr, copy)? },
            }
        }
        Ok(())
    }

    /// The kernel compiled for this device with these consts: from this
    /// device's table, else the cache, else the compiler.
    fn load(
        &self,
        source: &'static KernelSource,
        consts: &[(&str, ConstArg)],
        spec: &Specialization,
        options: LaunchOptions,
    ) -> Result<Arc<Loaded>, Error> {
        let key = LoadKey {
            source: source as *const KernelSource as usize,
            consts: consts.iter().map(|(k, v)| (k.to_string(), *v)).collect(),
            spec: *spec,
            options,
        };
        if let Some(l) = self.loaded_table().get(&key) {
            return Ok(l.clone());
        }
        let mut req = CompileRequest::new(SourceFile::new(source.file, source.text));
        req.kernel = Some(source.name.to_string());
        req.consts = consts.iter().map(|(k, v)| (k.to_string(), *v)).collect();
        req.num_warps = options.num_warps;
        req.num_stages = options.num_stages;
        spec.apply(&mut req, source).map_err(|e| source.locate(e))?;
        // Errors that depend on the const values are found here: shown at
        // the user's line rather than in the kernel text.
        #[cfg(feature = "compiler")]
        let (compiled, how) = crate::driver::compile_cached(&req, self.target.as_ref(), &self.cache, &mut Vec::new())
            .map_err(|e| source.locate(e))?;
        #[cfg(not(feature = "compiler"))]
        let (compiled, how) = {
            let (c, how) = crate::precompiled::require(
                &req,
                &self.target_name,
                &self.cache,
                "this program is built without tritonc's `compiler` feature, so kernels come only from \
                 registered bundles and the cache",
            )?;
            ((*c).clone(), how)
        };
        self.origins
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .push((source.name.to_string(), how));
        let request_key = req.request_key(&self.target_name);
        let loaded = match &self.kind {
            DeviceKind::Cpu => Loaded {
                request_key,
                cpu: Some(load_cpu(&compiled)?),
                #[cfg(feature = "hip")]
                gpu: None,
                compiled,
            },
            #[cfg(feature = "hip")]
            DeviceKind::Hip(d) => Loaded {
                request_key,
                gpu: Some(d.load(&compiled.binary, &compiled.kernel)?),
                cpu: None,
                compiled,
            },
        };
        // Another thread may have loaded it meanwhile: the first one stays.
        Ok(self
            .loaded_table()
            .entry(key)
            .or_insert_with(|| Arc::new(loaded))
            .clone())
    }

    /// The kernels loaded so far (the lock is not held while compiling).
    fn loaded_table(&self) -> std::sync::MutexGuard<'_, HashMap<LoadKey, Arc<Loaded>>> {
        self.loaded.lock().unwrap_or_else(PoisonError::into_inner)
    }
}
