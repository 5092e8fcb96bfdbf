//! Triton's type rules: promotion of mixed operands and numpy broadcasting.

use tritonc_ir::ScalarType;

/// The type two operands are converted to before a binary operation
/// (Triton's `computation_type_impl`, with `/` kept integral for ints).
pub fn promote(a: ScalarType, b: ScalarType) -> ScalarType {
    use ScalarType::*;
    if a == b {
        return a;
    }
    if a.is_float() || b.is_float() {
        if a == F64 || b == F64 {
            return F64;
        }
        if a == F32 || b == F32 {
            return F32;
        }
        if a.is_float() && b.is_float() {
            // f16 with bf16: neither holds the other.
            return F32;
        }
        return if a.is_float() { a } else { b };
    }
    if a.is_bool() {
        return b;
    }
    if b.is_bool() {
        return a;
    }
    if a.is_unsigned() == b.is_unsigned() {
        return if a.bits() >= b.bits() { a } else { b };
    }
    let (s, u) = if a.is_unsigned() { (b, a) } else { (a, b) };
    if u.bits() >= s.bits() {
        u
    } else {
        s
    }
}

/// The numpy broadcast of two shapes (scalars are shape `[]`), or `None`.
pub fn broadcast_shapes(a: &[u32], b: &[u32]) -> Option<Vec<u32>> {
    let n = a.len().max(b.len());
    let mut out = vec![0; n];
    for i in 0..n {
        let da = if i + a.len() >= n { a[i + a.len() - n] } else { 1 };
        let db = if i + b.len() >= n { b[i + b.len() - n] } else { 1 };
        out[i] = match (da, db) {
            (x, y) if x == y => x,
            (1, y) => y,
            (x, 1) => x,
            _ => return None,
        };
    }
    Some(out)
}

#[cfg(test)]
mod tests {
    use super::*;
    use ScalarType::*;

    #[test]
    fn promotion_follows_triton() {
        assert_eq!(promote(I32, F16), F16);
        assert_eq!(promote(F16, BF16), F32);
        assert_eq!(promote(F16, F64), F64);
        assert_eq!(promote(I8, I32), I32);
        assert_eq!(promote(I64, U32), I64);
        assert_eq!(promote(I32, U32), U32);
        assert_eq!(promote(U8, I16), I16);
        assert_eq!(promote(I1, I8), I8);
    }

    #[test]
    fn broadcasting_is_numpy() {
        assert_eq!(broadcast_shapes(&[4], &[1]), Some(vec![4]));
        assert_eq!(broadcast_shapes(&[], &[8]), Some(vec![8]));
        assert_eq!(broadcast_shapes(&[2, 1], &[1, 8]), Some(vec![2, 8]));
        assert_eq!(broadcast_shapes(&[4], &[8]), None);
    }
}
