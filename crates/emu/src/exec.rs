//! Instruction semantics: one `match` on the mnemonic, an `Err` for
//! anything not here. Vector instructions read every lane of every source
//! before they write (so DPP, swizzles and overlapping registers see the
//! old values), and write only the lanes of EXEC.

// Per-lane loops index several arrays by lane: that is the idiom here.
#![allow(clippy::needless_range_loop)]

use std::sync::{Mutex, MutexGuard};

use crate::code_object::Arch;
use crate::decode::{Inst, Operand, Src};
use crate::matrix::{bf16_to_f32, f16_to_f32, f32_to_f16, Shape};
use crate::memory::Memory;
use crate::wave::{unimpl, Trap, Wave, LANES, R};

mod division;
mod float64;
mod packed;

/// What the machine around a wave provides.
pub struct Ctx<'a> {
    pub arch: Arch,
    /// Global memory, shared by the workgroups running on other threads
    /// (locked once per memory instruction).
    pub mem: &'a Mutex<Memory>,
    pub lds: &'a mut [u8],
}

fn lock(m: &Mutex<Memory>) -> MutexGuard<'_, Memory> {
    m.lock().unwrap_or_else(|e| e.into_inner())
}

/// What happens after an instruction.
#[derive(Debug, PartialEq)]
pub enum Flow {
    Next,
    /// Jump to this offset from the kernel's entry.
    Jump(u32),
    Barrier,
    End,
}

fn op(inst: &Inst, i: usize) -> R<&Src> {
    inst.operands
        .get(i)
        .ok_or_else(|| Trap::Unimplemented(format!("operand {i} missing")))
}

/// Every modifier must be one this instruction's semantics handle.
fn check_mods(inst: &Inst, allowed: &[&str]) -> R<()> {
    for (name, value) in &inst.modifiers {
        if !allowed.contains(&name.as_str()) {
            return unimpl(format!(
                "modifier `{name}{}{value}`",
                if value.is_empty() { "" } else { ":" }
            ));
        }
    }
    Ok(())
}

fn num(s: &str) -> R<i64> {
    let parsed = if let Some(h) = s.strip_prefix("0x") {
        i64::from_str_radix(h, 16).ok()
    } else if let Some(h) = s.strip_prefix("-0x") {
        i64::from_str_radix(h, 16).ok().map(|v| -v)
    } else {
        s.parse().ok()
    };
    parsed.ok_or_else(|| Trap::Unimplemented(format!("modifier value `{s}`")))
}

fn branch_target(inst: &Inst, wave: &Wave) -> R<u32> {
    let simm = match op(inst, 0)?.op {
        Operand::Int(v) => v as u16 as i16 as i64,
        ref o => return unimpl(format!("branch target {o:?}")),
    };
    Ok((wave.pc as i64 + 4 + simm * 4) as u32)
}

/// Executes one instruction.
pub fn step(w: &mut Wave, inst: &Inst, ctx: &mut Ctx) -> R<Flow> {
    let m = inst.base.as_str();
    if inst.dual.is_some() {
        return dual(w, inst);
    }
    if m.starts_with("s_") {
        return scalar(w, inst, ctx);
    }
    if m.starts_with("v_") {
        vector(w, inst)?;
        return Ok(Flow::Next);
    }
    if m.starts_with("ds_") {
        lds(w, inst, ctx)?;
        return Ok(Flow::Next);
    }
    if m.starts_with("global_") {
        global(w, inst, ctx)?;
        return Ok(Flow::Next);
    }
    if m.starts_with("scratch_") {
        scratch(w, inst)?;
        return Ok(Flow::Next);
    }
    if matches!(
        m,
        "buffer_gl0_inv" | "buffer_gl1_inv" | "buffer_wbinvl1" | "buffer_wbinvl1_vol" | "buffer_inv" | "buffer_wbl2"
    ) {
        // Caches are not modeled: memory operations complete at once, so
        // write-backs and invalidations have no effect.
        check_mods(inst, &["sc0", "sc1", "nt"])?;
        return Ok(Flow::Next);
    }
    if m.starts_with("buffer_") {
        buffer(w, inst, ctx)?;
        return Ok(Flow::Next);
    }
    unimpl("no semantics")
}

// ---------------------------------------------------------------- scalar

fn scalar(w: &mut Wave, inst: &Inst, ctx: &mut Ctx) -> R<Flow> {
    let m = inst.base.as_str();
    match m {
        "s_nop"
        | "s_delay_alu"
        | "s_clause"
        | "s_waitcnt_depctr"
        | "s_code_end"
        | "s_setprio"
        | "s_sleep"
        | "s_dcache_inv"
        | "s_icache_inv"
        | "s_set_inst_prefetch_distance" => return Ok(Flow::Next),
        "s_waitcnt" | "s_waitcnt_vscnt" | "s_waitcnt_vmcnt" | "s_waitcnt_lgkmcnt" | "s_waitcnt_expcnt" => {
            // Memory operations complete at once (docs/emulator.md); the
            // counters are parsed and checked to be what hardware has.
            for (name, v) in &inst.modifiers {
                if !matches!(
                    name.as_str(),
                    "vmcnt" | "lgkmcnt" | "expcnt" | "vscnt" | "null" | "0x0" | "0"
                ) {
                    return unimpl(format!("s_waitcnt counter `{name}`"));
                }
                if !v.is_empty() {
                    num(v)?;
                }
            }
            return Ok(Flow::Next);
        }
        "s_endpgm" => return Ok(Flow::End),
        "s_sendmsg" if inst.modifier("sendmsg") == Some("MSG_DEALLOC_VGPRS") => return Ok(Flow::Next),
        "s_barrier" => return Ok(Flow::Barrier),
        "s_branch" => return Ok(Flow::Jump(branch_target(inst, w)?)),
        "s_cbranch_scc0" | "s_cbranch_scc1" | "s_cbranch_vccz" | "s_cbranch_vccnz" | "s_cbranch_execz"
        | "s_cbranch_execnz" => {
            let lanes = w.lane_mask();
            let taken = match m {
                "s_cbranch_scc0" => !w.scc,
                "s_cbranch_scc1" => w.scc,
                "s_cbranch_vccz" => w.vcc & lanes == 0,
                "s_cbranch_vccnz" => w.vcc & lanes != 0,
                "s_cbranch_execz" => w.exec == 0,
                _ => w.exec != 0,
            };
            return Ok(if taken {
                Flow::Jump(branch_target(inst, w)?)
            } else {
                Flow::Next
            });
        }
        _ => {}
    }
    if m.starts_with("s_load_") || m.starts_with("s_buffer_load") {
        return scalar_load(w, inst, ctx).map(|_| Flow::Next);
    }
    check_mods(inst, &[])?;
    let dst = &op(inst, 0)?.op;
    let s32 = |w: &Wave, i: usize| -> R<u32> { w.read_s32(&op(inst, i)?.op) };
    let s64 = |w: &Wave, i: usize| -> R<u64> { w.read_s64(&op(inst, i)?.op) };
    // Binary 32-bit operations with SCC = result != 0.
    let bit32: Option<fn(u32, u32) -> u32> = match m {
        "s_and_b32" => Some(|a, b| a & b),
        "s_or_b32" => Some(|a, b| a | b),
        "s_xor_b32" => Some(|a, b| a ^ b),
        "s_andn2_b32" | "s_and_not1_b32" => Some(|a, b| a & !b),
        "s_orn2_b32" | "s_or_not1_b32" => Some(|a, b| a | !b),
        "s_nand_b32" => Some(|a, b| !(a & b)),
        "s_nor_b32" => Some(|a, b| !(a | b)),
        "s_xnor_b32" => Some(|a, b| !(a ^ b)),
        "s_lshl_b32" => Some(|a, b| a << (b & 31)),
        "s_lshr_b32" => Some(|a, b| a >> (b & 31)),
        "s_ashr_i32" => Some(|a, b| ((a as i32) >> (b & 31)) as u32),
        _ => None,
    };
    if let Some(f) = bit32 {
        let r = f(s32(w, 1)?, s32(w, 2)?);
        w.write_s32(dst, r)?;
        w.scc = r != 0;
        return Ok(Flow::Next);
    }
    let bit64: Option<fn(u64, u64) -> u64> = match m {
        "s_and_b64" => Some(|a, b| a & b),
        "s_or_b64" => Some(|a, b| a | b),
        "s_xor_b64" => Some(|a, b| a ^ b),
        "s_andn2_b64" | "s_and_not1_b64" => Some(|a, b| a & !b),
        "s_orn2_b64" | "s_or_not1_b64" => Some(|a, b| a | !b),
        "s_nand_b64" => Some(|a, b| !(a & b)),
        "s_nor_b64" => Some(|a, b| !(a | b)),
        "s_xnor_b64" => Some(|a, b| !(a ^ b)),
        _ => None,
    };
    if let Some(f) = bit64 {
        let r = f(s64(w, 1)?, s64(w, 2)?);
        w.write_s64(dst, r)?;
        w.scc = r != 0;
        return Ok(Flow::Next);
    }
    match m {
        "s_lshl_b64" | "s_lshr_b64" | "s_ashr_i64" => {
            let (a, b) = (s64(w, 1)?, s32(w, 2)? & 63);
            let r = match m {
                "s_lshl_b64" => a << b,
                "s_lshr_b64" => a >> b,
                _ => ((a as i64) >> b) as u64,
            };
            w.write_s64(dst, r)?;
            w.scc = r != 0;
        }
        "s_mov_b32" => {
            let v = s32(w, 1)?;
            w.write_s32(dst, v)?
        }
        "s_mov_b64" => {
            let v = s64(w, 1)?;
            w.write_s64(dst, v)?
        }
        "s_not_b32" => {
            let r = !s32(w, 1)?;
            w.write_s32(dst, r)?;
            w.scc = r != 0;
        }
        "s_not_b64" => {
            let r = !s64(w, 1)?;
            w.write_s64(dst, r)?;
            w.scc = r != 0;
        }
        "s_brev_b32" => {
            let v = s32(w, 1)?.reverse_bits();
            w.write_s32(dst, v)?
        }
        "s_add_u32" | "s_addc_u32" | "s_sub_u32" | "s_subb_u32" => {
            let (a, b) = (s32(w, 1)? as u64, s32(w, 2)? as u64);
            let c = u64::from(w.scc && (m == "s_addc_u32" || m == "s_subb_u32"));
            let (r, carry) = if m.starts_with("s_add") {
                let r = a + b + c;
                (r as u32, r >> 32 != 0)
            } else {
                (a.wrapping_sub(b).wrapping_sub(c) as u32, b + c > a)
            };
            w.write_s32(dst, r)?;
            w.scc = carry;
        }
        "s_add_i32" | "s_sub_i32" => {
            let (a, b) = (s32(w, 1)? as i32, s32(w, 2)? as i32);
            let (r, o) = if m == "s_add_i32" {
                a.overflowing_add(b)
            } else {
                a.overflowing_sub(b)
            };
            w.write_s32(dst, r as u32)?;
            w.scc = o;
        }
        // D = (S0 << n) + S1; SCC is the carry out of the 32-bit result
        // (the shifted-out bits included).
        "s_lshl1_add_u32" | "s_lshl2_add_u32" | "s_lshl3_add_u32" | "s_lshl4_add_u32" => {
            let n = u32::from(m.as_bytes()[6] - b'0');
            let r = ((s32(w, 1)? as u64) << n) + s32(w, 2)? as u64;
            w.write_s32(dst, r as u32)?;
            w.scc = r >> 32 != 0;
        }
        "s_mul_i32" => {
            let r = s32(w, 1)?.wrapping_mul(s32(w, 2)?);
            w.write_s32(dst, r)?
        }
        "s_mul_hi_u32" => {
            let r = (s32(w, 1)? as u64 * s32(w, 2)? as u64) >> 32;
            w.write_s32(dst, r as u32)?
        }
        "s_mul_hi_i32" => {
            let r = (s32(w, 1)? as i32 as i64 * s32(w, 2)? as i32 as i64) >> 32;
            w.write_s32(dst, r as u32)?
        }
        "s_min_i32" | "s_max_i32" | "s_min_u32" | "s_max_u32" => {
            let (a, b) = (s32(w, 1)?, s32(w, 2)?);
            let r = match m {
                "s_min_i32" => (a as i32).min(b as i32) as u32,
                "s_max_i32" => (a as i32).max(b as i32) as u32,
                "s_min_u32" => a.min(b),
                _ => a.max(b),
            };
            w.scc = match m {
                "s_min_i32" => (a as i32) < (b as i32),
                "s_max_i32" => (a as i32) > (b as i32),
                "s_min_u32" => a < b,
                _ => a > b,
            };
            w.write_s32(dst, r)?;
        }
        "s_abs_i32" => {
            let r = (s32(w, 1)? as i32).wrapping_abs() as u32;
            w.write_s32(dst, r)?;
            w.scc = r != 0;
        }
        "s_cselect_b32" => {
            let v = if w.scc { s32(w, 1)? } else { s32(w, 2)? };
            w.write_s32(dst, v)?
        }
        "s_cselect_b64" => {
            let v = if w.scc { s64(w, 1)? } else { s64(w, 2)? };
            w.write_s64(dst, v)?
        }
        "s_bfe_u32" | "s_bfe_i32" => {
            let (a, b) = (s32(w, 1)?, s32(w, 2)?);
            let (off, width) = (b & 31, (b >> 16) & 0x7f);
            let r = if width == 0 {
                0
            } else if m == "s_bfe_u32" {
                ((a as u64 >> off) & ((1u64 << width.min(32)) - 1)) as u32
            } else {
                let sh = 32 - width.min(32);
                (((a >> off) << sh) as i32 >> sh) as u32
            };
            w.write_s32(dst, r)?;
            w.scc = r != 0;
        }
        "s_movk_i32" => {
            let v = s32(w, 1)? as u16 as i16 as i32 as u32;
            w.write_s32(dst, v)?
        }
        "s_addk_i32" | "s_mulk_i32" => {
            let (a, k) = (s32(w, 0)? as i32, s32(w, 1)? as u16 as i16 as i32);
            if m == "s_addk_i32" {
                let (r, o) = a.overflowing_add(k);
                w.write_s32(dst, r as u32)?;
                w.scc = o;
            } else {
                w.write_s32(dst, a.wrapping_mul(k) as u32)?;
            }
        }
        _ if m.starts_with("s_cmpk_") => {
            let ty = &m[m.len() - 3..];
            let cond = &m[7..m.len() - 4];
            let k = s32(w, 1)? as u16;
            w.scc = match ty {
                "i32" => cmp_int(cond, s32(w, 0)? as i32 as i128, k as i16 as i128)?,
                "u32" => cmp_int(cond, s32(w, 0)? as i128, k as i128)?,
                _ => return unimpl("comparison type"),
            };
        }
        _ if m.starts_with("s_cmp_") => {
            let ty = &m[m.len() - 3..];
            let cond = &m[6..m.len() - 4];
            let r = if ty == "u64" {
                cmp_int(cond, s64(w, 0)? as i128, s64(w, 1)? as i128)?
            } else if ty == "i32" {
                cmp_int(cond, s32(w, 0)? as i32 as i128, s32(w, 1)? as i32 as i128)?
            } else if ty == "u32" {
                cmp_int(cond, s32(w, 0)? as i128, s32(w, 1)? as i128)?
            } else {
                return unimpl("comparison type");
            };
            w.scc = r;
        }
        _ if m.ends_with("_saveexec_b64") || m.ends_with("_saveexec_b32") => {
            let wide = m.ends_with("b64");
            let src = if wide { s64(w, 1)? } else { s32(w, 1)? as u64 };
            let exec = w.exec;
            let new = match &m[2..m.len() - 13] {
                "and" => src & exec,
                "or" => src | exec,
                "xor" => src ^ exec,
                "andn2" | "and_not1" => src & !exec,
                "andn1" | "not0_and" => !src & exec,
                "orn2" | "or_not1" => src | !exec,
                _ => return unimpl("saveexec operation"),
            } & w.lane_mask();
            w.write_mask(dst, exec)?;
            w.exec = new;
            w.scc = new != 0;
        }
        _ => return unimpl("no semantics"),
    }
    Ok(Flow::Next)
}

fn cmp_int(cond: &str, a: i128, b: i128) -> R<bool> {
    Ok(match cond {
        "eq" => a == b,
        "lg" | "ne" => a != b,
        "gt" => a > b,
        "ge" => a >= b,
        "lt" => a < b,
        "le" => a <= b,
        "t" | "tru" => true,
        "f" => false,
        _ => return unimpl(format!("comparison `{cond}`")),
    })
}

// The negated comparisons are true on NaN, as the ISA's are.
#[allow(clippy::neg_cmp_op_on_partial_ord, clippy::double_comparisons)]
fn cmp_float(cond: &str, a: f64, b: f64) -> R<bool> {
    let un = a.is_nan() || b.is_nan();
    Ok(match cond {
        "f" => false,
        "lt" => a < b,
        "eq" => a == b,
        "le" => a <= b,
        "gt" => a > b,
        "lg" => a < b || a > b,
        "ge" => a >= b,
        "o" => !un,
        "u" => un,
        "nge" => !(a >= b),
        "nlg" => !(a < b || a > b),
        "ngt" => !(a > b),
        "nle" => !(a <= b),
        "neq" => a != b,
        "nlt" => !(a < b),
        "tru" | "t" => true,
        _ => return unimpl(format!("comparison `{cond}`")),
    })
}

/// Bytes of an `s_load_*` / `global_*` / `buffer_*` / `ds_*` access by
/// its suffix (`dwordx4`, `b128`, `dword`, `b32`, ...).
fn access_bytes(m: &str) -> R<usize> {
    let suffix = m.rsplit('_').next().unwrap_or("");
    Ok(match suffix {
        "dword" | "b32" => 4,
        "dwordx2" | "b64" => 8,
        "dwordx3" | "b96" => 12,
        "dwordx4" | "b128" => 16,
        "dwordx8" | "b256" => 32,
        "dwordx16" | "b512" => 64,
        _ => return unimpl(format!("access size `{suffix}`")),
    })
}

fn scalar_load(w: &mut Wave, inst: &Inst, ctx: &mut Ctx) -> R<()> {
    check_mods(inst, &["glc", "dlc", "offset"])?;
    let m = inst.base.as_str();
    if m.starts_with("s_buffer") {
        return unimpl("scalar buffer loads");
    }
    let bytes = access_bytes(m)?;
    let base = w.read_s64(&op(inst, 1)?.op)?;
    let off = match op(inst, 2)?.op {
        Operand::Int(v) => v as u64,
        ref o => w.read_s32(o)? as u64,
    };
    let extra = inst.modifier("offset").map(num).transpose()?.unwrap_or(0) as u64;
    let addr = (base.wrapping_add(off).wrapping_add(extra)) & !3;
    let mut buf = vec![0u8; bytes];
    lock(ctx.mem).read(addr, &mut buf).ok_or_else(|| {
        Trap::Fault(
            format!("scalar load of {bytes} bytes at {addr:#x} outside every buffer"),
            None,
        )
    })?;
    let first = match op(inst, 0)?.op {
        Operand::Sgpr(r, _) => r,
        ref o => return unimpl(format!("scalar load into {o:?}")),
    };
    for (k, c) in buf.chunks_exact(4).enumerate() {
        w.write_s32(
            &Operand::Sgpr(first + k as u16, 1),
            u32::from_le_bytes(c.try_into().unwrap()),
        )?;
    }
    Ok(())
}

// ---------------------------------------------------------------- vector

fn f(x: u32) -> f32 {
    f32::from_bits(x)
}

/// v_max_f32 / v_min_f32 in IEEE mode: a NaN operand yields the other
/// (quieted if both are NaN); -0 < +0.
fn fmax(a: f32, b: f32) -> f32 {
    if a.is_nan() {
        return if b.is_nan() { f32::NAN } else { b };
    }
    if b.is_nan() {
        return a;
    }
    if a == b {
        return if a.is_sign_negative() { b } else { a };
    }
    if a > b {
        a
    } else {
        b
    }
}

fn fmin(a: f32, b: f32) -> f32 {
    if a.is_nan() {
        return if b.is_nan() { f32::NAN } else { b };
    }
    if b.is_nan() {
        return a;
    }
    if a == b {
        return if a.is_sign_negative() { a } else { b };
    }
    if a < b {
        a
    } else {
        b
    }
}

/// A binary f16 operation on the low halves of `a` and `b`, computed in
/// f64 (where the caller's operation is exact) and rounded once to f16
/// (with `clamp`, to [0, 1]).
fn h2(inst: &Inst, a: u32, b: u32, op: impl Fn(f64, f64) -> f64) -> u32 {
    let (x, y) = (f16_to_f32(a as u16) as f64, f16_to_f32(b as u16) as f64);
    let mut r = op(x, y);
    if inst.modifier("clamp").is_some() {
        r = if r.is_nan() { 0.0 } else { r.clamp(0.0, 1.0) };
    }
    f64_to_f16(r) as u32
}

/// A three-operand f16 min/max on the low halves (exact in f32).
fn h3(a: u32, b: u32, c: u32, op: impl Fn(f32, f32, f32) -> f32) -> u32 {
    let g = |x: u32| f16_to_f32(x as u16);
    f32_to_f16(op(g(a), g(b), g(c))) as u32
}

/// Rounds an f64 to the nearest f16 (ties to even), once.
pub(crate) fn f64_to_f16(x: f64) -> u16 {
    let sign = if x.is_sign_negative() { 0x8000u16 } else { 0 };
    let a = x.abs();
    if a.is_nan() {
        return sign | 0x7e00;
    }
    // 65520 is halfway between 65504 (the largest f16) and 2^16.
    if a >= 65520.0 {
        return sign | 0x7c00;
    }
    if a < 2f64.powi(-14) {
        // Denormal (or zero): units of 2^-24; 1024 is the smallest normal.
        return sign | (a * 2f64.powi(24)).round_ties_even() as u16;
    }
    let mut e = ((a.to_bits() >> 52) & 0x7ff) as i32 - 1023;
    let mut m = (a * 2f64.powi(10 - e)).round_ties_even() as u32;
    if m == 2048 {
        m = 1024;
        e += 1;
    }
    sign | (((e + 15) as u16) << 10) | (m - 1024) as u16
}

fn i16_of(x: u32) -> i16 {
    x as u16 as i16
}

/// The middle of three (the ISA's `v_med3`: max(min(a, b), min(max(a, b), c))).
fn med3<T: Ord + Copy>(a: T, b: T, c: T) -> T {
    a.min(b).max(a.max(b).min(c))
}

fn ldexp(x: f32, n: i32) -> f32 {
    if x.is_nan() || x.is_infinite() || x == 0.0 {
        return x;
    }
    // Exact in f64 for |n| <= 300; one rounding to f32.
    (x as f64 * 2f64.powi(n.clamp(-300, 300))) as f32
}

/// `frexp` of an f32: the mantissa in [0.5, 1) with the sign of x, and
/// the exponent; NaN, infinities and zeros as they are, with exponent 0.
fn frexp_f32(x: f32) -> (f32, i32) {
    if x.is_nan() || x.is_infinite() || x == 0.0 {
        return (x, 0);
    }
    let (scaled, bias) = if is_denorm(x) { (x * 2f32.powi(32), 32) } else { (x, 0) };
    let e = exponent(scaled) - 126;
    let mant = f32::from_bits((scaled.to_bits() & !(0xff << 23)) | (126 << 23));
    (mant, e - bias)
}

fn exponent(x: f32) -> i32 {
    ((x.to_bits() >> 23) & 0xff) as i32
}

fn is_denorm(x: f32) -> bool {
    x != 0.0 && exponent(x) == 0
}

/// The DPP source lane of `lane` for the control, or `None` when it is
/// out of range. `row_mask`/`bank_mask` are applied by the caller.
fn dpp_source(ctrl: &str, v: &str, lane: usize, wave: usize, gfx10: bool) -> R<Option<usize>> {
    let row = lane & !15;
    let l = lane & 15;
    let n = || -> R<usize> { Ok(num(v)? as usize) };
    Ok(match ctrl {
        "quad_perm" => {
            let sel: Vec<usize> = v
                .trim_matches(|c| c == '[' || c == ']')
                .split(',')
                .map(|s| {
                    s.trim()
                        .parse()
                        .map_err(|_| Trap::Unimplemented(format!("quad_perm `{v}`")))
                })
                .collect::<R<_>>()?;
            if sel.len() != 4 {
                return unimpl(format!("quad_perm `{v}`"));
            }
            Some((lane & !3) | sel[lane & 3])
        }
        "row_shl" => (l + n()? < 16).then(|| lane + n().unwrap_or(0)),
        "row_shr" => (l >= n()?).then(|| lane - n().unwrap_or(0)),
        "row_ror" => Some(row | ((l + 16 - (n()? & 15)) & 15)),
        "row_mirror" => Some(row | (15 - l)),
        "row_half_mirror" => Some((lane & !7) | (7 - (lane & 7))),
        "row_share" if gfx10 => Some(row | (n()? & 15)),
        "row_xmask" if gfx10 => Some(row | (l ^ (n()? & 15))),
        "wave_shl" if !gfx10 => (lane + 1 < wave).then_some(lane + 1),
        "wave_shr" if !gfx10 => lane.checked_sub(1),
        "wave_rol" if !gfx10 => Some((lane + 1) % wave),
        "wave_ror" if !gfx10 => Some((lane + wave - 1) % wave),
        "row_bcast" if !gfx10 => match n()? {
            15 => (row >= 16).then(|| row - 1),
            31 => (row >= 32).then_some(31),
            _ => return unimpl(format!("row_bcast:{v}")),
        },
        _ => return unimpl(format!("DPP control `{ctrl}:{v}`")),
    })
}

/// Applies a DPP modifier to source 0: returns its permuted lanes and the
/// lanes that may be written.
fn dpp(w: &Wave, inst: &Inst, src0: &[u32; LANES], gfx10: bool) -> R<([u32; LANES], u64)> {
    let mut row_mask = 0xf;
    let mut bank_mask = 0xf;
    let mut bound_ctrl = false;
    let mut fetch_inactive = false;
    let mut ctrl = None;
    for (name, v) in &inst.modifiers {
        match name.as_str() {
            "row_mask" => row_mask = num(v)?,
            "bank_mask" => bank_mask = num(v)?,
            "bound_ctrl" => bound_ctrl = num(v)? != 0,
            "fi" => fetch_inactive = num(v)? != 0,
            "clamp" => {}
            _ if ctrl.is_none() => ctrl = Some((name.as_str(), v.as_str())),
            _ => return unimpl(format!("second DPP control `{name}`")),
        }
    }
    let (c, v) = ctrl.ok_or_else(|| Trap::Unimplemented("DPP without a control".into()))?;
    let mut out = [0u32; LANES];
    let mut writable = 0u64;
    for lane in 0..w.wave_size {
        if row_mask >> (lane / 16) & 1 == 0 || bank_mask >> ((lane >> 2) & 3) & 1 == 0 {
            continue;
        }
        let src =
            dpp_source(c, v, lane, w.wave_size, gfx10)?.filter(|&s| s < w.wave_size && (fetch_inactive || w.active(s)));
        match src {
            Some(s) => {
                out[lane] = src0[s];
                writable |= 1 << lane;
            }
            None if bound_ctrl => writable |= 1 << lane,
            None => {}
        }
    }
    Ok((out, writable))
}

/// Applies output modifiers of a float result.
fn clamp_f32(inst: &Inst, x: f32) -> f32 {
    if inst.modifier("clamp").is_some() {
        if x.is_nan() {
            0.0
        } else {
            x.clamp(0.0, 1.0)
        }
    } else {
        x
    }
}

/// Runs the two halves of a GFX11 `v_dual_*`: both read before either
/// writes.
fn dual(w: &mut Wave, inst: &Inst) -> R<Flow> {
    let second = inst.dual.as_ref().unwrap();
    let mut x = inst.clone();
    x.dual = None;
    let mut y = (**second).clone();
    for i in [&mut x, &mut y] {
        let name = i
            .mnemonic
            .strip_prefix("v_dual_")
            .ok_or_else(|| Trap::Unimplemented("dual".into()))?;
        i.base = format!("v_{name}");
        i.encoding = "e32";
    }
    // X runs, its result is set aside and its destination restored, so
    // that Y reads the old values; then X's result is written.
    let xdst = op(&x, 0)?.op.clone();
    let old = w.gather_old(&xdst, 0)?;
    vector(w, &x)?;
    let new = w.gather_old(&xdst, 0)?;
    w.scatter(&xdst, 0, &old, u64::MAX)?;
    vector(w, &y)?;
    w.scatter(&xdst, 0, &new, u64::MAX)?;
    Ok(Flow::Next)
}

fn vector(w: &mut Wave, inst: &Inst) -> R<()> {
    let m = inst.base.as_str();
    let exec = w.exec;
    if inst.encoding == "sdwa"
        && !m.starts_with("v_cmp_")
        && !m.starts_with("v_cmpx_")
        && (matches!(
            m,
            "v_readlane_b32"
                | "v_readfirstlane_b32"
                | "v_writelane_b32"
                | "v_permlanex16_b32"
                | "v_permlane16_b32"
                | "v_mbcnt_lo_u32_b32"
                | "v_mbcnt_hi_u32_b32"
                | "v_mad_u64_u32"
                | "v_mad_i64_i32"
                | "v_pack_b32_f16"
                | "v_fmac_f32"
                | "v_mac_f32"
                | "v_fma_mix_f32"
                | "v_fma_mixlo_f16"
                | "v_fma_mixhi_f16"
        ) || m.starts_with("v_pk_")
            || m.starts_with("v_mfma_")
            || m.starts_with("v_wmma_")
            || m.ends_with("_b64")
            || m.ends_with("_u64")
            || m.ends_with("_i64")
            || m.ends_with("_f64"))
    {
        return unimpl("SDWA form of this instruction");
    }
    if matches!(m, "v_fma_mix_f32" | "v_fma_mixlo_f16" | "v_fma_mixhi_f16") {
        return fma_mix(w, inst);
    }
    // Lane-crossing and scalar-result instructions first.
    match m {
        "v_readlane_b32" | "v_readfirstlane_b32" => {
            check_mods(inst, &[])?;
            let src = w.gather(op(inst, 1)?, 0, false)?;
            let lane = if m == "v_readfirstlane_b32" {
                if exec == 0 {
                    0
                } else {
                    exec.trailing_zeros() as usize
                }
            } else {
                w.read_s32(&op(inst, 2)?.op)? as usize % w.wave_size
            };
            return w.write_s32(&op(inst, 0)?.op, src[lane]);
        }
        "v_writelane_b32" => {
            check_mods(inst, &[])?;
            let v = w.read_s32(&op(inst, 1)?.op)?;
            let lane = w.read_s32(&op(inst, 2)?.op)? as usize % w.wave_size;
            let mut vals = w.gather_old(&op(inst, 0)?.op, 0)?;
            vals[lane] = v;
            return w.scatter(&op(inst, 0)?.op.clone(), 0, &vals, 1 << lane);
        }
        "v_permlanex16_b32" | "v_permlane16_b32" => {
            check_mods(inst, &["op_sel"])?;
            let (fi, bc) = match inst.modifier("op_sel") {
                Some(v) => {
                    let b: Vec<&str> = v.trim_matches(|c| c == '[' || c == ']').split(',').collect();
                    (b.first() == Some(&"1"), b.get(1) == Some(&"1"))
                }
                None => (false, false),
            };
            let src = w.gather(op(inst, 1)?, 0, false)?;
            let (s1, s2) = (w.read_s32(&op(inst, 2)?.op)?, w.read_s32(&op(inst, 3)?.op)?);
            let old = w.gather_old(&op(inst, 0)?.op, 0)?;
            let mut out = old;
            for lane in 0..w.wave_size {
                let j = lane & 15;
                let sel = if j < 8 {
                    (s1 >> (4 * j)) & 15
                } else {
                    (s2 >> (4 * (j - 8))) & 15
                } as usize;
                let row = if m == "v_permlanex16_b32" {
                    (lane & !15) ^ 16
                } else {
                    lane & !15
                };
                let s = row | sel;
                if s < w.wave_size && (fi || w.active(s)) {
                    out[lane] = src[s];
                } else if bc {
                    out[lane] = 0;
                }
            }
            return w.scatter(&op(inst, 0)?.op.clone(), 0, &out, exec);
        }
        "v_mbcnt_lo_u32_b32" | "v_mbcnt_hi_u32_b32" => {
            check_mods(inst, &[])?;
            let mask = w.read_s32(&op(inst, 1)?.op)? as u64;
            let add = w.gather(op(inst, 2)?, 0, false)?;
            let mut out = [0u32; LANES];
            for (lane, o) in out.iter_mut().enumerate() {
                let (bits, below) = if m.contains("_lo_") {
                    (lane.min(32), mask)
                } else {
                    (lane.saturating_sub(32), mask)
                };
                let below = if bits == 0 {
                    0
                } else {
                    (below & ((1u64 << bits) - 1)).count_ones()
                };
                *o = below.wrapping_add(add[lane]);
            }
            return w.scatter(&op(inst, 0)?.op.clone(), 0, &out, exec);
        }
        _ => {}
    }
    if m.starts_with("v_mfma_") || m.starts_with("v_wmma_") {
        return matrix_op(w, inst);
    }
    if float64::handles(m) {
        return float64::vector(w, inst);
    }
    if m == "v_mad_u64_u32" || m == "v_mad_i64_i32" {
        check_mods(inst, &[])?;
        let a = w.gather(op(inst, 2)?, 0, false)?;
        let b = w.gather(op(inst, 3)?, 0, false)?;
        let c = w.gather64(op(inst, 4)?, false)?;
        let mut lo = [0u32; LANES];
        let mut hi = [0u32; LANES];
        let mut carry = 0u64;
        for l in 0..LANES {
            let r: u128 = if m == "v_mad_u64_u32" {
                a[l] as u128 * b[l] as u128 + c[l] as u128
            } else {
                (a[l] as i32 as i128 * b[l] as i32 as i128 + c[l] as i64 as i128) as u128
            };
            lo[l] = r as u32;
            hi[l] = (r >> 32) as u32;
            let over = if m == "v_mad_u64_u32" {
                r >> 64 != 0
            } else {
                let v = a[l] as i32 as i128 * b[l] as i32 as i128 + c[l] as i64 as i128;
                v < i64::MIN as i128 || v > i64::MAX as i128
            };
            if over {
                carry |= 1 << l;
            }
        }
        let dst = op(inst, 0)?.op.clone();
        let sd = op(inst, 1)?.op.clone();
        let old = w.read_mask_old(&sd).unwrap_or(0);
        w.write_mask(&sd, (old & !exec) | (carry & exec))?;
        w.scatter(&dst, 0, &lo, exec)?;
        return w.scatter(&dst, 1, &hi, exec);
    }
    if m == "v_pack_b32_f16" {
        check_mods(inst, &["op_sel"])?;
        let sel: Vec<bool> = match inst.modifier("op_sel") {
            Some(v) => v
                .trim_matches(|c| c == '[' || c == ']')
                .split(',')
                .map(|b| b.trim() == "1")
                .collect(),
            None => vec![false; 3],
        };
        if sel.get(2) == Some(&true) {
            return unimpl("op_sel on the destination");
        }
        let half = |s: &Src, hi: bool| -> R<[u32; LANES]> {
            let mut x = w.gather_plain(&s.op, 0)?;
            for v in x.iter_mut() {
                let mut h = if hi { *v >> 16 } else { *v & 0xffff };
                if s.abs {
                    h &= 0x7fff;
                }
                if s.neg {
                    h ^= 0x8000;
                }
                *v = h;
            }
            Ok(x)
        };
        let a = half(op(inst, 1)?, sel.first() == Some(&true))?;
        let b = half(op(inst, 2)?, sel.get(1) == Some(&true))?;
        let out: [u32; LANES] = std::array::from_fn(|l| a[l] | b[l] << 16);
        return w.scatter(&op(inst, 0)?.op.clone(), 0, &out, exec);
    }
    if let Some(cond) = m.strip_prefix("v_cmp_").or_else(|| m.strip_prefix("v_cmpx_")) {
        return compare(w, inst, cond, m.starts_with("v_cmpx_"));
    }
    if m.starts_with("v_pk_") {
        return packed::vector(w, inst);
    }
    // Ordinary per-lane operations: destinations, then sources.
    let has_carry_out = matches!(
        m,
        "v_add_co_u32"
            | "v_sub_co_u32"
            | "v_subrev_co_u32"
            | "v_addc_co_u32"
            | "v_subb_co_u32"
            | "v_subbrev_co_u32"
            | "v_add_co_ci_u32"
            | "v_sub_co_ci_u32"
            | "v_subrev_co_ci_u32"
            | "v_div_scale_f32"
    ) || (m == "v_add_u32" || m == "v_sub_u32") && inst.operands.len() == 4;
    let dst = op(inst, 0)?.op.clone();
    let sdst = if has_carry_out {
        Some(op(inst, 1)?.op.clone())
    } else {
        None
    };
    let first_src = if has_carry_out { 2 } else { 1 };
    let nsrc = inst.operands.len() - first_src;
    let float_op = m.contains("_f32") || m.contains("_f16") || m.contains("_f64");
    // Allowed modifiers: DPP controls on a `_dpp` encoding, clamp on floats.
    // GFX11 true16: `op_sel` that only restates the `.l`/`.h` halves
    // printed on the registers.
    let op_sel_ok = match inst.modifier("op_sel") {
        Some(v) => {
            let bits: Vec<bool> = v
                .trim_matches(|c| c == '[' || c == ']')
                .split(',')
                .map(|b| b.trim() == "1")
                .collect();
            let hi = |o: &Operand| matches!(o, Operand::Vgpr16(_, true));
            let srcs_hi: Vec<bool> = inst.operands[first_src..].iter().map(|s| hi(&s.op)).collect();
            bits.len() == srcs_hi.len() + 1 && bits[..srcs_hi.len()] == srcs_hi[..] && bits[srcs_hi.len()] == hi(&dst)
        }
        None => false,
    };
    let allowed: &[&str] = match (float_op, op_sel_ok) {
        (true, true) => &["clamp", "op_sel"],
        (true, false) => &["clamp"],
        (false, true) => &["op_sel"],
        (false, false) => &[],
    };
    let sdwa = inst.encoding == "sdwa";
    if sdwa {
        let mut with_sdwa = allowed.to_vec();
        with_sdwa.extend(SDWA_MODS);
        check_mods(inst, &with_sdwa)?;
    } else if inst.encoding != "dpp" {
        // (DPP modifiers are checked by dpp().)
        check_mods(inst, allowed)?;
    }
    let half_op = is_16bit(m);
    let mut srcs: Vec<[u32; LANES]> = Vec::with_capacity(nsrc);
    for i in 0..nsrc {
        srcs.push(if sdwa || half_op {
            sdwa_src(w, inst, first_src, i)?
        } else {
            // (`v_cndmask_b32`'s VOP3 form takes float abs/neg.)
            w.gather(op(inst, first_src + i)?, 0, float_op || m == "v_cndmask_b32")?
        });
    }
    // 16-bit results: GFX9 zeroes the high half of a 32-bit destination;
    // GFX10+ (not modeled) writes only the low half, so only true16
    // halves are accepted there.
    if half_op && !m.starts_with("v_cvt_f32_") && m != "v_mov_b16" && w.gfx10 && !matches!(dst, Operand::Vgpr16(..)) {
        return unimpl("a 16-bit result in a 32-bit register on GFX10+");
    }
    let mut mask = exec;
    if inst.encoding == "dpp" {
        let (permuted, writable) = dpp(w, inst, &srcs[0], w.gfx10)?;
        srcs[0] = permuted;
        mask &= writable;
    }
    let src = |i: usize| -> R<&[u32; LANES]> {
        srcs.get(i)
            .ok_or_else(|| Trap::Unimplemented(format!("source {i} missing")))
    };
    let mut out = [0u32; LANES];
    let mut carry_out = 0u64;
    macro_rules! lanes1 {
        ($e:expr) => {{
            let a = src(0)?;
            for l in 0..LANES {
                let x = a[l];
                out[l] = $e(x);
            }
        }};
    }
    macro_rules! lanes2 {
        ($e:expr) => {{
            let (a, b) = (src(0)?, src(1)?);
            for l in 0..LANES {
                out[l] = $e(a[l], b[l]);
            }
        }};
    }
    macro_rules! lanes3 {
        ($e:expr) => {{
            let (a, b, c) = (src(0)?, src(1)?, src(2)?);
            for l in 0..LANES {
                out[l] = $e(a[l], b[l], c[l]);
            }
        }};
    }
    macro_rules! f1 {
        ($e:expr) => {
            lanes1!(|x: u32| clamp_f32(inst, $e(f(x))).to_bits())
        };
    }
    macro_rules! f2 {
        ($e:expr) => {
            lanes2!(|x: u32, y: u32| clamp_f32(inst, $e(f(x), f(y))).to_bits())
        };
    }
    macro_rules! f3 {
        ($e:expr) => {
            lanes3!(|x: u32, y: u32, z: u32| clamp_f32(inst, $e(f(x), f(y), f(z))).to_bits())
        };
    }
    match m {
        "v_mov_b32" => lanes1!(|x| x),
        "v_mov_b16" => lanes1!(|x: u32| x & 0xffff),
        // Moves between VGPRs and AGPRs (gfx90a/gfx942).
        "v_accvgpr_write_b32" | "v_accvgpr_read_b32" | "v_accvgpr_mov_b32" => lanes1!(|x| x),
        "v_not_b32" => lanes1!(|x: u32| !x),
        "v_bfrev_b32" => lanes1!(|x: u32| x.reverse_bits()),
        "v_ffbh_u32" => lanes1!(|x: u32| if x == 0 { u32::MAX } else { x.leading_zeros() }),
        "v_ffbl_b32" => lanes1!(|x: u32| if x == 0 { u32::MAX } else { x.trailing_zeros() }),
        "v_cvt_f32_i32" => lanes1!(|x: u32| (x as i32 as f32).to_bits()),
        "v_cvt_f32_u32" => lanes1!(|x: u32| (x as f32).to_bits()),
        "v_cvt_i32_f32" => lanes1!(|x: u32| f(x) as i32 as u32),
        // Byte n of the source, as an unsigned integer, to f32 (exact).
        "v_cvt_f32_ubyte0" => lanes1!(|x: u32| ((x & 0xff) as f32).to_bits()),
        "v_cvt_f32_ubyte1" => lanes1!(|x: u32| (((x >> 8) & 0xff) as f32).to_bits()),
        "v_cvt_f32_ubyte2" => lanes1!(|x: u32| (((x >> 16) & 0xff) as f32).to_bits()),
        "v_cvt_f32_ubyte3" => lanes1!(|x: u32| ((x >> 24) as f32).to_bits()),
        // frexp: the mantissa in [0.5, 1) with x's sign, and the exponent
        // (NaN, infinities and zeros: the value itself, and 0).
        "v_frexp_mant_f32" => f1!(|x: f32| frexp_f32(x).0),
        "v_frexp_exp_i32_f32" => lanes1!(|x: u32| frexp_f32(f(x)).1 as u32),
        "v_cvt_u32_f32" => lanes1!(|x: u32| f(x) as u32),
        // Transcendentals: computed in f64 and rounded once (correctly
        // rounded; the hardware's documented error is 1 ulp).
        "v_exp_f32" => f1!(|x: f32| (x as f64).exp2() as f32),
        "v_log_f32" => f1!(|x: f32| (x as f64).log2() as f32),
        "v_rcp_f32" | "v_rcp_iflag_f32" => f1!(|x: f32| (1.0 / x as f64) as f32),
        "v_rsq_f32" => f1!(|x: f32| (1.0 / (x as f64).sqrt()) as f32),
        "v_sqrt_f32" => f1!(|x: f32| (x as f64).sqrt() as f32),
        "v_sin_f32" => f1!(|x: f32| ((x as f64) * std::f64::consts::TAU).sin() as f32),
        "v_cos_f32" => f1!(|x: f32| ((x as f64) * std::f64::consts::TAU).cos() as f32),
        "v_fract_f32" => f1!(|x: f32| if x.is_infinite() {
            f32::NAN
        } else {
            (x - x.floor()).min(f32::from_bits(0x3f7f_ffff))
        }),
        "v_trunc_f32" => f1!(|x: f32| x.trunc()),
        "v_floor_f32" => f1!(|x: f32| x.floor()),
        "v_ceil_f32" => f1!(|x: f32| x.ceil()),
        "v_rndne_f32" => f1!(|x: f32| x.round_ties_even()),
        "v_add_f32" => f2!(|a: f32, b: f32| a + b),
        "v_sub_f32" => f2!(|a: f32, b: f32| a - b),
        "v_subrev_f32" => f2!(|a: f32, b: f32| b - a),
        "v_mul_f32" => f2!(|a: f32, b: f32| a * b),
        "v_max_f32" => f2!(fmax),
        "v_min_f32" => f2!(fmin),
        "v_ldexp_f32" => lanes2!(|a: u32, b: u32| clamp_f32(inst, ldexp(f(a), b as i32)).to_bits()),
        "v_fma_f32" => f3!(|a: f32, b: f32, c: f32| a.mul_add(b, c)),
        // FMA with a literal K: `v_fmamk_f32 d, a, K, c` is a * K + c,
        // `v_fmaak_f32 d, a, b, K` is a * b + K (as printed: a * b + c).
        "v_fmamk_f32" | "v_fmaak_f32" => f3!(|a: f32, b: f32, c: f32| a.mul_add(b, c)),
        "v_max3_i32" => lanes3!(|a: u32, b: u32, c: u32| (a as i32).max(b as i32).max(c as i32) as u32),
        "v_min3_i32" => lanes3!(|a: u32, b: u32, c: u32| (a as i32).min(b as i32).min(c as i32) as u32),
        "v_med3_i32" => lanes3!(|a: u32, b: u32, c: u32| med3(a as i32, b as i32, c as i32) as u32),
        "v_max3_u32" => lanes3!(|a: u32, b: u32, c: u32| a.max(b).max(c)),
        "v_min3_u32" => lanes3!(|a: u32, b: u32, c: u32| a.min(b).min(c)),
        "v_med3_u32" => lanes3!(|a: u32, b: u32, c: u32| med3(a, b, c)),
        "v_max3_i16" => lanes3!(|a: u32, b: u32, c: u32| i16_of(a).max(i16_of(b)).max(i16_of(c)) as u16 as u32),
        "v_min3_i16" => lanes3!(|a: u32, b: u32, c: u32| i16_of(a).min(i16_of(b)).min(i16_of(c)) as u16 as u32),
        "v_med3_i16" => lanes3!(|a: u32, b: u32, c: u32| med3(i16_of(a), i16_of(b), i16_of(c)) as u16 as u32),
        "v_max3_u16" => lanes3!(|a: u32, b: u32, c: u32| (a as u16).max(b as u16).max(c as u16) as u32),
        "v_min3_u16" => lanes3!(|a: u32, b: u32, c: u32| (a as u16).min(b as u16).min(c as u16) as u32),
        "v_med3_u16" => lanes3!(|a: u32, b: u32, c: u32| med3(a as u16, b as u16, c as u16) as u32),
        // 16-bit integer operations: the low 16 bits of each source; the
        // 16-bit result (GFX9 zeroes the high half).
        "v_max_i16" => lanes2!(|a: u32, b: u32| i16_of(a).max(i16_of(b)) as u16 as u32),
        "v_min_i16" => lanes2!(|a: u32, b: u32| i16_of(a).min(i16_of(b)) as u16 as u32),
        "v_max_u16" => lanes2!(|a: u32, b: u32| (a as u16).max(b as u16) as u32),
        "v_min_u16" => lanes2!(|a: u32, b: u32| (a as u16).min(b as u16) as u32),
        "v_add_u16" | "v_add_nc_u16" => {
            lanes2!(|a: u32, b: u32| (a as u16).wrapping_add(b as u16) as u32)
        }
        "v_sub_u16" | "v_sub_nc_u16" => {
            lanes2!(|a: u32, b: u32| (a as u16).wrapping_sub(b as u16) as u32)
        }
        "v_subrev_u16" => {
            lanes2!(|a: u32, b: u32| (b as u16).wrapping_sub(a as u16) as u32)
        }
        "v_mul_lo_u16" => {
            lanes2!(|a: u32, b: u32| (a as u16).wrapping_mul(b as u16) as u32)
        }
        "v_lshlrev_b16" => lanes2!(|a: u32, b: u32| ((b as u16) << (a & 15)) as u32),
        "v_lshrrev_b16" => lanes2!(|a: u32, b: u32| ((b as u16) >> (a & 15)) as u32),
        "v_ashrrev_i16" => lanes2!(|a: u32, b: u32| (i16_of(b) >> (a & 15)) as u16 as u32),
        "v_or_b16" => lanes2!(|a: u32, b: u32| (a | b) & 0xffff),
        "v_and_b16" => lanes2!(|a: u32, b: u32| (a & b) & 0xffff),
        "v_xor_b16" => lanes2!(|a: u32, b: u32| (a ^ b) & 0xffff),
        "v_not_b16" => lanes1!(|a: u32| !a & 0xffff),
        // GFX11: v_maxmin is min(max(a, b), c), v_minmax max(min(a, b), c).
        "v_maxmin_i32" => lanes3!(|a: u32, b: u32, c: u32| (a as i32).max(b as i32).min(c as i32) as u32),
        "v_minmax_i32" => lanes3!(|a: u32, b: u32, c: u32| (a as i32).min(b as i32).max(c as i32) as u32),
        "v_maxmin_u32" => lanes3!(|a: u32, b: u32, c: u32| a.max(b).min(c)),
        "v_minmax_u32" => lanes3!(|a: u32, b: u32, c: u32| a.min(b).max(c)),
        "v_maxmin_f32" => f3!(|a: f32, b: f32, c: f32| fmin(fmax(a, b), c)),
        "v_minmax_f32" => f3!(|a: f32, b: f32, c: f32| fmax(fmin(a, b), c)),
        // f16 arithmetic: exact in f64 (sums of two f16 need at most 40
        // bits, products 22), rounded once to f16; max/min as for f32.
        "v_add_f16" => lanes2!(|a: u32, b: u32| h2(inst, a, b, |x, y| x + y)),
        "v_sub_f16" => lanes2!(|a: u32, b: u32| h2(inst, a, b, |x, y| x - y)),
        "v_subrev_f16" => lanes2!(|a: u32, b: u32| h2(inst, a, b, |x, y| y - x)),
        "v_mul_f16" => lanes2!(|a: u32, b: u32| h2(inst, a, b, |x, y| x * y)),
        "v_max_f16" => lanes2!(|a: u32, b: u32| h2(inst, a, b, |x, y| fmax(x as f32, y as f32) as f64)),
        "v_min_f16" => lanes2!(|a: u32, b: u32| h2(inst, a, b, |x, y| fmin(x as f32, y as f32) as f64)),
        "v_max3_f16" => lanes3!(|a: u32, b: u32, c: u32| h3(a, b, c, |x, y, z| fmax(fmax(x, y), z))),
        "v_min3_f16" => lanes3!(|a: u32, b: u32, c: u32| h3(a, b, c, |x, y, z| fmin(fmin(x, y), z))),
        "v_med3_f16" => lanes3!(|a: u32, b: u32, c: u32| h3(a, b, c, |x, y, z| fmax(fmin(x, y), fmin(fmax(x, y), z)))),
        // (The f64 fused result is exact unless c is far smaller than
        // a * b; then a second rounding may differ by an ulp.)
        "v_fma_f16" => lanes3!(|a: u32, b: u32, c: u32| {
            let g = |x: u32| f16_to_f32(x as u16) as f64;
            let r = g(a).mul_add(g(b), g(c));
            f64_to_f16(if inst.modifier("clamp").is_some() {
                if r.is_nan() {
                    0.0
                } else {
                    r.clamp(0.0, 1.0)
                }
            } else {
                r
            }) as u32
        }),
        "v_max3_f32" => f3!(|a: f32, b: f32, c: f32| fmax(fmax(a, b), c)),
        "v_min3_f32" => f3!(|a: f32, b: f32, c: f32| fmin(fmin(a, b), c)),
        "v_med3_f32" => f3!(|a: f32, b: f32, c: f32| fmax(fmin(a, b), fmin(fmax(a, b), c))),
        "v_fmac_f32" | "v_mac_f32" => {
            let acc = w.gather_plain(&dst, 0)?;
            let (a, b) = (src(0)?, src(1)?);
            for l in 0..LANES {
                out[l] = clamp_f32(inst, f(a[l]).mul_add(f(b[l]), f(acc[l]))).to_bits();
            }
        }
        "v_div_scale_f32" => {
            let (s0, s1, s2) = (src(0)?, src(1)?, src(2)?);
            for l in 0..LANES {
                let (d, vcc) = division::div_scale(f(s0[l]), f(s1[l]), f(s2[l]));
                out[l] = d.to_bits();
                if vcc {
                    carry_out |= 1 << l;
                }
            }
        }
        "v_div_fmas_f32" => {
            let vcc = w.vcc;
            let (a, b, c) = (src(0)?, src(1)?, src(2)?);
            for l in 0..LANES {
                let r = (f(a[l]) as f64).mul_add(f(b[l]) as f64, f(c[l]) as f64);
                let r = if vcc >> l & 1 != 0 {
                    r * if exponent(f(c[l])) >= 127 {
                        2f64.powi(64)
                    } else {
                        2f64.powi(-64)
                    }
                } else {
                    r
                };
                out[l] = (r as f32).to_bits();
            }
        }
        "v_div_fixup_f32" => {
            let (s0, s1, s2) = (src(0)?, src(1)?, src(2)?);
            for l in 0..LANES {
                out[l] = division::div_fixup(f(s0[l]), f(s1[l]), f(s2[l])).to_bits();
            }
        }
        // (b16: GFX11 true16 halves.)
        "v_cndmask_b32" | "v_cndmask_b16" => {
            let sel = if nsrc == 3 {
                w.read_mask(&op(inst, 3)?.op)?
            } else {
                w.vcc
            };
            let (a, b) = (src(0)?, src(1)?);
            for l in 0..LANES {
                out[l] = if sel >> l & 1 != 0 { b[l] } else { a[l] };
                if m == "v_cndmask_b16" {
                    out[l] &= 0xffff;
                }
            }
        }
        // 16-bit results zero the high half (GFX9's behaviour; GFX11's
        // true16 forms print `.l`/`.h` registers, not parsed yet).
        "v_cvt_f16_f32" => lanes1!(|x: u32| f32_to_f16(clamp_f32(inst, f(x))) as u32),
        "v_cvt_f32_f16" => lanes1!(|x: u32| clamp_f32(inst, f16_to_f32(x as u16)).to_bits()),
        "v_perm_b32" => lanes3!(|a: u32, b: u32, c: u32| {
            let bytes = ((a as u64) << 32) | b as u64;
            let mut r = 0u32;
            for i in 0..4 {
                let sel = (c >> (8 * i)) & 0xff;
                let byte = match sel {
                    0..=7 => (bytes >> (8 * sel)) as u8,
                    8 => ((b >> 15) & 1) as u8 * 0xff,
                    9 => ((b >> 31) & 1) as u8 * 0xff,
                    10 => ((a >> 15) & 1) as u8 * 0xff,
                    11 => ((a >> 31) & 1) as u8 * 0xff,
                    12 => 0,
                    _ => 0xff,
                };
                r |= (byte as u32) << (8 * i);
            }
            r
        }),
        "v_bfe_i32" => lanes3!(|a: u32, b: u32, c: u32| {
            let (o, wd) = (b & 31, c & 31);
            if wd == 0 {
                0
            } else {
                let v = a >> o;
                let sh = 32 - wd;
                (((v << sh) as i32) >> sh) as u32
            }
        }),
        "v_xad_u32" => lanes3!(|a: u32, b: u32, c: u32| (a ^ b).wrapping_add(c)),
        "v_and_b32" => lanes2!(|a: u32, b: u32| a & b),
        "v_or_b32" => lanes2!(|a: u32, b: u32| a | b),
        "v_xor_b32" => lanes2!(|a: u32, b: u32| a ^ b),
        "v_lshlrev_b32" => lanes2!(|a: u32, b: u32| b << (a & 31)),
        "v_lshrrev_b32" => lanes2!(|a: u32, b: u32| b >> (a & 31)),
        "v_ashrrev_i32" => lanes2!(|a: u32, b: u32| ((b as i32) >> (a & 31)) as u32),
        "v_lshl_b32" => lanes2!(|a: u32, b: u32| a << (b & 31)),
        "v_add_u32" | "v_add_nc_u32" if sdst.is_none() => lanes2!(|a: u32, b: u32| a.wrapping_add(b)),
        "v_sub_u32" | "v_sub_nc_u32" if sdst.is_none() => lanes2!(|a: u32, b: u32| a.wrapping_sub(b)),
        "v_subrev_u32" | "v_subrev_nc_u32" => lanes2!(|a: u32, b: u32| b.wrapping_sub(a)),
        "v_mul_lo_u32" => lanes2!(|a: u32, b: u32| a.wrapping_mul(b)),
        "v_mul_hi_u32" => lanes2!(|a: u32, b: u32| ((a as u64 * b as u64) >> 32) as u32),
        "v_mul_hi_i32" => lanes2!(|a: u32, b: u32| ((a as i32 as i64 * b as i32 as i64) >> 32) as u32),
        "v_mul_u32_u24" => lanes2!(|a: u32, b: u32| (a & 0xff_ffff).wrapping_mul(b & 0xff_ffff)),
        "v_mul_i32_i24" => {
            lanes2!(|a: u32, b: u32| ((((a << 8) as i32) >> 8).wrapping_mul(((b << 8) as i32) >> 8)) as u32)
        }
        "v_max_i32" => lanes2!(|a: u32, b: u32| (a as i32).max(b as i32) as u32),
        "v_min_i32" => lanes2!(|a: u32, b: u32| (a as i32).min(b as i32) as u32),
        "v_max_u32" => lanes2!(|a: u32, b: u32| a.max(b)),
        "v_min_u32" => lanes2!(|a: u32, b: u32| a.min(b)),
        "v_lshl_or_b32" => lanes3!(|a: u32, b: u32, c: u32| (a << (b & 31)) | c),
        "v_and_or_b32" => lanes3!(|a: u32, b: u32, c: u32| (a & b) | c),
        "v_or3_b32" => lanes3!(|a: u32, b: u32, c: u32| a | b | c),
        "v_xor3_b32" => lanes3!(|a: u32, b: u32, c: u32| a ^ b ^ c),
        "v_lshl_add_u32" => lanes3!(|a: u32, b: u32, c: u32| (a << (b & 31)).wrapping_add(c)),
        "v_add_lshl_u32" => lanes3!(|a: u32, b: u32, c: u32| a.wrapping_add(b) << (c & 31)),
        "v_add3_u32" => lanes3!(|a: u32, b: u32, c: u32| a.wrapping_add(b).wrapping_add(c)),
        "v_mad_i32_i24" => lanes3!(|a: u32, b: u32, c: u32| {
            (((a << 8) as i32) >> 8)
                .wrapping_mul(((b << 8) as i32) >> 8)
                .wrapping_add(c as i32) as u32
        }),
        "v_mad_u32_u16" => lanes3!(|a: u32, b: u32, c: u32| ((a & 0xffff) * (b & 0xffff)).wrapping_add(c)),
        "v_mad_u32_u24" => {
            lanes3!(|a: u32, b: u32, c: u32| (a & 0xff_ffff).wrapping_mul(b & 0xff_ffff).wrapping_add(c))
        }
        "v_bfe_u32" => lanes3!(|a: u32, b: u32, c: u32| {
            let (o, wd) = (b & 31, c & 31);
            if wd == 0 {
                0
            } else {
                (a >> o) & ((1u32 << wd) - 1)
            }
        }),
        "v_bfi_b32" => lanes3!(|a: u32, b: u32, c: u32| (a & b) | (!a & c)),
        "v_alignbit_b32" => lanes3!(|a: u32, b: u32, c: u32| ((((a as u64) << 32) | b as u64) >> (c & 31)) as u32),
        "v_add_co_u32" | "v_add_u32" | "v_addc_co_u32" | "v_add_co_ci_u32" | "v_sub_co_u32" | "v_sub_u32"
        | "v_subrev_co_u32" | "v_subb_co_u32" | "v_sub_co_ci_u32" | "v_subbrev_co_u32" | "v_subrev_co_ci_u32" => {
            let with_carry_in = m.contains("addc") || m.contains("subb") || m.contains("_ci_");
            let cin = if with_carry_in {
                w.read_mask(&op(inst, inst.operands.len() - 1)?.op)?
            } else {
                0
            };
            let (a, b) = (src(0)?, src(1)?);
            let rev = m.contains("subrev") || m.contains("subbrev");
            for l in 0..LANES {
                let c = cin >> l & 1;
                let (x, y) = if rev {
                    (b[l] as u64, a[l] as u64)
                } else {
                    (a[l] as u64, b[l] as u64)
                };
                let (r, co) = if m.contains("add") {
                    let r = x + y + c;
                    (r as u32, r >> 32 != 0)
                } else {
                    (x.wrapping_sub(y).wrapping_sub(c) as u32, y + c > x)
                };
                out[l] = r;
                if co {
                    carry_out |= 1 << l;
                }
            }
        }
        "v_lshlrev_b64" | "v_lshrrev_b64" | "v_ashrrev_i64" | "v_lshl_add_u64" | "v_add_u64" | "v_mov_b64" => {
            let dst64 = dst.clone();
            let shift_first = m != "v_lshl_add_u64" && m != "v_add_u64" && m != "v_mov_b64";
            let r: Vec<u64> = if m == "v_mov_b64" {
                w.gather64(op(inst, 1)?, false)?.to_vec()
            } else if shift_first {
                let s = w.gather(op(inst, 1)?, 0, false)?;
                let v = w.gather64(op(inst, 2)?, false)?;
                (0..LANES)
                    .map(|l| match m {
                        "v_lshlrev_b64" => v[l] << (s[l] & 63),
                        "v_lshrrev_b64" => v[l] >> (s[l] & 63),
                        _ => ((v[l] as i64) >> (s[l] & 63)) as u64,
                    })
                    .collect()
            } else if m == "v_add_u64" {
                let a = w.gather64(op(inst, 1)?, false)?;
                let b = w.gather64(op(inst, 2)?, false)?;
                (0..LANES).map(|l| a[l].wrapping_add(b[l])).collect()
            } else {
                let a = w.gather64(op(inst, 1)?, false)?;
                let s = w.gather(op(inst, 2)?, 0, false)?;
                let c = w.gather64(op(inst, 3)?, false)?;
                (0..LANES).map(|l| (a[l] << (s[l] & 7)).wrapping_add(c[l])).collect()
            };
            let lo: [u32; LANES] = std::array::from_fn(|l| r[l] as u32);
            let hi: [u32; LANES] = std::array::from_fn(|l| (r[l] >> 32) as u32);
            w.scatter(&dst64, 0, &lo, mask)?;
            return w.scatter(&dst64, 1, &hi, mask);
        }
        _ => return unimpl("no semantics"),
    }
    if let Some(sd) = sdst {
        let old = w.read_mask_old(&sd).unwrap_or(0);
        w.write_mask(&sd, (old & !mask) | (carry_out & mask))?;
    }
    // GFX9's three-operand 16-bit min/max/med (op_sel instructions, which
    // write one half of the destination) keep the other half; LLVM's
    // `zeroesHigh16BitsOfDest` does not count on either.
    let keeps_high = !w.gfx10
        && half_op
        && ["v_max3_", "v_min3_", "v_med3_"].iter().any(|p| m.starts_with(p))
        && matches!(dst, Operand::Vgpr(..));
    if sdwa || keeps_high {
        let old = w.gather_old(&dst, 0)?;
        for l in 0..LANES {
            out[l] = if sdwa {
                sdwa_dst(inst, old[l], out[l])?
            } else {
                (old[l] & 0xffff_0000) | (out[l] & 0xffff)
            };
        }
    }
    w.scatter(&dst, 0, &out, mask)
}

/// The SDWA modifiers (GFX9): operand and destination selects.
const SDWA_MODS: [&str; 5] = ["src0_sel", "src1_sel", "dst_sel", "dst_unused", "sext"];

/// Whether an ALU operation works on 16-bit operands (`_u16`, `_i16`,
/// `_b16`, `_f16` sources).
fn is_16bit(m: &str) -> bool {
    let ty = m.rsplit('_').next().unwrap_or("");
    matches!(ty, "u16" | "i16" | "b16" | "f16")
}

/// Selects a byte, word or the dword of `x` as an SDWA source select
/// does: zero-extended, or sign-extended with `sext`.
fn sdwa_select(sel: &str, x: u32, sext: bool) -> R<u32> {
    let (shift, bits) = match sel {
        "DWORD" => return Ok(x),
        "BYTE_0" => (0, 8),
        "BYTE_1" => (8, 8),
        "BYTE_2" => (16, 8),
        "BYTE_3" => (24, 8),
        "WORD_0" => (0, 16),
        "WORD_1" => (16, 16),
        _ => return unimpl(format!("SDWA select `{sel}`")),
    };
    let v = (x >> shift) & ((1u32 << bits) - 1);
    Ok(if sext {
        (((v << (32 - bits)) as i32) >> (32 - bits)) as u32
    } else {
        v
    })
}

/// SDWA source `i` (after `first` destination operands) in every lane:
/// selected, extended, then `abs`/`neg` applied to the selected value
/// (bit 15 for f16 sources, bit 31 for f32 ones). Without SDWA modifiers
/// (a 16-bit operation's plain source) the dword as it is.
fn sdwa_src(w: &Wave, inst: &Inst, first: usize, i: usize) -> R<[u32; LANES]> {
    let s = op(inst, first + i)?;
    // The source type is the mnemonic's last suffix (`v_cvt_f32_f16`).
    let ty = inst.base.rsplit('_').next().unwrap_or("");
    if matches!(s.op, Operand::Float(_)) && ty == "f16" {
        return unimpl("an f16 inline constant");
    }
    let raw = w.gather_plain(&s.op, 0)?;
    let sel = inst.modifier(&format!("src{i}_sel")).unwrap_or("DWORD");
    let idx = (first + i).to_string();
    let sext = inst.modifiers.iter().any(|(n, v)| n == "sext" && *v == idx);
    let sign = if ty == "f16" {
        0x8000
    } else if ty == "f32" {
        0x8000_0000
    } else if s.neg || s.abs {
        return unimpl("abs/neg on an integer SDWA operand");
    } else {
        0
    };
    let mut out = [0u32; LANES];
    for l in 0..LANES {
        let mut v = sdwa_select(sel, raw[l], sext)?;
        if s.abs {
            v &= !sign;
        }
        if s.neg {
            v ^= sign;
        }
        out[l] = v;
    }
    Ok(out)
}

/// Places an SDWA result by `dst_sel`, the other bits per `dst_unused`:
/// zero (`UNUSED_PAD`), the field's sign above it (`UNUSED_SEXT`), or
/// the destination's old bits (`UNUSED_PRESERVE`).
fn sdwa_dst(inst: &Inst, old: u32, v: u32) -> R<u32> {
    let (shift, bits) = match inst.modifier("dst_sel").unwrap_or("DWORD") {
        "DWORD" => return Ok(v),
        "BYTE_0" => (0, 8),
        "BYTE_1" => (8, 8),
        "BYTE_2" => (16, 8),
        "BYTE_3" => (24, 8),
        "WORD_0" => (0, 16),
        "WORD_1" => (16, 16),
        o => return unimpl(format!("SDWA dst_sel `{o}`")),
    };
    let field_mask = ((1u32 << bits) - 1) << shift;
    let field = (v << shift) & field_mask;
    Ok(match inst.modifier("dst_unused").unwrap_or("UNUSED_PAD") {
        "UNUSED_PAD" => field,
        "UNUSED_SEXT" => {
            let top = shift + bits;
            let neg = (v >> (bits - 1)) & 1 == 1;
            if neg && top < 32 {
                field | (u32::MAX << top)
            } else {
                field
            }
        }
        "UNUSED_PRESERVE" => (old & !field_mask) | field,
        o => unimpl(format!("SDWA dst_unused `{o}`"))?,
    })
}

/// The IEEE class of a float as `v_cmp_class`'s mask bit: 0 signaling
/// NaN, 1 quiet NaN, 2 -inf, 3 -normal, 4 -denormal, 5 -0, 6 +0,
/// 7 +denormal, 8 +normal, 9 +inf. `bits` is the value's encoding with
/// `exp_bits` exponent and `man_bits` mantissa bits.
fn float_class(bits: u32, exp_bits: u32, man_bits: u32) -> u32 {
    let man = bits & ((1 << man_bits) - 1);
    let exp = (bits >> man_bits) & ((1 << exp_bits) - 1);
    let neg = (bits >> (man_bits + exp_bits)) & 1 == 1;
    let max_exp = (1 << exp_bits) - 1;
    let pick = |n: u32, p: u32| if neg { n } else { p };
    if exp == max_exp && man != 0 {
        if man >> (man_bits - 1) & 1 == 1 {
            1
        } else {
            0
        }
    } else if exp == max_exp {
        pick(2, 9)
    } else if exp == 0 && man == 0 {
        pick(5, 6)
    } else if exp == 0 {
        pick(4, 7)
    } else {
        pick(3, 8)
    }
}

/// `v_fma_mix_f32`, `v_fma_mixlo_f16`, `v_fma_mixhi_f16`: each source is
/// the f32 register (`op_sel_hi` bit 0) or one of its f16 halves
/// (`op_sel_hi` 1; `op_sel` 0 low, 1 high), converted to f32 exactly,
/// then `abs`/`neg`; the fused `a * b + c` is rounded once to f32
/// (`mix_f32`) or, from that f32, to f16 into the low (`mixlo`) or high
/// (`mixhi`) half, the other half kept.
fn fma_mix(w: &mut Wave, inst: &Inst) -> R<()> {
    check_mods(inst, &["op_sel", "op_sel_hi", "clamp"])?;
    let m = inst.base.as_str();
    let bits = |name: &str| -> R<[bool; 3]> {
        match inst.modifier(name) {
            None => Ok([false; 3]),
            Some(v) => {
                let b: Vec<&str> = v
                    .trim_matches(|c| c == '[' || c == ']')
                    .split(',')
                    .map(str::trim)
                    .collect();
                if b.len() != 3 || b.iter().any(|x| *x != "0" && *x != "1") {
                    return unimpl(format!("{name}:{v}"));
                }
                Ok([b[0] == "1", b[1] == "1", b[2] == "1"])
            }
        }
    };
    let (sel, sel_hi) = (bits("op_sel")?, bits("op_sel_hi")?);
    let dst = op(inst, 0)?.op.clone();
    if !matches!(dst, Operand::Vgpr(_, 1)) {
        return unimpl(format!("fma_mix destination {dst:?}"));
    }
    let mut vals: Vec<[f32; LANES]> = Vec::new();
    for i in 0..3 {
        let s = op(inst, 1 + i)?;
        if matches!(s.op, Operand::Float(_)) && sel_hi[i] {
            return unimpl("an f16 inline constant in fma_mix");
        }
        let raw = w.gather_plain(&s.op, 0)?;
        let mut out = [0f32; LANES];
        for l in 0..LANES {
            let mut x = if sel_hi[i] {
                f16_to_f32((raw[l] >> if sel[i] { 16 } else { 0 }) as u16)
            } else {
                f(raw[l])
            };
            if s.abs {
                x = x.abs();
            }
            if s.neg {
                x = -x;
            }
            out[l] = x;
        }
        vals.push(out);
    }
    let old = w.gather_old(&dst, 0)?;
    let mut out = [0u32; LANES];
    for l in 0..LANES {
        let r = clamp_f32(inst, vals[0][l].mul_add(vals[1][l], vals[2][l]));
        out[l] = match m {
            "v_fma_mix_f32" => r.to_bits(),
            "v_fma_mixlo_f16" => (old[l] & 0xffff_0000) | f32_to_f16(r) as u32,
            _ => (old[l] & 0xffff) | (f32_to_f16(r) as u32) << 16,
        };
    }
    let exec = w.exec;
    w.scatter(&dst, 0, &out, exec)
}

/// MFMA and WMMA: `D = C + A x B`. Float: each element of D summed in
/// f64 from the exact products and rounded once to f32 (hardware's order
/// and intermediate precision are not specified; results agree within the
/// rounding of a K-term f32 sum). Integer (8-bit A and B): the exact sum
/// wrapped to 32 bits; A and B are signed on MFMA, and on WMMA `iu8` as
/// `neg_lo` says (bit 0 for A, bit 1 for B: 1 signed, 0 unsigned).
fn matrix_op(w: &mut Wave, inst: &Inst) -> R<()> {
    let shape = Shape::of(&inst.base).ok_or_else(|| Trap::Unimplemented("matrix instruction not modeled".into()))?;
    let mut signed = [true, true];
    if shape.int && shape.wmma {
        check_mods(inst, &["neg_lo"])?;
        let bits: Vec<&str> = inst
            .modifier("neg_lo")
            .unwrap_or("[0,0,0]")
            .trim_matches(|c| c == '[' || c == ']')
            .split(',')
            .map(str::trim)
            .collect();
        if bits.len() != 3 || bits[2] != "0" {
            return unimpl("neg_lo on C");
        }
        signed = [bits[0] == "1", bits[1] == "1"];
    } else {
        check_mods(inst, &[])?;
    }
    if w.exec & w.lane_mask() != w.lane_mask() {
        return unimpl("a matrix instruction with lanes off in EXEC");
    }
    let lanes = w.wave_size;
    let regs = |i: usize, n: usize| -> R<Vec<[u32; LANES]>> {
        let s = op(inst, i)?;
        match s.op {
            Operand::Int(_) | Operand::Float(_) => Ok(vec![w.gather(s, 0, !shape.int)?; n]),
            _ => (0..n).map(|q| w.gather(s, q, false)).collect(),
        }
    };
    let (a, b, c) = (
        regs(1, shape.ab_regs())?,
        regs(2, shape.ab_regs())?,
        regs(3, shape.d_regs())?,
    );
    // Element `e` of a lane, exact in f64 (an 8-bit integer, a half, a
    // float).
    let elem = |r: &[[u32; LANES]], lane: usize, e: usize, signed: bool| -> f64 {
        match shape.bits {
            32 => f(r[e][lane]) as f64,
            8 => {
                let byte = (r[e / 4][lane] >> (8 * (e % 4))) as u8;
                if signed {
                    byte as i8 as f64
                } else {
                    byte as f64
                }
            }
            _ => {
                let word = r[e / 2][lane];
                let h = if e.is_multiple_of(2) {
                    word as u16
                } else {
                    (word >> 16) as u16
                };
                (if shape.bf16 { bf16_to_f32(h) } else { f16_to_f32(h) }) as f64
            }
        }
    };
    let (m, n, k) = (shape.m, shape.n, shape.k);
    let mut am = vec![0f64; m * k];
    let mut bm = vec![0f64; k * n];
    for lane in 0..lanes {
        for e in 0..shape.per_lane {
            let (i, kk) = shape.a_element(lane, e);
            am[i * k + kk] = elem(&a, lane, e, signed[0]);
            let (kk, j) = shape.b_element(lane, e);
            bm[kk * n + j] = elem(&b, lane, e, signed[1]);
        }
    }
    let mut out = vec![[0u32; LANES]; shape.d_regs()];
    for lane in 0..lanes {
        for (r, o) in out.iter_mut().enumerate() {
            let (i, j) = shape.d_element(lane, r);
            let dot = (0..k).map(|kk| am[i * k + kk] * bm[kk * n + j]);
            o[lane] = if shape.int {
                // Products of bytes are exact in f64, and so is their sum.
                dot.fold(c[r][lane] as i32, |s, p| s.wrapping_add(p as i32)) as u32
            } else {
                (dot.fold(f(c[r][lane]) as f64, |s, p| s + p) as f32).to_bits()
            };
        }
    }
    let dst = op(inst, 0)?.op.clone();
    let mask = w.exec;
    for (r, o) in out.iter().enumerate() {
        w.scatter(&dst, r, o, mask)?;
    }
    Ok(())
}

fn compare(w: &mut Wave, inst: &Inst, cond_ty: &str, x: bool) -> R<()> {
    let sdwa = inst.encoding == "sdwa";
    let has_dst = inst.operands.len() == 3;
    // GFX11 true16: an `op_sel` that restates the sources' `.l`/`.h`
    // halves (its destination bit 0).
    let op_sel_ok = inst.modifier("op_sel").is_some_and(|v| {
        let bits: Vec<bool> = v
            .trim_matches(|c| c == '[' || c == ']')
            .split(',')
            .map(|b| b.trim() == "1")
            .collect();
        let srcs_hi: Vec<bool> = inst.operands[usize::from(has_dst)..]
            .iter()
            .map(|s| matches!(s.op, Operand::Vgpr16(_, true)))
            .collect();
        bits.len() == srcs_hi.len() + 1 && bits[..srcs_hi.len()] == srcs_hi[..] && !bits[srcs_hi.len()]
    });
    check_mods(
        inst,
        match (sdwa, op_sel_ok) {
            (true, _) => &SDWA_MODS[..],
            (false, true) => &["op_sel"],
            (false, false) => &[],
        },
    )?;
    if sdwa && (inst.modifier("dst_sel").is_some() || inst.modifier("dst_unused").is_some()) {
        return unimpl("dst_sel on a comparison");
    }
    let (cond, ty) = cond_ty
        .rsplit_once('_')
        .ok_or_else(|| Trap::Unimplemented("comparison".into()))?;
    let first = usize::from(has_dst);
    let float = ty.starts_with('f');
    let mut result = 0u64;
    if matches!(ty, "f32" | "i32" | "u32" | "f16" | "i16" | "u16") {
        let half = ty.ends_with("16");
        let (a, b) = if sdwa || half {
            (sdwa_src(w, inst, first, 0)?, sdwa_src(w, inst, first, 1)?)
        } else {
            (
                w.gather(op(inst, first)?, 0, float)?,
                w.gather(op(inst, first + 1)?, 0, float)?,
            )
        };
        for l in 0..w.wave_size {
            let r = match ty {
                // The mask (src1) names the classes that compare true.
                "f32" if cond == "class" => (b[l] >> float_class(a[l], 8, 23)) & 1 == 1,
                "f16" if cond == "class" => (b[l] >> float_class(a[l] & 0xffff, 5, 10)) & 1 == 1,
                "f32" => cmp_float(cond, f(a[l]) as f64, f(b[l]) as f64)?,
                "f16" => cmp_float(cond, f16_to_f32(a[l] as u16) as f64, f16_to_f32(b[l] as u16) as f64)?,
                "i16" => cmp_int(cond, i16_of(a[l]) as i128, i16_of(b[l]) as i128)?,
                "u16" => cmp_int(cond, a[l] as u16 as i128, b[l] as u16 as i128)?,
                "i32" => cmp_int(cond, a[l] as i32 as i128, b[l] as i32 as i128)?,
                _ => cmp_int(cond, a[l] as i128, b[l] as i128)?,
            };
            if r {
                result |= 1 << l;
            }
        }
    } else if ty == "i64" || ty == "u64" || ty == "f64" {
        let a = w.gather64(op(inst, first)?, float)?;
        let b = w.gather64(op(inst, first + 1)?, float)?;
        for l in 0..w.wave_size {
            let r = match ty {
                "f64" => cmp_float(cond, f64::from_bits(a[l]), f64::from_bits(b[l]))?,
                "i64" => cmp_int(cond, a[l] as i64 as i128, b[l] as i64 as i128)?,
                _ => cmp_int(cond, a[l] as i128, b[l] as i128)?,
            };
            if r {
                result |= 1 << l;
            }
        }
    } else if ty == "u32" {
        unreachable!()
    } else {
        return unimpl(format!("comparison type `{ty}`"));
    }
    // Inactive lanes' bits are written 0.
    result &= w.exec;
    if has_dst {
        w.write_mask(&op(inst, 0)?.op.clone(), result)?;
    } else if !x {
        w.vcc = result;
    }
    if x {
        w.exec = result;
    }
    Ok(())
}

// ---------------------------------------------------------------- memory

fn fault<T>(what: String, lane: usize) -> R<T> {
    Err(Trap::Fault(what, Some(lane as u32)))
}

/// The 16-bit offset of `ds_swizzle_b32` from LLVM's text: a number, or
/// `swizzle(QUAD_PERM,a,b,c,d)`, `swizzle(BITMASK_PERM,"01pip")`,
/// `swizzle(SWAP,n)`, `swizzle(REVERSE,n)`, `swizzle(BROADCAST,size,lane)`
/// (the assembler's encodings: quad-perm mode has bit 15 set; bit-mask
/// mode holds and/or/xor masks of the lane id in bits 0-4, 5-9, 10-14).
fn swizzle_offset(text: &str) -> R<u32> {
    let bad = || Trap::Unimplemented(format!("swizzle offset `{text}`"));
    let Some(inner) = text.strip_prefix("swizzle(").and_then(|t| t.strip_suffix(')')) else {
        let v = num(text)? as u32;
        // Quad-perm (0x80xx) or bit-mask (bit 15 clear) only: FFT and
        // rotate modes are not modeled.
        return if v & 0x8000 == 0 || v & 0xff00 == 0x8000 {
            Ok(v)
        } else {
            Err(bad())
        };
    };
    let parts: Vec<&str> = inner.split(',').map(str::trim).collect();
    let n = |i: usize| -> R<u32> { parts.get(i).ok_or_else(bad).and_then(|p| num(p)).map(|v| v as u32) };
    let bitmask = |and: u32, or: u32, xor: u32| (and & 0x1f) | (or & 0x1f) << 5 | (xor & 0x1f) << 10;
    Ok(match parts[0] {
        "QUAD_PERM" => 0x8000 | n(1)? | n(2)? << 2 | n(3)? << 4 | n(4)? << 6,
        "SWAP" => bitmask(0x1f, 0, n(1)?),
        "REVERSE" => bitmask(0x1f, 0, n(1)?.wrapping_sub(1)),
        "BROADCAST" => bitmask(32 - n(1)?, n(2)?, 0),
        "BITMASK_PERM" => {
            let mask = parts.get(1).ok_or_else(bad)?.trim_matches('"');
            if mask.len() != 5 {
                return Err(bad());
            }
            let (mut and, mut or, mut xor) = (0, 0, 0);
            for (i, c) in mask.chars().enumerate() {
                let bit = 1 << (4 - i);
                match c {
                    '0' => {}
                    '1' => or |= bit,
                    'p' => and |= bit,
                    'i' => {
                        and |= bit;
                        xor |= bit
                    }
                    _ => return Err(bad()),
                }
            }
            bitmask(and, or, xor)
        }
        _ => return Err(bad()),
    })
}

/// An LDS access of a `ds_*` mnemonic: bytes per element, elements
/// (two for `read2`/`write2`), the scale of `offset0`/`offset1`, and how a
/// sub-dword load extends.
struct DsAccess {
    bytes: usize,
    two: bool,
    stride: usize,
    signed: bool,
    /// `_d16` / `_d16_hi`: a 16-bit value in the low / high half of the
    /// register, the other half kept on loads.
    d16: Option<bool>,
}

fn ds_access(m: &str) -> R<DsAccess> {
    let (m, d16) = if let Some(b) = m.strip_suffix("_d16_hi") {
        (b, Some(true))
    } else if let Some(b) = m.strip_suffix("_d16") {
        (b, Some(false))
    } else {
        (m, None)
    };
    let suffix = m.rsplit('_').next().unwrap_or("");
    let (bytes, signed) = match suffix {
        "b8" | "u8" => (1, false),
        "i8" => (1, true),
        "b16" | "u16" => (2, false),
        "i16" => (2, true),
        "b32" => (4, false),
        "b64" => (8, false),
        "b96" => (12, false),
        "b128" => (16, false),
        _ => return unimpl(format!("LDS access size `{suffix}`")),
    };
    let two = m.contains("read2") || m.contains("write2") || m.contains("_2addr");
    let stride = if m.contains("st64") || m.contains("stride64") {
        bytes * 64
    } else {
        bytes
    };
    if d16.is_some() && bytes > 2 {
        return unimpl("a d16 LDS access wider than 16 bits");
    }
    Ok(DsAccess {
        bytes,
        two,
        stride,
        signed,
        d16,
    })
}

fn lds(w: &mut Wave, inst: &Inst, ctx: &mut Ctx) -> R<()> {
    check_mods(inst, &["offset", "offset0", "offset1", "gds"])?;
    if inst.modifier("gds").is_some() {
        return unimpl("GDS");
    }
    let m = inst.base.as_str();
    let exec = w.exec;
    let modv = |name: &str| -> R<usize> { Ok(inst.modifier(name).map(num).transpose()?.unwrap_or(0) as usize) };
    let lds_len = ctx.lds.len();
    if m == "ds_bpermute_b32" {
        let addr = w.gather(op(inst, 1)?, 0, false)?;
        let offset = modv("offset")?;
        let data = w.gather(op(inst, 2)?, 0, false)?;
        let mut out = [0u32; LANES];
        for l in 0..w.wave_size {
            let s = ((addr[l] as usize + offset) >> 2) % w.wave_size;
            out[l] = if w.active(s) { data[s] } else { 0 };
        }
        return w.scatter(&op(inst, 0)?.op.clone(), 0, &out, exec);
    }
    if m == "ds_swizzle_b32" {
        let pattern = swizzle_offset(inst.modifier("offset").unwrap_or("0"))?;
        let data = w.gather(op(inst, 1)?, 0, false)?;
        let mut out = [0u32; LANES];
        for l in 0..w.wave_size {
            let s = if pattern & 0x8000 != 0 {
                (l & !3) | ((pattern as usize >> (2 * (l & 3))) & 3)
            } else {
                let (and, or, xor) = (
                    pattern as usize & 0x1f,
                    (pattern as usize >> 5) & 0x1f,
                    (pattern as usize >> 10) & 0x1f,
                );
                (l & !0x1f) | ((((l & 0x1f) & and) | or) ^ xor)
            };
            // An inactive source lane reads 0.
            out[l] = if w.active(s) { data[s] } else { 0 };
        }
        return w.scatter(&op(inst, 0)?.op.clone(), 0, &out, exec);
    }
    let load = m.starts_with("ds_read") || m.starts_with("ds_load");
    let store = m.starts_with("ds_write") || m.starts_with("ds_store");
    if !load && !store && !m.starts_with("ds_nop") {
        return lds_atomic(w, inst, ctx);
    }
    if !load && !store || m.contains("_addtid") {
        return unimpl("no semantics");
    }
    let acc = ds_access(m)?;
    // Byte offsets of the element(s) from the address.
    let offsets: Vec<usize> = if acc.two {
        vec![modv("offset0")? * acc.stride, modv("offset1")? * acc.stride]
    } else {
        vec![modv("offset")?]
    };
    let addr = w.gather(op(inst, if load { 1 } else { 0 })?, 0, false)?;
    let dwords = acc.bytes.div_ceil(4);
    let old = if load && acc.d16.is_some() {
        w.gather_old(&op(inst, 0)?.op, 0)?
    } else {
        [0; LANES]
    };
    if load {
        let mut out = vec![[0u32; LANES]; dwords * offsets.len()];
        for l in 0..w.wave_size {
            if exec >> l & 1 == 0 {
                continue;
            }
            for (e, off) in offsets.iter().enumerate() {
                let a = addr[l] as usize + off;
                if a + acc.bytes > lds_len {
                    return fault(
                        format!(
                            "LDS load of {} bytes at {a:#x} outside LDS ({lds_len} bytes)",
                            acc.bytes
                        ),
                        l,
                    );
                }
                let bytes = &ctx.lds[a..a + acc.bytes];
                if acc.bytes < 4 {
                    let mut v = 0u32;
                    for (i, b) in bytes.iter().enumerate() {
                        v |= (*b as u32) << (8 * i);
                    }
                    if acc.signed {
                        let sh = 32 - 8 * acc.bytes as u32;
                        v = (((v << sh) as i32) >> sh) as u32;
                    }
                    out[e * dwords][l] = match acc.d16 {
                        None => v,
                        Some(false) => (old[l] & 0xffff_0000) | (v & 0xffff),
                        Some(true) => (old[l] & 0xffff) | v << 16,
                    };
                } else {
                    for k in 0..dwords {
                        out[e * dwords + k][l] = u32::from_le_bytes(bytes[4 * k..4 * k + 4].try_into().unwrap());
                    }
                }
            }
        }
        let dst = op(inst, 0)?.op.clone();
        for (k, o) in out.iter().enumerate() {
            w.scatter(&dst, k, o, exec)?;
        }
    } else {
        let data: Vec<Vec<[u32; LANES]>> = (0..offsets.len())
            .map(|e| {
                (0..dwords)
                    .map(|k| w.gather(op(inst, 1 + e)?, k, false))
                    .collect::<R<Vec<_>>>()
            })
            .collect::<R<_>>()?;
        for l in 0..w.wave_size {
            if exec >> l & 1 == 0 {
                continue;
            }
            for (e, off) in offsets.iter().enumerate() {
                let a = addr[l] as usize + off;
                if a + acc.bytes > lds_len {
                    return fault(
                        format!(
                            "LDS store of {} bytes at {a:#x} outside LDS ({lds_len} bytes)",
                            acc.bytes
                        ),
                        l,
                    );
                }
                let mut bytes = Vec::with_capacity(4 * dwords);
                for d in &data[e] {
                    let v = if acc.d16 == Some(true) { d[l] >> 16 } else { d[l] };
                    bytes.extend_from_slice(&v.to_le_bytes());
                }
                ctx.lds[a..a + acc.bytes].copy_from_slice(&bytes[..acc.bytes]);
            }
        }
    }
    Ok(())
}

fn global(w: &mut Wave, inst: &Inst, ctx: &mut Ctx) -> R<()> {
    let mut mem = lock(ctx.mem);
    check_mods(inst, &["offset", "glc", "slc", "dlc", "nt", "sc0", "sc1"])?;
    let m = inst.base.as_str();
    let exec = w.exec;
    if m.starts_with("global_atomic_") {
        return global_atomic(w, inst, &mut mem);
    }
    let load = m.starts_with("global_load");
    if !load && !m.starts_with("global_store") {
        return unimpl("no semantics");
    }
    // 16- and 8-bit stores (of the low half, or the high half for d16_hi).
    let narrow = match m {
        "global_store_b16" | "global_store_short" => Some((2, 0)),
        "global_store_d16_hi_b16" | "global_store_short_d16_hi" => Some((2, 16)),
        "global_store_b8" | "global_store_byte" => Some((1, 0)),
        "global_store_d16_hi_b8" | "global_store_byte_d16_hi" => Some((1, 16)),
        _ => None,
    };
    // 16- and 8-bit loads: zero- or sign-extended, or into one half of
    // the register, the other kept (d16).
    let narrow_load = match m {
        "global_load_ubyte" | "global_load_u8" => Some((1, 'z')),
        "global_load_sbyte" | "global_load_i8" => Some((1, 's')),
        "global_load_ushort" | "global_load_u16" => Some((2, 'z')),
        "global_load_sshort" | "global_load_i16" => Some((2, 's')),
        "global_load_short_d16" | "global_load_d16_b16" => Some((2, 'l')),
        "global_load_short_d16_hi" | "global_load_d16_hi_b16" => Some((2, 'h')),
        // d16 bytes: zero- (l, h) or sign-extended (L, H) to 16 bits.
        "global_load_ubyte_d16" | "global_load_d16_u8" => Some((1, 'l')),
        "global_load_ubyte_d16_hi" | "global_load_d16_hi_u8" => Some((1, 'h')),
        "global_load_sbyte_d16" | "global_load_d16_i8" => Some((1, 'L')),
        "global_load_sbyte_d16_hi" | "global_load_d16_hi_i8" => Some((1, 'H')),
        _ => None,
    };
    if narrow.is_none()
        && narrow_load.is_none()
        && [
            "_ubyte", "_sbyte", "_short", "_u8", "_u16", "_i8", "_i16", "_d16", "_b16", "_b8", "_byte",
        ]
        .iter()
        .any(|x| m.contains(x))
    {
        return unimpl("sub-dword global access");
    }
    let bytes = match (narrow, narrow_load) {
        (Some((b, _)), _) | (_, Some((b, _))) => b,
        _ => access_bytes(m)?,
    };
    let offset = inst.modifier("offset").map(num).transpose()?.unwrap_or(0);
    let (vaddr_i, data_i) = if load { (1, 0) } else { (0, 1) };
    let old = match narrow_load {
        Some((_, 'l' | 'h' | 'L' | 'H')) => w.gather_old(&op(inst, 0)?.op, 0)?,
        _ => [0; LANES],
    };
    let saddr = op(inst, 2)?;
    let addrs: [u64; LANES] = match saddr.op {
        Operand::Off => w.gather64(op(inst, vaddr_i)?, false)?,
        ref s => {
            let base = w.read_s64(s)?;
            let v = w.gather(op(inst, vaddr_i)?, 0, false)?;
            std::array::from_fn(|l| base.wrapping_add(v[l] as u64))
        }
    };
    let n = bytes.div_ceil(4);
    if load {
        let mut out = vec![[0u32; LANES]; n];
        let mut buf = vec![0u8; bytes];
        for l in 0..w.wave_size {
            if exec >> l & 1 == 0 {
                continue;
            }
            let a = addrs[l].wrapping_add(offset as u64);
            if mem.read(a, &mut buf).is_none() {
                return fault(
                    format!("global load of {bytes} bytes at {a:#x} outside every buffer"),
                    l,
                );
            }
            if let Some((b, how)) = narrow_load {
                let mut raw = [0u8; 4];
                raw[..b].copy_from_slice(&buf);
                let v = u32::from_le_bytes(raw);
                let sh = 32 - 8 * b as u32;
                out[0][l] = match how {
                    'z' => v,
                    's' => (((v << sh) as i32) >> sh) as u32,
                    'l' => (old[l] & 0xffff_0000) | v,
                    'h' => (old[l] & 0xffff) | v << 16,
                    'L' => (old[l] & 0xffff_0000) | (v as u8 as i8 as i16 as u16) as u32,
                    _ => (old[l] & 0xffff) | ((v as u8 as i8 as i16 as u16) as u32) << 16,
                };
                continue;
            }
            for (k, o) in out.iter_mut().enumerate() {
                o[l] = u32::from_le_bytes(buf[4 * k..4 * k + 4].try_into().unwrap());
            }
        }
        let dst = op(inst, data_i)?.op.clone();
        for (k, o) in out.iter().enumerate() {
            w.scatter(&dst, k, o, exec)?;
        }
    } else {
        let data: Vec<[u32; LANES]> = (0..n)
            .map(|k| w.gather(op(inst, data_i)?, k, false))
            .collect::<R<_>>()?;
        let mut buf = vec![0u8; bytes];
        for l in 0..w.wave_size {
            if exec >> l & 1 == 0 {
                continue;
            }
            match narrow {
                Some((b, shift)) => buf.copy_from_slice(&(data[0][l] >> shift).to_le_bytes()[..b]),
                None => {
                    for (k, d) in data.iter().enumerate() {
                        buf[4 * k..4 * k + 4].copy_from_slice(&d[l].to_le_bytes());
                    }
                }
            }
            let a = addrs[l].wrapping_add(offset as u64);
            if mem.write(a, &buf).is_none() {
                return fault(
                    format!("global store of {bytes} bytes at {a:#x} outside every buffer"),
                    l,
                );
            }
        }
    }
    Ok(())
}

/// MUBUF through a buffer resource (V#): base (48 bits), stride, number of
/// records. Raw buffers (stride 0) only: a dword at an offset >= the
/// number of records reads 0 and is not written (the range check Triton
/// uses for masking); inside the range, the address must lie in a buffer.
fn buffer(w: &mut Wave, inst: &Inst, ctx: &mut Ctx) -> R<()> {
    let mut mem = lock(ctx.mem);
    check_mods(inst, &["offset", "offen", "glc", "slc", "dlc", "nt", "sc0", "sc1"])?;
    let m = inst.base.as_str();
    let exec = w.exec;
    let load = m.starts_with("buffer_load");
    if !load && !m.starts_with("buffer_store") {
        return unimpl("no semantics");
    }
    if m.contains("format") || m.contains("byte") || m.contains("short") || m.contains("d16") {
        return unimpl("sub-dword or formatted buffer access");
    }
    let bytes = access_bytes(m)?;
    let n = bytes / 4;
    let rsrc = match op(inst, 2)?.op {
        Operand::Sgpr(r, 4) => r,
        ref o => return unimpl(format!("buffer resource {o:?}")),
    };
    let word = |k: u16| w.read_s32(&Operand::Sgpr(rsrc + k, 1));
    let (w0, w1, w2, w3) = (word(0)?, word(1)?, word(2)?, word(3)?);
    let base = w0 as u64 | ((w1 & 0xffff) as u64) << 32;
    let stride = (w1 >> 16) & 0x3fff;
    if stride != 0 {
        return unimpl("structured buffers (stride != 0)");
    }
    if w3 & (1 << 23) != 0 && !ctx.arch.is_gfx10_plus() {
        return unimpl("ADD_TID_ENABLE buffer resources");
    }
    if w0 == 0 && w1 == 0 && w2 == 0 && w3 == 0 {
        return Err(Trap::Fault(
            "buffer access through a null resource (a private segment buffer is not modeled)".into(),
            None,
        ));
    }
    let num_records = w2 as u64;
    let soffset = w.read_s32(&op(inst, 3)?.op)? as u64;
    let inst_offset = inst.modifier("offset").map(num).transpose()?.unwrap_or(0) as u64;
    let offen = inst.modifier("offen").is_some();
    let vaddr = if offen {
        Some(w.gather(op(inst, 1)?, 0, false)?)
    } else {
        None
    };
    let offset_of = |l: usize| vaddr.map(|v| v[l] as u64).unwrap_or(0) + soffset + inst_offset;
    let data_op = op(inst, 0)?.op.clone();
    if load {
        let mut out = vec![[0u32; LANES]; n];
        for l in 0..w.wave_size {
            if exec >> l & 1 == 0 {
                continue;
            }
            let off = offset_of(l);
            for (k, o) in out.iter_mut().enumerate() {
                let dword = off + 4 * k as u64;
                if dword + 4 > num_records {
                    o[l] = 0;
                    continue;
                }
                let a = base + dword;
                o[l] = match mem.read_u32(a) {
                    Some(v) => v,
                    None => {
                        return fault(
                            format!(
                            "buffer load at {a:#x} (offset {dword:#x} of resource base {base:#x}) outside every buffer"
                        ),
                            l,
                        )
                    }
                };
            }
        }
        for (k, o) in out.iter().enumerate() {
            w.scatter(&data_op, k, o, exec)?;
        }
    } else {
        let data: Vec<[u32; LANES]> = (0..n).map(|k| w.gather_plain(&data_op, k)).collect::<R<_>>()?;
        for l in 0..w.wave_size {
            if exec >> l & 1 == 0 {
                continue;
            }
            let off = offset_of(l);
            for (k, d) in data.iter().enumerate() {
                let dword = off + 4 * k as u64;
                if dword + 4 > num_records {
                    continue;
                }
                let a = base + dword;
                if mem.write(a, &d[l].to_le_bytes()).is_none() {
                    return fault(
                        format!("buffer store at {a:#x} (offset {dword:#x} of resource base {base:#x}) outside every buffer"),
                        l,
                    );
                }
            }
        }
    }
    Ok(())
}

/// `scratch_*`: private memory, `scratch_bytes` per lane; the address
/// (VGPR, SGPR and offset) is the lane's own byte offset.
fn scratch(w: &mut Wave, inst: &Inst) -> R<()> {
    check_mods(inst, &["offset", "glc", "slc", "dlc", "nt", "sc0", "sc1"])?;
    let m = inst.base.as_str();
    let load = m.starts_with("scratch_load");
    if !load && !m.starts_with("scratch_store") {
        return unimpl("no semantics");
    }
    let bytes = access_bytes(m)?;
    let n = bytes / 4;
    let offset = inst.modifier("offset").map(num).transpose()?.unwrap_or(0);
    let (vaddr_i, data_i) = if load { (1, 0) } else { (0, 1) };
    let vaddr = match op(inst, vaddr_i)?.op {
        Operand::Off => [0u32; LANES],
        _ => w.gather(op(inst, vaddr_i)?, 0, false)?,
    };
    let saddr = match op(inst, 2)?.op {
        Operand::Off => 0,
        ref s => w.read_s32(s)?,
    };
    let exec = w.exec;
    let per_lane = w.scratch_bytes;
    let at = |l: usize| -> R<usize> {
        let a = vaddr[l] as i64 + saddr as i64 + offset;
        if a < 0 || a as usize + bytes > per_lane {
            return fault(
                format!("private access of {bytes} bytes at {a:#x} outside the lane's {per_lane} bytes"),
                l,
            );
        }
        Ok(l * per_lane + a as usize)
    };
    if load {
        let mut out = vec![[0u32; LANES]; n];
        for l in 0..w.wave_size {
            if exec >> l & 1 == 0 {
                continue;
            }
            let a = at(l)?;
            for (k, o) in out.iter_mut().enumerate() {
                o[l] = u32::from_le_bytes(w.scratch[a + 4 * k..a + 4 * k + 4].try_into().unwrap());
            }
        }
        let dst = op(inst, data_i)?.op.clone();
        for (k, o) in out.iter().enumerate() {
            w.scatter(&dst, k, o, exec)?;
        }
    } else {
        let data: Vec<[u32; LANES]> = (0..n)
            .map(|k| w.gather(op(inst, data_i)?, k, false))
            .collect::<R<_>>()?;
        for l in 0..w.wave_size {
            if exec >> l & 1 == 0 {
                continue;
            }
            let a = at(l)?;
            for (k, d) in data.iter().enumerate() {
                w.scratch[a + 4 * k..a + 4 * k + 4].copy_from_slice(&d[l].to_le_bytes());
            }
        }
    }
    Ok(())
}

/// An atomic read-modify-write: the operation (`add`, `smin`, `cmpswap`,
/// ...) and width of an atomic mnemonic without its `global_atomic_` /
/// `ds_` prefix and `_rtn`.
fn atomic_kind(name: &str) -> R<(&'static str, usize)> {
    let wide = name.ends_with("_x2") || name.ends_with("64");
    let core = name.trim_end_matches("_x2");
    let (op, ty) = match core.rsplit_once('_') {
        Some((op, ty)) if matches!(ty, "u32" | "i32" | "b32" | "f32" | "u64" | "i64" | "b64" | "f64") => (op, ty),
        _ => (core, ""),
    };
    let kind = match (op, ty) {
        ("add", "f32") => "fadd",
        ("min", "f32") => "fmin",
        ("max", "f32") => "fmax",
        (_, "f64") => return unimpl("64-bit float atomics"),
        ("add", _) => "add",
        ("sub", _) => "sub",
        ("rsub", _) => "rsub",
        ("smin", _) | ("min", "i32") | ("min", "i64") => "smin",
        ("smax", _) | ("max", "i32") | ("max", "i64") => "smax",
        ("umin", _) | ("min", "u32") | ("min", "u64") => "umin",
        ("umax", _) | ("max", "u32") | ("max", "u64") => "umax",
        ("and", _) => "and",
        ("or", _) => "or",
        ("xor", _) => "xor",
        ("swap", _) | ("wrxchg", _) | ("storexchg", _) => "swap",
        ("cmpswap", _) => "cmpswap",
        ("inc", _) => "inc",
        ("dec", _) => "dec",
        _ => return unimpl(format!("atomic `{name}`")),
    };
    Ok((kind, if wide { 8 } else { 4 }))
}

/// The new memory value of an atomic on `old` with `src` (and `cmp`).
fn atomic_apply(kind: &str, bytes: usize, old: u64, src: u64, cmp: u64) -> u64 {
    let mask = if bytes == 8 { u64::MAX } else { 0xffff_ffff };
    let signed = |x: u64| if bytes == 8 { x as i64 } else { x as u32 as i32 as i64 };
    let fl = |x: u64| f32::from_bits(x as u32);
    (match kind {
        "add" => old.wrapping_add(src),
        "sub" => old.wrapping_sub(src),
        "rsub" => src.wrapping_sub(old),
        "smin" => (signed(old).min(signed(src))) as u64,
        "smax" => (signed(old).max(signed(src))) as u64,
        "umin" => old.min(src),
        "umax" => old.max(src),
        "and" => old & src,
        "or" => old | src,
        "xor" => old ^ src,
        "swap" => src,
        "cmpswap" => {
            if old == cmp {
                src
            } else {
                old
            }
        }
        "inc" => {
            if old >= src {
                0
            } else {
                old + 1
            }
        }
        "dec" => {
            if old == 0 || old > src {
                src
            } else {
                old - 1
            }
        }
        "fadd" => (fl(old) + fl(src)).to_bits() as u64,
        "fmin" => fmin(fl(old), fl(src)).to_bits() as u64,
        _ => fmax(fl(old), fl(src)).to_bits() as u64,
    }) & mask
}

/// `global_atomic_*`: lane by lane (in lane order) under the memory lock;
/// with a destination (the returning form, `glc`/`sc0`), each lane gets
/// the value before its operation. Compare-and-swap's data is the new
/// value then the value compared.
fn global_atomic(w: &mut Wave, inst: &Inst, mem: &mut Memory) -> R<()> {
    check_mods(inst, &["offset", "glc", "slc", "dlc", "nt", "sc0", "sc1"])?;
    let m = inst.base.as_str();
    let (kind, bytes) = atomic_kind(m.strip_prefix("global_atomic_").unwrap_or(m))?;
    let returns = inst.operands.len() == 4;
    let first = usize::from(returns);
    let dwords = bytes / 4;
    let offset = inst.modifier("offset").map(num).transpose()?.unwrap_or(0);
    let addrs: [u64; LANES] = match op(inst, first + 2)?.op {
        Operand::Off => w.gather64(op(inst, first)?, false)?,
        ref s => {
            let base = w.read_s64(s)?;
            let v = w.gather(op(inst, first)?, 0, false)?;
            std::array::from_fn(|l| base.wrapping_add(v[l] as u64))
        }
    };
    let ndata = if kind == "cmpswap" { 2 * dwords } else { dwords };
    let data: Vec<[u32; LANES]> = (0..ndata)
        .map(|k| w.gather(op(inst, first + 1)?, k, false))
        .collect::<R<_>>()?;
    let value = |k0: usize, l: usize| -> u64 {
        let lo = data[k0][l] as u64;
        if dwords == 2 {
            lo | (data[k0 + 1][l] as u64) << 32
        } else {
            lo
        }
    };
    let exec = w.exec;
    let mut olds = vec![[0u32; LANES]; dwords];
    for l in 0..w.wave_size {
        if exec >> l & 1 == 0 {
            continue;
        }
        let a = addrs[l].wrapping_add(offset as u64);
        let mut buf = [0u8; 8];
        if mem.read(a, &mut buf[..bytes]).is_none() {
            return fault(format!("atomic of {bytes} bytes at {a:#x} outside every buffer"), l);
        }
        let old = u64::from_le_bytes(buf);
        let cmp = if kind == "cmpswap" { value(dwords, l) } else { 0 };
        let new = atomic_apply(kind, bytes, old, value(0, l), cmp);
        mem.write(a, &new.to_le_bytes()[..bytes]);
        for (k, o) in olds.iter_mut().enumerate() {
            o[l] = (old >> (32 * k)) as u32;
        }
    }
    if returns {
        let dst = op(inst, 0)?.op.clone();
        for (k, o) in olds.iter().enumerate() {
            w.scatter(&dst, k, o, exec)?;
        }
    }
    Ok(())
}

/// LDS atomics (`ds_add_u32`, `ds_max_rtn_i32`, ...): lane by lane.
fn lds_atomic(w: &mut Wave, inst: &Inst, ctx: &mut Ctx) -> R<()> {
    check_mods(inst, &["offset"])?;
    let m = inst.base.as_str();
    let name = m.strip_prefix("ds_").unwrap_or(m).replace("_rtn", "");
    if name.starts_with("cmpst") || name.starts_with("cmpstore") {
        return unimpl("LDS compare-and-swap");
    }
    let (kind, bytes) = atomic_kind(&name)?;
    let returns = m.contains("_rtn");
    let first = usize::from(returns);
    let offset = inst.modifier("offset").map(num).transpose()?.unwrap_or(0) as usize;
    let addr = w.gather(op(inst, first)?, 0, false)?;
    let dwords = bytes / 4;
    let data: Vec<[u32; LANES]> = (0..dwords)
        .map(|k| w.gather(op(inst, first + 1)?, k, false))
        .collect::<R<_>>()?;
    let exec = w.exec;
    let lds_len = ctx.lds.len();
    let mut olds = vec![[0u32; LANES]; dwords];
    for l in 0..w.wave_size {
        if exec >> l & 1 == 0 {
            continue;
        }
        let a = addr[l] as usize + offset;
        if a + bytes > lds_len {
            return fault(
                format!("LDS atomic of {bytes} bytes at {a:#x} outside LDS ({lds_len} bytes)"),
                l,
            );
        }
        let mut buf = [0u8; 8];
        buf[..bytes].copy_from_slice(&ctx.lds[a..a + bytes]);
        let old = u64::from_le_bytes(buf);
        let src = data[0][l] as u64 | data.get(1).map_or(0, |d| (d[l] as u64) << 32);
        let new = atomic_apply(kind, bytes, old, src, 0);
        ctx.lds[a..a + bytes].copy_from_slice(&new.to_le_bytes()[..bytes]);
        for (k, o) in olds.iter_mut().enumerate() {
            o[l] = (old >> (32 * k)) as u32;
        }
    }
    if returns {
        let dst = op(inst, 0)?.op.clone();
        for (k, o) in olds.iter().enumerate() {
            w.scatter(&dst, k, o, exec)?;
        }
    }
    Ok(())
}
