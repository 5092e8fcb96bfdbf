//! Evaluation of functions: blocks of values in row-major order, one
//! operation at a time.

use crate::{
    memory::{BufferId, Memory},
    scalar, InterpError,
};
use tritonc_ir::{
    BinaryOp, BlockId, Elem, Function, Loc, Module, OpData, OpId, OpKind, ReduceKind, ScalarType, ScanKind, Type, Value,
};

/// A value bound to a kernel parameter.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ArgValue {
    /// A pointer parameter: the start of this buffer.
    Buffer(BufferId),
    /// A scalar's bits (floats as IEEE bits), zero-extended.
    Scalar(u64),
}

/// Runs every program of `grid` (x fastest, then y, then z) of `kernel`.
pub fn run_kernel(
    module: &Module,
    kernel: &str,
    grid: [u32; 3],
    args: &[ArgValue],
    memory: &mut Memory,
) -> Result<(), InterpError> {
    let invalid = |message: String| InterpError::Invalid {
        message,
        loc: Loc::default(),
    };
    let f = module
        .function(kernel)
        .ok_or_else(|| invalid(format!("no function `{kernel}`")))?;
    let params = f.params();
    if params.len() != args.len() {
        return Err(invalid(format!(
            "`{kernel}` takes {} arguments, {} given",
            params.len(),
            args.len()
        )));
    }
    let mut inputs = Vec::with_capacity(args.len());
    for (p, a) in params.iter().zip(args) {
        let bits = match (f.ty(*p).elem, a) {
            (Elem::Ptr(_), ArgValue::Buffer(b)) => Memory::address(*b),
            (Elem::Scalar(s), ArgValue::Scalar(v)) => {
                if s.is_float() {
                    v & mask(s.bits())
                } else {
                    scalar::int_bits(s, i128::from(*v))
                }
            }
            (Elem::Ptr(_), ArgValue::Scalar(_)) => return Err(invalid("a pointer needs a buffer".into())),
            (Elem::Scalar(_), ArgValue::Buffer(_)) => return Err(invalid("a scalar needs a value".into())),
        };
        inputs.push(Tensor::scalar(bits));
    }
    for z in 0..grid[2] {
        for y in 0..grid[1] {
            for x in 0..grid[0] {
                let mut m = Machine {
                    module,
                    memory,
                    program: [x, y, z],
                    grid,
                    depth: 0,
                };
                m.call(f, inputs.clone())?;
            }
        }
    }
    Ok(())
}

fn mask(bits: u32) -> u64 {
    if bits >= 64 {
        u64::MAX
    } else {
        (1 << bits) - 1
    }
}

/// A scalar (shape `[]`, one element) or a block, row-major.
#[derive(Debug, Clone, PartialEq)]
struct Tensor {
    shape: Vec<u32>,
    data: Vec<u64>,
}

impl Tensor {
    fn scalar(bits: u64) -> Tensor {
        Tensor {
            shape: Vec::new(),
            data: vec![bits],
        }
    }

    fn map(&self, f: impl Fn(u64) -> u64) -> Tensor {
        Tensor {
            shape: self.shape.clone(),
            data: self.data.iter().map(|x| f(*x)).collect(),
        }
    }
}

/// Helpers may call helpers; the front end refuses recursion, this bounds
/// what hand-written IR could do.
const MAX_CALL_DEPTH: u32 = 64;

struct Machine<'a> {
    module: &'a Module,
    memory: &'a mut Memory,
    program: [u32; 3],
    grid: [u32; 3],
    depth: u32,
}

/// The values of one call of a function.
struct Frame<'f> {
    f: &'f Function,
    values: Vec<Option<Tensor>>,
}

impl Frame<'_> {
    fn get(&self, v: Value, loc: Loc) -> Result<&Tensor, InterpError> {
        self.values
            .get(v.index())
            .and_then(Option::as_ref)
            .ok_or_else(|| InterpError::Invalid {
                message: format!("{v} is used before it is defined"),
                loc,
            })
    }

    fn set(&mut self, v: Value, t: Tensor, loc: Loc) -> Result<(), InterpError> {
        let slot = self.values.get_mut(v.index()).ok_or_else(|| InterpError::Invalid {
            message: format!("{v} is out of range"),
            loc,
        })?;
        *slot = Some(t);
        Ok(())
    }

    fn elem(&self, v: Value) -> Option<ScalarType> {
        self.f.values.get(v.index())?.ty.scalar_elem()
    }

    fn pointee(&self, v: Value) -> Option<ScalarType> {
        match self.f.values.get(v.index())?.ty.elem {
            Elem::Ptr(s) => Some(s),
            Elem::Scalar(_) => None,
        }
    }

    fn ty(&self, v: Value) -> Option<&Type> {
        self.f.values.get(v.index()).map(|d| &d.ty)
    }
}

impl Machine<'_> {
    fn call(&mut self, f: &Function, args: Vec<Tensor>) -> Result<Vec<Tensor>, InterpError> {
        if self.depth >= MAX_CALL_DEPTH {
            return Err(InterpError::Invalid {
                message: format!("calls nest deeper than {MAX_CALL_DEPTH} (recursion?)"),
                loc: Loc::default(),
            });
        }
        self.depth += 1;
        let mut frame = Frame {
            f,
            values: vec![None; f.values.len()],
        };
        let out = self.block(&mut frame, f.entry, args);
        self.depth -= 1;
        out
    }

    /// Runs a block with its arguments bound; gives its terminator's operands.
    fn block(&mut self, fr: &mut Frame, b: BlockId, args: Vec<Tensor>) -> Result<Vec<Tensor>, InterpError> {
        let f = fr.f;
        let bad = |message: String| InterpError::Invalid {
            message,
            loc: Loc::default(),
        };
        let data = f
            .blocks
            .get(b.index())
            .ok_or_else(|| bad(format!("{b} is out of range")))?;
        if data.args.len() != args.len() {
            return Err(bad(format!("{b} takes {} arguments", data.args.len())));
        }
        for (v, t) in data.args.iter().zip(args) {
            fr.set(*v, t, Loc::default())?;
        }
        for &op in &data.ops {
            let d = f
                .ops
                .get(op.index())
                .ok_or_else(|| bad(format!("{op} is out of range")))?;
            if d.kind.is_terminator() {
                return d.operands.iter().map(|v| fr.get(*v, d.loc).cloned()).collect();
            }
            let results = self.op(fr, op, d)?;
            if results.len() != d.results.len() {
                return Err(bad(format!("{op} gives {} results", results.len())));
            }
            for (v, t) in d.results.iter().zip(results) {
                fr.set(*v, t, d.loc)?;
            }
        }
        Err(bad(format!("{b} has no terminator")))
    }

    fn runtime(&self, message: String, loc: Loc) -> InterpError {
        InterpError::Runtime {
            message,
            program: self.program,
            loc,
        }
    }

    fn op(&mut self, fr: &mut Frame, op: OpId, d: &OpData) -> Result<Vec<Tensor>, InterpError> {
        let loc = d.loc;
        let invalid = |what: &str| InterpError::Invalid {
            message: format!("{op}: {what}"),
            loc,
        };
        let ins: Vec<Tensor> = d
            .operands
            .iter()
            .map(|v| fr.get(*v, loc).cloned())
            .collect::<Result<_, _>>()?;
        let arg = |i: usize| ins.get(i).ok_or_else(|| invalid("missing operand"));
        let elem = |i: usize| {
            d.operands
                .get(i)
                .and_then(|v| fr.elem(*v))
                .ok_or_else(|| invalid("operand is not a number"))
        };
        let result_ty = || {
            d.results
                .first()
                .and_then(|v| fr.ty(*v))
                .cloned()
                .ok_or_else(|| invalid("missing result"))
        };
        let same_shape = |ts: &[&Tensor]| -> Result<(), InterpError> {
            if ts
                .windows(2)
                .all(|w| w[0].shape == w[1].shape && w[0].data.len() == w[1].data.len())
            {
                Ok(())
            } else {
                Err(invalid("operand shapes differ"))
            }
        };
        let one = |t: Tensor| Ok(vec![t]);
        // The element type behind a memory operation's pointers.
        let pointee = |what: &str| {
            d.operands
                .first()
                .and_then(|v| fr.pointee(*v))
                .ok_or_else(|| invalid(what))
        };
        match &d.kind {
            OpKind::Constant(c) => {
                let s = result_ty()?.scalar_elem().ok_or_else(|| invalid("pointer constant"))?;
                one(Tensor::scalar(scalar::constant(s, *c)))
            }
            OpKind::ProgramId(a) | OpKind::NumPrograms(a) => {
                let source = if matches!(d.kind, OpKind::ProgramId(_)) {
                    self.program
                } else {
                    self.grid
                };
                let v = *source
                    .get(usize::from(*a))
                    .ok_or_else(|| invalid("axis out of range"))?;
                one(Tensor::scalar(u64::from(v)))
            }
            OpKind::MakeRange { start, end } => one(Tensor {
                shape: vec![(i64::from(*end) - i64::from(*start)).max(0) as u32],
                data: (*start..*end).map(|i| u64::from(i as u32)).collect(),
            }),
            OpKind::Splat => {
                let shape = result_ty()?.shape;
                let n = numel(&shape);
                one(Tensor {
                    shape,
                    data: vec![arg(0)?.data[0]; n],
                })
            }
            OpKind::Broadcast => {
                let x = arg(0)?;
                let shape = result_ty()?.shape;
                if shape.len() != x.shape.len() {
                    return Err(invalid("broadcast changes the rank"));
                }
                let in_strides = strides(&x.shape);
                let data = (0..numel(&shape))
                    .map(|e| {
                        let c = coords(e, &shape);
                        let src: usize = (0..shape.len())
                            .map(|i| if x.shape[i] == 1 { 0 } else { c[i] * in_strides[i] })
                            .sum();
                        x.data[src]
                    })
                    .collect();
                one(Tensor { shape, data })
            }
            OpKind::Reshape | OpKind::ConvertLayout => {
                let shape = result_ty()?.shape;
                if numel(&shape) != arg(0)?.data.len() {
                    return Err(invalid("reshape changes the number of elements"));
                }
                one(Tensor {
                    shape,
                    data: arg(0)?.data.clone(),
                })
            }
            OpKind::Permute(order) => {
                let x = arg(0)?;
                let rank = x.shape.len();
                if order.len() != rank || order.iter().any(|o| *o as usize >= rank) {
                    return Err(invalid("bad permutation"));
                }
                // Result dimension i is operand dimension order[i].
                let shape: Vec<u32> = order.iter().map(|o| x.shape[*o as usize]).collect();
                let in_strides = strides(&x.shape);
                let data = (0..numel(&shape))
                    .map(|e| {
                        let c = coords(e, &shape);
                        let src: usize = (0..rank).map(|i| c[i] * in_strides[order[i] as usize]).sum();
                        x.data[src]
                    })
                    .collect();
                one(Tensor { shape, data })
            }
            OpKind::Reduce { kind, axis } => {
                let s = elem(0)?;
                let combine = match kind {
                    ReduceKind::Sum => BinaryOp::Add,
                    ReduceKind::Max => BinaryOp::Max,
                    ReduceKind::Min => BinaryOp::Min,
                    ReduceKind::Xor => BinaryOp::Xor,
                };
                let c = |a: u64, b: u64| scalar::binary(combine, s, a, b);
                let x = arg(0)?;
                if x.shape.len() == 1 {
                    return one(Tensor::scalar(tree(&x.data, &c)));
                }
                // Along any axis: the balanced pairwise tree over the
                // axis's elements in index order.
                one(along_axis(x, *axis, |lane| tree(lane, &c)).map_err(invalid)?)
            }
            OpKind::ArgReduce { max, axis } => {
                let s = elem(0)?;
                let better = |v: u64, best: u64| {
                    let p = if *max {
                        tritonc_ir::CmpPred::Gt
                    } else {
                        tritonc_ir::CmpPred::Lt
                    };
                    let nan = |x: u64| s.is_float() && scalar::float_value(s, x).is_nan();
                    scalar::compare(p, s, v, best) || (nan(best) && !nan(v))
                };
                let x = arg(0)?;
                one(along_axis(x, *axis, |lane| {
                    let mut best = (lane[0], 0usize);
                    for (k, v) in lane.iter().enumerate().skip(1) {
                        if better(*v, best.0) {
                            best = (*v, k);
                        }
                    }
                    best.1 as u64
                })
                .map_err(invalid)?)
            }
            OpKind::Scan { kind, axis } => {
                let s = elem(0)?;
                let combine = match kind {
                    ScanKind::Sum => BinaryOp::Add,
                    ScanKind::Prod => BinaryOp::Mul,
                };
                let x = arg(0)?;
                let mut out = x.clone();
                scan_axis(&mut out, *axis, |a, b| scalar::binary(combine, s, a, b)).map_err(invalid)?;
                one(out)
            }
            OpKind::Binary(b) => {
                let s = elem(0)?;
                let (x, y) = (arg(0)?, arg(1)?);
                same_shape(&[x, y])?;
                one(zip2(x, y, |a, c| scalar::binary(*b, s, a, c)))
            }
            OpKind::Cmp(p) => {
                let s = elem(0)?;
                let (x, y) = (arg(0)?, arg(1)?);
                same_shape(&[x, y])?;
                one(zip2(x, y, |a, c| u64::from(scalar::compare(*p, s, a, c))))
            }
            OpKind::Neg => {
                let s = elem(0)?;
                one(arg(0)?.map(|a| scalar::negate(s, a)))
            }
            OpKind::Not => {
                let s = elem(0)?;
                one(arg(0)?.map(|a| scalar::not(s, a)))
            }
            OpKind::Cast => {
                let from = elem(0)?;
                let to = result_ty()?.scalar_elem().ok_or_else(|| invalid("cast to pointers"))?;
                one(arg(0)?.map(|a| scalar::cast(from, to, a)))
            }
            OpKind::Bitcast => one(arg(0)?.clone()),
            OpKind::Select => {
                let (c, a, b) = (arg(0)?, arg(1)?, arg(2)?);
                same_shape(&[c, a, b])?;
                let data = (0..c.data.len())
                    .map(|i| if c.data[i] != 0 { a.data[i] } else { b.data[i] })
                    .collect();
                one(Tensor {
                    shape: c.shape.clone(),
                    data,
                })
            }
            OpKind::Math(m) => {
                let s = elem(0)?;
                one(arg(0)?.map(|a| scalar::math(*m, s, a)))
            }
            OpKind::Fma => {
                let s = elem(0)?;
                let (a, b, c) = (arg(0)?, arg(1)?, arg(2)?);
                same_shape(&[a, b, c])?;
                let data = (0..a.data.len())
                    .map(|i| scalar::fma(s, a.data[i], b.data[i], c.data[i]))
                    .collect();
                one(Tensor {
                    shape: a.shape.clone(),
                    data,
                })
            }
            OpKind::AddPtr => {
                let s = pointee("addptr of non-pointers")?;
                let off_ty = elem(1)?;
                let (p, o) = (arg(0)?, arg(1)?);
                same_shape(&[p, o])?;
                let size = i128::from(s.bytes());
                one(zip2(p, o, |a, k| {
                    a.wrapping_add((scalar::int_value(off_ty, k) * size) as u64)
                }))
            }
            OpKind::Load { mask, other } => {
                let s = pointee("load from non-pointers")?;
                let p = arg(0)?;
                let m = if *mask { Some(arg(1)?) } else { None };
                let o = if *other { Some(arg(ins.len() - 1)?) } else { None };
                let mut data = Vec::with_capacity(p.data.len());
                for (i, addr) in p.data.iter().enumerate() {
                    if m.is_some_and(|m| m.data.get(i) == Some(&0)) {
                        data.push(o.and_then(|o| o.data.get(i).copied()).unwrap_or(0));
                        continue;
                    }
                    let raw = self
                        .memory
                        .read(*addr, s.bytes())
                        .map_err(|access| InterpError::OutOfBounds {
                            what: "load",
                            access,
                            program: self.program,
                            loc,
                        })?;
                    data.push(if s.is_bool() { u64::from(raw != 0) } else { raw });
                }
                one(Tensor {
                    shape: p.shape.clone(),
                    data,
                })
            }
            OpKind::Store { mask } => {
                let s = pointee("store to non-pointers")?;
                let (p, v) = (arg(0)?, arg(1)?);
                same_shape(&[p, v])?;
                let m = if *mask { Some(arg(2)?) } else { None };
                for (i, addr) in p.data.iter().enumerate() {
                    if m.is_some_and(|m| m.data.get(i) == Some(&0)) {
                        continue;
                    }
                    self.memory
                        .write(*addr, s.bytes(), v.data[i])
                        .map_err(|access| InterpError::OutOfBounds {
                            what: "store",
                            access,
                            program: self.program,
                            loc,
                        })?;
                }
                Ok(Vec::new())
            }
            OpKind::Atomic { op: aop, mask } => {
                let s = pointee("atomic on non-pointers")?;
                let (p, v) = (arg(0)?, arg(1)?);
                same_shape(&[p, v])?;
                let m = if *mask { Some(arg(2)?) } else { None };
                let mut old = Vec::with_capacity(p.data.len());
                for (i, addr) in p.data.iter().enumerate() {
                    if m.is_some_and(|m| m.data.get(i) == Some(&0)) {
                        old.push(0);
                        continue;
                    }
                    let oob = |access| InterpError::OutOfBounds {
                        what: "atomic",
                        access,
                        program: self.program,
                        loc,
                    };
                    let before = self.memory.read(*addr, s.bytes()).map_err(oob)?;
                    let after = scalar::atomic_update(*aop, s, before, v.data[i]);
                    self.memory.write(*addr, s.bytes(), after).map_err(oob)?;
                    old.push(before);
                }
                one(Tensor {
                    shape: p.shape.clone(),
                    data: old,
                })
            }
            OpKind::AtomicCas => {
                let s = pointee("atomic on non-pointers")?;
                let (p, expected, new) = (arg(0)?, arg(1)?, arg(2)?);
                same_shape(&[p, expected, new])?;
                let mut old = Vec::with_capacity(p.data.len());
                for (i, addr) in p.data.iter().enumerate() {
                    let oob = |access| InterpError::OutOfBounds {
                        what: "atomic_cas",
                        access,
                        program: self.program,
                        loc,
                    };
                    let before = self.memory.read(*addr, s.bytes()).map_err(oob)?;
                    if before == expected.data[i] {
                        self.memory.write(*addr, s.bytes(), new.data[i]).map_err(oob)?;
                    }
                    old.push(before);
                }
                one(Tensor {
                    shape: p.shape.clone(),
                    data: old,
                })
            }
            OpKind::Dot => {
                let s = elem(0)?;
                let out = result_ty()?.scalar_elem().ok_or_else(|| invalid("dot of pointers"))?;
                let (a, b, acc) = (arg(0)?, arg(1)?, arg(2)?);
                let (m, k, n) = match (&a.shape[..], &b.shape[..]) {
                    ([m, k], [k2, n]) if k == k2 && acc.shape == [*m, *n] => (*m as usize, *k as usize, *n as usize),
                    _ => return Err(invalid("dot shapes do not match")),
                };
                let mut data = acc.data.clone();
                for i in 0..m {
                    for j in 0..n {
                        let mut sum = data[i * n + j];
                        for kk in 0..k {
                            let (x, y) = (a.data[i * k + kk], b.data[kk * n + j]);
                            sum = if out.is_float() {
                                // In f32, fused, one rounding per step.
                                let (x, y) = (scalar::cast(s, out, x), scalar::cast(s, out, y));
                                scalar::fma(out, x, y, sum)
                            } else {
                                let p = scalar::int_value(s, x) * scalar::int_value(s, y);
                                scalar::int_bits(out, scalar::int_value(out, sum) + p)
                            };
                        }
                        data[i * n + j] = sum;
                    }
                }
                one(Tensor {
                    shape: acc.shape.clone(),
                    data,
                })
            }
            OpKind::Assert(message) => {
                if arg(0)?.data.contains(&0) {
                    return Err(InterpError::Assert {
                        message: message.clone(),
                        program: self.program,
                        loc,
                    });
                }
                Ok(Vec::new())
            }
            OpKind::Call(name) => {
                let callee = self
                    .module
                    .function(name)
                    .ok_or_else(|| invalid(&format!("call to unknown function `{name}`")))?;
                self.call(callee, ins)
            }
            OpKind::For => {
                let s = elem(0)?;
                let region = *d.regions.first().ok_or_else(|| invalid("for without a body"))?;
                let (lb, ub, step) = (arg(0)?.data[0], arg(1)?.data[0], arg(2)?.data[0]);
                let step_v = scalar::int_value(s, step);
                if step_v <= 0 {
                    return Err(self.runtime(format!("a loop's step must be positive, found {step_v}"), loc));
                }
                let mut carried: Vec<Tensor> = ins[3..].to_vec();
                let (mut iv, end) = (scalar::int_value(s, lb), scalar::int_value(s, ub));
                while iv < end {
                    let mut args = vec![Tensor::scalar(scalar::int_bits(s, iv))];
                    args.extend(carried);
                    carried = self.block(fr, region, args)?;
                    iv += step_v;
                }
                Ok(carried)
            }
            OpKind::If => {
                let taken = if arg(0)?.data[0] != 0 { 0 } else { 1 };
                let region = *d.regions.get(taken).ok_or_else(|| invalid("if without two regions"))?;
                self.block(fr, region, Vec::new())
            }
            OpKind::While => {
                let (before, after) = match d.regions[..] {
                    [b, a] => (b, a),
                    _ => return Err(invalid("while without two regions")),
                };
                let mut values = ins.clone();
                loop {
                    let mut cond = self.block(fr, before, values)?;
                    if cond.is_empty() {
                        return Err(invalid("condition without a value"));
                    }
                    let go = cond.remove(0).data[0] != 0;
                    if !go {
                        return Ok(cond);
                    }
                    values = self.block(fr, after, cond)?;
                }
            }
            OpKind::Yield | OpKind::Condition | OpKind::Return => Err(invalid("a terminator inside a block")),
        }
    }
}

fn numel(shape: &[u32]) -> usize {
    shape.iter().map(|d| *d as usize).product()
}

/// Row-major strides of `shape`.
fn strides(shape: &[u32]) -> Vec<usize> {
    let mut s = vec![1usize; shape.len()];
    for i in (0..shape.len().saturating_sub(1)).rev() {
        s[i] = s[i + 1] * shape[i + 1] as usize;
    }
    s
}

/// The coordinates of row-major element `e` of `shape`.
fn coords(mut e: usize, shape: &[u32]) -> Vec<usize> {
    let mut c = vec![0; shape.len()];
    for i in (0..shape.len()).rev() {
        c[i] = e % shape[i] as usize;
        e /= shape[i] as usize;
    }
    c
}

fn zip2(x: &Tensor, y: &Tensor, f: impl Fn(u64, u64) -> u64) -> Tensor {
    Tensor {
        shape: x.shape.clone(),
        data: x.data.iter().zip(&y.data).map(|(a, b)| f(*a, *b)).collect(),
    }
}

/// The balanced pairwise tree over `xs` in index order (neighbours first).
fn tree(xs: &[u64], c: &impl Fn(u64, u64) -> u64) -> u64 {
    match xs.len() {
        0 => 0,
        1 => xs[0],
        n => {
            let (lo, hi) = xs.split_at(n / 2);
            c(tree(lo, c), tree(hi, c))
        }
    }
}

/// The operand's elements along `axis`, for each position of the other
/// axes: `reduce` maps each such lane to one element; the axis is dropped.
fn along_axis(x: &Tensor, axis: u32, reduce: impl Fn(&[u64]) -> u64) -> Result<Tensor, &'static str> {
    let a = axis as usize;
    if a >= x.shape.len() {
        return Err("reduction axis out of range");
    }
    let len = x.shape[a] as usize;
    let inner: usize = numel(&x.shape[a + 1..]);
    let outer: usize = numel(&x.shape[..a]);
    let mut data = Vec::with_capacity(outer * inner);
    let mut lane = Vec::with_capacity(len);
    for o in 0..outer {
        for i in 0..inner {
            lane.clear();
            lane.extend((0..len).map(|k| x.data[(o * len + k) * inner + i]));
            data.push(reduce(&lane));
        }
    }
    let mut shape = x.shape.clone();
    shape.remove(a);
    Ok(Tensor { shape, data })
}

/// Inclusive scan along `axis`, in place, in the language's order: level
/// `j` (lowest first) combines into every element whose index `k` along
/// the axis has bit `j` set the prefix ending just below its aligned block
/// of `2^j` (index `k` with bit `j` cleared and the bits below set), on
/// the left. (A prefix is a right-nested chain of balanced trees.)
fn scan_axis(x: &mut Tensor, axis: u32, c: impl Fn(u64, u64) -> u64) -> Result<(), &'static str> {
    let a = axis as usize;
    if a >= x.shape.len() {
        return Err("scan axis out of range");
    }
    let len = x.shape[a] as usize;
    let inner: usize = numel(&x.shape[a + 1..]);
    let outer: usize = numel(&x.shape[..a]);
    for o in 0..outer {
        for i in 0..inner {
            let at = |k: usize| (o * len + k) * inner + i;
            let mut j = 0;
            while 1usize << j < len {
                let below = (1usize << j) - 1;
                for k in (0..len).filter(|k| k & (1 << j) != 0) {
                    let src = (k & !(1usize << j)) | below;
                    x.data[at(k)] = c(x.data[at(src)], x.data[at(k)]);
                }
                j += 1;
            }
        }
    }
    Ok(())
}
