//! `tk.dot` and the layouts beyond blocked: the general dot (operands
//! staged in LDS, a loop over `k`), matrix-instruction dots (MFMA/WMMA)
//! with their accumulator layouts, operand staging, conversions into and
//! out of matrix layouts, and slices of matrix layouts (compact row
//! vectors, broadcast back by a register shuffle).

use super::*;

impl Emitter<'_> {
    /// `acc + a @ b` (`ins` = a, b, acc), each output a chain of fused
    /// multiply-adds in increasing `k`, as the language defines it. With
    /// one lane: through stack memory, a row of outputs at a time as one
    /// vector, in a loop over `k`. With many: `a` and `b` are staged in
    /// shared memory (both at once) and every lane computes the outputs it
    /// holds, in a loop over `k`. This is the general path, correct on
    /// every target; dots in a matrix layout go to `matrix_dot` instead.
    pub(super) fn dot(
        &mut self,
        op: OpId,
        ins: &[String],
        at: &Type,
        bt: &Type,
        out: &Type,
    ) -> Result<Option<String>, CodegenError> {
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
            // LLVM's code generators slow. Operands that host strips left
            // in buffers are read there; with strips, the result is
            // computed in a buffer of its own and left there.
            let d = self.f.op(op);
            let pty = "!llvm.ptr";
            let (a_buf, b_buf) = (
                self.buffered.get(&d.operands[0]).cloned(),
                self.buffered.get(&d.operands[1]).cloned(),
            );
            let result_buffer = self.strip_width().is_some();
            let needs_scratch = a_buf.is_none() || b_buf.is_none() || !result_buffer;
            let scratch = if needs_scratch {
                self.host_scratch()
            } else {
                String::new()
            };
            let (b_offset, c_offset) = dot_staging(at, bt);
            let c_offset = c_offset.div_ceil(16) * 16;
            let (avt, bvt) = (self.mty(at), self.mty(bt));
            let a_base = match a_buf {
                Some(b) => b,
                None => {
                    // Explicit alignment: a long vector's natural one is its size.
                    self.line(&format!(
                        "llvm.store {}, {scratch} {{alignment = 16 : i64}} : {avt}, {pty}",
                        ins[0]
                    ));
                    scratch.clone()
                }
            };
            let b_base = match b_buf {
                Some(b) => b,
                None => {
                    let p = self.def(&format!(
                        "llvm.getelementptr {scratch}[{b_offset}] : ({pty}) -> {pty}, i8"
                    ));
                    self.line(&format!(
                        "llvm.store {}, {p} {{alignment = 16 : i64}} : {bvt}, {pty}",
                        ins[1]
                    ));
                    p
                }
            };
            let c_base = if result_buffer {
                let r = self.strip_buffer(out);
                self.fill_buffer(&r, d.operands[2])?;
                r
            } else {
                let p = self.def(&format!(
                    "llvm.getelementptr {scratch}[{c_offset}] : ({pty}) -> {pty}, i8"
                ));
                self.line(&format!(
                    "llvm.store {}, {p} {{alignment = 16 : i64}} : {ot}, {pty}",
                    ins[2]
                ));
                p
            };
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
            if result_buffer {
                self.buffered.insert(d.results[0], c_base);
                return Ok(None);
            }
            return Ok(Some(
                self.def(&format!("llvm.load {c_base} {{alignment = 16 : i64}} : {pty} -> {ot}")),
            ));
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
        Ok(Some(r))
    }

    /// The layout Dist IR gives `v`.
    pub(super) fn value_layout(&self, v: Value) -> Option<Layout> {
        self.f.layouts.as_ref().and_then(|l| l.get(&v)).copied()
    }

    /// The registers-only layout block value `v` is held in: its matrix
    /// layout, its slice's parent, or the blocked layout of its type.
    pub(super) fn register_layout(&self, v: Value) -> RegisterLayout {
        match self.value_layout(v).and_then(|l| l.registers()) {
            Some(r) if self.lanes > 1 => r,
            _ => RegisterLayout::Blocked(self.layout(self.f.ty(v))),
        }
    }

    /// For a broadcast of a compact slice value (`from`) back into the
    /// matrix layout it is a slice of (`to`'s): that layout and the axis.
    pub(super) fn slice_into_parent(&self, from: Value, to: Value) -> Option<(MatrixLayout, u32)> {
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

    /// Which compact register of a slice along `dim` of `m` parent
    /// register `r` reads: `r` with the axis's register bits removed.
    pub(super) fn compact_index(r: u32, axis_bits: u32) -> u32 {
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
    pub(super) fn broadcast_slice(&mut self, x: &str, from: &Type, to: &Type, m: MatrixLayout, dim: u32) -> String {
        let axis_bits = m.axis_register_bits(dim);
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
    pub(super) fn convert_slice(&mut self, x: &str, from: Value, t: &Type, to: &Type) -> Result<String, CodegenError> {
        let Some(Layout::Slice {
            parent: RegisterLayout::Matrix(m),
            dim,
        }) = self.value_layout(from)
        else {
            return Err(internal("not a slice of a matrix layout"));
        };
        let axis_bits = m.axis_register_bits(dim);
        let flat = self.matrix_indices(m);
        let k = m.per_lane();
        let et = self.mty(&Type::block(t.elem, Vec::new()));
        let ct = self.mty(t);
        let is_bool = t.scalar_elem().is_some_and(ScalarType::is_bool);
        // One register of each compact class writes its row.
        let mut done = std::collections::HashSet::new();
        let rows: Vec<(u32, u32)> = (0..k)
            .map(|r| (r, Self::compact_index(r, axis_bits)))
            .filter(|(_, c)| done.insert(*c))
            .collect();
        self.block_through_shared(to, rows.len(), |e, i, mt| {
            let (r, c) = rows[i];
            let flat_r = e.def(&format!("vector.extract {flat}[{r}] : i32 from vector<{k}xi32>"));
            // The element's index in the reduced block: the axis removed.
            let at = if dim == 1 {
                let sh = e.const_i32(m.n.trailing_zeros());
                e.def(&format!("arith.shrui {flat_r}, {sh} : i32"))
            } else {
                let mask = e.const_i32(m.n - 1);
                e.def(&format!("arith.andi {flat_r}, {mask} : i32"))
            };
            let v = e.def(&format!("vector.extract {x}[{c}] : {et} from {ct}"));
            let v = if is_bool {
                e.def(&format!("arith.extui {v} : i1 to {mt}"))
            } else {
                v
            };
            Ok((at, v))
        })
    }

    /// This lane's flat element indices (one per register) in `lay`, as a
    /// `vector<K x i32>`.
    pub(super) fn flat_indices(&mut self, lay: RegisterLayout) -> String {
        match lay {
            RegisterLayout::Matrix(m) => self.matrix_indices(m),
            RegisterLayout::Blocked(b) => self.make_range(&Type::block(Elem::Scalar(ScalarType::I32), vec![b.n]), 0),
        }
    }

    /// This lane's flat element indices (one per register) in a matrix
    /// layout, as a `vector<K x i32>`.
    pub(super) fn matrix_indices(&mut self, m: MatrixLayout) -> String {
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
    pub(super) fn convert_matrix(&mut self, x: &str, from: Value, to: Value, t: &Type) -> Result<String, CodegenError> {
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
    pub(super) fn matrix_dot(
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
        let a_registers = self.a_fragment_registers(op);
        let preloaded = self.preloaded.get(&op).cloned();
        let exchange = match (&a_registers, &preloaded) {
            (None, None) => self.a_fragment_exchange(op),
            _ => None,
        };
        let a_elsewhere = a_registers.is_some() || preloaded.is_some() || exchange.is_some();
        let (lds, pty, b_base) = match self.staged.remove(&op) {
            Some(staged) => staged,
            None => self.stage_matrix_operands(op, ins, staging, a_elsewhere)?,
        };
        let a_ty = self.mty(at);
        // The partner's registers the fragments need, traded once.
        let traded = match &exchange {
            Some(x) => Some(self.trade_registers(&ins[0], at, x)?),
            None => None,
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
        for (step, k0) in (0..k).step_by(ik as usize).enumerate() {
            let a_frags: Vec<String> = match (&a_registers, &preloaded) {
                (_, Some(frags)) => frags[step].clone(),
                (None, None) if exchange.is_some() => {
                    let (x, (got, got_ty, is_lower)) = (
                        exchange.as_ref().ok_or_else(|| internal("exchange"))?,
                        traded.as_ref().ok_or_else(|| internal("traded"))?,
                    );
                    let own = self.layout(at).per_lane() as usize;
                    let by_permutes = self.exchanged_fragments_by_permutes(
                        x,
                        (ins[0].as_str(), a_ty.as_str()),
                        (got.as_str(), got_ty.as_str()),
                        is_lower,
                        (tiles_m, step, len, &vf),
                    )?;
                    if let Some(frags) = by_permutes {
                        frags
                    } else {
                        // `vector.shuffle` numbers the traded values after
                        // the lane's own registers.
                        let place: HashMap<u32, usize> =
                            x.traded.iter().enumerate().map(|(i, r)| (*r, own + i)).collect();
                        let mut frags = Vec::new();
                        for tm in 0..tiles_m as usize {
                            let mut by_class = Vec::new();
                            for class in &x.sources {
                                let picked: Vec<String> = class[tm][step]
                                    .iter()
                                    .map(|&(partner, r)| match (partner, place.get(&r)) {
                                        (true, Some(i)) => Ok(i.to_string()),
                                        (true, None) => Err(internal("a fragment register not traded")),
                                        (false, _) => Ok(r.to_string()),
                                    })
                                    .collect::<Result<_, _>>()?;
                                by_class.push(self.def(&format!(
                                    "vector.shuffle {}, {got} [{}] : {a_ty}, {got_ty}",
                                    ins[0],
                                    picked.join(", ")
                                )));
                            }
                            frags.push(self.def(&format!(
                                "arith.select {is_lower}, {}, {} : {vf}",
                                by_class[0], by_class[1]
                            )));
                        }
                        frags
                    }
                }
                // The lane's own registers, picked (no shared memory).
                (Some(regs), None) => (0..tiles_m as usize)
                    .map(|tm| {
                        let picked: Vec<String> = regs[tm][step].iter().map(u32::to_string).collect();
                        self.def(&format!(
                            "vector.shuffle {}, {} [{}] : {a_ty}, {a_ty}",
                            ins[0],
                            ins[0],
                            picked.join(", ")
                        ))
                    })
                    .collect(),
                _ => a_rows.iter().map(|r| fragment(self, &lds, r, k0, a_align)).collect(),
            };
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
    /// (`b` is written transposed, `N` rows of `K`: from `b^T`'s
    /// registers row by row when `b` is a transposition folded into the
    /// dot, `transpose_loads::folded_into_dot`; `a` is not written when
    /// the dot takes its fragments from registers, `a_in_registers`.)
    pub(super) fn stage_matrix_operands(
        &mut self,
        dot: OpId,
        ins: &[String],
        staging: MatrixStaging,
        a_in_registers: bool,
    ) -> Result<(String, &'static str, String), CodegenError> {
        let f = self.f;
        let (a, b) = (f.op(dot).operands[0], f.op(dot).operands[1]);
        let b_source = folded_source(f, b);
        let b_transposed = b_source == b;
        let (lds, pty) = self.shared()?;
        self.barrier();
        let b_base = self.def(&format!(
            "llvm.getelementptr {lds}[{}] : ({pty}) -> {pty}, i8",
            staging.b_offset
        ));
        let b_layout = self.register_layout(b_source);
        let pairs = self
            .key_pair_bits(f.ty(b), b_layout, staging.b_row)
            .filter(|_| b_transposed);
        // With key pairs `b` goes first: their lane exchanges may pass
        // through the start of shared memory (simulated), where `a` goes.
        if let Some(bits) = pairs {
            self.scatter_key_pairs(&ins[1], (f.ty(b), b_layout), &b_base, staging.b_row, bits)?;
        }
        if !a_in_registers {
            self.scatter_rows(&ins[0], (f.ty(a), self.register_layout(a)), &lds, staging.a_row, false)?;
        }
        if pairs.is_none() {
            self.scatter_rows(
                &ins[1],
                (f.ty(b_source), b_layout),
                &b_base,
                staging.b_row,
                b_transposed,
            )?;
        }
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
    pub(super) fn stage_early(&mut self, body: BlockId) -> Result<(), CodegenError> {
        let f = self.f;
        for &op in &f.block(body).ops {
            let d = f.op(op);
            let is_matrix_dot =
                matches!(d.kind, OpKind::Dot) && matches!(self.value_layout(d.results[0]), Some(Layout::Matrix(_)));
            if is_matrix_dot {
                // (A transposition folded into the dot holds its operand's
                // registers: that operand is what must be ready.)
                let sources = [d.operands[0], folded_source(f, d.operands[1])];
                let ready = sources.iter().all(|v| match f.value(*v).def {
                    tritonc_ir::ValueDef::Arg(b, _) => b == body,
                    tritonc_ir::ValueDef::Result(def, _) => !f.block(body).ops.contains(&def),
                });
                let Some(Layout::Matrix(m)) = self.value_layout(d.results[0]) else {
                    return Ok(());
                };
                if ready {
                    let (at, bt) = (f.ty(d.operands[0]), f.ty(d.operands[1]));
                    let staging = matrix_staging(at, bt, m).ok_or_else(|| internal("dot of non-matrices"))?;
                    let ins = [self.name(sources[0])?, self.name(sources[1])?];
                    let a_in_registers = self.a_fragment_registers(op).is_some()
                        || self.preloaded.contains_key(&op)
                        || self.a_fragment_exchange(op).is_some();
                    let staged = self.stage_matrix_operands(op, &ins, staging, a_in_registers)?;
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

    /// Before loop `body`: for each matrix dot directly in it whose first
    /// operand is defined before the loop (attention's `q`) and whose
    /// fragments are no more registers than the operand, stages that
    /// operand once and reads all of the lane's fragments into registers,
    /// so the loop writes and reads only `b` (Triton keeps `q`'s
    /// fragments in registers the same way). The fragments replace the
    /// operand's own registers, which are then dead: about as many live
    /// registers as before.
    pub(super) fn preload_invariant_fragments(&mut self, body: BlockId) -> Result<(), CodegenError> {
        let f = self.f;
        for &op in &f.block(body).ops {
            let d = f.op(op);
            let Some(Layout::Matrix(m)) = d.results.first().and_then(|r| self.value_layout(*r)) else {
                continue;
            };
            if !matches!(d.kind, OpKind::Dot)
                || self.a_fragment_registers(op).is_some()
                || self.a_fragment_exchange(op).is_some()
            {
                continue;
            }
            let a = d.operands[0];
            let invariant = match f.value(a).def {
                tritonc_ir::ValueDef::Arg(..) => false,
                tritonc_ir::ValueDef::Result(def, _) => !self.names_defined_in(body, def),
            };
            if !invariant || !self.names.contains_key(&a) {
                continue;
            }
            let (at, bt) = (f.ty(a), f.ty(d.operands[1]));
            let sa = at.scalar_elem().ok_or_else(|| internal("dot of pointers"))?;
            let k = match &at.shape[..] {
                [_, k] => *k,
                _ => return Err(internal("dot of non-matrices")),
            };
            let staging = matrix_staging(at, bt, m).ok_or_else(|| internal("dot of non-matrices"))?;
            let (fam, ik) = (m.family(), m.instr.k);
            let (t, len) = (fam.tile(), fam.fragment(ik));
            // Only where the fragments take no more registers than the
            // operand (not WMMA's, which repeat over the wave's halves).
            if m.tiles_m() * (k / ik) * len > self.layout(at).per_lane() {
                continue;
            }
            let (lds, pty) = self.shared()?;
            self.barrier();
            let x = self.name(a)?;
            self.scatter_rows(&x, (at, self.register_layout(a)), &lds, staging.a_row, false)?;
            self.barrier();
            let (wm, _, h, li) = self.matrix_lane(m);
            let c = |s: &mut Self, v: u32| s.splat_const(&v.to_string(), "i32");
            let half_k = c(self, fam.fragment_k(t, ik));
            let lk = self.def(&format!("arith.muli {h}, {half_k} : i32"));
            let rows_c = c(self, m.tiles_m() * t);
            let wrow = self.def(&format!("arith.muli {wm}, {rows_c} : i32"));
            let row = c(self, staging.a_row);
            let e = sty(sa);
            let frag_bytes = len * sa.bytes();
            let align = (1u32 << ((staging.a_row * sa.bytes()) | frag_bytes).trailing_zeros()).min(16);
            let mut starts = Vec::new();
            for tile in 0..m.tiles_m() {
                let tc = c(self, tile * t);
                let r = self.def(&format!("arith.addi {wrow}, {tc} : i32"));
                let r = self.def(&format!("arith.addi {r}, {li} : i32"));
                let rk = self.def(&format!("arith.muli {r}, {row} : i32"));
                starts.push(self.def(&format!("arith.addi {rk}, {lk} : i32")));
            }
            let mut frags = Vec::new();
            for k0 in (0..k).step_by(ik as usize) {
                let mut per_tile = Vec::new();
                for start in &starts {
                    let off = self.const_i32(k0);
                    let at_k = self.def(&format!("arith.addi {start}, {off} : i32"));
                    let p = self.def(&format!(
                        "llvm.getelementptr {lds}[{at_k}] : ({pty}, i32) -> {pty}, {e}"
                    ));
                    per_tile.push(self.def(&format!(
                        "llvm.load {p} {{alignment = {align} : i64}} : {pty} -> vector<{len}x{e}>"
                    )));
                }
                frags.push(per_tile);
            }
            self.lds_pending = [true; 2];
            self.preloaded.insert(op, frags);
        }
        Ok(())
    }

    /// Whether operation `op` is in block `body` (at any depth).
    fn names_defined_in(&self, body: BlockId, op: OpId) -> bool {
        let f = self.f;
        let mut at = f.block_of(op);
        while let Some(b) = at {
            if b == body {
                return true;
            }
            at = f
                .walk()
                .into_iter()
                .find(|o| f.op(*o).regions.contains(&b))
                .and_then(|o| f.block_of(o));
        }
        false
    }

    pub(super) fn const_i32(&mut self, v: u32) -> String {
        self.splat_const(&v.to_string(), "i32")
    }

    /// Puts a dot's operands (`ins[0]`, `ins[1]`) in shared memory at the
    /// offsets [`dot_staging`] gives, after the previous readers are done;
    /// gives the shared memory, its pointer type and `b`'s start.
    pub(super) fn stage_dot_operands(
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

    /// When matrix dot `dot`'s first operand is in a matrix layout whose
    /// lanes hold its fragments together with one partner each (lane
    /// `l ^ 2^bit`), and trading registers with it is a move between
    /// registers (`Target::exchange_in_registers`): attention's `p` on
    /// gfx1100, in the transposed WMMA accumulator layout a lane holds
    /// the even or the odd columns of its row, and WMMA's operand wants
    /// all 16 in every lane. Where every position of each fragment is, by
    /// the lane's bit `bit`; `None` when a fragment is in neither lane.
    pub(super) fn a_fragment_exchange(&self, dot: OpId) -> Option<FragmentExchange> {
        let f = self.f;
        let d = f.op(dot);
        let bytes = f.ty(d.operands[0]).scalar_elem()?.bytes();
        if !(bytes == 2 || bytes == 4) || self.lanes < 2 {
            return None;
        }
        // Exchanges through shared memory (simulated) use slots at its
        // start, which must not be `b`'s.
        let Some(Layout::Matrix(m)) = self.value_layout(d.results[0]) else {
            return None;
        };
        let staging = matrix_staging(f.ty(d.operands[0]), f.ty(d.operands[1]), m)?;
        if staging.b_offset < self.lanes * 8 {
            return None;
        }
        let (ma, wanted) = self.a_fragment_elements(dot)?;
        let wave_bits = self.target.wave_size().trailing_zeros();
        'bits: for bit in 0..wave_bits {
            if !self.target.exchange_in_registers(bit) {
                continue;
            }
            let mut sources: [Option<FragmentSources>; 2] = [None, None];
            for (lane, elements) in (0..self.lanes).zip(&wanted) {
                let (own, other) = (lane_registers(ma, lane), lane_registers(ma, lane ^ (1 << bit)));
                let pattern: Option<FragmentSources> = map_fragments(elements, |e| match (own.get(e), other.get(e)) {
                    (Some(r), _) => Some((false, *r)),
                    (None, Some(r)) => Some((true, *r)),
                    (None, None) => None,
                });
                let Some(pattern) = pattern else { continue 'bits };
                let class = &mut sources[((lane >> bit) & 1) as usize];
                match class {
                    None => *class = Some(pattern),
                    Some(p) if *p == pattern => {}
                    Some(_) => continue 'bits,
                }
            }
            let [Some(lower), Some(upper)] = sources else { continue };
            let mut traded: Vec<u32> = lower
                .iter()
                .chain(&upper)
                .flatten()
                .flatten()
                .filter(|(partner, _)| *partner)
                .map(|(_, r)| *r)
                .collect();
            traded.sort_unstable();
            traded.dedup();
            if traded.is_empty() {
                return None;
            }
            return Some(FragmentExchange {
                bit,
                sources: [lower, upper],
                traded,
            });
        }
        None
    }

    /// The fragments of an exchange (`a_fragment_exchange`) of 16-bit
    /// elements built 32 bits at a time: each fragment word is one byte
    /// permute (`Target::byte_permute`, `v_perm_b32`) of two of the lane's
    /// own or the partner's words, its selector chosen once per lane by
    /// whether the lane is the lower or the upper of the pair. `None` when
    /// the values do not pack into words (odd counts, 32-bit elements),
    /// some word needs more than two source words, or the target has no
    /// byte permute: the element-wise shuffles then.
    fn exchanged_fragments_by_permutes(
        &mut self,
        x: &FragmentExchange,
        (a, a_ty): (&str, &str),
        (got, got_ty): (&str, &str),
        is_lower: &str,
        (tiles_m, step, len, vf): (u32, usize, u32, &str),
    ) -> Result<Option<Vec<String>>, CodegenError> {
        let own = a_ty
            .strip_prefix("vector<")
            .and_then(|t| t.split_once('x'))
            .and_then(|(n, e)| Some((n.parse::<usize>().ok()?, e)));
        let Some((own, elem)) = own else { return Ok(None) };
        let traded = x.traded.len();
        let two_bytes = matches!(elem, "f16>" | "bf16>" | "i16>");
        if !two_bytes || !own.is_multiple_of(2) || !traded.is_multiple_of(2) || !len.is_multiple_of(2) {
            return Ok(None);
        }
        let place: HashMap<u32, usize> = x.traded.iter().enumerate().map(|(i, r)| (*r, i)).collect();
        // Where each half of a fragment word comes from: (partner, word,
        // high half).
        let half_of = |&(partner, r): &(bool, u32)| -> Result<(bool, usize, bool), CodegenError> {
            let index = if partner {
                *place
                    .get(&r)
                    .ok_or_else(|| internal("a fragment register not traded"))?
            } else {
                r as usize
            };
            Ok((partner, index / 2, index % 2 == 1))
        };
        // Per tile, per fragment word: its two halves for the lower lanes,
        // then its two for the upper lanes.
        let mut plan: Vec<Vec<Vec<(bool, usize, bool)>>> = Vec::new();
        for tm in 0..tiles_m as usize {
            let (lower, upper) = (&x.sources[0][tm][step], &x.sources[1][tm][step]);
            let words: Vec<Vec<(bool, usize, bool)>> = lower
                .chunks(2)
                .zip(upper.chunks(2))
                .map(|(lp, up)| lp.iter().chain(up).map(half_of).collect::<Result<_, _>>())
                .collect::<Result<_, _>>()?;
            plan.push(words);
        }
        // The distinct source words of a fragment word's halves.
        let sources = |halves: &[(bool, usize, bool)]| -> Vec<(bool, usize)> {
            let mut srcs: Vec<(bool, usize)> = Vec::new();
            for &(p, w, _) in halves {
                if !srcs.contains(&(p, w)) {
                    srcs.push((p, w));
                }
            }
            srcs
        };
        // One permute with a per-lane selector builds a fragment word when
        // the lower and the upper lanes' halves of it come from the same
        // two source words; otherwise (or without a byte permute) the
        // element-wise shuffles.
        let permutable =
            self.target.has_byte_permute() && plan.iter().flatten().all(|h| h.len() == 4 && sources(h).len() <= 2);
        if !permutable {
            return Ok(None);
        }
        let ow = self.def(&format!("vector.bitcast {a} : {a_ty} to vector<{}xi32>", own / 2));
        let gw = self.def(&format!(
            "vector.bitcast {got} : {got_ty} to vector<{}xi32>",
            traded / 2
        ));
        // Word `w` of the lane's own registers or of the partner's.
        let mut words: HashMap<(bool, usize), String> = HashMap::new();
        let mut word = |s: &mut Self, partner: bool, w: usize| -> String {
            words
                .entry((partner, w))
                .or_insert_with(|| {
                    let (v, n) = if partner { (&gw, traded / 2) } else { (&ow, own / 2) };
                    s.def(&format!("vector.extract {v}[{w}] : i32 from vector<{n}xi32>"))
                })
                .clone()
        };
        let mut selectors: HashMap<(u32, u32), String> = HashMap::new();
        let mut frags = Vec::new();
        for tile in &plan {
            let mut out = Vec::new();
            for halves in tile {
                let srcs = sources(halves);
                let (hi_src, lo_src) = (srcs[0], *srcs.get(1).unwrap_or(&srcs[0]));
                // Selector bytes: `lo` is bytes 0-3, `hi` bytes 4-7.
                let sel = |h: &[(bool, usize, bool)]| -> u32 {
                    h.iter().enumerate().fold(0, |acc, (pos, &(p, w, high))| {
                        let base = if (p, w) == lo_src { 0 } else { 4 };
                        let b = base + if high { 2 } else { 0 };
                        acc | (b | (b + 1) << 8) << (16 * pos)
                    })
                };
                let (sl, su) = (sel(&halves[..2]), sel(&halves[2..]));
                let selector = match selectors.get(&(sl, su)) {
                    Some(v) => v.clone(),
                    None => {
                        let (a, b) = (self.const_i32(sl), self.const_i32(su));
                        let v = self.def(&format!("arith.select {is_lower}, {a}, {b} : i32"));
                        selectors.insert((sl, su), v.clone());
                        v
                    }
                };
                let (hi, lo) = (word(self, hi_src.0, hi_src.1), word(self, lo_src.0, lo_src.1));
                self.next += 1;
                let name = format!("perm{}", self.next);
                let code = self
                    .target
                    .byte_permute(&hi, &lo, &selector, &name)
                    .ok_or_else(|| internal("byte permute"))?;
                for l in code.lines() {
                    self.line(l);
                }
                out.push(format!("%{name}"));
            }
            let n = out.len();
            let v = self.def(&format!("vector.from_elements {} : vector<{n}xi32>", out.join(", ")));
            frags.push(self.def(&format!("vector.bitcast {v} : vector<{n}xi32> to {vf}")));
        }
        Ok(Some(frags))
    }

    /// Trades the registers `x.traded` of `a` (type `at`) with the partner
    /// lane (two 2-byte elements per 32-bit exchange): the partner's
    /// values as one vector in that order, its type, and whether this is
    /// the lower lane of the pair.
    fn trade_registers(
        &mut self,
        a: &str,
        at: &Type,
        x: &FragmentExchange,
    ) -> Result<(String, String, String), CodegenError> {
        let s = at.scalar_elem().ok_or_else(|| internal("dot of pointers"))?;
        let (e, a_ty) = (sty(s), self.mty(at));
        let per = if s.bytes() == 2 { 2 } else { 1 };
        let mut got = Vec::new();
        for chunk in x.traded.chunks(per) {
            let vals: Vec<String> = chunk
                .iter()
                .map(|r| self.def(&format!("vector.extract {a}[{r}] : {e} from {a_ty}")))
                .collect();
            let bits = if per == 2 {
                let second = vals.get(1).cloned().unwrap_or_else(|| vals[0].clone());
                let v = self.def(&format!("vector.from_elements {}, {second} : vector<2x{e}>", vals[0]));
                let v = self.def(&format!("vector.bitcast {v} : vector<2x{e}> to vector<1xi32>"));
                self.def(&format!("vector.extract {v}[0] : i32 from vector<1xi32>"))
            } else {
                self.def(&format!("arith.bitcast {} : {e} to i32", vals[0]))
            };
            let other = self.lane_partner(&bits, ScalarType::I32, x.bit, true)?;
            if per == 2 {
                let v = self.def(&format!("vector.broadcast {other} : i32 to vector<1xi32>"));
                let v = self.def(&format!("vector.bitcast {v} : vector<1xi32> to vector<2x{e}>"));
                for i in 0..chunk.len() {
                    got.push(self.def(&format!("vector.extract {v}[{i}] : {e} from vector<2x{e}>")));
                }
            } else {
                got.push(self.def(&format!("arith.bitcast {other} : i32 to {e}")));
            }
        }
        let got_ty = format!("vector<{}x{e}>", got.len());
        let v = self.def(&format!("vector.from_elements {} : {got_ty}", got.join(", ")));
        let lane = self.lane();
        let is_lower = self.lane_bit_clear(&lane, x.bit);
        Ok((v, got_ty, is_lower))
    }

    /// When matrix dot `dot`'s first operand is in a matrix layout that
    /// already gives every lane its own fragments (attention's `p`, in the
    /// transposed accumulator layout, for the second dot: Triton converts
    /// it in registers too): for each row tile and each instruction step
    /// along `K`, the registers holding the lane's fragment, the same in
    /// every lane. None when some fragment is elsewhere (then `a` is
    /// staged through shared memory, or traded: `a_fragment_exchange`).
    pub(super) fn a_fragment_registers(&self, dot: OpId) -> Option<Vec<Vec<Vec<u32>>>> {
        let (ma, wanted) = self.a_fragment_elements(dot)?;
        let mut regs: Option<Vec<Vec<Vec<u32>>>> = None;
        for (lane, elements) in (0..self.lanes).zip(&wanted) {
            let own = lane_registers(ma, lane);
            let found = map_fragments(elements, |e| own.get(e).copied())?;
            match &regs {
                None => regs = Some(found),
                Some(r) if *r == found => {}
                Some(_) => return None,
            }
        }
        regs
    }

    /// For matrix dot `dot` whose result and first operand are in matrix
    /// layouts: that operand's layout, and for every lane of the program,
    /// by row tile, instruction step along `K` and fragment position, the
    /// element (row, column) of the operand the instruction wants there.
    fn a_fragment_elements(&self, dot: OpId) -> Option<(MatrixLayout, Vec<FragmentElements>)> {
        let f = self.f;
        let d = f.op(dot);
        let Some(Layout::Matrix(m)) = self.value_layout(d.results[0]) else {
            return None;
        };
        let Some(Layout::Matrix(ma)) = self.value_layout(d.operands[0]) else {
            return None;
        };
        let k = *f.ty(d.operands[0]).shape.get(1)?;
        let fam = m.family();
        let (t, ik, len) = (fam.tile(), m.instr.k, fam.fragment(m.instr.k));
        let wanted = (0..self.lanes)
            .map(|lane| {
                let (wave, l) = (lane / fam.wave(), lane % fam.wave());
                let wm = wave / m.waves_n;
                (0..m.tiles_m())
                    .map(|tm| {
                        let row = (wm * m.tiles_m() + tm) * t + l % t;
                        (0..k)
                            .step_by(ik as usize)
                            .map(|k0| {
                                let first = k0 + fam.fragment_k(l, ik);
                                (0..len).map(|j| (row, first + j)).collect()
                            })
                            .collect()
                    })
                    .collect()
            })
            .collect();
        Some((ma, wanted))
    }

    /// This lane's place in a matrix layout: its wave's row and column in
    /// the wave grid, its half of the wave (`l / T`, `T` the tile) and its
    /// lane within the half (`l % T`).
    pub(super) fn matrix_lane(&mut self, m: MatrixLayout) -> (String, String, String, String) {
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
}

/// The operand of the transposition `v` is when the dot folds it in
/// By row tile, instruction step and fragment position: an element (row,
/// column) of a dot's first operand.
type FragmentElements = Vec<Vec<Vec<(u32, u32)>>>;

/// Register of each element a lane holds in matrix layout `m`.
fn lane_registers(m: MatrixLayout, lane: u32) -> HashMap<(u32, u32), u32> {
    (0..m.per_lane()).map(|r| (m.element(lane, r), r)).collect()
}

/// `elements` with every element mapped by `at`; `None` if any is.
fn map_fragments<T>(elements: &FragmentElements, at: impl Fn(&(u32, u32)) -> Option<T>) -> Option<Vec<Vec<Vec<T>>>> {
    elements
        .iter()
        .map(|tile| tile.iter().map(|step| step.iter().map(&at).collect()).collect())
        .collect()
}

/// By row tile, step and fragment position: whether the element is in the
/// partner lane (else this one), and its register there.
pub(super) type FragmentSources = Vec<Vec<Vec<(bool, u32)>>>;

/// A dot's first operand fragments gathered from a lane and its partner
/// (see [`Emitter::a_fragment_exchange`]).
#[derive(Debug, Clone)]
pub(super) struct FragmentExchange {
    /// The lane bit in which partners differ.
    pub bit: u32,
    /// By the lane's `bit` (clear, set), row tile and step: where each
    /// position of the fragment is, in the partner (true) or this lane,
    /// and in which register.
    pub sources: [FragmentSources; 2],
    /// The registers partners trade, in order.
    pub traded: Vec<u32>,
}

/// (`transpose_loads::folded_into_dot`: the same registers, staged row by
/// row), else `v` itself.
fn folded_source(f: &Function, v: Value) -> Value {
    match f.def_op(v) {
        Some(p) if tritonc_passes::transpose_loads::folded_into_dot(f, p) => f.op(p).operands[0],
        _ => v,
    }
}
