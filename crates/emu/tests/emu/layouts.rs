//! The matrix instructions' register layouts (`tritonc_emu::matrix`)
//! against AMD's own tables, cell by cell: `data/matrix-layouts/ARCH/
//! INSTRUCTION.{A,B,D}.csv` (from AMD's matrix instruction calculator; the
//! folder's README says how they were made).

use std::path::PathBuf;

use tritonc_emu::matrix::{bf16_to_f32, f16_to_f32, f32_to_f16, Shape};

fn dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../tests/data/matrix-layouts")
}

/// `X[a][b]` -> (a, b).
fn element(cell: &str) -> (usize, usize) {
    let inner = &cell[2..cell.len() - 1];
    let (a, b) = inner.split_once("][").unwrap();
    (a.parse().unwrap(), b.parse().unwrap())
}

#[test]
fn every_modeled_instruction_matches_amds_layout_tables() {
    let mut checked = 0;
    for arch in ["gfx90a", "gfx942", "gfx1100"] {
        for entry in std::fs::read_dir(dir().join(arch)).unwrap() {
            let path = entry.unwrap().path();
            let name = path.file_name().unwrap().to_str().unwrap().to_string();
            let (inst, rest) = name.split_once('.').unwrap();
            let Some(shape) = Shape::of(inst) else { continue };
            let matrix = rest.chars().next().unwrap();
            let text = std::fs::read_to_string(&path).unwrap();
            let mut lines = text.lines();
            let header: Vec<&str> = lines.next().unwrap().split(',').collect();
            for line in lines {
                let cells: Vec<&str> = line.split(',').collect();
                let lane: usize = cells[0].parse().unwrap();
                for (col, cell) in header.iter().zip(&cells).skip(1) {
                    // `v3` or `v3.[31:16]`: register and, for 8- and
                    // 16-bit elements, the lowest bit.
                    let (reg, low) = match col.split_once('.') {
                        Some((r, bits)) => (
                            r,
                            bits.trim_end_matches(']').rsplit(':').next().unwrap().parse().unwrap(),
                        ),
                        None => (*col, 0),
                    };
                    let reg: usize = reg[1..].parse().unwrap();
                    let e = (reg * 32 + low) / shape.bits;
                    let got = match matrix {
                        'A' => shape.a_element(lane, e),
                        'B' => shape.b_element(lane, e),
                        _ => shape.d_element(lane, reg),
                    };
                    assert_eq!(got, element(cell), "{arch} {name}: lane {lane} {col}");
                    checked += 1;
                }
            }
        }
    }
    // 32x32x8 and 16x16x16 (f16, bf16), 32x32x2 and 16x16x4 (f32) and the
    // two i8 shapes on two CDNA targets, WMMA f16/bf16/iu8 on gfx1100.
    assert!(checked >= 21_760, "{checked} cells");
}

#[test]
fn half_conversions_round_trip_and_round_to_nearest_even() {
    for h in 0..=u16::MAX {
        let x = f16_to_f32(h);
        if x.is_nan() {
            assert!(f32_to_f16(x) & 0x7c00 == 0x7c00 && f32_to_f16(x) & 0x3ff != 0);
        } else {
            assert_eq!(f32_to_f16(x), h, "{h:#06x}");
        }
    }
    // Halfway between 1.0 and the next half rounds to even (1.0); just
    // above rounds up; the largest finite half plus half an ulp is inf.
    assert_eq!(f32_to_f16(1.0 + 2f32.powi(-11)), 0x3c00);
    assert_eq!(f32_to_f16(1.0 + 2f32.powi(-11) + 2f32.powi(-20)), 0x3c01);
    assert_eq!(f32_to_f16(65520.0), 0x7c00);
    assert_eq!(f32_to_f16(65519.0), 0x7bff);
    assert_eq!(f32_to_f16(2f32.powi(-25)), 0);
    assert_eq!(f32_to_f16(2f32.powi(-25) * 1.5), 1);
    assert_eq!(bf16_to_f32(0x3f80), 1.0);
}
