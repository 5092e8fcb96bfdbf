//! The Dist IR verifier: the gate between the layout pass and the code
//! generator (after the tile IR verifier, which Dist IR must also pass).
//!
//! Checks that every value reachable in the function has a layout, that
//! each layout fits its value and the program (a blocked layout covers the
//! block's elements over the program's lanes; a matrix layout has the
//! block's shape and its waves make the program's lanes; a slice's parent
//! holds a whole number of copies of the value; scalars are uniform and
//! blocks are not; only conversions put a block in shared memory), and
//! which layouts each operation accepts: an elementwise operation, a load
//! and a store take every block operand in their result's (or their
//! addresses') layout; a matrix `dot`'s accumulator is in its result's
//! layout; a `for` or `if` carries each value in one layout (initial
//! value, region arguments, yielded value, result). `while` loops and
//! operations that move elements (broadcasts, transpositions,
//! reductions) take any register layout. It never panics, whatever the
//! layouts.

use crate::{
    func::{Function, OpId, Value},
    layout::Layout,
    ops::OpKind,
    print::op_name,
    verify::VerifyError,
};

/// Checks `f`'s layouts for a program of `lanes` lanes.
pub fn verify_layouts(f: &Function, lanes: u32) -> Result<(), VerifyError> {
    let fail = |op: String, message: String| VerifyError {
        function: f.name.clone(),
        op,
        message,
    };
    let Some(layouts) = &f.layouts else {
        return Err(fail("function".into(), "Dist IR without layouts".into()));
    };
    let layout_of = |v: Value, at: &str| -> Result<Layout, VerifyError> {
        layouts
            .get(&v)
            .copied()
            .ok_or_else(|| fail(at.to_string(), format!("{v} has no layout")))
    };
    // Every value: block arguments, then results.
    for b in f.walk_blocks() {
        for a in &f.block(b).args {
            check_fits(f, *a, layout_of(*a, &b.to_string())?, lanes).map_err(|m| fail(b.to_string(), m))?;
        }
    }
    for op in f.walk() {
        let at = || format!("{op} ({})", op_name(f, op));
        for r in &f.op(op).results {
            let l = layout_of(*r, &at())?;
            check_fits(f, *r, l, lanes).map_err(|m| fail(at(), m))?;
            if l == Layout::Shared && !matches!(f.op(op).kind, OpKind::ConvertLayout) {
                return Err(fail(
                    at(),
                    format!("{r} is in shared memory but not a conversion's result"),
                ));
            }
        }
        check_op(f, op, &|v| layout_of(v, &at())).map_err(|e| match e {
            OpError::Layout(e) => e,
            OpError::Message(m) => fail(at(), m),
        })?;
    }
    Ok(())
}

enum OpError {
    Layout(VerifyError),
    Message(String),
}

impl From<VerifyError> for OpError {
    fn from(e: VerifyError) -> OpError {
        OpError::Layout(e)
    }
}

/// Whether layout `l` fits value `v` in a program of `lanes` lanes.
fn check_fits(f: &Function, v: Value, l: Layout, lanes: u32) -> Result<(), String> {
    let ty = f.ty(v);
    if !ty.is_block() {
        return match l {
            Layout::Uniform => Ok(()),
            other => Err(format!("scalar {v} has the block layout {other}")),
        };
    }
    let numel = ty.numel();
    match l {
        Layout::Uniform => Err(format!("block {v} has the uniform layout")),
        Layout::Shared => Ok(()),
        Layout::Blocked(b) => {
            if u64::from(b.n) != numel || b.lanes != lanes || !b.spt.is_power_of_two() {
                Err(format!(
                    "{v} ({} elements) has {l}, a blocked layout of {} elements over {} lanes (the program has {lanes})",
                    numel, b.n, b.lanes
                ))
            } else {
                Ok(())
            }
        }
        Layout::Matrix(m) => {
            let waves = m.waves_m * m.waves_n;
            if ty.shape != [m.m, m.n] {
                Err(format!(
                    "{v} of shape {:?} has {l}, a {}x{} matrix layout",
                    ty.shape, m.m, m.n
                ))
            } else if u64::from(waves) * u64::from(m.family().wave()) != u64::from(lanes) {
                Err(format!(
                    "{v} has {l} over {waves} waves, but the program has {lanes} lanes"
                ))
            } else {
                Ok(())
            }
        }
        Layout::Slice { parent, dim } => {
            let parent_numel = u64::from(parent.numel());
            let fits = match parent {
                crate::RegisterLayout::Matrix(m) => {
                    let kept = if dim == 1 { m.m } else { m.n };
                    dim < 2 && numel == u64::from(kept)
                }
                crate::RegisterLayout::Blocked(b) => b.lanes == lanes && numel > 0 && parent_numel % numel == 0,
            };
            if fits {
                Ok(())
            } else {
                Err(format!("{v} ({numel} elements) does not fit {l}"))
            }
        }
    }
}

/// The layouts operation `op` accepts.
fn check_op(f: &Function, op: OpId, layout_of: &dyn Fn(Value) -> Result<Layout, VerifyError>) -> Result<(), OpError> {
    let d = f.op(op);
    let same = |a: Value, b: Value, what: &str| -> Result<(), OpError> {
        let (la, lb) = (layout_of(a)?, layout_of(b)?);
        if la == lb {
            Ok(())
        } else {
            Err(OpError::Message(format!("{what}: {a} has {la}, {b} has {lb}")))
        }
    };
    let blocks = |vals: &[Value]| -> Vec<Value> { vals.iter().copied().filter(|v| f.ty(*v).is_block()).collect() };
    match &d.kind {
        k if k.is_elementwise() => {
            if let Some(&r) = d.results.first() {
                for o in blocks(&d.operands) {
                    same(o, r, "an elementwise operand is not in its result's layout")?;
                }
            }
        }
        OpKind::Load { .. } | OpKind::Store { .. } | OpKind::Atomic { .. } | OpKind::AtomicCas => {
            let ops = blocks(&d.operands);
            if let Some(&ptrs) = ops.first() {
                for o in ops.iter().skip(1).chain(blocks(&d.results).iter()) {
                    same(*o, ptrs, "a memory operation's operand is not in its addresses' layout")?;
                }
            }
        }
        OpKind::Dot => {
            let r = d.results[0];
            if matches!(layout_of(r)?, Layout::Matrix(_)) {
                same(
                    d.operands[2],
                    r,
                    "a matrix dot's accumulator is not in its result's layout",
                )?;
            }
        }
        OpKind::For => {
            let body = f.block(d.regions[0]);
            let Some(&yield_op) = body.ops.last() else {
                return Err(OpError::Message("a loop body without a terminator".into()));
            };
            let yielded = &f.op(yield_op).operands;
            for (i, &r) in d.results.iter().enumerate() {
                let (init, arg) = (d.operands.get(3 + i), body.args.get(1 + i));
                let (Some(&init), Some(&arg), Some(&out)) = (init, arg, yielded.get(i)) else {
                    return Err(OpError::Message("a loop's carried values do not line up".into()));
                };
                for v in [init, arg, out] {
                    same(v, r, "a loop carries a value in two layouts")?;
                }
            }
        }
        OpKind::If => {
            for region in &d.regions {
                let Some(&yield_op) = f.block(*region).ops.last() else {
                    continue;
                };
                for (i, &r) in d.results.iter().enumerate() {
                    if let Some(&out) = f.op(yield_op).operands.get(i) {
                        same(out, r, "an `if` yields a value in another layout than its result's")?;
                    }
                }
            }
        }
        _ => {}
    }
    Ok(())
}
