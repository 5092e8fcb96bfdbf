//! Blocks affine in the element's index: the addresses of a load's or
//! store's register groups, and comparisons, as the lane's own value plus
//! steps every lane shares.
//!
//! An `i32` block built from `arange`, broadcasts, sums and products with
//! scalars (how kernels build offsets and masks) is `c + sum_d g[d] *
//! i[d]` with `c` and the gradient `g` lane-independent ([`gradient`]). In
//! a layout where every lane holds distinct elements, register `r` then
//! holds the lane's register-0 value plus a step every lane shares.
//!
//! - Addresses: a pointer block `splat(base) + o1 + .. + on` with such
//!   offsets has register `r`'s address at `(base + step) + lane offset`:
//!   the step is scalar arithmetic and the lane offset one 64-bit value per
//!   block instead of one per group. In a loop, where `base` is what
//!   changes, one offset a lane stays live across the loop instead of one
//!   per group (the matmul on gfx1100 spilled its sixteen). Offsets the
//!   same in every lane of a wave (a row a wave) join the base as scalars
//!   ([`Target::wave_uniform`]); the rest are summed in 64 bits; steps
//!   are in bytes.
//! - Comparisons in and around loops (masks: `ks < k_left`, `rows < m`,
//!   `cols <= rows`) compare the lane's one value with a scalar per
//!   register: `x0 < S - d_r` against a scalar `S` (saturating, in scalar
//!   registers), `x0 - y0 <= dy_r - dx_r` for two blocks. A loop keeps
//!   `x0` instead of the per-register values `x0 + 8 * i`, which LLVM
//!   hoists out of the loop into a register each.
//!
//! Guarantees: the addresses and comparisons are the same as the blocks'
//! elements' (offset arithmetic is taken not to wrap past `i32`, as
//! everywhere else; address steps are computed in 64 bits, the scalar
//! side of a comparison saturating with the predicate adjusted to the
//! bound, a difference of two blocks in 32 bits only when both are known
//! non-negative); anything this cannot prove falls back to the elements
//! themselves.

use super::*;
use tritonc_ir::CmpPred;

/// The part of a load's or store's register-group addresses every group
/// shares: the base plus the offsets the same in every lane of a wave
/// (scalar arithmetic), and the 64-bit offset of the rest, the lane's
/// own, in elements.
#[derive(Debug, Clone)]
pub(super) struct LaneAddress {
    wave_base: String,
    lane_offset: Option<String>,
}

/// A lane-independent `i32` quantity: `constant + sum(k * scalar)`.
#[derive(Debug, Clone, Default, PartialEq)]
pub(super) struct Uniform {
    constant: i64,
    terms: Vec<(Value, i64)>,
}

impl Uniform {
    fn constant(c: i64) -> Uniform {
        Uniform {
            constant: c,
            terms: Vec::new(),
        }
    }

    fn is_zero(&self) -> bool {
        self.constant == 0 && self.terms.iter().all(|(_, k)| *k == 0)
    }

    /// `self + k * other`.
    fn add_scaled(&mut self, other: &Uniform, k: i64) -> Option<()> {
        self.constant = self.constant.checked_add(other.constant.checked_mul(k)?)?;
        for &(v, c) in &other.terms {
            let c = c.checked_mul(k)?;
            match self.terms.iter_mut().find(|(w, _)| *w == v) {
                Some((_, acc)) => *acc = acc.checked_add(c)?,
                None => self.terms.push((v, c)),
            }
        }
        Some(())
    }

    /// `self * s` for a scalar `s` (a value or a constant), when the
    /// product stays of degree one.
    fn times(&self, s: &Scalar) -> Option<Uniform> {
        match *s {
            Scalar::Constant(c) => {
                let mut out = Uniform::default();
                out.add_scaled(self, c)?;
                Some(out)
            }
            Scalar::Value(v) if self.terms.iter().all(|(_, k)| *k == 0) => Some(Uniform {
                constant: 0,
                terms: vec![(v, self.constant)],
            }),
            Scalar::Value(_) => None,
        }
    }
}

/// The value every element of a block with a zero gradient has.
enum Scalar {
    Constant(i64),
    Value(Value),
}

/// `v[i] = c + sum_d gradient[d] * i[d]` for an `i32` block `v`, with `c`
/// and the gradient lane-independent: the gradient, one entry per
/// dimension. `None` when `v` is not known to be of that form.
pub(super) fn gradient(f: &Function, v: Value) -> Option<Vec<Uniform>> {
    gradient_at(f, v, 0)
}

fn gradient_at(f: &Function, v: Value, depth: u32) -> Option<Vec<Uniform>> {
    let ty = f.ty(v);
    if depth > 32 || !ty.is_block() || ty.scalar_elem() != Some(ScalarType::I32) {
        return None;
    }
    let rank = ty.shape.len();
    let d = f.op(f.def_op(v)?);
    let operand = |i: usize| gradient_at(f, d.operands[i], depth + 1);
    match &d.kind {
        OpKind::MakeRange { .. } => Some(vec![Uniform::constant(1)]),
        OpKind::Splat => Some(vec![Uniform::default(); rank]),
        OpKind::ConvertLayout => operand(0),
        OpKind::Broadcast => {
            let from = &f.ty(d.operands[0]).shape;
            if from.len() != rank {
                return None;
            }
            let mut g = operand(0)?;
            // A dimension of size 1 grew: its index no longer matters.
            for (k, &n) in from.iter().enumerate() {
                if n == 1 {
                    g[k] = Uniform::default();
                }
            }
            Some(g)
        }
        OpKind::Reshape => {
            // Only dimensions of size 1 added or removed: the others keep
            // their order and their index.
            let from = &f.ty(d.operands[0]).shape;
            let g = operand(0)?;
            let kept: Vec<&Uniform> = from.iter().zip(&g).filter(|(n, _)| **n != 1).map(|(_, u)| u).collect();
            let sizes: Vec<u32> = from.iter().copied().filter(|n| *n != 1).collect();
            let to_sizes: Vec<u32> = ty.shape.iter().copied().filter(|n| *n != 1).collect();
            if sizes != to_sizes {
                return None;
            }
            let mut next = kept.into_iter();
            ty.shape
                .iter()
                .map(|&n| {
                    if n == 1 {
                        Some(Uniform::default())
                    } else {
                        next.next().cloned()
                    }
                })
                .collect()
        }
        OpKind::Permute(order) => {
            let g = operand(0)?;
            order.iter().map(|&k| g.get(k as usize).cloned()).collect()
        }
        OpKind::Binary(op @ (BinaryOp::Add | BinaryOp::Sub)) => {
            let (mut a, b) = (operand(0)?, operand(1)?);
            let k = if matches!(op, BinaryOp::Add) { 1 } else { -1 };
            for (x, y) in a.iter_mut().zip(&b) {
                x.add_scaled(y, k)?;
            }
            Some(a)
        }
        OpKind::Binary(BinaryOp::Mul) => {
            let (a, b) = (operand(0)?, operand(1)?);
            let (g, s) = if b.iter().all(Uniform::is_zero) {
                (a, uniform_scalar(f, d.operands[1], depth + 1)?)
            } else if a.iter().all(Uniform::is_zero) {
                (b, uniform_scalar(f, d.operands[0], depth + 1)?)
            } else {
                return None;
            };
            g.iter().map(|u| u.times(&s)).collect()
        }
        OpKind::Binary(BinaryOp::Shl) => {
            let a = operand(0)?;
            let Scalar::Constant(c) = uniform_scalar(f, d.operands[1], depth + 1)? else {
                return None;
            };
            let scale = 1i64.checked_shl(u32::try_from(c).ok().filter(|c| *c < 31)?)?;
            a.iter().map(|u| u.times(&Scalar::Constant(scale))).collect()
        }
        _ => None,
    }
}

/// The one value of a block every element of which is the same scalar:
/// a splat of a constant or of a scalar value.
fn uniform_scalar(f: &Function, v: Value, depth: u32) -> Option<Scalar> {
    if depth > 32 {
        return None;
    }
    let d = f.op(f.def_op(v)?);
    match d.kind {
        OpKind::Splat => {
            let s = d.operands[0];
            match f.def_op(s).map(|op| &f.op(op).kind) {
                Some(OpKind::Constant(ConstValue::Int(c))) => Some(Scalar::Constant(*c)),
                _ => Some(Scalar::Value(s)),
            }
        }
        OpKind::Broadcast | OpKind::Reshape | OpKind::ConvertLayout => uniform_scalar(f, d.operands[0], depth + 1),
        _ => None,
    }
}

/// How many loops (`for`, `while`) enclose each block and each
/// operation of `f`.
#[derive(Debug, Default)]
pub(super) struct LoopDepths {
    blocks: HashMap<BlockId, u32>,
    ops: HashMap<OpId, (u32, BlockId)>,
    users: HashMap<Value, Vec<OpId>>,
    has_loops: bool,
}

impl LoopDepths {
    pub(super) fn of(f: &Function) -> LoopDepths {
        let mut depths = LoopDepths::default();
        let mut stack = vec![(f.entry, 0)];
        while let Some((b, depth)) = stack.pop() {
            depths.blocks.insert(b, depth);
            for &op in &f.block(b).ops {
                depths.ops.insert(op, (depth, b));
                let d = f.op(op);
                for v in &d.operands {
                    depths.users.entry(*v).or_default().push(op);
                }
                let is_loop = matches!(d.kind, OpKind::For | OpKind::While);
                depths.has_loops |= is_loop;
                let inner = depth + u32::from(is_loop);
                stack.extend(d.regions.iter().map(|r| (*r, inner)));
            }
        }
        depths
    }

    /// The depth where `v` is defined.
    fn of_value(&self, f: &Function, v: Value) -> Option<u32> {
        match f.value(v).def {
            tritonc_ir::ValueDef::Result(op, _) => self.ops.get(&op).map(|(d, _)| *d),
            tritonc_ir::ValueDef::Arg(b, _) => self.blocks.get(&b).copied(),
        }
    }

    /// Whether the affine expression `v` (what [`gradient`] reads) takes
    /// every scalar it is made of from outside depth `depth`: its value
    /// is the same in every iteration of the loop there, wherever it is
    /// computed.
    fn invariant_at(&self, f: &Function, v: Value, depth: u32) -> bool {
        let mut stack = vec![(v, 0u32)];
        while let Some((v, n)) = stack.pop() {
            if n > 64 {
                return false;
            }
            let Some(op) = f.def_op(v) else {
                return self.of_value(f, v).is_some_and(|d| d < depth);
            };
            let d = f.op(op);
            match d.kind {
                OpKind::MakeRange { .. } | OpKind::Constant(_) => {}
                OpKind::Splat if !f.ty(d.operands[0]).is_block() => {
                    let s = d.operands[0];
                    let constant = f.def_op(s).is_some_and(|o| matches!(f.op(o).kind, OpKind::Constant(_)));
                    if !constant && self.of_value(f, s).is_none_or(|d| d >= depth) {
                        return false;
                    }
                }
                OpKind::Splat
                | OpKind::Broadcast
                | OpKind::Reshape
                | OpKind::ConvertLayout
                | OpKind::Permute(_)
                | OpKind::Binary(BinaryOp::Add | BinaryOp::Sub | BinaryOp::Mul | BinaryOp::Shl) => {
                    stack.extend(d.operands.iter().map(|o| (*o, n + 1)));
                }
                _ => return false,
            }
        }
        true
    }

    /// Whether `v` (defined at `op`) is read in a loop deeper than `op` or
    /// after a loop that follows `op`: it is live in or across a loop.
    fn read_in_or_after_a_loop(&self, f: &Function, v: Value, op: OpId) -> bool {
        let Some(&(depth, _)) = self.ops.get(&op) else {
            return false;
        };
        self.users.get(&v).is_some_and(|users| {
            users
                .iter()
                .any(|u| self.ops.get(u).is_some_and(|(d, _)| *d > depth) || self.lives_across_a_loop(f, v, *u))
        })
    }

    /// Whether a loop runs between `v`'s definition and `use_op`, both in
    /// one block: `v` lives across it.
    fn lives_across_a_loop(&self, f: &Function, v: Value, use_op: OpId) -> bool {
        let Some(def) = f.def_op(v) else {
            return false;
        };
        let (Some((_, b)), Some((_, ub))) = (self.ops.get(&def), self.ops.get(&use_op)) else {
            return false;
        };
        let ops = &f.block(*b).ops;
        match (
            b == ub,
            ops.iter().position(|o| *o == def),
            ops.iter().position(|o| *o == use_op),
        ) {
            (true, Some(i), Some(j)) if i < j => ops[i..j]
                .iter()
                .any(|o| matches!(f.op(*o).kind, OpKind::For | OpKind::While)),
            _ => false,
        }
    }
}

/// The register index part of each dimension of register `part`'s
/// element (row-major; every dimension a power of two, as their product is).
fn index_parts(part: u32, shape: &[u32]) -> Vec<i64> {
    let mut index = vec![0i64; shape.len()];
    let mut rest = part;
    for (k, &n) in shape.iter().enumerate().rev() {
        index[k] = i64::from(rest % n);
        rest /= n;
    }
    index
}

/// `sum_d g[d] * index[d]`.
fn step(g: &[Uniform], index: &[i64]) -> Option<Uniform> {
    let mut step = Uniform::default();
    for (u, &i) in g.iter().zip(index) {
        step.add_scaled(u, i)?;
    }
    Some(step)
}

impl Emitter<'_> {
    /// `x <p> y` (the operands of comparison `op`) where one side is a
    /// uniform scalar `S` and the other an `i32` block affine in the
    /// element's index with constant steps `d_r` (masks such as `ks <
    /// k_left`, `rows < m`): per lane, its register-0 value `x0` against
    /// `S - d_r`, one scalar per distinct step. `None` when that does not
    /// apply. The result's registers that share a step are one class
    /// (`row_classes`).
    ///
    /// Exact: `x0 + d < S` is `x0 < S - d` as integers; `S - d` is
    /// computed saturating (a clamp, then the subtraction), and the predicate is
    /// chosen so that the bound it can saturate at never changes the
    /// answer (`d > 0` can only go below `i32::MIN`, where `<` and `>=`
    /// are exact; `d < 0` only above `i32::MAX`, where `<=` and `>` are;
    /// `x0 <= S - d` is `x0 < S - (d - 1)`, and so on). Equality wraps.
    pub(super) fn affine_compare(&mut self, op: OpId) -> Result<Option<String>, CodegenError> {
        let f = self.f;
        let d = f.op(op);
        let OpKind::Cmp(p) = d.kind else {
            return Ok(None);
        };
        let out = d.results[0];
        let ty = f.ty(d.operands[0]);
        if self.lanes == 1
            || ty.scalar_elem() != Some(ScalarType::I32)
            || self.shared_row_classes(&d.operands).is_some()
        {
            return Ok(None);
        }
        let zero = |g: &[Uniform]| g.iter().all(Uniform::is_zero);
        let (Some(g0), Some(g1)) = (gradient(f, d.operands[0]), gradient(f, d.operands[1])) else {
            return Ok(None);
        };
        // The block side first: `x <p> S`, or `S <p> x` as `x <p'> S`.
        let (x, g, s, p) = match (zero(&g0), zero(&g1)) {
            (false, true) => (d.operands[0], g0, d.operands[1], p),
            (true, false) => (d.operands[1], g1, d.operands[0], p.swapped()),
            (false, false) => return self.affine_block_compare(op, p, [g0, g1]),
            _ => return Ok(None),
        };
        // Only where it pays: a compare in a loop whose block side comes
        // from outside the loop (`ks < k_left`: the block is invariant,
        // the scalar is not), or after a loop the block side lives across,
        // or whose result is read in or after a loop (`rows < m`, made
        // once before the loop), so that the loop keeps one value a lane
        // instead of one per register. Elsewhere the per-register values
        // are made where they are used, and the scalar side's extra
        // instructions are all this would change.
        let across = self.loop_depths.has_loops
            && (self.loop_depths.lives_across_a_loop(f, x, op)
                || self.loop_depths.read_in_or_after_a_loop(f, out, op)
                || self.loop_depths.ops.get(&op).is_some_and(|(d, _)| *d == 0));
        match (
            self.loop_depths.of_value(f, d.results[0]),
            self.loop_depths.of_value(f, x),
        ) {
            (Some(here), Some(there)) if here > 0 && there < here => {}
            _ if across => {}
            _ => return Ok(None),
        }
        let Some(scalar) = uniform_scalar(f, s, 0) else {
            return Ok(None);
        };
        let Some(parts) = super::shared::register_index_parts(self.register_layout(out), self.lanes) else {
            return Ok(None);
        };
        // Each register's constant step.
        let mut steps = Vec::with_capacity(parts.len());
        for &part in &parts {
            match step(&g, &index_parts(part, &ty.shape)) {
                Some(u) if u.terms.iter().all(|(_, k)| *k == 0) => steps.push(u.constant),
                _ => return Ok(None),
            }
        }
        let x0 = self.first_register(x)?;
        let s = match scalar {
            Scalar::Constant(c) => self.splat_const(&c.to_string(), "i32"),
            Scalar::Value(v) => self.name(v)?,
        };
        self.compare_per_key(out, &steps, |e, dr| {
            // (predicate, what is subtracted from `S`)
            let (pred, by) = match p {
                CmpPred::Eq | CmpPred::Ne => (p, dr),
                CmpPred::Lt | CmpPred::Ge if dr >= 0 => (p, dr),
                CmpPred::Le | CmpPred::Gt if dr <= 0 => (p, dr),
                CmpPred::Le => (CmpPred::Lt, dr - 1),
                CmpPred::Gt => (CmpPred::Ge, dr - 1),
                CmpPred::Lt => (CmpPred::Le, dr + 1),
                CmpPred::Ge => (CmpPred::Gt, dr + 1),
            };
            let Ok(by) = i32::try_from(by) else {
                return None;
            };
            let bound = if by == 0 {
                s.clone()
            } else if matches!(pred, CmpPred::Eq | CmpPred::Ne) {
                let c = e.splat_const(&by.to_string(), "i32");
                e.def(&format!("arith.subi {s}, {c} : i32"))
            } else {
                // Saturating, in scalar instructions (AMDGPU's saturating
                // subtraction is a vector one): `max(S, MIN + by) - by`
                // for `by > 0`, `min(S, MAX + by) - by` for `by < 0`.
                let (clamp, limit) = if by > 0 {
                    ("arith.maxsi", i64::from(i32::MIN) + i64::from(by))
                } else {
                    ("arith.minsi", i64::from(i32::MAX) + i64::from(by))
                };
                let l = e.splat_const(&limit.to_string(), "i32");
                let c = e.splat_const(&by.to_string(), "i32");
                let clamped = e.def(&format!("{clamp} {s}, {l} : i32"));
                e.def(&format!("arith.subi {clamped}, {c} overflow<nsw> : i32"))
            };
            Some(e.def(&format!("arith.cmpi {}, {x0}, {bound} : i32", pred.mlir(false, false))))
        })
    }

    /// The comparison result whose register `r` is `compare(keys[r])`, one
    /// comparison per distinct key (`None` when `compare` gives up); the
    /// registers sharing a key are one class (`row_classes`).
    fn compare_per_key(
        &mut self,
        out: Value,
        keys: &[i64],
        mut compare: impl FnMut(&mut Self, i64) -> Option<String>,
    ) -> Result<Option<String>, CodegenError> {
        let mut done: Vec<(i64, String)> = Vec::new();
        let mut classes = Vec::with_capacity(keys.len());
        let mut regs = Vec::with_capacity(keys.len());
        for (r, &k) in keys.iter().enumerate() {
            if let Some((_, c)) = done.iter().find(|(key, _)| *key == k) {
                regs.push(c.clone());
                classes.push(keys.iter().position(|key| *key == k).unwrap_or(r) as u32);
                continue;
            }
            let Some(c) = compare(self, k) else {
                return Ok(None);
            };
            done.push((k, c.clone()));
            classes.push(r as u32);
            regs.push(c);
        }
        let vt = self.vty(out);
        let v = self.def(&format!("vector.from_elements {} : {vt}", regs.join(", ")));
        self.row_classes.insert(out, std::rc::Rc::new(classes));
        Ok(Some(v))
    }

    /// `x <p> y` of two `i32` blocks affine in the element's index with
    /// constant steps (`cols <= rows`, the causal mask), in a loop where
    /// one of them is the same in every iteration: per lane `x0 - y0` (in
    /// 32 bits when both are known non-negative, else 64: exact) against
    /// each register's `dy - dx`, so that the loop keeps one difference a
    /// lane instead of the invariant block's registers.
    fn affine_block_compare(
        &mut self,
        op: OpId,
        p: CmpPred,
        gradients: [Vec<Uniform>; 2],
    ) -> Result<Option<String>, CodegenError> {
        let f = self.f;
        let d = f.op(op);
        let (x, y, out) = (d.operands[0], d.operands[1], d.results[0]);
        // In a loop, with one side the same in every iteration (the
        // causal mask's `rows`, made again in the loop from what is
        // outside it), which LLVM would keep a register per element of.
        let invariant = |v: Value, here: u32| self.loop_depths.invariant_at(f, v, here);
        match self.loop_depths.of_value(f, out) {
            Some(here) if here > 0 && (invariant(x, here) || invariant(y, here)) => {}
            _ => return Ok(None),
        }
        let ty = f.ty(x);
        let Some(parts) = super::shared::register_index_parts(self.register_layout(out), self.lanes) else {
            return Ok(None);
        };
        let mut keys = Vec::with_capacity(parts.len());
        for &part in &parts {
            let index = index_parts(part, &ty.shape);
            let constant = |g: &[Uniform]| match step(g, &index) {
                Some(u) if u.terms.iter().all(|(_, k)| *k == 0) => Some(u.constant),
                _ => None,
            };
            match (constant(&gradients[0]), constant(&gradients[1])) {
                (Some(dx), Some(dy)) => keys.push(dy - dx),
                _ => return Ok(None),
            }
        }
        // The difference of two non-negative `i32`s is an `i32`; otherwise
        // it is taken in 64 bits.
        let narrow = self.non_negative(x) && self.non_negative(y) && keys.iter().all(|k| i32::try_from(*k).is_ok());
        let it = if narrow { "i32" } else { "i64" };
        let mut lane = Vec::new();
        for v in [x, y] {
            let first = self.first_register(v)?;
            lane.push(if narrow {
                first
            } else {
                self.def(&format!("arith.extsi {first} : i32 to i64"))
            });
        }
        let flags = if narrow { " overflow<nsw>" } else { "" };
        let diff = self.def(&format!("arith.subi {}, {}{flags} : {it}", lane[0], lane[1]));
        let pred = p.mlir(false, false);
        self.compare_per_key(out, &keys, |e, k| {
            let kc = e.splat_const(&k.to_string(), it);
            Some(e.def(&format!("arith.cmpi {pred}, {diff}, {kc} : {it}")))
        })
    }

    /// Register `r`'s address of pointer block `ptrs` as `(base + step) +
    /// lane offset` (see the module's doc), or `None` when `ptrs` is not
    /// of that form.
    pub(super) fn stepped_pointer(&mut self, ptrs: Value, r: u32) -> Result<Option<String>, CodegenError> {
        let f = self.f;
        let ty = f.ty(ptrs);
        let Elem::Ptr(s) = ty.elem else {
            return Ok(None);
        };
        let Some((base, offsets)) = tritonc_passes::loop_ptrs::based_block(f, ptrs) else {
            return Ok(None);
        };
        let Some(grads) = offsets.iter().map(|o| gradient(f, *o)).collect::<Option<Vec<_>>>() else {
            return Ok(None);
        };
        let lay = self.register_layout(ptrs);
        let Some(parts) = super::shared::register_index_parts(lay, self.lanes) else {
            return Ok(None);
        };
        let Some(&part) = parts.get(r as usize) else {
            return Ok(None);
        };
        let index = index_parts(part, &ty.shape);
        let mut group_step = Uniform::default();
        for g in &grads {
            match step(g, &index) {
                Some(s) if group_step.add_scaled(&s, 1).is_some() => {}
                _ => return Ok(None),
            }
        }
        let address = match self.group_lane_addresses.get(&ptrs).cloned() {
            Some(a) => a,
            None => {
                let a = self.lane_address((ty, lay), base, &offsets, &grads)?;
                self.group_lane_addresses.insert(ptrs, a.clone());
                a
            }
        };
        let gp = self.target.global_ptr();
        let elem = mem_ty(s);
        let mut at = address.wave_base;
        if !group_step.is_zero() {
            // In bytes, so that the element size joins the step's constant
            // factors (one scalar shift, not two).
            let mut bytes = Uniform::default();
            if bytes.add_scaled(&group_step, i64::from(s.bytes())).is_some() {
                let b = self.uniform_value(&bytes)?;
                at = self.def(&format!("llvm.getelementptr {at}[{b}] : ({gp}, i64) -> {gp}, i8"));
            } else {
                let e = self.uniform_value(&group_step)?;
                at = self.def(&format!("llvm.getelementptr {at}[{e}] : ({gp}, i64) -> {gp}, {elem}"));
            }
        }
        if let Some(lane) = address.lane_offset {
            at = self.def(&format!(
                "llvm.getelementptr {at}[{lane}] : ({gp}, i64) -> {gp}, {elem}"
            ));
        }
        Ok(Some(at))
    }

    /// The part of a pointer block's register-group addresses every group
    /// shares: the block (of type and layout `block`, where every lane
    /// holds distinct elements) is `base` plus `offsets`, affine with
    /// gradients `grads`.
    fn lane_address(
        &mut self,
        (ty, lay): (&Type, RegisterLayout),
        base: Value,
        offsets: &[Value],
        grads: &[Vec<Uniform>],
    ) -> Result<LaneAddress, CodegenError> {
        let Elem::Ptr(s) = ty.elem else {
            return Err(internal("addresses of non-pointers"));
        };
        // The index steps of the lane bits within a wave: an offset none
        // of them moves is the same in every lane of a wave.
        let wave_bits = self.target.wave_size().trailing_zeros();
        let lane_steps: Vec<Vec<i64>> = (0..lay.numel().trailing_zeros())
            .filter(|b| matches!(lay.index_bit(*b), IndexBit::Lane(q) if q < wave_bits))
            .map(|b| index_parts(1 << b, &ty.shape))
            .collect();
        let mut wave: Option<String> = None;
        let mut lane: Option<String> = None;
        for (o, g) in offsets.iter().zip(grads) {
            let same_in_wave = lane_steps.iter().all(|i| step(g, i).is_some_and(|d| d.is_zero()));
            let mut first = self.first_register(*o)?;
            // Varying across the block but not within a wave (a row a
            // wave): LLVM computes it per lane unless told.
            if same_in_wave && g.iter().any(|d| !d.is_zero()) {
                self.next += 1;
                let name = format!("wu{}", self.next);
                if let Some(code) = self.target.wave_uniform(&first, &name) {
                    for l in code.lines() {
                        self.line(l);
                    }
                    first = format!("%{name}");
                }
            }
            let wide = self.def(&format!("arith.extsi {first} : i32 to i64"));
            let sum = if same_in_wave { &mut wave } else { &mut lane };
            *sum = Some(match sum.take() {
                None => wide,
                Some(acc) => self.def(&format!("arith.addi {acc}, {wide} : i64")),
            });
        }
        let gp = self.target.global_ptr();
        let elem = mem_ty(s);
        let mut wave_base = self.name(base)?;
        if let Some(w) = wave {
            wave_base = self.def(&format!(
                "llvm.getelementptr {wave_base}[{w}] : ({gp}, i64) -> {gp}, {elem}"
            ));
        }
        Ok(LaneAddress {
            wave_base,
            lane_offset: lane,
        })
    }

    /// Starts a new load or store: what the last one's register groups
    /// shared is not in scope here.
    pub(super) fn forget_group_addresses(&mut self) {
        self.group_address_parts.clear();
        self.group_lane_addresses.clear();
    }

    /// Register 0 of `i32` block `v`: the lane's own value, from which
    /// the others are steps away.
    fn first_register(&mut self, v: Value) -> Result<String, CodegenError> {
        let (name, vt) = (self.name(v)?, self.vty(v));
        Ok(self.def(&format!("vector.extract {name}[0] : i32 from {vt}")))
    }

    /// `u` as an `i64` value (each term widened first: exact, whatever
    /// the signs of the terms).
    fn uniform_value(&mut self, u: &Uniform) -> Result<String, CodegenError> {
        let mut sum = self.splat_const(&u.constant.to_string(), "i64");
        for &(v, k) in &u.terms {
            if k == 0 {
                continue;
            }
            let wide = match self.group_address_parts.get(&v).cloned() {
                Some(w) => w,
                None => {
                    let x = self.name(v)?;
                    let w = self.def(&format!("arith.extsi {x} : i32 to i64"));
                    self.group_address_parts.insert(v, w.clone());
                    w
                }
            };
            let kc = self.splat_const(&k.to_string(), "i64");
            let term = self.def(&format!("arith.muli {wide}, {kc} : i64"));
            sum = self.def(&format!("arith.addi {sum}, {term} : i64"));
        }
        Ok(sum)
    }
}
