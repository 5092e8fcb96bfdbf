//! Software pipelining of `for` loops that feed `dot`s (Triton's
//! `num_stages`): the loads of iteration `i + d` (`d = num_stages - 1`)
//! are issued at the top of iteration `i`, before its `dot`, so their
//! memory latency overlaps the matrix work instead of stalling it.
//!
//! ```text
//! for i in lb..ub {              a0 = load(p(lb), m(lb) & lb < ub)
//!   a = load(p(i), m(i))         for i in lb..ub (.., cur = a0) {
//!   acc = dot(a, .., acc)    =>    next = load(p(i + 1), m(i + 1) & i + 1 < ub)
//!   p += step                      acc = dot(cur, .., acc)
//! }                                p += step; yield .., next
//!                                }
//! ```
//!
//! A load is pipelined when its result is an operand of a `dot` in the
//! loop body and its operands are computed, within the body, only from
//! the induction variable, values defined before the loop and carried
//! values whose next value is itself computed that way ("early" carried
//! values, like pointers advanced by a stride). Those computations are
//! cloned for the later iterations (the prologue clones them `d` times
//! before the loop); the loads get the extra predicate `j < ub` for their
//! iteration `j` (computed in 64 bits), so a load past the last iteration
//! touches no memory.
//!
//! Only loops that can be reordered safely are touched: an `i32`
//! induction variable with a constant positive step, and a body without
//! stores, atomics, asserts, calls or nested regions (a store could alias
//! a later iteration's load); the cloned computations contain no
//! division or remainder (which could trap for an iteration that does not
//! exist) and no loads. Loaded values are the same, so results are bit
//! for bit those of the loop before. Guarantees: the function verifies
//! afterwards; the original loads and their address computations are left
//! for DCE, the duplicated stride computations for CSE.

use crate::PassError;
use std::collections::{HashMap, HashSet};
use tritonc_ir::{
    BinaryOp, BlockId, CmpPred, ConstValue, Elem, Function, Loc, Module, OpId, OpKind, ScalarType, Type, Value,
    ValueDef,
};

pub fn run(m: &mut Module) -> Result<(), PassError> {
    for f in &mut m.functions {
        let distance = f.options.num_stages.saturating_sub(1);
        if distance == 0 {
            continue;
        }
        for op in f.walk() {
            if matches!(f.op(op).kind, OpKind::For) {
                pipeline_loop(f, op, distance);
            }
        }
    }
    Ok(())
}

/// Whether an op may be cloned into another iteration's computation.
fn clonable(kind: &OpKind) -> bool {
    !kind.has_side_effects()
        && !matches!(
            kind,
            OpKind::Load { .. } | OpKind::Dot | OpKind::ConvertLayout | OpKind::Binary(BinaryOp::Div | BinaryOp::Rem)
        )
}

/// The ops of `body` (top level, in order) computing `roots`, if they
/// are all clonable and reach only `allowed` arguments of `body`.
fn slice(f: &Function, body: BlockId, roots: &[Value], allowed: &HashSet<Value>) -> Option<Vec<OpId>> {
    let in_body: HashSet<OpId> = f.block(body).ops.iter().copied().collect();
    let mut needed = HashSet::new();
    let mut stack: Vec<Value> = roots.to_vec();
    let mut seen = HashSet::new();
    while let Some(v) = stack.pop() {
        if !seen.insert(v) {
            continue;
        }
        match f.value(v).def {
            ValueDef::Arg(b, _) if b == body => {
                if !allowed.contains(&v) {
                    return None;
                }
            }
            ValueDef::Arg(..) => {}
            ValueDef::Result(op, _) => {
                if !in_body.contains(&op) {
                    continue;
                }
                let d = f.op(op);
                if !clonable(&d.kind) || !d.regions.is_empty() {
                    return None;
                }
                needed.insert(op);
                stack.extend(d.operands.iter().copied());
            }
        }
    }
    Some(
        f.block(body)
            .ops
            .iter()
            .copied()
            .filter(|op| needed.contains(op))
            .collect(),
    )
}

/// Builds new ops into a list, mapping cloned values.
struct Builder<'a> {
    f: &'a mut Function,
    ops: Vec<OpId>,
    loc: Loc,
}

impl Builder<'_> {
    fn op(&mut self, kind: OpKind, operands: Vec<Value>, ty: Type) -> Value {
        let op = self.f.create_op(kind, operands, vec![ty], Vec::new(), self.loc);
        self.ops.push(op);
        self.f.op(op).results[0]
    }

    fn int(&mut self, s: ScalarType, c: i64) -> Value {
        self.op(OpKind::Constant(ConstValue::Int(c)), Vec::new(), Type::scalar(s))
    }

    /// Clones `ops` with operands mapped by `map` (others unchanged),
    /// recording their results' images in `map`.
    fn clone_ops(&mut self, ops: &[OpId], map: &mut HashMap<Value, Value>) {
        for &op in ops {
            let d = self.f.op(op).clone();
            let operands = d.operands.iter().map(|v| *map.get(v).unwrap_or(v)).collect();
            let types = d.results.iter().map(|v| self.f.ty(*v).clone()).collect();
            let new = self.f.create_op(d.kind.clone(), operands, types, Vec::new(), d.loc);
            self.ops.push(new);
            for (old, new) in d.results.iter().zip(self.f.op(new).results.clone()) {
                map.insert(*old, new);
            }
        }
    }

    /// `iv + offset < ub` in 64 bits, for an `i32` `iv` and `ub`.
    fn in_range(&mut self, iv: Value, offset: i64, ub: Value) -> Value {
        let wide = Type::scalar(ScalarType::I64);
        let iv64 = self.op(OpKind::Cast, vec![iv], wide.clone());
        let ub64 = self.op(OpKind::Cast, vec![ub], wide.clone());
        let off = self.int(ScalarType::I64, offset);
        let at = self.op(OpKind::Binary(BinaryOp::Add), vec![iv64, off], wide);
        self.op(OpKind::Cmp(CmpPred::Lt), vec![at, ub64], Type::scalar(ScalarType::I1))
    }

    /// The pipelined loads under `map`, each also predicated on `pred`.
    fn loads(&mut self, loads: &[OpId], map: &HashMap<Value, Value>, pred: Value) -> Vec<Value> {
        let mut out = Vec::new();
        for &l in loads {
            let d = self.f.op(l).clone();
            let OpKind::Load { mask, other } = d.kind else { continue };
            let get = |i: usize| *map.get(&d.operands[i]).unwrap_or(&d.operands[i]);
            let ty = self.f.ty(d.results[0]).clone();
            let mask_ty = ty.with_elem(Elem::Scalar(ScalarType::I1));
            let splat = self.op(OpKind::Splat, vec![pred], mask_ty.clone());
            let new_mask = if mask {
                self.op(OpKind::Binary(BinaryOp::And), vec![get(1), splat], mask_ty)
            } else {
                splat
            };
            let mut operands = vec![get(0), new_mask];
            if other {
                operands.push(get(1 + usize::from(mask)));
            }
            out.push(self.op(OpKind::Load { mask: true, other }, operands, ty));
        }
        out
    }
}

fn pipeline_loop(f: &mut Function, for_op: OpId, distance: u32) {
    let d = f.op(for_op).clone();
    let body = d.regions[0];
    let (lb, ub, step) = (d.operands[0], d.operands[1], d.operands[2]);
    if f.ty(lb) != &Type::scalar(ScalarType::I32) {
        return;
    }
    let Some(s) = crate::axis::const_int(f, step).filter(|s| *s > 0) else {
        return;
    };
    let body_ops = f.block(body).ops.clone();
    let Some((&yield_op, rest)) = body_ops.split_last() else {
        return;
    };
    if rest
        .iter()
        .any(|op| f.op(*op).kind.has_side_effects() || !f.op(*op).regions.is_empty())
    {
        return;
    }
    let args = f.block(body).args.clone();
    let (iv, carried) = (args[0], &args[1..]);
    let yielded = f.op(yield_op).operands.clone();
    // Early carried values (by slot): next values computed from early
    // values only.
    let allowed_with = |slots: &[usize]| -> HashSet<Value> { slots.iter().map(|j| carried[*j]).chain([iv]).collect() };
    let mut early_slots: Vec<usize> = (0..carried.len()).collect();
    loop {
        let allowed = allowed_with(&early_slots);
        let before = early_slots.len();
        early_slots.retain(|j| slice(f, body, &[yielded[*j]], &allowed).is_some());
        if early_slots.len() == before {
            break;
        }
    }
    let allowed = allowed_with(&early_slots);
    let dot_operands: HashSet<Value> = rest
        .iter()
        .filter(|op| matches!(f.op(**op).kind, OpKind::Dot))
        .flat_map(|op| f.op(*op).operands[..2].to_vec())
        .collect();
    let loads: Vec<OpId> = rest
        .iter()
        .copied()
        .filter(|op| {
            let d = f.op(*op);
            matches!(d.kind, OpKind::Load { .. })
                && dot_operands.contains(&d.results[0])
                && slice(f, body, &d.operands, &allowed).is_some()
        })
        .collect();
    if loads.is_empty() {
        return;
    }
    let load_inputs: Vec<Value> = loads.iter().flat_map(|l| f.op(*l).operands.clone()).collect();
    let Some(address_ops) = slice(f, body, &load_inputs, &allowed) else {
        return;
    };
    // The early values' next values, in body order.
    let early_next: Vec<Value> = early_slots.iter().map(|j| yielded[*j]).collect();
    let Some(advance_ops) = slice(f, body, &early_next, &allowed) else {
        return;
    };
    let loc = f.op(for_op).loc;

    // Advances the early carried values of `map` by one iteration, from
    // the one whose induction variable is `at`.
    let advance = |b: &mut Builder, map: &HashMap<Value, Value>, at: Value| -> HashMap<Value, Value> {
        let mut m = map.clone();
        m.insert(iv, at);
        b.clone_ops(&advance_ops, &mut m);
        let mut next = map.clone();
        for j in &early_slots {
            next.insert(carried[*j], *m.get(&yielded[*j]).unwrap_or(&yielded[*j]));
        }
        next
    };
    let i32_ty = Type::scalar(ScalarType::I32);

    // Prologue: the loads of iterations lb, lb + s, .., lb + (d - 1) s.
    let mut pre = Builder {
        f: &mut *f,
        ops: Vec::new(),
        loc,
    };
    let mut map: HashMap<Value, Value> = early_slots.iter().map(|j| (carried[*j], d.operands[3 + j])).collect();
    let mut initial: Vec<Vec<Value>> = Vec::new();
    let mut iv_t = lb;
    for t in 0..distance {
        if t > 0 {
            map = advance(&mut pre, &map, iv_t);
            let off = pre.int(ScalarType::I32, i64::from(t) * s);
            iv_t = pre.op(OpKind::Binary(BinaryOp::Add), vec![lb, off], i32_ty.clone());
        }
        let pred = pre.in_range(lb, i64::from(t) * s, ub);
        let mut m = map.clone();
        m.insert(iv, iv_t);
        pre.clone_ops(&address_ops, &mut m);
        initial.push(pre.loads(&loads, &m, pred));
    }
    let prologue = pre.ops;

    // Body top: the loads of iteration i + d s.
    let mut top = Builder {
        f: &mut *f,
        ops: Vec::new(),
        loc,
    };
    let mut map: HashMap<Value, Value> = HashMap::new();
    let mut iv_k = iv;
    for k in 1..=distance {
        map = advance(&mut top, &map, iv_k);
        let off = top.int(ScalarType::I32, i64::from(k) * s);
        iv_k = top.op(OpKind::Binary(BinaryOp::Add), vec![iv, off], i32_ty.clone());
    }
    let pred = top.in_range(iv, i64::from(distance) * s, ub);
    map.insert(iv, iv_k);
    top.clone_ops(&address_ops, &mut map);
    let next = top.loads(&loads, &map, pred);
    let top_ops = top.ops;

    // New carried slots: slot (t, load) holds the value loaded for
    // iteration i + t s.
    let mut slot_args: Vec<Vec<Value>> = Vec::new();
    for values in &initial {
        let mut row = Vec::new();
        for v in values {
            let ty = f.ty(*v).clone();
            f.op_mut(for_op).operands.push(*v);
            f.add_result(for_op, ty.clone());
            row.push(f.add_block_arg(body, ty));
        }
        slot_args.push(row);
    }
    // The body reads the current iteration's values from the slots.
    let current: HashMap<Value, Value> = loads
        .iter()
        .zip(&slot_args[0])
        .map(|(l, a)| (f.op(*l).results[0], *a))
        .collect();
    // (The loads' results are used only in the body; the new ops at its
    // top are in no block yet and do not use them.)
    f.substitute(&current);
    for t in 0..distance as usize {
        let values = if t + 1 < distance as usize {
            slot_args[t + 1].clone()
        } else {
            next.clone()
        };
        f.op_mut(yield_op).operands.extend(values);
    }
    f.block_mut(body).ops.splice(0..0, top_ops);
    let parent = f.block_of(for_op).unwrap_or(f.entry);
    let at = f.block(parent).ops.iter().position(|o| *o == for_op).unwrap_or(0);
    f.block_mut(parent).ops.splice(at..at, prologue);
}
