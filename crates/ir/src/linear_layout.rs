//! Linear layouts: every layout as a linear map over GF(2) (Triton's
//! `LinearLayout`, "Linear Layouts: Robust Code Generation of Efficient
//! Tensor Computation Using F2", 2025).
//!
//! A [`LinearLayout`] has named *input* dimensions (`register`, `lane`,
//! `wave` for values in registers; `offset` for shared memory), each a
//! number of bits, and named *output* dimensions (the block's dimensions
//! `dim0`, `dim1`, ..., each a power-of-two size). Each input bit has a
//! *basis vector*: one output coordinate per output dimension. An input
//! (register `r`, lane `l`, wave `w`) maps to the XOR of the basis vectors
//! of its set bits. A zero basis vector means the bit does not move the
//! element: the data is broadcast (replicated) along that bit. `register`
//! counts values, not 32-bit registers (two f16 in one VGPR are registers
//! 0 and 1), and `lane` is the lane within its wave.
//!
//! What this module guarantees:
//! - Every constructor validates its input and returns
//!   [`LinearLayoutError`] rather than panicking: sizes must be powers of
//!   two, names identifiers, coordinates inside their dimension.
//! - [`LinearLayout::from_blocked`], [`LinearLayout::from_matrix`] and
//!   [`LinearLayout::matrix_operand`] agree with
//!   [`BlockedLayout::element`], [`MatrixLayout::element`] and
//!   [`MatrixFamily::fragment_k`] on every lane and register, and the
//!   matrix maps agree cell by cell with AMD's register maps
//!   (`shared/data/matrix-layouts`, tested in `tests/linear_layout_csv.rs`).
//! - The algebra is exact: [`LinearLayout::compose`] is composition of
//!   maps; [`LinearLayout::pseudo_invert`] is a right inverse on the image
//!   that picks the numerically lowest input among those holding an
//!   element (input dimensions in order, the first one least
//!   significant; so lane 0 and wave 0 for broadcasts); and
//!   [`LinearLayout::conversion_kind`] decides from the subspaces alone
//!   (not from what kind of layout either side came from) whether a
//!   conversion moves nothing, only registers, only lanes within a wave,
//!   or data across waves.
//! - [`fmt::Display`] text parses back ([`std::str::FromStr`]) to an equal
//!   layout.

use std::fmt;
use std::str::FromStr;

use crate::layout::{BlockedLayout, IndexBit, MatrixFamily, MatrixLayout};

/// The input dimension of a value's registers (values, not 32-bit words).
pub const REGISTER: &str = "register";
/// The input dimension of lanes within a wave.
pub const LANE: &str = "lane";
/// The input dimension of a program's waves.
pub const WAVE: &str = "wave";
/// The input dimension of shared-memory element offsets.
pub const OFFSET: &str = "offset";

/// The standard name of a block's output dimension `i`: `dim{i}`.
pub fn dim_name(i: usize) -> String {
    format!("dim{i}")
}

/// Why a linear layout could not be built or an operation is undefined.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum LinearLayoutError {
    #[error("{what} is {value}, not a power of two")]
    NotPowerOfTwo { what: String, value: u64 },
    #[error("`{0}` is not a dimension name (letters, digits, `_`; not starting with a digit)")]
    BadName(String),
    #[error("dimension `{0}` appears twice")]
    DuplicateDim(String),
    #[error("no dimension `{0}`")]
    UnknownDim(String),
    #[error("{0}")]
    Mismatch(String),
    #[error("more than 64 {0} bits in all")]
    TooManyBits(&'static str),
    #[error("the layout is not invertible: {0}")]
    NotInvertible(String),
    #[error("line {line}: {message}")]
    Parse { line: usize, message: String },
}

type Result<T> = std::result::Result<T, LinearLayoutError>;

/// Which data a layout conversion must move, cheapest first.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum ConversionKind {
    /// The maps are equal: nothing moves.
    None,
    /// Every lane already holds every element it needs: registers are
    /// renamed, copied or permuted within the lane.
    RegisterPermute,
    /// Every wave already holds every element its lanes need: lanes
    /// exchange data within the wave (DPP, `ds_bpermute`, `v_permlane*`).
    WithinWave,
    /// Some wave needs elements only other waves hold: through shared
    /// memory.
    AcrossWaves,
}

/// Which operand of a matrix instruction ([`LinearLayout::matrix_operand`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum MatrixOperand {
    /// `a`, `[tile, k]` (row `i`, step `k`).
    A,
    /// `b`, `[k, tile]` (step `k`, column `j`).
    B,
}

/// One input dimension: its name and a basis vector per bit.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
struct InDim {
    name: String,
    bases: Vec<Vec<u32>>,
}

/// One output dimension: its name and `log2` of its size.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
struct OutDim {
    name: String,
    log2: u32,
}

/// A linear map over GF(2) from named input bits to named output
/// coordinates (see the module documentation).
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct LinearLayout {
    ins: Vec<InDim>,
    outs: Vec<OutDim>,
}

fn check_name(name: &str) -> Result<()> {
    let mut chars = name.chars();
    let ok = matches!(chars.next(), Some(c) if c.is_ascii_alphabetic() || c == '_')
        && chars.all(|c| c.is_ascii_alphanumeric() || c == '_');
    if ok {
        Ok(())
    } else {
        Err(LinearLayoutError::BadName(name.to_string()))
    }
}

fn log2_of(what: impl Fn() -> String, value: u64) -> Result<u32> {
    if value.is_power_of_two() {
        Ok(value.trailing_zeros())
    } else {
        Err(LinearLayoutError::NotPowerOfTwo { what: what(), value })
    }
}

/// A basis of the span of some columns (out-bit masks), reduced so that
/// each pivot bit appears in exactly one basis vector, with each basis
/// vector's combination of the columns; and the kernel: combinations that
/// map to zero, one per column that depends on earlier ones (its highest
/// bit is that column).
struct Elimination {
    /// (vector, pivot bit, combination of columns).
    basis: Vec<(u64, u32, u64)>,
    kernel: Vec<u64>,
    /// Columns (by index) that depend on earlier ones.
    free: u64,
}

impl Elimination {
    fn new(cols: &[u64]) -> Elimination {
        let mut e = Elimination {
            basis: Vec::new(),
            kernel: Vec::new(),
            free: 0,
        };
        for (j, &c) in cols.iter().enumerate() {
            let (v, comb) = e.reduce(c, 1u64 << j);
            if v == 0 {
                e.kernel.push(comb);
                e.free |= 1u64 << j;
            } else {
                let pivot = 63 - v.leading_zeros();
                for b in &mut e.basis {
                    if b.0 >> pivot & 1 == 1 {
                        b.0 ^= v;
                        b.2 ^= comb;
                    }
                }
                e.basis.push((v, pivot, comb));
            }
        }
        e
    }

    /// `v` with every pivot bit cleared, and the combination (started at
    /// `comb`) that clearing added.
    fn reduce(&self, mut v: u64, mut comb: u64) -> (u64, u64) {
        for &(b, p, c) in &self.basis {
            if v >> p & 1 == 1 {
                v ^= b;
                comb ^= c;
            }
        }
        (v, comb)
    }

    fn contains(&self, v: u64) -> bool {
        self.reduce(v, 0).0 == 0
    }

    fn rank(&self) -> u32 {
        self.basis.len() as u32
    }
}

impl LinearLayout {
    /// A layout from its bases: `ins` names each input dimension and gives
    /// one basis vector per bit (one coordinate per output dimension, in
    /// the order of `outs`); `outs` names each output dimension and its
    /// size (a power of two).
    pub fn new<S: Into<String>, T: Into<String>>(
        ins: impl IntoIterator<Item = (S, Vec<Vec<u32>>)>,
        outs: impl IntoIterator<Item = (T, u32)>,
    ) -> Result<LinearLayout> {
        let mut out_dims = Vec::new();
        for (name, size) in outs {
            let name = name.into();
            let log2 = log2_of(|| format!("the size of output dimension `{name}`"), u64::from(size))?;
            out_dims.push(OutDim { name, log2 });
        }
        let in_dims = ins
            .into_iter()
            .map(|(name, bases)| InDim {
                name: name.into(),
                bases,
            })
            .collect();
        LinearLayout::checked(in_dims, out_dims)
    }

    fn checked(ins: Vec<InDim>, outs: Vec<OutDim>) -> Result<LinearLayout> {
        let mut names: Vec<&str> = Vec::new();
        for name in ins
            .iter()
            .map(|d| d.name.as_str())
            .chain(outs.iter().map(|d| d.name.as_str()))
        {
            check_name(name)?;
        }
        for group in [
            ins.iter().map(|d| d.name.as_str()).collect::<Vec<_>>(),
            outs.iter().map(|d| d.name.as_str()).collect(),
        ] {
            names.clear();
            for name in group {
                if names.contains(&name) {
                    return Err(LinearLayoutError::DuplicateDim(name.to_string()));
                }
                names.push(name);
            }
        }
        if outs.iter().map(|d| u64::from(d.log2)).sum::<u64>() > 64 {
            return Err(LinearLayoutError::TooManyBits("output"));
        }
        if outs.iter().any(|d| d.log2 > 31) {
            return Err(LinearLayoutError::TooManyBits("output"));
        }
        if ins.iter().map(|d| d.bases.len()).sum::<usize>() > 64 {
            return Err(LinearLayoutError::TooManyBits("input"));
        }
        if let Some(d) = ins.iter().find(|d| d.bases.len() > 31) {
            return Err(LinearLayoutError::Mismatch(format!(
                "input dimension `{}` has {} bits, more than 31",
                d.name,
                d.bases.len()
            )));
        }
        for d in &ins {
            for (bit, basis) in d.bases.iter().enumerate() {
                if basis.len() != outs.len() {
                    return Err(LinearLayoutError::Mismatch(format!(
                        "{}={} has {} coordinates for {} output dimensions",
                        d.name,
                        1u64 << bit,
                        basis.len(),
                        outs.len()
                    )));
                }
                for (c, o) in basis.iter().zip(&outs) {
                    if u64::from(*c) >> o.log2 != 0 {
                        return Err(LinearLayoutError::Mismatch(format!(
                            "{}={} moves {} to {c}, outside its size {}",
                            d.name,
                            1u64 << bit,
                            o.name,
                            1u64 << o.log2
                        )));
                    }
                }
            }
        }
        Ok(LinearLayout { ins, outs })
    }

    /// No input and no output dimensions: the map of a scalar.
    pub fn empty() -> LinearLayout {
        LinearLayout {
            ins: Vec::new(),
            outs: Vec::new(),
        }
    }

    /// `in_dim` of `size` mapped onto `out_dim` of the same size, value
    /// for value.
    pub fn identity_1d(size: u32, in_dim: &str, out_dim: &str) -> Result<LinearLayout> {
        let bits = log2_of(|| format!("the size of `{in_dim}`"), u64::from(size))?;
        let bases = (0..bits).map(|b| vec![1u32 << b]).collect();
        LinearLayout::new([(in_dim, bases)], [(out_dim, size)])
    }

    /// `in_dim` of `size` all mapped to coordinate 0 of `out_dim` (of size
    /// 1): the data is broadcast along every bit of `in_dim`.
    pub fn zeros_1d(size: u32, in_dim: &str, out_dim: &str) -> Result<LinearLayout> {
        let bits = log2_of(|| format!("the size of `{in_dim}`"), u64::from(size))?;
        let bases = (0..bits).map(|_| vec![0u32]).collect();
        LinearLayout::new([(in_dim, bases)], [(out_dim, 1)])
    }

    /// `in_dim` as the row-major index (last dimension fastest) of a block
    /// of `shape`, onto `dim0`, `dim1`, ...: e.g. shared memory `offset`
    /// with no swizzling or padding.
    pub fn row_major(in_dim: &str, shape: &[u32]) -> Result<LinearLayout> {
        let coords = flat_coords(shape)?;
        let outs: Vec<(String, u32)> = shape.iter().enumerate().map(|(i, &s)| (dim_name(i), s)).collect();
        LinearLayout::new([(in_dim, coords)], outs)
    }

    /// Triton's `*`: `self` then `outer`. Input dimensions of both
    /// concatenate, `outer`'s bits above `self`'s; output dimensions of
    /// both multiply, `outer`'s coordinates above `self`'s (on disjoint
    /// dimensions, the plain product of the two maps).
    pub fn product(&self, outer: &LinearLayout) -> Result<LinearLayout> {
        let mut outs = self.outs.clone();
        for o in &outer.outs {
            match outs.iter_mut().find(|d| d.name == o.name) {
                Some(d) => d.log2 += o.log2,
                None => outs.push(o.clone()),
            }
        }
        let place = |from: &LinearLayout, basis: &[u32], shift: bool| -> Vec<u32> {
            let mut v = vec![0u32; outs.len()];
            for (c, o) in basis.iter().zip(&from.outs) {
                let i = outs.iter().position(|d| d.name == o.name).unwrap_or(0);
                let by = if shift { self.out_log2(&o.name).unwrap_or(0) } else { 0 };
                v[i] = c.checked_shl(by).unwrap_or(0);
            }
            v
        };
        let mut ins: Vec<InDim> = self
            .ins
            .iter()
            .map(|d| InDim {
                name: d.name.clone(),
                bases: d.bases.iter().map(|b| place(self, b, false)).collect(),
            })
            .collect();
        for d in &outer.ins {
            let moved: Vec<Vec<u32>> = d.bases.iter().map(|b| place(outer, b, true)).collect();
            match ins.iter_mut().find(|i| i.name == d.name) {
                Some(i) => i.bases.extend(moved),
                None => ins.push(InDim {
                    name: d.name.clone(),
                    bases: moved,
                }),
            }
        }
        LinearLayout::checked(ins, outs)
    }

    /// The layout of `b` (over `b.lanes` lanes, the program's) for a block
    /// of `shape` (row-major, `b.n` elements) on waves of `wave` lanes: bit
    /// `i` of the flat element index is where [`BlockedLayout::index_bit`]
    /// keeps it; lane bits below `log2(wave)` are `lane`, the rest `wave`;
    /// register and lane bits above the block (`lanes * spt > n`) are zero
    /// (broadcast).
    pub fn from_blocked(b: &BlockedLayout, shape: &[u32], wave: u32) -> Result<LinearLayout> {
        log2_of(|| "the blocked layout's element count".into(), u64::from(b.n))?;
        let lane_bits = log2_of(|| "the blocked layout's lane count".into(), u64::from(b.lanes))?;
        log2_of(|| "the blocked layout's contiguous run".into(), u64::from(b.spt))?;
        let wave_size_bits = log2_of(|| "the wave size".into(), u64::from(wave))?;
        let n: u64 = shape.iter().map(|&s| u64::from(s)).product();
        if n != u64::from(b.n) {
            return Err(LinearLayoutError::Mismatch(format!(
                "a block of shape {shape:?} has {n} elements, the blocked layout {}",
                b.n
            )));
        }
        let coords = flat_coords(shape)?;
        let reg_bits = b.per_lane().trailing_zeros();
        let mut regs = vec![vec![0u32; shape.len()]; reg_bits as usize];
        let mut lanes = vec![vec![0u32; shape.len()]; lane_bits as usize];
        for (bit, c) in coords.into_iter().enumerate() {
            let slot = match b.index_bit(bit as u32) {
                IndexBit::Register(q) => regs.get_mut(q as usize),
                IndexBit::Lane(j) => lanes.get_mut(j as usize),
            };
            *slot.ok_or_else(|| {
                LinearLayoutError::Mismatch(format!("{b:?}: index bit {bit} has no register or lane"))
            })? = c;
        }
        let waves = lanes.split_off(lane_bits.min(wave_size_bits) as usize);
        let outs: Vec<(String, u32)> = shape.iter().enumerate().map(|(i, &s)| (dim_name(i), s)).collect();
        LinearLayout::new([(REGISTER, regs), (LANE, lanes), (WAVE, waves)], outs)
    }

    /// The accumulator layout `m` of a matrix instruction, onto
    /// `dim0` (rows, `m.m`) and `dim1` (columns, `m.n`). Within a tile,
    /// per family (bits of the register `r` and the lane `l`):
    /// - `Mfma32`: `r` bits 0, 1, 2, 3 are rows 1, 2, 8, 16; `l` bits 0..5
    ///   columns 1..16, `l` bit 5 row 4;
    /// - `Mfma16`: `r` bits 0, 1 are rows 1, 2; `l` bits 0..4 columns
    ///   1..8, `l` bits 4, 5 rows 4, 8;
    /// - `Wmma16`: `r` bits 0, 1, 2 are rows 2, 4, 8; `l` bits 0..4
    ///   columns 1..8, `l` bit 4 row 1.
    ///
    /// Then register bits pick the tile (columns first), and wave bits the
    /// wave's tiles (columns first), as [`MatrixLayout`] documents.
    pub fn from_matrix(m: &MatrixLayout) -> Result<LinearLayout> {
        let fam = m.family();
        let t = fam.tile();
        log2_of(|| "the accumulator's rows".into(), u64::from(m.m))?;
        log2_of(|| "the accumulator's columns".into(), u64::from(m.n))?;
        log2_of(|| "the waves along the rows".into(), u64::from(m.waves_m))?;
        log2_of(|| "the waves along the columns".into(), u64::from(m.waves_n))?;
        if u64::from(m.waves_m) * u64::from(t) > u64::from(m.m) || u64::from(m.waves_n) * u64::from(t) > u64::from(m.n)
        {
            return Err(LinearLayoutError::Mismatch(format!(
                "an [{}, {}] accumulator has no whole {t}x{t} tiles for {}x{} waves",
                m.m, m.n, m.waves_m, m.waves_n
            )));
        }
        let row = |r: u32| vec![r, 0];
        let col = |c: u32| vec![0, c];
        let (mut regs, mut lanes): (Vec<Vec<u32>>, Vec<Vec<u32>>) = match fam {
            MatrixFamily::Mfma32 => (
                vec![row(1), row(2), row(8), row(16)],
                vec![col(1), col(2), col(4), col(8), col(16), row(4)],
            ),
            MatrixFamily::Mfma16 => (
                vec![row(1), row(2)],
                vec![col(1), col(2), col(4), col(8), row(4), row(8)],
            ),
            MatrixFamily::Wmma16 => (
                vec![row(2), row(4), row(8)],
                vec![col(1), col(2), col(4), col(8), row(1)],
            ),
        };
        if m.transposed {
            // The tile's transpose: rows and columns swap within it.
            for v in regs.iter_mut().chain(lanes.iter_mut()) {
                v.swap(0, 1);
            }
        }
        let (tiles_m, tiles_n) = (m.tiles_m(), m.tiles_n());
        for b in 0..tiles_n.trailing_zeros() {
            regs.push(col(t << b));
        }
        for b in 0..tiles_m.trailing_zeros() {
            regs.push(row(t << b));
        }
        let mut waves = Vec::new();
        for b in 0..m.waves_n.trailing_zeros() {
            waves.push(col((tiles_n * t) << b));
        }
        for b in 0..m.waves_m.trailing_zeros() {
            waves.push(row((tiles_m * t) << b));
        }
        LinearLayout::new(
            [(REGISTER, regs), (LANE, lanes), (WAVE, waves)],
            [(dim_name(0), m.m), (dim_name(1), m.n)],
        )
    }

    /// The layout of one wave's operand `which` of a `family` instruction
    /// with `k` products per output: `register` is the element of the
    /// lane's fragment ([`MatrixFamily::fragment`]), onto `[tile, k]` for
    /// `a` (row, step) and `[k, tile]` for `b` (step, column). Register
    /// bits are the low `k` bits; the low `log2(tile)` lane bits the row
    /// (column); the remaining lane bits the high `k` bits for MFMA, and
    /// zero for WMMA (both halves of the wave hold the same fragment).
    pub fn matrix_operand(family: MatrixFamily, k: u32, which: MatrixOperand) -> Result<LinearLayout> {
        let k_bits = log2_of(|| "the instruction's k".into(), u64::from(k))?;
        let t = family.tile();
        let frag = family.fragment(k);
        let groups = match family {
            MatrixFamily::Mfma32 | MatrixFamily::Mfma16 => family.wave() / t,
            MatrixFamily::Wmma16 => 1,
        };
        if frag == 0 || u64::from(frag) * u64::from(groups) != u64::from(k) {
            return Err(LinearLayoutError::Mismatch(format!(
                "k = {k} does not split into {groups} fragments of {family:?}"
            )));
        }
        let (ti, tk) = match which {
            MatrixOperand::A => (0, 1),
            MatrixOperand::B => (1, 0),
        };
        let at = |dim: usize, v: u32| {
            let mut c = vec![0u32; 2];
            c[dim] = v;
            c
        };
        let frag_bits = frag.trailing_zeros();
        let regs: Vec<Vec<u32>> = (0..frag_bits).map(|b| at(tk, 1 << b)).collect();
        let mut lanes: Vec<Vec<u32>> = (0..t.trailing_zeros()).map(|b| at(ti, 1 << b)).collect();
        for b in 0..(family.wave() / t).trailing_zeros() {
            lanes.push(match family {
                MatrixFamily::Mfma32 | MatrixFamily::Mfma16 => at(tk, frag << b),
                MatrixFamily::Wmma16 => vec![0, 0],
            });
        }
        debug_assert_eq!(frag_bits + groups.trailing_zeros(), k_bits);
        let mut outs = [(dim_name(0), t), (dim_name(1), t)];
        outs[tk].1 = k;
        LinearLayout::new([(REGISTER, regs), (LANE, lanes), (WAVE, Vec::new())], outs)
    }

    /// The slice of this layout along output dimension `dim` (Triton's
    /// slice layout, registers kept): the dimension is dropped, so input
    /// bits that only moved along it become zero (broadcast). Output
    /// dimensions named `dim0`, `dim1`, ... in order are renumbered.
    pub fn slice(&self, dim: usize) -> Result<LinearLayout> {
        if dim >= self.outs.len() {
            return Err(LinearLayoutError::UnknownDim(dim_name(dim)));
        }
        let standard = self.outs.iter().enumerate().all(|(i, o)| o.name == dim_name(i));
        let mut outs = self.outs.clone();
        outs.remove(dim);
        if standard {
            for (i, o) in outs.iter_mut().enumerate() {
                o.name = dim_name(i);
            }
        }
        let ins = self
            .ins
            .iter()
            .map(|d| InDim {
                name: d.name.clone(),
                bases: d
                    .bases
                    .iter()
                    .map(|b| {
                        let mut b = b.clone();
                        b.remove(dim);
                        b
                    })
                    .collect(),
            })
            .collect();
        LinearLayout::checked(ins, outs)
    }

    // ---- queries ----

    /// The input dimensions: name and number of bits.
    pub fn in_dims(&self) -> impl Iterator<Item = (&str, u32)> + '_ {
        self.ins.iter().map(|d| (d.name.as_str(), d.bases.len() as u32))
    }

    /// The output dimensions: name and size.
    pub fn out_dims(&self) -> impl Iterator<Item = (&str, u32)> + '_ {
        self.outs.iter().map(|d| (d.name.as_str(), 1u32 << d.log2))
    }

    /// Bits of input dimension `name` (0 if it has none).
    pub fn in_dim_bits(&self, name: &str) -> u32 {
        self.in_dim(name).map_or(0, |d| d.bases.len() as u32)
    }

    /// Size of input dimension `name` (1 if it has no bits).
    pub fn in_dim_size(&self, name: &str) -> u64 {
        1u64 << self.in_dim_bits(name)
    }

    /// Size of output dimension `name`, if there is one.
    pub fn out_dim_size(&self, name: &str) -> Option<u32> {
        self.out_log2(name).map(|l| 1u32 << l)
    }

    /// The basis vector of bit `bit` of `in_dim` (one coordinate per
    /// output dimension).
    pub fn basis(&self, in_dim: &str, bit: u32) -> Option<&[u32]> {
        self.in_dim(in_dim)?.bases.get(bit as usize).map(Vec::as_slice)
    }

    /// Input bits in all.
    pub fn total_in_bits(&self) -> u32 {
        self.ins.iter().map(|d| d.bases.len() as u32).sum()
    }

    /// Output bits in all.
    pub fn total_out_bits(&self) -> u32 {
        self.outs.iter().map(|d| d.log2).sum()
    }

    fn in_dim(&self, name: &str) -> Option<&InDim> {
        self.ins.iter().find(|d| d.name == name)
    }

    fn out_log2(&self, name: &str) -> Option<u32> {
        self.outs.iter().find(|d| d.name == name).map(|d| d.log2)
    }

    /// The output coordinates (one per output dimension) of the input
    /// whose dimensions have the given values (unnamed ones 0).
    pub fn apply(&self, inputs: &[(&str, u32)]) -> Result<Vec<u32>> {
        let mut out = vec![0u32; self.outs.len()];
        for &(name, value) in inputs {
            let d = self
                .in_dim(name)
                .ok_or_else(|| LinearLayoutError::UnknownDim(name.to_string()))?;
            if u64::from(value).checked_shr(d.bases.len() as u32).unwrap_or(0) != 0 {
                return Err(LinearLayoutError::Mismatch(format!(
                    "{name} = {value} is outside its size {}",
                    1u64 << d.bases.len()
                )));
            }
            for (bit, basis) in d.bases.iter().enumerate() {
                if value >> bit & 1 == 1 {
                    for (o, c) in out.iter_mut().zip(basis) {
                        *o ^= c;
                    }
                }
            }
        }
        Ok(out)
    }

    /// The output coordinates by name.
    pub fn apply_named(&self, inputs: &[(&str, u32)]) -> Result<Vec<(String, u32)>> {
        let out = self.apply(inputs)?;
        Ok(self.outs.iter().map(|d| d.name.clone()).zip(out).collect())
    }

    /// Each input bit's basis as a mask of output bits (the first output
    /// dimension in the lowest bits), input dimensions in order.
    fn columns(&self) -> Vec<u64> {
        self.ins
            .iter()
            .flat_map(|d| d.bases.iter().map(|b| self.flatten(b)))
            .collect()
    }

    fn columns_of(&self, in_dim: &str) -> Vec<u64> {
        self.in_dim(in_dim)
            .map(|d| d.bases.iter().map(|b| self.flatten(b)).collect())
            .unwrap_or_default()
    }

    fn flatten(&self, coords: &[u32]) -> u64 {
        let mut v = 0u64;
        let mut shift = 0;
        for (c, o) in coords.iter().zip(&self.outs) {
            v |= u64::from(*c).checked_shl(shift).unwrap_or(0);
            shift += o.log2;
        }
        v
    }

    /// Output bits spanned by the image.
    pub fn rank(&self) -> u32 {
        Elimination::new(&self.columns()).rank()
    }

    /// Every output coordinate is the image of some input.
    pub fn is_surjective(&self) -> bool {
        self.rank() == self.total_out_bits()
    }

    /// No two inputs map to the same output (no broadcast).
    pub fn is_injective(&self) -> bool {
        self.rank() == self.total_in_bits()
    }

    /// The bits of input dimension `in_dim` that are free: their basis is
    /// a combination of earlier bits' (input dimensions in order, low bits
    /// first), so flipping them reaches an element some lower input
    /// already holds. Zero bases are free; these are the bits the
    /// pseudo-inverse leaves 0.
    pub fn free_bits(&self, in_dim: &str) -> u32 {
        let free = Elimination::new(&self.columns()).free;
        let mut start = 0;
        for d in &self.ins {
            let n = d.bases.len() as u32;
            if d.name == in_dim {
                return (free.checked_shr(start).unwrap_or(0) & mask(n)) as u32;
            }
            start += n;
        }
        0
    }

    /// The bits of input dimension `in_dim` whose basis is zero.
    pub fn zero_bits(&self, in_dim: &str) -> u32 {
        self.in_dim(in_dim).map_or(0, |d| {
            d.bases
                .iter()
                .enumerate()
                .filter(|(_, b)| b.iter().all(|c| *c == 0))
                .fold(0, |m, (i, _)| m | 1 << i)
        })
    }

    // ---- algebra ----

    /// `outer` after `self`: the map `x -> outer(self(x))`. Each output
    /// dimension of `self` must be an input dimension of `outer` at least
    /// as large (other inputs of `outer` are 0).
    pub fn compose(&self, outer: &LinearLayout) -> Result<LinearLayout> {
        for o in &self.outs {
            let have = outer
                .in_dim(&o.name)
                .map(|d| d.bases.len() as u32)
                .ok_or_else(|| LinearLayoutError::UnknownDim(o.name.clone()))?;
            if have < o.log2 {
                return Err(LinearLayoutError::Mismatch(format!(
                    "`{}` has {} bits here, {have} in the outer layout",
                    o.name, o.log2
                )));
            }
        }
        let mut ins = Vec::new();
        for d in &self.ins {
            let bases = d
                .bases
                .iter()
                .map(|b| {
                    let named: Vec<(&str, u32)> = self.outs.iter().zip(b).map(|(o, &c)| (o.name.as_str(), c)).collect();
                    outer.apply(&named)
                })
                .collect::<Result<_>>()?;
            ins.push(InDim {
                name: d.name.clone(),
                bases,
            });
        }
        LinearLayout::checked(ins, outer.outs.clone())
    }

    /// A right inverse on the image: a layout from this one's output
    /// dimensions to its input dimensions such that `self(inv(y)) == y`
    /// for every `y` in the image, and `inv(y)` is the numerically lowest
    /// input mapping to `y` (input dimensions in order, the first least
    /// significant). For an injective layout it is also a left inverse.
    /// Outputs outside the image map to an arbitrary input.
    pub fn pseudo_invert(&self) -> LinearLayout {
        let e = Elimination::new(&self.columns());
        // Kernel vectors by their leading (free) bit, highest first: reducing
        // by them clears every free bit, which leaves the lowest input of
        // the coset.
        let mut kernel = e.kernel.clone();
        kernel.sort_by_key(|k| std::cmp::Reverse(63 - k.leading_zeros()));
        let lowest = |mut x: u64| {
            for k in &kernel {
                if x >> (63 - k.leading_zeros()) & 1 == 1 {
                    x ^= k;
                }
            }
            x
        };
        let in_log2: Vec<u32> = self.ins.iter().map(|d| d.bases.len() as u32).collect();
        let unflatten = |x: u64| -> Vec<u32> {
            let mut shift = 0;
            in_log2
                .iter()
                .map(|&n| {
                    let c = (x.checked_shr(shift).unwrap_or(0) & mask(n)) as u32;
                    shift += n;
                    c
                })
                .collect()
        };
        let mut ins = Vec::new();
        let mut shift = 0;
        for o in &self.outs {
            let bases = (0..o.log2)
                .map(|b| {
                    let bit = shift + b;
                    let comb = e.basis.iter().find(|(_, p, _)| *p == bit).map_or(0, |(_, _, c)| *c);
                    unflatten(lowest(comb))
                })
                .collect();
            ins.push(InDim {
                name: o.name.clone(),
                bases,
            });
            shift += o.log2;
        }
        let outs = self
            .ins
            .iter()
            .map(|d| OutDim {
                name: d.name.clone(),
                log2: d.bases.len() as u32,
            })
            .collect();
        LinearLayout { ins, outs }
    }

    /// The inverse of a bijective layout.
    pub fn invert(&self) -> Result<LinearLayout> {
        let (rank, ins, outs) = (self.rank(), self.total_in_bits(), self.total_out_bits());
        if rank != ins || rank != outs {
            return Err(LinearLayoutError::NotInvertible(format!(
                "{ins} input bits, {outs} output bits, rank {rank}"
            )));
        }
        Ok(self.pseudo_invert())
    }

    /// A layout `c` from this layout's inputs to `other`'s such that
    /// `other(c(x)) == self(x)` for every `x`: where the element held at
    /// `x` here is held in `other` (its lowest holder when `other`
    /// broadcasts). `other` must hold every element this layout holds.
    pub fn invert_and_compose(&self, other: &LinearLayout) -> Result<LinearLayout> {
        let c = self.compose(&other.pseudo_invert())?;
        for d in &self.ins {
            for bit in 0..d.bases.len() as u32 {
                let at = [(d.name.as_str(), 1u32 << bit)];
                let there = c.apply_named(&at)?;
                let there: Vec<(&str, u32)> = there.iter().map(|(n, v)| (n.as_str(), *v)).collect();
                let got = other.apply_named(&there)?;
                let want = self.apply_named(&at)?;
                let same = want.iter().all(|(n, v)| got.iter().any(|(m, w)| m == n && w == v));
                if !same || got.len() != want.len() {
                    return Err(LinearLayoutError::NotInvertible(format!(
                        "the element at {}={} here is not held by the other layout",
                        d.name,
                        1u64 << bit
                    )));
                }
            }
        }
        Ok(c)
    }

    /// What converting a value from this layout (`self`, the source) to
    /// `dst` must move, from the algebra: with `S_X` the span of the
    /// source's bases over input dimensions `X` (missing bits are zero):
    /// - [`ConversionKind::None`] when the maps are equal;
    /// - [`ConversionKind::RegisterPermute`] when every lane holds what it
    ///   needs: `dst`'s register bases lie in `S_register`, and each lane
    ///   and wave bit moves `dst` and the source alike modulo
    ///   `S_register`;
    /// - [`ConversionKind::WithinWave`] when every wave holds what it
    ///   needs: `dst`'s register and lane bases lie in
    ///   `S_register + S_lane`, and each wave bit moves both alike modulo
    ///   that;
    /// - [`ConversionKind::AcrossWaves`] otherwise.
    ///
    /// This is Triton's `minimalCvtLayout` test (quotient `src^-1 o dst`
    /// by the wave, then the lane dimension) made aware of broadcasts: a
    /// source replicated over waves converts within each wave although its
    /// pseudo-inverse reads everything from wave 0.
    ///
    /// Both layouts must have the same output dimensions and only
    /// `register`, `lane` and `wave` inputs, and the source must hold
    /// every element `dst` holds.
    pub fn conversion_kind(&self, dst: &LinearLayout) -> Result<ConversionKind> {
        let same_outs =
            self.outs.len() == dst.outs.len() && self.outs.iter().all(|o| dst.out_log2(&o.name) == Some(o.log2));
        if !same_outs {
            return Err(LinearLayoutError::Mismatch(format!(
                "converting between different blocks: {:?} and {:?}",
                self.out_dims().collect::<Vec<_>>(),
                dst.out_dims().collect::<Vec<_>>()
            )));
        }
        for d in self.ins.iter().chain(&dst.ins) {
            if ![REGISTER, LANE, WAVE].contains(&d.name.as_str()) {
                return Err(LinearLayoutError::Mismatch(format!(
                    "a conversion between register layouts has no `{}` input",
                    d.name
                )));
            }
        }
        // `dst`'s bases over the source's output order.
        let dst_cols = |name: &str| -> Vec<u64> {
            dst.in_dim(name)
                .map(|d| {
                    d.bases
                        .iter()
                        .map(|b| {
                            let mut v = vec![0u32; self.outs.len()];
                            for (c, o) in b.iter().zip(&dst.outs) {
                                if let Some(i) = self.outs.iter().position(|s| s.name == o.name) {
                                    v[i] = *c;
                                }
                            }
                            self.flatten(&v)
                        })
                        .collect()
                })
                .unwrap_or_default()
        };
        let (sr, sl, sw) = (self.columns_of(REGISTER), self.columns_of(LANE), self.columns_of(WAVE));
        let (dr, dl, dw) = (dst_cols(REGISTER), dst_cols(LANE), dst_cols(WAVE));
        let all = Elimination::new(&[sr.clone(), sl.clone(), sw.clone()].concat());
        if !dr.iter().chain(&dl).chain(&dw).all(|&c| all.contains(c)) {
            return Err(LinearLayoutError::Mismatch(
                "the source layout does not hold every element the destination holds".into(),
            ));
        }
        if sr == dr && sl == dl && sw == dw {
            return Ok(ConversionKind::None);
        }
        // Bases `a` and `b` of one input dimension differ by something in
        // `span` (missing bits are zero).
        let alike = |span: &Elimination, a: &[u64], b: &[u64]| {
            (0..a.len().max(b.len())).all(|i| {
                let x = a.get(i).copied().unwrap_or(0) ^ b.get(i).copied().unwrap_or(0);
                span.contains(x)
            })
        };
        let regs = Elimination::new(&sr);
        if dr.iter().all(|&c| regs.contains(c)) && alike(&regs, &sl, &dl) && alike(&regs, &sw, &dw) {
            return Ok(ConversionKind::RegisterPermute);
        }
        let in_wave = Elimination::new(&[sr, sl].concat());
        if dr.iter().chain(&dl).all(|&c| in_wave.contains(c)) && alike(&in_wave, &sw, &dw) {
            return Ok(ConversionKind::WithinWave);
        }
        Ok(ConversionKind::AcrossWaves)
    }
}

fn mask(bits: u32) -> u64 {
    if bits >= 64 {
        u64::MAX
    } else {
        (1u64 << bits) - 1
    }
}

/// The coordinates (one per dimension) of each bit of a row-major flat
/// index over `shape` (last dimension fastest).
fn flat_coords(shape: &[u32]) -> Result<Vec<Vec<u32>>> {
    let mut coords = Vec::new();
    for (i, &s) in shape.iter().enumerate().rev() {
        let bits = log2_of(|| format!("dimension {i} of the block"), u64::from(s))?;
        for b in 0..bits {
            let mut c = vec![0u32; shape.len()];
            c[i] = 1 << b;
            coords.push(c);
        }
    }
    Ok(coords)
}

/// Triton's form: per input dimension, per bit, the output coordinates;
/// then the output dimensions and their sizes.
///
/// ```text
///  - register=1 -> (1, 0)
///    register=2 -> (2, 0)
///  - lane=1 -> (0, 1)
///  - wave is a size 1 dimension
/// where out dims are: [dim0 (size 4), dim1 (size 2)]
/// ```
impl fmt::Display for LinearLayout {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for d in &self.ins {
            if d.bases.is_empty() {
                writeln!(f, " - {} is a size 1 dimension", d.name)?;
            }
            for (bit, b) in d.bases.iter().enumerate() {
                let lead = if bit == 0 { " - " } else { "   " };
                let coords: Vec<String> = b.iter().map(u32::to_string).collect();
                writeln!(f, "{lead}{}={} -> ({})", d.name, 1u64 << bit, coords.join(", "))?;
            }
        }
        let outs: Vec<String> = self
            .outs
            .iter()
            .map(|o| format!("{} (size {})", o.name, 1u64 << o.log2))
            .collect();
        write!(f, "where out dims are: [{}]", outs.join(", "))
    }
}

/// Parses the [`fmt::Display`] form back.
impl FromStr for LinearLayout {
    type Err = LinearLayoutError;

    fn from_str(text: &str) -> Result<LinearLayout> {
        let err = |line: usize, message: String| LinearLayoutError::Parse { line, message };
        let mut ins: Vec<InDim> = Vec::new();
        let mut outs: Option<Vec<OutDim>> = None;
        for (i, raw) in text.lines().enumerate() {
            let line_no = i + 1;
            let line = raw.trim();
            if line.is_empty() {
                continue;
            }
            if outs.is_some() {
                return Err(err(line_no, "text after the output dimensions".into()));
            }
            if let Some(rest) = line.strip_prefix("where out dims are:") {
                let rest = rest.trim();
                let inner = rest
                    .strip_prefix('[')
                    .and_then(|r| r.strip_suffix(']'))
                    .ok_or_else(|| err(line_no, format!("expected `[...]`, found `{rest}`")))?;
                let mut dims = Vec::new();
                for item in inner.split(',').map(str::trim).filter(|s| !s.is_empty()) {
                    let (name, size) = item
                        .strip_suffix(')')
                        .and_then(|s| s.split_once(" (size "))
                        .ok_or_else(|| err(line_no, format!("expected `name (size N)`, found `{item}`")))?;
                    let size: u64 = size
                        .trim()
                        .parse()
                        .map_err(|_| err(line_no, format!("bad size `{size}`")))?;
                    let log2 =
                        log2_of(|| format!("the size of `{name}`"), size).map_err(|e| err(line_no, e.to_string()))?;
                    dims.push(OutDim {
                        name: name.trim().to_string(),
                        log2,
                    });
                }
                outs = Some(dims);
                continue;
            }
            let (starts, body) = match line.strip_prefix("- ") {
                Some(b) => (true, b.trim()),
                None => (false, line),
            };
            if let Some(name) = body.strip_suffix(" is a size 1 dimension") {
                if !starts {
                    return Err(err(line_no, "a size 1 dimension starts with `- `".into()));
                }
                ins.push(InDim {
                    name: name.trim().to_string(),
                    bases: Vec::new(),
                });
                continue;
            }
            let (lhs, rhs) = body
                .split_once("->")
                .ok_or_else(|| err(line_no, format!("expected `name=value -> (...)`, found `{body}`")))?;
            let (name, value) = lhs
                .trim()
                .split_once('=')
                .ok_or_else(|| err(line_no, format!("expected `name=value`, found `{lhs}`")))?;
            let name = name.trim();
            let value: u64 = value
                .trim()
                .parse()
                .map_err(|_| err(line_no, format!("bad value `{value}`")))?;
            if starts {
                ins.push(InDim {
                    name: name.to_string(),
                    bases: Vec::new(),
                });
            }
            let dim = match ins.last_mut() {
                Some(d) if d.name == name => d,
                _ => {
                    return Err(err(
                        line_no,
                        format!("`{name}` continues no dimension (start it with `- `)"),
                    ))
                }
            };
            if dim.bases.len() >= 63 || value != 1u64 << dim.bases.len() {
                return Err(err(
                    line_no,
                    format!(
                        "expected {name}={}",
                        1u64.checked_shl(dim.bases.len() as u32).unwrap_or(0)
                    ),
                ));
            }
            let coords = rhs
                .trim()
                .strip_prefix('(')
                .and_then(|r| r.strip_suffix(')'))
                .ok_or_else(|| err(line_no, format!("expected `(...)`, found `{}`", rhs.trim())))?;
            let basis = coords
                .split(',')
                .map(str::trim)
                .filter(|s| !s.is_empty())
                .map(|c| {
                    c.parse::<u32>()
                        .map_err(|_| err(line_no, format!("bad coordinate `{c}`")))
                })
                .collect::<Result<Vec<u32>>>()?;
            dim.bases.push(basis);
        }
        let outs = outs.ok_or_else(|| {
            err(
                text.lines().count().max(1),
                "missing `where out dims are: [...]`".into(),
            )
        })?;
        LinearLayout::checked(ins, outs)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn identity_and_zeros() {
        let id = LinearLayout::identity_1d(8, LANE, "dim0").unwrap();
        for l in 0..8 {
            assert_eq!(id.apply(&[(LANE, l)]).unwrap(), vec![l]);
        }
        assert!(id.is_injective() && id.is_surjective());
        let z = LinearLayout::zeros_1d(4, REGISTER, "dim0").unwrap();
        assert_eq!(z.free_bits(REGISTER), 0b11);
        assert!(z.is_surjective() && !z.is_injective());
        assert!(LinearLayout::identity_1d(6, LANE, "dim0").is_err());
        assert!(LinearLayout::identity_1d(0, LANE, "dim0").is_err());
        assert!(LinearLayout::identity_1d(4, "la ne", "dim0").is_err());
        assert!(LinearLayout::new([(LANE, vec![vec![4u32]])], [("dim0", 4u32)]).is_err());
        assert!(LinearLayout::new([(LANE, vec![vec![1u32, 0]])], [("dim0", 4u32)]).is_err());
        assert!(LinearLayout::new([(LANE, vec![vec![0u32]; 32])], [("dim0", 1u32)]).is_err());
        assert!(LinearLayout::new([(LANE, vec![vec![0u32]; 2]), (LANE, vec![])], [("dim0", 1u32)]).is_err());
        // Edges of the bit budget: 31-bit dimensions and a size 1 one after them.
        let wide = LinearLayout::new(
            [
                (REGISTER, vec![vec![1u32 << 30, 0, 0]; 31]),
                (LANE, vec![vec![0, 1 << 30, 0]; 31]),
            ],
            [("dim0", 1u32 << 31), ("dim1", 1 << 31), ("dim2", 1)],
        )
        .unwrap();
        assert_eq!(
            wide.apply(&[(REGISTER, u32::MAX >> 1), (LANE, 1)]).unwrap(),
            vec![1 << 30, 1 << 30, 0]
        );
        assert!(wide.apply(&[(REGISTER, 1 << 31)]).is_err());
        assert!(wide.apply(&[(WAVE, 0)]).is_err());
        assert_eq!(wide.free_bits(LANE), (u32::MAX >> 1) - 1);
        assert_eq!(
            wide.pseudo_invert().to_string().parse::<LinearLayout>().unwrap(),
            wide.pseudo_invert()
        );
    }

    #[test]
    fn product_of_disjoint_and_shared_dims() {
        let a = LinearLayout::identity_1d(4, REGISTER, "dim1").unwrap();
        let b = LinearLayout::identity_1d(8, LANE, "dim0").unwrap();
        let p = a.product(&b).unwrap();
        assert_eq!(p.apply(&[(REGISTER, 3), (LANE, 5)]).unwrap(), vec![3, 5]);
        // Same dims: outer bits above inner ones.
        let q = a
            .product(&LinearLayout::identity_1d(2, REGISTER, "dim1").unwrap())
            .unwrap();
        assert_eq!(q.in_dim_bits(REGISTER), 3);
        assert_eq!(q.out_dim_size("dim1"), Some(8));
        assert_eq!(q.apply(&[(REGISTER, 5)]).unwrap(), vec![5]);
    }

    #[test]
    fn pseudo_inverse_picks_lowest_holder() {
        // Lane bit 2 and wave bit 0 broadcast; lane bit 3 repeats lane bit 0.
        let l = LinearLayout::new(
            [
                (REGISTER, vec![vec![1u32]]),
                (LANE, vec![vec![2], vec![4], vec![0], vec![2]]),
                (WAVE, vec![vec![0]]),
            ],
            [("dim0", 8u32)],
        )
        .unwrap();
        assert_eq!(l.free_bits(LANE), 0b1100);
        assert_eq!(l.free_bits(WAVE), 1);
        assert_eq!(l.zero_bits(LANE), 0b0100);
        let inv = l.pseudo_invert();
        for y in 0..8 {
            let x = inv.apply(&[("dim0", y)]).unwrap();
            assert_eq!(
                l.apply(&[(REGISTER, x[0]), (LANE, x[1]), (WAVE, x[2])]).unwrap(),
                vec![y]
            );
            assert_eq!(x, vec![y & 1, y >> 1, 0]);
        }
        assert!(l.invert().is_err());
    }
}
