//! Host code in strips: where one lane holds whole blocks (the CPU
//! backend), a run of elementwise operations, loads and stores over blocks
//! of one size runs as a loop over strips of [`Target::strip_elements`]
//! elements, each strip a few vector registers, instead of as single
//! vectors of the whole block.
//!
//! Why: LLVM splits a `vector<4096xf32>` into hundreds of registers'
//! worth of straight-line code, spills what does not fit, and takes
//! seconds to select instructions for it. A strip loop's body is the same
//! size for every block size.
//!
//! Guarantees:
//! - every element is computed by the same operations, in the same order
//!   per element, as with whole vectors: results are bit for bit the same;
//! - a run holds elementwise operations, loads, stores and broadcasts
//!   over blocks of one size, and may end with a reduction to a scalar or
//!   along the last axis when a row is whole strips: each strip reduces
//!   its elements by the lowest levels of the reduction's pairwise tree,
//!   and after the loop the upper levels combine those partials (the same
//!   tree, so the same bits);
//! - what reads across elements otherwise (other reductions, scans,
//!   dots, transpositions, conversions), scalar loads, atomics,
//!   assertions and control flow end a run and see whole vectors;
//! - a run ends after a store, so no load or store of a run follows a store
//!   of it: a program's memory operations on overlapping addresses keep
//!   their order (loads before a store in the same run read their strip
//!   before the store writes it; elements of a store and an earlier load
//!   at overlapping addresses in different strips are not ordered, as on a
//!   GPU, where a block's elements are read and written by concurrent lanes);
//! - pure operations met inside a run that read nothing it computes are
//!   emitted before its loop;
//! - block values that cross a run's edge live in stack buffers (allocated
//!   once, at function entry): a run reads its inputs' strips from them and
//!   writes its outputs' strips to them; an operation outside a run that
//!   uses an output loads the whole vector where it is used; inputs made
//!   of scalars alone (ranges, masks, addresses, range broadcasts) are
//!   computed again in the loop instead;
//! - a broadcast reads its operand's buffer: one element per strip when
//!   the strip lies in one row, else a gather of each element's source;
//! - a masked load or store whose strip's mask is all true is a plain one;
//! - a `for` loop carries blocks that divide into strips in buffers
//!   (copied in before the loop and at its yield), not as vectors of the
//!   whole block, unless its body yields one carried value in another's
//!   place; the host `dot` (`matrix.rs`) reads operands and writes its
//!   result in such buffers.

use super::*;
use std::collections::HashSet;

/// The run being emitted: every block value in it has `n` elements, of
/// which the loop's current strip is `width` starting at `offset` (an i32).
pub(super) struct Strip {
    pub n: u64,
    pub width: u32,
    pub offset: String,
}

/// A run being grouped: its size, its operations and the operations met
/// among them that move before its loop, in order (true: part of the
/// run), and the values the run computes.
struct OpenRun {
    n: u64,
    items: Vec<(OpId, bool)>,
    defined: HashSet<Value>,
}

impl OpenRun {
    fn new(n: u64) -> OpenRun {
        OpenRun {
            n,
            items: Vec::new(),
            defined: HashSet::new(),
        }
    }

    fn add(&mut self, op: OpId, in_run: bool, results: &[Value]) {
        self.items.push((op, in_run));
        if in_run {
            self.defined.extend(results.iter().copied());
        }
    }
}

/// A block's operations, in order, grouped for emission.
enum Segment {
    /// Emitted as is.
    Single(OpId),
    /// A run of `ops` over blocks of `n` elements, with the pure
    /// operations met among them that do not read it (`hoisted`), emitted
    /// before its loop.
    Run { n: u64, ops: Vec<OpId>, hoisted: Vec<OpId> },
}

impl Emitter<'_> {
    /// Emits the operations of block `b`, in strips where the target has them.
    pub(super) fn block_ops(&mut self, b: BlockId) -> Result<(), CodegenError> {
        let ops = self.f.block(b).ops.clone();
        let Some(width) = self.strip_width() else {
            for op in ops {
                self.op(op)?;
            }
            return Ok(());
        };
        for segment in self.segments(&ops, width) {
            match segment {
                Segment::Single(op) => {
                    let is_yield = matches!(self.f.op(op).kind, OpKind::Yield);
                    match self.carried_buffers.get(&b).filter(|_| is_yield).cloned() {
                        Some(buffers) => self.yield_carried(op, &buffers)?,
                        None => self.op(op)?,
                    }
                }
                Segment::Run { n, ops, hoisted } => {
                    for op in hoisted {
                        self.op(op)?;
                    }
                    self.strip_loop(n, width, &ops)?;
                }
            }
        }
        Ok(())
    }

    /// The number of elements of the blocks `op` reads and writes, when it
    /// can run in strips of `width`.
    fn strip_size(&self, op: OpId, width: u32) -> Option<u64> {
        let f = self.f;
        let d = f.op(op);
        let elementwise = d.kind.is_elementwise()
            || matches!(
                d.kind,
                OpKind::MakeRange { .. } | OpKind::Splat | OpKind::Load { .. } | OpKind::Store { .. } | OpKind::Reshape
            );
        // A reduction to a scalar or along the last axis ends a run: each
        // strip's partial result is its subtree of the reduction's
        // pairwise tree (see `strip_loop`).
        let reduction = self.strip_reduction(op, width);
        let broadcast = matches!(d.kind, OpKind::Broadcast);
        if !elementwise && !reduction && !broadcast {
            return None;
        }
        // A broadcast reads its (smaller) operand whole, from a buffer.
        let sized: &[Value] = if broadcast { &d.results } else { &d.operands };
        // (A reduction's result is smaller: its operand sizes the run.)
        let results: &[Value] = if reduction { &[] } else { &d.results };
        let mut n = None;
        for v in sized.iter().chain(results) {
            let t = f.ty(*v);
            if !t.is_block() {
                continue;
            }
            match n {
                None => n = Some(t.numel()),
                Some(m) if m != t.numel() => return None,
                Some(_) => {}
            }
        }
        // A scalar load or store is not elementwise over a block.
        let n = n?;
        (n > u64::from(width) && n.is_multiple_of(u64::from(width))).then_some(n)
    }

    /// Whether `op` is a reduction whose strips are subtrees of its tree:
    /// of a 1-D block, or along the last axis when a row is whole strips.
    fn strip_reduction(&self, op: OpId, width: u32) -> bool {
        let f = self.f;
        let d = f.op(op);
        let OpKind::Reduce { axis, .. } = d.kind else {
            return false;
        };
        let shape = &f.ty(d.operands[0]).shape;
        shape.len() == 1 || (axis as usize + 1 == shape.len() && shape[axis as usize].is_multiple_of(width))
    }

    /// Whether `op` has no effect but its results (it may move before the
    /// loop of a run it is met in, when it reads nothing the run computes).
    fn pure(&self, op: OpId) -> bool {
        let kind = &self.f.op(op).kind;
        kind.is_elementwise()
            || matches!(
                kind,
                OpKind::Constant(_)
                    | OpKind::ProgramId(_)
                    | OpKind::NumPrograms(_)
                    | OpKind::MakeRange { .. }
                    | OpKind::Splat
                    | OpKind::Broadcast
                    | OpKind::Reshape
                    | OpKind::Permute(_)
                    | OpKind::Reduce { .. }
                    | OpKind::ArgReduce { .. }
                    | OpKind::Scan { .. }
            )
    }

    /// Groups `ops` into runs and single operations. A run is kept only
    /// when it touches memory or has several block operations: a lone
    /// splat or range feeding a reduction is cheaper as a whole vector.
    fn segments(&self, ops: &[OpId], width: u32) -> Vec<Segment> {
        let mut out = Vec::new();
        let mut open: Option<OpenRun> = None;
        let close = |open: &mut Option<OpenRun>, out: &mut Vec<Segment>| {
            let Some(run) = open.take() else { return };
            let ops: Vec<OpId> = run.items.iter().filter(|(_, r)| *r).map(|(op, _)| *op).collect();
            let memory = ops.iter().any(|op| {
                matches!(
                    self.f.op(*op).kind,
                    OpKind::Load { .. } | OpKind::Store { .. } | OpKind::Reduce { .. }
                )
            });
            if memory || ops.len() >= 3 {
                let hoisted = run.items.iter().filter(|(_, r)| !*r).map(|(op, _)| *op).collect();
                out.push(Segment::Run { n: run.n, ops, hoisted });
            } else {
                out.extend(run.items.into_iter().map(|(op, _)| Segment::Single(op)));
            }
        };
        for &op in ops {
            let d = self.f.op(op);
            let size = self.strip_size(op, width);
            let reads_run = |run: &OpenRun| d.operands.iter().any(|v| run.defined.contains(v));
            match (&mut open, size) {
                (Some(run), Some(n)) if run.n == n => run.add(op, true, &d.results),
                // Met in a run, not itself for strips of another size: pure
                // and independent of the run, so computed before its loop.
                (Some(run), None) if self.pure(op) && !reads_run(run) => run.add(op, false, &d.results),
                _ => {
                    close(&mut open, &mut out);
                    match size {
                        Some(n) => open.get_or_insert_with(|| OpenRun::new(n)).add(op, true, &d.results),
                        None => out.push(Segment::Single(op)),
                    }
                }
            }
            if size.is_some() && matches!(d.kind, OpKind::Store { .. } | OpKind::Reduce { .. }) {
                close(&mut open, &mut out);
            }
        }
        close(&mut open, &mut out);
        out
    }

    /// Emits `ops` (a run over blocks of `n` elements) as a loop over
    /// strips of `width`. A reduction, always last, is split along its
    /// tree: each strip reduces its `width` elements (the tree's lowest
    /// levels) into a buffer of partial results, which after the loop the
    /// tree's upper levels combine. Same tree, same order: same bits.
    fn strip_loop(&mut self, n: u64, width: u32, ops: &[OpId]) -> Result<(), CodegenError> {
        let f = self.f;
        let (ops, reduction) = match ops.split_last() {
            Some((last, rest)) if matches!(f.op(*last).kind, OpKind::Reduce { .. }) => (rest, Some(*last)),
            _ => (ops, None),
        };
        let in_run: HashSet<OpId> = ops.iter().chain(&reduction).copied().collect();
        // Inputs computed from scalars alone (ranges, splats, masks and
        // addresses made of them) are computed again in the loop rather
        // than read from a buffer.
        let mut recomputed: Vec<OpId> = Vec::new();
        for op in ops.iter().chain(&reduction) {
            for v in self.strip_operands(*op) {
                self.recomputable(v, n, &in_run, &mut recomputed);
            }
        }
        let defined: Vec<Value> = recomputed
            .iter()
            .chain(ops)
            .flat_map(|op| f.op(*op).results.iter().copied())
            .collect();
        let defined_set: HashSet<Value> = defined.iter().copied().collect();
        let mut inputs: Vec<Value> = Vec::new();
        for op in ops.iter().chain(&reduction) {
            for v in self.strip_operands(*op) {
                if f.ty(v).is_block() && !defined_set.contains(&v) && !inputs.contains(&v) {
                    inputs.push(v);
                }
            }
        }
        // What broadcasts (other than of ranges) read, whole, from buffers.
        for op in recomputed.iter().chain(ops) {
            let d = f.op(*op);
            if matches!(d.kind, OpKind::Broadcast) && tritonc_passes::remat::range_broadcast(f, *op).is_none() {
                let v = d.operands[0];
                if !self.broadcast_sources.contains_key(&v) {
                    let buffer = self.buffer_of(v)?;
                    self.broadcast_sources.insert(v, buffer);
                }
            }
        }
        // Outputs: values of the run some operation outside it reads.
        let outputs: Vec<Value> = defined
            .iter()
            .copied()
            .filter(|v| {
                self.users
                    .get(v)
                    .is_some_and(|users| users.iter().any(|u| !in_run.contains(u)))
            })
            .collect();
        // Inputs computed as whole vectors are put in a buffer first.
        let input_buffers: Vec<String> = inputs.iter().map(|v| self.buffer_of(*v)).collect::<Result<_, _>>()?;
        let output_buffers: Vec<String> = outputs.iter().map(|v| self.strip_buffer(f.ty(*v))).collect();
        // The reduction's partial results, one per strip.
        let partials = match reduction {
            Some(r) => {
                // The operand's shape, its last dimension in strips.
                let x = f.ty(f.op(r).operands[0]);
                let mut shape = x.shape.clone();
                if let Some(last) = shape.last_mut() {
                    *last /= width;
                }
                let t = Type::block(x.elem, shape);
                let buffer = self.strip_buffer(&t);
                Some((r, t, buffer))
            }
            None => None,
        };
        let offset = self.open_strip_loop(n, width);
        self.strip = Some(Strip { n, width, offset });
        // Names the loop shadows, put back after it: inputs', and those of
        // recomputed values that also exist as whole vectors.
        let mut saved: Vec<(Value, Option<String>)> = recomputed
            .iter()
            .flat_map(|op| f.op(*op).results.iter())
            .map(|v| (*v, self.names.get(v).cloned()))
            .collect();
        let mut emitted = Ok(());
        for (v, buffer) in inputs.iter().zip(&input_buffers) {
            match self.read_strip(buffer, f.ty(*v)) {
                Ok(strip) => saved.push((*v, self.names.insert(*v, strip))),
                Err(e) => emitted = Err(e),
            }
        }
        if emitted.is_ok() {
            emitted = recomputed.iter().chain(ops).try_for_each(|op| self.op(*op));
        }
        if emitted.is_ok() {
            emitted = outputs.iter().zip(&output_buffers).try_for_each(|(v, buffer)| {
                let strip = self.name(*v)?;
                self.write_strip(buffer, &strip, f.ty(*v))
            });
        }
        if let (true, Some((r, t, buffer))) = (emitted.is_ok(), &partials) {
            emitted = self.strip_partial(*r, t, buffer);
        }
        self.close_strip_loop();
        self.strip = None;
        self.broadcast_sources.clear();
        // The strips' names are the loop body's: gone after it.
        for v in &defined {
            self.names.remove(v);
        }
        for (v, old) in saved {
            match old {
                Some(name) => self.names.insert(v, name),
                None => self.names.remove(&v),
            };
        }
        emitted?;
        for (v, buffer) in outputs.into_iter().zip(output_buffers) {
            self.buffered.insert(v, buffer);
        }
        if let Some((r, t, buffer)) = partials {
            let d = f.op(r);
            let all = self.read_whole(&buffer, &t);
            let total = if t.shape.len() == 1 {
                self.tree_reduce(&d.kind, &all, &t)?
            } else {
                self.host_axis_reduce(&d.kind, &all, &t)?
            };
            self.names.insert(d.results[0], total);
        }
        Ok(())
    }

    /// The operands of `op` it reads strip by strip: none for a broadcast
    /// (it reads its operand whole, or, for a range, nothing).
    fn strip_operands(&self, op: OpId) -> Vec<Value> {
        let d = self.f.op(op);
        if matches!(d.kind, OpKind::Broadcast) {
            Vec::new()
        } else {
            d.operands.clone()
        }
    }

    /// In a run's loop: the current strip of broadcast `op`'s result, read
    /// from its operand's buffer (`broadcast_sources`): one element, made
    /// a vector, when the strip reads only one (a row's value broadcast
    /// along a row at least a strip long), else a gather of each element's
    /// source.
    pub(super) fn strip_broadcast(&mut self, op: OpId) -> Result<String, CodegenError> {
        let f = self.f;
        let d = f.op(op);
        let (src, t) = (d.operands[0], f.ty(d.results[0]));
        let st = f.ty(src);
        let buffer = self
            .broadcast_sources
            .get(&src)
            .cloned()
            .ok_or_else(|| internal("a broadcast's operand has no buffer"))?;
        let (offset, width) = self.current_strip()?;
        let map = IndexMap::broadcast(&st.shape, &t.shape);
        let elem = self.strip_elem(st);
        let mem = format!("vector<{width}x{elem}>");
        // Source index of element e: sum of ((e / out stride) % dim) * in stride.
        let source_of = |e: &mut Self, x: &str, ty: &str| -> String {
            let mut sum: Option<String> = None;
            for (os, dim, is) in map.terms() {
                let c = |e: &mut Self, v: u64| e.splat_const(&v.to_string(), ty);
                let (osc, dimc, isc) = (c(e, os), c(e, dim), c(e, is));
                let q = e.def(&format!("arith.divui {x}, {osc} : {ty}"));
                let r = e.def(&format!("arith.remui {q}, {dimc} : {ty}"));
                let term = e.def(&format!("arith.muli {r}, {isc} : {ty}"));
                sum = Some(match sum {
                    None => term,
                    Some(acc) => e.def(&format!("arith.addi {acc}, {term} : {ty}")),
                });
            }
            sum.unwrap_or_else(|| e.splat_const("0", ty))
        };
        // Every term's output stride is at least the strip: one source.
        let uniform = map.terms().iter().all(|(os, _, _)| *os >= u64::from(width));
        let raw = if uniform {
            let index = source_of(self, &offset, "i32");
            let p = self.def(&format!(
                "llvm.getelementptr inbounds {buffer}[{index}] : (!llvm.ptr, i32) -> !llvm.ptr, {elem}"
            ));
            let x = self.def(&format!("llvm.load {p} : !llvm.ptr -> {elem}"));
            self.def(&format!("vector.broadcast {x} : {elem} to {mem}"))
        } else {
            let vi = format!("vector<{width}xi32>");
            let step = self.def(&format!("vector.step : vector<{width}xindex>"));
            let step = self.def(&format!("arith.index_cast {step} : vector<{width}xindex> to {vi}"));
            let base = self.def(&format!("vector.broadcast {offset} : i32 to {vi}"));
            let e = self.def(&format!("arith.addi {base}, {step} : {vi}"));
            let index = source_of(self, &e, &vi);
            let ptrs = self.def(&format!(
                "llvm.getelementptr inbounds {buffer}[{index}] : (!llvm.ptr, {vi}) -> vector<{width}x!llvm.ptr>, {elem}"
            ));
            let all = self.splat_const("true", &format!("vector<{width}xi1>"));
            let pass = self.def(&format!("llvm.mlir.poison : {mem}"));
            self.def(&format!(
                "llvm.intr.masked.gather {ptrs}, {all}, {pass} {{alignment = 1 : i32}} : (vector<{width}x!llvm.ptr>, vector<{width}xi1>, {mem}) -> {mem}"
            ))
        };
        Ok(self.loaded_form(&raw, &mem, t))
    }

    /// Whether block value `v` (of `n` elements), not computed by the run
    /// `in_run`, can be computed again in its loop from scalars alone, by a few cheap
    /// operations; if so, adds them (operands first) to `ops`.
    fn recomputable(&self, v: Value, n: u64, in_run: &HashSet<OpId>, ops: &mut Vec<OpId>) -> bool {
        const MAX_RECOMPUTED: usize = 8;
        let f = self.f;
        if !f.ty(v).is_block() {
            return self.names.contains_key(&v);
        }
        let tritonc_ir::ValueDef::Result(op, _) = f.value(v).def else {
            return false;
        };
        if ops.contains(&op) {
            return true;
        }
        let d = f.op(op);
        // A range broadcast along an axis is computed from element indices.
        if tritonc_passes::remat::range_broadcast(f, op).is_some() && f.ty(v).numel() == n {
            if in_run.contains(&op) || ops.len() >= MAX_RECOMPUTED {
                return false;
            }
            ops.push(op);
            return true;
        }
        // (Elementwise operations but math functions: a few instructions.)
        let cheap = matches!(d.kind, OpKind::MakeRange { .. } | OpKind::Splat)
            || (d.kind.is_elementwise() && !matches!(d.kind, OpKind::Math(_) | OpKind::Fma));
        if in_run.contains(&op) || !cheap || ops.len() >= MAX_RECOMPUTED || f.ty(v).numel() != n {
            return false;
        }
        let mark = ops.len();
        if d.operands.iter().all(|o| self.recomputable(*o, n, in_run, ops)) && ops.len() < MAX_RECOMPUTED {
            ops.push(op);
            true
        } else {
            ops.truncate(mark);
            false
        }
    }

    /// In a run's loop: reduces the strip of reduction `r`'s operand and
    /// stores the partial result in `buffer` (of type `t`, one element per
    /// strip).
    fn strip_partial(&mut self, r: OpId, t: &Type, buffer: &str) -> Result<(), CodegenError> {
        let f = self.f;
        let d = f.op(r);
        let (x, xt) = (self.name(d.operands[0])?, f.ty(d.operands[0]));
        let partial = self.tree_reduce(&d.kind, &x, xt)?;
        let (offset, width) = self.current_strip()?;
        let w = self.def(&format!("arith.constant {width} : i32"));
        let index = self.def(&format!("arith.divui {offset}, {w} : i32"));
        let elem = self.strip_elem(t);
        let p = self.def(&format!(
            "llvm.getelementptr inbounds {buffer}[{index}] : (!llvm.ptr, i32) -> !llvm.ptr, {elem}"
        ));
        let value = self.stored_form(&partial, "i1", &elem, t);
        self.line(&format!("llvm.store {value}, {p} : {elem}, !llvm.ptr"));
        Ok(())
    }

    /// For a `for` loop on the host: a buffer for each carried block that
    /// divides into strips (`None` for the others), initialized with its
    /// initial value, so that the loop carries it in memory rather than
    /// as a vector of the whole block. Empty when the loop keeps all its
    /// values: not a `for`, no strips, or a body that yields one carried
    /// value in another's place (the copies at its end would overwrite a
    /// buffer still to be read).
    pub(super) fn carried_in_memory(&mut self, op: OpId) -> Result<Vec<Option<String>>, CodegenError> {
        let f = self.f;
        let d = f.op(op);
        let Some(width) = self.strip_width() else {
            return Ok(Vec::new());
        };
        if !matches!(d.kind, OpKind::For) {
            return Ok(Vec::new());
        }
        let body = f.block(d.regions[0]);
        let Some(yielded) = body
            .ops
            .last()
            .map(|y| f.op(*y))
            .filter(|y| matches!(y.kind, OpKind::Yield))
        else {
            return Ok(Vec::new());
        };
        let carried = &body.args[1..];
        let fits = |v: &Value| {
            let t = f.ty(*v);
            t.is_block() && t.numel() > u64::from(width) && t.numel().is_multiple_of(u64::from(width))
        };
        let crossed = yielded
            .operands
            .iter()
            .enumerate()
            .any(|(i, y)| carried.iter().enumerate().any(|(j, a)| a == y && j != i));
        if crossed || !carried.iter().any(fits) || yielded.operands.len() != carried.len() {
            return Ok(Vec::new());
        }
        let first_init = d.operands.len() - d.results.len();
        let mut buffers = Vec::new();
        for (i, a) in carried.iter().enumerate() {
            if !fits(a) {
                buffers.push(None);
                continue;
            }
            let buffer = self.strip_buffer(f.ty(*a));
            self.fill_buffer(&buffer, d.operands[first_init + i])?;
            buffers.push(Some(buffer));
        }
        Ok(buffers)
    }

    /// The `scf.yield` of a loop body whose carried blocks are in
    /// `buffers`: each yielded value in a buffer is copied there (nothing
    /// when it is the carried value itself), the others are yielded.
    fn yield_carried(&mut self, op: OpId, buffers: &[Option<String>]) -> Result<(), CodegenError> {
        let f = self.f;
        let d = f.op(op);
        let mut kept = Vec::new();
        for (y, buffer) in d.operands.iter().zip(buffers) {
            let Some(buffer) = buffer else {
                kept.push(*y);
                continue;
            };
            // (Nothing to do when it is the carried value itself.)
            if self.buffered.get(y) != Some(buffer) {
                self.fill_buffer(buffer, *y)?;
            }
        }
        let mut names = Vec::new();
        let mut tys = Vec::new();
        for v in kept {
            names.push(match self.names.get(&v) {
                Some(n) => n.clone(),
                None => match self.buffered.get(&v).cloned() {
                    Some(buffer) => self.read_whole(&buffer, f.ty(v)),
                    None => self.name(v)?,
                },
            });
            tys.push(self.mty(f.ty(v)));
        }
        self.line(&format!(
            "\"scf.yield\"({}) : ({}) -> ()",
            names.join(", "),
            tys.join(", ")
        ));
        Ok(())
    }

    /// Copies the whole value of type `t` in buffer `src` to buffer `dst`,
    /// by strips when it divides into them.
    pub(super) fn copy_buffer(&mut self, dst: &str, src: &str, t: &Type) {
        let width = self.strip_width().unwrap_or(1);
        let n = t.numel();
        if width <= 1 || !n.is_multiple_of(u64::from(width)) {
            let whole = self.read_whole(src, t);
            self.write_whole(dst, &whole, t);
            return;
        }
        let elem = self.strip_elem(t);
        let mem = self.strip_mem_ty(t, u64::from(width));
        let offset = self.open_strip_loop(n, width);
        let from = self.def(&format!(
            "llvm.getelementptr inbounds {src}[{offset}] : (!llvm.ptr, i32) -> !llvm.ptr, {elem}"
        ));
        let to = self.def(&format!(
            "llvm.getelementptr inbounds {dst}[{offset}] : (!llvm.ptr, i32) -> !llvm.ptr, {elem}"
        ));
        let x = self.def(&format!("llvm.load {from} : !llvm.ptr -> {mem}"));
        self.line(&format!("llvm.store {x}, {to} : {mem}, !llvm.ptr"));
        self.close_strip_loop();
    }

    /// Opens a loop over the strips of `width` of `n` elements; returns
    /// the current strip's first element (an i32).
    fn open_strip_loop(&mut self, n: u64, width: u32) -> String {
        let lower = self.def("arith.constant 0 : index");
        let upper = self.def(&format!("arith.constant {n} : index"));
        let step = self.def(&format!("arith.constant {width} : index"));
        let iv = self.fresh();
        self.line(&format!("\"scf.for\"({lower}, {upper}, {step}) ({{"));
        self.line(&format!("^bb0({iv}: index):"));
        self.indent += 1;
        self.def(&format!("arith.index_cast {iv} : index to i32"))
    }

    fn close_strip_loop(&mut self) {
        self.line("\"scf.yield\"() : () -> ()");
        self.indent -= 1;
        self.line("}) : (index, index, index) -> ()");
    }

    /// The memory type of an element of block type `t` (bools as bytes:
    /// LLVM packs `i1` vectors in memory, so strips could not be addressed).
    fn strip_elem(&self, t: &Type) -> String {
        match t.elem {
            Elem::Scalar(s) => mem_ty(s).to_string(),
            Elem::Ptr(_) => self.target.global_ptr().to_string(),
        }
    }

    /// A stack buffer for the whole of a value of type `t`, allocated at
    /// function entry.
    pub(super) fn strip_buffer(&mut self, t: &Type) -> String {
        self.next += 1;
        let name = format!("%strips{}", self.next);
        let elem = self.strip_elem(t);
        let text = format!(
            "    {name}_n = llvm.mlir.constant({} : i64) : i64\n    {name} = llvm.alloca {name}_n x {elem} {{alignment = 64 : i64}} : (i64) -> !llvm.ptr\n",
            t.numel()
        );
        self.out.insert_str(self.body_start, &text);
        name
    }

    /// The vector type of `count` elements of `t` in memory.
    fn strip_mem_ty(&self, t: &Type, count: u64) -> String {
        format!("vector<{count}x{}>", self.strip_elem(t))
    }

    fn is_bool(t: &Type) -> bool {
        t.scalar_elem().is_some_and(ScalarType::is_bool)
    }

    /// `x` (of MLIR type `ty`) as buffers of block type `t` hold it, of
    /// type `mem`: bools as bytes, the rest unchanged.
    fn stored_form(&mut self, x: &str, ty: &str, mem: &str, t: &Type) -> String {
        if Self::is_bool(t) {
            self.def(&format!("arith.extui {x} : {ty} to {mem}"))
        } else {
            x.to_string()
        }
    }

    /// `x`, read as type `mem` from a buffer of block type `t`, as a value.
    fn loaded_form(&mut self, x: &str, mem: &str, t: &Type) -> String {
        if Self::is_bool(t) {
            let z = self.splat_const("0", mem);
            self.def(&format!("arith.cmpi ne, {x}, {z} : {mem}"))
        } else {
            x.to_string()
        }
    }

    /// The buffer holding block value `v`: its own when strips left it in
    /// one, else a new one it is stored in now.
    fn buffer_of(&mut self, v: Value) -> Result<String, CodegenError> {
        if let Some(b) = self.buffered.get(&v) {
            return Ok(b.clone());
        }
        let buffer = self.strip_buffer(self.f.ty(v));
        self.fill_buffer(&buffer, v)?;
        Ok(buffer)
    }

    /// Stores block value `v` in `buffer`: copied from its own buffer when
    /// strips left it in one, else stored whole.
    pub(super) fn fill_buffer(&mut self, buffer: &str, v: Value) -> Result<(), CodegenError> {
        let t = self.f.ty(v);
        match self.buffered.get(&v).cloned() {
            Some(from) => self.copy_buffer(buffer, &from, t),
            None => {
                let whole = self.name(v)?;
                self.write_whole(buffer, &whole, t);
            }
        }
        Ok(())
    }

    /// Elements per strip, where strips are used: the target has them and
    /// one lane holds whole blocks.
    pub(super) fn strip_width(&self) -> Option<u32> {
        self.target.strip_elements().filter(|_| self.lanes == 1)
    }

    /// The current strip's first element (an i32) and width.
    fn current_strip(&self) -> Result<(String, u32), CodegenError> {
        self.strip
            .as_ref()
            .map(|s| (s.offset.clone(), s.width))
            .ok_or_else(|| internal("a strip outside a run"))
    }

    /// Stores the whole value `v` (of type `t`, outside any run) in `buffer`.
    fn write_whole(&mut self, buffer: &str, v: &str, t: &Type) {
        let mem = self.strip_mem_ty(t, t.numel());
        let ty = self.mty(t);
        let v = self.stored_form(v, &ty, &mem, t);
        self.line(&format!(
            "llvm.store {v}, {buffer} {{alignment = 64 : i64}} : {mem}, !llvm.ptr"
        ));
    }

    /// Loads the whole value of type `t` from `buffer`.
    pub(super) fn read_whole(&mut self, buffer: &str, t: &Type) -> String {
        let mem = self.strip_mem_ty(t, t.numel());
        let x = self.def(&format!(
            "llvm.load {buffer} {{alignment = 64 : i64}} : !llvm.ptr -> {mem}"
        ));
        self.loaded_form(&x, &mem, t)
    }

    /// The current strip's address in `buffer`, its memory vector type
    /// and its alignment (strips start at multiples of their width in a
    /// 64-byte aligned buffer).
    fn strip_access(&mut self, buffer: &str, t: &Type) -> Result<(String, String, u64), CodegenError> {
        let (offset, width) = self.current_strip()?;
        let elem = self.strip_elem(t);
        let elem_bytes = match t.elem {
            Elem::Scalar(s) if s.is_bool() => 1,
            Elem::Scalar(s) => u64::from(s.bytes()),
            Elem::Ptr(_) => 8,
        };
        let p = self.def(&format!(
            "llvm.getelementptr inbounds {buffer}[{offset}] : (!llvm.ptr, i32) -> !llvm.ptr, {elem}"
        ));
        let align = (elem_bytes * u64::from(width)).min(64);
        Ok((p, self.strip_mem_ty(t, u64::from(width)), align))
    }

    fn read_strip(&mut self, buffer: &str, t: &Type) -> Result<String, CodegenError> {
        let (p, mem, align) = self.strip_access(buffer, t)?;
        let x = self.def(&format!(
            "llvm.load {p} {{alignment = {align} : i64}} : !llvm.ptr -> {mem}"
        ));
        Ok(self.loaded_form(&x, &mem, t))
    }

    fn write_strip(&mut self, buffer: &str, v: &str, t: &Type) -> Result<(), CodegenError> {
        let (p, mem, align) = self.strip_access(buffer, t)?;
        let ty = self.mty(t);
        let v = self.stored_form(v, &ty, &mem, t);
        self.line(&format!(
            "llvm.store {v}, {p} {{alignment = {align} : i64}} : {mem}, !llvm.ptr"
        ));
        Ok(())
    }

    /// Whether the run being emitted holds blocks of type `t`, and its strip.
    pub(super) fn strip_of(&self, t: &Type) -> Option<&Strip> {
        self.strip.as_ref().filter(|s| t.is_block() && t.numel() == s.n)
    }
}
