//! Layout assignment: tile IR to Dist IR for a program of `lanes` lanes.
//!
//! Every block value gets the blocked layout of its element count (so
//! elementwise operations and reshapes never move data), every scalar is
//! uniform. Operations that need elements other lanes hold — broadcasts of
//! multi-element blocks, transpositions, reductions, scans — get their
//! operand through an explicit `tk.convert_layout` into shared memory,
//! inserted right before them. A conversion of the same value as the
//! previous conversion in the same block, with no other conversion in
//! between, is redundant (the shared copy is still there) and is removed.
//!
//! `tk.dot` reads its operands through shared memory too, but stages them
//! itself (both at once, at different offsets); it gets no conversion.
//!
//! With one lane (the host) nothing moves between lanes: no conversions.

use crate::PassError;
use std::collections::HashMap;
use tritonc_ir::{BlockId, BlockedLayout, Function, Layout, OpId, OpKind, Value};

/// Whether `op` reads its operand through shared memory. Reductions of a
/// 1-D block to a scalar do not: they combine in registers and exchange
/// partial results between lanes (a butterfly), see `tree_reduction`.
pub fn moves_elements(f: &Function, op: OpId) -> bool {
    let d = f.op(op);
    match d.kind {
        OpKind::Broadcast => d.operands.first().is_some_and(|v| f.ty(*v).numel() != 1),
        OpKind::Reduce { .. } => !tree_reduction(f, op),
        OpKind::Permute(_) | OpKind::ArgReduce { .. } | OpKind::Scan { .. } => true,
        _ => false,
    }
}

/// Whether `op` reduces a whole 1-D block to a scalar, which every target
/// does as a balanced pairwise tree over the elements in index order (so
/// that the result is the same on every target).
pub fn tree_reduction(f: &Function, op: OpId) -> bool {
    let d = f.op(op);
    matches!(d.kind, OpKind::Reduce { .. }) && d.operands.first().is_some_and(|v| f.ty(*v).shape.len() == 1)
}

/// Assigns layouts and inserts conversions; `f` becomes Dist IR.
pub fn assign(f: &mut Function, lanes: u32) -> Result<(), PassError> {
    if lanes > 1 {
        let blocks: Vec<BlockId> = std::iter::once(f.entry)
            .chain(f.walk().iter().flat_map(|op| f.op(*op).regions.clone()))
            .collect();
        for b in blocks {
            insert_conversions(f, b);
        }
    }
    let mut layouts = HashMap::new();
    for (i, v) in f.values.iter().enumerate() {
        let layout = if v.ty.is_block() {
            Layout::Blocked(BlockedLayout::new(v.ty.numel() as u32, lanes))
        } else {
            Layout::Uniform
        };
        layouts.insert(Value(i as u32), layout);
    }
    for op in f.walk() {
        if matches!(f.op(op).kind, OpKind::ConvertLayout) {
            layouts.insert(f.op(op).results[0], Layout::Shared);
        }
    }
    f.layouts = Some(layouts);
    Ok(())
}

fn insert_conversions(f: &mut Function, b: BlockId) {
    let ops = f.block(b).ops.clone();
    let mut out = Vec::with_capacity(ops.len());
    // The value the shared memory holds, and the conversion that put it there.
    let mut shared: Option<(Value, Value)> = None;
    for op in ops {
        if !f.op(op).regions.is_empty() || tree_reduction(f, op) || matches!(f.op(op).kind, OpKind::Dot) {
            // Conversions inside regions, the exchanges of tree
            // reductions, and `dot` (which stages its operands there)
            // overwrite shared memory.
            shared = None;
        }
        if moves_elements(f, op) {
            let src = f.op(op).operands[0];
            let converted = match shared {
                Some((held, conv)) if held == src => conv,
                _ => {
                    let ty = f.ty(src).clone();
                    let loc = f.op(op).loc;
                    let conv = f.create_op(OpKind::ConvertLayout, vec![src], vec![ty], Vec::new(), loc);
                    out.push(conv);
                    let r = f.op(conv).results[0];
                    shared = Some((src, r));
                    r
                }
            };
            f.op_mut(op).operands[0] = converted;
        }
        out.push(op);
    }
    f.block_mut(b).ops = out;
}
