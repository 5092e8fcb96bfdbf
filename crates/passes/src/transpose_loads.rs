//! Loads of a matrix `dot`'s second operand that memory holds transposed.
//!
//! `b: [K, N]` is often loaded from memory where consecutive addresses run
//! along `K` (attention's `k` tile: `k + cols[None, :] * stride +
//! offs_d[:, None]`). In the blocked layout, whose runs lie along the last
//! dimension, that is one narrow load per element. When a matrix
//! instruction runs the dot, its staging writes `b` into shared memory
//! transposed anyway (`N` rows of `K`), so this pass loads `b^T: [N, K]`
//! instead, whose runs are contiguous in memory (wide loads), and gives
//! the dot `permute(b^T)`: [`folded_into_dot`] tells the code generator to
//! stage `b^T` row by row, moving nothing between lanes.
//!
//! `b^T`'s pointers, mask and `other` are the same expressions with the
//! two dimensions swapped: the transposition is pushed through splats,
//! broadcasts, `expand_dims` reshapes of 1-D blocks and elementwise
//! operations, down to the scalars and 1-D ranges they come from. Nothing
//! else is rewritten (such a load keeps its layout), nor is a load whose
//! transposed addresses are not more contiguous than its own (the axis
//! analysis decides). A tile that software pipelining carries through
//! the loop (`num_stages` 2: the dot's operand is a loop argument, loaded
//! once before the loop and once in the body for the next iteration) is
//! rewritten in both loads and carried transposed; deeper pipelines (a
//! tile passed along several carried slots) are not, yet.
//!
//! Guarantees: the dot computes the same values (the loaded elements are
//! the same, each read once); only GPU functions whose dots run on matrix
//! instructions change; dead operations left behind are removed.

use crate::axis;
use crate::layouts::insert_before;
use std::collections::HashMap;
use tritonc_ir::{BlockId, Function, Layout, OpId, OpKind, Type, Value, ValueDef};

/// Rewrites the loads of the second operands of the dots `is_matrix_dot`
/// accepts; whether anything changed.
pub fn run(f: &mut Function, is_matrix_dot: &dyn Fn(&Function, OpId) -> bool) -> bool {
    let dots: Vec<OpId> = f
        .walk()
        .into_iter()
        .filter(|op| matches!(f.op(*op).kind, OpKind::Dot))
        .collect();
    let mut changed = false;
    for dot in dots {
        let b = f.op(dot).operands[1];
        if f.ty(b).shape.len() != 2 || f.use_counts()[b.index()] != 1 || !is_matrix_dot(f, dot) {
            continue;
        }
        changed |= match f.value(b).def {
            ValueDef::Result(load, _) => direct(f, dot, load),
            ValueDef::Arg(body, slot) => carried(f, dot, body, slot),
        };
    }
    crate::dce::function(f);
    changed
}

/// `b` loaded right there: `dot(a, permute(load(b^T's addresses)))`.
fn direct(f: &mut Function, dot: OpId, load: OpId) -> bool {
    if !matches!(f.op(load).kind, OpKind::Load { .. }) {
        return false;
    }
    let b = f.op(dot).operands[1];
    let before = axis::analyze(f);
    let Some(t_load) = transposed_load(f, load) else {
        return false;
    };
    let t_b = f.op(t_load).results[0];
    let loc = f.op(load).loc;
    let permute = f.create_op(
        OpKind::Permute(vec![1, 0]),
        vec![t_b],
        vec![f.ty(b).clone()],
        Vec::new(),
        loc,
    );
    insert_before(f, load, permute);
    f.op_mut(dot).operands[1] = f.op(permute).results[0];
    if wider(f, &before, load, t_load) {
        true
    } else {
        // No wider loads: keep the original (the new operations die).
        f.op_mut(dot).operands[1] = b;
        false
    }
}

/// `b` a value a loop carries (software pipelining loads the next
/// iteration's tile and yields it; the first comes from before the
/// loop): both loads become loads of `b^T`, the loop carries `b^T`, and
/// the dot takes `permute(b^T)`.
fn carried(f: &mut Function, dot: OpId, body: BlockId, arg: u32) -> bool {
    let Some(slot) = (arg as usize).checked_sub(1) else {
        return false;
    };
    let Some(for_op) = f.for_of_body(body) else {
        return false;
    };
    let Some(&yield_op) = f.block(body).ops.last() else {
        return false;
    };
    let (Some(&init), Some(&next), Some(&result)) = (
        f.op(for_op).operands.get(3 + slot),
        f.op(yield_op).operands.get(slot),
        f.op(for_op).results.get(slot),
    ) else {
        return false;
    };
    let uses = f.use_counts();
    let single_load = |v: Value| {
        uses[v.index()] == 1
            && f.def_op(v)
                .is_some_and(|op| matches!(f.op(op).kind, OpKind::Load { .. }))
    };
    if !single_load(init) || !single_load(next) || uses[result.index()] != 0 {
        return false;
    }
    let (first_load, next_load) = (f.def_op(init).unwrap_or(for_op), f.def_op(next).unwrap_or(for_op));
    let before = axis::analyze(f);
    let (Some(t_first), Some(t_next)) = (transposed_load(f, first_load), transposed_load(f, next_load)) else {
        return false;
    };
    let b = f.block(body).args[arg as usize];
    let ty = f.ty(b).clone();
    let (t_init, t_yielded) = (f.op(t_first).results[0], f.op(t_next).results[0]);
    f.op_mut(for_op).operands[3 + slot] = t_init;
    f.op_mut(yield_op).operands[slot] = t_yielded;
    f.values[b.index()].ty = swapped(&ty);
    f.values[result.index()].ty = swapped(&ty);
    let loc = f.op(dot).loc;
    let permute = f.create_op(OpKind::Permute(vec![1, 0]), vec![b], vec![ty.clone()], Vec::new(), loc);
    insert_before(f, dot, permute);
    f.op_mut(dot).operands[1] = f.op(permute).results[0];
    if wider(f, &before, next_load, t_next) {
        true
    } else {
        f.op_mut(for_op).operands[3 + slot] = init;
        f.op_mut(yield_op).operands[slot] = next;
        f.values[b.index()].ty = ty.clone();
        f.values[result.index()].ty = ty;
        f.op_mut(dot).operands[1] = b;
        false
    }
}

/// A load of `load`'s block transposed, its operands' expressions
/// transposed, put right before `load`; None when some expression cannot
/// be.
fn transposed_load(f: &mut Function, load: OpId) -> Option<OpId> {
    let mut memo = HashMap::new();
    let mut created = Vec::new();
    let operands = f
        .op(load)
        .operands
        .clone()
        .into_iter()
        .map(|v| transposed(f, v, &mut memo, &mut created))
        .collect::<Option<Vec<Value>>>()?;
    let (kind, loc, ty) = (
        f.op(load).kind.clone(),
        f.op(load).loc,
        swapped(f.ty(f.op(load).results[0])),
    );
    let t_load = f.create_op(kind, operands, vec![ty], Vec::new(), loc);
    created.push(t_load);
    for op in created {
        insert_before(f, load, op);
    }
    Some(t_load)
}

/// Whether `t_load`'s addresses are more contiguous than `load`'s, by the
/// axis analysis (`before`: of the function before the rewrite).
fn wider(f: &Function, before: &HashMap<Value, axis::AxisInfo>, load: OpId, t_load: OpId) -> bool {
    let after = axis::analyze(f);
    let contiguity =
        |info: &HashMap<Value, axis::AxisInfo>, op: OpId| info.get(&f.op(op).operands[0]).map_or(1, |i| i.contiguity);
    contiguity(&after, t_load) > contiguity(before, load)
}

/// The type of `t` (2-D) with its dimensions swapped.
fn swapped(t: &Type) -> Type {
    Type {
        elem: t.elem,
        shape: vec![t.shape[1], t.shape[0]],
    }
}

/// `v` (a 2-D block) transposed, computed by new operations (appended to
/// `created` in an order that defines operands first); None when `v`'s
/// expression contains something the transposition cannot be pushed
/// through.
fn transposed(f: &mut Function, v: Value, memo: &mut HashMap<Value, Value>, created: &mut Vec<OpId>) -> Option<Value> {
    if let Some(t) = memo.get(&v) {
        return Some(*t);
    }
    let ty = f.ty(v).clone();
    if ty.shape.len() != 2 {
        return None;
    }
    let def = f.def_op(v)?;
    let d = f.op(def).clone();
    let t = match &d.kind {
        OpKind::Permute(order) if *order == [1, 0] => d.operands[0],
        OpKind::Splat => new_op(f, created, OpKind::Splat, d.operands.clone(), swapped(&ty), d.loc),
        OpKind::Broadcast => {
            let x = transposed(f, d.operands[0], memo, created)?;
            new_op(f, created, OpKind::Broadcast, vec![x], swapped(&ty), d.loc)
        }
        // `expand_dims` of a 1-D block: the same elements, the unit
        // dimension on the other side.
        OpKind::Reshape if f.ty(d.operands[0]).shape.len() == 1 && ty.shape.contains(&1) => {
            new_op(f, created, OpKind::Reshape, d.operands.clone(), swapped(&ty), d.loc)
        }
        k if k.is_elementwise() => {
            let mut operands = Vec::with_capacity(d.operands.len());
            for o in &d.operands {
                operands.push(if f.ty(*o).is_block() {
                    transposed(f, *o, memo, created)?
                } else {
                    *o
                });
            }
            new_op(f, created, d.kind.clone(), operands, swapped(&ty), d.loc)
        }
        _ => return None,
    };
    memo.insert(v, t);
    Some(t)
}

fn new_op(
    f: &mut Function,
    created: &mut Vec<OpId>,
    kind: OpKind,
    operands: Vec<Value>,
    ty: Type,
    loc: tritonc_ir::Loc,
) -> Value {
    let op = f.create_op(kind, operands, vec![ty], Vec::new(), loc);
    created.push(op);
    f.op(op).results[0]
}

/// Whether `op` is a transposition the code generator folds into the
/// staging of a matrix dot's second operand: `[1, 0]`, used only there,
/// the dot in a matrix layout (`Function::layouts`). Its result then
/// holds its operand's registers unmoved. (This pass makes them; a user's
/// `trans` in that place is folded too.)
pub fn folded_into_dot(f: &Function, op: OpId) -> bool {
    folded_into(f, op, &|v| {
        matches!(f.layouts.as_ref().and_then(|l| l.get(&v)), Some(Layout::Matrix(_)))
    })
}

/// [`folded_into_dot`] before layouts are assigned: `is_matrix` tells
/// whether a dot's result will have a matrix layout.
pub fn folded_into(f: &Function, op: OpId, is_matrix: &dyn Fn(Value) -> bool) -> bool {
    let d = f.op(op);
    if !matches!(&d.kind, OpKind::Permute(order) if *order == [1, 0]) {
        return false;
    }
    let r = d.results[0];
    let mut users = f.walk().into_iter().filter(|u| f.op(*u).operands.contains(&r));
    let (Some(user), None) = (users.next(), users.next()) else {
        return false;
    };
    let u = f.op(user);
    matches!(u.kind, OpKind::Dot)
        && u.operands.iter().position(|o| *o == r) == Some(1)
        && u.operands.iter().filter(|o| **o == r).count() == 1
        && is_matrix(u.results[0])
}
