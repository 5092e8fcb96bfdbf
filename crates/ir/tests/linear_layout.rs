//! Linear layouts: every constructor maps onto its block as the layout it
//! comes from documents (bijection, or the stated broadcast), and the
//! algebra (composition, pseudo-inverse, conversion classes) agrees with
//! brute force on random layouts.

use std::collections::HashMap;

use tritonc_ir::linear_layout::{LANE, REGISTER, WAVE};
use tritonc_ir::{BlockedLayout, ConversionKind, LinearLayout, MatrixFamily, MatrixInstr, MatrixLayout, MatrixOperand};

/// splitmix64.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9e37_79b9_7f4a_7c15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        z ^ (z >> 31)
    }

    fn below(&mut self, n: u32) -> u32 {
        (self.next() % u64::from(n)) as u32
    }
}

/// Row-major flat index of `coords` in `shape`.
fn flat(coords: &[u32], shape: &[u32]) -> u32 {
    coords.iter().zip(shape).fold(0, |acc, (c, s)| acc * s + c)
}

/// Splits of `2^log_n` into shapes of rank 1 to 3.
fn shapes(log_n: u32) -> Vec<Vec<u32>> {
    let mut out = vec![vec![1 << log_n]];
    if log_n >= 1 {
        out.push(vec![1 << (log_n / 2), 1 << (log_n - log_n / 2)]);
        out.push(vec![1 << (log_n - 1), 2]);
    }
    if log_n >= 3 {
        out.push(vec![2, 1 << (log_n - 2), 2]);
    }
    out
}

/// Apply at program lane `lane` (split on `wave`), register `reg`.
fn at(ll: &LinearLayout, wave: u32, lane: u32, reg: u32) -> Vec<u32> {
    ll.apply(&[(REGISTER, reg), (LANE, lane % wave), (WAVE, lane / wave)])
        .unwrap()
}

#[test]
fn blocked_layouts_map_like_element() {
    for lanes in [1u32, 32, 64, 256, 512] {
        for wave in [32u32, 64] {
            for log_n in 0..12 {
                for max in [1u32, 4, 8] {
                    let b = BlockedLayout::with_max(1 << log_n, lanes, max);
                    for shape in shapes(log_n) {
                        let ll = LinearLayout::from_blocked(&b, &shape, wave).unwrap();
                        assert_eq!(ll.in_dim_size(REGISTER), u64::from(b.per_lane()));
                        assert_eq!(ll.in_dim_size(LANE) * ll.in_dim_size(WAVE), u64::from(lanes));
                        for l in 0..lanes {
                            for r in 0..b.per_lane() {
                                let c = at(&ll, wave, l, r);
                                assert_eq!(flat(&c, &shape), b.element(l, r), "{b:?} {shape:?} lane {l} reg {r}");
                            }
                        }
                        // Onto the block; a bijection unless replicated, and
                        // then the broadcast bits are exactly the zero ones,
                        // and the owners are the lanes with them clear.
                        assert!(ll.is_surjective(), "{b:?}");
                        assert_eq!(ll.is_injective(), !b.replicated(), "{b:?}");
                        for dim in [REGISTER, LANE, WAVE] {
                            assert_eq!(ll.free_bits(dim), ll.zero_bits(dim), "{b:?} {dim}");
                        }
                        assert_eq!(ll.free_bits(REGISTER), 0, "{b:?}");
                        for l in 0..lanes {
                            let owner = (l % wave) & ll.free_bits(LANE) == 0 && (l / wave) & ll.free_bits(WAVE) == 0;
                            assert_eq!(owner, b.owns(l), "{b:?} lane {l}");
                        }
                    }
                }
            }
        }
    }
    // Invalid descriptions are errors, not panics.
    let b = BlockedLayout::new(64, 64);
    assert!(LinearLayout::from_blocked(&b, &[8, 4], 64).is_err());
    assert!(LinearLayout::from_blocked(&b, &[8, 8], 48).is_err());
    assert!(LinearLayout::from_blocked(&BlockedLayout::new(48, 16), &[48], 64).is_err());
    assert!(LinearLayout::from_blocked(&BlockedLayout::with_max(1024, 64, 3), &[1024], 64).is_err());
}

const FAMILIES: [MatrixFamily; 3] = [MatrixFamily::Mfma32, MatrixFamily::Mfma16, MatrixFamily::Wmma16];

fn matrix_layouts() -> Vec<MatrixLayout> {
    let mut out = Vec::new();
    for family in FAMILIES {
        let t = family.tile();
        let instr = MatrixInstr { family, k: 16 };
        for m in [16u32, 32, 64, 128] {
            for n in [16u32, 32, 64, 128] {
                for waves_m in [1u32, 2, 4] {
                    for waves_n in [1u32, 2, 4] {
                        if m >= t * waves_m && n >= t * waves_n && waves_m * waves_n <= 8 {
                            // Transposed tiles for every other shape.
                            let transposed = (m / 16 + n / 16 + waves_m) % 2 == 1;
                            out.push(MatrixLayout {
                                instr,
                                m,
                                n,
                                waves_m,
                                waves_n,
                                transposed,
                            });
                        }
                    }
                }
            }
        }
    }
    out
}

#[test]
fn matrix_accumulators_map_like_element_and_are_bijections() {
    let layouts = matrix_layouts();
    assert!(layouts.len() > 100);
    for m in &layouts {
        let wave = m.family().wave();
        let ll = LinearLayout::from_matrix(m).unwrap();
        assert_eq!(ll.in_dim_size(REGISTER), u64::from(m.per_lane()), "{m:?}");
        assert_eq!(ll.in_dim_size(LANE), u64::from(wave));
        assert_eq!(ll.in_dim_size(WAVE), u64::from(m.waves_m * m.waves_n));
        for lane in 0..wave * m.waves_m * m.waves_n {
            for reg in 0..m.per_lane() {
                let (i, j) = m.element(lane, reg);
                assert_eq!(at(&ll, wave, lane, reg), vec![i, j], "{m:?} lane {lane} reg {reg}");
            }
        }
        assert!(ll.is_injective() && ll.is_surjective(), "{m:?}");
        // And for_block's choices.
        if let Some(fb) = MatrixLayout::for_block(m.instr, m.m, m.n, m.waves_m * m.waves_n) {
            assert!(LinearLayout::from_matrix(&fb).unwrap().is_surjective());
        }
    }
    // 48 rows of WMMA tiles is a matrix layout, not a linear one.
    let wmma = MatrixInstr {
        family: MatrixFamily::Wmma16,
        k: 16,
    };
    let odd = MatrixLayout::for_block(wmma, 48, 32, 1).unwrap();
    assert!(LinearLayout::from_matrix(&odd).is_err());
    let too_many = MatrixLayout {
        instr: wmma,
        m: 16,
        n: 16,
        waves_m: 2,
        waves_n: 1,
        transposed: false,
    };
    assert!(LinearLayout::from_matrix(&too_many).is_err());
}

#[test]
fn matrix_operands_map_like_fragments() {
    let cases = [
        (MatrixFamily::Mfma32, vec![2u32, 4, 8, 16, 32]),
        (MatrixFamily::Mfma16, vec![4, 8, 16, 32, 64]),
        (MatrixFamily::Wmma16, vec![1, 2, 8, 16, 32]),
    ];
    for (family, ks) in cases {
        let t = family.tile();
        for k in ks {
            let a = LinearLayout::matrix_operand(family, k, MatrixOperand::A).unwrap();
            let b = LinearLayout::matrix_operand(family, k, MatrixOperand::B).unwrap();
            assert_eq!(a.in_dim_size(REGISTER), u64::from(family.fragment(k)));
            assert_eq!(a.in_dim_size(LANE), u64::from(family.wave()));
            for lane in 0..family.wave() {
                for e in 0..family.fragment(k) {
                    let kk = family.fragment_k(lane, k) + e;
                    let i = lane % t;
                    assert_eq!(at(&a, 64, lane, e), vec![i, kk], "{family:?} k={k} lane {lane} e {e}");
                    assert_eq!(at(&b, 64, lane, e), vec![kk, i], "{family:?} k={k} lane {lane} e {e}");
                    // operand_lane names the lowest holder.
                    let inv = a.pseudo_invert().apply(&[("dim0", i), ("dim1", kk)]).unwrap();
                    assert_eq!((inv[1], inv[0]), family.operand_lane(i, kk, k), "{family:?} k={k}");
                }
            }
            for ll in [&a, &b] {
                assert!(ll.is_surjective());
                match family {
                    // Both halves of a WMMA wave hold the same fragment.
                    MatrixFamily::Wmma16 => {
                        assert_eq!((ll.free_bits(LANE), ll.zero_bits(LANE)), (1 << 4, 1 << 4));
                    }
                    _ => assert!(ll.is_injective()),
                }
            }
        }
    }
    assert!(LinearLayout::matrix_operand(MatrixFamily::Mfma32, 1, MatrixOperand::A).is_err());
    assert!(LinearLayout::matrix_operand(MatrixFamily::Mfma16, 2, MatrixOperand::B).is_err());
    assert!(LinearLayout::matrix_operand(MatrixFamily::Mfma16, 12, MatrixOperand::A).is_err());
    assert!(LinearLayout::matrix_operand(MatrixFamily::Wmma16, 0, MatrixOperand::A).is_err());
}

#[test]
fn slices_drop_a_dim_and_broadcast_what_moved_along_it() {
    for m in matrix_layouts().into_iter().step_by(7) {
        let wave = m.family().wave();
        let ll = LinearLayout::from_matrix(&m).unwrap();
        for (dim, keep) in [(1usize, 0usize), (0, 1)] {
            let s = ll.slice(dim).unwrap();
            assert_eq!(s.out_dims().collect::<Vec<_>>(), vec![("dim0", [m.m, m.n][keep])]);
            assert!(s.is_surjective());
            // Each element of the kept dim is held once per element of the
            // dropped one.
            let mut holders = vec![0u32; [m.m, m.n][keep] as usize];
            for lane in 0..wave * m.waves_m * m.waves_n {
                for reg in 0..m.per_lane() {
                    let e = m.element(lane, reg);
                    let kept = [e.0, e.1][keep];
                    assert_eq!(at(&s, wave, lane, reg), vec![kept]);
                    holders[kept as usize] += 1;
                }
            }
            assert!(holders.iter().all(|h| *h == [m.m, m.n][dim]));
            // The bits that moved along the dropped dim alone are zero now.
            for d in [REGISTER, LANE, WAVE] {
                for bit in 0..ll.in_dim_bits(d) {
                    let full = ll.basis(d, bit).unwrap();
                    let only_dropped = full[keep] == 0;
                    assert_eq!(s.zero_bits(d) >> bit & 1 == 1, only_dropped, "{m:?} {d} {bit}");
                }
            }
        }
    }
    // Blocked too: a slice of [4, 256] along 1 is four rows, replicated.
    let b = BlockedLayout::new(1024, 256);
    let ll = LinearLayout::from_blocked(&b, &[4, 256], 64).unwrap();
    let s = ll.slice(1).unwrap();
    assert_eq!(s.free_bits(LANE), 0b11_1111);
    assert_eq!(s.free_bits(REGISTER), 0b11);
    assert_eq!(s.free_bits(WAVE), 0);
    assert!(ll.slice(2).is_err());
}

#[test]
fn text_form_round_trips() {
    let b = BlockedLayout::new(1024, 256);
    let mfma = MatrixLayout::for_block(
        MatrixInstr {
            family: MatrixFamily::Mfma32,
            k: 8,
        },
        128,
        64,
        4,
    )
    .unwrap();
    let mut layouts = vec![
        LinearLayout::empty(),
        LinearLayout::from_blocked(&b, &[4, 256], 64).unwrap(),
        LinearLayout::from_blocked(&BlockedLayout::new(4, 64), &[2, 2], 64).unwrap(),
        LinearLayout::from_matrix(&mfma).unwrap(),
        LinearLayout::from_matrix(&mfma).unwrap().slice(1).unwrap(),
        LinearLayout::matrix_operand(MatrixFamily::Wmma16, 16, MatrixOperand::B).unwrap(),
        LinearLayout::row_major("offset", &[16, 64]).unwrap(),
        LinearLayout::zeros_1d(4, REGISTER, "dim0").unwrap(),
    ];
    let mut rng = Rng(7);
    layouts.extend((0..50).map(|_| random_layout(&mut rng, 3, false)));
    for ll in &layouts {
        let text = ll.to_string();
        let back: LinearLayout = text.parse().unwrap_or_else(|e| panic!("{e}\n{text}"));
        assert_eq!(&back, ll, "{text}");
    }
    let shown = LinearLayout::from_matrix(
        &MatrixLayout::for_block(
            MatrixInstr {
                family: MatrixFamily::Wmma16,
                k: 16,
            },
            16,
            16,
            1,
        )
        .unwrap(),
    )
    .unwrap()
    .to_string();
    assert_eq!(
        shown,
        " - register=1 -> (2, 0)\n   register=2 -> (4, 0)\n   register=4 -> (8, 0)\n - lane=1 -> (0, 1)\n   lane=2 -> (0, 2)\n   lane=4 -> (0, 4)\n   lane=8 -> (0, 8)\n   lane=16 -> (1, 0)\n - wave is a size 1 dimension\nwhere out dims are: [dim0 (size 16), dim1 (size 16)]"
    );
    for bad in [
        "",
        " - lane=2 -> (1)\nwhere out dims are: [dim0 (size 4)]",
        "   lane=1 -> (1)\nwhere out dims are: [dim0 (size 4)]",
        " - lane=1 -> (4)\nwhere out dims are: [dim0 (size 4)]",
        " - lane=1 -> (1, 0)\nwhere out dims are: [dim0 (size 4)]",
        " - lane=1 -> (1)\nwhere out dims are: [dim0 (size 3)]",
        " - lane=1 -> (1)\nwhere out dims are: [dim0 (size 4)]\n - wave is a size 1 dimension",
        " - lane=1 -> (1)\n - lane=1 -> (2)\nwhere out dims are: [dim0 (size 4)]",
    ] {
        assert!(bad.parse::<LinearLayout>().is_err(), "{bad:?} parsed");
    }
}

/// A random layout over register, lane and wave onto one to three
/// output dims; surjective if asked (then every out bit is some input
/// bit's basis, the rest random, zero ones included).
fn random_layout(rng: &mut Rng, max_out_bits: u32, surjective: bool) -> LinearLayout {
    let rank = 1 + rng.below(2) as usize;
    let out_bits: Vec<u32> = (0..rank).map(|_| rng.below(max_out_bits + 1)).collect();
    let total: u32 = out_bits.iter().sum();
    let in_bits = [rng.below(4), rng.below(4), rng.below(3)];
    let mut n_in: u32 = in_bits.iter().sum();
    let mut bits = in_bits;
    if surjective && n_in < total {
        bits[0] += total - n_in;
        n_in = total;
    }
    // Coordinates of a random out mask.
    let coords = |v: u64| -> Vec<u32> {
        let mut shift = 0;
        out_bits
            .iter()
            .map(|&b| {
                let c = ((v >> shift) & ((1u64 << b) - 1)) as u32;
                shift += b;
                c
            })
            .collect()
    };
    let mut cols: Vec<u64> = (0..n_in)
        .map(|_| {
            if rng.below(5) == 0 {
                0
            } else {
                rng.next() & ((1u64 << total) - 1)
            }
        })
        .collect();
    if surjective {
        // Unit vectors at random distinct positions.
        let mut pos: Vec<usize> = (0..n_in as usize).collect();
        for i in (1..pos.len()).rev() {
            pos.swap(i, rng.below(i as u32 + 1) as usize);
        }
        for (b, &p) in (0..total).zip(&pos) {
            cols[p] = 1 << b;
        }
    }
    let mut it = cols.into_iter();
    let ins: Vec<(&str, Vec<Vec<u32>>)> = [REGISTER, LANE, WAVE]
        .iter()
        .zip(bits)
        .map(|(name, n)| (*name, (0..n).map(|_| coords(it.next().unwrap())).collect()))
        .collect();
    let outs: Vec<(String, u32)> = out_bits
        .iter()
        .enumerate()
        .map(|(i, &b)| (format!("dim{i}"), 1 << b))
        .collect();
    LinearLayout::new(ins, outs).unwrap()
}

/// Every input of `ll` (register, lane, wave) with its output.
fn table(ll: &LinearLayout) -> Vec<([u32; 3], Vec<u32>)> {
    let sizes = [REGISTER, LANE, WAVE].map(|d| ll.in_dim_size(d) as u32);
    let mut out = Vec::new();
    for w in 0..sizes[2] {
        for l in 0..sizes[1] {
            for r in 0..sizes[0] {
                out.push(([r, l, w], ll.apply(&[(REGISTER, r), (LANE, l), (WAVE, w)]).unwrap()));
            }
        }
    }
    out
}

/// The conversion class by brute force: for each destination slot, is
/// its element held by a source slot in the same lane and wave, or in the
/// same wave?
fn brute_conversion(src: &LinearLayout, dst: &LinearLayout) -> ConversionKind {
    let src_t = table(src);
    let dst_t = table(dst);
    let same_dims = [REGISTER, LANE, WAVE]
        .iter()
        .all(|d| src.in_dim_bits(d) == dst.in_dim_bits(d));
    if same_dims && src_t == dst_t {
        return ConversionKind::None;
    }
    let mut holders: HashMap<Vec<u32>, Vec<(u32, u32)>> = HashMap::new();
    for (x, e) in &src_t {
        holders.entry(e.clone()).or_default().push((x[1], x[2]));
    }
    let (mut in_lane, mut in_wave) = (true, true);
    for (x, e) in &dst_t {
        let h = holders.get(e).expect("the source holds every element");
        in_lane &= h.iter().any(|&(l, w)| l == x[1] && w == x[2]);
        in_wave &= h.iter().any(|&(_, w)| w == x[2]);
    }
    if in_lane {
        ConversionKind::RegisterPermute
    } else if in_wave {
        ConversionKind::WithinWave
    } else {
        ConversionKind::AcrossWaves
    }
}

fn check_pair(src: &LinearLayout, dst: &LinearLayout, what: &str) -> ConversionKind {
    // Where the element at x in dst lives in src: src(c(x)) == dst(x).
    let c = dst.invert_and_compose(src).unwrap_or_else(|e| panic!("{what}: {e}"));
    for (x, e) in table(dst) {
        let y = c.apply(&[(REGISTER, x[0]), (LANE, x[1]), (WAVE, x[2])]).unwrap();
        let back = src.apply(&[(REGISTER, y[0]), (LANE, y[1]), (WAVE, y[2])]).unwrap();
        assert_eq!(back, e, "{what}: slot {x:?}");
    }
    let kind = src.conversion_kind(dst).unwrap();
    assert_eq!(kind, brute_conversion(src, dst), "{what}\nsrc:\n{src}\ndst:\n{dst}");
    assert_eq!(src.conversion_kind(src).unwrap(), ConversionKind::None);
    assert_eq!(
        dst.conversion_kind(dst).unwrap_or(ConversionKind::None),
        ConversionKind::None
    );
    kind
}

#[test]
fn random_block_and_matrix_pairs_convert_exactly() {
    let mut rng = Rng(42);
    let mut seen = HashMap::new();
    for round in 0..80 {
        let family = FAMILIES[rng.below(3) as usize];
        let wave = family.wave();
        let waves = 1u32 << rng.below(3);
        let t = family.tile();
        let m = t << rng.below(3);
        let n = t << rng.below(3);
        let pick = |rng: &mut Rng| -> Option<(LinearLayout, String)> {
            if rng.below(2) == 0 {
                let ml = MatrixLayout::for_block(MatrixInstr { family, k: 16 }, m, n, waves)?;
                Some((LinearLayout::from_matrix(&ml).unwrap(), format!("{ml:?}")))
            } else {
                let b = BlockedLayout::with_max(m * n, waves * wave, [1, 2, 4, 8][rng.below(4) as usize]);
                Some((
                    LinearLayout::from_blocked(&b, &[m, n], wave).unwrap(),
                    format!("{b:?} [{m}, {n}]"),
                ))
            }
        };
        let (Some((a, wa)), Some((b, wb))) = (pick(&mut rng), pick(&mut rng)) else {
            continue;
        };
        let kind = check_pair(&a, &b, &format!("round {round}: {wa} -> {wb}"));
        *seen.entry(kind).or_insert(0) += 1;
    }
    // Register permutations and across-wave moves both occur.
    assert!(seen.len() >= 3, "{seen:?}");
}

#[test]
fn random_layout_pairs_classify_like_brute_force() {
    let mut rng = Rng(3);
    let mut seen = HashMap::new();
    for round in 0..600 {
        let src = random_layout(&mut rng, 3, true);
        // A destination on the same block: random bases, or the source
        // with a few bases changed.
        let dst = if rng.below(2) == 0 {
            let outs: Vec<(String, u32)> = src.out_dims().map(|(n, s)| (n.to_string(), s)).collect();
            let mut ins = Vec::new();
            for d in [REGISTER, LANE, WAVE] {
                let bits = if d == REGISTER {
                    rng.below(4)
                } else {
                    src.in_dim_bits(d)
                };
                let bases = (0..bits)
                    .map(|_| outs.iter().map(|(_, s)| rng.below(*s)).collect())
                    .collect::<Vec<Vec<u32>>>();
                ins.push((d, bases));
            }
            LinearLayout::new(ins, outs).unwrap()
        } else {
            let text = src.to_string();
            let mut lines: Vec<String> = text.lines().map(str::to_string).collect();
            let k = rng.below(lines.len() as u32) as usize;
            let swap = rng.below(lines.len() as u32) as usize;
            // Swap the right-hand sides of two basis lines.
            let rhs = |s: &str| s.split_once("->").map(|(_, r)| r.to_string());
            if let (Some(a), Some(b)) = (rhs(&lines[k]), rhs(&lines[swap])) {
                lines[k] = format!("{}->{b}", lines[k].split_once("->").unwrap().0);
                lines[swap] = format!("{}->{a}", lines[swap].split_once("->").unwrap().0);
            }
            lines.join("\n").parse().unwrap()
        };
        let kind = check_pair(&src, &dst, &format!("round {round}"));
        *seen.entry(kind).or_insert(0) += 1;
    }
    assert_eq!(seen.len(), 4, "every class occurs: {seen:?}");
}

#[test]
fn conversions_of_known_layouts() {
    let mfma = |waves| {
        MatrixLayout::for_block(
            MatrixInstr {
                family: MatrixFamily::Mfma32,
                k: 8,
            },
            128,
            64,
            waves,
        )
        .unwrap()
    };
    let acc = LinearLayout::from_matrix(&mfma(4)).unwrap();
    let blocked = LinearLayout::from_blocked(&BlockedLayout::new(128 * 64, 256), &[128, 64], 64).unwrap();
    assert_eq!(acc.conversion_kind(&acc).unwrap(), ConversionKind::None);
    assert_eq!(acc.conversion_kind(&blocked).unwrap(), ConversionKind::AcrossWaves);
    // A row reduction's result (slice along 1) broadcast back: the slice
    // of the accumulator holds, in each lane, the rows that lane holds,
    // so converting the slice to itself re-broadcast is free, and the
    // accumulator's slice to the blocked slice is not.
    let rows = acc.slice(1).unwrap();
    assert_eq!(rows.conversion_kind(&rows).unwrap(), ConversionKind::None);
    assert_eq!(
        rows.conversion_kind(&blocked.slice(1).unwrap()).unwrap(),
        ConversionKind::AcrossWaves
    );
    // Swapping the register order of two tiles is a register permutation.
    let square = LinearLayout::from_matrix(&MatrixLayout {
        m: 128,
        n: 128,
        ..mfma(4)
    })
    .unwrap();
    let text = square.to_string();
    assert!(
        text.contains("register=16 -> (0, 32)") && text.contains("register=32 -> (32, 0)"),
        "{text}"
    );
    let text = text.replace("register=16 -> (0, 32)", "register=16 -> (32, 0)");
    let text = text.replacen("register=32 -> (32, 0)", "register=32 -> (0, 32)", 1);
    let swapped: LinearLayout = text.parse().unwrap();
    assert_ne!(swapped, square);
    assert_eq!(
        square.conversion_kind(&swapped).unwrap(),
        ConversionKind::RegisterPermute
    );
    // A blocked layout replicated over waves converts within each wave.
    let rep_a = LinearLayout::from_blocked(&BlockedLayout::new(64, 256), &[64], 64).unwrap();
    assert_eq!(rep_a.zero_bits(WAVE), 0b11);
    let text = rep_a.to_string().replace("lane=1 -> (1)", "lane=1 -> (2)");
    let rep_b: LinearLayout = text.replacen("lane=2 -> (2)", "lane=2 -> (1)", 1).parse().unwrap();
    assert_eq!(rep_a.conversion_kind(&rep_b).unwrap(), ConversionKind::WithinWave);
    // (The pseudo-inverse alone would read every element from wave 0.)
    let from = rep_b.invert_and_compose(&rep_a).unwrap();
    assert_eq!(from.apply(&[(WAVE, 3)]).unwrap(), vec![0, 0, 0]);
    // Different blocks, and a source that lacks elements, are errors.
    assert!(acc.conversion_kind(&rows).is_err());
    let half = LinearLayout::zeros_1d(64, LANE, "dim0").unwrap();
    let all = LinearLayout::identity_1d(64, LANE, "dim0").unwrap();
    assert!(half.conversion_kind(&all).is_err());
    assert!(all.invert_and_compose(&half).is_err());
}

#[test]
fn pseudo_inverse_is_a_right_inverse_picking_the_lowest_input() {
    let mut rng = Rng(11);
    for _ in 0..300 {
        let surjective = rng.below(2) == 0;
        let ll = random_layout(&mut rng, 4, surjective);
        let inv = ll.pseudo_invert();
        let mut lowest: HashMap<Vec<u32>, u64> = HashMap::new();
        let (rb, lb) = (ll.in_dim_bits(REGISTER), ll.in_dim_bits(LANE));
        for (x, e) in table(&ll) {
            let key = u64::from(x[0]) | u64::from(x[1]) << rb | u64::from(x[2]) << (rb + lb);
            let slot = lowest.entry(e).or_insert(key);
            *slot = (*slot).min(key);
        }
        let outs: Vec<String> = ll.out_dims().map(|(n, _)| n.to_string()).collect();
        for (e, key) in &lowest {
            let named: Vec<(&str, u32)> = outs.iter().map(String::as_str).zip(e.iter().copied()).collect();
            let x = inv.apply(&named).unwrap();
            let got = u64::from(x[0]) | u64::from(x[1]) << rb | u64::from(x[2]) << (rb + lb);
            assert_eq!(got, *key, "{ll}");
        }
        assert_eq!(
            ll.is_surjective(),
            lowest.len() as u64 == 1u64 << ll.total_out_bits(),
            "{ll}"
        );
        assert_eq!(
            ll.is_injective(),
            lowest.len() as u64 == 1u64 << ll.total_in_bits(),
            "{ll}"
        );
        match ll.invert() {
            Ok(inv) => {
                assert!(ll.is_injective() && ll.is_surjective());
                // Both ways round the identity.
                let round = ll.compose(&inv).unwrap();
                for (x, _) in table(&ll) {
                    let y = round.apply(&[(REGISTER, x[0]), (LANE, x[1]), (WAVE, x[2])]).unwrap();
                    assert_eq!(y, x.to_vec());
                }
            }
            Err(_) => assert!(!(ll.is_injective() && ll.is_surjective())),
        }
    }
}

/// A random map from `ins` (name, bits) onto `outs` (name, bits).
fn random_map(rng: &mut Rng, ins: &[(&str, u32)], outs: &[(&str, u32)]) -> LinearLayout {
    LinearLayout::new(
        ins.iter()
            .map(|&(name, bits)| {
                (
                    name,
                    (0..bits)
                        .map(|_| outs.iter().map(|&(_, b)| rng.below(1 << b)).collect())
                        .collect(),
                )
            })
            .collect::<Vec<(&str, Vec<Vec<u32>>)>>(),
        outs.iter().map(|&(name, b)| (name, 1u32 << b)),
    )
    .unwrap()
}

#[test]
fn composition_is_associative_and_applies_in_turn() {
    let mut rng = Rng(5);
    for _ in 0..300 {
        let b = |rng: &mut Rng| rng.below(4);
        let x = [("register", b(&mut rng)), ("lane", b(&mut rng))];
        let y = [("y0", b(&mut rng)), ("y1", b(&mut rng))];
        let z = [("z0", b(&mut rng) + 1)];
        let w = [("w0", b(&mut rng)), ("w1", b(&mut rng)), ("w2", b(&mut rng))];
        let f = random_map(&mut rng, &x, &y);
        let g = random_map(&mut rng, &y, &z);
        let h = random_map(&mut rng, &z, &w);
        let left = f.compose(&g).unwrap().compose(&h).unwrap();
        let right = f.compose(&g.compose(&h).unwrap()).unwrap();
        assert_eq!(left, right);
        for r in 0..1 << x[0].1 {
            for l in 0..1 << x[1].1 {
                let fy = f.apply_named(&[("register", r), ("lane", l)]).unwrap();
                let fy: Vec<(&str, u32)> = fy.iter().map(|(n, v)| (n.as_str(), *v)).collect();
                let gz = g.apply_named(&fy).unwrap();
                let gz: Vec<(&str, u32)> = gz.iter().map(|(n, v)| (n.as_str(), *v)).collect();
                assert_eq!(
                    h.apply(&gz).unwrap(),
                    left.apply(&[("register", r), ("lane", l)]).unwrap()
                );
            }
        }
    }
    // Composition needs the outer layout to take every output.
    let f = LinearLayout::identity_1d(8, LANE, "dim0").unwrap();
    assert!(f.compose(&LinearLayout::identity_1d(4, "dim0", "x").unwrap()).is_err());
    assert!(f.compose(&LinearLayout::identity_1d(8, "dim1", "x").unwrap()).is_err());
}
