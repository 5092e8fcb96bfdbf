//! Addresses of a pointer block's register groups as one address per lane
//! plus uniform steps.
//!
//! A pointer block `splat(base) + o1 + .. + on` whose `i32` offsets are
//! affine in the element's index with lane-independent coefficients
//! (`arange`, broadcasts, sums, products with scalars: how kernels build
//! their address blocks) has, in a layout where every lane holds distinct
//! elements, register `r`'s address equal to the lane's first address plus
//! a step that is the same for every lane. The address of a group is then
//! `(base + step) + lane offset`: the step is scalar arithmetic and the
//! lane offset is one 64-bit value per block instead of one per group. In
//! a loop, where `base` is what changes, that keeps one offset a lane live
//! across the loop instead of one per group (the matmul on gfx1100 spilled
//! its sixteen).
//!
//! Guarantees: the address is the same as the pointer block's element
//! (offset arithmetic is taken not to wrap past `i32`, as everywhere
//! else); anything this cannot prove falls back to the element itself.

use super::*;

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

impl Emitter<'_> {
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
        let Some(parts) = super::shared::register_index_parts(self.register_layout(ptrs), self.lanes) else {
            return Ok(None);
        };
        let Some(&part) = parts.get(r as usize) else {
            return Ok(None);
        };
        // Register `r`'s index part, per dimension (row-major, every
        // dimension a power of two since their product is).
        let mut index = vec![0i64; ty.shape.len()];
        let mut rest = part;
        for (k, &n) in ty.shape.iter().enumerate().rev() {
            index[k] = i64::from(rest % n);
            rest /= n;
        }
        let mut step = Uniform::default();
        for g in &grads {
            for (u, &i) in g.iter().zip(&index) {
                if step.add_scaled(u, i).is_none() {
                    return Ok(None);
                }
            }
        }
        let gp = self.target.global_ptr();
        let elem = mem_ty(s);
        // The lane's own offset: its first element's.
        let mut lane: Option<String> = None;
        for o in &offsets {
            let (name, ot) = (self.name(*o)?, self.vty(*o));
            let first = self.def(&format!("vector.extract {name}[0] : i32 from {ot}"));
            let wide = self.def(&format!("arith.extsi {first} : i32 to i64"));
            lane = Some(match lane {
                None => wide,
                Some(sum) => self.def(&format!("arith.addi {sum}, {wide} : i64")),
            });
        }
        let mut at = self.name(base)?;
        if !step.is_zero() {
            let s = self.uniform_value(&step)?;
            at = self.def(&format!("llvm.getelementptr {at}[{s}] : ({gp}, i64) -> {gp}, {elem}"));
        }
        if let Some(lane) = lane {
            at = self.def(&format!(
                "llvm.getelementptr {at}[{lane}] : ({gp}, i64) -> {gp}, {elem}"
            ));
        }
        Ok(Some(at))
    }

    /// `u` as an `i64` value (each term widened first: exact, whatever
    /// the signs of the terms).
    fn uniform_value(&mut self, u: &Uniform) -> Result<String, CodegenError> {
        let mut sum = self.splat_const(&u.constant.to_string(), "i64");
        for &(v, k) in &u.terms {
            if k == 0 {
                continue;
            }
            let x = self.name(v)?;
            let wide = self.def(&format!("arith.extsi {x} : i32 to i64"));
            let kc = self.splat_const(&k.to_string(), "i64");
            let term = self.def(&format!("arith.muli {wide}, {kc} : i64"));
            sum = self.def(&format!("arith.addi {sum}, {term} : i64"));
        }
        Ok(sum)
    }
}
