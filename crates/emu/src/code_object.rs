//! Reading an AMDGPU code object: the kernel's machine code, its kernel
//! descriptor (`SYMBOL.kd`, 64 bytes) and the metadata note
//! (`NT_AMDGPU_METADATA`, msgpack), as LLVM's AMDGPUUsage documents them.

use object::{Object, ObjectSection, ObjectSymbol};

use crate::EmuError;

/// The targets the emulator knows.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Arch {
    Gfx90a,
    Gfx942,
    Gfx1100,
}

impl Arch {
    pub fn name(self) -> &'static str {
        match self {
            Arch::Gfx90a => "gfx90a",
            Arch::Gfx942 => "gfx942",
            Arch::Gfx1100 => "gfx1100",
        }
    }

    pub fn from_name(name: &str) -> Option<Arch> {
        match name {
            "gfx90a" => Some(Arch::Gfx90a),
            "gfx942" => Some(Arch::Gfx942),
            "gfx1100" => Some(Arch::Gfx1100),
            _ => None,
        }
    }

    /// GFX10 and later (DPP controls, VOP3 encodings, no `row_bcast`).
    pub fn is_gfx10_plus(self) -> bool {
        matches!(self, Arch::Gfx1100)
    }
}

/// The 64-byte kernel descriptor (AMDGPUUsage, "Kernel Descriptor").
#[derive(Clone, Debug, Default)]
pub struct KernelDescriptor {
    pub group_segment_fixed_size: u32,
    pub private_segment_fixed_size: u32,
    pub kernarg_size: u32,
    /// Relative to the descriptor's own address.
    pub kernel_code_entry_byte_offset: i64,
    pub compute_pgm_rsrc3: u32,
    pub compute_pgm_rsrc1: u32,
    pub compute_pgm_rsrc2: u32,
    pub kernel_code_properties: u16,
    pub kernarg_preload: u16,
}

impl KernelDescriptor {
    pub fn parse(b: &[u8]) -> Result<KernelDescriptor, EmuError> {
        if b.len() < 64 {
            return Err(EmuError::CodeObject(format!(
                "kernel descriptor is {} bytes, not 64",
                b.len()
            )));
        }
        let u32_at = |o: usize| u32::from_le_bytes(b[o..o + 4].try_into().unwrap());
        let u16_at = |o: usize| u16::from_le_bytes(b[o..o + 2].try_into().unwrap());
        Ok(KernelDescriptor {
            group_segment_fixed_size: u32_at(0),
            private_segment_fixed_size: u32_at(4),
            kernarg_size: u32_at(8),
            kernel_code_entry_byte_offset: i64::from_le_bytes(b[16..24].try_into().unwrap()),
            compute_pgm_rsrc3: u32_at(44),
            compute_pgm_rsrc1: u32_at(48),
            compute_pgm_rsrc2: u32_at(52),
            kernel_code_properties: u16_at(56),
            kernarg_preload: u16_at(58),
        })
    }

    /// `kernel_code_properties` bit `bit` (0 private segment buffer, 1
    /// dispatch ptr, 2 queue ptr, 3 kernarg segment ptr, 4 dispatch id, 5
    /// flat scratch init, 6 private segment size, 10 wavefront size 32).
    pub fn property(&self, bit: u32) -> bool {
        self.kernel_code_properties & (1 << bit) != 0
    }

    pub fn user_sgpr_count(&self) -> u32 {
        (self.compute_pgm_rsrc2 >> 1) & 0x1f
    }

    /// rsrc2 ENABLE_SGPR_WORKGROUP_ID_X/Y/Z.
    pub fn workgroup_id_enabled(&self, dim: u32) -> bool {
        self.compute_pgm_rsrc2 & (1 << (7 + dim)) != 0
    }

    pub fn workgroup_info_enabled(&self) -> bool {
        self.compute_pgm_rsrc2 & (1 << 10) != 0
    }

    /// rsrc2 ENABLE_PRIVATE_SEGMENT (the scratch wave offset SGPR).
    pub fn private_segment_enabled(&self) -> bool {
        self.compute_pgm_rsrc2 & 1 != 0
    }

    /// rsrc1 FLOAT_DENORM_MODE_32 (3: denormals kept on input and output).
    pub fn float_denorm_mode_32(&self) -> u32 {
        (self.compute_pgm_rsrc1 >> 16) & 3
    }

    /// KERNARG_PRELOAD_SPEC_LENGTH, in dwords.
    pub fn kernarg_preload_dwords(&self) -> u32 {
        u32::from(self.kernarg_preload & 0x7f)
    }
}

/// One kernel argument of the metadata's `.args`.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct ArgMeta {
    pub offset: u32,
    pub size: u32,
    pub value_kind: String,
    pub name: Option<String>,
}

/// The metadata of one kernel (`amdhsa.kernels[i]`).
#[derive(Clone, Debug, Default)]
pub struct KernelMeta {
    pub name: String,
    pub symbol: String,
    pub args: Vec<ArgMeta>,
    pub wavefront_size: u32,
    pub group_segment_fixed_size: u32,
    pub private_segment_fixed_size: u32,
    pub kernarg_segment_size: u32,
    pub vgpr_count: u32,
    pub agpr_count: u32,
    pub sgpr_count: u32,
}

/// A kernel of a code object: its machine code and what describes it.
#[derive(Clone, Debug)]
pub struct Kernel {
    pub arch: Arch,
    pub name: String,
    pub descriptor: KernelDescriptor,
    pub meta: KernelMeta,
    /// The address (in the ELF) of the first instruction.
    pub entry: u64,
    /// The kernel's machine code, from `entry` to the end of its symbol.
    pub code: Vec<u8>,
}

impl Kernel {
    pub fn wave_size(&self) -> u32 {
        match self.meta.wavefront_size {
            32 => 32,
            64 => 64,
            _ if self.arch.is_gfx10_plus() && self.descriptor.property(10) => 32,
            _ => 64,
        }
    }
}

/// Every kernel of a code object, by symbol name.
pub fn load(bytes: &[u8]) -> Result<Vec<Kernel>, EmuError> {
    let err = |m: String| EmuError::CodeObject(m);
    let file = object::File::parse(bytes).map_err(|e| err(format!("not an ELF file: {e}")))?;
    let flags = match file.flags() {
        object::FileFlags::Elf { e_flags, .. } => e_flags,
        _ => return Err(err("not an ELF file".into())),
    };
    // EF_AMDGPU_MACH (the low byte of e_flags).
    let arch = match flags & 0xff {
        0x3f => Arch::Gfx90a,
        0x4c => Arch::Gfx942,
        0x41 => Arch::Gfx1100,
        m => {
            return Err(err(format!(
                "unsupported EF_AMDGPU_MACH {m:#x} (gfx90a, gfx942 and gfx1100 are modeled)"
            )))
        }
    };
    let metas = read_metadata(&file)?;
    let mut kernels = Vec::new();
    for meta in metas {
        let symbol_bytes = |name: &str| -> Result<(u64, Vec<u8>), EmuError> {
            let sym = file
                .symbols()
                .find(|s| s.name() == Ok(name))
                .ok_or_else(|| err(format!("no symbol `{name}`")))?;
            let (addr, size) = (sym.address(), sym.size());
            for section in file.sections() {
                if let Ok(Some(data)) = section.data_range(addr, size) {
                    return Ok((addr, data.to_vec()));
                }
            }
            Err(err(format!("symbol `{name}` lies in no section")))
        };
        let (kd_addr, kd_bytes) = symbol_bytes(&meta.symbol)?;
        let descriptor = KernelDescriptor::parse(&kd_bytes)?;
        let entry = kd_addr.wrapping_add(descriptor.kernel_code_entry_byte_offset as u64);
        let (code_addr, code) = symbol_bytes(&meta.name)?;
        if code_addr != entry {
            return Err(err(format!(
                "kernel `{}`: descriptor entry {entry:#x} is not the symbol's address {code_addr:#x}",
                meta.name
            )));
        }
        kernels.push(Kernel {
            arch,
            name: meta.name.clone(),
            descriptor,
            meta,
            entry,
            code,
        });
    }
    Ok(kernels)
}

fn read_metadata(file: &object::File) -> Result<Vec<KernelMeta>, EmuError> {
    let err = |m: String| EmuError::CodeObject(m);
    for section in file.sections() {
        if section.kind() != object::SectionKind::Note {
            continue;
        }
        let data = section.data().map_err(|e| err(format!("note section: {e}")))?;
        let mut at = 0usize;
        while at + 12 <= data.len() {
            let word = |o: usize| u32::from_le_bytes(data[o..o + 4].try_into().unwrap()) as usize;
            let (namesz, descsz, kind) = (word(at), word(at + 4), word(at + 8));
            let name_at = at + 12;
            let desc_at = name_at + namesz.div_ceil(4) * 4;
            let end = desc_at + descsz.div_ceil(4) * 4;
            if desc_at + descsz > data.len() {
                return Err(err("truncated note".into()));
            }
            let name = &data[name_at..name_at + namesz];
            // NT_AMDGPU_METADATA
            if kind == 32 && name.starts_with(b"AMDGPU") {
                return parse_metadata(&data[desc_at..desc_at + descsz]);
            }
            at = end;
        }
    }
    Err(err(
        "no NT_AMDGPU_METADATA note (code object v3 or later is required)".into()
    ))
}

fn parse_metadata(mut bytes: &[u8]) -> Result<Vec<KernelMeta>, EmuError> {
    use rmpv::Value;
    let err = |m: String| EmuError::CodeObject(format!("metadata: {m}"));
    let root = rmpv::decode::read_value(&mut bytes).map_err(|e| err(e.to_string()))?;
    let get = |v: &Value, key: &str| -> Option<Value> {
        v.as_map()?
            .iter()
            .find(|(k, _)| k.as_str() == Some(key))
            .map(|(_, v)| v.clone())
    };
    let uint = |v: &Value, key: &str| get(v, key).and_then(|x| x.as_u64()).unwrap_or(0) as u32;
    let string = |v: &Value, key: &str| get(v, key).and_then(|x| x.as_str().map(str::to_string));
    let kernels = get(&root, "amdhsa.kernels")
        .and_then(|k| k.as_array().cloned())
        .ok_or_else(|| err("no amdhsa.kernels".into()))?;
    let mut out = Vec::new();
    for k in &kernels {
        let name = string(k, ".name").ok_or_else(|| err("a kernel without .name".into()))?;
        let symbol = string(k, ".symbol").unwrap_or_else(|| format!("{name}.kd"));
        let mut args = Vec::new();
        for a in get(k, ".args").and_then(|a| a.as_array().cloned()).unwrap_or_default() {
            args.push(ArgMeta {
                offset: uint(&a, ".offset"),
                size: uint(&a, ".size"),
                value_kind: string(&a, ".value_kind")
                    .ok_or_else(|| err(format!("an argument of `{name}` without .value_kind")))?,
                name: string(&a, ".name"),
            });
        }
        out.push(KernelMeta {
            symbol,
            args,
            wavefront_size: uint(k, ".wavefront_size"),
            group_segment_fixed_size: uint(k, ".group_segment_fixed_size"),
            private_segment_fixed_size: uint(k, ".private_segment_fixed_size"),
            kernarg_segment_size: uint(k, ".kernarg_segment_size"),
            vgpr_count: uint(k, ".vgpr_count"),
            agpr_count: uint(k, ".agpr_count"),
            sgpr_count: uint(k, ".sgpr_count"),
            name,
        });
    }
    Ok(out)
}
