//! The tile IR verifier: the gate every pass's output must pass.
//!
//! Checks that every operand is defined before use in an enclosing scope,
//! that operand and result types follow each operation's rules, that
//! regions have the right arguments and terminators, and that block shapes
//! are powers of two. It never panics, whatever the IR.

use crate::{
    func::{BlockId, Function, Module, OpId, Value},
    ops::{BinaryOp, MathFn, OpKind},
    types::{Elem, ScalarType, Type},
};
use std::collections::HashSet;

#[derive(Debug, Clone, PartialEq, thiserror::Error)]
#[error("tile IR verification failed in `{function}` at {op}: {message}")]
pub struct VerifyError {
    pub function: String,
    pub op: String,
    pub message: String,
}

pub fn verify_module(m: &Module) -> Result<(), VerifyError> {
    let mut names = HashSet::new();
    for f in &m.functions {
        if !names.insert(f.name.as_str()) {
            return Err(VerifyError {
                function: f.name.clone(),
                op: "module".into(),
                message: "duplicate function name".into(),
            });
        }
        verify_function(f)?;
        for op in f.walk() {
            if let OpKind::Call(callee) = &f.op(op).kind {
                if m.function(callee).is_none() {
                    return Err(err(f, op, format!("call to unknown function `{callee}`")));
                }
            }
        }
    }
    Ok(())
}

fn err(f: &Function, op: OpId, message: impl Into<String>) -> VerifyError {
    let name = f.ops.get(op.index()).map_or_else(
        || op.to_string(),
        |_| format!("{op} ({})", crate::print::op_name(f, op)),
    );
    VerifyError {
        function: f.name.clone(),
        op: name,
        message: message.into(),
    }
}

pub fn verify_function(f: &Function) -> Result<(), VerifyError> {
    let mut v = Verifier {
        f,
        defined: HashSet::new(),
        seen_blocks: HashSet::new(),
    };
    if f.entry.index() >= f.blocks.len() {
        return Err(VerifyError {
            function: f.name.clone(),
            op: "entry".into(),
            message: "entry block out of range".into(),
        });
    }
    if f.param_names.len() != f.params().len() {
        return Err(VerifyError {
            function: f.name.clone(),
            op: "entry".into(),
            message: "parameter names and entry arguments differ in number".into(),
        });
    }
    v.block(f.entry, Terminator::Return)
}

#[derive(Clone, Copy, PartialEq)]
enum Terminator {
    Return,
    Yield,
    Condition,
}

struct Verifier<'a> {
    f: &'a Function,
    defined: HashSet<Value>,
    seen_blocks: HashSet<BlockId>,
}

impl Verifier<'_> {
    fn block(&mut self, b: BlockId, term: Terminator) -> Result<(), VerifyError> {
        let f = self.f;
        let Some(data) = f.blocks.get(b.index()) else {
            return Err(VerifyError {
                function: f.name.clone(),
                op: b.to_string(),
                message: "block out of range".into(),
            });
        };
        if !self.seen_blocks.insert(b) {
            return Err(VerifyError {
                function: f.name.clone(),
                op: b.to_string(),
                message: "block used twice".into(),
            });
        }
        let scope: Vec<Value> = data.args.clone();
        for a in &scope {
            self.check_type(f.ty(*a)).map_err(|m| VerifyError {
                function: f.name.clone(),
                op: b.to_string(),
                message: m,
            })?;
            self.defined.insert(*a);
        }
        let mut added = scope;
        for (i, &op) in data.ops.iter().enumerate() {
            let Some(od) = f.ops.get(op.index()) else {
                return Err(err(f, op, "operation out of range"));
            };
            let last = i + 1 == data.ops.len();
            if od.kind.is_terminator() != last {
                return Err(err(f, op, "a terminator must end its block, and only there"));
            }
            if last {
                let ok = matches!(
                    (&od.kind, term),
                    (OpKind::Return, Terminator::Return)
                        | (OpKind::Yield, Terminator::Yield)
                        | (OpKind::Condition, Terminator::Condition)
                );
                if !ok {
                    return Err(err(f, op, "wrong terminator for this region"));
                }
            }
            for v in &od.operands {
                if v.index() >= f.values.len() || !self.defined.contains(v) {
                    return Err(err(f, op, format!("operand {v} used before its definition")));
                }
            }
            self.op(op)?;
            for r in &od.results {
                self.check_type(f.ty(*r)).map_err(|m| err(f, op, m))?;
                self.defined.insert(*r);
                added.push(*r);
            }
        }
        if data.ops.is_empty() {
            return Err(VerifyError {
                function: f.name.clone(),
                op: b.to_string(),
                message: "empty block (missing terminator)".into(),
            });
        }
        // Values of a region are not visible after it.
        for v in added {
            self.defined.remove(&v);
        }
        Ok(())
    }

    fn check_type(&self, t: &Type) -> Result<(), String> {
        for d in &t.shape {
            if !d.is_power_of_two() {
                return Err(format!("block dimension {d} of {t} is not a power of two"));
            }
        }
        Ok(())
    }

    fn op(&mut self, op: OpId) -> Result<(), VerifyError> {
        let f = self.f;
        let d = f.op(op);
        let ot: Vec<&Type> = d.operands.iter().map(|v| f.ty(*v)).collect();
        let rt: Vec<&Type> = d.results.iter().map(|v| f.ty(*v)).collect();
        let e = |m: &str| Err(err(f, op, m));
        let arity = |n_in: usize, n_out: usize| -> Result<(), VerifyError> {
            if ot.len() != n_in || rt.len() != n_out {
                return Err(err(
                    f,
                    op,
                    format!(
                        "expected {n_in} operands and {n_out} results, found {} and {}",
                        ot.len(),
                        rt.len()
                    ),
                ));
            }
            Ok(())
        };
        let regions = |n: usize| -> Result<(), VerifyError> {
            if d.regions.len() != n {
                return Err(err(f, op, format!("expected {n} regions")));
            }
            Ok(())
        };
        if !matches!(d.kind, OpKind::For | OpKind::If | OpKind::While) {
            regions(0)?;
        }
        match &d.kind {
            OpKind::Constant(_) => {
                arity(0, 1)?;
                if rt[0].is_block() || rt[0].scalar_elem().is_none() {
                    return e("constants are scalars");
                }
            }
            OpKind::ProgramId(a) | OpKind::NumPrograms(a) => {
                arity(0, 1)?;
                if *a > 2 || *rt[0] != Type::scalar(ScalarType::I32) {
                    return e("axis must be 0, 1 or 2 and the result i32");
                }
            }
            OpKind::MakeRange { start, end } => {
                arity(0, 1)?;
                let n = i64::from(*end) - i64::from(*start);
                if n <= 0 || !(n as u64).is_power_of_two() {
                    return e("range length must be a positive power of two");
                }
                if *rt[0] != Type::block(Elem::Scalar(ScalarType::I32), vec![n as u32]) {
                    return e("range result must be an i32 block of its length");
                }
            }
            OpKind::Splat => {
                arity(1, 1)?;
                if ot[0].is_block() || !rt[0].is_block() || ot[0].elem != rt[0].elem {
                    return e("splat takes a scalar to a block of the same element type");
                }
            }
            OpKind::Broadcast => {
                arity(1, 1)?;
                let ok = ot[0].elem == rt[0].elem
                    && ot[0].shape.len() == rt[0].shape.len()
                    && ot[0].shape.iter().zip(&rt[0].shape).all(|(a, b)| a == b || *a == 1);
                if !ok {
                    return e("broadcast grows dimensions of size 1 only");
                }
            }
            OpKind::Reshape => {
                arity(1, 1)?;
                if ot[0].elem != rt[0].elem || ot[0].numel() != rt[0].numel() || !rt[0].is_block() {
                    return e("reshape keeps the element type and the number of elements");
                }
            }
            OpKind::Permute(order) => {
                arity(1, 1)?;
                let rank = ot[0].shape.len();
                let mut sorted = order.clone();
                sorted.sort_unstable();
                let ok = sorted == (0..rank as u32).collect::<Vec<_>>()
                    && ot[0].elem == rt[0].elem
                    && rt[0].shape.len() == rank
                    && order
                        .iter()
                        .enumerate()
                        .all(|(i, o)| rt[0].shape[i] == ot[0].shape[*o as usize]);
                if !ok {
                    return e("trans permutes the dimensions of its operand");
                }
            }
            OpKind::Reduce { axis, .. } | OpKind::ArgReduce { axis, .. } => {
                arity(1, 1)?;
                let a = *axis as usize;
                if a >= ot[0].shape.len() || scalar_of(ot[0]).is_none() {
                    return e("reduction axis out of range");
                }
                let mut shape = ot[0].shape.clone();
                shape.remove(a);
                if rt[0].shape != shape {
                    return e("a reduction drops its axis from the shape");
                }
                if matches!(d.kind, OpKind::ArgReduce { .. }) && rt[0].elem != Elem::Scalar(ScalarType::I32) {
                    return e("argmax/argmin give i32 indices");
                }
            }
            OpKind::Scan { axis, .. } => {
                arity(1, 1)?;
                if *axis as usize >= ot[0].shape.len() || ot[0].shape != rt[0].shape || scalar_of(ot[0]).is_none() {
                    return e("a scan keeps the shape; its axis must exist");
                }
            }
            OpKind::Binary(b) => {
                arity(2, 1)?;
                if ot[0] != ot[1] || ot[0] != rt[0] {
                    return e("binary operands and result must have one type");
                }
                let s = scalar_of(ot[0]).ok_or_else(|| err(f, op, "binary op on pointers"))?;
                let int_only = matches!(
                    b,
                    BinaryOp::Shl | BinaryOp::Shr | BinaryOp::And | BinaryOp::Or | BinaryOp::Xor
                );
                if int_only && s.is_float() {
                    return e("bitwise op on floats");
                }
            }
            OpKind::Cmp(_) => {
                arity(2, 1)?;
                if ot[0] != ot[1] || *rt[0] != ot[0].with_elem(Elem::Scalar(ScalarType::I1)) {
                    return e("comparison operands must match and the result be bool");
                }
                if scalar_of(ot[0]).is_none() {
                    return e("comparison of pointers");
                }
            }
            OpKind::Neg | OpKind::Not => {
                arity(1, 1)?;
                if ot[0] != rt[0] || scalar_of(ot[0]).is_none() {
                    return e("unary op type mismatch");
                }
                if matches!(d.kind, OpKind::Not) && scalar_of(ot[0]).is_some_and(ScalarType::is_float) {
                    return e("bitwise not on floats");
                }
            }
            OpKind::Cast => {
                arity(1, 1)?;
                if ot[0].shape != rt[0].shape || scalar_of(ot[0]).is_none() || scalar_of(rt[0]).is_none() {
                    return e("cast keeps the shape and converts scalars");
                }
            }
            OpKind::Bitcast => {
                arity(1, 1)?;
                let (Some(a), Some(b)) = (scalar_of(ot[0]), scalar_of(rt[0])) else {
                    return e("bitcast of pointers");
                };
                if ot[0].shape != rt[0].shape || a.bits() != b.bits() {
                    return e("bitcast keeps the shape and the width");
                }
            }
            OpKind::Select => {
                arity(3, 1)?;
                if ot[1] != ot[2] || ot[1] != rt[0] || *ot[0] != ot[1].with_elem(Elem::Scalar(ScalarType::I1)) {
                    return e("select takes a bool mask and two values of the result type");
                }
            }
            OpKind::Math(m) => {
                arity(1, 1)?;
                let s = scalar_of(ot[0]).ok_or_else(|| err(f, op, "math on pointers"))?;
                if ot[0] != rt[0] || (*m != MathFn::Abs && !s.is_float()) {
                    return e("math functions take and give floats of one type");
                }
            }
            OpKind::Fma => {
                arity(3, 1)?;
                if ot.iter().any(|t| *t != rt[0]) || !scalar_of(rt[0]).is_some_and(ScalarType::is_float) {
                    return e("fma takes three floats of the result type");
                }
            }
            OpKind::AddPtr => {
                arity(2, 1)?;
                let ok = matches!(ot[0].elem, Elem::Ptr(_))
                    && scalar_of(ot[1]).is_some_and(|s| s.is_int() && !s.is_bool())
                    && ot[0].shape == ot[1].shape
                    && ot[0] == rt[0];
                if !ok {
                    return e("addptr takes pointers and integer offsets of one shape");
                }
            }
            OpKind::Load { mask, other } => {
                let n = 1 + usize::from(*mask) + usize::from(*other);
                arity(n, 1)?;
                let Elem::Ptr(s) = ot[0].elem else {
                    return e("load takes pointers");
                };
                if *rt[0] != ot[0].with_elem(Elem::Scalar(s)) {
                    return e("load result must match the pointers' element type and shape");
                }
                if *mask && *ot[1] != ot[0].with_elem(Elem::Scalar(ScalarType::I1)) {
                    return e("load mask must be bool of the pointers' shape");
                }
                if *other && ot[n - 1] != rt[0] {
                    return e("load `other` must have the result type");
                }
            }
            OpKind::Store { mask } => {
                arity(2 + usize::from(*mask), 0)?;
                let Elem::Ptr(s) = ot[0].elem else {
                    return e("store takes pointers");
                };
                if *ot[1] != ot[0].with_elem(Elem::Scalar(s)) {
                    return e("stored values must match the pointers' element type and shape");
                }
                if *mask && *ot[2] != ot[0].with_elem(Elem::Scalar(ScalarType::I1)) {
                    return e("store mask must be bool of the pointers' shape");
                }
            }
            OpKind::Atomic { mask, .. } => {
                arity(2 + usize::from(*mask), 1)?;
                let Elem::Ptr(s) = ot[0].elem else {
                    return e("atomics take pointers");
                };
                let vt = ot[0].with_elem(Elem::Scalar(s));
                if *ot[1] != vt || *rt[0] != vt || s.is_bool() {
                    return e("atomic values and results must match the pointers' element type and shape");
                }
                if *mask && *ot[2] != ot[0].with_elem(Elem::Scalar(ScalarType::I1)) {
                    return e("atomic mask must be bool of the pointers' shape");
                }
            }
            OpKind::AtomicCas => {
                arity(3, 1)?;
                let Elem::Ptr(s) = ot[0].elem else {
                    return e("atomics take pointers");
                };
                let vt = ot[0].with_elem(Elem::Scalar(s));
                if *ot[1] != vt || *ot[2] != vt || *rt[0] != vt || s.is_float() || s.is_bool() {
                    return e("atomic_cas takes integer values matching the pointers");
                }
            }
            OpKind::Dot => {
                arity(3, 1)?;
                let (a, b, acc) = (ot[0], ot[1], ot[2]);
                let shapes_ok = a.shape.len() == 2
                    && b.shape.len() == 2
                    && a.shape[1] == b.shape[0]
                    && acc.shape == [a.shape[0], b.shape[1]]
                    && rt[0] == acc;
                if !shapes_ok {
                    return e("dot takes [M, K] and [K, N] blocks and an [M, N] accumulator of the result type");
                }
                let ok = match (scalar_of(a), scalar_of(b), scalar_of(acc)) {
                    (Some(x), Some(y), Some(z)) if x == y => matches!(
                        (x, z),
                        (ScalarType::F16 | ScalarType::BF16 | ScalarType::F32, ScalarType::F32)
                            | (ScalarType::I8, ScalarType::I32)
                    ),
                    _ => false,
                };
                if !ok {
                    return e("dot takes two f16, bf16 or f32 blocks with an f32 accumulator, or two i8 blocks with an i32 one");
                }
            }
            OpKind::ConvertLayout => {
                arity(1, 1)?;
                if ot[0] != rt[0] || !ot[0].is_block() {
                    return e("a layout conversion keeps the block's type");
                }
            }
            OpKind::Call(_) => {}
            OpKind::Assert(_) => {
                arity(1, 0)?;
                if scalar_of(ot[0]) != Some(ScalarType::I1) {
                    return e("assert takes bools");
                }
            }
            OpKind::Yield | OpKind::Return | OpKind::Condition => {
                if !rt.is_empty() {
                    return e("terminators have no results");
                }
                if matches!(d.kind, OpKind::Return) {
                    let want: Vec<&Type> = f.result_types.iter().collect();
                    if ot != want {
                        return e("returned values must match the function's result types");
                    }
                }
                if matches!(d.kind, OpKind::Condition) && ot.first().is_none_or(|t| **t != Type::scalar(ScalarType::I1))
                {
                    return e("condition takes a scalar bool first");
                }
            }
            OpKind::For => {
                regions(1)?;
                if ot.len() < 3 || ot.len() - 3 != rt.len() {
                    return e("for takes bounds, a step and one initial value per result");
                }
                let iv = ot[0];
                if iv.is_block()
                    || !scalar_of(iv).is_some_and(|s| s.is_int() && !s.is_bool())
                    || ot[1] != iv
                    || ot[2] != iv
                {
                    return e("loop bounds and step must be integer scalars of one type");
                }
                self.region_args(op, 0, std::iter::once(iv).chain(rt.iter().copied()).collect())?;
                for (init, res) in ot[3..].iter().zip(&rt) {
                    if init != res {
                        return e("carried value types must match the results");
                    }
                }
                self.block(d.regions[0], Terminator::Yield)?;
                self.yields(op, d.regions[0], &rt)?;
            }
            OpKind::If => {
                regions(2)?;
                if ot.len() != 1 || *ot[0] != Type::scalar(ScalarType::I1) {
                    return e("if takes one scalar bool");
                }
                for r in 0..2 {
                    self.region_args(op, r, Vec::new())?;
                    self.block(d.regions[r], Terminator::Yield)?;
                    self.yields(op, d.regions[r], &rt)?;
                }
            }
            OpKind::While => {
                regions(2)?;
                if ot != rt {
                    return e("while results must match its initial values");
                }
                self.region_args(op, 0, ot.clone())?;
                self.block(d.regions[0], Terminator::Condition)?;
                let before = f.block(d.regions[0]);
                let Some(&cond) = before.ops.last() else {
                    return e("while before-region is empty");
                };
                let forwarded: Vec<&Type> = f.op(cond).operands.iter().skip(1).map(|v| f.ty(*v)).collect();
                if forwarded != rt {
                    return e("condition must forward values of the result types");
                }
                self.region_args(op, 1, rt.clone())?;
                self.block(d.regions[1], Terminator::Yield)?;
                self.yields(op, d.regions[1], &rt)?;
            }
        }
        Ok(())
    }

    fn region_args(&self, op: OpId, r: usize, want: Vec<&Type>) -> Result<(), VerifyError> {
        let f = self.f;
        let b = f.op(op).regions[r];
        let Some(bd) = f.blocks.get(b.index()) else {
            return Err(err(f, op, "region block out of range"));
        };
        let have: Vec<&Type> = bd.args.iter().map(|v| f.ty(*v)).collect();
        if have != want {
            return Err(err(f, op, format!("region {r} has the wrong arguments")));
        }
        Ok(())
    }

    fn yields(&self, op: OpId, b: BlockId, want: &[&Type]) -> Result<(), VerifyError> {
        let f = self.f;
        let Some(&last) = f.block(b).ops.last() else {
            return Err(err(f, op, "region is empty"));
        };
        let have: Vec<&Type> = f.op(last).operands.iter().map(|v| f.ty(*v)).collect();
        if have != want {
            return Err(err(f, op, "yielded values must match the results"));
        }
        Ok(())
    }
}

fn scalar_of(t: &Type) -> Option<ScalarType> {
    t.scalar_elem()
}
