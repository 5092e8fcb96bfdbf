//! AST to tile IR: name resolution, type checking, constant generics,
//! Triton's promotion rules, and SSA construction for structured control
//! flow.
//!
//! Guarantees: the output passes the tile IR verifier; every user error is
//! a diagnostic with a span; nothing panics. Helper functions are
//! instantiated once per distinct argument signature and called with
//! `tk.call` (the inlining pass removes the calls). `static_range` loops
//! are unrolled here, and `if` on a compile-time condition keeps only the
//! taken branch, as Triton does with `constexpr`.

use crate::types::{broadcast_shapes, promote};
use std::collections::{BTreeMap, HashMap};
use tritonc_ir::{
    AtomicOp, BinaryOp, BlockId, CmpPred, ConstValue, Elem, Function, Loc, MathFn, Module, OpKind, ReduceKind,
    ScalarType, ScanKind, Type, Value,
};
use tritonc_syntax::{
    ast::{self, BinOp, ExprKind, ForIter, StmtKind, UnOp},
    closest, Diagnostic, Span,
};

pub(crate) type R<T> = Result<T, Error>;

/// What a front-end error is about: whether it can depend on the values of
/// const generic parameters (see [`crate::check_kernel`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Kind {
    /// Names, functions, argument counts, the program's structure: known
    /// without any const value.
    Name,
    /// Element type categories (float, integer, bool, pointer), ranks, and
    /// whether a value is known at compile time: const values change them
    /// only through the branches they select.
    Type,
    /// Shapes, lengths, integer widths and compile-time values (the
    /// default): they may depend on const values.
    Value,
}

/// A front-end error in the making: the diagnostic, what it is about, and
/// (once the innermost expression or statement raising it has seen it)
/// whether it depends on placeholder const values.
#[derive(Debug)]
pub(crate) struct Error {
    pub(crate) diag: Diagnostic,
    kind: Kind,
    /// Whether it depends on placeholder values (`None`: decided by no
    /// expression or statement, so it does not).
    pub(crate) depends: Option<bool>,
}

/// An error about shapes, lengths or values (the default kind).
fn err(span: Span, message: impl Into<String>) -> Error {
    Error {
        diag: Diagnostic::new(span, message),
        kind: Kind::Value,
        depends: None,
    }
}

/// An error about element type categories, ranks or compile-time-ness.
fn type_err(span: Span, message: impl Into<String>) -> Error {
    Error {
        kind: Kind::Type,
        ..err(span, message)
    }
}

/// An error about names, functions, argument counts or structure.
fn name_err(span: Span, message: impl Into<String>) -> Error {
    Error {
        kind: Kind::Name,
        ..err(span, message)
    }
}

/// Largest block (elements) the front end accepts.
pub const MAX_BLOCK_ELEMS: u64 = 1 << 20;
/// Largest trip count of a `static_range` loop (it is unrolled).
pub const MAX_STATIC_UNROLL: i64 = 1024;
/// Most dimensions a block may have.
pub const MAX_RANK: usize = 4;
/// Deepest chain of helper calls.
const MAX_CALL_DEPTH: usize = 64;

/// A compile-time value of a const generic parameter.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum ConstArg {
    Int(i64),
    Bool(bool),
}

/// The builtins this compiler implements.
#[rustfmt::skip]
const IMPLEMENTED: &[&str] = &[
    "program_id", "num_programs", "arange", "zeros", "full", "load", "store", "exp", "exp2", "log", "log2", "sqrt",
    "rsqrt", "sin", "cos", "tanh", "erf", "abs", "floor", "ceil", "fma", "maximum", "minimum", "select", "cdiv",
    "device_assert", "static_assert", "range", "static_range", "expand_dims", "broadcast_to", "reshape", "trans",
    "sum", "max", "min", "argmax", "argmin", "xor_sum", "cumsum", "cumprod", "rand", "randn", "randint",
    "atomic_add", "atomic_max", "atomic_min", "atomic_xchg", "atomic_cas", "dot",
];

/// Builtins of the language that this compiler does not implement yet.
#[rustfmt::skip]
const NOT_YET: &[&str] = &[];

/// Every builtin name of the language (for "did you mean" suggestions, and
/// reserved: helpers cannot take these names).
pub fn builtins() -> impl Iterator<Item = &'static str> {
    IMPLEMENTED.iter().chain(NOT_YET).copied()
}

/// A value during lowering: typed IR, or a compile-time constant that
/// adapts to the type of what it meets (Triton's "weak" literals).
#[derive(Debug, Clone, PartialEq)]
enum Val {
    Ir(Value),
    Int(i64),
    Float(f64),
    Bool(bool),
    Dtype(ScalarType),
    Shape(Vec<u32>),
    Str(String),
    Unit,
}

impl Val {
    /// A compile-time number's value as a float (for folding with floats).
    fn number(&self) -> Option<f64> {
        match self {
            Val::Int(i) => Some(*i as f64),
            Val::Float(x) => Some(*x),
            _ => None,
        }
    }
}

#[derive(Debug, Clone)]
struct Var {
    val: Val,
    mutable: bool,
    dep: Dep,
}

/// How much of a value may depend on placeholder const values (only when
/// checking a kernel without all its consts, [`crate::check_kernel`]).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, PartialOrd, Ord, Hash)]
enum Dep {
    /// Nothing: the value is the same for every const value.
    #[default]
    None,
    /// Its shape or compile-time value (and integer width).
    Value,
    /// Also its element type category, rank or compile-time-ness (it was
    /// chosen by a branch or an unrolled loop that a const value decides).
    Type,
}

/// Counts of reads of placeholder-dependent values so far; the difference
/// of two marks says what a computation in between depended on.
#[derive(Debug, Clone, Copy, Default)]
struct Reads {
    value: u64,
    ty: u64,
}

/// Lowers kernel `name` of `file` with the given const generic values.
pub fn lower_kernel(file: &ast::File, name: &str, consts: &BTreeMap<String, ConstArg>) -> Result<Module, Diagnostic> {
    lower_kernel_assuming(file, name, consts, &BTreeMap::new())
}

/// Like [`lower_kernel`], with integer parameters in `assume` specialized
/// to known values (Triton does this for arguments equal to 1). The
/// parameter stays in the signature; its uses see the constant.
pub fn lower_kernel_assuming(
    file: &ast::File,
    name: &str,
    consts: &BTreeMap<String, ConstArg>,
    assume: &BTreeMap<String, i64>,
) -> Result<Module, Diagnostic> {
    lower_module(file, name, consts, &BTreeMap::new(), assume).map_err(|e| e.diag)
}

/// Lowers kernel `name` with `consts`, and `placeholders` for the const
/// parameters without a value: what depends on those is tracked, so that
/// each error says whether it does.
pub(crate) fn lower_module(
    file: &ast::File,
    name: &str,
    consts: &BTreeMap<String, ConstArg>,
    placeholders: &BTreeMap<String, ConstArg>,
    assume: &BTreeMap<String, i64>,
) -> R<Module> {
    let Some(kernel) = file.function(name) else {
        let names: Vec<&str> = file.kernels().map(|k| k.name.name.as_str()).collect();
        let hint = closest(name, names.iter().copied())
            .map(|c| format!("; did you mean `{c}`?"))
            .unwrap_or_default();
        return Err(name_err(
            Span::default(),
            format!("no kernel named `{name}` (kernels: {}){hint}", names.join(", ")),
        ));
    };
    if !kernel.is_kernel {
        return Err(name_err(
            kernel.name.span,
            format!("`{name}` is a helper, not a `#[kernel]`"),
        ));
    }
    check_duplicates(file)?;
    let mut module_fns = Vec::new();
    let mut instances = HashMap::new();
    let mut ctx = Ctx {
        file,
        functions: &mut module_fns,
        instances: &mut instances,
        stack: Vec::new(),
        reads: Reads::default(),
        ctl: 0,
    };
    let f = ctx.lower_kernel_fn(kernel, consts, placeholders, assume)?;
    let mut functions = vec![f];
    functions.extend(module_fns);
    Ok(Module { functions })
}

fn check_duplicates(file: &ast::File) -> R<()> {
    let mut seen: HashMap<&str, Span> = HashMap::new();
    for f in &file.functions {
        if seen.insert(&f.name.name, f.name.span).is_some() {
            return Err(name_err(
                f.name.span,
                format!("function `{}` is defined twice", f.name.name),
            ));
        }
        if builtins().any(|b| b == f.name.name) {
            return Err(name_err(
                f.name.span,
                format!("`{}` is a builtin and cannot be redefined", f.name.name),
            ));
        }
    }
    Ok(())
}

/// Helper instances by (name, argument types, what the arguments depend
/// on): the instance's name and result type.
type Instances = HashMap<(String, Vec<Type>, Vec<Dep>), (String, Type)>;

struct Ctx<'a> {
    file: &'a ast::File,
    functions: &'a mut Vec<Function>,
    instances: &'a mut Instances,
    stack: Vec<String>,
    /// Reads of placeholder-dependent values (see [`Dep`]).
    reads: Reads,
    /// Depth of compile-time branches and unrolled loops that placeholder
    /// values decide: every error inside depends on them.
    ctl: u32,
}

impl Ctx<'_> {
    fn mark(&self) -> Reads {
        self.reads
    }

    /// Records a read of a value with dependence `dep`.
    fn touch(&mut self, dep: Dep) {
        if dep >= Dep::Value {
            self.reads.value += 1;
        }
        if dep >= Dep::Type {
            self.reads.ty += 1;
        }
    }

    /// What was read since `m` depended on (everything, inside a branch
    /// that a placeholder decides).
    fn dep_since(&self, m: Reads) -> Dep {
        if self.ctl > 0 || self.reads.ty > m.ty {
            Dep::Type
        } else if self.reads.value > m.value {
            Dep::Value
        } else {
            Dep::None
        }
    }

    /// Decides, for an error that the innermost expression or statement
    /// begun at mark `m` raised, whether it depends on placeholder values:
    /// errors about names never do, type errors only when a read type
    /// does, other errors when anything read does.
    fn settle<T>(&self, r: R<T>, m: Reads) -> R<T> {
        match r {
            Err(mut e) if e.depends.is_none() => {
                let dep = self.dep_since(m);
                e.depends = Some(
                    self.ctl > 0
                        || match e.kind {
                            Kind::Name => false,
                            Kind::Type => dep >= Dep::Type,
                            Kind::Value => dep >= Dep::Value,
                        },
                );
                Err(e)
            }
            r => r,
        }
    }
}

fn scalar_type(id: &ast::Ident) -> R<ScalarType> {
    ScalarType::from_name(&id.name).ok_or_else(|| {
        let names = ScalarType::ALL.iter().map(|t| t.name()).chain(["bool"]);
        let hint = closest(&id.name, names)
            .map(|c| format!("; did you mean `{c}`?"))
            .unwrap_or_default();
        name_err(id.span, format!("unknown type `{}`{hint}", id.name))
    })
}

fn param_type(t: &ast::TypeExpr) -> R<Type> {
    Ok(match t {
        ast::TypeExpr::Scalar(id) => Type::scalar(scalar_type(id)?),
        ast::TypeExpr::Ptr(id, _) => Type::ptr(scalar_type(id)?),
    })
}

fn loc(span: Span) -> Loc {
    Loc {
        start: span.start,
        end: span.end,
    }
}

impl Ctx<'_> {
    fn lower_kernel_fn(
        &mut self,
        k: &ast::Function,
        consts: &BTreeMap<String, ConstArg>,
        placeholders: &BTreeMap<String, ConstArg>,
        assume: &BTreeMap<String, i64>,
    ) -> R<Function> {
        let mut params = Vec::new();
        for p in &k.params {
            params.push((p.name.name.clone(), param_type(&p.ty)?));
        }
        if let Some(r) = &k.ret {
            return Err(name_err(r.span(), "kernels return nothing"));
        }
        let mut f = Function::new(&k.name.name, params, Vec::new());
        f.is_kernel = true;
        for attr in &k.attrs {
            if attr.name.name != "kernel" {
                return Err(name_err(
                    attr.name.span,
                    format!("unknown attribute `{}` (expected `kernel`)", attr.name.name),
                ));
            }
            for (key, value) in &attr.args {
                match key.name.as_str() {
                    "num_warps" => {
                        if !(1..=16).contains(value) || !(*value as u64).is_power_of_two() {
                            return Err(name_err(
                                key.span,
                                format!("num_warps must be a power of two from 1 to 16, found {value}"),
                            ));
                        }
                        f.options.num_warps = *value as u32;
                    }
                    "num_stages" => {
                        if !(1..=8).contains(value) {
                            return Err(name_err(
                                key.span,
                                format!("num_stages must be from 1 to 8, found {value}"),
                            ));
                        }
                        f.options.num_stages = *value as u32;
                    }
                    other => {
                        return Err(name_err(
                            key.span,
                            format!("unknown launch option `{other}` (expected num_warps, num_stages)"),
                        ))
                    }
                }
            }
        }
        let mut env = Env::default();
        for cp in &k.const_params {
            let ty = scalar_type(&cp.ty)?;
            let (value, dep) = match (consts.get(&cp.name.name), placeholders.get(&cp.name.name)) {
                (Some(v), _) => (v, Dep::None),
                (None, Some(v)) => (v, Dep::Value),
                (None, None) => {
                    return Err(err(
                        cp.name.span,
                        format!(
                            "no value given for const `{}` (use --const {}=VALUE)",
                            cp.name.name, cp.name.name
                        ),
                    ))
                }
            };
            let val = match (ty, value) {
                (ScalarType::I1, ConstArg::Bool(b)) => Val::Bool(*b),
                (t, ConstArg::Int(i)) if t.is_int() && !t.is_bool() => Val::Int(*i),
                (t, _) if t.is_float() => {
                    return Err(type_err(
                        cp.ty.span,
                        format!(
                            "const `{}` is declared {t}; const parameters are integers or `bool`",
                            cp.name.name
                        ),
                    ))
                }
                (t, v) => {
                    return Err(err(
                        cp.name.span,
                        format!("const `{}` is declared {t} but was given {v:?}", cp.name.name),
                    ))
                }
            };
            env.bind(&cp.name.name, val, false, dep);
        }
        for known in consts.keys() {
            if !k.const_params.iter().any(|c| &c.name.name == known) {
                return Err(name_err(
                    k.name.span,
                    format!("kernel `{}` has no const parameter `{known}`", k.name.name),
                ));
            }
        }
        for (p, &v) in k.params.iter().zip(f.params().to_vec().iter()) {
            let val = match assume.get(&p.name.name) {
                None => Val::Ir(v),
                Some(value) => {
                    let t = f.ty(v);
                    match t.scalar_elem() {
                        Some(s) if s.is_int() && !s.is_bool() && int_fits(*value, s) => Val::Int(*value),
                        _ => {
                            return Err(err(
                                p.name.span,
                                format!(
                                "cannot assume `{}` = {value}: it is {t} (only integer parameters can be specialized)",
                                p.name.name
                            ),
                            ))
                        }
                    }
                }
            };
            env.bind(&p.name.name, val, false, Dep::None);
        }
        for known in assume.keys() {
            if !k.params.iter().any(|p| &p.name.name == known) {
                return Err(err(
                    k.name.span,
                    format!(
                        "kernel `{}` has no parameter `{known}` to assume a value for",
                        k.name.name
                    ),
                ));
            }
        }
        let entry = f.entry;
        let mut l = Lowerer {
            ctx: self,
            f: &mut f,
            block: entry,
            env,
        };
        let m = l.ctx.mark();
        let body = l.block_body(&k.body).and_then(|tail| match tail {
            Val::Unit => Ok(()),
            _ => Err(type_err(
                k.body.tail.as_ref().map_or(k.body.span, |t| t.span),
                "a kernel's body has no value (add `;`)",
            )),
        });
        l.ctx.settle(body, m)?;
        let b = l.block;
        l.f.append_op(b, OpKind::Return, Vec::new(), Vec::new(), Vec::new(), loc(k.body.span));
        Ok(f)
    }

    /// Instantiates helper `h` for the given argument types; returns the
    /// instance's name and its result type.
    fn instantiate(&mut self, h: &ast::Function, args: Vec<Type>, deps: Vec<Dep>, call: Span) -> R<(String, Type)> {
        let key = (h.name.name.clone(), args.clone(), deps.clone());
        if let Some(found) = self.instances.get(&key) {
            return Ok(found.clone());
        }
        if self.stack.contains(&h.name.name) {
            return Err(err(
                call,
                format!(
                    "recursive call to `{}` (helpers are inlined, so recursion is not allowed)",
                    h.name.name
                ),
            ));
        }
        if self.stack.len() >= MAX_CALL_DEPTH {
            return Err(err(call, "helper calls nested too deeply"));
        }
        if !h.const_params.is_empty() {
            return Err(name_err(
                h.const_params[0].name.span,
                "helpers cannot have const parameters",
            ));
        }
        let sig: Vec<String> = args
            .iter()
            .map(|t| {
                if t.is_block() {
                    let dims: Vec<String> = t.shape.iter().map(u32::to_string).collect();
                    format!("{}x{}", dims.join("x"), elem_tag(t.elem))
                } else {
                    elem_tag(t.elem)
                }
            })
            .collect();
        let inst_name = format!("{}__{}", h.name.name, sig.join("_"));
        let params: Vec<(String, Type)> = h
            .params
            .iter()
            .map(|p| p.name.name.clone())
            .zip(args.iter().cloned())
            .collect();
        let mut f = Function::new(&inst_name, params, Vec::new());
        let mut env = Env::default();
        for ((p, &v), &dep) in h.params.iter().zip(f.params().to_vec().iter()).zip(&deps) {
            env.bind(&p.name.name, Val::Ir(v), false, dep);
        }
        self.stack.push(h.name.name.clone());
        let entry = f.entry;
        let mut l = Lowerer {
            ctx: self,
            f: &mut f,
            block: entry,
            env,
        };
        let tail = l.block_body(&h.body)?;
        let span = h.body.tail.as_ref().map_or(h.body.span, |t| t.span);
        let (results, result_ty) = match &h.ret {
            None => {
                if !matches!(tail, Val::Unit) {
                    return Err(type_err(span, "helper without `-> T` returns a value"));
                }
                (Vec::new(), Type::scalar(ScalarType::I1))
            }
            Some(rt) => {
                let want = param_type(rt)?.elem;
                if matches!(tail, Val::Unit) {
                    return Err(type_err(
                        span,
                        format!("helper must return a value of element type {want}"),
                    ));
                }
                let v = l.materialize_as(tail, want, span)?;
                let ty = l.f.ty(v).clone();
                if ty.elem != want {
                    return Err(mismatch(
                        ty.elem,
                        want,
                        span,
                        format!("helper returns {ty}, but declares element type {want}"),
                    ));
                }
                (vec![v], ty)
            }
        };
        let b = l.block;
        l.f.append_op(b, OpKind::Return, results.clone(), Vec::new(), Vec::new(), loc(span));
        self.stack.pop();
        f.result_types = results.iter().map(|v| f.ty(*v).clone()).collect();
        self.functions.push(f);
        let out = (inst_name, result_ty);
        self.instances.insert(key, out.clone());
        Ok(out)
    }
}

fn elem_tag(e: Elem) -> String {
    match e {
        Elem::Scalar(s) => s.name().to_string(),
        Elem::Ptr(s) => format!("p{}", s.name()),
    }
}

#[derive(Debug, Clone, Default)]
struct Env {
    scopes: Vec<HashMap<String, Var>>,
}

impl Env {
    fn bind(&mut self, name: &str, val: Val, mutable: bool, dep: Dep) {
        if self.scopes.is_empty() {
            self.scopes.push(HashMap::new());
        }
        if let Some(s) = self.scopes.last_mut() {
            s.insert(name.to_string(), Var { val, mutable, dep });
        }
    }

    fn get(&self, name: &str) -> Option<&Var> {
        self.scopes.iter().rev().find_map(|s| s.get(name))
    }

    fn get_mut(&mut self, name: &str) -> Option<&mut Var> {
        self.scopes.iter_mut().rev().find_map(|s| s.get_mut(name))
    }

    fn push(&mut self) {
        self.scopes.push(HashMap::new());
    }

    fn pop(&mut self) {
        self.scopes.pop();
    }

    fn names(&self) -> Vec<String> {
        let mut n: Vec<String> = self.scopes.iter().flat_map(|s| s.keys().cloned()).collect();
        n.sort();
        n.dedup();
        n
    }
}

struct Lowerer<'c, 'a> {
    ctx: &'c mut Ctx<'a>,
    f: &'c mut Function,
    block: BlockId,
    env: Env,
}

/// Names assigned (`x = ..`, `x op= ..`) anywhere in a block.
fn assigned_names(b: &ast::Block, out: &mut Vec<String>) {
    for s in &b.stmts {
        match &s.kind {
            StmtKind::Assign { target, value, .. } => {
                out.push(target.name.clone());
                assigned_in_expr(value, out);
            }
            StmtKind::Let { value, .. } => assigned_in_expr(value, out),
            StmtKind::Expr(e) => assigned_in_expr(e, out),
            StmtKind::For { body, .. } | StmtKind::While { body, .. } => assigned_names(body, out),
            StmtKind::Return(_) => {}
        }
    }
    if let Some(t) = &b.tail {
        assigned_in_expr(t, out);
    }
}

fn assigned_in_expr(e: &ast::Expr, out: &mut Vec<String>) {
    match &e.kind {
        ExprKind::If { then, els, .. } => {
            assigned_names(then, out);
            if let Some(e) = els {
                assigned_in_expr(e, out);
            }
        }
        ExprKind::Block(b) => assigned_names(b, out),
        _ => {}
    }
}

impl Lowerer<'_, '_> {
    fn emit(&mut self, kind: OpKind, operands: Vec<Value>, result: Type, span: Span) -> Value {
        let op = self
            .f
            .append_op(self.block, kind, operands, vec![result], Vec::new(), loc(span));
        self.f.op(op).results[0]
    }

    fn emit0(&mut self, kind: OpKind, operands: Vec<Value>, span: Span) {
        self.f
            .append_op(self.block, kind, operands, Vec::new(), Vec::new(), loc(span));
    }

    fn constant(&mut self, c: ConstValue, s: ScalarType, span: Span) -> Value {
        self.emit(OpKind::Constant(c), Vec::new(), Type::scalar(s), span)
    }

    fn ty(&self, v: Value) -> Type {
        self.f.ty(v).clone()
    }

    // ---- statements -------------------------------------------------------

    /// Lowers the statements of a block in a new scope; returns the tail value.
    fn block_body(&mut self, b: &ast::Block) -> R<Val> {
        self.env.push();
        let r = self.block_inner(b);
        self.env.pop();
        r
    }

    fn block_inner(&mut self, b: &ast::Block) -> R<Val> {
        let n = b.stmts.len();
        for (i, s) in b.stmts.iter().enumerate() {
            if let StmtKind::Return(value) = &s.kind {
                if i + 1 != n || b.tail.is_some() {
                    return Err(name_err(s.span, "`return` is only allowed at the end of a function"));
                }
                return match value {
                    Some(v) => self.expr(v),
                    None => Ok(Val::Unit),
                };
            }
            self.stmt(s)?;
        }
        match &b.tail {
            Some(t) => self.expr(t),
            None => Ok(Val::Unit),
        }
    }

    /// Lowers a statement; errors are settled as in [`Self::expr`].
    fn stmt(&mut self, s: &ast::Stmt) -> R<()> {
        let m = self.ctx.mark();
        let r = self.stmt_inner(s);
        self.ctx.settle(r, m)
    }

    fn stmt_inner(&mut self, s: &ast::Stmt) -> R<()> {
        match &s.kind {
            StmtKind::Let {
                name,
                mutable,
                ty,
                value,
            } => {
                let m = self.ctx.mark();
                let mut v = self.expr(value)?;
                if matches!(v, Val::Unit) {
                    return Err(type_err(value.span, "this expression has no value"));
                }
                if let Some(t) = ty {
                    let want = param_type(t)?;
                    let vv = self.materialize_as(v, want.elem, value.span)?;
                    let have = self.ty(vv);
                    if have.elem != want.elem {
                        return Err(mismatch(
                            have.elem,
                            want.elem,
                            value.span,
                            format!("`{}` is declared {}, but the value is {have}", name.name, want.elem),
                        ));
                    }
                    v = Val::Ir(vv);
                }
                let dep = self.ctx.dep_since(m);
                self.env.bind(&name.name, v, *mutable, dep);
                Ok(())
            }
            StmtKind::Assign { target, op, value } => {
                let m = self.ctx.mark();
                let Some(var) = self.env.get(&target.name) else {
                    return Err(self.unknown_name(&target.name, target.span));
                };
                let old_dep = var.dep;
                if !var.mutable {
                    return Err(name_err(
                        target.span,
                        format!(
                            "cannot assign twice to immutable variable `{}` (declare it with `let mut`)",
                            target.name
                        ),
                    ));
                }
                let old = var.val.clone();
                self.ctx.touch(old_dep);
                let new = match op {
                    None => self.expr(value)?,
                    Some(op) => {
                        let rhs = self.expr(value)?;
                        self.binary(*op, old.clone(), rhs, target.span, s.span)?
                    }
                };
                // A variable keeps its type: a literal assigned to a typed
                // variable takes that type.
                let new = match (&old, new) {
                    (Val::Ir(o), n @ (Val::Int(_) | Val::Float(_) | Val::Bool(_))) => {
                        let ty = self.ty(*o);
                        let v = self.materialize_like(n, &ty, value.span)?;
                        Val::Ir(v)
                    }
                    (_, n) => n,
                };
                if let (Val::Ir(o), Val::Ir(n)) = (&old, &new) {
                    let (ot, nt) = (self.ty(*o), self.ty(*n));
                    if ot != nt {
                        return Err(mismatch(
                            ot.elem,
                            nt.elem,
                            s.span,
                            format!("`{}` has type {ot}, but is assigned a {nt}", target.name),
                        ));
                    }
                }
                // The variable keeps what it depended on: a loop or branch
                // may carry either value.
                let dep = self.ctx.dep_since(m);
                if let Some(var) = self.env.get_mut(&target.name) {
                    var.val = new;
                    var.dep = var.dep.max(dep);
                }
                Ok(())
            }
            StmtKind::Expr(e) => {
                self.expr(e)?;
                Ok(())
            }
            StmtKind::For { var, iter, body } => self.for_loop(var, iter, body, s.span),
            StmtKind::While { cond, body } => self.while_loop(cond, body, s.span),
            StmtKind::Return(_) => Err(name_err(s.span, "`return` is only allowed at the end of a function")),
        }
    }

    /// Variables bound outside and assigned inside `body`: the loop-carried
    /// (or branch-merged) values, in a deterministic order.
    fn carried(&self, body: &ast::Block) -> Vec<String> {
        let mut names = Vec::new();
        assigned_names(body, &mut names);
        names.sort();
        names.dedup();
        names.retain(|n| self.env.get(n).is_some_and(|v| v.mutable));
        names
    }

    fn for_loop(&mut self, var: &ast::Ident, iter: &ForIter, body: &ast::Block, span: Span) -> R<()> {
        let m = self.ctx.mark();
        let (lo, hi, step, is_static) = match iter {
            ForIter::Range(a, b) => (self.expr(a)?, self.expr(b)?, Val::Int(1), false),
            ForIter::Expr(e) => match &e.kind {
                ExprKind::Call { func, args } if func.name == "range" || func.name == "static_range" => {
                    let st = func.name == "static_range";
                    let (lo, hi, step) = match args.len() {
                        1 => (Val::Int(0), self.expr(&args[0])?, Val::Int(1)),
                        2 => (self.expr(&args[0])?, self.expr(&args[1])?, Val::Int(1)),
                        3 => (self.expr(&args[0])?, self.expr(&args[1])?, self.expr(&args[2])?),
                        _ => return Err(name_err(e.span, format!("`{}` takes 1 to 3 arguments", func.name))),
                    };
                    (lo, hi, step, st)
                }
                _ => {
                    return Err(name_err(
                        e.span,
                        "a `for` loop iterates over `a..b`, `range(a, b, step)` or `static_range(a, b)`",
                    ))
                }
            },
        };
        if let Val::Int(s) = step {
            if s <= 0 {
                return Err(err(span, format!("loop step must be positive, found {s}")));
            }
        }
        let bounds_dep = self.ctx.dep_since(m);
        if is_static {
            let (Val::Int(a), Val::Int(b), Val::Int(s)) = (&lo, &hi, &step) else {
                return Err(type_err(
                    span,
                    "`static_range` bounds and step must be compile-time constants",
                ));
            };
            let trips = if b > a { (b - a + s - 1) / s } else { 0 };
            if trips > MAX_STATIC_UNROLL {
                return Err(err(
                    span,
                    format!("`static_range` of {trips} iterations is too long to unroll (limit {MAX_STATIC_UNROLL})"),
                ));
            }
            // A trip count that placeholders decide: what the body does
            // (and what it assigns) depends on them.
            let decided = bounds_dep != Dep::None;
            if decided {
                self.ctx.ctl += 1;
                self.ctx.touch(Dep::Type);
            }
            let mut i = *a;
            let mut r = Ok(());
            while i < *b && r.is_ok() {
                self.env.push();
                self.env.bind(&var.name, Val::Int(i), false, bounds_dep);
                r = self.block_inner(body).map(|_| ());
                self.env.pop();
                i += s;
            }
            if decided {
                self.ctx.ctl -= 1;
            }
            return r;
        }
        // Runtime loop: bounds share one integer type (i32 unless wider).
        let mut it = ScalarType::I32;
        for v in [&lo, &hi, &step] {
            if let Val::Ir(x) = v {
                let t = self.ty(*x);
                match t.scalar_elem() {
                    Some(s) if !t.is_block() && s.is_int() && !s.is_bool() => it = promote(it, s),
                    _ => {
                        return Err(type_err(
                            span,
                            format!("loop bounds must be integer scalars, found {t}"),
                        ))
                    }
                }
            } else if !matches!(v, Val::Int(_)) {
                return Err(type_err(span, "loop bounds must be integers"));
            }
        }
        let lo = self.materialize_as(lo, Elem::Scalar(it), span)?;
        let hi = self.materialize_as(hi, Elem::Scalar(it), span)?;
        let step = self.materialize_as(step, Elem::Scalar(it), span)?;
        let lo = self.cast_to(lo, it, span);
        let hi = self.cast_to(hi, it, span);
        let step = self.cast_to(step, it, span);
        let names = self.carried(body);
        let inits = self.carried_inits(&names, span)?;
        let init_types: Vec<Type> = inits.iter().map(|v| self.ty(*v)).collect();
        let mut arg_types = vec![Type::scalar(it)];
        arg_types.extend(init_types.iter().cloned());
        let body_block = self.f.new_block(arg_types);
        let args = self.f.block(body_block).args.clone();
        let outer = std::mem::replace(&mut self.block, body_block);
        self.loop_body(
            body,
            Some((&var.name, args[0], bounds_dep)),
            &names,
            &args[1..],
            &init_types,
            span,
        )?;
        self.block = outer;
        let mut operands = vec![lo, hi, step];
        operands.extend(inits);
        let op = self.f.append_op(
            self.block,
            OpKind::For,
            operands,
            init_types,
            vec![body_block],
            loc(span),
        );
        let results = self.f.op(op).results.clone();
        for (n, r) in names.iter().zip(results) {
            self.rebind(n, Val::Ir(r));
        }
        Ok(())
    }

    /// The values that carried variables enter a loop with (a read of each).
    fn carried_inits(&mut self, names: &[String], span: Span) -> R<Vec<Value>> {
        let mut inits = Vec::new();
        for n in names {
            let (v, dep) = self
                .env
                .get(n)
                .map_or((Val::Unit, Dep::None), |v| (v.val.clone(), v.dep));
            self.ctx.touch(dep);
            inits.push(self.materialize(v, span)?);
        }
        Ok(inits)
    }

    fn while_loop(&mut self, cond: &ast::Expr, body: &ast::Block, span: Span) -> R<()> {
        let names = self.carried(body);
        let inits = self.carried_inits(&names, span)?;
        let types: Vec<Type> = inits.iter().map(|v| self.ty(*v)).collect();
        let before = self.f.new_block(types.clone());
        let after = self.f.new_block(types.clone());
        let outer = std::mem::replace(&mut self.block, before);
        // Before region: evaluate the condition on the carried values.
        self.env.push();
        let bargs = self.f.block(before).args.clone();
        for (n, a) in names.iter().zip(&bargs) {
            self.rebind(n, Val::Ir(*a));
        }
        let c = self.expr(cond);
        self.env.pop();
        let c = c?;
        let c = self.materialize_as(c, Elem::Scalar(ScalarType::I1), cond.span)?;
        if self.ty(c) != Type::scalar(ScalarType::I1) {
            return Err(type_err(
                cond.span,
                format!("`while` condition must be a scalar bool, found {}", self.ty(c)),
            ));
        }
        let mut ops = vec![c];
        ops.extend(bargs.iter().copied());
        self.emit0(OpKind::Condition, ops, cond.span);
        // After region: the body.
        self.block = after;
        let aargs = self.f.block(after).args.clone();
        self.loop_body(body, None, &names, &aargs, &types, span)?;
        self.block = outer;
        let op = self
            .f
            .append_op(self.block, OpKind::While, inits, types, vec![before, after], loc(span));
        let results = self.f.op(op).results.clone();
        for (n, r) in names.iter().zip(results) {
            self.rebind(n, Val::Ir(r));
        }
        Ok(())
    }

    /// Lowers a loop body into the current block: binds the induction
    /// variable (if any) and the carried variables to the block's
    /// arguments, then yields the carried variables' new values.
    fn loop_body(
        &mut self,
        body: &ast::Block,
        induction: Option<(&str, Value, Dep)>,
        names: &[String],
        args: &[Value],
        types: &[Type],
        span: Span,
    ) -> R<()> {
        self.env.push();
        if let Some((name, iv, dep)) = induction {
            self.env.bind(name, Val::Ir(iv), false, dep);
        }
        for (n, a) in names.iter().zip(args) {
            self.rebind(n, Val::Ir(*a));
        }
        let r = self.block_inner(body);
        let yields = self.collect_carried(names, types, span);
        self.env.pop();
        r?;
        let yields = yields?;
        self.emit0(OpKind::Yield, yields, span);
        Ok(())
    }

    /// Sets the innermost binding of `name` to `val` (the variable exists).
    fn rebind(&mut self, name: &str, val: Val) {
        if let Some(v) = self.env.get_mut(name) {
            v.val = val;
        }
    }

    /// The current values of loop-carried variables, checked against the
    /// types they entered the loop with.
    fn collect_carried(&mut self, names: &[String], types: &[Type], span: Span) -> R<Vec<Value>> {
        let mut out = Vec::new();
        for (n, t) in names.iter().zip(types) {
            let v = self.env.get(n).map(|v| v.val.clone()).unwrap_or(Val::Unit);
            let v = self.materialize_like(v, t, span)?;
            let have = self.ty(v);
            if have != *t {
                return Err(mismatch(
                    have.elem,
                    t.elem,
                    span,
                    format!("loop-carried variable `{n}` changes type from {t} to {have} in the loop"),
                ));
            }
            out.push(v);
        }
        Ok(out)
    }

    fn if_expr(&mut self, cond: &ast::Expr, then: &ast::Block, els: Option<&ast::Expr>, span: Span) -> R<Val> {
        let m = self.ctx.mark();
        let c = self.expr(cond)?;
        // A compile-time condition keeps only the taken branch.
        let known = match c {
            Val::Bool(b) => Some(b),
            Val::Int(i) => Some(i != 0),
            _ => None,
        };
        if let Some(taken) = known {
            // A branch that placeholders choose: everything in it, and
            // its value, depends on them.
            let decided = self.ctx.dep_since(m) != Dep::None;
            if decided {
                self.ctx.ctl += 1;
                self.ctx.touch(Dep::Type);
            }
            let r = if taken {
                self.block_body(then)
            } else {
                match els {
                    Some(e) => self.expr(e),
                    None => Ok(Val::Unit),
                }
            };
            if decided {
                self.ctx.ctl -= 1;
            }
            return r;
        }
        let c = self.materialize(c, cond.span)?;
        if self.ty(c) != Type::scalar(ScalarType::I1) {
            return Err(type_err(
                cond.span,
                format!(
                    "`if` condition must be a scalar bool, found {} (use `select` for blocks)",
                    self.ty(c)
                ),
            ));
        }
        let mut names = self.carried(then);
        if let Some(e) = els {
            let mut more = Vec::new();
            assigned_in_expr(e, &mut more);
            more.retain(|n| self.env.get(n).is_some_and(|v| v.mutable));
            names.extend(more);
            names.sort();
            names.dedup();
        }
        let saved: Vec<Val> = names
            .iter()
            .map(|n| self.env.get(n).map(|v| v.val.clone()).unwrap_or(Val::Unit))
            .collect();
        // The merged variables' values before the `if` are read.
        for n in &names {
            let dep = self.env.get(n).map_or(Dep::None, |v| v.dep);
            self.ctx.touch(dep);
        }
        let outer = self.block;
        // Then branch.
        let then_block = self.f.new_block(Vec::new());
        self.block = then_block;
        let then_val = self.block_body(then)?;
        let then_vals: Vec<Val> = names
            .iter()
            .map(|n| self.env.get(n).map(|v| v.val.clone()).unwrap_or(Val::Unit))
            .collect();
        let then_end = self.block;
        for (n, v) in names.iter().zip(&saved) {
            self.rebind(n, v.clone());
        }
        // Else branch.
        let else_block = self.f.new_block(Vec::new());
        self.block = else_block;
        let else_val = match els {
            Some(e) => self.expr(e)?,
            None => Val::Unit,
        };
        let else_vals: Vec<Val> = names
            .iter()
            .map(|n| self.env.get(n).map(|v| v.val.clone()).unwrap_or(Val::Unit))
            .collect();
        let else_end = self.block;
        // Merge: the value of the `if`, then every variable either side changed.
        let has_value = !matches!(then_val, Val::Unit) || !matches!(else_val, Val::Unit);
        if has_value && (matches!(then_val, Val::Unit) || matches!(else_val, Val::Unit)) {
            return Err(type_err(span, "both branches of an `if` with a value must have one"));
        }
        let mut pairs: Vec<(Val, Val, Option<&str>)> = Vec::new();
        if has_value {
            pairs.push((then_val, else_val, None));
        }
        let mut merged_names = Vec::new();
        for ((n, t), e) in names.iter().zip(then_vals).zip(else_vals) {
            pairs.push((t, e, Some(n.as_str())));
            merged_names.push(n.clone());
        }
        let mut then_y = Vec::new();
        let mut else_y = Vec::new();
        let mut types = Vec::new();
        for (t, e, name) in pairs {
            // Literals take the type of the other side (or their default).
            let proto = match (&t, &e) {
                (Val::Ir(v), _) | (_, Val::Ir(v)) => Some(self.ty(*v)),
                _ => None,
            };
            self.block = then_end;
            let tv = match &proto {
                Some(p) => self.materialize_like(t, p, span)?,
                None => self.materialize(t, span)?,
            };
            let tt = self.ty(tv);
            self.block = else_end;
            let ev = self.materialize_like(e, &tt, span)?;
            let et = self.ty(ev);
            if tt != et {
                let what = name.map_or("the `if` value".to_string(), |n| format!("`{n}`"));
                return Err(mismatch(
                    tt.elem,
                    et.elem,
                    span,
                    format!("{what} is {tt} in one branch and {et} in the other"),
                ));
            }
            then_y.push(tv);
            else_y.push(ev);
            types.push(tt);
        }
        self.block = then_end;
        self.emit0(OpKind::Yield, then_y, span);
        self.block = else_end;
        self.emit0(OpKind::Yield, else_y, span);
        self.block = outer;
        let op = self.f.append_op(
            outer,
            OpKind::If,
            vec![c],
            types,
            vec![then_block, else_block],
            loc(span),
        );
        let mut results = self.f.op(op).results.clone().into_iter();
        let value = if has_value {
            results.next().map_or(Val::Unit, Val::Ir)
        } else {
            Val::Unit
        };
        for (n, r) in merged_names.iter().zip(results) {
            self.rebind(n, Val::Ir(r));
        }
        Ok(value)
    }

    // ---- expressions ------------------------------------------------------

    fn unknown_name(&self, name: &str, span: Span) -> Error {
        let names = self.env.names();
        let hint = closest(name, names.iter().map(String::as_str))
            .map(|c| format!("; did you mean `{c}`?"))
            .unwrap_or_default();
        name_err(span, format!("unknown name `{name}`{hint}"))
    }

    /// Lowers an expression; an error raised here (not in a
    /// subexpression) is settled against what the expression read.
    fn expr(&mut self, e: &ast::Expr) -> R<Val> {
        let m = self.ctx.mark();
        let r = self.expr_inner(e);
        self.ctx.settle(r, m)
    }

    fn expr_inner(&mut self, e: &ast::Expr) -> R<Val> {
        match &e.kind {
            ExprKind::Int(i) => i64::try_from(*i)
                .map(Val::Int)
                .map_err(|_| err(e.span, "integer literal too large for i64")),
            ExprKind::Float(x) => Ok(Val::Float(*x)),
            ExprKind::Bool(b) => Ok(Val::Bool(*b)),
            ExprKind::Str(s) => Ok(Val::Str(s.clone())),
            ExprKind::Name(n) => {
                if let Some(v) = self.env.get(n) {
                    let (val, dep) = (v.val.clone(), v.dep);
                    self.ctx.touch(dep);
                    return Ok(val);
                }
                if let Some(t) = ScalarType::from_name(n) {
                    return Ok(Val::Dtype(t));
                }
                Err(self.unknown_name(n, e.span))
            }
            ExprKind::Path(ty, name) => self.path_const(ty, name, e.span),
            ExprKind::Array(items) => {
                let mut dims = Vec::new();
                for it in items {
                    match self.expr(it)? {
                        Val::Int(d) if d > 0 && d <= MAX_BLOCK_ELEMS as i64 => dims.push(d as u32),
                        _ => return Err(err(it.span, "shape dimensions must be positive compile-time integers")),
                    }
                }
                Ok(Val::Shape(dims))
            }
            ExprKind::Call { func, args } => self.call(func, args, e.span),
            ExprKind::Method { receiver, method, args } => {
                let mut all = vec![(**receiver).clone()];
                all.extend(args.iter().cloned());
                match method.name.as_str() {
                    "to" | "bitcast" => self.convert(&method.name, &all, e.span),
                    _ => self.call(method, &all, e.span),
                }
            }
            ExprKind::Unary(op, x) => {
                let v = self.expr(x)?;
                self.unary(*op, v, e.span)
            }
            ExprKind::Binary(op, a, b) => {
                let av = self.expr(a)?;
                let bv = self.expr(b)?;
                self.binary_at(*op, av, bv, [a.span, b.span], e.span)
            }
            ExprKind::If { cond, then, els } => self.if_expr(cond, then, els.as_deref(), e.span),
            ExprKind::Block(b) => self.block_body(b),
        }
    }

    fn path_const(&mut self, ty: &ast::Ident, name: &ast::Ident, span: Span) -> R<Val> {
        let s = scalar_type(ty)?;
        let c = match (s.is_float(), name.name.as_str()) {
            (true, "INFINITY") => ConstValue::Float(f64::INFINITY),
            (true, "NEG_INFINITY") => ConstValue::Float(f64::NEG_INFINITY),
            (true, "NAN") => ConstValue::Float(f64::NAN),
            (true, "MAX") => ConstValue::Float(float_max(s)),
            (true, "MIN") => ConstValue::Float(-float_max(s)),
            (true, "EPSILON") => ConstValue::Float(float_eps(s)),
            (false, "MAX") if !s.is_bool() => ConstValue::Int(int_max(s)),
            (false, "MIN") if !s.is_bool() => ConstValue::Int(int_min(s)),
            _ => {
                return Err(name_err(
                    name.span,
                    format!(
                    "unknown constant `{}::{}` (known: MAX, MIN, and for floats INFINITY, NEG_INFINITY, NAN, EPSILON)",
                    ty.name, name.name
                ),
                ))
            }
        };
        Ok(Val::Ir(self.constant(c, s, span)))
    }

    fn unary(&mut self, op: UnOp, v: Val, span: Span) -> R<Val> {
        match (op, v) {
            (UnOp::Neg, Val::Int(i)) => Ok(Val::Int(i.wrapping_neg())),
            (UnOp::Neg, Val::Float(x)) => Ok(Val::Float(-x)),
            (UnOp::Not, Val::Bool(b)) => Ok(Val::Bool(!b)),
            (UnOp::Not, Val::Int(i)) => Ok(Val::Int(!i)),
            (op, Val::Ir(x)) => {
                let t = self.ty(x);
                let Some(s) = t.scalar_elem() else {
                    return Err(type_err(span, format!("cannot apply a unary operator to {t}")));
                };
                match op {
                    UnOp::Neg if s.is_bool() => Err(type_err(span, "cannot negate a bool (use `!`)")),
                    UnOp::Neg => Ok(Val::Ir(self.emit(OpKind::Neg, vec![x], t, span))),
                    UnOp::Not if s.is_float() => Err(type_err(span, format!("cannot apply `!` to {t}"))),
                    UnOp::Not => Ok(Val::Ir(self.emit(OpKind::Not, vec![x], t, span))),
                }
            }
            (_, other) => Err(type_err(
                span,
                format!("cannot apply a unary operator to {}", describe(&other)),
            )),
        }
    }

    /// Folds an operator on two compile-time constants.
    fn fold_literals(&self, op: BinOp, a: &Val, b: &Val, span: Span) -> R<Option<Val>> {
        use BinOp::*;
        let r = match (a, b) {
            (Val::Int(x), Val::Int(y)) => {
                let (x, y) = (*x, *y);
                match op {
                    Add => Val::Int(x.wrapping_add(y)),
                    Sub => Val::Int(x.wrapping_sub(y)),
                    Mul => Val::Int(x.wrapping_mul(y)),
                    Div | Rem if y == 0 => return Err(err(span, "division by zero in a constant expression")),
                    Div => Val::Int(x.wrapping_div(y)),
                    Rem => Val::Int(x.wrapping_rem(y)),
                    Shl => Val::Int(x.wrapping_shl(y as u32)),
                    Shr => Val::Int(x.wrapping_shr(y as u32)),
                    BitAnd => Val::Int(x & y),
                    BitOr => Val::Int(x | y),
                    BitXor => Val::Int(x ^ y),
                    Eq => Val::Bool(x == y),
                    Ne => Val::Bool(x != y),
                    Lt => Val::Bool(x < y),
                    Le => Val::Bool(x <= y),
                    Gt => Val::Bool(x > y),
                    Ge => Val::Bool(x >= y),
                    And | Or => return Err(type_err(span, "`&&` and `||` take bools")),
                }
            }
            (Val::Bool(x), Val::Bool(y)) => match op {
                And | BitAnd => Val::Bool(*x && *y),
                Or | BitOr => Val::Bool(*x || *y),
                BitXor | Ne => Val::Bool(x != y),
                Eq => Val::Bool(x == y),
                _ => return Err(type_err(span, format!("`{}` does not apply to bools", op.symbol()))),
            },
            (Val::Int(_) | Val::Float(_), Val::Int(_) | Val::Float(_)) => {
                let (x, y) = (a.number().unwrap_or(0.0), b.number().unwrap_or(0.0));
                match op {
                    Add => Val::Float(x + y),
                    Sub => Val::Float(x - y),
                    Mul => Val::Float(x * y),
                    Div => Val::Float(x / y),
                    Rem => Val::Float(x % y),
                    Eq => Val::Bool(x == y),
                    Ne => Val::Bool(x != y),
                    Lt => Val::Bool(x < y),
                    Le => Val::Bool(x <= y),
                    Gt => Val::Bool(x > y),
                    Ge => Val::Bool(x >= y),
                    _ => return Err(type_err(span, format!("`{}` does not apply to floats", op.symbol()))),
                }
            }
            _ => return Ok(None),
        };
        Ok(Some(r))
    }

    fn binary(&mut self, op: BinOp, a: Val, b: Val, lhs_span: Span, span: Span) -> R<Val> {
        self.binary_at(op, a, b, [lhs_span, span], span)
    }

    /// [`Self::binary`] with both operands' spans.
    fn binary_at(&mut self, op: BinOp, a: Val, b: Val, spans: [Span; 2], span: Span) -> R<Val> {
        let lhs_span = spans[0];
        if let Some(v) = self.fold_literals(op, &a, &b, span)? {
            return Ok(v);
        }
        // Pointer arithmetic.
        let is_ptr = |s: &Self, v: &Val| matches!(v, Val::Ir(x) if matches!(s.f.ty(*x).elem, Elem::Ptr(_)));
        if is_ptr(self, &a) || is_ptr(self, &b) {
            return self.ptr_arith(op, a, b, spans, span).map(Val::Ir);
        }
        let (x, y) = self.unify(a, b, lhs_span, span)?;
        let t = self.ty(x);
        let s = t.scalar_elem().unwrap_or(ScalarType::I32);
        let bool_t = t.with_elem(Elem::Scalar(ScalarType::I1));
        let bad = |what: &str| {
            Err(type_err(
                span,
                format!("`{}` does not apply to {what} (operands are {t})", op.symbol()),
            ))
        };
        let kind = match op {
            BinOp::Add => OpKind::Binary(BinaryOp::Add),
            BinOp::Sub => OpKind::Binary(BinaryOp::Sub),
            BinOp::Mul => OpKind::Binary(BinaryOp::Mul),
            BinOp::Div => OpKind::Binary(BinaryOp::Div),
            BinOp::Rem => OpKind::Binary(BinaryOp::Rem),
            BinOp::Shl | BinOp::Shr if s.is_float() || s.is_bool() => return bad("floats or bools"),
            BinOp::Shl => OpKind::Binary(BinaryOp::Shl),
            BinOp::Shr => OpKind::Binary(BinaryOp::Shr),
            BinOp::BitAnd | BinOp::BitOr | BinOp::BitXor if s.is_float() => return bad("floats"),
            BinOp::BitAnd => OpKind::Binary(BinaryOp::And),
            BinOp::BitOr => OpKind::Binary(BinaryOp::Or),
            BinOp::BitXor => OpKind::Binary(BinaryOp::Xor),
            BinOp::And | BinOp::Or if !s.is_bool() => return bad("non-bool values"),
            BinOp::And => OpKind::Binary(BinaryOp::And),
            BinOp::Or => OpKind::Binary(BinaryOp::Or),
            BinOp::Eq => OpKind::Cmp(CmpPred::Eq),
            BinOp::Ne => OpKind::Cmp(CmpPred::Ne),
            BinOp::Lt => OpKind::Cmp(CmpPred::Lt),
            BinOp::Le => OpKind::Cmp(CmpPred::Le),
            BinOp::Gt => OpKind::Cmp(CmpPred::Gt),
            BinOp::Ge => OpKind::Cmp(CmpPred::Ge),
        };
        if s.is_bool() && matches!(op, BinOp::Add | BinOp::Sub | BinOp::Mul | BinOp::Div | BinOp::Rem) {
            return bad("bools");
        }
        let rt = if op.is_comparison() { bool_t } else { t };
        Ok(Val::Ir(self.emit(kind, vec![x, y], rt, span)))
    }

    /// `ptr + int`, `int + ptr`, `ptr - int`; `spans` are the operands'.
    fn ptr_arith(&mut self, op: BinOp, a: Val, b: Val, spans: [Span; 2], span: Span) -> R<Value> {
        let (p, off, off_span, negate) = match (op, &a, &b) {
            (BinOp::Add, Val::Ir(x), _) if matches!(self.f.ty(*x).elem, Elem::Ptr(_)) => (*x, b, spans[1], false),
            (BinOp::Add, _, Val::Ir(y)) if matches!(self.f.ty(*y).elem, Elem::Ptr(_)) => (*y, a, spans[0], false),
            (BinOp::Sub, Val::Ir(x), _) if matches!(self.f.ty(*x).elem, Elem::Ptr(_)) => (*x, b, spans[1], true),
            _ => {
                return Err(type_err(
                    span,
                    format!(
                        "`{}` does not apply to pointers (only `ptr + int` and `ptr - int`)",
                        op.symbol()
                    ),
                ))
            }
        };
        let off = match off {
            Val::Int(i) => self.constant(
                ConstValue::Int(i),
                if i32::try_from(i).is_ok() {
                    ScalarType::I32
                } else {
                    ScalarType::I64
                },
                span,
            ),
            Val::Ir(v) => v,
            other => {
                return Err(type_err(
                    off_span,
                    format!("pointer offsets must be integers, found {}", describe(&other)),
                ))
            }
        };
        let ot = self.ty(off);
        match ot.scalar_elem() {
            Some(s) if s.is_int() && !s.is_bool() => {}
            _ => {
                return Err(type_err(
                    off_span,
                    format!("pointer offsets must be integers, found {ot}"),
                ))
            }
        }
        let off = if negate {
            self.emit(OpKind::Neg, vec![off], ot.clone(), span)
        } else {
            off
        };
        let pt = self.ty(p);
        let shape = broadcast_shapes(&pt.shape, &ot.shape)
            .ok_or_else(|| err(span, format!("cannot broadcast pointers {pt} with offsets {ot}")))?;
        let p = self.broadcast_to(p, &shape, span);
        let off = self.broadcast_to(off, &shape, span);
        let rt = self.ty(p);
        Ok(self.emit(OpKind::AddPtr, vec![p, off], rt, span))
    }

    /// Converts two operands to one type and shape (promotion, broadcasting).
    fn unify(&mut self, a: Val, b: Val, lhs_span: Span, span: Span) -> R<(Value, Value)> {
        let (x, y) = match (a, b) {
            (Val::Ir(x), Val::Ir(y)) => (x, y),
            (Val::Ir(x), lit) => {
                let y = self.literal_against(lit, x, span)?;
                (x, y)
            }
            (lit, Val::Ir(y)) => {
                let x = self.literal_against(lit, y, lhs_span)?;
                (x, y)
            }
            (a @ (Val::Int(_) | Val::Float(_) | Val::Bool(_)), b @ (Val::Int(_) | Val::Float(_) | Val::Bool(_))) => {
                // Two untyped numbers where a value is needed (`select(c,
                // 1.0, 2)`): both take the type a literal alone has, f32 if
                // either is a float.
                let a = match (&a, &b) {
                    (Val::Int(i), Val::Float(_)) => Val::Float(*i as f64),
                    _ => a,
                };
                let x = self.materialize(a, lhs_span)?;
                let y = self.literal_against(b, x, span)?;
                (x, y)
            }
            (a, b) => {
                return Err(type_err(
                    span,
                    format!("operator does not apply to {} and {}", describe(&a), describe(&b)),
                ))
            }
        };
        let (tx, ty) = (self.ty(x), self.ty(y));
        let (Some(sx), Some(sy)) = (tx.scalar_elem(), ty.scalar_elem()) else {
            return Err(type_err(span, format!("operator does not apply to {tx} and {ty}")));
        };
        let s = promote(sx, sy);
        let shape = broadcast_shapes(&tx.shape, &ty.shape)
            .ok_or_else(|| err(span, format!("shape mismatch: cannot broadcast {tx} with {ty}")))?;
        let x = self.cast_to(x, s, span);
        let y = self.cast_to(y, s, span);
        Ok((self.broadcast_to(x, &shape, span), self.broadcast_to(y, &shape, span)))
    }

    /// A literal combined with typed value `other` becomes a scalar of
    /// `other`'s element type; a float literal with an integer value stays
    /// f32 (the integer side is promoted, as Triton does).
    fn literal_against(&mut self, lit: Val, other: Value, span: Span) -> R<Value> {
        let s = self
            .f
            .ty(other)
            .scalar_elem()
            .ok_or_else(|| type_err(span, "pointer arithmetic takes integer offsets"))?;
        let target = match (&lit, s) {
            (Val::Float(_), s) if !s.is_float() => ScalarType::F32,
            (Val::Int(_), s) if s.is_bool() => ScalarType::I32,
            _ => s,
        };
        self.scalar_literal(lit, target, span)
    }

    /// Materializes a compile-time constant as a scalar of type `s`.
    fn scalar_literal(&mut self, lit: Val, s: ScalarType, span: Span) -> R<Value> {
        let c = match (lit, s.is_float()) {
            (Val::Int(i), false) => {
                if !int_fits(i, s) {
                    return Err(err(span, format!("literal {i} does not fit in {s}")));
                }
                ConstValue::Int(i)
            }
            (Val::Int(i), true) => ConstValue::Float(i as f64),
            (Val::Float(x), true) => ConstValue::Float(x),
            (Val::Float(x), false) => {
                return Err(type_err(span, format!("float literal {x} used as {s}")));
            }
            (Val::Bool(b), _) if s.is_bool() => ConstValue::Int(i64::from(b)),
            (Val::Bool(b), false) => ConstValue::Int(i64::from(b)),
            (other, _) => {
                return Err(type_err(span, format!("expected a value, found {}", describe(&other))));
            }
        };
        Ok(self.constant(c, s, span))
    }

    /// Turns any value into IR with its default type (int literals are
    /// i32, or i64 when they do not fit; floats are f32).
    fn materialize(&mut self, v: Val, span: Span) -> R<Value> {
        match v {
            Val::Ir(x) => Ok(x),
            Val::Int(i) => {
                let s = if i32::try_from(i).is_ok() {
                    ScalarType::I32
                } else {
                    ScalarType::I64
                };
                self.scalar_literal(Val::Int(i), s, span)
            }
            Val::Float(_) => self.scalar_literal(v, ScalarType::F32, span),
            Val::Bool(_) => self.scalar_literal(v, ScalarType::I1, span),
            other => Err(type_err(span, format!("expected a value, found {}", describe(&other)))),
        }
    }

    /// Materializes a literal with element type `elem` (typed values pass
    /// through unchanged).
    fn materialize_as(&mut self, v: Val, elem: Elem, span: Span) -> R<Value> {
        match (v, elem) {
            (Val::Ir(x), _) => Ok(x),
            (lit @ (Val::Int(_) | Val::Float(_) | Val::Bool(_)), Elem::Scalar(s)) => self.scalar_literal(lit, s, span),
            (other, _) => self.materialize(other, span),
        }
    }

    /// Materializes a literal to exactly type `t` (splatting to its shape).
    fn materialize_like(&mut self, v: Val, t: &Type, span: Span) -> R<Value> {
        match v {
            Val::Ir(x) => Ok(x),
            lit => {
                let x = self.materialize_as(lit, t.elem, span)?;
                Ok(self.broadcast_to(x, &t.shape, span))
            }
        }
    }

    fn cast_to(&mut self, v: Value, s: ScalarType, span: Span) -> Value {
        let t = self.ty(v);
        if t.scalar_elem() == Some(s) {
            return v;
        }
        self.emit(OpKind::Cast, vec![v], t.with_elem(Elem::Scalar(s)), span)
    }

    /// Splats a scalar or broadcasts a block to `shape` (a no-op when equal).
    fn broadcast_to(&mut self, v: Value, shape: &[u32], span: Span) -> Value {
        let t = self.ty(v);
        if t.shape == shape {
            return v;
        }
        let rt = Type::block(t.elem, shape.to_vec());
        if t.shape.is_empty() {
            return self.emit(OpKind::Splat, vec![v], rt, span);
        }
        let mut v = v;
        if t.shape.len() < shape.len() {
            // Numpy broadcasting first adds leading unit dimensions.
            let mut padded = vec![1; shape.len() - t.shape.len()];
            padded.extend(&t.shape);
            v = self.emit(OpKind::Reshape, vec![v], Type::block(t.elem, padded.clone()), span);
            if padded == shape {
                return v;
            }
        }
        self.emit(OpKind::Broadcast, vec![v], rt, span)
    }

    // ---- calls ------------------------------------------------------------

    fn call(&mut self, func: &ast::Ident, args: &[ast::Expr], span: Span) -> R<Val> {
        let name = func.name.as_str();
        if let Some(h) = self.ctx.file.function(name) {
            if h.is_kernel {
                return Err(name_err(
                    func.span,
                    format!("`{name}` is a kernel; kernels cannot be called"),
                ));
            }
            return self.call_helper(h, args, span);
        }
        if NOT_YET.contains(&name) {
            return Err(err(
                func.span,
                format!("builtin `{name}` is not implemented yet in this compiler"),
            ));
        }
        let n = args.len();
        let arity = |lo: usize, hi: usize| -> R<()> {
            if n < lo || n > hi {
                let want = if lo == hi {
                    lo.to_string()
                } else {
                    format!("{lo} to {hi}")
                };
                return Err(name_err(span, format!("`{name}` takes {want} arguments, found {n}")));
            }
            Ok(())
        };
        match name {
            "program_id" | "num_programs" => {
                arity(1, 1)?;
                let axis = match self.expr(&args[0])? {
                    Val::Int(a @ 0..=2) => a as u8,
                    _ => return Err(err(args[0].span, "axis must be the constant 0, 1 or 2")),
                };
                let kind = if name == "program_id" {
                    OpKind::ProgramId(axis)
                } else {
                    OpKind::NumPrograms(axis)
                };
                Ok(Val::Ir(self.emit(
                    kind,
                    Vec::new(),
                    Type::scalar(ScalarType::I32),
                    span,
                )))
            }
            "arange" => {
                arity(2, 2)?;
                let (a, b) = (self.expr(&args[0])?, self.expr(&args[1])?);
                let (Val::Int(a), Val::Int(b)) = (a, b) else {
                    return Err(type_err(span, "`arange` bounds must be compile-time integers"));
                };
                let len = b - a;
                if len <= 0 || !(len as u64).is_power_of_two() || len as u64 > MAX_BLOCK_ELEMS {
                    return Err(err(
                        span,
                        format!(
                            "`arange({a}, {b})` has length {len}; it must be a power of two up to {MAX_BLOCK_ELEMS}"
                        ),
                    ));
                }
                let (Ok(start), Ok(end)) = (i32::try_from(a), i32::try_from(b)) else {
                    return Err(err(span, "`arange` bounds must fit in i32"));
                };
                let t = Type::block(Elem::Scalar(ScalarType::I32), vec![len as u32]);
                Ok(Val::Ir(self.emit(
                    OpKind::MakeRange { start, end },
                    Vec::new(),
                    t,
                    span,
                )))
            }
            "zeros" | "full" => {
                arity(if name == "zeros" { 2 } else { 3 }, if name == "zeros" { 2 } else { 3 })?;
                let shape = match self.expr(&args[0])? {
                    Val::Shape(s) => s,
                    Val::Int(d) if d > 0 && d as u64 <= MAX_BLOCK_ELEMS => vec![d as u32],
                    _ => return Err(err(args[0].span, "expected a shape such as `[BLOCK]`")),
                };
                self.check_shape(&shape, args[0].span)?;
                let dt_arg = &args[n - 1];
                let Val::Dtype(s) = self.expr(dt_arg)? else {
                    return Err(type_err(dt_arg.span, "expected an element type such as `f32`"));
                };
                let value = if name == "zeros" {
                    Val::Int(0)
                } else {
                    self.expr(&args[1])?
                };
                let v = match value {
                    Val::Ir(x) => {
                        let xt = self.ty(x);
                        if xt.is_block() {
                            return Err(type_err(
                                args[1].span,
                                format!("`full` takes a scalar value, found {xt}"),
                            ));
                        }
                        if xt.scalar_elem().is_none() {
                            return Err(type_err(args[1].span, "`full` of pointers is not supported"));
                        }
                        self.cast_to(x, s, span)
                    }
                    Val::Float(x) if !s.is_float() => {
                        let c = self.constant(ConstValue::Float(x), ScalarType::F32, span);
                        self.cast_to(c, s, span)
                    }
                    lit => self.scalar_literal(lit, s, args[n.min(2) - 1].span)?,
                };
                Ok(Val::Ir(self.broadcast_to(v, &shape, span)))
            }
            "load" => {
                arity(1, 3)?;
                let (p, pt, s) = self.pointer_arg(&args[0], name)?;
                let mut ops = vec![p];
                let mask = n >= 2;
                if mask {
                    let m = self.mask_arg(&args[1], &pt)?;
                    ops.push(m);
                }
                let other = n == 3;
                if other {
                    let o = self.expr(&args[2])?;
                    let vt = pt.with_elem(Elem::Scalar(s));
                    let o = self.value_for(o, &vt, args[2].span, "`other`", false)?;
                    ops.push(o);
                }
                let rt = pt.with_elem(Elem::Scalar(s));
                Ok(Val::Ir(self.emit(OpKind::Load { mask, other }, ops, rt, span)))
            }
            "store" => {
                arity(2, 3)?;
                let (p, pt, s) = self.pointer_arg(&args[0], name)?;
                let vt = pt.with_elem(Elem::Scalar(s));
                let v = self.expr(&args[1])?;
                // Triton converts stored values to the pointee type.
                let v = self.value_for(v, &vt, args[1].span, "the stored value", true)?;
                let mut ops = vec![p, v];
                let mask = n == 3;
                if mask {
                    let m = self.mask_arg(&args[2], &pt)?;
                    ops.push(m);
                }
                self.emit0(OpKind::Store { mask }, ops, span);
                Ok(Val::Unit)
            }
            "exp" | "exp2" | "log" | "log2" | "sqrt" | "rsqrt" | "sin" | "cos" | "tanh" | "erf" | "abs" | "floor"
            | "ceil" => {
                arity(1, 1)?;
                let m = MathFn::from_name(name).unwrap_or(MathFn::Abs);
                let v = self.expr(&args[0])?;
                match (m, &v) {
                    (MathFn::Abs, Val::Int(i)) => return Ok(Val::Int(i.wrapping_abs())),
                    (MathFn::Abs, Val::Float(x)) => return Ok(Val::Float(x.abs())),
                    _ => {}
                }
                let v = self.materialize(v, args[0].span)?;
                let t = self.ty(v);
                let ok = match t.scalar_elem() {
                    Some(s) => s.is_float() || (m == MathFn::Abs && !s.is_bool()),
                    None => false,
                };
                if !ok {
                    return Err(type_err(
                        args[0].span,
                        format!("`{name}` takes floats, found {t} (convert with `.to(f32)`)"),
                    ));
                }
                Ok(Val::Ir(self.emit(OpKind::Math(m), vec![v], t, span)))
            }
            "dot" => {
                arity(2, 3)?;
                let (a, at) = self.block_arg(&args[0], name)?;
                let (b, bt) = self.block_arg(&args[1], name)?;
                let (m, k, n) = match (&at.shape[..], &bt.shape[..]) {
                    ([m, k], [k2, n]) if k == k2 => (*m, *k, *n),
                    ([_, _], [_, _]) => {
                        return Err(err(
                            span,
                            format!("`dot` of {at} and {bt}: the inner dimensions differ"),
                        ))
                    }
                    _ => {
                        return Err(type_err(
                            span,
                            format!("`dot` takes two 2-D blocks, found {at} and {bt}"),
                        ))
                    }
                };
                // Triton's rule: matrix instructions need every dimension
                // to be at least 16.
                if m < 16 || n < 16 || k < 16 {
                    return Err(err(
                        span,
                        format!("`dot` needs every dimension to be at least 16, found [{m}, {k}] x [{k}, {n}]"),
                    ));
                }
                let (sa, sb) = (at.scalar_elem(), bt.scalar_elem());
                let acc_elem = match (sa, sb) {
                    (Some(x), Some(y))
                        if x == y && matches!(x, ScalarType::F16 | ScalarType::BF16 | ScalarType::F32) =>
                    {
                        ScalarType::F32
                    }
                    (Some(ScalarType::I8), Some(ScalarType::I8)) => ScalarType::I32,
                    _ => {
                        return Err(type_err(
                            span,
                            format!(
                                "`dot` takes two blocks of one type among f16, bf16, f32 and i8, found {} and {}",
                                at.elem, bt.elem
                            ),
                        ))
                    }
                };
                let out = Type::block(Elem::Scalar(acc_elem), vec![m, n]);
                let acc = if args.len() == 3 {
                    let v = self.expr(&args[2])?;
                    let acc = self.materialize(v, args[2].span)?;
                    let t = self.ty(acc);
                    if t != out {
                        return Err(err(
                            args[2].span,
                            format!("the accumulator of this `dot` must be {out}, found {t}"),
                        ));
                    }
                    acc
                } else {
                    let zero = if acc_elem.is_float() {
                        ConstValue::Float(0.0)
                    } else {
                        ConstValue::Int(0)
                    };
                    let z = self.constant(zero, acc_elem, span);
                    self.broadcast_to(z, &out.shape, span)
                };
                Ok(Val::Ir(self.emit(OpKind::Dot, vec![a, b, acc], out, span)))
            }
            "fma" => {
                arity(3, 3)?;
                let a = self.expr(&args[0])?;
                let b = self.expr(&args[1])?;
                let c = self.expr(&args[2])?;
                let (a, b) = self.unify(a, b, args[0].span, span)?;
                let (ab, c) = self.unify(Val::Ir(a), c, args[0].span, span)?;
                let (a, b) = self.unify(Val::Ir(a), Val::Ir(b), args[0].span, span)?;
                let t = self.ty(ab);
                let a = self.broadcast_to(a, &t.shape, span);
                let b = self.broadcast_to(b, &t.shape, span);
                let s = t.scalar_elem().unwrap_or(ScalarType::I32);
                if !s.is_float() {
                    return Err(type_err(span, format!("`fma` takes floats, found {t}")));
                }
                let a = self.cast_to(a, s, span);
                let b = self.cast_to(b, s, span);
                Ok(Val::Ir(self.emit(OpKind::Fma, vec![a, b, c], t, span)))
            }
            "maximum" | "minimum" => {
                arity(2, 2)?;
                let a = self.expr(&args[0])?;
                let b = self.expr(&args[1])?;
                if let (Val::Int(x), Val::Int(y)) = (&a, &b) {
                    return Ok(Val::Int(if name == "maximum" { *x.max(y) } else { *x.min(y) }));
                }
                if let (Some(x), Some(y)) = (a.number(), b.number()) {
                    // Two compile-time numbers, one a float: fold (a NaN is
                    // ignored, as at run time).
                    return Ok(Val::Float(if name == "maximum" { x.max(y) } else { x.min(y) }));
                }
                let (x, y) = self.unify(a, b, args[0].span, span)?;
                let t = self.ty(x);
                if t.scalar_elem().is_some_and(ScalarType::is_bool) {
                    return Err(type_err(span, format!("`{name}` does not apply to bools")));
                }
                let op = if name == "maximum" {
                    BinaryOp::Max
                } else {
                    BinaryOp::Min
                };
                Ok(Val::Ir(self.emit(OpKind::Binary(op), vec![x, y], t, span)))
            }
            "select" => {
                arity(3, 3)?;
                let c = self.expr(&args[0])?;
                let c = self.materialize(c, args[0].span)?;
                let ct = self.ty(c);
                if ct.scalar_elem() != Some(ScalarType::I1) {
                    return Err(type_err(
                        args[0].span,
                        format!("`select` condition must be bool, found {ct}"),
                    ));
                }
                let a = self.expr(&args[1])?;
                let b = self.expr(&args[2])?;
                let (a, b) = self.unify(a, b, args[1].span, span)?;
                let vt = self.ty(a);
                let shape = broadcast_shapes(&ct.shape, &vt.shape)
                    .ok_or_else(|| err(span, format!("shape mismatch: condition {ct} and values {vt}")))?;
                let c = self.broadcast_to(c, &shape, span);
                let a = self.broadcast_to(a, &shape, span);
                let b = self.broadcast_to(b, &shape, span);
                let rt = self.ty(a);
                Ok(Val::Ir(self.emit(OpKind::Select, vec![c, a, b], rt, span)))
            }
            "cdiv" => {
                arity(2, 2)?;
                let a = self.expr(&args[0])?;
                let b = self.expr(&args[1])?;
                if let (Val::Int(x), Val::Int(y)) = (&a, &b) {
                    if *y == 0 {
                        return Err(err(span, "division by zero in a constant expression"));
                    }
                    return Ok(Val::Int(x.wrapping_add(y - 1).wrapping_div(*y)));
                }
                let sum = self.binary(BinOp::Add, a, b.clone(), args[0].span, span)?;
                let sum = self.binary(BinOp::Sub, sum, Val::Int(1), args[0].span, span)?;
                let r = self.binary(BinOp::Div, sum, b, args[0].span, span)?;
                if let Val::Ir(v) = &r {
                    if self.ty(*v).scalar_elem().is_some_and(ScalarType::is_float) {
                        return Err(type_err(span, "`cdiv` takes integers"));
                    }
                }
                Ok(r)
            }
            "device_assert" => {
                arity(1, 2)?;
                let c = self.expr(&args[0])?;
                let msg = if n == 2 {
                    match self.expr(&args[1])? {
                        Val::Str(s) => s,
                        _ => return Err(type_err(args[1].span, "the message must be a string literal")),
                    }
                } else {
                    String::from("device_assert failed")
                };
                if let Val::Bool(b) = c {
                    if b {
                        return Ok(Val::Unit);
                    }
                }
                let c = self.materialize(c, args[0].span)?;
                if self.ty(c).scalar_elem() != Some(ScalarType::I1) {
                    return Err(type_err(
                        args[0].span,
                        format!("`device_assert` takes bools, found {}", self.ty(c)),
                    ));
                }
                self.emit0(OpKind::Assert(msg), vec![c], span);
                Ok(Val::Unit)
            }
            "static_assert" => {
                arity(1, 2)?;
                match self.expr(&args[0])? {
                    Val::Bool(true) => Ok(Val::Unit),
                    Val::Bool(false) => {
                        let msg = match args.get(1).map(|a| self.expr(a)).transpose()? {
                            Some(Val::Str(s)) => format!(": {s}"),
                            _ => String::new(),
                        };
                        Err(err(span, format!("static assertion failed{msg}")))
                    }
                    _ => Err(type_err(args[0].span, "`static_assert` needs a compile-time bool")),
                }
            }
            "expand_dims" => {
                arity(2, 2)?;
                let (v, t) = self.block_arg(&args[0], name)?;
                let rank = t.shape.len() as i64;
                let axis = self.axis_arg(&args[1], rank + 1)?;
                let mut shape = t.shape.clone();
                shape.insert(axis as usize, 1);
                self.check_shape(&shape, span)?;
                Ok(Val::Ir(self.emit(
                    OpKind::Reshape,
                    vec![v],
                    Type::block(t.elem, shape),
                    span,
                )))
            }
            "reshape" | "broadcast_to" => {
                arity(2, 2)?;
                let (v, t) = if name == "broadcast_to" {
                    // A scalar broadcasts too (a splat).
                    let v = self.expr(&args[0])?;
                    let v = self.materialize(v, args[0].span)?;
                    (v, self.ty(v))
                } else {
                    self.block_arg(&args[0], name)?
                };
                let m = self.ctx.mark();
                let Val::Shape(shape) = self.expr(&args[1])? else {
                    return Err(type_err(args[1].span, "expected a shape such as `[M, N]`"));
                };
                // The shape alone breaks the rule (whatever the block).
                let shape_ok = self.check_shape(&shape, args[1].span);
                self.ctx.settle(shape_ok, m)?;
                if name == "reshape" {
                    let numel: u64 = shape.iter().map(|d| u64::from(*d)).product();
                    if numel != t.numel() {
                        return Err(err(
                            span,
                            format!(
                                "cannot reshape {t} ({} elements) to {shape:?} ({numel} elements)",
                                t.numel()
                            ),
                        ));
                    }
                    return Ok(Val::Ir(self.emit(
                        OpKind::Reshape,
                        vec![v],
                        Type::block(t.elem, shape),
                        span,
                    )));
                }
                match broadcast_shapes(&t.shape, &shape) {
                    Some(s) if s == shape => Ok(Val::Ir(self.broadcast_to(v, &shape, span))),
                    _ => Err(err(span, format!("cannot broadcast {t} to {shape:?}"))),
                }
            }
            "trans" => {
                arity(1, 1)?;
                let (v, t) = self.block_arg(&args[0], name)?;
                if t.shape.len() != 2 {
                    return Err(type_err(args[0].span, format!("`trans` takes a 2-D block, found {t}")));
                }
                let shape = vec![t.shape[1], t.shape[0]];
                Ok(Val::Ir(self.emit(
                    OpKind::Permute(vec![1, 0]),
                    vec![v],
                    Type::block(t.elem, shape),
                    span,
                )))
            }
            "sum" | "max" | "min" | "xor_sum" | "argmax" | "argmin" | "cumsum" | "cumprod" => {
                arity(2, 2)?;
                let (v, t) = self.block_arg(&args[0], name)?;
                let s = t
                    .scalar_elem()
                    .ok_or_else(|| type_err(args[0].span, format!("`{name}` of pointers")))?;
                let axis = self.axis_arg(&args[1], t.shape.len() as i64)? as u32;
                let bad = |what: &str| {
                    Err(type_err(
                        args[0].span,
                        format!("`{name}` does not apply to {what} ({t})"),
                    ))
                };
                match name {
                    "xor_sum" if s.is_float() => return bad("floats"),
                    "max" | "min" | "argmax" | "argmin" if s.is_bool() => return bad("bools"),
                    _ => {}
                }
                // Sums and products accumulate small integers in 32 bits and
                // half-precision floats in f32.
                let acc = match name {
                    "sum" | "cumsum" | "cumprod" => match s {
                        ScalarType::I1 | ScalarType::I8 | ScalarType::I16 => ScalarType::I32,
                        ScalarType::U8 | ScalarType::U16 => ScalarType::U32,
                        ScalarType::F16 | ScalarType::BF16 => ScalarType::F32,
                        other => other,
                    },
                    _ => s,
                };
                let v = self.cast_to(v, acc, span);
                let mut reduced = t.shape.clone();
                reduced.remove(axis as usize);
                let (kind, rt) = match name {
                    "sum" => (
                        OpKind::Reduce {
                            kind: ReduceKind::Sum,
                            axis,
                        },
                        Type::block(Elem::Scalar(acc), reduced),
                    ),
                    "max" => (
                        OpKind::Reduce {
                            kind: ReduceKind::Max,
                            axis,
                        },
                        Type::block(Elem::Scalar(acc), reduced),
                    ),
                    "min" => (
                        OpKind::Reduce {
                            kind: ReduceKind::Min,
                            axis,
                        },
                        Type::block(Elem::Scalar(acc), reduced),
                    ),
                    "xor_sum" => (
                        OpKind::Reduce {
                            kind: ReduceKind::Xor,
                            axis,
                        },
                        Type::block(Elem::Scalar(acc), reduced),
                    ),
                    "argmax" | "argmin" => (
                        OpKind::ArgReduce {
                            max: name == "argmax",
                            axis,
                        },
                        Type::block(Elem::Scalar(ScalarType::I32), reduced),
                    ),
                    "cumsum" => (
                        OpKind::Scan {
                            kind: ScanKind::Sum,
                            axis,
                        },
                        Type::block(Elem::Scalar(acc), t.shape.clone()),
                    ),
                    _ => (
                        OpKind::Scan {
                            kind: ScanKind::Prod,
                            axis,
                        },
                        Type::block(Elem::Scalar(acc), t.shape.clone()),
                    ),
                };
                Ok(Val::Ir(self.emit(kind, vec![v], rt, span)))
            }
            "atomic_add" | "atomic_max" | "atomic_min" | "atomic_xchg" | "atomic_cas" => {
                let cas = name == "atomic_cas";
                if cas {
                    arity(3, 3)?
                } else {
                    arity(2, 3)?
                }
                let (p, pt, s) = self.pointer_arg(&args[0], name)?;
                if s.is_bool() || (cas && s.is_float()) || s.bits() < 32 {
                    return Err(type_err(
                        args[0].span,
                        format!("`{name}` does not support Ptr<{s}> (32- and 64-bit elements)"),
                    ));
                }
                let vt = pt.with_elem(Elem::Scalar(s));
                let value = |l: &mut Self, a: &ast::Expr| -> R<Value> {
                    let v = l.expr(a)?;
                    l.value_for(v, &vt, a.span, "an atomic value", false)
                };
                let mut ops = vec![p, value(self, &args[1])?];
                if cas {
                    ops.push(value(self, &args[2])?);
                    return Ok(Val::Ir(self.emit(OpKind::AtomicCas, ops, vt, span)));
                }
                let mask = n == 3;
                if mask {
                    let m = self.mask_arg(&args[2], &pt)?;
                    ops.push(m);
                }
                let op = match name {
                    "atomic_add" => AtomicOp::Add,
                    "atomic_max" => AtomicOp::Max,
                    "atomic_min" => AtomicOp::Min,
                    _ => AtomicOp::Xchg,
                };
                Ok(Val::Ir(self.emit(OpKind::Atomic { op, mask }, ops, vt, span)))
            }
            "rand" | "randn" | "randint" => {
                arity(2, 2)?;
                let seed = self.expr(&args[0])?;
                let offsets = self.expr(&args[1])?;
                let [c0, c1, _, _] = self.philox(seed, offsets, args[0].span, args[1].span)?;
                match name {
                    "randint" => Ok(Val::Ir(c0)),
                    "rand" => Ok(Val::Ir(self.uint_to_uniform(c0, span)?)),
                    _ => {
                        // Box-Muller, as Triton's `pair_uniform_to_normal`.
                        let u1 = self.uint_to_uniform(c0, span)?;
                        let u2 = self.uint_to_uniform(c1, span)?;
                        let t = self.ty(u1);
                        let lo = self.materialize_like(Val::Float(1.0e-7), &t, span)?;
                        let u1 = self.emit(OpKind::Binary(BinaryOp::Max), vec![lo, u1], t.clone(), span);
                        let th = self.binary(BinOp::Mul, Val::Float(std::f64::consts::TAU), Val::Ir(u2), span, span)?;
                        let lg = self.emit(OpKind::Math(MathFn::Log), vec![u1], t.clone(), span);
                        let m2 = self.binary(BinOp::Mul, Val::Float(-2.0), Val::Ir(lg), span, span)?;
                        let m2 = self.materialize(m2, span)?;
                        let r = self.emit(OpKind::Math(MathFn::Sqrt), vec![m2], t.clone(), span);
                        let th = self.materialize(th, span)?;
                        let c = self.emit(OpKind::Math(MathFn::Cos), vec![th], t, span);
                        self.binary(BinOp::Mul, Val::Ir(r), Val::Ir(c), span, span)
                    }
                }
            }
            "range" | "static_range" => Err(name_err(
                func.span,
                format!("`{name}` is only allowed as the iterator of a `for` loop"),
            )),
            "to" | "bitcast" => self.convert(name, args, span),
            _ => {
                let mut known: Vec<&str> = builtins().collect();
                known.extend(self.ctx.file.functions.iter().map(|f| f.name.name.as_str()));
                known.extend(["to", "bitcast"]);
                let hint = closest(name, known)
                    .map(|c| format!("; did you mean `{c}`?"))
                    .unwrap_or_default();
                Err(name_err(func.span, format!("unknown function `{name}`{hint}")))
            }
        }
    }

    /// Philox 4x32-10 on counters (offsets, 0, 0, 0) with the seed's low
    /// and high words as the key, exactly as Triton's `randint4x`.
    fn philox(&mut self, seed: Val, offsets: Val, seed_span: Span, span: Span) -> R<[Value; 4]> {
        const KEY_A: i64 = 0x9E37_79B9;
        const KEY_B: i64 = 0xBB67_AE85;
        const ROUND_A: i64 = 0xD251_1F53;
        const ROUND_B: i64 = 0xCD9E_8D57;
        let seed = self.materialize(seed, seed_span)?;
        let st = self.ty(seed);
        if st.is_block() || !st.scalar_elem().is_some_and(|s| s.is_int() && !s.is_bool()) {
            return Err(type_err(
                seed_span,
                format!("the seed must be an integer scalar, found {st}"),
            ));
        }
        let seed = self.cast_to(seed, ScalarType::U64, seed_span);
        let off = self.materialize(offsets, span)?;
        let ot = self.ty(off);
        let off = match ot.scalar_elem() {
            Some(ScalarType::U32) => off,
            Some(ScalarType::I32) => self.emit(
                OpKind::Bitcast,
                vec![off],
                ot.with_elem(Elem::Scalar(ScalarType::U32)),
                span,
            ),
            _ => return Err(err(span, format!("offsets must be i32 or u32, found {ot}"))),
        };
        let u32t = |v: &mut Self, x: Val| -> R<Value> { v.materialize_as(x, Elem::Scalar(ScalarType::U32), span) };
        let bin = |v: &mut Self, op: BinOp, a: Value, b: Val| -> R<Value> {
            let r = v.binary(op, Val::Ir(a), b, span, span)?;
            v.materialize(r, span)
        };
        // The key: the seed's low and high 32 bits.
        let lo = bin(self, BinOp::BitAnd, seed, Val::Int(0xffff_ffff))?;
        let mut k0 = self.cast_to(lo, ScalarType::U32, span);
        let hi = bin(self, BinOp::Shr, seed, Val::Int(32))?;
        let mut k1 = self.cast_to(hi, ScalarType::U32, span);
        let zero = bin(self, BinOp::Mul, off, Val::Int(0))?;
        let (mut c0, mut c1, mut c2, mut c3) = (off, zero, zero, zero);
        // umulhi(a, x) for a constant a: the high word of the 64-bit product.
        let umulhi = |v: &mut Self, a: i64, x: Value| -> R<Value> {
            let wide = v.cast_to(x, ScalarType::U64, span);
            let p = bin(v, BinOp::Mul, wide, Val::Int(a))?;
            let h = bin(v, BinOp::Shr, p, Val::Int(32))?;
            Ok(v.cast_to(h, ScalarType::U32, span))
        };
        for _ in 0..10 {
            let (p0, p2) = (c0, c2);
            let h = umulhi(self, ROUND_B, p2)?;
            let h = bin(self, BinOp::BitXor, h, Val::Ir(c1))?;
            c0 = bin(self, BinOp::BitXor, h, Val::Ir(k0))?;
            let h = umulhi(self, ROUND_A, p0)?;
            let h = bin(self, BinOp::BitXor, h, Val::Ir(c3))?;
            c2 = bin(self, BinOp::BitXor, h, Val::Ir(k1))?;
            c1 = bin(self, BinOp::Mul, p2, Val::Int(ROUND_B))?;
            c3 = bin(self, BinOp::Mul, p0, Val::Int(ROUND_A))?;
            let ka = u32t(self, Val::Int(KEY_A))?;
            k0 = bin(self, BinOp::Add, k0, Val::Ir(ka))?;
            let kb = u32t(self, Val::Int(KEY_B))?;
            k1 = bin(self, BinOp::Add, k1, Val::Ir(kb))?;
        }
        Ok([c0, c1, c2, c3])
    }

    /// Triton's `uint_to_uniform_float` for 32-bit words: a float in [0, 1).
    fn uint_to_uniform(&mut self, x: Value, span: Span) -> R<Value> {
        let t = self.ty(x);
        let xi = self.emit(
            OpKind::Bitcast,
            vec![x],
            t.with_elem(Elem::Scalar(ScalarType::I32)),
            span,
        );
        let neg = self.binary(BinOp::Lt, Val::Ir(xi), Val::Int(0), span, span)?;
        let minus = self.binary(BinOp::Sub, Val::Int(-1), Val::Ir(xi), span, span)?;
        let (neg, minus) = (self.materialize(neg, span)?, self.materialize(minus, span)?);
        let it = self.ty(xi);
        let y = self.emit(OpKind::Select, vec![neg, minus, xi], it, span);
        let f = self.cast_to(y, ScalarType::F32, span);
        let r = self.binary(BinOp::Mul, Val::Ir(f), Val::Float(4.656_612_734_2e-10), span, span)?;
        self.materialize(r, span)
    }

    /// A pointer argument of a memory operation: the value, its type and
    /// the pointee type.
    fn pointer_arg(&mut self, arg: &ast::Expr, name: &str) -> R<(Value, Type, ScalarType)> {
        let p = self.expr(arg)?;
        let p = self.materialize(p, arg.span)?;
        let pt = self.ty(p);
        match pt.elem {
            Elem::Ptr(s) => Ok((p, pt, s)),
            Elem::Scalar(_) => Err(type_err(arg.span, format!("`{name}` takes pointers, found {pt}"))),
        }
    }

    /// A value argument of a memory operation (`load`'s `other`, a stored
    /// value, an atomic operand) converted to the pointee's type `vt` and
    /// broadcast to its shape. `convert_float_literals`: a float literal
    /// for an integer pointee converts (stores, as Triton) or is an error.
    fn value_for(&mut self, v: Val, vt: &Type, span: Span, what: &str, convert_float_literals: bool) -> R<Value> {
        let s = vt.scalar_elem().unwrap_or(ScalarType::I32);
        match v {
            Val::Ir(x) => {
                if self.ty(x).scalar_elem().is_none() {
                    return Err(type_err(span, format!("{what} cannot be a pointer")));
                }
                let x = self.cast_to(x, s, span);
                self.broadcast_checked(x, vt, span)
            }
            Val::Float(x) if !s.is_float() && convert_float_literals => {
                let c = self.constant(ConstValue::Float(x), ScalarType::F32, span);
                let c = self.cast_to(c, s, span);
                Ok(self.broadcast_to(c, &vt.shape, span))
            }
            Val::Float(x) if !s.is_float() => Err(type_err(
                span,
                format!("{what} is the float {x}, but the pointers hold {s}"),
            )),
            lit => self.materialize_like(lit, vt, span),
        }
    }

    /// A block argument of a shape builtin or reduction.
    fn block_arg(&mut self, arg: &ast::Expr, name: &str) -> R<(Value, Type)> {
        let v = self.expr(arg)?;
        let v = self.materialize(v, arg.span)?;
        let t = self.ty(v);
        if !t.is_block() {
            return Err(type_err(arg.span, format!("`{name}` takes a block, found {t}")));
        }
        Ok((v, t))
    }

    /// A compile-time axis in `0..rank` (negative counts from the end).
    fn axis_arg(&mut self, arg: &ast::Expr, rank: i64) -> R<i64> {
        match self.expr(arg)? {
            Val::Int(a) if (-rank..rank).contains(&a) => Ok(if a < 0 { a + rank } else { a }),
            Val::Int(a) => Err(err(arg.span, format!("axis {a} is out of range for {rank} dimensions"))),
            _ => Err(type_err(arg.span, "the axis must be a compile-time integer")),
        }
    }

    fn check_shape(&self, shape: &[u32], span: Span) -> R<()> {
        let numel: u64 = shape.iter().map(|d| u64::from(*d)).product();
        if shape.is_empty() || shape.iter().any(|d| !d.is_power_of_two()) || numel > MAX_BLOCK_ELEMS {
            return Err(err(
                span,
                format!(
                    "block shape {shape:?} must have power-of-two dimensions and at most {MAX_BLOCK_ELEMS} elements"
                ),
            ));
        }
        if shape.len() > MAX_RANK {
            return Err(type_err(span, format!("blocks have at most {MAX_RANK} dimensions")));
        }
        Ok(())
    }

    fn broadcast_checked(&mut self, v: Value, want: &Type, span: Span) -> R<Value> {
        let t = self.ty(v);
        match broadcast_shapes(&t.shape, &want.shape) {
            Some(s) if s == want.shape => Ok(self.broadcast_to(v, &want.shape, span)),
            _ => Err(err(span, format!("shape mismatch: expected {want}, found {t}"))),
        }
    }

    fn mask_arg(&mut self, arg: &ast::Expr, ptrs: &Type) -> R<Value> {
        let m = self.expr(arg)?;
        let m = self.materialize(m, arg.span)?;
        let mt = self.ty(m);
        if mt.scalar_elem() != Some(ScalarType::I1) {
            return Err(type_err(arg.span, format!("mask must be bool, found {mt}")));
        }
        let want = ptrs.with_elem(Elem::Scalar(ScalarType::I1));
        self.broadcast_checked(m, &want, arg.span)
    }

    fn convert(&mut self, name: &str, args: &[ast::Expr], span: Span) -> R<Val> {
        if args.len() != 2 {
            return Err(name_err(span, format!("`.{name}(T)` takes one type argument")));
        }
        let v = self.expr(&args[0])?;
        let Val::Dtype(s) = self.expr(&args[1])? else {
            return Err(type_err(args[1].span, "expected an element type such as `f16`"));
        };
        let v = self.materialize(v, args[0].span)?;
        let t = self.ty(v);
        let Some(from) = t.scalar_elem() else {
            return Err(type_err(args[0].span, format!("cannot convert pointers ({t})")));
        };
        if name == "bitcast" {
            if from.bits() != s.bits() {
                return Err(err(
                    span,
                    format!(
                        "bitcast from {from} to {s} changes the width ({} to {} bits)",
                        from.bits(),
                        s.bits()
                    ),
                ));
            }
            if from == s {
                return Ok(Val::Ir(v));
            }
            return Ok(Val::Ir(self.emit(
                OpKind::Bitcast,
                vec![v],
                t.with_elem(Elem::Scalar(s)),
                span,
            )));
        }
        Ok(Val::Ir(self.cast_to(v, s, span)))
    }

    fn call_helper(&mut self, h: &ast::Function, args: &[ast::Expr], span: Span) -> R<Val> {
        if args.len() != h.params.len() {
            return Err(name_err(
                span,
                format!(
                    "`{}` takes {} arguments, found {}",
                    h.name.name,
                    h.params.len(),
                    args.len()
                ),
            ));
        }
        let mut vals = Vec::new();
        let mut deps = Vec::new();
        for (a, p) in args.iter().zip(&h.params) {
            let want = param_type(&p.ty)?;
            let m = self.ctx.mark();
            let v = self.expr(a)?;
            deps.push(self.ctx.dep_since(m));
            let v = self.materialize_as(v, want.elem, a.span)?;
            let t = self.ty(v);
            if t.elem != want.elem {
                return Err(mismatch(
                    t.elem,
                    want.elem,
                    a.span,
                    format!(
                        "`{}` expects {} for `{}`, found {t}",
                        h.name.name, want.elem, p.name.name
                    ),
                ));
            }
            vals.push(v);
        }
        let types: Vec<Type> = vals.iter().map(|v| self.ty(*v)).collect();
        let (inst, rt) = self.ctx.instantiate(h, types, deps, span)?;
        let results = if h.ret.is_some() { vec![rt] } else { Vec::new() };
        let op = self
            .f
            .append_op(self.block, OpKind::Call(inst), vals, results, Vec::new(), loc(span));
        Ok(self.f.op(op).results.first().map_or(Val::Unit, |v| Val::Ir(*v)))
    }
}

/// An error about values of element types `a` and `b` that should be
/// equal: a type error, unless both are integers (an integer literal's
/// default width, i32 or i64, depends on its value).
fn mismatch(a: Elem, b: Elem, span: Span, message: impl Into<String>) -> Error {
    let int = |e: Elem| matches!(e, Elem::Scalar(s) if s.is_int() && !s.is_bool());
    if a == b || (int(a) && int(b)) {
        err(span, message)
    } else {
        type_err(span, message)
    }
}

fn describe(v: &Val) -> String {
    match v {
        Val::Ir(_) => "a value".into(),
        Val::Int(i) => format!("the integer {i}"),
        Val::Float(x) => format!("the float {x}"),
        Val::Bool(b) => format!("the bool {b}"),
        Val::Dtype(t) => format!("the type `{t}`"),
        Val::Shape(s) => format!("the shape {s:?}"),
        Val::Str(_) => "a string".into(),
        Val::Unit => "nothing (`()`)".into(),
    }
}

fn int_fits(i: i64, s: ScalarType) -> bool {
    match s {
        ScalarType::I1 => i == 0 || i == 1,
        ScalarType::U64 | ScalarType::I64 => true,
        s => i >= int_min(s) && i <= int_max(s),
    }
}

fn int_max(s: ScalarType) -> i64 {
    match s {
        ScalarType::I8 => i8::MAX.into(),
        ScalarType::I16 => i16::MAX.into(),
        ScalarType::I32 => i32::MAX.into(),
        ScalarType::U8 => u8::MAX.into(),
        ScalarType::U16 => u16::MAX.into(),
        ScalarType::U32 => u32::MAX.into(),
        ScalarType::U64 => -1,
        _ => i64::MAX,
    }
}

fn int_min(s: ScalarType) -> i64 {
    match s {
        ScalarType::I8 => i8::MIN.into(),
        ScalarType::I16 => i16::MIN.into(),
        ScalarType::I32 => i32::MIN.into(),
        ScalarType::I64 => i64::MIN,
        _ => 0,
    }
}

fn float_max(s: ScalarType) -> f64 {
    match s {
        ScalarType::F16 => 65504.0,
        ScalarType::BF16 => 3.389_531_389_251_535_5e38,
        ScalarType::F32 => f64::from(f32::MAX),
        _ => f64::MAX,
    }
}

fn float_eps(s: ScalarType) -> f64 {
    match s {
        ScalarType::F16 => 0.000_976_562_5,
        ScalarType::BF16 => 0.007_812_5,
        ScalarType::F32 => f64::from(f32::EPSILON),
        _ => f64::EPSILON,
    }
}
