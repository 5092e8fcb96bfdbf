//! `#[kernel]`: a kernel written as a Rust item.
//!
//! The item's tokens are turned back into kernel-language text and go
//! through the same front end as `tritonc` (one language, one parser).
//! Syntax errors and every error that no const value can avoid (unknown
//! names, functions and types, argument counts, type errors, shape rules
//! on literals: `tritonc_sema::check_kernel`) become rustc errors on the
//! user's token; errors that depend on const generic values (shapes)
//! surface when the kernel is first launched with them. For those, the
//! macro embeds beside the text where each of its tokens is in the user's
//! file and the user's lines, so that the launch reports them at the
//! user's `file:line:col`, under the user's own line.
//!
//! The macro generates `fn NAME<consts>() -> NAME_kernel<consts>` whose
//! `launch(&device, grid, (args..))` is typed: `Ptr<T>` parameters take
//! `&Buffer<T>`, scalars take their Rust type. Nothing about the target is
//! decided at build time: the kernel text is embedded and JIT-compiled for
//! the device at the first launch (and cached).

use proc_macro::TokenStream;
use proc_macro2::{Span, TokenStream as TokenStream2, TokenTree};
use quote::{format_ident, quote};
use tritonc_syntax::ast::{File, TypeExpr};

/// Kernel text rebuilt from tokens, with the span of the token at each byte.
struct Source {
    text: String,
    spans: Vec<(usize, usize, Span)>,
}

impl Source {
    fn push(&mut self, s: &str, span: Span) {
        let start = self.text.len();
        self.text.push_str(s);
        self.spans.push((start, self.text.len(), span));
        self.text.push(' ');
    }

    fn tokens(&mut self, ts: TokenStream2) {
        for tt in ts {
            match tt {
                TokenTree::Group(g) => {
                    let (open, close) = match g.delimiter() {
                        proc_macro2::Delimiter::Parenthesis => ("(", ")"),
                        proc_macro2::Delimiter::Brace => ("{", "}"),
                        proc_macro2::Delimiter::Bracket => ("[", "]"),
                        proc_macro2::Delimiter::None => ("", ""),
                    };
                    self.push(open, g.span_open());
                    self.tokens(g.stream());
                    self.push(close, g.span_close());
                }
                // Joint punctuation (`<=`, `::`, `->`) stays together.
                TokenTree::Punct(p) => {
                    let start = self.text.len();
                    self.text.push(p.as_char());
                    self.spans.push((start, self.text.len(), p.span()));
                    if p.spacing() == proc_macro2::Spacing::Alone {
                        self.text.push(' ');
                    }
                }
                TokenTree::Ident(i) => self.push(&i.to_string(), i.span()),
                TokenTree::Literal(l) => self.push(&l.to_string(), l.span()),
            }
        }
    }

    /// The span of the token at byte `at` (or the nearest one before).
    fn span_at(&self, at: usize) -> Span {
        self.spans
            .iter()
            .rev()
            .find(|(s, _, _)| *s <= at)
            .map_or_else(Span::call_site, |(_, _, sp)| *sp)
    }
}

/// Where the kernel text's tokens are in the user's file, and the user's
/// lines they are on: what lets an error found at the first launch (one
/// that depends on const values) be shown at the user's line and column,
/// under the user's own line.
struct Locations {
    file: String,
    first_line: usize,
    lines: Vec<String>,
    tokens: Vec<TokenLocation>,
}

/// Per token: its bytes in the kernel text, and its start and end in the
/// user's file (line, column: lines 1-based, columns 0-based in characters).
type TokenLocation = ((usize, usize), (usize, usize), (usize, usize));

/// The tokens' locations, when the compiler gives them (Rust 1.88 and
/// later; before, every line reads 0 and launches render errors in the
/// kernel text, as they always did). Tokens from another file (a kernel
/// written inside a `macro_rules!`) are left out.
fn locations(src: &Source) -> Option<Locations> {
    let first = src.spans.iter().map(|t| t.2).find(|s| s.start().line > 0)?;
    let file = first.file();
    let mut tokens = Vec::new();
    let mut texts = Vec::new();
    for &(a, b, span) in &src.spans {
        let (start, end) = (span.start(), span.end());
        if start.line == 0 || span.file() != file {
            continue;
        }
        tokens.push(((a, b), (start.line, start.column), (end.line, end.column)));
        texts.push(span.source_text().unwrap_or_else(|| src.text[a..b].to_string()));
    }
    let first_line = tokens.iter().map(|t| t.1 .0).min()?;
    let last_line = tokens.iter().map(|t| t.2 .0).max()?.max(first_line);
    let on_disk = first
        .local_file()
        .and_then(|p| std::fs::read_to_string(p).ok())
        .map(|text| {
            text.lines()
                .skip(first_line - 1)
                .take(last_line - first_line + 1)
                .map(str::to_string)
                .collect::<Vec<_>>()
        })
        .filter(|lines| lines.len() == last_line - first_line + 1 && tokens_match(lines, first_line, &tokens, &texts));
    let lines = on_disk.unwrap_or_else(|| rebuild_lines(first_line, last_line, &tokens, &texts));
    Some(Locations {
        file,
        first_line,
        lines,
        tokens,
    })
}

/// Whether the file read from disk holds each one-line token at its place
/// (it is the file being compiled).
fn tokens_match(lines: &[String], first_line: usize, tokens: &[TokenLocation], texts: &[String]) -> bool {
    tokens
        .iter()
        .zip(texts)
        .all(|(&(_, (line, col), (end_line, _)), text)| {
            line != end_line
                || lines[line - first_line]
                    .chars()
                    .skip(col)
                    .take(text.chars().count())
                    .eq(text.chars())
        })
}

/// The user's lines rebuilt from the tokens at their columns, when the
/// file cannot be read (comments and tabs are lost).
fn rebuild_lines(first_line: usize, last_line: usize, tokens: &[TokenLocation], texts: &[String]) -> Vec<String> {
    let mut lines = vec![String::new(); last_line - first_line + 1];
    let mut order: Vec<usize> = (0..tokens.len()).collect();
    order.sort_by_key(|&i| tokens[i].1);
    for i in order {
        let (_, (line, col), _) = tokens[i];
        let l = &mut lines[line - first_line];
        let have = l.chars().count();
        if have < col {
            l.extend(std::iter::repeat_n(' ', col - have));
        } else if have > col {
            l.push(' ');
        }
        l.push_str(texts[i].lines().next().unwrap_or(""));
    }
    lines
}

fn error(span: Span, msg: &str) -> TokenStream2 {
    quote::quote_spanned!(span=> ::core::compile_error!(#msg);)
}

/// Marks a kernel. Attributes: `num_warps = N`, `num_stages = N`.
#[proc_macro_attribute]
pub fn kernel(attr: TokenStream, item: TokenStream) -> TokenStream {
    expand(attr.into(), item.into()).into()
}

fn expand(attr: TokenStream2, item: TokenStream2) -> TokenStream2 {
    let mut src = Source {
        text: String::new(),
        spans: Vec::new(),
    };
    src.text.push_str("#[kernel");
    if !attr.is_empty() {
        src.text.push('(');
        src.tokens(attr);
        src.text.push(')');
    }
    src.text.push_str("] ");
    // `///` comments on the kernel are `#[doc = ".."]` attributes: Rust's,
    // not the kernel language's; they go on the generated function.
    let (docs, item) = split_doc_attributes(item);
    src.tokens(item);
    let ast: File = match tritonc_syntax::parse_file(&src.text) {
        Ok(f) => f,
        Err(d) => return error(src.span_at(d.span.start as usize), &d.message),
    };
    let Some(k) = ast.kernels().next() else {
        return error(Span::call_site(), "#[kernel] expects a `fn` item");
    };
    // Check everything that does not depend on const values: names,
    // functions, argument counts, types, and shape rules on literals.
    if let Err(d) = tritonc_sema::check_kernel(&ast, &k.name.name, &std::collections::BTreeMap::new()) {
        return error(src.span_at(d.span.start as usize), &d.message);
    }
    generate(k, &src.text, locations(&src), &docs)
}

/// The leading `#[doc = ..]` attributes of `item`, and the rest of it.
fn split_doc_attributes(item: TokenStream2) -> (TokenStream2, TokenStream2) {
    let tokens: Vec<TokenTree> = item.into_iter().collect();
    let mut at = 0;
    let mut docs = TokenStream2::new();
    while let (Some(TokenTree::Punct(hash)), Some(TokenTree::Group(group))) = (tokens.get(at), tokens.get(at + 1)) {
        let is_doc = hash.as_char() == '#'
            && group.delimiter() == proc_macro2::Delimiter::Bracket
            && matches!(group.stream().into_iter().next(), Some(TokenTree::Ident(i)) if i == "doc");
        if !is_doc {
            break;
        }
        docs.extend(tokens[at..at + 2].iter().cloned());
        at += 2;
    }
    (docs, tokens[at..].iter().cloned().collect())
}

/// The Rust type a launch takes for a kernel parameter.
fn rust_type(t: &TypeExpr) -> Result<TokenStream2, (Span, String)> {
    let elem = |name: &str| -> Result<TokenStream2, (Span, String)> {
        Ok(match name {
            "bool" | "i1" => quote!(bool),
            "i8" => quote!(i8),
            "i16" => quote!(i16),
            "i32" => quote!(i32),
            "i64" => quote!(i64),
            "u8" => quote!(u8),
            "u16" => quote!(u16),
            "u32" => quote!(u32),
            "u64" => quote!(u64),
            "f16" => quote!(::tritonc::api::F16),
            "bf16" => quote!(::tritonc::api::Bf16),
            "f32" => quote!(f32),
            "f64" => quote!(f64),
            other => return Err((Span::call_site(), format!("unknown type `{other}`"))),
        })
    };
    match t {
        TypeExpr::Scalar(i) => elem(&i.name),
        TypeExpr::Ptr(i, _) => {
            let e = elem(&i.name)?;
            Ok(quote!(&::tritonc::api::Buffer<#e>))
        }
    }
}

fn generate(
    k: &tritonc_syntax::ast::Function,
    text: &str,
    locations: Option<Locations>,
    docs: &TokenStream2,
) -> TokenStream2 {
    let name = format_ident!("{}", k.name.name);
    let launcher = format_ident!("{}_kernel", k.name.name);
    let tuned = format_ident!("{}_tuned", k.name.name);
    let tuned_launcher = format_ident!("{}_tuned_kernel", k.name.name);
    let source = format_ident!("__TRITONC_SOURCE_{}", k.name.name);
    let kname = &k.name.name;
    let mut generics = Vec::new();
    let mut const_values = Vec::new();
    for c in &k.const_params {
        let n = format_ident!("{}", c.name.name);
        let cname = &c.name.name;
        if c.ty.name == "bool" {
            generics.push(quote!(const #n: bool));
            const_values.push(quote!((#cname, ::tritonc::sema::ConstArg::Bool(#n))));
        } else {
            let t = format_ident!("{}", c.ty.name);
            generics.push(quote!(const #n: #t));
            const_values.push(quote!((#cname, ::tritonc::sema::ConstArg::Int(#n as i64))));
        }
    }
    let const_names: Vec<_> = k
        .const_params
        .iter()
        .map(|c| format_ident!("{}", c.name.name))
        .collect();
    let mut arg_types = Vec::new();
    let mut packs = Vec::new();
    for (i, p) in k.params.iter().enumerate() {
        match rust_type(&p.ty) {
            Ok(t) => arg_types.push(t),
            Err((sp, m)) => return error(sp, &m),
        }
        let idx = syn_index(i);
        packs.push(quote!(::tritonc::api::KernelArg::pack(args.#idx)));
    }
    let u32_lit = |x: usize| proc_macro2::Literal::u32_unsuffixed(u32::try_from(x).unwrap_or(u32::MAX));
    let (file, first_line, lines, tokens) = match locations {
        Some(l) => {
            let file = l.file;
            let tokens = l.tokens.iter().map(|&((a, b), (line, col), (end_line, end_col))| {
                let [a, b, line, col, end_line, end_col] = [a, b, line, col, end_line, end_col].map(u32_lit);
                quote!(::tritonc::api::TokenLocation {
                    text: (#a, #b),
                    start: (#line, #col),
                    end: (#end_line, #end_col),
                })
            });
            (quote!(#file), u32_lit(l.first_line), l.lines, tokens.collect())
        }
        None => (quote!(::core::file!()), u32_lit(0), Vec::new(), Vec::new()),
    };
    quote! {
        #[allow(non_upper_case_globals)]
        #[doc(hidden)]
        static #source: ::tritonc::api::KernelSource = ::tritonc::api::KernelSource {
            name: #kname,
            text: #text,
            file: #file,
            tokens: &[#(#tokens),*],
            first_line: #first_line,
            lines: &[#(#lines),*],
        };

        #[allow(non_camel_case_types)]
        #[doc = concat!("The launcher of kernel `", #kname, "`.")]
        pub struct #launcher<#(#generics),*>;

        impl<#(#generics),*> #launcher<#(#const_names),*> {
            /// Compiles the kernel for the device on first use (cached),
            /// then runs it over `grid`.
            pub fn launch(
                &self,
                device: &::tritonc::api::Device,
                grid: ::tritonc::api::Grid,
                args: (#(#arg_types,)*),
            ) -> ::core::result::Result<(), ::tritonc::Error> {
                self.launch_with(device, grid, args, ::tritonc::api::LaunchOptions::default())
            }

            /// [`Self::launch`] with launch options (`num_warps`, ...)
            /// overriding the kernel's attributes.
            pub fn launch_with(
                &self,
                device: &::tritonc::api::Device,
                grid: ::tritonc::api::Grid,
                args: (#(#arg_types,)*),
                options: ::tritonc::api::LaunchOptions,
            ) -> ::core::result::Result<(), ::tritonc::Error> {
                let packed = ::std::vec![#(#packs),*];
                device.launch_with(&#source, &[#(#const_values),*], grid, packed, options)
            }

            /// Queues the launch on `stream` (asynchronous on a GPU; the
            /// buffers are shared with the device until it has run).
            pub fn launch_on(
                &self,
                stream: &::tritonc::api::Stream,
                grid: ::tritonc::api::Grid,
                args: (#(#arg_types,)*),
            ) -> ::core::result::Result<(), ::tritonc::Error> {
                let packed = ::std::vec![#(#packs),*];
                stream.device().launch_on(
                    ::core::option::Option::Some(stream),
                    &#source,
                    &[#(#const_values),*],
                    grid,
                    packed,
                    ::tritonc::api::LaunchOptions::default(),
                )
            }
        }

        #docs
        #[doc = concat!("Kernel `", #kname, "`: `", stringify!(#name), "::<consts>().launch(&device, grid, args)`.")]
        pub fn #name<#(#generics),*>() -> #launcher<#(#const_names),*> {
            #launcher
        }

        #[allow(non_camel_case_types)]
        #[doc = concat!("The autotuned launcher of kernel `", #kname, "`: const values come from the tuner's configs.")]
        pub struct #tuned_launcher;

        impl #tuned_launcher {
            /// Runs with the config `tuner` chose for these arguments'
            /// key (tuning on the device first if the key is new); `grid`
            /// gives the grid for a config.
            pub fn launch(
                &self,
                device: &::tritonc::api::Device,
                tuner: &::tritonc::autotune::Autotuner,
                grid: impl Fn(&::tritonc::autotune::Config) -> ::tritonc::api::Grid,
                args: (#(#arg_types,)*),
            ) -> ::core::result::Result<(), ::tritonc::Error> {
                let packed = ::std::vec![#(#packs),*];
                device.launch_tuned(&#source, tuner, &grid, packed)
            }

            /// The kernel's embedded source (to ask a tuner what it chose).
            pub fn source(&self) -> &'static ::tritonc::api::KernelSource {
                &#source
            }
        }

        #[doc = concat!("Kernel `", #kname, "` launched through an autotuner: `", stringify!(#tuned), "().launch(&device, &tuner, grid_fn, args)`.")]
        pub fn #tuned() -> #tuned_launcher {
            #tuned_launcher
        }
    }
}

fn syn_index(i: usize) -> proc_macro2::Literal {
    proc_macro2::Literal::usize_unsuffixed(i)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// `  let x = a+b; // c` on line 7 and `}` on line 8, as tokens.
    fn tokens() -> (Vec<TokenLocation>, Vec<String>) {
        let t = |line, col, text: &str| {
            let end = col + text.chars().count();
            (((0, 0), (line, col), (line, end)), text.to_string())
        };
        [
            t(7, 2, "let"),
            t(7, 6, "x"),
            t(7, 8, "="),
            t(7, 10, "a"),
            t(7, 11, "+"),
            t(7, 12, "b"),
            t(7, 13, ";"),
            t(8, 0, "}"),
        ]
        .into_iter()
        .unzip()
    }

    #[test]
    fn lines_are_rebuilt_at_the_tokens_columns() {
        let (tokens, texts) = tokens();
        assert_eq!(rebuild_lines(7, 8, &tokens, &texts), ["  let x = a+b;", "}"]);
    }

    #[test]
    fn a_file_is_used_only_if_it_holds_the_tokens() {
        let (tokens, texts) = tokens();
        let lines = |a: &str| vec![a.to_string(), "}".to_string()];
        assert!(tokens_match(&lines("  let x = a+b; // c"), 7, &tokens, &texts));
        assert!(!tokens_match(&lines("  let x = a + b;"), 7, &tokens, &texts));
    }
}
