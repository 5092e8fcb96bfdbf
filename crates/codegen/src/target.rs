//! Targets: one trait, looked up by name.
//!
//! A target says how a program's block is spread over lanes (its wave
//! size; the host has one "lane" holding whole blocks as vectors), how ids
//! are read, how kernels are declared, and how LLVM builds code for it.
//! Nothing else in code generation asks which target it is.

use crate::CodegenError;
use std::fmt::Write;
use tritonc_ir::{MatrixFamily, MatrixInstr, ScalarType};

pub trait Target: Send + Sync {
    /// The name users pass (`gfx942`, `host`).
    fn name(&self) -> &str;
    /// What this target's objects are linked into (which also names the
    /// stage files).
    fn link_kind(&self) -> crate::link::LinkKind;
    /// LLVM module flags (name, value) this target's modules need, for
    /// code object version `code_object_version`.
    fn module_flags(&self, _code_object_version: u32) -> Vec<(&'static str, u64)> {
        Vec::new()
    }
    fn description(&self) -> &str;
    /// Lanes of a wavefront (1 on the host).
    fn wave_size(&self) -> u32;
    /// Bytes of local data share per workgroup (0 on the host).
    fn lds_bytes(&self) -> u32;
    fn triple(&self) -> String;
    fn cpu(&self) -> String;
    fn features(&self) -> String;
    /// The MLIR type of a pointer to global memory.
    fn global_ptr(&self) -> &'static str;
    /// The LLVM `syncscope` of atomics on global memory, as written after
    /// `atomicrmw`/`cmpxchg` (with a leading space), or empty for the
    /// default (system) scope. Programs of a grid run on one device, so a
    /// GPU needs no more than the device's (`agent`) scope.
    fn atomic_scope(&self) -> &'static str {
        ""
    }
    /// Lanes (work-items) of one program for `num_warps` waves.
    fn lanes(&self, num_warps: u32) -> u32;
    /// Emits the MLIR for the function header, given the kernel name,
    /// its parameters' MLIR types and the lanes per program. Returns the
    /// header text (up to and including `{`) and the body prologue, with
    /// parameters bound to `%arg0..`.
    fn function_header(&self, name: &str, params: &[String], lanes: u32) -> (String, String);
    /// MLIR that defines `%{out}` as the program id along `axis` (i32).
    fn program_id(&self, axis: u8, out: &str) -> String;
    /// MLIR that defines `%{out}` as the number of programs along `axis`.
    fn num_programs(&self, axis: u8, out: &str) -> String;
    /// MLIR that defines `%{out}` as this lane's index in the program (i32).
    fn lane_id(&self, out: &str) -> String;
    /// Whether `device_assert` is checked in generated code.
    fn checks_asserts(&self) -> bool;
    /// Whether f64 `exp`, `log`, `sin`, ... are available on this target.
    fn has_f64_transcendentals(&self) -> bool;
    /// The LLVM intrinsic (f32 to f32) a user's f32 `exp2` is, where the
    /// target's approximation is used: the hardware's, which flushes
    /// results below 2^-126 to zero, as Triton's `exp2` on AMD GPUs (one
    /// `v_exp_f32` instead of six instructions of range handling). `None`:
    /// `math.exp2`. `exp` keeps the full range handling everywhere.
    fn approximate_exp2(&self) -> Option<&'static str> {
        None
    }
    /// Whether integer division by zero (or `MIN / -1`) traps, so that
    /// generated code must avoid it even in masked-off elements.
    fn traps_on_integer_division(&self) -> bool;
    /// Shared memory (LDS) of `bytes` bytes for one program: module-level
    /// declarations, and function-entry code defining `%{out}` as its base
    /// address, of the returned pointer type.
    fn shared_memory(&self, bytes: u32, out: &str) -> (String, String, &'static str);
    /// Code defining `%{out}` as the 32-bit value lane `lane ^ 2^bit` (in
    /// the same wave) holds, for level `bit` of a butterfly, without a
    /// round through shared memory, if the target can (AMDGPU: the DPP
    /// move [`Dpp::for_level`] picks, for bits 0 to 3). Mirrors assume, as
    /// a butterfly guarantees, that the aligned groups of 2^`bit` lanes
    /// already hold one value each.
    fn lane_exchange(&self, _x: &Exchange) -> Option<String> {
        None
    }
    /// Code defining `%{out}_{i}` as the value lane `lanes[i]` of this
    /// lane's wave holds, for every `i`, if the target reads other lanes'
    /// registers directly (AMDGPU: `v_readlane_b32` into a scalar
    /// register; the lane indices are constants).
    fn read_lanes(&self, _x: &ReadLanes) -> Option<String> {
        None
    }
    /// Code defining `%{out}` as the 32-bit value `value` of lane `src` (an
    /// i32 value, a lane of this lane's wave), if the target can read any
    /// lane of a wave without a barrier (AMDGPU: `ds_bpermute_b32`).
    fn lane_read(&self, _x: &LaneRead) -> Option<String> {
        None
    }
    /// Code defining `%{out}` as the 32-bit value of lane `(l & !15) |
    /// selects[l & 15]` of this lane `l`'s wave, or with `other_row` of
    /// lane `((l ^ 16) & !15) | selects[l & 15]`, if the target moves
    /// values between lanes of rows of 16 so in registers (RDNA:
    /// `v_permlane16_b32`, `v_permlanex16_b32`, the selects constants).
    fn row_permute(&self, _x: &RowPermute) -> Option<String> {
        None
    }
    /// Code defining `%{out}` as `value`, an i32 value every lane of the
    /// wave holds, in a form the target keeps once per wave (AMDGPU:
    /// `v_readfirstlane_b32` into a scalar register, so that arithmetic on
    /// it is scalar), if it has one.
    fn wave_uniform(&self, _value: &str, _out: &str) -> Option<String> {
        None
    }
    /// Whether [`Target::lane_exchange`] and [`Target::read_lanes`] go
    /// through the scratch slots (then they begin with a barrier, and the
    /// slots have readers after them).
    fn exchanges_use_shared_memory(&self) -> bool {
        false
    }
    /// Whether [`Target::lane_exchange`] with lane `lane ^ 2^bit` exactly
    /// is a move between registers on the GPU (AMDGPU: a DPP move for the
    /// lowest four bits), not a trip through the LDS crossbar: worth
    /// trading a few instructions for fewer memory instructions.
    fn exchange_in_registers(&self, _bit: u32) -> bool {
        false
    }
    /// Code defining `%{out}` (i32) as the bytes of the 64-bit value
    /// `hi:lo` that `sel` (an i32 value) picks for each byte of the result
    /// (selector byte `i` in 0-7: byte `i` of the result is byte `sel` of
    /// `hi:lo`, `lo` being bytes 0-3), if the target has one instruction
    /// for it (AMDGPU: `v_perm_b32`, with a per-lane selector).
    fn byte_permute(&self, _hi: &str, _lo: &str, _sel: &str, _out: &str) -> Option<String> {
        None
    }
    /// Whether [`Target::byte_permute`] gives code (asked before any is
    /// emitted).
    fn has_byte_permute(&self) -> bool {
        false
    }
    /// Elements per strip when one lane holds whole blocks (the host):
    /// chains of elementwise operations, loads and stores run as a loop
    /// over strips of this many elements (a few vector registers each)
    /// instead of as one vector of the whole block (see `emit/strips.rs`).
    /// `None`: whole blocks, as every lane of a GPU holds its part.
    fn strip_elements(&self) -> Option<u32> {
        None
    }
    /// The matrix instructions (MFMA, WMMA) a `dot` of `input` elements
    /// may use on this target, preferred first (the layout pass takes the
    /// first whose tiles the block fits).
    fn matrix_instrs(&self, _input: ScalarType) -> Vec<MatrixInstr> {
        Vec::new()
    }
    /// Code defining `%{out}` as `c + a × b` for one matrix instruction of
    /// a wave (one of [`Target::matrix_instrs`]'): `a` and `b` are this
    /// lane's fragments (`vector<F x T>`, `F` the family's
    /// [`tritonc_ir::MatrixFamily::fragment`]), `c` its accumulator tile
    /// (`vector<R x f32>` or `i32`) as [`tritonc_ir::MatrixLayout`] lays it out.
    fn matrix(&self, _x: &MatrixCall) -> Option<String> {
        None
    }
    /// Shared-memory scratch bytes per lane that [`Target::matrix`] needs.
    fn matrix_scratch_per_lane(&self) -> u32 {
        0
    }
    /// Code that waits until every lane of the program reached this point,
    /// with shared-memory writes before it visible after it. `tag` makes
    /// the names it defines unique.
    fn barrier(&self, tag: &str) -> String;
    /// LLVM IR linked into every module for this target before LLVM's
    /// optimizer: runtime functions the code generator may call, so that
    /// the output depends on nothing the loading process may lack
    /// ([`crate::host_support`] for host code).
    fn support_ir(&self) -> Option<&'static str> {
        None
    }
}

/// Where a lane exchange happens: names of values in the emitted code.
#[derive(Debug, Clone, Copy)]
pub struct Exchange<'a> {
    /// The level of the butterfly: the partner's index differs in this bit.
    pub bit: u32,
    /// Whether the partner must be exactly lane `lane ^ 2^bit`: false only
    /// where the lanes below `2^bit` already hold equal values (a butterfly
    /// that began at level 0), which lets DPP mirrors stand in for it.
    pub exact: bool,
    /// This lane's 32-bit value.
    pub value: &'a str,
    /// The name (without `%`) the result gets.
    pub out: &'a str,
    /// This lane's index in the program (an i32 value).
    pub lane: &'a str,
    /// Shared memory with one 8-byte slot per lane, and its pointer type
    /// (used only where an exchange must go through memory).
    pub scratch: &'a str,
    pub scratch_ty: &'a str,
}

impl<'a> Exchange<'a> {
    /// Code defining `%{out}_src` as the butterfly partner, `lane ^ 2^bit`.
    pub fn partner(&self) -> String {
        let out = self.out;
        format!(
            "%{out}_bit = llvm.mlir.constant({} : i32) : i32\n%{out}_src = arith.xori {}, %{out}_bit : i32",
            1u32 << self.bit,
            self.lane
        )
    }

    /// The same exchange as a read of lane `src`.
    pub fn read(&self, src: &'a str) -> LaneRead<'a> {
        LaneRead {
            value: self.value,
            src,
            out: self.out,
            lane: self.lane,
            scratch: self.scratch,
            scratch_ty: self.scratch_ty,
        }
    }
}

/// A read of another lane's value by lane index: names in the emitted code.
#[derive(Debug, Clone, Copy)]
pub struct LaneRead<'a> {
    /// This lane's 32-bit value.
    pub value: &'a str,
    /// The lane to read (an i32 value), in this lane's wave.
    pub src: &'a str,
    /// The name (without `%`) the result gets.
    pub out: &'a str,
    /// This lane's index in the program, and scratch as in [`Exchange`].
    pub lane: &'a str,
    pub scratch: &'a str,
    pub scratch_ty: &'a str,
}

/// A read of another lane of this lane's row of 16 (or of the other row
/// of a wave of 32) named by constant selects: [`Target::row_permute`].
#[derive(Debug, Clone, Copy)]
pub struct RowPermute<'a> {
    /// The value, result name, lane and scratch (`read.src` unused).
    pub read: LaneRead<'a>,
    /// The lane each lane of a row reads, by its place in the row.
    pub selects: [u8; 16],
    /// Whether the lanes read the other row of 16 of a wave of 32.
    pub other_row: bool,
}

impl RowPermute<'_> {
    /// The selects as `v_permlane16_b32` takes them: lanes 0-7 and 8-15,
    /// 4 bits each.
    pub fn select_words(&self) -> (u32, u32) {
        let word = |half: &[u8]| {
            half.iter()
                .enumerate()
                .fold(0u32, |w, (i, s)| w | (u32::from(*s & 15) << (4 * i)))
        };
        (word(&self.selects[..8]), word(&self.selects[8..]))
    }
}

/// One matrix instruction: names in the emitted code.
#[derive(Debug, Clone, Copy)]
pub struct MatrixCall<'a> {
    pub instr: MatrixInstr,
    /// The fragments' element type.
    pub elem: ScalarType,
    pub a: &'a str,
    pub b: &'a str,
    pub c: &'a str,
    /// The name (without `%`) the result gets.
    pub out: &'a str,
    /// This lane's index in the program, and scratch shared memory of
    /// [`Target::matrix_scratch_per_lane`] bytes per lane (for simulators).
    pub lane: &'a str,
    pub scratch: &'a str,
    pub scratch_ty: &'a str,
}

/// Reads of other lanes' values by lane index: names in the emitted code.
#[derive(Debug, Clone, Copy)]
pub struct ReadLanes<'a> {
    /// This lane's value, of the 32-bit type `ty` (`f32`, `i32`).
    pub value: &'a str,
    pub ty: &'a str,
    /// Lane indices within the wave to read.
    pub lanes: &'a [u32],
    /// Results are `%{out}_0`, `%{out}_1`, ...
    pub out: &'a str,
    /// This lane's index in the program, and scratch as in [`Exchange`].
    pub lane: &'a str,
    pub scratch: &'a str,
    pub scratch_ty: &'a str,
}

/// The DPP move AMDGPU uses for the four lowest levels of a butterfly,
/// with its documented lane mapping (which lane each lane reads). Above a
/// row of 16 lanes, butterflies read the rows' values directly
/// ([`Target::read_lanes`]), so no other cross-lane instruction is needed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Dpp {
    /// `v_mov_b32_dpp` (`rocdl.update.dpp`) control word: `quad_perm`
    /// (lane `l` reads `(l & !3) | perm[l & 3]`), `row_half_mirror` (within
    /// 8 lanes: `l ^ 7`), `row_mirror` (within 16 lanes: `l ^ 15`),
    /// `row_ror:8` (within 16 lanes, rotated by 8: `l ^ 8`).
    pub ctrl: u32,
    /// The mapping as an exclusive or of the lane index.
    pub xor: u32,
}

impl Dpp {
    /// The move for butterfly level `bit` (lanes `2^bit` apart), for bits
    /// 0 to 3; the mirrors read a lane in the other group of the same row,
    /// which holds the same value once the groups below are uniform.
    pub fn for_level(bit: u32) -> Option<Dpp> {
        match bit {
            // quad_perm [1,0,3,2] and [2,3,0,1].
            0 => Some(Dpp {
                ctrl: 0b10_11_00_01,
                xor: 1,
            }),
            1 => Some(Dpp {
                ctrl: 0b01_00_11_10,
                xor: 2,
            }),
            // row_half_mirror, row_mirror.
            2 => Some(Dpp { ctrl: 0x141, xor: 7 }),
            3 => Some(Dpp { ctrl: 0x140, xor: 15 }),
            _ => None,
        }
    }

    /// MLIR defining `%{out}` as the lane that `lane` reads, computed from
    /// the instruction's documented mapping (not from the partner a
    /// butterfly wants: that they agree is what a simulation checks).
    pub fn source_lane(self, lane: &str, out: &str) -> String {
        let c = |name: &str, v: i64| format!("%{out}_{name} = llvm.mlir.constant({v} : i32) : i32");
        if self.ctrl >= 0x100 {
            return [
                c("x", i64::from(self.xor)),
                format!("%{out} = arith.xori {lane}, %{out}_x : i32"),
            ]
            .join("\n");
        }
        // quad_perm: the source within the quad is perm[l & 3], two bits
        // each of the control word.
        [
            c("three", 3),
            format!("%{out}_q = arith.andi {lane}, %{out}_three : i32"),
            c("two", 2),
            format!("%{out}_sh = arith.muli %{out}_q, %{out}_two : i32"),
            c("ctrl", i64::from(self.ctrl)),
            format!("%{out}_p0 = arith.shrui %{out}_ctrl, %{out}_sh : i32"),
            format!("%{out}_p = arith.andi %{out}_p0, %{out}_three : i32"),
            c("nq", !3),
            format!("%{out}_base = arith.andi {lane}, %{out}_nq : i32"),
            format!("%{out} = arith.ori %{out}_base, %{out}_p : i32"),
        ]
        .join("\n")
    }
}

/// The lane selects of `v_permlanex16_b32` (lanes 0-7, 8-15 of a row: 4
/// bits each, a lane of the other row): the identity.
pub const PERMLANEX16_SELECTS: (u32, u32) = (0x7654_3210, 0xfedc_ba98);

/// MLIR defining `%{out}` as the lane `v_permlanex16_b32` with
/// [`PERMLANEX16_SELECTS`] makes `lane` read, from its documented mapping:
/// the other row of 16, at the select nibble of `lane`'s place in its row
/// (the lane simulator reads that lane, so the selects are checked).
pub fn permlanex16_source(lane: &str, out: &str) -> String {
    permlane_source(lane, PERMLANEX16_SELECTS, true, out)
}

/// MLIR defining `%{out}` as the lane `v_permlane16_b32` (or, with
/// `other_row`, `v_permlanex16_b32`) with select words `(lo, hi)` makes
/// `lane` read: in its row of 16 (or the other row of a wave of 32), the
/// lane the select nibble of `lane`'s place in its row names.
pub fn permlane_source(lane: &str, (lo, hi): (u32, u32), other_row: bool, out: &str) -> String {
    let c = |name: &str, v: i64| format!("%{out}_{name} = llvm.mlir.constant({v} : i32) : i32");
    let row = if other_row {
        format!(
            "%{out}_other = arith.xori {lane}, %{out}_sixteen : i32\n%{out}_row = arith.andi %{out}_other, %{out}_rowmask : i32"
        )
    } else {
        format!("%{out}_row = arith.andi {lane}, %{out}_rowmask : i32")
    };
    [
        c("fifteen", 15),
        c("seven", 7),
        c("sixteen", 16),
        c("four", 4),
        c("lo", i64::from(lo as i32)),
        c("hi", i64::from(hi as i32)),
        format!("%{out}_in_row = arith.andi {lane}, %{out}_fifteen : i32"),
        format!("%{out}_upper = arith.cmpi ugt, %{out}_in_row, %{out}_seven : i32"),
        format!("%{out}_sel = arith.select %{out}_upper, %{out}_hi, %{out}_lo : i32"),
        format!("%{out}_k = arith.andi %{out}_in_row, %{out}_seven : i32"),
        format!("%{out}_sh = arith.muli %{out}_k, %{out}_four : i32"),
        format!("%{out}_n0 = arith.shrui %{out}_sel, %{out}_sh : i32"),
        format!("%{out}_nib = arith.andi %{out}_n0, %{out}_fifteen : i32"),
        c("rowmask", !15),
        row,
        format!("%{out} = arith.ori %{out}_row, %{out}_nib : i32"),
    ]
    .join("\n")
}

/// MLIR defining `%{out}` as `v_permlane16_b32` (or, with `other_row`,
/// `v_permlanex16_b32`) of the i32 `value` with select words `(lo, hi)`.
/// Every lane is active and reads a lane that is, so the "old" value is
/// never used: poison.
fn permlane_call(value: &str, (lo, hi): (u32, u32), other_row: bool, out: &str) -> String {
    let name = if other_row { "permlanex16" } else { "permlane16" };
    [
        format!("%{out}_old = llvm.mlir.poison : i32"),
        format!("%{out}_lo = llvm.mlir.constant({} : i32) : i32", lo as i32),
        format!("%{out}_hi = llvm.mlir.constant({} : i32) : i32", hi as i32),
        format!("%{out}_f = llvm.mlir.constant(false) : i1"),
        format!(
            "%{out} = llvm.call_intrinsic \"llvm.amdgcn.{name}\"(%{out}_old, {value}, %{out}_lo, %{out}_hi, %{out}_f, %{out}_f) : (i32, i32, i32, i32, i1, i1) -> i32"
        ),
    ]
    .join("\n")
}

/// How an AMD wave moves a 32-bit value between lanes `2^bit` apart.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LaneMove {
    /// A DPP move (no memory access; often folded into the arithmetic).
    Dpp(Dpp),
    /// `ds_bpermute_b32`: each lane reads the lane its address names,
    /// anywhere in the wave (through the LDS crossbar, no memory).
    Bpermute,
    /// `v_permlanex16_b32` (RDNA, wave32): each lane reads a lane of the
    /// other row of 16; with the identity selects, lane `l ^ 16`.
    PermlaneX16,
}

impl LaneMove {
    /// The move for butterfly level `bit` in a wave of `wave` lanes: DPP
    /// for the four lowest levels (its mirrors only when `exact` is
    /// false), `v_permlanex16` across the rows of a wave of 32 (the RDNA
    /// targets, all wave32 here), `ds_bpermute` for the rest of the wave;
    /// none across waves.
    pub fn for_level(bit: u32, exact: bool, wave: u32) -> Option<LaneMove> {
        if bit >= wave.trailing_zeros() {
            return None;
        }
        if bit == 4 && wave == 32 {
            return Some(LaneMove::PermlaneX16);
        }
        Some(match Dpp::for_level(bit) {
            Some(d) if !exact || d.xor == 1 << bit => LaneMove::Dpp(d),
            // `row_ror:8` rotates a row of 16 lanes by half: exactly the
            // partner 8 lanes away.
            Some(_) if bit == 3 => LaneMove::Dpp(Dpp { ctrl: 0x128, xor: 8 }),
            _ => LaneMove::Bpermute,
        })
    }
}

/// An AMD GPU architecture.
#[derive(Debug, Clone, Copy)]
pub struct AmdGpu {
    pub arch: &'static str,
    pub wave: u32,
    pub lds: u32,
    pub about: &'static str,
}

/// The AMD GPUs this compiler knows, by `gfx` name.
pub const AMD_GPUS: &[AmdGpu] = &[
    AmdGpu {
        arch: "gfx90a",
        wave: 64,
        lds: 65536,
        about: "CDNA2 (MI200 series)",
    },
    AmdGpu {
        arch: "gfx942",
        wave: 64,
        lds: 65536,
        about: "CDNA3 (MI300 series)",
    },
    AmdGpu {
        arch: "gfx1030",
        wave: 32,
        lds: 65536,
        about: "RDNA2 (RX 6000 series)",
    },
    AmdGpu {
        arch: "gfx1100",
        wave: 32,
        lds: 65536,
        about: "RDNA3 (RX 7900 series)",
    },
];

impl Target for AmdGpu {
    fn name(&self) -> &str {
        self.arch
    }
    fn link_kind(&self) -> crate::link::LinkKind {
        crate::link::LinkKind::Hsaco
    }
    fn module_flags(&self, code_object_version: u32) -> Vec<(&'static str, u64)> {
        vec![("amdhsa_code_object_version", u64::from(code_object_version) * 100)]
    }
    fn description(&self) -> &str {
        self.about
    }
    fn wave_size(&self) -> u32 {
        self.wave
    }
    fn lds_bytes(&self) -> u32 {
        self.lds
    }
    fn triple(&self) -> String {
        "amdgcn-amd-amdhsa".into()
    }
    fn cpu(&self) -> String {
        self.arch.into()
    }
    fn features(&self) -> String {
        // Wave size is a feature on RDNA (which defaults to wave32).
        if self.wave == 64 {
            "+wavefrontsize64".into()
        } else {
            "+wavefrontsize32".into()
        }
    }
    fn global_ptr(&self) -> &'static str {
        "!llvm.ptr<1>"
    }
    fn atomic_scope(&self) -> &'static str {
        " syncscope(\"agent\")"
    }
    fn lanes(&self, num_warps: u32) -> u32 {
        num_warps * self.wave
    }
    fn function_header(&self, name: &str, params: &[String], lanes: u32) -> (String, String) {
        let args: Vec<String> = params
            .iter()
            .enumerate()
            .map(|(i, t)| format!("%arg{i}: {t}"))
            .collect();
        let head = format!(
            "  llvm.func @{name}({}) attributes {{rocdl.kernel, rocdl.flat_work_group_size = \"{lanes},{lanes}\", rocdl.reqd_work_group_size = array<i32: {lanes}, 1, 1>, passthrough = [[\"amdgpu-ieee\", \"false\"]]}} {{\n",
            args.join(", ")
        );
        (head, String::new())
    }
    fn program_id(&self, axis: u8, out: &str) -> String {
        format!("    %{out} = rocdl.workgroup.id.{} : i32\n", axis_name(axis))
    }
    fn num_programs(&self, axis: u8, out: &str) -> String {
        // The HSA dispatch packet holds the grid size in work-items (u32 at
        // byte 12 + 4 * axis) and the workgroup size (u16 at 4 + 2 * axis).
        let mut s = String::new();
        let _ = writeln!(
            s,
            "    %{out}_dp = llvm.call_intrinsic \"llvm.amdgcn.dispatch.ptr\"() : () -> !llvm.ptr<4>"
        );
        let _ = writeln!(
            s,
            "    %{out}_gp = llvm.getelementptr %{out}_dp[{}] : (!llvm.ptr<4>) -> !llvm.ptr<4>, i8",
            12 + 4 * u32::from(axis)
        );
        let _ = writeln!(
            s,
            "    %{out}_g = llvm.load %{out}_gp {{alignment = 4 : i64, invariant}} : !llvm.ptr<4> -> i32"
        );
        let _ = writeln!(
            s,
            "    %{out}_wp = llvm.getelementptr %{out}_dp[{}] : (!llvm.ptr<4>) -> !llvm.ptr<4>, i8",
            4 + 2 * u32::from(axis)
        );
        let _ = writeln!(
            s,
            "    %{out}_w16 = llvm.load %{out}_wp {{alignment = 2 : i64, invariant}} : !llvm.ptr<4> -> i16"
        );
        let _ = writeln!(s, "    %{out}_w = arith.extui %{out}_w16 : i16 to i32");
        let _ = writeln!(s, "    %{out} = arith.divui %{out}_g, %{out}_w : i32");
        s
    }
    fn lane_id(&self, out: &str) -> String {
        format!("    %{out} = rocdl.workitem.id.x : i32\n")
    }
    fn checks_asserts(&self) -> bool {
        false
    }
    fn approximate_exp2(&self) -> Option<&'static str> {
        Some("llvm.amdgcn.exp2")
    }
    fn has_f64_transcendentals(&self) -> bool {
        false
    }
    fn traps_on_integer_division(&self) -> bool {
        false
    }
    fn shared_memory(&self, bytes: u32, out: &str) -> (String, String, &'static str) {
        let global = format!(
            "  llvm.mlir.global internal @__tk_lds() {{addr_space = 3 : i32, alignment = 16 : i64}} : !llvm.array<{bytes} x i8> {{\n    %0 = llvm.mlir.undef : !llvm.array<{bytes} x i8>\n    llvm.return %0 : !llvm.array<{bytes} x i8>\n  }}\n"
        );
        let code = format!("    %{out} = llvm.mlir.addressof @__tk_lds : !llvm.ptr<3>\n");
        (global, code, "!llvm.ptr<3>")
    }
    fn lane_exchange(&self, x: &Exchange) -> Option<String> {
        let (value, out) = (x.value, x.out);
        match LaneMove::for_level(x.bit, x.exact, self.wave)? {
            // Every lane is active and reads a lane that is, so the "old"
            // value is never used: poison (with bound_ctrl) lets LLVM fold
            // the move into the instruction that uses it (`v_add_f32_dpp`).
            LaneMove::Dpp(d) => Some(format!(
                "%{out}_old = llvm.mlir.poison : i32\n%{out} = rocdl.update.dpp %{out}_old, {value} with {}, 15, 15, true : i32",
                d.ctrl
            )),
            LaneMove::Bpermute => {
                let src = format!("%{out}_src");
                Some(format!("{}\n{}", x.partner(), self.lane_read(&x.read(&src))?))
            }
            // Lane i of a row reads lane sel[i] of the other row: the
            // selects 0x76543210 (lanes 0-7) and 0xfedcba98 (8-15) are
            // the identity, so lane l reads lane l ^ 16.
            LaneMove::PermlaneX16 => Some(permlane_call(value, PERMLANEX16_SELECTS, true, out)),
        }
    }
    fn exchange_in_registers(&self, bit: u32) -> bool {
        matches!(
            LaneMove::for_level(bit, true, self.wave),
            Some(LaneMove::Dpp(_) | LaneMove::PermlaneX16)
        )
    }
    fn byte_permute(&self, hi: &str, lo: &str, sel: &str, out: &str) -> Option<String> {
        Some(format!(
            "%{out} = llvm.call_intrinsic \"llvm.amdgcn.perm\"({hi}, {lo}, {sel}) : (i32, i32, i32) -> i32"
        ))
    }
    fn has_byte_permute(&self) -> bool {
        true
    }
    /// The address is the source lane times 4 (the hardware reads only
    /// the bits of a lane within the wave).
    fn lane_read(&self, x: &LaneRead) -> Option<String> {
        let out = x.out;
        Some(format!(
            "%{out}_four = llvm.mlir.constant(4 : i32) : i32\n%{out}_addr = arith.muli {}, %{out}_four : i32\n%{out} = rocdl.ds_bpermute %{out}_addr, {} : (i32, i32) -> i32",
            x.src, x.value
        ))
    }
    fn wave_uniform(&self, value: &str, out: &str) -> Option<String> {
        Some(format!("%{out} = rocdl.readfirstlane {value} : i32"))
    }
    /// RDNA (waves of 32): `v_permlane16_b32` within a row, or
    /// `v_permlanex16_b32` from the other row, with the selects as
    /// constants (two scalar operands).
    fn row_permute(&self, x: &RowPermute) -> Option<String> {
        if self.wave != 32 {
            return None;
        }
        Some(permlane_call(x.read.value, x.select_words(), x.other_row, x.read.out))
    }
    fn read_lanes(&self, x: &ReadLanes) -> Option<String> {
        let (out, ty) = (x.out, x.ty);
        let code: Vec<String> = x
            .lanes
            .iter()
            .enumerate()
            .map(|(i, l)| {
                format!(
                    "%{out}_{i}_lane = llvm.mlir.constant({l} : i32) : i32\n%{out}_{i} = rocdl.readlane {}, %{out}_{i}_lane : ({ty}, i32) -> {ty}",
                    x.value
                )
            })
            .collect();
        Some(code.join("\n"))
    }
    fn matrix_instrs(&self, input: ScalarType) -> Vec<MatrixInstr> {
        use MatrixFamily::*;
        use ScalarType::*;
        // (family, k): 32×32 tiles first (fewer instructions per output),
        // 16×16 where a block is too small to give every wave 32×32 tiles.
        let list: &[(MatrixFamily, u32)] = match (self.arch, input) {
            ("gfx90a" | "gfx942", F16 | BF16) => &[(Mfma32, 8), (Mfma16, 16)],
            ("gfx90a" | "gfx942", F32) => &[(Mfma32, 2), (Mfma16, 4)],
            ("gfx90a", I8) => &[(Mfma32, 8), (Mfma16, 16)],
            ("gfx942", I8) => &[(Mfma32, 16), (Mfma16, 32)],
            ("gfx1100", F16 | BF16 | I8) => &[(Wmma16, 16)],
            _ => &[],
        };
        list.iter().map(|&(family, k)| MatrixInstr { family, k }).collect()
    }
    fn matrix(&self, x: &MatrixCall) -> Option<String> {
        if !self.matrix_instrs(x.elem).contains(&x.instr) {
            return None;
        }
        let out = x.out;
        let regs = x.instr.family.regs();
        let acc = if x.elem.is_float() { "f32" } else { "i32" };
        let cty = format!("vector<{regs}x{acc}>");
        let frag = x.instr.family.fragment(x.instr.k);
        let e = x.elem.signless();
        // The operands as the intrinsic takes them: bf16 as i16, i8 packed
        // in 32- or 64-bit integers, a single f32 as a scalar.
        let (op_ty, convert) = match x.elem {
            ScalarType::F16 => (format!("vector<{frag}xf16>"), None),
            ScalarType::F32 => ("f32".to_string(), Some("vector.extract")),
            ScalarType::BF16 => (format!("vector<{frag}xi16>"), Some("llvm.bitcast")),
            _ if frag == 4 => ("i32".to_string(), Some("llvm.bitcast")),
            _ if frag == 8 => ("i64".to_string(), Some("llvm.bitcast")),
            _ => (format!("vector<{}xi32>", frag / 4), Some("llvm.bitcast")),
        };
        let mut code = Vec::new();
        let (a, b) = match convert {
            None => (x.a.to_string(), x.b.to_string()),
            Some(how) => {
                for (side, v) in [("a", x.a), ("b", x.b)] {
                    code.push(if how == "vector.extract" {
                        format!("%{out}_{side} = vector.extract {v}[0] : f32 from vector<1xf32>")
                    } else {
                        format!("%{out}_{side} = llvm.bitcast {v} : vector<{frag}x{e}> to {op_ty}")
                    });
                }
                (format!("%{out}_a"), format!("%{out}_b"))
            }
        };
        let name = match (x.instr.family, x.elem, x.instr.k) {
            (MatrixFamily::Mfma32, ScalarType::F16, _) => "mfma.f32.32x32x8f16",
            (MatrixFamily::Mfma32, ScalarType::BF16, _) => "mfma.f32.32x32x8bf16.1k",
            (MatrixFamily::Mfma32, ScalarType::F32, _) => "mfma.f32.32x32x2f32",
            (MatrixFamily::Mfma32, _, 8) => "mfma.i32.32x32x8i8",
            (MatrixFamily::Mfma32, _, _) => "mfma.i32.32x32x16.i8",
            (MatrixFamily::Mfma16, ScalarType::F16, _) => "mfma.f32.16x16x16f16",
            (MatrixFamily::Mfma16, ScalarType::BF16, _) => "mfma.f32.16x16x16bf16.1k",
            (MatrixFamily::Mfma16, ScalarType::F32, _) => "mfma.f32.16x16x4f32",
            (MatrixFamily::Mfma16, _, 16) => "mfma.i32.16x16x16i8",
            (MatrixFamily::Mfma16, _, _) => "mfma.i32.16x16x32.i8",
            (MatrixFamily::Wmma16, ScalarType::F16, _) => "wmma.f32.16x16x16.f16",
            (MatrixFamily::Wmma16, ScalarType::BF16, _) => "wmma.f32.16x16x16.bf16",
            (MatrixFamily::Wmma16, _, _) => "wmma.i32.16x16x16.iu8",
        };
        code.push(match x.instr.family {
            // cbsz, abid, blgp: no broadcasting between blocks.
            MatrixFamily::Mfma32 | MatrixFamily::Mfma16 => format!(
                "%{out}_z = llvm.mlir.constant(0 : i32) : i32\n%{out} = rocdl.{name} {a}, {b}, {}, %{out}_z, %{out}_z, %{out}_z : ({op_ty}, {op_ty}, {cty}, i32, i32, i32) -> {cty}",
                x.c
            ),
            // Signed 8-bit operands; wrapping (not clamping) sums.
            MatrixFamily::Wmma16 if !x.elem.is_float() => format!(
                "%{out} = rocdl.{name} {a}, {b}, {} {{signA = true, signB = true}} : ({op_ty}, {op_ty}, {cty}) -> {cty}",
                x.c
            ),
            MatrixFamily::Wmma16 => format!(
                "%{out} = rocdl.{name} {a}, {b}, {} : ({op_ty}, {op_ty}, {cty}) -> {cty}",
                x.c
            ),
        });
        Some(code.join("\n"))
    }
    fn barrier(&self, _tag: &str) -> String {
        "llvm.fence syncscope(\"workgroup\") release\nrocdl.s.barrier\nllvm.fence syncscope(\"workgroup\") acquire"
            .into()
    }
}

fn axis_name(axis: u8) -> &'static str {
    match axis {
        0 => "x",
        1 => "y",
        _ => "z",
    }
}

/// The host CPU: one "lane" per program holding whole blocks as vectors;
/// programs run in parallel on the host's threads.
///
/// `host` is the CPU this process runs on (its name and features, which are
/// part of the cache key); `host:CPU` is code for a named CPU of the same
/// architecture (`host:x86-64` runs on any x86-64), for libraries built on
/// one machine and run on others.
#[derive(Debug, Clone, Copy, Default)]
pub struct Host {
    /// The named CPU and the target's name, or `None` for this machine's.
    named: Option<(&'static str, &'static str)>,
}

/// The MLIR dialects emitted code uses, every target's together (`rocdl`
/// is the AMDGPU targets'): all the lowering context registers.
pub(crate) fn emitted_dialects() -> [mlir_sys::MlirDialectHandle; 9] {
    // SAFETY: each call returns a pointer to a static dialect handle.
    unsafe {
        [
            mlir_sys::mlirGetDialectHandle__llvm__(),
            mlir_sys::mlirGetDialectHandle__rocdl__(),
            mlir_sys::mlirGetDialectHandle__arith__(),
            mlir_sys::mlirGetDialectHandle__scf__(),
            mlir_sys::mlirGetDialectHandle__cf__(),
            mlir_sys::mlirGetDialectHandle__vector__(),
            mlir_sys::mlirGetDialectHandle__math__(),
            mlir_sys::mlirGetDialectHandle__index__(),
            mlir_sys::mlirGetDialectHandle__func__(),
        ]
    }
}

/// The host target for the CPU this process runs on.
pub const NATIVE_HOST: Host = Host { named: None };

/// Name prefix of host kernels, so that they never collide with C symbols
/// (defined beside the IR: the launcher, which has no compiler, needs it).
pub use tritonc_ir::HOST_SYMBOL_PREFIX as HOST_PREFIX;

impl Target for Host {
    fn strip_elements(&self) -> Option<u32> {
        // 64 bytes of f32 (one AVX-512 or two AVX2 registers; a pointer
        // strip is twice that): wide enough for every x86-64 level and
        // AArch64, short enough that a strip's values stay in registers.
        Some(16)
    }
    fn name(&self) -> &str {
        self.named.map_or("host", |(_, name)| name)
    }
    fn link_kind(&self) -> crate::link::LinkKind {
        crate::link::LinkKind::HostLibrary
    }
    fn description(&self) -> &str {
        "the host CPU (the CPU backend)"
    }
    fn wave_size(&self) -> u32 {
        1
    }
    fn lds_bytes(&self) -> u32 {
        0
    }
    fn triple(&self) -> String {
        inkwell::targets::TargetMachine::get_default_triple()
            .as_str()
            .to_string_lossy()
            .into_owned()
    }
    fn cpu(&self) -> String {
        match self.named {
            Some((cpu, _)) => cpu.to_string(),
            None => inkwell::targets::TargetMachine::get_host_cpu_name().to_string(),
        }
    }
    fn features(&self) -> String {
        match self.named {
            // A named CPU's features are the ones LLVM knows it to have.
            Some(_) => String::new(),
            None => inkwell::targets::TargetMachine::get_host_cpu_features().to_string(),
        }
    }
    fn global_ptr(&self) -> &'static str {
        "!llvm.ptr"
    }
    fn lanes(&self, _num_warps: u32) -> u32 {
        1
    }
    fn function_header(&self, name: &str, params: &[String], _lanes: u32) -> (String, String) {
        // Every host kernel has one signature: a pointer to 8-byte argument
        // slots, the program id, the grid size, a status word where a failed
        // `device_assert` records itself, the lane (always 0 on the host;
        // the lane simulator calls once per lane) and the program's shared
        // memory and barrier (lane simulator only).
        let head = format!(
            "  llvm.func @{HOST_PREFIX}{name}(%args: !llvm.ptr, %pid0: i32, %pid1: i32, %pid2: i32, %np0: i32, %np1: i32, %np2: i32, %status: !llvm.ptr, %lane_arg: i32, %shared: !llvm.ptr) {{\n"
        );
        let mut pro = String::from("    %c0_i32 = arith.constant 0 : i32\n");
        for (i, t) in params.iter().enumerate() {
            let _ = writeln!(
                pro,
                "    %arg{i}_p = llvm.getelementptr %args[{i}] : (!llvm.ptr) -> !llvm.ptr, i64"
            );
            let _ = writeln!(pro, "    %arg{i} = llvm.load %arg{i}_p : !llvm.ptr -> {t}");
        }
        (head, pro)
    }
    fn program_id(&self, axis: u8, out: &str) -> String {
        format!("    %{out} = arith.addi %pid{axis}, %c0_i32 : i32\n")
    }
    fn num_programs(&self, axis: u8, out: &str) -> String {
        format!("    %{out} = arith.addi %np{axis}, %c0_i32 : i32\n")
    }
    fn lane_id(&self, out: &str) -> String {
        format!("    %{out} = arith.addi %lane_arg, %c0_i32 : i32\n")
    }
    fn support_ir(&self) -> Option<&'static str> {
        Some(crate::host_support::SUPPORT_IR)
    }
    fn checks_asserts(&self) -> bool {
        true
    }
    fn has_f64_transcendentals(&self) -> bool {
        true
    }
    fn traps_on_integer_division(&self) -> bool {
        true
    }
    fn shared_memory(&self, _bytes: u32, out: &str) -> (String, String, &'static str) {
        // The runtime passes `%shared`: a pointer to { memory, barrier
        // function, barrier context } for the program being run.
        let code = format!("    %{out} = llvm.load %shared : !llvm.ptr -> !llvm.ptr\n");
        (String::new(), code, "!llvm.ptr")
    }
    fn barrier(&self, tag: &str) -> String {
        [
            format!("%{tag}_fp = llvm.getelementptr %shared[1] : (!llvm.ptr) -> !llvm.ptr, !llvm.ptr"),
            format!("%{tag}_f = llvm.load %{tag}_fp : !llvm.ptr -> !llvm.ptr"),
            format!("%{tag}_cp = llvm.getelementptr %shared[2] : (!llvm.ptr) -> !llvm.ptr, !llvm.ptr"),
            format!("%{tag}_c = llvm.load %{tag}_cp : !llvm.ptr -> !llvm.ptr"),
            format!("llvm.call %{tag}_f(%{tag}_c) : !llvm.ptr, (!llvm.ptr) -> ()"),
        ]
        .join("\n")
    }
}

/// An AMD GPU's lane-level code run on the host: the same layouts, lane
/// ids and vectorized accesses as the GPU, compiled for the host CPU, with
/// the runtime calling the kernel once per lane of every program. Exact
/// for kernels without cross-lane communication (all 1-D kernels today), so
/// it checks the GPU code path's numbers without a GPU.
#[derive(Debug, Clone, Copy)]
pub struct LaneSimulator {
    pub gpu: AmdGpu,
    name: &'static str,
}

impl Target for LaneSimulator {
    fn name(&self) -> &str {
        self.name
    }
    fn has_byte_permute(&self) -> bool {
        self.gpu.has_byte_permute()
    }
    /// `v_perm_b32` simulated where the GPU has it: each result byte is
    /// the byte of `hi:lo` its selector byte names (selectors 0-7).
    fn byte_permute(&self, hi: &str, lo: &str, sel: &str, out: &str) -> Option<String> {
        if !self.gpu.has_byte_permute() {
            return None;
        }
        let mut code = vec![
            format!("%{out}_hi = arith.extui {hi} : i32 to i64"),
            format!("%{out}_lo = arith.extui {lo} : i32 to i64"),
            format!("%{out}_32 = arith.constant 32 : i64"),
            format!("%{out}_hs = arith.shli %{out}_hi, %{out}_32 : i64"),
            format!("%{out}_all = arith.ori %{out}_hs, %{out}_lo : i64"),
            format!("%{out}_sel = arith.extui {sel} : i32 to i64"),
            format!("%{out}_ff = arith.constant 255 : i64"),
            format!("%{out}_7 = arith.constant 7 : i64"),
            format!("%{out}_8 = arith.constant 8 : i64"),
            format!("%{out}_r0 = arith.constant 0 : i64"),
        ];
        for i in 0..4 {
            code.extend([
                format!("%{out}_p{i} = arith.constant {} : i64", 8 * i),
                format!("%{out}_s{i} = arith.shrui %{out}_sel, %{out}_p{i} : i64"),
                format!("%{out}_k{i} = arith.andi %{out}_s{i}, %{out}_7 : i64"),
                format!("%{out}_b{i} = arith.muli %{out}_k{i}, %{out}_8 : i64"),
                format!("%{out}_v{i} = arith.shrui %{out}_all, %{out}_b{i} : i64"),
                format!("%{out}_m{i} = arith.andi %{out}_v{i}, %{out}_ff : i64"),
                format!("%{out}_t{i} = arith.shli %{out}_m{i}, %{out}_p{i} : i64"),
                format!("%{out}_r{} = arith.ori %{out}_r{i}, %{out}_t{i} : i64", i + 1),
            ]);
        }
        code.push(format!("%{out} = arith.trunci %{out}_r4 : i64 to i32"));
        Some(code.join("\n"))
    }
    fn link_kind(&self) -> crate::link::LinkKind {
        crate::link::LinkKind::HostLibrary
    }
    fn description(&self) -> &str {
        "an AMD GPU's lanes simulated on the host"
    }
    fn wave_size(&self) -> u32 {
        self.gpu.wave
    }
    fn lds_bytes(&self) -> u32 {
        self.gpu.lds
    }
    fn triple(&self) -> String {
        NATIVE_HOST.triple()
    }
    fn cpu(&self) -> String {
        NATIVE_HOST.cpu()
    }
    fn features(&self) -> String {
        NATIVE_HOST.features()
    }
    fn global_ptr(&self) -> &'static str {
        NATIVE_HOST.global_ptr()
    }
    fn lanes(&self, num_warps: u32) -> u32 {
        self.gpu.lanes(num_warps)
    }
    fn function_header(&self, name: &str, params: &[String], lanes: u32) -> (String, String) {
        NATIVE_HOST.function_header(name, params, lanes)
    }
    fn program_id(&self, axis: u8, out: &str) -> String {
        NATIVE_HOST.program_id(axis, out)
    }
    fn num_programs(&self, axis: u8, out: &str) -> String {
        NATIVE_HOST.num_programs(axis, out)
    }
    fn lane_id(&self, out: &str) -> String {
        NATIVE_HOST.lane_id(out)
    }
    fn support_ir(&self) -> Option<&'static str> {
        NATIVE_HOST.support_ir()
    }
    fn checks_asserts(&self) -> bool {
        true
    }
    fn has_f64_transcendentals(&self) -> bool {
        self.gpu.has_f64_transcendentals()
    }
    fn traps_on_integer_division(&self) -> bool {
        true
    }
    fn shared_memory(&self, bytes: u32, out: &str) -> (String, String, &'static str) {
        NATIVE_HOST.shared_memory(bytes, out)
    }
    /// The instruction the GPU would use, simulated: every lane puts its
    /// value in its scratch slot, and after a barrier reads the slot of
    /// the lane that instruction's documented lane mapping names (lanes run
    /// on threads here). So the GPU's choice of instruction, and the
    /// uniformity its mirrors rely on, are checked on the host.
    /// The GPU's answer: the simulated code makes the GPU's choices.
    fn exchange_in_registers(&self, bit: u32) -> bool {
        self.gpu.exchange_in_registers(bit)
    }
    fn lane_exchange(&self, x: &Exchange) -> Option<String> {
        let out = x.out;
        let source = match LaneMove::for_level(x.bit, x.exact, self.gpu.wave)? {
            LaneMove::Dpp(dpp) => dpp.source_lane(x.lane, &format!("{out}_src")),
            LaneMove::PermlaneX16 => permlanex16_source(x.lane, &format!("{out}_src")),
            LaneMove::Bpermute => x.partner(),
        };
        let src = format!("%{out}_src");
        Some(format!("{source}\n{}", self.lane_read(&x.read(&src))?))
    }
    /// The GPU's `v_permlane16_b32` / `v_permlanex16_b32` simulated: the
    /// lane its selects name, read through the scratch slots.
    fn row_permute(&self, x: &RowPermute) -> Option<String> {
        if self.gpu.wave != 32 {
            return None;
        }
        let out = x.read.out;
        let source = permlane_source(x.read.lane, x.select_words(), x.other_row, &format!("{out}_src"));
        let src = format!("%{out}_src");
        Some(format!(
            "{source}\n{}",
            self.lane_read(&LaneRead { src: &src, ..x.read })?
        ))
    }
    /// `ds_bpermute` simulated: every lane puts its value in its slot and
    /// after a barrier reads lane `src`'s.
    fn lane_read(&self, x: &LaneRead) -> Option<String> {
        let (out, pty) = (x.out, x.scratch_ty);
        Some(
            [
                self.barrier(&format!("{out}_b0")),
                format!(
                    "%{out}_mine = llvm.getelementptr {}[{}] : ({pty}, i32) -> {pty}, i64",
                    x.scratch, x.lane
                ),
                format!("llvm.store {}, %{out}_mine : i32, {pty}", x.value),
                self.barrier(&format!("{out}_b1")),
                format!(
                    "%{out}_slot = llvm.getelementptr {}[{}] : ({pty}, i32) -> {pty}, i64",
                    x.scratch, x.src
                ),
                format!("%{out} = llvm.load %{out}_slot : {pty} -> i32"),
            ]
            .join("\n"),
        )
    }
    fn exchanges_use_shared_memory(&self) -> bool {
        true
    }
    fn matrix_instrs(&self, input: ScalarType) -> Vec<MatrixInstr> {
        self.gpu.matrix_instrs(input)
    }
    /// Two fragments per lane, of the widest instruction.
    fn matrix_scratch_per_lane(&self) -> u32 {
        [ScalarType::F16, ScalarType::BF16, ScalarType::F32, ScalarType::I8]
            .into_iter()
            .flat_map(|s| self.matrix_instrs(s).into_iter().map(move |i| 2 * i.fragment_bytes(s)))
            .max()
            .unwrap_or(0)
    }
    /// The instruction simulated by its documented lane mapping
    /// ([`MatrixFamily`]): every lane puts its two fragments in its slot;
    /// after a barrier, each computes the results it holds from the
    /// fragments of the lanes that hold their rows of `a` and columns of
    /// `b`, adding the products in increasing `k` (fused multiply-adds for
    /// floats, wrapping for integers).
    fn matrix(&self, x: &MatrixCall) -> Option<String> {
        if !self.matrix_instrs(x.elem).contains(&x.instr) {
            return None;
        }
        let (out, pty, e) = (x.out, x.scratch_ty, x.elem.signless());
        let (fam, k) = (x.instr.family, x.instr.k);
        let (tile, wave, len) = (fam.tile(), fam.wave(), fam.fragment(k));
        let bytes = x.elem.bytes();
        let frag_bytes = x.instr.fragment_bytes(x.elem);
        let slot = 2 * frag_bytes;
        let float = x.elem.is_float();
        let acc_ty = if float { "f32" } else { "i32" };
        let cty = format!("vector<{}x{acc_ty}>", fam.regs());
        let c = |name: &str, v: i64| format!("%{out}_{name} = llvm.mlir.constant({v} : i32) : i32");
        let mut code = vec![
            self.barrier(&format!("{out}_b0")),
            c("slot_bytes", i64::from(slot)),
            format!("%{out}_off = arith.muli {}, %{out}_slot_bytes : i32", x.lane),
            format!(
                "%{out}_slot = llvm.getelementptr {}[%{out}_off] : ({pty}, i32) -> {pty}, i8",
                x.scratch
            ),
            format!(
                "llvm.store {}, %{out}_slot {{alignment = {bytes} : i64}} : vector<{len}x{e}>, {pty}",
                x.a
            ),
            format!("%{out}_bslot = llvm.getelementptr %{out}_slot[{frag_bytes}] : ({pty}) -> {pty}, i8"),
            format!(
                "llvm.store {}, %{out}_bslot {{alignment = {bytes} : i64}} : vector<{len}x{e}>, {pty}",
                x.b
            ),
            self.barrier(&format!("{out}_b1")),
            c("lane_mask", i64::from(wave - 1)),
            c("wave_mask", !i64::from(wave - 1)),
            c("tile_mask", i64::from(tile - 1)),
            c("tile_shift", i64::from(tile.trailing_zeros())),
            c("half_rows", i64::from(fam.row_of_half(1))),
            format!("%{out}_l = arith.andi {}, %{out}_lane_mask : i32", x.lane),
            format!("%{out}_wave = arith.andi {}, %{out}_wave_mask : i32", x.lane),
            format!("%{out}_j = arith.andi %{out}_l, %{out}_tile_mask : i32"),
            format!("%{out}_h = arith.shrui %{out}_l, %{out}_tile_shift : i32"),
            format!("%{out}_hr = arith.muli %{out}_h, %{out}_half_rows : i32"),
            format!("%{out}_i0 = arith.addi %{out}_hr, %{out}_wave : i32"),
            format!("%{out}_j0 = arith.addi %{out}_j, %{out}_wave : i32"),
        ];
        // Loads element `elem` of the fragment of lane `lane_expr + lane_c`
        // (a if `second` is 0, b if `frag_bytes`), widened to `acc_ty`.
        let load = |code: &mut Vec<String>, t: &str, lane_expr: &str, lane_c: u32, elem: u32, second: u32| {
            code.push(c(&format!("{t}_c"), i64::from(lane_c)));
            code.push(format!("%{t}_l = arith.addi {lane_expr}, %{out}_{t}_c : i32"));
            code.push(format!("%{t}_o = arith.muli %{t}_l, %{out}_slot_bytes : i32"));
            code.push(format!(
                "%{t}_p0 = llvm.getelementptr {}[%{t}_o] : ({pty}, i32) -> {pty}, i8",
                x.scratch
            ));
            code.push(format!(
                "%{t}_p = llvm.getelementptr %{t}_p0[{}] : ({pty}) -> {pty}, i8",
                second + elem * bytes
            ));
            if x.elem == ScalarType::F32 {
                code.push(format!("%{t} = llvm.load %{t}_p : {pty} -> f32"));
            } else {
                code.push(format!("%{t}_x = llvm.load %{t}_p : {pty} -> {e}"));
                let widen = if float { "arith.extf" } else { "arith.extsi" };
                code.push(format!("%{t} = {widen} %{t}_x : {e} to {acc_ty}"));
            }
        };
        let mut acc = x.c.to_string();
        for r in 0..fam.regs() {
            code.push(format!(
                "%{out}_s{r}_0 = vector.extract {acc}[{r}] : {acc_ty} from {cty}"
            ));
            for kk in 0..k {
                let (lane_off, elem) = fam.operand_lane(0, kk, k);
                let t = format!("{out}_{r}_{kk}");
                let (ta, tb) = (format!("{t}_a"), format!("{t}_b"));
                // Row `row_of_half + row_of_reg(r)` of `a`, column `j` of `b`.
                load(
                    &mut code,
                    &ta,
                    &format!("%{out}_i0"),
                    lane_off + fam.row_of_reg(r),
                    elem,
                    0,
                );
                load(&mut code, &tb, &format!("%{out}_j0"), lane_off, elem, frag_bytes);
                let (sum, next) = (format!("%{out}_s{r}_{kk}"), format!("%{out}_s{r}_{}", kk + 1));
                if float {
                    code.push(format!("{next} = math.fma %{ta}, %{tb}, {sum} : f32"));
                } else {
                    code.push(format!("%{t}_p = arith.muli %{ta}, %{tb} : i32"));
                    code.push(format!("{next} = arith.addi {sum}, %{t}_p : i32"));
                }
            }
            let next = if r + 1 == fam.regs() {
                format!("%{out}")
            } else {
                format!("%{out}_acc{}", r + 1)
            };
            code.push(format!(
                "{next} = vector.insert %{out}_s{r}_{k}, {acc} [{r}] : {acc_ty} into {cty}"
            ));
            acc = next;
        }
        Some(code.join("\n"))
    }
    /// `v_readlane_b32` simulated: every lane puts its value in its slot;
    /// after a barrier each reads the named lanes of its own wave.
    fn read_lanes(&self, x: &ReadLanes) -> Option<String> {
        let (out, pty, ty) = (x.out, x.scratch_ty, x.ty);
        let mut code = vec![
            self.barrier(&format!("{out}_b0")),
            format!(
                "%{out}_mine = llvm.getelementptr {}[{}] : ({pty}, i32) -> {pty}, i64",
                x.scratch, x.lane
            ),
            format!("llvm.store {}, %{out}_mine : {ty}, {pty}", x.value),
            self.barrier(&format!("{out}_b1")),
            format!(
                "%{out}_hi = llvm.mlir.constant({} : i32) : i32",
                !(self.gpu.wave as i32 - 1)
            ),
            format!("%{out}_wave = arith.andi {}, %{out}_hi : i32", x.lane),
        ];
        for (i, l) in x.lanes.iter().enumerate() {
            code.push(format!("%{out}_{i}_lane = llvm.mlir.constant({l} : i32) : i32"));
            code.push(format!("%{out}_{i}_src = arith.ori %{out}_wave, %{out}_{i}_lane : i32"));
            code.push(format!(
                "%{out}_{i}_slot = llvm.getelementptr {}[%{out}_{i}_src] : ({pty}, i32) -> {pty}, i64",
                x.scratch
            ));
            code.push(format!("%{out}_{i} = llvm.load %{out}_{i}_slot : {pty} -> {ty}"));
        }
        Some(code.join("\n"))
    }
    fn barrier(&self, tag: &str) -> String {
        NATIVE_HOST.barrier(tag)
    }
}

/// The host target for a named CPU level of the host's architecture
/// (`x86-64`, `x86-64-v3`, ...: [`crate::llvm::host_cpu_levels`]).
fn host_for_cpu(cpu: &str) -> Result<Host, CodegenError> {
    if !crate::llvm::is_known_host_cpu(cpu) {
        return Err(CodegenError::UnknownTarget(format!(
            "unknown target `host:{cpu}`: host code for {} is built for this machine's CPU (`host`) or for one of {}",
            NATIVE_HOST.triple(),
            crate::llvm::host_cpu_levels().join(", ")
        )));
    }
    let cpu: &'static str = Box::leak(cpu.to_string().into_boxed_str());
    let name: &'static str = Box::leak(format!("host:{cpu}").into_boxed_str());
    Ok(Host {
        named: Some((cpu, name)),
    })
}

/// Finds a target by name: `host` (or `host:CPU`), a `gfx` architecture (optionally with
/// feature suffixes such as `gfx942:sramecc+:xnack-`), or `sim:gfx942`
/// for that GPU's lanes simulated on the host.
pub fn lookup(name: &str) -> Result<Box<dyn Target>, CodegenError> {
    if name == "host" || name == "cpu" {
        return Ok(Box::new(NATIVE_HOST));
    }
    if let Some(cpu) = name.strip_prefix("host:") {
        return host_for_cpu(cpu).map(|h| Box::new(h) as Box<dyn Target>);
    }
    if let Some(gpu) = name.strip_prefix("sim:") {
        let arch = gpu.split(':').next().unwrap_or(gpu);
        if let Some(g) = AMD_GPUS.iter().find(|g| g.arch == arch) {
            let name: &'static str = Box::leak(format!("sim:{}", g.arch).into_boxed_str());
            return Ok(Box::new(LaneSimulator { gpu: *g, name }));
        }
    }
    let arch = name.split(':').next().unwrap_or(name);
    AMD_GPUS
        .iter()
        .find(|g| g.arch == arch)
        .map(|g| Box::new(*g) as Box<dyn Target>)
        .ok_or_else(|| {
            let known: Vec<&str> = AMD_GPUS.iter().map(|g| g.arch).collect();
            CodegenError::UnknownTarget(format!("unknown target `{name}` (known: host, {})", known.join(", ")))
        })
}
