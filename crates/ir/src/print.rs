//! Prints tile IR in MLIR's generic operation syntax.
//!
//! The output parses with real MLIR when unregistered dialects are allowed
//! (`mlir-opt --allow-unregistered-dialect`), which a test checks with
//! melior. Values are numbered in print order, so the text depends only on
//! the program, never on arena indices: printing is deterministic.

use crate::{
    func::{BlockId, Function, Module, OpId, Value},
    ops::{BinaryOp, ConstValue, MathFn, OpKind},
    types::{ScalarType, Type},
};
use std::{collections::HashMap, fmt::Write};

/// Prints a module.
pub fn print_module(module: &Module) -> String {
    let mut out = String::from("\"builtin.module\"() ({\n");
    for f in &module.functions {
        print_function_into(f, 1, &mut out);
    }
    out.push_str("}) : () -> ()\n");
    out
}

/// Prints one function as a `tk.func` operation.
pub fn print_function(f: &Function) -> String {
    let mut out = String::new();
    print_function_into(f, 0, &mut out);
    out
}

fn print_function_into(f: &Function, indent: usize, out: &mut String) {
    // Dist IR: layouts get aliases (`#blocked0 = #tk.blocked<..>`) defined
    // before the function, in order of first use.
    let mut aliases: HashMap<AliasKey, String> = HashMap::new();
    if let Some(layouts) = &f.layouts {
        let mut order: Vec<AliasKey> = Vec::new();
        let mut note = |v: Value| {
            if let Some(l) = layouts.get(&v) {
                let key = alias_key(*l, f.ty(v));
                if f.ty(v).is_block() && !order.contains(&key) {
                    order.push(key);
                }
            }
        };
        for &a in f.params() {
            note(a);
        }
        for op in f.walk() {
            for &r in &f.op(op).regions {
                for &a in &f.block(r).args {
                    note(a);
                }
            }
            for &r in &f.op(op).results {
                note(r);
            }
        }
        let (mut nb, mut ns, mut nm, mut nsl) = (0, 0, 0, 0);
        // Lanes per wave: the program's lanes over its waves.
        let wave = |lanes: u32| (lanes / f.options.num_warps.max(1)).max(1);
        let mut by_text: HashMap<String, String> = HashMap::new();
        for key in order {
            let (l, shape) = (key.0, &key.1);
            let name = match l {
                crate::layout::Layout::Matrix(m) => {
                    nm += 1;
                    format!("#{}{}", m.family().name(), nm - 1)
                }
                crate::layout::Layout::Slice { .. } => {
                    nsl += 1;
                    format!("#slice{}", nsl - 1)
                }
                crate::layout::Layout::Shared => {
                    ns += 1;
                    if ns == 1 {
                        "#shared".to_string()
                    } else {
                        format!("#shared{ns}")
                    }
                }
                _ => {
                    nb += 1;
                    format!("#blocked{}", nb - 1)
                }
            };
            let text = match (l, shape) {
                (crate::layout::Layout::Blocked(b), Some(shape)) => b.describe(shape, wave(b.lanes)),
                (
                    crate::layout::Layout::Slice {
                        parent: crate::layout::RegisterLayout::Blocked(parent),
                        dim,
                    },
                    Some(shape),
                ) => {
                    let parent_shape = slice_parent_shape(shape, dim as usize, parent.n);
                    format!(
                        "#tk.slice<{{dim = {dim}, parent = {}}}>",
                        parent.describe(&parent_shape, wave(parent.lanes))
                    )
                }
                _ => l.to_string(),
            };
            // Shapes whose description is the same share its alias.
            if let Some(existing) = by_text.get(&text) {
                aliases.insert(key, String::clone(existing));
                continue;
            }
            let _ = writeln!(out, "{name} = {text}");
            by_text.insert(text, name.clone());
            aliases.insert(key, name);
        }
    }
    let mut p = Printer {
        f,
        names: HashMap::new(),
        next: 0,
        out,
        aliases,
    };
    for (i, &a) in f.params().iter().enumerate() {
        p.names.insert(a, format!("%arg{i}"));
    }
    let pad = "  ".repeat(indent);
    let _ = write!(p.out, "{pad}\"tk.func\"() (");
    p.region(f.entry, indent, true);
    let params: Vec<String> = f.params().iter().map(|v| f.ty(*v).mlir()).collect();
    let results: Vec<String> = f.result_types.iter().map(Type::mlir).collect();
    let names: Vec<String> = f.param_names.iter().map(|n| format!("\"{n}\"")).collect();
    let _ = write!(
        p.out,
        ") {{arg_names = [{}], function_type = ({}) -> ({}), sym_name = \"{}\"",
        names.join(", "),
        params.join(", "),
        results.join(", "),
        f.name
    );
    if f.arg_divisibility.iter().any(|d| *d > 1) {
        let d: Vec<String> = f.arg_divisibility.iter().map(u32::to_string).collect();
        let _ = write!(p.out, ", tk.divisibility = array<i32: {}>", d.join(", "));
    }
    if f.small_buffers {
        p.out.push_str(", tk.pointer_range = 32 : i32");
    }
    if f.is_kernel {
        let _ = write!(
            p.out,
            ", tk.kernel, tk.num_stages = {} : i32, tk.num_warps = {} : i32",
            f.options.num_stages, f.options.num_warps
        );
    }
    p.out.push_str("} : () -> ()\n");
}

/// A layout alias: blocked and slice layouts are described per dimension,
/// so they get one alias per block shape.
type AliasKey = (crate::layout::Layout, Option<Vec<u32>>);

fn alias_key(l: crate::layout::Layout, t: &Type) -> AliasKey {
    match l {
        crate::layout::Layout::Blocked(_) | crate::layout::Layout::Slice { .. } => (l, Some(t.shape.clone())),
        _ => (l, None),
    }
}

/// The shape of the block a slice-layout value of `shape` was reduced
/// from along `dim` (`parent_n` elements): the dimension put back (or,
/// where it is there with length 1, restored).
fn slice_parent_shape(shape: &[u32], dim: usize, parent_n: u32) -> Vec<u32> {
    let mut s = shape.to_vec();
    if s.get(dim) == Some(&1) {
        s.remove(dim);
    }
    let others: u32 = s.iter().product();
    s.insert(dim.min(s.len()), parent_n / others.max(1));
    s
}

struct Printer<'a> {
    f: &'a Function,
    aliases: HashMap<AliasKey, String>,
    names: HashMap<Value, String>,
    next: usize,
    out: &'a mut String,
}

impl Printer<'_> {
    /// A value's MLIR type; in Dist IR, blocks carry their layout as the
    /// tensor's encoding (`tensor<1024xf32, #blocked0>`).
    fn value_type(&self, v: Value) -> String {
        let t = self.f.ty(v);
        let layout = self.f.layouts.as_ref().and_then(|l| l.get(&v));
        match layout.and_then(|l| self.aliases.get(&alias_key(*l, t))) {
            Some(alias) if t.is_block() => {
                let plain = t.mlir();
                format!("{}, {alias}>", &plain[..plain.len() - 1])
            }
            _ => t.mlir(),
        }
    }

    fn name(&self, v: Value) -> String {
        self.names
            .get(&v)
            .cloned()
            .unwrap_or_else(|| format!("%<undefined {v}>"))
    }

    fn fresh(&mut self) -> String {
        let n = format!("%{}", self.next);
        self.next += 1;
        n
    }

    /// Prints `{ ^bb0(args): ops }` for a single-block region.
    fn region(&mut self, block: BlockId, indent: usize, is_entry: bool) {
        let f = self.f;
        let data = f.block(block);
        if !is_entry {
            for &a in &data.args {
                let n = self.fresh();
                self.names.insert(a, n);
            }
        }
        let args: Vec<String> = data
            .args
            .iter()
            .map(|a| format!("{}: {}", self.name(*a), self.value_type(*a)))
            .collect();
        let pad = "  ".repeat(indent);
        let _ = writeln!(self.out, "{{");
        let _ = writeln!(self.out, "{pad}^bb0({}):", args.join(", "));
        for &op in &data.ops {
            self.op(op, indent + 1);
        }
        let _ = write!(self.out, "{pad}}}");
    }

    fn op(&mut self, op: OpId, indent: usize) {
        let f = self.f;
        let data = f.op(op);
        let pad = "  ".repeat(indent);
        self.out.push_str(&pad);
        if !data.results.is_empty() {
            let base = self.fresh();
            if data.results.len() == 1 {
                self.names.insert(data.results[0], base.clone());
                let _ = write!(self.out, "{base} = ");
            } else {
                for (i, r) in data.results.iter().enumerate() {
                    self.names.insert(*r, format!("{base}#{i}"));
                }
                let _ = write!(self.out, "{base}:{} = ", data.results.len());
            }
        }
        let operands: Vec<String> = data.operands.iter().map(|v| self.name(*v)).collect();
        let _ = write!(self.out, "\"{}\"({})", op_name(f, op), operands.join(", "));
        if !data.regions.is_empty() {
            self.out.push_str(" (");
            for (i, &r) in data.regions.iter().enumerate() {
                if i > 0 {
                    self.out.push_str(", ");
                }
                self.region(r, indent, false);
            }
            self.out.push(')');
        }
        let attrs = attributes(f, op);
        if !attrs.is_empty() {
            let _ = write!(self.out, " {{{}}}", attrs.join(", "));
        }
        let in_types: Vec<String> = data.operands.iter().map(|v| self.value_type(*v)).collect();
        let out_types: Vec<String> = data.results.iter().map(|v| self.value_type(*v)).collect();
        let _ = writeln!(self.out, " : ({}) -> ({})", in_types.join(", "), out_types.join(", "));
    }
}

fn operand_scalar(f: &Function, op: OpId, i: usize) -> Option<ScalarType> {
    let v = *f.op(op).operands.get(i)?;
    f.ty(v).scalar_elem()
}

/// The MLIR operation name, chosen by the operand types as MLIR's `arith`
/// and `math` dialects do.
pub fn op_name(f: &Function, op: OpId) -> String {
    let data = f.op(op);
    let s = operand_scalar(f, op, 0);
    let float = s.is_some_and(ScalarType::is_float);
    let unsigned = s.is_some_and(ScalarType::is_unsigned);
    let pick = |fl: &str, si: &str, ui: &str| -> String {
        if float {
            fl.to_string()
        } else if unsigned {
            ui.to_string()
        } else {
            si.to_string()
        }
    };
    match &data.kind {
        OpKind::Constant(_) => "arith.constant".into(),
        OpKind::ProgramId(_) => "tk.program_id".into(),
        OpKind::NumPrograms(_) => "tk.num_programs".into(),
        OpKind::MakeRange { .. } => "tk.make_range".into(),
        OpKind::Splat => "tk.splat".into(),
        OpKind::Broadcast => "tk.broadcast".into(),
        OpKind::Reshape => "tk.reshape".into(),
        OpKind::Permute(_) => "tk.trans".into(),
        OpKind::Reduce { .. } => "tk.reduce".into(),
        OpKind::ArgReduce { .. } => "tk.argreduce".into(),
        OpKind::Scan { .. } => "tk.scan".into(),
        OpKind::Binary(b) => match b {
            BinaryOp::Add => pick("arith.addf", "arith.addi", "arith.addi"),
            BinaryOp::Sub => pick("arith.subf", "arith.subi", "arith.subi"),
            BinaryOp::Mul => pick("arith.mulf", "arith.muli", "arith.muli"),
            BinaryOp::Div => pick("arith.divf", "arith.divsi", "arith.divui"),
            BinaryOp::Rem => pick("arith.remf", "arith.remsi", "arith.remui"),
            BinaryOp::Shl => "arith.shli".into(),
            BinaryOp::Shr => pick("arith.shrsi", "arith.shrsi", "arith.shrui"),
            BinaryOp::And => "arith.andi".into(),
            BinaryOp::Or => "arith.ori".into(),
            BinaryOp::Xor => "arith.xori".into(),
            BinaryOp::Max => pick("arith.maxnumf", "arith.maxsi", "arith.maxui"),
            BinaryOp::Min => pick("arith.minnumf", "arith.minsi", "arith.minui"),
        },
        OpKind::Cmp(_) => pick("arith.cmpf", "arith.cmpi", "arith.cmpi"),
        OpKind::Neg => pick("arith.negf", "tk.negi", "tk.negi"),
        OpKind::Not => "tk.not".into(),
        OpKind::Cast => "tk.cast".into(),
        OpKind::Bitcast => "tk.bitcast".into(),
        OpKind::Select => "arith.select".into(),
        OpKind::Math(MathFn::Abs) => pick("math.absf", "math.absi", "math.absi"),
        OpKind::Math(m) => format!("math.{}", m.name()),
        OpKind::Fma => "math.fma".into(),
        OpKind::AddPtr => "tk.addptr".into(),
        OpKind::Load { .. } => "tk.load".into(),
        OpKind::Store { .. } => "tk.store".into(),
        OpKind::Call(_) => "tk.call".into(),
        OpKind::ConvertLayout => "tk.convert_layout".into(),
        OpKind::Atomic { .. } => "tk.atomic_rmw".into(),
        OpKind::AtomicCas => "tk.atomic_cas".into(),
        OpKind::Dot => "tk.dot".into(),
        OpKind::For => "scf.for".into(),
        OpKind::If => "scf.if".into(),
        OpKind::While => "scf.while".into(),
        OpKind::Yield => "scf.yield".into(),
        OpKind::Condition => "scf.condition".into(),
        OpKind::Return => "tk.return".into(),
        OpKind::Assert(_) => "tk.assert".into(),
    }
}

fn attributes(f: &Function, op: OpId) -> Vec<String> {
    let data = f.op(op);
    match &data.kind {
        OpKind::Constant(c) => {
            let ty = data.results.first().map(|r| f.ty(*r).clone());
            let s = ty.as_ref().and_then(Type::scalar_elem).unwrap_or(ScalarType::I32);
            vec![format!("value = {}", const_attr(*c, s))]
        }
        OpKind::ProgramId(a) | OpKind::NumPrograms(a) => vec![format!("axis = {a} : i32")],
        OpKind::MakeRange { start, end } => {
            vec![format!("end = {end} : i32"), format!("start = {start} : i32")]
        }
        OpKind::Cmp(p) => {
            let s = operand_scalar(f, op, 0);
            let name = p.mlir(
                s.is_some_and(ScalarType::is_float),
                s.is_some_and(|s| s.is_unsigned() || s.is_bool()),
            );
            // MLIR's generic form spells the predicate as its enum value.
            vec![format!("predicate = {} : i64", predicate_value(name))]
        }
        OpKind::Cast => {
            // Types print signless; say which integer types are unsigned.
            let from = operand_scalar(f, op, 0).map_or("?", ScalarType::name);
            let to = data
                .results
                .first()
                .and_then(|r| f.ty(*r).scalar_elem())
                .map_or("?", ScalarType::name);
            vec![format!("from = \"{from}\""), format!("to = \"{to}\"")]
        }
        OpKind::Load { mask, other } => {
            let mut a = Vec::new();
            if *mask {
                a.push("mask".to_string());
            }
            if *other {
                a.push("other".to_string());
            }
            a
        }
        OpKind::Store { mask } if *mask => vec!["mask".to_string()],
        OpKind::Call(callee) => vec![format!("callee = @{callee}")],
        OpKind::Atomic { op, mask } => {
            let mut a = vec![format!("kind = \"{}\"", op.name())];
            if *mask {
                a.push("mask".to_string());
            }
            a
        }
        OpKind::Permute(order) => {
            let o: Vec<String> = order.iter().map(u32::to_string).collect();
            vec![format!("order = array<i32: {}>", o.join(", "))]
        }
        OpKind::Reduce { kind, axis } => vec![format!("axis = {axis} : i32"), format!("kind = \"{}\"", kind.name())],
        OpKind::ArgReduce { max, axis } => {
            vec![
                format!("axis = {axis} : i32"),
                format!("kind = \"{}\"", if *max { "argmax" } else { "argmin" }),
            ]
        }
        OpKind::Scan { kind, axis } => {
            let k = match kind {
                crate::ops::ScanKind::Sum => "cumsum",
                crate::ops::ScanKind::Prod => "cumprod",
            };
            vec![format!("axis = {axis} : i32"), format!("kind = \"{k}\"")]
        }
        OpKind::Assert(msg) => vec![format!("message = \"{}\"", escape(msg))],
        _ => Vec::new(),
    }
}

/// An MLIR attribute literal for a constant of scalar type `s` (signless:
/// an unsigned value prints as the signed value with the same bits).
pub fn const_attr(c: ConstValue, s: ScalarType) -> String {
    match c {
        ConstValue::Int(v) if s.is_bool() => (if v != 0 { "true" } else { "false" }).to_string(),
        ConstValue::Int(v) => format!("{} : {}", signless_value(v, s), s.signless()),
        ConstValue::Float(x) => format!("{} : {}", float_literal(x, s), s.signless()),
    }
}

/// The value of `v`'s low `s.bits()` bits read as a signed integer.
fn signless_value(v: i64, s: ScalarType) -> i64 {
    let bits = s.bits();
    if bits >= 64 {
        return v;
    }
    let shift = 64 - bits;
    (v << shift) >> shift
}

/// The enum values of `arith.cmpi` and `arith.cmpf` predicates.
fn predicate_value(name: &str) -> u32 {
    const INT: [&str; 10] = ["eq", "ne", "slt", "sle", "sgt", "sge", "ult", "ule", "ugt", "uge"];
    const FLOAT: [&str; 16] = [
        "false", "oeq", "ogt", "oge", "olt", "ole", "one", "ord", "ueq", "ugt", "uge", "ult", "ule", "une", "uno",
        "true",
    ];
    if let Some(i) = INT.iter().position(|p| *p == name) {
        return i as u32;
    }
    FLOAT.iter().position(|p| *p == name).unwrap_or(0) as u32
}

/// A float literal MLIR reads back exactly: decimal when finite, the bit
/// pattern in hex otherwise.
pub fn float_literal(x: f64, s: ScalarType) -> String {
    if x.is_finite() {
        let mut t = format!("{x:?}");
        if !t.contains('.') {
            match t.find('e') {
                Some(i) => t.insert_str(i, ".0"),
                None => t.push_str(".0"),
            }
        }
        t
    } else {
        format!("0x{:X}", float_bits(x, s))
    }
}

/// The bits of `x` rounded to type `s`.
pub fn float_bits(x: f64, s: ScalarType) -> u64 {
    match s {
        ScalarType::F64 => x.to_bits(),
        ScalarType::F32 => u64::from((x as f32).to_bits()),
        ScalarType::F16 => u64::from(crate::fold_util::f32_to_f16_bits(x as f32)),
        ScalarType::BF16 => u64::from(crate::fold_util::f32_to_bf16_bits(x as f32)),
        _ => x.to_bits(),
    }
}

fn escape(s: &str) -> String {
    let mut out = String::new();
    for c in s.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            c if c.is_control() => {
                let _ = write!(out, "\\{:02X}", c as u32 & 0xff);
            }
            c => out.push(c),
        }
    }
    out
}
