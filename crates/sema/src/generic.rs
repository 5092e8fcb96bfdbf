//! Checking a kernel without all its const values (`tritonc check` with no
//! `--const`, and `#[kernel]` at build time).
//!
//! The missing consts get placeholder values and the kernel is lowered;
//! the lowering tracks what derives from a placeholder (`lower.rs`: `Dep`,
//! `Reads`), and settles every error at the innermost expression or
//! statement that raises it: an error about names never depends on
//! placeholders, a type error (element type categories, ranks,
//! compile-time-ness) only when a value it read had its type chosen by a
//! placeholder, any other error (shapes, lengths, compile-time values,
//! integer widths) when anything it read derived from one. Inside a branch
//! or an unrolled loop that a placeholder decides, every error depends on
//! them. An error that depends on placeholders says nothing about real
//! values: other placeholders are tried to get past it, and if none does,
//! the check waits for the real values.
//!
//! Guarantee: an error reported here is one that lowering reports for
//! every value of the missing consts (it lies on a path they do not
//! decide, computed from values they do not change).

use crate::lower::{lower_kernel, lower_module, Error};
use crate::ConstArg;
use std::collections::BTreeMap;
use tritonc_syntax::{ast, Diagnostic};

/// What checking a kernel without all its const values found (see
/// [`check_kernel`]).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct GenericCheck {
    /// The const parameters given no value: the checks that depend on them
    /// (shapes, lengths, compile-time values and the branches they choose)
    /// wait for them. Empty when every const had a value.
    pub missing: Vec<String>,
    /// Whether the whole kernel lowered for some placeholder values (else
    /// a check that depends on the missing consts failed for every
    /// placeholder tried, which says nothing about real values).
    pub lowered: bool,
}

/// Placeholder values tried for missing consts, in order: integers are
/// powers of two (all equal to `int`, or distinct, `16 << i`, when `int`
/// is 0), bools one way or the other.
const PLACEHOLDERS: &[(i64, bool)] = &[(64, false), (64, true), (16, false), (256, true), (0, false), (0, true)];

/// Checks kernel `name` as far as `consts` allow: with every const given,
/// everything [`lower_kernel`] checks; otherwise the missing consts get
/// placeholder values, and only errors that cannot depend on them are
/// reported: unknown names and functions, argument counts, type errors,
/// and shape or length rules whose operands do not derive from the missing
/// consts. An error that involves them (an operand derived from one, or a
/// compile-time branch or unrolled loop that one decides) is set aside,
/// and other placeholder values are tried to get past it.
///
/// Sound: an error reported here is reported by [`lower_kernel`] for every
/// value of the missing consts. Its message names no placeholder value:
/// a dimension that derives from one reads as the const's name, or `?`.
pub fn check_kernel(
    file: &ast::File,
    name: &str,
    consts: &BTreeMap<String, ConstArg>,
) -> Result<GenericCheck, Diagnostic> {
    let missing: Vec<&ast::ConstParam> = match file.function(name) {
        Some(k) => k
            .const_params
            .iter()
            .filter(|c| !consts.contains_key(&c.name.name))
            .collect(),
        None => Vec::new(),
    };
    if missing.is_empty() {
        lower_kernel(file, name, consts)?;
        return Ok(GenericCheck {
            missing: Vec::new(),
            lowered: true,
        });
    }
    let names: Vec<String> = missing.iter().map(|c| c.name.name.clone()).collect();
    for &(int, flag) in PLACEHOLDERS {
        let ints = |i: usize| if int == 0 { 16 << (i % 5) } else { int };
        let placeholders = values(&missing, ints, flag);
        match lower_module(file, name, consts, &placeholders, &BTreeMap::new()) {
            Ok(_) => {
                return Ok(GenericCheck {
                    missing: names,
                    lowered: true,
                })
            }
            Err(e) if e.depends != Some(true) => {
                let mut d = e.diag;
                d.message = without_placeholders(file, name, consts, &missing, int, flag, &d);
                return Err(d);
            }
            Err(_) => {}
        }
    }
    Ok(GenericCheck {
        missing: names,
        lowered: false,
    })
}

/// Placeholder values for the `missing` consts: the `i`-th integer const
/// gets `int(i)`, bools get `flag`.
fn values(missing: &[&ast::ConstParam], int: impl Fn(usize) -> i64, flag: bool) -> BTreeMap<String, ConstArg> {
    let mut n = 0;
    missing
        .iter()
        .map(|c| {
            let v = if c.ty.name == "bool" {
                ConstArg::Bool(flag)
            } else {
                n += 1;
                ConstArg::Int(int(n - 1))
            };
            (c.name.name.clone(), v)
        })
        .collect()
}

/// The message of `d` (an error that does not depend on placeholders,
/// found with integer placeholders `int`, or distinct ones when 0, and
/// bools `flag`) with every number that does replaced by the const's name
/// (or `?`, for a number derived from one): the error is raised again
/// with two other sets of placeholders, and the numbers that differ are
/// the placeholders' doing.
fn without_placeholders(
    file: &ast::File,
    name: &str,
    consts: &BTreeMap<String, ConstArg>,
    missing: &[&ast::ConstParam],
    int: i64,
    flag: bool,
    d: &Diagnostic,
) -> String {
    let again = |placeholders: &BTreeMap<String, ConstArg>| -> Option<Diagnostic> {
        match lower_module(file, name, consts, placeholders, &BTreeMap::new()) {
            Err(Error {
                diag,
                depends: None | Some(false),
                ..
            }) if diag.span == d.span => Some(diag),
            _ => None,
        }
    };
    // Distinct values name the const a number comes from; if those do not
    // reach the error, the same values doubled at least tell which
    // numbers are placeholders.
    let distinct = |shift: usize| move |i: usize| 16_i64 << ((i + shift) % 6);
    let uniform = |scale: i64| {
        move |i: usize| {
            if int == 0 {
                (16_i64 << (i % 5)) * scale
            } else {
                int * scale
            }
        }
    };
    let pairs = [
        (values(missing, distinct(0), flag), values(missing, distinct(1), flag)),
        (values(missing, uniform(1), flag), values(missing, uniform(2), flag)),
    ];
    for (pa, pb) in &pairs {
        if let (Some(a), Some(b)) = (again(pa), again(pb)) {
            if let Some(m) = symbolic(&a.message, &b.message, pa, pb) {
                return m;
            }
        }
    }
    d.message.clone()
}

/// Runs of ASCII digits and the text between them.
fn tokens(s: &str) -> Vec<&str> {
    let mut out = Vec::new();
    let mut start = 0;
    let b = s.as_bytes();
    for i in 1..=b.len() {
        if i == b.len() || b[i].is_ascii_digit() != b[i - 1].is_ascii_digit() {
            out.push(&s[start..i]);
            start = i;
        }
    }
    out
}

/// Message `a` (with placeholders `pa`) with each number that differs in
/// `b` (with `pb`) replaced by the const whose placeholders they are, or
/// `?`; `None` when the messages differ in more than numbers.
fn symbolic(a: &str, b: &str, pa: &BTreeMap<String, ConstArg>, pb: &BTreeMap<String, ConstArg>) -> Option<String> {
    let (ta, tb) = (tokens(a), tokens(b));
    if ta.len() != tb.len() {
        return None;
    }
    let mut out = String::new();
    for (x, y) in ta.iter().zip(&tb) {
        let digits = x.bytes().all(|c| c.is_ascii_digit());
        if x == y {
            out.push_str(x);
        } else if !digits || !y.bytes().all(|c| c.is_ascii_digit()) {
            return None;
        } else {
            let (vx, vy) = (x.parse::<i64>().ok(), y.parse::<i64>().ok());
            let named: Vec<&String> = pa
                .iter()
                .filter(|(k, v)| **v == ConstArg::Int(vx.unwrap_or(-1)) && pb.get(*k) == vy.map(ConstArg::Int).as_ref())
                .map(|(k, _)| k)
                .collect();
            match named.as_slice() {
                [one] => out.push_str(one),
                _ => out.push('?'),
            }
        }
    }
    Some(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn numbers_from_placeholders_become_names() {
        let p = |v: &[(&str, i64)]| -> BTreeMap<String, ConstArg> {
            v.iter().map(|(k, x)| (k.to_string(), ConstArg::Int(*x))).collect()
        };
        let (pa, pb) = (p(&[("A", 16), ("B", 32)]), p(&[("A", 32), ("B", 64)]));
        assert_eq!(
            symbolic(
                "x is block<f32, [16, 4]> and [64]",
                "x is block<f32, [32, 4]> and [128]",
                &pa,
                &pb
            )
            .as_deref(),
            Some("x is block<f32, [A, 4]> and [?]")
        );
        assert_eq!(
            symbolic("found 3 and 4", "found 3 and 4", &pa, &pb).as_deref(),
            Some("found 3 and 4")
        );
        assert_eq!(symbolic("a b", "a c", &pa, &pb), None);
        assert_eq!(tokens("f32, [16]"), ["f", "32", ", [", "16", "]"]);
    }
}
