//! Reductions and scans: the emitter's code for `tk.reduce`,
//! `tk.arg_reduce` and `tk.scan`.
//!
//! Reductions combine the elements along their axis as a balanced
//! pairwise tree in index order (neighbours first), on every target, so
//! results agree bit for bit. With many lanes the tree follows the bits of
//! the flat element index ([`tritonc_ir::IndexBit`]): a bit kept in the
//! register index is a level combined within the lane, a bit kept in the
//! lane index a level exchanged between lanes (DPP or `ds_bpermute` within
//! a wave, one round through shared memory across waves). Where no order
//! changes the result (integer combines, float `max`/`min`), a lane's
//! register levels all come first, so that each lane exchange carries one
//! partial. Arg-reductions take the lowest index of the best value, which
//! no order changes. Scans follow the same bits with the language's scan
//! levels.

use super::*;
use std::collections::BTreeMap;
use tritonc_ir::{IndexBit, RegisterLayout};

impl Emitter<'_> {
    /// An arg-reduction with one lane: every output element a left fold
    /// over its row (any order gives the same index), in a loop over the
    /// outputs of a block, read from the block's vector.
    pub(super) fn host_arg_reduce(
        &mut self,
        kind: &OpKind,
        x: &str,
        from: &Type,
        to: &Type,
    ) -> Result<String, CodegenError> {
        let s = from.scalar_elem().ok_or_else(|| internal("reduction of pointers"))?;
        let OpKind::ArgReduce { max, .. } = *kind else {
            return Err(internal("not an arg-reduction"));
        };
        let plan = AxisPlan::new(kind, from, RegisterLayout::Blocked(self.layout(from)))?;
        let (len, inner) = (u64::from(plan.len), 1u64 << plan.lo);
        let c = |e: &mut Self, v: u64| e.splat_const(&v.to_string(), "i32");
        let (one, len_c, inner_c) = (c(self, 1), c(self, len), c(self, inner));
        // Output `o = outer * inner + i` folds `(outer * len + k) * inner + i`
        // for `k` in `0..len`.
        let element = |e: &mut Self, o: &str| -> Result<String, CodegenError> {
            let outer = e.def(&format!("arith.divui {o}, {inner_c} : i32"));
            let i = e.def(&format!("arith.remui {o}, {inner_c} : i32"));
            let span = e.def(&format!("arith.muli {len_c}, {inner_c} : i32"));
            let ob = e.def(&format!("arith.muli {outer}, {span} : i32"));
            let base = e.def(&format!("arith.addi {ob}, {i} : i32"));
            e.fold_arg(max, s, x, from, &base, &inner_c, &len_c)
        };
        if !to.is_block() {
            let zero = c(self, 0);
            return element(self, &zero);
        }
        let out_ty = self.mty(to);
        let rows = c(self, to.numel());
        let zero = c(self, 0);
        let init = self.splat_const("0", &out_ty);
        let (o, acc, r) = (self.fresh(), self.fresh(), self.fresh());
        self.line(&format!("{r} = \"scf.for\"({zero}, {rows}, {one}, {init}) ({{"));
        self.line(&format!("^bb0({o}: i32, {acc}: {out_ty}):"));
        self.indent += 1;
        let v = element(self, &o)?;
        let oi = self.def(&format!("arith.index_cast {o} : i32 to index"));
        let next = self.def(&format!("vector.insert {v}, {acc} [{oi}] : i32 into {out_ty}"));
        self.line(&format!("\"scf.yield\"({next}) : ({out_ty}) -> ()"));
        self.indent -= 1;
        self.line(&format!("}}) : (i32, i32, i32, {out_ty}) -> ({out_ty})"));
        Ok(r)
    }

    /// A reduction or arg-reduction along one axis with many lanes,
    /// without moving the block through shared memory: the balanced
    /// pairwise tree over the axis's elements, level by level along the
    /// bits of the flat index that make up the axis (lowest first), each
    /// level within a lane, between lanes of a wave, or (consecutive
    /// levels across waves together) in one round through shared memory.
    /// Afterwards every register holds the result of its element's row
    /// (the value broadcast back along the axis, `replicated`); `result`
    /// is the scalar, or with `block_needed` the reduced block in its own
    /// blocked layout (one more round through shared memory).
    pub(super) fn axis_reduce(
        &mut self,
        kind: &OpKind,
        x: &str,
        (from, from_layout): (&Type, RegisterLayout),
        to: &Type,
        (block_needed, compact_needed): (bool, bool),
    ) -> Result<AxisReduced, CodegenError> {
        let s = from.scalar_elem().ok_or_else(|| internal("reduction of pointers"))?;
        let plan = AxisPlan::new(kind, from, from_layout)?;
        let arg_max = match kind {
            OpKind::ArgReduce { max, .. } => Some(*max),
            _ => None,
        };
        let k = plan.layout.per_lane();
        let vt = self.mty(from);
        let et = sty(s);
        let flat = self.flat_indices(from_layout);
        let vi = format!("vector<{k}xi32>");
        // Partial results by register, the registers of levels already
        // combined within the lane folded onto the lowest.
        let mut parts: BTreeMap<u32, Partial> = BTreeMap::new();
        for r in 0..k {
            let value = self.def(&format!("vector.extract {x}[{r}] : {et} from {vt}"));
            let index = if arg_max.is_some() {
                let e = self.def(&format!("vector.extract {flat}[{r}] : i32 from {vi}"));
                let sh = self.splat_const(&plan.lo.to_string(), "i32");
                let q = self.def(&format!("arith.shrui {e}, {sh} : i32"));
                let m = self.splat_const(&(plan.len - 1).to_string(), "i32");
                Some(self.def(&format!("arith.andi {q}, {m} : i32")))
            } else {
                None
            };
            parts.insert(r, Partial { value, index });
        }
        let wave_bits = self.target.wave_size().trailing_zeros();
        let mut levels = plan.levels();
        // Where the combine's order cannot change the result (integers,
        // float max and min), the lane's registers are combined first, so
        // that each lane exchange carries one partial instead of several
        // (attention's row maximum in the transposed MFMA layout: 1
        // exchange instead of 8). Float sums keep the language's order.
        let order_free = arg_max.is_none()
            && (!s.is_float()
                || matches!(
                    kind,
                    OpKind::Reduce {
                        kind: ReduceKind::Max | ReduceKind::Min,
                        ..
                    }
                ));
        if order_free {
            levels.sort_by_key(|b| matches!(b, IndexBit::Lane(_)));
        }
        let mut folded = 0u32;
        // Register bits whose combining a split lane level (below) left to
        // a lane bit: q -> (lane bit, exact).
        let mut split: HashMap<u32, (u32, bool)> = HashMap::new();
        let mut i = 0;
        while i < levels.len() {
            match levels[i] {
                IndexBit::Register(q) => {
                    parts = match split.get(&q) {
                        // Lower lanes hold the partials with bit q clear,
                        // upper lanes those with it set: combine across
                        // the lanes.
                        Some(&(j, exact)) => self.lane_level(kind, s, &parts, j, exact)?,
                        None => {
                            let mut next = BTreeMap::new();
                            for (r, lo) in &parts {
                                if r & (1 << q) == 0 {
                                    let hi = parts.get(&(r | 1 << q)).ok_or_else(|| internal("missing partial"))?;
                                    let c = self.combine(kind, s, lo, hi);
                                    next.insert(*r, c);
                                }
                            }
                            next
                        }
                    };
                    folded |= 1 << q;
                }
                IndexBit::Lane(j) if j < wave_bits => {
                    // DPP mirrors stand in for the partner only when every
                    // lower lane bit was a level before this one.
                    let exact = !(0..j).all(|b| levels[..i].contains(&IndexBit::Lane(b)));
                    match split_bit(&levels[i + 1..], &parts).filter(|_| arg_max.is_none()) {
                        Some(q) => {
                            parts = self.split_lane_level(kind, s, &parts, (j, q), exact)?;
                            split.insert(q, (j, exact));
                        }
                        None => parts = self.lane_level(kind, s, &parts, j, exact)?,
                    }
                }
                IndexBit::Lane(j) => {
                    // This and the following lane bits: across waves.
                    let mut top = j;
                    while levels.get(i + 1) == Some(&IndexBit::Lane(top + 1)) {
                        top += 1;
                        i += 1;
                    }
                    parts = self.cross_wave_round(kind, s, &parts, j, top)?;
                }
            }
            i += 1;
        }
        // Every register's row result, and the reduced block.
        let out_et = if arg_max.is_some() { "i32" } else { et };
        let of = |r: u32| -> Result<&Partial, CodegenError> {
            parts.get(&(r & !folded)).ok_or_else(|| internal("missing partial"))
        };
        let pick = |p: &Partial| -> String {
            match &p.index {
                Some(ix) => ix.clone(),
                None => p.value.clone(),
            }
        };
        let regs: Vec<String> = (0..k).map(|r| of(r).map(pick)).collect::<Result<_, _>>()?;
        let replicated = self.def(&format!(
            "vector.from_elements {} : vector<{k}x{out_et}>",
            regs.join(", ")
        ));
        let classes: Vec<u32> = (0..k).map(|r| r & !folded).collect();
        if !to.is_block() {
            let only = parts.values().next().ok_or_else(|| internal("no partial"))?;
            return Ok(AxisReduced {
                result: Some(pick(only)),
                replicated,
                classes,
                compact: None,
            });
        }
        let compact = if compact_needed {
            let compact_regs: Vec<String> = parts.values().map(pick).collect();
            Some(self.def(&format!(
                "vector.from_elements {} : vector<{}x{out_et}>",
                compact_regs.join(", "),
                compact_regs.len()
            )))
        } else {
            None
        };
        if !block_needed {
            return Ok(AxisReduced {
                result: None,
                replicated,
                classes,
                compact,
            });
        }
        // Each lane writes its rows' results at their flat index in the
        // reduced block (lanes holding the same row write the same value),
        // then reads the elements its layout holds.
        let rows: Vec<(&u32, &Partial)> = parts.iter().collect();
        let result = self.block_through_shared(to, rows.len(), |e, i, mt| {
            let (r, p) = rows[i];
            let at = e.def(&format!("vector.extract {flat}[{r}] : i32 from {vi}"));
            let o = plan.reduced_index(e, &at);
            let v = pick(p);
            let v = if mt != out_et {
                e.def(&format!("arith.extui {v} : {out_et} to {mt}"))
            } else {
                v
            };
            Ok((o, v))
        })?;
        Ok(AxisReduced {
            result: Some(result),
            replicated,
            classes,
            compact,
        })
    }

    /// A lane level that several partials cross, with register level `q`
    /// following it and only register levels between (see `split_bit`):
    /// each half of the lane pair combines half of the partials (the lower
    /// lanes those with bit `q` clear), so each exchange carries one
    /// partial where the plain level carries two, and level `q` is one
    /// exchange per remaining partial (attention's row sum in the
    /// transposed MFMA layout: 5 `ds_bpermute` instead of 8). The tree,
    /// and so the result, is the plain level's.
    fn split_lane_level(
        &mut self,
        kind: &OpKind,
        s: ScalarType,
        parts: &BTreeMap<u32, Partial>,
        (j, q): (u32, u32),
        exact: bool,
    ) -> Result<BTreeMap<u32, Partial>, CodegenError> {
        let lane = self.lane();
        let is_lower = self.lane_bit_clear(&lane, j);
        let mut next = BTreeMap::new();
        for (r, lo_part) in parts {
            if r & (1 << q) != 0 {
                continue;
            }
            let hi_part = parts.get(&(r | 1 << q)).ok_or_else(|| internal("missing partial"))?;
            // What the partner keeps is what this lane sends.
            let send = self.select_partial(&is_lower, hi_part, lo_part, s);
            let kept = self.select_partial(&is_lower, lo_part, hi_part, s);
            let value = self.lane_partner(&send.value, s, j, exact)?;
            let got = Partial { value, index: None };
            let lo = self.select_partial(&is_lower, &kept, &got, s);
            let hi = self.select_partial(&is_lower, &got, &kept, s);
            next.insert(*r, self.combine(kind, s, &lo, &hi));
        }
        Ok(next)
    }

    /// One level across lane bit `j` within a wave: every partial combined
    /// with the partner lane's, the lower lane's first.
    fn lane_level(
        &mut self,
        kind: &OpKind,
        s: ScalarType,
        parts: &BTreeMap<u32, Partial>,
        j: u32,
        exact: bool,
    ) -> Result<BTreeMap<u32, Partial>, CodegenError> {
        let arg = matches!(kind, OpKind::ArgReduce { .. });
        let lane = self.lane();
        let is_lower = self.lane_bit_clear(&lane, j);
        let mut next = BTreeMap::new();
        for (r, mine) in parts {
            let value = self.lane_partner(&mine.value, s, j, exact)?;
            let index = match &mine.index {
                Some(ix) => Some(self.lane_partner(ix, ScalarType::I32, j, exact)?),
                None => None,
            };
            let other = Partial { value, index };
            let c = if !arg && !s.is_float() {
                // Integer combines are exact in either order.
                self.combine(kind, s, mine, &other)
            } else {
                let lo = self.select_partial(&is_lower, mine, &other, s);
                let hi = self.select_partial(&is_lower, &other, mine, s);
                self.combine(kind, s, &lo, &hi)
            };
            next.insert(*r, c);
        }
        Ok(next)
    }

    /// `lo` combined with `hi` (the higher indices) by the reduction.
    fn combine(&mut self, kind: &OpKind, s: ScalarType, lo: &Partial, hi: &Partial) -> Partial {
        let et = sty(s);
        match (kind, &lo.index, &hi.index) {
            (OpKind::ArgReduce { max, .. }, Some(li), Some(hi_i)) => {
                // Ties keep the lower index.
                let b = self.better(*max, s, &hi.value, &lo.value);
                let value = self.def(&format!("arith.select {b}, {}, {} : {et}", hi.value, lo.value));
                let index = self.def(&format!("arith.select {b}, {hi_i}, {li} : i32"));
                Partial {
                    value,
                    index: Some(index),
                }
            }
            _ => {
                let op = combine_op(kind, s);
                Partial {
                    value: self.def(&format!("arith.{op} {}, {} : {et}", lo.value, hi.value)),
                    index: None,
                }
            }
        }
    }

    /// `a` where `c` holds, else `b`.
    fn select_partial(&mut self, c: &str, a: &Partial, b: &Partial, s: ScalarType) -> Partial {
        let et = sty(s);
        let value = self.def(&format!("arith.select {c}, {}, {} : {et}", a.value, b.value));
        let index = match (&a.index, &b.index) {
            (Some(ai), Some(bi)) => Some(self.def(&format!("arith.select {c}, {ai}, {bi} : i32"))),
            _ => None,
        };
        Partial { value, index }
    }

    /// Levels for lane bits `from..=top` (all across waves) at once: every
    /// lane writes its partials to shared memory, and after a barrier reads
    /// those of the `2^(top - from + 1)` lanes that differ from it only in
    /// those bits, combining them as a pairwise tree in lane order.
    fn cross_wave_round(
        &mut self,
        kind: &OpKind,
        s: ScalarType,
        parts: &BTreeMap<u32, Partial>,
        from: u32,
        top: u32,
    ) -> Result<BTreeMap<u32, Partial>, CodegenError> {
        let (lds, pty) = self.shared()?;
        let lane = self.lane();
        let et = sty(s);
        let lanes = self.lanes;
        let n = parts.len() as u32;
        // Values first, then (arg-reductions) indices.
        let index_base = self.def(&format!(
            "llvm.getelementptr {lds}[{}] : ({pty}) -> {pty}, i8",
            n * lanes * s.bytes()
        ));
        let slot = |e: &mut Self, base: &str, ty: &str, p: u32, l: &str| {
            let off = e.splat_const(&(p * lanes).to_string(), "i32");
            let at = e.def(&format!("arith.addi {l}, {off} : i32"));
            e.def(&format!(
                "llvm.getelementptr {base}[{at}] : ({pty}, i32) -> {pty}, {ty}"
            ))
        };
        self.barrier();
        for (p, part) in parts.values().enumerate() {
            let at = slot(self, &lds, et, p as u32, &lane);
            self.line(&format!("llvm.store {}, {at} : {et}, {pty}", part.value));
            if let Some(ix) = &part.index {
                let at = slot(self, &index_base, "i32", p as u32, &lane);
                self.line(&format!("llvm.store {ix}, {at} : i32, {pty}"));
            }
        }
        self.barrier();
        self.lds_pending = [true; 2];
        let mask = ((1u32 << (top + 1)) - 1) & !((1u32 << from) - 1);
        let keep = self.splat_const(&(!mask as i32).to_string(), "i32");
        let base_lane = self.def(&format!("arith.andi {lane}, {keep} : i32"));
        let mut next = BTreeMap::new();
        for (p, (r, part)) in parts.iter().enumerate() {
            let mut level = Vec::new();
            for c in 0..1u32 << (top + 1 - from) {
                let off = self.splat_const(&(c << from).to_string(), "i32");
                let src = self.def(&format!("arith.ori {base_lane}, {off} : i32"));
                let at = slot(self, &lds, et, p as u32, &src);
                let value = self.def(&format!("llvm.load {at} : {pty} -> {et}"));
                let index = match part.index {
                    Some(_) => {
                        let at = slot(self, &index_base, "i32", p as u32, &src);
                        Some(self.def(&format!("llvm.load {at} : {pty} -> i32")))
                    }
                    None => None,
                };
                level.push(Partial { value, index });
            }
            let combined = self
                .pairwise_by(level, |e, a, b| e.combine(kind, s, a, b))
                .ok_or_else(|| internal("empty round"))?;
            next.insert(*r, combined);
        }
        Ok(next)
    }

    /// An inclusive scan along an axis with many lanes, in registers: the
    /// language's levels (see `docs/language.md`), one per bit of the axis
    /// in the flat index, lowest first. At the level of axis bit `b`, an
    /// element with that bit set combines on its left the element with
    /// bit `b` cleared and the axis bits below it set; that element is in
    /// the lane and register the layout gives for those bits (this lane's,
    /// another of the wave through `ds_bpermute`, or another wave's
    /// through shared memory).
    pub(super) fn axis_scan(&mut self, kind: &OpKind, x: &str, t: &Type) -> Result<String, CodegenError> {
        let s = t.scalar_elem().ok_or_else(|| internal("scan of pointers"))?;
        let plan = AxisPlan::new(kind, t, RegisterLayout::Blocked(self.layout(t)))?;
        let et = sty(s);
        let op = combine_op(kind, s);
        let k = plan.layout.per_lane();
        let vt = self.mty(t);
        let mut regs: Vec<String> = (0..k)
            .map(|r| self.def(&format!("vector.extract {x}[{r}] : {et} from {vt}")))
            .collect();
        let lane = self.lane();
        let wave_bits = self.target.wave_size().trailing_zeros();
        let levels = plan.levels();
        let (mut reg_ones, mut lane_ones) = (0u32, 0u32);
        for level in levels {
            let (reg_bit, lane_bit) = match level {
                IndexBit::Register(q) => (1u32 << q, 0u32),
                IndexBit::Lane(j) => (0, 1u32 << j),
            };
            // Where each register's left operand is: register `src_reg(r)`
            // of lane `(lane & !lane_bit) | lane_ones`.
            let src_reg = |r: u32| (r & !reg_bit) | reg_ones;
            let remote = lane_bit != 0 || lane_ones != 0;
            let targets: Vec<u32> = (0..k).filter(|r| r & reg_bit == reg_bit).collect();
            let mut fetched: BTreeMap<u32, String> = BTreeMap::new();
            if remote {
                let keep = self.splat_const(&(!(lane_bit | lane_ones) as i32).to_string(), "i32");
                let kept = self.def(&format!("arith.andi {lane}, {keep} : i32"));
                let ones = self.splat_const(&lane_ones.to_string(), "i32");
                let src_lane = self.def(&format!("arith.ori {kept}, {ones} : i32"));
                let in_wave = (lane_bit | lane_ones) >> wave_bits == 0;
                let sources: Vec<u32> = targets.iter().map(|r| src_reg(*r)).collect();
                let mut distinct = sources.clone();
                distinct.dedup();
                distinct.sort_unstable();
                distinct.dedup();
                let values: Vec<String> = distinct.iter().map(|r| regs[*r as usize].clone()).collect();
                // The same source for every lane of a row of 16 by its
                // place in the row (levels below lane bit 4; lane bit 4
                // itself reads the other row of a wave of 32).
                let moved = lane_bit | lane_ones;
                let row = (moved >> 4 == 0 || (lane_bit == 16 && lane_ones >> 4 == 0)).then(|| {
                    let mut selects = [0u8; 16];
                    for (i, sel) in selects.iter_mut().enumerate() {
                        *sel = ((i as u32 & !moved) | lane_ones) as u8 & 15;
                    }
                    (selects, lane_bit == 16)
                });
                let got = self.read_other_lane(&values, s, &src_lane, (in_wave, row))?;
                fetched = distinct.into_iter().zip(got).collect();
            }
            let is_upper = if lane_bit != 0 {
                let bit = self.lane_bit_clear(&lane, lane_bit.trailing_zeros());
                let t = self.splat_const("true", "i1");
                Some(self.def(&format!("arith.xori {bit}, {t} : i1")))
            } else {
                None
            };
            let mut next = regs.clone();
            for r in targets {
                let left = if remote {
                    fetched
                        .get(&src_reg(r))
                        .cloned()
                        .ok_or_else(|| internal("missing scan operand"))?
                } else {
                    regs[src_reg(r) as usize].clone()
                };
                let mine = &regs[r as usize];
                let c = self.def(&format!("arith.{op} {left}, {mine} : {et}"));
                next[r as usize] = match &is_upper {
                    Some(u) => self.def(&format!("arith.select {u}, {c}, {mine} : {et}")),
                    None => c,
                };
            }
            regs = next;
            reg_ones |= reg_bit;
            lane_ones |= lane_bit;
        }
        Ok(self.def(&format!("vector.from_elements {} : {vt}", regs.join(", "))))
    }

    /// Each of `values` (of type `s`) as lane `src` holds it (the same for
    /// every value): within a wave by the target's lane read (32-bit
    /// values; by its row permutation when `row` gives `src` as constant
    /// selects, [`Target::row_permute`]), else through shared memory (one
    /// barrier pair for all).
    fn read_other_lane(
        &mut self,
        values: &[String],
        s: ScalarType,
        src: &str,
        (in_wave, row): (bool, Option<([u8; 16], bool)>),
    ) -> Result<Vec<String>, CodegenError> {
        let (lds, pty) = self.shared()?;
        let lane = self.lane();
        let et = sty(s);
        if in_wave && s.bits() == 32 {
            let mut out = Vec::new();
            for v in values {
                let bits = if s.is_float() {
                    self.def(&format!("arith.bitcast {v} : f32 to i32"))
                } else {
                    v.clone()
                };
                self.next += 1;
                let name = format!("rd{}", self.next);
                let read = LaneRead {
                    value: &bits,
                    src,
                    out: &name,
                    lane: &lane,
                    scratch: &lds,
                    scratch_ty: pty,
                };
                let permuted = row.and_then(|(selects, other_row)| {
                    self.target.row_permute(&RowPermute {
                        read,
                        selects,
                        other_row,
                    })
                });
                let Some(code) = permuted.or_else(|| self.target.lane_read(&read)) else {
                    out.clear();
                    break;
                };
                for l in code.lines() {
                    self.line(l);
                }
                if self.target.exchanges_use_shared_memory() {
                    self.lds_pending = [true; 2];
                }
                let got = format!("%{name}");
                out.push(if s.is_float() {
                    self.def(&format!("arith.bitcast {got} : i32 to f32"))
                } else {
                    got
                });
            }
            if out.len() == values.len() {
                return Ok(out);
            }
        }
        // Value `i` of lane `l` in 8-byte slot `i * lanes + l`.
        let lanes = self.lanes;
        let slot = |e: &mut Self, i: usize, l: &str| {
            let off = e.splat_const(&(i as u32 * lanes).to_string(), "i32");
            let at = e.def(&format!("arith.addi {l}, {off} : i32"));
            e.def(&format!("llvm.getelementptr {lds}[{at}] : ({pty}, i32) -> {pty}, i64"))
        };
        self.barrier();
        for (i, v) in values.iter().enumerate() {
            let at = slot(self, i, &lane);
            self.line(&format!("llvm.store {v}, {at} : {et}, {pty}"));
        }
        self.barrier();
        self.lds_pending = [true; 2];
        let mut out = Vec::new();
        for i in 0..values.len() {
            let at = slot(self, i, src);
            out.push(self.def(&format!("llvm.load {at} : {pty} -> {et}")));
        }
        Ok(out)
    }

    /// An inclusive scan along an axis with one lane: the same levels on
    /// the whole block's vector, each a shuffle of the left operands, the
    /// combination, and a shuffle keeping it where the level's bit is set.
    pub(super) fn host_scan(&mut self, kind: &OpKind, x: &str, t: &Type) -> Result<String, CodegenError> {
        let s = t.scalar_elem().ok_or_else(|| internal("scan of pointers"))?;
        let plan = AxisPlan::new(kind, t, RegisterLayout::Blocked(self.layout(t)))?;
        let et = sty(s);
        let op = combine_op(kind, s);
        let n = t.numel();
        let vt = format!("vector<{n}x{et}>");
        let mut v = x.to_string();
        let mut ones = 0u64;
        for b in plan.lo..plan.lo + plan.len.trailing_zeros() {
            let bit = 1u64 << b;
            let left: Vec<String> = (0..n).map(|e| ((e & !bit) | ones).to_string()).collect();
            let l = self.def(&format!("vector.shuffle {v}, {v} [{}] : {vt}, {vt}", left.join(", ")));
            let c = self.def(&format!("arith.{op} {l}, {v} : {vt}"));
            let pick: Vec<String> = (0..n)
                .map(|e| {
                    if e & bit != 0 {
                        (n + e).to_string()
                    } else {
                        e.to_string()
                    }
                })
                .collect();
            v = self.def(&format!("vector.shuffle {v}, {c} [{}] : {vt}, {vt}", pick.join(", ")));
            ones |= bit;
        }
        Ok(v)
    }

    /// A reduction along an axis of a multi-dimensional block with one
    /// lane: the tree's levels as vector shuffles, each pairing the
    /// elements whose axis index differs in its lowest remaining bit (so
    /// the block shrinks by half per level, in row-major order).
    pub(super) fn host_axis_reduce(&mut self, kind: &OpKind, x: &str, from: &Type) -> Result<String, CodegenError> {
        let s = from.scalar_elem().ok_or_else(|| internal("reduction of pointers"))?;
        let plan = AxisPlan::new(kind, from, RegisterLayout::Blocked(self.layout(from)))?;
        let et = sty(s);
        let op = combine_op(kind, s);
        let mut v = x.to_string();
        let mut n = from.numel();
        let low = (1u64 << plan.lo) - 1;
        for _ in 0..plan.len.trailing_zeros() {
            let vt = format!("vector<{n}x{et}>");
            let half = n / 2;
            let pick = |bit: u64| -> String {
                (0..half)
                    .map(|o| ((((o >> plan.lo) << (plan.lo + 1)) | (o & low)) | (bit << plan.lo)).to_string())
                    .collect::<Vec<_>>()
                    .join(", ")
            };
            let lo = self.def(&format!("vector.shuffle {v}, {v} [{}] : {vt}, {vt}", pick(0)));
            let hi = self.def(&format!("vector.shuffle {v}, {v} [{}] : {vt}, {vt}", pick(1)));
            n = half;
            v = self.def(&format!("arith.{op} {lo}, {hi} : vector<{n}x{et}>"));
        }
        Ok(v)
    }

    /// Reduces a 1-D block to a scalar as a balanced pairwise tree over
    /// the elements in index order: level `b` combines the partial results
    /// of aligned neighbouring blocks of `2^b` elements, lower first. Every
    /// target computes this same tree, so results agree bit for bit. With
    /// one lane the levels are vector shuffles; with many, the low levels
    /// combine a lane's own registers, the middle ones exchange partials
    /// between lanes (lane bit `j` pairs lane `l` with `l ^ 2^j`), the top
    /// ones combine the lane's repetitions; every lane ends with the total.
    pub(super) fn tree_reduce(&mut self, kind: &OpKind, x: &str, t: &Type) -> Result<String, CodegenError> {
        let s = t.scalar_elem().ok_or_else(|| internal("reduction of pointers"))?;
        let et = sty(s).to_string();
        let op = combine_op(kind, s);
        let lay = self.layout(t);
        let k = lay.per_lane();
        if self.lanes == 1 {
            let mut v = x.to_string();
            let mut len = k;
            while len > 1 {
                let vt = format!("vector<{len}x{et}>");
                let even: Vec<String> = (0..len / 2).map(|i| (2 * i).to_string()).collect();
                let odd: Vec<String> = (0..len / 2).map(|i| (2 * i + 1).to_string()).collect();
                let lo = self.def(&format!("vector.shuffle {v}, {v} [{}] : {vt}, {vt}", even.join(", ")));
                let hi = self.def(&format!("vector.shuffle {v}, {v} [{}] : {vt}, {vt}", odd.join(", ")));
                len /= 2;
                v = self.def(&format!("arith.{op} {lo}, {hi} : vector<{len}x{et}>"));
            }
            return Ok(self.def(&format!("vector.extract {v}[0] : {et} from vector<1x{et}>")));
        }
        let vt = self.mty(t);
        let spt = lay.spt.min(lay.n);
        // Lanes holding distinct chunks; the rest hold copies and mirror them.
        let lane_bits = (lay.n / spt).min(lay.lanes).trailing_zeros();
        let lane = self.lane();
        let mut reps = Vec::new();
        for g in 0..k / spt {
            // In-lane levels over the chunk's registers.
            let level: Vec<String> = (0..spt)
                .map(|r| self.def(&format!("vector.extract {x}[{}] : {et} from {vt}", g * spt + r)))
                .collect();
            let mut mine = self.pairwise(op, &et, level);
            // Lane levels.
            let (lds, pty) = self.shared()?;
            let wave_bits = self.target.wave_size().trailing_zeros();
            let in_wave_bits = lane_bits.min(wave_bits);
            // Rows of 16 lanes: once each holds one value (after four
            // levels), the levels above read the rows' values directly.
            let row_bits = 4;
            let mut done = in_wave_bits;
            if in_wave_bits > row_bits && s.bits() == 32 {
                done = row_bits;
            }
            for j in 0..done {
                mine = self.butterfly_level(j, &mine, &lane, s, op)?;
            }
            if done < in_wave_bits {
                let rows: Vec<u32> = (0..1u32 << (in_wave_bits - done)).map(|r| r << row_bits).collect();
                self.next += 1;
                let out = format!("rows{}", self.next);
                let read = ReadLanes {
                    value: &mine,
                    ty: &et,
                    lanes: &rows,
                    out: &out,
                    lane: &lane,
                    scratch: &lds,
                    scratch_ty: pty,
                };
                match self.target.read_lanes(&read) {
                    Some(code) => {
                        for l in code.lines() {
                            self.line(l);
                        }
                        if self.target.exchanges_use_shared_memory() {
                            self.lds_pending = [true; 2];
                        }
                        let level = (0..rows.len()).map(|i| format!("%{out}_{i}")).collect();
                        mine = self.pairwise(op, &et, level);
                    }
                    None => {
                        // No direct reads: the remaining levels as exchanges.
                        for j in done..in_wave_bits {
                            mine = self.butterfly_level(j, &mine, &lane, s, op)?;
                        }
                    }
                }
            }
            if lane_bits > wave_bits {
                // Every lane of a wave now holds the wave's partial. One
                // round through shared memory: the first lane of each wave
                // writes its slot, then every lane combines all of them as
                // the top levels of the tree.
                let waves = 1u32 << (lane_bits - wave_bits);
                let wb = self.splat_const(&wave_bits.to_string(), "i32");
                let wave = self.def(&format!("arith.shrui {lane}, {wb} : i32"));
                let mask = self.splat_const(&(self.target.wave_size() - 1).to_string(), "i32");
                let in_wave = self.def(&format!("arith.andi {lane}, {mask} : i32"));
                let zero = self.splat_const("0", "i32");
                let first = self.def(&format!("arith.cmpi eq, {in_wave}, {zero} : i32"));
                // Contiguous slots of the element type, so the reads merge.
                let half = self.next_round_half;
                self.next_round_half ^= 1;
                let base = half as u32 * waves;
                let at = self.splat_const(&base.to_string(), "i32");
                let index = self.def(&format!("arith.addi {wave}, {at} : i32"));
                let slot = self.def(&format!(
                    "llvm.getelementptr {lds}[{index}] : ({pty}, i32) -> {pty}, {et}"
                ));
                if self.lds_pending[half] {
                    self.barrier();
                }
                let store = format!("llvm.store {mine}, {slot} : {et}, {pty}");
                self.if_then(&first, |e| e.line(&store));
                self.barrier();
                let level: Vec<String> = (0..waves)
                    .map(|w| {
                        let p = self.def(&format!(
                            "llvm.getelementptr {lds}[{}] : ({pty}) -> {pty}, {et}",
                            base + w
                        ));
                        self.def(&format!("llvm.load {p} : {pty} -> {et}"))
                    })
                    .collect();
                self.lds_pending[half] = true;
                mine = self.pairwise(op, &et, level);
            }
            reps.push(mine);
        }
        // Repetition levels, in-lane.
        Ok(self.pairwise(op, &et, reps))
    }

    /// Combines values as a balanced pairwise tree, neighbours first.
    fn pairwise(&mut self, op: &str, et: &str, level: Vec<String>) -> String {
        self.pairwise_by(level, |e, a, b| e.def(&format!("arith.{op} {a}, {b} : {et}")))
            .unwrap_or_default()
    }

    /// Combines `level` with `combine` as a balanced pairwise tree,
    /// neighbours first (`None` when empty).
    fn pairwise_by<T: Clone>(&mut self, mut level: Vec<T>, combine: impl Fn(&mut Self, &T, &T) -> T) -> Option<T> {
        while level.len() > 1 {
            let mut up = Vec::with_capacity(level.len().div_ceil(2));
            for pair in level.chunks(2) {
                match pair {
                    [a, b] => up.push(combine(self, a, b)),
                    [a] => up.push(a.clone()),
                    _ => {}
                }
            }
            level = up;
        }
        level.pop()
    }

    /// Level `j` of a butterfly: combines `mine` (of type `s`) with the
    /// value of lane `lane ^ 2^j` ([`Self::lane_partner`]). The lower
    /// lane's value goes first, so that both partners compute the same bits.
    fn butterfly_level(
        &mut self,
        j: u32,
        mine: &str,
        lane: &str,
        s: ScalarType,
        op: &str,
    ) -> Result<String, CodegenError> {
        let et = sty(s);
        let other = self.lane_partner(mine, s, j, false)?;
        let is_lower = self.lane_bit_clear(lane, j);
        let lo = self.def(&format!("arith.select {is_lower}, {mine}, {other} : {et}"));
        let hi = self.def(&format!("arith.select {is_lower}, {other}, {mine} : {et}"));
        Ok(self.def(&format!("arith.{op} {lo}, {hi} : {et}")))
    }

    /// Whether bit `j` of `lane` is clear (an i1).
    pub(super) fn lane_bit_clear(&mut self, lane: &str, j: u32) -> String {
        let bit = self.splat_const(&(1u32 << j).to_string(), "i32");
        let has = self.def(&format!("arith.andi {lane}, {bit} : i32"));
        let zero = self.splat_const("0", "i32");
        self.def(&format!("arith.cmpi eq, {has}, {zero} : i32"))
    }

    /// `value` (of type `s`) from lane `lane ^ 2^j` of the program: by the
    /// target's lane exchange when it has one for this level and the value
    /// is 32-bit (`exact`: see [`Exchange::exact`]), else through shared
    /// memory ([`Self::read_other_lane`]).
    pub(super) fn lane_partner(
        &mut self,
        value: &str,
        s: ScalarType,
        j: u32,
        exact: bool,
    ) -> Result<String, CodegenError> {
        let (lds, pty) = self.shared()?;
        let lane = self.lane();
        if let Some(v) = self.wave_exchange(value, &lane, j, exact, s, (&lds, pty)) {
            return Ok(v);
        }
        let bit = self.splat_const(&(1u32 << j).to_string(), "i32");
        let partner = self.def(&format!("arith.xori {lane}, {bit} : i32"));
        let mut got = self.read_other_lane(&[value.to_string()], s, &partner, (false, None))?;
        got.pop().ok_or_else(|| internal("no value read"))
    }

    /// `value` (of type `s`) from lane `lane ^ 2^bit` of the same wave,
    /// through the target's lane exchange (DPP, `ds_bpermute`), when it
    /// has one for this level and the value is 32-bit.
    fn wave_exchange(
        &mut self,
        value: &str,
        lane: &str,
        bit: u32,
        exact: bool,
        s: ScalarType,
        (scratch, scratch_ty): (&str, &str),
    ) -> Option<String> {
        if s.bits() != 32 {
            return None;
        }
        let bits = if s.is_float() {
            self.def(&format!("arith.bitcast {value} : f32 to i32"))
        } else {
            value.to_string()
        };
        self.next += 1;
        let out = format!("xch{}", self.next);
        let code = self.target.lane_exchange(&Exchange {
            bit,
            exact,
            value: &bits,
            out: &out,
            lane,
            scratch,
            scratch_ty,
        })?;
        for l in code.lines() {
            self.line(l);
        }
        if self.target.exchanges_use_shared_memory() {
            self.lds_pending = [true; 2];
        }
        let got = format!("%{out}");
        Some(if s.is_float() {
            self.def(&format!("arith.bitcast {got} : i32 to f32"))
        } else {
            got
        })
    }

    /// Whether `v` beats `best` in an arg-reduction (`max` or min): it is
    /// strictly better, or `best` is NaN and `v` is not (NaNs are ignored).
    fn better(&mut self, max: bool, s: ScalarType, v: &str, best: &str) -> String {
        let et = sty(s);
        if s.is_float() {
            let p = if max { "ogt" } else { "olt" };
            let b = self.def(&format!("arith.cmpf {p}, {v}, {best} : {et}"));
            let best_nan = self.def(&format!("arith.cmpf uno, {best}, {best} : {et}"));
            let v_ok = self.def(&format!("arith.cmpf ord, {v}, {v} : {et}"));
            let nan_case = self.def(&format!("arith.andi {best_nan}, {v_ok} : i1"));
            self.def(&format!("arith.ori {b}, {nan_case} : i1"))
        } else {
            let p = match (max, s.is_unsigned()) {
                (true, true) => "ugt",
                (true, false) => "sgt",
                (false, true) => "ult",
                (false, false) => "slt",
            };
            self.def(&format!("arith.cmpi {p}, {v}, {best} : {et}"))
        }
    }

    /// The index `k` in `0..end` of the best element `base + k * inner`
    /// of the block's vector `x` (the lowest on ties; NaNs ignored).
    #[allow(clippy::too_many_arguments)]
    fn fold_arg(
        &mut self,
        max: bool,
        s: ScalarType,
        x: &str,
        from: &Type,
        base: &str,
        inner: &str,
        end: &str,
    ) -> Result<String, CodegenError> {
        let et = sty(s).to_string();
        let vt = self.mty(from);
        let read = |e: &mut Self, flat: &str| {
            let i = e.def(&format!("arith.index_cast {flat} : i32 to index"));
            e.def(&format!("vector.extract {x}[{i}] : {et} from {vt}"))
        };
        let first = read(self, base);
        let one = self.splat_const("1", "i32");
        let zero = self.splat_const("0", "i32");
        let (k, run, run_idx, res) = (self.fresh(), self.fresh(), self.fresh(), self.fresh());
        self.line(&format!(
            "{res}:2 = \"scf.for\"({one}, {end}, {one}, {first}, {zero}) ({{"
        ));
        self.line(&format!("^bb0({k}: i32, {run}: {et}, {run_idx}: i32):"));
        self.indent += 1;
        let off = self.def(&format!("arith.muli {k}, {inner} : i32"));
        let flat = self.def(&format!("arith.addi {base}, {off} : i32"));
        let v = read(self, &flat);
        let better = self.better(max, s, &v, &run);
        let nv = self.def(&format!("arith.select {better}, {v}, {run} : {et}"));
        let ni = self.def(&format!("arith.select {better}, {k}, {run_idx} : i32"));
        self.line(&format!("\"scf.yield\"({nv}, {ni}) : ({et}, i32) -> ()"));
        self.indent -= 1;
        self.line(&format!("}}) : (i32, i32, i32, {et}, i32) -> ({et}, i32)"));
        Ok(format!("{res}#1"))
    }
}

/// The `arith` operation that combines two elements of a reduction or scan.
/// For a lane level followed by `rest`: the register bit a split level
/// leaves to the lanes, when several partials would cross it: the last
/// register level of the run of register levels that follows, if the
/// partials differ in that bit.
fn split_bit(rest: &[IndexBit], parts: &BTreeMap<u32, Partial>) -> Option<u32> {
    if parts.len() < 2 {
        return None;
    }
    rest.iter()
        .take_while(|b| matches!(b, IndexBit::Register(_)))
        .filter_map(|b| match *b {
            IndexBit::Register(q) if parts.keys().any(|r| r & (1 << q) != 0) => Some(q),
            _ => None,
        })
        .last()
}

fn combine_op(kind: &OpKind, s: ScalarType) -> &'static str {
    let float = s.is_float();
    let unsigned = s.is_unsigned() || s.is_bool();
    match kind {
        OpKind::Reduce {
            kind: ReduceKind::Sum, ..
        }
        | OpKind::Scan {
            kind: ScanKind::Sum, ..
        } => {
            if float {
                "addf"
            } else {
                "addi"
            }
        }
        OpKind::Scan {
            kind: ScanKind::Prod, ..
        } => {
            if float {
                "mulf"
            } else {
                "muli"
            }
        }
        OpKind::Reduce {
            kind: ReduceKind::Max, ..
        } => match (float, unsigned) {
            (true, _) => "maxnumf",
            (false, true) => "maxui",
            (false, false) => "maxsi",
        },
        OpKind::Reduce {
            kind: ReduceKind::Min, ..
        } => match (float, unsigned) {
            (true, _) => "minnumf",
            (false, true) => "minui",
            (false, false) => "minsi",
        },
        _ => "xori",
    }
}

/// Bytes of shared memory reduction, arg-reduction or scan `op` uses with
/// `lanes` lanes of at most `spt` contiguous elements on waves of
/// `2^wave_bits` lanes: one 8-byte slot per lane for exchanges (per
/// register for scans), and for axis reductions the cross-wave round
/// (values, then arg-reductions' indices) and the reduced block.
pub(super) fn shared_bytes(f: &Function, op: OpId, lanes: u32, spt: u32, wave_bits: u32) -> u64 {
    let d = f.op(op);
    let slots = u64::from(lanes) * 8;
    if tritonc_passes::layouts::tree_reduction(f, op) {
        return slots;
    }
    let from = f.ty(d.operands[0]);
    let layout = f
        .layouts
        .as_ref()
        .and_then(|l| l.get(&d.operands[0]))
        .and_then(Layout::registers)
        .unwrap_or(RegisterLayout::Blocked(BlockedLayout::with_max(
            from.numel() as u32,
            lanes,
            spt,
        )));
    if matches!(d.kind, OpKind::Scan { .. }) {
        return slots * u64::from(layout.per_lane());
    }
    let to = f.ty(d.results[0]);
    let (Some(s), Ok(plan)) = (from.scalar_elem(), AxisPlan::new(&d.kind, from, layout)) else {
        return slots;
    };
    let arg = matches!(d.kind, OpKind::ArgReduce { .. });
    let across_waves = plan
        .levels()
        .iter()
        .any(|b| matches!(b, IndexBit::Lane(j) if *j >= wave_bits));
    let round = if across_waves {
        u64::from(plan.partials_across_waves()) * u64::from(lanes) * u64::from(s.bytes() + if arg { 4 } else { 0 })
    } else {
        0
    };
    let out = to.numel() * if arg { 4 } else { u64::from(s.bytes()) };
    slots.max(round).max(out)
}

/// What [`Emitter::axis_reduce`] produces.
pub(super) struct AxisReduced {
    /// The reduced block in its blocked layout (unless not needed), or
    /// the scalar.
    pub result: Option<String>,
    /// In the operand's layout: every register holds the result of its
    /// element's row along the axis (a `vector<K x T>`, `T` i32 for
    /// arg-reductions).
    pub replicated: String,
    /// Register `r` of `replicated` equals register `classes[r]`.
    pub classes: Vec<u32>,
    /// One register per distinct row (the registers of `replicated`
    /// whose axis bits are clear, in order): the slice layout's compact
    /// form. Only for block results.
    pub compact: Option<String>,
}

/// A partial result: a value and, in arg-reductions, its index.
#[derive(Debug, Clone)]
struct Partial {
    value: String,
    index: Option<String>,
}

/// Where an axis of a block lies in the bits of its flat element index:
/// bits `lo..lo + log2(len)`.
#[derive(Debug, Clone, Copy)]
pub(super) struct AxisPlan {
    pub lo: u32,
    pub len: u32,
    pub layout: RegisterLayout,
}

impl AxisPlan {
    pub fn new(kind: &OpKind, from: &Type, layout: RegisterLayout) -> Result<AxisPlan, CodegenError> {
        let axis = match kind {
            OpKind::Reduce { axis, .. } | OpKind::ArgReduce { axis, .. } | OpKind::Scan { axis, .. } => *axis as usize,
            _ => return Err(internal("not a reduction")),
        };
        let len = *from
            .shape
            .get(axis)
            .ok_or_else(|| internal("reduction axis out of range"))?;
        let inner: u64 = from.shape[axis + 1..].iter().map(|d| u64::from(*d)).product();
        Ok(AxisPlan {
            lo: inner.trailing_zeros(),
            len,
            layout,
        })
    }

    /// Where each level of the tree is kept, lowest first.
    pub fn levels(&self) -> Vec<IndexBit> {
        (self.lo..self.lo + self.len.trailing_zeros())
            .map(|b| self.layout.index_bit(b))
            .collect()
    }

    /// How many partials a lane has when the levels reach the lanes of
    /// other waves (the levels within its registers below them are done).
    pub fn partials_across_waves(&self) -> u32 {
        let in_lane = self
            .levels()
            .iter()
            .take_while(|b| matches!(b, IndexBit::Register(_)))
            .count() as u32;
        self.layout.per_lane() >> in_lane
    }

    /// The flat index in the reduced block of element `e` (an i32 value):
    /// the axis's bits removed.
    fn reduced_index(&self, em: &mut Emitter, e: &str) -> String {
        let hi = self.lo + self.len.trailing_zeros();
        let sh = em.splat_const(&hi.to_string(), "i32");
        let outer = em.def(&format!("arith.shrui {e}, {sh} : i32"));
        let lo_c = em.splat_const(&self.lo.to_string(), "i32");
        let outer = em.def(&format!("arith.shli {outer}, {lo_c} : i32"));
        let m = em.splat_const(&((1u32 << self.lo) - 1).to_string(), "i32");
        let inner = em.def(&format!("arith.andi {e}, {m} : i32"));
        em.def(&format!("arith.ori {outer}, {inner} : i32"))
    }
}
