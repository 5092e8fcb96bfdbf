//! Tokens of printed IR: MLIR generic syntax as `print.rs` writes it.
//!
//! The lexer works on demand (the parser pulls one token at a time), so
//! that the one context-dependent piece of MLIR's syntax, a tensor
//! type's `4x256x` dimension list, can be scanned raw by
//! [`Lexer::tensor_dims`]. `//` comments are skipped.

use super::{ParseError, Pos};

#[derive(Debug, Clone, PartialEq)]
pub(super) enum Tok {
    /// `"text"`, unescaped.
    Str(String),
    /// `%name` or `%name#index` (the text after `%`).
    Percent(String),
    /// `^bb0`.
    Caret(String),
    /// `#blocked0`, `#tk.blocked` (the text after `#`).
    Hash(String),
    /// `@callee`.
    At(String),
    /// `!tk.ptr`.
    Bang(String),
    /// A bare identifier: `i32`, `tensor`, `tk.kernel`, `true`.
    Ident(String),
    /// A decimal integer, with its sign.
    Int(String),
    /// A decimal float (with a `.` or an exponent), with its sign.
    Float(String),
    /// `0x` and hexadecimal digits (the digits).
    Hex(String),
    /// One of `( ) { } [ ] < > , : =`.
    Punct(char),
    /// `->`.
    Arrow,
    Eof,
}

impl Tok {
    /// How an error message names the token.
    pub(super) fn describe(&self) -> String {
        match self {
            Tok::Str(s) => format!("string \"{s}\""),
            Tok::Percent(s) => format!("`%{s}`"),
            Tok::Caret(s) => format!("`^{s}`"),
            Tok::Hash(s) => format!("`#{s}`"),
            Tok::At(s) => format!("`@{s}`"),
            Tok::Bang(s) => format!("`!{s}`"),
            Tok::Ident(s) | Tok::Int(s) | Tok::Float(s) => format!("`{s}`"),
            Tok::Hex(s) => format!("`0x{s}`"),
            Tok::Punct(c) => format!("`{c}`"),
            Tok::Arrow => "`->`".into(),
            Tok::Eof => "the end of the input".into(),
        }
    }
}

pub(super) struct Lexer<'a> {
    src: &'a [u8],
    text: &'a str,
    at: usize,
    line: u32,
    col: u32,
}

fn is_name_byte(b: u8) -> bool {
    b.is_ascii_alphanumeric() || matches!(b, b'_' | b'.' | b'$')
}

impl<'a> Lexer<'a> {
    pub(super) fn new(text: &'a str) -> Lexer<'a> {
        Lexer {
            src: text.as_bytes(),
            text,
            at: 0,
            line: 1,
            col: 1,
        }
    }

    pub(super) fn pos(&self) -> Pos {
        Pos {
            line: self.line,
            col: self.col,
        }
    }

    fn peek_byte(&self) -> Option<u8> {
        self.src.get(self.at).copied()
    }

    fn byte_at(&self, offset: usize) -> Option<u8> {
        self.src.get(self.at + offset).copied()
    }

    /// Moves past one character (a whole UTF-8 sequence).
    fn bump(&mut self) {
        let Some(b) = self.peek_byte() else { return };
        if b == b'\n' {
            self.line += 1;
            self.col = 1;
        } else {
            self.col += 1;
        }
        self.at += 1;
        while self.peek_byte().is_some_and(|b| b & 0xC0 == 0x80) {
            self.at += 1;
        }
    }

    fn skip_trivia(&mut self) {
        loop {
            match self.peek_byte() {
                Some(b) if b.is_ascii_whitespace() => self.bump(),
                Some(b'/') if self.byte_at(1) == Some(b'/') => {
                    while self.peek_byte().is_some_and(|b| b != b'\n') {
                        self.bump();
                    }
                }
                _ => return,
            }
        }
    }

    fn take_while(&mut self, keep: impl Fn(u8) -> bool) -> &'a str {
        let start = self.at;
        while self.peek_byte().is_some_and(&keep) {
            self.bump();
        }
        self.text.get(start..self.at).unwrap_or("")
    }

    /// The next token and where it starts.
    pub(super) fn next_token(&mut self) -> Result<(Tok, Pos), ParseError> {
        self.skip_trivia();
        let pos = self.pos();
        let Some(b) = self.peek_byte() else {
            return Ok((Tok::Eof, pos));
        };
        let tok = match b {
            b'"' => Tok::Str(self.string(pos)?),
            b'%' | b'^' | b'#' | b'@' | b'!' => {
                self.bump();
                let mut name = self.take_while(is_name_byte).to_string();
                if name.is_empty() {
                    return Err(ParseError::new(pos, format!("a name must follow `{}`", b as char)));
                }
                if b == b'%' && self.peek_byte() == Some(b'#') && self.byte_at(1).is_some_and(|d| d.is_ascii_digit()) {
                    self.bump();
                    name.push('#');
                    name.push_str(self.take_while(|d| d.is_ascii_digit()));
                }
                match b {
                    b'%' => Tok::Percent(name),
                    b'^' => Tok::Caret(name),
                    b'#' => Tok::Hash(name),
                    b'@' => Tok::At(name),
                    _ => Tok::Bang(name),
                }
            }
            b'-' if self.byte_at(1) == Some(b'>') => {
                self.bump();
                self.bump();
                Tok::Arrow
            }
            b'-' if self.byte_at(1).is_some_and(|d| d.is_ascii_digit()) => self.number(),
            b'0'..=b'9' => self.number(),
            b'(' | b')' | b'{' | b'}' | b'[' | b']' | b'<' | b'>' | b',' | b':' | b'=' => {
                self.bump();
                Tok::Punct(b as char)
            }
            b if b.is_ascii_alphabetic() || b == b'_' => Tok::Ident(
                self.take_while(|b| b.is_ascii_alphanumeric() || matches!(b, b'_' | b'.' | b'$'))
                    .to_string(),
            ),
            _ => {
                let c = self.text.get(self.at..).and_then(|s| s.chars().next()).unwrap_or('?');
                return Err(ParseError::new(pos, format!("unexpected character {c:?}")));
            }
        };
        Ok((tok, pos))
    }

    fn number(&mut self) -> Tok {
        if self.peek_byte() == Some(b'0')
            && self.byte_at(1) == Some(b'x')
            && self.byte_at(2).is_some_and(|d| d.is_ascii_hexdigit())
        {
            self.bump();
            self.bump();
            return Tok::Hex(self.take_while(|d| d.is_ascii_hexdigit()).to_string());
        }
        let start = self.at;
        if self.peek_byte() == Some(b'-') {
            self.bump();
        }
        self.take_while(|d| d.is_ascii_digit());
        let mut float = false;
        if self.peek_byte() == Some(b'.') && self.byte_at(1).is_some_and(|d| d.is_ascii_digit()) {
            float = true;
            self.bump();
            self.take_while(|d| d.is_ascii_digit());
        }
        if matches!(self.peek_byte(), Some(b'e' | b'E')) {
            let digit_at = if matches!(self.byte_at(1), Some(b'+' | b'-')) {
                2
            } else {
                1
            };
            if self.byte_at(digit_at).is_some_and(|d| d.is_ascii_digit()) {
                float = true;
                for _ in 0..digit_at {
                    self.bump();
                }
                self.take_while(|d| d.is_ascii_digit());
            }
        }
        let text = self.text.get(start..self.at).unwrap_or("").to_string();
        if float {
            Tok::Float(text)
        } else {
            Tok::Int(text)
        }
    }

    /// A string literal; escapes as `print.rs` writes them: `\"`, `\\`,
    /// `\n` and `\XX` (two hexadecimal digits, a character below 256).
    fn string(&mut self, pos: Pos) -> Result<String, ParseError> {
        self.bump();
        let mut out = String::new();
        loop {
            let here = self.pos();
            let Some(b) = self.peek_byte() else {
                return Err(ParseError::new(pos, "unterminated string"));
            };
            match b {
                b'"' => {
                    self.bump();
                    return Ok(out);
                }
                b'\n' => return Err(ParseError::new(pos, "unterminated string (a line ends inside it)")),
                b'\\' => {
                    self.bump();
                    match self.peek_byte() {
                        Some(b'"') => out.push('"'),
                        Some(b'\\') => out.push('\\'),
                        Some(b'n') => out.push('\n'),
                        Some(h) if h.is_ascii_hexdigit() && self.byte_at(1).is_some_and(|l| l.is_ascii_hexdigit()) => {
                            let digits = self.text.get(self.at..self.at + 2).unwrap_or("");
                            let code = u8::from_str_radix(digits, 16)
                                .map_err(|_| ParseError::new(here, "bad `\\XX` escape"))?;
                            out.push(char::from(code));
                            self.bump();
                        }
                        _ => return Err(ParseError::new(here, "unknown escape in a string")),
                    }
                    self.bump();
                }
                _ => {
                    let start = self.at;
                    self.bump();
                    out.push_str(self.text.get(start..self.at).unwrap_or(""));
                }
            }
        }
    }

    /// The dimensions of a tensor type, right after `tensor<`: each a
    /// decimal number followed by `x` (`4x256x` of `tensor<4x256xf32>`).
    pub(super) fn tensor_dims(&mut self) -> Result<Vec<u32>, ParseError> {
        let mut dims = Vec::new();
        self.skip_trivia();
        while self.peek_byte().is_some_and(|d| d.is_ascii_digit()) {
            let pos = self.pos();
            let digits = self.take_while(|d| d.is_ascii_digit());
            let d: u32 = digits
                .parse()
                .map_err(|_| ParseError::new(pos, format!("dimension {digits} is too large")))?;
            if self.peek_byte() != Some(b'x') {
                return Err(ParseError::new(self.pos(), "expected `x` after a tensor dimension"));
            }
            self.bump();
            dims.push(d);
        }
        Ok(dims)
    }
}
