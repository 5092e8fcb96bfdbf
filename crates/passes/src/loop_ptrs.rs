//! Loop-carried pointer blocks as scalar bases: a `for` that carries a
//! block of pointers `splat(base) + o1 + .. + on` (offsets defined before
//! the loop) and advances it by a uniform amount each iteration
//! (`p + splat(d)`) carries the scalar `base` instead, advanced by `d`;
//! the block is rebuilt from it at the top of the body (and after the
//! loop, for uses of the result).
//!
//! Why: a carried block of pointers is 64 bits per element in every lane
//! (a 128×64 tile of pointers over 128 lanes is 128 registers) and its
//! update is one 64-bit add per element, although a 128-bit load reads
//! only one pointer per 8 elements. Rebuilt from a scalar base each
//! iteration, only the pointers a load uses are computed, the offsets stay
//! in 32-bit registers, and the base stays in scalar registers (with
//! `small_buffers`, loads take the scalar base and a 32-bit offset
//! directly). This is what Triton's AMD pointer canonicalization does.
//!
//! Exact: pointer additions wrap modulo 2^64 and commute, so
//! `((base + o) + d0) + d1 = ((base + d0) + d1) + o` element for element.
//! Guarantees: the function verifies afterwards; the old update (`p +
//! splat(d)`) is left for DCE when nothing else uses it.

use crate::PassError;
use std::collections::HashMap;
use tritonc_ir::{Elem, Function, Module, OpId, OpKind, Type, Value};

pub fn run(m: &mut Module) -> Result<(), PassError> {
    for f in &mut m.functions {
        for op in f.walk() {
            if matches!(f.op(op).kind, OpKind::For) {
                let slots = f.op(op).results.len();
                for slot in 0..slots {
                    rewrite_slot(f, op, slot);
                }
            }
        }
    }
    Ok(())
}

/// `v = splat(base) + o1 + .. + on`: the scalar base and the offsets
/// (innermost first).
pub fn based_block(f: &Function, v: Value) -> Option<(Value, Vec<Value>)> {
    let mut offsets = Vec::new();
    let mut at = v;
    loop {
        let d = f.op(f.def_op(at)?);
        match d.kind {
            OpKind::AddPtr => {
                offsets.push(d.operands[1]);
                at = d.operands[0];
            }
            OpKind::Splat => {
                offsets.reverse();
                return Some((d.operands[0], offsets));
            }
            _ => return None,
        }
    }
}

/// `y = p + splat(d)`: the scalar `d`.
fn uniform_step(f: &Function, y: Value, p: Value) -> Option<Value> {
    let d = f.op(f.def_op(y)?);
    if !matches!(d.kind, OpKind::AddPtr) || d.operands[0] != p {
        return None;
    }
    let s = f.op(f.def_op(d.operands[1])?);
    matches!(s.kind, OpKind::Splat).then(|| s.operands[0])
}

/// Ops rebuilding `splat(base) + o1 + .. + on` of type `ty`; gives them
/// and the rebuilt value.
fn rebuild(f: &mut Function, base: Value, offsets: &[Value], ty: &Type, at: OpId) -> (Vec<OpId>, Value) {
    let loc = f.op(at).loc;
    let splat = f.create_op(OpKind::Splat, vec![base], vec![ty.clone()], Vec::new(), loc);
    let mut ops = vec![splat];
    let mut v = f.op(splat).results[0];
    for &o in offsets {
        let add = f.create_op(OpKind::AddPtr, vec![v, o], vec![ty.clone()], Vec::new(), loc);
        ops.push(add);
        v = f.op(add).results[0];
    }
    (ops, v)
}

fn rewrite_slot(f: &mut Function, for_op: OpId, slot: usize) {
    let d = f.op(for_op).clone();
    let (init, result) = (d.operands[3 + slot], d.results[slot]);
    let ty = f.ty(result).clone();
    let Elem::Ptr(_) = ty.elem else { return };
    if !ty.is_block() {
        return;
    }
    let body = d.regions[0];
    let arg = f.block(body).args[1 + slot];
    let Some(&yield_op) = f.block(body).ops.last() else {
        return;
    };
    let yielded = f.op(yield_op).operands[slot];
    let Some((base, offsets)) = based_block(f, init) else {
        return;
    };
    let step = if yielded == arg {
        None
    } else {
        match uniform_step(f, yielded, arg) {
            Some(s) => Some(s),
            None => return,
        }
    };
    let scalar = Type::block(ty.elem, Vec::new());
    // The slot now carries the scalar base.
    f.op_mut(for_op).operands[3 + slot] = base;
    f.values[arg.index()].ty = scalar.clone();
    f.values[result.index()].ty = scalar.clone();
    // Inside: the block rebuilt first, the base advanced last.
    let (ops, inner) = rebuild(f, arg, &offsets, &ty, for_op);
    // (`arg` is only used in the body; the rebuilding ops are in no block
    // yet, so they keep it.)
    f.substitute(&HashMap::from([(arg, inner)]));
    f.block_mut(body).ops.splice(0..0, ops);
    let advanced = match step {
        Some(s) => {
            let loc = f.op(yield_op).loc;
            let add = f.create_op(OpKind::AddPtr, vec![arg, s], vec![scalar], Vec::new(), loc);
            let n = f.block(body).ops.len();
            f.block_mut(body).ops.insert(n - 1, add);
            f.op(add).results[0]
        }
        None => arg,
    };
    f.op_mut(yield_op).operands[slot] = advanced;
    // After: uses of the result get the rebuilt block.
    let (ops, outer) = rebuild(f, result, &offsets, &ty, for_op);
    let parent = f.block_of(for_op).unwrap_or(f.entry);
    let at = f
        .block(parent)
        .ops
        .iter()
        .position(|o| *o == for_op)
        .map_or(0, |i| i + 1);
    // (The rebuilding ops are in no block yet, so they keep `result`.)
    f.substitute(&HashMap::from([(result, outer)]));
    f.block_mut(parent).ops.splice(at..at, ops);
}
