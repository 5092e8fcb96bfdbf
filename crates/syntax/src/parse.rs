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
    let mut pairs = KernelGrammar::parse(Rule::file, text).map_err(|e| pest_error(text, e))?;
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

/// A pest error in words: `syntax error: expected an expression, found
/// `;``. The caret is on the offending token, or, when the token before it
/// ends on an earlier line, right after that token: where the missing `;`
/// or operand belongs (as rustc places "expected `;`"), not on the next
/// line's first token.
fn pest_error(text: &str, e: pest::error::Error<Rule>) -> Diagnostic {
    let start = match e.location {
        pest::error::InputLocation::Pos(p) => p,
        pest::error::InputLocation::Span((s, _)) => s,
    };
    let mut at = start;
    let mut expected = Vec::new();
    if let Some(attempts) = e.parse_attempts() {
        let p = attempts.max_position;
        if p >= start && p <= text.len() && text.is_char_boundary(p) {
            let tokens: Vec<String> = attempts.expected_tokens().iter().map(|t| t.to_string()).collect();
            // The word or number just before `p`, if `p` ends one.
            let word_start = text[..p]
                .char_indices()
                .rev()
                .find(|(_, c)| !(c.is_ascii_alphanumeric() || *c == '_'))
                .map_or(0, |(i, c)| i + c.len_utf8());
            let word = &text[word_start..p];
            // Whitespace may come at `p` when a new token starts there.
            let fresh = tokens.iter().any(|t| t.trim().is_empty());
            expected = expected_words(&tokens, word);
            if expected.is_empty() && fresh {
                // Only a name would do, right after a keyword (`const:`).
                expected = expected_words(&tokens, "");
            }
            if !expected.is_empty() {
                at = p;
            } else if KEYWORDS.contains(&word) {
                // Only letters or digits would have done, and no new token:
                // a keyword where a name belongs (`for in 0..4`), rejected
                // by `!keyword`.
                at = word_start;
                expected = vec!["an identifier".to_string()];
            }
        }
    }
    if expected.is_empty() {
        match &e.variant {
            pest::error::ErrorVariant::ParsingError { positives, .. } => {
                expected = positives.iter().filter_map(rule_name).map(String::from).collect();
                expected.sort();
                expected.dedup();
            }
            pest::error::ErrorVariant::CustomError { message } => {
                return Diagnostic::new(Span::new(start, start + 1), message.clone());
            }
        }
    }
    let found = found_token(text, at);
    if found.1 == 0 {
        if let Some(q) = unclosed_string(text) {
            return Diagnostic::new(Span::new(q, q + 1), "syntax error: unterminated string literal");
        }
    }
    let message = if expected.is_empty() {
        format!("syntax error: unexpected {}", found.0)
    } else {
        format!("syntax error: expected {}, found {}", one_of(&expected), found.0)
    };
    // Items and statements start afresh: one there is not a thing left
    // unfinished on the line before, but a wrong start.
    let continues = !expected
        .iter()
        .any(|w| matches!(w.as_str(), "a statement" | "`fn`" | "`#[..]`" | "a `fn` item"));
    Diagnostic::new(caret_span(text, at, found.1, continues), message)
}

/// Tokens that only extend a word or number just before them.
const WORD_CHARS: [&str; 8] = ["0..9", "A..Z", "a..z", "_", "e", "E", "A..F", "a..f"];
/// The first characters of identifiers.
const IDENT_START: [&str; 3] = ["A..Z", "_", "a..z"];
/// The first tokens of an expression other than identifiers.
const EXPR_START: [&str; 10] = ["!", "\"", "(", "-", "0..9", "0x", "[", "false", "if", "true"];
/// Keywords that start a statement.
const STMT_START: [&str; 4] = ["for", "let", "return", "while"];
/// Assignment operators (statements).
const ASSIGN_OPS: [&str; 11] = ["%=", "&=", "*=", "+=", "-=", "/=", "<<=", "=", ">>=", "^=", "|="];
/// Binary operators and `.` of a method call.
const OPERATORS: [&str; 19] = [
    "!=", "%", "&", "&&", "*", "+", "-", ".", "/", "<", "<<", "<=", "==", ">", ">=", ">>", "^", "|", "||",
];

/// What pest expected (its literal tokens and character ranges), in words:
/// the tokens that make up an expression, a statement, an identifier or a
/// type become those words, the binary operators "an operator".
/// `word`: the word or number the position ends, if any. Letters, digits
/// and `_` would only have extended it (`B` of `<const B>`, `2` of
/// `(1 + 2;`), so they are not what is missing, except for the digits of
/// `0x` and of an exponent (`1e`). Empty when only such characters were
/// expected after a word.
fn expected_words(tokens: &[String], word: &str) -> Vec<String> {
    use std::collections::BTreeSet;
    let mut set: BTreeSet<&str> = tokens
        .iter()
        .map(|t| t.as_str())
        .filter(|t| !t.trim().is_empty() && !t.starts_with("//") && !t.starts_with("/*"))
        .collect();
    if !word.is_empty() {
        let number = word.starts_with(|c: char| c.is_ascii_digit());
        let open_number = number && (word.ends_with(['e', 'E']) || word == "0x");
        set.retain(|t| !WORD_CHARS.contains(t) || (open_number && number_chars(t)));
        if set.is_empty() {
            return Vec::new();
        }
    }
    let has = |set: &BTreeSet<&str>, ts: &[&str]| ts.iter().any(|t| set.contains(t));
    let mut words = Vec::new();
    let mut absorb = |set: &mut BTreeSet<&str>, word: &str, groups: &[&[&str]]| {
        words.push(word.to_string());
        set.retain(|t| !groups.iter().any(|g| g.contains(t)));
    };
    if has(&set, &STMT_START) {
        // Where a statement may start, the expression before it may also
        // go on (`;`, an operator, `x` of `x = ..`): "a statement" says it.
        absorb(
            &mut set,
            "a statement",
            &[
                &STMT_START,
                &EXPR_START,
                &IDENT_START,
                &ASSIGN_OPS,
                &OPERATORS,
                &[";", "::"],
            ],
        );
    } else if set.contains("\"") {
        // Only an operand tries string literals: an expression may start here.
        absorb(&mut set, "an expression", &[&EXPR_START, &IDENT_START]);
    } else if set.contains("Ptr") && has(&set, &IDENT_START) {
        absorb(&mut set, "a type", &[&["Ptr"], &IDENT_START]);
    } else if has(&set, &IDENT_START) {
        // `let mut` is the only place `mut` goes; the name is what matters.
        absorb(&mut set, "an identifier", &[&IDENT_START, &["mut"]]);
    }
    if set.contains("A..F") || set.contains("a..f") {
        absorb(&mut set, "a hexadecimal digit", &[&["0..9", "A..F", "a..f", "_"]]);
    }
    if set.contains("0x") {
        absorb(&mut set, "an integer", &[&["0x", "0..9"]]);
    }
    if set.contains("0..9") {
        absorb(&mut set, "a digit", &[&["0..9"]]);
    }
    // Where an expression may go on, every binary operator is expected;
    // a few (`>` closing generics, `-` of a negative number) are named.
    if OPERATORS.iter().filter(|t| set.contains(*t)).count() >= 10 {
        absorb(&mut set, "an operator", &[&OPERATORS]);
    }
    let mut out: Vec<String> = set
        .into_iter()
        .map(|t| {
            if t == "#" {
                "`#[..]`".to_string()
            } else {
                format!("`{t}`")
            }
        })
        .collect();
    out.extend(words);
    out
}

/// The digits that may follow `0x` or an exponent's `e`.
fn number_chars(t: &str) -> bool {
    matches!(t, "0..9" | "A..F" | "a..f")
}

/// The opening quote of a string literal that the file never closes
/// (outside comments).
fn unclosed_string(text: &str) -> Option<usize> {
    let mut chars = text.char_indices().peekable();
    while let Some((i, c)) = chars.next() {
        match c {
            '"' => loop {
                match chars.next() {
                    None => return Some(i),
                    Some((_, '\\')) => {
                        chars.next();
                    }
                    Some((_, '"')) => break,
                    _ => {}
                }
            },
            '/' if chars.peek().is_some_and(|(_, c)| *c == '/') => {
                for (_, c) in chars.by_ref() {
                    if c == '\n' {
                        break;
                    }
                }
            }
            '/' if chars.peek().is_some_and(|(_, c)| *c == '*') => {
                chars.next();
                let mut star = false;
                for (_, c) in chars.by_ref() {
                    if star && c == '/' {
                        break;
                    }
                    star = c == '*';
                }
            }
            _ => {}
        }
    }
    None
}

/// `a`, `a or b`, `a, b or c`.
fn one_of(items: &[String]) -> String {
    match items {
        [] => String::new(),
        [one] => one.clone(),
        [init @ .., last] => format!("{} or {last}", init.join(", ")),
    }
}

/// Keywords, named as such when found where they do not belong.
const KEYWORDS: [&str; 15] = [
    "break", "const", "continue", "else", "false", "fn", "for", "if", "in", "let", "loop", "mut", "return", "true",
    "while",
];

/// The token at byte `at` in words (`` `store` ``, `` keyword `let` ``,
/// `end of file`), and its length in bytes.
fn found_token(text: &str, at: usize) -> (String, usize) {
    let rest = text.get(at..).unwrap_or("");
    let Some(c) = rest.chars().next() else {
        return ("end of file".into(), 0);
    };
    if c.is_ascii_alphanumeric() || c == '_' {
        let len = rest
            .find(|c: char| !(c.is_ascii_alphanumeric() || c == '_'))
            .unwrap_or(rest.len());
        let word = &rest[..len];
        if KEYWORDS.contains(&word) {
            return (format!("keyword `{word}`"), len);
        }
        let shown = if word.len() > 24 {
            format!("{}…", &word[..24])
        } else {
            word.to_string()
        };
        return (format!("`{shown}`"), len);
    }
    const PUNCT: [&str; 21] = [
        "<<=", ">>=", "::", "->", "..", "==", "!=", "<=", ">=", "&&", "||", "<<", ">>", "+=", "-=", "*=", "/=", "%=",
        "&=", "|=", "^=",
    ];
    if let Some(p) = PUNCT.iter().find(|p| rest.starts_with(**p)) {
        return (format!("`{p}`"), p.len());
    }
    match c {
        '\n' | '\r' => ("end of line".into(), c.len_utf8()),
        c if c.is_whitespace() => ("whitespace".into(), c.len_utf8()),
        '`' => ("a backtick".into(), 1),
        c => (format!("`{c}`"), c.len_utf8()),
    }
}

/// Where the caret goes for an error at `at` whose token is `len` bytes:
/// on that token, or just after the previous token when a line break lies
/// between them and what was expected would have continued that token's
/// construct (`continues`), or at the end of the file.
fn caret_span(text: &str, at: usize, len: usize, continues: bool) -> Span {
    let at = at.min(text.len());
    let before = prev_token_end(text, at);
    if (continues || at == text.len()) && text[before..at].contains('\n') {
        Span::new(before, before)
    } else {
        Span::new(at, at + len.max(1))
    }
}

/// The end of the last token before byte `at` (a char boundary), skipping
/// whitespace and comments.
fn prev_token_end(text: &str, at: usize) -> usize {
    let mut end = at;
    loop {
        let trimmed = text[..end].trim_end_matches([' ', '\t', '\r', '\n']);
        let e = trimmed.len();
        if let Some(inner) = trimmed.strip_suffix("*/") {
            if let Some(open) = inner.rfind("/*") {
                end = open;
                continue;
            }
        }
        let line_start = trimmed.rfind('\n').map_or(0, |i| i + 1);
        if let Some(c) = line_comment(&trimmed[line_start..]) {
            end = line_start + c;
            continue;
        }
        return e;
    }
}

/// Where a `//` comment starts in one line, outside string literals.
fn line_comment(line: &str) -> Option<usize> {
    let mut in_str = false;
    let mut escaped = false;
    for (i, c) in line.char_indices() {
        if in_str {
            match (escaped, c) {
                (true, _) => escaped = false,
                (false, '\\') => escaped = true,
                (false, '"') => in_str = false,
                _ => {}
            }
        } else if c == '"' {
            in_str = true;
        } else if line[i..].starts_with("//") {
            return Some(i);
        }
    }
    None
}

fn rule_name(r: &Rule) -> Option<&'static str> {
    Some(match r {
        Rule::EOI => "end of file",
        Rule::item => "a `fn` item",
        Rule::ident => "an identifier",
        Rule::expr | Rule::postfix_expr => "an expression",
        Rule::block => "`{`",
        Rule::type_expr | Rule::ptr_type => "a type",
        Rule::int_lit => "an integer",
        Rule::assign_op => "`=`",
        Rule::let_stmt
        | Rule::assign_stmt
        | Rule::for_stmt
        | Rule::while_stmt
        | Rule::return_stmt
        | Rule::expr_stmt
        | Rule::empty_stmt => "a statement",
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
        | Rule::rem => "an operator",
        Rule::method_call => "`.method(..)`",
        Rule::attr => "an attribute",
        Rule::generics => "`<`",
        Rule::param => "a parameter",
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
    let input = p.as_span().get_input();
    let mut stmts = Vec::new();
    let mut tail = None;
    let parts: Vec<Pair<Rule>> = p.into_inner().collect();
    let starts: Vec<usize> = parts.iter().map(|p| p.as_span().start()).collect();
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
                    // Another statement follows without a `;` between.
                    let next = starts.get(i + 1).copied().unwrap_or(e.span.end as usize);
                    let (found, len) = found_token(input, next);
                    return Err(Diagnostic::new(
                        caret_span(input, next, len, true),
                        format!("syntax error: expected `;` or an operator, found {found}"),
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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::diag::SourceFile;

    /// The rendered error for `text` (as `k.tk`).
    fn error(text: &str) -> String {
        let d = parse_file(text).expect_err("a syntax error");
        SourceFile::new("k.tk", text).render(d.span, &d.message)
    }

    fn kernel(body: &str) -> String {
        format!("#[kernel]\nfn k(x: Ptr<f32>) {{\n{body}\n}}\n")
    }

    #[test]
    fn a_dangling_operator_expects_an_expression() {
        assert_eq!(
            error(&kernel("    let y = x + ;")),
            "k.tk:3:17: error: syntax error: expected an expression, found `;`\n  |\n3 |     let y = x + ;\n  |                 ^"
        );
        assert_eq!(
            error(&kernel("    y += ;")),
            "k.tk:3:10: error: syntax error: expected an expression, found `;`\n  |\n3 |     y += ;\n  |          ^"
        );
    }

    /// A missing `;` at the end of a line: the caret goes where the `;`
    /// belongs, after the last token of that line (as rustc puts it), not
    /// on the first token of the next line.
    #[test]
    fn a_missing_semicolon_is_shown_after_the_previous_token() {
        let src = "fn twice(v: f32) -> f32 {\n    let a = v * 2.0\n    a\n}\n";
        assert_eq!(
            error(src),
            "k.tk:2:20: error: syntax error: expected `;` or an operator, found `a`\n  |\n2 |     let a = v * 2.0\n  |                    ^"
        );
        // Comments between are skipped; a `//` inside a string is no comment.
        let src = kernel("    let a = \"x // y\" + 1 // one\n    /* two */\n    let b = 2;");
        assert_eq!(
            error(&src),
            "k.tk:3:25: error: syntax error: expected `;` or an operator, found keyword `let`\n  |\n3 |     let a = \"x // y\" + 1 // one\n  |                         ^"
        );
        // An operand missing before the next line.
        assert_eq!(
            error(&kernel("    store(x, 1.0 +\n    // nothing\n")),
            "k.tk:3:19: error: syntax error: expected an expression, found `}`\n  |\n3 |     store(x, 1.0 +\n  |                   ^"
        );
        // Two expression statements without `;` between (found after parsing).
        assert_eq!(
            error(&kernel("    store(x, 1.0)\n    store(x, 2.0);")),
            "k.tk:3:18: error: syntax error: expected `;` or an operator, found `store`\n  |\n3 |     store(x, 1.0)\n  |                  ^"
        );
    }

    /// On one line, the caret is on the offending token, all of it.
    #[test]
    fn on_one_line_the_caret_is_on_the_offending_token() {
        assert_eq!(
            error(&kernel("    store(x, 1.0) store(x, 2.0);")),
            "k.tk:3:19: error: syntax error: expected `;` or an operator, found `store`\n  |\n3 |     store(x, 1.0) store(x, 2.0);\n  |                   ^^^^^"
        );
        assert_eq!(
            error("#[kernel]\nfn k(x: Ptr<f32> {\n}\n"),
            "k.tk:2:18: error: syntax error: expected `)` or `,`, found `{`\n  |\n2 | fn k(x: Ptr<f32> {\n  |                  ^"
        );
        // A wrong start of an item or statement is shown where it is.
        assert_eq!(
            error("#[kernel]\nfn k(x: Ptr<f32>) {\n}\njunk\n"),
            "k.tk:4:1: error: syntax error: expected `#[..]` or `fn`, found `junk`\n  |\n4 | junk\n  | ^^^^"
        );
        assert_eq!(
            error(&kernel("    store(x, 1.0);\n    )")),
            "k.tk:4:5: error: syntax error: expected `}` or a statement, found `)`\n  |\n4 |     )\n  |     ^"
        );
    }

    #[test]
    fn expected_things_are_named_in_words() {
        let first_line = |src: &str| error(src).lines().next().unwrap_or_default().to_string();
        for (body, want) in [
            (
                "    let = 3;",
                "3:9: error: syntax error: expected an identifier, found `=`",
            ),
            (
                "    let mut = 3;",
                "3:13: error: syntax error: expected an identifier, found `=`",
            ),
            (
                "    let y = x.;",
                "3:15: error: syntax error: expected an identifier, found `;`",
            ),
            (
                "    let a: = 1;",
                "3:12: error: syntax error: expected a type, found `=`",
            ),
            (
                "    for in 0..4 {}",
                "3:9: error: syntax error: expected an identifier, found keyword `in`",
            ),
            // Digits and letters right after `2` would only extend it.
            (
                "    let a = (1 + 2;",
                "3:19: error: syntax error: expected `)` or an operator, found `;`",
            ),
            (
                "    let a = [1, 2;",
                "3:18: error: syntax error: expected `,`, `]` or an operator, found `;`",
            ),
            (
                "    let a = 0xg;",
                "3:15: error: syntax error: expected a hexadecimal digit, found `g`",
            ),
            (
                "    if x { 1 } else 2;",
                "3:21: error: syntax error: expected `if` or `{`, found `2`",
            ),
            (
                "    while { }",
                "3:11: error: syntax error: expected an expression, found `{`",
            ),
            (
                "    let s = \"abc;",
                "3:13: error: syntax error: unterminated string literal",
            ),
        ] {
            assert_eq!(first_line(&kernel(body)), format!("k.tk:{want}"), "{body}");
        }
        for (src, want) in [
            (
                "fn k<const B>(x: f32) {}",
                "1:13: error: syntax error: expected `:`, found `>`",
            ),
            (
                "fn k<const:",
                "1:11: error: syntax error: expected an identifier, found `:`",
            ),
            (
                "fn k<const B: i32, c",
                "1:20: error: syntax error: expected `>` or `const`, found `c`",
            ),
            (
                "fn k() { for i in 0 }",
                "1:21: error: syntax error: expected `..`, `{` or an operator, found `}`",
            ),
            (
                "fn k(x Ptr<f32>) {}",
                "1:8: error: syntax error: expected `:`, found `Ptr`",
            ),
            ("fn k(x: ) {}", "1:9: error: syntax error: expected a type, found `)`"),
            (
                "fn (x: f32) {}",
                "1:4: error: syntax error: expected an identifier, found `(`",
            ),
            (
                "fn fn(x: f32) {}",
                "1:4: error: syntax error: expected an identifier, found keyword `fn`",
            ),
            (
                "#[kernel(num_warps = x)]\nfn k() {}",
                "1:22: error: syntax error: expected an integer, found `x`",
            ),
            (
                "let x = 1;",
                "1:1: error: syntax error: expected `#[..]` or `fn`, found keyword `let`",
            ),
            // The end of the file: shown after the last token.
            (
                "fn k(x: f32) {\n  x\n",
                "2:4: error: syntax error: expected `}` or a statement, found end of file",
            ),
        ] {
            assert_eq!(first_line(src), format!("k.tk:{want}"), "{src}");
        }
    }

    /// Whatever the input is cut at, the error names what was expected in
    /// words (no raw character ranges from the grammar), and nothing panics
    /// (multi-byte characters included).
    #[test]
    fn every_truncation_gets_a_worded_error() {
        let full = "// é\nfn helper(v: f32) -> f32 { /* ü */ v * 2.0e1 }\n#[kernel(num_warps = 0x4)]\n\
                    fn k<const B: i32>(x: Ptr<f32>, n: i32) {\n    let offs = program_id(0) * B + arange(0, B);\n    \
                    let mut acc = 0.0;\n    for i in 0..n { acc += helper(\"é\".len()); }\n    \
                    if n > 0 && !(n == 1) { store(x + offs, acc, offs < n); } else { return; }\n}\n";
        parse_file(full).expect("the whole text parses");
        for (cut, _) in full.char_indices().skip(1) {
            let text = &full[..cut];
            let Err(d) = parse_file(text) else { continue };
            for raw in ["a..z", "A..Z", "0..9", "`0x`", "`\"`", "`_`", "BUILTIN"] {
                assert!(!d.message.contains(raw), "{text:?}: {}", d.message);
            }
            assert!(d.message.starts_with("syntax error: "), "{text:?}: {}", d.message);
            let _ = SourceFile::new("k.tk", text).render(d.span, &d.message);
        }
    }
}
