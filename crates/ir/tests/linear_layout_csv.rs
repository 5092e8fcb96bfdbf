//! The matrix-instruction linear layouts against AMD's own register maps
//! (`tests/data/matrix-layouts`, a copy of the team's
//! `shared/data/matrix-layouts`, generated with AMD's
//! `amd_matrix_instruction_calculator`): for each instruction of our
//! families, cell by cell, the element lane `L` holds in register part
//! `P` is what our layout maps (register `P`, lane `L`) to. Register parts
//! count values in the order of the csv's columns (`v0.[15:0]`,
//! `v0.[31:16]`, `v1.[15:0]`, ...: two f16 per register are parts
//! `2 * register + half`).
//!
//! The data is in the repository (a fresh clone has nothing beside it); a
//! missing folder is a failure, not a skip.

use std::path::{Path, PathBuf};

use tritonc_ir::linear_layout::{LANE, REGISTER};
use tritonc_ir::{LinearLayout, MatrixFamily, MatrixInstr, MatrixLayout, MatrixOperand};

fn data_dir() -> PathBuf {
    let dir = Path::new(concat!(env!("CARGO_MANIFEST_DIR"), "/../../tests/data/matrix-layouts"));
    assert!(
        dir.join("README.md").is_file(),
        "AMD's matrix register maps are missing: expected them in {} (a copy of the team's \
         `shared/data/matrix-layouts`); this test checks our MFMA/WMMA layouts against them and cannot pass without them",
        dir.display()
    );
    dir.to_path_buf()
}

/// One csv: per lane, per register part (in column order), the element
/// `(first index, second index)`.
struct Table {
    lanes: Vec<Vec<(u32, u32)>>,
}

/// `vN`, `vN.[hi:lo]` or `v[hi:lo]` as (register, low bit) for ordering.
fn column_key(head: &str) -> Option<(u32, u32)> {
    let rest = head.strip_prefix('v')?;
    if let Some(range) = rest.strip_prefix('[') {
        let (_, lo) = range.strip_suffix(']')?.split_once(':')?;
        return Some((lo.parse().ok()?, 0));
    }
    match rest.split_once('.') {
        None => Some((rest.parse().ok()?, 0)),
        Some((reg, bits)) => {
            let (_, lo) = bits.strip_prefix('[')?.strip_suffix(']')?.split_once(':')?;
            Some((reg.parse().ok()?, lo.parse().ok()?))
        }
    }
}

fn read_table(path: &Path, matrix: char) -> Table {
    let text = std::fs::read_to_string(path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    let mut lines = text.lines();
    let header: Vec<&str> = lines.next().expect("a header").split(',').collect();
    assert_eq!(header[0], "lane", "{}", path.display());
    let keys: Vec<(u32, u32)> = header[1..]
        .iter()
        .map(|h| column_key(h).unwrap_or_else(|| panic!("{}: column `{h}`", path.display())))
        .collect();
    assert!(
        keys.windows(2).all(|w| w[0] < w[1]),
        "{}: columns not in register order",
        path.display()
    );
    let mut lanes = Vec::new();
    for (i, line) in lines.filter(|l| !l.trim().is_empty()).enumerate() {
        let cells: Vec<&str> = line.split(',').collect();
        assert_eq!(cells[0].parse::<usize>().ok(), Some(i), "{}: row {i}", path.display());
        assert_eq!(cells.len(), header.len(), "{}: row {i}", path.display());
        let row = cells[1..]
            .iter()
            .map(|c| {
                let idx = c
                    .strip_prefix(matrix)
                    .and_then(|c| c.strip_prefix('['))
                    .and_then(|c| c.strip_suffix(']'))
                    .and_then(|c| c.split_once("]["))
                    .and_then(|(a, b)| Some((a.parse().ok()?, b.parse().ok()?)));
                idx.unwrap_or_else(|| panic!("{}: row {i}: cell `{c}`", path.display()))
            })
            .collect();
        lanes.push(row);
    }
    Table { lanes }
}

/// The instructions of our families, by target folder: (file stem,
/// family, k).
fn instructions() -> Vec<(&'static str, &'static str, MatrixFamily, u32)> {
    use MatrixFamily::{Mfma16, Mfma32, Wmma16};
    vec![
        ("gfx942", "v_mfma_f32_32x32x8_f16", Mfma32, 8),
        ("gfx942", "v_mfma_f32_32x32x8_bf16", Mfma32, 8),
        ("gfx942", "v_mfma_f32_32x32x2_f32", Mfma32, 2),
        ("gfx942", "v_mfma_i32_32x32x16_i8", Mfma32, 16),
        ("gfx942", "v_mfma_f32_32x32x16_fp8_fp8", Mfma32, 16),
        ("gfx942", "v_mfma_f32_16x16x16_f16", Mfma16, 16),
        ("gfx942", "v_mfma_f32_16x16x16_bf16", Mfma16, 16),
        ("gfx942", "v_mfma_f32_16x16x4_f32", Mfma16, 4),
        ("gfx942", "v_mfma_f32_16x16x8_xf32", Mfma16, 8),
        ("gfx942", "v_mfma_i32_16x16x32_i8", Mfma16, 32),
        ("gfx942", "v_mfma_f32_16x16x32_fp8_fp8", Mfma16, 32),
        ("gfx90a", "v_mfma_f32_32x32x8f16", Mfma32, 8),
        ("gfx90a", "v_mfma_f32_32x32x8bf16_1k", Mfma32, 8),
        ("gfx90a", "v_mfma_f32_32x32x2f32", Mfma32, 2),
        ("gfx90a", "v_mfma_i32_32x32x8i8", Mfma32, 8),
        ("gfx90a", "v_mfma_f32_16x16x16f16", Mfma16, 16),
        ("gfx90a", "v_mfma_f32_16x16x16bf16_1k", Mfma16, 16),
        ("gfx90a", "v_mfma_f32_16x16x4f32", Mfma16, 4),
        ("gfx90a", "v_mfma_i32_16x16x16i8", Mfma16, 16),
        ("gfx1100", "v_wmma_f32_16x16x16_f16", Wmma16, 16),
        ("gfx1100", "v_wmma_f32_16x16x16_bf16", Wmma16, 16),
        ("gfx1100", "v_wmma_f16_16x16x16_f16", Wmma16, 16),
        ("gfx1100", "v_wmma_i32_16x16x16_iu8", Wmma16, 16),
    ]
}

/// Cells where `ll` and the csv disagree, as text; and cells checked.
fn compare(ll: &LinearLayout, table: &Table) -> (Vec<String>, usize) {
    let mut bad = Vec::new();
    let mut checked = 0;
    if table.lanes.len() as u64 != ll.in_dim_size(LANE) {
        bad.push(format!(
            "{} lanes in the csv, {} in the layout",
            table.lanes.len(),
            ll.in_dim_size(LANE)
        ));
    }
    for (lane, row) in table.lanes.iter().enumerate() {
        if row.len() as u64 != ll.in_dim_size(REGISTER) {
            bad.push(format!(
                "lane {lane}: {} register parts in the csv, {} in the layout",
                row.len(),
                ll.in_dim_size(REGISTER)
            ));
            continue;
        }
        for (part, &(i, j)) in row.iter().enumerate() {
            checked += 1;
            let ours = ll.apply(&[(REGISTER, part as u32), (LANE, lane as u32)]);
            if ours.as_deref() != Ok(&[i, j][..]) {
                bad.push(format!("lane {lane} part {part}: AMD [{i}][{j}], ours {ours:?}"));
            }
        }
    }
    (bad, checked)
}

#[test]
fn matrix_layouts_match_amds_register_maps() {
    let dir = data_dir();
    let mut failures = Vec::new();
    let mut cells = 0;
    for (target, stem, family, k) in instructions() {
        let t = family.tile();
        let acc = MatrixLayout::for_block(MatrixInstr { family, k }, t, t, 1).expect("one tile");
        let layouts = [
            ('A', LinearLayout::matrix_operand(family, k, MatrixOperand::A).unwrap()),
            ('B', LinearLayout::matrix_operand(family, k, MatrixOperand::B).unwrap()),
            ('D', LinearLayout::from_matrix(&acc).unwrap()),
        ];
        for (matrix, ll) in layouts {
            let path = dir.join(target).join(format!("{stem}.{matrix}.csv"));
            assert!(path.is_file(), "missing {}", path.display());
            let (bad, checked) = compare(&ll, &read_table(&path, matrix));
            cells += checked;
            if !bad.is_empty() {
                failures.push(format!(
                    "{target}/{stem}.{matrix} ({} cells differ), first: {}",
                    bad.len(),
                    bad[..bad.len().min(4)].join("; ")
                ));
            }
        }
    }
    assert!(
        failures.is_empty(),
        "our layouts disagree with AMD's:\n{}",
        failures.join("\n")
    );
    // 23 instructions, three matrices each, every lane and part.
    assert!(cells > 20_000, "{cells} cells");
}

/// `Wmma16` is RDNA3's WMMA. RDNA4 (gfx1200) lays the same instructions
/// out differently (8 accumulator rows per lane group, operands not
/// replicated across the wave halves), so it needs a family of its own:
/// this test notices if that ever changes in the data.
#[test]
fn rdna4_wmma_is_not_the_rdna3_family() {
    let dir = data_dir();
    let acc = MatrixLayout::for_block(
        MatrixInstr {
            family: MatrixFamily::Wmma16,
            k: 16,
        },
        16,
        16,
        1,
    )
    .unwrap();
    let ll = LinearLayout::from_matrix(&acc).unwrap();
    let path = dir.join("gfx1200/v_wmma_f32_16x16x16_f16.D.csv");
    let (bad, _) = compare(&ll, &read_table(&path, 'D'));
    assert!(!bad.is_empty(), "gfx1200's WMMA accumulator now matches Wmma16");
    let a = LinearLayout::matrix_operand(MatrixFamily::Wmma16, 16, MatrixOperand::A).unwrap();
    let (bad, _) = compare(&a, &read_table(&dir.join("gfx1200/v_wmma_f32_16x16x16_f16.A.csv"), 'A'));
    assert!(!bad.is_empty(), "gfx1200's WMMA operand now matches Wmma16");
}
