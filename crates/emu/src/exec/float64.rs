//! Double-precision vector instructions (`v_*_f64` and the conversions
//! to and from f64): each lane's value is a register pair (or a 64-bit
//! scalar or constant). Arithmetic is IEEE double, rounded once; the
//! approximate instructions (`v_rcp_f64`, `v_rsq_f64`, `v_sqrt_f64`) are
//! computed correctly rounded (the hardware's are within 1 ulp, and LLVM
//! refines them with Newton steps, so a kernel's result does not depend on
//! the last bit). The division helpers (`v_div_scale_f64`,
//! `v_div_fmas_f64`, `v_div_fixup_f64`) follow the ISA guides' pseudocode.

// Per-lane loops index several arrays by lane: that is the idiom here.
#![allow(clippy::needless_range_loop)]

use super::{check_mods, op};
use crate::decode::{Inst, Operand, Src};
use crate::wave::{unimpl, Trap, Wave, LANES, R};

/// Whether this module implements the mnemonic.
pub(super) fn handles(m: &str) -> bool {
    (m.ends_with("_f64") && !m.starts_with("v_cmp") && !m.starts_with("v_mfma_"))
        || m.starts_with("v_cvt_f64_")
        || matches!(
            m,
            "v_cvt_f32_f64" | "v_cvt_i32_f64" | "v_cvt_u32_f64" | "v_frexp_exp_i32_f64"
        )
}

/// A 64-bit float source in every lane: a register pair, a 64-bit scalar,
/// an inline constant, or a 32-bit literal (the high half of the double,
/// as the hardware and LLVM's printer treat an f64 literal).
fn source(w: &Wave, s: &Src) -> R<[u64; LANES]> {
    match s.op {
        Operand::Int(v) if !(-16..=64).contains(&v) => {
            let mut out = [(v as u32 as u64) << 32; LANES];
            for x in out.iter_mut() {
                if s.abs {
                    *x &= !(1 << 63);
                }
                if s.neg {
                    *x ^= 1 << 63;
                }
            }
            Ok(out)
        }
        _ => w.gather64(s, true),
    }
}

fn d(x: u64) -> f64 {
    f64::from_bits(x)
}

/// The biased exponent field.
fn exponent(x: f64) -> i32 {
    ((x.to_bits() >> 52) & 0x7ff) as i32
}

fn is_denorm(x: f64) -> bool {
    x != 0.0 && exponent(x) == 0
}

/// `x * 2^n`, rounded once (denormal results included).
pub(super) fn ldexp(x: f64, n: i32) -> f64 {
    if x.is_nan() || x.is_infinite() || x == 0.0 {
        return x;
    }
    // In steps that are each exact or the final rounding.
    let mut r = x;
    let mut n = n.clamp(-2200, 2200);
    while n > 1000 {
        r *= 2f64.powi(1000);
        n -= 1000;
    }
    while n < -1000 {
        r *= 2f64.powi(-1000);
        n += 1000;
        if r == 0.0 {
            return r;
        }
    }
    r * 2f64.powi(n)
}

/// The IEEE maximum and minimum of the ISA (a NaN operand yields the
/// other operand; -0 < +0).
fn fmax(a: f64, b: f64) -> f64 {
    if a.is_nan() {
        b
    } else if b.is_nan() || a > b || (a == b && b.is_sign_negative()) {
        a
    } else {
        b
    }
}

fn fmin(a: f64, b: f64) -> f64 {
    if a.is_nan() {
        b
    } else if b.is_nan() || a < b || (a == b && a.is_sign_negative()) {
        a
    } else {
        b
    }
}

/// `frexp`'s mantissa in [0.5, 1) with the sign of x; NaN, infinities and
/// zeros as they are.
fn frexp(x: f64) -> (f64, i32) {
    if x.is_nan() || x.is_infinite() || x == 0.0 {
        return (x, 0);
    }
    let (scaled, bias) = if is_denorm(x) { (x * 2f64.powi(64), 64) } else { (x, 0) };
    let e = exponent(scaled) - 1022;
    let mant = f64::from_bits((scaled.to_bits() & !(0x7ff << 52)) | (1022u64 << 52));
    (mant, e - bias)
}

/// Runs an f64 instruction ([`handles`] said yes).
pub(super) fn vector(w: &mut Wave, inst: &Inst) -> R<()> {
    let m = inst.base.as_str();
    if inst.encoding == "dpp" || inst.encoding == "sdwa" {
        return unimpl("DPP or SDWA form of a 64-bit instruction");
    }
    check_mods(inst, &["clamp"])?;
    let clamp = inst.modifier("clamp").is_some();
    let exec = w.exec;
    let has_sdst = m == "v_div_scale_f64";
    let dst = op(inst, 0)?.op.clone();
    let first = if has_sdst { 2 } else { 1 };
    let srcs = &inst.operands[first..];
    let src64 = |i: usize| -> R<[u64; LANES]> {
        let s = srcs
            .get(i)
            .ok_or_else(|| Trap::Unimplemented(format!("source {i} missing")))?;
        source(w, s)
    };
    let src32 = |i: usize, float: bool| -> R<[u32; LANES]> {
        let s = srcs
            .get(i)
            .ok_or_else(|| Trap::Unimplemented(format!("source {i} missing")))?;
        w.gather(s, 0, float)
    };
    let clamped = |x: f64| -> f64 {
        if !clamp {
            x
        } else if x.is_nan() {
            0.0
        } else {
            x.clamp(0.0, 1.0)
        }
    };
    // Results with 32 bits go to one register.
    let narrow: Option<[u32; LANES]> = match m {
        "v_cvt_f32_f64" => {
            let a = src64(0)?;
            Some(std::array::from_fn(|l| (clamped(d(a[l])) as f32).to_bits()))
        }
        "v_cvt_i32_f64" => {
            let a = src64(0)?;
            Some(std::array::from_fn(|l| d(a[l]) as i32 as u32))
        }
        "v_cvt_u32_f64" => {
            let a = src64(0)?;
            Some(std::array::from_fn(|l| d(a[l]) as u32))
        }
        "v_frexp_exp_i32_f64" => {
            let a = src64(0)?;
            Some(std::array::from_fn(|l| frexp(d(a[l])).1 as u32))
        }
        _ => None,
    };
    if let Some(out) = narrow {
        return w.scatter(&dst, 0, &out, exec);
    }
    let mut out = [0f64; LANES];
    let mut vcc_out = 0u64;
    macro_rules! each {
        ($f:expr) => {
            for l in 0..LANES {
                out[l] = $f(l);
            }
        };
    }
    match m {
        "v_cvt_f64_f32" => {
            let a = src32(0, true)?;
            each!(|l: usize| f64::from(f32::from_bits(a[l])))
        }
        "v_cvt_f64_i32" => {
            let a = src32(0, false)?;
            each!(|l: usize| f64::from(a[l] as i32))
        }
        "v_cvt_f64_u32" => {
            let a = src32(0, false)?;
            each!(|l: usize| f64::from(a[l]))
        }
        "v_rcp_f64" | "v_rsq_f64" | "v_sqrt_f64" | "v_fract_f64" | "v_trunc_f64" | "v_ceil_f64" | "v_floor_f64"
        | "v_rndne_f64" | "v_frexp_mant_f64" => {
            let a = src64(0)?;
            let f: fn(f64) -> f64 = match m {
                "v_rcp_f64" => |x| 1.0 / x,
                "v_rsq_f64" => |x| 1.0 / x.sqrt(),
                "v_sqrt_f64" => f64::sqrt,
                "v_fract_f64" => |x| {
                    if x.is_infinite() {
                        f64::NAN
                    } else {
                        (x - x.floor()).min(f64::from_bits(0x3fef_ffff_ffff_ffff))
                    }
                },
                "v_trunc_f64" => f64::trunc,
                "v_ceil_f64" => f64::ceil,
                "v_floor_f64" => f64::floor,
                "v_rndne_f64" => f64::round_ties_even,
                _ => |x| frexp(x).0,
            };
            each!(|l: usize| f(d(a[l])))
        }
        "v_add_f64" | "v_mul_f64" | "v_max_f64" | "v_min_f64" => {
            let (a, b) = (src64(0)?, src64(1)?);
            let f: fn(f64, f64) -> f64 = match m {
                "v_add_f64" => |x, y| x + y,
                "v_mul_f64" => |x, y| x * y,
                "v_max_f64" => fmax,
                _ => fmin,
            };
            each!(|l: usize| f(d(a[l]), d(b[l])))
        }
        "v_ldexp_f64" => {
            let (a, n) = (src64(0)?, src32(1, false)?);
            each!(|l: usize| ldexp(d(a[l]), n[l] as i32))
        }
        "v_fma_f64" => {
            let (a, b, c) = (src64(0)?, src64(1)?, src64(2)?);
            each!(|l: usize| d(a[l]).mul_add(d(b[l]), d(c[l])))
        }
        // gfx90a/gfx942: the destination is the addend.
        "v_fmac_f64" => {
            let (a, b) = (src64(0)?, src64(1)?);
            let acc = w.gather64(&Src::plain(dst.clone()), false)?;
            each!(|l: usize| d(a[l]).mul_add(d(b[l]), d(acc[l])))
        }
        "v_div_scale_f64" => {
            let (s0, s1, s2) = (src64(0)?, src64(1)?, src64(2)?);
            for l in 0..LANES {
                let (r, vcc) = super::division::div_scale(d(s0[l]), d(s1[l]), d(s2[l]));
                out[l] = r;
                if vcc {
                    vcc_out |= 1 << l;
                }
            }
        }
        "v_div_fmas_f64" => {
            let vcc = w.vcc;
            let (a, b, c) = (src64(0)?, src64(1)?, src64(2)?);
            for l in 0..LANES {
                let r = d(a[l]).mul_add(d(b[l]), d(c[l]));
                out[l] = if vcc >> l & 1 != 0 {
                    ldexp(r, if exponent(d(c[l])) >= 1023 { 128 } else { -128 })
                } else {
                    r
                };
            }
        }
        "v_div_fixup_f64" => {
            let (s0, s1, s2) = (src64(0)?, src64(1)?, src64(2)?);
            for l in 0..LANES {
                out[l] = super::division::div_fixup(d(s0[l]), d(s1[l]), d(s2[l]));
            }
        }
        _ => return unimpl("no semantics"),
    }
    if has_sdst {
        let sd = op(inst, 1)?.op.clone();
        let old = w.read_mask_old(&sd).unwrap_or(0);
        w.write_mask(&sd, (old & !exec) | (vcc_out & exec))?;
    }
    let lo: [u32; LANES] = std::array::from_fn(|l| clamped(out[l]).to_bits() as u32);
    let hi: [u32; LANES] = std::array::from_fn(|l| (clamped(out[l]).to_bits() >> 32) as u32);
    w.scatter(&dst, 0, &lo, exec)?;
    w.scatter(&dst, 1, &hi, exec)
}
