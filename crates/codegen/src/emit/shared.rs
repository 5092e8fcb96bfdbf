//! Elements between lanes: each element's flat index in a register
//! layout (`make_range`, `range_along`), and moving blocks through the
//! program's shared memory (LDS): writes at each element's index,
//! barriers, and reads at the indices another layout or an index map
//! gives.

use super::*;

impl Emitter<'_> {
    pub(super) fn make_range(&mut self, t: &Type, start: i32) -> String {
        let lay = self.layout(t);
        let k = lay.per_lane();
        let vty = format!("vector<{k}xi32>");
        let idx = if self.lanes == 1 {
            let s = self.def(&format!("vector.step : vector<{k}xindex>"));
            let idx = self.def(&format!("arith.index_cast {s} : vector<{k}xindex> to {vty}"));
            match self.strip_of(t).map(|s| s.offset.clone()) {
                Some(offset) => {
                    let o = self.def(&format!("vector.broadcast {offset} : i32 to {vty}"));
                    self.def(&format!("arith.addi {o}, {idx} : {vty}"))
                }
                None => idx,
            }
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
    /// computed from where the layout keeps each bit of it (no data
    /// moves): the lane's part (its lane bits, one scalar) broadcast and
    /// the registers' parts (constants) added last, so that LLVM can add
    /// a loop's offset to the lane's part once (`start_n + cols` is one
    /// add per iteration and one per register, not a loop-invariant
    /// register per element).
    pub(super) fn range_along(&mut self, t: &Type, lay: RegisterLayout, axis: usize, start: i32) -> String {
        let k = lay.per_lane();
        let vi = format!("vector<{k}xi32>");
        let inner: u64 = t.shape[axis + 1..].iter().map(|d| u64::from(*d)).product();
        if self.lanes == 1 {
            // The host: one lane holds the whole block (or, in a run in
            // strips, the strip), from its flat indices (`vector.step`; no
            // constant per element).
            let mut e = self.make_range(&Type::block(Elem::Scalar(ScalarType::I32), vec![t.numel() as u32]), 0);
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
            return e;
        }
        let (lo, len) = (inner.trailing_zeros(), t.shape[axis].trailing_zeros());
        // Where coordinate bit b is: a register bit or a lane bit.
        let bits: Vec<IndexBit> = (0..len).map(|b| lay.index_bit(lo + b)).collect();
        let lanes_used = bits.iter().any(|b| matches!(b, IndexBit::Lane(_)));
        let lane_part = if lanes_used {
            let lane = self.lane();
            // Runs of coordinate bits kept in consecutive lane bits, each
            // `((lane >> j) & mask) << b`.
            let mut runs: Vec<(usize, u32, u32)> = Vec::new();
            for (b, bit) in bits.iter().enumerate() {
                let IndexBit::Lane(j) = *bit else { continue };
                match runs.last_mut() {
                    Some((rb, rj, n)) if *rb + *n as usize == b && *rj + *n == j => *n += 1,
                    _ => runs.push((b, j, 1)),
                }
            }
            let mut acc: Option<String> = None;
            for (b, j, n) in runs {
                let mut x = lane.clone();
                if j > 0 {
                    let sh = self.splat_const(&j.to_string(), "i32");
                    x = self.def(&format!("arith.shrui {x}, {sh} : i32"));
                }
                let mask = self.splat_const(&((1u64 << n) - 1).to_string(), "i32");
                x = self.def(&format!("arith.andi {x}, {mask} : i32"));
                if b > 0 {
                    let at = self.splat_const(&b.to_string(), "i32");
                    x = self.def(&format!("arith.shli {x}, {at} : i32"));
                }
                acc = Some(match acc {
                    None => x,
                    Some(a) => self.def(&format!("arith.ori {a}, {x} : i32")),
                });
            }
            acc
        } else {
            None
        };
        let offsets: Vec<String> = (0..k)
            .map(|r| {
                let reg_part: u32 = bits
                    .iter()
                    .enumerate()
                    .filter_map(|(b, bit)| match *bit {
                        IndexBit::Register(q) => Some(((r >> q) & 1) << b),
                        IndexBit::Lane(_) => None,
                    })
                    .sum();
                (i64::from(reg_part) + i64::from(start)).to_string()
            })
            .collect();
        let all_zero = offsets.iter().all(|o| o == "0");
        match lane_part {
            Some(l) => {
                let lv = self.def(&format!("vector.broadcast {l} : i32 to {vi}"));
                if all_zero {
                    return lv;
                }
                let cv = self.def(&format!("arith.constant dense<[{}]> : {vi}", offsets.join(", ")));
                self.def(&format!("arith.addi {lv}, {cv} : {vi}"))
            }
            None => self.def(&format!("arith.constant dense<[{}]> : {vi}", offsets.join(", "))),
        }
    }

    /// `out[e] = in[src(e)]` for every element: data movement between
    /// elements (broadcasts, transpositions). With one lane this is a
    /// shuffle of the block's vector; with many, the block goes through
    /// shared memory.
    pub(super) fn move_elements(
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
        let src_idx = match register_index_parts(to_layout, self.lanes) {
            // Every lane holds distinct elements: element `(lane, r)` is
            // element `(lane, 0)` plus `parts[r]`, sharing no bit, and the
            // map moves bit fields, so the source is the map of the lane's
            // first element (once) plus the map of each part (constants).
            Some(parts) => {
                let first = self.def(&format!("vector.extract {out_idx}[0] : i32 from {vi}"));
                let lane_src = self.emit_index_map(&first, "i32", src);
                let lane_v = self.def(&format!("vector.broadcast {lane_src} : i32 to {vi}"));
                let consts: Vec<String> = parts.iter().map(|p| src.apply(u64::from(*p)).to_string()).collect();
                let c = self.def(&format!("arith.constant dense<[{}]> : {vi}", consts.join(", ")));
                self.def(&format!("arith.addi {lane_v}, {c} : {vi}"))
            }
            None => self.emit_index_map(&out_idx, &vi, src),
        };
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
    pub(super) fn emit_index_map(&mut self, e: &str, vi: &str, map: &IndexMap) -> String {
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

    pub(super) fn shared(&self) -> Result<(String, &'static str), CodegenError> {
        self.shared_mem
            .clone()
            .ok_or_else(|| internal("shared memory used but not allocated"))
    }

    /// Writes every element of block `x` to shared memory at its flat
    /// index, then waits for all lanes (a `tk.convert_layout`).
    pub(super) fn write_shared(&mut self, x: &str, t: &Type) -> Result<(), CodegenError> {
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
    pub(super) fn scatter_rows(
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
            RegisterLayout::Matrix(_) => lay.register_run(cols.trailing_zeros()),
        };
        let run = if cols.is_multiple_of(run) { run } else { 1 };
        let idx = self.flat_indices(lay);
        let (vi, vt) = (format!("vector<{k}xi32>"), format!("vector<{k}x{mt}>"));
        let c = |e: &mut Self, v: u32| e.splat_const(&v.to_string(), "i32");
        let (cols_c, row_c) = (c(self, cols), c(self, row));
        let bytes = self.mem_bytes(t);
        // Where each lane holds distinct elements and rows are a power of
        // two long, a register's row and column are the lane's (register
        // 0's) plus constants: one address a lane, the registers' writes
        // at constant offsets from it (which the LDS instructions take as
        // immediates), instead of an address per register kept live.
        let lane_base = match cols.is_power_of_two().then(|| register_index_parts(lay, self.lanes)) {
            Some(Some(parts)) => {
                let first = self.def(&format!("vector.extract {idx}[0] : i32 from {vi}"));
                let at = self.staging_index(&first, (&cols_c, &row_c), transposed);
                let p0 = self.def(&format!(
                    "llvm.getelementptr {base}[{at}] : ({pty}, i32) -> {pty}, {mt}"
                ));
                Some((p0, parts))
            }
            _ => None,
        };
        for g in 0..k / run {
            let p = match &lane_base {
                Some((p0, parts)) => {
                    let f = parts[(g * run) as usize];
                    let (r, col) = (f / cols, f % cols);
                    let (major, minor) = if transposed { (col, r) } else { (r, col) };
                    match major * row + minor {
                        0 => p0.clone(),
                        offset => self.def(&format!("llvm.getelementptr {p0}[{offset}] : ({pty}) -> {pty}, {mt}")),
                    }
                }
                None => {
                    let first = self.def(&format!("vector.extract {idx}[{}] : i32 from {vi}", g * run));
                    let at = self.staging_index(&first, (&cols_c, &row_c), transposed);
                    self.def(&format!(
                        "llvm.getelementptr {base}[{at}] : ({pty}, i32) -> {pty}, {mt}"
                    ))
                }
            };
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

    /// Where flat element index `first` of a block of `cols` columns is
    /// staged, rows `row` elements apart (`transposed`: column `c` is
    /// staged as row `c`): an element index into shared memory.
    fn staging_index(&mut self, first: &str, (cols_c, row_c): (&str, &str), transposed: bool) -> String {
        let r = self.def(&format!("arith.divui {first}, {cols_c} : i32"));
        let col = self.def(&format!("arith.remui {first}, {cols_c} : i32"));
        let (major, minor) = if transposed { (col, r) } else { (r, col) };
        let at = self.def(&format!("arith.muli {major}, {row_c} : i32"));
        self.def(&format!("arith.addi {at}, {minor} : i32"))
    }

    /// For `b` (`[K, N]`) staged transposed (`b[k][n]` at `n * row + k`),
    /// when keys `k` and `k + 1` are in partner lanes (key bit 0 is lane
    /// bit `j` of the wave) and each lane also holds the rows `2^R` away
    /// (key bit `R` a register bit), with 2-byte elements in column runs:
    /// the register bits (`q` for key bit `R`, `c0` for column bit 0)
    /// and `j`. Then a lane pair can trade halves so that each lane holds
    /// two consecutive keys of its columns (see [`Self::scatter_key_pairs`]).
    pub(super) fn key_pair_bits(&self, t: &Type, lay: RegisterLayout, row: u32) -> Option<(u32, u32, u32)> {
        let wave_bits = self.target.wave_size().trailing_zeros();
        let (keys, cols) = match t.shape[..] {
            [k, n] => (k, n),
            _ => return None,
        };
        if self.lanes == 1 || t.scalar_elem()?.bytes() != 2 || !row.is_multiple_of(2) || cols < 2 {
            return None;
        }
        let col_bits = cols.trailing_zeros();
        let IndexBit::Register(c0) = lay.index_bit(0) else {
            return None;
        };
        let IndexBit::Lane(j) = lay.index_bit(col_bits) else {
            return None;
        };
        if j >= wave_bits || !self.target.exchange_in_registers(j) {
            return None;
        }
        let q = (1..keys.trailing_zeros()).find_map(|r| match lay.index_bit(col_bits + r) {
            IndexBit::Register(q) => Some(q),
            IndexBit::Lane(_) => None,
        })?;
        Some((q, c0, j))
    }

    /// `b` written transposed with 4-byte stores of key pairs: lanes `l`
    /// (key bit 0 clear) and `l ^ 2^j` trade the halves of their rows
    /// (`l` gives its rows with key bit `R` set, the partner those with it
    /// clear: one lane exchange per two columns), after which the lower
    /// lane holds keys `k, k + 1` and the upper `k + 2^R, k + 2^R + 1`,
    /// stored as one `vector<2 x T>` each (attention's `v`: 8
    /// `ds_write_b32` and 4 DPP moves per lane instead of 16
    /// `ds_write_b16`). Same places as [`Self::scatter_rows`]: the dot
    /// reads them unchanged.
    pub(super) fn scatter_key_pairs(
        &mut self,
        x: &str,
        (t, lay): (&Type, RegisterLayout),
        base: &str,
        row: u32,
        (q, c0, j): (u32, u32, u32),
    ) -> Result<(), CodegenError> {
        let (_, pty) = self.shared()?;
        let mt = self.mem_elem(t);
        let cols = match t.shape[..] {
            [_, c] => c,
            _ => return Err(internal("staging a non-matrix")),
        };
        let k = lay.per_lane();
        let idx = self.flat_indices(lay);
        let (vi, vt) = (format!("vector<{k}xi32>"), format!("vector<{k}x{mt}>"));
        let pt = format!("vector<2x{mt}>");
        let c = |e: &mut Self, v: u32| e.splat_const(&v.to_string(), "i32");
        // An element's flat index is its lane's bits or'ed with its
        // register's, so its place is the lane's part (register 0's
        // element) plus a constant per register, which LLVM folds into
        // the stores' offsets.
        let col_bits = cols.trailing_zeros();
        let register_part = |r: u32| -> u32 {
            (0..lay.numel().trailing_zeros())
                .filter_map(|b| match lay.index_bit(b) {
                    IndexBit::Register(p) => Some(((r >> p) & 1) << b),
                    IndexBit::Lane(_) => None,
                })
                .sum()
        };
        let lane = self.lane();
        let is_lower = self.lane_bit_clear(&lane, j);
        let lane_flat = self.def(&format!("vector.extract {idx}[0] : i32 from {vi}"));
        let (cb, cm, row_c) = (c(self, col_bits), c(self, cols - 1), c(self, row));
        let key = self.def(&format!("arith.shrui {lane_flat}, {cb} : i32"));
        let col = self.def(&format!("arith.andi {lane_flat}, {cm} : i32"));
        // The pair's first key: the lower lane's own (bit 0 clear), the
        // upper lane's with bit 0 cleared and bit R (`q`'s) set.
        let (not_one, r_bit, zero) = (c(self, !1u32), c(self, register_part(1 << q) >> col_bits), c(self, 0));
        let even = self.def(&format!("arith.andi {key}, {not_one} : i32"));
        let add = self.def(&format!("arith.select {is_lower}, {zero}, {r_bit} : i32"));
        let first_key = self.def(&format!("arith.addi {even}, {add} : i32"));
        let at = self.def(&format!("arith.muli {col}, {row_c} : i32"));
        let lane_place = self.def(&format!("arith.addi {at}, {first_key} : i32"));
        let pair = |e: &mut Self, a: &str, b: &str| e.def(&format!("vector.from_elements {a}, {b} : {pt}"));
        let el = |e: &mut Self, r: u32| e.def(&format!("vector.extract {x}[{r}] : {mt} from {vt}"));
        // Every exchange before any store: a simulated exchange passes its
        // values through shared memory (`Target::exchanges_use_shared_memory`).
        let mut stores = Vec::new();
        for reg in (0..k).filter(|r| r & (1 << q) == 0 && r & (1 << c0) == 0) {
            let (reg1, far, far1) = (reg | 1 << c0, reg | 1 << q, reg | 1 << q | 1 << c0);
            let (own0, own1, far0, far1v) = (el(self, reg), el(self, reg1), el(self, far), el(self, far1));
            // Two columns' values travel as one 32-bit exchange.
            let near = pair(self, &own0, &own1);
            let away = pair(self, &far0, &far1v);
            let sent = self.def(&format!("arith.select {is_lower}, {away}, {near} : {pt}"));
            let kept = self.def(&format!("arith.select {is_lower}, {near}, {away} : {pt}"));
            let bits = self.def(&format!("vector.bitcast {sent} : {pt} to vector<1xi32>"));
            let bits = self.def(&format!("vector.extract {bits}[0] : i32 from vector<1xi32>"));
            let got = self.lane_partner(&bits, ScalarType::I32, j, true)?;
            let got = self.def(&format!("vector.broadcast {got} : i32 to vector<1xi32>"));
            let got = self.def(&format!("vector.bitcast {got} : vector<1xi32> to {pt}"));
            // Keys in order: the lower lane's own first, the upper's second.
            let lo = self.def(&format!("arith.select {is_lower}, {kept}, {got} : {pt}"));
            let hi = self.def(&format!("arith.select {is_lower}, {got}, {kept} : {pt}"));
            stores.push((reg, reg1, lo, hi));
        }
        if self.target.exchanges_use_shared_memory() {
            // The slots may lie under what is stored next: every lane must
            // have read its partner's value first.
            self.barrier();
        }
        for (reg, reg1, lo, hi) in stores {
            for (i, r) in [reg, reg1].into_iter().enumerate() {
                let flat = register_part(r);
                let off = c(self, (flat & (cols - 1)) * row + (flat >> col_bits));
                let at = self.def(&format!("arith.addi {lane_place}, {off} : i32"));
                let p = self.def(&format!(
                    "llvm.getelementptr {base}[{at}] : ({pty}, i32) -> {pty}, {mt}"
                ));
                let a = self.def(&format!("vector.extract {lo}[{i}] : {mt} from {pt}"));
                let b = self.def(&format!("vector.extract {hi}[{i}] : {mt} from {pt}"));
                let v = pair(self, &a, &b);
                self.line(&format!("llvm.store {v}, {p} {{alignment = 4 : i64}} : {pt}, {pty}"));
            }
        }
        Ok(())
    }

    pub(super) fn scatter_shared(&mut self, x: &str, t: &Type, lds: &str) -> Result<(), CodegenError> {
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

    /// A block of type `to` assembled in shared memory and read back in
    /// its blocked layout: after the previous readers are done, this lane
    /// writes `count` elements, `entry(i, memory type)` giving each one's
    /// flat index and value in that type (lanes writing one index write
    /// the same value), then, after a barrier, reads what its layout holds.
    pub(super) fn block_through_shared(
        &mut self,
        to: &Type,
        count: usize,
        mut entry: impl FnMut(&mut Self, usize, &str) -> Result<(String, String), CodegenError>,
    ) -> Result<String, CodegenError> {
        let (lds, pty) = self.shared()?;
        let mt = self.mem_elem(to);
        self.barrier();
        for i in 0..count {
            let (at, v) = entry(self, i, &mt)?;
            let p = self.def(&format!("llvm.getelementptr {lds}[{at}] : ({pty}, i32) -> {pty}, {mt}"));
            self.line(&format!("llvm.store {v}, {p} : {mt}, {pty}"));
        }
        self.barrier();
        let idx = self.make_range(&Type::block(Elem::Scalar(ScalarType::I32), vec![to.numel() as u32]), 0);
        let r = self.gather_shared(&idx, to)?;
        self.lds_pending = [true; 2];
        Ok(r)
    }

    /// Reads the elements at flat indices `idx` (one per register) of the
    /// block in shared memory, as a value of type `to`.
    pub(super) fn gather_shared(&mut self, idx: &str, to: &Type) -> Result<String, CodegenError> {
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

    pub(super) fn barrier(&mut self) {
        self.lds_pending = [false; 2];
        self.next += 1;
        let text = self.target.barrier(&format!("bar{}", self.next));
        for l in text.lines() {
            self.line(l);
        }
    }

    /// How an element of `t` is stored in memory (MLIR type).
    pub(super) fn mem_elem(&self, t: &Type) -> String {
        match t.elem {
            Elem::Scalar(s) => mem_ty(s).to_string(),
            Elem::Ptr(_) => self.target.global_ptr().to_string(),
        }
    }

    pub(super) fn mem_bytes(&self, t: &Type) -> u32 {
        match t.elem {
            Elem::Scalar(s) => s.bytes(),
            Elem::Ptr(_) => 8,
        }
    }
}

/// The flat index bits each register contributes in `lay` over `lanes`
/// lanes, when every lane holds distinct elements (`per_lane * lanes`
/// is the block, a power of two; index bits are then register bits or
/// lane bits, each once): element `(lane, r)` is element `(lane, 0)`
/// plus `parts[r]`, the two sharing no bit.
pub(super) fn register_index_parts(lay: RegisterLayout, lanes: u32) -> Option<Vec<u32>> {
    let n = lay.numel();
    if !n.is_power_of_two() || u64::from(lay.per_lane()) * u64::from(lanes) != u64::from(n) {
        return None;
    }
    let parts = (0..lay.per_lane())
        .map(|r| {
            (0..n.trailing_zeros())
                .filter(|b| matches!(lay.index_bit(*b), IndexBit::Register(q) if (r >> q) & 1 == 1))
                .map(|b| 1u32 << b)
                .sum()
        })
        .collect();
    Some(parts)
}
