//! Single instructions, written as LLVM's disassembler prints them, run on
//! a wave whose registers the test sets (`tritonc_emu::execute_text`).
//!
//! Matrix instructions are checked against AMD's layout tables
//! (`data/matrix-layouts/`): A, B and C are placed in registers where
//! AMD's tables say each element lives, and every element of D must be
//! where the table says, with the exact sum (small integers).

use std::path::PathBuf;

use tritonc_emu::matrix::{f32_to_f16, Shape};
use tritonc_emu::wave::LANES;
use tritonc_emu::{execute_text, Arch, EmuError, Memory, Wave};

fn wave(size: usize) -> Wave {
    let mut w = Wave::new(0, size);
    w.exec = if size == 64 { u64::MAX } else { (1 << size) - 1 };
    w
}

fn run(arch: Arch, w: &mut Wave, text: &str) -> Result<(), EmuError> {
    execute_text(arch, w, text, &mut Memory::new(), &mut [0u8; 256])
}

fn v(w: &Wave, reg: usize, lane: usize) -> u32 {
    w.v[reg * LANES + lane]
}

fn set_v(w: &mut Wave, reg: usize, f: impl Fn(usize) -> u32) {
    for lane in 0..LANES {
        w.v[reg * LANES + lane] = f(lane);
    }
}

/// (lane, register, lowest bit, row, column) of each cell of a layout
/// table.
fn table(path: &PathBuf) -> Vec<(usize, usize, usize, usize, usize)> {
    let text = std::fs::read_to_string(path).unwrap();
    let mut lines = text.lines();
    let header: Vec<String> = lines.next().unwrap().split(',').map(str::to_string).collect();
    let mut cells = Vec::new();
    for line in lines {
        let row: Vec<&str> = line.split(',').collect();
        let lane: usize = row[0].parse().unwrap();
        for (col, cell) in header.iter().zip(&row).skip(1) {
            let (reg, low) = match col.split_once('.') {
                Some((r, bits)) => (
                    r,
                    bits.trim_end_matches(']').rsplit(':').next().unwrap().parse().unwrap(),
                ),
                None => (col.as_str(), 0),
            };
            let (a, b) = cell[2..cell.len() - 1].split_once("][").unwrap();
            cells.push((
                lane,
                reg[1..].parse().unwrap(),
                low,
                a.parse().unwrap(),
                b.parse().unwrap(),
            ));
        }
    }
    cells
}

fn a_val(i: usize, k: usize) -> f32 {
    ((i * 7 + k * 3) % 11) as f32 - 5.0
}

fn b_val(k: usize, j: usize) -> f32 {
    ((k * 5 + j * 2) % 13) as f32 - 6.0
}

fn c_val(i: usize, j: usize) -> f32 {
    ((i + 2 * j) % 9) as f32
}

#[test]
fn matrix_instructions_compute_d_where_amds_tables_say() {
    let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../tests/data/matrix-layouts");
    let mut ran = Vec::new();
    for (arch_name, arch) in [
        ("gfx90a", Arch::Gfx90a),
        ("gfx942", Arch::Gfx942),
        ("gfx1100", Arch::Gfx1100),
    ] {
        let mut names: Vec<String> = std::fs::read_dir(dir.join(arch_name))
            .unwrap()
            .map(|e| e.unwrap().file_name().to_str().unwrap().to_string())
            .filter_map(|n| n.strip_suffix(".D.csv").map(str::to_string))
            .collect();
        names.sort();
        for inst in names {
            let Some(shape) = Shape::of(&inst) else { continue };
            let size = if shape.wmma { 32 } else { 64 };
            let mut w = wave(size);
            let (a0, b0, c0, d0) = (0, 16, 32, 64);
            let encode = |x: f32| -> u32 {
                match (shape.bits, shape.bf16) {
                    (32, _) => x.to_bits(),
                    (8, _) => x as i8 as u8 as u32,
                    (_, true) => x.to_bits() >> 16,
                    _ => f32_to_f16(x) as u32,
                }
            };
            let mut place = |base: usize, file: &str, value: &dyn Fn(usize, usize) -> f32| {
                for (lane, reg, low, r, c) in table(&dir.join(arch_name).join(format!("{inst}.{file}.csv"))) {
                    let slot = &mut w.v[(base + reg) * LANES + lane];
                    let field = if shape.bits == 32 {
                        u32::MAX
                    } else {
                        ((1u32 << shape.bits) - 1) << low
                    };
                    *slot = (*slot & !field) | (encode(value(r, c)) << low);
                }
            };
            place(a0, "A", &a_val);
            place(b0, "B", &b_val);
            // C: f32 (i32 for integer instructions), in D's layout.
            let number = |x: f32| if shape.int { x as i32 as u32 } else { x.to_bits() };
            for (lane, reg, _, i, j) in table(&dir.join(arch_name).join(format!("{inst}.D.csv"))) {
                w.v[(c0 + reg) * LANES + lane] = number(c_val(i, j));
            }
            let range = |base: usize, n: usize| {
                if n == 1 {
                    format!("v{base}")
                } else {
                    format!("v[{base}:{}]", base + n - 1)
                }
            };
            // WMMA iu8: A and B signed (`neg_lo` bits 0 and 1).
            let text = format!(
                "{inst} {}, {}, {}, {}{}",
                range(d0, shape.d_regs()),
                range(a0, shape.ab_regs()),
                range(b0, shape.ab_regs()),
                range(c0, shape.d_regs()),
                if shape.int && shape.wmma { " neg_lo:[1,1,0]" } else { "" }
            );
            run(arch, &mut w, &text).unwrap_or_else(|e| panic!("{e}"));
            for (lane, reg, _, i, j) in table(&dir.join(arch_name).join(format!("{inst}.D.csv"))) {
                let want = c_val(i, j) + (0..shape.k).map(|k| a_val(i, k) * b_val(k, j)).sum::<f32>();
                assert_eq!(
                    v(&w, d0 + reg, lane),
                    number(want),
                    "{arch_name} `{text}`: D[{i}][{j}] (lane {lane}, v{reg})"
                );
            }
            ran.push(format!("{arch_name} {inst}"));
        }
    }
    assert_eq!(ran.len(), 19, "{ran:?}");
}

/// The source lane each DPP control reads, as the ISA guides describe
/// them (None: out of range).
type SourceLane = Box<dyn Fn(usize) -> Option<usize>>;

fn dpp_cases(gfx10: bool) -> Vec<(&'static str, SourceLane)> {
    let row = |l: usize| l & !15;
    let mut cases: Vec<(&'static str, SourceLane)> = vec![
        ("quad_perm:[3,2,1,0]", Box::new(|l| Some((l & !3) | (3 - (l & 3))))),
        ("quad_perm:[0,0,2,2]", Box::new(|l| Some((l & !3) | (l & 2)))),
        ("row_shl:1", Box::new(|l| (l % 16 < 15).then(|| l + 1))),
        ("row_shl:15", Box::new(|l| (l % 16 == 0).then(|| l + 15))),
        ("row_shr:3", Box::new(|l| (l % 16 >= 3).then(|| l - 3))),
        ("row_ror:4", Box::new(move |l| Some(row(l) + (l % 16 + 12) % 16))),
        ("row_mirror", Box::new(move |l| Some(row(l) + 15 - l % 16))),
        ("row_half_mirror", Box::new(|l| Some((l & !7) + 7 - l % 8))),
    ];
    if gfx10 {
        cases.push(("row_share:5", Box::new(move |l| Some(row(l) + 5))));
        cases.push(("row_xmask:3", Box::new(move |l| Some(row(l) + ((l % 16) ^ 3)))));
    } else {
        cases.push(("wave_shl:1", Box::new(|l| (l < 63).then(|| l + 1))));
        cases.push(("wave_shr:1", Box::new(|l| l.checked_sub(1))));
        cases.push(("wave_rol:1", Box::new(|l| Some((l + 1) % 64))));
        cases.push(("wave_ror:1", Box::new(|l| Some((l + 63) % 64))));
        cases.push(("row_bcast:15", Box::new(move |l| (l >= 16).then(|| row(l) - 1))));
        cases.push(("row_bcast:31", Box::new(|l| (l >= 32).then_some(31))));
    }
    cases
}

#[test]
fn every_dpp_control_reads_the_documented_lane() {
    for (arch, size) in [(Arch::Gfx942, 64), (Arch::Gfx1100, 32), (Arch::Gfx1100, 64)] {
        for (ctrl, source) in dpp_cases(arch == Arch::Gfx1100) {
            for bound_ctrl in [false, true] {
                let mut w = wave(size);
                // Lane 5 is off: reading it is out of range too.
                w.exec &= !(1 << 5);
                set_v(&mut w, 1, |l| 1000 + l as u32);
                set_v(&mut w, 0, |_| 7);
                let text = format!(
                    "v_mov_b32_dpp v0, v1 {ctrl} row_mask:0xf bank_mask:0xf{}",
                    if bound_ctrl { " bound_ctrl:1" } else { "" }
                );
                run(arch, &mut w, &text).unwrap_or_else(|e| panic!("{e}"));
                for l in 0..size {
                    let src = source(l).filter(|&s| s < size && s != 5);
                    let want = match src {
                        _ if l == 5 => 7,
                        Some(s) => 1000 + s as u32,
                        None if bound_ctrl => 0,
                        None => 7,
                    };
                    assert_eq!(v(&w, 0, l), want, "{arch:?} wave{size} `{text}` lane {l}");
                }
            }
        }
    }
}

#[test]
fn dpp_masks_and_lanes_read_before_any_is_written() {
    let mut w = wave(64);
    set_v(&mut w, 1, |l| l as u32);
    // Each lane gets its neighbour's old value, not a cascade.
    run(
        Arch::Gfx942,
        &mut w,
        "v_mov_b32_dpp v1, v1 row_shr:1 row_mask:0xf bank_mask:0xf",
    )
    .unwrap();
    for l in 0..64 {
        assert_eq!(
            v(&w, 1, l),
            if l % 16 == 0 { l as u32 } else { l as u32 - 1 },
            "lane {l}"
        );
    }
    // Rows 0 and 2, banks 0 and 1 only.
    set_v(&mut w, 1, |l| l as u32);
    set_v(&mut w, 0, |_| 7);
    run(
        Arch::Gfx942,
        &mut w,
        "v_mov_b32_dpp v0, v1 quad_perm:[0,1,2,3] row_mask:0x5 bank_mask:0x3",
    )
    .unwrap();
    for l in 0..64 {
        let on = (l / 16) % 2 == 0 && (l % 16) / 4 < 2;
        assert_eq!(v(&w, 0, l), if on { l as u32 } else { 7 }, "lane {l}");
    }
    // DPP on a VOP2 permutes source 0 only.
    set_v(&mut w, 2, |_| 1f32.to_bits());
    set_v(&mut w, 1, |l| (l as f32).to_bits());
    run(
        Arch::Gfx942,
        &mut w,
        "v_add_f32_dpp v3, v1, v2 row_shl:1 row_mask:0xf bank_mask:0xf bound_ctrl:1",
    )
    .unwrap();
    assert_eq!(f32::from_bits(v(&w, 3, 0)), 2.0);
    assert_eq!(f32::from_bits(v(&w, 3, 15)), 1.0);
}

#[test]
fn lane_crossing_instructions() {
    let mut w = wave(64);
    set_v(&mut w, 1, |l| 100 + l as u32);
    // Every lane reads the lane its address names (bytes / 4).
    set_v(&mut w, 2, |l| (((l * 7) % 64) * 4) as u32);
    run(Arch::Gfx942, &mut w, "ds_bpermute_b32 v0, v2, v1").unwrap();
    for l in 0..64 {
        assert_eq!(v(&w, 0, l), 100 + ((l * 7) % 64) as u32);
    }
    run(Arch::Gfx942, &mut w, "v_readlane_b32 s4, v1, 37").unwrap();
    assert_eq!(w.s[4], 137);
    w.s[5] = 99;
    run(Arch::Gfx942, &mut w, "v_writelane_b32 v1, s5, 3").unwrap();
    assert_eq!((v(&w, 1, 2), v(&w, 1, 3), v(&w, 1, 4)), (102, 99, 104));
    w.exec = 0xff00;
    run(Arch::Gfx942, &mut w, "v_readfirstlane_b32 s6, v1").unwrap();
    assert_eq!(w.s[6], 108);
    // gfx1100: lanes 0-15 read lane `sel` of 16-31 and back.
    let mut w = wave(32);
    set_v(&mut w, 1, |l| l as u32);
    run(
        Arch::Gfx1100,
        &mut w,
        "v_permlanex16_b32 v0, v1, 0x76543210, 0xfedcba98",
    )
    .unwrap();
    for l in 0..32 {
        assert_eq!(v(&w, 0, l), (l ^ 16) as u32, "lane {l}");
    }
}

/// `ds_swizzle_b32` in each form LLVM prints (the assembler's encodings
/// of these were checked with llvm-mc: `swizzle(BITMASK_PERM,"01pip")` is
/// offset 0x0907, `SWAP,16` 0x401f, `REVERSE,8` 0x1c1f, `BROADCAST,8,3`
/// 0x0078, `QUAD_PERM,3,2,1,0` 0x801b).
#[test]
fn ds_swizzle_reads_the_lane_its_pattern_names() {
    type Lane = fn(usize) -> usize;
    let cases: [(&str, Lane); 7] = [
        ("swizzle(QUAD_PERM,3,2,1,0)", |l| (l & !3) | (3 - (l & 3))),
        ("0x801b", |l| (l & !3) | (3 - (l & 3))),
        ("swizzle(SWAP,16)", |l| l ^ 16),
        ("swizzle(REVERSE,8)", |l| l ^ 7),
        ("swizzle(BROADCAST,8,3)", |l| (l & !7) | 3),
        ("swizzle(BITMASK_PERM,\"01pip\")", |l| {
            (l & 0x20) | 8 | (l & 5) | ((l & 2) ^ 2)
        }),
        ("swizzle(BITMASK_PERM,\"10101\")", |l| (l & 0x20) | 0x15),
    ];
    for (offset, source) in cases {
        let mut w = wave(64);
        set_v(&mut w, 1, |l| 100 + l as u32);
        let text = format!("ds_swizzle_b32 v0, v1 offset:{offset}");
        run(Arch::Gfx942, &mut w, &text).unwrap_or_else(|e| panic!("{e}"));
        for l in 0..64 {
            assert_eq!(v(&w, 0, l), 100 + source(l) as u32, "`{text}` lane {l}");
        }
    }
    let mut w = wave(64);
    let err = run(Arch::Gfx942, &mut w, "ds_swizzle_b32 v0, v1 offset:swizzle(FFT,3)").unwrap_err();
    assert!(err.to_string().contains("swizzle(FFT,3)"), "{err}");
}

/// Atomics run lane by lane in lane order; the returning forms give each
/// lane the value before its own operation.
#[test]
fn atomics_on_global_memory_and_lds() {
    let mut mem = Memory::new();
    let buf = mem.alloc_zeroed(16);
    let mut w = wave(64);
    let addr = |l: usize| buf + 4 * (l as u64 % 4);
    set_v(&mut w, 2, |l| addr(l) as u32);
    set_v(&mut w, 3, |l| (addr(l) >> 32) as u32);
    set_v(&mut w, 4, |l| l as u32 + 1);
    let mut lds = [0u8; 256];
    execute_text(
        Arch::Gfx942,
        &mut w,
        "global_atomic_add v1, v[2:3], v4, off sc0",
        &mut mem,
        &mut lds,
    )
    .unwrap();
    let words: Vec<u32> = mem
        .buffer(buf)
        .unwrap()
        .chunks(4)
        .map(|c| u32::from_le_bytes(c.try_into().unwrap()))
        .collect();
    for (i, word) in words.iter().enumerate() {
        assert_eq!(*word, (0..64).filter(|l| l % 4 == i).map(|l| l as u32 + 1).sum::<u32>());
    }
    for l in 0..64 {
        let before: u32 = (0..l).filter(|m| m % 4 == l % 4).map(|m| m as u32 + 1).sum();
        assert_eq!(v(&w, 1, l), before, "lane {l}");
    }
    // Compare-and-swap on one word: only the first lane's compare holds.
    let word = mem.alloc_zeroed(4);
    set_v(&mut w, 2, |_| word as u32);
    set_v(&mut w, 3, |_| (word >> 32) as u32);
    set_v(&mut w, 5, |_| 0);
    execute_text(
        Arch::Gfx1100,
        &mut w,
        "global_atomic_cmpswap_b32 v1, v[2:3], v[4:5], off glc",
        &mut mem,
        &mut lds,
    )
    .unwrap();
    assert_eq!(mem.buffer(word).unwrap(), &1u32.to_le_bytes());
    assert_eq!((v(&w, 1, 0), v(&w, 1, 1), v(&w, 1, 63)), (0, 1, 1));
    // LDS: a maximum with the old values returned.
    set_v(&mut w, 0, |_| 8);
    set_v(&mut w, 4, |l| (l as i32 - 30) as u32);
    execute_text(
        Arch::Gfx942,
        &mut w,
        "ds_max_rtn_i32 v6, v0, v4 offset:4",
        &mut mem,
        &mut lds,
    )
    .unwrap();
    assert_eq!(i32::from_le_bytes(lds[12..16].try_into().unwrap()), 33);
    assert_eq!(
        (v(&w, 6, 0) as i32, v(&w, 6, 31) as i32, v(&w, 6, 40) as i32),
        (0, 0, 9)
    );
    // Out of bounds is reported, as for loads and stores.
    set_v(&mut w, 2, |_| (word + 4) as u32);
    let err = execute_text(
        Arch::Gfx942,
        &mut w,
        "global_atomic_add v[2:3], v4, off",
        &mut mem,
        &mut lds,
    )
    .unwrap_err();
    assert!(err.to_string().contains("atomic of 4 bytes"), "{err}");
}

/// Forms this compiler's own code objects use (found running them): a
/// 64-bit move by `v_pk_mov_b32`, AGPR moves, 16-bit loads into one half of a register,
/// LDS stores of a high half, GFX11's `2addr` LDS names.
#[test]
fn half_registers_and_pair_moves() {
    let mut w = wave(64);
    set_v(&mut w, 2, |l| l as u32);
    set_v(&mut w, 3, |l| 1000 + l as u32);
    run(Arch::Gfx90a, &mut w, "v_pk_mov_b32 v[4:5], v[2:3], v[2:3] op_sel:[0,1]").unwrap();
    assert_eq!((v(&w, 4, 7), v(&w, 5, 7)), (7, 1007));
    run(Arch::Gfx90a, &mut w, "v_pk_mov_b32 v[4:5], v[2:3], v[2:3] op_sel:[1,0]").unwrap();
    assert_eq!((v(&w, 4, 7), v(&w, 5, 7)), (1007, 7));
    // Through the accumulation registers and back, under EXEC.
    run(Arch::Gfx942, &mut w, "v_accvgpr_write_b32 a3, v2").unwrap();
    w.exec = 0xff;
    run(Arch::Gfx942, &mut w, "v_accvgpr_mov_b32 a4, a3").unwrap();
    run(Arch::Gfx942, &mut w, "v_accvgpr_read_b32 v6, a4").unwrap();
    assert_eq!((v(&w, 6, 7), v(&w, 6, 8)), (7, 0));
    w.exec = u64::MAX;

    let mut mem = Memory::new();
    let halves: Vec<u8> = (0..128u16).flat_map(|h| (0x4000 + h).to_le_bytes()).collect();
    let buf = mem.alloc(&halves);
    let mut lds = [0u8; 1024];
    set_v(&mut w, 8, |l| (buf + 2 * l as u64) as u32);
    set_v(&mut w, 9, |l| ((buf + 2 * l as u64) >> 32) as u32);
    set_v(&mut w, 3, |_| 0xdead_beef);
    execute_text(
        Arch::Gfx1100,
        &mut w,
        "global_load_d16_b16 v3, v[8:9], off",
        &mut mem,
        &mut lds,
    )
    .unwrap();
    assert_eq!(v(&w, 3, 5), 0xdead_4005);
    execute_text(
        Arch::Gfx1100,
        &mut w,
        "global_load_d16_hi_b16 v3, v[8:9], off offset:2",
        &mut mem,
        &mut lds,
    )
    .unwrap();
    assert_eq!(v(&w, 3, 5), 0x4006_4005);
    execute_text(
        Arch::Gfx942,
        &mut w,
        "global_load_ushort v6, v[8:9], off",
        &mut mem,
        &mut lds,
    )
    .unwrap();
    assert_eq!(v(&w, 6, 5), 0x4005);

    // LDS: the high half stored, read back into the low half of another
    // register; two addresses 64 dwords apart.
    set_v(&mut w, 0, |l| 2 * l as u32);
    execute_text(Arch::Gfx942, &mut w, "ds_write_b16_d16_hi v0, v3", &mut mem, &mut lds).unwrap();
    set_v(&mut w, 7, |_| 0x1234_0000);
    execute_text(Arch::Gfx942, &mut w, "ds_read_u16_d16 v7, v0", &mut mem, &mut lds).unwrap();
    assert_eq!(v(&w, 7, 5), 0x1234_4006);
    set_v(&mut w, 0, |l| 4 * l as u32);
    set_v(&mut w, 1, |l| l as u32);
    set_v(&mut w, 2, |l| 100 + l as u32);
    execute_text(
        Arch::Gfx1100,
        &mut w,
        "ds_store_2addr_stride64_b32 v0, v1, v2 offset1:1",
        &mut mem,
        &mut lds,
    )
    .unwrap();
    execute_text(
        Arch::Gfx1100,
        &mut w,
        "ds_load_2addr_b32 v[10:11], v0 offset1:64",
        &mut mem,
        &mut lds,
    )
    .unwrap();
    assert_eq!((v(&w, 10, 3), v(&w, 11, 3)), (3, 103));
}

#[test]
fn operands_modifiers_and_constants() {
    let mut w = wave(64);
    set_v(&mut w, 1, |_| (-2f32).to_bits());
    // -|v1| * 1/(2 pi) + 1.0, the inline constant being the hardware's.
    run(Arch::Gfx942, &mut w, "v_fma_f32 v0, -|v1|, 0.15915494, 1.0").unwrap();
    assert_eq!(
        f32::from_bits(v(&w, 0, 0)),
        (-2.0f32).mul_add(f32::from_bits(0x3e22f983), 1.0)
    );
    // A comparison writes 0 for lanes off in EXEC.
    w.exec = 0xf;
    set_v(&mut w, 2, |l| l as u32);
    run(Arch::Gfx942, &mut w, "v_cmp_gt_u32_e64 s[8:9], 64, v2").unwrap();
    assert_eq!((w.s[8], w.s[9]), (0xf, 0));
    // 64-bit shifts and carries.
    w.exec = u64::MAX;
    set_v(&mut w, 4, |_| 0xffff_ffff);
    set_v(&mut w, 5, |_| 0);
    run(Arch::Gfx942, &mut w, "v_lshl_add_u64 v[6:7], v[4:5], 4, 1").unwrap();
    assert_eq!((v(&w, 6, 0), v(&w, 7, 0)), (0xffff_fff1, 0xf));
    // Unknown modifiers are refused, never ignored.
    let err = run(Arch::Gfx942, &mut w, "v_add_f32_e64 v0, v1, v2 mul:2").unwrap_err();
    assert!(
        matches!(&err, EmuError::Unimplemented { why, .. } if why.contains("mul:2")),
        "{err}"
    );
    let err = run(Arch::Gfx942, &mut w, "v_frobnicate_b32 v0, v1").unwrap_err();
    assert!(
        matches!(&err, EmuError::Unimplemented { mnemonic, .. } if mnemonic == "v_frobnicate_b32"),
        "{err}"
    );
}

#[test]
fn lds_out_of_bounds_names_the_lane() {
    let mut w = wave(64);
    // 256 bytes of LDS: lane 49 writes at 256.
    set_v(&mut w, 0, |l| (l * 4 + 60) as u32);
    let err = run(Arch::Gfx942, &mut w, "ds_write_b32 v0, v1").unwrap_err();
    match &err {
        EmuError::Fault {
            what,
            lane: Some(49),
            text,
            ..
        } => {
            assert!(what.contains("LDS store") && what.contains("0x100"), "{err}");
            assert_eq!(text, "ds_write_b32 v0, v1");
        }
        _ => panic!("{err}"),
    }
}

/// SDWA (GFX9): each source is a byte, a word or the dword of its
/// register, zero-extended or (`sext`) sign-extended; the result goes to
/// `dst_sel`'s field, the other bits zero (`UNUSED_PAD`), the field's sign
/// (`UNUSED_SEXT`) or kept (`UNUSED_PRESERVE`).
#[test]
fn sdwa_selects_sources_and_places_the_result() {
    let mut w = wave(64);
    set_v(&mut w, 1, |_| 0x80f1_7f02);
    set_v(&mut w, 2, |l| l as u32);
    // Lane 2 compares byte 0 (2) equal to 2.
    run(
        Arch::Gfx942,
        &mut w,
        "v_cmp_eq_u16_sdwa s[4:5], v1, v2 src0_sel:BYTE_0 src1_sel:DWORD",
    )
    .unwrap();
    assert_eq!((w.s[4], w.s[5]), (1 << 2, 0));
    // Byte 1 is 0x7f; byte 2 is 0xf1: -15 sign-extended, 241 not.
    set_v(&mut w, 3, |_| (-15i32) as u32);
    run(
        Arch::Gfx942,
        &mut w,
        "v_cmp_eq_u16_sdwa vcc, v1, v3 src0_sel:BYTE_1 src1_sel:DWORD",
    )
    .unwrap();
    assert_eq!(w.vcc, 0);
    run(
        Arch::Gfx942,
        &mut w,
        "v_cmp_eq_i16_sdwa vcc, sext(v1), v3 src0_sel:BYTE_2 src1_sel:WORD_0",
    )
    .unwrap();
    assert_eq!(w.vcc, u64::MAX);
    // f16 in the high half: 0x3c00 is 1.0, 0xc000 is -2.0.
    set_v(&mut w, 4, |_| 0xc000_3c00);
    run(
        Arch::Gfx942,
        &mut w,
        "v_cvt_f32_f16_sdwa v5, v4 dst_sel:DWORD dst_unused:UNUSED_PAD src0_sel:WORD_1",
    )
    .unwrap();
    assert_eq!(v(&w, 5, 0), (-2.0f32).to_bits());
    run(
        Arch::Gfx942,
        &mut w,
        "v_cvt_f32_f16_sdwa v5, -v4 dst_sel:DWORD dst_unused:UNUSED_PAD src0_sel:WORD_1",
    )
    .unwrap();
    assert_eq!(v(&w, 5, 0), 2.0f32.to_bits());
    run(
        Arch::Gfx942,
        &mut w,
        "v_cvt_f32_f16_sdwa v5, |v4| dst_sel:DWORD dst_unused:UNUSED_PAD src0_sel:WORD_0",
    )
    .unwrap();
    assert_eq!(v(&w, 5, 0), 1.0f32.to_bits());
    // A VOP2 with byte sources: 0x02 + 0xf1 = 0xf3 into byte 1.
    set_v(&mut w, 6, |_| 0xaabb_ccdd);
    run(
        Arch::Gfx942,
        &mut w,
        "v_add_u32_sdwa v6, v1, v1 dst_sel:BYTE_1 dst_unused:UNUSED_PRESERVE src0_sel:BYTE_0 src1_sel:BYTE_2",
    )
    .unwrap();
    assert_eq!(v(&w, 6, 0), 0xaabb_f3dd);
    run(
        Arch::Gfx942,
        &mut w,
        "v_add_u32_sdwa v6, v1, v1 dst_sel:BYTE_1 dst_unused:UNUSED_PAD src0_sel:BYTE_0 src1_sel:BYTE_2",
    )
    .unwrap();
    assert_eq!(v(&w, 6, 0), 0x0000_f300);
    run(
        Arch::Gfx942,
        &mut w,
        "v_add_u32_sdwa v6, v1, v1 dst_sel:BYTE_1 dst_unused:UNUSED_SEXT src0_sel:BYTE_0 src1_sel:BYTE_2",
    )
    .unwrap();
    assert_eq!(v(&w, 6, 0), 0xffff_f300);
    // WORD_1 of 0x80f1 sign-extended is negative; moved to word 1.
    run(
        Arch::Gfx942,
        &mut w,
        "v_mov_b32_sdwa v7, sext(v1) dst_sel:WORD_1 dst_unused:UNUSED_PAD src0_sel:WORD_1",
    )
    .unwrap();
    assert_eq!(v(&w, 7, 0), 0x80f1_0000);
    run(
        Arch::Gfx942,
        &mut w,
        "v_mov_b32_sdwa v7, sext(v1) dst_sel:DWORD dst_unused:UNUSED_PAD src0_sel:WORD_1",
    )
    .unwrap();
    assert_eq!(v(&w, 7, 0), 0xffff_80f1);
    // A select the ISA does not have fails.
    assert!(run(
        Arch::Gfx942,
        &mut w,
        "v_mov_b32_sdwa v7, v1 dst_sel:DWORD dst_unused:UNUSED_PAD src0_sel:BYTE_5"
    )
    .is_err());
}

/// Cache maintenance and prefetch hints change nothing here (no caches).
#[test]
fn cache_and_prefetch_instructions_have_no_effect() {
    let mut w = wave(64);
    set_v(&mut w, 1, |l| l as u32);
    let before = w.v.clone();
    for (arch, text) in [
        (Arch::Gfx942, "buffer_wbl2 sc1"),
        (Arch::Gfx942, "buffer_inv sc1"),
        (Arch::Gfx90a, "buffer_wbl2"),
        (Arch::Gfx1100, "buffer_gl0_inv"),
        (Arch::Gfx1100, "buffer_gl1_inv"),
        (Arch::Gfx1100, "s_set_inst_prefetch_distance 0x1"),
    ] {
        run(arch, &mut w, text).unwrap_or_else(|e| panic!("{text}: {e}"));
    }
    assert_eq!(w.v, before);
}

#[test]
fn fma_with_literals_and_three_operand_min_max() {
    let mut w = wave(64);
    set_v(&mut w, 0, |_| 3.0f32.to_bits());
    set_v(&mut w, 2, |_| 0.5f32.to_bits());
    // v_fmamk_f32 d, a, K, c: a * K + c; 0x40000000 is 2.0.
    run(Arch::Gfx942, &mut w, "v_fmamk_f32 v6, v0, 0x40000000, v2").unwrap();
    assert_eq!(f32::from_bits(v(&w, 6, 0)), 6.5);
    // v_fmaak_f32 d, a, b, K: a * b + K; 0x41200000 is 10.0.
    run(Arch::Gfx942, &mut w, "v_fmaak_f32 v3, v0, v2, 0x41200000").unwrap();
    assert_eq!(f32::from_bits(v(&w, 3, 0)), 11.5);
    // Fused: 1 + 2^-23 squared minus 1 keeps the 2^-46 term.
    let a = 1.0f32 + f32::EPSILON;
    set_v(&mut w, 0, |_| a.to_bits());
    run(Arch::Gfx942, &mut w, "v_fmaak_f32 v3, v0, v0, 0xbf800000").unwrap();
    assert_eq!(
        f32::from_bits(v(&w, 3, 0)),
        2.0 * f32::EPSILON + f32::EPSILON * f32::EPSILON
    );

    set_v(&mut w, 1, |_| (-5i32) as u32);
    set_v(&mut w, 2, |_| 7);
    set_v(&mut w, 3, |_| 2);
    w.s[4] = 3;
    let cases: [(&str, u32); 9] = [
        ("v_max3_i32 v9, v1, v2, v3", 7),
        ("v_min3_i32 v9, v1, v2, v3", (-5i32) as u32),
        ("v_med3_i32 v9, v1, v2, v3", 2),
        ("v_med3_i32 v9, s4, v2, v3", 3),
        ("v_max3_u32 v9, v1, v2, v3", (-5i32) as u32),
        ("v_min3_u32 v9, v1, v2, v3", 2),
        ("v_med3_u32 v9, v1, v2, v3", 7),
        ("v_max3_i16 v9, v1, v2, v3", 7),
        ("v_min3_i16 v9, v1, v2, v3", 0xfffb),
    ];
    for (text, want) in cases {
        run(Arch::Gfx942, &mut w, text).unwrap();
        assert_eq!(v(&w, 9, 0), want, "{text}");
    }
    // GFX9's 16-bit min3/max3/med3 write the low half, keeping the high.
    set_v(&mut w, 9, |_| 0xabcd_0000);
    run(Arch::Gfx942, &mut w, "v_med3_u16 v9, v1, v2, v3").unwrap();
    assert_eq!(v(&w, 9, 0), 0xabcd_0007);
    set_v(&mut w, 9, |_| 0);
    run(Arch::Gfx942, &mut w, "v_max3_u16 v9, v1, v2, v3").unwrap();
    assert_eq!(v(&w, 9, 0), 0xfffb);
}

/// 16-bit integer operations read the low halves; on GFX9 the result's
/// high half is zero, on GFX11 a true16 destination half is written alone.
#[test]
fn sixteen_bit_integer_operations() {
    let mut w = wave(64);
    set_v(&mut w, 1, |_| 0x1234_fff0); // low half -16
    set_v(&mut w, 2, |_| 0xabcd_0005);
    let cases: [(&str, u32); 10] = [
        ("v_max_i16_e32 v9, v1, v2", 5),
        ("v_min_i16_e32 v9, v1, v2", 0xfff0),
        ("v_max_u16_e32 v9, v1, v2", 0xfff0),
        ("v_min_u16_e32 v9, v1, v2", 5),
        ("v_add_u16_e32 v9, v1, v2", 0xfff5),
        ("v_sub_u16_e32 v9, v2, v1", 0x0015),
        ("v_mul_lo_u16_e32 v9, v1, v2", 0xffb0),
        ("v_lshlrev_b16_e32 v9, 4, v2", 0x50),
        ("v_lshrrev_b16_e32 v9, 4, v1", 0x0fff),
        ("v_ashrrev_i16_e32 v9, 4, v1", 0xffff),
    ];
    for (text, want) in cases {
        set_v(&mut w, 9, |_| 0xdead_beef);
        run(Arch::Gfx942, &mut w, text).unwrap();
        assert_eq!(v(&w, 9, 0), want, "{text}");
    }
    let mut w = wave(32);
    set_v(&mut w, 1, |_| 0x0003_fff0);
    set_v(&mut w, 9, |_| 0xdead_beef);
    run(Arch::Gfx1100, &mut w, "v_max_i16 v9.h, v1.l, v1.h").unwrap();
    assert_eq!(v(&w, 9, 0), 0x0003_beef);
    // A 16-bit result into a whole register on GFX11 is not modeled.
    assert!(run(Arch::Gfx1100, &mut w, "v_max_i16 v9, v1, v1").is_err());
}

/// `v_cmp_class_f32`: src1's bits name the classes that compare true.
#[test]
fn class_comparison_uses_every_mask_bit() {
    let values: [(u32, u32); 10] = [
        (0x7f80_0001, 0), // signaling NaN
        (0x7fc0_0000, 1), // quiet NaN
        (0xff80_0000, 2), // -inf
        (0xbf80_0000, 3), // -1.0
        (0x8000_0001, 4), // -denormal
        (0x8000_0000, 5), // -0
        (0x0000_0000, 6), // +0
        (0x0000_0001, 7), // +denormal
        (0x3f80_0000, 8), // +1.0
        (0x7f80_0000, 9), // +inf
    ];
    let mut w = wave(64);
    set_v(&mut w, 1, |l| values[l % 10].0);
    for bit in 0..10 {
        set_v(&mut w, 2, |_| 1 << bit);
        run(Arch::Gfx942, &mut w, "v_cmp_class_f32_e32 vcc, v1, v2").unwrap();
        for l in 0..64 {
            assert_eq!((w.vcc >> l) & 1 == 1, values[l % 10].1 == bit, "bit {bit} lane {l}");
        }
    }
    // The positive classes (0x3c0) of |x|: every value but the NaNs.
    set_v(&mut w, 2, |_| 0x3c0);
    run(Arch::Gfx942, &mut w, "v_cmp_class_f32_e64 s[4:5], |v1|, v2").unwrap();
    let got = (w.s[4] as u64) | ((w.s[5] as u64) << 32);
    for l in 0..64 {
        assert_eq!((got >> l) & 1 == 1, values[l % 10].1 >= 2, "lane {l}");
    }
    let mut w = wave(32);
    set_v(&mut w, 1, |_| 0xfc00); // f16 -inf
    run(Arch::Gfx1100, &mut w, "v_cmp_class_f16_e32 vcc_lo, v1.l, 4").unwrap();
    assert_eq!(w.vcc & 0xffff_ffff, 0xffff_ffff);
    // A true16 comparison whose op_sel restates the halves.
    set_v(&mut w, 1, |l| (l as u32 % 2) << 16);
    run(Arch::Gfx1100, &mut w, "v_cmp_eq_u16_e64 s1, 0, v1.h op_sel:[0,1,0]").unwrap();
    assert_eq!(w.s[1], 0x5555_5555);
    assert!(run(Arch::Gfx1100, &mut w, "v_cmp_eq_u16_e64 s1, 0, v1.h op_sel:[0,0,0]").is_err());
}

/// `v_fma_mix_f32`: `op_sel_hi` 1 takes an f16 half (`op_sel` 1: the
/// high one), 0 the f32 register.
#[test]
fn fma_mix_selects_halves_or_f32() {
    let mut w = wave(64);
    // v18: f16 2.0 (0x4000) high, 3.0 (0x4200) low; v4: 0.5 (0x3800) low.
    set_v(&mut w, 18, |_| 0x4000_4200);
    set_v(&mut w, 4, |_| 0x0000_3800);
    set_v(&mut w, 1, |_| 10.0f32.to_bits());
    run(Arch::Gfx942, &mut w, "v_fma_mix_f32 v1, v18, v4, v1 op_sel_hi:[1,1,0]").unwrap();
    assert_eq!(f32::from_bits(v(&w, 1, 0)), 11.5);
    run(
        Arch::Gfx942,
        &mut w,
        "v_fma_mix_f32 v1, v18, v4, v1 op_sel:[1,0,0] op_sel_hi:[1,1,0]",
    )
    .unwrap();
    assert_eq!(f32::from_bits(v(&w, 1, 0)), 12.5);
    run(
        Arch::Gfx942,
        &mut w,
        "v_fma_mix_f32 v1, -v18, v4, v1 op_sel:[1,0,0] op_sel_hi:[1,1,0]",
    )
    .unwrap();
    assert_eq!(f32::from_bits(v(&w, 1, 0)), 11.5);
    // mixlo: 3 * 0.5 + 0.5 (c the f16 low half of v4) = 2.0 into the low half.
    set_v(&mut w, 5, |_| 0xabcd_0000);
    run(
        Arch::Gfx942,
        &mut w,
        "v_fma_mixlo_f16 v5, v18, v4, v4 op_sel_hi:[1,1,1]",
    )
    .unwrap();
    assert_eq!(v(&w, 5, 0), 0xabcd_4000);
    run(
        Arch::Gfx942,
        &mut w,
        "v_fma_mixhi_f16 v5, v18, v4, v4 op_sel_hi:[1,1,1]",
    )
    .unwrap();
    assert_eq!(v(&w, 5, 0), 0x4000_4000);
}

/// f16 arithmetic rounds once to f16; 16-bit logic; GFX11's max-min.
#[test]
fn f16_arithmetic_sixteen_bit_logic_and_maxmin() {
    let mut w = wave(64);
    // 1.0 (0x3c00) and 2^-11 (0x1000): the exact sum 1 + 2^-11 is halfway
    // between 1.0 and 1 + 2^-10 and rounds to even (1.0); 1 + 3 * 2^-11
    // rounds up to 1 + 2^-9.
    set_v(&mut w, 1, |_| 0xffff_3c00);
    set_v(&mut w, 2, |_| 0x1000);
    set_v(&mut w, 3, |_| 0x1600); // 3 * 2^-11
    let cases: [(&str, u32); 8] = [
        ("v_add_f16_e32 v9, v1, v2", 0x3c00),
        ("v_add_f16_e32 v9, v1, v3", 0x3c02),
        ("v_sub_f16_e32 v9, v1, v1", 0x0000),
        ("v_mul_f16_e32 v9, v3, v3", 0x0024), // 9 * 2^-22: a denormal, 36 units of 2^-24
        ("v_max_f16_e32 v9, v1, v2", 0x3c00),
        ("v_min_f16_e32 v9, v1, v2", 0x1000),
        ("v_max_f16_e64 v9, -v1, v2", 0x1000),
        ("v_add_f16_e64 v9, v1, v1 clamp", 0x3c00),
    ];
    for (text, want) in cases {
        set_v(&mut w, 9, |_| 0xdead_beef);
        run(Arch::Gfx942, &mut w, text).unwrap();
        assert_eq!(v(&w, 9, 0), want, "{text}");
    }
    // Three-operand f16 min/max/med: 1.0, 2^-11, -1.0 (0xbc00).
    set_v(&mut w, 4, |_| 0xbc00);
    for (text, want) in [
        ("v_max3_f16 v9, v1, v2, v4", 0x3c00),
        ("v_min3_f16 v9, v1, v2, v4", 0xbc00),
        ("v_med3_f16 v9, v1, v2, v4", 0x1000),
    ] {
        set_v(&mut w, 9, |_| 0x5555_0000);
        run(Arch::Gfx942, &mut w, text).unwrap();
        assert_eq!(v(&w, 9, 0), 0x5555_0000 | want, "{text}");
    }
    // 65504 + 16 is exactly halfway to 2^16: ties to even, which is
    // infinity.
    set_v(&mut w, 4, |_| 0x7bff);
    set_v(&mut w, 5, |_| 0x4c00);
    run(Arch::Gfx942, &mut w, "v_add_f16_e32 v9, v4, v5").unwrap();
    assert_eq!(v(&w, 9, 0), 0x7c00);

    let mut w = wave(32);
    set_v(&mut w, 1, |_| 0x0ff0_f0f0);
    set_v(&mut w, 9, |_| 0xdead_beef);
    run(Arch::Gfx1100, &mut w, "v_or_b16 v9.l, v1.l, v1.h").unwrap();
    assert_eq!(v(&w, 9, 0), 0xdead_fff0);
    run(Arch::Gfx1100, &mut w, "v_and_b16 v9.h, v1.l, v1.h").unwrap();
    assert_eq!(v(&w, 9, 0), 0x00f0_fff0);
    run(Arch::Gfx1100, &mut w, "v_xor_b16 v9.l, v1.l, v1.h").unwrap();
    assert_eq!(v(&w, 9, 0), 0x00f0_ff00);

    // v_cndmask_b16 on halves: VCC's lanes take src1.
    set_v(&mut w, 2, |_| 0x2222_1111);
    set_v(&mut w, 3, |_| 0x4444_3333);
    set_v(&mut w, 7, |_| 0x7777_7777);
    w.vcc = 0xffff_0000;
    run(Arch::Gfx1100, &mut w, "v_cndmask_b16 v7.h, v2.l, v3.h, vcc_lo").unwrap();
    assert_eq!((v(&w, 7, 0), v(&w, 7, 16)), (0x1111_7777, 0x4444_7777));

    set_v(&mut w, 4, |l| l as u32);
    w.s[3] = 20;
    // v_maxmin_i32: min(max(a, b), c): lanes clamped to [5, 20].
    run(Arch::Gfx1100, &mut w, "v_maxmin_i32 v5, v4, 5, s3").unwrap();
    for l in 0..32 {
        assert_eq!(v(&w, 5, l), (l as u32).clamp(5, 20), "lane {l}");
    }
    // v_minmax_u32: max(min(a, b), c).
    run(Arch::Gfx1100, &mut w, "v_minmax_u32 v5, v4, s3, 5").unwrap();
    for l in 0..32 {
        assert_eq!(v(&w, 5, l), (l as u32).clamp(5, 20), "lane {l}");
    }
    set_v(&mut w, 6, |_| 3.5f32.to_bits());
    run(Arch::Gfx1100, &mut w, "v_maxmin_f32 v5, v6, 1.0, 2.0").unwrap();
    assert_eq!(f32::from_bits(v(&w, 5, 0)), 2.0);
    run(Arch::Gfx1100, &mut w, "v_minmax_f32 v5, v6, 1.0, 2.0").unwrap();
    assert_eq!(f32::from_bits(v(&w, 5, 0)), 2.0);
}

/// 8-bit d16 loads: a byte zero- or sign-extended to 16 bits into one
/// half, the other half kept.
#[test]
fn byte_loads_into_register_halves() {
    let mut mem = Memory::new();
    let buf = mem.alloc(&[0x85, 0x7f, 0, 0]);
    for (arch, size, names) in [
        (
            Arch::Gfx942,
            64,
            [
                "global_load_ubyte_d16",
                "global_load_sbyte_d16",
                "global_load_ubyte_d16_hi",
                "global_load_sbyte_d16_hi",
            ],
        ),
        (
            Arch::Gfx1100,
            32,
            [
                "global_load_d16_u8",
                "global_load_d16_i8",
                "global_load_d16_hi_u8",
                "global_load_d16_hi_i8",
            ],
        ),
    ] {
        let mut w = wave(size);
        set_v(&mut w, 2, |_| buf as u32);
        set_v(&mut w, 3, |_| (buf >> 32) as u32);
        let want = [0x1234_0085, 0x1234_ff85, 0x0085_5678, 0xff85_5678];
        for (name, want) in names.iter().zip(want) {
            set_v(&mut w, 1, |_| 0x1234_5678);
            let text = format!("{name} v1, v[2:3], off");
            execute_text(arch, &mut w, &text, &mut mem, &mut [0u8; 16]).unwrap();
            assert_eq!(v(&w, 1, 0), want, "{text}");
        }
    }
}

/// Double-precision arithmetic on register pairs, a 32-bit literal as the
/// high half of a double, conversions, frexp and ldexp, and the f64
/// division sequence LLVM emits (scale, reciprocal, Newton steps, fmas,
/// fixup) giving the correctly rounded quotient.
#[test]
fn double_precision_arithmetic_and_division() {
    let mut w = wave(64);
    let set64 = |w: &mut Wave, reg: usize, f: &dyn Fn(usize) -> f64| {
        set_v(w, reg, |l| f(l).to_bits() as u32);
        set_v(w, reg + 1, |l| (f(l).to_bits() >> 32) as u32);
    };
    let get64 =
        |w: &Wave, reg: usize, lane: usize| f64::from_bits(v(w, reg, lane) as u64 | (v(w, reg + 1, lane) as u64) << 32);
    set64(&mut w, 2, &|l| 1.0 + l as f64 / 3.0);
    set64(&mut w, 4, &|l| 0.1 * (l as f64 - 7.0));
    for (text, want) in [
        (
            "v_add_f64 v[8:9], v[2:3], v[4:5]",
            &(|a: f64, b: f64| a + b) as &dyn Fn(f64, f64) -> f64,
        ),
        ("v_mul_f64 v[8:9], v[2:3], v[4:5]", &|a, b| a * b),
        ("v_fma_f64 v[8:9], v[2:3], v[4:5], v[2:3]", &|a: f64, b: f64| {
            a.mul_add(b, a)
        }),
        ("v_max_f64 v[8:9], v[2:3], -v[4:5]", &|a: f64, b: f64| a.max(-b)),
        ("v_mul_f64 v[8:9], v[2:3], 0x40080000", &|a, _| a * 3.0),
        ("v_add_f64 v[8:9], |v[4:5]|, 1.0", &|_, b: f64| b.abs() + 1.0),
    ] {
        run(Arch::Gfx942, &mut w, text).unwrap();
        for l in [0, 5, 63] {
            let (a, b) = (1.0 + l as f64 / 3.0, 0.1 * (l as f64 - 7.0));
            assert_eq!(get64(&w, 8, l), want(a, b), "{text}, lane {l}");
        }
    }
    // Conversions, frexp, ldexp.
    set_v(&mut w, 1, |l| (l as f32 * -1.5).to_bits());
    run(Arch::Gfx942, &mut w, "v_cvt_f64_f32_e32 v[8:9], v1").unwrap();
    assert_eq!(get64(&w, 8, 3), -4.5);
    run(Arch::Gfx942, &mut w, "v_cvt_i32_f64_e32 v10, v[8:9]").unwrap();
    assert_eq!(v(&w, 10, 3) as i32, -4);
    run(Arch::Gfx942, &mut w, "v_cvt_f32_f64_e32 v10, v[2:3]").unwrap();
    assert_eq!(f32::from_bits(v(&w, 10, 1)), (1.0f64 + 1.0 / 3.0) as f32);
    run(Arch::Gfx942, &mut w, "v_frexp_mant_f64_e32 v[8:9], v[4:5]").unwrap();
    run(Arch::Gfx942, &mut w, "v_frexp_exp_i32_f64_e32 v10, v[4:5]").unwrap();
    // 0.1 * 13 = 1.3 (lane 20): 0.65 * 2^1.
    assert_eq!(get64(&w, 8, 20), 0.1 * 13.0 / 2.0);
    assert_eq!(v(&w, 10, 20), 1);
    set_v(&mut w, 11, |_| (-3i32) as u32);
    run(Arch::Gfx942, &mut w, "v_ldexp_f64 v[8:9], v[2:3], v11").unwrap();
    assert_eq!(get64(&w, 8, 3), 2.0 / 8.0);

    // n / d as LLVM's AMDGPU back end divides doubles (fdiv f64).
    set64(&mut w, 2, &|l| 1.0 + l as f64);
    set64(&mut w, 4, &|l| 3.0 + 7.0 * l as f64);
    let program = [
        "v_div_scale_f64 v[6:7], s[0:1], v[4:5], v[4:5], v[2:3]",
        "v_rcp_f64_e32 v[8:9], v[6:7]",
        "v_fma_f64 v[10:11], -v[6:7], v[8:9], 1.0",
        "v_fma_f64 v[8:9], v[8:9], v[10:11], v[8:9]",
        "v_fma_f64 v[10:11], -v[6:7], v[8:9], 1.0",
        "v_fma_f64 v[8:9], v[8:9], v[10:11], v[8:9]",
        "v_div_scale_f64 v[10:11], vcc, v[2:3], v[4:5], v[2:3]",
        "v_mul_f64 v[12:13], v[10:11], v[8:9]",
        "v_fma_f64 v[6:7], -v[6:7], v[12:13], v[10:11]",
        "v_div_fmas_f64 v[6:7], v[6:7], v[8:9], v[12:13]",
        "v_div_fixup_f64 v[6:7], v[6:7], v[4:5], v[2:3]",
    ];
    for text in program {
        run(Arch::Gfx942, &mut w, text).unwrap();
    }
    for l in 0..64 {
        let (n, d) = (1.0 + l as f64, 3.0 + 7.0 * l as f64);
        assert_eq!(get64(&w, 6, l), n / d, "lane {l}");
    }
}

/// Packed 16-bit math: each result half from the halves `op_sel` and
/// `op_sel_hi` pick, `neg_lo`/`neg_hi`, integer halves wrapping.
#[test]
fn packed_sixteen_bit_math_picks_halves() {
    let mut w = wave(64);
    // v1 = (hi 2.0, lo 1.0), v2 = (hi -0.5, lo 3.0)
    set_v(&mut w, 1, |_| 0x4000_3c00);
    set_v(&mut w, 2, |_| 0xb800_4200);
    for (text, want) in [
        ("v_pk_add_f16 v9, v1, v2", 0x3e00_4400), // (1.5, 4.0)
        ("v_pk_mul_f16 v9, v1, v2 op_sel:[1,0] op_sel_hi:[0,1]", 0xb800_4600), // lo 2*3=6, hi 1*-0.5
        ("v_pk_max_f16 v9, v1, v2", 0x4000_4200), // (2.0, 3.0)
        ("v_pk_min_f16 v9, v1, v2 neg_lo:[1,0] neg_hi:[0,1]", 0x3800_bc00), // lo min(-1,3), hi min(2,0.5)
        ("v_pk_fma_f16 v9, v1, v2, v1", 0x3c00_4400), // lo 1*3+1=4, hi 2*-0.5+2=1
        ("v_pk_add_u16 v9, v1, v2", 0xf800_7e00),
        ("v_pk_sub_u16 v9, v1, v2 op_sel:[1,1]", 0x8800_8800),
        ("v_pk_max_i16 v9, v1, v2", 0x4000_4200),
        ("v_pk_lshlrev_b16 v9, 4, v1 op_sel_hi:[0,1]", 0x0000_c000),
    ] {
        set_v(&mut w, 9, |_| 0xdead_beef);
        run(Arch::Gfx942, &mut w, text).unwrap();
        assert_eq!(v(&w, 9, 0), want, "{text}: {:#010x}", v(&w, 9, 0));
    }
    // A constant's high half differs between generations: refused.
    let err = run(Arch::Gfx942, &mut w, "v_pk_add_f16 v9, v1, 1.0").unwrap_err();
    assert!(err.to_string().contains("high half of a packed constant"), "{err}");
}

/// Byte-to-float conversions, 24-bit multiply-add, frexp of f32 and
/// the float modifiers of `v_cndmask_b32`'s VOP3 form.
#[test]
fn byte_conversions_mad24_frexp_and_cndmask_modifiers() {
    let mut w = wave(64);
    set_v(&mut w, 1, |_| 0x80ff_1203);
    for (text, want) in [
        ("v_cvt_f32_ubyte0_e32 v9, v1", 3.0f32),
        ("v_cvt_f32_ubyte1_e32 v9, v1", 18.0),
        ("v_cvt_f32_ubyte2_e32 v9, v1", 255.0),
        ("v_cvt_f32_ubyte3_e32 v9, v1", 128.0),
    ] {
        run(Arch::Gfx942, &mut w, text).unwrap();
        assert_eq!(f32::from_bits(v(&w, 9, 0)), want, "{text}");
    }
    // 24-bit signed operands: 0xff_fffe is -2 (bit 23 is the sign).
    set_v(&mut w, 2, |_| 0x7fff_fffe);
    run(Arch::Gfx942, &mut w, "v_mad_i32_i24 v9, v2, -6, 5").unwrap();
    assert_eq!(v(&w, 9, 0) as i32, 17);
    set_v(&mut w, 3, |_| (-6.5f32).to_bits());
    run(Arch::Gfx942, &mut w, "v_frexp_mant_f32_e32 v9, v3").unwrap();
    run(Arch::Gfx942, &mut w, "v_frexp_exp_i32_f32_e32 v10, v3").unwrap();
    assert_eq!((f32::from_bits(v(&w, 9, 0)), v(&w, 10, 0)), (-0.8125, 3));
    w.vcc = 0;
    run(Arch::Gfx942, &mut w, "v_cndmask_b32_e64 v9, |v3|, v1, vcc").unwrap();
    assert_eq!(f32::from_bits(v(&w, 9, 0)), 6.5);
    // Scalar shift-and-add: the carry out counts the shifted-out bits.
    w.s[0] = 0x4000_0001;
    w.s[1] = 3;
    run(Arch::Gfx942, &mut w, "s_lshl2_add_u32 s2, s0, s1").unwrap();
    assert_eq!((w.s[2], w.scc), (7, true));
}
