//! The recursive-descent parser: text to a syntax tree that keeps every
//! name and position (what the operations mean is decided in `build.rs`).
//!
//! Nesting (regions in regions, layouts in layouts) deeper than
//! [`MAX_DEPTH`] is an error, so recursion is bounded whatever the input.

use super::{
    lexer::{Lexer, Tok},
    ParseError, Pos,
};
use crate::types::{Elem, ScalarType};

/// How deeply regions and layouts may nest.
pub(super) const MAX_DEPTH: u32 = 64;

/// A value's element type as written: signless integers (`i32`) leave
/// the signedness to the operations that use them.
#[derive(Debug, Clone, Copy, PartialEq)]
pub(super) enum ElemAst {
    /// `i8`..`i64`: the signed type of that width until the operations
    /// say otherwise.
    Signless(ScalarType),
    /// `i1`, floats, pointers (which keep `ui32`), and `ui8`..`ui64`.
    Exact(Elem),
}

impl ElemAst {
    /// The provisional element.
    pub(super) fn elem(self) -> Elem {
        match self {
            ElemAst::Signless(s) => Elem::Scalar(s),
            ElemAst::Exact(e) => e,
        }
    }

    /// The element as printed (signless).
    fn printed(self) -> String {
        crate::types::Type::scalar(ScalarType::I1).with_elem(self.elem()).mlir()
    }
}

/// A layout as written, before it is given a meaning: `#tk.NAME` with
/// optional `<{key = value, ...}>` parameters.
#[derive(Debug, Clone, PartialEq)]
pub(super) struct LayoutSyntax {
    pub name: String,
    pub params: Vec<(String, LayoutVal, Pos)>,
    pub pos: Pos,
}

#[derive(Debug, Clone, PartialEq)]
pub(super) enum LayoutVal {
    Unit,
    Bool(bool),
    Int(i64),
    List(Vec<i64>),
    Layout(Box<LayoutSyntax>),
}

/// A tensor's encoding: an alias (`#blocked0`) or a layout written out.
#[derive(Debug, Clone, PartialEq)]
pub(super) enum LayoutRef {
    Alias(String),
    Inline(LayoutSyntax),
}

#[derive(Debug, Clone)]
pub(super) struct TypeAst {
    pub elem: ElemAst,
    pub shape: Vec<u32>,
    pub layout: Option<LayoutRef>,
    pub pos: Pos,
}

impl TypeAst {
    /// Whether two types print the same (signless).
    pub(super) fn same_text(&self, other: &TypeAst) -> bool {
        self.elem.printed() == other.elem.printed() && self.shape == other.shape && self.layout == other.layout
    }

    pub(super) fn text(&self) -> String {
        let plain = crate::types::Type::block(self.elem.elem(), self.shape.clone()).mlir();
        match &self.layout {
            Some(LayoutRef::Alias(a)) if plain.ends_with('>') => {
                format!("{}, #{a}>", &plain[..plain.len() - 1])
            }
            Some(_) if plain.ends_with('>') => format!("{}, #tk..>", &plain[..plain.len() - 1]),
            _ => plain,
        }
    }
}

#[derive(Debug, Clone)]
pub(super) enum AttrVal {
    Unit,
    Bool(bool),
    Int(i64, Option<TypeAst>),
    Float(String, Option<TypeAst>),
    Hex(String, Option<TypeAst>),
    Str(String),
    Symbol(String),
    Array(Vec<AttrVal>),
    /// `array<i32: 1, 0>`.
    Dense(Vec<i64>),
    FnType(Vec<TypeAst>, Vec<TypeAst>),
}

#[derive(Debug, Clone)]
pub(super) struct Attr {
    pub name: String,
    pub val: AttrVal,
    pub pos: Pos,
}

#[derive(Debug, Clone)]
pub(super) struct OpAst {
    pub pos: Pos,
    /// `%name` (one result) or `%name:count`.
    pub results: Option<(String, u32)>,
    pub name: String,
    pub operands: Vec<(String, Pos)>,
    pub regions: Vec<BlockAst>,
    pub attrs: Vec<Attr>,
    pub in_types: Vec<TypeAst>,
    pub out_types: Vec<TypeAst>,
}

#[derive(Debug, Clone)]
pub(super) struct BlockAst {
    pub pos: Pos,
    pub args: Vec<(String, TypeAst, Pos)>,
    pub ops: Vec<OpAst>,
}

#[derive(Debug, Clone)]
pub(super) struct AliasAst {
    pub name: String,
    pub layout: LayoutSyntax,
    pub pos: Pos,
}

#[derive(Debug, Clone)]
pub(super) struct FuncAst {
    pub pos: Pos,
    pub aliases: Vec<AliasAst>,
    pub entry: BlockAst,
    pub attrs: Vec<Attr>,
}

pub(super) struct Parser<'a> {
    lex: Lexer<'a>,
    peeked: Option<(Tok, Pos)>,
    depth: u32,
}

impl<'a> Parser<'a> {
    pub(super) fn new(text: &'a str) -> Parser<'a> {
        Parser {
            lex: Lexer::new(text),
            peeked: None,
            depth: 0,
        }
    }

    fn peek(&mut self) -> Result<&Tok, ParseError> {
        if self.peeked.is_none() {
            self.peeked = Some(self.lex.next_token()?);
        }
        Ok(self.peeked.as_ref().map_or(&Tok::Eof, |(t, _)| t))
    }

    fn peek_pos(&mut self) -> Result<Pos, ParseError> {
        self.peek()?;
        Ok(self.peeked.as_ref().map_or_else(|| self.lex.pos(), |(_, p)| *p))
    }

    fn next(&mut self) -> Result<(Tok, Pos), ParseError> {
        match self.peeked.take() {
            Some(t) => Ok(t),
            None => self.lex.next_token(),
        }
    }

    fn unexpected<T>(&mut self, wanted: &str) -> Result<T, ParseError> {
        let (tok, pos) = self.next()?;
        Err(ParseError::new(
            pos,
            format!("expected {wanted}, found {}", tok.describe()),
        ))
    }

    fn punct(&mut self, c: char) -> Result<Pos, ParseError> {
        if *self.peek()? == Tok::Punct(c) {
            return Ok(self.next()?.1);
        }
        self.unexpected(&format!("`{c}`"))
    }

    fn eat_punct(&mut self, c: char) -> Result<bool, ParseError> {
        if *self.peek()? == Tok::Punct(c) {
            self.next()?;
            return Ok(true);
        }
        Ok(false)
    }

    fn arrow(&mut self) -> Result<(), ParseError> {
        if *self.peek()? == Tok::Arrow {
            self.next()?;
            return Ok(());
        }
        self.unexpected("`->`")
    }

    fn string(&mut self, want: &str) -> Result<Pos, ParseError> {
        if matches!(self.peek()?, Tok::Str(s) if s == want) {
            return Ok(self.next()?.1);
        }
        self.unexpected(&format!("\"{want}\""))
    }

    fn int(&mut self) -> Result<(i64, Pos), ParseError> {
        match self.next()? {
            (Tok::Int(t), pos) => t
                .parse::<i64>()
                .map(|v| (v, pos))
                .map_err(|_| ParseError::new(pos, format!("integer {t} is out of range"))),
            (tok, pos) => Err(ParseError::new(
                pos,
                format!("expected an integer, found {}", tok.describe()),
            )),
        }
    }

    fn enter(&mut self, pos: Pos) -> Result<(), ParseError> {
        self.depth += 1;
        if self.depth > MAX_DEPTH {
            return Err(ParseError::new(pos, format!("nesting deeper than {MAX_DEPTH}")));
        }
        Ok(())
    }

    /// `() -> ()` with nothing in either list.
    fn empty_signature(&mut self) -> Result<(), ParseError> {
        self.punct(':')?;
        self.punct('(')?;
        self.punct(')')?;
        self.arrow()?;
        self.punct('(')?;
        self.punct(')')?;
        Ok(())
    }

    pub(super) fn end(&mut self) -> Result<(), ParseError> {
        if *self.peek()? == Tok::Eof {
            return Ok(());
        }
        self.unexpected("the end of the input")
    }

    /// `"builtin.module"() ({ functions }) : () -> ()`, each function
    /// preceded by its layout aliases.
    pub(super) fn module(&mut self) -> Result<Vec<FuncAst>, ParseError> {
        self.string("builtin.module")?;
        self.punct('(')?;
        self.punct(')')?;
        self.punct('(')?;
        self.punct('{')?;
        let mut functions = Vec::new();
        while *self.peek()? != Tok::Punct('}') {
            functions.push(self.function()?);
        }
        self.punct('}')?;
        self.punct(')')?;
        self.empty_signature()?;
        Ok(functions)
    }

    /// Layout aliases, then `"tk.func"() ({ body }) {attributes} : () -> ()`.
    pub(super) fn function(&mut self) -> Result<FuncAst, ParseError> {
        let mut aliases = Vec::new();
        while let Tok::Hash(name) = self.peek()? {
            let name = name.clone();
            let pos = self.next()?.1;
            self.punct('=')?;
            let layout = self.layout()?;
            aliases.push(AliasAst { name, layout, pos });
        }
        let pos = self.string("tk.func")?;
        self.punct('(')?;
        self.punct(')')?;
        self.punct('(')?;
        let entry = self.region()?;
        self.punct(')')?;
        let attrs = if *self.peek()? == Tok::Punct('{') {
            self.attributes()?
        } else {
            Vec::new()
        };
        self.empty_signature()?;
        Ok(FuncAst {
            pos,
            aliases,
            entry,
            attrs,
        })
    }

    /// `{ ^bb0(%a: type, ...): ops }`.
    fn region(&mut self) -> Result<BlockAst, ParseError> {
        let pos = self.punct('{')?;
        self.enter(pos)?;
        match self.next()? {
            (Tok::Caret(_), _) => {}
            (tok, p) => {
                return Err(ParseError::new(
                    p,
                    format!("expected a block label `^bb0`, found {}", tok.describe()),
                ))
            }
        }
        let mut args = Vec::new();
        if self.eat_punct('(')? && !self.eat_punct(')')? {
            loop {
                let (name, p) = match self.next()? {
                    (Tok::Percent(n), p) => (n, p),
                    (tok, p) => {
                        return Err(ParseError::new(
                            p,
                            format!("expected a block argument, found {}", tok.describe()),
                        ))
                    }
                };
                self.punct(':')?;
                let ty = self.ty()?;
                args.push((name, ty, p));
                if !self.eat_punct(',')? {
                    self.punct(')')?;
                    break;
                }
            }
        }
        self.punct(':')?;
        let mut ops = Vec::new();
        while *self.peek()? != Tok::Punct('}') {
            ops.push(self.op()?);
        }
        self.punct('}')?;
        self.depth -= 1;
        Ok(BlockAst { pos, args, ops })
    }

    /// `%r = "name"(%a, %b) (regions) {attributes} : (types) -> (types)`.
    fn op(&mut self) -> Result<OpAst, ParseError> {
        let pos = self.peek_pos()?;
        let results = if let Tok::Percent(name) = self.peek()? {
            let name = name.clone();
            self.next()?;
            let count = if self.eat_punct(':')? {
                let (n, p) = self.int()?;
                u32::try_from(n)
                    .ok()
                    .filter(|n| *n >= 1)
                    .ok_or_else(|| ParseError::new(p, "a result count must be positive"))?
            } else {
                1
            };
            self.punct('=')?;
            Some((name, count))
        } else {
            None
        };
        let name = match self.next()? {
            (Tok::Str(s), _) => s,
            (tok, p) => {
                return Err(ParseError::new(
                    p,
                    format!("expected an operation name in quotes, found {}", tok.describe()),
                ))
            }
        };
        self.punct('(')?;
        let mut operands = Vec::new();
        if !self.eat_punct(')')? {
            loop {
                match self.next()? {
                    (Tok::Percent(n), p) => operands.push((n, p)),
                    (tok, p) => {
                        return Err(ParseError::new(
                            p,
                            format!("expected an operand, found {}", tok.describe()),
                        ))
                    }
                }
                if !self.eat_punct(',')? {
                    self.punct(')')?;
                    break;
                }
            }
        }
        let mut regions = Vec::new();
        if self.eat_punct('(')? {
            loop {
                regions.push(self.region()?);
                if !self.eat_punct(',')? {
                    self.punct(')')?;
                    break;
                }
            }
        }
        let attrs = if *self.peek()? == Tok::Punct('{') {
            self.attributes()?
        } else {
            Vec::new()
        };
        self.punct(':')?;
        let in_types = self.type_list()?;
        self.arrow()?;
        let out_types = self.type_list()?;
        Ok(OpAst {
            pos,
            results,
            name,
            operands,
            regions,
            attrs,
            in_types,
            out_types,
        })
    }

    /// `(type, ...)`.
    fn type_list(&mut self) -> Result<Vec<TypeAst>, ParseError> {
        self.punct('(')?;
        let mut out = Vec::new();
        if self.eat_punct(')')? {
            return Ok(out);
        }
        loop {
            out.push(self.ty()?);
            if !self.eat_punct(',')? {
                self.punct(')')?;
                return Ok(out);
            }
        }
    }

    /// `{name = value, unit_name, ...}`.
    fn attributes(&mut self) -> Result<Vec<Attr>, ParseError> {
        self.punct('{')?;
        let mut out = Vec::new();
        if self.eat_punct('}')? {
            return Ok(out);
        }
        loop {
            let (name, pos) = match self.next()? {
                (Tok::Ident(n) | Tok::Str(n), p) => (n, p),
                (tok, p) => {
                    return Err(ParseError::new(
                        p,
                        format!("expected an attribute name, found {}", tok.describe()),
                    ))
                }
            };
            let val = if self.eat_punct('=')? {
                self.attr_value()?
            } else {
                AttrVal::Unit
            };
            out.push(Attr { name, val, pos });
            if !self.eat_punct(',')? {
                self.punct('}')?;
                return Ok(out);
            }
        }
    }

    fn optional_type(&mut self) -> Result<Option<TypeAst>, ParseError> {
        if self.eat_punct(':')? {
            Ok(Some(self.ty()?))
        } else {
            Ok(None)
        }
    }

    fn attr_value(&mut self) -> Result<AttrVal, ParseError> {
        let pos = self.peek_pos()?;
        match self.peek()?.clone() {
            Tok::Ident(w) if w == "true" || w == "false" => {
                self.next()?;
                Ok(AttrVal::Bool(w == "true"))
            }
            Tok::Int(_) => {
                let (v, _) = self.int()?;
                Ok(AttrVal::Int(v, self.optional_type()?))
            }
            Tok::Float(t) => {
                self.next()?;
                Ok(AttrVal::Float(t, self.optional_type()?))
            }
            Tok::Hex(h) => {
                self.next()?;
                Ok(AttrVal::Hex(h, self.optional_type()?))
            }
            Tok::Str(s) => {
                self.next()?;
                Ok(AttrVal::Str(s))
            }
            Tok::At(s) => {
                self.next()?;
                Ok(AttrVal::Symbol(s))
            }
            Tok::Punct('[') => {
                self.next()?;
                self.enter(pos)?;
                let mut items = Vec::new();
                if !self.eat_punct(']')? {
                    loop {
                        items.push(self.attr_value()?);
                        if !self.eat_punct(',')? {
                            self.punct(']')?;
                            break;
                        }
                    }
                }
                self.depth -= 1;
                Ok(AttrVal::Array(items))
            }
            Tok::Ident(w) if w == "array" => {
                self.next()?;
                self.punct('<')?;
                match self.next()? {
                    (Tok::Ident(t), _) if t == "i32" => {}
                    (tok, p) => return Err(ParseError::new(p, format!("expected `i32`, found {}", tok.describe()))),
                }
                let mut items = Vec::new();
                if self.eat_punct(':')? && *self.peek()? != Tok::Punct('>') {
                    loop {
                        items.push(self.int()?.0);
                        if !self.eat_punct(',')? {
                            break;
                        }
                    }
                }
                self.punct('>')?;
                Ok(AttrVal::Dense(items))
            }
            Tok::Punct('(') => {
                let ins = self.type_list()?;
                self.arrow()?;
                let outs = self.type_list()?;
                Ok(AttrVal::FnType(ins, outs))
            }
            _ => self.unexpected("an attribute value"),
        }
    }

    /// A scalar type's name as written.
    fn scalar_name(name: &str) -> Option<ElemAst> {
        let signless = match name {
            "i8" => Some(ScalarType::I8),
            "i16" => Some(ScalarType::I16),
            "i32" => Some(ScalarType::I32),
            "i64" => Some(ScalarType::I64),
            _ => None,
        };
        if let Some(s) = signless {
            return Some(ElemAst::Signless(s));
        }
        let exact = match name {
            "i1" => ScalarType::I1,
            "ui8" => ScalarType::U8,
            "ui16" => ScalarType::U16,
            "ui32" => ScalarType::U32,
            "ui64" => ScalarType::U64,
            "f16" => ScalarType::F16,
            "bf16" => ScalarType::BF16,
            "f32" => ScalarType::F32,
            "f64" => ScalarType::F64,
            _ => return None,
        };
        Some(ElemAst::Exact(Elem::Scalar(exact)))
    }

    fn elem(&mut self) -> Result<ElemAst, ParseError> {
        match self.next()? {
            (Tok::Ident(name), pos) => {
                Self::scalar_name(&name).ok_or_else(|| ParseError::new(pos, format!("unknown type `{name}`")))
            }
            (Tok::Bang(name), _) if name == "tk.ptr" => {
                self.punct('<')?;
                let pointee = match self.next()? {
                    (Tok::Ident(n), p) => match Self::scalar_name(&n) {
                        Some(ElemAst::Signless(s) | ElemAst::Exact(Elem::Scalar(s))) => s,
                        _ => return Err(ParseError::new(p, format!("unknown pointee type `{n}`"))),
                    },
                    (tok, p) => {
                        return Err(ParseError::new(
                            p,
                            format!("expected a pointee type, found {}", tok.describe()),
                        ))
                    }
                };
                self.punct('>')?;
                Ok(ElemAst::Exact(Elem::Ptr(pointee)))
            }
            (tok, pos) => Err(ParseError::new(
                pos,
                format!("expected a type, found {}", tok.describe()),
            )),
        }
    }

    /// A scalar or pointer type, or `tensor<DIMSxELEM[, #layout]>`.
    pub(super) fn ty(&mut self) -> Result<TypeAst, ParseError> {
        let pos = self.peek_pos()?;
        if matches!(self.peek()?, Tok::Ident(t) if t == "tensor") {
            self.next()?;
            self.punct('<')?;
            // The token after `<` has not been read: the dimensions are
            // scanned raw.
            let shape = self.lex.tensor_dims()?;
            if shape.is_empty() {
                return Err(ParseError::new(pos, "a tensor needs at least one dimension"));
            }
            let elem = self.elem()?;
            let layout = if self.eat_punct(',')? {
                Some(match self.peek()?.clone() {
                    Tok::Hash(name) if !name.starts_with("tk.") => {
                        self.next()?;
                        LayoutRef::Alias(name)
                    }
                    _ => LayoutRef::Inline(self.layout()?),
                })
            } else {
                None
            };
            self.punct('>')?;
            return Ok(TypeAst {
                elem,
                shape,
                layout,
                pos,
            });
        }
        let elem = self.elem()?;
        Ok(TypeAst {
            elem,
            shape: Vec::new(),
            layout: None,
            pos,
        })
    }

    /// `#tk.NAME` or `#tk.NAME<{key = value, key, ...}>`.
    fn layout(&mut self) -> Result<LayoutSyntax, ParseError> {
        let (name, pos) = match self.next()? {
            (Tok::Hash(n), p) => match n.strip_prefix("tk.") {
                Some(n) => (n.to_string(), p),
                None => return Err(ParseError::new(p, format!("expected a `#tk.` layout, found `#{n}`"))),
            },
            (tok, p) => {
                return Err(ParseError::new(
                    p,
                    format!("expected a layout, found {}", tok.describe()),
                ))
            }
        };
        self.enter(pos)?;
        let mut params = Vec::new();
        if self.eat_punct('<')? {
            self.punct('{')?;
            if !self.eat_punct('}')? {
                loop {
                    let (key, kp) = match self.next()? {
                        (Tok::Ident(k), p) => (k, p),
                        (tok, p) => {
                            return Err(ParseError::new(
                                p,
                                format!("expected a layout parameter, found {}", tok.describe()),
                            ))
                        }
                    };
                    let val = if self.eat_punct('=')? {
                        self.layout_value()?
                    } else {
                        LayoutVal::Unit
                    };
                    params.push((key, val, kp));
                    if !self.eat_punct(',')? {
                        self.punct('}')?;
                        break;
                    }
                }
            }
            self.punct('>')?;
        }
        self.depth -= 1;
        Ok(LayoutSyntax { name, params, pos })
    }

    fn layout_value(&mut self) -> Result<LayoutVal, ParseError> {
        match self.peek()?.clone() {
            Tok::Ident(w) if w == "true" || w == "false" => {
                self.next()?;
                Ok(LayoutVal::Bool(w == "true"))
            }
            Tok::Int(_) => Ok(LayoutVal::Int(self.int()?.0)),
            Tok::Punct('[') => {
                self.next()?;
                let mut items = Vec::new();
                if !self.eat_punct(']')? {
                    loop {
                        items.push(self.int()?.0);
                        if !self.eat_punct(',')? {
                            self.punct(']')?;
                            break;
                        }
                    }
                }
                Ok(LayoutVal::List(items))
            }
            Tok::Hash(_) => Ok(LayoutVal::Layout(Box::new(self.layout()?))),
            _ => self.unexpected("a layout parameter's value"),
        }
    }
}
