//! Layout assignment: tile IR to Dist IR for a program of `lanes` lanes.
//!
//! Every block value gets the blocked layout of its element count (so
//! elementwise operations and reshapes never move data), every scalar is
//! uniform. Operations that need elements other lanes hold — broadcasts of
//! multi-element blocks, transpositions, reductions, scans — get their
//! operand through an explicit `tk.convert_layout` into shared memory,
//! inserted right before them. A conversion of the same value as the
//! previous conversion in the same block, with no other conversion in
//! between, is redundant (the shared copy is still there) and is removed.
//!
//! `tk.dot` reads its operands through shared memory too, but stages them
//! itself (both at once, at different offsets); it gets no conversion.
//!
//! On targets with matrix instructions ([`assign_for`] with a
//! `matrix_instrs` that gives some for the dot's input type), a `tk.dot`
//! whose accumulator tiles the waves ([`MatrixLayout::for_block`]) and
//! whose `k` is a multiple of the instruction's produces its result in
//! the matrix layout (MFMA or WMMA) of the first such instruction, and so do the `scf.for`
//! values that carry it from one iteration to the next (the accumulator of
//! a K loop stays in registers). Every other use of such a value gets a
//! `tk.convert_layout` to the blocked layout right before it; an initial
//! value not already in the matrix layout gets one to it before the loop
//! (a splat is instead splat again there, in the matrix layout: it is the
//! same in every layout).
//!
//! With one lane (the host) nothing moves between lanes: no conversions.

use crate::PassError;
use std::collections::HashMap;
use tritonc_ir::{
    BlockId, BlockedLayout, Elem, Function, Layout, MatrixInstr, MatrixLayout, OpId, OpKind, RegisterLayout,
    ScalarType, Value,
};

/// Whether `op` reads its operand through shared memory. Reductions,
/// arg-reductions and scans do not: they combine in registers and
/// exchange partial results between lanes.
pub fn moves_elements(f: &Function, op: OpId) -> bool {
    let d = f.op(op);
    match d.kind {
        OpKind::Broadcast => {
            d.operands.first().is_some_and(|v| f.ty(*v).numel() != 1)
                && crate::remat::range_broadcast(f, op).is_none()
                && broadcast_of_reduction(f, op).is_none()
        }
        OpKind::Permute(_) => !crate::transpose_loads::folded_into_dot(f, op),
        _ => false,
    }
}

/// For a `tk.broadcast` of a reduction's result back along its axis
/// (`broadcast(reshape(reduce(x, axis)))` to `x`'s shape, the reshape
/// putting the axis back with length 1), the reduction's result. Along an
/// axis, a reduction leaves every lane holding the results of its
/// elements' rows in `x`'s layout, so such a broadcast moves no data.
pub fn broadcast_of_reduction(f: &Function, op: OpId) -> Option<Value> {
    let d = f.op(op);
    if !matches!(d.kind, OpKind::Broadcast) {
        return None;
    }
    let (reduced, red) = reduction_put_back(f, *d.operands.first()?, &f.ty(d.results[0]).shape)?;
    (!tree_reduction(f, red)).then_some(reduced)
}

/// Whether `v` is a reduction's result with its axis put back as a unit
/// dimension (`expand_dims(sum(x, axis), axis)`) and
/// `shape` is `x`'s; then the reduction's result and operation.
pub fn reduction_put_back(f: &Function, v: Value, shape: &[u32]) -> Option<(Value, OpId)> {
    let unit = f.op(f.def_op(v)?);
    if !matches!(unit.kind, OpKind::Reshape) {
        return None;
    }
    let reduced = *unit.operands.first()?;
    let red = f.def_op(reduced)?;
    let axis = match f.op(red).kind {
        OpKind::Reduce { axis, .. } | OpKind::ArgReduce { axis, .. } => axis as usize,
        _ => return None,
    };
    let x_shape = &f.ty(*f.op(red).operands.first()?).shape;
    let mut unit_shape = x_shape.clone();
    *unit_shape.get_mut(axis)? = 1;
    (x_shape[..] == *shape && f.ty(v).shape == unit_shape).then_some((reduced, red))
}

/// Whether every use of the reduction result `reduced` is a reshape only
/// ever broadcast back along the axis ([`broadcast_of_reduction`]), so
/// the reduced block itself is never needed. `users` maps each value to
/// the operations using it.
fn only_broadcast_back(f: &Function, reduced: Value, users: &HashMap<Value, Vec<OpId>>) -> bool {
    let users_of = |v: &Value| users.get(v).map(Vec::as_slice).unwrap_or_default();
    let uses = users_of(&reduced);
    !uses.is_empty()
        && uses.iter().all(|u| {
            let d = f.op(*u);
            matches!(d.kind, OpKind::Reshape)
                && d.results.iter().all(|r| {
                    users_of(r)
                        .iter()
                        .all(|b| broadcast_of_reduction(f, *b) == Some(reduced))
                })
        })
}

/// Whether `op` reduces a whole 1-D block to a scalar, which every target
/// does as a balanced pairwise tree over the elements in index order (so
/// that the result is the same on every target).
pub fn tree_reduction(f: &Function, op: OpId) -> bool {
    let d = f.op(op);
    matches!(d.kind, OpKind::Reduce { .. }) && d.operands.first().is_some_and(|v| f.ty(*v).shape.len() == 1)
}

/// Assigns layouts and inserts conversions; `f` becomes Dist IR.
pub fn assign(f: &mut Function, lanes: u32) -> Result<(), PassError> {
    assign_for(f, lanes, &|_| Vec::new())
}

/// The matrix instructions a target may run `dot`s of an input type
/// with, preferred first.
pub type MatrixInstrs<'a> = &'a dyn Fn(ScalarType) -> Vec<MatrixInstr>;

/// [`assign`] for a target whose `dot`s of each input type may use the
/// matrix instructions `matrix_instrs` gives.
pub fn assign_for(f: &mut Function, lanes: u32, matrix_instrs: MatrixInstrs) -> Result<(), PassError> {
    if lanes > 1 {
        let chained = chained_dots(f);
        crate::transpose_loads::run(f, &|f, op| matrix_dot(f, op, lanes, matrix_instrs, chained).is_some());
    }
    let spt = max_contiguous(f);
    let matrix = if lanes > 1 {
        matrix_layouts(f, lanes, matrix_instrs)
    } else {
        HashMap::new()
    };
    let slices = if lanes > 1 {
        slice_layouts(f, &matrix)
    } else {
        HashMap::new()
    };
    if lanes > 1 {
        let blocks: Vec<BlockId> = std::iter::once(f.entry)
            .chain(f.walk().iter().flat_map(|op| f.op(*op).regions.clone()))
            .collect();
        for b in blocks {
            insert_conversions(f, b, &slices, &matrix);
        }
    }
    let mut layouts = HashMap::new();
    for (i, v) in f.values.iter().enumerate() {
        let layout = if v.ty.is_block() {
            Layout::Blocked(BlockedLayout::with_max(v.ty.numel() as u32, lanes, spt))
        } else {
            Layout::Uniform
        };
        layouts.insert(Value(i as u32), layout);
    }
    for op in f.walk() {
        if matches!(f.op(op).kind, OpKind::ConvertLayout) {
            let r = f.op(op).results[0];
            let src = f.op(op).operands[0];
            let layout = match (matrix.get(&r), matrix.get(&src)) {
                // Into the matrix layout (before a loop).
                (Some(m), _) => Layout::Matrix(*m),
                // Out of it (or of a slice of it), back to the blocked layout.
                (None, Some(_)) => Layout::Blocked(BlockedLayout::with_max(f.ty(r).numel() as u32, lanes, spt)),
                (None, None) if slices.contains_key(&src) => {
                    Layout::Blocked(BlockedLayout::with_max(f.ty(r).numel() as u32, lanes, spt))
                }
                (None, None) => Layout::Shared,
            };
            layouts.insert(r, layout);
        }
    }
    for (v, m) in &matrix {
        layouts.insert(*v, Layout::Matrix(*m));
    }
    for (v, (m, dim)) in &slices {
        let slice = Layout::Slice {
            parent: RegisterLayout::Matrix(*m),
            dim: *dim,
        };
        layouts.insert(*v, slice);
    }
    if lanes > 1 {
        // Reductions only ever broadcast back along their axis stay in
        // their operand's layout, and so do the reshapes between.
        let mut users: HashMap<Value, Vec<OpId>> = HashMap::new();
        for op in f.walk() {
            for v in &f.op(op).operands {
                users.entry(*v).or_default().push(op);
            }
        }
        for op in f.walk() {
            let d = f.op(op);
            let (OpKind::Reduce { axis, .. } | OpKind::ArgReduce { axis, .. }) = d.kind else {
                continue;
            };
            let reduced = d.results[0];
            if !f.ty(reduced).is_block() || slices.contains_key(&reduced) || !only_broadcast_back(f, reduced, &users) {
                continue;
            }
            let parent = match matrix.get(&d.operands[0]) {
                Some(m) => RegisterLayout::Matrix(*m),
                None => {
                    RegisterLayout::Blocked(BlockedLayout::with_max(f.ty(d.operands[0]).numel() as u32, lanes, spt))
                }
            };
            let slice = Layout::Slice { parent, dim: axis };
            layouts.insert(reduced, slice);
            for user in users.get(&reduced).into_iter().flatten() {
                for r in &f.op(*user).results {
                    layouts.insert(*r, slice);
                }
            }
        }
    }
    f.layouts = Some(layouts);
    Ok(())
}

/// How many contiguous elements a lane holds at most: as many as make 16
/// bytes of the narrowest element the function loads or stores (so those
/// accesses can be 128-bit), from 4 (32-bit elements) to 16 (bytes). One
/// number for the whole function, so that elementwise operations between
/// blocks of different element types stay within lanes.
pub fn max_contiguous(f: &Function) -> u32 {
    let narrowest = f
        .walk()
        .into_iter()
        .filter(|op| matches!(f.op(*op).kind, OpKind::Load { .. } | OpKind::Store { .. }))
        .filter_map(|op| match f.ty(f.op(op).operands[0]).elem {
            Elem::Ptr(s) => Some(s.bytes()),
            Elem::Scalar(_) => None,
        })
        .min()
        .unwrap_or(4);
    (16 / narrowest.max(1)).clamp(4, 16)
}

/// Whether `op` is a `tk.dot` a matrix instruction can run, and its
/// accumulator's layout.
/// (`chained`: the function's dots are chained, [`chained_dots`].)
fn matrix_dot(f: &Function, op: OpId, lanes: u32, matrix_instrs: MatrixInstrs, chained: bool) -> Option<MatrixLayout> {
    let d = f.op(op);
    if !matches!(d.kind, OpKind::Dot) {
        return None;
    }
    let (a, out) = (f.ty(d.operands[0]), f.ty(d.results[0]));
    matrix_instrs(a.scalar_elem()?).into_iter().find_map(|instr| {
        let wave = instr.family.wave();
        if !a.shape[1].is_multiple_of(instr.k) || !lanes.is_multiple_of(wave) {
            return None;
        }
        let (m, n, waves) = (out.shape[0], out.shape[1], lanes / wave);
        chained
            .then(|| MatrixLayout::rows_per_wave(instr, m, n, waves))
            .flatten()
            .or_else(|| MatrixLayout::for_block(instr, m, n, waves))
    })
}

/// Whether a `dot`'s first operand is computed, elementwise, from another
/// `dot`'s result (attention: `dot(softmax(dot(q, k)), v)`). Then every
/// dot takes the transposed layout with whole rows per wave
/// ([`MatrixLayout::rows_per_wave`]), as Triton does for such chains: the
/// row reductions between the dots stay within waves and mostly within
/// lanes, and every dot's result has the same layout.
fn chained_dots(f: &Function) -> bool {
    fn from_dot(f: &Function, v: Value, depth: u32) -> bool {
        let Some(op) = f.def_op(v) else { return false };
        let d = f.op(op);
        match d.kind {
            OpKind::Dot => true,
            ref k if is_elementwise(k) && depth < 32 => d.operands.iter().any(|o| from_dot(f, *o, depth + 1)),
            _ => false,
        }
    }
    f.walk().into_iter().any(|op| {
        let d = f.op(op);
        matches!(d.kind, OpKind::Dot) && d.operands.first().is_some_and(|a| from_dot(f, *a, 0))
    })
}

/// Chooses the matrix-layout values (dot results and the loop values
/// carrying them) and inserts the conversions into and out of that layout.
fn matrix_layouts(f: &mut Function, lanes: u32, matrix_instrs: MatrixInstrs) -> HashMap<Value, MatrixLayout> {
    let mut matrix: HashMap<Value, MatrixLayout> = HashMap::new();
    let chained = chained_dots(f);
    for op in f.walk() {
        if let Some(m) = matrix_dot(f, op, lanes, matrix_instrs, chained) {
            matrix.insert(f.op(op).results[0], m);
        }
    }
    if matrix.is_empty() {
        return matrix;
    }
    // Loop-carried accumulators: a `for` whose body yields a matrix value
    // carries it in that layout (initial value converted if needed); and
    // what is computed from matrix values stays in their layout.
    loop {
        let mut changed = propagate_matrix(f, &mut matrix);
        for op in f.walk() {
            if !matches!(f.op(op).kind, OpKind::For) {
                continue;
            }
            let body = f.op(op).regions[0];
            let Some(&yield_op) = f.block(body).ops.last() else {
                continue;
            };
            let yielded = f.op(yield_op).operands.clone();
            for (i, y) in yielded.iter().enumerate() {
                let Some(m) = matrix.get(y).copied() else { continue };
                let arg = f.block(body).args[i + 1];
                let result = f.op(op).results[i];
                if matrix.contains_key(&arg) {
                    continue;
                }
                matrix.insert(arg, m);
                matrix.insert(result, m);
                changed = true;
                let init = f.op(op).operands[3 + i];
                if !matrix.contains_key(&init) {
                    let conv = into_matrix_before(f, op, init);
                    f.op_mut(op).operands[3 + i] = conv;
                    matrix.insert(conv, m);
                }
            }
        }
        if !changed {
            break;
        }
    }
    // A dot's accumulator must be in its layout too.
    for op in f.walk() {
        let Some(m) = matrix_dot(f, op, lanes, matrix_instrs, chained) else {
            continue;
        };
        let acc = f.op(op).operands[2];
        if !matrix.contains_key(&acc) {
            let conv = into_matrix_before(f, op, acc);
            f.op_mut(op).operands[2] = conv;
            matrix.insert(conv, m);
        }
    }
    // Every other use reads the blocked layout.
    convert_other_uses(f, |f, op, i, v| {
        !matrix.contains_key(&v) || matrix_use_allowed(f, op, i, &matrix)
    });
    matrix
}

/// Gives every operand `i` of every operation `op` that `stays(f, op, i,
/// v)` rejects a `tk.convert_layout` of its value `v` to the blocked
/// layout: one conversion per value and block, before its first such use
/// there (a conversion moves the whole block through shared memory).
fn convert_other_uses(f: &mut Function, stays: impl Fn(&Function, OpId, usize, Value) -> bool) {
    let mut converted: HashMap<(Value, BlockId), Value> = HashMap::new();
    for b in f.walk_blocks() {
        for op in f.block(b).ops.clone() {
            let operands = f.op(op).operands.clone();
            for (i, v) in operands.into_iter().enumerate() {
                if stays(f, op, i, v) {
                    continue;
                }
                let conv = match converted.get(&(v, b)) {
                    Some(c) => *c,
                    None => {
                        let c = convert_before(f, op, v);
                        converted.insert((v, b), c);
                        c
                    }
                };
                f.op_mut(op).operands[i] = conv;
            }
        }
    }
}

/// The number of elements a lane holds of a block of `shape` in the slice
/// along `dim` of matrix layout `m`, kept compact (one register per
/// distinct row: the parent's registers whose bits are not the axis's).
pub fn compact_slice_len(m: &MatrixLayout, dim: u32) -> u32 {
    m.per_lane() >> m.axis_register_bits(dim).count_ones()
}

/// Row vectors of matrix values kept in registers (Triton's slice layout
/// of the MFMA/WMMA layout): a reduction of a matrix value along `dim`,
/// what is computed elementwise from such values and splats, their unit
/// dimension put back at `dim`, and the loop values carrying them (the
/// emitter sizes such a value's per-lane vector by its compact length,
/// which may exceed its type's blocked layout's). A broadcast
/// of such a value back into its parent layout moves nothing; every other
/// use gets a `tk.convert_layout` to the blocked layout.
fn slice_layouts(f: &mut Function, matrix: &HashMap<Value, MatrixLayout>) -> HashMap<Value, (MatrixLayout, u32)> {
    // Optimistically, loop slots started from a splat may carry a slice
    // value; a slot whose yielded value turns out not to be one is ruled
    // out and the analysis run again.
    let mut ruled_out: Vec<Value> = Vec::new();
    let slices = loop {
        let (slices, failed) = slice_analysis(f, matrix, &ruled_out);
        match failed {
            Some(arg) => ruled_out.push(arg),
            None => break slices,
        }
    };
    if slices.is_empty() {
        return slices;
    }
    let mut slices = slices;
    // Splats read in a slice layout are splat again there (so that every
    // operand of an operation has its result's layout).
    for op in f.walk() {
        let d = f.op(op);
        let slot_of = |i: usize| match d.kind {
            OpKind::For if i >= 3 => d.results.get(i - 3).and_then(|r| slices.get(r)).copied(),
            ref k if is_elementwise(k) => d.results.first().and_then(|r| slices.get(r)).copied(),
            _ => None,
        };
        let wanted: Vec<(usize, (MatrixLayout, u32))> = d
            .operands
            .iter()
            .enumerate()
            .filter(|(_, v)| f.ty(**v).is_block() && !slices.contains_key(v))
            .filter_map(|(i, _)| slot_of(i).map(|s| (i, s)))
            .collect();
        for (i, s) in wanted {
            let v = f.op(op).operands[i];
            if f.def_op(v).is_some_and(|o| matches!(f.op(o).kind, OpKind::Splat)) {
                let own = splat_again_before(f, op, v);
                f.op_mut(op).operands[i] = own;
                slices.insert(own, s);
            }
        }
    }
    // Every use that cannot read the slice gets a conversion to the
    // blocked layout.
    convert_other_uses(f, |f, op, i, v| {
        let Some(s) = slices.get(&v).copied() else {
            return true;
        };
        let d = f.op(op);
        let result_slice = d.results.first().and_then(|r| slices.get(r)).copied();
        match d.kind {
            OpKind::Reshape => result_slice == Some(s),
            ref k if is_elementwise(k) => result_slice == Some(s),
            OpKind::Broadcast => d.results.first().and_then(|r| matrix.get(r)) == Some(&s.0),
            OpKind::For => i >= 3 && slices.get(&d.results[i - 3]) == Some(&s),
            OpKind::Yield => parent_for(f, op)
                .is_some_and(|body| f.block(body).args.get(i + 1).and_then(|a| slices.get(a)) == Some(&s)),
            _ => false,
        }
    });
    slices
}

/// One run of the slice analysis of [`slice_layouts`], with the loop
/// arguments in `ruled_out` never carrying a slice: the slice values, or
/// a loop argument that was assumed to carry one but whose yielded value
/// is not one.
fn slice_analysis(
    f: &Function,
    matrix: &HashMap<Value, MatrixLayout>,
    ruled_out: &[Value],
) -> (HashMap<Value, (MatrixLayout, u32)>, Option<Value>) {
    let mut slices: HashMap<Value, (MatrixLayout, u32)> = HashMap::new();
    let is_splat = |v: Value| f.def_op(v).is_some_and(|o| matches!(f.op(o).kind, OpKind::Splat));
    // Loop arguments of slots started from a splat: may carry a slice.
    let mut open: HashMap<Value, (OpId, usize)> = HashMap::new();
    for op in f.walk() {
        let d = f.op(op);
        if matches!(d.kind, OpKind::For) {
            let body = d.regions[0];
            for (i, init) in d.operands.iter().enumerate().skip(3) {
                let arg = f.block(body).args[i - 2];
                if f.ty(arg).is_block() && is_splat(*init) && !ruled_out.contains(&arg) {
                    open.insert(arg, (op, i - 3));
                }
            }
        }
    }
    loop {
        let mut changed = false;
        for op in f.walk() {
            let d = f.op(op);
            let Some(&result) = d.results.first() else { continue };
            if slices.contains_key(&result) || !f.ty(result).is_block() {
                continue;
            }
            let found = match d.kind {
                OpKind::Reduce { axis, .. } => d
                    .operands
                    .first()
                    .and_then(|x| matrix.get(x))
                    .filter(|_| !tree_reduction(f, op))
                    .map(|m| (*m, axis)),
                OpKind::Reshape => d
                    .operands
                    .first()
                    .and_then(|x| slices.get(x))
                    .copied()
                    .filter(|(m, dim)| {
                        // Only the axis put back as a unit dimension.
                        let want = if *dim == 1 { [m.m, 1] } else { [1, m.n] };
                        f.ty(result).shape[..] == want
                    }),
                ref k if is_elementwise(k) => {
                    let mut layout = None;
                    let mut ok = true;
                    for v in &d.operands {
                        match slices.get(v) {
                            Some(s) if layout.is_none_or(|l| l == *s) => layout = Some(*s),
                            Some(_) => ok = false,
                            None => ok &= !f.ty(*v).is_block() || is_splat(*v) || open.contains_key(v),
                        }
                    }
                    layout.filter(|_| ok)
                }
                _ => None,
            };
            let Some((m, dim)) = found else { continue };
            slices.insert(result, (m, dim));
            // Open loop arguments read here carry this slice.
            for v in &d.operands {
                if let Some((for_op, slot)) = open.remove(v) {
                    slices.insert(*v, (m, dim));
                    slices.insert(f.op(for_op).results[slot], (m, dim));
                }
            }
            changed = true;
        }
        if !changed {
            break;
        }
    }
    // Every loop argument given a slice must get it back from its yield.
    for op in f.walk() {
        if !matches!(f.op(op).kind, OpKind::For) {
            continue;
        }
        let body = f.op(op).regions[0];
        let Some(&yield_op) = f.block(body).ops.last() else {
            continue;
        };
        for (i, y) in f.op(yield_op).operands.iter().enumerate() {
            let arg = f.block(body).args[i + 1];
            if slices.contains_key(&arg) && slices.get(y) != slices.get(&arg) {
                return (slices, Some(arg));
            }
        }
    }
    (slices, None)
}

/// Splat `v` (a splat) again right before `op`, so that this use has a
/// value of its own to give a layout.
fn splat_again_before(f: &mut Function, op: OpId, v: Value) -> Value {
    let Some(def) = f.def_op(v) else { return v };
    let (scalar, ty, loc) = (f.op(def).operands[0], f.ty(v).clone(), f.op(op).loc);
    let splat = f.create_op(OpKind::Splat, vec![scalar], vec![ty], Vec::new(), loc);
    insert_before(f, op, splat);
    f.op(splat).results[0]
}

/// Whether `kind` is an elementwise operation that may compute in a
/// matrix or slice layout: every one but pointer arithmetic (pointer
/// blocks stay blocked, the layout loads and stores take them in).
pub fn is_elementwise(kind: &OpKind) -> bool {
    kind.is_elementwise() && !matches!(kind, OpKind::AddPtr)
}

/// Whether block value `v` can be computed in whatever layout its user
/// needs, from each element's own index, with nothing held by another
/// lane: splats and constants (the same in every layout), broadcasts of a
/// range along an axis, broadcasts of a smaller block (read back from
/// shared memory at each element's index), and elementwise operations of
/// those.
fn adaptable(f: &Function, v: Value, depth: u32) -> bool {
    let Some(op) = f.def_op(v) else {
        return false;
    };
    let d = f.op(op);
    match d.kind {
        OpKind::Splat | OpKind::Constant(_) => true,
        OpKind::Broadcast => broadcast_of_reduction(f, op).is_none(),
        // Pointer arithmetic too: a store's addresses (`matrix_store`).
        ref k if k.is_elementwise() && depth < 16 => d
            .operands
            .iter()
            .all(|o| !f.ty(*o).is_block() || adaptable(f, *o, depth + 1)),
        _ => false,
    }
}

/// One round of keeping matrix values in registers: an elementwise
/// operation with an operand in matrix layout `m` computes in `m` when
/// its other block operands are in `m` or [`adaptable`] (those are then
/// computed in `m` too, copied first when something else uses them); a
/// reduction's result broadcast back along its axis is in its operand's
/// layout. Gives whether anything changed.
fn propagate_matrix(f: &mut Function, matrix: &mut HashMap<Value, MatrixLayout>) -> bool {
    let mut changed = false;
    let mut users: HashMap<Value, Vec<OpId>> = HashMap::new();
    for op in f.walk() {
        for v in &f.op(op).operands {
            users.entry(*v).or_default().push(op);
        }
    }
    // Whether some user of `v` can take it in a matrix layout (else the
    // conversion would only move to after this operation, where the
    // elements may be narrower and the conversion no cheaper).
    let wanted = |f: &Function, v: Value, m: MatrixLayout| {
        users.get(&v).into_iter().flatten().any(|u| {
            let k = &f.op(*u).kind;
            matrix_store(f, *u, v, m)
                || is_elementwise(k)
                || matches!(k, OpKind::Dot | OpKind::For | OpKind::Yield)
                || (matches!(k, OpKind::Reduce { .. } | OpKind::ArgReduce { .. }) && !tree_reduction(f, *u))
        })
    };
    for op in f.walk() {
        let d = f.op(op);
        if matches!(d.kind, OpKind::Store { .. }) {
            let (ptrs, value) = (d.operands[0], d.operands[1]);
            if let (None, Some(&m)) = (matrix.get(&ptrs), matrix.get(&value)) {
                if matrix_store(f, op, value, m) && f.ty(value).shape == [m.m, m.n] {
                    adapt_operands(f, op, m, matrix);
                    changed = true;
                }
            }
            continue;
        }
        let Some(&result) = d.results.first() else { continue };
        if matrix.contains_key(&result) || !f.ty(result).is_block() {
            continue;
        }
        if let Some(reduced) = broadcast_of_reduction(f, op) {
            let Some(red) = f.def_op(reduced) else { continue };
            if let Some(m) = f.op(red).operands.first().and_then(|x| matrix.get(x)).copied() {
                matrix.insert(result, m);
                changed = true;
            }
            continue;
        }
        if !is_elementwise(&d.kind) {
            continue;
        }
        let mut layout: Option<MatrixLayout> = None;
        let mut fits = true;
        for v in &d.operands {
            match matrix.get(v) {
                Some(m) if layout.is_none_or(|l| l == *m) => layout = Some(*m),
                Some(_) => fits = false,
                None => fits &= !f.ty(*v).is_block() || adaptable(f, *v, 0),
            }
        }
        let Some(m) = layout else { continue };
        if !fits || f.ty(result).shape != [m.m, m.n] || !wanted(f, result, m) {
            continue;
        }
        adapt_operands(f, op, m, matrix);
        matrix.insert(result, m);
        changed = true;
    }
    changed
}

/// Whether store `op` should write value `v` (its stored values) from
/// matrix layout `m`: its addresses and mask are [`adaptable`] (computed
/// in that layout from each element's index), so no element moves
/// between lanes before the store, and a lane holds runs of at least 8
/// bytes along the rows (Triton stores attention's output from the
/// transposed MFMA layout, 4 f16 at a time; a plain MFMA layout, one
/// element per lane along the rows, goes through shared memory to
/// 16-byte stores instead).
fn matrix_store(f: &Function, op: OpId, v: Value, m: MatrixLayout) -> bool {
    let d = f.op(op);
    let run = RegisterLayout::Matrix(m).register_run((m.m * m.n).trailing_zeros());
    let bytes = f.ty(v).scalar_elem().map_or(0, ScalarType::bytes);
    matches!(d.kind, OpKind::Store { .. })
        && d.operands.get(1) == Some(&v)
        && f.ty(v).shape.len() == 2
        && run * bytes >= 8
        && d.operands
            .iter()
            .enumerate()
            .all(|(i, o)| i == 1 || !f.ty(*o).is_block() || adaptable(f, *o, 0))
}

/// The [`adaptable`] value `v`, computed in matrix layout `m` for `user`:
/// `v` itself when `user` is its only user, else a copy made right
/// before `user` (so that every operand of an operation has the layout of
/// its result, as Dist IR requires); the operands of a broadcast stay
/// where they are.
fn adapt_into(
    f: &mut Function,
    user: OpId,
    v: Value,
    m: MatrixLayout,
    matrix: &mut HashMap<Value, MatrixLayout>,
) -> Value {
    let Some(def) = f.def_op(v) else { return v };
    let uses = f
        .walk()
        .into_iter()
        .map(|o| f.op(o).operands.iter().filter(|x| **x == v).count())
        .sum::<usize>();
    let target = if uses <= 1 {
        v
    } else {
        let d = f.op(def);
        let (kind, operands, ty, loc) = (d.kind.clone(), d.operands.clone(), f.ty(v).clone(), d.loc);
        let copy = f.create_op(kind, operands, vec![ty], Vec::new(), loc);
        insert_before(f, user, copy);
        f.op(copy).results[0]
    };
    let target_op = f.def_op(target).unwrap_or(def);
    if f.op(target_op).kind.is_elementwise() {
        adapt_operands(f, target_op, m, matrix);
    }
    matrix.insert(target, m);
    target
}

/// Every block operand of `op` not yet in a matrix layout, [`adapt_into`]
/// matrix layout `m` for `op`.
fn adapt_operands(f: &mut Function, op: OpId, m: MatrixLayout, matrix: &mut HashMap<Value, MatrixLayout>) {
    let operands = f.op(op).operands.clone();
    for (i, v) in operands.into_iter().enumerate() {
        if f.ty(v).is_block() && !matrix.contains_key(&v) {
            let own = adapt_into(f, op, v, m, matrix);
            f.op_mut(op).operands[i] = own;
        }
    }
}

/// `v` in a matrix layout, right before `op`: a splat (the same in every
/// layout) is splat again there, anything else converted.
fn into_matrix_before(f: &mut Function, op: OpId, v: Value) -> Value {
    let Some(def) = f.def_op(v) else {
        return convert_before(f, op, v);
    };
    if !matches!(f.op(def).kind, OpKind::Splat) {
        return convert_before(f, op, v);
    }
    let (scalar, ty, loc) = (f.op(def).operands[0], f.ty(v).clone(), f.op(op).loc);
    let splat = f.create_op(OpKind::Splat, vec![scalar], vec![ty], Vec::new(), loc);
    insert_before(f, op, splat);
    f.op(splat).results[0]
}

/// Whether operand `i` of `op` may stay in the matrix layout: a dot's
/// accumulator, a loop's initial value or yielded value for a slot that
/// carries matrix values, a conversion's operand.
fn matrix_use_allowed(f: &Function, op: OpId, i: usize, matrix: &HashMap<Value, MatrixLayout>) -> bool {
    let d = f.op(op);
    match d.kind {
        // The accumulator, and operands (staged from their own layout).
        OpKind::Dot => i <= 2 && matrix.contains_key(&d.results[0]),
        // Elementwise operations computed in the matrix layout (pointer
        // arithmetic only for a store's addresses).
        ref k if k.is_elementwise() => d.results.first().is_some_and(|r| matrix.contains_key(r)),
        // Reductions along an axis combine in registers, and their
        // result broadcast back is in the matrix layout.
        OpKind::Reduce { .. } | OpKind::ArgReduce { .. } => !tree_reduction(f, op),
        OpKind::ConvertLayout => true,
        // A store whose addresses are in the matrix layout (`matrix_store`).
        OpKind::Store { .. } => matrix.contains_key(&d.operands[0]),
        OpKind::For => i >= 3 && matrix.contains_key(&d.results[i - 3]),
        OpKind::Yield => {
            parent_for(f, op).is_some_and(|body| f.block(body).args.get(i + 1).is_some_and(|a| matrix.contains_key(a)))
        }
        _ => false,
    }
}

/// The body of the `for` that `yield_op` ends, if a `for`'s.
fn parent_for(f: &Function, yield_op: OpId) -> Option<BlockId> {
    f.walk().into_iter().find_map(|op| {
        let d = f.op(op);
        if !matches!(d.kind, OpKind::For) {
            return None;
        }
        let body = d.regions[0];
        (f.block(body).ops.last() == Some(&yield_op)).then_some(body)
    })
}

/// Inserts `tk.convert_layout(v)` right before `op` (in `op`'s block);
/// gives the converted value.
fn convert_before(f: &mut Function, op: OpId, v: Value) -> Value {
    let ty = f.ty(v).clone();
    let loc = f.op(op).loc;
    let conv = f.create_op(OpKind::ConvertLayout, vec![v], vec![ty], Vec::new(), loc);
    insert_before(f, op, conv);
    f.op(conv).results[0]
}

/// Puts `new` right before `op` in `op`'s block.
pub(crate) fn insert_before(f: &mut Function, op: OpId, new: OpId) {
    let block = f.block_of(op).unwrap_or(f.entry);
    let at = f.block(block).ops.iter().position(|o| *o == op).unwrap_or(0);
    f.block_mut(block).ops.insert(at, new);
}

fn insert_conversions(
    f: &mut Function,
    b: BlockId,
    slices: &HashMap<Value, (MatrixLayout, u32)>,
    matrix: &HashMap<Value, MatrixLayout>,
) {
    let ops = f.block(b).ops.clone();
    let mut out = Vec::with_capacity(ops.len());
    // The value the shared memory holds, and the conversion that put it there.
    let mut shared: Option<(Value, Value)> = None;
    for op in ops {
        let clobbers = matches!(
            f.op(op).kind,
            OpKind::Dot
                | OpKind::ConvertLayout
                | OpKind::Reduce { .. }
                | OpKind::ArgReduce { .. }
                | OpKind::Scan { .. }
        );
        if !f.op(op).regions.is_empty() || clobbers {
            // Conversions inside regions, the exchanges of reductions, and
            // `dot` (which stages its operands there) overwrite shared
            // memory.
            shared = None;
        }
        // A broadcast of a slice back into its parent moves nothing.
        let from_slice = matches!(f.op(op).kind, OpKind::Broadcast)
            && f.op(op).operands.first().is_some_and(|v| slices.contains_key(v));
        // A transposition staged by its matrix dot moves nothing either.
        let folded = crate::transpose_loads::folded_into(f, op, &|v| matrix.contains_key(&v));
        if moves_elements(f, op) && !from_slice && !folded {
            let src = f.op(op).operands[0];
            let converted = match shared {
                Some((held, conv)) if held == src => conv,
                _ => {
                    let ty = f.ty(src).clone();
                    let loc = f.op(op).loc;
                    let conv = f.create_op(OpKind::ConvertLayout, vec![src], vec![ty], Vec::new(), loc);
                    out.push(conv);
                    let r = f.op(conv).results[0];
                    shared = Some((src, r));
                    r
                }
            };
            f.op_mut(op).operands[0] = converted;
        }
        out.push(op);
    }
    f.block_mut(b).ops = out;
}
