//! Bounded emulation of the small decoders that assemble a command at run time: quoted
//! fragments concatenated or joined into a variable, character-code lists run through a
//! repeating XOR key or an affine byte cipher (`(a*v+b) % 256`), base85/base64/hex blobs
//! decoded through aliases (`_load = getattr(b, "b85" + "decode")`), zlib and marshal wrappers.
//!
//! This is not an interpreter. A code segment is cut into statements; each statement is parsed
//! with a small expression grammar shared by Python, JavaScript and PowerShell (literals,
//! names, calls, attributes, indexing, arithmetic, lambdas and arrow functions, comprehensions)
//! and evaluated over constants only, in file order, twice (so a function body that uses a
//! constant defined below it still sees it). Shell gets its own evaluator of `name=value`
//! assignments and `$name` expansion. Anything the grammar does not know makes that statement
//! unknown, never an error.
//!
//! A value is handed back as a payload when it is text that *reveals* something: a payload word
//! (`curl`, `http`, `exec`, `subprocess`…) that appears in the value but nowhere in the source
//! segment. Honest code that builds `"curl " + url` already shows the word; a dropper that
//! writes `'cu' + 'rl'` or packs it in numbers does not.
//!
//! Everything is bounded: source size, statements, tokens per statement, nesting depth, value
//! size, evaluation steps and wall time. Hostile input makes statements unknown; it never
//! panics, loops or allocates without bound.

use std::collections::{HashMap, HashSet};
use std::ops::Range;
use std::rc::Rc;
use std::time::{Duration, Instant};

use super::{DecodeLimits, Payload, SIGNALS};
use crate::engine::lang::Lang;

/// Bounds of one emulation (one code segment).
#[derive(Debug, Clone)]
pub struct EmulateLimits {
    /// Longer segments are not emulated.
    pub max_source: usize,
    pub max_statements: usize,
    pub max_tokens_per_statement: usize,
    /// Nesting of expressions (parser and evaluator recursion).
    pub max_depth: usize,
    /// Bytes of one value (string, bytes) or elements of one list.
    pub max_value: usize,
    /// Evaluation steps for the whole segment (a step is a node, or 64 bytes produced).
    pub max_steps: u64,
    pub time: Duration,
}

impl Default for EmulateLimits {
    fn default() -> Self {
        EmulateLimits {
            max_source: 512 * 1024,
            max_statements: 20_000,
            max_tokens_per_statement: 20_000,
            max_depth: 24,
            max_value: 256 * 1024,
            max_steps: 2_000_000,
            time: Duration::from_millis(200),
        }
    }
}

/// Emulates the decoders of a code segment in `lang`; spans are byte ranges of `text`.
pub fn emulate(text: &str, lang: Lang, limits: &DecodeLimits) -> Vec<Payload> {
    emulate_with(text, lang, limits, &EmulateLimits::default())
}

pub fn emulate_with(text: &str, lang: Lang, limits: &DecodeLimits, bounds: &EmulateLimits) -> Vec<Payload> {
    if text.len() > bounds.max_source {
        return Vec::new();
    }
    let dialect = match lang {
        Lang::Python => Dialect::Python,
        Lang::Javascript | Lang::Typescript => Dialect::Js,
        Lang::Powershell => Dialect::PowerShell,
        Lang::Shell => Dialect::Shell,
        _ => return Vec::new(),
    };
    let max_value = bounds.max_value.min(limits.max_decoded_bytes);
    let bounds = EmulateLimits { max_value, ..bounds.clone() };
    let mut budget = Budget::new(&bounds);
    let candidates = if dialect == Dialect::Shell {
        shell::run(text, &bounds, &mut budget)
    } else {
        let tokens = lex(text, dialect, &mut budget);
        let statements = split_statements(&tokens, &bounds);
        let mut emu = Emu {
            bounds: &bounds,
            budget,
            globals: HashMap::new(),
            locals: Vec::new(),
            pending: None,
            out: Vec::new(),
        };
        // The first pass parses each statement it reaches and keeps it; the second evaluates
        // what the first kept (parsing is pure, and a statement the first pass did not reach
        // before the budget ran out is not reached by the second either).
        let mut parsed: Vec<(Stmt, Range<usize>)> = Vec::new();
        for range in &statements {
            if emu.budget.exhausted() {
                break;
            }
            let Some(stmt) = Parser::new(&tokens[range.clone()], bounds.max_depth).statement() else { continue };
            let span = span_of(&tokens, range);
            emu.statement(&stmt, &span);
            parsed.push((stmt, span));
        }
        emu.pending = None;
        for (stmt, span) in &parsed {
            if emu.budget.exhausted() {
                break;
            }
            emu.statement(stmt, span);
        }
        emu.out
    };
    if candidates.is_empty() {
        return Vec::new();
    }
    let source = text.to_ascii_lowercase();
    let mut seen = HashSet::new();
    let mut total = 0usize;
    let mut out = Vec::new();
    for candidate in candidates {
        if out.len() >= limits.max_payloads {
            break;
        }
        let Some(text) = candidate.text() else { continue };
        if !reveals(&text, &source) || !seen.insert(text.clone()) {
            continue;
        }
        total += text.len();
        if total > limits.max_decoded_bytes {
            break;
        }
        let mut chain = vec!["emulated".to_string()];
        chain.extend(candidate.ops.iter().map(|s| s.to_string()));
        out.push(Payload { span: candidate.span, chain, text });
    }
    out
}

/// Whether `text` holds a payload word that the source does not show.
fn reveals(text: &str, source_lower: &str) -> bool {
    let lower = text.to_ascii_lowercase();
    SIGNALS.iter().any(|s| lower.contains(s) && !source_lower.contains(s))
}

/// A value worth showing, with where it came from and how.
struct Candidate {
    span: Range<usize>,
    value: Val,
    ops: Vec<&'static str>,
}

impl Candidate {
    fn text(&self) -> Option<String> {
        match &self.value {
            Val::Str(s) => super::texty(s).then(|| s.clone()),
            Val::Bytes(b) => super::as_text(b).map(|(t, _)| t),
            _ => None,
        }
    }
}

struct Budget {
    steps: u64,
    max_steps: u64,
    deadline: Instant,
    out_of_time: bool,
}

impl Budget {
    fn new(bounds: &EmulateLimits) -> Budget {
        Budget { steps: 0, max_steps: bounds.max_steps, deadline: Instant::now() + bounds.time, out_of_time: false }
    }

    /// Charges `n` steps; `None` once the budget is spent.
    fn charge(&mut self, n: u64) -> Option<()> {
        let before = self.steps;
        self.steps = self.steps.saturating_add(n);
        if before / 4096 != self.steps / 4096 && Instant::now() > self.deadline {
            self.out_of_time = true;
        }
        (!self.exhausted()).then_some(())
    }

    fn exhausted(&self) -> bool {
        self.out_of_time || self.steps > self.max_steps
    }
}

// ---------------------------------------------------------------------------------------------
// Lexer (Python, JavaScript, PowerShell)

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Dialect {
    Python,
    Js,
    PowerShell,
    Shell,
}

#[derive(Debug, Clone, PartialEq)]
enum Tok {
    Str(String),
    Bytes(Vec<u8>),
    /// PowerShell `"…$name…"`: literal and variable parts.
    Interp(Vec<(bool, String)>),
    Num(i64),
    Ident(String),
    /// PowerShell type literal, lower-cased: `[char]`, `[system.text.encoding]`.
    Type(String),
    Punct(&'static str),
    Newline,
    /// Something not understood (f-string, template with `${}`, float): makes its statement unknown.
    Unknown,
}

#[derive(Debug, Clone)]
struct Token {
    tok: Tok,
    span: Range<usize>,
}

const PUNCTS: &[&str] = &[
    "...", "**", "//", "=>", "==", "!=", "<=", ">=", "<<", ">>", "+=", "::", "&&", "||", "(", ")", "[", "]", "{", "}",
    ",", ";", ":", ".", "+", "-", "*", "/", "%", "^", "&", "|", "=", "<", ">", "!", "~", "?", "@",
];

fn lex(text: &str, dialect: Dialect, budget: &mut Budget) -> Vec<Token> {
    let bytes = text.as_bytes();
    let mut out = Vec::new();
    let mut i = 0;
    while i < bytes.len() {
        if budget.charge(1).is_none() {
            break;
        }
        let c = bytes[i];
        let start = i;
        match c {
            b'\n' => {
                out.push(Token { tok: Tok::Newline, span: i..i + 1 });
                i += 1;
            }
            b' ' | b'\t' | b'\r' => i += 1,
            b'\\' if bytes.get(i + 1) == Some(&b'\n') => i += 2,
            b'`' if dialect == Dialect::PowerShell && bytes.get(i + 1) == Some(&b'\n') => i += 2,
            b'#' if dialect != Dialect::Js => {
                if dialect == Dialect::PowerShell && bytes.get(i.wrapping_sub(1)) == Some(&b'<') {
                    i = find(bytes, i, b"#>").map_or(bytes.len(), |e| e + 2);
                } else {
                    i = memchr::memchr(b'\n', &bytes[i..]).map_or(bytes.len(), |e| i + e);
                }
            }
            b'<' if dialect == Dialect::PowerShell && bytes.get(i + 1) == Some(&b'#') => {
                i = find(bytes, i + 2, b"#>").map_or(bytes.len(), |e| e + 2);
            }
            b'/' if dialect == Dialect::Js && bytes.get(i + 1) == Some(&b'/') => {
                i = memchr::memchr(b'\n', &bytes[i..]).map_or(bytes.len(), |e| i + e);
            }
            b'/' if dialect == Dialect::Js && bytes.get(i + 1) == Some(&b'*') => {
                i = find(bytes, i + 2, b"*/").map_or(bytes.len(), |e| e + 2);
            }
            b'"' | b'\'' | b'`' => {
                let (tok, end) = string(text, i, "", dialect);
                out.push(Token { tok, span: start..end });
                i = end;
            }
            b'0'..=b'9' => {
                let (tok, end) = number(bytes, i);
                out.push(Token { tok, span: start..end });
                i = end;
            }
            b'$' if dialect == Dialect::PowerShell => {
                let (name, end) = ps_variable(text, i);
                out.push(Token { tok: name.map_or(Tok::Unknown, Tok::Ident), span: start..end });
                i = end.max(i + 1);
            }
            b'[' if dialect == Dialect::PowerShell && ps_type(bytes, i).is_some() => {
                let end = ps_type(bytes, i).unwrap_or(i + 1);
                out.push(Token { tok: Tok::Type(text[i + 1..end - 1].to_ascii_lowercase()), span: start..end });
                i = end;
            }
            b'-' if dialect == Dialect::PowerShell && bytes.get(i + 1).is_some_and(u8::is_ascii_alphabetic) => {
                let mut end = i + 1;
                while end < bytes.len() && bytes[end].is_ascii_alphabetic() {
                    end += 1;
                }
                let tok = match text[i + 1..end].to_ascii_lowercase().as_str() {
                    "bxor" => Tok::Punct("^"),
                    "band" => Tok::Punct("&"),
                    "bor" => Tok::Punct("|"),
                    "shl" => Tok::Punct("<<"),
                    "shr" => Tok::Punct(">>"),
                    "join" => Tok::Punct("-join"),
                    _ => Tok::Unknown,
                };
                out.push(Token { tok, span: start..end });
                i = end;
            }
            c if c.is_ascii_alphabetic() || c == b'_' || c == b'$' => {
                let mut end = i;
                while end < bytes.len()
                    && (bytes[end].is_ascii_alphanumeric()
                        || bytes[end] == b'_'
                        || bytes[end] == b'$'
                        || (dialect == Dialect::PowerShell
                            && bytes[end] == b'-'
                            && bytes.get(end + 1).is_some_and(u8::is_ascii_alphabetic)))
                {
                    end += 1;
                }
                let word = &text[i..end];
                // String prefixes: r'', b'', f'', rb'' (Python).
                if dialect == Dialect::Python
                    && word.len() <= 2
                    && word.bytes().all(|b| b"rRbBuUfF".contains(&b))
                    && matches!(bytes.get(end), Some(b'"' | b'\''))
                {
                    let (tok, stop) = string(text, end, word, dialect);
                    out.push(Token { tok, span: start..stop });
                    i = stop;
                } else {
                    out.push(Token { tok: Tok::Ident(word.to_string()), span: start..end });
                    i = end;
                }
            }
            _ if c >= 0x80 => {
                let len = text[i..].chars().next().map_or(1, char::len_utf8);
                out.push(Token { tok: Tok::Unknown, span: i..i + len });
                i += len;
            }
            _ => {
                let rest = &text[i..];
                // The first byte rules out most of the list without a comparison of the rest.
                let p = PUNCTS.iter().find(|p| p.as_bytes()[0] == c && rest.starts_with(**p)).copied();
                out.push(Token { tok: p.map_or(Tok::Unknown, Tok::Punct), span: i..i + p.map_or(1, str::len) });
                i += p.map_or(1, str::len);
            }
        }
    }
    out
}

fn find(bytes: &[u8], from: usize, needle: &[u8]) -> Option<usize> {
    memchr::memmem::find(bytes.get(from..)?, needle).map(|p| p + from)
}

fn number(bytes: &[u8], start: usize) -> (Tok, usize) {
    let mut end = start;
    while end < bytes.len() && (bytes[end].is_ascii_alphanumeric() || bytes[end] == b'_') {
        end += 1;
    }
    let raw: String = String::from_utf8_lossy(&bytes[start..end]).replace('_', "").to_ascii_lowercase();
    let raw = raw.trim_end_matches('n');
    let value = if let Some(hex) = raw.strip_prefix("0x") {
        i64::from_str_radix(hex, 16).ok()
    } else if let Some(oct) = raw.strip_prefix("0o") {
        i64::from_str_radix(oct, 8).ok()
    } else if let Some(bin) = raw.strip_prefix("0b") {
        i64::from_str_radix(bin, 2).ok()
    } else {
        raw.parse().ok()
    };
    // A float or a number glued to letters is not a constant we use.
    if bytes.get(end) == Some(&b'.') && bytes.get(end + 1).is_some_and(u8::is_ascii_digit) {
        let mut stop = end + 1;
        while stop < bytes.len() && bytes[stop].is_ascii_alphanumeric() {
            stop += 1;
        }
        return (Tok::Unknown, stop);
    }
    (value.map_or(Tok::Unknown, Tok::Num), end)
}

/// `$name`, `${name}`, `$env:NAME`, `$script:x` (PowerShell); names are lower-cased.
fn ps_variable(text: &str, start: usize) -> (Option<String>, usize) {
    let bytes = text.as_bytes();
    if bytes.get(start + 1) == Some(&b'{') {
        let end = memchr::memchr(b'}', &bytes[start..]).map_or(bytes.len(), |e| start + e);
        return (Some(format!("${}", text[start + 2..end].to_ascii_lowercase())), (end + 1).min(bytes.len()));
    }
    let mut end = start + 1;
    while end < bytes.len() && (bytes[end].is_ascii_alphanumeric() || matches!(bytes[end], b'_' | b':')) {
        end += 1;
    }
    if end == start + 1 {
        return (None, end);
    }
    (Some(format!("${}", text[start + 1..end].to_ascii_lowercase())), end)
}

/// End of a PowerShell type literal `[System.Text.Encoding]`, `[char[]]` starting at `start`.
fn ps_type(bytes: &[u8], start: usize) -> Option<usize> {
    let mut i = start + 1;
    if !bytes.get(i)?.is_ascii_alphabetic() {
        return None;
    }
    while i < bytes.len() && (bytes[i].is_ascii_alphanumeric() || bytes[i] == b'.' || bytes[i] == b'_') {
        i += 1;
    }
    if bytes.get(i..i + 2) == Some(b"[]") {
        i += 2;
    }
    (bytes.get(i) == Some(&b']')).then_some(i + 1)
}

/// A string literal starting at the quote `start`; `prefix` holds Python prefixes.
fn string(text: &str, start: usize, prefix: &str, dialect: Dialect) -> (Tok, usize) {
    let bytes = text.as_bytes();
    let q = bytes[start];
    let prefix = prefix.to_ascii_lowercase();
    let raw = prefix.contains('r') || (dialect == Dialect::PowerShell && q == b'\'');
    let is_bytes = prefix.contains('b');
    let triple = dialect == Dialect::Python && bytes.get(start..start + 3) == Some(&[q, q, q][..]);
    let open = if triple { 3 } else { 1 };
    let mut i = start + open;
    let mut out: Vec<u8> = Vec::new();
    let mut parts: Vec<(bool, String)> = Vec::new();
    let mut unknown = prefix.contains('f');
    loop {
        let Some(&c) = bytes.get(i) else {
            return (Tok::Unknown, bytes.len());
        };
        if triple {
            if bytes.get(i..i + 3) == Some(&[q, q, q][..]) {
                i += 3;
                break;
            }
        } else if c == q {
            // PowerShell doubles a quote to escape it.
            if dialect == Dialect::PowerShell && bytes.get(i + 1) == Some(&q) {
                out.push(q);
                i += 2;
                continue;
            }
            i += 1;
            break;
        } else if c == b'\n' && q != b'`' {
            return (Tok::Unknown, i);
        }
        if q == b'`' && c == b'$' && bytes.get(i + 1) == Some(&b'{') {
            unknown = true;
        }
        if dialect == Dialect::PowerShell && q == b'"' {
            if c == b'`' && i + 1 < bytes.len() {
                let next = bytes[i + 1];
                out.push(match next {
                    b'n' => b'\n',
                    b't' => b'\t',
                    b'r' => b'\r',
                    b'0' => 0,
                    other => other,
                });
                i += 2;
                continue;
            }
            if c == b'$' {
                let (name, end) = ps_variable(text, i);
                match name {
                    Some(name) if !name.contains('(') => {
                        parts.push((false, String::from_utf8_lossy(&std::mem::take(&mut out)).into_owned()));
                        parts.push((true, name));
                        i = end;
                        continue;
                    }
                    _ => {
                        if bytes.get(i + 1) == Some(&b'(') {
                            unknown = true;
                        }
                    }
                }
            }
        }
        if c == b'\\' && !raw && dialect != Dialect::PowerShell {
            let (decoded, used) = escape(&bytes[i + 1..]);
            out.extend_from_slice(&decoded);
            i += 1 + used;
            continue;
        }
        out.push(c);
        i += 1;
    }
    if unknown {
        return (Tok::Unknown, i);
    }
    if !parts.is_empty() {
        parts.push((false, String::from_utf8_lossy(&out).into_owned()));
        return (Tok::Interp(parts), i);
    }
    if is_bytes {
        return (Tok::Bytes(out), i);
    }
    (String::from_utf8(out).map_or(Tok::Unknown, Tok::Str), i)
}

/// One backslash escape (the text after the backslash): decoded bytes and bytes consumed.
fn escape(rest: &[u8]) -> (Vec<u8>, usize) {
    let Some(&c) = rest.first() else { return (Vec::new(), 0) };
    let hex = |s: &[u8]| std::str::from_utf8(s).ok().and_then(|s| u32::from_str_radix(s, 16).ok());
    let simple = |b: u8| (vec![b], 1);
    match c {
        b'n' => simple(b'\n'),
        b't' => simple(b'\t'),
        b'r' => simple(b'\r'),
        b'0' if !rest.get(1).is_some_and(|d| (b'0'..=b'7').contains(d)) => simple(0),
        b'x' => match rest.get(1..3).and_then(hex) {
            Some(v) => (vec![v as u8], 3),
            None => simple(b'x'),
        },
        b'u' if rest.get(1) == Some(&b'{') => {
            let end = rest.iter().position(|&b| b == b'}').unwrap_or(rest.len());
            match rest.get(2..end).and_then(hex).and_then(char::from_u32) {
                Some(ch) => (ch.to_string().into_bytes(), end + 1),
                None => simple(b'u'),
            }
        }
        b'u' => match rest.get(1..5).and_then(hex).and_then(char::from_u32) {
            Some(ch) => (ch.to_string().into_bytes(), 5),
            None => simple(b'u'),
        },
        b'0'..=b'7' => {
            let n = rest.iter().take(3).take_while(|d| (b'0'..=b'7').contains(d)).count();
            let v = std::str::from_utf8(&rest[..n]).ok().and_then(|s| u32::from_str_radix(s, 8).ok()).unwrap_or(0);
            (vec![v as u8], n)
        }
        b'\n' => (Vec::new(), 1),
        other => simple(other),
    }
}

/// Token ranges of statements: split at newlines and `;` outside brackets, and at braces.
fn split_statements(tokens: &[Token], bounds: &EmulateLimits) -> Vec<Range<usize>> {
    let mut out = Vec::new();
    let mut stack: Vec<&'static str> = Vec::new();
    let mut start = 0;
    let close = |out: &mut Vec<Range<usize>>, start: &mut usize, end: usize| {
        if end > *start && out.len() < bounds.max_statements {
            out.push(*start..end.min(*start + bounds.max_tokens_per_statement));
        }
        *start = end + 1;
    };
    for (i, token) in tokens.iter().enumerate() {
        match token.tok {
            // A PowerShell script block fed by a pipeline (`… | % { … }`) is part of its statement.
            Tok::Punct("{") if i > 0 && is_foreach(&tokens[i - 1].tok) => stack.push("{e"),
            Tok::Punct("}") if stack.last() == Some(&"{e") => {
                stack.pop();
            }
            Tok::Punct("{") => {
                close(&mut out, &mut start, i);
                stack.push("{");
            }
            Tok::Punct("}") => {
                close(&mut out, &mut start, i);
                while let Some(top) = stack.pop() {
                    if top == "{" {
                        break;
                    }
                }
            }
            Tok::Punct("(") => stack.push("("),
            Tok::Punct("[") => stack.push("["),
            Tok::Type(_) => {}
            Tok::Punct(")") | Tok::Punct("]") => {
                let want = if token.tok == Tok::Punct(")") { "(" } else { "[" };
                if stack.last() == Some(&want) {
                    stack.pop();
                }
            }
            Tok::Newline | Tok::Punct(";") if matches!(stack.last(), None | Some(&"{")) => {
                close(&mut out, &mut start, i);
            }
            _ => {}
        }
        if i >= start + bounds.max_tokens_per_statement {
            // A runaway statement (an unclosed bracket): give up on it and start afresh.
            close(&mut out, &mut start, i);
            stack.clear();
        }
    }
    close(&mut out, &mut start, tokens.len());
    out
}

/// `%` or `ForEach-Object` before a script block.
fn is_foreach(tok: &Tok) -> bool {
    match tok {
        Tok::Punct("%") => true,
        Tok::Ident(w) => w.eq_ignore_ascii_case("foreach-object"),
        _ => false,
    }
}

fn span_of(tokens: &[Token], stmt: &Range<usize>) -> Range<usize> {
    let first = tokens.get(stmt.start).map_or(0, |t| t.span.start);
    let last = tokens.get(stmt.end.saturating_sub(1)).map_or(first, |t| t.span.end);
    first..last.max(first)
}

// ---------------------------------------------------------------------------------------------
// Parser

#[derive(Debug, Clone)]
enum Expr {
    Val(Val),
    Interp(Vec<(bool, String)>),
    Name(String),
    List(Vec<Expr>),
    Spread(Box<Expr>),
    Attr(Box<Expr>, String),
    Call(Box<Expr>, Vec<Expr>),
    Index(Box<Expr>, Box<Expr>),
    Slice(Box<Expr>, [Option<Box<Expr>>; 3]),
    Bin(&'static str, Box<Expr>, Box<Expr>),
    /// `a + b + c …`, folded from the left.
    Sum(Vec<Expr>),
    Neg(Box<Expr>),
    Cast(String, Box<Expr>),
    JoinAll(Box<Expr>),
    /// PowerShell `items | % { body with $_ }`.
    Pipe(Box<Expr>, Rc<Lambda>),
    Lambda(Rc<Lambda>),
    Comp {
        elem: Box<Expr>,
        vars: Vec<String>,
        iter: Box<Expr>,
    },
}

#[derive(Debug)]
struct Lambda {
    params: Vec<String>,
    body: Expr,
}

enum Stmt {
    Assign(Vec<String>, Expr),
    AddAssign(String, Expr),
    Expr(Expr),
    Return(Expr),
    Import(Vec<(String, String)>),
    /// `def name(params):` / `function name(params)`, with the body when it is on the same line
    /// (`def f(x): return …`).
    Def(String, Vec<String>, Option<Expr>),
}

struct Parser<'t> {
    toks: Vec<&'t Tok>,
    pos: usize,
    depth: usize,
    max_depth: usize,
}

const KEYWORDS_SKIPPED: &[&str] = &["return", "const", "let", "var", "export", "await", "yield", "new", "global"];

/// Commands that run their argument as code (PowerShell command syntax: `iex $x`).
const COMMAND_SINKS: &[&str] = &["iex", "invoke-expression"];

impl<'t> Parser<'t> {
    fn new(tokens: &'t [Token], max_depth: usize) -> Parser<'t> {
        let toks = tokens.iter().map(|t| &t.tok).filter(|t| **t != Tok::Newline).collect();
        Parser { toks, pos: 0, depth: 0, max_depth }
    }

    fn peek(&self) -> Option<&'t Tok> {
        self.toks.get(self.pos).copied()
    }

    fn peek_at(&self, n: usize) -> Option<&'t Tok> {
        self.toks.get(self.pos + n).copied()
    }

    fn bump(&mut self) -> Option<&'t Tok> {
        let t = self.peek();
        self.pos += 1;
        t
    }

    fn eat(&mut self, p: &str) -> bool {
        if matches!(self.peek(), Some(Tok::Punct(q)) if *q == p) {
            self.pos += 1;
            true
        } else {
            false
        }
    }

    fn is_ident(&self, word: &str) -> bool {
        matches!(self.peek(), Some(Tok::Ident(w)) if w == word)
    }

    fn statement(&mut self) -> Option<Stmt> {
        let mut returned = false;
        while let Some(Tok::Ident(w)) = self.peek() {
            if KEYWORDS_SKIPPED.contains(&w.as_str()) {
                returned |= w == "return";
                self.pos += 1;
            } else {
                break;
            }
        }
        if returned {
            let expr = self.expr_list()?;
            return self.done(Stmt::Return(expr));
        }
        match self.peek()? {
            Tok::Ident(w) if w == "import" || w == "from" => return self.import(),
            Tok::Ident(w) if w == "def" || w == "function" => return self.def(),
            Tok::Ident(w) if w == "class" => return None,
            Tok::Ident(w)
                if COMMAND_SINKS.contains(&w.to_ascii_lowercase().as_str())
                    && !matches!(self.peek_at(1), Some(Tok::Punct("(")) | None) =>
            {
                let name = w.to_ascii_lowercase();
                self.pos += 1;
                let arg = self.expr_list()?;
                return self.done(Stmt::Expr(Expr::Call(Box::new(Expr::Name(name)), vec![arg])));
            }
            _ => {}
        }
        // Assignment targets: `a = …`, `a, b = …`, `a: T = …`, `a += …`.
        let save = self.pos;
        let mut targets = Vec::new();
        while let Some(Tok::Ident(name)) = self.peek() {
            targets.push(name.clone());
            self.pos += 1;
            if !self.eat(",") {
                break;
            }
        }
        if !targets.is_empty() {
            if targets.len() == 1 && self.eat(":") {
                // A Python annotation: skip the type up to `=`.
                while !matches!(self.peek(), Some(Tok::Punct("=")) | None) {
                    self.pos += 1;
                }
            }
            if self.eat("=") {
                let value = self.expr_list()?;
                return self.done(Stmt::Assign(targets, value));
            }
            if targets.len() == 1 && self.eat("+=") {
                let value = self.expr_list()?;
                return self.done(Stmt::AddAssign(targets.remove(0), value));
            }
        }
        self.pos = save;
        let expr = self.expr_list()?;
        self.done(Stmt::Expr(expr))
    }

    /// `def name(a, b=1) -> T:` or `function name(a, b)`, optionally followed by `return expr`.
    fn def(&mut self) -> Option<Stmt> {
        self.pos += 1;
        let Tok::Ident(name) = self.bump()? else { return None };
        if !self.eat("(") {
            return None;
        }
        let mut params = Vec::new();
        while let Some(Tok::Ident(p)) = self.peek() {
            params.push(p.clone());
            self.pos += 1;
            // Defaults and annotations are skipped.
            while !matches!(self.peek(), Some(Tok::Punct("," | ")")) | None) {
                self.pos += 1;
            }
            if !self.eat(",") {
                break;
            }
        }
        if !self.eat(")") {
            return None;
        }
        while !matches!(self.peek(), Some(Tok::Punct(":")) | None) {
            self.pos += 1;
        }
        self.eat(":");
        if self.is_ident("return") {
            self.pos += 1;
            let body = self.expr_list()?;
            return self.done(Stmt::Def(name.clone(), params, Some(body)));
        }
        self.done(Stmt::Def(name.clone(), params, None))
    }

    fn done(&self, stmt: Stmt) -> Option<Stmt> {
        (self.pos >= self.toks.len()).then_some(stmt)
    }

    /// `import a.b as c, d` and `from m import x as y, z`.
    fn import(&mut self) -> Option<Stmt> {
        let from = matches!(self.bump()?, Tok::Ident(w) if w == "from");
        let mut module = String::new();
        if from {
            module = self.dotted()?;
            if !self.is_ident("import") {
                return None;
            }
            self.pos += 1;
        }
        self.eat("(");
        let mut out = Vec::new();
        loop {
            let name = self.dotted()?;
            let alias = if self.is_ident("as") {
                self.pos += 1;
                match self.bump()? {
                    Tok::Ident(a) => Some(a.clone()),
                    _ => return None,
                }
            } else {
                None
            };
            let (alias, full) = match (alias, from) {
                (Some(alias), true) => (alias, format!("{module}.{name}")),
                (Some(alias), false) => (alias, name),
                (None, true) => (name.clone(), format!("{module}.{name}")),
                // `import a.b` binds `a`.
                (None, false) => {
                    let top = name.split('.').next().unwrap_or(&name).to_string();
                    (top.clone(), top)
                }
            };
            out.push((alias, full));
            if !self.eat(",") {
                break;
            }
        }
        Some(Stmt::Import(out))
    }

    fn dotted(&mut self) -> Option<String> {
        let mut name = match self.bump()? {
            Tok::Ident(w) => w.clone(),
            _ => return None,
        };
        while self.eat(".") {
            match self.bump()? {
                Tok::Ident(w) => {
                    name.push('.');
                    name.push_str(w);
                }
                _ => return None,
            }
        }
        Some(name)
    }

    /// `a, b, c` at statement level is a tuple (PowerShell arrays, Python tuples).
    fn expr_list(&mut self) -> Option<Expr> {
        let first = self.expr(0)?;
        if !matches!(self.peek(), Some(Tok::Punct(","))) {
            return Some(first);
        }
        let mut items = vec![first];
        while self.eat(",") {
            if self.peek().is_none() {
                break;
            }
            items.push(self.expr(0)?);
        }
        Some(Expr::List(items))
    }

    fn expr(&mut self, min_bp: u8) -> Option<Expr> {
        self.depth += 1;
        if self.depth > self.max_depth {
            return None;
        }
        let result = self.expr_inner(min_bp);
        self.depth -= 1;
        result
    }

    /// Every node that wraps `lhs` (a call, an attribute, an operator) counts as one level of
    /// depth, so no expression tree is deeper than `max_depth` (dropping and evaluating trees
    /// recurse). Chains of `+` are one n-ary node: long concatenations are what droppers write.
    fn expr_inner(&mut self, min_bp: u8) -> Option<Expr> {
        let base = self.depth;
        let result = self.chain(min_bp);
        self.depth = base;
        result
    }

    fn chain(&mut self, min_bp: u8) -> Option<Expr> {
        let mut lhs = self.prefix()?;
        while let Some(tok) = self.peek() {
            let extends_sum = matches!(tok, Tok::Punct("+")) && matches!(lhs, Expr::Sum(_));
            if !extends_sum {
                self.depth += 1;
                if self.depth > self.max_depth {
                    return None;
                }
            }
            match tok {
                Tok::Punct("(") => {
                    self.pos += 1;
                    let args = self.items(")")?;
                    lhs = Expr::Call(Box::new(lhs), args);
                }
                Tok::Punct("[") => {
                    self.pos += 1;
                    lhs = self.subscript(lhs)?;
                }
                Tok::Punct(".") | Tok::Punct("::") => {
                    self.pos += 1;
                    match self.bump()? {
                        Tok::Ident(name) => lhs = Expr::Attr(Box::new(lhs), name.clone()),
                        _ => return None,
                    }
                }
                Tok::Punct("|")
                    if min_bp <= 1
                        && self.peek_at(1).is_some_and(is_foreach)
                        && self.peek_at(2) == Some(&Tok::Punct("{")) =>
                {
                    self.pos += 3;
                    let body = self.expr(0)?;
                    if !self.eat("}") {
                        return None;
                    }
                    let each = Rc::new(Lambda { params: vec!["$_".to_string()], body });
                    lhs = Expr::Pipe(Box::new(lhs), each);
                }
                Tok::Punct(op) => {
                    let Some((l, r)) = infix_bp(op) else { break };
                    if l < min_bp {
                        break;
                    }
                    self.pos += 1;
                    let rhs = self.expr(r)?;
                    lhs = match (op, lhs) {
                        (&"+", Expr::Sum(mut terms)) => {
                            terms.push(rhs);
                            Expr::Sum(terms)
                        }
                        (&"+", lhs) => Expr::Sum(vec![lhs, rhs]),
                        (op, lhs) => Expr::Bin(op, Box::new(lhs), Box::new(rhs)),
                    };
                }
                _ => break,
            }
        }
        Some(lhs)
    }

    fn prefix(&mut self) -> Option<Expr> {
        let tok = self.bump()?;
        Some(match tok {
            Tok::Str(s) => {
                // Adjacent literals concatenate (Python).
                let mut s = s.clone();
                while let Some(Tok::Str(next)) = self.peek() {
                    s.push_str(next);
                    self.pos += 1;
                }
                Expr::Val(Val::Str(s))
            }
            Tok::Bytes(b) => {
                let mut b = b.clone();
                while let Some(Tok::Bytes(next)) = self.peek() {
                    b.extend_from_slice(next);
                    self.pos += 1;
                }
                Expr::Val(Val::Bytes(b))
            }
            Tok::Interp(parts) => Expr::Interp(parts.clone()),
            Tok::Num(n) => Expr::Val(Val::Int(*n)),
            Tok::Ident(w) => match w.as_str() {
                "lambda" => {
                    let mut params = Vec::new();
                    while let Some(Tok::Ident(p)) = self.peek() {
                        params.push(p.clone());
                        self.pos += 1;
                        if !self.eat(",") {
                            break;
                        }
                    }
                    if !self.eat(":") {
                        return None;
                    }
                    let body = self.expr(0)?;
                    Expr::Lambda(Rc::new(Lambda { params, body }))
                }
                "new" | "await" => self.expr(30)?,
                "None" | "null" | "undefined" | "$null" => Expr::Val(Val::None),
                "True" | "true" | "$true" => Expr::Val(Val::Int(1)),
                "False" | "false" | "$false" => Expr::Val(Val::Int(0)),
                "for" | "in" | "if" | "else" | "not" | "and" | "or" | "typeof" | "def" | "function" => return None,
                _ if matches!(self.peek(), Some(Tok::Punct("=>"))) => {
                    self.pos += 1;
                    let body = self.expr(0)?;
                    Expr::Lambda(Rc::new(Lambda { params: vec![w.clone()], body }))
                }
                _ => Expr::Name(w.clone()),
            },
            Tok::Type(name) => {
                if matches!(self.peek(), Some(Tok::Punct("::"))) {
                    Expr::Name(name.clone())
                } else {
                    let operand = self.expr(25)?;
                    Expr::Cast(name.clone(), Box::new(operand))
                }
            }
            Tok::Punct("(") => {
                if let Some(params) = self.arrow_params() {
                    let body = self.expr(0)?;
                    return Some(Expr::Lambda(Rc::new(Lambda { params, body })));
                }
                let first = self.expr(0)?;
                if self.is_ident("for") {
                    let comp = self.comprehension(first)?;
                    return self.eat(")").then_some(comp);
                }
                if self.eat(")") {
                    return Some(first);
                }
                let mut items = vec![first];
                while self.eat(",") {
                    if self.eat(")") {
                        return Some(Expr::List(items));
                    }
                    items.push(self.expr(0)?);
                }
                if !self.eat(")") {
                    return None;
                }
                Expr::List(items)
            }
            Tok::Punct("[") => {
                if self.eat("]") {
                    return Some(Expr::List(Vec::new()));
                }
                let first = self.item()?;
                if self.is_ident("for") {
                    let comp = self.comprehension(first)?;
                    return self.eat("]").then_some(comp);
                }
                let mut items = vec![first];
                while self.eat(",") {
                    if matches!(self.peek(), Some(Tok::Punct("]"))) {
                        break;
                    }
                    items.push(self.item()?);
                }
                if !self.eat("]") {
                    return None;
                }
                Expr::List(items)
            }
            Tok::Punct("@") if self.eat("(") => {
                let items = self.items(")")?;
                match items.as_slice() {
                    [Expr::List(_)] => items.into_iter().next()?,
                    _ => Expr::List(items),
                }
            }
            Tok::Punct("-") => Expr::Neg(Box::new(self.expr(24)?)),
            Tok::Punct("+") => self.expr(24)?,
            Tok::Punct("-join") => Expr::JoinAll(Box::new(self.expr(24)?)),
            Tok::Punct("...") | Tok::Punct("*") => Expr::Spread(Box::new(self.expr(24)?)),
            _ => return None,
        })
    }

    /// `(a, b) =>` after an opening parenthesis: the parameter names.
    fn arrow_params(&mut self) -> Option<Vec<String>> {
        let save = self.pos;
        let mut params = Vec::new();
        loop {
            match self.peek() {
                Some(Tok::Ident(p)) => {
                    params.push(p.clone());
                    self.pos += 1;
                }
                Some(Tok::Punct(")")) if params.is_empty() => {}
                _ => break,
            }
            if !self.eat(",") {
                break;
            }
        }
        if self.eat(")") && self.eat("=>") {
            return Some(params);
        }
        self.pos = save;
        None
    }

    fn item(&mut self) -> Option<Expr> {
        if self.eat("...") || self.eat("*") {
            return Some(Expr::Spread(Box::new(self.expr(0)?)));
        }
        self.expr(0)
    }

    /// Call arguments up to `close`; keyword arguments keep their value only.
    fn items(&mut self, close: &str) -> Option<Vec<Expr>> {
        let mut args = Vec::new();
        if self.eat(close) {
            return Some(args);
        }
        loop {
            if let (Some(Tok::Ident(_)), Some(Tok::Punct("="))) = (self.peek(), self.peek_at(1)) {
                self.pos += 2;
            }
            let arg = self.item()?;
            if self.is_ident("for") {
                args.push(self.comprehension(arg)?);
            } else {
                args.push(arg);
            }
            if self.eat(close) {
                return Some(args);
            }
            if !self.eat(",") {
                return None;
            }
            if self.eat(close) {
                return Some(args);
            }
        }
    }

    /// `elem for a, b in iter` (no `if` filter).
    fn comprehension(&mut self, elem: Expr) -> Option<Expr> {
        self.pos += 1; // for
        let mut vars = Vec::new();
        let paren = self.eat("(");
        while let Some(Tok::Ident(v)) = self.peek() {
            if v == "in" {
                break;
            }
            vars.push(v.clone());
            self.pos += 1;
            if !self.eat(",") {
                break;
            }
        }
        if paren && !self.eat(")") {
            return None;
        }
        if !self.is_ident("in") || vars.is_empty() {
            return None;
        }
        self.pos += 1;
        let iter = self.expr(0)?;
        if self.is_ident("if") || self.is_ident("for") {
            return None;
        }
        Some(Expr::Comp { elem: Box::new(elem), vars, iter: Box::new(iter) })
    }

    /// After `[`: an index or a slice.
    fn subscript(&mut self, base: Expr) -> Option<Expr> {
        let mut parts: [Option<Box<Expr>>; 3] = [None, None, None];
        let mut slot = 0;
        let mut slice = false;
        loop {
            match self.peek()? {
                Tok::Punct("]") => {
                    self.pos += 1;
                    break;
                }
                Tok::Punct(colons @ (":" | "::")) => {
                    self.pos += 1;
                    slice = true;
                    slot += colons.len();
                    if slot > 2 {
                        return None;
                    }
                }
                _ => {
                    if parts[slot].is_some() {
                        return None;
                    }
                    parts[slot] = Some(Box::new(self.expr(0)?));
                }
            }
        }
        if slice {
            Some(Expr::Slice(Box::new(base), parts))
        } else {
            let [index, _, _] = parts;
            Some(Expr::Index(Box::new(base), index?))
        }
    }
}

fn infix_bp(op: &str) -> Option<(u8, u8)> {
    Some(match op {
        "-join" => (2, 3),
        "|" => (4, 5),
        "^" => (6, 7),
        "&" => (8, 9),
        "<<" | ">>" => (10, 11),
        "+" | "-" => (12, 13),
        "*" | "/" | "//" | "%" => (14, 15),
        "**" => (19, 18),
        _ => return None,
    })
}

// ---------------------------------------------------------------------------------------------
// Values and evaluation

#[derive(Debug, Clone)]
enum Val {
    None,
    Int(i64),
    Str(String),
    Bytes(Vec<u8>),
    List(Vec<Val>),
    /// A module, builtin or function reached by name (`base64.b85decode`), lower-cased.
    Func(String),
    Method(Box<Val>, String),
    Lambda(Rc<Lambda>),
}

/// Functions that run their argument as code: reaching one is recorded.
const SINKS: &[&str] = &[
    "exec",
    "eval",
    "execsync",
    "execfile",
    "spawn",
    "spawnsync",
    "system",
    "popen",
    "run",
    "call",
    "check_output",
    "check_call",
    "function",
    "iex",
    "invoke-expression",
    "create",
    "runinnewcontext",
    "runinthiscontext",
];

struct Emu<'b> {
    bounds: &'b EmulateLimits,
    budget: Budget,
    globals: HashMap<String, Val>,
    locals: Vec<HashMap<String, Val>>,
    /// A function header whose body is still to come: its first `return` becomes its body.
    pending: Option<(String, Vec<String>)>,
    out: Vec<Candidate>,
}

/// Operations a value went through, for the payload chain.
type Ops = Vec<&'static str>;

fn note(ops: &mut Ops, op: &'static str) {
    if !ops.contains(&op) && ops.len() < 16 {
        ops.push(op);
    }
}

impl Emu<'_> {
    fn statement(&mut self, stmt: &Stmt, span: &Range<usize>) {
        let mut ops = Ops::new();
        match stmt {
            Stmt::Import(names) => {
                for (alias, full) in names {
                    self.globals.insert(alias.clone(), Val::Func(full.to_ascii_lowercase()));
                }
            }
            Stmt::Assign(targets, expr) => {
                let value = self.eval(expr, &mut ops, 0, span);
                match (targets.len(), value) {
                    (1, Some(v)) if nesting_ok(&v) => {
                        self.keep(span, &v, &ops);
                        self.globals.insert(targets[0].clone(), v);
                    }
                    (n, Some(Val::List(items))) if n == items.len() && items.iter().all(nesting_ok) => {
                        for (t, v) in targets.iter().zip(items) {
                            self.globals.insert(t.clone(), v);
                        }
                    }
                    _ => {
                        for t in targets {
                            self.globals.remove(t);
                        }
                    }
                }
            }
            Stmt::AddAssign(target, expr) => {
                let joined = Expr::Bin("+", Box::new(Expr::Name(target.clone())), Box::new(expr.clone()));
                match self.eval(&joined, &mut ops, 0, span) {
                    Some(v) if nesting_ok(&v) => {
                        self.keep(span, &v, &ops);
                        self.globals.insert(target.clone(), v);
                    }
                    _ => {
                        self.globals.remove(target);
                    }
                }
            }
            Stmt::Expr(expr) => {
                if let Some(v) = self.eval(expr, &mut ops, 0, span) {
                    self.keep(span, &v, &ops);
                }
            }
            Stmt::Return(expr) => {
                if let Some((name, params)) = self.pending.take() {
                    let zero_args = params.is_empty();
                    let function = Rc::new(Lambda { params, body: expr.clone() });
                    self.globals.insert(name, Val::Lambda(function.clone()));
                    if zero_args && let Some(v) = self.eval(&function.body, &mut ops, 0, span) {
                        self.keep(span, &v, &ops);
                    }
                } else if let Some(v) = self.eval(expr, &mut ops, 0, span) {
                    self.keep(span, &v, &ops);
                }
            }
            Stmt::Def(name, params, body) => match body {
                Some(body) => {
                    self.pending = None;
                    let function = Lambda { params: params.clone(), body: body.clone() };
                    self.globals.insert(name.clone(), Val::Lambda(Rc::new(function)));
                }
                None => self.pending = Some((name.clone(), params.clone())),
            },
        }
    }

    /// Keeps a text value as a candidate payload when it went through some operation.
    fn keep(&mut self, span: &Range<usize>, value: &Val, ops: &Ops) {
        if ops.is_empty() || !matches!(value, Val::Str(_) | Val::Bytes(_)) || self.out.len() >= 4096 {
            return;
        }
        self.out.push(Candidate { span: span.clone(), value: value.clone(), ops: ops.clone() });
    }

    fn lookup(&self, name: &str) -> Option<Val> {
        for scope in self.locals.iter().rev() {
            if let Some(v) = scope.get(name) {
                return Some(v.clone());
            }
        }
        self.globals.get(name).cloned()
    }

    fn size_ok(&mut self, v: &Val) -> Option<()> {
        let w = weight(v, self.bounds.max_value);
        self.budget.charge(w as u64 / 64)?;
        (w <= self.bounds.max_value).then_some(())
    }

    /// Adds `v` to a list under construction whose weight so far is `total`.
    fn grow(&mut self, out: &mut Vec<Val>, total: &mut usize, v: Val) -> Option<()> {
        *total += weight(&v, self.bounds.max_value);
        if *total > self.bounds.max_value {
            return None;
        }
        out.push(v);
        Some(())
    }

    fn eval(&mut self, expr: &Expr, ops: &mut Ops, depth: usize, span: &Range<usize>) -> Option<Val> {
        if depth > self.bounds.max_depth {
            return None;
        }
        self.budget.charge(1)?;
        let v = self.eval_inner(expr, ops, depth + 1, span)?;
        self.size_ok(&v)?;
        Some(v)
    }

    fn eval_inner(&mut self, expr: &Expr, ops: &mut Ops, depth: usize, span: &Range<usize>) -> Option<Val> {
        match expr {
            Expr::Val(v) => Some(v.clone()),
            Expr::Interp(parts) => {
                let mut s = String::new();
                for (is_var, part) in parts {
                    if *is_var {
                        s.push_str(&self.lookup(part).and_then(|v| to_str(&v))?);
                        note(ops, "concat");
                    } else {
                        s.push_str(part);
                    }
                    if s.len() > self.bounds.max_value {
                        return None;
                    }
                }
                Some(Val::Str(s))
            }
            Expr::Name(name) => {
                Some(self.lookup(name).unwrap_or_else(|| Val::Func(name.trim_start_matches('$').to_ascii_lowercase())))
            }
            Expr::List(items) => {
                let (mut out, mut total) = (Vec::new(), 0);
                for item in items {
                    match item {
                        Expr::Spread(inner) => {
                            for v in iterate(self.eval(inner, ops, depth, span)?)? {
                                self.grow(&mut out, &mut total, v)?;
                            }
                        }
                        _ => {
                            let v = self.eval(item, ops, depth, span)?;
                            self.grow(&mut out, &mut total, v)?;
                        }
                    }
                }
                Some(Val::List(out))
            }
            Expr::Spread(inner) => self.eval(inner, ops, depth, span),
            Expr::Attr(base, name) => {
                let base = self.eval(base, ops, depth, span)?;
                let lower = name.to_ascii_lowercase();
                match base {
                    Val::Func(module) => Some(Val::Func(format!("{module}.{lower}"))),
                    Val::Str(s) if lower == "length" => Some(Val::Int(s.chars().count() as i64)),
                    Val::Bytes(b) if lower == "length" => Some(Val::Int(b.len() as i64)),
                    Val::List(l) if lower == "length" || lower == "count" => Some(Val::Int(l.len() as i64)),
                    other => Some(Val::Method(Box::new(other), lower)),
                }
            }
            Expr::Call(callee, args) => {
                let f = self.eval(callee, ops, depth, span)?;
                let (mut values, mut total) = (Vec::new(), 0);
                for arg in args {
                    match arg {
                        Expr::Spread(inner) => {
                            for v in iterate(self.eval(inner, ops, depth, span)?)? {
                                self.grow(&mut values, &mut total, v)?;
                            }
                        }
                        _ => {
                            let v = self.eval(arg, ops, depth, span)?;
                            self.grow(&mut values, &mut total, v)?;
                        }
                    }
                }
                self.call(f, values, ops, depth, span)
            }
            Expr::Index(base, index) => {
                let base = self.eval(base, ops, depth, span)?;
                if let Val::Str(s) = &base {
                    self.budget.charge(s.len() as u64 / 64)?;
                }
                let index = self.eval(index, ops, depth, span)?;
                index_of(&base, &index)
            }
            Expr::Slice(base, parts) => {
                let base = self.eval(base, ops, depth, span)?;
                let mut nums = [None, None, None];
                for (slot, part) in parts.iter().enumerate() {
                    if let Some(p) = part {
                        nums[slot] = Some(as_int(&self.eval(p, ops, depth, span)?)?);
                    }
                }
                slice_of(&base, nums)
            }
            Expr::Sum(terms) => {
                let mut terms = terms.iter();
                let mut acc = self.eval(terms.next()?, ops, depth, span)?;
                for term in terms {
                    let next = self.eval(term, ops, depth, span)?;
                    acc = self.binary("+", acc, next, ops)?;
                    self.size_ok(&acc)?;
                }
                Some(acc)
            }
            Expr::Bin(op, l, r) => {
                let l = self.eval(l, ops, depth, span)?;
                let r = self.eval(r, ops, depth, span)?;
                self.binary(op, l, r, ops)
            }
            Expr::Neg(inner) => Some(Val::Int(as_int(&self.eval(inner, ops, depth, span)?)?.wrapping_neg())),
            Expr::Cast(ty, inner) => {
                let v = self.eval(inner, ops, depth, span)?;
                let ty = ty.trim_start_matches("system.");
                match ty {
                    "char" => {
                        note(ops, "char-codes");
                        Some(Val::Str(char::from_u32(u32::try_from(as_int(&v)?).ok()?)?.to_string()))
                    }
                    "char[]" => {
                        note(ops, "char-codes");
                        match v {
                            Val::Str(s) => Some(Val::List(s.chars().map(|c| Val::Str(c.to_string())).collect())),
                            other => {
                                let items = iterate(other)?;
                                let mut out = Vec::with_capacity(items.len());
                                for item in items {
                                    out.push(Val::Str(
                                        char::from_u32(u32::try_from(as_int(&item)?).ok()?)?.to_string(),
                                    ));
                                }
                                Some(Val::List(out))
                            }
                        }
                    }
                    "byte[]" => Some(Val::Bytes(to_bytes(&v)?)),
                    "byte" | "int" => Some(Val::Int(as_int(&v)?)),
                    "string" => Some(Val::Str(to_str(&v)?)),
                    "scriptblock" => Some(v),
                    _ => None,
                }
            }
            Expr::JoinAll(inner) => {
                let v = self.eval(inner, ops, depth, span)?;
                note(ops, "join");
                join(iterate(v)?, "")
            }
            Expr::Lambda(l) => Some(Val::Lambda(l.clone())),
            Expr::Pipe(items, each) => {
                let items = iterate(self.eval(items, ops, depth, span)?)?;
                let (mut out, mut total) = (Vec::with_capacity(items.len()), 0);
                for item in items {
                    let v = self.call(Val::Lambda(each.clone()), vec![item], ops, depth + 1, span)?;
                    self.grow(&mut out, &mut total, v)?;
                }
                Some(Val::List(out))
            }
            Expr::Comp { elem, vars, iter } => {
                let items = iterate(self.eval(iter, ops, depth, span)?)?;
                let (mut out, mut total) = (Vec::with_capacity(items.len()), 0);
                for item in items {
                    let scope = bind(vars, item)?;
                    self.locals.push(scope);
                    let v = self.eval(elem, ops, depth, span);
                    self.locals.pop();
                    self.grow(&mut out, &mut total, v?)?;
                }
                Some(Val::List(out))
            }
        }
    }

    fn binary(&mut self, op: &str, l: Val, r: Val, ops: &mut Ops) -> Option<Val> {
        match (op, l, r) {
            ("-join", l, r) => {
                note(ops, "join");
                join(iterate(l)?, &to_str(&r)?)
            }
            ("+", Val::Str(a), b) => {
                note(ops, "concat");
                Some(Val::Str(a + &to_str(&b)?))
            }
            ("+", a @ Val::Int(_), Val::Str(b)) => Some(Val::Str(to_str(&a)? + &b)),
            ("+", Val::Bytes(mut a), Val::Bytes(b)) => {
                note(ops, "concat");
                a.extend_from_slice(&b);
                Some(Val::Bytes(a))
            }
            ("+", Val::List(mut a), Val::List(b)) => {
                a.extend(b);
                Some(Val::List(a))
            }
            ("*", Val::Str(s), Val::Int(n)) | ("*", Val::Int(n), Val::Str(s)) => {
                let n = usize::try_from(n).ok()?;
                if s.len().checked_mul(n)? > self.bounds.max_value {
                    return None;
                }
                Some(Val::Str(s.repeat(n)))
            }
            ("*", Val::List(l), Val::Int(n)) => {
                let n = usize::try_from(n).ok()?;
                let w = weight(&Val::List(l.clone()), self.bounds.max_value);
                if w.checked_mul(n)? > self.bounds.max_value {
                    return None;
                }
                let mut out = Vec::with_capacity(l.len() * n);
                for _ in 0..n {
                    out.extend(l.iter().cloned());
                }
                Some(Val::List(out))
            }
            (op, Val::Int(a), Val::Int(b)) => {
                let v = match op {
                    "+" => a.wrapping_add(b),
                    "-" => a.wrapping_sub(b),
                    "*" => {
                        note(ops, "arithmetic");
                        a.wrapping_mul(b)
                    }
                    "%" => {
                        if b == 0 {
                            return None;
                        }
                        a.rem_euclid(b)
                    }
                    "/" | "//" => {
                        if b == 0 {
                            return None;
                        }
                        a.div_euclid(b)
                    }
                    "^" => {
                        note(ops, "xor");
                        a ^ b
                    }
                    "&" => a & b,
                    "|" => a | b,
                    "<<" => a.checked_shl(u32::try_from(b).ok()?)?,
                    ">>" => a.checked_shr(u32::try_from(b).ok()?)?,
                    "**" => a.checked_pow(u32::try_from(b).ok()?)?,
                    _ => return None,
                };
                Some(Val::Int(v))
            }
            _ => None,
        }
    }

    fn call(&mut self, f: Val, args: Vec<Val>, ops: &mut Ops, depth: usize, span: &Range<usize>) -> Option<Val> {
        match f {
            Val::Lambda(l) => {
                let mut scope = HashMap::new();
                for (i, p) in l.params.iter().enumerate() {
                    scope.insert(p.clone(), args.get(i).cloned().unwrap_or(Val::None));
                }
                self.locals.push(scope);
                let v = self.eval(&l.body, ops, depth, span);
                self.locals.pop();
                v
            }
            Val::Method(recv, name) => self.method(*recv, &name, args, ops, depth, span),
            Val::Func(name) => self.builtin(&name, args, ops, depth, span),
            _ => None,
        }
    }

    fn builtin(&mut self, name: &str, args: Vec<Val>, ops: &mut Ops, depth: usize, span: &Range<usize>) -> Option<Val> {
        let last = name.rsplit('.').next().unwrap_or(name);
        let first = args.first();
        if SINKS.contains(&last) {
            let code = match first? {
                Val::List(items) => join(items.clone(), " ").and_then(|v| to_str(&v)),
                v => to_str(v),
            };
            if let Some(code) = code {
                let mut sink_ops = ops.clone();
                note(&mut sink_ops, "run");
                // `compile`'s result is its source; exec/eval/system run it and return nothing.
                self.out.push(Candidate { span: span.clone(), value: Val::Str(code), ops: sink_ops });
            }
            return Some(Val::None);
        }
        match last {
            "compile" => first.cloned(),
            "getattr" => match (first?, args.get(1)?) {
                (Val::Func(m), Val::Str(attr)) => Some(Val::Func(format!("{m}.{}", attr.to_ascii_lowercase()))),
                _ => None,
            },
            "require" | "__import__" | "import_module" => Some(Val::Func(to_str(first?)?.to_ascii_lowercase())),
            "chr" => {
                note(ops, "char-codes");
                Some(Val::Str(char::from_u32(u32::try_from(as_int(first?)?).ok()?)?.to_string()))
            }
            "ord" => Some(Val::Int(to_str(first?)?.chars().next()? as i64)),
            "fromcharcode" | "fromcodepoint" => {
                note(ops, "char-codes");
                let mut s = String::new();
                for a in &args {
                    s.push(char::from_u32(u32::try_from(as_int(a)?).ok()?)?);
                }
                Some(Val::Str(s))
            }
            "bytes" | "bytearray" | "uint8array" => match first {
                Some(Val::Str(s)) => Some(Val::Bytes(s.as_bytes().to_vec())),
                Some(v) => {
                    if matches!(v, Val::List(_)) {
                        note(ops, "byte-list");
                    }
                    Some(Val::Bytes(to_bytes(v)?))
                }
                None => Some(Val::Bytes(Vec::new())),
            },
            "str" | "string" => Some(Val::Str(to_str(first?)?)),
            "list" | "tuple" | "array" => Some(Val::List(iterate(first?.clone())?)),
            "len" => Some(Val::Int(match first? {
                Val::Str(s) => s.chars().count(),
                Val::Bytes(b) => b.len(),
                Val::List(l) => l.len(),
                _ => return None,
            } as i64)),
            "int" | "parseint" => {
                let base = args.get(1).and_then(as_int).unwrap_or(10);
                match first? {
                    Val::Int(n) => Some(Val::Int(*n)),
                    Val::Str(s) => Some(Val::Int(i64::from_str_radix(s.trim(), u32::try_from(base).ok()?).ok()?)),
                    _ => None,
                }
            }
            "range" => {
                let (start, stop) = match args.as_slice() {
                    [stop] => (0, as_int(stop)?),
                    [start, stop, ..] => (as_int(start)?, as_int(stop)?),
                    _ => return None,
                };
                if stop.saturating_sub(start) > self.bounds.max_value as i64 {
                    return None;
                }
                Some(Val::List((start..stop).map(Val::Int).collect()))
            }
            "enumerate" => {
                let items = iterate(first?.clone())?;
                Some(Val::List(
                    items.into_iter().enumerate().map(|(i, v)| Val::List(vec![Val::Int(i as i64), v])).collect(),
                ))
            }
            "zip" => {
                let a = iterate(first?.clone())?;
                let b = iterate(args.get(1)?.clone())?;
                Some(Val::List(a.into_iter().zip(b).map(|(x, y)| Val::List(vec![x, y])).collect()))
            }
            "reversed" => {
                let mut items = iterate(first?.clone())?;
                items.reverse();
                Some(Val::List(items))
            }
            "map" => {
                let f = first?.clone();
                let items = iterate(args.get(1)?.clone())?;
                let (mut out, mut total) = (Vec::with_capacity(items.len()), 0);
                for item in items {
                    let v = self.call(f.clone(), vec![item], ops, depth + 1, span)?;
                    self.grow(&mut out, &mut total, v)?;
                }
                Some(Val::List(out))
            }
            "b85decode" | "a85decode" | "z85decode" | "decode85" => {
                let text = to_str(first?)?;
                let decoded = match last {
                    "a85decode" => super::decode_a85(&text),
                    "z85decode" => super::decode_z85(&text),
                    _ => super::decode_b85(&text),
                }?;
                note(ops, "base85");
                Some(Val::Bytes(decoded))
            }
            "b64decode" | "standard_b64decode" | "urlsafe_b64decode" | "decodebytes" | "atob" | "frombase64string" => {
                let text = to_str(first?)?;
                let compact: String = text.chars().filter(|c| !c.is_whitespace()).collect();
                note(ops, "base64");
                let bytes = super::decode_base64(&compact)?;
                Some(if last == "atob" {
                    Val::Str(bytes.iter().map(|&b| b as char).collect())
                } else {
                    Val::Bytes(bytes)
                })
            }
            "b32decode" => {
                note(ops, "base32");
                Some(Val::Bytes(super::decode_base32(&to_str(first?)?)?))
            }
            "b16decode" | "unhexlify" | "a2b_hex" | "fromhex" => {
                note(ops, "hex");
                let text: String = to_str(first?)?.chars().filter(|c| !c.is_whitespace()).collect();
                Some(Val::Bytes(hex::decode(text).ok()?))
            }
            "decompress" | "inflatesync" | "unzipsync" | "gunzipsync" | "inflaterawsync" => {
                let bytes = to_bytes(first?)?;
                let (out, how) = super::inflate(&bytes, self.bounds.max_value)?;
                note(ops, how);
                Some(Val::Bytes(out))
            }
            "loads" if name.contains("marshal") => {
                // A marshalled code object: its string constants and names are what it does.
                let bytes = to_bytes(first?)?;
                note(ops, "marshal");
                Some(Val::Str(crate::engine::text::printable_strings(&bytes, self.bounds.max_value)))
            }
            "from" if name.ends_with("buffer.from") => {
                let enc = args.get(1).and_then(to_str).unwrap_or_default().to_ascii_lowercase();
                match (first?, enc.as_str()) {
                    (Val::Str(s), "base64") => {
                        note(ops, "base64");
                        Some(Val::Bytes(super::decode_base64(s)?))
                    }
                    (Val::Str(s), "hex") => {
                        note(ops, "hex");
                        Some(Val::Bytes(hex::decode(s).ok()?))
                    }
                    (Val::Str(s), _) => Some(Val::Bytes(s.as_bytes().to_vec())),
                    (v, _) => Some(Val::Bytes(to_bytes(v)?)),
                }
            }
            // `codecs.decode(s, "rot13")` (also hex and base64 through codecs).
            "decode" if name.contains("codecs") => {
                let text = to_str(first?)?;
                match to_str(args.get(1)?)?.to_ascii_lowercase().replace(['-', '_'], "").as_str() {
                    "rot13" => {
                        note(ops, "rot13");
                        Some(Val::Str(super::rot13(&text)))
                    }
                    "hex" | "hexcodec" => {
                        note(ops, "hex");
                        Some(Val::Bytes(hex::decode(text).ok()?))
                    }
                    "base64" | "base64codec" => {
                        note(ops, "base64");
                        Some(Val::Bytes(super::decode_base64(&text)?))
                    }
                    _ => None,
                }
            }
            "unescape" | "decodeuricomponent" | "decodeuri" | "unquote" | "unquote_plus" => {
                let text = to_str(first?)?;
                let decoded = percent_encoding::percent_decode_str(&text).decode_utf8().ok()?.into_owned();
                if decoded != text {
                    note(ops, "percent");
                }
                Some(Val::Str(decoded))
            }
            "getstring" => {
                let bytes = to_bytes(first?)?;
                if name.contains("unicode") {
                    let units: Vec<u16> = bytes.chunks_exact(2).map(|p| u16::from_le_bytes([p[0], p[1]])).collect();
                    return Some(Val::Str(String::from_utf16(&units).ok()?));
                }
                Some(Val::Str(String::from_utf8(bytes).ok()?))
            }
            _ => None,
        }
    }

    fn method(
        &mut self,
        recv: Val,
        name: &str,
        args: Vec<Val>,
        ops: &mut Ops,
        depth: usize,
        span: &Range<usize>,
    ) -> Option<Val> {
        let first = args.first();
        match (recv, name) {
            (Val::Str(sep), "join") => {
                note(ops, "join");
                join(iterate(first?.clone())?, &sep)
            }
            (Val::List(items), "join") => {
                note(ops, "join");
                let sep = first.map_or(Some(",".to_string()), to_str)?;
                join(items, &sep)
            }
            (Val::Bytes(b), "decode") => {
                let enc = first.and_then(to_str).unwrap_or_default().to_ascii_lowercase();
                if enc.starts_with("latin") || enc == "iso-8859-1" {
                    return Some(Val::Str(b.iter().map(|&c| c as char).collect()));
                }
                Some(Val::Str(String::from_utf8(b).ok()?))
            }
            (Val::Bytes(b), "tostring") => {
                let enc = first.and_then(to_str).unwrap_or_default().to_ascii_lowercase();
                match enc.as_str() {
                    "base64" => Some(Val::Str(base64::Engine::encode(&base64::engine::general_purpose::STANDARD, b))),
                    "hex" => Some(Val::Str(hex::encode(b))),
                    "latin1" | "binary" => Some(Val::Str(b.iter().map(|&c| c as char).collect())),
                    _ => Some(Val::Str(String::from_utf8(b).ok()?)),
                }
            }
            (Val::Str(s), "encode") => Some(Val::Bytes(s.into_bytes())),
            (Val::Str(s), "decode") => {
                // Python 2 `s.decode('base64')` / `'hex'`.
                let enc = first.and_then(to_str).unwrap_or_default().to_ascii_lowercase();
                match enc.as_str() {
                    "base64" => {
                        note(ops, "base64");
                        Some(Val::Bytes(super::decode_base64(&s)?))
                    }
                    "hex" => Some(Val::Bytes(hex::decode(s).ok()?)),
                    _ => Some(Val::Str(s)),
                }
            }
            (Val::Str(s), "tostring" | "strip" | "trim") => Some(Val::Str(s.trim().to_string())),
            (Val::Str(s), "split") => {
                let sep = first.and_then(to_str).unwrap_or_default();
                Some(Val::List(if sep.is_empty() {
                    s.chars().map(|c| Val::Str(c.to_string())).collect()
                } else {
                    s.split(sep.as_str()).map(|p| Val::Str(p.to_string())).collect()
                }))
            }
            (Val::Str(s), "replace" | "replaceall") => {
                let from = to_str(first?)?;
                let to = to_str(args.get(1)?)?;
                if from.is_empty() {
                    return None;
                }
                let out = s.replace(&from, &to);
                (out.len() <= self.bounds.max_value).then_some(Val::Str(out))
            }
            (Val::Str(s), "charcodeat") => {
                let i = usize::try_from(first.and_then(as_int).unwrap_or(0)).ok()?;
                Some(Val::Int(s.chars().nth(i)? as i64))
            }
            (Val::List(mut items), "reverse") => {
                items.reverse();
                Some(Val::List(items))
            }
            (v @ (Val::List(_) | Val::Bytes(_)), "map") => {
                let f = first?.clone();
                let items = iterate(v)?;
                let (mut out, mut total) = (Vec::with_capacity(items.len()), 0);
                for (i, item) in items.into_iter().enumerate() {
                    let v = self.call(f.clone(), vec![item, Val::Int(i as i64)], ops, depth + 1, span)?;
                    self.grow(&mut out, &mut total, v)?;
                }
                Some(Val::List(out))
            }
            (Val::Func(m), method) => self.builtin(&format!("{m}.{method}"), args, ops, depth, span),
            _ => None,
        }
    }
}

/// Size of a value for the budget: bytes of text plus one per element, counted up to `limit`.
fn weight(v: &Val, limit: usize) -> usize {
    let mut total = 0usize;
    let mut stack = vec![v];
    while let Some(v) = stack.pop() {
        total += match v {
            Val::Str(s) => s.len() + 1,
            Val::Bytes(b) => b.len() + 1,
            Val::List(items) => {
                stack.extend(items.iter());
                1
            }
            _ => 1,
        };
        if total > limit {
            return total;
        }
    }
    total
}

/// Lists nested at most eight deep: `x = [x]` repeated must not build a value whose drop recurses
/// without bound.
fn nesting_ok(v: &Val) -> bool {
    let mut stack = vec![(v, 0usize)];
    while let Some((v, depth)) = stack.pop() {
        if let Val::List(items) = v {
            if depth >= 8 {
                return false;
            }
            stack.extend(items.iter().map(|i| (i, depth + 1)));
        }
    }
    true
}

/// Binds comprehension variables (`for i, b in …` unpacks a pair).
fn bind(vars: &[String], item: Val) -> Option<HashMap<String, Val>> {
    let mut scope = HashMap::new();
    if vars.len() == 1 {
        scope.insert(vars[0].clone(), item);
        return Some(scope);
    }
    let Val::List(parts) = item else { return None };
    if parts.len() != vars.len() {
        return None;
    }
    scope.extend(vars.iter().cloned().zip(parts));
    Some(scope)
}

fn iterate(v: Val) -> Option<Vec<Val>> {
    match v {
        Val::List(items) => Some(items),
        Val::Bytes(b) => Some(b.into_iter().map(|x| Val::Int(x as i64)).collect()),
        Val::Str(s) => Some(s.chars().map(|c| Val::Str(c.to_string())).collect()),
        _ => None,
    }
}

fn as_int(v: &Val) -> Option<i64> {
    match v {
        Val::Int(n) => Some(*n),
        _ => None,
    }
}

fn to_str(v: &Val) -> Option<String> {
    match v {
        Val::Str(s) => Some(s.clone()),
        Val::Int(n) => Some(n.to_string()),
        Val::Bytes(b) => String::from_utf8(b.clone()).ok(),
        _ => None,
    }
}

fn to_bytes(v: &Val) -> Option<Vec<u8>> {
    match v {
        Val::Bytes(b) => Some(b.clone()),
        Val::Str(s) => Some(s.as_bytes().to_vec()),
        Val::List(items) => items.iter().map(|i| as_int(i).and_then(|n| u8::try_from(n).ok())).collect(),
        _ => None,
    }
}

fn join(items: Vec<Val>, sep: &str) -> Option<Val> {
    let parts: Option<Vec<String>> = items.iter().map(to_str).collect();
    Some(Val::Str(parts?.join(sep)))
}

fn index_of(base: &Val, index: &Val) -> Option<Val> {
    let i = as_int(index)?;
    let at = |len: usize| -> Option<usize> {
        let i = if i < 0 { i.checked_add(len as i64)? } else { i };
        usize::try_from(i).ok().filter(|&i| i < len)
    };
    match base {
        Val::List(items) => items.get(at(items.len())?).cloned(),
        Val::Bytes(b) => b.get(at(b.len())?).map(|&x| Val::Int(x as i64)),
        Val::Str(s) => {
            let n = s.chars().count();
            s.chars().nth(at(n)?).map(|c| Val::Str(c.to_string()))
        }
        _ => None,
    }
}

fn slice_of(base: &Val, [start, stop, step]: [Option<i64>; 3]) -> Option<Val> {
    let step = step.unwrap_or(1);
    if step == 0 {
        return None;
    }
    let items = iterate(base.clone())?;
    let len = items.len() as i64;
    let norm = |v: i64| if v < 0 { (v + len).max(if step < 0 { -1 } else { 0 }) } else { v.min(len) };
    let mut picked = Vec::new();
    if step > 0 {
        let (mut i, end) = (norm(start.unwrap_or(0)), norm(stop.unwrap_or(len)));
        while i < end {
            picked.push(items[i as usize].clone());
            i += step;
        }
    } else {
        let mut i = start.map_or(len - 1, |s| norm(s).min(len - 1));
        let end = stop.map_or(-1, norm);
        while i > end && i >= 0 {
            picked.push(items[i as usize].clone());
            i += step;
        }
    }
    match base {
        Val::Str(_) => join(picked, ""),
        Val::Bytes(_) => Some(Val::Bytes(to_bytes(&Val::List(picked))?)),
        _ => Some(Val::List(picked)),
    }
}

// ---------------------------------------------------------------------------------------------
// Shell

mod shell {
    use std::collections::HashMap;

    use super::{Budget, Candidate, EmulateLimits, Val};

    /// Expands `name=value` assignments and `$name` references in file order; every statement
    /// whose expansion needed a variable is a candidate.
    pub(super) fn run(text: &str, bounds: &EmulateLimits, budget: &mut Budget) -> Vec<Candidate> {
        let mut env: HashMap<String, String> = HashMap::new();
        let mut out = Vec::new();
        let mut offset = 0;
        for line in text.split_inclusive('\n') {
            let start = offset;
            offset += line.len();
            if budget.charge(1 + line.len() as u64 / 64).is_none() || out.len() >= 4096 {
                break;
            }
            for piece in split_commands(line) {
                let span = start + piece.start..start + piece.end;
                let cmd = line[piece].trim();
                if cmd.is_empty() || cmd.starts_with('#') {
                    continue;
                }
                let assignments = assignments(cmd);
                if !assignments.is_empty() {
                    for (name, value) in assignments {
                        match expand(value, &env, bounds.max_value) {
                            Some((v, used)) if budget.charge(v.len() as u64 / 64).is_some() => {
                                if used {
                                    out.push(Candidate {
                                        span: span.clone(),
                                        value: Val::Str(v.clone()),
                                        ops: vec!["concat"],
                                    });
                                }
                                env.insert(name.to_string(), v);
                            }
                            _ => {
                                env.remove(name);
                            }
                        }
                    }
                    continue;
                }
                if let Some((v, true)) = expand(cmd, &env, bounds.max_value) {
                    out.push(Candidate { span, value: Val::Str(v), ops: vec!["concat"] });
                }
            }
        }
        out
    }

    /// Byte ranges of `;`/`&&`/`||`-separated commands of a line, outside quotes.
    fn split_commands(line: &str) -> Vec<std::ops::Range<usize>> {
        let bytes = line.as_bytes();
        let mut out = Vec::new();
        let (mut start, mut i, mut quote) = (0, 0, None::<u8>);
        while i < bytes.len() {
            let c = bytes[i];
            match quote {
                Some(q) => {
                    if c == b'\\' && q == b'"' {
                        i += 1;
                    } else if c == q {
                        quote = None;
                    }
                }
                None => match c {
                    b'\'' | b'"' => quote = Some(c),
                    b'\\' => i += 1,
                    b';' => {
                        out.push(start..i);
                        start = i + 1;
                    }
                    b'&' | b'|' if bytes.get(i + 1) == Some(&c) => {
                        out.push(start..i);
                        start = i + 2;
                        i += 1;
                    }
                    _ => {}
                },
            }
            i += 1;
        }
        out.push(start.min(bytes.len())..bytes.len());
        out
    }

    /// `a=x b="y"` (optionally after export/local/readonly/declare): names and raw values.
    fn assignments(cmd: &str) -> Vec<(&str, &str)> {
        let mut rest = cmd;
        for kw in ["export ", "local ", "readonly ", "declare ", "typeset "] {
            if let Some(r) = rest.strip_prefix(kw) {
                rest = r.trim_start();
                while let Some(r) = rest.strip_prefix('-') {
                    rest = r.split_once(' ').map_or("", |(_, r)| r).trim_start();
                }
            }
        }
        let mut out = Vec::new();
        loop {
            let name_len = rest.bytes().take_while(|b| b.is_ascii_alphanumeric() || *b == b'_').count();
            if name_len == 0 || rest.as_bytes()[0].is_ascii_digit() || rest.as_bytes().get(name_len) != Some(&b'=') {
                return if rest.is_empty() { out } else { Vec::new() };
            }
            let name = &rest[..name_len];
            let after = &rest[name_len + 1..];
            let end = word_end(after);
            out.push((name, &after[..end]));
            rest = after[end..].trim_start();
            if rest.is_empty() {
                return out;
            }
        }
    }

    /// End of one shell word (quotes respected).
    fn word_end(s: &str) -> usize {
        let bytes = s.as_bytes();
        let (mut i, mut quote) = (0, None::<u8>);
        while i < bytes.len() {
            let c = bytes[i];
            match quote {
                Some(q) if c == q => quote = None,
                Some(b'"') if c == b'\\' => i += 1,
                Some(_) => {}
                None if c == b'\'' || c == b'"' => quote = Some(c),
                None if c == b'\\' => i += 1,
                None if c == b' ' || c == b'\t' || c == b'\n' => return i,
                None => {}
            }
            i += 1;
        }
        bytes.len()
    }

    /// Expands quotes, escapes and `$name`/`${name}`; `None` when a variable is unknown or a
    /// command substitution is needed. The flag tells whether a variable was used.
    fn expand(s: &str, env: &HashMap<String, String>, max: usize) -> Option<(String, bool)> {
        let bytes = s.as_bytes();
        let mut out = String::new();
        let mut used = false;
        let mut i = 0;
        let mut quote: Option<u8> = None;
        while i < bytes.len() {
            if out.len() > max {
                return None;
            }
            let c = bytes[i];
            if quote == Some(b'\'') {
                if c == b'\'' {
                    quote = None;
                } else {
                    let len = s[i..].chars().next().map_or(1, char::len_utf8);
                    out.push_str(&s[i..i + len]);
                    i += len;
                    continue;
                }
                i += 1;
                continue;
            }
            match c {
                b'\'' if quote.is_none() => quote = Some(b'\''),
                b'"' if quote.is_none() => quote = Some(b'"'),
                b'"' if quote == Some(b'"') => quote = None,
                b'\\' => {
                    if let Some(&n) = bytes.get(i + 1) {
                        if quote == Some(b'"') && !matches!(n, b'"' | b'\\' | b'$' | b'`') {
                            out.push('\\');
                        }
                        if n.is_ascii() {
                            out.push(n as char);
                            i += 2;
                            continue;
                        }
                    }
                }
                b'`' => return None,
                b'$' => {
                    let rest = &s[i + 1..];
                    let (name, used_len) = if let Some(braced) = rest.strip_prefix('{') {
                        let end = braced.find('}')?;
                        (&braced[..end], end + 2)
                    } else {
                        let n = rest.bytes().take_while(|b| b.is_ascii_alphanumeric() || *b == b'_').count();
                        (&rest[..n], n)
                    };
                    if name.is_empty() {
                        if rest.starts_with('(') {
                            return None;
                        }
                        out.push('$');
                        i += 1;
                        continue;
                    }
                    if !name.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'_') {
                        return None;
                    }
                    out.push_str(env.get(name)?);
                    used = true;
                    i += 1 + used_len;
                    continue;
                }
                _ => {
                    let len = s[i..].chars().next().map_or(1, char::len_utf8);
                    out.push_str(&s[i..i + len]);
                    i += len;
                    continue;
                }
            }
            i += 1;
        }
        (out.len() <= max).then_some((out, used))
    }
}

#[cfg(test)]
mod tests;
