//! Dist IR layouts read back: `#tk.blocked`, `#tk.mfma`, `#tk.wmma`,
//! `#tk.slice`, `#tk.shared` and `#tk.uniform` as `print.rs` and
//! `layout.rs` write them.
//!
//! A blocked layout is printed per dimension for its value's shape (as
//! Triton's `#blocked` is), which does not say the program's lanes when
//! the block is smaller than the program (lanes then hold copies): the
//! lanes come from [`super::ParseOptions::lanes`] when given, else from
//! the function's own layouts (a matrix layout's waves, a blocked layout
//! that covers all lanes), else 64-lane waves are assumed. Every layout
//! read is printed again and compared, so a blocked layout the printer
//! would not write is an error, never a silent change.

use super::{
    syntax::{LayoutSyntax, LayoutVal},
    ParseError, Pos,
};
use crate::layout::{BlockedLayout, Layout, MatrixFamily, MatrixInstr, MatrixLayout, RegisterLayout};

/// A layout with its meaning, before the program's lanes are known.
#[derive(Debug, Clone)]
pub(super) enum LayoutAst {
    Uniform,
    Shared,
    Blocked(BlockedDesc),
    Matrix(MatrixLayout),
    Slice { dim: u32, parent: Box<LayoutAst> },
}

/// `#tk.blocked<{size_per_lane = .., lanes_per_wave = .., waves = ..,
/// repeats = .., order = .., replicated = ..}>`.
#[derive(Debug, Clone)]
pub(super) struct BlockedDesc {
    pub size_per_lane: Vec<u32>,
    pub lanes_per_wave: Vec<u32>,
    pub waves: Vec<u32>,
    pub repeats: Vec<u32>,
    pub order: Vec<u32>,
    pub replicated: bool,
    pub pos: Pos,
}

fn product(v: &[u32], pos: Pos) -> Result<u32, ParseError> {
    v.iter()
        .try_fold(1u32, |a, b| a.checked_mul(*b))
        .ok_or_else(|| ParseError::new(pos, "layout sizes overflow"))
}

impl BlockedDesc {
    /// The block's shape: each dimension is what a lane holds, times the
    /// lanes and waves, times the repeats along it.
    pub(super) fn shape(&self) -> Result<Vec<u32>, ParseError> {
        (0..self.size_per_lane.len())
            .map(|i| {
                product(
                    &[
                        self.size_per_lane[i],
                        self.lanes_per_wave[i],
                        self.waves[i],
                        self.repeats[i],
                    ],
                    self.pos,
                )
            })
            .collect()
    }

    /// The program lanes this description implies, where it implies
    /// them: a block that covers every lane once names them all; a
    /// replicated one spread over several waves names a whole wave.
    fn lanes(&self, num_warps: u32) -> Option<u32> {
        let lanes = product(&self.lanes_per_wave, self.pos).ok()?;
        let waves = product(&self.waves, self.pos).ok()?;
        if !self.replicated {
            lanes.checked_mul(waves)
        } else if waves > 1 {
            lanes.checked_mul(num_warps.max(1))
        } else {
            None
        }
    }

    /// The blocked layout over `lanes` lanes that prints as this
    /// description.
    fn resolve(&self, lanes: u32, num_warps: u32) -> Result<BlockedLayout, ParseError> {
        let shape = self.shape()?;
        if let Some(d) = shape.iter().find(|d| !d.is_power_of_two()) {
            return Err(ParseError::new(
                self.pos,
                format!("blocked layout dimension {d} is not a power of two"),
            ));
        }
        if let Some(s) = self.size_per_lane.iter().find(|d| !d.is_power_of_two()) {
            return Err(ParseError::new(
                self.pos,
                format!("size_per_lane {s} is not a power of two"),
            ));
        }
        if !lanes.is_power_of_two() {
            return Err(ParseError::new(
                self.pos,
                format!("{lanes} lanes is not a power of two"),
            ));
        }
        let n = product(&shape, self.pos)?;
        let spt = product(&self.size_per_lane, self.pos)?;
        let b = BlockedLayout { n, lanes, spt };
        let wave = (lanes / num_warps.max(1)).max(1);
        let d = b.dims(&shape, wave);
        let order: Vec<u32> = (0..shape.len() as u32).rev().collect();
        let same = d.size_per_lane == self.size_per_lane
            && d.lanes_per_wave == self.lanes_per_wave
            && d.waves == self.waves
            && d.repeats == self.repeats
            && order == self.order
            && b.replicated() == self.replicated;
        if !same {
            return Err(ParseError::new(
                self.pos,
                format!(
                    "not a blocked layout of {n} elements over {lanes} lanes in waves of {wave}: it would print as {}",
                    b.describe(&shape, wave)
                ),
            ));
        }
        Ok(b)
    }
}

/// Gives a written layout its meaning.
pub(super) fn interpret(s: &LayoutSyntax) -> Result<LayoutAst, ParseError> {
    let get = |key: &str| s.params.iter().find(|(k, _, _)| k == key).map(|(_, v, p)| (v, *p));
    let known = |keys: &[&str]| -> Result<(), ParseError> {
        for (k, _, p) in &s.params {
            if !keys.contains(&k.as_str()) {
                return Err(ParseError::new(
                    *p,
                    format!("unknown parameter `{k}` of `#tk.{}`", s.name),
                ));
            }
        }
        Ok(())
    };
    let list = |key: &str, len: Option<usize>| -> Result<Vec<u32>, ParseError> {
        match get(key) {
            Some((LayoutVal::List(v), p)) => {
                if len.is_some_and(|l| l != v.len()) {
                    return Err(ParseError::new(p, format!("`{key}` has the wrong number of entries")));
                }
                v.iter()
                    .map(|x| u32::try_from(*x).ok().filter(|x| *x > 0))
                    .collect::<Option<Vec<u32>>>()
                    .ok_or_else(|| ParseError::new(p, format!("`{key}` entries must be positive")))
            }
            Some((_, p)) => Err(ParseError::new(p, format!("`{key}` must be a list"))),
            None => Err(ParseError::new(s.pos, format!("`#tk.{}` needs `{key}`", s.name))),
        }
    };
    match s.name.as_str() {
        "uniform" | "shared" => {
            known(&[])?;
            Ok(if s.name == "uniform" {
                LayoutAst::Uniform
            } else {
                LayoutAst::Shared
            })
        }
        "blocked" => {
            known(&[
                "size_per_lane",
                "lanes_per_wave",
                "waves",
                "repeats",
                "order",
                "replicated",
            ])?;
            let size_per_lane = list("size_per_lane", None)?;
            let rank = Some(size_per_lane.len());
            let lanes_per_wave = list("lanes_per_wave", rank)?;
            let waves = list("waves", rank)?;
            let repeats = list("repeats", rank)?;
            let order = match get("order") {
                Some((LayoutVal::List(v), p)) => v
                    .iter()
                    .map(|x| u32::try_from(*x).ok())
                    .collect::<Option<Vec<u32>>>()
                    .ok_or_else(|| ParseError::new(p, "`order` entries must be dimensions"))?,
                _ => return Err(ParseError::new(s.pos, "`#tk.blocked` needs an `order` list")),
            };
            let replicated = match get("replicated") {
                Some((LayoutVal::Bool(b), _)) => *b,
                _ => return Err(ParseError::new(s.pos, "`#tk.blocked` needs `replicated = true|false`")),
            };
            if size_per_lane.is_empty() {
                return Err(ParseError::new(s.pos, "a blocked layout needs at least one dimension"));
            }
            Ok(LayoutAst::Blocked(BlockedDesc {
                size_per_lane,
                lanes_per_wave,
                waves,
                repeats,
                order,
                replicated,
                pos: s.pos,
            }))
        }
        "mfma" | "wmma" => {
            known(&["instr", "waves", "tiles_per_wave", "transposed"])?;
            let instr = list("instr", Some(3))?;
            let waves = list("waves", Some(2))?;
            let tiles = list("tiles_per_wave", Some(2))?;
            let transposed = match get("transposed") {
                None => false,
                Some((LayoutVal::Unit, _)) => true,
                Some((_, p)) => return Err(ParseError::new(p, "`transposed` takes no value")),
            };
            let family = match (s.name.as_str(), instr[0], instr[1]) {
                ("mfma", 32, 32) => MatrixFamily::Mfma32,
                ("mfma", 16, 16) => MatrixFamily::Mfma16,
                ("wmma", 16, 16) => MatrixFamily::Wmma16,
                _ => {
                    return Err(ParseError::new(
                        s.pos,
                        format!("no `{}` instruction of {}x{}", s.name, instr[0], instr[1]),
                    ))
                }
            };
            let t = family.tile();
            let m = product(&[tiles[0], t, waves[0]], s.pos)?;
            let n = product(&[tiles[1], t, waves[1]], s.pos)?;
            product(&[waves[0], waves[1], family.wave()], s.pos)?;
            Ok(LayoutAst::Matrix(MatrixLayout {
                instr: MatrixInstr { family, k: instr[2] },
                m,
                n,
                waves_m: waves[0],
                waves_n: waves[1],
                transposed,
            }))
        }
        "slice" => {
            known(&["dim", "parent"])?;
            let dim = match get("dim") {
                Some((LayoutVal::Int(d), p)) => {
                    u32::try_from(*d).map_err(|_| ParseError::new(p, "`dim` must be a dimension"))?
                }
                _ => return Err(ParseError::new(s.pos, "`#tk.slice` needs `dim = N`")),
            };
            let parent = match get("parent") {
                Some((LayoutVal::Layout(l), _)) => interpret(l)?,
                _ => return Err(ParseError::new(s.pos, "`#tk.slice` needs `parent = #tk...`")),
            };
            if !matches!(parent, LayoutAst::Blocked(_) | LayoutAst::Matrix(_)) {
                return Err(ParseError::new(s.pos, "a slice's parent is a blocked or matrix layout"));
            }
            Ok(LayoutAst::Slice {
                dim,
                parent: Box::new(parent),
            })
        }
        other => Err(ParseError::new(s.pos, format!("unknown layout `#tk.{other}`"))),
    }
}

/// The lanes a layout implies, if it implies them.
pub(super) fn implied_lanes(l: &LayoutAst, num_warps: u32) -> Option<u32> {
    match l {
        LayoutAst::Matrix(m) => m
            .waves_m
            .checked_mul(m.waves_n)
            .and_then(|w| w.checked_mul(m.family().wave())),
        LayoutAst::Blocked(b) => b.lanes(num_warps),
        LayoutAst::Slice { parent, .. } => implied_lanes(parent, num_warps),
        LayoutAst::Uniform | LayoutAst::Shared => None,
    }
}

/// The shape of the block a slice along `dim` of a `shape` block was
/// reduced from (`parent_n` elements), as the printer computes it.
fn slice_parent_shape(shape: &[u32], dim: usize, parent_n: u32) -> Vec<u32> {
    let mut s = shape.to_vec();
    if s.get(dim) == Some(&1) {
        s.remove(dim);
    }
    let others: u32 = s.iter().fold(1u32, |a, b| a.saturating_mul(*b));
    s.insert(dim.min(s.len()), parent_n / others.max(1));
    s
}

/// The layout of a value of `shape`: blocked layouts over `lanes` (the
/// given lanes, else those the description implies, else the program's).
pub(super) fn resolve(
    l: &LayoutAst,
    shape: &[u32],
    given: Option<u32>,
    program: u32,
    num_warps: u32,
    pos: Pos,
) -> Result<Layout, ParseError> {
    let blocked = |b: &BlockedDesc| {
        let lanes = given.or_else(|| b.lanes(num_warps)).unwrap_or(program);
        b.resolve(lanes, num_warps)
    };
    Ok(match l {
        LayoutAst::Uniform => Layout::Uniform,
        LayoutAst::Shared => Layout::Shared,
        LayoutAst::Matrix(m) => Layout::Matrix(*m),
        LayoutAst::Blocked(b) => {
            let described = b.shape()?;
            if described != shape {
                return Err(ParseError::new(
                    pos,
                    format!("a blocked layout of shape {described:?} on a value of shape {shape:?}"),
                ));
            }
            Layout::Blocked(blocked(b)?)
        }
        LayoutAst::Slice { dim, parent } => {
            let parent = match parent.as_ref() {
                LayoutAst::Blocked(b) => {
                    let p = blocked(b)?;
                    let want = slice_parent_shape(shape, *dim as usize, p.n);
                    let described = b.shape()?;
                    if want != described {
                        return Err(ParseError::new(
                            pos,
                            format!(
                                "a slice along {dim} of a value of shape {shape:?} has a parent of shape {want:?}, not {described:?}"
                            ),
                        ));
                    }
                    RegisterLayout::Blocked(p)
                }
                LayoutAst::Matrix(m) => RegisterLayout::Matrix(*m),
                _ => return Err(ParseError::new(pos, "a slice's parent is a blocked or matrix layout")),
            };
            Layout::Slice { parent, dim: *dim }
        }
    })
}
