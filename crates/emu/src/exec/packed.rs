//! Packed math (VOP3P): two 16-bit values in each 32-bit register
//! (`v_pk_*_f16`, `_u16`, `_i16`, `_b16`), or two f32 values in a register
//! pair (`v_pk_*_f32` on gfx90a/gfx942). For each source, `op_sel` picks
//! the half (or dword) feeding the low result and `op_sel_hi` the one
//! feeding the high result; `neg_lo`/`neg_hi` negate them (floats only).
//! f16 arithmetic is exact in f64 and rounded once to f16 (`fma` too: the
//! f64 fused result is exact unless the addend is more than 29 binades
//! away, where a second rounding could differ by one ulp from the
//! hardware's single one).

// Per-lane loops index several arrays by lane: that is the idiom here.
#![allow(clippy::needless_range_loop)]

use super::{check_mods, f, f64_to_f16, fmax, fmin, i16_of, op};
use crate::decode::{Inst, Operand};
use crate::matrix::f16_to_f32;
use crate::wave::{unimpl, Wave, LANES, R};

/// `v_pk_*_f32` (gfx90a/gfx942): two f32 lanes per register pair, with
/// `op_sel` / `op_sel_hi` choosing each half's source dword and
/// `neg_lo` / `neg_hi` negating it.
pub(super) fn vector(w: &mut Wave, inst: &Inst) -> R<()> {
    check_mods(inst, &["op_sel", "op_sel_hi", "neg_lo", "neg_hi", "clamp"])?;
    let m = inst.base.as_str();
    let nsrc = inst.operands.len() - 1;
    let bits = |name: &str, default: bool| -> R<Vec<bool>> {
        match inst.modifier(name) {
            Some(v) => v
                .trim_matches(|c| c == '[' || c == ']')
                .split(',')
                .map(|s| match s.trim() {
                    "0" => Ok(false),
                    "1" => Ok(true),
                    o => unimpl(format!("{name} bit `{o}`")),
                })
                .collect(),
            None => Ok(vec![default; nsrc]),
        }
    };
    let (op_sel, op_sel_hi, neg_lo, neg_hi) = (
        bits("op_sel", false)?,
        bits("op_sel_hi", true)?,
        bits("neg_lo", false)?,
        bits("neg_hi", false)?,
    );
    if m == "v_pk_mov_b32" {
        // D.lo = dword op_sel[0] of src0, D.hi = dword op_sel[1] of src1.
        if inst.modifier("op_sel_hi").is_some()
            || inst.modifier("neg_lo").is_some()
            || inst.modifier("neg_hi").is_some()
        {
            return unimpl("v_pk_mov_b32 with op_sel_hi or neg");
        }
        let dword = |i: usize, sel: bool| -> R<[u32; LANES]> {
            let s = op(inst, 1 + i)?;
            match s.op {
                Operand::Vgpr(..) | Operand::Agpr(..) | Operand::Sgpr(..) => w.gather(s, usize::from(sel), false),
                _ if !sel => w.gather(s, 0, false),
                _ => unimpl("the high dword of a constant"),
            }
        };
        let lo = dword(0, op_sel.first().copied().unwrap_or(false))?;
        let hi = dword(1, op_sel.get(1).copied().unwrap_or(false))?;
        let dst = op(inst, 0)?.op.clone();
        let exec = w.exec;
        w.scatter(&dst, 0, &lo, exec)?;
        return w.scatter(&dst, 1, &hi, exec);
    }
    if !m.ends_with("_f32") {
        return halves(w, inst, [&op_sel, &op_sel_hi, &neg_lo, &neg_hi]);
    }
    if inst.modifier("clamp").is_some() {
        return unimpl("clamp on packed f32 math");
    }
    let mut halves: Vec<[[u32; LANES]; 2]> = Vec::new();
    for i in 0..nsrc {
        let s = op(inst, 1 + i)?;
        if s.abs || s.neg {
            return unimpl("abs/neg on a packed operand");
        }
        let dword = |k: usize| -> R<[u32; LANES]> {
            match s.op {
                Operand::Vgpr(..) | Operand::Agpr(..) | Operand::Sgpr(..) => w.gather(s, k, false),
                _ => w.gather(s, 0, false),
            }
        };
        // Only the dwords `op_sel`/`op_sel_hi` pick are read.
        let pick = |sel: bool, neg: bool| -> R<[u32; LANES]> {
            let mut x = dword(usize::from(sel))?;
            if neg {
                for v in x.iter_mut() {
                    *v ^= 0x8000_0000;
                }
            }
            Ok(x)
        };
        let g = |v: &Vec<bool>| v.get(i).copied().unwrap_or(false);
        halves.push([pick(g(&op_sel), g(&neg_lo))?, pick(g(&op_sel_hi), g(&neg_hi))?]);
    }
    let dst = op(inst, 0)?.op.clone();
    let exec = w.exec;
    for h in 0..2 {
        let mut out = [0u32; LANES];
        for l in 0..LANES {
            let a = f(halves[0][h][l]);
            let b = halves.get(1).map(|x| f(x[h][l])).unwrap_or(0.0);
            let r = match m {
                "v_pk_add_f32" => a + b,
                "v_pk_mul_f32" => a * b,
                "v_pk_fma_f32" => a.mul_add(b, f(halves[2][h][l])),
                _ => return unimpl("no semantics"),
            };
            out[l] = r.to_bits();
        }
        w.scatter(&dst, h, &out, exec)?;
    }
    Ok(())
}

/// The 16-bit forms: each source's two halves as `op_sel`/`op_sel_hi`
/// choose them, the operation on the low and on the high pair, the two
/// results packed.
fn halves(w: &mut Wave, inst: &Inst, [op_sel, op_sel_hi, neg_lo, neg_hi]: [&Vec<bool>; 4]) -> R<()> {
    let m = inst.base.as_str();
    let float = m.ends_with("_f16");
    if !float && (neg_lo.iter().any(|b| *b) || neg_hi.iter().any(|b| *b)) {
        return unimpl("neg_lo/neg_hi on integer halves");
    }
    if !float && inst.modifier("clamp").is_some() {
        return unimpl("clamp on integer halves");
    }
    let nsrc = inst.operands.len() - 1;
    let g = |v: &Vec<bool>, i: usize| v.get(i).copied().unwrap_or(false);
    // srcs[i][h]: the 16-bit value of source i feeding result half h.
    let mut srcs: Vec<[[u16; LANES]; 2]> = Vec::with_capacity(nsrc);
    for i in 0..nsrc {
        let s = op(inst, 1 + i)?;
        if s.abs || s.neg {
            return unimpl("abs/neg on a packed operand");
        }
        let (sel_lo, sel_hi) = (g(op_sel, i), g(op_sel_hi, i));
        let raw = match s.op {
            Operand::Vgpr(..) | Operand::Agpr(..) | Operand::Sgpr(..) => w.gather(s, 0, false)?,
            // A constant's value is in the low half; which value a high
            // half would read differs between generations: not modeled.
            _ if sel_lo || sel_hi => return unimpl("the high half of a packed constant"),
            Operand::Float(x) if float => [u32::from(f64_to_f16(x)); LANES],
            Operand::Float(_) => return unimpl("a float constant in integer packed math"),
            _ => w.gather(s, 0, false)?,
        };
        let mut pair = [[0u16; LANES]; 2];
        for (h, (sel, neg)) in [(sel_lo, g(neg_lo, i)), (sel_hi, g(neg_hi, i))].into_iter().enumerate() {
            for l in 0..LANES {
                let v = (raw[l] >> if sel { 16 } else { 0 }) as u16;
                pair[h][l] = if neg { v ^ 0x8000 } else { v };
            }
        }
        srcs.push(pair);
    }
    let clamp = inst.modifier("clamp").is_some();
    let h16 = |x: u16| f64::from(f16_to_f32(x));
    let round = |x: f64| -> u16 {
        let x = if !clamp {
            x
        } else if x.is_nan() {
            0.0
        } else {
            x.clamp(0.0, 1.0)
        };
        f64_to_f16(x)
    };
    let arg = |i: usize, h: usize, l: usize| -> R<u16> {
        srcs.get(i)
            .map(|s| s[h][l])
            .ok_or_else(|| crate::wave::Trap::Unimplemented(format!("source {i} missing")))
    };
    let mut out = [0u32; LANES];
    for l in 0..LANES {
        let mut word = 0u32;
        for h in 0..2 {
            let a = arg(0, h, l)?;
            let b = if nsrc > 1 { arg(1, h, l)? } else { 0 };
            let r: u16 = match m {
                "v_pk_add_f16" => round(h16(a) + h16(b)),
                "v_pk_mul_f16" => round(h16(a) * h16(b)),
                "v_pk_fma_f16" => round(h16(a).mul_add(h16(b), h16(arg(2, h, l)?))),
                "v_pk_max_f16" => round(f64::from(fmax(f16_to_f32(a), f16_to_f32(b)))),
                "v_pk_min_f16" => round(f64::from(fmin(f16_to_f32(a), f16_to_f32(b)))),
                "v_pk_add_u16" | "v_pk_add_i16" => a.wrapping_add(b),
                "v_pk_sub_u16" | "v_pk_sub_i16" => a.wrapping_sub(b),
                "v_pk_mul_lo_u16" => a.wrapping_mul(b),
                "v_pk_max_u16" => a.max(b),
                "v_pk_min_u16" => a.min(b),
                "v_pk_max_i16" => i16_of(a.into()).max(i16_of(b.into())) as u16,
                "v_pk_min_i16" => i16_of(a.into()).min(i16_of(b.into())) as u16,
                "v_pk_lshlrev_b16" => b << (a & 15),
                "v_pk_lshrrev_b16" => b >> (a & 15),
                "v_pk_ashrrev_i16" => (i16_of(b.into()) >> (a & 15)) as u16,
                _ => return unimpl("no semantics"),
            };
            word |= u32::from(r) << (16 * h);
        }
        out[l] = word;
    }
    let exec = w.exec;
    w.scatter(&op(inst, 0)?.op.clone(), 0, &out, exec)
}
