//! Text to AST with the pest grammar in `kernel.pest`.
//!
//! Guarantees: never panics on any input; a syntax error is one
//! [`Diagnostic`] at the position where the grammar stopped, saying what was
//! expected. Nesting deeper than [`MAX_NESTING`] is rejected up front so
//! that recursion stays bounded.

use crate::{
    ast::*,
    diag::{Diagnostic, Span},
};
use pest::{
    iterators::Pair,
    pratt_parser::{Assoc, Op, PrattParser},
    Parser,
};
use std::sync::OnceLock;

#[derive(pest_derive::Parser)]
#[grammar = "kernel.pest"]
struct KernelGrammar;

/// Brackets nested deeper than this are rejected before parsing.
pub const MAX_NESTING: usize = 128;

type PResult<T> = Result<T, Diagnostic>;

/// Parses a whole `.tk` file.
pub fn parse_file(text: &str) -> PResult<File> {
    check_nesting(text)?;
    // Track literal tokens too, so that errors say "expected `,` or `)`"
    // at the furthest point reached instead of naming an outer rule.
    static DETAIL: std::sync::Once = std::sync::Once::new();
    DETAIL.call_once(|| pest::set_error_detail(true));
    let mut pairs = KernelGrammar::parse(Rule::file, text).map_err(pest_error)?;
    let file = pairs
        .next()
        .ok_or_else(|| Diagnostic::new(Span::default(), "empty parse"))?;
    let mut functions = Vec::new();
    for item in file.into_inner() {
        if item.as_rule() == Rule::item {
            functions.push(function(item)?);
        }
    }
    Ok(File { functions })
}

fn check_nesting(text: &str) -> PResult<()> {
    let mut depth = 0usize;
    for (i, c) in text.char_indices() {
        match c {
            '(' | '[' | '{' => {
                depth += 1;
                if depth > MAX_NESTING {
                    return Err(Diagnostic::new(
                        Span::new(i, i + 1),
                        format!("nesting deeper than {MAX_NESTING} levels"),
                    ));
                }
            }
            ')' | ']' | '}' => depth = depth.saturating_sub(1),
            _ => {}
        }
    }
    Ok(())
}

fn pest_error(e: pest::error::Error<Rule>) -> Diagnostic {
    let (start, end) = match e.location {
        pest::error::InputLocation::Pos(p) => (p, p + 1),
        pest::error::InputLocation::Span((s, e)) => (s, e),
    };
    if let Some(attempts) = e.parse_attempts() {
        if attempts.max_position >= start {
            let mut tokens: Vec<String> = attempts
                .expected_tokens()
                .iter()
                .map(|t| t.to_string())
                .filter(|t| !t.trim().is_empty() && !t.starts_with("//") && !t.starts_with("/*") && t.len() < 12)
                .map(|t| format!("`{t}`"))
                .collect();
            tokens.sort();
            tokens.dedup();
            // "expected `;`, or an operator" reads better than twenty operators.
            const OPS: [&str; 20] = [
                "`!=`", "`%`", "`&&`", "`&`", "`*`", "`+`", "`-`", "`.`", "`/`", "`<<`", "`<=`", "`<`", "`==`", "`>=`",
                "`>>`", "`>`", "`^`", "`|`", "`||`", "`..`",
            ];
            let others: Vec<String> = tokens.iter().filter(|t| !OPS.contains(&t.as_str())).cloned().collect();
            if !others.is_empty() && others.len() < tokens.len() {
                tokens = others;
                tokens.push("or an operator".into());
            }
            if !tokens.is_empty() {
                let p = attempts.max_position;
                return Diagnostic::new(
                    Span::new(p, p + 1),
                    format!("syntax error: expected {}", tokens.join(", ")),
                );
            }
        }
    }
    let message = match &e.variant {
        pest::error::ErrorVariant::ParsingError { positives, .. } => {
            let mut names: Vec<&str> = positives.iter().filter_map(rule_name).collect();
            names.sort_unstable();
            names.dedup();
            if names.is_empty() {
                "syntax error".to_string()
            } else {
                format!("syntax error: expected {}", names.join(", "))
            }
        }
        pest::error::ErrorVariant::CustomError { message } => message.clone(),
    };
    Diagnostic::new(Span::new(start, end), message)
}

fn rule_name(r: &Rule) -> Option<&'static str> {
    Some(match r {
        Rule::EOI => "end of file",
        Rule::item => "`fn` item",
        Rule::ident => "identifier",
        Rule::expr | Rule::postfix_expr => "expression",
        Rule::block => "`{`",
        Rule::type_expr | Rule::ptr_type => "type",
        Rule::int_lit => "integer",
        Rule::assign_op => "`=`",
        Rule::let_stmt
        | Rule::assign_stmt
        | Rule::for_stmt
        | Rule::while_stmt
        | Rule::return_stmt
        | Rule::expr_stmt
        | Rule::empty_stmt => "statement",
        Rule::or_op
        | Rule::and_op
        | Rule::eq
        | Rule::ne
        | Rule::le
        | Rule::ge
        | Rule::shl
        | Rule::shr
        | Rule::lt
        | Rule::gt
        | Rule::bit_or
        | Rule::bit_xor
        | Rule::bit_and
        | Rule::add
        | Rule::sub
        | Rule::mul
        | Rule::div
        | Rule::rem => "operator",
        Rule::method_call => "`.method(..)`",
        Rule::attr => "attribute",
        Rule::generics => "`<`",
        Rule::param => "parameter",
        Rule::ret_type => "`->`",
        _ => return None,
    })
}

fn span_of(p: &Pair<Rule>) -> Span {
    let s = p.as_span();
    Span::new(s.start(), s.end())
}

fn ident(p: Pair<Rule>) -> Ident {
    Ident {
        name: p.as_str().to_string(),
        span: span_of(&p),
    }
}

fn unexpected(p: &Pair<Rule>) -> Diagnostic {
    Diagnostic::new(span_of(p), format!("unexpected {:?}", p.as_rule()))
}

fn int_value(p: &Pair<Rule>) -> PResult<u64> {
    let text: String = p.as_str().chars().filter(|c| *c != '_').collect();
    let parsed = match text.strip_prefix("0x") {
        Some(hex) => u64::from_str_radix(hex, 16),
        None => text.parse::<u64>(),
    };
    parsed.map_err(|_| Diagnostic::new(span_of(p), "integer literal out of range for 64 bits"))
}

fn function(p: Pair<Rule>) -> PResult<Function> {
    let span = span_of(&p);
    let mut attrs = Vec::new();
    let mut name = None;
    let mut const_params = Vec::new();
    let mut params = Vec::new();
    let mut ret = None;
    let mut body = None;
    for part in p.into_inner() {
        match part.as_rule() {
            Rule::attr => attrs.push(attribute(part)?),
            Rule::ident => name = Some(ident(part)),
            Rule::generics => {
                for cp in part.into_inner() {
                    let mut it = cp.into_inner();
                    let (Some(n), Some(t)) = (it.next(), it.next()) else {
                        continue;
                    };
                    const_params.push(ConstParam {
                        name: ident(n),
                        ty: ident(t),
                    });
                }
            }
            Rule::param => {
                let mut it = part.into_inner();
                let (Some(n), Some(t)) = (it.next(), it.next()) else {
                    continue;
                };
                params.push(Param {
                    name: ident(n),
                    ty: type_expr(t),
                });
            }
            Rule::ret_type => {
                if let Some(t) = part.into_inner().next() {
                    ret = Some(type_expr(t));
                }
            }
            Rule::block => body = Some(block(part)?),
            _ => return Err(unexpected(&part)),
        }
    }
    let (Some(name), Some(body)) = (name, body) else {
        return Err(Diagnostic::new(span, "malformed function"));
    };
    let is_kernel = attrs.iter().any(|a| a.name.name == "kernel");
    Ok(Function {
        name,
        is_kernel,
        attrs,
        const_params,
        params,
        ret,
        body,
        span,
    })
}

fn attribute(p: Pair<Rule>) -> PResult<Attr> {
    let span = span_of(&p);
    let mut it = p.into_inner();
    let name = it
        .next()
        .map(ident)
        .ok_or_else(|| Diagnostic::new(span, "malformed attribute"))?;
    let mut args = Vec::new();
    for arg in it {
        let mut kv = arg.into_inner();
        let (Some(k), Some(v)) = (kv.next(), kv.next()) else {
            continue;
        };
        let value = int_value(&v)?;
        let value = i64::try_from(value).map_err(|_| Diagnostic::new(span_of(&v), "attribute value out of range"))?;
        args.push((ident(k), value));
    }
    Ok(Attr { name, args, span })
}

fn type_expr(p: Pair<Rule>) -> TypeExpr {
    let span = span_of(&p);
    match p.into_inner().next() {
        Some(inner) if inner.as_rule() == Rule::ptr_type => {
            let elem = inner.into_inner().next().map(ident).unwrap_or(Ident {
                name: String::new(),
                span,
            });
            TypeExpr::Ptr(elem, span)
        }
        Some(inner) => TypeExpr::Scalar(ident(inner)),
        None => TypeExpr::Scalar(Ident {
            name: String::new(),
            span,
        }),
    }
}

fn block(p: Pair<Rule>) -> PResult<Block> {
    let span = span_of(&p);
    let mut stmts = Vec::new();
    let mut tail = None;
    let parts: Vec<Pair<Rule>> = p.into_inner().collect();
    let last = parts.len().saturating_sub(1);
    for (i, part) in parts.into_iter().enumerate() {
        match part.as_rule() {
            Rule::empty_stmt => {}
            Rule::expr_stmt => {
                let stmt_span = span_of(&part);
                let mut inner = part.into_inner();
                let e = expr(
                    inner
                        .next()
                        .ok_or_else(|| Diagnostic::new(stmt_span, "malformed statement"))?,
                )?;
                let has_semi = inner.next().is_some();
                if !has_semi && i == last {
                    // The block's value (an `if` there too, as in Rust).
                    tail = Some(Box::new(e));
                } else if has_semi || matches!(e.kind, ExprKind::If { .. }) {
                    stmts.push(Stmt {
                        kind: StmtKind::Expr(e),
                        span: stmt_span,
                    });
                } else {
                    let end = Span::new(e.span.end as usize, e.span.end as usize);
                    return Err(Diagnostic::new(
                        end,
                        "syntax error: expected `;` or an operator after this expression",
                    ));
                }
            }
            _ => stmts.push(stmt(part)?),
        }
    }
    Ok(Block { stmts, tail, span })
}

fn stmt(p: Pair<Rule>) -> PResult<Stmt> {
    let span = span_of(&p);
    let rule = p.as_rule();
    let mut it = p.into_inner();
    let missing = || Diagnostic::new(span, "malformed statement");
    let kind = match rule {
        Rule::let_stmt => {
            let mut mutable = false;
            let mut name = None;
            let mut ty = None;
            let mut value = None;
            for part in it {
                match part.as_rule() {
                    Rule::mut_kw => mutable = true,
                    Rule::ident => name = Some(ident(part)),
                    Rule::type_expr => ty = Some(type_expr(part)),
                    Rule::expr => value = Some(expr(part)?),
                    _ => return Err(unexpected(&part)),
                }
            }
            StmtKind::Let {
                name: name.ok_or_else(missing)?,
                mutable,
                ty,
                value: value.ok_or_else(missing)?,
            }
        }
        Rule::assign_stmt => {
            let target = ident(it.next().ok_or_else(missing)?);
            let op_pair = it.next().ok_or_else(missing)?;
            let op = match op_pair.as_str() {
                "=" => None,
                "+=" => Some(BinOp::Add),
                "-=" => Some(BinOp::Sub),
                "*=" => Some(BinOp::Mul),
                "/=" => Some(BinOp::Div),
                "%=" => Some(BinOp::Rem),
                "&=" => Some(BinOp::BitAnd),
                "|=" => Some(BinOp::BitOr),
                "^=" => Some(BinOp::BitXor),
                "<<=" => Some(BinOp::Shl),
                ">>=" => Some(BinOp::Shr),
                _ => return Err(unexpected(&op_pair)),
            };
            let value = expr(it.next().ok_or_else(missing)?)?;
            StmtKind::Assign { target, op, value }
        }
        Rule::for_stmt => {
            let var = ident(it.next().ok_or_else(missing)?);
            let mut r = it.next().ok_or_else(missing)?.into_inner();
            let a = expr(r.next().ok_or_else(missing)?)?;
            let iter = match (r.next(), r.next()) {
                (Some(_dots), Some(b)) => ForIter::Range(a, expr(b)?),
                _ => ForIter::Expr(a),
            };
            let body = block(it.next().ok_or_else(missing)?)?;
            StmtKind::For { var, iter, body }
        }
        Rule::while_stmt => {
            let cond = expr(it.next().ok_or_else(missing)?)?;
            let body = block(it.next().ok_or_else(missing)?)?;
            StmtKind::While { cond, body }
        }
        Rule::return_stmt => StmtKind::Return(it.next().map(expr).transpose()?),

        _ => return Err(Diagnostic::new(span, "unexpected statement")),
    };
    Ok(Stmt { kind, span })
}

fn pratt() -> &'static PrattParser<Rule> {
    static PRATT: OnceLock<PrattParser<Rule>> = OnceLock::new();
    PRATT.get_or_init(|| {
        PrattParser::new()
            .op(Op::infix(Rule::or_op, Assoc::Left))
            .op(Op::infix(Rule::and_op, Assoc::Left))
            .op(Op::infix(Rule::eq, Assoc::Left)
                | Op::infix(Rule::ne, Assoc::Left)
                | Op::infix(Rule::lt, Assoc::Left)
                | Op::infix(Rule::le, Assoc::Left)
                | Op::infix(Rule::gt, Assoc::Left)
                | Op::infix(Rule::ge, Assoc::Left))
            .op(Op::infix(Rule::bit_or, Assoc::Left))
            .op(Op::infix(Rule::bit_xor, Assoc::Left))
            .op(Op::infix(Rule::bit_and, Assoc::Left))
            .op(Op::infix(Rule::shl, Assoc::Left) | Op::infix(Rule::shr, Assoc::Left))
            .op(Op::infix(Rule::add, Assoc::Left) | Op::infix(Rule::sub, Assoc::Left))
            .op(Op::infix(Rule::mul, Assoc::Left)
                | Op::infix(Rule::div, Assoc::Left)
                | Op::infix(Rule::rem, Assoc::Left))
            .op(Op::prefix(Rule::neg) | Op::prefix(Rule::not))
    })
}

fn binop(rule: Rule) -> Option<BinOp> {
    Some(match rule {
        Rule::or_op => BinOp::Or,
        Rule::and_op => BinOp::And,
        Rule::eq => BinOp::Eq,
        Rule::ne => BinOp::Ne,
        Rule::lt => BinOp::Lt,
        Rule::le => BinOp::Le,
        Rule::gt => BinOp::Gt,
        Rule::ge => BinOp::Ge,
        Rule::bit_or => BinOp::BitOr,
        Rule::bit_xor => BinOp::BitXor,
        Rule::bit_and => BinOp::BitAnd,
        Rule::shl => BinOp::Shl,
        Rule::shr => BinOp::Shr,
        Rule::add => BinOp::Add,
        Rule::sub => BinOp::Sub,
        Rule::mul => BinOp::Mul,
        Rule::div => BinOp::Div,
        Rule::rem => BinOp::Rem,
        _ => return None,
    })
}

fn expr(p: Pair<Rule>) -> PResult<Expr> {
    pratt()
        .map_primary(postfix_expr)
        .map_prefix(|op, rhs| {
            let rhs = rhs?;
            let un = if op.as_rule() == Rule::neg {
                UnOp::Neg
            } else {
                UnOp::Not
            };
            Ok(Expr {
                span: span_of(&op).to(rhs.span),
                kind: ExprKind::Unary(un, Box::new(rhs)),
            })
        })
        .map_infix(|lhs, op, rhs| {
            let (lhs, rhs) = (lhs?, rhs?);
            let bin = binop(op.as_rule()).ok_or_else(|| unexpected(&op))?;
            Ok(Expr {
                span: lhs.span.to(rhs.span),
                kind: ExprKind::Binary(bin, Box::new(lhs), Box::new(rhs)),
            })
        })
        .parse(p.into_inner())
}

fn postfix_expr(p: Pair<Rule>) -> PResult<Expr> {
    let mut it = p.into_inner();
    let first = it
        .next()
        .ok_or_else(|| Diagnostic::new(Span::default(), "empty expression"))?;
    let mut e = primary(first)?;
    for m in it {
        let span = span_of(&m);
        let mut parts = m.into_inner();
        let method = parts
            .next()
            .map(ident)
            .ok_or_else(|| Diagnostic::new(span, "malformed method call"))?;
        let args = parts.map(expr).collect::<PResult<Vec<_>>>()?;
        e = Expr {
            span: e.span.to(span),
            kind: ExprKind::Method {
                receiver: Box::new(e),
                method,
                args,
            },
        };
    }
    Ok(e)
}

fn primary(p: Pair<Rule>) -> PResult<Expr> {
    let span = span_of(&p);
    let kind = match p.as_rule() {
        Rule::int_lit => ExprKind::Int(int_value(&p)?),
        Rule::float_lit => {
            let text: String = p.as_str().chars().filter(|c| *c != '_').collect();
            let v = text
                .parse::<f64>()
                .map_err(|_| Diagnostic::new(span, "malformed float literal"))?;
            ExprKind::Float(v)
        }
        Rule::bool_lit => ExprKind::Bool(p.as_str() == "true"),
        Rule::str_lit => {
            let raw = p.as_str();
            let inner = raw.get(1..raw.len().saturating_sub(1)).unwrap_or("");
            ExprKind::Str(unescape(inner))
        }
        Rule::paren => {
            let inner = p
                .into_inner()
                .next()
                .ok_or_else(|| Diagnostic::new(span, "empty parentheses"))?;
            let mut e = expr(inner)?;
            e.span = span;
            return Ok(e);
        }
        Rule::array => ExprKind::Array(p.into_inner().map(expr).collect::<PResult<_>>()?),
        Rule::call => {
            let mut it = p.into_inner();
            let func = it
                .next()
                .map(ident)
                .ok_or_else(|| Diagnostic::new(span, "malformed call"))?;
            let args = it.map(expr).collect::<PResult<_>>()?;
            ExprKind::Call { func, args }
        }
        Rule::path => {
            let mut it = p.into_inner();
            match (it.next(), it.next()) {
                (Some(a), Some(b)) => ExprKind::Path(ident(a), ident(b)),
                _ => return Err(Diagnostic::new(span, "malformed path")),
            }
        }
        Rule::name => ExprKind::Name(p.as_str().to_string()),
        Rule::if_expr => return if_expr(p),
        _ => return Err(unexpected(&p)),
    };
    Ok(Expr { kind, span })
}

fn if_expr(p: Pair<Rule>) -> PResult<Expr> {
    let span = span_of(&p);
    let mut it = p.into_inner();
    let missing = || Diagnostic::new(span, "malformed `if`");
    let cond = expr(it.next().ok_or_else(missing)?)?;
    let then = block(it.next().ok_or_else(missing)?)?;
    let els = match it.next() {
        None => None,
        Some(e) if e.as_rule() == Rule::if_expr => Some(Box::new(if_expr(e)?)),
        Some(b) => {
            let b = block(b)?;
            Some(Box::new(Expr {
                span: b.span,
                kind: ExprKind::Block(b),
            }))
        }
    };
    Ok(Expr {
        kind: ExprKind::If {
            cond: Box::new(cond),
            then,
            els,
        },
        span,
    })
}

fn unescape(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    let mut chars = s.chars();
    while let Some(c) = chars.next() {
        if c == '\\' {
            match chars.next() {
                Some('n') => out.push('\n'),
                Some('t') => out.push('\t'),
                Some(other) => out.push(other),
                None => {}
            }
        } else {
            out.push(c);
        }
    }
    out
}
