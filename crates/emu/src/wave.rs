//! One wave's architectural state and access to its operands.

use crate::decode::{Operand, Src};

/// Lanes are stored with a stride of 64 whatever the wave size.
pub const LANES: usize = 64;
pub const NUM_SGPRS: usize = 108;
pub const NUM_VGPRS: usize = 256;

/// Why an instruction stopped: the caller adds where.
#[derive(Debug)]
pub enum Trap {
    /// Not implemented (the text says what).
    Unimplemented(String),
    /// A fault in a lane (or the wave, `None`).
    Fault(String, Option<u32>),
}

pub type R<T> = Result<T, Trap>;

/// A read of a register no instruction (nor the launch) had written in
/// that lane: where, which register, the first such lane.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct UninitRead {
    pub pc: u32,
    /// `'v'`, `'a'` or `'s'`.
    pub file: char,
    pub reg: u16,
    pub lane: u8,
}

pub fn unimpl<T>(why: impl Into<String>) -> R<T> {
    Err(Trap::Unimplemented(why.into()))
}

#[derive(Clone, Debug)]
pub struct Wave {
    pub id: u32,
    pub wave_size: usize,
    /// GFX10 or later (DPP controls differ).
    pub gfx10: bool,
    pub pc: u32,
    pub s: Vec<u32>,
    pub vcc: u64,
    pub exec: u64,
    pub m0: u32,
    pub scc: bool,
    /// `v[reg * LANES + lane]`.
    pub v: Vec<u32>,
    pub a: Vec<u32>,
    /// Private (scratch) memory: `scratch_bytes` per lane, lane by lane.
    pub scratch: Vec<u8>,
    pub scratch_bytes: usize,
    /// Loads whose results an `s_waitcnt` has not yet covered.
    pub pending: crate::waitcnt::Pending,
    pub ended: bool,
    pub at_barrier: bool,
    pub executed: u64,
    /// Which lanes of each VGPR and AGPR have been written (bit per lane),
    /// and which SGPRs: a source read of an unwritten one is recorded in
    /// `uninit_read` (not an error: LLVM copies undefined values where
    /// nothing uses them).
    pub written_v: Vec<u64>,
    pub written_a: Vec<u64>,
    pub written_s: u128,
    /// The first read of an unwritten register, if any (the instruction
    /// loop reports it and clears it).
    pub uninit_read: std::cell::Cell<Option<UninitRead>>,
}

impl Wave {
    pub fn new(id: u32, wave_size: usize) -> Wave {
        Wave {
            id,
            wave_size,
            gfx10: false,
            pc: 0,
            s: vec![0; NUM_SGPRS],
            vcc: 0,
            exec: 0,
            m0: 0,
            scc: false,
            v: vec![0; NUM_VGPRS * LANES],
            a: vec![0; NUM_VGPRS * LANES],
            scratch: Vec::new(),
            scratch_bytes: 0,
            pending: Default::default(),
            ended: false,
            at_barrier: false,
            executed: 0,
            written_v: vec![0; NUM_VGPRS],
            written_a: vec![0; NUM_VGPRS],
            written_s: 0,
            uninit_read: std::cell::Cell::new(None),
        }
    }

    /// Marks what the launch set up (user and system SGPRs `s[..sgprs]`,
    /// the work-item id VGPRs `v[..vgprs]`) as written.
    pub fn mark_initialized(&mut self, sgprs: usize, vgprs: usize) {
        self.written_s |= if sgprs >= 128 { u128::MAX } else { (1u128 << sgprs) - 1 };
        for r in 0..vgprs.min(NUM_VGPRS) {
            self.written_v[r] = u64::MAX;
        }
    }

    fn note_read(&self, file: char, reg: usize, missing: u64) {
        if missing != 0 && self.uninit_read.get().is_none() {
            self.uninit_read.set(Some(UninitRead {
                pc: self.pc,
                file,
                reg: reg as u16,
                lane: missing.trailing_zeros() as u8,
            }));
        }
    }

    pub fn lane_mask(&self) -> u64 {
        if self.wave_size == 64 {
            u64::MAX
        } else {
            (1u64 << self.wave_size) - 1
        }
    }

    pub fn active(&self, lane: usize) -> bool {
        self.exec >> lane & 1 != 0
    }

    fn sgpr(&self, i: usize) -> R<u32> {
        let v = self
            .s
            .get(i)
            .copied()
            .ok_or_else(|| Trap::Fault(format!("SGPR s{i} out of range"), None))?;
        if self.written_s >> i & 1 == 0 {
            self.note_read('s', i, 1);
        }
        Ok(v)
    }

    /// A scalar operand's 32 bits.
    pub fn read_s32(&self, op: &Operand) -> R<u32> {
        Ok(match *op {
            Operand::Sgpr(i, _) => self.sgpr(i as usize)?,
            Operand::Vcc | Operand::VccLo => self.vcc as u32,
            Operand::VccHi => (self.vcc >> 32) as u32,
            Operand::Exec | Operand::ExecLo => self.exec as u32,
            Operand::ExecHi => (self.exec >> 32) as u32,
            Operand::M0 => self.m0,
            Operand::Null => 0,
            Operand::Scc => self.scc as u32,
            Operand::Int(v) => v as u32,
            Operand::Float(f) => inline_f32(f),
            _ => return unimpl(format!("{op:?} as a scalar operand")),
        })
    }

    /// A scalar operand's 64 bits (a register pair, `vcc`, `exec`, a
    /// constant sign-extended).
    pub fn read_s64(&self, op: &Operand) -> R<u64> {
        Ok(match *op {
            Operand::Sgpr(i, _) => self.sgpr(i as usize)? as u64 | (self.sgpr(i as usize + 1)? as u64) << 32,
            Operand::Vcc => self.vcc,
            Operand::Exec => self.exec,
            Operand::VccLo | Operand::ExecLo if self.wave_size == 32 => self.read_s32(op)? as u64,
            Operand::Null => 0,
            Operand::Int(v) => v as u64,
            Operand::Float(f) => inline_f64(f),
            _ => return unimpl(format!("{op:?} as a 64-bit scalar operand")),
        })
    }

    pub fn write_s32(&mut self, op: &Operand, v: u32) -> R<()> {
        match *op {
            Operand::Sgpr(i, _) => {
                *self
                    .s
                    .get_mut(i as usize)
                    .ok_or_else(|| Trap::Fault(format!("SGPR s{i} out of range"), None))? = v;
                self.written_s |= 1 << i;
            }
            Operand::VccLo => self.vcc = (self.vcc & !0xffff_ffff) | v as u64,
            Operand::Vcc if self.wave_size == 32 => self.vcc = v as u64,
            Operand::VccHi => self.vcc = (self.vcc & 0xffff_ffff) | (v as u64) << 32,
            Operand::ExecLo => self.exec = (self.exec & !0xffff_ffff) | v as u64,
            Operand::Exec if self.wave_size == 32 => self.exec = v as u64,
            Operand::ExecHi => self.exec = (self.exec & 0xffff_ffff) | (v as u64) << 32,
            Operand::M0 => self.m0 = v,
            Operand::Null => {}
            _ => return unimpl(format!("{op:?} as a scalar destination")),
        }
        Ok(())
    }

    pub fn write_s64(&mut self, op: &Operand, v: u64) -> R<()> {
        match *op {
            Operand::Sgpr(i, _) => {
                self.write_s32(&Operand::Sgpr(i, 1), v as u32)?;
                self.write_s32(&Operand::Sgpr(i + 1, 1), (v >> 32) as u32)?;
            }
            Operand::Vcc => self.vcc = v,
            Operand::Exec => self.exec = v & self.lane_mask(),
            Operand::VccLo | Operand::ExecLo if self.wave_size == 32 => self.write_s32(op, v as u32)?,
            Operand::Null => {}
            _ => return unimpl(format!("{op:?} as a 64-bit scalar destination")),
        }
        Ok(())
    }

    /// A lane mask operand (`vcc`, `s[0:1]`, `vcc_lo` / `s0` in wave32).
    pub fn read_mask(&self, op: &Operand) -> R<u64> {
        if self.wave_size == 32 {
            Ok(self.read_s32(op)? as u64)
        } else {
            self.read_s64(op)
        }
    }

    /// A mask destination's old value (for the lanes an instruction
    /// leaves as they were): not a read of its value, so not checked for
    /// being written.
    pub fn read_mask_old(&self, op: &Operand) -> R<u64> {
        let saved = self.uninit_read.get();
        let v = self.read_mask(op);
        self.uninit_read.set(saved);
        v
    }

    pub fn write_mask(&mut self, op: &Operand, v: u64) -> R<()> {
        if self.wave_size == 32 {
            self.write_s32(op, v as u32)
        } else {
            self.write_s64(op, v)
        }
    }

    /// A register's lanes: `v[reg]`.
    /// A VGPR (or AGPR) as a source: the lanes of EXEC must have been
    /// written (else the read is recorded).
    pub fn vreg(&self, file_a: bool, reg: usize) -> R<&[u32]> {
        let r = self.vreg_unchecked(file_a, reg)?;
        let written = if file_a {
            self.written_a[reg]
        } else {
            self.written_v[reg]
        };
        self.note_read(
            if file_a { 'a' } else { 'v' },
            reg,
            self.exec & self.lane_mask() & !written,
        );
        Ok(r)
    }

    /// A register's lanes without the check: the old value of a
    /// destination an instruction only partly writes.
    pub fn vreg_unchecked(&self, file_a: bool, reg: usize) -> R<&[u32]> {
        if reg >= NUM_VGPRS {
            return Err(Trap::Fault(format!("register {reg} out of range"), None));
        }
        let f = if file_a { &self.a } else { &self.v };
        Ok(&f[reg * LANES..(reg + 1) * LANES])
    }

    /// A register to write; the lanes of EXEC count as written from now
    /// on (an instruction writing fewer, `v_writelane`, is counted as
    /// writing them all: a read may go unreported, never falsely).
    pub fn vreg_mut(&mut self, file_a: bool, reg: usize) -> R<&mut [u32]> {
        if reg >= NUM_VGPRS {
            return Err(Trap::Fault(format!("register {reg} out of range"), None));
        }
        let lanes = self.exec & self.lane_mask();
        let (f, w) = if file_a {
            (&mut self.a, &mut self.written_a)
        } else {
            (&mut self.v, &mut self.written_v)
        };
        w[reg] |= lanes;
        Ok(&mut f[reg * LANES..(reg + 1) * LANES])
    }

    /// The 32 bits of dword `k` of a source in every lane (`float`: apply
    /// the abs/neg modifiers to the f32 sign bit; on an integer source they
    /// are not implemented).
    pub fn gather(&self, src: &Src, k: usize, float: bool) -> R<[u32; LANES]> {
        self.gather_checked(src, k, float, true)
    }

    /// Dword `k` of a destination's old value in every lane, for an
    /// instruction that writes only part of it (the rest is kept): not a
    /// read of the register's value, so not checked for being written.
    pub fn gather_old(&self, dst: &Operand, k: usize) -> R<[u32; LANES]> {
        self.gather_checked(&Src::plain(dst.clone()), k, false, false)
    }

    /// Dword `k` of an operand in every lane as it is (a source read,
    /// without abs/neg: the instruction applies its own modifiers, or the
    /// operand is an accumulator).
    pub fn gather_plain(&self, op: &Operand, k: usize) -> R<[u32; LANES]> {
        self.gather(&Src::plain(op.clone()), k, false)
    }

    fn gather_checked(&self, src: &Src, k: usize, float: bool, check: bool) -> R<[u32; LANES]> {
        let vreg = |a: bool, r: usize| {
            if check {
                self.vreg(a, r)
            } else {
                self.vreg_unchecked(a, r)
            }
        };
        let mut out = [0u32; LANES];
        match src.op {
            Operand::Vgpr(r, _) => out.copy_from_slice(vreg(false, r as usize + k)?),
            Operand::Agpr(r, _) => out.copy_from_slice(vreg(true, r as usize + k)?),
            Operand::Vgpr16(r, hi) if k == 0 => {
                if src.abs || src.neg {
                    return unimpl("abs/neg on a 16-bit register");
                }
                for (o, v) in out.iter_mut().zip(vreg(false, r as usize)?) {
                    *o = if hi { v >> 16 } else { v & 0xffff };
                }
            }
            Operand::Sgpr(r, _) => out = [self.read_s32(&Operand::Sgpr(r + k as u16, 1))?; LANES],
            ref op if k == 0 => out = [self.read_s32(op)?; LANES],
            Operand::Int(v) if k == 1 => out = [((v as u64) >> 32) as u32; LANES],
            Operand::Float(f) if k == 1 => out = [(inline_f64(f) >> 32) as u32; LANES],
            ref op => return unimpl(format!("dword {k} of {op:?}")),
        }
        float_modifiers(src, float, &mut out, 1 << 31)?;
        Ok(out)
    }

    /// A 64-bit source in every lane (a register pair or a constant).
    pub fn gather64(&self, src: &Src, float: bool) -> R<[u64; LANES]> {
        let mut out = [0u64; LANES];
        match src.op {
            Operand::Vgpr(..) | Operand::Agpr(..) | Operand::Sgpr(..) => {
                let lo = self.gather_plain(&src.op, 0)?;
                let hi = self.gather_plain(&src.op, 1)?;
                for l in 0..LANES {
                    out[l] = lo[l] as u64 | (hi[l] as u64) << 32;
                }
            }
            ref op => out = [self.read_s64(op)?; LANES],
        }
        float_modifiers(src, float, &mut out, 1 << 63)?;
        Ok(out)
    }

    /// Writes dword `k` of a vector destination in the lanes of `mask`.
    pub fn scatter(&mut self, dst: &Operand, k: usize, vals: &[u32; LANES], mask: u64) -> R<()> {
        let (file_a, r) = match *dst {
            Operand::Vgpr16(r, hi) if k == 0 => {
                let reg = self.vreg_mut(false, r as usize)?;
                for l in 0..LANES {
                    if mask >> l & 1 != 0 {
                        reg[l] = if hi {
                            (reg[l] & 0xffff) | (vals[l] & 0xffff) << 16
                        } else {
                            (reg[l] & 0xffff_0000) | (vals[l] & 0xffff)
                        };
                    }
                }
                return Ok(());
            }
            Operand::Vgpr(r, _) => (false, r),
            Operand::Agpr(r, _) => (true, r),
            ref op => return unimpl(format!("{op:?} as a vector destination")),
        };
        let reg = self.vreg_mut(file_a, r as usize + k)?;
        for l in 0..LANES {
            if mask >> l & 1 != 0 {
                reg[l] = vals[l];
            }
        }
        Ok(())
    }
}

/// The f32 bits of a floating-point inline constant.
pub fn inline_f32(f: f64) -> u32 {
    if (f.abs() - 0.159_154_94).abs() < 1e-8 {
        // 1/(2*pi), as the hardware's inline constant.
        0x3e22_f983 | if f < 0.0 { 0x8000_0000 } else { 0 }
    } else {
        (f as f32).to_bits()
    }
}

pub fn inline_f64(f: f64) -> u64 {
    if (f.abs() - 0.159_154_94).abs() < 1e-8 {
        0x3fc4_5f30_6dc9_c882 | if f < 0.0 { 1 << 63 } else { 0 }
    } else {
        f.to_bits()
    }
}

/// Applies a source's abs/neg modifiers to the sign bit `sign` of every
/// lane's value (of a float source; on an integer source they are not
/// implemented).
fn float_modifiers<T>(src: &Src, float: bool, out: &mut [T], sign: T) -> R<()>
where
    T: Copy + std::ops::BitAndAssign + std::ops::BitXorAssign + std::ops::Not<Output = T>,
{
    if !(src.abs || src.neg) {
        return Ok(());
    }
    if !float {
        return unimpl("abs/neg on an integer operand");
    }
    for x in out.iter_mut() {
        if src.abs {
            *x &= !sign;
        }
        if src.neg {
            *x ^= sign;
        }
    }
    Ok(())
}
