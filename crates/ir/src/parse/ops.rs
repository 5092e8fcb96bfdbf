//! Operation names and attributes back to [`OpKind`]s: the inverse of
//! `print::op_name` and the printer's attributes.
//!
//! Types print signless (`i32` for `i32` and `u32`), so an operation also
//! says what it knows of its operands' signedness (`arith.divui`: the
//! operands are unsigned); `build.rs` solves for every value's type.

use super::{
    syntax::{AttrVal, OpAst, TypeAst},
    ParseError, Pos,
};
use crate::{
    ops::{AtomicOp, BinaryOp, CmpPred, ConstValue, MathFn, OpKind, ReduceKind, ScanKind},
    types::ScalarType,
};

/// What an operation's name says of an operand's or result's
/// signedness (`true`: unsigned).
#[derive(Debug, Clone, Copy)]
pub(super) enum Fact {
    Operand(usize, bool),
    Result(usize, bool),
    /// The exact scalar type (from `tk.cast`'s `from`/`to`).
    OperandType(usize, ScalarType),
    ResultType(usize, ScalarType),
}

/// An operation's attributes, each of which must be used.
struct Attrs<'a> {
    op: &'a OpAst,
}

impl<'a> Attrs<'a> {
    fn allow(&self, names: &[&str]) -> Result<(), ParseError> {
        for (i, a) in self.op.attrs.iter().enumerate() {
            if !names.contains(&a.name.as_str()) {
                return Err(ParseError::new(
                    a.pos,
                    format!("`{}` has no attribute `{}`", self.op.name, a.name),
                ));
            }
            if self.op.attrs[..i].iter().any(|b| b.name == a.name) {
                return Err(ParseError::new(a.pos, format!("attribute `{}` given twice", a.name)));
            }
        }
        Ok(())
    }

    fn get(&self, name: &str) -> Option<(&'a AttrVal, Pos)> {
        self.op.attrs.iter().find(|a| a.name == name).map(|a| (&a.val, a.pos))
    }

    fn required(&self, name: &str) -> Result<(&'a AttrVal, Pos), ParseError> {
        self.get(name)
            .ok_or_else(|| ParseError::new(self.op.pos, format!("`{}` needs attribute `{name}`", self.op.name)))
    }

    fn unit(&self, name: &str) -> Result<bool, ParseError> {
        match self.get(name) {
            None => Ok(false),
            Some((AttrVal::Unit, _)) => Ok(true),
            Some((_, p)) => Err(ParseError::new(p, format!("`{name}` takes no value"))),
        }
    }

    /// `name = N : i32` (or `: i64`), within `lo..=hi`.
    fn int(&self, name: &str, ty: &str, lo: i64, hi: i64) -> Result<i64, ParseError> {
        match self.required(name)? {
            (AttrVal::Int(v, Some(t)), p) => {
                if t.text() != ty {
                    return Err(ParseError::new(p, format!("`{name}` must be typed `{ty}`")));
                }
                if *v < lo || *v > hi {
                    return Err(ParseError::new(p, format!("`{name}` = {v} is out of range")));
                }
                Ok(*v)
            }
            (_, p) => Err(ParseError::new(p, format!("`{name}` must be an integer `N : {ty}`"))),
        }
    }

    fn string(&self, name: &str) -> Result<(&'a str, Pos), ParseError> {
        match self.required(name)? {
            (AttrVal::Str(s), p) => Ok((s, p)),
            (_, p) => Err(ParseError::new(p, format!("`{name}` must be a string"))),
        }
    }

    fn axis(&self) -> Result<u32, ParseError> {
        Ok(self.int("axis", "i32", 0, i64::from(i32::MAX))? as u32)
    }
}

fn binary(name: &str) -> Option<(BinaryOp, Option<bool>)> {
    use BinaryOp::*;
    Some(match name {
        "arith.addf" | "arith.addi" => (Add, None),
        "arith.subf" | "arith.subi" => (Sub, None),
        "arith.mulf" | "arith.muli" => (Mul, None),
        "arith.divf" => (Div, None),
        "arith.divsi" => (Div, Some(false)),
        "arith.divui" => (Div, Some(true)),
        "arith.remf" => (Rem, None),
        "arith.remsi" => (Rem, Some(false)),
        "arith.remui" => (Rem, Some(true)),
        "arith.shli" => (Shl, None),
        "arith.shrsi" => (Shr, Some(false)),
        "arith.shrui" => (Shr, Some(true)),
        "arith.andi" => (And, None),
        "arith.ori" => (Or, None),
        "arith.xori" => (Xor, None),
        "arith.maxnumf" => (Max, None),
        "arith.maxsi" => (Max, Some(false)),
        "arith.maxui" => (Max, Some(true)),
        "arith.minnumf" => (Min, None),
        "arith.minsi" => (Min, Some(false)),
        "arith.minui" => (Min, Some(true)),
        _ => return None,
    })
}

/// The enum values of `arith.cmpi` predicates (MLIR's order).
pub(super) const INT_PREDICATES: [&str; 10] = ["eq", "ne", "slt", "sle", "sgt", "sge", "ult", "ule", "ugt", "uge"];
/// The enum values of `arith.cmpf` predicates.
pub(super) const FLOAT_PREDICATES: [&str; 16] = [
    "false", "oeq", "ogt", "oge", "olt", "ole", "one", "ord", "ueq", "ugt", "uge", "ult", "ule", "une", "uno", "true",
];

fn predicate(name: &str) -> Option<(CmpPred, Option<bool>)> {
    use CmpPred::*;
    Some(match name {
        "eq" | "oeq" => (Eq, None),
        "ne" | "une" => (Ne, None),
        "slt" | "olt" => (Lt, Some(false)),
        "sle" | "ole" => (Le, Some(false)),
        "sgt" | "ogt" => (Gt, Some(false)),
        "sge" | "oge" => (Ge, Some(false)),
        "ult" => (Lt, Some(true)),
        "ule" => (Le, Some(true)),
        "ugt" => (Gt, Some(true)),
        "uge" => (Ge, Some(true)),
        _ => return None,
    })
}

/// The scalar type an `arith.constant`'s value is printed for.
fn const_scalar(ty: Option<&TypeAst>) -> ScalarType {
    ty.and_then(|t| t.elem.elem().scalar()).unwrap_or(ScalarType::I32)
}

/// The value of a float printed as its bits (`0x7F800000 : f32`).
fn float_from_bits(bits: u64, s: ScalarType, pos: Pos) -> Result<f64, ParseError> {
    let narrow = |max: u64| {
        if bits > max {
            Err(ParseError::new(
                pos,
                format!("0x{bits:X} has too many bits for {}", s.name()),
            ))
        } else {
            Ok(bits)
        }
    };
    Ok(match s {
        ScalarType::F32 => f64::from(f32::from_bits(narrow(u64::from(u32::MAX))? as u32)),
        ScalarType::F16 => {
            let h = narrow(u64::from(u16::MAX))? as u16;
            let sign = u32::from(h & 0x8000) << 16;
            if (h >> 10) & 0x1f == 0x1f && h & 0x3ff != 0 {
                // A NaN: keep its sign and payload.
                f64::from(f32::from_bits(sign | 0x7f80_0000 | (u32::from(h & 0x3ff) << 13)))
            } else {
                f64::from(crate::fold_util::f16_bits_to_f32(h))
            }
        }
        ScalarType::BF16 => f64::from(crate::fold_util::bf16_bits_to_f32(narrow(u64::from(u16::MAX))? as u16)),
        _ => f64::from_bits(bits),
    })
}

fn constant(val: &AttrVal, pos: Pos, result: Option<&TypeAst>) -> Result<ConstValue, ParseError> {
    let printed = |ty: &Option<TypeAst>| -> Result<(), ParseError> {
        let want = const_scalar(result).signless();
        match ty {
            Some(t) if t.text() == want => Ok(()),
            _ => Err(ParseError::new(
                pos,
                format!("the value must be typed `{want}`, its result's type"),
            )),
        }
    };
    match val {
        AttrVal::Bool(b) => Ok(ConstValue::Int(i64::from(*b))),
        AttrVal::Int(v, ty) => {
            printed(ty)?;
            Ok(ConstValue::Int(*v))
        }
        AttrVal::Float(text, ty) => {
            printed(ty)?;
            let x: f64 = text
                .parse()
                .map_err(|_| ParseError::new(pos, format!("bad float literal {text}")))?;
            Ok(ConstValue::Float(x))
        }
        AttrVal::Hex(digits, ty) => {
            printed(ty)?;
            let bits = u64::from_str_radix(digits, 16)
                .map_err(|_| ParseError::new(pos, format!("0x{digits} has more than 64 bits")))?;
            Ok(ConstValue::Float(float_from_bits(bits, const_scalar(result), pos)?))
        }
        _ => Err(ParseError::new(
            pos,
            "a constant's value is `true`, `false` or a number with its type",
        )),
    }
}

/// The operation `op` names, and what it says of signedness.
pub(super) fn decode(op: &OpAst) -> Result<(OpKind, Vec<Fact>), ParseError> {
    let a = Attrs { op };
    let name = op.name.as_str();
    let mut facts = Vec::new();
    let no_attrs = || a.allow(&[]);
    let kind = match name {
        "arith.constant" => {
            a.allow(&["value"])?;
            let (val, pos) = a.required("value")?;
            OpKind::Constant(constant(val, pos, op.out_types.first())?)
        }
        "tk.program_id" | "tk.num_programs" => {
            a.allow(&["axis"])?;
            let axis = a.int("axis", "i32", 0, i64::from(u8::MAX))? as u8;
            facts.push(Fact::Result(0, false));
            if name == "tk.program_id" {
                OpKind::ProgramId(axis)
            } else {
                OpKind::NumPrograms(axis)
            }
        }
        "tk.make_range" => {
            a.allow(&["start", "end"])?;
            let (lo, hi) = (i64::from(i32::MIN), i64::from(i32::MAX));
            facts.push(Fact::Result(0, false));
            OpKind::MakeRange {
                start: a.int("start", "i32", lo, hi)? as i32,
                end: a.int("end", "i32", lo, hi)? as i32,
            }
        }
        "tk.splat" | "tk.broadcast" | "tk.reshape" | "tk.not" | "tk.bitcast" | "arith.select" | "math.fma"
        | "tk.addptr" | "tk.atomic_cas" | "tk.dot" | "tk.convert_layout" | "scf.for" | "scf.if" | "scf.while"
        | "scf.yield" | "scf.condition" | "tk.return" | "arith.negf" | "tk.negi" | "math.absf" | "math.absi" => {
            no_attrs()?;
            match name {
                "tk.splat" => OpKind::Splat,
                "tk.broadcast" => OpKind::Broadcast,
                "tk.reshape" => OpKind::Reshape,
                "tk.not" => OpKind::Not,
                "tk.bitcast" => OpKind::Bitcast,
                "arith.select" => OpKind::Select,
                "math.fma" => OpKind::Fma,
                "tk.addptr" => OpKind::AddPtr,
                "tk.atomic_cas" => OpKind::AtomicCas,
                "tk.dot" => OpKind::Dot,
                "tk.convert_layout" => OpKind::ConvertLayout,
                "scf.for" => OpKind::For,
                "scf.if" => OpKind::If,
                "scf.while" => OpKind::While,
                "scf.yield" => OpKind::Yield,
                "scf.condition" => OpKind::Condition,
                "tk.return" => OpKind::Return,
                "math.absf" | "math.absi" => OpKind::Math(MathFn::Abs),
                _ => OpKind::Neg,
            }
        }
        "tk.trans" => {
            a.allow(&["order"])?;
            match a.required("order")? {
                (AttrVal::Dense(v), p) => OpKind::Permute(
                    v.iter()
                        .map(|x| u32::try_from(*x).ok())
                        .collect::<Option<Vec<u32>>>()
                        .ok_or_else(|| ParseError::new(p, "`order` entries must be dimensions"))?,
                ),
                (_, p) => return Err(ParseError::new(p, "`order` must be `array<i32: ...>`")),
            }
        }
        "tk.reduce" | "tk.argreduce" | "tk.scan" => {
            a.allow(&["axis", "kind"])?;
            let axis = a.axis()?;
            let (k, p) = a.string("kind")?;
            let bad = || ParseError::new(p, format!("`{name}` has no kind \"{k}\""));
            match name {
                "tk.reduce" => OpKind::Reduce {
                    kind: match k {
                        "sum" => ReduceKind::Sum,
                        "max" => ReduceKind::Max,
                        "min" => ReduceKind::Min,
                        "xor_sum" => ReduceKind::Xor,
                        _ => return Err(bad()),
                    },
                    axis,
                },
                "tk.argreduce" => {
                    facts.push(Fact::Result(0, false));
                    OpKind::ArgReduce {
                        max: match k {
                            "argmax" => true,
                            "argmin" => false,
                            _ => return Err(bad()),
                        },
                        axis,
                    }
                }
                _ => OpKind::Scan {
                    kind: match k {
                        "cumsum" => ScanKind::Sum,
                        "cumprod" => ScanKind::Prod,
                        _ => return Err(bad()),
                    },
                    axis,
                },
            }
        }
        "arith.cmpi" | "arith.cmpf" => {
            a.allow(&["predicate"])?;
            let float = name == "arith.cmpf";
            let table: &[&str] = if float { &FLOAT_PREDICATES } else { &INT_PREDICATES };
            let v = a.int("predicate", "i64", 0, table.len() as i64 - 1)?;
            let pred_name = table[v as usize];
            let pos = a.required("predicate")?.1;
            let (pred, unsigned) = predicate(pred_name)
                .filter(|_| !float || pred_name.starts_with('o') || pred_name == "une")
                .ok_or_else(|| ParseError::new(pos, format!("tile IR has no `{name}` predicate `{pred_name}`")))?;
            if let (Some(u), false) = (unsigned, float) {
                facts.push(Fact::Operand(0, u));
            }
            OpKind::Cmp(pred)
        }
        "tk.cast" => {
            a.allow(&["from", "to"])?;
            let scalar = |key: &str| -> Result<ScalarType, ParseError> {
                let (s, p) = a.string(key)?;
                ScalarType::from_name(s)
                    .filter(|t| t.name() == s)
                    .ok_or_else(|| ParseError::new(p, format!("unknown scalar type \"{s}\"")))
            };
            facts.push(Fact::OperandType(0, scalar("from")?));
            facts.push(Fact::ResultType(0, scalar("to")?));
            OpKind::Cast
        }
        "tk.load" => {
            a.allow(&["mask", "other"])?;
            OpKind::Load {
                mask: a.unit("mask")?,
                other: a.unit("other")?,
            }
        }
        "tk.store" => {
            a.allow(&["mask"])?;
            OpKind::Store { mask: a.unit("mask")? }
        }
        "tk.atomic_rmw" => {
            a.allow(&["kind", "mask"])?;
            let (k, p) = a.string("kind")?;
            let op = match k {
                "add" => AtomicOp::Add,
                "max" => AtomicOp::Max,
                "min" => AtomicOp::Min,
                "xchg" => AtomicOp::Xchg,
                _ => return Err(ParseError::new(p, format!("no atomic kind \"{k}\""))),
            };
            OpKind::Atomic {
                op,
                mask: a.unit("mask")?,
            }
        }
        "tk.call" => {
            a.allow(&["callee"])?;
            match a.required("callee")? {
                (AttrVal::Symbol(s), _) => OpKind::Call(s.clone()),
                (_, p) => return Err(ParseError::new(p, "`callee` must be a symbol `@name`")),
            }
        }
        "tk.assert" => {
            a.allow(&["message"])?;
            OpKind::Assert(a.string("message")?.0.to_string())
        }
        _ => {
            if let Some((b, unsigned)) = binary(name) {
                no_attrs()?;
                if let Some(u) = unsigned {
                    facts.push(Fact::Operand(0, u));
                }
                OpKind::Binary(b)
            } else if let Some(m) = name.strip_prefix("math.").and_then(MathFn::from_name) {
                no_attrs()?;
                OpKind::Math(m)
            } else {
                return Err(ParseError::new(op.pos, format!("unknown operation \"{name}\"")));
            }
        }
    };
    Ok((kind, facts))
}
