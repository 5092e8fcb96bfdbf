//! The bank model of `tritonc_codegen::staging` (where a matrix dot's
//! operands lie in LDS) applied to every fragment read the layouts make.
//! (Here rather than as unit tests of the codegen crate, whose test build
//! would compile the whole crate a second time and link another program
//! carrying LLVM: the suite's time.)

use tritonc::codegen::staging::{bank_conflicts, read_width, MatrixStaging, Operand, MATRIX_VARIANTS};
use tritonc::ir::{MatrixFamily, MatrixInstr, ScalarType};

/// The worst conflict over every fragment read of a `[m, k] x [k, n]`
/// dot (one wave's tiles at the origin; others differ by whole rows).
fn worst(instr: MatrixInstr, input: ScalarType, (m, k, n): (u32, u32, u32), padded: bool) -> u32 {
    let s = MatrixStaging::new(instr, input, (m, k, n), padded);
    let w = read_width(instr, input);
    let parts = instr.fragment_bytes(input) / w;
    let t = instr.family.tile();
    let mut worst = 1;
    for k0 in (0..k).step_by(instr.k as usize) {
        for part in 0..parts {
            for (operand, size) in [(Operand::A, m), (Operand::B, n)] {
                for first in (0..size).step_by(t as usize) {
                    let at = s.fragment_addresses(operand, instr, input, (first, k0, part));
                    worst = worst.max(bank_conflicts(&at, w));
                }
            }
        }
    }
    worst
}

#[test]
fn fragment_reads_are_free_of_bank_conflicts() {
    for &(family, k, input) in MATRIX_VARIANTS {
        let instr = MatrixInstr { family, k };
        for shape in [
            (128u32, 64u32, 128u32),
            (64, 32, 64),
            (32, 16, 32),
            (128, 128, 64),
            (64, 48, 32),
        ] {
            if !shape.1.is_multiple_of(k) || !shape.0.is_multiple_of(family.tile()) {
                continue;
            }
            assert_eq!(
                worst(instr, input, shape, true),
                1,
                "{family:?} k={k} {input:?} {shape:?}"
            );
        }
    }
}

#[test]
fn unpadded_rows_would_conflict() {
    // The model sees the conflicts padding removes: f16 rows of 128
    // bytes put every lane of a group in the same banks.
    let mfma = MatrixInstr {
        family: MatrixFamily::Mfma32,
        k: 8,
    };
    assert!(worst(mfma, ScalarType::F16, (128, 64, 128), false) >= 8);
    let wmma = MatrixInstr {
        family: MatrixFamily::Wmma16,
        k: 16,
    };
    assert!(worst(wmma, ScalarType::F16, (128, 64, 128), false) >= 4);
}

#[test]
fn the_bank_model_counts_distinct_dwords_per_bank() {
    // 16 lanes reading consecutive 8-byte chunks: conflict-free.
    let linear: Vec<u32> = (0..64).map(|l| l * 8).collect();
    assert_eq!(bank_conflicts(&linear, 8), 1);
    // The same dword read by every lane is a broadcast, not a conflict.
    assert_eq!(bank_conflicts(&[0; 64], 4), 1);
    // A stride of 128 bytes: all 32 lanes of a group in bank 0.
    let strided: Vec<u32> = (0..64).map(|l| l * 128).collect();
    assert_eq!(bank_conflicts(&strided, 4), 32);
}
