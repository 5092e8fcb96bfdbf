//! What one element of each type means, and every operation on elements.
//!
//! An element is held as `u64` bits in a canonical form: integers (and
//! bools) truncated to their width and zero-extended, floats as the raw
//! bits of their own format, pointers as addresses. Arithmetic decodes to
//! a mathematical value (`i128` or `f64`), computes, and encodes back.
//!
//! Floats narrower than `f64` compute in `f64` and round once to their
//! type. For `+ - * /`, `sqrt` and `fmod` that is the correctly rounded
//! result (`f64` has more than twice the precision plus two bits of `f32`,
//! so the second rounding is harmless), which is what IEEE arithmetic in
//! the type itself gives. Math functions are computed in `f64` and rounded:
//! the reference the compiled code's few-ulp approximations are held to.

use tritonc_ir::{
    fold_util::{bf16_bits_to_f32, f16_bits_to_f32, f32_to_bf16_bits, f32_to_f16_bits},
    AtomicOp, BinaryOp, CmpPred, ConstValue, MathFn, ScalarType,
};

/// The low `bits` bits set.
fn width_mask(bits: u32) -> u64 {
    if bits >= 64 {
        u64::MAX
    } else {
        (1u64 << bits) - 1
    }
}

/// The integer an element of integer type `s` stands for.
pub fn int_value(s: ScalarType, bits: u64) -> i128 {
    let w = s.bits();
    let b = bits & width_mask(w);
    if s.is_signed_int() && w < 128 && (b >> (w - 1)) & 1 == 1 {
        i128::from(b) - (1i128 << w)
    } else {
        i128::from(b)
    }
}

/// The element of integer type `s` holding `v` modulo 2^width.
pub fn int_bits(s: ScalarType, v: i128) -> u64 {
    (v as u64) & width_mask(s.bits())
}

/// The value of an element of float type `s` (exact).
pub fn float_value(s: ScalarType, bits: u64) -> f64 {
    match s {
        ScalarType::F16 => f64::from(f16_bits_to_f32(bits as u16)),
        ScalarType::BF16 => f64::from(bf16_bits_to_f32(bits as u16)),
        ScalarType::F32 => f64::from(f32::from_bits(bits as u32)),
        _ => f64::from_bits(bits),
    }
}

/// `x` rounded to float type `s` (ties to even), as an element.
pub fn float_bits(s: ScalarType, x: f64) -> u64 {
    match s {
        ScalarType::F16 => u64::from(f32_to_f16_bits(x as f32)),
        ScalarType::BF16 => u64::from(f32_to_bf16_bits(x as f32)),
        ScalarType::F32 => u64::from((x as f32).to_bits()),
        _ => x.to_bits(),
    }
}

fn sign_bit(s: ScalarType) -> u64 {
    1u64 << (s.bits() - 1)
}

/// The element a constant stands for in type `s`.
pub fn constant(s: ScalarType, c: ConstValue) -> u64 {
    match (c, s.is_float()) {
        (ConstValue::Int(v), false) => int_bits(s, i128::from(v)),
        (ConstValue::Int(v), true) => float_bits(s, v as f64),
        (ConstValue::Float(x), true) => float_bits(s, x),
        (ConstValue::Float(x), false) => int_bits(s, x as i128),
    }
}

/// IEEE maxNum / minNum: a NaN operand is ignored; NaN only when both are.
fn float_max_min(max: bool, a: f64, b: f64) -> f64 {
    match (a.is_nan(), b.is_nan()) {
        (true, _) => b,
        (_, true) => a,
        _ if max => a.max(b),
        _ => a.min(b),
    }
}

/// `a op b` for elements of type `s`.
pub fn binary(op: BinaryOp, s: ScalarType, a: u64, b: u64) -> u64 {
    if s.is_float() {
        let (x, y) = (float_value(s, a), float_value(s, b));
        let r = match op {
            BinaryOp::Add => x + y,
            BinaryOp::Sub => x - y,
            BinaryOp::Mul => x * y,
            BinaryOp::Div => x / y,
            BinaryOp::Rem => x % y,
            BinaryOp::Max => float_max_min(true, x, y),
            BinaryOp::Min => float_max_min(false, x, y),
            // The verifier refuses bitwise operations on floats.
            BinaryOp::Shl | BinaryOp::Shr | BinaryOp::And | BinaryOp::Or | BinaryOp::Xor => f64::NAN,
        };
        return float_bits(s, r);
    }
    let (x, y) = (int_value(s, a), int_value(s, b));
    let w = s.bits();
    match op {
        BinaryOp::Add => int_bits(s, x + y),
        BinaryOp::Sub => int_bits(s, x - y),
        BinaryOp::Mul => int_bits(s, x.wrapping_mul(y)),
        // A zero divisor gives an unspecified value (the language says so);
        // this one is `x / 1`, what the CPU backend computes.
        BinaryOp::Div if y == 0 => a,
        BinaryOp::Rem if y == 0 => 0,
        // Truncating like C; MIN / -1 wraps to MIN.
        BinaryOp::Div => int_bits(s, x / y),
        BinaryOp::Rem => int_bits(s, x % y),
        BinaryOp::Shl => {
            let n = b & width_mask(w);
            if n >= u64::from(w) {
                0
            } else {
                int_bits(s, x << n)
            }
        }
        BinaryOp::Shr => {
            // Arithmetic on signed types (`x` is sign-extended), logical on
            // unsigned ones and bools (`x` is not).
            let n = (b & width_mask(w)).min(127) as u32;
            int_bits(s, x >> n.min(w))
        }
        BinaryOp::And => a & b,
        BinaryOp::Or => a | b,
        BinaryOp::Xor => a ^ b,
        BinaryOp::Max => int_bits(s, x.max(y)),
        BinaryOp::Min => int_bits(s, x.min(y)),
    }
}

/// `a pred b` for elements of type `s`: floats compare ordered except `!=`.
pub fn compare(p: CmpPred, s: ScalarType, a: u64, b: u64) -> bool {
    // Rust's float comparisons are these: false with a NaN, except `!=`.
    fn by<T: PartialOrd>(p: CmpPred, x: T, y: T) -> bool {
        match p {
            CmpPred::Eq => x == y,
            CmpPred::Ne => x != y,
            CmpPred::Lt => x < y,
            CmpPred::Le => x <= y,
            CmpPred::Gt => x > y,
            CmpPred::Ge => x >= y,
        }
    }
    if s.is_float() {
        by(p, float_value(s, a), float_value(s, b))
    } else {
        by(p, int_value(s, a), int_value(s, b))
    }
}

pub fn negate(s: ScalarType, a: u64) -> u64 {
    if s.is_float() {
        a ^ sign_bit(s)
    } else {
        int_bits(s, -int_value(s, a))
    }
}

/// Bitwise not (logical on bools, which are one bit wide).
pub fn not(s: ScalarType, a: u64) -> u64 {
    !a & width_mask(s.bits())
}

/// `.to(to)`: value conversion. Floats to integers truncate toward zero
/// (out of range is unspecified in the language; this saturates); nonzero
/// (and NaN) is `true`.
pub fn cast(from: ScalarType, to: ScalarType, a: u64) -> u64 {
    if from == to {
        return a;
    }
    if to.is_bool() {
        let nonzero = if from.is_float() {
            float_value(from, a) != 0.0 || float_value(from, a).is_nan()
        } else {
            a != 0
        };
        return u64::from(nonzero);
    }
    match (from.is_float(), to.is_float()) {
        (false, false) => int_bits(to, int_value(from, a)),
        (false, true) => {
            let v = int_value(from, a);
            // Round once, directly from the integer.
            match to {
                ScalarType::F64 => (v as f64).to_bits(),
                ScalarType::F32 => u64::from((v as f32).to_bits()),
                half => float_bits(half, f64::from(v as f32)),
            }
        }
        (true, false) => {
            let x = float_value(from, a).trunc();
            if x.is_nan() {
                0
            } else {
                let lo = int_value(to, if to.is_signed_int() { sign_bit(to) } else { 0 });
                let hi = int_value(to, if to.is_signed_int() { sign_bit(to) - 1 } else { u64::MAX });
                int_bits(to, (x.max(lo as f64).min(hi as f64)) as i128)
            }
        }
        (true, true) => float_bits(to, float_value(from, a)),
    }
}

/// A math function of an element of type `s` (`abs` also on integers).
pub fn math(m: MathFn, s: ScalarType, a: u64) -> u64 {
    if !s.is_float() {
        // Only `abs` takes integers (the verifier says so); it wraps.
        let v = int_value(s, a);
        return int_bits(s, v.abs());
    }
    if m == MathFn::Abs {
        return a & !sign_bit(s);
    }
    let x = float_value(s, a);
    let r = match m {
        // f32 and halves: `exp2` of the product with log2(e) rounded to
        // f32, as the compiled code computes it.
        MathFn::Exp if s != ScalarType::F64 => f64::from((x as f32) * std::f32::consts::LOG2_E).exp2(),
        MathFn::Exp => x.exp(),
        MathFn::Exp2 => x.exp2(),
        MathFn::Log => x.ln(),
        MathFn::Log2 => x.log2(),
        MathFn::Sqrt => x.sqrt(),
        MathFn::Rsqrt => 1.0 / x.sqrt(),
        MathFn::Sin => x.sin(),
        MathFn::Cos => x.cos(),
        MathFn::Tanh => x.tanh(),
        MathFn::Erf => libm::erf(x),
        MathFn::Floor => x.floor(),
        MathFn::Ceil => x.ceil(),
        MathFn::Abs => x.abs(),
    };
    float_bits(s, r)
}

/// `a * b + c` rounded once (halves: once to f32, then to their type).
pub fn fma(s: ScalarType, a: u64, b: u64, c: u64) -> u64 {
    let (x, y, z) = (float_value(s, a), float_value(s, b), float_value(s, c));
    match s {
        ScalarType::F64 => x.mul_add(y, z).to_bits(),
        _ => float_bits(s, f64::from((x as f32).mul_add(y as f32, z as f32))),
    }
}

/// The value an atomic read-modify-write stores, given the old one.
pub fn atomic_update(op: AtomicOp, s: ScalarType, old: u64, v: u64) -> u64 {
    match op {
        AtomicOp::Add => binary(BinaryOp::Add, s, old, v),
        AtomicOp::Max => binary(BinaryOp::Max, s, old, v),
        AtomicOp::Min => binary(BinaryOp::Min, s, old, v),
        AtomicOp::Xchg => v,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use ScalarType::*;

    fn i(s: ScalarType, v: i128) -> u64 {
        int_bits(s, v)
    }

    #[test]
    fn integers_wrap_and_divide_like_c() {
        assert_eq!(int_value(I8, binary(BinaryOp::Add, I8, i(I8, 127), i(I8, 1))), -128);
        assert_eq!(int_value(I32, binary(BinaryOp::Div, I32, i(I32, -7), i(I32, 2))), -3);
        assert_eq!(int_value(I32, binary(BinaryOp::Rem, I32, i(I32, -7), i(I32, 2))), -1);
        assert_eq!(int_value(U8, binary(BinaryOp::Sub, U8, 0, 1)), 255);
        assert_eq!(int_value(I32, binary(BinaryOp::Shr, I32, i(I32, -8), 1)), -4);
        assert_eq!(int_value(U32, binary(BinaryOp::Shr, U32, i(U32, 0x8000_0000), 31)), 1);
        assert_eq!(
            int_value(
                I32,
                binary(BinaryOp::Div, I32, i(I32, i128::from(i32::MIN)), i(I32, -1))
            ),
            i128::from(i32::MIN)
        );
        assert_eq!(
            int_value(I64, binary(BinaryOp::Mul, I64, i(I64, i128::from(i64::MAX)), i(I64, 2))),
            -2
        );
        assert!(compare(CmpPred::Lt, I32, i(I32, -1), i(I32, 0)));
        assert!(!compare(CmpPred::Lt, U32, i(U32, -1), i(U32, 0)));
        assert_eq!(not(I1, 1), 0);
        assert_eq!(int_value(I32, not(I32, 0)), -1);
    }

    #[test]
    fn floats_follow_ieee_and_maxnum() {
        let f = |x: f32| u64::from(x.to_bits());
        assert_eq!(binary(BinaryOp::Add, F32, f(0.1), f(0.2)), f(0.1 + 0.2));
        assert_eq!(binary(BinaryOp::Div, F32, f(1.0), f(3.0)), f(1.0 / 3.0));
        assert_eq!(binary(BinaryOp::Max, F32, f(f32::NAN), f(2.0)), f(2.0));
        assert_eq!(binary(BinaryOp::Min, F32, f(1.0), f(f32::NAN)), f(1.0));
        assert!(compare(CmpPred::Ne, F32, f(f32::NAN), f(f32::NAN)));
        assert!(!compare(CmpPred::Eq, F32, f(f32::NAN), f(f32::NAN)));
        assert_eq!(negate(F32, f(0.0)), f(-0.0));
        // f16: 1 + 2^-11 is a tie that rounds to even (1.0).
        let h = |x: f32| u64::from(f32_to_f16_bits(x));
        assert_eq!(binary(BinaryOp::Add, F16, h(1.0), h(2f32.powi(-11))), h(1.0));
        assert_eq!(fma(F32, f(2.0), f(3.0), f(1.0)), f(7.0));
    }

    #[test]
    fn casts_truncate_and_test_nonzero() {
        let f = |x: f32| u64::from(x.to_bits());
        assert_eq!(int_value(I32, cast(F32, I32, f(-2.7))), -2);
        assert_eq!(cast(F32, I1, f(f32::NAN)), 1);
        assert_eq!(cast(F32, I1, f(-0.0)), 0);
        assert_eq!(int_value(I64, cast(I8, I64, i(I8, -1))), -1);
        assert_eq!(int_value(U64, cast(U8, U64, 255)), 255);
        assert_eq!(int_value(U8, cast(I32, U8, i(I32, 257))), 1);
        assert_eq!(cast(I64, F32, i(I64, (1 << 24) + 1)), f(16_777_216.0));
        assert_eq!(cast(I1, I32, 1), 1);
        assert_eq!(cast(F32, BF16, f(1.0)), 0x3f80);
    }
}
