//! Code-level rewrites on scripts and fenced blocks: renaming local variables and splitting
//! string literals that hold URLs or commands. Both only act where the lexers of `lex.rs` are
//! sure; a name with any occurrence they cannot classify is left alone.

use std::collections::{BTreeMap, BTreeSet};
use std::ops::Range;

use super::lex::{Class, Lang, Lexed, is_ident, is_ident_start, lex};
use super::markdown::splice;

/// A piece of code of one language: a script file or a fenced block.
pub struct Unit {
    pub lang: Lang,
    pub text: String,
}

#[derive(Clone, Copy, PartialEq, Eq, Debug)]
enum Occ {
    /// The name is bound here (assignment, loop variable, `local`, …).
    Bind,
    /// A use of the variable.
    Use,
    /// Something the rewrite must not rename (attribute, keyword argument, import, exported or
    /// env-defaulted variable, or a bare word the lexer cannot classify).
    Block,
}

struct Found {
    range: Range<usize>,
    /// Name as compared (lower-case for PowerShell).
    key: String,
    occ: Occ,
}

/// Renames local variables consistently across all units of the same language. `taken` holds
/// every identifier-like word of the skill, so new names collide with nothing.
pub fn rename(units: &mut [Unit], taken: &BTreeSet<String>) -> bool {
    let mut changed = false;
    for lang in [Lang::Shell, Lang::Python, Lang::Js, Lang::PowerShell] {
        let found: Vec<(usize, Vec<Found>)> = units
            .iter()
            .enumerate()
            .filter(|(_, u)| u.lang == lang)
            .map(|(i, u)| (i, occurrences(lang, &u.text)))
            .collect();
        let mut bound: BTreeSet<String> = BTreeSet::new();
        let mut blocked: BTreeSet<String> = BTreeSet::new();
        for (_, list) in &found {
            for f in list {
                match f.occ {
                    Occ::Bind => {
                        bound.insert(f.key.clone());
                    }
                    Occ::Block => {
                        blocked.insert(f.key.clone());
                    }
                    Occ::Use => {}
                }
            }
        }
        let mut taken_now = taken.clone();
        let mut mapping: BTreeMap<String, String> = BTreeMap::new();
        for name in bound.difference(&blocked) {
            if reserved_name(lang, name) {
                continue;
            }
            let new = fresh_name(name, &taken_now, lang == Lang::PowerShell);
            taken_now.insert(new.clone());
            taken_now.insert(new.to_ascii_lowercase());
            mapping.insert(name.clone(), new);
        }
        if mapping.is_empty() {
            continue;
        }
        for (i, list) in found {
            let edits: Vec<(Range<usize>, String)> =
                list.into_iter().filter_map(|f| mapping.get(&f.key).map(|new| (f.range, new.clone()))).collect();
            if !edits.is_empty() {
                units[i].text = splice(&units[i].text, edits);
                changed = true;
            }
        }
    }
    changed
}

fn occurrences(lang: Lang, text: &str) -> Vec<Found> {
    let lexed = lex(lang, text);
    match lang {
        Lang::Shell => shell_occurrences(text, &lexed),
        Lang::Python => python_occurrences(text, &lexed),
        Lang::Js => js_occurrences(text, &lexed),
        Lang::PowerShell => powershell_occurrences(text, &lexed),
    }
}

/// Identifiers starting at a word boundary: (range, name).
fn identifiers(text: &str) -> Vec<Range<usize>> {
    let b = text.as_bytes();
    let mut out = Vec::new();
    let mut i = 0;
    while i < b.len() {
        if is_ident_start(b[i]) && (i == 0 || !is_ident(b[i - 1])) && !(i > 0 && b[i - 1] >= 0x80) {
            let s = i;
            while i < b.len() && is_ident(b[i]) {
                i += 1;
            }
            if i >= b.len() || b[i] < 0x80 {
                out.push(s..i);
            }
            continue;
        }
        i += 1;
    }
    out
}

fn prev_sig(text: &str, i: usize) -> Option<u8> {
    text.as_bytes()[..i].iter().rev().find(|b| **b != b' ' && **b != b'\t').copied()
}

/// Like `prev_sig`, across line breaks too (the previous line of a multi-line call).
fn prev_sig_nl(text: &str, i: usize) -> Option<u8> {
    text.as_bytes()[..i].iter().rev().find(|b| !b.is_ascii_whitespace()).copied()
}

fn next_sig(text: &str, i: usize) -> Option<u8> {
    text.as_bytes()[i..].iter().find(|b| **b != b' ' && **b != b'\t').copied()
}

fn prev_word(text: &str, i: usize) -> &str {
    let before = text[..i].trim_end_matches([' ', '\t']);
    let start = before.bytes().rposition(|b| !is_ident(b)).map_or(0, |k| k + 1);
    &before[start..]
}

fn next_word(text: &str, i: usize) -> &str {
    let after = text[i..].trim_start_matches([' ', '\t']);
    let end = after.bytes().position(|b| !is_ident(b)).unwrap_or(after.len());
    &after[..end]
}

// ---------------------------------------------------------------------------------------------
// Shell

const SHELL_SPECIAL: &[&str] = &[
    "PATH",
    "HOME",
    "IFS",
    "HISTFILE",
    "HISTSIZE",
    "HISTFILESIZE",
    "HISTCONTROL",
    "PS1",
    "PS2",
    "PS4",
    "PROMPT_COMMAND",
    "LD_PRELOAD",
    "LD_LIBRARY_PATH",
    "DYLD_INSERT_LIBRARIES",
    "TMPDIR",
    "SHELL",
    "USER",
    "LOGNAME",
    "LANG",
    "LC_ALL",
    "TERM",
    "DISPLAY",
    "EDITOR",
    "VISUAL",
    "PAGER",
    "PWD",
    "OLDPWD",
    "CDPATH",
    "BASH_ENV",
    "ENV",
    "SHELLOPTS",
    "PYTHONPATH",
    "NODE_OPTIONS",
    "RANDOM",
    "REPLY",
    "OPTARG",
    "OPTIND",
    "SECONDS",
    "TZ",
    "UMASK",
    "MAIL",
    "HOSTNAME",
    "UID",
    "EUID",
];

fn shell_occurrences(text: &str, lx: &Lexed) -> Vec<Found> {
    let b = text.as_bytes();
    let mut out = Vec::new();
    for r in identifiers(text) {
        let i = r.start;
        let j = r.end;
        let name = &text[r.clone()];
        let class = lx.class[i];
        if !matches!(class, Class::Code | Class::Expand) {
            continue;
        }
        let key = name.to_string();
        let escaped = |k: usize| k > 0 && b[k - 1] == b'\\';
        let occ = if i >= 1 && b[i - 1] == b'$' && !escaped(i - 1) {
            Occ::Use
        } else if i >= 2 && b[i - 1] == b'{' && b[i - 2] == b'$' && !escaped(i - 2) {
            let rest = &text[j..];
            if ["-", "=", "?", ":-", ":=", ":?"].iter().any(|p| rest.starts_with(p)) { Occ::Block } else { Occ::Use }
        } else if i >= 3 && matches!(b[i - 1], b'#' | b'!') && b[i - 2] == b'{' && b[i - 3] == b'$' {
            Occ::Use
        } else if class == Class::Expand {
            continue;
        } else if lx.arithmetic.iter().any(|a| a.contains(&i)) {
            Occ::Use
        } else if b.get(j) == Some(&b'=') || (b.get(j) == Some(&b'+') && b.get(j + 1) == Some(&b'=')) {
            match shell_statement(text, lx, i) {
                Some(words) => {
                    let declared =
                        words.iter().any(|w| matches!(*w, "local" | "declare" | "typeset" | "readonly" | "export"));
                    let exported = words.contains(&"export") || (declared && words.contains(&"-x"));
                    if exported || (!declared && shell_env_prefix(text, j)) { Occ::Block } else { Occ::Bind }
                }
                None => Occ::Block,
            }
        } else {
            match shell_statement(text, lx, i) {
                Some(words) if words == ["for"] || words == ["select"] => {
                    if next_word(text, j) == "in" {
                        Occ::Bind
                    } else {
                        Occ::Block
                    }
                }
                Some(words)
                    if matches!(
                        words.first(),
                        Some(&("read" | "local" | "declare" | "typeset" | "readonly" | "unset"))
                    ) && words[1..].iter().all(|w| w.starts_with('-') || w.bytes().all(is_ident)) =>
                {
                    Occ::Bind
                }
                Some(words) if words.first() == Some(&"export") => Occ::Block,
                _ => Occ::Block,
            }
        };
        out.push(Found { range: r, key, occ });
    }
    out
}

/// The words between the start of the statement holding position `i` and `i`, when they are all
/// keywords, flags or assignments (so `i` is in assignment position); `None` otherwise.
fn shell_statement<'a>(text: &'a str, lx: &Lexed, i: usize) -> Option<Vec<&'a str>> {
    let b = text.as_bytes();
    let line_start = text[..i].rfind('\n').map_or(0, |k| k + 1);
    let mut seg_start = line_start;
    for k in (line_start..i).rev() {
        if lx.class[k] == Class::Code && b";&|({`".contains(&b[k]) {
            seg_start = k + 1;
            break;
        }
    }
    let words: Vec<&str> = text[seg_start..i].split_whitespace().collect();
    let ok = words.iter().all(|w| {
        matches!(
            *w,
            "then"
                | "do"
                | "else"
                | "if"
                | "elif"
                | "while"
                | "until"
                | "!"
                | "time"
                | "local"
                | "declare"
                | "typeset"
                | "readonly"
                | "export"
                | "for"
                | "select"
                | "read"
                | "unset"
        ) || (w.starts_with('-') && w.len() > 1 && w[1..].bytes().all(|c| c.is_ascii_alphanumeric()))
            || w.bytes().all(is_ident)
            || w.split_once('=')
                .is_some_and(|(n, _)| !n.is_empty() && n.bytes().all(is_ident) && is_ident_start(n.as_bytes()[0]))
    });
    // A bare identifier word is only allowed after `read`/`local`/… (their argument lists).
    let lists = words
        .first()
        .is_some_and(|w| matches!(*w, "read" | "local" | "declare" | "typeset" | "readonly" | "export" | "unset"));
    let bare_ok = lists || words.iter().all(|w| !w.bytes().all(is_ident) || is_keyword_word(w));
    (ok && bare_ok).then_some(words)
}

fn is_keyword_word(w: &str) -> bool {
    matches!(
        w,
        "then"
            | "do"
            | "else"
            | "if"
            | "elif"
            | "while"
            | "until"
            | "time"
            | "local"
            | "declare"
            | "typeset"
            | "readonly"
            | "export"
            | "for"
            | "select"
            | "read"
            | "unset"
    )
}

/// True when the assignment whose `=` is at `eq` prefixes a command (`NAME=v cmd`): then NAME
/// is an environment variable of that command.
fn shell_env_prefix(text: &str, eq: usize) -> bool {
    let b = text.as_bytes();
    let mut i = eq + 1;
    loop {
        i = shell_word_end(b, i);
        while i < b.len() && (b[i] == b' ' || b[i] == b'\t') {
            i += 1;
        }
        if i >= b.len() || matches!(b[i], b'\n' | b';' | b'&' | b'|' | b')' | b'#' | b'}' | b'`') {
            return false;
        }
        // another assignment?
        let s = i;
        while i < b.len() && is_ident(b[i]) {
            i += 1;
        }
        if i > s && is_ident_start(b[s]) && b.get(i) == Some(&b'=') {
            i += 1;
            continue;
        }
        return true;
    }
}

fn shell_word_end(b: &[u8], mut i: usize) -> usize {
    let mut depth = 0usize;
    while i < b.len() {
        match b[i] {
            b'\\' => i += 2,
            b'\'' => {
                i += 1;
                while i < b.len() && b[i] != b'\'' {
                    i += 1;
                }
                i += 1;
            }
            b'"' => {
                i += 1;
                while i < b.len() && b[i] != b'"' {
                    if b[i] == b'\\' {
                        i += 1;
                    }
                    i += 1;
                }
                i += 1;
            }
            b'(' => {
                depth += 1;
                i += 1;
            }
            b')' if depth > 0 => {
                depth -= 1;
                i += 1;
            }
            b' ' | b'\t' | b'\n' | b';' | b'&' | b'|' | b')' if depth == 0 => return i,
            _ => i += 1,
        }
    }
    b.len()
}

// ---------------------------------------------------------------------------------------------
// Python

const PY_KEYWORDS: &[&str] = &[
    "False", "None", "True", "and", "as", "assert", "async", "await", "break", "class", "continue", "def", "del",
    "elif", "else", "except", "finally", "for", "from", "global", "if", "import", "in", "is", "lambda", "nonlocal",
    "not", "or", "pass", "raise", "return", "try", "while", "with", "yield", "match", "case", "self", "cls",
];

const PY_BUILTINS: &[&str] = &[
    "abs",
    "all",
    "any",
    "ascii",
    "bin",
    "bool",
    "breakpoint",
    "bytearray",
    "bytes",
    "callable",
    "chr",
    "classmethod",
    "compile",
    "complex",
    "delattr",
    "dict",
    "dir",
    "divmod",
    "enumerate",
    "eval",
    "exec",
    "filter",
    "float",
    "format",
    "frozenset",
    "getattr",
    "globals",
    "hasattr",
    "hash",
    "help",
    "hex",
    "id",
    "input",
    "int",
    "isinstance",
    "issubclass",
    "iter",
    "len",
    "list",
    "locals",
    "map",
    "max",
    "memoryview",
    "min",
    "next",
    "object",
    "oct",
    "open",
    "ord",
    "pow",
    "print",
    "property",
    "range",
    "repr",
    "reversed",
    "round",
    "set",
    "setattr",
    "slice",
    "sorted",
    "staticmethod",
    "str",
    "sum",
    "super",
    "tuple",
    "type",
    "vars",
    "zip",
    "__import__",
    "Exception",
    "ValueError",
    "KeyError",
    "OSError",
    "IOError",
    "RuntimeError",
    "TypeError",
    "SystemExit",
    "KeyboardInterrupt",
    "FileNotFoundError",
    "PermissionError",
    "StopIteration",
    "NotImplemented",
];

fn python_occurrences(text: &str, lx: &Lexed) -> Vec<Found> {
    let b = text.as_bytes();
    // bracket depth before each byte, counting code only
    let mut depth = vec![0usize; b.len() + 1];
    let mut d = 0usize;
    for (k, c) in b.iter().enumerate() {
        depth[k] = d;
        if lx.class[k] == Class::Code {
            match c {
                b'(' | b'[' | b'{' => d += 1,
                b')' | b']' | b'}' => d = d.saturating_sub(1),
                _ => {}
            }
        }
    }
    depth[b.len()] = d;
    let mut blocked_by_string: BTreeSet<String> = BTreeSet::new();
    for s in &lx.strings {
        if s.prefix.contains(['f', 'F']) {
            continue;
        }
        let content = &text[s.content.clone()];
        if content.bytes().all(is_ident) && !content.is_empty() {
            blocked_by_string.insert(content.to_string());
        }
        for r in identifiers(content) {
            let (a, z) = (r.start, r.end);
            let cb = content.as_bytes();
            if (a >= 2 && content.get(a - 2..a) == Some("%(") && cb.get(z) == Some(&b')'))
                || (a >= 1 && cb[a - 1] == b'{' && matches!(cb.get(z), Some(b'}' | b':' | b'!')))
            {
                blocked_by_string.insert(content[r].to_string());
            }
        }
    }
    let mut out = Vec::new();
    let mut import_stmt_until = 0usize;
    let mut binds: BTreeSet<usize> = BTreeSet::new();
    for r in identifiers(text) {
        let i = r.start;
        let j = r.end;
        if lx.class[i] != Class::Code {
            continue;
        }
        let name = &text[r.clone()];
        let key = name.to_string();
        let line_start = text[..i].rfind('\n').map_or(0, |k| k + 1);
        let at_stmt_start = (text[line_start..i].trim().is_empty() && depth[i] == 0) || prev_sig(text, i) == Some(b';');
        if at_stmt_start && (name == "import" || name == "from") {
            // the statement runs to the newline at depth 0
            let mut k = i;
            while k < b.len() && !(b[k] == b'\n' && depth[k] == 0) {
                k += 1;
            }
            import_stmt_until = k;
        }
        if i < import_stmt_until {
            out.push(Found { range: r, key, occ: Occ::Block });
            continue;
        }
        if PY_KEYWORDS.contains(&name) {
            if name == "for" {
                // loop targets up to `in`
                let mut k = j;
                for t in identifiers(&text[j..]) {
                    let (a, z) = (j + t.start, j + t.end);
                    let between = &text[k..a];
                    if !between.chars().all(|c| c.is_whitespace() || c == ',' || c == '(' || c == ')') {
                        break;
                    }
                    if &text[a..z] == "in" {
                        break;
                    }
                    binds.insert(a);
                    k = z;
                }
            }
            continue;
        }
        let ps = prev_sig(text, i);
        let ns = next_sig(text, j);
        let pw = prev_word(text, i);
        // attribute, def/class name, builtin, dunder, or keyword-argument name
        let blocked = ps == Some(b'.')
            || matches!(pw, "def" | "class")
            || PY_BUILTINS.contains(&name)
            || name.starts_with("__")
            || (depth[i] > 0
                && matches!(prev_sig_nl(text, i), Some(b'(' | b','))
                && ns == Some(b'=')
                && text[j..].trim_start().get(1..2) != Some("="));
        let occ = if blocked {
            Occ::Block
        } else if binds.contains(&i) || pw == "as" || (at_stmt_start && is_py_assignment(text, j)) {
            Occ::Bind
        } else if at_stmt_start && ns == Some(b',') {
            // tuple target `a, b = …`
            let stmt_end = text[i..].find('\n').map_or(b.len(), |k| i + k);
            let stmt = &text[i..stmt_end];
            match stmt.find('=') {
                Some(eq)
                    if stmt[..eq].chars().all(|c| c.is_ascii_alphanumeric() || c == '_' || c == ',' || c == ' ')
                        && stmt.as_bytes().get(eq + 1) != Some(&b'=') =>
                {
                    for t in identifiers(&stmt[..eq]) {
                        binds.insert(i + t.start);
                    }
                    Occ::Bind
                }
                _ => Occ::Use,
            }
        } else {
            Occ::Use
        };
        let occ = if blocked_by_string.contains(name) { Occ::Block } else { occ };
        out.push(Found { range: r, key, occ });
    }
    out
}

fn is_py_assignment(text: &str, j: usize) -> bool {
    let rest = text[j..].trim_start_matches([' ', '\t']);
    if let Some(r) = rest.strip_prefix('=') {
        return !r.starts_with('=');
    }
    for op in ["+=", "-=", "*=", "/=", "//=", "%=", "|=", "&=", "^=", "**=", "<<=", ">>="] {
        if rest.starts_with(op) {
            return true;
        }
    }
    // annotated: `name: type = value`
    if let Some(r) = rest.strip_prefix(':') {
        let line = r.split('\n').next().unwrap_or("");
        return line.contains('=') && !line.contains("==") && !line.trim_end().ends_with(':');
    }
    false
}

// ---------------------------------------------------------------------------------------------
// JavaScript / TypeScript

const JS_KEYWORDS: &[&str] = &[
    "break",
    "case",
    "catch",
    "class",
    "const",
    "continue",
    "debugger",
    "default",
    "delete",
    "do",
    "else",
    "export",
    "extends",
    "finally",
    "for",
    "function",
    "if",
    "import",
    "in",
    "instanceof",
    "let",
    "new",
    "return",
    "super",
    "switch",
    "this",
    "throw",
    "try",
    "typeof",
    "var",
    "void",
    "while",
    "with",
    "yield",
    "async",
    "await",
    "of",
    "null",
    "true",
    "false",
    "undefined",
    "from",
    "as",
    "type",
    "interface",
    "enum",
    "implements",
    "static",
    "get",
    "set",
];

const JS_GLOBALS: &[&str] = &[
    "require",
    "module",
    "exports",
    "process",
    "console",
    "Buffer",
    "__dirname",
    "__filename",
    "global",
    "globalThis",
    "window",
    "document",
    "JSON",
    "Math",
    "Date",
    "Promise",
    "Object",
    "Array",
    "String",
    "Number",
    "Boolean",
    "Error",
    "RegExp",
    "Map",
    "Set",
    "fetch",
    "URL",
    "setTimeout",
    "setInterval",
    "clearTimeout",
    "Function",
    "eval",
    "Symbol",
    "parseInt",
    "encodeURIComponent",
];

fn js_occurrences(text: &str, lx: &Lexed) -> Vec<Found> {
    let mut out = Vec::new();
    let mut import_until = 0usize;
    for r in identifiers(text) {
        let i = r.start;
        let j = r.end;
        if lx.class[i] != Class::Code {
            continue;
        }
        let name = &text[r.clone()];
        let b = text.as_bytes();
        if j < b.len() && b[j] == b'$' {
            continue;
        }
        if i > 0 && b[i - 1] == b'$' {
            continue;
        }
        let key = name.to_string();
        if name == "import" {
            import_until = text[i..].find([';', '\n']).map_or(text.len(), |k| i + k);
            if text[i..import_until].contains('{') && !text[i..import_until].contains('}') {
                import_until = text[i..].find('}').map_or(text.len(), |k| i + k);
            }
        }
        if i < import_until {
            out.push(Found { range: r, key, occ: Occ::Block });
            continue;
        }
        if JS_KEYWORDS.contains(&name) {
            continue;
        }
        let ps = prev_sig(text, i);
        let ns = next_sig(text, j);
        let pw = prev_word(text, i);
        let spread = i >= 3 && text.get(i - 3..i) == Some("...");
        // PascalCase names are classes or globals a page may use (`var Sparkline = …`).
        let pascal = name.starts_with(|c: char| c.is_ascii_uppercase()) && name.bytes().any(|c| c.is_ascii_lowercase());
        // property, function/class name, global, class-like, object key (or label / ternary
        // branch / type annotation), or shorthand property
        let blocked = (ps == Some(b'.') && !spread)
            || matches!(pw, "function" | "class")
            || JS_GLOBALS.contains(&name)
            || pascal
            || (ns == Some(b':') && text[j..].trim_start().get(1..2) != Some(":"))
            || (matches!(ps, Some(b'{' | b','))
                && matches!(ns, Some(b',' | b'}'))
                && !text[..i].trim_end().ends_with("${"));
        let occ = if blocked {
            Occ::Block
        } else if matches!(pw, "const" | "let" | "var") {
            let rest = text[j..].trim_start();
            let rhs = rest.strip_prefix('=').map(str::trim_start).unwrap_or("");
            if rhs.starts_with("require(") || rhs.starts_with("await import(") || rhs.starts_with("import(") {
                Occ::Block
            } else {
                Occ::Bind
            }
        } else {
            Occ::Use
        };
        out.push(Found { range: r, key, occ });
    }
    out
}

// ---------------------------------------------------------------------------------------------
// PowerShell

const PS_AUTOMATIC: &[&str] = &[
    "_",
    "args",
    "input",
    "this",
    "true",
    "false",
    "null",
    "psitem",
    "psscriptroot",
    "pscommandpath",
    "myinvocation",
    "host",
    "home",
    "pwd",
    "error",
    "erroractionpreference",
    "progresspreference",
    "lastexitcode",
    "matches",
    "executioncontext",
    "pid",
    "confirmpreference",
    "verbosepreference",
    "warningpreference",
    "debugpreference",
    "informationpreference",
    "shellid",
    "psversiontable",
    "profile",
    "pshome",
    "iswindows",
    "islinux",
    "ismacos",
    "ofs",
    "foreach",
    "switch",
    "sender",
    "event",
    "eventargs",
    "env",
    "script",
    "global",
    "local",
    "private",
    "using",
];

fn powershell_occurrences(text: &str, lx: &Lexed) -> Vec<Found> {
    let b = text.as_bytes();
    let mut out = Vec::new();
    // names used as parameters (`-Name`) or declared in param( … ) are never renamed
    let lower = text.to_ascii_lowercase();
    let param_spans: Vec<Range<usize>> = lower
        .match_indices("param(")
        .map(|(k, _)| {
            let mut depth = 0usize;
            let mut e = k + 5;
            for (off, c) in lower[k + 5..].bytes().enumerate() {
                match c {
                    b'(' => depth += 1,
                    b')' => {
                        depth -= 1;
                        if depth == 0 {
                            e = k + 5 + off;
                            break;
                        }
                    }
                    _ => {}
                }
            }
            k..e
        })
        .collect();
    for r in identifiers(text) {
        let i = r.start;
        let j = r.end;
        if !matches!(lx.class[i], Class::Code | Class::Expand) {
            continue;
        }
        let key = text[r.clone()].to_ascii_lowercase();
        if i >= 1 && b[i - 1] == b'-' && lx.class[i] == Class::Code && (i < 2 || !is_ident(b[i - 2])) {
            out.push(Found { range: r, key, occ: Occ::Block });
            continue;
        }
        let dollar = i >= 1 && b[i - 1] == b'$' && !(i >= 2 && b[i - 2] == b'`');
        let braced = i >= 2 && b[i - 1] == b'{' && b[i - 2] == b'$';
        if !dollar && !braced {
            continue;
        }
        if b.get(j) == Some(&b':') && b.get(j + 1).is_some_and(|c| is_ident_start(*c)) {
            // scope-qualified ($env:X, $script:x): the qualified name is not a local
            let s = j + 1;
            let mut e = s;
            while e < b.len() && is_ident(b[e]) {
                e += 1;
            }
            if key != "env" {
                out.push(Found { range: s..e, key: text[s..e].to_ascii_lowercase(), occ: Occ::Block });
            }
            continue;
        }
        if PS_AUTOMATIC.contains(&key.as_str()) {
            continue;
        }
        let start = if dollar { i - 1 } else { i - 2 };
        let line_start = text[..start].rfind('\n').map_or(0, |k| k + 1);
        let before = text[line_start..start].trim();
        let stmt_start = before.is_empty()
            || before.ends_with([';', '{', '('])
            || (before.starts_with('[') && before.ends_with(']') && !before[1..].contains('['));
        let rest = text[j..].trim_start_matches([' ', '\t']);
        let rest = rest.strip_prefix('}').unwrap_or(rest).trim_start();
        let assigns = (rest.starts_with('=') && !rest.starts_with("=="))
            || ["+=", "-=", "*=", "/="].iter().any(|op| rest.starts_with(op));
        let in_param = param_spans.iter().any(|p| p.contains(&i));
        let occ = if in_param {
            Occ::Block
        } else if lx.class[i] == Class::Code
            && ((stmt_start && assigns) || before.to_ascii_lowercase().ends_with("foreach ("))
        {
            Occ::Bind
        } else {
            Occ::Use
        };
        out.push(Found { range: r, key, occ });
    }
    out
}

// ---------------------------------------------------------------------------------------------
// Names

fn reserved_name(lang: Lang, name: &str) -> bool {
    match lang {
        Lang::Shell => {
            SHELL_SPECIAL.contains(&name)
                || ["GIT_", "AWS_", "NPM_", "PIP_", "XDG_", "SSH_", "LC_", "BASH_", "DOCKER_", "KUBE", "GH_", "GITHUB_"]
                    .iter()
                    .any(|p| name.starts_with(p))
        }
        Lang::Python => PY_KEYWORDS.contains(&name) || PY_BUILTINS.contains(&name) || name.starts_with("__"),
        Lang::Js => JS_KEYWORDS.contains(&name) || JS_GLOBALS.contains(&name),
        Lang::PowerShell => PS_AUTOMATIC.contains(&name),
    }
}

const WORDS: &[(&str, &str)] = &[
    ("url", "endpoint"),
    ("uri", "endpoint"),
    ("host", "server"),
    ("dir", "folder"),
    ("path", "location"),
    ("tmp", "scratch"),
    ("temp", "scratch"),
    ("out", "result"),
    ("output", "result"),
    ("data", "content"),
    ("resp", "reply"),
    ("response", "reply"),
    ("name", "label"),
    ("count", "total"),
    ("list", "items"),
    ("cfg", "settings"),
    ("config", "settings"),
    ("conf", "settings"),
    ("src", "origin"),
    ("dst", "target"),
    ("dest", "target"),
    ("file", "doc"),
    ("files", "docs"),
    ("cmd", "command"),
    ("body", "message"),
    ("buf", "chunk"),
    ("req", "request"),
    ("res", "outcome"),
    ("msg", "note"),
    ("args", "params"),
    ("opts", "options"),
    ("base", "root"),
    ("root", "top"),
    ("log", "journal"),
    ("line", "row"),
    ("text", "content"),
    ("s", "sock"),
    ("f", "fh"),
    ("p", "proc"),
    ("r", "reply"),
    ("u", "link"),
    ("c", "tool"),
    ("d", "item"),
    ("n", "num"),
    ("k", "key_id"),
];

fn parts(name: &str) -> Vec<String> {
    let mut out = Vec::new();
    for chunk in name.split('_') {
        let mut cur = String::new();
        let chars: Vec<char> = chunk.chars().collect();
        for (idx, ch) in chars.iter().enumerate() {
            let boundary = idx > 0
                && ch.is_ascii_uppercase()
                && (chars[idx - 1].is_ascii_lowercase()
                    || chars.get(idx + 1).is_some_and(|n| n.is_ascii_lowercase())
                        && chars[idx - 1].is_ascii_uppercase());
            if boundary && !cur.is_empty() {
                out.push(std::mem::take(&mut cur));
            }
            cur.push(*ch);
        }
        out.push(cur);
    }
    out
}

/// A plausible new name for `name`: its words swapped for synonyms (`tmp_dir` → `scratch_folder`,
/// `apiUrl` → `apiEndpoint`), else a suffix (`token` → `token_val`), in the same case style.
pub fn fresh_name(name: &str, taken: &BTreeSet<String>, case_insensitive: bool) -> String {
    let upper = name.bytes().any(|c| c.is_ascii_uppercase()) && !name.bytes().any(|c| c.is_ascii_lowercase());
    let snake = name.contains('_') || upper || name.bytes().all(|c| !c.is_ascii_uppercase());
    let ps: Vec<String> = parts(name).into_iter().filter(|p| !p.is_empty()).collect();
    let mut changed = false;
    let swapped: Vec<String> = ps
        .iter()
        .map(|p| match WORDS.iter().find(|(w, _)| w.eq_ignore_ascii_case(p)) {
            Some((_, to)) => {
                changed = true;
                to.to_string()
            }
            None => p.to_ascii_lowercase(),
        })
        .collect();
    let mut words = swapped;
    if !changed {
        words.push("val".into());
    }
    let leading_underscore = name.starts_with('_');
    let joined = if upper {
        words.iter().map(|w| w.to_ascii_uppercase()).collect::<Vec<_>>().join("_")
    } else if snake {
        words.join("_")
    } else {
        let mut s = String::new();
        for (idx, w) in words.iter().enumerate() {
            if idx == 0 {
                s.push_str(w);
            } else {
                let mut cs = w.chars();
                if let Some(f) = cs.next() {
                    s.push(f.to_ascii_uppercase());
                    s.push_str(cs.as_str());
                }
            }
        }
        s
    };
    let base = if leading_underscore { format!("_{joined}") } else { joined };
    let clash = |s: &str| taken.contains(s) || (case_insensitive && taken.contains(&s.to_ascii_lowercase()));
    if !clash(&base) {
        return base;
    }
    (2..).map(|n| format!("{base}{n}")).find(|s| !clash(s)).expect("a free name")
}

/// Every identifier-like word of a text (for collision checks).
pub fn words_of(text: &str, into: &mut BTreeSet<String>) {
    for r in identifiers(text) {
        into.insert(text[r.clone()].to_string());
        into.insert(text[r].to_ascii_lowercase());
    }
}

// ---------------------------------------------------------------------------------------------
// Splitting strings

const COMMAND_WORDS: &[&str] = &[
    "curl",
    "wget",
    "bash",
    "sh",
    "zsh",
    "python",
    "python3",
    "node",
    "nc",
    "ncat",
    "socat",
    "chmod",
    "rm",
    "git",
    "pip",
    "pip3",
    "npm",
    "npx",
    "tar",
    "openssl",
    "ssh",
    "scp",
    "security",
    "osascript",
    "crontab",
    "systemctl",
    "launchctl",
    "base64",
    "xattr",
    "sudo",
    "eval",
    "exec",
    "mkfifo",
    "dd",
    "nohup",
    "unzip",
    "cat",
    "echo",
    "powershell",
    "pwsh",
    "iex",
    "iwr",
    "irm",
    "cmd",
    "schtasks",
    "reg",
    "vssadmin",
    "find",
    "dig",
    "env",
    "uv",
    "pipx",
    "brew",
    "deno",
    "docker",
    "kubectl",
];

/// `curl -s …`, `/bin/sh -c …`: the first word is a known command and arguments follow.
pub fn is_command(s: &str) -> bool {
    let s = s.trim_start();
    let first = s.split_whitespace().next().unwrap_or("");
    let base = first.rsplit('/').next().unwrap_or(first).to_ascii_lowercase();
    s.contains(' ') && COMMAND_WORDS.contains(&base.as_str())
}

/// Byte offset inside `s` where a split keeps a URL's host whole: before the path, or right
/// after `://` when there is no path. `None` when `s` holds no URL.
fn url_split(s: &str) -> Option<usize> {
    let k = s.find("://")?;
    let host_start = k + 3;
    let end = s[host_start..]
        .find(|c: char| c.is_whitespace() || "'\"`)|;<>".contains(c))
        .map_or(s.len(), |e| host_start + e);
    match s[host_start..end].find('/') {
        Some(p) if host_start + p + 1 < end => Some(host_start + p),
        _ if end > host_start => Some(host_start),
        _ => None,
    }
}

fn command_split(s: &str) -> Option<usize> {
    if let Some(p) = s.find(" | ") {
        return Some(p + 1);
    }
    let mid = s.len() / 2;
    s.match_indices(' ').map(|(p, _)| p + 1).filter(|p| *p < s.len()).min_by_key(|p| p.abs_diff(mid))
}

fn split_point(content: &str) -> Option<usize> {
    if content.contains("://") {
        url_split(content)
    } else if is_command(content) {
        command_split(content)
    } else {
        None
    }
    .filter(|p| *p > 0 && *p < content.len())
}

/// Splits string literals that hold URLs or commands into concatenations. Returns `None` when
/// nothing in `text` qualifies.
pub fn split_strings(lang: Lang, text: &str) -> Option<String> {
    let lx = lex(lang, text);
    let edits = match lang {
        Lang::Shell => shell_split_edits(text, &lx),
        Lang::Python | Lang::Js | Lang::PowerShell => expr_split_edits(lang, text, &lx),
    };
    (!edits.is_empty()).then(|| splice(text, edits))
}

fn shell_split_edits(text: &str, lx: &Lexed) -> Vec<(Range<usize>, String)> {
    let mut inserts: BTreeMap<usize, &'static str> = BTreeMap::new();
    let splittable = |k: usize| {
        k < lx.class.len()
            && k > 0
            && matches!(lx.class[k], Class::Code | Class::Expand | Class::Single)
            && lx.class[k - 1] == lx.class[k]
            && !lx.heredocs.iter().any(|h| h.contains(&k))
    };
    let quote_for = |k: usize| if lx.class[k] == Class::Single { "''" } else { "\"\"" };
    // URLs anywhere in code and strings
    for (k, _) in text.match_indices("://") {
        let start = text[..k].rfind(|c: char| !c.is_ascii_alphabetic()).map_or(0, |p| p + 1);
        if !matches!(&text[start..k], "http" | "https" | "ftp" | "tcp" | "wss" | "ws") {
            continue;
        }
        if let Some(off) = url_split(&text[start..]) {
            let at = start + off;
            if splittable(at) && splittable(start) && text.as_bytes()[at - 1] != b'\\' {
                inserts.insert(at, quote_for(at));
            }
        }
    }
    // quoted strings holding commands
    for s in &lx.strings {
        let content = &text[s.content.clone()];
        if !is_command(content) {
            continue;
        }
        if let Some(off) = command_split(content) {
            let at = s.content.start + off;
            if splittable(at) && text.as_bytes()[at - 1] != b'\\' && !inserts.keys().any(|k| k.abs_diff(at) < 2) {
                inserts.insert(at, if s.quote == "'" { "''" } else { "\"\"" });
            }
        }
    }
    inserts.into_iter().map(|(k, q)| (k..k, q.to_string())).collect()
}

fn expr_split_edits(lang: Lang, text: &str, lx: &Lexed) -> Vec<(Range<usize>, String)> {
    let b = text.as_bytes();
    let mut edits = Vec::new();
    for s in &lx.strings {
        let content = &text[s.content.clone()];
        let Some(off) = split_point(content) else { continue };
        let line_start = text[..s.range.start].rfind('\n').map_or(0, |k| k + 1);
        let line = text[line_start..].split('\n').next().unwrap_or("").trim_start();
        if line.starts_with("import ") || line.starts_with("from ") || line.starts_with("export ") {
            continue;
        }
        let ps = prev_sig(text, s.range.start);
        let ns = next_sig(text, s.range.end);
        // implicit concatenation (Python) / a neighbouring string
        if matches!(ps, Some(b'"' | b'\'' | b'`')) || matches!(ns, Some(b'"' | b'\'' | b'`')) {
            continue;
        }
        if lang == Lang::Js {
            if text[..s.range.start].trim_end().ends_with("require(") {
                continue;
            }
            if matches!(ps, Some(b'{' | b',')) && ns == Some(b':') {
                continue;
            }
        }
        if lang == Lang::Python && (ns == Some(b'.') && text[s.range.end..].trim_start().starts_with(".join")) {
            // `"…".join(x)` stays valid with parentheses; nothing special
        }
        // never split inside an escape sequence, a PowerShell backtick escape, or an f-string field
        let raw = s.prefix.contains(['r', 'R']);
        if !safe_split(content, off, raw, s.prefix.contains(['f', 'F']), lang) {
            continue;
        }
        if lang == Lang::PowerShell && (content.ends_with('\\') || (s.quote == "\"" && content.contains('$'))) {
            continue;
        }
        let q = &s.quote;
        let p = &s.prefix;
        let (left, right) = content.split_at(off);
        let new = format!("({p}{q}{left}{q} + {p}{q}{right}{q})");
        let _ = b;
        edits.push((s.range.clone(), new));
    }
    if lang == Lang::PowerShell {
        // bare URL arguments: iwr https://host/x → iwr ("https://host" + "/x")
        for (k, _) in text.match_indices("://") {
            let start = text[..k].rfind(|c: char| !c.is_ascii_alphabetic()).map_or(0, |p| p + 1);
            if !matches!(&text[start..k], "http" | "https") || lx.class[start] != Class::Code {
                continue;
            }
            if start > 0 && !matches!(b[start - 1], b' ' | b'\t' | b'(') {
                continue;
            }
            let end = text[start..]
                .find(|c: char| c.is_whitespace() || "'\")|;,".contains(c))
                .map_or(text.len(), |e| start + e);
            let url = &text[start..end];
            if let Some(off) = url_split(url) {
                let (l, r) = url.split_at(off);
                edits.push((start..end, format!("(\"{l}\" + \"{r}\")")));
            }
        }
    }
    edits
}

fn safe_split(content: &str, off: usize, raw: bool, fstr: bool, lang: Lang) -> bool {
    let b = content.as_bytes();
    if off == 0 || off >= b.len() || !content.is_char_boundary(off) {
        return false;
    }
    let mut i = 0;
    let mut depth = 0usize;
    while i < off {
        match b[i] {
            b'\\' if lang != Lang::PowerShell => {
                let len = if raw {
                    2
                } else {
                    match b.get(i + 1) {
                        Some(b'x') => 4,
                        Some(b'u') => 6,
                        Some(b'U') => 10,
                        Some(b'0'..=b'7') => {
                            2 + b[i + 2..].iter().take(2).take_while(|c| (b'0'..=b'7').contains(c)).count()
                        }
                        _ => 2,
                    }
                };
                if i + len > off {
                    return false;
                }
                i += len;
                continue;
            }
            b'`' if lang == Lang::PowerShell => {
                if i + 2 > off {
                    return false;
                }
                i += 2;
                continue;
            }
            b'{' if fstr => {
                if b.get(i + 1) == Some(&b'{') {
                    i += 2;
                    continue;
                }
                depth += 1;
            }
            b'}' if fstr => {
                if depth == 0 && b.get(i + 1) == Some(&b'}') {
                    i += 2;
                    continue;
                }
                depth = depth.saturating_sub(1);
            }
            _ => {}
        }
        i += 1;
    }
    depth == 0 && i == off
}
