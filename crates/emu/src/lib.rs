//! An emulator of AMDGPU machine code (issue #14): it runs a kernel from
//! its code object (`.hsaco`) on gfx90a, gfx942 and gfx1100, wave by wave,
//! with instructions decoded by LLVM's own disassembler. What it models
//! and what it does not: `docs/emulator.md`.
//!
//! ```no_run
//! use tritonc_emu::{Arg, Emulator, Launch, Memory};
//! let bytes = std::fs::read("add_gfx942.hsaco").unwrap();
//! let emu = Emulator::new(&bytes, "add_kernel").unwrap();
//! let mut mem = Memory::new();
//! let x = mem.alloc_f32(&[1.0; 100]);
//! let launch = Launch { grid: [1, 1, 1], block: [256, 1, 1], dynamic_lds: 0 };
//! emu.run(&mut mem, &[Arg::Ptr(x), Arg::I32(100)], &launch).unwrap();
//! ```

pub mod code_object;
pub mod decode;
mod exec;
pub mod launch;
pub mod matrix;
pub mod memory;
mod waitcnt;
pub mod wave;

pub use code_object::{Arch, Kernel, KernelDescriptor, KernelMeta};
pub use launch::{execute_text, Arg, Emulator, Launch, Stats};
pub use memory::Memory;
pub use wave::Wave;

/// Everything that can go wrong, each naming where.
#[derive(Debug, thiserror::Error)]
pub enum EmuError {
    #[error("code object: {0}")]
    CodeObject(String),
    #[error("launch: {0}")]
    Launch(String),
    #[error("cannot parse the disassembly at {offset:#x} `{text}`: {why}")]
    Parse { offset: u32, text: String, why: String },
    /// An instruction or modifier the emulator does not implement: it is
    /// never skipped.
    #[error("not implemented: `{mnemonic}` ({why}) at {offset:#x} `{text}` (program {program:?}, wave {wave})")]
    Unimplemented {
        mnemonic: String,
        why: String,
        offset: u32,
        text: String,
        program: [u32; 3],
        wave: u32,
    },
    /// A fault of the kernel: an access outside every buffer, outside LDS,
    /// a jump to something that is not an instruction, a runaway loop.
    #[error("{what} at {offset:#x} `{text}` (program {program:?}, wave {wave}{})", lane.map(|l| format!(", lane {l}")).unwrap_or_default())]
    Fault {
        what: String,
        offset: u32,
        text: String,
        program: [u32; 3],
        wave: u32,
        lane: Option<u32>,
    },
}
