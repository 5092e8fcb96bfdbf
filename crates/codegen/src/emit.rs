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
    target::{Exchange, LaneRead, MatrixCall, ReadLanes, RowPermute, Target},
    CodegenError,
};
use std::borrow::Cow;
use std::collections::HashMap;
use tritonc_ir::{
    print::float_literal, AtomicOp, BinaryOp, BlockId, BlockedLayout, ConstValue, Elem, Function, IndexBit, Layout,
    MathFn, MatrixLayout, OpId, OpKind, ReduceKind, RegisterLayout, ScalarType, ScanKind, Type, Value,
};
use tritonc_passes::axis::AxisInfo;

mod affine;
mod arith;
mod control;
mod matrix;
mod memory;
mod reduce;
mod shared;
mod strips;

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
        preloaded: HashMap::new(),
        asserts: 0,
        axis: tritonc_passes::axis::analyze(f),
        body_start: 0,
        shared_mem: None,
        strip: None,
        buffered: HashMap::new(),
        // (Only strips ask who reads a value.)
        users: if target.strip_elements().is_some() && lanes == 1 {
            users_of(f)
        } else {
            HashMap::new()
        },
        broadcast_sources: HashMap::new(),
        carried_buffers: HashMap::new(),
        loop_depths: affine::LoopDepths::of(f),
        group_address_parts: HashMap::new(),
        group_lane_addresses: HashMap::new(),
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
    /// Matrix dots in a loop whose first operand comes from before the
    /// loop: its fragments, read once before the loop, by instruction
    /// step and row tile (see `preload_invariant_fragments`).
    preloaded: HashMap<OpId, Vec<Vec<String>>>,
    /// The run of operations being emitted in strips, if any (see
    /// `strips.rs`): block types of its size have the strip's width.
    strip: Option<strips::Strip>,
    /// Block values computed in strips and read outside their run: the
    /// stack buffer that holds them.
    buffered: HashMap<Value, String>,
    /// The operations that read each value (nested ones included).
    users: HashMap<Value, Vec<OpId>>,
    /// In a run emitted in strips: the buffers broadcasts read their
    /// operands from.
    broadcast_sources: HashMap<Value, String>,
    /// Loop bodies whose carried blocks the host keeps in buffers: per
    /// carried value, its buffer (`None`: carried as a value).
    carried_buffers: HashMap<BlockId, Vec<Option<String>>>,
    /// How many loops enclose each block and operation.
    loop_depths: affine::LoopDepths,
    /// Within one load or store: the widened scalars its register groups'
    /// steps share (`affine::uniform_value`), by scalar.
    group_address_parts: HashMap<Value, String>,
    /// Within one load or store: its pointer block's lane part
    /// (`affine::stepped_pointer`).
    group_lane_addresses: HashMap<Value, affine::LaneAddress>,
}

/// The operations that read each value of `f`.
fn users_of(f: &Function) -> HashMap<Value, Vec<OpId>> {
    let mut users: HashMap<Value, Vec<OpId>> = HashMap::new();
    for op in f.walk() {
        for v in &f.op(op).operands {
            users.entry(*v).or_default().push(op);
        }
    }
    users
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

impl<'a> Emitter<'a> {
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
        // In a run emitted in strips, a lane holds one strip of each block.
        let n = self.strip_of(t).map_or(t.numel().max(1), |s| u64::from(s.width));
        BlockedLayout::with_max(n as u32, self.lanes, self.max_spt)
    }

    /// The type whose blocked layout sizes value `v`'s per-lane vector:
    /// `v`'s own type, except for a compact slice of a matrix layout (one
    /// register per distinct row a lane holds), which may hold more
    /// elements per lane than its type's blocked layout (WMMA with 4
    /// waves: a lane holds two rows of a 128-row block of 128 lanes):
    /// then a one-dimensional stand-in of that many elements per lane.
    /// Elementwise operations, loops and the slice's own conversions
    /// read only the element type and the per-lane count of it.
    fn lane_type(&self, v: Value) -> Cow<'a, Type> {
        let t = self.f.ty(v);
        if let Some(Layout::Slice {
            parent: RegisterLayout::Matrix(m),
            dim,
        }) = self.value_layout(v)
        {
            let compact = tritonc_passes::layouts::compact_slice_len(&m, dim);
            if self.lanes > 1 && compact != self.layout(t).per_lane() {
                return Cow::Owned(Type::block(t.elem, vec![compact * self.lanes]));
            }
        }
        Cow::Borrowed(t)
    }

    /// Per-lane MLIR type of value `v` (see [`Self::lane_type`]).
    fn vty(&self, v: Value) -> String {
        self.mty(&self.lane_type(v))
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
        self.block_ops(b)
    }

    /// Emits `op`. Operands computed in strips by an earlier run are read
    /// whole from their buffers here, and forgotten after (the load is
    /// only valid in the region where it is emitted).
    fn op(&mut self, op: OpId) -> Result<(), CodegenError> {
        let f = self.f;
        let mut loaded = Vec::new();
        for &v in &f.op(op).operands {
            if !self.names.contains_key(&v) && !loaded.contains(&v) {
                if let Some(buffer) = self.buffered.get(&v).cloned() {
                    let whole = self.read_whole(&buffer, f.ty(v));
                    self.names.insert(v, whole);
                    loaded.push(v);
                }
            }
        }
        let result = self.op_in_place(op);
        for v in loaded {
            self.names.remove(&v);
        }
        result
    }

    fn op_in_place(&mut self, op: OpId) -> Result<(), CodegenError> {
        let f = self.f;
        let d = f.op(op);
        let in_registers = d.kind.is_elementwise()
            || matches!(
                d.kind,
                OpKind::Reduce { .. } | OpKind::ArgReduce { .. } | OpKind::Broadcast
            );
        if !in_registers
            && !matches!(
                d.kind,
                OpKind::Dot | OpKind::ConvertLayout | OpKind::For | OpKind::Yield | OpKind::Store { .. }
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
        let in_types: Vec<Cow<Type>> = d.operands.iter().map(|v| self.lane_type(*v)).collect();
        let in_ty: Vec<&Type> = in_types.iter().map(|t| t.as_ref()).collect();
        let out_type: Option<Cow<Type>> = d.results.first().map(|v| self.lane_type(*v));
        let out_ty: Option<&Type> = out_type.as_deref();
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
                let axis_bits = m.axis_register_bits(dim);
                let classes: Vec<u32> = (0..m.per_lane()).map(|r| r & !axis_bits).collect();
                self.row_classes.insert(d.results[0], std::rc::Rc::new(classes));
                Some(self.broadcast_slice(&ins[0], in_ty[0], t, m, dim))
            }
            OpKind::Broadcast if out_ty.is_some_and(|t| self.strip_of(t).is_some()) => Some(self.strip_broadcast(op)?),
            OpKind::Broadcast if in_ty[0].numel() != 1 => {
                let t = out_ty.ok_or_else(|| internal("broadcast without result"))?;
                let map = IndexMap::broadcast(&in_ty[0].shape, &t.shape);
                let lay = self.register_layout(d.results[0]);
                Some(self.move_elements(&ins[0], in_ty[0], (t, lay), &map)?)
            }
            // Staged by the dot from its operand's registers.
            OpKind::Permute(_) if tritonc_passes::transpose_loads::folded_into_dot(f, op) => Some(ins[0].clone()),
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
                let row_classes = self
                    .shared_row_classes(&d.operands)
                    .or_else(|| self.constancy_classes(d.results[0]));
                let affine = self.affine_compare(op)?;
                match (row_classes, out_ty) {
                    _ if affine.is_some() => affine,
                    (Some(classes), Some(t)) if t.is_block() => {
                        let (ops, out) = (&d.operands, d.results[0]);
                        Some(self.elementwise_scalarized(&d.kind, &ins, ops, &in_ty, t, Some(classes), out)?)
                    }
                    (None, Some(t)) if t.is_block() && self.has_uniform_operand(&d.operands) => {
                        let (ops, out) = (&d.operands, d.results[0]);
                        Some(self.elementwise_scalarized(&d.kind, &ins, ops, &in_ty, t, None, out)?)
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
                    // (None: the host left the result in a buffer.)
                    _ => self.dot(op, &ins, in_ty[0], in_ty[1], t)?,
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
                // One-element vectors cross control flow as scalars
                // (`carried_scalar`).
                let mut ins = ins.clone();
                let mut tys: Vec<String> = in_ty.iter().map(|t| self.mty(t)).collect();
                for (x, t) in ins.iter_mut().zip(tys.iter_mut()) {
                    if let Some(s) = self.carried_scalar(t) {
                        *x = self.def(&format!("vector.extract {x}[0] : {s} from {t}"));
                        *t = s;
                    }
                }
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
            // Not in strips, and only when the inner sum's operands are at
            // hand (they may be another run's strips, in a buffer).
            let folds = same && pt_ty.is_block() && ot.scalar_elem() == Some(ScalarType::I32) && self.strip.is_none();
            let name = |i: usize| d.operands.get(i).and_then(|v| self.names.get(v)).cloned();
            if let (true, Some(p), Some(a)) = (folds, name(0), name(1)) {
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
