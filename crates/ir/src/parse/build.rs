//! Syntax trees to functions: values by name (uses may come before
//! definitions, as in MLIR; the verifier judges the order), operation
//! kinds, every value's type (signedness solved from the operations), and
//! Dist IR's layouts.

use super::{
    layouts::{implied_lanes, interpret, resolve, LayoutAst},
    ops::{decode, Fact},
    syntax::{AttrVal, BlockAst, ElemAst, FuncAst, LayoutRef, TypeAst},
    ParseError, ParseOptions, Pos,
};
use crate::{
    func::{BlockId, Function, Loc, OpId, Value},
    layout::Layout,
    ops::{ConstValue, OpKind},
    types::{Elem, ScalarType, Type},
};
use std::collections::HashMap;

/// An operand as written: its name, where, and the type written there.
type Use = (String, Pos, TypeAst);

/// A function being built, with what the text said beyond the IR.
struct Built {
    f: Function,
    /// Per operation (by index): where it is and the name written.
    op_pos: Vec<Pos>,
    op_names: Vec<String>,
    facts: Vec<(OpId, Fact)>,
    /// Per value (by index): its type as written.
    written: Vec<Option<TypeAst>>,
    /// The function's result types as written.
    results: Vec<TypeAst>,
    names: HashMap<String, Value>,
    pending: Vec<(OpId, Vec<Use>)>,
}

impl Built {
    fn define(&mut self, name: &str, v: Value, ty: &TypeAst, pos: Pos) -> Result<(), ParseError> {
        if self.names.insert(name.to_string(), v).is_some() {
            return Err(ParseError::new(pos, format!("`%{name}` is defined twice")));
        }
        if self.written.len() <= v.index() {
            self.written.resize(v.index() + 1, None);
        }
        self.written[v.index()] = Some(ty.clone());
        Ok(())
    }

    fn block(&mut self, block: BlockId, ast: &BlockAst) -> Result<(), ParseError> {
        for op in &ast.ops {
            let (kind, facts) = decode(op)?;
            let mut regions = Vec::new();
            for r in &op.regions {
                let types = r.args.iter().map(|(_, t, _)| provisional(t)).collect();
                let b = self.f.new_block(types);
                for (i, (name, t, p)) in r.args.iter().enumerate() {
                    let v = self.f.block(b).args[i];
                    self.define(name, v, t, *p)?;
                }
                self.block(b, r)?;
                regions.push(b);
            }
            if op.operands.len() != op.in_types.len() {
                return Err(ParseError::new(
                    op.pos,
                    format!("{} operands but {} operand types", op.operands.len(), op.in_types.len()),
                ));
            }
            let count = op.results.as_ref().map_or(0, |r| r.1 as usize);
            if count != op.out_types.len() {
                return Err(ParseError::new(
                    op.pos,
                    format!("{count} results but {} result types", op.out_types.len()),
                ));
            }
            let types = op.out_types.iter().map(provisional).collect();
            let id = self
                .f
                .append_op(block, kind, Vec::new(), types, regions, Loc::default());
            if let Some((name, n)) = &op.results {
                let results = self.f.op(id).results.clone();
                for (i, (r, t)) in results.iter().zip(&op.out_types).enumerate() {
                    let full = if *n == 1 { name.clone() } else { format!("{name}#{i}") };
                    self.define(&full, *r, t, op.pos)?;
                }
            }
            self.op_pos.push(op.pos);
            self.op_names.push(op.name.clone());
            self.facts.extend(facts.into_iter().map(|fact| (id, fact)));
            let uses = op
                .operands
                .iter()
                .zip(&op.in_types)
                .map(|((n, p), t)| (n.clone(), *p, t.clone()))
                .collect();
            self.pending.push((id, uses));
        }
        Ok(())
    }

    /// Puts each operation's operands in, now that every name is known.
    fn link(&mut self) -> Result<(), ParseError> {
        for (op, uses) in std::mem::take(&mut self.pending) {
            let mut operands = Vec::new();
            for (name, pos, ty) in uses {
                let v = *self
                    .names
                    .get(&name)
                    .ok_or_else(|| ParseError::new(pos, format!("`%{name}` is not defined")))?;
                if let Some(def) = self.written.get(v.index()).and_then(Option::as_ref) {
                    if !def.same_text(&ty) {
                        return Err(ParseError::new(
                            pos,
                            format!("`%{name}` is a {}, but used as a {}", def.text(), ty.text()),
                        ));
                    }
                }
                operands.push(v);
            }
            self.f.op_mut(op).operands = operands;
        }
        Ok(())
    }
}

/// The type a value is created with (signless integers as signed).
fn provisional(t: &TypeAst) -> Type {
    Type::block(t.elem.elem(), t.shape.clone())
}

fn unsigned_of(s: ScalarType) -> ScalarType {
    match s {
        ScalarType::I8 => ScalarType::U8,
        ScalarType::I16 => ScalarType::U16,
        ScalarType::I32 => ScalarType::U32,
        ScalarType::I64 => ScalarType::U64,
        other => other,
    }
}

/// A function's attributes.
struct Header {
    name: String,
    arg_names: Vec<String>,
    params: Vec<TypeAst>,
    results: Vec<TypeAst>,
    divisibility: Option<(Vec<u32>, Pos)>,
    small_buffers: bool,
    kernel: bool,
    num_warps: Option<u32>,
    num_stages: Option<u32>,
}

fn header(ast: &FuncAst) -> Result<Header, ParseError> {
    let mut h = Header {
        name: String::new(),
        arg_names: Vec::new(),
        params: Vec::new(),
        results: Vec::new(),
        divisibility: None,
        small_buffers: false,
        kernel: false,
        num_warps: None,
        num_stages: None,
    };
    let (mut name, mut names, mut fn_type) = (false, false, false);
    for (i, a) in ast.attrs.iter().enumerate() {
        if ast.attrs[..i].iter().any(|b| b.name == a.name) {
            return Err(ParseError::new(a.pos, format!("attribute `{}` given twice", a.name)));
        }
        let bad = |what: &str| Err(ParseError::new(a.pos, format!("`{}` must be {what}", a.name)));
        let small_int = |v: &i64, ty: &Option<TypeAst>| -> Option<u32> {
            let typed = ty.as_ref().is_some_and(|t| t.text() == "i32");
            u32::try_from(*v).ok().filter(|_| typed)
        };
        match (a.name.as_str(), &a.val) {
            ("sym_name", AttrVal::Str(s)) => {
                h.name = s.clone();
                name = true;
            }
            ("arg_names", AttrVal::Array(items)) => {
                for item in items {
                    match item {
                        AttrVal::Str(s) => h.arg_names.push(s.clone()),
                        _ => return bad("a list of strings"),
                    }
                }
                names = true;
            }
            ("function_type", AttrVal::FnType(ins, outs)) => {
                h.params = ins.clone();
                h.results = outs.clone();
                fn_type = true;
            }
            ("tk.divisibility", AttrVal::Dense(v)) => {
                let d = v
                    .iter()
                    .map(|x| u32::try_from(*x).ok().filter(|x| *x > 0))
                    .collect::<Option<Vec<u32>>>();
                match d {
                    Some(d) => h.divisibility = Some((d, a.pos)),
                    None => return bad("positive"),
                }
            }
            ("tk.pointer_range", AttrVal::Int(32, ty)) if small_int(&32, ty).is_some() => h.small_buffers = true,
            ("tk.kernel", AttrVal::Unit) => h.kernel = true,
            ("tk.num_warps", AttrVal::Int(v, ty)) => match small_int(v, ty).filter(|w| *w > 0) {
                Some(w) => h.num_warps = Some(w),
                None => return bad("a positive `N : i32`"),
            },
            ("tk.num_stages", AttrVal::Int(v, ty)) => match small_int(v, ty) {
                Some(s) => h.num_stages = Some(s),
                None => return bad("`N : i32`"),
            },
            ("sym_name", _) => return bad("a string"),
            ("arg_names", _) => return bad("a list of strings"),
            ("function_type", _) => return bad("a function type `(..) -> (..)`"),
            ("tk.divisibility", _) => return bad("`array<i32: ..>`"),
            ("tk.pointer_range", _) => return bad("`32 : i32`"),
            ("tk.kernel", _) => return bad("a unit attribute"),
            _ => {
                return Err(ParseError::new(
                    a.pos,
                    format!("unknown function attribute `{}`", a.name),
                ))
            }
        }
    }
    for (have, what) in [(name, "sym_name"), (names, "arg_names"), (fn_type, "function_type")] {
        if !have {
            return Err(ParseError::new(ast.pos, format!("the function needs `{what}`")));
        }
    }
    Ok(h)
}

/// One function's body and attributes, types still provisional.
fn build_function(ast: &FuncAst) -> Result<(Built, Header), ParseError> {
    let h = header(ast)?;
    let args = &ast.entry.args;
    if args.len() != h.params.len() || args.len() != h.arg_names.len() {
        return Err(ParseError::new(
            ast.entry.pos,
            format!(
                "{} entry arguments, {} parameter types and {} argument names",
                args.len(),
                h.params.len(),
                h.arg_names.len()
            ),
        ));
    }
    for ((_, t, p), want) in args.iter().zip(&h.params) {
        let plain = TypeAst {
            layout: None,
            ..t.clone()
        };
        if !plain.same_text(want) {
            return Err(ParseError::new(
                *p,
                format!(
                    "entry argument of type {}, but `function_type` says {}",
                    t.text(),
                    want.text()
                ),
            ));
        }
    }
    let params = h
        .arg_names
        .iter()
        .cloned()
        .zip(args.iter().map(|(_, t, _)| provisional(t)))
        .collect();
    let results = h.results.iter().map(provisional).collect();
    let mut f = Function::new(h.name.clone(), params, results);
    f.is_kernel = h.kernel;
    f.small_buffers = h.small_buffers;
    if let Some(w) = h.num_warps {
        f.options.num_warps = w;
    }
    if let Some(s) = h.num_stages {
        f.options.num_stages = s;
    }
    if let Some((d, pos)) = &h.divisibility {
        if d.len() != args.len() {
            return Err(ParseError::new(*pos, "`tk.divisibility` needs one entry per parameter"));
        }
        f.arg_divisibility = d.clone();
    }
    let entry = f.entry;
    let mut b = Built {
        f,
        op_pos: Vec::new(),
        op_names: Vec::new(),
        facts: Vec::new(),
        written: Vec::new(),
        results: h.results.clone(),
        names: HashMap::new(),
        pending: Vec::new(),
    };
    for (i, (name, t, p)) in args.iter().enumerate() {
        let v = b.f.params()[i];
        b.define(name, v, t, *p)?;
    }
    b.block(entry, &ast.entry)?;
    b.link()?;
    Ok((b, h))
}

/// Union-find over every value of the module and every function result,
/// each set with the signedness the operations require of it.
struct Signs {
    parent: Vec<usize>,
    known: Vec<Option<(bool, Pos)>>,
}

impl Signs {
    fn find(&mut self, mut x: usize) -> usize {
        while self.parent[x] != x {
            self.parent[x] = self.parent[self.parent[x]];
            x = self.parent[x];
        }
        x
    }

    fn fact(&mut self, x: usize, unsigned: bool, pos: Pos) -> Result<(), ParseError> {
        let r = self.find(x);
        match self.known[r] {
            Some((u, p)) if u != unsigned => Err(ParseError::new(
                pos,
                format!(
                    "this needs {} integers, but {}:{} needs {} ones for the same value",
                    if unsigned { "unsigned" } else { "signed" },
                    p.line,
                    p.col,
                    if u { "unsigned" } else { "signed" }
                ),
            )),
            Some(_) => Ok(()),
            None => {
                self.known[r] = Some((unsigned, pos));
                Ok(())
            }
        }
    }

    fn union(&mut self, a: usize, b: usize, pos: Pos) -> Result<(), ParseError> {
        let (ra, rb) = (self.find(a), self.find(b));
        if ra == rb {
            return Ok(());
        }
        self.parent[rb] = ra;
        if let Some((u, _)) = self.known[rb] {
            self.fact(ra, u, pos)?;
        }
        Ok(())
    }
}

/// Node numbers: function `i`'s values from `value_base[i]`, its results
/// from `result_base[i]`.
struct Nodes {
    value_base: Vec<usize>,
    result_base: Vec<usize>,
}

/// Adds what operation `op` of function `fi` requires: operands and
/// results of one type are one set; pointers fix what they point to.
fn op_constraints(
    built: &[(Built, Header)],
    by_name: &HashMap<&str, usize>,
    nodes: &Nodes,
    fi: usize,
    op: OpId,
    signs: &mut Signs,
) -> Result<(), ParseError> {
    let b = &built[fi].0;
    let f = &b.f;
    let d = f.op(op);
    let pos = b.op_pos.get(op.index()).copied().unwrap_or_default();
    let node = |v: Value| nodes.value_base[fi] + v.index();
    let (ops, res) = (&d.operands, &d.results);
    let mut same: Vec<(Value, Value)> = Vec::new();
    let mut pointee: Vec<(Value, Value)> = Vec::new();
    let chain = |vals: &[Option<&Value>], same: &mut Vec<(Value, Value)>| {
        let present: Vec<Value> = vals.iter().filter_map(|v| v.copied()).collect();
        for w in present.windows(2) {
            same.push((w[0], w[1]));
        }
    };
    let last_operands = |block: Option<&BlockId>| -> Vec<Value> {
        block
            .and_then(|b| f.block(*b).ops.last())
            .map(|o| f.op(*o).operands.clone())
            .unwrap_or_default()
    };
    match &d.kind {
        OpKind::Splat
        | OpKind::Broadcast
        | OpKind::Reshape
        | OpKind::Permute(_)
        | OpKind::Reduce { .. }
        | OpKind::Scan { .. }
        | OpKind::Neg
        | OpKind::Not
        | OpKind::Math(_)
        | OpKind::ConvertLayout => chain(&[ops.first(), res.first()], &mut same),
        OpKind::Binary(_) | OpKind::Fma => {
            let mut all: Vec<Option<&Value>> = ops.iter().map(Some).collect();
            all.push(res.first());
            chain(&all, &mut same);
        }
        OpKind::Cmp(_) => chain(&[ops.first(), ops.get(1)], &mut same),
        OpKind::Select => chain(&[ops.get(1), ops.get(2), res.first()], &mut same),
        OpKind::Load { other, .. } => {
            if let (Some(&p), Some(&r)) = (ops.first(), res.first()) {
                pointee.push((r, p));
                if *other {
                    chain(&[ops.last(), Some(&r)], &mut same);
                }
            }
        }
        OpKind::Store { .. } | OpKind::Atomic { .. } | OpKind::AtomicCas => {
            if let Some(&p) = ops.first() {
                let n = if matches!(d.kind, OpKind::AtomicCas) { 3 } else { 2 };
                for &v in ops.iter().take(n).skip(1).chain(res.iter()) {
                    pointee.push((v, p));
                }
            }
        }
        OpKind::Dot => {
            chain(&[ops.first(), ops.get(1)], &mut same);
            chain(&[ops.get(2), res.first()], &mut same);
        }
        OpKind::For => {
            let body = d.regions.first().map(|r| f.block(*r).args.clone()).unwrap_or_default();
            let yielded = last_operands(d.regions.first());
            chain(&[ops.first(), ops.get(1), ops.get(2), body.first()], &mut same);
            for (i, r) in res.iter().enumerate() {
                chain(&[ops.get(3 + i), body.get(1 + i), yielded.get(i), Some(r)], &mut same);
            }
        }
        OpKind::If => {
            let (then, other) = (last_operands(d.regions.first()), last_operands(d.regions.get(1)));
            for (i, r) in res.iter().enumerate() {
                chain(&[then.get(i), other.get(i), Some(r)], &mut same);
            }
        }
        OpKind::While => {
            let before = d.regions.first().map(|r| f.block(*r).args.clone()).unwrap_or_default();
            let after = d.regions.get(1).map(|r| f.block(*r).args.clone()).unwrap_or_default();
            let cond = last_operands(d.regions.first());
            let yielded = last_operands(d.regions.get(1));
            for (i, r) in res.iter().enumerate() {
                chain(
                    &[
                        ops.get(i),
                        before.get(i),
                        cond.get(1 + i),
                        after.get(i),
                        yielded.get(i),
                        Some(r),
                    ],
                    &mut same,
                );
            }
        }
        OpKind::Return => {
            for (i, &v) in ops.iter().enumerate() {
                if i < built[fi].0.results.len() {
                    signs.union(node(v), nodes.result_base[fi] + i, pos)?;
                }
            }
        }
        OpKind::Call(callee) => {
            if let Some(&ci) = by_name.get(callee.as_str()) {
                let params = built[ci].0.f.params();
                for (&v, &p) in ops.iter().zip(params) {
                    signs.union(node(v), nodes.value_base[ci] + p.index(), pos)?;
                }
                for (i, &r) in res.iter().enumerate().take(built[ci].0.results.len()) {
                    signs.union(node(r), nodes.result_base[ci] + i, pos)?;
                }
            }
        }
        _ => {}
    }
    for (a, c) in same {
        signs.union(node(a), node(c), pos)?;
    }
    for (v, p) in pointee {
        if let Elem::Ptr(s) = f.ty(p).elem {
            if s.is_int() && !s.is_bool() {
                signs.fact(node(v), s.is_unsigned(), pos)?;
            }
        }
    }
    Ok(())
}

/// Every value's signedness, solved over the module.
fn solve_signs(built: &mut [(Built, Header)]) -> Result<(), ParseError> {
    let mut nodes = Nodes {
        value_base: Vec::new(),
        result_base: Vec::new(),
    };
    let mut total = 0usize;
    for (b, _) in built.iter() {
        nodes.value_base.push(total);
        total += b.f.values.len();
        nodes.result_base.push(total);
        total += b.results.len();
    }
    let mut signs = Signs {
        parent: (0..total).collect(),
        known: vec![None; total],
    };
    let names: Vec<String> = built.iter().map(|(b, _)| b.f.name.clone()).collect();
    let by_name: HashMap<&str, usize> = names.iter().enumerate().map(|(i, n)| (n.as_str(), i)).collect();
    // What the types say: unsigned types and pointers written out.
    for (fi, (b, _)) in built.iter().enumerate() {
        let written = b
            .written
            .iter()
            .enumerate()
            .filter_map(|(i, t)| t.as_ref().map(|t| (nodes.value_base[fi] + i, t)));
        let results = b
            .results
            .iter()
            .enumerate()
            .map(|(i, t)| (nodes.result_base[fi] + i, t));
        for (n, t) in written.chain(results) {
            if let ElemAst::Exact(Elem::Scalar(s)) = t.elem {
                if s.is_int() && !s.is_bool() {
                    signs.fact(n, s.is_unsigned(), t.pos)?;
                }
            }
        }
    }
    for fi in 0..built.len() {
        let b = &built[fi].0;
        for (op, fact) in b.facts.clone() {
            let d = b.f.op(op);
            let pos = b.op_pos.get(op.index()).copied().unwrap_or_default();
            let (v, unsigned) = match fact {
                Fact::Operand(i, u) => (d.operands.get(i), Some(u)),
                Fact::Result(i, u) => (d.results.get(i), Some(u)),
                Fact::OperandType(i, s) => (d.operands.get(i), s.is_int().then_some(s.is_unsigned())),
                Fact::ResultType(i, s) => (d.results.get(i), s.is_int().then_some(s.is_unsigned())),
            };
            if let (Some(v), Some(u)) = (v, unsigned) {
                signs.fact(nodes.value_base[fi] + v.index(), u, pos)?;
            }
        }
        for op in b.f.walk() {
            op_constraints(built, &by_name, &nodes, fi, op, &mut signs)?;
        }
    }
    // Signless integers the operations call unsigned become so.
    for (fi, (b, _)) in built.iter_mut().enumerate() {
        for i in 0..b.f.values.len() {
            let Some(t) = b.written.get(i).and_then(Option::as_ref) else {
                continue;
            };
            if let ElemAst::Signless(s) = t.elem {
                let r = signs.find(nodes.value_base[fi] + i);
                if matches!(signs.known[r], Some((true, _))) {
                    b.f.values[i].ty.elem = Elem::Scalar(unsigned_of(s));
                }
            }
        }
        for i in 0..b.results.len() {
            if let ElemAst::Signless(s) = b.results[i].elem {
                let r = signs.find(nodes.result_base[fi] + i);
                if matches!(signs.known[r], Some((true, _))) {
                    b.f.result_types[i].elem = Elem::Scalar(unsigned_of(s));
                }
            }
        }
    }
    Ok(())
}

/// With types final: constants take their type's range, and every
/// operation must print with the name and attributes it was written with.
fn finish_ops(b: &mut Built) -> Result<(), ParseError> {
    let mut facts_of: Vec<Vec<Fact>> = vec![Vec::new(); b.f.ops.len()];
    for (op, fact) in &b.facts {
        if let Some(list) = facts_of.get_mut(op.index()) {
            list.push(*fact);
        }
    }
    for op in b.f.walk() {
        let pos = b.op_pos.get(op.index()).copied().unwrap_or_default();
        let result = b.f.op(op).results.first().and_then(|r| b.f.ty(*r).scalar_elem());
        if let (OpKind::Constant(ConstValue::Int(v)), Some(s)) = (&b.f.op(op).kind, result) {
            if s.is_int() && !s.is_bool() {
                // The low bits, sign- or zero-extended as the type is.
                let w = crate::fold_util::wrap_int(*v, s);
                b.f.op_mut(op).kind = OpKind::Constant(ConstValue::Int(w));
            }
        }
        let printed = crate::print::op_name(&b.f, op);
        let written = b.op_names.get(op.index()).map_or("", String::as_str);
        if printed != written {
            return Err(ParseError::new(
                pos,
                format!("`{written}` does not fit its operand types (they make it `{printed}`)"),
            ));
        }
        let d = b.f.op(op);
        let operand = d.operands.first().and_then(|v| b.f.ty(*v).scalar_elem());
        for fact in facts_of.get(op.index()).map_or(&[][..], Vec::as_slice) {
            let (have, want) = match *fact {
                Fact::OperandType(_, s) => (operand, s),
                Fact::ResultType(_, s) => (result, s),
                Fact::Operand(_, unsigned) => {
                    if let (OpKind::Cmp(p), Some(s)) = (&d.kind, operand) {
                        let name = p.mlir(s.is_float(), s.is_unsigned() || s.is_bool());
                        let says_unsigned = name.starts_with('u');
                        if s.is_int() && says_unsigned != unsigned {
                            return Err(ParseError::new(
                                pos,
                                format!(
                                    "the predicate does not fit {} operands (it would be `{name}`)",
                                    s.name()
                                ),
                            ));
                        }
                    }
                    continue;
                }
                Fact::Result(..) => continue,
            };
            if have != Some(want) {
                return Err(ParseError::new(
                    pos,
                    format!(
                        "`tk.cast` says {}, but the value is {}",
                        want.name(),
                        have.map_or("a pointer", ScalarType::name)
                    ),
                ));
            }
        }
    }
    Ok(())
}

/// Dist IR: every value written with a layout gets it, every scalar the
/// uniform layout.
fn finish_layouts(b: &mut Built, ast: &FuncAst, opts: &ParseOptions) -> Result<(), ParseError> {
    let mut aliases: HashMap<&str, (LayoutAst, Pos)> = HashMap::new();
    let mut order: Vec<LayoutAst> = Vec::new();
    for a in &ast.aliases {
        let l = interpret(&a.layout)?;
        order.push(l.clone());
        if aliases.insert(a.name.as_str(), (l, a.pos)).is_some() {
            return Err(ParseError::new(
                a.pos,
                format!("layout alias `#{}` is defined twice", a.name),
            ));
        }
    }
    let mut uses: Vec<(usize, LayoutAst, Pos)> = Vec::new();
    for (i, t) in b.written.iter().enumerate() {
        let Some(t) = t else { continue };
        let l = match &t.layout {
            None => continue,
            Some(LayoutRef::Alias(name)) => match aliases.get(name.as_str()) {
                Some((l, _)) => l.clone(),
                None => return Err(ParseError::new(t.pos, format!("layout alias `#{name}` is not defined"))),
            },
            Some(LayoutRef::Inline(s)) => {
                let l = interpret(s)?;
                order.push(l.clone());
                l
            }
        };
        uses.push((i, l, t.pos));
    }
    if uses.is_empty() && ast.aliases.is_empty() {
        return Ok(());
    }
    let num_warps = b.f.options.num_warps;
    let program = opts
        .lanes
        .or_else(|| order.iter().find_map(|l| implied_lanes(l, num_warps)))
        .unwrap_or(64 * num_warps.max(1));
    let mut map: HashMap<Value, Layout> = HashMap::new();
    for (i, l, pos) in uses {
        let v = Value(i as u32);
        let shape = b.f.ty(v).shape.clone();
        if shape.is_empty() {
            return Err(ParseError::new(pos, "a scalar has no layout to write"));
        }
        map.insert(v, resolve(&l, &shape, opts.lanes, program, num_warps, pos)?);
    }
    for i in 0..b.f.values.len() {
        let v = Value(i as u32);
        if !b.f.ty(v).is_block() {
            map.insert(v, Layout::Uniform);
        }
    }
    b.f.layouts = Some(map);
    Ok(())
}

/// The functions of `asts`, as one module (calls link across them).
pub(super) fn build(asts: &[FuncAst], opts: &ParseOptions) -> Result<Vec<Function>, ParseError> {
    let mut built = asts.iter().map(build_function).collect::<Result<Vec<_>, _>>()?;
    solve_signs(&mut built)?;
    let mut out = Vec::new();
    for ((mut b, _), ast) in built.into_iter().zip(asts) {
        finish_ops(&mut b)?;
        finish_layouts(&mut b, ast, opts)?;
        out.push(b.f);
    }
    Ok(out)
}
