//! Broadcast rematerialization: computes a broadcast value in the shape it
//! is broadcast to, instead of moving it there.
//!
//! `broadcast(f(x, y))` is rewritten to `f(broadcast(x), broadcast(y))` for
//! elementwise `f`, down to splats (which take any shape) and to ranges
//! made N-D by `expand_dims`, which become a range along one axis of the
//! target shape, broadcast: code generation computes such a value in place
//! (an element's value is its coordinate plus the start; see
//! [`range_broadcast`]) and the axis analysis knows its contiguity.
//! Operations on whole blocks commute exactly with broadcasting, so
//! results are bit for bit the same.
//!
//! Why: a block's layout spreads its row-major elements over the lanes, so
//! a broadcast between shapes moves elements between lanes (through shared
//! memory on a GPU). Masks and pointers of 2-D tiles (`rows < m`,
//! `a + rows * stride`) are almost always such expressions; recomputing
//! them per element costs a few ALU instructions instead.
//!
//! A reduction's result with its axis put back (`expand_dims(max(x, 1),
//! 1)`) is a leaf when the target shape is `x`'s: broadcasting it back
//! along the axis moves nothing, so `x - mean / n`-style expressions of
//! row results are computed per element instead of moved.
//!
//! A load is rematerialized too (`broadcast(load(p, m, o))` becomes
//! `load(broadcast(p), broadcast(m), broadcast(o))`: the lanes read the
//! elements they need, from cache after the first) when it is in the same
//! block as the broadcast and nothing between them can write memory (no
//! store, atomic, assert or region); its masked-off elements are still
//! never touched. Triton reads such a row vector (a bias, a norm's
//! weights) the same way, in a slice layout. Atomics and anything else are
//! left alone, as is an expression of more than [`MAX_NODES`] operations
//! (it is cheaper to move).
//! Guarantees: the function verifies afterwards; dead originals are left
//! for DCE.

use crate::PassError;
use std::collections::HashMap;
use tritonc_ir::{BlockId, ConstValue, Elem, Function, Loc, Module, OpId, OpKind, ScalarType, Type, Value};

/// The most operations one broadcast is rematerialized through.
pub const MAX_NODES: usize = 24;

pub fn run(m: &mut Module) -> Result<(), PassError> {
    for f in &mut m.functions {
        rematerialize(f);
    }
    Ok(())
}

fn rematerialize(f: &mut Function) {
    for b in f.walk_blocks() {
        let mut i = 0;
        while i < f.block(b).ops.len() {
            let op = f.block(b).ops[i];
            let d = f.op(op);
            let skip = !matches!(d.kind, OpKind::Broadcast)
                || f.ty(d.operands[0]).numel() == 1
                || range_broadcast(f, op).is_some();
            if skip {
                i += 1;
                continue;
            }
            let (src, result, loc) = (d.operands[0], d.results[0], d.loc);
            let shape = f.ty(result).shape.clone();
            let axes: Vec<usize> = (0..shape.len()).collect();
            if !plan(f, src, &shape, &axes, &mut 0, (b, i)) {
                i += 1;
                continue;
            }
            let mut new_ops = Vec::new();
            let mut memo = HashMap::new();
            let v = build(f, src, &shape, &axes, loc, &mut new_ops, &mut memo);
            let n = new_ops.len();
            f.block_mut(b).ops.splice(i..i, new_ops);
            i += n + 1;
            f.substitute(&HashMap::from([(result, v)]));
        }
    }
}

/// Whether each dimension of `dims` fits the target dimension it maps to
/// (`axes`): equal, or 1 (broadcast).
fn fits(dims: &[u32], shape: &[u32], axes: &[usize]) -> bool {
    dims.len() == axes.len() && dims.iter().zip(axes).all(|(d, a)| *d == 1 || shape.get(*a) == Some(d))
}

/// For `reshape(y)` that only adds or removes unit dimensions: the target
/// axes of `y`'s dimensions, given those of the reshape's result.
fn reshape_axes(y_dims: &[u32], v_dims: &[u32], axes: &[usize]) -> Option<Vec<usize>> {
    let mut v_big = v_dims.iter().zip(axes).filter(|(d, _)| **d != 1).map(|(_, a)| *a);
    let mut out = Vec::with_capacity(y_dims.len());
    for d in y_dims {
        if *d == 1 {
            // Broadcast from 1: any axis will do.
            out.push(axes.first().copied().unwrap_or(0));
        } else {
            out.push(v_big.next()?);
        }
    }
    v_big.next().is_none().then_some(out)
}

/// Whether `v` is a reduction's result with its axis put back as a unit
/// dimension (`expand_dims(sum(x, axis), axis)`) and `shape` is `x`'s:
/// broadcasting it there moves nothing (every lane still holds its rows'
/// results, see `layouts::reduction_put_back`), so the rebuilt
/// expression stops at that broadcast.
fn reduction_leaf(f: &Function, v: Value, shape: &[u32], axes: &[usize]) -> bool {
    // (An axis of length 1 needs no broadcast at all.)
    shape.len() > 1
        && f.ty(v).shape != shape
        && axes.iter().copied().eq(0..shape.len())
        && crate::layouts::reduction_put_back(f, v, shape).is_some()
}

/// Whether the load `load` can be issued again at position `at` of block
/// `b` instead: it is earlier in the same block, and nothing between can
/// write memory.
fn load_movable(f: &Function, load: OpId, (b, at): (BlockId, usize)) -> bool {
    let ops = &f.block(b).ops;
    let Some(from) = ops.iter().position(|o| *o == load) else {
        return false;
    };
    from < at
        && ops[from + 1..at].iter().all(|o| {
            let d = f.op(*o);
            d.regions.is_empty() && !d.kind.has_side_effects()
        })
}

/// Whether `v` (whose dimensions map to `axes` of `shape`) can be rebuilt
/// in `shape` (counting operations) at position `at` (a block and index).
fn plan(f: &Function, v: Value, shape: &[u32], axes: &[usize], nodes: &mut usize, at: (BlockId, usize)) -> bool {
    *nodes += 1;
    let t = f.ty(v);
    if *nodes > MAX_NODES || !fits(&t.shape, shape, axes) {
        return false;
    }
    let Some(op) = f.def_op(v) else { return false };
    let d = f.op(op);
    match &d.kind {
        OpKind::Splat => true,
        OpKind::MakeRange { .. } => true,
        OpKind::Broadcast => plan(f, d.operands[0], shape, axes, nodes, at),
        OpKind::Reshape if reduction_leaf(f, v, shape, axes) => true,
        OpKind::Reshape => {
            let y = d.operands[0];
            reshape_axes(&f.ty(y).shape, &t.shape, axes).is_some_and(|ya| plan(f, y, shape, &ya, nodes, at))
        }
        OpKind::Load { .. } if load_movable(f, op, at) => d
            .operands
            .iter()
            .all(|o| !f.ty(*o).is_block() || plan(f, *o, shape, axes, nodes, at)),
        k if k.is_elementwise() => d
            .operands
            .iter()
            .all(|o| !f.ty(*o).is_block() || plan(f, *o, shape, axes, nodes, at)),
        _ => false,
    }
}

/// Emits (into `out`) operations computing `broadcast(v)` in `shape`.
fn build(
    f: &mut Function,
    v: Value,
    shape: &[u32],
    axes: &[usize],
    loc: Loc,
    out: &mut Vec<OpId>,
    memo: &mut HashMap<(Value, Vec<usize>), Value>,
) -> Value {
    let key = (v, axes.to_vec());
    if let Some(done) = memo.get(&key) {
        return *done;
    }
    let t = f.ty(v).clone();
    if !t.is_block() {
        // A scalar operand stays as it is.
        return v;
    }
    let op = f.def_op(v).expect("planned values are operation results");
    let d = f.op(op).clone();
    let new_ty = Type::block(t.elem, shape.to_vec());
    let r = match &d.kind {
        OpKind::Splat => emit(f, OpKind::Splat, vec![d.operands[0]], new_ty, loc, out),
        OpKind::MakeRange { start, end } => {
            if end - start == 1 {
                let c = emit(
                    f,
                    OpKind::Constant(ConstValue::Int(i64::from(*start))),
                    Vec::new(),
                    Type::scalar(ScalarType::I32),
                    loc,
                    out,
                );
                emit(f, OpKind::Splat, vec![c], new_ty, loc, out)
            } else {
                iota(f, shape, axes[0], *start, loc, out)
            }
        }
        OpKind::Broadcast => build(f, d.operands[0], shape, axes, loc, out, memo),
        OpKind::Reshape if reduction_leaf(f, v, shape, axes) => emit(f, OpKind::Broadcast, vec![v], new_ty, loc, out),
        OpKind::Reshape => {
            let y = d.operands[0];
            let ya = reshape_axes(&f.ty(y).shape, &t.shape, axes).expect("planned");
            build(f, y, shape, &ya, loc, out, memo)
        }
        kind => {
            let operands: Vec<Value> = d
                .operands
                .iter()
                .map(|o| build(f, *o, shape, axes, loc, out, memo))
                .collect();
            emit(f, kind.clone(), operands, new_ty, loc, out)
        }
    };
    memo.insert(key, r);
    r
}

fn emit(f: &mut Function, kind: OpKind, operands: Vec<Value>, ty: Type, loc: Loc, out: &mut Vec<OpId>) -> Value {
    let op = f.create_op(kind, operands, vec![ty], Vec::new(), loc);
    out.push(op);
    f.op(op).results[0]
}

/// `start +` the coordinate along `axis` of every element of `shape`: a
/// range along that axis, broadcast (which code generation computes in
/// place, see [`range_broadcast`]).
fn iota(f: &mut Function, shape: &[u32], axis: usize, start: i32, loc: Loc, out: &mut Vec<OpId>) -> Value {
    let len = shape[axis];
    let range = emit(
        f,
        OpKind::MakeRange {
            start,
            end: start + len as i32,
        },
        Vec::new(),
        Type::block(Elem::Scalar(ScalarType::I32), vec![len]),
        loc,
        out,
    );
    let mut unit = vec![1; shape.len()];
    unit[axis] = len;
    let shaped = emit(
        f,
        OpKind::Reshape,
        vec![range],
        Type::block(Elem::Scalar(ScalarType::I32), unit.clone()),
        loc,
        out,
    );
    if unit == shape {
        return shaped;
    }
    emit(
        f,
        OpKind::Broadcast,
        vec![shaped],
        Type::block(Elem::Scalar(ScalarType::I32), shape.to_vec()),
        loc,
        out,
    )
}

/// For a broadcast of a range along one axis (`broadcast(expand_dims(
/// arange(s, e)))`): the range's start and its axis. Every element's value
/// is its coordinate plus the start, so no element needs to move.
pub fn range_broadcast(f: &Function, op: OpId) -> Option<(i32, usize)> {
    let d = f.op(op);
    if !matches!(d.kind, OpKind::Broadcast) {
        return None;
    }
    let src = d.operands[0];
    let shape = &f.ty(d.results[0]).shape;
    let (start, axis) = range_axis(f, src)?;
    (f.ty(src).shape[axis] == shape[axis]).then_some((start, axis))
}

/// For a range made N-D by unit dimensions: its start and its axis.
fn range_axis(f: &Function, v: Value) -> Option<(i32, usize)> {
    let op = f.def_op(v)?;
    let d = f.op(op);
    if !matches!(d.kind, OpKind::Reshape) {
        return None;
    }
    let range = f.def_op(d.operands[0])?;
    let OpKind::MakeRange { start, end } = f.op(range).kind else {
        return None;
    };
    let shape = &f.ty(v).shape;
    let len = (i64::from(end) - i64::from(start)) as u32;
    let mut along = shape.iter().enumerate().filter(|(_, s)| **s != 1);
    match (along.next(), along.next()) {
        (Some((axis, s)), None) if *s == len => Some((start, axis)),
        _ => None,
    }
}
