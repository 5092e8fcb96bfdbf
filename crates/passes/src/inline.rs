//! Inlining: replaces every `tk.call` by a copy of the callee's body and
//! then drops the helper functions.
//!
//! Guarantees: afterwards the module holds only kernels and no `tk.call`.
//! Helpers are never recursive (the front end rejects it), so repeated
//! inlining terminates; a bound guards against malformed input anyway.

use crate::PassError;
use std::collections::HashMap;
use tritonc_ir::{BlockId, Function, Module, OpKind, Value};

const MAX_ROUNDS: usize = 64;

pub fn run(m: &mut Module) -> Result<(), PassError> {
    let helpers: HashMap<String, Function> = m
        .functions
        .iter()
        .filter(|f| !f.is_kernel)
        .map(|f| (f.name.clone(), f.clone()))
        .collect();
    for f in m.functions.iter_mut().filter(|f| f.is_kernel) {
        for _ in 0..MAX_ROUNDS {
            if !inline_once(f, &helpers)? {
                break;
            }
        }
        if f.walk().iter().any(|op| matches!(f.op(*op).kind, OpKind::Call(_))) {
            return Err(PassError::Inline(format!("calls nested too deeply in `{}`", f.name)));
        }
    }
    m.functions.retain(|f| f.is_kernel);
    Ok(())
}

/// Inlines every call in `f` one level deep; returns whether any was found.
fn inline_once(f: &mut Function, helpers: &HashMap<String, Function>) -> Result<bool, PassError> {
    let blocks: Vec<BlockId> = std::iter::once(f.entry)
        .chain(f.walk().iter().flat_map(|op| f.op(*op).regions.clone()))
        .collect();
    let mut changed = false;
    let mut subst = HashMap::new();
    for b in blocks {
        let ops = f.block(b).ops.clone();
        let mut new_ops = Vec::with_capacity(ops.len());
        for op in ops {
            let OpKind::Call(callee) = &f.op(op).kind else {
                new_ops.push(op);
                continue;
            };
            let callee = helpers
                .get(callee)
                .ok_or_else(|| PassError::Inline(format!("unknown callee `{callee}`")))?;
            changed = true;
            let mut map: HashMap<Value, Value> = callee
                .params()
                .iter()
                .copied()
                .zip(f.op(op).operands.iter().copied())
                .collect();
            let body = callee.block(callee.entry).ops.clone();
            let (last, rest) = body
                .split_last()
                .ok_or_else(|| PassError::Inline(format!("`{}` has an empty body", callee.name)))?;
            for &cop in rest {
                new_ops.push(clone_op(callee, cop, f, &mut map));
            }
            // The callee's `tk.return` operands stand for the call's results.
            let returned = &callee.op(*last).operands;
            for (r, v) in f.op(op).results.clone().iter().zip(returned) {
                subst.insert(*r, map.get(v).copied().unwrap_or(*v));
            }
        }
        f.block_mut(b).ops = new_ops;
    }
    f.substitute(&subst);
    Ok(changed)
}

/// Copies operation `op` of `src` (with its regions) into `dst`'s arenas,
/// mapping operands through `map` and recording the new results there.
pub fn clone_op(
    src: &Function,
    op: tritonc_ir::OpId,
    dst: &mut Function,
    map: &mut HashMap<Value, Value>,
) -> tritonc_ir::OpId {
    let data = src.op(op);
    let operands = data
        .operands
        .iter()
        .map(|v| map.get(v).copied().unwrap_or(*v))
        .collect();
    let mut regions = Vec::new();
    for &r in &data.regions {
        let arg_types = src.block(r).args.iter().map(|a| src.ty(*a).clone()).collect();
        let nb = dst.new_block(arg_types);
        for (a, na) in src.block(r).args.iter().zip(dst.block(nb).args.clone()) {
            map.insert(*a, na);
        }
        let inner: Vec<_> = src.block(r).ops.iter().map(|o| clone_op(src, *o, dst, map)).collect();
        dst.block_mut(nb).ops = inner;
        regions.push(nb);
    }
    let result_types = data.results.iter().map(|v| src.ty(*v).clone()).collect();
    let new = dst.create_op(data.kind.clone(), operands, result_types, regions, data.loc);
    for (a, b) in data.results.iter().zip(dst.op(new).results.clone()) {
        map.insert(*a, b);
    }
    new
}
