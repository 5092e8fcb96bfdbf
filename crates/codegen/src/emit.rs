//! Tile IR to MLIR text in upstream dialects (`llvm`, `rocdl`, `arith`,
//! `math`, `scf`, `vector`), ready for MLIR's conversion to the `llvm`
//! dialect.
//!
//! Each block value becomes, per lane, a `vector<K x T>` of the K elements
//! that lane owns (the blocked layout below); scalars stay scalars and are
//! uniform across lanes. On the host there is one lane owning whole blocks.
//!
//! Layout of a 1-D block of `n` elements over `L` lanes with `spt`
//! contiguous elements per lane and per repetition (`spt` is 4 when the
//! block is large enough, so that a lane's elements are 16 contiguous bytes
//! for 32-bit types): lane `l`, register `r` holds element
//! `((r / spt) * L * spt + l * spt + r % spt) mod n`. Small blocks are
//! replicated across lanes (the `mod n`).
//!
//! Guarantees: the text verifies in MLIR; operations a target cannot
//! compile (f64 transcendentals on AMDGPU) are rejected with an error here,
//! never left to LLVM, which would abort the process.

use crate::{
    staging::MatrixStaging,
    target::{Exchange, LaneRead, MatrixCall, ReadLanes, Target},
    CodegenError,
};
use std::collections::HashMap;
use tritonc_ir::{
    print::float_literal, AtomicOp, BinaryOp, BlockId, BlockedLayout, ConstValue, Elem, Function, IndexBit, Layout,
    MathFn, MatrixLayout, OpId, OpKind, ReduceKind, RegisterLayout, ScalarType, ScanKind, Type, Value,
};
use tritonc_passes::axis::AxisInfo;

mod reduce;

/// A kernel in MLIR, with what launching it needs to know.
#[derive(Debug, Clone)]
pub struct EmittedKernel {
    pub mlir: String,
    /// Bytes of shared memory (LDS) one program uses; 0 when lanes never
    /// exchange data.
    pub shared_bytes: u32,
}

/// Bytes of shared memory a Dist IR function needs: the largest block a
/// `tk.convert_layout` puts there (one at a time).
fn shared_bytes_needed(f: &Function, lanes: u32, target: &dyn Target) -> u64 {
    // Matrix-instruction dots stage their operands in their own layout
    // (and on a simulator also need the instruction's scratch).
    let matrix_staging = f
        .walk()
        .into_iter()
        .filter_map(|op| {
            let d = f.op(op);
            if !matches!(d.kind, OpKind::Dot) {
                return None;
            }
            let Some(Layout::Matrix(m)) = f.layouts.as_ref().and_then(|l| l.get(d.results.first()?)) else {
                return None;
            };
            let staging = matrix_staging(f.ty(d.operands[0]), f.ty(d.operands[1]), *m)?;
            Some(u64::from(staging.end) + u64::from(lanes) * u64::from(target.matrix_scratch_per_lane()))
        })
        .max()
        .unwrap_or(0);
    // Reductions and scans: exchange slots, cross-wave rounds, reduced
    // blocks (`reduce::shared_bytes`).
    let spt = tritonc_passes::layouts::max_contiguous(f);
    let wave_bits = target.wave_size().trailing_zeros();
    let exchange = if lanes > 1 {
        f.walk()
            .into_iter()
            .filter(|op| {
                matches!(
                    f.op(*op).kind,
                    OpKind::Reduce { .. } | OpKind::ArgReduce { .. } | OpKind::Scan { .. }
                )
            })
            .map(|op| reduce::shared_bytes(f, op, lanes, spt, wave_bits))
            .max()
            .unwrap_or(0)
    } else {
        0
    };
    f.walk()
        .into_iter()
        .filter(|op| matches!(f.op(*op).kind, OpKind::ConvertLayout))
        .map(|op| {
            let t = f.ty(f.op(op).operands[0]);
            let bytes = match t.elem {
                Elem::Scalar(s) => u64::from(s.bytes()),
                Elem::Ptr(_) => 8,
            };
            t.numel() * bytes
        })
        .max()
        .unwrap_or(0)
        .max(exchange)
        .max(if lanes > 1 { dot_shared_bytes(f) } else { 0 })
        .max(matrix_staging)
}

/// Where a matrix-instruction dot of `a` and `b` stages them.
fn matrix_staging(a: &Type, b: &Type, m: MatrixLayout) -> Option<MatrixStaging> {
    let input = a.scalar_elem()?;
    match (&a.shape[..], &b.shape[..]) {
        ([rows, k], [_, n]) => Some(MatrixStaging::new(m.instr, input, (*rows, *k, *n), true)),
        _ => None,
    }
}

/// Where `tk.dot` puts its second operand in shared memory (after the
/// first, 16-byte aligned), and how many bytes it needs, for `a` and `b`.
fn dot_staging(a: &Type, b: &Type) -> (u64, u64) {
    let bytes = |t: &Type| t.numel() * u64::from(t.scalar_elem().map_or(8, ScalarType::bytes));
    let b_offset = bytes(a).div_ceil(16) * 16;
    (b_offset, b_offset + bytes(b))
}

/// Host gathers and scatters of more elements than this run as a loop
/// (see `host_element_loop`); LLVM expands `masked.gather` element by
/// element, which for long blocks takes the x86 back end seconds.
const HOST_GATHER_MAX: u32 = 64;

/// Bytes of stack the host may need as scratch: a `tk.dot`'s operands and
/// accumulator (see [`dot_staging`]), or a long gather's or scatter's
/// pointers, elements and mask.
fn host_scratch_bytes(f: &Function) -> u64 {
    f.walk()
        .into_iter()
        .map(|op| {
            let d = f.op(op);
            match d.kind {
                OpKind::Dot => {
                    let (at, bt, ct) = (f.ty(d.operands[0]), f.ty(d.operands[1]), f.ty(d.operands[2]));
                    let c_offset = dot_staging(at, bt).1.div_ceil(16) * 16;
                    c_offset + ct.numel() * u64::from(ct.scalar_elem().map_or(8, ScalarType::bytes))
                }
                OpKind::Load { .. } | OpKind::Store { .. } => host_loop_layout(f.ty(d.operands[0]).numel(), 8).2,
                _ => 0,
            }
        })
        .max()
        .unwrap_or(0)
}

/// Where a host element loop over `n` elements of `elem_bytes` keeps its
/// pointers (at 0), elements, and masks: (elements, masks, end).
fn host_loop_layout(n: u64, elem_bytes: u64) -> (u64, u64, u64) {
    let data = n * 8;
    let masks = (data + n * elem_bytes).div_ceil(16) * 16;
    (data, masks, masks + n)
}

/// What a host element loop does at each element whose mask is set.
#[derive(Clone, Copy)]
enum HostAccess<'a> {
    /// Load it; elements whose mask is clear keep `pass`'s.
    Gather { pass: &'a str },
    /// Store `values`' element there.
    Scatter { values: &'a str },
}

fn dot_shared_bytes(f: &Function) -> u64 {
    f.walk()
        .into_iter()
        .filter(|op| matches!(f.op(*op).kind, OpKind::Dot))
        .map(|op| {
            let d = f.op(op);
            dot_staging(f.ty(d.operands[0]), f.ty(d.operands[1])).1
        })
        .max()
        .unwrap_or(0)
}

/// The most elements one lane may hold: LLVM's code generators fail (and
/// abort the process) on much longer vectors, and compile slowly before.
pub const MAX_ELEMS_PER_LANE: u32 = 16384;

/// Emits the MLIR module for one kernel, given in Dist IR (tile IR gets
/// its layouts assigned first).
pub fn emit_kernel(f: &Function, target: &dyn Target) -> Result<EmittedKernel, CodegenError> {
    let lanes = target.lanes(f.options.num_warps);
    let assigned;
    let f = if f.layouts.is_some() {
        f
    } else {
        let mut g = f.clone();
        tritonc_passes::layouts::assign_for(&mut g, lanes, &|s| target.matrix_instrs(s))
            .map_err(|e| CodegenError::Internal(e.to_string()))?;
        assigned = g;
        &assigned
    };
    for v in &f.values {
        if v.ty.is_block() {
            let per_lane = BlockedLayout::with_max(
                v.ty.numel().min(u64::from(u32::MAX)) as u32,
                lanes,
                tritonc_passes::layouts::max_contiguous(f),
            )
            .per_lane();
            if per_lane > MAX_ELEMS_PER_LANE {
                return Err(CodegenError::Unsupported(format!(
                    "a {} would put {per_lane} elements in each of the {lanes} lane(s) of {}; at most {MAX_ELEMS_PER_LANE} are supported (use a smaller block{})",
                    v.ty,
                    target.name(),
                    if lanes > 1 { " or more warps" } else { "" }
                )));
            }
        }
    }
    let shared_bytes = shared_bytes_needed(f, lanes, target);
    if shared_bytes > u64::from(target.lds_bytes()) {
        return Err(CodegenError::Unsupported(format!(
            "a block of {shared_bytes} bytes must move between lanes, but {} has {} bytes of LDS",
            target.name(),
            target.lds_bytes()
        )));
    }
    let shared_bytes = shared_bytes as u32;
    let mut e = Emitter {
        f,
        target,
        lanes,
        out: String::new(),
        names: HashMap::new(),
        next: 0,
        indent: 2,
        lane_id: None,
        lds_pending: [false; 2],
        staged: HashMap::new(),
        next_round_half: 0,
        host_scratch: None,
        max_spt: tritonc_passes::layouts::max_contiguous(f),
        replicated: HashMap::new(),
        row_classes: HashMap::new(),
        asserts: 0,
        axis: tritonc_passes::axis::analyze(f),
        body_start: 0,
        shared_mem: None,
    };
    let params: Vec<String> = f.params().iter().map(|p| e.mty(f.ty(*p))).collect();
    for (i, p) in f.params().iter().enumerate() {
        e.names.insert(*p, format!("%arg{i}"));
    }
    let (head, prologue) = target.function_header(&f.name, &params, lanes);
    e.out.push_str(&prologue);
    let mut globals = String::new();
    if shared_bytes > 0 {
        let (decl, code, ptr_ty) = target.shared_memory(shared_bytes, "lds");
        globals = decl;
        e.out.push_str(&code);
        e.shared_mem = Some(("%lds".to_string(), ptr_ty));
    }
    e.body_start = e.out.len();
    e.block(f.entry)?;
    let mut text = String::from("module {\n");
    text.push_str(&globals);
    text.push_str(&head);
    text.push_str(&e.out);
    text.push_str("  }\n}\n");
    Ok(EmittedKernel {
        mlir: text,
        shared_bytes,
    })
}

struct Emitter<'a> {
    f: &'a Function,
    target: &'a dyn Target,
    lanes: u32,
    out: String,
    /// `device_assert`s emitted so far (their ids are 1-based, in order).
    asserts: u32,
    /// Contiguity, divisibility and constancy of values (for vector access).
    axis: HashMap<Value, AxisInfo>,
    /// Where the function body starts in `out` (after the target's prologue).
    body_start: usize,
    /// The shared-memory base address and its pointer type, when used.
    shared_mem: Option<(String, &'static str)>,
    names: HashMap<Value, String>,
    next: usize,
    indent: usize,
    lane_id: Option<String>,
    /// Per half of the tree reductions' cross-wave slots: whether lanes
    /// may still be reading it (so a write must wait for a barrier).
    /// Successive rounds alternate halves, so one round's write need not
    /// wait for the previous round's readers.
    lds_pending: [bool; 2],
    /// The half the next cross-wave round uses.
    next_round_half: usize,
    /// The host's stack scratch (for `tk.dot` and long gathers), once
    /// allocated.
    host_scratch: Option<String>,
    /// Contiguous elements per lane at most (see `max_contiguous`).
    max_spt: u32,
    /// Matrix dots whose operands were already staged in shared memory at
    /// the top of their loop body (see `stage_early`): the shared memory,
    /// its pointer type and `b`'s start.
    staged: HashMap<OpId, (String, &'static str, String)>,
    /// For reductions along an axis with many lanes: the result of every
    /// register's row, in the operand's layout (see `axis_reduce`).
    replicated: HashMap<Value, (String, std::rc::Rc<Vec<u32>>)>,
    /// Blocks whose registers repeat along rows (a reduction's result
    /// broadcast back, and elementwise results of such): register `r`
    /// equals register `classes[r]`.
    row_classes: HashMap<Value, std::rc::Rc<Vec<u32>>>,
}

/// MLIR spelling of a scalar type (signless).
fn sty(s: ScalarType) -> &'static str {
    s.signless()
}

/// How an element is stored in memory (bools take a byte).
fn mem_ty(s: ScalarType) -> &'static str {
    if s.is_bool() {
        "i8"
    } else {
        sty(s)
    }
}

impl Emitter<'_> {
    fn fresh(&mut self) -> String {
        self.next += 1;
        format!("%v{}", self.next)
    }

    fn line(&mut self, text: &str) {
        for _ in 0..self.indent {
            self.out.push_str("  ");
        }
        self.out.push_str(text);
        self.out.push('\n');
    }

    /// Emits `%new = <rhs>` and returns `%new`.
    fn def(&mut self, rhs: &str) -> String {
        let n = self.fresh();
        self.line(&format!("{n} = {rhs}"));
        n
    }

    fn name(&self, v: Value) -> Result<String, CodegenError> {
        self.names
            .get(&v)
            .cloned()
            .ok_or_else(|| CodegenError::Internal(format!("value {v} used before definition")))
    }

    fn layout(&self, t: &Type) -> BlockedLayout {
        BlockedLayout::with_max(t.numel().max(1) as u32, self.lanes, self.max_spt)
    }

    /// Per-lane MLIR type of a tile IR type.
    fn mty(&self, t: &Type) -> String {
        let elem = match t.elem {
            Elem::Scalar(s) => sty(s).to_string(),
            Elem::Ptr(_) => self.target.global_ptr().to_string(),
        };
        if t.is_block() {
            format!("vector<{}x{elem}>", self.layout(t).per_lane())
        } else {
            elem
        }
    }

    /// The same shape as `t` with scalar element `s`.
    fn mty_as(&self, t: &Type, s: &str) -> String {
        if t.is_block() {
            format!("vector<{}x{s}>", self.layout(t).per_lane())
        } else {
            s.to_string()
        }
    }

    /// A constant of MLIR type `ty` (scalar or vector) with every element `lit`.
    fn splat_const(&mut self, lit: &str, ty: &str) -> String {
        if ty.starts_with("vector<") {
            self.def(&format!("arith.constant dense<{lit}> : {ty}"))
        } else if ty == "i1" {
            // `true` / `false` carry their type.
            self.def(&format!("arith.constant {lit}"))
        } else {
            self.def(&format!("arith.constant {lit} : {ty}"))
        }
    }

    fn float_const(&mut self, x: f64, s: ScalarType, ty: &str) -> String {
        let lit = float_literal(x, s);
        self.splat_const(&lit, ty)
    }

    fn lane(&mut self) -> String {
        if let Some(l) = &self.lane_id {
            return l.clone();
        }
        self.next += 1;
        let out = format!("lane{}", self.next);
        // The lane id is emitted where first needed; it is defined at the
        // top of the function so that every region can see it.
        let text = self.target.lane_id(&out);
        self.out.insert_str(self.body_start, &text);
        let n = format!("%{out}");
        self.lane_id = Some(n.clone());
        n
    }

    fn block(&mut self, b: BlockId) -> Result<(), CodegenError> {
        for &op in &self.f.block(b).ops {
            self.op(op)?;
        }
        Ok(())
    }

    fn op(&mut self, op: OpId) -> Result<(), CodegenError> {
        let f = self.f;
        let d = f.op(op);
        let in_registers = matches!(
            d.kind,
            OpKind::Binary(_)
                | OpKind::Cmp(_)
                | OpKind::Neg
                | OpKind::Not
                | OpKind::Cast
                | OpKind::Bitcast
                | OpKind::Select
                | OpKind::Math(_)
                | OpKind::Fma
                | OpKind::Reduce { .. }
                | OpKind::ArgReduce { .. }
                | OpKind::Broadcast
        );
        if !in_registers
            && !matches!(
                d.kind,
                OpKind::Dot | OpKind::ConvertLayout | OpKind::For | OpKind::Yield
            )
            && d.operands
                .iter()
                .any(|v| matches!(self.value_layout(*v), Some(Layout::Matrix(_))))
        {
            return Err(internal(
                "a matrix-layout value reached an operation that needs the blocked layout",
            ));
        }
        let ins: Vec<String> = d.operands.iter().map(|v| self.name(*v)).collect::<Result<_, _>>()?;
        let in_ty: Vec<&Type> = d.operands.iter().map(|v| f.ty(*v)).collect();
        let out_ty: Option<&Type> = d.results.first().map(|v| f.ty(*v));
        let result = match &d.kind {
            OpKind::Constant(c) => {
                let t = out_ty.ok_or_else(|| internal("constant without result"))?;
                let s = t.scalar_elem().ok_or_else(|| internal("pointer constant"))?;
                let lit = match *c {
                    ConstValue::Int(v) if s.is_bool() => (if v != 0 { "true" } else { "false" }).to_string(),
                    ConstValue::Int(v) => v.to_string(),
                    ConstValue::Float(x) => float_literal(x, s),
                };
                Some(self.splat_const(&lit, sty(s)))
            }
            OpKind::ProgramId(a) | OpKind::NumPrograms(a) => {
                self.next += 1;
                let n = format!("pid_{}", self.next);
                let text = if matches!(d.kind, OpKind::ProgramId(_)) {
                    self.target.program_id(*a, &n)
                } else {
                    self.target.num_programs(*a, &n)
                };
                self.out.push_str(&text);
                Some(format!("%{n}"))
            }
            OpKind::MakeRange { start, .. } => {
                let t = out_ty.ok_or_else(|| internal("range without result"))?;
                Some(self.make_range(t, *start))
            }
            OpKind::Splat => {
                let t = out_ty.ok_or_else(|| internal("splat without result"))?;
                let vt = self.mty(t);
                let st = self.mty(in_ty[0]);
                Some(self.def(&format!("vector.broadcast {} : {st} to {vt}", ins[0])))
            }
            // A reduction's result broadcast back along its axis: what
            // the reduction left in every register.
            OpKind::Broadcast
                if tritonc_passes::layouts::broadcast_of_reduction(f, op)
                    .is_some_and(|r| self.replicated.contains_key(&r)) =>
            {
                let (v, classes) = tritonc_passes::layouts::broadcast_of_reduction(f, op)
                    .and_then(|r| self.replicated.get(&r).cloned())
                    .ok_or_else(|| internal("broadcast of a reduction not emitted"))?;
                self.row_classes.insert(d.results[0], classes);
                Some(v)
            }
            OpKind::Broadcast if tritonc_passes::remat::range_broadcast(f, op).is_some() => {
                let t = out_ty.ok_or_else(|| internal("broadcast without result"))?;
                let (start, axis) = tritonc_passes::remat::range_broadcast(f, op).unwrap_or((0, 0));
                let lay = self.register_layout(d.results[0]);
                Some(self.range_along(t, lay, axis, start))
            }
            OpKind::Broadcast if self.slice_into_parent(d.operands[0], d.results[0]).is_some() => {
                let (m, dim) = self
                    .slice_into_parent(d.operands[0], d.results[0])
                    .ok_or_else(|| internal("slice broadcast"))?;
                let t = out_ty.ok_or_else(|| internal("broadcast without result"))?;
                Some(self.broadcast_slice(&ins[0], in_ty[0], t, m, dim))
            }
            OpKind::Broadcast if in_ty[0].numel() != 1 => {
                let t = out_ty.ok_or_else(|| internal("broadcast without result"))?;
                let map = IndexMap::broadcast(&in_ty[0].shape, &t.shape);
                let lay = self.register_layout(d.results[0]);
                Some(self.move_elements(&ins[0], in_ty[0], (t, lay), &map)?)
            }
            OpKind::Permute(order) => {
                let t = out_ty.ok_or_else(|| internal("trans without result"))?;
                let map = IndexMap::permute(&in_ty[0].shape, order, &t.shape);
                let lay = self.register_layout(d.results[0]);
                Some(self.move_elements(&ins[0], in_ty[0], (t, lay), &map)?)
            }
            // Blocks are laid out by their row-major element order alone, so
            // a reshape moves no data.
            OpKind::Reshape => Some(ins[0].clone()),
            OpKind::Reduce { .. } if tritonc_passes::layouts::tree_reduction(f, op) => {
                Some(self.tree_reduce(&d.kind, &ins[0], in_ty[0])?)
            }
            OpKind::Reduce { .. } if self.lanes == 1 => Some(self.host_axis_reduce(&d.kind, &ins[0], in_ty[0])?),
            OpKind::Reduce { .. } | OpKind::ArgReduce { .. } if self.lanes > 1 => {
                let t = out_ty.ok_or_else(|| internal("reduction without result"))?;
                // A slice-layout result (Dist IR) is only broadcast back.
                let block_needed = !matches!(self.value_layout(d.results[0]), Some(Layout::Slice { .. }));
                // A slice of a matrix layout is kept compact, one register
                // per distinct row (its type's size: Dist IR checked that).
                let compact_needed = matches!(
                    self.value_layout(d.results[0]),
                    Some(Layout::Slice {
                        parent: RegisterLayout::Matrix(_),
                        ..
                    })
                );
                let from = (in_ty[0], self.register_layout(d.operands[0]));
                let reduced = self.axis_reduce(&d.kind, &ins[0], from, t, (block_needed, compact_needed))?;
                let compact = reduced.compact.clone();
                self.replicated.insert(
                    d.results[0],
                    (reduced.replicated.clone(), std::rc::Rc::new(reduced.classes)),
                );
                // Without the block, the only users (reshapes feeding
                // broadcasts back) read `replicated` instead; the name
                // just flows through them.
                Some(compact.or(reduced.result).unwrap_or(reduced.replicated))
            }
            OpKind::Reduce { .. } | OpKind::ArgReduce { .. } => {
                let t = out_ty.ok_or_else(|| internal("reduction without result"))?;
                Some(self.host_arg_reduce(&d.kind, &ins[0], in_ty[0], t)?)
            }
            OpKind::Scan { .. } if self.lanes == 1 => Some(self.host_scan(&d.kind, &ins[0], in_ty[0])?),
            OpKind::Scan { .. } => Some(self.axis_scan(&d.kind, &ins[0], in_ty[0])?),
            OpKind::Broadcast => {
                let t = out_ty.ok_or_else(|| internal("broadcast without result"))?;
                let st = self.mty(in_ty[0]);
                let elem = self.mty(&Type::block(in_ty[0].elem, Vec::new()));
                let x = self.def(&format!("vector.extract {}[0] : {elem} from {st}", ins[0]));
                let vt = self.mty(t);
                Some(self.def(&format!("vector.broadcast {x} : {elem} to {vt}")))
            }
            OpKind::Binary(_)
            | OpKind::Cmp(_)
            | OpKind::Neg
            | OpKind::Not
            | OpKind::Cast
            | OpKind::Bitcast
            | OpKind::Select
            | OpKind::Math(_)
            | OpKind::Fma => {
                let row_classes = self.shared_row_classes(&d.operands);
                match (row_classes, out_ty) {
                    (Some(classes), Some(t)) if t.is_block() => {
                        Some(self.elementwise_by_class(&d.kind, &ins, &d.operands, &in_ty, t, classes, d.results[0])?)
                    }
                    _ => Some(self.elementwise(&d.kind, &ins, &in_ty, out_ty)?),
                }
            }
            OpKind::AddPtr => Some(self.add_ptr(&d.operands, &ins, in_ty[0], in_ty[1])?),
            OpKind::Load { mask, other } => Some(self.load(&ins, &d.operands, in_ty[0], *mask, *other)?),
            OpKind::Store { mask } => {
                self.store(&ins, &d.operands, in_ty[0], *mask)?;
                None
            }
            OpKind::Atomic { op: aop, mask } => Some(self.atomic(&ins, in_ty[0], Some(*aop), *mask)?),
            OpKind::AtomicCas => Some(self.atomic(&ins, in_ty[0], None, false)?),
            OpKind::Dot => {
                let t = out_ty.ok_or_else(|| internal("dot without result"))?;
                match self.value_layout(d.results[0]) {
                    Some(Layout::Matrix(m)) => Some(self.matrix_dot(op, &ins, in_ty[0], in_ty[1], t, m)?),
                    _ => Some(self.dot(&ins, in_ty[0], in_ty[1], t)?),
                }
            }
            OpKind::Assert(_) => {
                // The message stays with the driver, which maps the id back.
                if self.target.checks_asserts() {
                    self.assert(&ins[0], in_ty[0])?;
                }
                None
            }
            OpKind::ConvertLayout
                if matches!(
                    self.value_layout(d.operands[0]),
                    Some(Layout::Slice {
                        parent: RegisterLayout::Matrix(_),
                        ..
                    })
                ) =>
            {
                Some(self.convert_slice(&ins[0], d.operands[0], in_ty[0], out_ty.unwrap_or(in_ty[0]))?)
            }
            OpKind::ConvertLayout
                if matches!(self.value_layout(d.operands[0]), Some(Layout::Matrix(_)))
                    || matches!(self.value_layout(d.results[0]), Some(Layout::Matrix(_))) =>
            {
                Some(self.convert_matrix(&ins[0], d.operands[0], d.results[0], in_ty[0])?)
            }
            OpKind::ConvertLayout => {
                // Wait until every lane is done with the previous contents,
                // then fill shared memory (write_shared waits for all writes).
                self.barrier();
                self.write_shared(&ins[0], in_ty[0])?;
                // Its readers come later, anywhere.
                self.lds_pending = [true; 2];
                Some(self.shared()?.0)
            }
            OpKind::Call(c) => return Err(internal(&format!("call to `{c}` survived inlining"))),
            OpKind::For | OpKind::If | OpKind::While => {
                self.control(op)?;
                return Ok(());
            }
            OpKind::Yield | OpKind::Condition => {
                let tys: Vec<String> = in_ty.iter().map(|t| self.mty(t)).collect();
                let name = if matches!(d.kind, OpKind::Yield) {
                    "scf.yield"
                } else {
                    "scf.condition"
                };
                self.line(&format!("\"{name}\"({}) : ({}) -> ()", ins.join(", "), tys.join(", ")));
                None
            }
            OpKind::Return => {
                self.line("llvm.return");
                None
            }
        };
        if let (Some(name), Some(&r)) = (result, d.results.first()) {
            self.names.insert(r, name);
        }
        Ok(())
    }

    /// An elementwise operation on blocks (or, with scalar types, on one
    /// element of each).
    fn elementwise(
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
    fn shared_row_classes(&self, operands: &[Value]) -> Option<std::rc::Rc<Vec<u32>>> {
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
            } else if !self
                .f
                .def_op(*v)
                .is_some_and(|op| matches!(self.f.op(op).kind, OpKind::Splat))
            {
                return None;
            }
        }
        found
    }

    /// An elementwise operation whose operands repeat along rows: computed
    /// once per class of equal registers (`classes[r]` is the first
    /// register equal to `r`), as scalars, and spread back. (LLVM would
    /// compute every register when the classes are not all one.)
    #[allow(clippy::too_many_arguments)]
    fn elementwise_by_class(
        &mut self,
        kind: &OpKind,
        ins: &[String],
        operands: &[Value],
        in_ty: &[&Type],
        out: &Type,
        classes: std::rc::Rc<Vec<u32>>,
        result: Value,
    ) -> Result<String, CodegenError> {
        let scalar = |t: &Type| Type::block(t.elem, Vec::new());
        let scalar_in: Vec<Type> = in_ty.iter().map(|t| scalar(t)).collect();
        let scalar_in: Vec<&Type> = scalar_in.iter().collect();
        let out_scalar = scalar(out);
        let mut reps: Vec<u32> = classes.to_vec();
        reps.sort_unstable();
        reps.dedup();
        let mut per_class = HashMap::new();
        for &c in &reps {
            let mut args = Vec::new();
            for (i, v) in operands.iter().enumerate() {
                if !self.f.ty(*v).is_block() {
                    args.push(ins[i].clone());
                    continue;
                }
                // Splats hold the same value in every register.
                let r = if self.row_classes.contains_key(v) { c } else { 0 };
                let (vt, et) = (self.mty(in_ty[i]), self.mty(scalar_in[i]));
                args.push(self.def(&format!("vector.extract {}[{r}] : {et} from {vt}", ins[i])));
            }
            let r = self.elementwise(kind, &args, &scalar_in, Some(&out_scalar))?;
            per_class.insert(c, r);
        }
        let regs: Vec<String> = classes
            .iter()
            .map(|c| per_class.get(c).cloned().ok_or_else(|| internal("missing class")))
            .collect::<Result<_, _>>()?;
        let vt = self.mty(out);
        let v = self.def(&format!("vector.from_elements {} : {vt}", regs.join(", ")));
        self.row_classes.insert(result, classes);
        Ok(v)
    }

    /// `p + o`. `(p + o1) + o2` of 32-bit offset blocks becomes
    /// `p + (o1 + o2)` with the sum in 64 bits (exact: the same address),
    /// so that when the offsets are loop invariants and `p` is not (a
    /// pointer block rebuilt from a loop's scalar base) one 64-bit offset
    /// per element is kept across the loop instead of two.
    fn add_ptr(&mut self, operands: &[Value], ins: &[String], pt_ty: &Type, ot: &Type) -> Result<String, CodegenError> {
        let Elem::Ptr(s) = pt_ty.elem else {
            return Err(internal("addptr on non-pointers"));
        };
        let (pt, it) = (self.mty(pt_ty), self.mty(ot));
        let f = self.f;
        if let tritonc_ir::ValueDef::Result(inner_op, 0) = f.value(operands[0]).def {
            let d = f.op(inner_op);
            let same = matches!(d.kind, OpKind::AddPtr) && f.ty(d.operands[1]) == ot;
            if same && pt_ty.is_block() && ot.scalar_elem() == Some(ScalarType::I32) {
                let (p, a) = (self.name(d.operands[0])?, self.name(d.operands[1])?);
                let wt = format!("vector<{}xi64>", self.layout(ot).per_lane());
                let a64 = self.def(&format!("arith.extsi {a} : {it} to {wt}"));
                let b64 = self.def(&format!("arith.extsi {} : {it} to {wt}", ins[1]));
                let sum = self.def(&format!("arith.addi {a64}, {b64} : {wt}"));
                return Ok(self.def(&format!(
                    "llvm.getelementptr {p}[{sum}] : ({pt}, {wt}) -> {pt}, {}",
                    mem_ty(s)
                )));
            }
        }
        Ok(self.def(&format!(
            "llvm.getelementptr {}[{}] : ({pt}, {it}) -> {pt}, {}",
            ins[0],
            ins[1],
            mem_ty(s)
        )))
    }

    fn make_range(&mut self, t: &Type, start: i32) -> String {
        let lay = self.layout(t);
        let k = lay.per_lane();
        let vty = format!("vector<{k}xi32>");
        let idx = if self.lanes == 1 {
            let s = self.def(&format!("vector.step : vector<{k}xindex>"));
            self.def(&format!("arith.index_cast {s} : vector<{k}xindex> to {vty}"))
        } else {
            // Element index = lane * spt + c[r], wrapped when replicated.
            let lane = self.lane();
            let spt = self.def(&format!("arith.constant {} : i32", lay.spt));
            let base = self.def(&format!("arith.muli {lane}, {spt} : i32"));
            let basev = self.def(&format!("vector.broadcast {base} : i32 to {vty}"));
            let offsets: Vec<String> = (0..k)
                .map(|r| {
                    let s = lay.spt;
                    ((r / s) * lay.lanes * s + r % s).to_string()
                })
                .collect();
            let c = self.def(&format!("arith.constant dense<[{}]> : {vty}", offsets.join(", ")));
            let mut e = self.def(&format!("arith.addi {basev}, {c} : {vty}"));
            if lay.replicated() {
                let m = self.splat_const(&(lay.n - 1).to_string(), &vty);
                e = self.def(&format!("arith.andi {e}, {m} : {vty}"));
            }
            e
        };
        if start == 0 {
            idx
        } else {
            let s = self.splat_const(&start.to_string(), &vty);
            self.def(&format!("arith.addi {idx}, {s} : {vty}"))
        }
    }

    /// `start +` every element's coordinate along `axis` of block type `t`,
    /// computed from the element's flat index (no data moves).
    fn range_along(&mut self, t: &Type, lay: RegisterLayout, axis: usize, start: i32) -> String {
        let flat = self.flat_indices(lay);
        let k = lay.per_lane();
        let vi = format!("vector<{k}xi32>");
        let inner: u64 = t.shape[axis + 1..].iter().map(|d| u64::from(*d)).product();
        let mut e = flat;
        if inner > 1 {
            let sh = self.splat_const(&inner.trailing_zeros().to_string(), &vi);
            e = self.def(&format!("arith.shrui {e}, {sh} : {vi}"));
        }
        if axis > 0 {
            let m = self.splat_const(&(t.shape[axis] - 1).to_string(), &vi);
            e = self.def(&format!("arith.andi {e}, {m} : {vi}"));
        }
        if start != 0 {
            let s = self.splat_const(&start.to_string(), &vi);
            e = self.def(&format!("arith.addi {e}, {s} : {vi}"));
        }
        e
    }

    /// `out[e] = in[src(e)]` for every element: data movement between
    /// elements (broadcasts, transpositions). With one lane this is a
    /// shuffle of the block's vector; with many, the block goes through
    /// shared memory.
    fn move_elements(
        &mut self,
        x: &str,
        from: &Type,
        (to, to_layout): (&Type, RegisterLayout),
        src: &IndexMap,
    ) -> Result<String, CodegenError> {
        if self.lanes == 1 {
            let vt = self.mty(from);
            let idx: Vec<String> = (0..to.numel()).map(|e| src.apply(e).to_string()).collect();
            return Ok(self.def(&format!("vector.shuffle {x}, {x} [{}] : {vt}, {vt}", idx.join(", "))));
        }
        // With many lanes, the operand is in shared memory (Dist IR put a
        // conversion before this operation).
        let _ = x;
        let out_idx = self.flat_indices(to_layout);
        let k = to_layout.per_lane();
        let vi = format!("vector<{k}xi32>");
        let src_idx = self.emit_index_map(&out_idx, &vi, src);
        // Register bits that only pick coordinates the map drops (the
        // broadcast dimensions): registers differing in them read the
        // same element, so each distinct one is read once.
        let bits = u64::from(to_layout.numel()).trailing_zeros();
        let repeated = (0..bits)
            .filter(|b| src.apply(1 << b) == src.apply(0))
            .filter_map(|b| match to_layout.index_bit(b) {
                IndexBit::Register(q) => Some(1u32 << q),
                IndexBit::Lane(_) => None,
            })
            .fold(0, |m, q| m | q);
        if repeated == 0 || to.scalar_elem().is_some_and(ScalarType::is_bool) {
            return self.gather_shared(&src_idx, to);
        }
        let classes: Vec<u32> = (0..k).map(|r| r & !repeated).collect();
        let (lds, pty) = self.shared()?;
        let mt = self.mem_elem(to);
        let align = self.mem_bytes(to);
        let mut read: HashMap<u32, String> = HashMap::new();
        for &c in &classes {
            if read.contains_key(&c) {
                continue;
            }
            let i = self.def(&format!("vector.extract {src_idx}[{c}] : i32 from {vi}"));
            let p = self.def(&format!("llvm.getelementptr {lds}[{i}] : ({pty}, i32) -> {pty}, {mt}"));
            let v = self.def(&format!("llvm.load {p} {{alignment = {align} : i64}} : {pty} -> {mt}"));
            read.insert(c, v);
        }
        let regs: Vec<String> = classes
            .iter()
            .map(|c| read.get(c).cloned().ok_or_else(|| internal("missing register class")))
            .collect::<Result<_, _>>()?;
        let vt = format!("vector<{k}x{mt}>");
        Ok(self.def(&format!("vector.from_elements {} : {vt}", regs.join(", "))))
    }

    /// Emits `src(e)` for a vector of flat indices `e`, with shifts and
    /// masks (every dimension is a power of two).
    fn emit_index_map(&mut self, e: &str, vi: &str, map: &IndexMap) -> String {
        let mut acc = self.splat_const("0", vi);
        for (out_stride, out_dim, in_stride) in map.terms() {
            let sh = self.splat_const(&out_stride.trailing_zeros().to_string(), vi);
            let c = self.def(&format!("arith.shrui {e}, {sh} : {vi}"));
            let m = self.splat_const(&(out_dim - 1).to_string(), vi);
            let c = self.def(&format!("arith.andi {c}, {m} : {vi}"));
            let sh2 = self.splat_const(&in_stride.trailing_zeros().to_string(), vi);
            let c = self.def(&format!("arith.shli {c}, {sh2} : {vi}"));
            acc = self.def(&format!("arith.ori {acc}, {c} : {vi}"));
        }
        acc
    }

    fn shared(&self) -> Result<(String, &'static str), CodegenError> {
        self.shared_mem
            .clone()
            .ok_or_else(|| internal("shared memory used but not allocated"))
    }

    /// Writes every element of block `x` to shared memory at its flat
    /// index, then waits for all lanes (a `tk.convert_layout`).
    fn write_shared(&mut self, x: &str, t: &Type) -> Result<(), CodegenError> {
        let (lds, _) = self.shared()?;
        self.scatter_shared(x, t, &lds)?;
        self.barrier();
        Ok(())
    }

    /// Writes every element of block `x` this lane holds to shared memory
    /// at `lds` plus its flat index (no barrier).
    /// Writes the `[rows, cols]` block `x` to shared memory at `base`,
    /// element `(r, c)` at `r * row + c`, or with `transposed` at
    /// `c * row + r`. A lane's runs of contiguous elements within a row
    /// become one vector store each (not transposed) or stores at constant
    /// distances from one address (transposed).
    fn scatter_rows(
        &mut self,
        x: &str,
        (t, lay): (&Type, RegisterLayout),
        base: &str,
        row: u32,
        transposed: bool,
    ) -> Result<(), CodegenError> {
        let (_, pty) = self.shared()?;
        let mt = self.mem_elem(t);
        let cols = match t.shape[..] {
            [_, c] => c,
            _ => return Err(internal("staging a non-matrix")),
        };
        let k = lay.per_lane();
        // Runs of contiguous elements (a blocked layout's `spt`; in a
        // matrix layout, the registers whose bits are the lowest index
        // bits) stay within a row when rows hold whole runs.
        let run = match lay {
            RegisterLayout::Blocked(b) => b.spt,
            RegisterLayout::Matrix(_) => {
                let low = (0..cols.trailing_zeros())
                    .take_while(|b| lay.index_bit(*b) == IndexBit::Register(*b))
                    .count();
                1 << low
            }
        };
        let run = if cols.is_multiple_of(run) { run } else { 1 };
        let idx = self.flat_indices(lay);
        let (vi, vt) = (format!("vector<{k}xi32>"), format!("vector<{k}x{mt}>"));
        let c = |e: &mut Self, v: u32| e.splat_const(&v.to_string(), "i32");
        let (cols_c, row_c) = (c(self, cols), c(self, row));
        let bytes = self.mem_bytes(t);
        for g in 0..k / run {
            let first = self.def(&format!("vector.extract {idx}[{}] : i32 from {vi}", g * run));
            let r = self.def(&format!("arith.divui {first}, {cols_c} : i32"));
            let col = self.def(&format!("arith.remui {first}, {cols_c} : i32"));
            let (major, minor) = if transposed { (col, r) } else { (r, col) };
            let at = self.def(&format!("arith.muli {major}, {row_c} : i32"));
            let at = self.def(&format!("arith.addi {at}, {minor} : i32"));
            let p = self.def(&format!(
                "llvm.getelementptr {base}[{at}] : ({pty}, i32) -> {pty}, {mt}"
            ));
            if transposed || run == 1 {
                for i in 0..run {
                    let q = self.def(&format!(
                        "llvm.getelementptr {p}[{}] : ({pty}) -> {pty}, {mt}",
                        i * if transposed { row } else { 1 }
                    ));
                    let v = self.def(&format!("vector.extract {x}[{}] : {mt} from {vt}", g * run + i));
                    self.line(&format!("llvm.store {v}, {q} : {mt}, {pty}"));
                }
            } else {
                let gt = format!("vector<{run}x{mt}>");
                let v = self.def(&format!(
                    "vector.extract_strided_slice {x} {{offsets = [{}], sizes = [{run}], strides = [1]}} : {vt} to {gt}",
                    g * run
                ));
                // Runs start at multiples of their size within a row.
                let align = 1u32 << ((row * bytes) | (run * bytes)).trailing_zeros();
                self.line(&format!(
                    "llvm.store {v}, {p} {{alignment = {align} : i64}} : {gt}, {pty}"
                ));
            }
        }
        Ok(())
    }

    fn scatter_shared(&mut self, x: &str, t: &Type, lds: &str) -> Result<(), CodegenError> {
        let (_, pty) = self.shared()?;
        let mt = self.mem_elem(t);
        let k = self.layout(t).per_lane();
        let idx = self.make_range(&Type::block(Elem::Scalar(ScalarType::I32), vec![t.numel() as u32]), 0);
        let vi = format!("vector<{k}xi32>");
        let pv = format!("vector<{k}x{pty}>");
        let vt = format!("vector<{k}x{mt}>");
        let val = if t.scalar_elem().is_some_and(ScalarType::is_bool) {
            self.def(&format!("arith.extui {x} : vector<{k}xi1> to {vt}"))
        } else {
            x.to_string()
        };
        let align = self.mem_bytes(t);
        let lay = self.layout(t);
        if self.lanes > 1 && lay.spt > 1 {
            // Each run of `spt` registers is contiguous in the block: one
            // vector store per run (`ds_write_b128` for 16 bytes).
            let spt = lay.spt;
            let gt = format!("vector<{spt}x{mt}>");
            for g in 0..k / spt {
                let first = self.def(&format!("vector.extract {idx}[{}] : i32 from {vi}", g * spt));
                let p = self.def(&format!(
                    "llvm.getelementptr {lds}[{first}] : ({pty}, i32) -> {pty}, {mt}"
                ));
                let run = self.def(&format!(
                    "vector.extract_strided_slice {val} {{offsets = [{}], sizes = [{spt}], strides = [1]}} : {vt} to {gt}",
                    g * spt
                ));
                self.line(&format!(
                    "llvm.store {run}, {p} {{alignment = {} : i64}} : {gt}, {pty}",
                    align * spt
                ));
            }
            return Ok(());
        }
        let ptrs = self.def(&format!(
            "llvm.getelementptr {lds}[{idx}] : ({pty}, {vi}) -> {pv}, {mt}"
        ));
        let all = self.splat_const("true", &format!("vector<{k}xi1>"));
        self.line(&format!(
            "llvm.intr.masked.scatter {val}, {ptrs}, {all} {{alignment = {align} : i32}} : {vt}, vector<{k}xi1> into {pv}"
        ));
        Ok(())
    }

    /// Reads the elements at flat indices `idx` (one per register) of the
    /// block in shared memory, as a value of type `to`.
    fn gather_shared(&mut self, idx: &str, to: &Type) -> Result<String, CodegenError> {
        let (lds, pty) = self.shared()?;
        let mt = self.mem_elem(to);
        let k = self.layout(to).per_lane();
        let vi = format!("vector<{k}xi32>");
        let pv = format!("vector<{k}x{pty}>");
        let ptrs = self.def(&format!(
            "llvm.getelementptr {lds}[{idx}] : ({pty}, {vi}) -> {pv}, {mt}"
        ));
        let vt = format!("vector<{k}x{mt}>");
        let all = self.splat_const("true", &format!("vector<{k}xi1>"));
        let zero = match to.elem {
            // Pointers have no `arith` zero; use the null pointer.
            Elem::Ptr(_) => {
                let null = self.def(&format!("llvm.mlir.zero : {mt}"));
                self.def(&format!("vector.broadcast {null} : {mt} to {vt}"))
            }
            Elem::Scalar(s) => self.splat_const(if s.is_float() { "0.0" } else { "0" }, &vt),
        };
        let align = self.mem_bytes(to);
        let r = self.def(&format!(
            "llvm.intr.masked.gather {ptrs}, {all}, {zero} {{alignment = {align} : i32}} : ({pv}, vector<{k}xi1>, {vt}) -> {vt}"
        ));
        if to.scalar_elem().is_some_and(ScalarType::is_bool) {
            let z = self.splat_const("0", &vt);
            return Ok(self.def(&format!("arith.cmpi ne, {r}, {z} : {vt}")));
        }
        Ok(r)
    }

    fn barrier(&mut self) {
        self.lds_pending = [false; 2];
        self.next += 1;
        let text = self.target.barrier(&format!("bar{}", self.next));
        for l in text.lines() {
            self.line(l);
        }
    }

    /// How an element of `t` is stored in memory (MLIR type).
    fn mem_elem(&self, t: &Type) -> String {
        match t.elem {
            Elem::Scalar(s) => mem_ty(s).to_string(),
            Elem::Ptr(_) => self.target.global_ptr().to_string(),
        }
    }

    fn mem_bytes(&self, t: &Type) -> u32 {
        match t.elem {
            Elem::Scalar(s) => s.bytes(),
            Elem::Ptr(_) => 8,
        }
    }

    /// `acc + a @ b` (`ins` = a, b, acc), each output a chain of fused
    /// multiply-adds in increasing `k`, as the language defines it. With
    /// one lane: through stack memory, a row of outputs at a time as one
    /// vector, in a loop over `k`. With many: `a` and `b` are staged in
    /// shared memory (both at once) and every lane computes the outputs it
    /// holds, in a loop over `k`. This is the general path, correct on
    /// every target; dots in a matrix layout go to `matrix_dot` instead.
    fn dot(&mut self, ins: &[String], at: &Type, bt: &Type, out: &Type) -> Result<String, CodegenError> {
        let (sa, so) = (
            at.scalar_elem().ok_or_else(|| internal("dot of pointers"))?,
            out.scalar_elem().ok_or_else(|| internal("dot of pointers"))?,
        );
        let (k, n) = match (&at.shape[..], &bt.shape[..]) {
            ([_, k], [_, n]) => (*k, *n),
            _ => return Err(internal("dot of non-matrices")),
        };
        let (ein, eout) = (sty(sa), sty(so));
        // `s + x * y` (one fused multiply-add for floats, wrapping for
        // integers) of inputs of type `tin` into the accumulator's `tout`
        // (scalars or vectors of the dot's element types).
        let step = |e: &mut Self, x: &str, y: &str, s: &str, tin: &str, tout: &str| -> String {
            if so.is_float() {
                let (x, y) = if sa == so {
                    (x.to_string(), y.to_string())
                } else {
                    (
                        e.def(&format!("arith.extf {x} : {tin} to {tout}")),
                        e.def(&format!("arith.extf {y} : {tin} to {tout}")),
                    )
                };
                e.def(&format!("math.fma {x}, {y}, {s} : {tout}"))
            } else {
                let x = e.def(&format!("arith.extsi {x} : {tin} to {tout}"));
                let y = e.def(&format!("arith.extsi {y} : {tin} to {tout}"));
                let p = e.def(&format!("arith.muli {x}, {y} : {tout}"));
                e.def(&format!("arith.addi {s}, {p} : {tout}"))
            }
        };
        let c = |e: &mut Self, v: u64| e.splat_const(&v.to_string(), "i32");
        let (zero, one, kc) = (c(self, 0), c(self, 1), c(self, u64::from(k)));
        let (log_k, log_n, n_mask) = (
            c(self, u64::from(k.trailing_zeros())),
            c(self, u64::from(n.trailing_zeros())),
            c(self, u64::from(n - 1)),
        );
        let ot = self.mty(out);
        if self.lanes == 1 {
            // Through stack memory: dynamic indexing of long vectors makes
            // LLVM's code generators slow.
            let scratch = self.host_scratch();
            let (b_offset, c_offset) = dot_staging(at, bt);
            let c_offset = c_offset.div_ceil(16) * 16;
            let pty = "!llvm.ptr";
            let (avt, bvt) = (self.mty(at), self.mty(bt));
            let a_base = scratch.clone();
            let b_base = self.def(&format!(
                "llvm.getelementptr {scratch}[{b_offset}] : ({pty}) -> {pty}, i8"
            ));
            let c_base = self.def(&format!(
                "llvm.getelementptr {scratch}[{c_offset}] : ({pty}) -> {pty}, i8"
            ));
            // Explicit alignment: a long vector's natural one is its size.
            self.line(&format!(
                "llvm.store {}, {a_base} {{alignment = 16 : i64}} : {avt}, {pty}",
                ins[0]
            ));
            self.line(&format!(
                "llvm.store {}, {b_base} {{alignment = 16 : i64}} : {bvt}, {pty}",
                ins[1]
            ));
            self.line(&format!(
                "llvm.store {}, {c_base} {{alignment = 16 : i64}} : {ot}, {pty}",
                ins[2]
            ));
            // Row by row of the result, vectorized across its columns:
            // `c[i, :] = fma(a[i, k], b[k, :], c[i, :])` for k = 0, 1, ..,
            // so each output still adds its products in increasing `k`.
            let rows = c(self, u64::from(out.shape[0]));
            let (vin, vout) = (format!("vector<{n}x{ein}>"), format!("vector<{n}x{eout}>"));
            let (align_in, align_out) = (sa.bytes(), so.bytes());
            let i = self.fresh();
            self.line(&format!("\"scf.for\"({zero}, {rows}, {one}) ({{"));
            self.line(&format!("^bb0({i}: i32):"));
            self.indent += 1;
            let first = self.def(&format!("arith.shli {i}, {log_n} : i32"));
            let cp = self.def(&format!(
                "llvm.getelementptr {c_base}[{first}] : ({pty}, i32) -> {pty}, {eout}"
            ));
            let row0 = self.def(&format!(
                "llvm.load {cp} {{alignment = {align_out} : i64}} : {pty} -> {vout}"
            ));
            let a_row = self.def(&format!("arith.shli {i}, {log_k} : i32"));
            let (kk, acc, sum) = (self.fresh(), self.fresh(), self.fresh());
            self.line(&format!("{sum} = \"scf.for\"({zero}, {kc}, {one}, {row0}) ({{"));
            self.line(&format!("^bb0({kk}: i32, {acc}: {vout}):"));
            self.indent += 1;
            let ai = self.def(&format!("arith.addi {a_row}, {kk} : i32"));
            let ap = self.def(&format!(
                "llvm.getelementptr {a_base}[{ai}] : ({pty}, i32) -> {pty}, {ein}"
            ));
            let x = self.def(&format!("llvm.load {ap} : {pty} -> {ein}"));
            let xs = self.def(&format!("vector.broadcast {x} : {ein} to {vin}"));
            let bk = self.def(&format!("arith.shli {kk}, {log_n} : i32"));
            let bp = self.def(&format!(
                "llvm.getelementptr {b_base}[{bk}] : ({pty}, i32) -> {pty}, {ein}"
            ));
            let y = self.def(&format!(
                "llvm.load {bp} {{alignment = {align_in} : i64}} : {pty} -> {vin}"
            ));
            let next = step(self, &xs, &y, &acc, &vin, &vout);
            self.line(&format!("\"scf.yield\"({next}) : ({vout}) -> ()"));
            self.indent -= 1;
            self.line(&format!("}}) : (i32, i32, i32, {vout}) -> {vout}"));
            self.line(&format!(
                "llvm.store {sum}, {cp} {{alignment = {align_out} : i64}} : {vout}, {pty}"
            ));
            self.line("\"scf.yield\"() : () -> ()");
            self.indent -= 1;
            self.line("}) : (i32, i32, i32) -> ()");
            return Ok(self.def(&format!("llvm.load {c_base} {{alignment = 16 : i64}} : {pty} -> {ot}")));
        }
        let (lds, pty, b_base) = self.stage_dot_operands(ins, at, bt)?;
        let regs = self.layout(out).per_lane();
        let idx = self.make_range(&Type::block(Elem::Scalar(ScalarType::I32), vec![out.numel() as u32]), 0);
        let vi = format!("vector<{regs}xi32>");
        // Per register: where its row of `a` and its column of `b` start.
        let mut rows = Vec::new();
        let mut cols = Vec::new();
        for r in 0..regs {
            let o = self.def(&format!("vector.extract {idx}[{r}] : i32 from {vi}"));
            let i = self.def(&format!("arith.shrui {o}, {log_n} : i32"));
            rows.push(self.def(&format!("arith.shli {i}, {log_k} : i32")));
            cols.push(self.def(&format!("arith.andi {o}, {n_mask} : i32")));
        }
        let (kk, res, r) = (self.fresh(), self.fresh(), self.fresh());
        self.line(&format!("{r} = \"scf.for\"({zero}, {kc}, {one}, {}) ({{", ins[2]));
        self.line(&format!("^bb0({kk}: i32, {res}: {ot}):"));
        self.indent += 1;
        let bk = self.def(&format!("arith.shli {kk}, {log_n} : i32"));
        let mut acc = res.clone();
        for reg in 0..regs as usize {
            let ai = self.def(&format!("arith.addi {}, {kk} : i32", rows[reg]));
            let ap = self.def(&format!(
                "llvm.getelementptr {lds}[{ai}] : ({pty}, i32) -> {pty}, {ein}"
            ));
            let x = self.def(&format!("llvm.load {ap} : {pty} -> {ein}"));
            let bi = self.def(&format!("arith.addi {bk}, {} : i32", cols[reg]));
            let bp = self.def(&format!(
                "llvm.getelementptr {b_base}[{bi}] : ({pty}, i32) -> {pty}, {ein}"
            ));
            let y = self.def(&format!("llvm.load {bp} : {pty} -> {ein}"));
            let s = self.def(&format!("vector.extract {acc}[{reg}] : {eout} from {ot}"));
            let next = step(self, &x, &y, &s, ein, eout);
            acc = self.def(&format!("vector.insert {next}, {acc} [{reg}] : {eout} into {ot}"));
        }
        self.line(&format!("\"scf.yield\"({acc}) : ({ot}) -> ()"));
        self.indent -= 1;
        self.line(&format!("}}) : (i32, i32, i32, {ot}) -> {ot}"));
        self.lds_pending = [true; 2];
        Ok(r)
    }

    /// The layout Dist IR gives `v`.
    fn value_layout(&self, v: Value) -> Option<Layout> {
        self.f.layouts.as_ref().and_then(|l| l.get(&v)).copied()
    }

    /// The registers-only layout block value `v` is held in: its matrix
    /// layout, its slice's parent, or the blocked layout of its type.
    fn register_layout(&self, v: Value) -> RegisterLayout {
        match self.value_layout(v).and_then(|l| l.registers()) {
            Some(r) if self.lanes > 1 => r,
            _ => RegisterLayout::Blocked(self.layout(self.f.ty(v))),
        }
    }

    /// For a broadcast of a compact slice value (`from`) back into the
    /// matrix layout it is a slice of (`to`'s): that layout and the axis.
    fn slice_into_parent(&self, from: Value, to: Value) -> Option<(MatrixLayout, u32)> {
        match (self.value_layout(from)?, self.value_layout(to)?) {
            (
                Layout::Slice {
                    parent: RegisterLayout::Matrix(p),
                    dim,
                },
                Layout::Matrix(m),
            ) if p == m && tritonc_passes::layouts::broadcast_of_reduction(self.f, self.f.def_op(to)?).is_none() => {
                Some((m, dim))
            }
            _ => None,
        }
    }

    /// The register bits of matrix layout `m` that hold coordinates along
    /// `dim` (the bits a slice along `dim` folds).
    fn axis_register_bits(m: MatrixLayout, dim: u32) -> u32 {
        let (col_bits, row_bits) = (m.n.trailing_zeros(), m.m.trailing_zeros());
        let axis = if dim == 1 {
            0..col_bits
        } else {
            col_bits..col_bits + row_bits
        };
        axis.filter_map(|b| match m.index_bit(b) {
            IndexBit::Register(q) => Some(1u32 << q),
            IndexBit::Lane(_) => None,
        })
        .fold(0, |a, q| a | q)
    }

    /// Which compact register of a slice along `dim` of `m` parent
    /// register `r` reads: `r` with the axis's register bits removed.
    fn compact_index(r: u32, axis_bits: u32) -> u32 {
        let (mut out, mut at) = (0, 0);
        for q in 0..32 {
            if axis_bits & (1 << q) == 0 {
                out |= ((r >> q) & 1) << at;
                at += 1;
            }
        }
        out
    }

    /// A compact slice value broadcast back into its parent matrix layout:
    /// every register takes its row's value (a register shuffle).
    fn broadcast_slice(&mut self, x: &str, from: &Type, to: &Type, m: MatrixLayout, dim: u32) -> String {
        let axis_bits = Self::axis_register_bits(m, dim);
        let idx: Vec<String> = (0..m.per_lane())
            .map(|r| Self::compact_index(r, axis_bits).to_string())
            .collect();
        let (ft, _) = (self.mty(from), self.mty(to));
        self.def(&format!("vector.shuffle {x}, {x} [{}] : {ft}, {ft}", idx.join(", ")))
    }

    /// A compact slice value to the blocked layout of its type, through
    /// shared memory: every lane writes its rows' values at their index
    /// (lanes holding the same row write the same value), then reads what
    /// the blocked layout gives it.
    fn convert_slice(&mut self, x: &str, from: Value, t: &Type, to: &Type) -> Result<String, CodegenError> {
        let Some(Layout::Slice {
            parent: RegisterLayout::Matrix(m),
            dim,
        }) = self.value_layout(from)
        else {
            return Err(internal("not a slice of a matrix layout"));
        };
        let axis_bits = Self::axis_register_bits(m, dim);
        let flat = self.matrix_indices(m);
        let k = m.per_lane();
        let (lds, pty) = self.shared()?;
        let mt = self.mem_elem(t);
        let et = self.mty(&Type::block(t.elem, Vec::new()));
        let ct = self.mty(t);
        let is_bool = t.scalar_elem().is_some_and(ScalarType::is_bool);
        self.barrier();
        let mut done = std::collections::HashSet::new();
        for r in 0..k {
            let c = Self::compact_index(r, axis_bits);
            if !done.insert(c) {
                continue;
            }
            let e = self.def(&format!("vector.extract {flat}[{r}] : i32 from vector<{k}xi32>"));
            // The element's index in the reduced block: the axis removed.
            let at = if dim == 1 {
                let sh = self.const_i32(m.n.trailing_zeros());
                self.def(&format!("arith.shrui {e}, {sh} : i32"))
            } else {
                let mask = self.const_i32(m.n - 1);
                self.def(&format!("arith.andi {e}, {mask} : i32"))
            };
            let v = self.def(&format!("vector.extract {x}[{c}] : {et} from {ct}"));
            let v = if is_bool {
                self.def(&format!("arith.extui {v} : i1 to {mt}"))
            } else {
                v
            };
            let p = self.def(&format!("llvm.getelementptr {lds}[{at}] : ({pty}, i32) -> {pty}, {mt}"));
            self.line(&format!("llvm.store {v}, {p} : {mt}, {pty}"));
        }
        self.barrier();
        let idx = self.make_range(&Type::block(Elem::Scalar(ScalarType::I32), vec![to.numel() as u32]), 0);
        let r = self.gather_shared(&idx, to)?;
        self.lds_pending = [true; 2];
        Ok(r)
    }

    /// This lane's flat element indices (one per register) in `lay`, as a
    /// `vector<K x i32>`.
    fn flat_indices(&mut self, lay: RegisterLayout) -> String {
        match lay {
            RegisterLayout::Matrix(m) => self.matrix_indices(m),
            RegisterLayout::Blocked(b) => self.make_range(&Type::block(Elem::Scalar(ScalarType::I32), vec![b.n]), 0),
        }
    }

    /// This lane's flat element indices (one per register) in a matrix
    /// layout, as a `vector<K x i32>`.
    fn matrix_indices(&mut self, m: MatrixLayout) -> String {
        let k = m.per_lane();
        let fam = m.family();
        let (t, regs) = (fam.tile(), fam.regs());
        let c = |e: &mut Self, v: u32| e.splat_const(&v.to_string(), "i32");
        let (wm, wn, h, j) = self.matrix_lane(m);
        // row0 = wm * tiles_m * T + row_of_half(h); col0 = wn * tiles_n * T + j
        // (transposed tiles: the lane's part of the row and the column swap).
        let rows_per_wave = c(self, m.tiles_m() * t);
        let cols_per_wave = c(self, m.tiles_n() * t);
        let half_rows = c(self, fam.row_of_half(1));
        let r0 = self.def(&format!("arith.muli {wm}, {rows_per_wave} : i32"));
        let hr = self.def(&format!("arith.muli {h}, {half_rows} : i32"));
        let (in_row, in_col) = if m.transposed { (j, hr) } else { (hr, j) };
        let row0 = self.def(&format!("arith.addi {r0}, {in_row} : i32"));
        let c0 = self.def(&format!("arith.muli {wn}, {cols_per_wave} : i32"));
        let col0 = self.def(&format!("arith.addi {c0}, {in_col} : i32"));
        let n = c(self, m.n);
        let rn = self.def(&format!("arith.muli {row0}, {n} : i32"));
        let base = self.def(&format!("arith.addi {rn}, {col0} : i32"));
        let vty = format!("vector<{k}xi32>");
        let basev = self.def(&format!("vector.broadcast {base} : i32 to {vty}"));
        let offsets: Vec<String> = (0..k)
            .map(|reg| {
                let (tile, r) = (reg / regs, reg % regs);
                let (tm, tn) = (tile / m.tiles_n(), tile % m.tiles_n());
                if m.transposed {
                    (tm * t * m.n + tn * t + fam.row_of_reg(r)).to_string()
                } else {
                    ((tm * t + fam.row_of_reg(r)) * m.n + tn * t).to_string()
                }
            })
            .collect();
        let cv = self.def(&format!("arith.constant dense<[{}]> : {vty}", offsets.join(", ")));
        self.def(&format!("arith.addi {basev}, {cv} : {vty}"))
    }

    /// A conversion into or out of a matrix layout, through shared memory:
    /// every lane writes what it holds at the elements' flat indices, then
    /// reads what the other layout gives it.
    fn convert_matrix(&mut self, x: &str, from: Value, to: Value, t: &Type) -> Result<String, CodegenError> {
        let (lds, pty) = self.shared()?;
        let mt = self.mem_elem(t);
        let from_idx = match self.value_layout(from) {
            Some(Layout::Matrix(m)) => self.matrix_indices(m),
            _ => self.make_range(&Type::block(Elem::Scalar(ScalarType::I32), vec![t.numel() as u32]), 0),
        };
        let to_idx = match self.value_layout(to) {
            Some(Layout::Matrix(m)) => self.matrix_indices(m),
            _ => self.make_range(&Type::block(Elem::Scalar(ScalarType::I32), vec![t.numel() as u32]), 0),
        };
        let k = self.layout(t).per_lane();
        let (vi, pv, vt, vm) = (
            format!("vector<{k}xi32>"),
            format!("vector<{k}x{pty}>"),
            format!("vector<{k}x{mt}>"),
            format!("vector<{k}xi1>"),
        );
        let align = self.mem_bytes(t);
        self.barrier();
        let ptrs = self.def(&format!(
            "llvm.getelementptr {lds}[{from_idx}] : ({pty}, {vi}) -> {pv}, {mt}"
        ));
        let all = self.splat_const("true", &vm);
        self.line(&format!(
            "llvm.intr.masked.scatter {x}, {ptrs}, {all} {{alignment = {align} : i32}} : {vt}, {vm} into {pv}"
        ));
        self.barrier();
        let src = self.def(&format!(
            "llvm.getelementptr {lds}[{to_idx}] : ({pty}, {vi}) -> {pv}, {mt}"
        ));
        let zero = self.def(&format!("llvm.mlir.zero : {vt}"));
        let r = self.def(&format!(
            "llvm.intr.masked.gather {src}, {all}, {zero} {{alignment = {align} : i32}} : ({pv}, {vm}, {vt}) -> {vt}"
        ));
        self.lds_pending = [true; 2];
        Ok(r)
    }

    /// `acc + a @ b` with matrix instructions, the accumulator (`ins[2]`,
    /// already in `m`'s layout or a splat) and the result in matrix layout
    /// `m`. Both operands are staged in shared memory; at each step of the
    /// instruction's `k`, every wave reads the fragments of its tiles (a
    /// row of `a` as one contiguous read per lane, a column of `b` element
    /// by element) and issues one instruction per tile.
    fn matrix_dot(
        &mut self,
        op: OpId,
        ins: &[String],
        at: &Type,
        bt: &Type,
        out: &Type,
        m: MatrixLayout,
    ) -> Result<String, CodegenError> {
        let sa = at.scalar_elem().ok_or_else(|| internal("dot of pointers"))?;
        let k = match (&at.shape[..], &bt.shape[..]) {
            ([_, k], [_, _]) => *k,
            _ => return Err(internal("dot of non-matrices")),
        };
        let (fam, ik) = (m.family(), m.instr.k);
        let (t, regs, len) = (fam.tile(), fam.regs(), fam.fragment(ik));
        let e = sty(sa);
        let acc_ty = if sa.is_float() { "f32" } else { "i32" };
        let staging = matrix_staging(at, bt, m).ok_or_else(|| internal("dot of non-matrices"))?;
        let (lds, pty, b_base) = match self.staged.remove(&op) {
            Some(staged) => staged,
            None => {
                let d = self.f.op(op);
                let lays = [self.register_layout(d.operands[0]), self.register_layout(d.operands[1])];
                self.stage_matrix_operands(ins, (at, bt), lays, staging)?
            }
        };
        let scratch = self.def(&format!(
            "llvm.getelementptr {lds}[{}] : ({pty}) -> {pty}, i8",
            staging.end
        ));
        let lane = self.lane();
        let c = |s: &mut Self, v: u32| s.splat_const(&v.to_string(), "i32");
        let (wm, wn, h, li) = self.matrix_lane(m);
        // The first `k` of this lane's fragments.
        let half_k = c(self, fam.fragment_k(t, ik));
        let lk = self.def(&format!("arith.muli {h}, {half_k} : i32"));
        let (tiles_m, tiles_n) = (m.tiles_m(), m.tiles_n());
        let rows_c = c(self, tiles_m * t);
        let cols_c = c(self, tiles_n * t);
        let wrow = self.def(&format!("arith.muli {wm}, {rows_c} : i32"));
        let wcol = self.def(&format!("arith.muli {wn}, {cols_c} : i32"));
        // Where this lane's fragments start, per tile: its row of `a`
        // and its column of `b` (a row of the transposed copy), times the
        // padded row length, plus its first `k`.
        let starts = |s: &mut Self, wave_first: &str, tiles: u32, row: u32| -> Vec<String> {
            let row = c(s, row);
            (0..tiles)
                .map(|tile| {
                    let tc = c(s, tile * t);
                    let r = s.def(&format!("arith.addi {wave_first}, {tc} : i32"));
                    let r = s.def(&format!("arith.addi {r}, {li} : i32"));
                    let rk = s.def(&format!("arith.muli {r}, {row} : i32"));
                    s.def(&format!("arith.addi {rk}, {lk} : i32"))
                })
                .collect()
        };
        let a_rows = starts(self, &wrow, tiles_m, staging.a_row);
        let b_cols = starts(self, &wcol, tiles_n, staging.b_row);
        let ot = self.mty(out);
        let mut acc = ins[2].clone();
        let vf = format!("vector<{len}x{e}>");
        let tile_ty = format!("vector<{regs}x{acc_ty}>");
        // Fragments start at multiples of their size within a row; rows
        // at multiples of the padded row's bytes.
        let frag_bytes = len * sa.bytes();
        let align = |row: u32| (1u32 << ((row * sa.bytes()) | frag_bytes).trailing_zeros()).min(16);
        let (a_align, b_align) = (align(staging.a_row), align(staging.b_row));
        // The fragment at `start + k0` of the operand staged at `base`.
        let fragment = |s: &mut Self, base: &str, start: &str, k0: u32, align: u32| -> String {
            let off = s.const_i32(k0);
            let at_k = s.def(&format!("arith.addi {start}, {off} : i32"));
            let p = s.def(&format!(
                "llvm.getelementptr {base}[{at_k}] : ({pty}, i32) -> {pty}, {e}"
            ));
            s.def(&format!("llvm.load {p} {{alignment = {align} : i64}} : {pty} -> {vf}"))
        };
        for k0 in (0..k).step_by(ik as usize) {
            let a_frags: Vec<String> = a_rows.iter().map(|r| fragment(self, &lds, r, k0, a_align)).collect();
            // One column fragment of `b` at a time, used by every row
            // tile before the next is read (fewer live registers).
            for (tn, start) in b_cols.iter().enumerate() {
                let b_frag = fragment(self, &b_base, start, k0, b_align);
                for (tm, a_frag) in a_frags.iter().enumerate() {
                    let first = (tm * tiles_n as usize + tn) * regs as usize;
                    let tile = self.def(&format!(
                        "vector.extract_strided_slice {acc} {{offsets = [{first}], sizes = [{regs}], strides = [1]}} : {ot} to {tile_ty}"
                    ));
                    self.next += 1;
                    let name = format!("mma{}", self.next);
                    // Transposed tiles: `b^T a^T`, the instruction's
                    // operands swapped.
                    let (first_op, second_op) = if m.transposed {
                        (b_frag.as_str(), a_frag.as_str())
                    } else {
                        (a_frag.as_str(), b_frag.as_str())
                    };
                    let code = self
                        .target
                        .matrix(&MatrixCall {
                            instr: m.instr,
                            elem: sa,
                            a: first_op,
                            b: second_op,
                            c: &tile,
                            out: &name,
                            lane: &lane,
                            scratch: &scratch,
                            scratch_ty: pty,
                        })
                        .ok_or_else(|| internal("matrix layout on a target without that instruction"))?;
                    for line in code.lines() {
                        self.line(line);
                    }
                    if self.target.exchanges_use_shared_memory() {
                        self.lds_pending = [true; 2];
                    }
                    acc = self.def(&format!(
                        "vector.insert_strided_slice %{name}, {acc} {{offsets = [{first}], strides = [1]}} : {tile_ty} into {ot}"
                    ));
                }
            }
        }
        self.lds_pending = [true; 2];
        Ok(acc)
    }

    /// Writes a matrix dot's operands to shared memory in `staging`'s
    /// layout, after the previous readers are done; gives the shared
    /// memory, its pointer type and `b`'s start.
    fn stage_matrix_operands(
        &mut self,
        ins: &[String],
        (at, bt): (&Type, &Type),
        [a_layout, b_layout]: [RegisterLayout; 2],
        staging: MatrixStaging,
    ) -> Result<(String, &'static str, String), CodegenError> {
        let (lds, pty) = self.shared()?;
        self.barrier();
        self.scatter_rows(&ins[0], (at, a_layout), &lds, staging.a_row, false)?;
        let b_base = self.def(&format!(
            "llvm.getelementptr {lds}[{}] : ({pty}) -> {pty}, i8",
            staging.b_offset
        ));
        self.scatter_rows(&ins[1], (bt, b_layout), &b_base, staging.b_row, true)?;
        self.barrier();
        Ok((lds, pty, b_base))
    }

    /// At the top of loop body `body`: stages the operands of its first
    /// matrix dot when they are carried values (or come from before the
    /// loop) and nothing before the dot uses shared memory. Software
    /// pipelining leaves a K loop in that form: the operands loaded by
    /// the previous iteration are written out before this iteration's
    /// loads are issued, so they are dead by then and the new loads can
    /// take their registers (no copies at the back edge).
    fn stage_early(&mut self, body: BlockId) -> Result<(), CodegenError> {
        let f = self.f;
        for &op in &f.block(body).ops {
            let d = f.op(op);
            let is_matrix_dot =
                matches!(d.kind, OpKind::Dot) && matches!(self.value_layout(d.results[0]), Some(Layout::Matrix(_)));
            if is_matrix_dot {
                let ready = d.operands[..2].iter().all(|v| match f.value(*v).def {
                    tritonc_ir::ValueDef::Arg(b, _) => b == body,
                    tritonc_ir::ValueDef::Result(def, _) => !f.block(body).ops.contains(&def),
                });
                let Some(Layout::Matrix(m)) = self.value_layout(d.results[0]) else {
                    return Ok(());
                };
                if ready {
                    let (at, bt) = (f.ty(d.operands[0]), f.ty(d.operands[1]));
                    let staging = matrix_staging(at, bt, m).ok_or_else(|| internal("dot of non-matrices"))?;
                    let ins = [self.name(d.operands[0])?, self.name(d.operands[1])?];
                    let lays = [self.register_layout(d.operands[0]), self.register_layout(d.operands[1])];
                    let staged = self.stage_matrix_operands(&ins, (at, bt), lays, staging)?;
                    self.staged.insert(op, staged);
                }
                return Ok(());
            }
            let uses_shared = !d.regions.is_empty()
                || matches!(d.kind, OpKind::Dot | OpKind::ConvertLayout)
                || tritonc_passes::layouts::moves_elements(f, op)
                || tritonc_passes::layouts::tree_reduction(f, op);
            if uses_shared {
                return Ok(());
            }
        }
        Ok(())
    }

    fn const_i32(&mut self, v: u32) -> String {
        self.splat_const(&v.to_string(), "i32")
    }

    /// Puts a dot's operands (`ins[0]`, `ins[1]`) in shared memory at the
    /// offsets [`dot_staging`] gives, after the previous readers are done;
    /// gives the shared memory, its pointer type and `b`'s start.
    fn stage_dot_operands(
        &mut self,
        ins: &[String],
        at: &Type,
        bt: &Type,
    ) -> Result<(String, &'static str, String), CodegenError> {
        let (lds, pty) = self.shared()?;
        let (b_offset, _) = dot_staging(at, bt);
        self.barrier();
        self.scatter_shared(&ins[0], at, &lds)?;
        let b_base = self.def(&format!("llvm.getelementptr {lds}[{b_offset}] : ({pty}) -> {pty}, i8"));
        self.scatter_shared(&ins[1], bt, &b_base)?;
        self.barrier();
        Ok((lds, pty, b_base))
    }

    /// This lane's place in a matrix layout: its wave's row and column in
    /// the wave grid, its half of the wave (`l / T`, `T` the tile) and its
    /// lane within the half (`l % T`).
    fn matrix_lane(&mut self, m: MatrixLayout) -> (String, String, String, String) {
        let lane = self.lane();
        let fam = m.family();
        let c = |e: &mut Self, v: u32| e.splat_const(&v.to_string(), "i32");
        let (wave_shift, lane_mask) = (c(self, fam.wave().trailing_zeros()), c(self, fam.wave() - 1));
        let (tile_shift, tile_mask) = (c(self, fam.tile().trailing_zeros()), c(self, fam.tile() - 1));
        let wave = self.def(&format!("arith.shrui {lane}, {wave_shift} : i32"));
        let l = self.def(&format!("arith.andi {lane}, {lane_mask} : i32"));
        let wn_c = c(self, m.waves_n);
        let wm = self.def(&format!("arith.divui {wave}, {wn_c} : i32"));
        let wn = self.def(&format!("arith.remui {wave}, {wn_c} : i32"));
        let h = self.def(&format!("arith.shrui {l}, {tile_shift} : i32"));
        let j = self.def(&format!("arith.andi {l}, {tile_mask} : i32"));
        (wm, wn, h, j)
    }

    /// A gather or scatter of `k` elements of memory type `mt` on the
    /// host, one element at a time in a loop: the pointers, elements and
    /// mask go to stack scratch first. Gives the gathered block.
    fn host_element_loop(&mut self, k: u32, ptrs: &str, mask: &str, s: ScalarType, access: HostAccess) -> String {
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
    fn host_scratch(&mut self) -> String {
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

    fn binary(&mut self, b: BinaryOp, t: &Type, x: &str, y: &str) -> Result<String, CodegenError> {
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
    fn int_divrem(&mut self, div: bool, unsigned: bool, ty: &str, x: &str, y: &str) -> String {
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

    fn cast(&mut self, x: &str, from: &Type, to: &Type) -> Result<String, CodegenError> {
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

    fn math(&mut self, m: MathFn, x: &str, t: &Type) -> Result<String, CodegenError> {
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

    /// `c[0] + x * (c[1] + x * (...))`.
    fn horner(&mut self, x: &str, coeffs: &[f64], s: ScalarType, ty: &str) -> String {
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
    fn tanh(&mut self, x: &str, s: ScalarType, ty: &str) -> String {
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
    fn erf(&mut self, x: &str, s: ScalarType, ty: &str) -> String {
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
    fn select(&mut self, c: &str, a: &str, b: &str, ty: &str) -> String {
        if ty.starts_with("vector<") {
            self.def(&format!("arith.select {c}, {a}, {b} : {}, {ty}", bool_ty(ty)))
        } else {
            self.def(&format!("arith.select {c}, {a}, {b} : {ty}"))
        }
    }

    fn all_true_mask(&mut self, t: &Type) -> String {
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
    fn vector_width(&self, ptrs: Value, mask: Option<Value>, pt: &Type) -> u32 {
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
        let mut v = u64::from(lay.spt)
            .min(p.contiguity)
            .min(p.divisibility / eb)
            .min(16 / eb);
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

    fn load(
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
                if mask {
                    self.def(&format!(
                        "llvm.intr.masked.load {p0}, {}, {pass} {{alignment = {align} : i32}} : ({gp}, {mty}, {vt}) -> {vt}",
                        ins[1]
                    ))
                } else {
                    self.def(&format!("llvm.load {p0} {{alignment = {align} : i64}} : {gp} -> {vt}"))
                }
            } else if width > 1 {
                let gt = format!("vector<{width}x{mt}>");
                let mut acc = pass;
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
    fn owner_mask(&mut self, pt: &Type) -> Option<String> {
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

    fn store(&mut self, ins: &[String], vals: &[Value], pt: &Type, mask: bool) -> Result<(), CodegenError> {
        let Elem::Ptr(s) = pt.elem else {
            return Err(internal("store to non-pointers"));
        };
        // Replicated layouts have width 1, so ownership never splits a group.
        let width = self.vector_width(vals[0], mask.then(|| vals[2]), pt);
        // Fold lane ownership into the mask.
        let mut ins = ins.to_vec();
        let mut mask = mask;
        if let Some(own) = self.owner_mask(pt) {
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
                if mask {
                    self.line(&format!(
                        "llvm.intr.masked.store {val}, {p0}, {} {{alignment = {align} : i32}} : {vt}, {mty} into {gp}",
                        ins[2]
                    ));
                } else {
                    self.line(&format!(
                        "llvm.store {val}, {p0} {{alignment = {align} : i64}} : {vt}, {gp}"
                    ));
                }
            } else if width > 1 {
                let gt = format!("vector<{width}x{mt}>");
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
    fn atomic(&mut self, ins: &[String], pt: &Type, op: Option<AtomicOp>, mask: bool) -> Result<String, CodegenError> {
        let Elem::Ptr(s) = pt.elem else {
            return Err(internal("atomic on non-pointers"));
        };
        let et = sty(s).to_string();
        let gp = self.target.global_ptr();
        let scope = if self.lanes > 1 && self.target.global_ptr() == "!llvm.ptr<1>" {
            " syncscope(\"agent\")"
        } else {
            ""
        };
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
    fn group_pointer(&mut self, ptrs: Value, name: &str, ptr_ty: &str, r: u32) -> Result<String, CodegenError> {
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
        Ok(self.def(&format!("vector.extract {name}[{r}] : {gp} from {ptr_ty}")))
    }

    /// `ptrs = splat(base) + o1 + .. + on` with every offset a non-negative
    /// `i32` block: the scalar base and the offsets.
    fn scalar_base(&self, ptrs: Value) -> Option<(Value, Vec<Value>)> {
        let f = self.f;
        let (base, offsets) = tritonc_passes::loop_ptrs::based_block(f, ptrs)?;
        let ok = offsets
            .iter()
            .all(|o| f.ty(*o).scalar_elem() == Some(ScalarType::I32) && self.non_negative(*o));
        ok.then_some((base, offsets))
    }

    /// Whether every element of `v` is known to be non-negative: program
    /// ids, ranges from a non-negative start, non-negative constants, and
    /// sums, products, quotients and remainders of such values (wrapping
    /// past `i32::MAX` is taken not to happen, as Triton does).
    fn non_negative(&self, v: Value) -> bool {
        let f = self.f;
        let mut stack = vec![(v, 0u32)];
        while let Some((v, depth)) = stack.pop() {
            if depth > 64 {
                return false;
            }
            if f.ty(v).scalar_elem().is_some_and(|s| s.is_unsigned() || s.is_bool()) {
                continue;
            }
            let tritonc_ir::ValueDef::Result(op, 0) = f.value(v).def else {
                return false;
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

    /// `scf.if` with one result: `then` emits the value of the taken branch,
    /// `otherwise` is the value when the condition is false.
    fn if_value(&mut self, cond: &str, ty: &str, then: impl FnOnce(&mut Self) -> String, otherwise: &str) -> String {
        let r = self.fresh();
        self.line(&format!("{r} = \"scf.if\"({cond}) ({{"));
        self.indent += 1;
        let v = then(self);
        self.line(&format!("\"scf.yield\"({v}) : ({ty}) -> ()"));
        self.indent -= 1;
        self.line("}, {");
        self.indent += 1;
        self.line(&format!("\"scf.yield\"({otherwise}) : ({ty}) -> ()"));
        self.indent -= 1;
        self.line(&format!("}}) : (i1) -> ({ty})"));
        r
    }

    fn assert(&mut self, c: &str, t: &Type) -> Result<(), CodegenError> {
        let all = if t.is_block() {
            let ty = self.mty(t);
            self.def(&format!("vector.reduction <and>, {c} : {ty} into i1"))
        } else {
            c.to_string()
        };
        let tru = self.def("arith.constant true");
        let bad = self.def(&format!("arith.xori {all}, {tru} : i1"));
        self.asserts += 1;
        let id = self.asserts;
        self.if_then(&bad, |e| {
            // Record (assert id << 32 | program id 0) in the launch's status word.
            let pid = e.def("arith.extui %pid0 : i32 to i64");
            let tag = e.def(&format!("arith.constant {} : i64", u64::from(id) << 32));
            let word = e.def(&format!("arith.ori {tag}, {pid} : i64"));
            e.def(&format!(
                "llvm.atomicrmw xchg %status, {word} monotonic : !llvm.ptr, i64"
            ));
        });
        Ok(())
    }

    /// `scf.if` without results: `then` emits the guarded operations.
    fn if_then(&mut self, cond: &str, then: impl FnOnce(&mut Self)) {
        self.line(&format!("\"scf.if\"({cond}) ({{"));
        self.indent += 1;
        then(self);
        self.line("\"scf.yield\"() : () -> ()");
        self.indent -= 1;
        self.line("}, {");
        self.indent += 1;
        self.line("\"scf.yield\"() : () -> ()");
        self.indent -= 1;
        self.line("}) : (i1) -> ()");
    }

    /// `scf.for`, `scf.if` and `scf.while`, in MLIR's generic syntax.
    fn control(&mut self, op: OpId) -> Result<(), CodegenError> {
        let f = self.f;
        let d = f.op(op);
        let ins: Vec<String> = d.operands.iter().map(|v| self.name(*v)).collect::<Result<_, _>>()?;
        let in_tys: Vec<String> = d.operands.iter().map(|v| self.mty(f.ty(*v))).collect();
        let out_tys: Vec<String> = d.results.iter().map(|v| self.mty(f.ty(*v))).collect();
        let base = self.fresh();
        let lhs = match d.results.len() {
            0 => String::new(),
            1 => format!("{base} = "),
            n => format!("{base}:{n} = "),
        };
        let name = match d.kind {
            OpKind::For => "scf.for",
            OpKind::If => "scf.if",
            _ => "scf.while",
        };
        self.line(&format!("{lhs}\"{name}\"({}) ({{", ins.join(", ")));
        for (i, &r) in d.regions.iter().enumerate() {
            if i > 0 {
                self.line("}, {");
            }
            let args = f.block(r).args.clone();
            let mut decl = Vec::new();
            for a in &args {
                let n = self.fresh();
                decl.push(format!("{n}: {}", self.mty(f.ty(*a))));
                self.names.insert(*a, n);
            }
            self.line(&format!("^bb0({}):", decl.join(", ")));
            self.indent += 1;
            // A body may run after itself or after anything before the
            // operation: nothing is known about shared memory's readers.
            self.lds_pending = [true; 2];
            if matches!(d.kind, OpKind::For) {
                self.stage_early(r)?;
            }
            self.block(r)?;
            self.indent -= 1;
        }
        self.line(&format!("}}) : ({}) -> ({})", in_tys.join(", "), out_tys.join(", ")));
        self.lds_pending = [true; 2];
        for (i, &r) in d.results.iter().enumerate() {
            let n = if d.results.len() == 1 {
                base.clone()
            } else {
                format!("{base}#{i}")
            };
            self.names.insert(r, n);
        }
        Ok(())
    }
}

/// Where each element of a broadcast or transposition comes from:
/// `src(e) = sum over output dimensions i of coord_i(e) * in_stride_i`,
/// with every stride and dimension a power of two, so that the map is
/// shifts and masks.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct IndexMap {
    /// (output stride, output dimension, input stride) per contributing dimension.
    terms: Vec<(u64, u64, u64)>,
}

fn strides(shape: &[u32]) -> Vec<u64> {
    let mut st = vec![1u64; shape.len()];
    for i in (0..shape.len().saturating_sub(1)).rev() {
        st[i] = st[i + 1] * u64::from(shape[i + 1]);
    }
    st
}

impl IndexMap {
    /// Broadcast `from` to `to` (same rank; unit dimensions grow).
    pub fn broadcast(from: &[u32], to: &[u32]) -> IndexMap {
        let (os, is) = (strides(to), strides(from));
        let terms = (0..to.len())
            .filter(|i| from[*i] != 1 && to[*i] > 1)
            .map(|i| (os[i], u64::from(to[i]), is[i]))
            .collect();
        IndexMap { terms }
    }

    /// Output dimension `i` is input dimension `order[i]`.
    pub fn permute(from: &[u32], order: &[u32], to: &[u32]) -> IndexMap {
        let (os, is) = (strides(to), strides(from));
        let terms = (0..to.len())
            .filter(|i| to[*i] > 1)
            .map(|i| (os[i], u64::from(to[i]), is[order[i] as usize]))
            .collect();
        IndexMap { terms }
    }

    pub fn terms(&self) -> Vec<(u64, u64, u64)> {
        self.terms.clone()
    }

    pub fn apply(&self, e: u64) -> u64 {
        self.terms.iter().map(|(os, d, is)| ((e / os) % d) * is).sum()
    }
}

/// The i1 type of the same shape as MLIR type `ty`.
fn bool_ty(ty: &str) -> String {
    match ty.strip_prefix("vector<") {
        Some(rest) => match rest.split_once('x') {
            Some((n, _)) => format!("vector<{n}xi1>"),
            None => "i1".into(),
        },
        None => "i1".into(),
    }
}

fn internal(msg: &str) -> CodegenError {
    CodegenError::Internal(msg.to_string())
}
