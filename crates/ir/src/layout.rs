//! Layouts: which lane of the program holds which element of a block.
//!
//! Dist IR is tile IR in which every value has a [`Layout`]
//! (`Function::layouts`) and data that must move between lanes goes
//! through explicit `tk.convert_layout` operations into shared memory.
//!
//! The blocked layout of a block of `n` elements (in row-major order) over
//! `lanes` lanes gives each lane `spt` contiguous elements per repetition
//! (4 when the block is large enough: 16 bytes of 32-bit elements):
//! lane `l`, register `r` holds element
//! `((r / spt) * lanes * spt + l * spt + r % spt) mod n`. Small blocks are
//! replicated over lanes (the `mod n`); then lane `l` owns its elements only
//! when `l * spt < n`.

use std::fmt;

/// How a block of `n` elements is spread over `lanes` lanes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct BlockedLayout {
    pub n: u32,
    pub lanes: u32,
    pub spt: u32,
}

impl BlockedLayout {
    pub fn new(n: u32, lanes: u32) -> BlockedLayout {
        BlockedLayout::with_max(n, lanes, 4)
    }

    /// At most `max_spt` contiguous elements per lane (16 bytes of the
    /// function's narrowest memory element: 8 for f16, 16 for i8).
    pub fn with_max(n: u32, lanes: u32, max_spt: u32) -> BlockedLayout {
        let spt = if lanes == 1 {
            n
        } else {
            (n / lanes).clamp(1, max_spt.max(1))
        };
        BlockedLayout { n, lanes, spt }
    }

    /// Elements each lane holds.
    pub fn per_lane(&self) -> u32 {
        self.spt.max(self.n / self.lanes)
    }

    /// The element lane `lane` holds in register `reg`.
    pub fn element(&self, lane: u32, reg: u32) -> u32 {
        let (l, r, s) = (u64::from(lane), u64::from(reg), u64::from(self.spt));
        (((r / s) * u64::from(self.lanes) * s + l * s + r % s) % u64::from(self.n)) as u32
    }

    /// Where bit `bit` of an element's flat index is kept (for `bit`
    /// below `log2(n)`): the low bits pick a register within a lane's run,
    /// the next ones the lane, the high ones the run (so a register again).
    pub fn index_bit(&self, bit: u32) -> IndexBit {
        let run_bits = self.spt.trailing_zeros();
        let lane_bits = self.lanes.trailing_zeros();
        if bit < run_bits {
            IndexBit::Register(bit)
        } else if bit < run_bits + lane_bits {
            IndexBit::Lane(bit - run_bits)
        } else {
            IndexBit::Register(bit - lane_bits)
        }
    }

    /// The layout per dimension of a block of `shape` (row-major, whose
    /// element count is `n`) on waves of `wave` lanes, in Triton's terms
    /// (a blocked layout with order `[rank - 1, ..., 0]`): how many
    /// contiguous elements of each dimension a lane holds, how the lanes
    /// of a wave and the waves spread over the dimensions, and how many
    /// times that tile repeats along each dimension.
    pub fn dims(&self, shape: &[u32], wave: u32) -> BlockedDims {
        let rank = shape.len();
        let mut d = BlockedDims {
            size_per_lane: vec![1; rank],
            lanes_per_wave: vec![1; rank],
            waves: vec![1; rank],
            repeats: vec![1; rank],
        };
        let run_bits = self.spt.trailing_zeros();
        let wave_bits = wave.max(1).trailing_zeros();
        let mut lo = 0;
        for dim in (0..rank).rev() {
            let bits = shape[dim].trailing_zeros();
            for b in lo..lo + bits {
                let slot = match self.index_bit(b) {
                    IndexBit::Register(q) if q < run_bits => &mut d.size_per_lane,
                    IndexBit::Register(_) => &mut d.repeats,
                    IndexBit::Lane(j) if j < wave_bits => &mut d.lanes_per_wave,
                    IndexBit::Lane(_) => &mut d.waves,
                };
                slot[dim] *= 2;
            }
            lo += bits;
        }
        d
    }

    /// Dist IR text of this layout for a block of `shape` on waves of
    /// `wave` lanes.
    pub fn describe(&self, shape: &[u32], wave: u32) -> String {
        let d = self.dims(shape, wave);
        let list = |v: &[u32]| v.iter().map(u32::to_string).collect::<Vec<_>>().join(", ");
        let order: Vec<String> = (0..shape.len()).rev().map(|i| i.to_string()).collect();
        format!(
            "#tk.blocked<{{size_per_lane = [{}], lanes_per_wave = [{}], waves = [{}], repeats = [{}], order = [{}], replicated = {}}}>",
            list(&d.size_per_lane),
            list(&d.lanes_per_wave),
            list(&d.waves),
            list(&d.repeats),
            order.join(", "),
            self.replicated()
        )
    }

    /// Whether several lanes hold the same element.
    pub fn replicated(&self) -> bool {
        u64::from(self.lanes) * u64::from(self.spt) > u64::from(self.n)
    }

    /// Whether `lane` is the first lane holding its elements.
    pub fn owns(&self, lane: u32) -> bool {
        u64::from(lane) * u64::from(self.spt) < u64::from(self.n)
    }
}

/// A blocked layout per dimension ([`BlockedLayout::dims`]).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BlockedDims {
    pub size_per_lane: Vec<u32>,
    pub lanes_per_wave: Vec<u32>,
    pub waves: Vec<u32>,
    pub repeats: Vec<u32>,
}

/// Where a bit of a block's flat element index is kept in a blocked
/// layout (every dimension, lane and run count is a power of two).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum IndexBit {
    /// This bit of the register index.
    Register(u32),
    /// This bit of the lane index.
    Lane(u32),
}

/// A family of AMD matrix instructions, by the accumulator tile one
/// instruction computes per wave and how that tile and the operand
/// fragments are spread over the wave's lanes (AMD's documented mappings).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum MatrixFamily {
    /// CDNA `v_mfma_*_32x32xK` on waves of 64 lanes: lane `l` register `r`
    /// of the 32×32 tile holds row `8 * (r / 4) + 4 * (l / 32) + r % 4`,
    /// column `l % 32`; lane `l` holds `K / 2` consecutive `k` of row
    /// `l % 32` of `a` (and column `l % 32` of `b`), from `k = (K / 2) * (l / 32)`.
    Mfma32,
    /// CDNA `v_mfma_*_16x16xK` on waves of 64 lanes: lane `l` register `r`
    /// of the 16×16 tile holds row `4 * (l / 16) + r`, column `l % 16`;
    /// lane `l` holds `K / 4` consecutive `k` of row `l % 16` of `a` (and
    /// column `l % 16` of `b`), from `k = (K / 4) * (l / 16)`.
    Mfma16,
    /// RDNA3 `v_wmma_*_16x16x16` on waves of 32 lanes: lane `l` register
    /// `r` of the 16×16 tile holds row `2 * r + l / 16`, column `l % 16`;
    /// lane `l` holds all 16 `k` of row `l % 16` of `a` (and column
    /// `l % 16` of `b`), both halves of the wave the same.
    Wmma16,
}

impl MatrixFamily {
    /// `mfma` or `wmma`, as Dist IR prints the layout.
    pub fn name(self) -> &'static str {
        match self {
            MatrixFamily::Mfma32 | MatrixFamily::Mfma16 => "mfma",
            MatrixFamily::Wmma16 => "wmma",
        }
    }

    /// Rows (and columns) of the accumulator tile.
    pub fn tile(self) -> u32 {
        match self {
            MatrixFamily::Mfma32 => 32,
            MatrixFamily::Mfma16 | MatrixFamily::Wmma16 => 16,
        }
    }

    /// Lanes of the wave the instruction runs on.
    pub fn wave(self) -> u32 {
        match self {
            MatrixFamily::Mfma32 | MatrixFamily::Mfma16 => 64,
            MatrixFamily::Wmma16 => 32,
        }
    }

    /// Accumulator registers per lane per tile.
    pub fn regs(self) -> u32 {
        self.tile() * self.tile() / self.wave()
    }

    /// The tile row of lane `l` (of its wave), register `r`: a part from
    /// the lane's group of `tile` lanes ("half" of the wave for 32×32 and
    /// WMMA, quarter for 16×16 MFMA) plus a part from the register.
    pub fn row(self, l: u32, r: u32) -> u32 {
        self.row_of_half(l / self.tile()) + self.row_of_reg(r)
    }

    /// The lane half's part of [`MatrixFamily::row`].
    pub fn row_of_half(self, half: u32) -> u32 {
        match self {
            MatrixFamily::Mfma32 | MatrixFamily::Mfma16 => 4 * half,
            MatrixFamily::Wmma16 => half,
        }
    }

    /// The register's part of [`MatrixFamily::row`].
    pub fn row_of_reg(self, r: u32) -> u32 {
        match self {
            MatrixFamily::Mfma32 => 8 * (r / 4) + r % 4,
            MatrixFamily::Mfma16 => r,
            MatrixFamily::Wmma16 => 2 * r,
        }
    }

    /// Operand elements per lane (its fragment) of an instruction with
    /// `k` products per output.
    pub fn fragment(self, k: u32) -> u32 {
        match self {
            MatrixFamily::Mfma32 => k / 2,
            MatrixFamily::Mfma16 => k / 4,
            MatrixFamily::Wmma16 => k,
        }
    }

    /// The first `k` of lane `l`'s fragment.
    pub fn fragment_k(self, l: u32, k: u32) -> u32 {
        match self {
            MatrixFamily::Mfma32 => (k / 2) * (l / 32),
            MatrixFamily::Mfma16 => (k / 4) * (l / 16),
            MatrixFamily::Wmma16 => 0,
        }
    }

    /// The lane (of the wave) and fragment element holding row (of `a`;
    /// column of `b`) `i`, step `kk` of an instruction with `k` products.
    pub fn operand_lane(self, i: u32, kk: u32, k: u32) -> (u32, u32) {
        let len = self.fragment(k);
        (i + self.tile() * (kk / len), kk % len)
    }
}

/// One matrix instruction: its family and products per output (`K`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct MatrixInstr {
    pub family: MatrixFamily,
    pub k: u32,
}

impl MatrixInstr {
    /// Bytes of one lane's fragment of `input` elements.
    pub fn fragment_bytes(&self, input: crate::ScalarType) -> u32 {
        self.family.fragment(self.k) * input.bytes()
    }
}

/// The accumulator layout of matrix instruction `instr` for an `[m, n]`
/// block over waves arranged `waves_m × waves_n`. Wave `(wm, wn)` holds
/// `tiles_m × tiles_n` tiles: tile `(tm, tn)` covers rows
/// `(wm * tiles_m + tm) * T ..` and columns `(wn * tiles_n + tn) * T ..`
/// (`T` the family's tile) and sits in registers
/// `(tm * tiles_n + tn) * R ..` (`R` its registers per tile); within a
/// tile, the family's mapping, or with `transposed` its transpose (the
/// instruction run with its operands swapped computes `(a b)^T`: a lane
/// then holds one row and several columns of it, so reductions along rows
/// stay mostly within the lane, as Triton's transposed MFMA layout for
/// attention does).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct MatrixLayout {
    pub instr: MatrixInstr,
    pub m: u32,
    pub n: u32,
    pub waves_m: u32,
    pub waves_n: u32,
    pub transposed: bool,
}

impl MatrixLayout {
    /// The layout for an `[m, n]` accumulator over `waves` waves, if every
    /// wave gets whole tiles.
    pub fn for_block(instr: MatrixInstr, m: u32, n: u32, waves: u32) -> Option<MatrixLayout> {
        let t = instr.family.tile();
        if !m.is_multiple_of(t) || !n.is_multiple_of(t) || !waves.is_power_of_two() {
            return None;
        }
        // As square as the block allows, more waves along the rows.
        let mut waves_m = 1;
        let mut waves_n = 1;
        while waves_m * waves_n < waves {
            if waves_m <= waves_n && m / t >= waves_m * 2 {
                waves_m *= 2;
            } else if n / t >= waves_n * 2 {
                waves_n *= 2;
            } else if m / t >= waves_m * 2 {
                waves_m *= 2;
            } else {
                return None;
            }
        }
        Some(MatrixLayout {
            instr,
            m,
            n,
            waves_m,
            waves_n,
            transposed: false,
        })
    }

    /// The transposed layout for an `[m, n]` accumulator with every wave
    /// along the rows (Triton's choice for attention: each wave owns whole
    /// rows, so row reductions never cross waves), if every wave gets
    /// whole tiles.
    pub fn rows_per_wave(instr: MatrixInstr, m: u32, n: u32, waves: u32) -> Option<MatrixLayout> {
        let t = instr.family.tile();
        if !m.is_multiple_of(t) || !n.is_multiple_of(t) || !waves.is_power_of_two() || m / t < waves {
            return None;
        }
        Some(MatrixLayout {
            instr,
            m,
            n,
            waves_m: waves,
            waves_n: 1,
            transposed: true,
        })
    }

    pub fn family(&self) -> MatrixFamily {
        self.instr.family
    }

    pub fn tiles_m(&self) -> u32 {
        self.m / self.family().tile() / self.waves_m
    }

    pub fn tiles_n(&self) -> u32 {
        self.n / self.family().tile() / self.waves_n
    }

    /// Registers per lane.
    pub fn per_lane(&self) -> u32 {
        self.tiles_m() * self.tiles_n() * self.family().regs()
    }

    /// Where bit `bit` of an element's flat (row-major) index is kept,
    /// for `bit` below `log2(m * n)`: every bit is one register bit or one
    /// lane bit (a matrix layout permutes index bits; nothing repeats).
    /// Column bits: the tile's column is the lane within its group of
    /// `T` lanes, then the tile along the row (register bits above the
    /// tile's own), then the wave along the row. Row bits: the tile's row
    /// from registers and the lane group as the family says, then the
    /// tile along the column, then the wave along the column.
    pub fn index_bit(&self, bit: u32) -> IndexBit {
        let fam = self.family();
        let log = |x: u32| x.trailing_zeros();
        let (t, regs, wave) = (log(fam.tile()), log(fam.regs()), log(fam.wave()));
        let (tiles_n, tiles_m, waves_n) = (log(self.tiles_n()), log(self.tiles_m()), log(self.waves_n));
        let col_bits = log(self.n);
        // Within a tile: the lane's column bits, or the family's row map.
        let lane_part = |bit: u32| IndexBit::Lane(bit);
        let family_part = |row_bit: u32| {
            // The register or lane-group bit whose contribution is this
            // power of two (the family's row maps are sums of distinct
            // powers of two).
            let target = 1 << row_bit;
            for q in 0..regs {
                if fam.row_of_reg(1 << q) == target {
                    return IndexBit::Register(q);
                }
            }
            let groups = log(fam.wave() / fam.tile());
            for q in 0..groups {
                if fam.row_of_half(1 << q) == target {
                    return IndexBit::Lane(t + q);
                }
            }
            unreachable!("every row bit of a matrix tile is a register or lane-group bit");
        };
        let (tile_col, tile_row): (&dyn Fn(u32) -> IndexBit, &dyn Fn(u32) -> IndexBit) = if self.transposed {
            (&family_part, &lane_part)
        } else {
            (&lane_part, &family_part)
        };
        if bit < col_bits {
            return if bit < t {
                tile_col(bit)
            } else if bit < t + tiles_n {
                IndexBit::Register(regs + bit - t)
            } else {
                IndexBit::Lane(wave + bit - t - tiles_n)
            };
        }
        let row_bit = bit - col_bits;
        if row_bit < t {
            return tile_row(row_bit);
        }
        if row_bit < t + tiles_m {
            IndexBit::Register(regs + tiles_n + row_bit - t)
        } else {
            IndexBit::Lane(wave + waves_n + row_bit - t - tiles_m)
        }
    }

    /// The register bits (a mask) that hold coordinates along `dim` (0:
    /// rows, 1: columns): the bits a reduction or a slice along `dim`
    /// folds.
    pub fn axis_register_bits(&self, dim: u32) -> u32 {
        let (col_bits, row_bits) = (self.n.trailing_zeros(), self.m.trailing_zeros());
        let axis = if dim == 1 {
            0..col_bits
        } else {
            col_bits..col_bits + row_bits
        };
        axis.filter_map(|b| match self.index_bit(b) {
            IndexBit::Register(q) => Some(1u32 << q),
            IndexBit::Lane(_) => None,
        })
        .fold(0, |a, q| a | q)
    }

    /// The (row, column) lane `lane` (of the program) holds in `reg`.
    pub fn element(&self, lane: u32, reg: u32) -> (u32, u32) {
        let fam = self.family();
        let (t, regs) = (fam.tile(), fam.regs());
        let (wave, l) = (lane / fam.wave(), lane % fam.wave());
        let (wm, wn) = (wave / self.waves_n, wave % self.waves_n);
        let (tile, r) = (reg / regs, reg % regs);
        let (tm, tn) = (tile / self.tiles_n(), tile % self.tiles_n());
        let (tile_row, tile_col) = if self.transposed {
            (l % t, fam.row(l, r))
        } else {
            (fam.row(l, r), l % t)
        };
        let row = (wm * self.tiles_m() + tm) * t + tile_row;
        let col = (wn * self.tiles_n() + tn) * t + tile_col;
        (row, col)
    }
}

/// The layout of a value in Dist IR.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Layout {
    /// A scalar: every lane holds the same value.
    Uniform,
    Blocked(BlockedLayout),
    /// A matrix-instruction accumulator (only `tk.dot` results, the loop
    /// values that carry them, and conversions back to blocked).
    Matrix(MatrixLayout),
    /// The whole block in the program's shared memory (LDS), at each
    /// element's row-major index; valid until the next conversion.
    Shared,
    /// A reduction's result along `dim` kept in the layout of the block it
    /// reduced (`parent`, blocked or a matrix accumulator): each register
    /// holds the result of its element's row, so it repeats along `dim`
    /// and broadcasting it back along `dim` moves nothing (Triton's slice
    /// layout, with the repetition kept).
    Slice {
        parent: RegisterLayout,
        dim: u32,
    },
}

/// A layout that keeps a block in registers: every bit of an element's
/// flat index is one register bit or one lane bit
/// ([`RegisterLayout::index_bit`]), which is all that reductions and
/// scans along an axis need to know.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum RegisterLayout {
    Blocked(BlockedLayout),
    Matrix(MatrixLayout),
}

impl RegisterLayout {
    /// Elements (registers) each lane holds.
    pub fn per_lane(&self) -> u32 {
        match self {
            RegisterLayout::Blocked(b) => b.per_lane(),
            RegisterLayout::Matrix(m) => m.per_lane(),
        }
    }

    /// Where bit `bit` of an element's flat index is kept.
    pub fn index_bit(&self, bit: u32) -> IndexBit {
        match self {
            RegisterLayout::Blocked(b) => b.index_bit(bit),
            RegisterLayout::Matrix(m) => m.index_bit(bit),
        }
    }

    /// Elements in the block.
    pub fn numel(&self) -> u32 {
        match self {
            RegisterLayout::Blocked(b) => b.n,
            RegisterLayout::Matrix(m) => m.m * m.n,
        }
    }

    /// How many consecutive elements (of the flat index, at most `2^bits`)
    /// a lane holds in consecutive registers: 2 to the number of lowest
    /// index bits that are the same register bits.
    pub fn register_run(&self, bits: u32) -> u32 {
        1 << (0..bits)
            .take_while(|b| self.index_bit(*b) == IndexBit::Register(*b))
            .count()
    }
}

impl From<RegisterLayout> for Layout {
    fn from(r: RegisterLayout) -> Layout {
        match r {
            RegisterLayout::Blocked(b) => Layout::Blocked(b),
            RegisterLayout::Matrix(m) => Layout::Matrix(m),
        }
    }
}

impl Layout {
    /// The registers-only layout a value in this layout is held in: its
    /// own, or a slice's parent.
    pub fn registers(&self) -> Option<RegisterLayout> {
        match *self {
            Layout::Blocked(b) => Some(RegisterLayout::Blocked(b)),
            Layout::Matrix(m) => Some(RegisterLayout::Matrix(m)),
            Layout::Slice { parent, .. } => Some(parent),
            Layout::Uniform | Layout::Shared => None,
        }
    }
}

impl fmt::Display for Layout {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Layout::Uniform => write!(f, "#tk.uniform"),
            Layout::Blocked(b) => write!(
                f,
                "#tk.blocked<{{elems_per_lane = {}, contiguous = {}, lanes = {}, replicated = {}}}>",
                b.per_lane(),
                b.spt,
                b.lanes,
                b.replicated()
            ),
            Layout::Matrix(m) => write!(
                f,
                "#tk.{}<{{instr = [{t}, {t}, {}], waves = [{}, {}], tiles_per_wave = [{}, {}]{}}}>",
                m.family().name(),
                m.instr.k,
                m.waves_m,
                m.waves_n,
                m.tiles_m(),
                m.tiles_n(),
                if m.transposed { ", transposed" } else { "" },
                t = m.family().tile(),
            ),
            Layout::Shared => write!(f, "#tk.shared"),
            Layout::Slice { parent, dim } => {
                write!(f, "#tk.slice<{{dim = {dim}, parent = {}}}>", Layout::from(*parent))
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const MFMA: MatrixInstr = MatrixInstr {
        family: MatrixFamily::Mfma32,
        k: 8,
    };
    const WMMA: MatrixInstr = MatrixInstr {
        family: MatrixFamily::Wmma16,
        k: 16,
    };
    const MFMA16: MatrixInstr = MatrixInstr {
        family: MatrixFamily::Mfma16,
        k: 16,
    };

    #[test]
    fn matrix_layouts_are_bijections() {
        for instr in [MFMA, WMMA, MFMA16] {
            let wave = instr.family.wave();
            for (m, n, waves) in [
                (32, 32, 1),
                (64, 64, 4),
                (128, 128, 4),
                (128, 64, 8),
                (256, 32, 4),
                (32, 128, 2),
            ] {
                let lay = MatrixLayout::for_block(instr, m, n, waves).expect("fits");
                assert_eq!(lay.waves_m * lay.waves_n, waves);
                assert_eq!(lay.per_lane() * wave * waves, m * n);
                let mut seen = vec![false; (m * n) as usize];
                for lane in 0..wave * waves {
                    for reg in 0..lay.per_lane() {
                        let (i, j) = lay.element(lane, reg);
                        assert!(i < m && j < n);
                        let e = (i * n + j) as usize;
                        assert!(!seen[e], "[{m}, {n}] over {waves} waves: ({i}, {j}) twice");
                        seen[e] = true;
                    }
                }
            }
        }
        // The instructions' own mappings: MFMA lane 33, register 5 of a
        // single tile is row 8 + 4 + 1, column 1; WMMA lane 17, register 3
        // is row 2 * 3 + 1, column 1.
        let one = MatrixLayout::for_block(MFMA, 32, 32, 1).unwrap();
        assert_eq!(one.element(33, 5), (13, 1));
        let one = MatrixLayout::for_block(WMMA, 16, 16, 1).unwrap();
        assert_eq!(one.element(17, 3), (7, 1));
        // 16×16 MFMA: lane 37, register 2 is row 4 * 2 + 2, column 5.
        let one = MatrixLayout::for_block(MFMA16, 16, 16, 1).unwrap();
        assert_eq!(one.element(37, 2), (10, 5));
        // Transposed: MFMA lane 33, register 5 is row 1, column 13.
        let one = MatrixLayout::rows_per_wave(MFMA, 32, 32, 1).unwrap();
        assert_eq!(one.element(33, 5), (1, 13));
        // Too small a block for the waves: no layout.
        assert_eq!(MatrixLayout::for_block(MFMA, 32, 32, 4), None);
        assert_eq!(MatrixLayout::for_block(MFMA, 48, 32, 1), None);
        assert!(MatrixLayout::for_block(WMMA, 48, 32, 1).is_some());
    }

    #[test]
    fn matrix_index_bits_are_where_the_layout_keeps_them() {
        for instr in [MFMA, WMMA, MFMA16] {
            let wave = instr.family.wave();
            for (m, n, waves, transposed) in [
                (32, 32, 1, false),
                (64, 64, 4, false),
                (128, 64, 4, false),
                (128, 128, 8, false),
                (32, 128, 2, false),
                (256, 32, 4, false),
                (32, 32, 1, true),
                (128, 64, 4, true),
                (128, 128, 4, true),
                (256, 32, 8, true),
            ] {
                let lay = if transposed {
                    MatrixLayout::rows_per_wave(instr, m, n, waves)
                } else {
                    MatrixLayout::for_block(instr, m, n, waves)
                }
                .expect("fits");
                let mut seen = vec![false; (m * n) as usize];
                let bits = (m * n).trailing_zeros();
                for lane in 0..wave * waves {
                    for reg in 0..lay.per_lane() {
                        let (i, j) = lay.element(lane, reg);
                        let e = i * n + j;
                        assert!(
                            !std::mem::replace(&mut seen[e as usize], true),
                            "{lay:?}: ({i}, {j}) twice"
                        );
                        for b in 0..bits {
                            let kept = match lay.index_bit(b) {
                                IndexBit::Register(q) => (reg >> q) & 1,
                                IndexBit::Lane(q) => (lane >> q) & 1,
                            };
                            assert_eq!((e >> b) & 1, kept, "{lay:?} lane {lane} reg {reg} bit {b}");
                        }
                    }
                }
            }
        }
    }

    #[test]
    fn operand_fragments_cover_each_row_once_per_wave_half() {
        // Every (row, k) of an instruction's `a` is in exactly the lanes
        // the family says, at the element it says.
        for (family, k) in [
            (MatrixFamily::Mfma32, 2),
            (MatrixFamily::Mfma32, 8),
            (MatrixFamily::Mfma32, 16),
            (MatrixFamily::Mfma16, 4),
            (MatrixFamily::Mfma16, 16),
            (MatrixFamily::Mfma16, 32),
            (MatrixFamily::Wmma16, 16),
        ] {
            let t = family.tile();
            for i in 0..t {
                for kk in 0..k {
                    let (lane, e) = family.operand_lane(i, kk, k);
                    assert!(lane < family.wave() && e < family.fragment(k));
                    assert_eq!(lane % t, i);
                    assert_eq!(family.fragment_k(lane, k) + e, kk);
                }
            }
        }
    }

    #[test]
    fn blocked_layouts_are_bijections_or_owned_replications() {
        for lanes in [1u32, 32, 64, 128, 256, 512] {
            for log_n in 0..14 {
                let n = 1u32 << log_n;
                let lay = BlockedLayout::new(n, lanes);
                // How many lanes hold each element, and how many owners.
                let mut holders = vec![0u32; n as usize];
                let mut owners = vec![0u32; n as usize];
                for l in 0..lanes {
                    for r in 0..lay.per_lane() {
                        let e = lay.element(l, r) as usize;
                        holders[e] += 1;
                        if lay.owns(l) {
                            owners[e] += 1;
                        }
                    }
                }
                assert!(
                    holders.iter().all(|h| *h >= 1),
                    "every element is held (n={n}, lanes={lanes})"
                );
                assert!(
                    owners.iter().all(|o| *o == 1),
                    "every element has one owner (n={n}, lanes={lanes})"
                );
                if !lay.replicated() {
                    assert!(holders.iter().all(|h| *h == 1), "a bijection (n={n}, lanes={lanes})");
                    assert!((0..lanes).all(|l| lay.owns(l)));
                }
            }
        }
        // Lanes hold 4 contiguous elements when there are enough.
        let lay = BlockedLayout::new(1024, 256);
        assert_eq!((lay.per_lane(), lay.element(3, 0), lay.element(3, 3)), (4, 12, 15));
        let lay = BlockedLayout::new(4096, 256);
        assert_eq!((lay.per_lane(), lay.element(1, 4)), (16, 1024 + 4));
    }

    #[test]
    fn per_dimension_description_multiplies_out() {
        // softmax_rows: 4 rows of 256 over 4 waves of 64, 4 per lane.
        let lay = BlockedLayout::new(1024, 256);
        let d = lay.dims(&[4, 256], 64);
        assert_eq!(
            (
                d.size_per_lane.clone(),
                d.lanes_per_wave.clone(),
                d.waves.clone(),
                d.repeats.clone()
            ),
            (vec![1, 4], vec![1, 64], vec![4, 1], vec![1, 1])
        );
        // Every dimension is covered exactly (or by replication).
        for (shape, lanes, wave) in [
            (vec![64u32, 2], 256u32, 64u32),
            (vec![8, 32, 16], 128, 32),
            (vec![2, 2], 64, 64),
        ] {
            let n: u32 = shape.iter().product();
            let lay = BlockedLayout::new(n, lanes);
            let d = lay.dims(&shape, wave);
            for i in 0..shape.len() {
                let covered = d.size_per_lane[i] * d.lanes_per_wave[i] * d.waves[i] * d.repeats[i];
                assert_eq!(covered, shape[i], "{shape:?} dim {i}: {d:?}");
            }
            let per_lane: u32 = d.size_per_lane.iter().zip(&d.repeats).map(|(a, b)| a * b).product();
            assert_eq!(per_lane, lay.per_lane(), "{shape:?}");
        }
    }

    #[test]
    fn index_bits_are_where_the_layout_keeps_them() {
        // Every bit of every element a lane holds is the register or lane
        // bit `index_bit` names (replicated lanes included).
        for lanes in [1u32, 32, 64, 256] {
            for log_n in 0..13 {
                for max in [1, 4, 8] {
                    let lay = BlockedLayout::with_max(1 << log_n, lanes, max);
                    for l in 0..lanes {
                        for r in 0..lay.per_lane() {
                            let e = lay.element(l, r);
                            for b in 0..log_n {
                                let kept = match lay.index_bit(b) {
                                    IndexBit::Register(q) => (r >> q) & 1,
                                    IndexBit::Lane(j) => (l >> j) & 1,
                                };
                                assert_eq!((e >> b) & 1, kept, "{lay:?} lane {l} reg {r} bit {b}");
                            }
                        }
                    }
                }
            }
        }
    }
}
