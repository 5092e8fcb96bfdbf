//! Structured control flow (`scf.for`, `scf.if`, `scf.while`) and device
//! assertions.

use super::*;

impl Emitter<'_> {
    /// `scf.if` with one result: `then` emits the value of the taken branch,
    /// `otherwise` is the value when the condition is false.
    pub(super) fn if_value(
        &mut self,
        cond: &str,
        ty: &str,
        then: impl FnOnce(&mut Self) -> String,
        otherwise: &str,
    ) -> String {
        self.if_else_value(cond, ty, then, |_| otherwise.to_string())
    }

    /// `scf.if` with one result of type `ty`, both branches emitted by
    /// closures that return their value.
    pub(super) fn if_else_value(
        &mut self,
        cond: &str,
        ty: &str,
        then: impl FnOnce(&mut Self) -> String,
        otherwise: impl FnOnce(&mut Self) -> String,
    ) -> String {
        let r = self.fresh();
        self.line(&format!("{r} = \"scf.if\"({cond}) ({{"));
        self.indent += 1;
        let v = then(self);
        self.line(&format!("\"scf.yield\"({v}) : ({ty}) -> ()"));
        self.indent -= 1;
        self.line("}, {");
        self.indent += 1;
        let v = otherwise(self);
        self.line(&format!("\"scf.yield\"({v}) : ({ty}) -> ()"));
        self.indent -= 1;
        self.line(&format!("}}) : (i1) -> ({ty})"));
        r
    }

    /// `scf.if` without results, both branches emitted by closures.
    pub(super) fn if_else(&mut self, cond: &str, then: impl FnOnce(&mut Self), otherwise: impl FnOnce(&mut Self)) {
        self.line(&format!("\"scf.if\"({cond}) ({{"));
        self.indent += 1;
        then(self);
        self.line("\"scf.yield\"() : () -> ()");
        self.indent -= 1;
        self.line("}, {");
        self.indent += 1;
        otherwise(self);
        self.line("\"scf.yield\"() : () -> ()");
        self.indent -= 1;
        self.line("}) : (i1) -> ()");
    }

    pub(super) fn assert(&mut self, c: &str, t: &Type) -> Result<(), CodegenError> {
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
    pub(super) fn if_then(&mut self, cond: &str, then: impl FnOnce(&mut Self)) {
        self.if_else(cond, then, |_| {});
    }

    /// `scf.for`, `scf.if` and `scf.while`, in MLIR's generic syntax.
    pub(super) fn control(&mut self, op: OpId) -> Result<(), CodegenError> {
        let f = self.f;
        let d = f.op(op);
        if matches!(d.kind, OpKind::For) {
            self.preload_invariant_fragments(d.regions[0])?;
        }
        // Carried blocks the host keeps in buffers (`strips.rs`): left out
        // of the loop's operands, arguments and results.
        let in_memory = self.carried_in_memory(op)?;
        let kept = |i: usize| in_memory.get(i).is_none_or(Option::is_none);
        let first_carried = d.operands.len() - d.results.len();
        let operands: Vec<Value> = d
            .operands
            .iter()
            .enumerate()
            .filter(|(i, _)| *i < first_carried || kept(i - first_carried))
            .map(|(_, v)| *v)
            .collect();
        let results: Vec<(usize, Value)> = d
            .results
            .iter()
            .copied()
            .enumerate()
            .filter(|(i, _)| kept(*i))
            .collect();
        let mut ins: Vec<String> = operands.iter().map(|v| self.name(*v)).collect::<Result<_, _>>()?;
        let mut in_tys: Vec<String> = operands.iter().map(|v| self.vty(*v)).collect();
        for (x, t) in ins.iter_mut().zip(in_tys.iter_mut()) {
            if let Some(s) = self.carried_scalar(t) {
                *x = self.def(&format!("vector.extract {x}[0] : {s} from {t}"));
                *t = s;
            }
        }
        let out_tys: Vec<String> = results
            .iter()
            .map(|(_, v)| {
                let t = self.vty(*v);
                self.carried_scalar(&t).unwrap_or(t)
            })
            .collect();
        let base = self.fresh();
        let lhs = match results.len() {
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
            let mut widen = Vec::new();
            // (A `for` body's arguments: the induction variable, then the
            // carried values.)
            for (j, a) in args.iter().enumerate() {
                if let Some(Some(buffer)) = j.checked_sub(1).and_then(|i| in_memory.get(i)) {
                    self.buffered.insert(*a, buffer.clone());
                    continue;
                }
                let n = self.fresh();
                let t = self.vty(*a);
                match self.carried_scalar(&t) {
                    Some(s) => {
                        decl.push(format!("{n}: {s}"));
                        widen.push((*a, n, s, t));
                    }
                    None => {
                        decl.push(format!("{n}: {t}"));
                        self.names.insert(*a, n);
                    }
                }
            }
            if !in_memory.is_empty() {
                self.carried_buffers.insert(r, in_memory.clone());
            }
            self.line(&format!("^bb0({}):", decl.join(", ")));
            self.indent += 1;
            for (a, n, s, t) in widen {
                let v = self.def(&format!("vector.broadcast {n} : {s} to {t}"));
                self.names.insert(a, v);
            }
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
        for (k, (_, r)) in results.iter().enumerate() {
            let n = if results.len() == 1 {
                base.clone()
            } else {
                format!("{base}#{k}")
            };
            let t = self.vty(*r);
            let n = match self.carried_scalar(&t) {
                Some(s) => self.def(&format!("vector.broadcast {n} : {s} to {t}")),
                None => n,
            };
            self.names.insert(*r, n);
        }
        for (r, buffer) in d.results.iter().zip(&in_memory) {
            if let Some(buffer) = buffer {
                self.buffered.insert(*r, buffer.clone());
            }
        }
        Ok(())
    }

    /// The scalar type a GPU carries through control flow in place of a
    /// one-element integer or pointer vector (`vector<1xT>`): loop-carried
    /// values, branch results and `while` arguments cross as `T`. (LLVM 22's AMDGPU back
    /// end can loop forever combining the one-element vector phis that
    /// would carry them; scalar phis are what it sees for one element per
    /// lane anyway.)
    pub(super) fn carried_scalar(&self, ty: &str) -> Option<String> {
        if self.lanes == 1 {
            return None;
        }
        let elem = ty.strip_prefix("vector<1x")?.strip_suffix('>')?;
        // Integers and pointers (the addresses): float vectors carried as
        // they are give LLVM no trouble, and better code (attention's row
        // statistics: 15 fewer instructions on gfx942).
        (elem.starts_with('i') || elem.starts_with("!llvm.ptr")).then(|| elem.to_string())
    }
}
