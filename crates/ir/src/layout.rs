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
        let spt = if lanes == 1 { n } else { (n / lanes).clamp(1, 4) };
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

/// The layout of a value in Dist IR.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Layout {
    /// A scalar: every lane holds the same value.
    Uniform,
    Blocked(BlockedLayout),
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
            Layout::Shared => write!(f, "#tk.shared"),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

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
