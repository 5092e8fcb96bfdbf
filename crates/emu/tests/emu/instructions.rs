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

/// (lane, register, half, row, column) of each cell of a layout table.
fn table(path: &PathBuf) -> Vec<(usize, usize, usize, usize, usize)> {
    let text = std::fs::read_to_string(path).unwrap();
    let mut lines = text.lines();
    let header: Vec<String> = lines.next().unwrap().split(',').map(str::to_string).collect();
    let mut cells = Vec::new();
    for line in lines {
        let row: Vec<&str> = line.split(',').collect();
        let lane: usize = row[0].parse().unwrap();
        for (col, cell) in header.iter().zip(&row).skip(1) {
            let (reg, half) = match col.split_once('.') {
                Some((r, bits)) => (r, usize::from(bits.starts_with("[31"))),
                None => (col.as_str(), 0),
            };
            let (a, b) = cell[2..cell.len() - 1].split_once("][").unwrap();
            cells.push((
                lane,
                reg[1..].parse().unwrap(),
                half,
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
                    (_, true) => x.to_bits() >> 16,
                    _ => f32_to_f16(x) as u32,
                }
            };
            let mut place = |base: usize, file: &str, value: &dyn Fn(usize, usize) -> f32| {
                for (lane, reg, half, r, c) in table(&dir.join(arch_name).join(format!("{inst}.{file}.csv"))) {
                    let slot = &mut w.v[(base + reg) * LANES + lane];
                    let bits = encode(value(r, c));
                    if shape.bits == 32 {
                        *slot = bits;
                    } else if half == 0 {
                        *slot = (*slot & 0xffff_0000) | bits;
                    } else {
                        *slot = (*slot & 0xffff) | bits << 16;
                    }
                }
            };
            place(a0, "A", &a_val);
            place(b0, "B", &b_val);
            // C: f32, in D's layout.
            for (lane, reg, _, i, j) in table(&dir.join(arch_name).join(format!("{inst}.D.csv"))) {
                w.v[(c0 + reg) * LANES + lane] = c_val(i, j).to_bits();
            }
            let range = |base: usize, n: usize| {
                if n == 1 {
                    format!("v{base}")
                } else {
                    format!("v[{base}:{}]", base + n - 1)
                }
            };
            let text = format!(
                "{inst} {}, {}, {}, {}",
                range(d0, shape.d_regs()),
                range(a0, shape.ab_regs()),
                range(b0, shape.ab_regs()),
                range(c0, shape.d_regs())
            );
            run(arch, &mut w, &text).unwrap_or_else(|e| panic!("{e}"));
            for (lane, reg, _, i, j) in table(&dir.join(arch_name).join(format!("{inst}.D.csv"))) {
                let want = c_val(i, j) + (0..shape.k).map(|k| a_val(i, k) * b_val(k, j)).sum::<f32>();
                assert_eq!(
                    f32::from_bits(v(&w, d0 + reg, lane)),
                    want,
                    "{arch_name} `{text}`: D[{i}][{j}] (lane {lane}, v{reg})"
                );
            }
            ran.push(format!("{arch_name} {inst}"));
        }
    }
    assert_eq!(ran.len(), 14, "{ran:?}");
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
