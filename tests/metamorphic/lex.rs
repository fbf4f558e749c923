//! Small lexers for the languages the code rewrites touch (POSIX shell, Python, JavaScript /
//! TypeScript, PowerShell). Each returns a class per byte — code, a string whose `$x` expands,
//! a literal string, a comment — plus the string literal tokens, which is all that renaming a
//! variable or splitting a string needs. They are deliberately simple: a construct they do not
//! understand makes the rewrites skip a name or a string, never guess.

use std::ops::Range;

#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub enum Class {
    Code,
    /// Inside a string or here-document where `$name` expands (shell `"…"`, PowerShell `"…"`).
    Expand,
    /// Single-quoted string (shell / PowerShell `'…'`).
    Single,
    /// Any other literal text: ANSI-C strings, quoted here-documents, Python/JS strings.
    Literal,
    Comment,
}

#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub enum Lang {
    Shell,
    Python,
    Js,
    PowerShell,
}

impl Lang {
    pub fn from_path(path: &str, text: &str) -> Option<Lang> {
        let ext = path.rsplit_once('.').map(|(_, e)| e.to_ascii_lowercase()).unwrap_or_default();
        let name = path.rsplit('/').next().unwrap_or(path);
        match ext.as_str() {
            "sh" | "bash" | "zsh" | "command" => Some(Lang::Shell),
            "py" => Some(Lang::Python),
            "js" | "mjs" | "cjs" | "ts" | "mts" | "cts" => Some(Lang::Js),
            "ps1" | "psm1" => Some(Lang::PowerShell),
            _ if !name.contains('.') => {
                let first = text.lines().next().unwrap_or("");
                if first.starts_with("#!") && (first.contains("sh") && !first.contains("pwsh")) {
                    Some(Lang::Shell)
                } else if first.starts_with("#!") && first.contains("python") {
                    Some(Lang::Python)
                } else if first.starts_with("#!") && first.contains("node") {
                    Some(Lang::Js)
                } else {
                    None
                }
            }
            _ => None,
        }
    }

    pub fn from_fence(lang: &str) -> Option<Lang> {
        match lang {
            "sh" | "bash" | "shell" | "zsh" | "console" => Some(Lang::Shell),
            "python" | "py" | "python3" => Some(Lang::Python),
            "js" | "javascript" | "node" | "ts" | "typescript" => Some(Lang::Js),
            "powershell" | "ps1" | "pwsh" | "ps" => Some(Lang::PowerShell),
            _ => None,
        }
    }
}

/// A string literal: the whole token (prefix and quotes included) and its contents.
#[derive(Debug, Clone)]
pub struct StrTok {
    pub range: Range<usize>,
    pub content: Range<usize>,
    /// Prefix letters (`r`, `b`, `f`, … in Python; empty elsewhere).
    pub prefix: String,
    pub quote: String,
}

pub struct Lexed {
    pub class: Vec<Class>,
    pub strings: Vec<StrTok>,
    /// Shell arithmetic `$(( … ))` / `(( … ))`, where bare names are variables.
    pub arithmetic: Vec<Range<usize>>,
    /// Shell here-document bodies (quotes inside them are literal characters).
    pub heredocs: Vec<Range<usize>>,
}

pub fn lex(lang: Lang, src: &str) -> Lexed {
    match lang {
        Lang::Shell => shell(src),
        Lang::Python => python(src),
        Lang::Js => js(src),
        Lang::PowerShell => powershell(src),
    }
}

pub fn is_ident_start(b: u8) -> bool {
    b.is_ascii_alphabetic() || b == b'_'
}

pub fn is_ident(b: u8) -> bool {
    b.is_ascii_alphanumeric() || b == b'_'
}

fn fill(class: &mut [Class], r: Range<usize>, c: Class) {
    let end = r.end.min(class.len());
    for x in &mut class[r.start.min(end)..end] {
        *x = c;
    }
}

// ---------------------------------------------------------------------------------------------
// Shell

#[derive(Clone, Copy)]
enum ShCtx {
    /// Code; `closer` is what ends this level (`)` at paren depth 0, or a backtick).
    Code {
        depth: usize,
        closer: u8,
    },
    DQuote,
}

fn shell(src: &str) -> Lexed {
    let b = src.as_bytes();
    let mut class = vec![Class::Code; b.len()];
    let mut strings = Vec::new();
    let mut stack: Vec<ShCtx> = vec![ShCtx::Code { depth: 0, closer: 0 }];
    let mut pending: Vec<(String, bool, bool)> = Vec::new();
    let mut dq_start: Vec<usize> = Vec::new();
    let mut heredocs = Vec::new();
    let mut i = 0;
    while i < b.len() {
        let c = b[i];
        let top = *stack.last().unwrap_or(&ShCtx::Code { depth: 0, closer: 0 });
        match top {
            ShCtx::Code { depth, closer } => match c {
                b'\\' => i += 2,
                b'\n' => {
                    i += 1;
                    for (delim, quoted, strip) in std::mem::take(&mut pending) {
                        let start = i;
                        let mut end = b.len();
                        let mut j = i;
                        while j < b.len() {
                            let line_end = src[j..].find('\n').map_or(b.len(), |k| j + k);
                            let line = &src[j..line_end];
                            let line = if strip { line.trim_start_matches('\t') } else { line };
                            if line == delim {
                                end = j;
                                i = (line_end + 1).min(b.len());
                                break;
                            }
                            j = line_end + 1;
                        }
                        if end == b.len() {
                            i = b.len();
                        }
                        fill(&mut class, start..end, if quoted { Class::Literal } else { Class::Expand });
                        heredocs.push(start..end);
                    }
                }
                b'#' if i == 0 || matches!(b[i - 1], b' ' | b'\t' | b'\n' | b';' | b'(' | b'&' | b'|') => {
                    let end = src[i..].find('\n').map_or(b.len(), |k| i + k);
                    fill(&mut class, i..end, Class::Comment);
                    i = end;
                }
                b'\'' => {
                    let ansi = i > 0 && b[i - 1] == b'$';
                    let mut j = i + 1;
                    while j < b.len() && b[j] != b'\'' {
                        if ansi && b[j] == b'\\' {
                            j += 1;
                        }
                        j += 1;
                    }
                    let end = (j + 1).min(b.len());
                    fill(&mut class, i..end, if ansi { Class::Literal } else { Class::Single });
                    if !ansi {
                        strings.push(StrTok {
                            range: i..end,
                            content: i + 1..j.min(b.len()),
                            prefix: String::new(),
                            quote: "'".into(),
                        });
                    }
                    i = end;
                }
                b'"' => {
                    class[i] = Class::Expand;
                    dq_start.push(i);
                    stack.push(ShCtx::DQuote);
                    i += 1;
                }
                b'$' if b.get(i + 1) == Some(&b'(') => {
                    stack.push(ShCtx::Code { depth: 0, closer: b')' });
                    i += 2;
                }
                b'`' if closer == b'`' => {
                    stack.pop();
                    i += 1;
                }
                b'`' => {
                    stack.push(ShCtx::Code { depth: 0, closer: b'`' });
                    i += 1;
                }
                b'(' if closer == b')' => {
                    *stack.last_mut().expect("stack") = ShCtx::Code { depth: depth + 1, closer };
                    i += 1;
                }
                b')' if closer == b')' => {
                    if depth == 0 {
                        stack.pop();
                    } else {
                        *stack.last_mut().expect("stack") = ShCtx::Code { depth: depth - 1, closer };
                    }
                    i += 1;
                }
                b'<' if b.get(i + 1) == Some(&b'<') && b.get(i + 2) != Some(&b'<') => {
                    let mut j = i + 2;
                    let strip = b.get(j) == Some(&b'-');
                    if strip {
                        j += 1;
                    }
                    while j < b.len() && (b[j] == b' ' || b[j] == b'\t') {
                        j += 1;
                    }
                    let quoted = matches!(b.get(j), Some(b'\'' | b'"')) || b.get(j) == Some(&b'\\');
                    let q = if quoted { b[j] } else { 0 };
                    if quoted {
                        j += 1;
                    }
                    let s = j;
                    while j < b.len() && (is_ident(b[j]) || b[j] == b'-' || b[j] == b'.') {
                        j += 1;
                    }
                    if j > s {
                        pending.push((src[s..j].to_string(), quoted, strip));
                        if quoted && q != b'\\' && b.get(j) == Some(&q) {
                            j += 1;
                        }
                    }
                    i = j;
                }
                _ => i += 1,
            },
            ShCtx::DQuote => {
                class[i] = Class::Expand;
                match c {
                    b'\\' => {
                        if i + 1 < b.len() {
                            class[i + 1] = Class::Expand;
                        }
                        i += 2;
                    }
                    b'"' => {
                        stack.pop();
                        if let Some(s) = dq_start.pop() {
                            strings.push(StrTok {
                                range: s..i + 1,
                                content: s + 1..i,
                                prefix: String::new(),
                                quote: "\"".into(),
                            });
                        }
                        i += 1;
                    }
                    b'$' if b.get(i + 1) == Some(&b'(') => {
                        class[i] = Class::Code;
                        stack.push(ShCtx::Code { depth: 0, closer: b')' });
                        i += 2;
                    }
                    b'`' => {
                        stack.push(ShCtx::Code { depth: 0, closer: b'`' });
                        i += 1;
                    }
                    _ => i += 1,
                }
            }
        }
    }
    // Strings that contain a command substitution are not plain literals.
    strings.retain(|s: &StrTok| !src[s.content.clone()].contains("$(") && !src[s.content.clone()].contains('`'));
    let arithmetic = arithmetic_spans(src, &class);
    Lexed { class, strings, arithmetic, heredocs }
}

fn arithmetic_spans(src: &str, class: &[Class]) -> Vec<Range<usize>> {
    let b = src.as_bytes();
    let mut out = Vec::new();
    let mut i = 0;
    while i + 1 < b.len() {
        if b[i] == b'(' && b[i + 1] == b'(' && matches!(class[i], Class::Code | Class::Expand) {
            let start = i + 2;
            let mut depth = 0usize;
            let mut j = start;
            let mut end = None;
            while j < b.len() {
                match b[j] {
                    b'(' => depth += 1,
                    b')' if depth == 0 && b.get(j + 1) == Some(&b')') => {
                        end = Some(j);
                        break;
                    }
                    b')' => depth = depth.saturating_sub(1),
                    b'\n' => break,
                    _ => {}
                }
                j += 1;
            }
            if let Some(e) = end {
                out.push(start..e);
                i = e + 2;
                continue;
            }
        }
        i += 1;
    }
    out
}

// ---------------------------------------------------------------------------------------------
// Python

fn python(src: &str) -> Lexed {
    let b = src.as_bytes();
    let mut class = vec![Class::Code; b.len()];
    let mut strings = Vec::new();
    let mut i = 0;
    while i < b.len() {
        let c = b[i];
        if c == b'#' {
            let end = src[i..].find('\n').map_or(b.len(), |k| i + k);
            fill(&mut class, i..end, Class::Comment);
            i = end;
            continue;
        }
        if c == b'\'' || c == b'"' {
            // prefix letters directly before
            let mut p = i;
            while p > 0 && b[p - 1].is_ascii_alphabetic() && i - (p - 1) <= 2 {
                p -= 1;
            }
            let prefix = &src[p..i];
            let valid_prefix = prefix.chars().all(|ch| "rRbBuUfF".contains(ch)) && (p == 0 || !is_ident(b[p - 1]));
            let prefix = if valid_prefix { prefix } else { "" };
            let start = if valid_prefix { p } else { i };
            let triple = b.get(i + 1) == Some(&c) && b.get(i + 2) == Some(&c);
            let qlen = if triple { 3 } else { 1 };
            let raw = prefix.contains(['r', 'R']);
            let fstr = prefix.contains(['f', 'F']);
            let mut j = i + qlen;
            let mut end = b.len();
            let mut expr_parts: Vec<Range<usize>> = Vec::new();
            while j < b.len() {
                if b[j] == b'\\' && !raw {
                    j += 2;
                    continue;
                }
                if b[j] == b'\\' && raw {
                    j += 2;
                    continue;
                }
                if !triple && b[j] == b'\n' {
                    end = j;
                    break;
                }
                if fstr && b[j] == b'{' {
                    if b.get(j + 1) == Some(&b'{') {
                        j += 2;
                        continue;
                    }
                    let s = j + 1;
                    let mut depth = 0usize;
                    let mut k = s;
                    while k < b.len() {
                        match b[k] {
                            b'{' | b'[' | b'(' => depth += 1,
                            b'}' if depth == 0 => break,
                            b'}' | b']' | b')' => depth = depth.saturating_sub(1),
                            q @ (b'\'' | b'"') if q != c => {
                                k += 1;
                                while k < b.len() && b[k] != q {
                                    k += 1;
                                }
                            }
                            b'\n' if !triple => break,
                            _ => {}
                        }
                        k += 1;
                    }
                    expr_parts.push(s..k.min(b.len()));
                    j = k + 1;
                    continue;
                }
                if b[j] == c && (!triple || (b.get(j + 1) == Some(&c) && b.get(j + 2) == Some(&c))) {
                    end = j + qlen;
                    break;
                }
                j += 1;
            }
            let end = end.min(b.len());
            fill(&mut class, start..end, Class::Literal);
            for part in &expr_parts {
                fill(&mut class, part.clone(), Class::Code);
            }
            if !triple && end > i + qlen && b[end - 1] == c {
                strings.push(StrTok {
                    range: start..end,
                    content: i + 1..end - 1,
                    prefix: prefix.to_string(),
                    quote: (c as char).to_string(),
                });
            }
            i = end;
            continue;
        }
        i += 1;
    }
    Lexed { class, strings, arithmetic: Vec::new(), heredocs: Vec::new() }
}

// ---------------------------------------------------------------------------------------------
// JavaScript / TypeScript

fn js(src: &str) -> Lexed {
    let b = src.as_bytes();
    let mut class = vec![Class::Code; b.len()];
    let mut strings = Vec::new();
    js_code(src, 0, &mut class, &mut strings, false);
    Lexed { class, strings, arithmetic: Vec::new(), heredocs: Vec::new() }
}

/// Lexes JS code from `i`; when `in_template` it stops at the `}` that closes a `${`.
fn js_code(src: &str, mut i: usize, class: &mut [Class], strings: &mut Vec<StrTok>, in_template: bool) -> usize {
    let b = src.as_bytes();
    let mut depth = 0usize;
    let mut last_sig: u8 = b'(';
    let mut last_word = String::new();
    while i < b.len() {
        let c = b[i];
        match c {
            b'/' if b.get(i + 1) == Some(&b'/') => {
                let end = src[i..].find('\n').map_or(b.len(), |k| i + k);
                fill(class, i..end, Class::Comment);
                i = end;
                continue;
            }
            b'/' if b.get(i + 1) == Some(&b'*') => {
                let end = src[i + 2..].find("*/").map_or(b.len(), |k| i + 2 + k + 2);
                fill(class, i..end, Class::Comment);
                i = end;
                continue;
            }
            b'/' if b"(,=:[!&|?{};+-*%<>~^".contains(&last_sig)
                || matches!(last_word.as_str(), "return" | "typeof" | "case" | "in" | "of") =>
            {
                // regular expression literal
                let mut j = i + 1;
                let mut in_class = false;
                while j < b.len() && b[j] != b'\n' {
                    match b[j] {
                        b'\\' => j += 1,
                        b'[' => in_class = true,
                        b']' => in_class = false,
                        b'/' if !in_class => break,
                        _ => {}
                    }
                    j += 1;
                }
                let mut end = (j + 1).min(b.len());
                while end < b.len() && b[end].is_ascii_alphabetic() {
                    end += 1;
                }
                fill(class, i..end, Class::Literal);
                i = end;
                last_sig = b'x';
                last_word.clear();
                continue;
            }
            b'\'' | b'"' => {
                let mut j = i + 1;
                while j < b.len() && b[j] != c && b[j] != b'\n' {
                    if b[j] == b'\\' {
                        j += 1;
                    }
                    j += 1;
                }
                let end = (j + 1).min(b.len());
                fill(class, i..end, Class::Literal);
                if b.get(j) == Some(&c) {
                    strings.push(StrTok {
                        range: i..end,
                        content: i + 1..j,
                        prefix: String::new(),
                        quote: (c as char).to_string(),
                    });
                }
                i = end;
                last_sig = b'x';
                last_word.clear();
                continue;
            }
            b'`' => {
                let start = i;
                let mut j = i + 1;
                let mut plain = true;
                while j < b.len() && b[j] != b'`' {
                    if b[j] == b'\\' {
                        class[j] = Class::Literal;
                        j += 2;
                        continue;
                    }
                    if b[j] == b'$' && b.get(j + 1) == Some(&b'{') {
                        plain = false;
                        fill(class, j..j + 2, Class::Literal);
                        j = js_code(src, j + 2, class, strings, true);
                        if j < b.len() {
                            class[j] = Class::Literal;
                        }
                        j += 1;
                        continue;
                    }
                    class[j] = Class::Literal;
                    j += 1;
                }
                class[start] = Class::Literal;
                let end = (j + 1).min(b.len());
                if end > j {
                    class[j.min(b.len() - 1)] = Class::Literal;
                }
                if plain && b.get(j) == Some(&b'`') {
                    strings.push(StrTok {
                        range: start..end,
                        content: start + 1..j,
                        prefix: String::new(),
                        quote: "`".into(),
                    });
                }
                i = end;
                last_sig = b'x';
                last_word.clear();
                continue;
            }
            b'{' => depth += 1,
            b'}' if in_template && depth == 0 => return i,
            b'}' => depth = depth.saturating_sub(1),
            _ => {}
        }
        if is_ident(c) {
            let s = i;
            while i < b.len() && (is_ident(b[i]) || b[i] == b'$') {
                i += 1;
            }
            last_word = src[s..i].to_string();
            last_sig = b'x';
            continue;
        }
        if !c.is_ascii_whitespace() {
            last_sig = c;
            last_word.clear();
        }
        i += 1;
    }
    i
}

// ---------------------------------------------------------------------------------------------
// PowerShell

fn powershell(src: &str) -> Lexed {
    let b = src.as_bytes();
    let mut class = vec![Class::Code; b.len()];
    let mut strings = Vec::new();
    let mut i = 0;
    while i < b.len() {
        let c = b[i];
        if c == b'<' && b.get(i + 1) == Some(&b'#') {
            let end = src[i..].find("#>").map_or(b.len(), |k| i + k + 2);
            fill(&mut class, i..end, Class::Comment);
            i = end;
            continue;
        }
        if c == b'#' && (i == 0 || b[i - 1].is_ascii_whitespace() || b[i - 1] == b';') {
            let end = src[i..].find('\n').map_or(b.len(), |k| i + k);
            fill(&mut class, i..end, Class::Comment);
            i = end;
            continue;
        }
        if c == b'@' && matches!(b.get(i + 1), Some(b'"' | b'\'')) && matches!(b.get(i + 2), Some(b'\n' | b'\r')) {
            let q = b[i + 1];
            let close = format!("\n{}@", q as char);
            let end = src[i..].find(&close).map_or(b.len(), |k| i + k + close.len());
            fill(&mut class, i..end, if q == b'"' { Class::Expand } else { Class::Literal });
            i = end;
            continue;
        }
        if c == b'\'' {
            let mut j = i + 1;
            while j < b.len() {
                if b[j] == b'\'' {
                    if b.get(j + 1) == Some(&b'\'') {
                        j += 2;
                        continue;
                    }
                    break;
                }
                j += 1;
            }
            let end = (j + 1).min(b.len());
            fill(&mut class, i..end, Class::Single);
            if j < b.len() {
                strings.push(StrTok { range: i..end, content: i + 1..j, prefix: String::new(), quote: "'".into() });
            }
            i = end;
            continue;
        }
        if c == b'"' {
            let mut j = i + 1;
            while j < b.len() && b[j] != b'"' {
                if b[j] == b'`' {
                    j += 1;
                }
                j += 1;
            }
            let end = (j + 1).min(b.len());
            fill(&mut class, i..end, Class::Expand);
            if j < b.len() {
                strings.push(StrTok { range: i..end, content: i + 1..j, prefix: String::new(), quote: "\"".into() });
            }
            i = end;
            continue;
        }
        i += 1;
    }
    strings.retain(|s| !src[s.content.clone()].contains("$("));
    Lexed { class, strings, arithmetic: Vec::new(), heredocs: Vec::new() }
}
