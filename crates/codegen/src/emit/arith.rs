//! Elementwise operations: arithmetic, comparisons, casts and math
//! functions on per-lane vectors, and elementwise operations on values
//! that repeat along rows, computed once per distinct register.

use super::*;

impl Emitter<'_> {
    /// An elementwise operation on blocks (or, with scalar types, on one
    /// element of each).
    pub(super) fn elementwise(
        &mut self,
        kind: &OpKind,
        ins: &[String],
        in_ty: &[&Type],
        out_ty: Option<&Type>,
    ) -> Result<String, CodegenError> {
        match kind {
            OpKind::Binary(b) => {
                let t = in_ty[0];
                Ok(self.binary(*b, t, &ins[0], &ins[1])?)
            }
            OpKind::Cmp(p) => {
                let t = in_ty[0];
                let s = t.scalar_elem().ok_or_else(|| internal("pointer compare"))?;
                let ty = self.mty(t);
                let pred = p.mlir(s.is_float(), s.is_unsigned() || s.is_bool());
                let opn = if s.is_float() { "cmpf" } else { "cmpi" };
                Ok(self.def(&format!("arith.{opn} {pred}, {}, {} : {ty}", ins[0], ins[1])))
            }
            OpKind::Neg => {
                let t = in_ty[0];
                let s = t.scalar_elem().ok_or_else(|| internal("pointer negate"))?;
                let ty = self.mty(t);
                if s.is_float() {
                    Ok(self.def(&format!("arith.negf {} : {ty}", ins[0])))
                } else {
                    let z = self.splat_const("0", &ty);
                    Ok(self.def(&format!("arith.subi {z}, {} : {ty}", ins[0])))
                }
            }
            OpKind::Not => {
                let t = in_ty[0];
                let s = t.scalar_elem().ok_or_else(|| internal("pointer not"))?;
                let ty = self.mty(t);
                let ones = self.splat_const(if s.is_bool() { "true" } else { "-1" }, &ty);
                Ok(self.def(&format!("arith.xori {}, {ones} : {ty}", ins[0])))
            }
            OpKind::Cast => {
                let t = out_ty.ok_or_else(|| internal("cast without result"))?;
                Ok(self.cast(&ins[0], in_ty[0], t)?)
            }
            OpKind::Bitcast => {
                let t = out_ty.ok_or_else(|| internal("bitcast without result"))?;
                let (a, b) = (self.mty(in_ty[0]), self.mty(t));
                Ok(self.def(&format!("arith.bitcast {} : {a} to {b}", ins[0])))
            }
            OpKind::Select => {
                let (ct, vt) = (self.mty(in_ty[0]), self.mty(in_ty[1]));
                if in_ty[0].is_block() {
                    Ok(self.def(&format!("arith.select {}, {}, {} : {ct}, {vt}", ins[0], ins[1], ins[2])))
                } else {
                    Ok(self.def(&format!("arith.select {}, {}, {} : {vt}", ins[0], ins[1], ins[2])))
                }
            }
            OpKind::Math(m) => Ok(self.math(*m, &ins[0], in_ty[0])?),
            OpKind::Fma => {
                let ty = self.mty(in_ty[0]);
                Ok(self.def(&format!("math.fma {}, {}, {} : {ty}", ins[0], ins[1], ins[2])))
            }
            _ => Err(internal("not an elementwise operation")),
        }
    }

    /// The register classes shared by the block operands of an
    /// elementwise operation, when every one repeats along the same rows
    /// (see `row_classes`) or is a splat, and at least one is not a splat.
    pub(super) fn shared_row_classes(&self, operands: &[Value]) -> Option<std::rc::Rc<Vec<u32>>> {
        if self.lanes == 1 {
            return None;
        }
        let mut found: Option<std::rc::Rc<Vec<u32>>> = None;
        for v in operands {
            if !self.f.ty(*v).is_block() {
                continue;
            }
            if let Some(c) = self.row_classes.get(v) {
                match &found {
                    Some(f) if f != c => return None,
                    _ => found = Some(c.clone()),
                }
            } else if !self.is_splat(*v) {
                return None;
            }
        }
        found
    }

    /// Register classes of an elementwise result that the axis analysis
    /// finds constant over aligned runs of `2^s` elements (in row-major
    /// order; `cols < n` with `n` divisible by 16 is constant over runs of
    /// 16): registers whose elements' flat indices differ only in bits
    /// below `s`, or in none, hold equal values, for every lane, so
    /// `classes[r]` is `r` with the register bits that place no index bit
    /// at or above `s` cleared. `None` when that leaves every register its
    /// own class.
    pub(super) fn constancy_classes(&self, result: Value) -> Option<std::rc::Rc<Vec<u32>>> {
        let t = self.f.ty(result);
        let constancy = self.axis.get(&result)?.constancy;
        if self.lanes == 1 || !t.is_block() || constancy < 2 {
            return None;
        }
        // Blocked layouts are left to LLVM: their masks feed memory
        // operations, which read one mask bit per run already (`load`).
        let lay = self.register_layout(result);
        let k = lay.per_lane();
        if !matches!(lay, RegisterLayout::Matrix(_)) || k != self.layout(t).per_lane() || k < 2 {
            return None;
        }
        let numel = lay.numel();
        let (s, bits) = (constancy.min(u64::from(numel)).trailing_zeros(), numel.trailing_zeros());
        let keep = (s..bits).fold(0u32, |m, b| match lay.index_bit(b) {
            IndexBit::Register(q) => m | (1 << q),
            IndexBit::Lane(_) => m,
        });
        let classes: Vec<u32> = (0..k).map(|r| r & keep).collect();
        let distinct = (0..k).filter(|r| r & keep == *r).count();
        (distinct < k as usize).then(|| std::rc::Rc::new(classes))
    }

    /// Whether some block operand of a matrix-layout operation holds one
    /// value in all of a lane's registers (a row vector broadcast into a
    /// layout with a row per lane) while another does not.
    pub(super) fn has_uniform_operand(&self, operands: &[Value]) -> bool {
        if self.lanes == 1
            || !operands
                .iter()
                .any(|v| matches!(self.value_layout(*v), Some(Layout::Matrix(_))))
        {
            return false;
        }
        let uniform = |v: &Value| self.row_classes.get(v).is_some_and(|c| c.iter().all(|r| *r == 0));
        operands.iter().any(uniform)
            && operands
                .iter()
                .any(|v| self.f.ty(*v).is_block() && !self.row_classes.contains_key(v) && !self.is_splat(*v))
    }

    fn is_splat(&self, v: Value) -> bool {
        self.f
            .def_op(v)
            .is_some_and(|op| matches!(self.f.op(op).kind, OpKind::Splat))
    }

    /// An elementwise operation computed as scalars and gathered back into
    /// the lane's vector. With `classes` (registers repeating along rows,
    /// or a result constant over runs: `classes[r]` is the first register
    /// equal to `r`), once per class, the result keeping those classes:
    /// LLVM would compute every register. Without, register by register,
    /// operands that repeat read once per class: a vector operation with a
    /// splat of a loop's result invites LLVM's partial redundancy
    /// elimination to merge the splat, a register per element, across the
    /// loop's exits.
    #[allow(clippy::too_many_arguments)]
    pub(super) fn elementwise_scalarized(
        &mut self,
        kind: &OpKind,
        ins: &[String],
        operands: &[Value],
        in_ty: &[&Type],
        out: &Type,
        classes: Option<std::rc::Rc<Vec<u32>>>,
        result: Value,
    ) -> Result<String, CodegenError> {
        let scalar = |t: &Type| Type::block(t.elem, Vec::new());
        let scalar_in: Vec<Type> = in_ty.iter().map(|t| scalar(t)).collect();
        let scalar_in: Vec<&Type> = scalar_in.iter().collect();
        let out_scalar = scalar(out);
        let n = classes
            .as_ref()
            .map_or(self.layout(out).per_lane() as usize, |c| c.len());
        let first_of = |r: usize| classes.as_ref().map_or(r as u32, |c| c[r]);
        let mut computed: Vec<u32> = (0..n).map(first_of).collect();
        computed.sort_unstable();
        computed.dedup();
        let mut taken: HashMap<(usize, u32), String> = HashMap::new();
        let mut values = HashMap::new();
        for &r in &computed {
            let mut args = Vec::new();
            for (i, v) in operands.iter().enumerate() {
                if !self.f.ty(*v).is_block() {
                    args.push(ins[i].clone());
                    continue;
                }
                // Register `r` stands for its class; without classes, an
                // operand's register from its own classes (splats hold the
                // same value in every register).
                let at = match (&classes, self.row_classes.get(v)) {
                    (Some(_), _) => r,
                    (None, Some(c)) => c[r as usize],
                    (None, None) if self.is_splat(*v) => 0,
                    (None, None) => r,
                };
                let x = match taken.get(&(i, at)) {
                    Some(x) => x.clone(),
                    None => {
                        let (vt, et) = (self.mty(in_ty[i]), self.mty(scalar_in[i]));
                        let x = self.def(&format!("vector.extract {}[{at}] : {et} from {vt}", ins[i]));
                        taken.insert((i, at), x.clone());
                        x
                    }
                };
                args.push(x);
            }
            values.insert(r, self.elementwise(kind, &args, &scalar_in, Some(&out_scalar))?);
        }
        let regs: Vec<String> = (0..n)
            .map(|r| {
                values
                    .get(&first_of(r))
                    .cloned()
                    .ok_or_else(|| internal("missing class"))
            })
            .collect::<Result<_, _>>()?;
        let vt = self.mty(out);
        let v = self.def(&format!("vector.from_elements {} : {vt}", regs.join(", ")));
        if let Some(c) = classes {
            self.row_classes.insert(result, c);
        }
        Ok(v)
    }

    pub(super) fn binary(&mut self, b: BinaryOp, t: &Type, x: &str, y: &str) -> Result<String, CodegenError> {
        let s = t.scalar_elem().ok_or_else(|| internal("binary op on pointers"))?;
        let ty = self.mty(t);
        let float = s.is_float();
        let unsigned = s.is_unsigned() || s.is_bool();
        let name = match b {
            BinaryOp::Add => {
                if float {
                    "addf"
                } else {
                    "addi"
                }
            }
            BinaryOp::Sub => {
                if float {
                    "subf"
                } else {
                    "subi"
                }
            }
            BinaryOp::Mul => {
                if float {
                    "mulf"
                } else {
                    "muli"
                }
            }
            BinaryOp::Div if float => "divf",
            BinaryOp::Rem if float => "remf",
            BinaryOp::Div | BinaryOp::Rem => return Ok(self.int_divrem(b == BinaryOp::Div, unsigned, &ty, x, y)),
            BinaryOp::Shl => "shli",
            BinaryOp::Shr => {
                if unsigned {
                    "shrui"
                } else {
                    "shrsi"
                }
            }
            BinaryOp::And => "andi",
            BinaryOp::Or => "ori",
            BinaryOp::Xor => "xori",
            BinaryOp::Max => {
                if float {
                    "maxnumf"
                } else if unsigned {
                    "maxui"
                } else {
                    "maxsi"
                }
            }
            BinaryOp::Min => {
                if float {
                    "minnumf"
                } else if unsigned {
                    "minui"
                } else {
                    "minsi"
                }
            }
        };
        Ok(self.def(&format!("arith.{name} {x}, {y} : {ty}")))
    }

    /// Integer division and remainder, truncating like C. On the host, a
    /// zero divisor (and `MIN / -1`) would trap the process, so the divisor
    /// is made safe there: such lanes get an unspecified value instead.
    pub(super) fn int_divrem(&mut self, div: bool, unsigned: bool, ty: &str, x: &str, y: &str) -> String {
        let op = match (div, unsigned) {
            (true, true) => "divui",
            (true, false) => "divsi",
            (false, true) => "remui",
            (false, false) => "remsi",
        };
        if !self.target.traps_on_integer_division() {
            return self.def(&format!("arith.{op} {x}, {y} : {ty}"));
        }
        let zero = self.splat_const("0", ty);
        let one = self.splat_const("1", ty);
        let is_zero = self.def(&format!("arith.cmpi eq, {y}, {zero} : {ty}"));
        let mut bad = is_zero;
        if !unsigned {
            let m1 = self.splat_const("-1", ty);
            let is_m1 = self.def(&format!("arith.cmpi eq, {y}, {m1} : {ty}"));
            bad = self.def(&format!("arith.ori {bad}, {is_m1} : {}", bool_ty(ty)));
        }
        let safe = self.select(&bad, &one, y, ty);
        let r = self.def(&format!("arith.{op} {x}, {safe} : {ty}"));
        if unsigned {
            return r;
        }
        // Dividing by -1 is negation (wrapping); the remainder is 0.
        let m1 = self.splat_const("-1", ty);
        let is_m1 = self.def(&format!("arith.cmpi eq, {y}, {m1} : {ty}"));
        let alt = if div {
            let z = self.splat_const("0", ty);
            self.def(&format!("arith.subi {z}, {x} : {ty}"))
        } else {
            self.splat_const("0", ty)
        };
        self.select(&is_m1, &alt, &r, ty)
    }

    pub(super) fn cast(&mut self, x: &str, from: &Type, to: &Type) -> Result<String, CodegenError> {
        let (a, b) = (
            from.scalar_elem().ok_or_else(|| internal("cast of pointers"))?,
            to.scalar_elem().ok_or_else(|| internal("cast to pointers"))?,
        );
        let (fty, tty) = (self.mty(from), self.mty(to));
        if a == b {
            return Ok(x.to_string());
        }
        if b.is_bool() {
            // Nonzero is true.
            return Ok(if a.is_float() {
                let z = self.splat_const("0.0", &fty);
                self.def(&format!("arith.cmpf une, {x}, {z} : {fty}"))
            } else {
                let z = self.splat_const("0", &fty);
                self.def(&format!("arith.cmpi ne, {x}, {z} : {fty}"))
            });
        }
        let r = match (a.is_float(), b.is_float()) {
            (false, false) => {
                if a.bits() == b.bits() {
                    return Ok(x.to_string());
                }
                let op = if a.bits() > b.bits() {
                    "trunci"
                } else if a.is_unsigned() || a.is_bool() {
                    "extui"
                } else {
                    "extsi"
                };
                self.def(&format!("arith.{op} {x} : {fty} to {tty}"))
            }
            (false, true) => {
                let op = if a.is_unsigned() || a.is_bool() {
                    "uitofp"
                } else {
                    "sitofp"
                };
                self.def(&format!("arith.{op} {x} : {fty} to {tty}"))
            }
            (true, false) => {
                let op = if b.is_unsigned() { "fptoui" } else { "fptosi" };
                self.def(&format!("arith.{op} {x} : {fty} to {tty}"))
            }
            (true, true) => {
                if a.bits() == b.bits() {
                    // f16 <-> bf16 goes through f32.
                    let mid = self.mty_as(from, "f32");
                    let w = self.def(&format!("arith.extf {x} : {fty} to {mid}"));
                    self.def(&format!("arith.truncf {w} : {mid} to {tty}"))
                } else if a.bits() < b.bits() {
                    self.def(&format!("arith.extf {x} : {fty} to {tty}"))
                } else {
                    self.def(&format!("arith.truncf {x} : {fty} to {tty}"))
                }
            }
        };
        Ok(r)
    }

    pub(super) fn math(&mut self, m: MathFn, x: &str, t: &Type) -> Result<String, CodegenError> {
        let s = t.scalar_elem().ok_or_else(|| internal("math on pointers"))?;
        let ty = self.mty(t);
        if m == MathFn::Abs {
            let op = if s.is_float() { "absf" } else { "absi" };
            return Ok(self.def(&format!("math.{op} {x} : {ty}")));
        }
        let transcendental = !matches!(m, MathFn::Sqrt | MathFn::Rsqrt | MathFn::Floor | MathFn::Ceil);
        if s == ScalarType::F64 && transcendental && !self.target.has_f64_transcendentals() {
            return Err(CodegenError::Unsupported(format!(
                "`{}` on f64 is not supported on {} yet (use f32, or the CPU backend)",
                m.name(),
                self.target.name()
            )));
        }
        // Half precision computes in f32 and rounds once at the end.
        let (wide, wty, x) = if s.bits() == 16 {
            let wty = self.mty_as(t, "f32");
            let w = self.def(&format!("arith.extf {x} : {ty} to {wty}"));
            (ScalarType::F32, wty, w)
        } else {
            (s, ty.clone(), x.to_string())
        };
        let r = match m {
            // As Triton computes it (and as fast): `exp2(x * log2(e))`, the
            // product rounded to f32 (docs/language.md gives the error).
            MathFn::Exp if wide == ScalarType::F32 => {
                let log2e = self.float_const(std::f64::consts::LOG2_E, ScalarType::F32, &wty);
                let p = self.def(&format!("arith.mulf {x}, {log2e} : {wty}"));
                self.def(&format!("math.exp2 {p} : {wty}"))
            }
            // The target's approximation (`Target::approximate_exp2`).
            MathFn::Exp2 if wide == ScalarType::F32 && self.target.approximate_exp2().is_some() => {
                self.approximate_exp2(&x, &wty)
            }
            MathFn::Exp
            | MathFn::Exp2
            | MathFn::Log
            | MathFn::Log2
            | MathFn::Sqrt
            | MathFn::Sin
            | MathFn::Cos
            | MathFn::Floor
            | MathFn::Ceil => self.def(&format!("math.{} {x} : {wty}", m.name())),
            MathFn::Rsqrt => {
                let sq = self.def(&format!("math.sqrt {x} : {wty}"));
                let one = self.float_const(1.0, wide, &wty);
                self.def(&format!("arith.divf {one}, {sq} : {wty}"))
            }
            MathFn::Tanh => self.tanh(&x, wide, &wty),
            MathFn::Erf => self.erf(&x, wide, &wty),
            MathFn::Abs => return Err(internal("abs handled above")),
        };
        if s.bits() == 16 {
            Ok(self.def(&format!("arith.truncf {r} : {wty} to {ty}")))
        } else {
            Ok(r)
        }
    }

    /// `exp2` of each element of `x` (f32, of MLIR type `ty`) by the
    /// target's intrinsic, which takes one f32.
    fn approximate_exp2(&mut self, x: &str, ty: &str) -> String {
        let Some(intrinsic) = self.target.approximate_exp2() else {
            return self.def(&format!("math.exp2 {x} : {ty}"));
        };
        let Some(n) = ty
            .strip_prefix("vector<")
            .and_then(|t| t.strip_suffix("xf32>"))
            .and_then(|n| n.parse::<u32>().ok())
        else {
            return self.def(&format!("llvm.call_intrinsic \"{intrinsic}\"({x}) : (f32) -> f32"));
        };
        let results: Vec<String> = (0..n)
            .map(|i| {
                let e = self.def(&format!("vector.extract {x}[{i}] : f32 from {ty}"));
                self.def(&format!("llvm.call_intrinsic \"{intrinsic}\"({e}) : (f32) -> f32"))
            })
            .collect();
        self.def(&format!("vector.from_elements {} : {ty}", results.join(", ")))
    }

    /// `c[0] + x * (c[1] + x * (...))`.
    pub(super) fn horner(&mut self, x: &str, coeffs: &[f64], s: ScalarType, ty: &str) -> String {
        let mut acc = self.float_const(*coeffs.last().unwrap_or(&0.0), s, ty);
        for c in coeffs.iter().rev().skip(1) {
            let cc = self.float_const(*c, s, ty);
            acc = self.def(&format!("math.fma {acc}, {x}, {cc} : {ty}"));
        }
        acc
    }

    /// tanh(x) = -m / (2 + m) with m = expm1(-2|x|), sign restored. expm1
    /// is a Taylor polynomial for small arguments (no cancellation) and
    /// `exp(u) - 1` elsewhere (where it is at most -0.71, exact enough).
    pub(super) fn tanh(&mut self, x: &str, s: ScalarType, ty: &str) -> String {
        let terms = if s == ScalarType::F64 { 21 } else { 12 };
        let mut coeffs = Vec::new();
        let mut fact = 1.0f64;
        for k in 1..=terms {
            fact *= f64::from(k);
            coeffs.push(1.0 / fact);
        }
        let a = self.def(&format!("math.absf {x} : {ty}"));
        let m2 = self.float_const(-2.0, s, ty);
        let u = self.def(&format!("arith.mulf {a}, {m2} : {ty}"));
        let p = self.horner(&u, &coeffs, s, ty);
        let small = self.def(&format!("arith.mulf {u}, {p} : {ty}"));
        let ex = self.def(&format!("math.exp {u} : {ty}"));
        let one = self.float_const(1.0, s, ty);
        let big = self.def(&format!("arith.subf {ex}, {one} : {ty}"));
        let lim = self.float_const(0.625, s, ty);
        let is_small = self.def(&format!("arith.cmpf olt, {a}, {lim} : {ty}"));
        let m = self.select(&is_small, &small, &big, ty);
        let two = self.float_const(2.0, s, ty);
        let den = self.def(&format!("arith.addf {two}, {m} : {ty}"));
        let nm = self.def(&format!("arith.negf {m} : {ty}"));
        let r = self.def(&format!("arith.divf {nm}, {den} : {ty}"));
        self.def(&format!("math.copysign {r}, {x} : {ty}"))
    }

    /// erf(x): the Maclaurin series for small |x|; 1 - erfc(|x|) beyond,
    /// with erfc from Numerical Recipes' Chebyshev fit (f32, relative error
    /// below 1.2e-7) or a continued fraction (f64).
    pub(super) fn erf(&mut self, x: &str, s: ScalarType, ty: &str) -> String {
        let f64_mode = s == ScalarType::F64;
        let (terms, limit) = if f64_mode { (41, 2.5) } else { (11, 1.0) };
        let two_over_sqrt_pi = 2.0 / std::f64::consts::PI.sqrt();
        let mut coeffs = Vec::new();
        let mut fact = 1.0f64;
        for n in 0..terms {
            if n > 0 {
                fact *= n as f64;
            }
            let sign = if n % 2 == 0 { 1.0 } else { -1.0 };
            coeffs.push(two_over_sqrt_pi * sign / (fact * (2 * n + 1) as f64));
        }
        let a = self.def(&format!("math.absf {x} : {ty}"));
        let x2 = self.def(&format!("arith.mulf {x}, {x} : {ty}"));
        let p = self.horner(&x2, &coeffs, s, ty);
        let small = self.def(&format!("arith.mulf {x}, {p} : {ty}"));
        // Keep the large branch's argument in range so it never makes NaN
        // for lanes that take the small branch.
        let lim = self.float_const(limit, s, ty);
        let am = self.def(&format!("arith.maximumf {a}, {lim} : {ty}"));
        let na2 = {
            let t = self.def(&format!("arith.mulf {am}, {am} : {ty}"));
            self.def(&format!("arith.negf {t} : {ty}"))
        };
        let erfc = if f64_mode {
            // erfc(a) = exp(-a^2) / sqrt(pi) / (a + (1/2) / (a + 1 / (a + (3/2) / (a + ...)))).
            let mut fr = am.clone();
            for k in (1..=60).rev() {
                let c = self.float_const(f64::from(k) / 2.0, s, ty);
                let q = self.def(&format!("arith.divf {c}, {fr} : {ty}"));
                fr = self.def(&format!("arith.addf {am}, {q} : {ty}"));
            }
            let e = self.def(&format!("math.exp {na2} : {ty}"));
            let sp = self.float_const(std::f64::consts::PI.sqrt(), s, ty);
            let den = self.def(&format!("arith.mulf {sp}, {fr} : {ty}"));
            self.def(&format!("arith.divf {e}, {den} : {ty}"))
        } else {
            let one = self.float_const(1.0, s, ty);
            let half = self.float_const(0.5, s, ty);
            let d = self.def(&format!("math.fma {half}, {am}, {one} : {ty}"));
            let t = self.def(&format!("arith.divf {one}, {d} : {ty}"));
            let c = [
                -1.265_512_23,
                1.000_023_68,
                0.374_091_96,
                0.096_784_18,
                -0.186_288_06,
                0.278_868_07,
                -1.135_203_98,
                1.488_515_87,
                -0.822_152_23,
                0.170_872_77,
            ];
            let p = self.horner(&t, &c, s, ty);
            let arg = self.def(&format!("arith.addf {na2}, {p} : {ty}"));
            let e = self.def(&format!("math.exp {arg} : {ty}"));
            self.def(&format!("arith.mulf {t}, {e} : {ty}"))
        };
        let one = self.float_const(1.0, s, ty);
        let big = self.def(&format!("arith.subf {one}, {erfc} : {ty}"));
        let big = self.def(&format!("math.copysign {big}, {x} : {ty}"));
        let is_small = self.def(&format!("arith.cmpf olt, {a}, {lim} : {ty}"));
        // NaN compares false and takes the large branch, which keeps NaN
        // only through `x`; route NaN to the small branch instead.
        let is_nan = self.def(&format!("arith.cmpf uno, {x}, {x} : {ty}"));
        let pick_small = self.def(&format!("arith.ori {is_small}, {is_nan} : {}", bool_ty(ty)));
        self.select(&pick_small, &small, &big, ty)
    }

    /// `arith.select` with a condition of the same shape as `ty`.
    pub(super) fn select(&mut self, c: &str, a: &str, b: &str, ty: &str) -> String {
        if ty.starts_with("vector<") {
            self.def(&format!("arith.select {c}, {a}, {b} : {}, {ty}", bool_ty(ty)))
        } else {
            self.def(&format!("arith.select {c}, {a}, {b} : {ty}"))
        }
    }
}
