//! Where a matrix-instruction `dot` puts its operands in shared memory
//! (LDS), and the bank model that layout is checked against.
//!
//! Both operands are stored so that every lane's fragment is contiguous:
//! `a` (`[M, K]`) row by row, `b` (`[K, N]`) transposed, column by column
//! (`b[k][n]` at `n * row + k`), so a fragment is one vector read (a
//! column of a row-major `b` would be `len` separate 2-byte reads). Rows
//! are padded so that the lanes reading the same `k` of consecutive rows
//! hit different banks: with reads of `w` bytes (a fragment, at most 16
//! bytes per instruction), a row of an odd number of `w`-byte units puts
//! the `128 / w` lanes served together on `128 / w` different bank groups
//! (an odd multiple of `q` units when those lanes span `q` fragments of a
//! row, as 4-byte reads of 16×16 MFMAs do).
//!
//! The bank model ([`bank_conflicts`]): LDS has 32 banks of 4 bytes; one
//! access instruction of a wave is served in groups of consecutive lanes
//! moving 128 bytes together (`128 / w` lanes for `w`-byte accesses);
//! within a group, different dwords in one bank are served one after the
//! other. This is the documented CDNA/RDNA organization of LDS (32 banks,
//! 128 bytes per clock); it is a model, checked here against the
//! addresses the compiler emits, not measured on hardware.

use tritonc_ir::{MatrixFamily, MatrixInstr, ScalarType};

/// Offsets and row strides (in elements) of a dot's staged operands.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct MatrixStaging {
    /// Elements between rows of `a`.
    pub a_row: u32,
    /// Byte offset of `b` (transposed), and elements between its rows
    /// (columns of `b`).
    pub b_offset: u32,
    pub b_row: u32,
    /// Bytes used, 16-byte aligned.
    pub end: u32,
}

/// The bytes one LDS instruction of a fragment read moves per lane.
pub fn read_width(instr: MatrixInstr, input: ScalarType) -> u32 {
    instr.fragment_bytes(input).min(16)
}

impl MatrixStaging {
    /// The layout for `[m, k] x [k, n]` operands of `input` elements read
    /// by `instr`; `padded` = false gives unpadded rows (for comparison).
    pub fn new(instr: MatrixInstr, input: ScalarType, (m, k, n): (u32, u32, u32), padded: bool) -> MatrixStaging {
        let bytes = input.bytes();
        let w = read_width(instr, input);
        // A group of 128 / w lanes is served together; it spans `q` groups
        // of `k` (lanes l and l + tile read the same row, q fragments
        // apart). Rows of L units of w bytes, L / q odd, put the group's
        // reads on distinct banks: row r, k-group g at unit r L + g.
        let q = (128 / w / instr.family.tile()).max(1);
        let row = |len: u32| {
            let units = (len * bytes).div_ceil(w);
            if !padded || !(len * bytes).is_multiple_of(w) {
                return len;
            }
            let mut l = units.div_ceil(q) * q;
            if (l / q).is_multiple_of(2) {
                l += q;
            }
            l * w / bytes
        };
        let (a_row, b_row) = (row(k), row(k));
        let b_offset = (m * a_row * bytes).div_ceil(16) * 16;
        let end = (b_offset + n * b_row * bytes).div_ceil(16) * 16;
        MatrixStaging {
            a_row,
            b_offset,
            b_row,
            end,
        }
    }

    /// Element index of `a[i][kk]` (from the start of `a`).
    pub fn a_index(&self, i: u32, kk: u32) -> u32 {
        i * self.a_row + kk
    }

    /// Element index of `b[kk][j]` (from the start of `b`).
    pub fn b_index(&self, kk: u32, j: u32) -> u32 {
        j * self.b_row + kk
    }

    /// Byte addresses the lanes of one wave read for their fragments of
    /// `operand` at step `k0` for the tile of rows of `a` (columns of `b`)
    /// from `first`, in one access instruction: `part` selects which
    /// `read_width` bytes of the fragment.
    pub fn fragment_addresses(
        &self,
        operand: Operand,
        instr: MatrixInstr,
        input: ScalarType,
        (first, k0, part): (u32, u32, u32),
    ) -> Vec<u32> {
        let fam = instr.family;
        let w = read_width(instr, input);
        (0..fam.wave())
            .map(|l| {
                let (kk, i) = (k0 + fam.fragment_k(l, instr.k), first + l % fam.tile());
                let at = match operand {
                    Operand::A => self.a_index(i, kk) * input.bytes(),
                    Operand::B => self.b_offset + self.b_index(kk, i) * input.bytes(),
                };
                at + part * w
            })
            .collect()
    }
}

/// A dot's first or second operand.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Operand {
    A,
    B,
}

/// The worst bank conflict of one access instruction of a wave: lane `i`
/// accesses `width` bytes at `addresses[i]`. 1 means conflict-free; `d`
/// means some group of lanes needs `d` passes for one bank.
pub fn bank_conflicts(addresses: &[u32], width: u32) -> u32 {
    let per_group = (128 / width.max(1)).max(1) as usize;
    addresses
        .chunks(per_group)
        .map(|group| {
            let mut dwords: Vec<Vec<u32>> = vec![Vec::new(); 32];
            for &a in group {
                for d in (a / 4)..(a + width).div_ceil(4) {
                    let bank = &mut dwords[(d % 32) as usize];
                    if !bank.contains(&d) {
                        bank.push(d);
                    }
                }
            }
            dwords.iter().map(|b| b.len() as u32).max().unwrap_or(0).max(1)
        })
        .max()
        .unwrap_or(1)
}

/// Every (family, k) pair a target may pick with its input type.
pub const MATRIX_VARIANTS: &[(MatrixFamily, u32, ScalarType)] = &[
    (MatrixFamily::Mfma32, 8, ScalarType::F16),
    (MatrixFamily::Mfma32, 8, ScalarType::BF16),
    (MatrixFamily::Mfma32, 2, ScalarType::F32),
    (MatrixFamily::Mfma32, 8, ScalarType::I8),
    (MatrixFamily::Mfma32, 16, ScalarType::I8),
    (MatrixFamily::Mfma16, 16, ScalarType::F16),
    (MatrixFamily::Mfma16, 16, ScalarType::BF16),
    (MatrixFamily::Mfma16, 4, ScalarType::F32),
    (MatrixFamily::Mfma16, 16, ScalarType::I8),
    (MatrixFamily::Mfma16, 32, ScalarType::I8),
    (MatrixFamily::Wmma16, 16, ScalarType::F16),
    (MatrixFamily::Wmma16, 16, ScalarType::BF16),
    (MatrixFamily::Wmma16, 16, ScalarType::I8),
];
