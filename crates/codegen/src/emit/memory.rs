//! Global memory: loads, stores and atomics, vectorized where the axis
//! analysis proves runs contiguous and aligned, masked gathers and
//! scatters otherwise (on the host, long ones as a loop), and which lane
//! stores an element several lanes hold.

use super::*;

impl Emitter<'_> {
    /// A gather or scatter of `k` elements of memory type `mt` on the
    /// host, one element at a time in a loop: the pointers, elements and
    /// mask go to stack scratch first. Gives the gathered block.
    pub(super) fn host_element_loop(
        &mut self,
        k: u32,
        ptrs: &str,
        mask: &str,
        s: ScalarType,
        access: HostAccess,
    ) -> String {
        let scratch = self.host_scratch();
        let pty = "!llvm.ptr";
        let gp = self.target.global_ptr();
        let mt = mem_ty(s);
        let elem_bytes = u64::from(s.bytes());
        let (data_off, mask_off, _) = host_loop_layout(u64::from(k), elem_bytes);
        let (vp, vt, vm) = (
            format!("vector<{k}x{gp}>"),
            format!("vector<{k}x{mt}>"),
            format!("vector<{k}xi8>"),
        );
        self.line(&format!(
            "llvm.store {ptrs}, {scratch} {{alignment = 8 : i64}} : {vp}, {pty}"
        ));
        let data = self.def(&format!(
            "llvm.getelementptr {scratch}[{data_off}] : ({pty}) -> {pty}, i8"
        ));
        let masks = self.def(&format!(
            "llvm.getelementptr {scratch}[{mask_off}] : ({pty}) -> {pty}, i8"
        ));
        let m8 = self.def(&format!("arith.extui {mask} : vector<{k}xi1> to {vm}"));
        self.line(&format!(
            "llvm.store {m8}, {masks} {{alignment = 1 : i64}} : {vm}, {pty}"
        ));
        let init = match access {
            HostAccess::Gather { pass } => pass,
            HostAccess::Scatter { values } => values,
        };
        self.line(&format!(
            "llvm.store {init}, {data} {{alignment = {elem_bytes} : i64}} : {vt}, {pty}"
        ));
        let c = |e: &mut Self, v: u32| e.splat_const(&v.to_string(), "i32");
        let (zero, one, n) = (c(self, 0), c(self, 1), c(self, k));
        let i = self.fresh();
        self.line(&format!("\"scf.for\"({zero}, {n}, {one}) ({{"));
        self.line(&format!("^bb0({i}: i32):"));
        self.indent += 1;
        let pp = self.def(&format!(
            "llvm.getelementptr {scratch}[{i}] : ({pty}, i32) -> {pty}, {gp}"
        ));
        let p = self.def(&format!("llvm.load {pp} : {pty} -> {gp}"));
        let mp = self.def(&format!("llvm.getelementptr {masks}[{i}] : ({pty}, i32) -> {pty}, i8"));
        let mv = self.def(&format!("llvm.load {mp} : {pty} -> i8"));
        let z8 = self.splat_const("0", "i8");
        let on = self.def(&format!("arith.cmpi ne, {mv}, {z8} : i8"));
        let dp = self.def(&format!("llvm.getelementptr {data}[{i}] : ({pty}, i32) -> {pty}, {mt}"));
        let v = format!("{i}_v");
        let body = match access {
            HostAccess::Gather { .. } => [
                format!("{v} = llvm.load {p} {{alignment = {elem_bytes} : i64}} : {gp} -> {mt}"),
                format!("llvm.store {v}, {dp} : {mt}, {pty}"),
            ],
            HostAccess::Scatter { .. } => [
                format!("{v} = llvm.load {dp} : {pty} -> {mt}"),
                format!("llvm.store {v}, {p} {{alignment = {elem_bytes} : i64}} : {mt}, {gp}"),
            ],
        };
        self.if_then(&on, |e| {
            for l in &body {
                e.line(l);
            }
        });
        self.line("\"scf.yield\"() : () -> ()");
        self.indent -= 1;
        self.line("}) : (i32, i32, i32) -> ()");
        match access {
            HostAccess::Gather { .. } => self.def(&format!(
                "llvm.load {data} {{alignment = {elem_bytes} : i64}} : {pty} -> {vt}"
            )),
            HostAccess::Scatter { .. } => String::new(),
        }
    }

    /// Stack memory on the host (for `tk.dot` and long gathers), allocated
    /// once at function entry (an allocation in a loop body would grow the
    /// stack at every iteration).
    pub(super) fn host_scratch(&mut self) -> String {
        if let Some(s) = &self.host_scratch {
            return s.clone();
        }
        let bytes = host_scratch_bytes(self.f).max(16);
        let text = format!(
            "    %scratch_n = llvm.mlir.constant({bytes} : i64) : i64\n    %scratch = llvm.alloca %scratch_n x i8 {{alignment = 64 : i64}} : (i64) -> !llvm.ptr\n"
        );
        self.out.insert_str(self.body_start, &text);
        self.host_scratch = Some("%scratch".to_string());
        "%scratch".to_string()
    }

    pub(super) fn all_true_mask(&mut self, t: &Type) -> String {
        let ty = self.mty_as(t, "i1");
        self.splat_const("true", &ty)
    }

    /// How many contiguous elements each memory instruction may move.
    ///
    /// With many lanes (GPUs): groups of a lane's consecutive registers
    /// whose addresses the axis analysis proves contiguous and aligned (up
    /// to 16 bytes), with a mask that is constant over the group. With one
    /// lane (the host): the whole block when its addresses are contiguous
    /// (masks are per element there). 1 means element by element.
    pub(super) fn vector_width(&self, ptrs: Value, mask: Option<Value>, pt: &Type) -> u32 {
        let Elem::Ptr(s) = pt.elem else { return 1 };
        if !pt.is_block() {
            return 1;
        }
        let eb = u64::from(s.bytes());
        let lay = self.layout(pt);
        let p = self.axis.get(&ptrs).copied().unwrap_or(AxisInfo::UNKNOWN);
        if self.lanes == 1 {
            return if p.contiguity >= u64::from(lay.per_lane()) {
                lay.per_lane()
            } else {
                1
            };
        }
        // A lane's runs of consecutive elements: a blocked layout's `spt`;
        // in a matrix layout, the registers whose bits are the lowest
        // index bits (a store from the matrix layout).
        let run = match self.value_layout(ptrs) {
            Some(Layout::Matrix(m)) => {
                u64::from(RegisterLayout::Matrix(m).register_run(pt.numel().max(1).trailing_zeros()))
            }
            _ => u64::from(lay.spt),
        };
        let mut v = run.min(p.contiguity).min(p.divisibility / eb).min(16 / eb);
        if let Some(m) = mask {
            v = v.min(self.axis.get(&m).map_or(1, |i| i.constancy));
        }
        // The largest power of two not above v.
        let v = if v == 0 { 1 } else { 1u64 << (63 - v.leading_zeros()) };
        if v < 2 {
            1
        } else {
            v as u32
        }
    }

    pub(super) fn load(
        &mut self,
        ins: &[String],
        vals: &[Value],
        pt: &Type,
        mask: bool,
        other: bool,
    ) -> Result<String, CodegenError> {
        let Elem::Ptr(s) = pt.elem else {
            return Err(internal("load from non-pointers"));
        };
        let mt = mem_ty(s);
        let vt = self.mty_as(pt, mt);
        let ptrs = &ins[0];
        let other_mem = if other {
            let o = ins[ins.len() - 1].clone();
            if s.is_bool() {
                let bt = self.mty_as(pt, "i1");
                Some(self.def(&format!("arith.extui {o} : {bt} to {vt}")))
            } else {
                Some(o)
            }
        } else {
            None
        };
        let align = s.bytes();
        let gp = self.target.global_ptr();
        let zero = if s.is_float() { "0.0" } else { "0" };
        let width = self.vector_width(vals[0], mask.then(|| vals[1]), pt);
        let raw = if pt.is_block() {
            let k = self.layout(pt).per_lane();
            let pass = match other_mem {
                Some(o) => o,
                None => self.splat_const(zero, &vt),
            };
            let ptr_ty = self.mty(pt);
            let mty = self.mty_as(pt, "i1");
            if width > 1 && self.lanes == 1 {
                let p0 = self.def(&format!("vector.extract {ptrs}[0] : {gp} from {ptr_ty}"));
                let masked = |m: &str| {
                    format!("llvm.intr.masked.load {p0}, {m}, {pass} {{alignment = {align} : i32}} : ({gp}, {mty}, {vt}) -> {vt}")
                };
                let plain = format!("llvm.load {p0} {{alignment = {align} : i64}} : {gp} -> {vt}");
                if mask && self.strip.is_some() {
                    // A strip whose mask is all true (every strip of a
                    // program but a ragged tail's) loads plainly.
                    let all = self.def(&format!("vector.reduction <and>, {} : {mty} into i1", ins[1]));
                    self.if_else_value(&all, &vt, |e| e.def(&plain), |e| e.def(&masked(&ins[1])))
                } else if mask {
                    self.def(&masked(&ins[1]))
                } else {
                    self.def(&plain)
                }
            } else if width > 1 {
                let gt = format!("vector<{width}x{mt}>");
                let mut acc = pass;
                self.forget_group_addresses();
                for r in (0..k).step_by(width as usize) {
                    let p = self.group_pointer(vals[0], ptrs, &ptr_ty, r)?;
                    let load = format!("llvm.load {p} {{alignment = {} : i64}} : {gp} -> {gt}", align * width);
                    let x = if mask {
                        let m = self.def(&format!("vector.extract {}[{r}] : i1 from {mty}", ins[1]));
                        let o = self.def(&format!(
                            "vector.extract_strided_slice {acc} {{offsets = [{r}], sizes = [{width}], strides = [1]}} : {vt} to {gt}"
                        ));
                        self.if_value(&m, &gt, |e| e.def(&load), &o)
                    } else {
                        self.def(&load)
                    };
                    acc = self.def(&format!(
                        "vector.insert_strided_slice {x}, {acc} {{offsets = [{r}], strides = [1]}} : {gt} into {vt}"
                    ));
                }
                acc
            } else {
                let m = if mask { ins[1].clone() } else { self.all_true_mask(pt) };
                if self.lanes == 1 && k > HOST_GATHER_MAX {
                    self.host_element_loop(k, ptrs, &m, s, HostAccess::Gather { pass: &pass })
                } else if k == 1 {
                    // One element per lane: a scalar load under its mask.
                    // (LLVM 22's AMDGPU back end can loop forever combining
                    // the one-element vectors of a masked gather whose
                    // addresses come from a select or a loop.)
                    let p0 = self.def(&format!("vector.extract {ptrs}[0] : {gp} from {ptr_ty}"));
                    let load = format!("llvm.load {p0} {{alignment = {align} : i64}} : {gp} -> {mt}");
                    let x = if mask {
                        let m0 = self.def(&format!("vector.extract {m}[0] : i1 from {mty}"));
                        let o0 = self.def(&format!("vector.extract {pass}[0] : {mt} from {vt}"));
                        self.if_value(&m0, mt, |e| e.def(&load), &o0)
                    } else {
                        self.def(&load)
                    };
                    self.def(&format!("vector.broadcast {x} : {mt} to {vt}"))
                } else {
                    self.def(&format!(
                        "llvm.intr.masked.gather {ptrs}, {m}, {pass} {{alignment = {align} : i32}} : ({ptr_ty}, {mty}, {vt}) -> {vt}"
                    ))
                }
            }
        } else {
            let load = format!("llvm.load {ptrs} {{alignment = {align} : i64}} : {gp} -> {mt}");
            if mask {
                let pass = match other_mem {
                    Some(o) => o,
                    None => self.splat_const(zero, mt),
                };
                self.if_value(&ins[1].clone(), mt, |e| e.def(&load), &pass)
            } else {
                self.def(&load)
            }
        };
        if s.is_bool() {
            let z = self.splat_const("0", &vt);
            return Ok(self.def(&format!("arith.cmpi ne, {raw}, {z} : {vt}")));
        }
        Ok(raw)
    }

    /// A lane-ownership mask for stores: when several lanes hold the same
    /// element (a replicated layout, or a scalar), only the first of them
    /// stores it, so that no element is written twice (a read-modify-write
    /// by a later wave would otherwise see its own result). `None` when
    /// every lane owns what it holds.
    pub(super) fn owner_mask(&mut self, pt: &Type) -> Option<String> {
        if self.lanes == 1 {
            return None;
        }
        let lane = self.lane();
        if !pt.is_block() {
            let z = self.splat_const("0", "i32");
            return Some(self.def(&format!("arith.cmpi eq, {lane}, {z} : i32")));
        }
        let lay = self.layout(pt);
        if !lay.replicated() {
            return None;
        }
        // Lanes l * spt < n hold distinct elements; the rest repeat them.
        let owners = (lay.n / lay.spt).max(1);
        let c = self.splat_const(&owners.to_string(), "i32");
        let own = self.def(&format!("arith.cmpi ult, {lane}, {c} : i32"));
        let ty = self.mty_as(pt, "i1");
        Some(self.def(&format!("vector.broadcast {own} : i1 to {ty}")))
    }

    pub(super) fn store(&mut self, ins: &[String], vals: &[Value], pt: &Type, mask: bool) -> Result<(), CodegenError> {
        let Elem::Ptr(s) = pt.elem else {
            return Err(internal("store to non-pointers"));
        };
        // Replicated layouts have width 1, so ownership never splits a group.
        let width = self.vector_width(vals[0], mask.then(|| vals[2]), pt);
        // Fold lane ownership into the mask.
        let mut ins = ins.to_vec();
        let mut mask = mask;
        // (A matrix layout holds every element once.)
        let in_matrix_layout = matches!(self.value_layout(vals[0]), Some(Layout::Matrix(_)));
        let own = if in_matrix_layout { None } else { self.owner_mask(pt) };
        if let Some(own) = own {
            if mask {
                let ty = self.mty_as(pt, "i1");
                ins[2] = self.def(&format!("arith.andi {}, {own} : {ty}", ins[2]));
            } else {
                ins.push(own);
                mask = true;
            }
        }
        let ins = &ins[..];
        let mt = mem_ty(s);
        let vt = self.mty_as(pt, mt);
        let mut val = ins[1].clone();
        if s.is_bool() {
            let bt = self.mty_as(pt, "i1");
            val = self.def(&format!("arith.extui {val} : {bt} to {vt}"));
        }
        let align = s.bytes();
        let gp = self.target.global_ptr();
        if pt.is_block() {
            let k = self.layout(pt).per_lane();
            let ptr_ty = self.mty(pt);
            let mty = self.mty_as(pt, "i1");
            if width > 1 && self.lanes == 1 {
                let p0 = self.def(&format!("vector.extract {}[0] : {gp} from {ptr_ty}", ins[0]));
                let masked = |m: &str| {
                    format!(
                        "llvm.intr.masked.store {val}, {p0}, {m} {{alignment = {align} : i32}} : {vt}, {mty} into {gp}"
                    )
                };
                let plain = format!("llvm.store {val}, {p0} {{alignment = {align} : i64}} : {vt}, {gp}");
                if mask && self.strip.is_some() {
                    // As for loads: all-true strips store plainly.
                    let all = self.def(&format!("vector.reduction <and>, {} : {mty} into i1", ins[2]));
                    self.if_else(&all, |e| e.line(&plain), |e| e.line(&masked(&ins[2])));
                } else if mask {
                    self.line(&masked(&ins[2]));
                } else {
                    self.line(&plain);
                }
            } else if width > 1 {
                let gt = format!("vector<{width}x{mt}>");
                self.forget_group_addresses();
                for r in (0..k).step_by(width as usize) {
                    let p = self.group_pointer(vals[0], &ins[0], &ptr_ty, r)?;
                    let x = self.def(&format!(
                        "vector.extract_strided_slice {val} {{offsets = [{r}], sizes = [{width}], strides = [1]}} : {vt} to {gt}"
                    ));
                    let store = format!(
                        "llvm.store {x}, {p} {{alignment = {} : i64}} : {gt}, {gp}",
                        align * width
                    );
                    if mask {
                        let m = self.def(&format!("vector.extract {}[{r}] : i1 from {mty}", ins[2]));
                        self.if_then(&m, |e| e.line(&store));
                    } else {
                        self.line(&store);
                    }
                }
            } else {
                let m = if mask { ins[2].clone() } else { self.all_true_mask(pt) };
                if self.lanes == 1 && k > HOST_GATHER_MAX {
                    self.host_element_loop(k, &ins[0], &m, s, HostAccess::Scatter { values: &val });
                } else if k == 1 {
                    // One element per lane: a scalar store under its mask
                    // (as for loads: no one-element masked scatter).
                    let p0 = self.def(&format!("vector.extract {}[0] : {gp} from {ptr_ty}", ins[0]));
                    let v0 = self.def(&format!("vector.extract {val}[0] : {mt} from {vt}"));
                    let store = format!("llvm.store {v0}, {p0} {{alignment = {align} : i64}} : {mt}, {gp}");
                    if mask {
                        let m0 = self.def(&format!("vector.extract {m}[0] : i1 from {mty}"));
                        self.if_then(&m0, |e| e.line(&store));
                    } else {
                        self.line(&store);
                    }
                } else {
                    self.line(&format!(
                        "llvm.intr.masked.scatter {val}, {}, {m} {{alignment = {align} : i32}} : {vt}, {mty} into {ptr_ty}",
                        ins[0]
                    ));
                }
            }
        } else {
            let store = format!(
                "llvm.store {val}, {} {{alignment = {align} : i64}} : {mt}, {gp}",
                ins[0]
            );
            if mask {
                self.if_then(&ins[2].clone(), |e| e.line(&store));
            } else {
                self.line(&store);
            }
        }
        Ok(())
    }

    /// Atomic read-modify-write (`op`) or compare-and-swap (`op` is None),
    /// element by element; returns the old values. Lanes that hold copies
    /// of an element leave it to its owner (and get zero).
    pub(super) fn atomic(
        &mut self,
        ins: &[String],
        pt: &Type,
        op: Option<AtomicOp>,
        mask: bool,
    ) -> Result<String, CodegenError> {
        let Elem::Ptr(s) = pt.elem else {
            return Err(internal("atomic on non-pointers"));
        };
        let et = sty(s).to_string();
        let gp = self.target.global_ptr();
        let scope = self.target.atomic_scope();
        let zero = if s.is_float() { "0.0" } else { "0" };
        let kind = op.map(|o| match (o, s.is_float(), s.is_unsigned()) {
            (AtomicOp::Add, true, _) => "fadd",
            (AtomicOp::Add, false, _) => "add",
            (AtomicOp::Max, true, _) => "fmax",
            (AtomicOp::Max, false, true) => "umax",
            (AtomicOp::Max, false, false) => "max",
            (AtomicOp::Min, true, _) => "fmin",
            (AtomicOp::Min, false, true) => "umin",
            (AtomicOp::Min, false, false) => "min",
            (AtomicOp::Xchg, _, _) => "xchg",
        });
        // One element: pointer, value(s), guard -> old value.
        let one = |e: &mut Self, p: &str, a: &str, b: &str, guard: Option<&str>| -> String {
            let body = |e: &mut Self| match kind {
                Some(k) => e.def(&format!("llvm.atomicrmw {k} {p}, {a}{scope} acq_rel : {gp}, {et}")),
                None => {
                    let pair = e.def(&format!(
                        "llvm.cmpxchg {p}, {a}, {b}{scope} acq_rel acquire : {gp}, {et}"
                    ));
                    e.def(&format!("llvm.extractvalue {pair}[0] : !llvm.struct<({et}, i1)>"))
                }
            };
            match guard {
                Some(g) => {
                    let z = e.splat_const(zero, &et);
                    e.if_value(g, &et, body, &z)
                }
                None => body(e),
            }
        };
        let owner = self.owner_mask(pt);
        if !pt.is_block() {
            return Ok(one(
                self,
                &ins[0],
                &ins[1],
                ins.get(2).map_or("", |s| s.as_str()),
                owner.as_deref(),
            ));
        }
        // Blocks: a loop over this lane's elements.
        let k = self.layout(pt).per_lane();
        let vt = self.mty_as(pt, &et);
        let pv = self.mty(pt);
        let mv = self.mty_as(pt, "i1");
        let guard = match (mask, owner) {
            (true, Some(o)) => Some(self.def(&format!("arith.andi {}, {o} : {mv}", ins[2]))),
            (true, None) => Some(ins[2].clone()),
            (false, o) => o,
        };
        let (lo, hi, step) = (
            self.splat_const("0", "i32"),
            self.splat_const(&k.to_string(), "i32"),
            self.splat_const("1", "i32"),
        );
        let init = self.splat_const(zero, &vt);
        let (i, acc, r) = (self.fresh(), self.fresh(), self.fresh());
        self.line(&format!("{r} = \"scf.for\"({lo}, {hi}, {step}, {init}) ({{"));
        self.line(&format!("^bb0({i}: i32, {acc}: {vt}):"));
        self.indent += 1;
        let ix = self.def(&format!("arith.index_cast {i} : i32 to index"));
        let p = self.def(&format!("vector.extract {}[{ix}] : {gp} from {pv}", ins[0]));
        let a = self.def(&format!("vector.extract {}[{ix}] : {et} from {vt}", ins[1]));
        let b = match op {
            None => self.def(&format!("vector.extract {}[{ix}] : {et} from {vt}", ins[2])),
            Some(_) => String::new(),
        };
        let g = guard.map(|g| self.def(&format!("vector.extract {g}[{ix}] : i1 from {mv}")));
        let old = one(self, &p, &a, &b, g.as_deref());
        let next = self.def(&format!("vector.insert {old}, {acc} [{ix}] : {et} into {vt}"));
        self.line(&format!("\"scf.yield\"({next}) : ({vt}) -> ()"));
        self.indent -= 1;
        self.line(&format!("}}) : (i32, i32, i32, {vt}) -> ({vt})"));
        Ok(r)
    }

    /// The address of register `r`'s element of pointer block `ptrs`. When
    /// the block is a uniform base plus offsets (`splat(base) + o1 + ..`)
    /// known to be non-negative 32-bit integers, and the kernel's buffers
    /// are known to be under 4 GiB (`Function::small_buffers`), the address
    /// is the base plus the zero-extended 32-bit byte offset, which AMDGPU
    /// turns into a scalar base with a vector offset (fewer registers than
    /// 64-bit addresses). Within a buffer under 4 GiB, non-negative offsets
    /// and their byte sum stay below 2^32, so the 32-bit sums are exact.
    pub(super) fn group_pointer(
        &mut self,
        ptrs: Value,
        name: &str,
        ptr_ty: &str,
        r: u32,
    ) -> Result<String, CodegenError> {
        let gp = self.target.global_ptr();
        let f = self.f;
        let Elem::Ptr(s) = f.ty(ptrs).elem else {
            return Err(internal("addresses of non-pointers"));
        };
        if f.small_buffers {
            if let Some((base, offsets)) = self.scalar_base(ptrs) {
                let size = self.splat_const(&s.bytes().to_string(), "i32");
                let mut bytes: Option<String> = None;
                for o in offsets {
                    let (name, ovt) = (self.name(o)?, self.mty(f.ty(o)));
                    let off = self.def(&format!("vector.extract {name}[{r}] : i32 from {ovt}"));
                    let b = self.def(&format!("arith.muli {off}, {size} overflow<nuw> : i32"));
                    bytes = Some(match bytes {
                        None => b,
                        Some(sum) => self.def(&format!("arith.addi {sum}, {b} overflow<nuw> : i32")),
                    });
                }
                let base = self.name(base)?;
                let Some(bytes) = bytes else {
                    return Ok(base);
                };
                // Zero-extended: the form of a scalar base with a vector offset.
                let wide = self.def(&format!("arith.extui {bytes} : i32 to i64"));
                return Ok(self.def(&format!("llvm.getelementptr {base}[{wide}] : ({gp}, i64) -> {gp}, i8")));
            }
        }
        if self.lanes > 1 {
            if let Some(p) = self.stepped_pointer(ptrs, r)? {
                return Ok(p);
            }
        }
        Ok(self.def(&format!("vector.extract {name}[{r}] : {gp} from {ptr_ty}")))
    }

    /// `ptrs = splat(base) + o1 + .. + on` with every offset a non-negative
    /// `i32` block: the scalar base and the offsets.
    pub(super) fn scalar_base(&self, ptrs: Value) -> Option<(Value, Vec<Value>)> {
        let f = self.f;
        let (base, offsets) = tritonc_passes::loop_ptrs::based_block(f, ptrs)?;
        let ok = offsets
            .iter()
            .all(|o| f.ty(*o).scalar_elem() == Some(ScalarType::I32) && self.non_negative(*o));
        ok.then_some((base, offsets))
    }

    /// Whether every element of `v` is known to be non-negative: program
    /// ids, ranges from a non-negative start, non-negative constants, `for`
    /// induction variables from a non-negative start by a positive step, and
    /// sums, products, quotients and remainders of such values (wrapping
    /// past `i32::MAX` is taken not to happen, as Triton does).
    pub(super) fn non_negative(&self, v: Value) -> bool {
        let f = self.f;
        let mut stack = vec![(v, 0u32)];
        while let Some((v, depth)) = stack.pop() {
            if depth > 64 {
                return false;
            }
            if f.ty(v).scalar_elem().is_some_and(|s| s.is_unsigned() || s.is_bool()) {
                continue;
            }
            let op = match f.value(v).def {
                tritonc_ir::ValueDef::Result(op, 0) => op,
                // A `for` loop's induction variable, from a non-negative
                // lower bound up by a positive constant step.
                tritonc_ir::ValueDef::Arg(body, 0) => {
                    let Some(for_op) = f.for_of_body(body) else {
                        return false;
                    };
                    let d = f.op(for_op);
                    let positive_step = d
                        .operands
                        .get(2)
                        .and_then(|s| f.def_op(*s))
                        .is_some_and(|o| matches!(f.op(o).kind, OpKind::Constant(ConstValue::Int(c)) if c > 0));
                    if !positive_step {
                        return false;
                    }
                    stack.push((d.operands[0], depth + 1));
                    continue;
                }
                _ => return false,
            };
            let d = f.op(op);
            match &d.kind {
                OpKind::Constant(ConstValue::Int(c)) if *c >= 0 => {}
                OpKind::MakeRange { start, .. } if *start >= 0 => {}
                OpKind::ProgramId(_) | OpKind::NumPrograms(_) => {}
                OpKind::Splat | OpKind::Broadcast | OpKind::Reshape | OpKind::ConvertLayout => {
                    stack.push((d.operands[0], depth + 1));
                }
                OpKind::Binary(
                    BinaryOp::Add | BinaryOp::Mul | BinaryOp::Div | BinaryOp::Rem | BinaryOp::Max | BinaryOp::And,
                ) => {
                    for o in &d.operands {
                        stack.push((*o, depth + 1));
                    }
                }
                _ => return false,
            }
        }
        true
    }
}
