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

    /// Whether several lanes hold the same element.
    pub fn replicated(&self) -> bool {
        u64::from(self.lanes) * u64::from(self.spt) > u64::from(self.n)
    }

    /// Whether `lane` is the first lane holding its elements.
    pub fn owns(&self, lane: u32) -> bool {
        u64::from(lane) * u64::from(self.spt) < u64::from(self.n)
    }
}

/// The accumulator layout of AMD's 32×32×8 matrix instructions
/// (`v_mfma_f32_32x32x8f16` and its bf16 sibling) for an `[m, n]` block
/// over waves of 64 lanes arranged `waves_m × waves_n`. Wave `(wm, wn)`
/// holds `tiles_m × tiles_n` tiles of 32×32: tile `(tm, tn)` covers rows
/// `(wm * tiles_m + tm) * 32 ..` and columns `(wn * tiles_n + tn) * 32 ..`
/// and sits in registers `(tm * tiles_n + tn) * 16 ..`. Within a tile,
/// lane `l` register `r` holds row `8 * (r / 4) + 4 * (l / 32) + r % 4`,
/// column `l % 32` (AMD's documented mapping of the instruction's result).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct MfmaLayout {
    pub m: u32,
    pub n: u32,
    pub waves_m: u32,
    pub waves_n: u32,
}

impl MfmaLayout {
    /// The layout for an `[m, n]` accumulator over `waves` waves of 64
    /// lanes, if every wave gets whole 32×32 tiles.
    pub fn for_block(m: u32, n: u32, waves: u32) -> Option<MfmaLayout> {
        if !m.is_multiple_of(32) || !n.is_multiple_of(32) || !waves.is_power_of_two() {
            return None;
        }
        // As square as the block allows, more waves along the rows.
        let mut waves_m = 1;
        let mut waves_n = 1;
        while waves_m * waves_n < waves {
            if waves_m <= waves_n && m / 32 >= waves_m * 2 {
                waves_m *= 2;
            } else if n / 32 >= waves_n * 2 {
                waves_n *= 2;
            } else if m / 32 >= waves_m * 2 {
                waves_m *= 2;
            } else {
                return None;
            }
        }
        Some(MfmaLayout { m, n, waves_m, waves_n })
    }

    pub fn tiles_m(&self) -> u32 {
        self.m / 32 / self.waves_m
    }

    pub fn tiles_n(&self) -> u32 {
        self.n / 32 / self.waves_n
    }

    /// Registers per lane.
    pub fn per_lane(&self) -> u32 {
        self.tiles_m() * self.tiles_n() * 16
    }

    /// The (row, column) lane `lane` (of the program) holds in `reg`.
    pub fn element(&self, lane: u32, reg: u32) -> (u32, u32) {
        let (wave, l) = (lane / 64, lane % 64);
        let (wm, wn) = (wave / self.waves_n, wave % self.waves_n);
        let (tile, r) = (reg / 16, reg % 16);
        let (tm, tn) = (tile / self.tiles_n(), tile % self.tiles_n());
        let row = (wm * self.tiles_m() + tm) * 32 + 8 * (r / 4) + 4 * (l / 32) + r % 4;
        let col = (wn * self.tiles_n() + tn) * 32 + l % 32;
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
    Mfma(MfmaLayout),
    /// The whole block in the program's shared memory (LDS), at each
    /// element's row-major index; valid until the next conversion.
    Shared,
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
            Layout::Mfma(m) => write!(
                f,
                "#tk.mfma<{{instr = [32, 32, 8], waves = [{}, {}], tiles_per_wave = [{}, {}]}}>",
                m.waves_m,
                m.waves_n,
                m.tiles_m(),
                m.tiles_n()
            ),
            Layout::Shared => write!(f, "#tk.shared"),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn mfma_layouts_are_bijections() {
        for (m, n, waves) in [
            (32, 32, 1),
            (64, 64, 4),
            (128, 128, 4),
            (128, 64, 8),
            (256, 32, 4),
            (32, 128, 2),
        ] {
            let lay = MfmaLayout::for_block(m, n, waves).expect("fits");
            assert_eq!(lay.waves_m * lay.waves_n, waves);
            assert_eq!(lay.per_lane() * 64 * waves, m * n);
            let mut seen = vec![false; (m * n) as usize];
            for lane in 0..64 * waves {
                for reg in 0..lay.per_lane() {
                    let (i, j) = lay.element(lane, reg);
                    assert!(i < m && j < n);
                    let e = (i * n + j) as usize;
                    assert!(!seen[e], "[{m}, {n}] over {waves} waves: ({i}, {j}) twice");
                    seen[e] = true;
                }
            }
        }
        // The instruction's own mapping: lane 33, register 5 of a single
        // tile is row 8 + 4 + 1, column 1.
        let one = MfmaLayout::for_block(32, 32, 1).unwrap();
        assert_eq!(one.element(33, 5), (13, 1));
        // Too small a block for the waves: no layout.
        assert_eq!(MfmaLayout::for_block(32, 32, 4), None);
        assert_eq!(MfmaLayout::for_block(48, 32, 1), None);
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
}
