//! Matrix instructions (MFMA on gfx90a/gfx942, WMMA on gfx1100): which
//! lane and register holds which element of A, B and D, as formulas,
//! checked element by element against AMD's own layout tables
//! (`tests/data/matrix-layouts/`, from AMD's matrix instruction
//! calculator), and 16-bit float conversions.

/// The shape of a matrix instruction.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Shape {
    pub m: usize,
    pub n: usize,
    pub k: usize,
    /// Elements of A (and of B) one lane holds.
    pub per_lane: usize,
    /// Bits of one A/B element: 8, 16 or 32.
    pub bits: usize,
    pub bf16: bool,
    /// 8-bit integer A and B, 32-bit integer C and D (sums wrap).
    pub int: bool,
    /// WMMA (wave32, A/B replicated in both halves) rather than MFMA.
    pub wmma: bool,
}

impl Shape {
    /// The instruction's shape, if it is one the emulator implements.
    pub fn of(mnemonic: &str) -> Option<Shape> {
        let mfma = |m, k, per_lane, bits, bf16| Shape {
            m,
            n: m,
            k,
            per_lane,
            bits,
            bf16,
            int: bits == 8,
            wmma: false,
        };
        Some(match mnemonic {
            "v_mfma_f32_32x32x8_f16" | "v_mfma_f32_32x32x8f16" => mfma(32, 8, 4, 16, false),
            "v_mfma_f32_16x16x16_f16" | "v_mfma_f32_16x16x16f16" => mfma(16, 16, 4, 16, false),
            "v_mfma_f32_32x32x8_bf16" | "v_mfma_f32_32x32x8bf16_1k" => mfma(32, 8, 4, 16, true),
            "v_mfma_f32_16x16x16_bf16" | "v_mfma_f32_16x16x16bf16_1k" => mfma(16, 16, 4, 16, true),
            "v_mfma_f32_32x32x2_f32" | "v_mfma_f32_32x32x2f32" => mfma(32, 2, 1, 32, false),
            "v_mfma_f32_16x16x4_f32" | "v_mfma_f32_16x16x4f32" => mfma(16, 4, 1, 32, false),
            "v_mfma_i32_32x32x16_i8" => mfma(32, 16, 8, 8, false),
            "v_mfma_i32_16x16x32_i8" => mfma(16, 32, 8, 8, false),
            "v_mfma_i32_32x32x8i8" => mfma(32, 8, 4, 8, false),
            "v_mfma_i32_16x16x16i8" => mfma(16, 16, 4, 8, false),
            "v_wmma_f32_16x16x16_f16" | "v_wmma_f32_16x16x16_bf16" => Shape {
                m: 16,
                n: 16,
                k: 16,
                per_lane: 16,
                bits: 16,
                bf16: mnemonic.ends_with("bf16"),
                int: false,
                wmma: true,
            },
            "v_wmma_i32_16x16x16_iu8" => Shape {
                m: 16,
                n: 16,
                k: 16,
                per_lane: 16,
                bits: 8,
                bf16: false,
                int: true,
                wmma: true,
            },
            _ => return None,
        })
    }

    /// Registers of the A (and B) operand.
    pub fn ab_regs(&self) -> usize {
        self.per_lane * self.bits / 32
    }

    /// Registers of the C and D operands (f32 or i32 elements).
    pub fn d_regs(&self) -> usize {
        self.m * self.n / if self.wmma { 32 } else { 64 }
    }

    /// `A[i][k]` held by element `e` (in register order, low half first)
    /// of `lane`.
    pub fn a_element(&self, lane: usize, e: usize) -> (usize, usize) {
        if self.wmma {
            (lane % 16, e)
        } else {
            (lane % self.m, self.per_lane * (lane / self.m) + e)
        }
    }

    /// `B[k][j]` held by element `e` of `lane`.
    pub fn b_element(&self, lane: usize, e: usize) -> (usize, usize) {
        let (j, k) = self.a_element(lane, e);
        (k, j)
    }

    /// `D[i][j]` held by register `r` of `lane`.
    pub fn d_element(&self, lane: usize, r: usize) -> (usize, usize) {
        if self.wmma {
            (2 * r + lane / 16, lane % 16)
        } else {
            let groups = 64 / self.n;
            ((r / 4) * 4 * groups + 4 * (lane / self.n) + r % 4, lane % self.n)
        }
    }
}

/// An IEEE half's value.
pub fn f16_to_f32(h: u16) -> f32 {
    let sign = if h & 0x8000 != 0 { -1.0f32 } else { 1.0 };
    let exp = (h >> 10) & 0x1f;
    let man = (h & 0x3ff) as u32;
    match exp {
        0 => sign * man as f32 * 2f32.powi(-24),
        31 => f32::from_bits(((h as u32 & 0x8000) << 16) | 0x7f80_0000 | (man << 13)),
        _ => f32::from_bits(((h as u32 & 0x8000) << 16) | ((exp as u32 + 112) << 23) | (man << 13)),
    }
}

/// f32 to IEEE half, rounded to nearest even.
pub fn f32_to_f16(x: f32) -> u16 {
    let b = x.to_bits();
    let sign = ((b >> 16) & 0x8000) as u16;
    let a = x.abs();
    if a.is_nan() {
        return sign | 0x7e00 | ((b >> 13) & 0x3ff) as u16;
    }
    if a >= 65520.0 {
        return sign | 0x7c00;
    }
    if a < 2f32.powi(-14) {
        // Subnormal: units of 2^-24 (exact in f64, one rounding).
        return sign | (a as f64 * 2f64.powi(24)).round_ties_even() as u16;
    }
    let e = ((b >> 23) & 0xff) as i32 - 127;
    let man = b & 0x7f_ffff;
    let mut h = (((e + 15) as u32) << 10) | (man >> 13);
    let rest = man & 0x1fff;
    if rest > 0x1000 || (rest == 0x1000 && h & 1 != 0) {
        h += 1;
    }
    sign | h as u16
}

pub fn bf16_to_f32(h: u16) -> f32 {
    f32::from_bits((h as u32) << 16)
}
