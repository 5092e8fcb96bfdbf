//! The special cases of the division helpers `v_div_scale` and
//! `v_div_fixup`, as the ISA guides' pseudocode gives them, once for f32
//! and f64 (the thresholds differ with the format; `v_div_fmas` is an FMA
//! scaled by 2^±SCALE where VCC is set).

/// What the helpers need of a float format.
pub(super) trait IsaFloat:
    Copy + PartialEq + std::ops::Div<Output = Self> + std::ops::Neg<Output = Self>
{
    /// Exponent difference (numerator over denominator) from which the
    /// quotient would overflow: 96 (f32), 768 (f64).
    const OVERFLOW_GAP: i32;
    /// Exponent difference below which the quotient rounds to zero.
    const UNDERFLOW_GAP: i32;
    /// The power of two operands are scaled by: 64 (f32), 128 (f64).
    const SCALE: i32;
    /// A numerator exponent at or below which it is scaled up: the
    /// mantissa's bits.
    const SMALL: i32;
    /// The biased exponent of infinities and NaNs.
    const MAX_EXP: i32;
    const ZERO: Self;
    const ONE: Self;
    const NAN: Self;
    const INFINITY: Self;
    /// The biased exponent field.
    fn exponent(self) -> i32;
    fn ldexp(self, n: i32) -> Self;
    fn is_nan(self) -> bool;
    fn is_infinite(self) -> bool;
    fn is_sign_negative(self) -> bool;
    fn abs(self) -> Self;
    fn is_denorm(self) -> bool {
        self != Self::ZERO && self.exponent() == 0
    }
}

/// `v_div_scale(a, den, numr)`: the operand `a` (the denominator or the
/// numerator) scaled so that the quotient's refinement cannot overflow or
/// underflow, and whether VCC is set (the quotient must be scaled back by
/// `v_div_fmas`).
pub(super) fn div_scale<F: IsaFloat>(a: F, den: F, numr: F) -> (F, bool) {
    let (up, down) = (a.ldexp(F::SCALE), a.ldexp(-F::SCALE));
    if numr == F::ZERO || den == F::ZERO {
        (F::NAN, false)
    } else if numr.exponent() - den.exponent() >= F::OVERFLOW_GAP {
        (if a == den { up } else { a }, true)
    } else if den.is_denorm() {
        (up, false)
    } else if (F::ONE / den).is_denorm() && (numr / den).is_denorm() {
        (if a == den { up } else { a }, true)
    } else if (F::ONE / den).is_denorm() {
        (down, false)
    } else if (numr / den).is_denorm() {
        (if a == numr { up } else { a }, true)
    } else if numr.exponent() <= F::SMALL {
        (up, false)
    } else {
        (a, false)
    }
}

/// `v_div_fixup(q, den, numr)`: the quotient `q` with the sign of the
/// division, or the special result NaN, infinity or zero operands (and
/// overflow or underflow) give.
pub(super) fn div_fixup<F: IsaFloat>(q: F, den: F, numr: F) -> F {
    let neg = den.is_sign_negative() != numr.is_sign_negative();
    let signed = |x: F| if neg { -x } else { x };
    if numr.is_nan() || den.is_nan() || (den == F::ZERO && numr == F::ZERO) || (den.is_infinite() && numr.is_infinite())
    {
        F::NAN
    } else if den == F::ZERO || numr.is_infinite() {
        signed(F::INFINITY)
    } else if den.is_infinite() || numr == F::ZERO || numr.exponent() - den.exponent() < F::UNDERFLOW_GAP {
        signed(F::ZERO)
    } else if den.exponent() == F::MAX_EXP {
        signed(F::INFINITY)
    } else {
        signed(q.abs())
    }
}

macro_rules! isa_float {
    ($t:ty, $man:expr, $emask:expr, overflow $o:expr, underflow $u:expr, scale $s:expr, small $sm:expr, ldexp $ld:expr) => {
        impl IsaFloat for $t {
            const OVERFLOW_GAP: i32 = $o;
            const UNDERFLOW_GAP: i32 = $u;
            const SCALE: i32 = $s;
            const SMALL: i32 = $sm;
            const MAX_EXP: i32 = $emask;
            const ZERO: Self = 0.0;
            const ONE: Self = 1.0;
            const NAN: Self = <$t>::NAN;
            const INFINITY: Self = <$t>::INFINITY;
            fn exponent(self) -> i32 {
                ((self.to_bits() >> $man) & $emask) as i32
            }
            fn ldexp(self, n: i32) -> Self {
                $ld(self, n)
            }
            fn is_nan(self) -> bool {
                <$t>::is_nan(self)
            }
            fn is_infinite(self) -> bool {
                <$t>::is_infinite(self)
            }
            fn is_sign_negative(self) -> bool {
                <$t>::is_sign_negative(self)
            }
            fn abs(self) -> Self {
                <$t>::abs(self)
            }
        }
    };
}

isa_float!(f32, 23, 0xff, overflow 96, underflow -150, scale 64, small 23, ldexp super::ldexp);
isa_float!(f64, 52, 0x7ff, overflow 768, underflow -1075, scale 128, small 53, ldexp super::float64::ldexp);
