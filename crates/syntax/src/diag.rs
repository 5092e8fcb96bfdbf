//! Source spans and user-facing diagnostics.
//!
//! Every error the compiler reports about user input carries a [`Span`]; a
//! [`SourceFile`] turns it into `file:line:col` and a caret under the source
//! line. Rendering never panics, even for spans that fall outside the text.

use std::fmt;

/// A byte range in one source file.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub struct Span {
    pub start: u32,
    pub end: u32,
}

impl Span {
    pub fn new(start: usize, end: usize) -> Span {
        Span {
            start: start.min(u32::MAX as usize) as u32,
            end: end.min(u32::MAX as usize) as u32,
        }
    }

    /// The smallest span covering both.
    pub fn to(self, other: Span) -> Span {
        Span {
            start: self.start.min(other.start),
            end: self.end.max(other.end),
        }
    }
}

/// A named source text, used to resolve spans into lines and columns.
#[derive(Debug, Clone)]
pub struct SourceFile {
    pub name: String,
    pub text: String,
}

/// A 1-based line and column (in characters).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct LineCol {
    pub line: usize,
    pub col: usize,
}

impl SourceFile {
    pub fn new(name: impl Into<String>, text: impl Into<String>) -> SourceFile {
        SourceFile {
            name: name.into(),
            text: text.into(),
        }
    }

    /// Line and column of a byte offset, clamped to the text.
    pub fn line_col(&self, offset: u32) -> LineCol {
        let mut offset = (offset as usize).min(self.text.len());
        while !self.text.is_char_boundary(offset) {
            offset -= 1;
        }
        let before = &self.text[..offset];
        let line = before.matches('\n').count() + 1;
        let line_start = before.rfind('\n').map_or(0, |i| i + 1);
        let col = self.text[line_start..offset].chars().count() + 1;
        LineCol { line, col }
    }

    fn line_text(&self, line: usize) -> &str {
        self.text.lines().nth(line - 1).unwrap_or("")
    }

    /// Renders `file:line:col: error: message`, the source line and a caret.
    pub fn render(&self, span: Span, message: &str) -> String {
        let start = self.line_col(span.start);
        let end = self.line_col(span.end.max(span.start));
        let text = self.line_text(start.line);
        let width = if end.line == start.line {
            (end.col.saturating_sub(start.col)).max(1)
        } else {
            text.chars().count().saturating_sub(start.col - 1).max(1)
        };
        let gutter = start.line.to_string().len();
        format!(
            "{}:{}:{}: error: {}\n{:gutter$} |\n{} | {}\n{:gutter$} | {}{}",
            self.name,
            start.line,
            start.col,
            message,
            "",
            start.line,
            text,
            "",
            " ".repeat(start.col - 1),
            "^".repeat(width),
        )
    }
}

/// One error about user input, located in the source.
#[derive(Debug, Clone, PartialEq)]
pub struct Diagnostic {
    pub span: Span,
    pub message: String,
}

impl Diagnostic {
    pub fn new(span: Span, message: impl Into<String>) -> Diagnostic {
        Diagnostic {
            span,
            message: message.into(),
        }
    }

    pub fn render(&self, file: &SourceFile) -> String {
        file.render(self.span, &self.message)
    }
}

impl fmt::Display for Diagnostic {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} (at byte {})", self.message, self.span.start)
    }
}

/// Diagnostics rendered against their file, ready to print.
#[derive(Debug, Clone, thiserror::Error)]
#[error("{}", self.rendered())]
pub struct Diagnostics {
    pub file: SourceFile,
    pub items: Vec<Diagnostic>,
}

impl Diagnostics {
    pub fn rendered(&self) -> String {
        self.items
            .iter()
            .map(|d| d.render(&self.file))
            .collect::<Vec<_>>()
            .join("\n")
    }
}

/// The known name closest to `name`, to suggest for a misspelling.
///
/// Names are compared case-folded first (so `N` is closest to `n`, not to
/// `x`), then by exact edit distance to break ties (`Block` against
/// `block` and `BLOCK`); the first candidate wins a full tie. A candidate
/// further than about half the name's length is no suggestion.
pub fn closest<'a>(name: &str, candidates: impl IntoIterator<Item = &'a str>) -> Option<&'a str> {
    let folded = name.to_lowercase();
    let mut best: Option<((usize, usize), &str)> = None;
    for c in candidates {
        let d = (levenshtein(&folded, &c.to_lowercase()), levenshtein(name, c));
        if d.0 <= (name.len().max(2) / 2).max(2) && best.is_none_or(|(bd, _)| d < bd) {
            best = Some((d, c));
        }
    }
    best.map(|(_, c)| c)
}

fn levenshtein(a: &str, b: &str) -> usize {
    let b: Vec<char> = b.chars().collect();
    let mut prev: Vec<usize> = (0..=b.len()).collect();
    for (i, ca) in a.chars().enumerate() {
        let mut cur = vec![i + 1; b.len() + 1];
        for (j, cb) in b.iter().enumerate() {
            let cost = usize::from(ca != *cb);
            cur[j + 1] = (prev[j] + cost).min(prev[j + 1] + 1).min(cur[j] + 1);
        }
        prev = cur;
    }
    prev[b.len()]
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn line_col_and_caret() {
        let f = SourceFile::new("k.tk", "fn a() {\n  let x = y;\n}\n");
        let at = f.text.find('y').unwrap();
        assert_eq!(f.line_col(at as u32), LineCol { line: 2, col: 11 });
        let r = f.render(Span::new(at, at + 1), "unknown name `y`");
        assert_eq!(
            r,
            "k.tk:2:11: error: unknown name `y`\n  |\n2 |   let x = y;\n  |           ^"
        );
    }

    #[test]
    fn spans_past_the_end_do_not_panic() {
        let f = SourceFile::new("k.tk", "ab");
        let _ = f.render(Span::new(100, 200), "x");
        let f = SourceFile::new("k.tk", "");
        let _ = f.render(Span::new(0, 0), "x");
    }

    #[test]
    fn suggests_closest() {
        assert_eq!(closest("arrange", ["arange", "load", "store"]), Some("arange"));
        assert_eq!(closest("zzzzzz", ["arange", "load"]), None);
    }

    /// `--arg N=4000` for parameters x, y, out, n: a difference of case
    /// only is the closest, although `x` is one edit from `N` too.
    #[test]
    fn suggestions_fold_case() {
        assert_eq!(closest("N", ["x", "y", "out", "n"]), Some("n"));
        assert_eq!(closest("OUT", ["x", "y", "out", "n"]), Some("out"));
        assert_eq!(closest("Load", ["arange", "load", "store"]), Some("load"));
        // Ties on the folded distance go to the exact spelling's distance.
        assert_eq!(closest("Block", ["BLOCK", "block"]), Some("block"));
        assert_eq!(closest("BLOK", ["block", "BLOCK"]), Some("BLOCK"));
        // Folding widens nothing: unrelated names are still no suggestion.
        assert_eq!(closest("ZZZZZZ", ["arange", "load"]), None);
    }
}
