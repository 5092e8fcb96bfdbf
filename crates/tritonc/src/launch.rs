//! Running a compiled kernel: binding arguments, launching on the CPU
//! backend or through HIP, reporting `device_assert` failures.

use crate::{request::Compiled, Error};
use tritonc_ir::{Elem, Module, ScalarType, Type};
use tritonc_runtime::{cpu::CpuKernel, Grid, RuntimeError};
use tritonc_syntax::SourceFile;

/// Host memory with 8-byte alignment (so that f64 and i64 accesses are aligned).
#[derive(Debug, Clone, PartialEq)]
pub struct HostBuffer {
    words: Vec<u64>,
    len: usize,
}

impl HostBuffer {
    pub fn from_bytes(bytes: &[u8]) -> HostBuffer {
        let mut words = vec![0u64; bytes.len().div_ceil(8).max(1)];
        for (i, chunk) in bytes.chunks(8).enumerate() {
            let mut w = [0u8; 8];
            w[..chunk.len()].copy_from_slice(chunk);
            words[i] = u64::from_le_bytes(w);
        }
        HostBuffer {
            words,
            len: bytes.len(),
        }
    }

    pub fn bytes(&self) -> Vec<u8> {
        self.words.iter().flat_map(|w| w.to_le_bytes()).take(self.len).collect()
    }

    pub fn len(&self) -> usize {
        self.len
    }

    pub fn is_empty(&self) -> bool {
        self.len == 0
    }

    fn address(&mut self) -> u64 {
        self.words.as_mut_ptr() as u64
    }
}

/// A value bound to one kernel parameter.
#[derive(Debug, Clone, PartialEq)]
pub enum Arg {
    Buffer(HostBuffer),
    /// A scalar's bits, zero-extended (floats as their IEEE bits).
    Scalar(u64),
}

/// Parses a scalar argument's text for parameter type `t`.
pub fn parse_scalar(name: &str, text: &str, t: &Type) -> Result<u64, Error> {
    let Elem::Scalar(s) = t.elem else {
        return Err(Error::Usage(format!(
            "`{name}` is a pointer; bind it to a buffer with {name}=@file.npy"
        )));
    };
    // The language's names (`bool`, not `i1`), and what the text should be.
    let ty = if s.is_bool() { "bool" } else { s.name() };
    let want = if s.is_bool() {
        "`true`, `false`, 1 or 0"
    } else if s.is_float() {
        "a number"
    } else if s.is_unsigned() {
        "a non-negative integer"
    } else {
        "an integer"
    };
    let bad = || Error::Usage(format!("`{name}` is {ty}, but `{text}` is not {want}"));
    let out_of_range = |lo: i128, hi: i128| {
        Error::Usage(format!(
            "`{name}` is {ty}, and {text} is out of its range ({lo} to {hi})"
        ))
    };
    Ok(match s {
        ScalarType::I1 => match text {
            "true" | "1" => 1,
            "false" | "0" => 0,
            _ => return Err(bad()),
        },
        ScalarType::F32 => u64::from(text.parse::<f32>().map_err(|_| bad())?.to_bits()),
        ScalarType::F64 => text.parse::<f64>().map_err(|_| bad())?.to_bits(),
        ScalarType::F16 => u64::from(tritonc_ir::fold_util::f32_to_f16_bits(
            text.parse::<f32>().map_err(|_| bad())?,
        )),
        ScalarType::BF16 => u64::from(tritonc_ir::fold_util::f32_to_bf16_bits(
            text.parse::<f32>().map_err(|_| bad())?,
        )),
        s if s.is_unsigned() => {
            let v = text.parse::<u64>().map_err(|_| bad())?;
            if s.bits() < 64 && v >> s.bits() != 0 {
                return Err(out_of_range(0, (1i128 << s.bits()) - 1));
            }
            v
        }
        s => {
            let v = text.parse::<i64>().map_err(|_| bad())?;
            let (lo, hi) = (-(1i128 << (s.bits() - 1)), (1i128 << (s.bits() - 1)) - 1);
            if i128::from(v) < lo || i128::from(v) > hi {
                return Err(out_of_range(lo, hi));
            }
            // Sign bits above the type's width are harmless: only the low
            // bytes are read.
            v as u64
        }
    })
}

/// Runs `compiled` (built for the host, or for a lane simulator) on the
/// CPU. Buffers are updated in place.
pub fn run_cpu(compiled: &Compiled, grid: Grid, args: &mut [Arg], threads: usize) -> Result<(), Error> {
    check_arity(compiled, args)?;
    let kernel = load_cpu(compiled)?;
    let slots: Vec<u64> = args
        .iter_mut()
        .map(|a| match a {
            Arg::Buffer(b) => b.address(),
            Arg::Scalar(v) => *v,
        })
        .collect();
    // SAFETY: buffers live in `args` for the whole launch. Their sizes
    // cannot be checked against the kernel's indexing in general; this is
    // documented for `tritonc run`.
    unsafe { run_cpu_slots(compiled, &kernel, grid, &slots, threads) }
}

/// Loads a host (or lane-simulator) kernel.
pub fn load_cpu(compiled: &Compiled) -> Result<CpuKernel, Error> {
    let symbol = format!("{}{}", tritonc_ir::HOST_SYMBOL_PREFIX, compiled.kernel);
    Ok(CpuKernel::load(&compiled.binary, &symbol)?)
}

/// Runs a loaded host kernel on packed argument slots and reports a failed
/// `device_assert`.
///
/// # Safety
/// Pointer slots must address memory valid for every access the kernel makes.
pub unsafe fn run_cpu_slots(
    compiled: &Compiled,
    kernel: &CpuKernel,
    grid: Grid,
    slots: &[u64],
    threads: usize,
) -> Result<(), Error> {
    let threads = tritonc_runtime::cpu::default_threads().min(threads.max(1));
    // SAFETY: upheld by the caller.
    let status = unsafe { kernel.launch(grid, slots, threads, compiled.lanes, compiled.shared_bytes)? };
    if let Some((id, program)) = status {
        let message = compiled
            .assert_messages
            .get(id.saturating_sub(1) as usize)
            .cloned()
            .unwrap_or_else(|| "device_assert failed".into());
        return Err(RuntimeError::Assert { program, message }.into());
    }
    Ok(())
}

fn check_arity(compiled: &Compiled, args: &[Arg]) -> Result<(), Error> {
    check_args(&compiled.kernel, &compiled.params, args)
}

fn check_args(kernel: &str, params: &[(String, Type)], args: &[Arg]) -> Result<(), Error> {
    if args.len() != params.len() {
        return Err(Error::Usage(format!(
            "`{kernel}` takes {} arguments, {} given",
            params.len(),
            args.len()
        )));
    }
    for ((name, t), a) in params.iter().zip(args) {
        match (&t.elem, a) {
            (Elem::Ptr(_), Arg::Buffer(_)) | (Elem::Scalar(_), Arg::Scalar(_)) => {}
            (Elem::Ptr(_), _) => return Err(Error::Usage(format!("`{name}` is a pointer and needs a buffer"))),
            (Elem::Scalar(_), _) => return Err(Error::Usage(format!("`{name}` is a scalar and needs a value"))),
        }
    }
    Ok(())
}

/// Runs `kernel` of `module` (tile IR, from [`crate::driver::tile_ir`] or
/// after passes) in the reference interpreter, every memory access checked
/// against the buffer it was meant for. Buffers are updated in place. A
/// failure in the kernel (an access out of bounds, a failed
/// `device_assert`) is reported at its place in `file`.
pub fn run_interp(file: &SourceFile, module: &Module, kernel: &str, grid: Grid, args: &mut [Arg]) -> Result<(), Error> {
    use tritonc_interp::{ArgValue, InterpError, Memory};
    let f = module
        .function(kernel)
        .ok_or_else(|| Error::Internal(format!("no kernel `{kernel}` in the module")))?;
    let params: Vec<(String, Type)> = f
        .param_names
        .iter()
        .cloned()
        .zip(f.params().iter().map(|v| f.ty(*v).clone()))
        .collect();
    check_args(kernel, &params, args)?;
    let mut memory = Memory::new();
    let bound: Vec<ArgValue> = params
        .iter()
        .zip(args.iter())
        .map(|((name, _), a)| match a {
            Arg::Buffer(b) => ArgValue::Buffer(memory.add(name.clone(), b.bytes())),
            Arg::Scalar(v) => ArgValue::Scalar(*v),
        })
        .collect();
    tritonc_interp::run_kernel(module, kernel, grid.0, &bound, &mut memory).map_err(|e| match e {
        InterpError::Invalid { .. } => Error::Internal(e.to_string()),
        located => {
            let loc = located.loc();
            Error::Diagnostics(tritonc_syntax::Diagnostics {
                file: file.clone(),
                items: vec![tritonc_syntax::Diagnostic::new(
                    tritonc_syntax::Span::new(loc.start as usize, loc.end as usize),
                    located.to_string(),
                )],
            })
        }
    })?;
    let mut contents = memory.into_buffers().into_iter();
    for a in args.iter_mut() {
        if let Arg::Buffer(b) = a {
            *b = HostBuffer::from_bytes(&contents.next().unwrap_or_default());
        }
    }
    Ok(())
}

/// Runs `compiled` (built for an AMD GPU) through HIP.
#[cfg(feature = "hip")]
pub fn run_hip(compiled: &Compiled, grid: Grid, lanes: u32, args: &mut [Arg]) -> Result<(), Error> {
    use tritonc_runtime::hip::Device;
    check_arity(compiled, args)?;
    let dev = Device::open(0)?;
    let kernel = dev.load(&compiled.binary, &compiled.kernel)?;
    let mut device_buffers = Vec::new();
    let mut packed = Vec::new();
    for ((_, t), a) in compiled.params.iter().zip(args.iter()) {
        match a {
            Arg::Buffer(b) => {
                let d = dev.upload(&b.bytes())?;
                packed.push(d.address().to_le_bytes().to_vec());
                device_buffers.push(Some(d));
            }
            Arg::Scalar(v) => {
                let size = t.scalar_elem().map_or(8, |s| s.bytes() as usize);
                packed.push(v.to_le_bytes()[..size].to_vec());
                device_buffers.push(None);
            }
        }
    }
    // SAFETY: device buffers are as large as the host buffers bound; the
    // kernel's indexing is the user's responsibility (documented).
    unsafe { kernel.launch(grid, lanes, &packed)? };
    for (a, d) in args.iter_mut().zip(&device_buffers) {
        if let (Arg::Buffer(b), Some(d)) = (a, d) {
            let mut bytes = vec![0u8; b.len()];
            d.download(&mut bytes)?;
            *b = HostBuffer::from_bytes(&bytes);
        }
    }
    Ok(())
}

/// Runs `compiled` (an AMDGPU code object) in the machine-code emulator
/// (`tritonc-emu`): the code object itself, as an AMD GPU would run it,
/// programs of `compiled.lanes` work-items. Buffers are updated in place;
/// the emulator's counts are returned.
#[cfg(feature = "compiler")]
pub fn run_emu(compiled: &Compiled, grid: Grid, args: &mut [Arg]) -> Result<tritonc_emu::Stats, Error> {
    use tritonc_emu::{Arg as EmuArg, Emulator, Launch, Memory};
    check_arity(compiled, args)?;
    let emu = Emulator::new(&compiled.binary, &compiled.kernel)?;
    let mut mem = Memory::new();
    let mut packed = Vec::new();
    let mut addresses = Vec::new();
    for ((_, t), a) in compiled.params.iter().zip(args.iter()) {
        match a {
            Arg::Buffer(b) => {
                let addr = mem.alloc(&b.bytes());
                packed.push(EmuArg::Ptr(addr));
                addresses.push(Some(addr));
            }
            Arg::Scalar(v) => {
                let size = t.scalar_elem().map_or(8, |s| s.bytes() as usize);
                packed.push(EmuArg::Bytes(v.to_le_bytes()[..size].to_vec()));
                addresses.push(None);
            }
        }
    }
    let launch = Launch {
        grid: grid.0,
        block: [compiled.lanes, 1, 1],
        dynamic_lds: 0,
    };
    let stats = emu.run(&mut mem, &packed, &launch)?;
    for (a, addr) in args.iter_mut().zip(&addresses) {
        if let (Arg::Buffer(b), Some(addr)) = (a, addr) {
            let bytes = mem
                .buffer(*addr)
                .ok_or_else(|| Error::Internal("an emulator buffer vanished".into()))?;
            *b = HostBuffer::from_bytes(&bytes[..b.len()]);
        }
    }
    Ok(stats)
}

/// Without the `hip` feature there is no GPU runtime at all.
#[cfg(not(feature = "hip"))]
pub fn run_hip(_: &Compiled, _: Grid, _: u32, _: &mut [Arg]) -> Result<(), Error> {
    Err(RuntimeError::NoDevice("this tritonc was built without the `hip` feature; use `--backend cpu`".into()).into())
}

/// Fails with the "no device" error when HIP has no AMD GPU to offer.
#[cfg(feature = "hip")]
pub fn hip_device_check() -> Result<(), Error> {
    tritonc_runtime::hip::Device::open(0)?;
    Ok(())
}

/// The architecture of the first AMD GPU, as HIP reports it.
#[cfg(feature = "hip")]
pub fn hip_device_arch() -> Result<String, Error> {
    tritonc_runtime::hip::Device::open(0)?
        .arch()
        .ok_or_else(|| Error::Usage("cannot read the GPU's architecture from HIP; pass --target gfxNNN".into()))
}

/// Without the `hip` feature there is no GPU.
#[cfg(not(feature = "hip"))]
pub fn hip_device_arch() -> Result<String, Error> {
    Err(RuntimeError::NoDevice("this tritonc was built without the `hip` feature; use `--backend cpu`".into()).into())
}

/// Without the `hip` feature there is never a device.
#[cfg(not(feature = "hip"))]
pub fn hip_device_check() -> Result<(), Error> {
    Err(RuntimeError::NoDevice("this tritonc was built without the `hip` feature; use `--backend cpu`".into()).into())
}

/// Little-endian bytes of `v` converted to `s` (ints truncate toward zero).
pub fn encode_scalar(v: f64, s: ScalarType) -> Vec<u8> {
    use tritonc_ir::fold_util::{f32_to_bf16_bits, f32_to_f16_bits};
    match s {
        ScalarType::I1 => vec![u8::from(v != 0.0)],
        ScalarType::I8 => (v as i8).to_le_bytes().to_vec(),
        ScalarType::I16 => (v as i16).to_le_bytes().to_vec(),
        ScalarType::I32 => (v as i32).to_le_bytes().to_vec(),
        ScalarType::I64 => (v as i64).to_le_bytes().to_vec(),
        ScalarType::U8 => (v as u8).to_le_bytes().to_vec(),
        ScalarType::U16 => (v as u16).to_le_bytes().to_vec(),
        ScalarType::U32 => (v as u32).to_le_bytes().to_vec(),
        ScalarType::U64 => (v as u64).to_le_bytes().to_vec(),
        ScalarType::F16 => f32_to_f16_bits(v as f32).to_le_bytes().to_vec(),
        ScalarType::BF16 => f32_to_bf16_bits(v as f32).to_le_bytes().to_vec(),
        ScalarType::F32 => (v as f32).to_le_bytes().to_vec(),
        ScalarType::F64 => v.to_le_bytes().to_vec(),
    }
}

/// Formats the element of type `s` at the start of `b`.
pub fn decode_scalar(b: &[u8], s: ScalarType) -> String {
    use tritonc_ir::fold_util::{bf16_bits_to_f32, f16_bits_to_f32};
    let mut w = [0u8; 8];
    let n = (s.bytes() as usize).min(b.len());
    w[..n].copy_from_slice(&b[..n]);
    let u = u64::from_le_bytes(w);
    match s {
        ScalarType::I1 => (u != 0).to_string(),
        ScalarType::I8 => (u as u8 as i8).to_string(),
        ScalarType::I16 => (u as u16 as i16).to_string(),
        ScalarType::I32 => (u as u32 as i32).to_string(),
        ScalarType::I64 => (u as i64).to_string(),
        ScalarType::U8 | ScalarType::U16 | ScalarType::U32 | ScalarType::U64 => u.to_string(),
        ScalarType::F16 => f16_bits_to_f32(u as u16).to_string(),
        ScalarType::BF16 => bf16_bits_to_f32(u as u16).to_string(),
        ScalarType::F32 => f32::from_bits(u as u32).to_string(),
        ScalarType::F64 => f64::from_bits(u).to_string(),
    }
}
