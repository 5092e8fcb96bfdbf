//! Constant folding of scalar operations whose operands are all constants,
//! plus a few identities that hold for every value (`x + 0`, `x * 1`,
//! `select(true, a, b)`).
//!
//! Guarantees: a folded value is bit-identical to what the generated code
//! computes: integers wrap at their width, division by zero and overflowing
//! shifts are left to run time, floats round to their type. Float
//! identities are not applied (`x + 0.0` is not `x` for `x = -0.0`).

use crate::PassError;
use std::collections::HashMap;
use tritonc_ir::{
    fold_util::{bf16_bits_to_f32, f16_bits_to_f32, f32_to_bf16_bits, f32_to_f16_bits},
    BinaryOp, CmpPred, ConstValue, Function, Module, OpId, OpKind, ScalarType, Value,
};

pub fn run(m: &mut Module) -> Result<(), PassError> {
    for f in &mut m.functions {
        fold_function(f);
    }
    Ok(())
}

fn fold_function(f: &mut Function) {
    let mut subst: HashMap<Value, Value> = HashMap::new();
    for op in f.walk() {
        let operands: Vec<Value> = f.op(op).operands.iter().map(|v| *subst.get(v).unwrap_or(v)).collect();
        f.op_mut(op).operands = operands;
        if let Some(c) = try_fold(f, op) {
            f.op_mut(op).kind = OpKind::Constant(c);
            f.op_mut(op).operands.clear();
        } else if let Some(v) = identity(f, op) {
            if let Some(&r) = f.op(op).results.first() {
                subst.insert(r, v);
            }
        }
    }
    f.substitute(&subst);
}

fn const_of(f: &Function, v: Value) -> Option<ConstValue> {
    match f.value(v).def {
        tritonc_ir::ValueDef::Result(op, 0) => match f.op(op).kind {
            OpKind::Constant(c) => Some(c),
            _ => None,
        },
        _ => None,
    }
}

/// The constant every element of `v` equals: a constant, or a splat of one.
fn uniform_const_of(f: &Function, v: Value) -> Option<ConstValue> {
    if let Some(c) = const_of(f, v) {
        return Some(c);
    }
    match f.value(v).def {
        tritonc_ir::ValueDef::Result(op, 0) if matches!(f.op(op).kind, OpKind::Splat) => {
            const_of(f, f.op(op).operands[0])
        }
        _ => None,
    }
}

fn identity(f: &Function, op: OpId) -> Option<Value> {
    let d = f.op(op);
    let s = d.results.first().and_then(|r| f.ty(*r).scalar_elem())?;
    match d.kind {
        OpKind::Binary(b) if s.is_int() => {
            let (x, y) = (d.operands[0], d.operands[1]);
            let cy = uniform_const_of(f, y);
            let cx = uniform_const_of(f, x);
            match (b, cx, cy) {
                (
                    BinaryOp::Add | BinaryOp::Sub | BinaryOp::Or | BinaryOp::Xor | BinaryOp::Shl | BinaryOp::Shr,
                    _,
                    Some(ConstValue::Int(0)),
                ) => Some(x),
                (BinaryOp::Add | BinaryOp::Or | BinaryOp::Xor, Some(ConstValue::Int(0)), _) => Some(y),
                (BinaryOp::Mul | BinaryOp::Div, _, Some(ConstValue::Int(1))) if !s.is_bool() => Some(x),
                (BinaryOp::Mul, Some(ConstValue::Int(1)), _) if !s.is_bool() => Some(y),
                _ => None,
            }
        }
        OpKind::Select => match uniform_const_of(f, d.operands[0]) {
            Some(ConstValue::Int(c)) => Some(if c != 0 { d.operands[1] } else { d.operands[2] }),
            _ => None,
        },
        OpKind::Cast if f.ty(d.operands[0]) == f.ty(d.results[0]) => Some(d.operands[0]),
        _ => None,
    }
}

pub use tritonc_ir::fold_util::wrap_int;

/// Rounds a float to the precision of `s`.
pub fn round_float(x: f64, s: ScalarType) -> f64 {
    match s {
        ScalarType::F32 => f64::from(x as f32),
        ScalarType::F16 => f64::from(f16_bits_to_f32(f32_to_f16_bits(x as f32))),
        ScalarType::BF16 => f64::from(bf16_bits_to_f32(f32_to_bf16_bits(x as f32))),
        _ => x,
    }
}

fn try_fold(f: &Function, op: OpId) -> Option<ConstValue> {
    let d = f.op(op);
    let rs = d.results.first().and_then(|r| {
        let t = f.ty(*r);
        if t.is_block() {
            None
        } else {
            t.scalar_elem()
        }
    })?;
    let cs: Option<Vec<ConstValue>> = d.operands.iter().map(|v| const_of(f, *v)).collect();
    let cs = cs?;
    let src = d.operands.first().and_then(|v| f.ty(*v).scalar_elem());
    match (&d.kind, cs.as_slice()) {
        (OpKind::Binary(b), [ConstValue::Int(x), ConstValue::Int(y)]) => {
            int_binary(*b, *x, *y, rs).map(ConstValue::Int)
        }
        (OpKind::Binary(b), [ConstValue::Float(x), ConstValue::Float(y)]) => {
            let r = match b {
                BinaryOp::Add => x + y,
                BinaryOp::Sub => x - y,
                BinaryOp::Mul => x * y,
                BinaryOp::Div => x / y,
                BinaryOp::Rem => x % y,
                // maxNum / minNum: a NaN operand is ignored. The sign of a
                // zero result is unspecified there, so zeros are not folded.
                BinaryOp::Max | BinaryOp::Min if *x == 0.0 && *y == 0.0 => return None,
                BinaryOp::Max => x.max(*y),
                BinaryOp::Min => x.min(*y),
                _ => return None,
            };
            // f64 arithmetic on rounded inputs then rounding once is exact
            // for + - * / of f32 and narrower (double rounding is harmless
            // there); for f64 it is the operation itself.
            Some(ConstValue::Float(round_float(r, rs)))
        }
        (OpKind::Cmp(p), [a, b]) => {
            let s = src?;
            let r = match (a, b) {
                (ConstValue::Int(x), ConstValue::Int(y)) => {
                    let (x, y) = (*x, *y);
                    if s.is_unsigned() || s.is_bool() {
                        let (x, y) = (x as u64, y as u64);
                        cmp(*p, x.cmp(&y))
                    } else {
                        cmp(*p, x.cmp(&y))
                    }
                }
                (ConstValue::Float(x), ConstValue::Float(y)) => match x.partial_cmp(y) {
                    None => *p == CmpPred::Ne,
                    Some(o) => cmp(*p, o),
                },
                _ => return None,
            };
            Some(ConstValue::Int(i64::from(r)))
        }
        (OpKind::Neg, [ConstValue::Int(x)]) => Some(ConstValue::Int(wrap_int(x.wrapping_neg(), rs))),
        (OpKind::Neg, [ConstValue::Float(x)]) => Some(ConstValue::Float(-x)),
        (OpKind::Not, [ConstValue::Int(x)]) => Some(ConstValue::Int(wrap_int(!x, rs))),
        (OpKind::Cast, [c]) => cast(*c, src?, rs),
        _ => None,
    }
}

fn cmp(p: CmpPred, o: std::cmp::Ordering) -> bool {
    use std::cmp::Ordering::*;
    match p {
        CmpPred::Eq => o == Equal,
        CmpPred::Ne => o != Equal,
        CmpPred::Lt => o == Less,
        CmpPred::Le => o != Greater,
        CmpPred::Gt => o == Greater,
        CmpPred::Ge => o != Less,
    }
}

fn int_binary(b: BinaryOp, x: i64, y: i64, s: ScalarType) -> Option<i64> {
    let unsigned = s.is_unsigned() || s.is_bool();
    let bits = i64::from(s.bits());
    let r = match b {
        BinaryOp::Add => x.wrapping_add(y),
        BinaryOp::Sub => x.wrapping_sub(y),
        BinaryOp::Mul => x.wrapping_mul(y),
        BinaryOp::Div | BinaryOp::Rem if y == 0 => return None,
        BinaryOp::Div if unsigned => ((x as u64) / (y as u64)) as i64,
        BinaryOp::Rem if unsigned => ((x as u64) % (y as u64)) as i64,
        BinaryOp::Div => x.checked_div(y)?,
        BinaryOp::Rem => x.checked_rem(y)?,
        BinaryOp::Shl | BinaryOp::Shr if y < 0 || y >= bits => return None,
        BinaryOp::Shl => x.wrapping_shl(y as u32),
        BinaryOp::Shr if unsigned => ((x as u64) >> y) as i64,
        BinaryOp::Shr => x >> y,
        BinaryOp::And => x & y,
        BinaryOp::Or => x | y,
        BinaryOp::Xor => x ^ y,
        BinaryOp::Max if unsigned => (x as u64).max(y as u64) as i64,
        BinaryOp::Min if unsigned => (x as u64).min(y as u64) as i64,
        BinaryOp::Max => x.max(y),
        BinaryOp::Min => x.min(y),
    };
    Some(wrap_int(r, s))
}

fn cast(c: ConstValue, from: ScalarType, to: ScalarType) -> Option<ConstValue> {
    Some(match c {
        ConstValue::Int(x) if to.is_bool() => ConstValue::Int(i64::from(x != 0)),
        ConstValue::Int(x) if to.is_float() => {
            let v = if from.is_unsigned() || from.is_bool() {
                x as u64 as f64
            } else {
                x as f64
            };
            // Rounding via f64 first is inexact for 64-bit ints into f32;
            // leave those to run time.
            if from.bits() > 53 && to != ScalarType::F64 {
                return None;
            }
            ConstValue::Float(round_float(v, to))
        }
        ConstValue::Int(x) => ConstValue::Int(wrap_int(x, to)),
        ConstValue::Float(x) if to.is_float() => ConstValue::Float(round_float(x, to)),
        ConstValue::Float(x) if to.is_bool() => ConstValue::Int(i64::from(x != 0.0)),
        // Float to int is undefined out of range; fold only when in range.
        ConstValue::Float(x) => {
            let t = x.trunc();
            let ok = if to.is_unsigned() {
                t >= 0.0 && t < 2f64.powi(to.bits() as i32)
            } else {
                t >= -(2f64.powi(to.bits() as i32 - 1)) && t < 2f64.powi(to.bits() as i32 - 1)
            };
            if !ok {
                return None;
            }
            ConstValue::Int(wrap_int(if to.is_unsigned() { t as u64 as i64 } else { t as i64 }, to))
        }
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ints_wrap_at_their_width() {
        assert_eq!(wrap_int(128, ScalarType::I8), -128);
        assert_eq!(wrap_int(-1, ScalarType::U8), 255);
        assert_eq!(int_binary(BinaryOp::Div, -7, 2, ScalarType::I32), Some(-3));
        assert_eq!(int_binary(BinaryOp::Rem, -7, 2, ScalarType::I32), Some(-1));
        assert_eq!(int_binary(BinaryOp::Div, 7, 0, ScalarType::I32), None);
        assert_eq!(int_binary(BinaryOp::Shr, -8, 1, ScalarType::I32), Some(-4));
        assert_eq!(
            int_binary(BinaryOp::Shr, wrap_int(-8, ScalarType::U32), 1, ScalarType::U32),
            Some(0x7fff_fffc)
        );
        assert_eq!(
            int_binary(BinaryOp::Mul, i64::from(i32::MAX), 2, ScalarType::I32),
            Some(-2)
        );
    }

    #[test]
    fn casts_round_like_hardware() {
        assert_eq!(
            cast(ConstValue::Float(1.5), ScalarType::F32, ScalarType::I32),
            Some(ConstValue::Int(1))
        );
        assert_eq!(
            cast(ConstValue::Float(-1.5), ScalarType::F32, ScalarType::I32),
            Some(ConstValue::Int(-1))
        );
        assert_eq!(cast(ConstValue::Float(1e10), ScalarType::F32, ScalarType::I32), None);
        assert_eq!(
            cast(ConstValue::Int(-1), ScalarType::I32, ScalarType::U8),
            Some(ConstValue::Int(255))
        );
        assert_eq!(
            cast(ConstValue::Float(0.1), ScalarType::F64, ScalarType::F32),
            Some(ConstValue::Float(f64::from(0.1f32)))
        );
    }
}
