//! Kernel tests as data: every `.tk` file under the repository's `tests/`
//! folder is a kernel with a header of `//!` lines saying how to run it
//! and what it must compute (the format: `tests/README.md`).
//!
//! Each run goes through the host, the reference interpreter and both lane
//! simulators as `common::run_request` does (the interpreter agrees with
//! the host, the simulators' buffers equal the host's bit for bit), and
//! through the code objects for gfx942, gfx90a and gfx1100 run in the
//! machine-code emulator (integers equal to the host's, floats within
//! compiled math's tolerance), with
//! one compile per target and distinct set of const values and options per
//! file; then the host's buffers are compared with the expected values
//! (literals or a named reference function below: plain Rust loops), and
//! every buffer without an `expect` must be unchanged.
//!
//! Every file runs, failures are collected, and the test fails at the end
//! naming each failing file and header line. `KERNEL_FILES=softmax cargo
//! test --test all kernel_files::` runs only the files whose path contains
//! `softmax`.

use crate::common;
use common::*;

use std::collections::{BTreeMap, HashMap};
use std::panic::{catch_unwind, AssertUnwindSafe};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Mutex;
use std::time::Instant;

use tritonc::{
    codegen::{target, CodegenError},
    driver::{compile, tile_ir, CompileRequest, Compiled, Divisible},
    ir::fold_util::{bf16_bits_to_f32, f16_bits_to_f32, f32_to_bf16_bits, f32_to_f16_bits},
    ir::{Elem, ScalarType},
    launch::{run_cpu, Arg, HostBuffer},
    runtime::Grid,
    sema::ConstArg,
    syntax::SourceFile,
    Error,
};

type Res<T> = Result<T, String>;

// ---------------------------------------------------------------- values

/// The elements of a buffer or scalar: integers (any width, wrapped to the
/// type when stored) or floats (rounded to the type when stored).
#[derive(Clone, Debug, PartialEq)]
enum Vals {
    I(Vec<i128>),
    F(Vec<f64>),
}

impl Vals {
    fn len(&self) -> usize {
        match self {
            Vals::I(v) => v.len(),
            Vals::F(v) => v.len(),
        }
    }
}

/// An argument: its element type, whether it is a buffer, its elements.
#[derive(Clone, Debug)]
struct Value {
    ty: ScalarType,
    buffer: bool,
    vals: Vals,
}

impl Value {
    fn floats(&self) -> Vec<f64> {
        match &self.vals {
            Vals::F(v) => v.clone(),
            Vals::I(v) => v.iter().map(|x| *x as f64).collect(),
        }
    }

    fn ints(&self) -> Res<Vec<i128>> {
        match &self.vals {
            Vals::I(v) => Ok(v.clone()),
            Vals::F(_) => Err(format!("a {} value where integers are needed", self.ty)),
        }
    }

    fn len(&self) -> usize {
        self.vals.len()
    }
}

/// `v` wrapped to the integer type `t` (bools: nonzero is 1).
fn wrap(t: ScalarType, v: i128) -> i128 {
    if t.is_bool() {
        return i128::from(v != 0);
    }
    let bits = t.bits();
    let m = v & ((1i128 << bits) - 1);
    if t.is_signed_int() && m >= 1i128 << (bits - 1) {
        m - (1i128 << bits)
    } else {
        m
    }
}

/// `v` rounded to the float type `t`.
fn round(t: ScalarType, v: f64) -> f64 {
    match t {
        ScalarType::F16 => f64::from(f16_bits_to_f32(f32_to_f16_bits(v as f32))),
        ScalarType::BF16 => f64::from(bf16_bits_to_f32(f32_to_bf16_bits(v as f32))),
        ScalarType::F32 => f64::from(v as f32),
        _ => v,
    }
}

/// The bits of one element of type `t`.
fn bits_of(t: ScalarType, vals: &Vals, i: usize) -> u64 {
    match vals {
        Vals::I(v) if t.is_int() => wrap(t, v[i]) as u64 & mask(t),
        Vals::I(v) => float_bits(t, v[i] as f64),
        Vals::F(v) if t.is_float() => float_bits(t, v[i]),
        Vals::F(v) => wrap(t, v[i] as i128) as u64 & mask(t),
    }
}

fn mask(t: ScalarType) -> u64 {
    if t.bytes() == 8 {
        u64::MAX
    } else {
        (1u64 << (8 * t.bytes())) - 1
    }
}

fn float_bits(t: ScalarType, v: f64) -> u64 {
    match t {
        ScalarType::F16 => u64::from(f32_to_f16_bits(v as f32)),
        ScalarType::BF16 => u64::from(f32_to_bf16_bits(v as f32)),
        ScalarType::F32 => u64::from((v as f32).to_bits()),
        _ => v.to_bits(),
    }
}

fn to_arg(v: &Value) -> Arg {
    let n = v.ty.bytes() as usize;
    if v.buffer {
        let bytes: Vec<u8> = (0..v.len())
            .flat_map(|i| bits_of(v.ty, &v.vals, i).to_le_bytes()[..n].to_vec())
            .collect();
        Arg::Buffer(HostBuffer::from_bytes(&bytes))
    } else {
        Arg::Scalar(bits_of(v.ty, &v.vals, 0))
    }
}

/// The elements of a buffer of type `t` read back from its bytes.
fn decode(t: ScalarType, bytes: &[u8]) -> Vals {
    let n = t.bytes() as usize;
    let words = bytes.chunks(n).map(|c| {
        let mut w = [0u8; 8];
        w[..n].copy_from_slice(c);
        u64::from_le_bytes(w)
    });
    match t {
        ScalarType::F16 => Vals::F(words.map(|u| f64::from(f16_bits_to_f32(u as u16))).collect()),
        ScalarType::BF16 => Vals::F(words.map(|u| f64::from(bf16_bits_to_f32(u as u16))).collect()),
        ScalarType::F32 => Vals::F(words.map(|u| f64::from(f32::from_bits(u as u32))).collect()),
        ScalarType::F64 => Vals::F(words.map(f64::from_bits).collect()),
        t => Vals::I(words.map(|u| wrap(t, i128::from(u))).collect()),
    }
}

// ---------------------------------------------------------------- header syntax

#[derive(Clone, Debug, PartialEq)]
enum Tok {
    Ident(String),
    Num(String),
    Punct(char),
}

fn lex(line: &str) -> Res<Vec<Tok>> {
    let cs: Vec<char> = line.chars().collect();
    let mut out = Vec::new();
    let mut i = 0;
    while i < cs.len() {
        let c = cs[i];
        if c.is_whitespace() {
            i += 1;
        } else if c.is_ascii_alphabetic() || c == '_' {
            let s = i;
            while i < cs.len() && (cs[i].is_ascii_alphanumeric() || cs[i] == '_') {
                i += 1;
            }
            out.push(Tok::Ident(cs[s..i].iter().collect()));
        } else if c.is_ascii_digit() || (c == '.' && cs.get(i + 1).is_some_and(|d| d.is_ascii_digit())) {
            let s = i;
            let hex = c == '0' && matches!(cs.get(i + 1), Some('x' | 'X'));
            while i < cs.len() {
                let d = cs[i];
                let exp_sign = !hex && (d == '-' || d == '+') && matches!(cs[i - 1], 'e' | 'E');
                if d.is_ascii_alphanumeric() || d == '_' || d == '.' || exp_sign {
                    i += 1;
                } else {
                    break;
                }
            }
            out.push(Tok::Num(cs[s..i].iter().collect()));
        } else if "=:[](),-".contains(c) {
            out.push(Tok::Punct(c));
            i += 1;
        } else {
            return Err(format!("unexpected character `{c}`"));
        }
    }
    Ok(out)
}

/// A literal number.
#[derive(Clone, Copy, Debug, PartialEq)]
enum Lit {
    I(i128),
    F(f64),
}

impl Lit {
    fn f(self) -> f64 {
        match self {
            Lit::I(v) => v as f64,
            Lit::F(v) => v,
        }
    }

    fn i(self) -> Res<i128> {
        match self {
            Lit::I(v) => Ok(v),
            Lit::F(v) if v.fract() == 0.0 && v.is_finite() => Ok(v as i128),
            Lit::F(v) => Err(format!("{v} is not an integer")),
        }
    }
}

/// An argument of a call in a header: a literal, a name or a list.
#[derive(Clone, Debug)]
enum Item {
    Lit(Lit),
    Name(String),
    List(Vec<Lit>),
}

/// `name(pos, ..., key=value, ...)`.
#[derive(Clone, Debug)]
struct CallExpr {
    name: String,
    pos: Vec<Item>,
    kw: Vec<(String, Item)>,
}

struct P {
    toks: Vec<Tok>,
    i: usize,
}

impl P {
    fn peek(&self) -> Option<&Tok> {
        self.toks.get(self.i)
    }

    fn done(&self) -> bool {
        self.i == self.toks.len()
    }

    fn punct(&mut self, c: char) -> Res<()> {
        match self.peek() {
            Some(Tok::Punct(d)) if *d == c => {
                self.i += 1;
                Ok(())
            }
            other => Err(format!("expected `{c}`, found {}", show(other))),
        }
    }

    fn eat(&mut self, c: char) -> bool {
        self.punct(c).is_ok()
    }

    fn ident(&mut self) -> Res<String> {
        match self.peek() {
            Some(Tok::Ident(s)) => {
                let s = s.clone();
                self.i += 1;
                Ok(s)
            }
            other => Err(format!("expected a name, found {}", show(other))),
        }
    }

    fn end(&self) -> Res<()> {
        if self.done() {
            Ok(())
        } else {
            Err(format!("unexpected {} at the end of the line", show(self.peek())))
        }
    }

    fn lit(&mut self) -> Res<Lit> {
        let neg = self.eat('-');
        let v = match self.peek() {
            Some(Tok::Num(s)) => parse_num(s)?,
            Some(Tok::Ident(s)) if s == "nan" => Lit::F(f64::NAN),
            Some(Tok::Ident(s)) if s == "inf" => Lit::F(f64::INFINITY),
            Some(Tok::Ident(s)) if s == "true" => Lit::I(1),
            Some(Tok::Ident(s)) if s == "false" => Lit::I(0),
            other => return Err(format!("expected a number, found {}", show(other))),
        };
        self.i += 1;
        Ok(match (neg, v) {
            (false, v) => v,
            (true, Lit::I(x)) => Lit::I(-x),
            (true, Lit::F(x)) => Lit::F(-x),
        })
    }

    fn list(&mut self) -> Res<Vec<Lit>> {
        self.punct('[')?;
        let mut out = Vec::new();
        while !self.eat(']') {
            out.push(self.lit()?);
            if !self.eat(',') {
                self.punct(']')?;
                break;
            }
        }
        Ok(out)
    }

    fn item(&mut self) -> Res<Item> {
        match self.peek() {
            Some(Tok::Punct('[')) => Ok(Item::List(self.list()?)),
            Some(Tok::Ident(s)) if !["nan", "inf", "true", "false"].contains(&s.as_str()) => {
                Ok(Item::Name(self.ident()?))
            }
            _ => Ok(Item::Lit(self.lit()?)),
        }
    }

    fn call(&mut self) -> Res<CallExpr> {
        let name = self.ident()?;
        self.punct('(')?;
        let (mut pos, mut kw) = (Vec::new(), Vec::new());
        while !self.eat(')') {
            let keyed = matches!(
                (self.toks.get(self.i), self.toks.get(self.i + 1)),
                (Some(Tok::Ident(_)), Some(Tok::Punct('=')))
            );
            if keyed {
                let k = self.ident()?;
                self.punct('=')?;
                kw.push((k, self.item()?));
            } else if kw.is_empty() {
                pos.push(self.item()?);
            } else {
                return Err("a positional argument after a keyword argument".into());
            }
            if !self.eat(',') {
                self.punct(')')?;
                break;
            }
        }
        Ok(CallExpr { name, pos, kw })
    }
}

fn show(t: Option<&Tok>) -> String {
    match t {
        None => "the end of the line".into(),
        Some(Tok::Ident(s)) | Some(Tok::Num(s)) => format!("`{s}`"),
        Some(Tok::Punct(c)) => format!("`{c}`"),
    }
}

fn parse_num(s: &str) -> Res<Lit> {
    let t = s.replace('_', "");
    let bad = || format!("`{s}` is not a number");
    if let Some(h) = t.strip_prefix("0x").or_else(|| t.strip_prefix("0X")) {
        return i128::from_str_radix(h, 16).map(Lit::I).map_err(|_| bad());
    }
    if t.contains(['.', 'e', 'E']) {
        t.parse::<f64>().map(Lit::F).map_err(|_| bad())
    } else {
        t.parse::<i128>().map(Lit::I).map_err(|_| bad())
    }
}

// ---------------------------------------------------------------- test files

/// How an argument is made.
#[derive(Clone, Debug)]
enum Init {
    Scalar(Lit),
    List(Vec<Lit>),
    Gen(CallExpr),
}

#[derive(Clone, Debug)]
struct Decl {
    line: usize,
    ty: ScalarType,
    /// `Some(len)` for a buffer.
    len: Option<usize>,
    init: Init,
}

#[derive(Clone, Debug)]
enum Want {
    List(Vec<Lit>),
    Ref(CallExpr),
}

#[derive(Clone, Debug)]
struct Expect {
    line: usize,
    want: Want,
    /// `within rel=R abs=A`: |got - want| <= A + R |want|.
    tol: Option<(f64, f64)>,
}

/// What one compile depends on besides the kernel.
#[derive(Clone, Debug, Default, PartialEq, Eq, Hash, PartialOrd, Ord)]
struct Options {
    consts: BTreeMap<String, (i64, bool)>,
    num_warps: Option<u32>,
    num_stages: Option<u32>,
    divisible_all: bool,
    small_buffers: bool,
}

/// One launch: the settings before the file's first `run` line, with the
/// run's own lines on top.
#[derive(Clone, Debug, Default)]
struct Run {
    line: usize,
    grid: [u32; 3],
    opts: Options,
    args: BTreeMap<String, Decl>,
    expects: BTreeMap<String, Expect>,
}

struct Spec {
    /// Shown in messages: the path from the repository root.
    name: String,
    kernel: String,
    source: SourceFile,
    runs: Vec<Run>,
}

fn repo_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..")
}

/// Reads a test file's header. Errors name the file and line.
fn parse_spec(path: &Path) -> Res<Spec> {
    let name = path.strip_prefix(repo_root()).unwrap_or(path).display().to_string();
    let text = std::fs::read_to_string(path).map_err(|e| format!("{name}: {e}"))?;
    let mut kernel = None;
    let mut source = None;
    let mut base = Run::default();
    let mut runs: Vec<Run> = Vec::new();
    for (k, raw) in text.lines().enumerate() {
        let line = k + 1;
        let Some(body) = raw.trim_start().strip_prefix("//!") else {
            continue;
        };
        let at = |e: String| format!("{name}:{line}: {e}\n    {}", raw.trim());
        let cur = runs.last_mut().unwrap_or(&mut base);
        if let Some(r) = header_line(body.trim(), line, cur, &mut kernel, &mut source).map_err(at)? {
            runs.push(r);
        }
    }
    let kernel = kernel.ok_or_else(|| format!("{name}: no `//! kernel NAME` line"))?;
    if runs.is_empty() {
        return Err(format!("{name}: no `//! run grid=[..]` line"));
    }
    let source = match source {
        None => SourceFile::new(name.clone(), text),
        Some((line, src)) => {
            let p = repo_root().join(&src);
            let t = std::fs::read_to_string(&p).map_err(|e| format!("{name}:{line}: source {src}: {e}"))?;
            SourceFile::new(src, t)
        }
    };
    // Settings before the first run apply to every run, under its own.
    for r in &mut runs {
        let mut merged = base.clone();
        merged.line = r.line;
        merged.grid = r.grid;
        merged.opts.consts.extend(r.opts.consts.clone());
        merged.opts.num_warps = r.opts.num_warps.or(base.opts.num_warps);
        merged.opts.num_stages = r.opts.num_stages.or(base.opts.num_stages);
        merged.opts.divisible_all |= r.opts.divisible_all;
        merged.opts.small_buffers |= r.opts.small_buffers;
        merged.args.extend(r.args.clone());
        merged.expects.extend(r.expects.clone());
        *r = merged;
    }
    Ok(Spec {
        name,
        kernel,
        source,
        runs,
    })
}

fn header_line(
    body: &str,
    line: usize,
    cur: &mut Run,
    kernel: &mut Option<String>,
    source: &mut Option<(usize, String)>,
) -> Res<Option<Run>> {
    if body.is_empty() {
        return Ok(None);
    }
    if let Some(rest) = body.strip_prefix("source ") {
        *source = Some((line, rest.trim().to_string()));
        return Ok(None);
    }
    let mut p = P { toks: lex(body)?, i: 0 };
    let head = p.ident()?;
    match head.as_str() {
        "kernel" => {
            *kernel = Some(p.ident()?);
        }
        "const" => {
            let k = p.ident()?;
            p.punct('=')?;
            let is_bool = matches!(p.peek(), Some(Tok::Ident(s)) if s == "true" || s == "false");
            let v = p.lit()?.i()?;
            cur.opts.consts.insert(k, (v as i64, is_bool));
        }
        "num_warps" => {
            cur.opts.num_warps = Some(p.lit()?.i()? as u32);
        }
        "num_stages" => {
            cur.opts.num_stages = Some(p.lit()?.i()? as u32);
        }
        "divisible" => match p.ident()?.as_str() {
            "all" => cur.opts.divisible_all = true,
            other => return Err(format!("`divisible {other}`: only `divisible all` is known")),
        },
        "small_buffers" => cur.opts.small_buffers = true,
        "run" => {
            if p.ident()? != "grid" {
                return Err("expected `run grid=[X]`, `run grid=[X, Y]` or `run grid=[X, Y, Z]`".into());
            }
            p.punct('=')?;
            let g = if matches!(p.peek(), Some(Tok::Punct('['))) {
                p.list()?
            } else {
                vec![p.lit()?]
            };
            if g.is_empty() || g.len() > 3 {
                return Err("a grid has 1 to 3 dimensions".into());
            }
            let mut grid = [1u32; 3];
            for (d, v) in g.iter().enumerate() {
                grid[d] = u32::try_from(v.i()?).map_err(|_| "a grid size is a positive integer".to_string())?;
            }
            p.end()?;
            return Ok(Some(Run {
                line,
                grid,
                ..Run::default()
            }));
        }
        "expect" => {
            let name = p.ident()?;
            p.punct('=')?;
            let want = if matches!(p.peek(), Some(Tok::Punct('['))) {
                Want::List(p.list()?)
            } else {
                Want::Ref(p.call()?)
            };
            let mut tol = None;
            if !p.done() {
                if p.ident()? != "within" {
                    return Err("expected `within rel=R abs=A` after the expected value".into());
                }
                let (mut rel, mut abs) = (0.0, 0.0);
                while !p.done() {
                    let k = p.ident()?;
                    p.punct('=')?;
                    let v = p.lit()?.f();
                    match k.as_str() {
                        "rel" => rel = v,
                        "abs" => abs = v,
                        _ => return Err(format!("`{k}`: a tolerance is `rel=` or `abs=`")),
                    }
                }
                tol = Some((rel, abs));
            }
            cur.expects.insert(name, Expect { line, want, tol });
        }
        name => {
            // NAME: TYPE = literal, or NAME: TYPE[LEN] = init
            p.punct(':').map_err(|_| {
                format!(
                    "unknown header line `{name} ...`: expected kernel, source, const, num_warps, num_stages, \
                     divisible, small_buffers, run, expect, or an argument `NAME: TYPE[LEN] = ...`"
                )
            })?;
            let t = p.ident()?;
            let ty = ScalarType::from_name(&t).ok_or_else(|| format!("`{t}` is not an element type"))?;
            let len = if p.eat('[') {
                let n = p.lit()?.i()?;
                p.punct(']')?;
                Some(usize::try_from(n).map_err(|_| "a negative length".to_string())?)
            } else {
                None
            };
            p.punct('=')?;
            let init = match (len, p.peek()) {
                (None, _) => Init::Scalar(p.lit()?),
                (Some(_), Some(Tok::Punct('['))) => Init::List(p.list()?),
                (Some(_), _) => Init::Gen(p.call()?),
            };
            p.end()?;
            if let (Some(n), Init::List(l)) = (len, &init) {
                if l.len() != n {
                    return Err(format!("{} values for a buffer of {n}", l.len()));
                }
            }
            if let Init::Gen(c) = &init {
                check_generator(c)?;
            }
            cur.args.insert(name.to_string(), Decl { line, ty, len, init });
            return Ok(None);
        }
    }
    p.end().map(|_| None)
}

const GENERATORS: &[&str] = &["fill", "arange", "uniform", "randint", "bits"];

fn check_generator(c: &CallExpr) -> Res<()> {
    if !GENERATORS.contains(&c.name.as_str()) {
        return Err(format!(
            "`{}` is not a generator (those are: {})",
            c.name,
            GENERATORS.join(", ")
        ));
    }
    Ok(())
}

/// A call's numeric argument: positional `i` or keyword `k`, else `default`.
fn num_arg(c: &CallExpr, i: usize, k: &str, default: Option<Lit>) -> Res<Lit> {
    let item = c.kw.iter().find(|(n, _)| n == k).map(|(_, v)| v).or(c.pos.get(i));
    match item {
        Some(Item::Lit(l)) => Ok(*l),
        Some(_) => Err(format!("{}: `{k}` must be a number", c.name)),
        None => default.ok_or_else(|| format!("{}: `{k}` is missing", c.name)),
    }
}

/// The initial value of an argument.
fn generate(d: &Decl) -> Res<Value> {
    let t = d.ty;
    let from_lits = |l: &[Lit]| -> Res<Vals> {
        if t.is_float() {
            Ok(Vals::F(l.iter().map(|v| round(t, v.f())).collect()))
        } else {
            Ok(Vals::I(
                l.iter().map(|v| v.i().map(|x| wrap(t, x))).collect::<Res<_>>()?,
            ))
        }
    };
    let vals = match (&d.init, d.len) {
        (Init::Scalar(l), _) => from_lits(&[*l])?,
        (Init::List(l), _) => from_lits(l)?,
        (Init::Gen(c), Some(n)) => {
            let seed = || {
                num_arg(c, usize::MAX, "seed", None)
                    .and_then(|s| s.i())
                    .map(|s| Rng(s as u64))
            };
            match c.name.as_str() {
                "fill" => from_lits(&vec![num_arg(c, 0, "value", None)?; n])?,
                "arange" => {
                    let (a, s) = (
                        num_arg(c, 0, "start", Some(Lit::I(0)))?,
                        num_arg(c, 1, "step", Some(Lit::I(1)))?,
                    );
                    if t.is_float() {
                        Vals::F((0..n).map(|i| round(t, a.f() + i as f64 * s.f())).collect())
                    } else {
                        Vals::I(
                            (0..n)
                                .map(|i| Ok(wrap(t, a.i()? + i as i128 * s.i()?)))
                                .collect::<Res<_>>()?,
                        )
                    }
                }
                "uniform" => {
                    let (lo, hi, mut rng) = (num_arg(c, 0, "lo", None)?.f(), num_arg(c, 1, "hi", None)?.f(), seed()?);
                    if !t.is_float() {
                        return Err("uniform() makes floats; use randint() for integers".into());
                    }
                    Vals::F((0..n).map(|_| round(t, rng.uniform(lo, hi))).collect())
                }
                "randint" => {
                    let (lo, hi, mut rng) = (
                        num_arg(c, 0, "lo", None)?.i()?,
                        num_arg(c, 1, "hi", None)?.i()?,
                        seed()?,
                    );
                    if hi <= lo {
                        return Err("randint(lo, hi): hi must be above lo".into());
                    }
                    let l: Vec<Lit> = (0..n)
                        .map(|_| Lit::I(lo + (rng.next_u64() as i128 % (hi - lo))))
                        .collect();
                    from_lits(&l)?
                }
                "bits" => {
                    let mut rng = seed()?;
                    if t.is_float() {
                        return Err("bits() makes integers".into());
                    }
                    Vals::I((0..n).map(|_| wrap(t, i128::from(rng.next_u64()))).collect())
                }
                other => return Err(format!("`{other}` is not a generator")),
            }
        }
        (Init::Gen(_), None) => return Err("a scalar takes a number".into()),
    };
    Ok(Value {
        ty: t,
        buffer: d.len.is_some(),
        vals,
    })
}

// ---------------------------------------------------------------- running

/// A named reference function's view of its arguments.
struct Call<'a> {
    name: &'a str,
    pos: Vec<&'a Value>,
    kw: BTreeMap<String, Vec<Lit>>,
    /// The expected buffer before the run (its type, length, contents).
    out: &'a Value,
}

impl Call<'_> {
    fn arg(&self, i: usize) -> Res<&Value> {
        self.pos
            .get(i)
            .copied()
            .ok_or_else(|| format!("{}: argument {} is missing", self.name, i + 1))
    }

    fn f(&self, i: usize) -> Res<Vec<f64>> {
        Ok(self.arg(i)?.floats())
    }

    fn kw_lit(&self, k: &str) -> Res<Lit> {
        match self.kw.get(k).map(Vec::as_slice) {
            Some([v]) => Ok(*v),
            Some(_) => Err(format!("{}: `{k}` must be one number", self.name)),
            None => Err(format!("{}: keyword `{k}` is missing", self.name)),
        }
    }

    fn kw_f(&self, k: &str) -> Res<f64> {
        Ok(self.kw_lit(k)?.f())
    }

    fn kw_u(&self, k: &str) -> Res<usize> {
        usize::try_from(self.kw_lit(k)?.i()?).map_err(|_| format!("{}: `{k}` must not be negative", self.name))
    }

    fn kw_shape(&self) -> Res<Vec<usize>> {
        let s = self
            .kw
            .get("shape")
            .ok_or_else(|| format!("{}: keyword `shape=[..]` is missing", self.name))?;
        s.iter().map(|v| Ok(v.i()? as usize)).collect()
    }

    /// The output's elements before the run, as floats.
    fn out_f(&self) -> Vec<f64> {
        self.out.floats()
    }
}

/// Runs every run of one file; returns one message per failure.
fn run_file(spec: &Spec) -> Vec<String> {
    let mut failures = Vec::new();
    let mut compiled = Cache::new();
    for r in &spec.runs {
        let what = format!("{}:{} (run grid={:?})", spec.name, r.line, r.grid);
        let result = catch_unwind(AssertUnwindSafe(|| run_one(spec, r, &mut compiled)));
        match result {
            Ok(Ok(())) => {}
            Ok(Err(e)) => failures.push(format!("{what}: {e}")),
            Err(p) => failures.push(format!("{what}: panicked: {}", panic_text(&p))),
        }
    }
    failures
}

fn panic_text(p: &Box<dyn std::any::Any + Send>) -> String {
    p.downcast_ref::<String>()
        .cloned()
        .or_else(|| p.downcast_ref::<&str>().map(|s| s.to_string()))
        .unwrap_or_else(|| "(no message)".into())
}

fn request(spec: &Spec, o: &Options) -> CompileRequest {
    let mut req = CompileRequest::new(spec.source.clone());
    req.kernel = Some(spec.kernel.clone());
    for (k, (v, is_bool)) in &o.consts {
        let c = if *is_bool {
            ConstArg::Bool(*v != 0)
        } else {
            ConstArg::Int(*v)
        };
        req.consts.insert(k.clone(), c);
    }
    req.num_warps = o.num_warps;
    req.num_stages = o.num_stages;
    if o.divisible_all {
        req.divisible = Divisible::All;
    }
    req.small_buffers = o.small_buffers;
    req
}

/// Compiles, keyed by options and target.
type Cache = HashMap<(Options, &'static str), Option<Compiled>>;

fn run_one(spec: &Spec, r: &Run, compiled: &mut Cache) -> Res<()> {
    let req = request(spec, &r.opts);
    let (module, kernel) = tile_ir(&req).map_err(|e| format!("front end failed:\n{e}"))?;
    let f = module.function(&kernel).ok_or("no kernel function")?;
    // Bind the header's arguments to the kernel's parameters.
    let mut values = Vec::new();
    for (i, p) in f.params().iter().enumerate() {
        let pname = &f.param_names[i];
        let d = r
            .args
            .get(pname)
            .ok_or_else(|| format!("parameter `{pname}` ({}) has no `//! {pname}: ...` line", f.ty(*p).elem))?;
        let v = generate(d).map_err(|e| format!("line {}: {e}", d.line))?;
        let ok = match f.ty(*p).elem {
            Elem::Ptr(s) => v.buffer && s == v.ty,
            Elem::Scalar(s) => !v.buffer && s == v.ty,
        };
        if !ok {
            let have = if v.buffer {
                format!("a {} buffer", v.ty)
            } else {
                format!("a {} scalar", v.ty)
            };
            return Err(format!(
                "line {}: `{pname}` is {} in the kernel, but the header gives {have}",
                d.line,
                f.ty(*p).elem
            ));
        }
        values.push((pname.clone(), v));
    }
    for (name, d) in &r.args {
        if !f.param_names.contains(name) {
            return Err(format!("line {}: the kernel has no parameter `{name}`", d.line));
        }
    }
    for (name, e) in &r.expects {
        if !values.iter().any(|(n, v)| n == name && v.buffer) {
            return Err(format!("line {}: `expect {name}`: not a buffer of the kernel", e.line));
        }
    }
    let args: Vec<Arg> = values.iter().map(|(_, v)| to_arg(v)).collect();
    let grid = r.grid;

    // As `common::run_request`, with one compile per target and options.
    let mut compiled_for = |t: &'static str| -> Res<Option<Compiled>> {
        if let Some(c) = compiled.get(&(r.opts.clone(), t)) {
            return Ok(c.clone());
        }
        let tgt = target::lookup(t).expect("known target");
        let c = match compile(&req, tgt.as_ref()) {
            Ok(c) => Some(c),
            Err(Error::Codegen(CodegenError::Unsupported(_))) if t != "host" => None,
            Err(e) => return Err(format!("compile for {t} failed:\n{e}")),
        };
        compiled.insert((r.opts.clone(), t), c.clone());
        Ok(c)
    };
    let host_c = compiled_for("host")?.expect("the host compiles");
    let mut host = args.clone();
    run_cpu(&host_c, Grid(grid), &mut host, 4).map_err(|e| format!("run on the host failed: {e}"))?;
    let interp = run_interp(&req, grid, args.clone());
    assert_agree(&req, &interp, &host, "the host");
    for &t in &TARGETS[1..] {
        let Some(c) = compiled_for(t)? else { continue };
        let mut sim = args.clone();
        run_cpu(&c, Grid(grid), &mut sim, 4).map_err(|e| format!("run on {t} failed: {e}"))?;
        for (i, (h, s)) in host.iter().zip(&sim).enumerate() {
            if h != s {
                return Err(format!("`{}`: {t} differs from the host", values[i].0));
            }
        }
    }

    // The code objects themselves, run in the machine-code emulator:
    // integers bit for bit as on the host, floats within the tolerance of
    // compiled math (a GPU's exp and division are its own approximations).
    for t in common::emu_targets() {
        let Some(c) = compiled_for(t)? else { continue };
        let mut emu = args.clone();
        let stats = tritonc::launch::run_emu(&c, Grid(grid), &mut emu)
            .map_err(|e| format!("run in the emulator for {t} failed: {e}"))?;
        if stats.uninitialized_reads > 0 {
            return Err(format!(
                "the emulator ({t}): registers read before anything wrote them: {:#?}",
                stats.reports
            ));
        }
        for (i, (name, v)) in values.iter().enumerate() {
            if !v.buffer {
                continue;
            }
            let (got, want) = (decode(v.ty, &bytes_of(&emu[i])), decode(v.ty, &bytes_of(&host[i])));
            let tol = v.ty.is_float().then(|| {
                r.expects
                    .get(name)
                    .and_then(|e| e.tol)
                    .unwrap_or((float_tolerance(v.ty), 1e-6))
            });
            compare(v.ty, &got, &want, tol)
                .map_err(|m| format!("`{name}`: the emulator ({t}) differs from the host: {m}"))?;
        }
    }

    // The host's buffers against the expected values.
    for (i, (name, v)) in values.iter().enumerate() {
        if !v.buffer {
            continue;
        }
        let Some(e) = r.expects.get(name) else {
            if bytes_of(&host[i]) != bytes_of(&args[i]) {
                return Err(format!("`{name}` changed, but the header expects nothing of it"));
            }
            continue;
        };
        let at = |m: String| format!("line {}: `expect {name}`: {m}", e.line);
        let want = match &e.want {
            Want::List(l) => {
                if l.len() != v.len() {
                    return Err(at(format!("{} values for a buffer of {}", l.len(), v.len())));
                }
                if v.ty.is_float() {
                    Vals::F(l.iter().map(|x| x.f()).collect())
                } else {
                    Vals::I(l.iter().map(|x| x.i()).collect::<Res<_>>().map_err(at)?)
                }
            }
            Want::Ref(c) => reference_value(c, &values, v).map_err(at)?,
        };
        if want.len() != v.len() {
            return Err(at(format!(
                "the reference gives {} values for a buffer of {}",
                want.len(),
                v.len()
            )));
        }
        let got = decode(v.ty, &bytes_of(&host[i]));
        compare(v.ty, &got, &want, e.tol).map_err(at)?;
    }
    Ok(())
}

/// Evaluates `expect NAME = reference(...)`.
fn reference_value(c: &CallExpr, values: &[(String, Value)], out: &Value) -> Res<Vals> {
    let lookup = |n: &str| {
        values
            .iter()
            .find(|(k, _)| k == n)
            .map(|(_, v)| v)
            .ok_or_else(|| format!("`{n}` is not an argument of the kernel"))
    };
    let mut pos = Vec::new();
    for it in &c.pos {
        match it {
            Item::Name(n) => pos.push(lookup(n)?),
            _ => return Err(format!("{}: positional arguments name the kernel's arguments", c.name)),
        }
    }
    let mut kw = BTreeMap::new();
    for (k, it) in &c.kw {
        let v = match it {
            Item::Lit(l) => vec![*l],
            Item::List(l) => l.clone(),
            Item::Name(n) => {
                let v = lookup(n)?;
                if v.buffer {
                    return Err(format!("{}: `{k}={n}`: `{n}` is a buffer, not a scalar", c.name));
                }
                match &v.vals {
                    Vals::I(x) => vec![Lit::I(x[0])],
                    Vals::F(x) => vec![Lit::F(x[0])],
                }
            }
        };
        kw.insert(k.clone(), v);
    }
    let call = Call {
        name: &c.name,
        pos,
        kw,
        out,
    };
    let f = REFERENCES
        .iter()
        .find(|(n, _)| *n == c.name)
        .map(|(_, f)| f)
        .ok_or_else(|| {
            let names: Vec<&str> = REFERENCES.iter().map(|(n, _)| *n).collect();
            format!("no reference function `{}` (those are: {})", c.name, names.join(", "))
        })?;
    f(&call)
}

/// Compares a buffer's elements with the expected ones: integers exactly;
/// floats bit for bit after rounding to the type (any NaN matches a NaN),
/// or within the tolerance.
fn compare(t: ScalarType, got: &Vals, want: &Vals, tol: Option<(f64, f64)>) -> Res<()> {
    let mut bad = Vec::new();
    let n = got.len();
    for i in 0..n {
        let ok = match (got, want) {
            (Vals::I(g), _) => {
                let w = match want {
                    Vals::I(w) => wrap(t, w[i]),
                    Vals::F(w) => wrap(t, w[i] as i128),
                };
                g[i] == w
            }
            (Vals::F(g), _) => {
                let w = match want {
                    Vals::F(w) => w[i],
                    Vals::I(w) => w[i] as f64,
                };
                match tol {
                    _ if g[i].is_nan() || w.is_nan() => g[i].is_nan() && w.is_nan(),
                    None => float_bits(t, g[i]) == float_bits(t, round(t, w)),
                    Some((rel, abs)) => g[i] == w || (g[i] - w).abs() <= abs + rel * w.abs(),
                }
            }
        };
        if !ok {
            bad.push(i);
        }
    }
    if bad.is_empty() {
        return Ok(());
    }
    let show = |v: &Vals, i: usize| match v {
        Vals::I(x) => x[i].to_string(),
        Vals::F(x) => format!("{:?}", x[i]),
    };
    let list: Vec<String> = bad
        .iter()
        .take(8)
        .map(|&i| format!("[{i}]: got {}, want {}", show(got, i), show(want, i)))
        .collect();
    let tol = match tol {
        None => "exactly".to_string(),
        Some((r, a)) => format!("within rel={r} abs={a}"),
    };
    Err(format!(
        "{} of {n} elements differ ({tol}); first: {}",
        bad.len(),
        list.join(", ")
    ))
}

// ---------------------------------------------------------------- references

type Reference = fn(&Call) -> Res<Vals>;

/// The named reference functions `expect NAME = f(...)` may call: plain
/// Rust loops, independent of the compiler. Positional arguments are the
/// kernel's arguments (their values before the run); keywords are numbers,
/// lists, or the kernel's scalar arguments.
const REFERENCES: &[(&str, Reference)] = &[
    ("add", r_add),
    ("softmax_rows", r_softmax_rows),
    ("layer_norm", r_layer_norm),
    ("row_mean", r_row_mean),
    ("row_rstd", r_row_rstd),
    ("transpose", r_transpose),
    ("transpose_bias", r_transpose_bias),
    ("sum", |c| reduce(c, Red::Sum)),
    ("max", |c| reduce(c, Red::Max)),
    ("min", |c| reduce(c, Red::Min)),
    ("argmax", |c| reduce(c, Red::ArgMax)),
    ("argmin", |c| reduce(c, Red::ArgMin)),
    ("xor_sum", |c| reduce(c, Red::Xor)),
    ("count_positive", |c| reduce(c, Red::CountPositive)),
    ("cumsum", |c| scan_ref(c, false)),
    ("cumprod", |c| scan_ref(c, true)),
    ("shifted_sum", r_shifted_sum),
    ("activations", r_activations),
    ("masked_pick", r_masked_pick),
    ("histogram", r_histogram),
    ("histogram_rows", r_histogram_rows),
    ("philox_randint", |c| philox_ref(c, 0)),
    ("philox_rand", |c| philox_ref(c, 1)),
    ("philox_randn", |c| philox_ref(c, 2)),
    ("dropout", r_dropout),
    ("attention", r_attention),
    ("linear", r_linear),
    ("strips", r_strips),
    ("row_col", r_row_col),
];

/// `row_col(x, rows=R, cols=C)`: `out[r, c] = x[c] * 1000 + x[C + r]`.
fn r_row_col(c: &Call) -> Res<Vals> {
    let x = c.arg(0)?.ints()?;
    let (rows, cols) = (c.kw_u("rows")?, c.kw_u("cols")?);
    let mut out = c.out.ints()?;
    for r in 0..rows {
        for k in 0..cols {
            out[r * cols + k] = x[k] * 1000 + x[cols + r];
        }
    }
    Ok(Vals::I(out))
}

/// `tests/basic/host_strips.tk`: `part=0` the flags `x > 0`, `part=1` the
/// outputs `|x| * (1 + .. + steps)` plus their program's total, `part=2`
/// the programs' totals (elements from `n` on count as 0 and are not
/// written).
fn r_strips(c: &Call) -> Res<Vals> {
    let x = c.arg(0)?.ints()?;
    let (part, n, block, steps) = (c.kw_u("part")?, c.kw_u("n")?, c.kw_u("block")?, c.kw_u("steps")?);
    let weight = (steps * (steps + 1) / 2) as i128;
    let acc = |i: usize| if i < n { x[i].abs() * weight } else { 0 };
    let total = |p: usize| (p * block..(p + 1) * block).map(acc).sum::<i128>();
    let mut out = c.out.ints()?;
    match part {
        0 => (0..n).for_each(|i| out[i] = i128::from(x[i] > 0)),
        1 => (0..n).for_each(|i| out[i] = acc(i) + total(i / block)),
        _ => (0..out.len()).for_each(|p| out[p] = total(p)),
    }
    Ok(Vals::I(out))
}

/// `y[i, j] = sum_kk x[i, kk] * w[j, kk]` (f64) for an `m × k` matrix `x`
/// and an `n × k` matrix `w` (a linear layer, `x w^T`), rounded to `y`'s
/// type.
fn r_linear(c: &Call) -> Res<Vals> {
    let (x, w) = (c.f(0)?, c.f(1)?);
    let (m, n, k) = (c.kw_u("m")?, c.kw_u("n")?, c.kw_u("k")?);
    if x.len() < m * k || w.len() < n * k {
        return Err("linear: x needs m * k elements and w n * k".into());
    }
    let mut out = c.out_f();
    if out.len() < m * n {
        return Err("linear: y needs m * n elements".into());
    }
    for i in 0..m {
        for j in 0..n {
            let dot: f64 = (0..k).map(|kk| x[i * k + kk] * w[j * k + kk]).sum();
            out[i * n + j] = round(c.out.ty, dot);
        }
    }
    Ok(Vals::F(out))
}

/// `out[i] = x[i] + y[i]` for `i < n` (rounded to the output's type);
/// the rest keeps its value.
fn r_add(c: &Call) -> Res<Vals> {
    let (x, y, n) = (c.f(0)?, c.f(1)?, c.kw_u("n")?);
    let mut out = c.out_f();
    for i in 0..n {
        out[i] = round(c.out.ty, x[i] + y[i]);
    }
    Ok(Vals::F(out))
}

/// The softmax of each of `rows` contiguous rows of `cols` (f64).
fn r_softmax_rows(c: &Call) -> Res<Vals> {
    let (x, rows, cols) = (c.f(0)?, c.kw_u("rows")?, c.kw_u("cols")?);
    let mut out = c.out_f();
    for r in 0..rows {
        let row = &x[r * cols..(r + 1) * cols];
        let m = row.iter().fold(f64::NEG_INFINITY, |a, v| a.max(*v));
        let den: f64 = row.iter().map(|v| (v - m).exp()).sum();
        for k in 0..cols {
            out[r * cols + k] = (row[k] - m).exp() / den;
        }
    }
    Ok(Vals::F(out))
}

/// Each row's mean and reciprocal standard deviation (f64).
fn row_stats(x: &[f64], rows: usize, cols: usize, eps: f64) -> Vec<(f64, f64)> {
    (0..rows)
        .map(|r| {
            let row = &x[r * cols..(r + 1) * cols];
            let m = row.iter().sum::<f64>() / cols as f64;
            let var = row.iter().map(|v| (v - m) * (v - m)).sum::<f64>() / cols as f64;
            (m, 1.0 / (var + eps).sqrt())
        })
        .collect()
}

/// `layer_norm(x, w, b, rows=, cols=, eps=)`: each row normalized, scaled
/// by `w` and shifted by `b` (f64).
fn r_layer_norm(c: &Call) -> Res<Vals> {
    let (x, w, b) = (c.f(0)?, c.f(1)?, c.f(2)?);
    let (rows, cols) = (c.kw_u("rows")?, c.kw_u("cols")?);
    let mut out = c.out_f();
    for (r, (m, rs)) in row_stats(&x, rows, cols, c.kw_f("eps")?).into_iter().enumerate() {
        for k in 0..cols {
            out[r * cols + k] = (x[r * cols + k] - m) * rs * w[k] + b[k];
        }
    }
    Ok(Vals::F(out))
}

fn r_row_mean(c: &Call) -> Res<Vals> {
    let s = row_stats(&c.f(0)?, c.kw_u("rows")?, c.kw_u("cols")?, 0.0);
    Ok(Vals::F(s.iter().map(|p| p.0).collect()))
}

fn r_row_rstd(c: &Call) -> Res<Vals> {
    let s = row_stats(&c.f(0)?, c.kw_u("rows")?, c.kw_u("cols")?, c.kw_f("eps")?);
    Ok(Vals::F(s.iter().map(|p| p.1).collect()))
}

/// `transpose(x, shape=[m, n])`: the `[n, m]` transpose, row-major.
fn r_transpose(c: &Call) -> Res<Vals> {
    let s = c.kw_shape()?;
    let [m, n] = s[..] else {
        return Err("transpose: shape=[M, N]".into());
    };
    let x = c.arg(0)?;
    let idx = |k: usize| (k % m) * n + k / m;
    Ok(match &x.vals {
        Vals::I(v) => Vals::I((0..m * n).map(|k| v[idx(k)]).collect()),
        Vals::F(v) => Vals::F((0..m * n).map(|k| v[idx(k)]).collect()),
    })
}

/// `out[j, i] = x[i, j] + bias[j]` for an `rows × cols` matrix `x`.
fn r_transpose_bias(c: &Call) -> Res<Vals> {
    let (x, bias, m, n) = (c.f(0)?, c.f(1)?, c.kw_u("rows")?, c.kw_u("cols")?);
    let mut out = c.out_f();
    for i in 0..m {
        for j in 0..n {
            out[j * m + i] = round(c.out.ty, x[i * n + j] + bias[j]);
        }
    }
    Ok(Vals::F(out))
}

#[derive(Clone, Copy)]
enum Red {
    Sum,
    Max,
    Min,
    ArgMax,
    ArgMin,
    Xor,
    CountPositive,
}

/// The rows along `axis` of a row-major block of `shape`: for each output
/// element (the other axes, row-major), the flat indices of its row.
fn rows_along(shape: &[usize], axis: usize) -> Vec<Vec<usize>> {
    let len = shape[axis];
    let stride: usize = shape[axis + 1..].iter().product();
    let total: usize = shape.iter().product();
    (0..total / len)
        .map(|o| {
            let (outer, inner) = (o / stride, o % stride);
            (0..len).map(|k| outer * len * stride + inner + k * stride).collect()
        })
        .collect()
}

/// The balanced pairwise tree in index order, as the language defines
/// reductions, rounding each step to `t`.
fn tree(xs: &[f64], t: ScalarType) -> f64 {
    match xs.len() {
        1 => xs[0],
        n => round(t, tree(&xs[..n / 2], t) + tree(&xs[n / 2..], t)),
    }
}

/// `sum|max|min|argmax|argmin|xor_sum|count_positive(x, shape=[..],
/// axis=K)`: the reduction of a row-major block along `axis`, row-major
/// over the other axes. Float max/min ignore NaNs (NaN when all are);
/// arg-reductions give the lowest index of the extreme (0 when all are
/// NaN); float sums are index-order trees rounded to the output's type.
fn reduce(c: &Call, red: Red) -> Res<Vals> {
    let shape = c.kw_shape()?;
    let axis = c.kw_u("axis")?;
    if axis >= shape.len() {
        return Err(format!("{}: axis {axis} of a {}-D shape", c.name, shape.len()));
    }
    let x = c.arg(0)?;
    if x.len() != shape.iter().product::<usize>() {
        return Err(format!("{}: shape {shape:?} for a buffer of {}", c.name, x.len()));
    }
    let rows = rows_along(&shape, axis);
    let extreme = |row: &[f64], max: bool| -> (f64, usize) {
        let mut best: Option<(f64, usize)> = None;
        for (k, v) in row.iter().enumerate() {
            if v.is_nan() {
                continue;
            }
            if best.is_none_or(|(b, _)| if max { *v > b } else { *v < b }) {
                best = Some((*v, k));
            }
        }
        best.unwrap_or((f64::NAN, 0))
    };
    Ok(match (&x.vals, red) {
        (Vals::F(v), _) => {
            let t = c.out.ty;
            let rs = rows.iter().map(|r| r.iter().map(|&i| v[i]).collect::<Vec<f64>>());
            let f: Vec<f64> = match red {
                Red::Sum => rs.map(|r| tree(&r, t)).collect(),
                Red::Max => rs.map(|r| extreme(&r, true).0).collect(),
                Red::Min => rs.map(|r| extreme(&r, false).0).collect(),
                Red::ArgMax => rs.map(|r| extreme(&r, true).1 as f64).collect(),
                Red::ArgMin => rs.map(|r| extreme(&r, false).1 as f64).collect(),
                Red::CountPositive => rs.map(|r| r.iter().filter(|v| **v > 0.0).count() as f64).collect(),
                Red::Xor => return Err("xor_sum of floats".into()),
            };
            if t.is_float() {
                Vals::F(f)
            } else {
                Vals::I(f.into_iter().map(|v| v as i128).collect())
            }
        }
        (Vals::I(v), _) => {
            let first_pos = |r: &Vec<usize>, want: i128| r.iter().position(|&i| v[i] == want).unwrap() as i128;
            Vals::I(
                rows.iter()
                    .map(|r| match red {
                        Red::Sum => r.iter().map(|&i| v[i]).sum(),
                        Red::Max => r.iter().map(|&i| v[i]).max().unwrap(),
                        Red::Min => r.iter().map(|&i| v[i]).min().unwrap(),
                        Red::ArgMax => first_pos(r, r.iter().map(|&i| v[i]).max().unwrap()),
                        Red::ArgMin => first_pos(r, r.iter().map(|&i| v[i]).min().unwrap()),
                        Red::Xor => r.iter().fold(0, |a, &i| a ^ v[i]),
                        Red::CountPositive => r.iter().filter(|&&i| v[i] > 0).count() as i128,
                    })
                    .collect(),
            )
        }
    })
}

/// `cumsum|cumprod(x, shape=[..], axis=K)`: inclusive scans along `axis`
/// in the language's order, each step rounded (or wrapped) to the output's
/// type.
fn scan_ref(c: &Call, prod: bool) -> Res<Vals> {
    let shape = c.kw_shape()?;
    let axis = c.kw_u("axis")?;
    let x = c.arg(0)?;
    if axis >= shape.len() || x.len() != shape.iter().product::<usize>() {
        return Err(format!(
            "{}: shape {shape:?} axis {axis} for a buffer of {}",
            c.name,
            x.len()
        ));
    }
    let t = c.out.ty;
    let mut out = x.vals.clone();
    for r in rows_along(&shape, axis) {
        match (&x.vals, &mut out) {
            (Vals::F(v), Vals::F(o)) => {
                let row: Vec<f64> = r.iter().map(|&i| v[i]).collect();
                let s = scan(&row, |a, b| round(t, if prod { a * b } else { a + b }));
                for (k, &i) in r.iter().enumerate() {
                    o[i] = s[k];
                }
            }
            (Vals::I(v), Vals::I(o)) => {
                let row: Vec<i128> = r.iter().map(|&i| v[i]).collect();
                let s = scan(&row, |a, b| wrap(t, if prod { a.wrapping_mul(b) } else { a + b }));
                for (k, &i) in r.iter().enumerate() {
                    o[i] = s[k];
                }
            }
            _ => unreachable!(),
        }
    }
    Ok(out)
}

/// The `shifted_sum` example: `(4 * sum of x[(i + r) % n] for r < reps - 1) / 3`.
fn r_shifted_sum(c: &Call) -> Res<Vals> {
    let x = c.arg(0)?.ints()?;
    let (n, reps) = (c.kw_u("n")?, c.kw_u("reps")?);
    let mut out = c.out.ints()?;
    for i in 0..n {
        let mut acc: i128 = (0..reps).map(|r| x[(i + r) % n]).sum();
        acc *= 4; // the while loop doubles twice
        acc -= 1; // static_range subtracts 0, then 1
        out[i] = wrap(ScalarType::I32, acc) / 3;
    }
    Ok(Vals::I(out))
}

/// The `activations` example: GELU (tanh form) of `x * scale`, clamped to
/// [-1, 1] when `clamp=1`, and `exp(v) - 1` where `v <= 0`.
fn r_activations(c: &Call) -> Res<Vals> {
    let (x, n, scale, clamp) = (c.f(0)?, c.kw_u("n")?, c.kw_f("scale")?, c.kw_u("clamp")?);
    let mut out = c.out_f();
    for i in 0..n {
        let v = f64::from(x[i] as f32 * scale as f32);
        let mut y = 0.5 * v * (1.0 + (0.797_884_560_8 * (v + 0.044_715 * v * v * v)).tanh());
        if clamp == 1 {
            y = y.clamp(-1.0, 1.0);
        }
        out[i] = if v > 0.0 { y } else { v.exp() - 1.0 };
    }
    Ok(Vals::F(out))
}

/// `masked_pick(x, n=, mode=, programs=)`: `x[i]` (or -1 past `n`),
/// doubled when `mode` is odd, plus 100 when `mode > 2`, 10 when
/// `mode == 2`, and 1000 per program.
fn r_masked_pick(c: &Call) -> Res<Vals> {
    let x = c.arg(0)?.ints()?;
    let (n, mode, programs) = (c.kw_u("n")?, c.kw_lit("mode")?.i()?, c.kw_lit("programs")?.i()?);
    let bias = match mode {
        m if m > 2 => 100,
        2 => 10,
        _ => 0,
    };
    let out = (0..c.out.len())
        .map(|i| {
            let v = if i < n { x[i] } else { -1 };
            let picked = if mode % 2 == 0 { v } else { v * 2 };
            picked + bias + programs * 1000
        })
        .collect();
    Ok(Vals::I(out))
}

/// `histogram(x, bins=)`: counts of each value clamped to [0, bins).
fn r_histogram(c: &Call) -> Res<Vals> {
    let x = c.arg(0)?.ints()?;
    let bins = c.kw_u("bins")? as i128;
    let mut out = vec![0i128; c.out.len()];
    for v in x {
        out[v.clamp(0, bins - 1) as usize] += 1;
    }
    Ok(Vals::I(out))
}

/// `histogram_rows(x, rows=, cols=, bins=)`: one histogram per row.
fn r_histogram_rows(c: &Call) -> Res<Vals> {
    let x = c.arg(0)?.ints()?;
    let (rows, cols, bins) = (c.kw_u("rows")?, c.kw_u("cols")?, c.kw_u("bins")?);
    let mut out = vec![0i128; c.out.len()];
    for r in 0..rows {
        for k in 0..cols {
            out[r * bins + x[r * cols + k].clamp(0, bins as i128 - 1) as usize] += 1;
        }
    }
    Ok(Vals::I(out))
}

/// Philox 4x32-10 (Salmon et al., SC'11), written from the paper's
/// description, not from the compiler's code.
fn philox4x32_10(mut ctr: [u32; 4], mut key: [u32; 2]) -> [u32; 4] {
    for _ in 0..10 {
        let p0 = u64::from(0xD251_1F53u32) * u64::from(ctr[0]);
        let p1 = u64::from(0xCD9E_8D57u32) * u64::from(ctr[2]);
        ctr = [
            ((p1 >> 32) as u32) ^ ctr[1] ^ key[0],
            p1 as u32,
            ((p0 >> 32) as u32) ^ ctr[3] ^ key[1],
            p0 as u32,
        ];
        key = [key[0].wrapping_add(0x9E37_79B9), key[1].wrapping_add(0xBB67_AE85)];
    }
    ctr
}

/// Triton's conversion of random bits to a uniform float in [0, 1).
fn uniform01(x: u32) -> f32 {
    let i = x as i32;
    let i = if i < 0 { -1 - i } else { i };
    i as f32 * 4.656_612_7e-10_f32
}

#[test]
fn philox_reference_matches_the_random123_known_answer() {
    assert_eq!(
        philox4x32_10([0; 4], [0; 2]),
        [0x6627_e8d5, 0xe169_c58d, 0xbc57_ac4c, 0x9b00_dbd8]
    );
}

/// `philox_randint|philox_rand|philox_randn(seed=, base=)`: element `i` is
/// the random number of counter `i + base` (randint: Philox's first word;
/// rand: it as a uniform float; randn: Box-Muller in f64 of the first two
/// words' uniforms).
fn philox_ref(c: &Call, kind: u8) -> Res<Vals> {
    let (seed, base) = (c.kw_lit("seed")?.i()? as i64 as u64, c.kw_lit("base")?.i()?);
    let key = [seed as u32, (seed >> 32) as u32];
    let words = (0..c.out.len()).map(|i| philox4x32_10([(i as i128 + base) as u32, 0, 0, 0], key));
    Ok(match kind {
        0 => Vals::I(words.map(|r| i128::from(r[0])).collect()),
        1 => Vals::F(words.map(|r| f64::from(uniform01(r[0]))).collect()),
        _ => Vals::F(
            words
                .map(|r| {
                    let u1 = f64::from(uniform01(r[0]).max(1.0e-7));
                    let u2 = f64::from(uniform01(r[1]));
                    (-2.0 * u1.ln()).sqrt() * (std::f64::consts::TAU * u2).cos()
                })
                .collect(),
        ),
    })
}

/// The dropout example: `x[i] / (1 - p)` where `rand(seed, i) > p`, else 0,
/// for `i < n`.
fn r_dropout(c: &Call) -> Res<Vals> {
    let x = c.f(0)?;
    let (n, p, seed) = (c.kw_u("n")?, c.kw_f("p")? as f32, c.kw_lit("seed")?.i()?);
    let mut out = c.out_f();
    for i in 0..n {
        let r = uniform01(philox4x32_10([i as u32, 0, 0, 0], [seed as u32, 0])[0]);
        out[i] = if r > p { f64::from(x[i] as f32 / (1.0 - p)) } else { 0.0 };
    }
    Ok(Vals::F(out))
}

/// `attention(q, k, v, heads=H, n_ctx=N, head_dim=D, sm_scale=S[, causal=1])`:
/// for each head of `[heads, n_ctx, head_dim]` row-major `q`, `k`, `v`,
/// `softmax(q k^T * sm_scale) v` in f64 (with `causal`, query `i` sees keys
/// `0..=i` only), rounded to the output's type.
fn r_attention(c: &Call) -> Res<Vals> {
    let (q, k, v) = (c.f(0)?, c.f(1)?, c.f(2)?);
    let (heads, n, d) = (c.kw_u("heads")?, c.kw_u("n_ctx")?, c.kw_u("head_dim")?);
    let scale = c.kw_f("sm_scale")?;
    let causal = c.kw.contains_key("causal") && c.kw_u("causal")? != 0;
    if q.len() < heads * n * d || k.len() < heads * n * d || v.len() < heads * n * d {
        return Err("attention: q, k and v must hold heads * n_ctx * head_dim elements".into());
    }
    let mut out = c.out_f();
    for h in 0..heads {
        let at = |x: &[f64], row: usize, col: usize| x[(h * n + row) * d + col];
        for i in 0..n {
            let keys = if causal { i + 1 } else { n };
            let s: Vec<f64> = (0..keys)
                .map(|j| (0..d).map(|e| at(&q, i, e) * at(&k, j, e)).sum::<f64>() * scale)
                .collect();
            let m = s.iter().fold(f64::NEG_INFINITY, |a, x| a.max(*x));
            let p: Vec<f64> = s.iter().map(|x| (x - m).exp()).collect();
            let l: f64 = p.iter().sum();
            for e in 0..d {
                let o: f64 = p.iter().enumerate().map(|(j, pj)| pj * at(&v, j, e)).sum();
                out[(h * n + i) * d + e] = round(c.out.ty, o / l);
            }
        }
    }
    Ok(Vals::F(out))
}

// ---------------------------------------------------------------- the test

fn test_files(dir: &Path, out: &mut Vec<PathBuf>) {
    let mut entries: Vec<PathBuf> = std::fs::read_dir(dir)
        .unwrap_or_else(|e| panic!("{}: {e}", dir.display()))
        .map(|e| e.expect("directory entry").path())
        .collect();
    entries.sort();
    for p in entries {
        if p.is_dir() {
            test_files(&p, out);
        } else if p.extension().is_some_and(|e| e == "tk") {
            out.push(p);
        }
    }
}

#[test]
fn every_kernel_file_computes_what_its_header_expects() {
    let mut files = Vec::new();
    test_files(&repo_root().join("tests"), &mut files);
    assert!(!files.is_empty(), "no .tk files under tests/");
    if let Ok(filter) = std::env::var("KERNEL_FILES") {
        files.retain(|p| p.display().to_string().contains(&filter));
    }
    let failures = Mutex::new(Vec::new());
    let next = AtomicUsize::new(0);
    let workers = std::thread::available_parallelism()
        .map_or(2, |n| n.get())
        .min(files.len());
    std::thread::scope(|s| {
        for _ in 0..workers {
            s.spawn(|| loop {
                let i = next.fetch_add(1, Ordering::Relaxed);
                let Some(path) = files.get(i) else { break };
                let start = Instant::now();
                let errs = match parse_spec(path) {
                    Ok(spec) => run_file(&spec),
                    Err(e) => vec![e],
                };
                let name = path.strip_prefix(repo_root()).unwrap_or(path).display().to_string();
                let verdict = if errs.is_empty() { "ok" } else { "FAILED" };
                println!("{name}: {verdict} ({:.1} s)", start.elapsed().as_secs_f64());
                failures.lock().unwrap().extend(errs);
            });
        }
    });
    let failures = failures.into_inner().unwrap();
    assert!(
        failures.is_empty(),
        "{} failure(s) in {} kernel file(s):\n\n{}",
        failures.len(),
        files.len(),
        failures.join("\n\n")
    );
}

/// Malformed headers fail with the file and line.
#[test]
fn malformed_headers_name_the_file_and_line() {
    let dir = std::env::temp_dir().join(format!("tk-kernel-files-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let cases = [
        (
            "//! kernel k\n//! run grid=[1]\n//! x: f33[4] = fill(0)\n",
            3,
            "`f33` is not an element type",
        ),
        (
            "//! kernel k\n//! run grid=[1]\n//! x: f32[4] = zeros()\n",
            3,
            "`zeros` is not a generator",
        ),
        (
            "//! kernel k\n//! bogus line\n//! run grid=[1]\n",
            2,
            "unknown header line",
        ),
        (
            "//! kernel k\n//! run grid=[1]\n//! expect y = [1, 2] within tol=3\n",
            3,
            "a tolerance is",
        ),
        (
            "//! kernel k\n//! x: f32[3] = [1, 2]\n//! run grid=[1]\n",
            2,
            "2 values for a buffer of 3",
        ),
        ("//! kernel k\n//! run grid=[1, 2, 3, 4]\n", 2, "1 to 3 dimensions"),
    ];
    for (i, (text, line, msg)) in cases.iter().enumerate() {
        let p = dir.join(format!("bad{i}.tk"));
        std::fs::write(&p, text).unwrap();
        let Err(e) = parse_spec(&p) else {
            panic!("case {i} parsed")
        };
        assert!(e.contains(&format!("bad{i}.tk:{line}: ")), "case {i}: {e}");
        assert!(e.contains(msg), "case {i}: {e}");
    }
    let p = dir.join("norun.tk");
    std::fs::write(&p, "//! kernel k\n").unwrap();
    let Err(e) = parse_spec(&p) else {
        panic!("no run parsed")
    };
    assert!(e.contains("no `//! run grid=[..]` line"), "{e}");
    std::fs::remove_dir_all(&dir).unwrap();
}

/// A wrong expectation, and a buffer written without an `expect`, fail
/// with the file and line; the other runs of the file still run.
#[test]
fn wrong_results_are_reported_with_the_file_and_line() {
    let dir = std::env::temp_dir().join(format!("tk-kernel-files-wrong-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let p = dir.join("wrong.tk");
    let text = "//! kernel k\n\
                //! const B = 4\n\
                //! x: f32[4] = [1, 2, 3, 4]\n\
                //! y: f32[4] = fill(0)\n\
                //! run grid=[1]\n\
                //! expect y = [2, 3, 4, 6]\n\
                //! run grid=[1]\n\
                //! run grid=[1]\n\
                //! expect y = [2, 3, 4, 5.5] within abs=0.5\n\
                #[kernel]\nfn k<const B: i32>(x: Ptr<f32>, y: Ptr<f32>) {\n    \
                let o = arange(0, B);\n    store(y + o, load(x + o) + 1.0);\n}\n";
    std::fs::write(&p, text).unwrap();
    let spec = parse_spec(&p).unwrap_or_else(|e| panic!("{e}"));
    let errs = run_file(&spec);
    assert_eq!(errs.len(), 2, "{errs:?}");
    assert!(
        errs[0].contains("wrong.tk:5 ")
            && errs[0].contains("line 6: `expect y`: 1 of 4 elements differ (exactly); first: [3]: got 5.0, want 6.0"),
        "{}",
        errs[0]
    );
    assert!(
        errs[1].contains("wrong.tk:7 ") && errs[1].contains("`y` changed, but the header expects nothing of it"),
        "{}",
        errs[1]
    );
    std::fs::remove_dir_all(&dir).unwrap();
}
