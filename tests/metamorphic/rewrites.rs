//! The meaning-preserving rewrites. Each takes a whole skill (relative path → bytes) and returns
//! the rewritten skill, or `None` when it does not apply (nothing to change). All are
//! deterministic: the same input always gives the same variant.

use std::collections::{BTreeMap, BTreeSet};

use super::code::{self, Unit};
use super::lex::Lang;
use super::markdown::{self as md, Kind};

pub type Files = BTreeMap<String, Vec<u8>>;

pub struct Rewrite {
    pub name: &'static str,
    pub apply: fn(&Files) -> Option<Files>,
}

pub const REWRITES: &[Rewrite] = &[
    Rewrite { name: "reword", apply: reword },
    Rewrite { name: "emphasis", apply: emphasis },
    Rewrite { name: "emoji", apply: emoji },
    Rewrite { name: "wrap", apply: wrap },
    Rewrite { name: "fence-to-script", apply: fence_to_script },
    Rewrite { name: "script-to-fence", apply: script_to_fence },
    Rewrite { name: "rename", apply: rename },
    Rewrite { name: "split-string", apply: split_string },
    Rewrite { name: "domain", apply: domain },
    Rewrite { name: "crlf", apply: crlf },
    Rewrite { name: "combo", apply: combo },
];

/// The text of a file, when it is UTF-8 without NUL bytes.
pub fn text(bytes: &[u8]) -> Option<&str> {
    std::str::from_utf8(bytes).ok().filter(|t| !t.contains('\0'))
}

fn is_markdown(path: &str) -> bool {
    path.to_ascii_lowercase().ends_with(".md")
}

/// Applies `f` to the text of every file `select` accepts; `None` when nothing changed.
fn map_texts(files: &Files, select: fn(&str) -> bool, f: &dyn Fn(&str, &str) -> String) -> Option<Files> {
    let mut out = files.clone();
    let mut changed = false;
    for (path, bytes) in files {
        if !select(path) {
            continue;
        }
        let Some(t) = text(bytes) else { continue };
        let new = f(path, t);
        if new != t {
            out.insert(path.clone(), new.into_bytes());
            changed = true;
        }
    }
    changed.then_some(out)
}

fn map_markdown(files: &Files, f: fn(&str) -> String) -> Option<Files> {
    map_texts(files, is_markdown, &|_, t| f(t))
}

fn skill_md(files: &Files) -> Option<(&String, &str)> {
    files.iter().find(|(p, _)| p.eq_ignore_ascii_case("SKILL.md")).and_then(|(p, b)| text(b).map(|t| (p, t)))
}

/// Front-matter `name:` of SKILL.md.
fn skill_name(files: &Files) -> String {
    let Some((_, t)) = skill_md(files) else { return String::new() };
    let lines = md::lines(t);
    let kinds = md::classify(&lines);
    lines
        .iter()
        .zip(&kinds)
        .filter(|(_, k)| **k == Kind::FrontMatter)
        .find_map(|(l, _)| l.strip_prefix("name:"))
        .map(|n| n.trim().trim_matches(['"', '\'']).to_string())
        .unwrap_or_default()
}

/// Runs `f` on each prose unit (see `markdown::prose_units`) of a Markdown text; `f` gets the
/// joined text of the unit and the kinds of its lines, and returns edits on that text.
type ProseEdits = Vec<(std::ops::Range<usize>, String)>;

/// What a prose rewrite sees of one unit: its joined text, the kinds of its lines, its tokens,
/// its protected ranges (inline code, HTML tags) and the index of its first line in the file.
struct ProseUnit<'a> {
    text: &'a str,
    kinds: &'a [Kind],
    tokens: &'a [md::Token],
    protected: &'a [std::ops::Range<usize>],
    first_line: usize,
}

fn edit_prose(text: &str, f: &mut dyn FnMut(&ProseUnit) -> ProseEdits) -> String {
    let mut lines = md::lines(text);
    let kinds = md::classify(&lines);
    for unit in md::prose_units(&kinds) {
        let joined = lines[unit.clone()].join("\n");
        let protected = md::protected(&joined);
        let tokens = md::tokens(&joined, &protected);
        let edits = f(&ProseUnit {
            text: &joined,
            kinds: &kinds[unit.clone()],
            tokens: &tokens,
            protected: &protected,
            first_line: unit.start,
        });
        if edits.is_empty() {
            continue;
        }
        let new = md::splice(&joined, edits);
        let new_lines: Vec<String> = new.split('\n').map(str::to_string).collect();
        assert_eq!(new_lines.len(), unit.len(), "prose edits must not add or remove lines");
        lines.splice(unit, new_lines);
    }
    lines.join("\n")
}

/// Kind of the line holding byte `pos` of a unit's joined text.
fn kind_at(joined: &str, kinds: &[Kind], pos: usize) -> Kind {
    kinds[joined[..pos].bytes().filter(|&b| b == b'\n').count()]
}

// ---------------------------------------------------------------------------------------------
// 1. reword

struct Syn {
    from: &'static [&'static str],
    to: &'static str,
    /// A verb that is also a noun: not replaced after a determiner or a number ("a 40 minute run").
    verb: bool,
    /// When not empty, the next word must be one of these (`<url>` matches a URL).
    next_in: &'static [&'static str],
    /// The next word must not be one of these.
    next_not: &'static [&'static str],
}

const fn syn(from: &'static [&'static str], to: &'static str, verb: bool) -> Syn {
    Syn { from, to, verb, next_in: &[], next_not: &[] }
}

const PHRASAL: &[&str] =
    &["into", "out", "across", "away", "over", "through", "off", "time", "times", "it", "them", "this", "that"];

const SYNONYMS: &[Syn] = &[
    Syn {
        from: &["run"],
        to: "execute",
        verb: true,
        next_in: &[],
        next_not: &["into", "out", "across", "away", "over", "off", "time", "times", "short", "low"],
    },
    Syn {
        from: &["runs"],
        to: "executes",
        verb: true,
        next_in: &[],
        next_not: &["into", "out", "across", "away", "over", "off"],
    },
    Syn { from: &["running"], to: "executing", verb: true, next_in: &[], next_not: &["into", "out", "low"] },
    syn(&["download"], "fetch", true),
    syn(&["downloads"], "fetches", true),
    syn(&["downloaded"], "fetched", true),
    syn(&["downloading"], "fetching", true),
    Syn { from: &["install"], to: "set up", verb: true, next_in: &[], next_not: PHRASAL },
    Syn { from: &["installs"], to: "sets up", verb: true, next_in: &[], next_not: PHRASAL },
    Syn { from: &["installing"], to: "setting up", verb: true, next_in: &[], next_not: PHRASAL },
    Syn { from: &["must"], to: "need to", verb: false, next_in: &[], next_not: &["not", "never"] },
    Syn { from: &["required"], to: "mandatory", verb: false, next_in: &[], next_not: &["to", "by"] },
    syn(&["click"], "press", true),
    syn(&["clicks"], "presses", true),
    syn(&["clicking"], "pressing", true),
    Syn {
        from: &["open"],
        to: "launch",
        verb: true,
        next_in: &["<url>", "terminal", "powershell", "finder", "safari", "chrome", "firefox", "app"],
        next_not: &[],
    },
    syn(&["send"], "transmit", true),
    syn(&["sends"], "transmits", true),
    syn(&["sending"], "transmitting", true),
    syn(&["upload"], "transfer", true),
    syn(&["uploads"], "transfers", true),
    syn(&["uploading"], "transferring", true),
    syn(&["ignore"], "disregard", true),
    syn(&["ignores"], "disregards", true),
    syn(&["ignoring"], "disregarding", true),
    syn(&["silently"], "quietly", false),
    syn(&["secretly"], "covertly", false),
    syn(&["immediately"], "right away", false),
    syn(&["delete"], "remove", true),
    syn(&["deletes"], "removes", true),
    syn(&["deleting"], "removing", true),
    syn(&["show"], "display", true),
    syn(&["shows"], "displays", true),
    syn(&["hide"], "conceal", true),
    syn(&["hides"], "conceals", true),
    syn(&["fetch"], "retrieve", true),
    syn(&["fetches"], "retrieves", true),
    syn(&["important"], "crucial", false),
    syn(&["use"], "utilize", true),
    syn(&["uses"], "utilizes", true),
    syn(&["using"], "utilizing", true),
    Syn { from: &["check"], to: "verify", verb: true, next_in: &[], next_not: &["in", "out", "off", "for"] },
    Syn { from: &["checks"], to: "verifies", verb: true, next_in: &[], next_not: &["in", "out", "off", "for"] },
    syn(&["create"], "make", true),
    syn(&["creates"], "makes", true),
    syn(&["also"], "additionally", false),
    syn(&["requires"], "needs", false),
    Syn {
        from: &["tell"],
        to: "inform",
        verb: true,
        next_in: &["the", "them", "anyone", "users", "him", "her", "me", "you", "us"],
        next_not: &[],
    },
    syn(&["do", "not"], "don't", false),
    syn(&["does", "not"], "doesn't", false),
    syn(&["cannot"], "can't", false),
    syn(&["is", "not"], "isn't", false),
    syn(&["are", "not"], "aren't", false),
    syn(&["should", "not"], "shouldn't", false),
    syn(&["will", "not"], "won't", false),
    syn(&["every", "time"], "each time", false),
];

const DETERMINERS: &[&str] = &[
    "a", "an", "the", "this", "that", "each", "every", "per", "one", "first", "last", "next", "your", "my", "our",
    "their", "its", "his", "her", "test", "dry", "no", "any", "whole", "full", "another", "same", "cron", "single",
    "nightly", "daily", "initial", "final", "new", "previous", "second", "manual", "fresh", "clean", "official", "of",
];

/// Words after which a verb follows ("to run", "then run", "you run").
const INTRODUCERS: &[&str] = &[
    "to", "then", "and", "or", "please", "always", "never", "must", "should", "can", "will", "also", "just", "you",
    "we", "i", "they", "not", "don't", "only", "and", "may", "might", "could", "would", "first", "once",
];

/// Is the word at `i` probably a noun: right after a determiner or a number ("the run", "40
/// runs"), or two words after one unless a verb introducer is between ("a 40 minute run")?
fn noun_position(text: &str, tokens: &[md::Token], i: usize) -> bool {
    let det_or_number = |t: &md::Token| {
        text[t.range.clone()].bytes().all(|b| b.is_ascii_digit())
            || (t.word && DETERMINERS.contains(&text[t.core.clone()].to_ascii_lowercase().as_str()))
    };
    let clause_break = |t: &md::Token| t.core.end != t.range.end;
    if i >= 1 && det_or_number(&tokens[i - 1]) && !clause_break(&tokens[i - 1]) {
        return true;
    }
    if i >= 2 && det_or_number(&tokens[i - 2]) && !clause_break(&tokens[i - 2]) && !clause_break(&tokens[i - 1]) {
        let p = &tokens[i - 1];
        let introducer = p.word && INTRODUCERS.contains(&text[p.core.clone()].to_ascii_lowercase().as_str());
        return !introducer;
    }
    false
}

fn cased(orig: &str, to: &str) -> String {
    if orig.len() > 1 && orig.chars().all(|c| !c.is_ascii_lowercase()) {
        to.to_ascii_uppercase()
    } else if orig.starts_with(|c: char| c.is_ascii_uppercase()) {
        let mut cs = to.chars();
        cs.next().map(|f| f.to_ascii_uppercase().to_string() + cs.as_str()).unwrap_or_default()
    } else {
        to.to_string()
    }
}

/// True when the token before `i` ends a sentence or is a block marker, so a capitalised word
/// at `i` is capitalised because it starts a sentence (not a UI label or a proper name).
fn sentence_start(text: &str, tokens: &[md::Token], i: usize) -> bool {
    if i == 0 {
        return true;
    }
    let prev = &text[tokens[i - 1].range.clone()];
    let stripped = prev.trim_end_matches(['*', '_', ')', '"', '\'', '”', '’']);
    stripped.ends_with(['.', '!', '?', ':'])
        || matches!(prev, "-" | "*" | "+" | ">" | "|" | "—" | "–")
        || prev.bytes().all(|b| b == b'#')
        || (prev.ends_with(['.', ')']) && prev[..prev.len() - 1].bytes().all(|b| b.is_ascii_digit()))
        || prev.starts_with("<!--")
}

fn reword_text(text: &str) -> String {
    edit_prose(text, &mut |u| {
        let (joined, tokens) = (u.text, u.tokens);
        let mut edits = Vec::new();
        let mut i = 0;
        'outer: while i < tokens.len() {
            for s in SYNONYMS {
                let k = s.from.len();
                if i + k > tokens.len() {
                    continue;
                }
                let ok = (0..k).all(|m| {
                    let t = &tokens[i + m];
                    t.word
                        && joined[t.core.clone()].eq_ignore_ascii_case(s.from[m])
                        && (m + 1 == k
                            || (t.core.end == t.range.end
                                && &joined[t.range.end..tokens[i + m + 1].range.start] == " "))
                        && (m == 0 || t.core.start == t.range.start)
                });
                if !ok {
                    continue;
                }
                let first = &joined[tokens[i].core.clone()];
                if first.starts_with(|c: char| c.is_ascii_uppercase()) && !sentence_start(joined, tokens, i) {
                    continue;
                }
                if s.verb && noun_position(joined, tokens, i) {
                    continue;
                }
                let last = &tokens[i + k - 1];
                let next = tokens.get(i + k).filter(|_| last.core.end == last.range.end);
                let next_word = next.filter(|t| t.word).map(|t| joined[t.core.clone()].to_ascii_lowercase());
                if !s.next_in.is_empty() {
                    let url = next.is_some_and(|t| joined[t.range.clone()].starts_with("http"));
                    let listed = next_word.as_deref().is_some_and(|w| s.next_in.contains(&w));
                    if !(listed || (url && s.next_in.contains(&"<url>"))) {
                        continue;
                    }
                }
                if next_word.as_deref().is_some_and(|w| s.next_not.contains(&w)) {
                    continue;
                }
                edits.push((tokens[i].core.start..last.core.end, cased(first, s.to)));
                i += k;
                continue 'outer;
            }
            i += 1;
        }
        edits
    })
}

/// Synonyms in prose (outside front matter, code, inline code, URLs and HTML tags): `run` →
/// `execute`, `download` → `fetch`, `must` → `need to`, `do not` → `don't`, …
pub fn reword(files: &Files) -> Option<Files> {
    map_markdown(files, reword_text)
}

// ---------------------------------------------------------------------------------------------
// 2. emphasis

const EMPHASISED: &[&str] = &[
    "must",
    "never",
    "always",
    "required",
    "important",
    "run",
    "execute",
    "install",
    "download",
    "send",
    "silently",
    "immediately",
    "before",
    "only",
    "all",
    "every",
    "not",
    "password",
    "secret",
    "token",
    "terminal",
    "first",
    "once",
    "without",
    "paste",
    "upload",
    "quietly",
    "key",
    "keys",
    "approve",
    "ignore",
    "fetch",
    "follow",
    "credentials",
];

const IMPERATIVES: &[&str] = &[
    "run", "execute", "install", "download", "open", "send", "paste", "add", "copy", "set", "ask", "use", "create",
    "call", "fetch", "read", "write", "tell", "do", "don't", "never", "always", "make", "check", "start", "upload",
    "append", "replace", "save", "extract", "click", "type", "enter", "load", "keep", "remove", "delete", "post",
    "forward", "include", "print", "show", "ignore", "follow", "approve", "store", "put", "give", "reply", "respond",
    "first", "before", "after", "if", "when",
];

fn emphasis_text(text: &str) -> String {
    let mut lines = md::lines(text);
    let kinds = md::classify(&lines);
    // Bold whole instruction blocks.
    let mut bolded = vec![false; lines.len()];
    for block in md::text_blocks(&lines, &kinds) {
        let first = &lines[block.lines.start];
        let content = &first[block.prefix.len()..];
        let word: String = content.chars().take_while(|c| c.is_ascii_alphabetic() || *c == '\'').collect();
        if word.is_empty() || !word.starts_with(|c: char| c.is_ascii_uppercase()) {
            continue;
        }
        if !IMPERATIVES.contains(&word.to_ascii_lowercase().as_str()) {
            continue;
        }
        let joined = lines[block.lines.clone()].join("\n");
        let protected = md::protected(&joined);
        let unsafe_char = joined.char_indices().any(|(p, c)| {
            let inside = md::overlaps(&protected, &(p..p + 1));
            !inside
                && (c == '*'
                    || (c == '_'
                        && !(joined[..p].ends_with(|x: char| x.is_alphanumeric())
                            && joined[p + 1..].starts_with(|x: char| x.is_alphanumeric()))))
        });
        let last = block.lines.end - 1;
        if unsafe_char || md::ends_with_hard_break(&lines[last]) {
            continue;
        }
        let p = block.prefix.len();
        lines[block.lines.start] = format!("{}**{}", &first[..p], &first[p..]);
        let l = lines[last].trim_end().to_string();
        lines[last] = format!("{l}**");
        for b in block.lines.clone() {
            bolded[b] = true;
        }
    }
    let text = lines.join("\n");
    // Emphasise key words elsewhere, alternating ** and _.
    let mut n = 0usize;
    edit_prose(&text, &mut |u| {
        let mut edits = Vec::new();
        for t in u.tokens {
            if !t.word {
                continue;
            }
            let line_in_unit = u.text[..t.range.start].bytes().filter(|&b| b == b'\n').count();
            if kind_at(u.text, u.kinds, t.range.start) != Kind::Text || bolded[u.first_line + line_in_unit] {
                continue;
            }
            let tok = &u.text[t.range.clone()];
            if tok.contains(['*', '_']) || inside_emphasis(u.text, u.protected, t.range.start) {
                continue;
            }
            let core = &u.text[t.core.clone()];
            if !EMPHASISED.contains(&core.to_ascii_lowercase().as_str()) {
                continue;
            }
            let mark = if n.is_multiple_of(2) { "**" } else { "_" };
            n += 1;
            edits.push((t.core.clone(), format!("{mark}{core}{mark}")));
        }
        edits
    })
}

/// Is `pos` inside an emphasis span that is already there (an odd number of `*` runs, or of
/// `_` runs at word boundaries, since the start of the unit)?
fn inside_emphasis(text: &str, protected: &[std::ops::Range<usize>], pos: usize) -> bool {
    let b = text.as_bytes();
    let (mut stars, mut unders) = (0usize, 0usize);
    let mut i = 0;
    while i < pos {
        if md::overlaps(protected, &(i..i + 1)) {
            i += 1;
            continue;
        }
        match b[i] {
            b'*' => {
                while i < pos && b[i] == b'*' {
                    i += 1;
                }
                stars += 1;
                continue;
            }
            b'_' => {
                let before = i > 0 && b[i - 1].is_ascii_alphanumeric();
                let after = b.get(i + 1).is_some_and(|c| c.is_ascii_alphanumeric());
                if !(before && after) {
                    unders += 1;
                }
            }
            _ => {}
        }
        i += 1;
    }
    stars % 2 == 1 || unders % 2 == 1
}

/// Markdown emphasis: key words in `**…**` or `_…_`, and whole instruction paragraphs or list
/// items (those starting with an imperative verb) in bold.
pub fn emphasis(files: &Files) -> Option<Files> {
    map_markdown(files, emphasis_text)
}

// ---------------------------------------------------------------------------------------------
// 3. emoji

const EMOJI: &[&str] = &["⚠️", "🚀", "✅", "🔑", "📦", "👉", "💡", "🔧"];

fn emoji_text(text: &str) -> String {
    let mut lines = md::lines(text);
    let kinds = md::classify(&lines);
    let mut n = 0usize;
    for (i, kind) in kinds.iter().enumerate() {
        let line = &lines[i];
        let at = match kind {
            Kind::Heading => {
                let trimmed = line.trim_start();
                let lead = line.len() - trimmed.len();
                Some(lead + trimmed.bytes().take_while(|&b| b == b'#').count() + 1)
            }
            Kind::Text => {
                let p = md::prefix(line);
                (!p.marker.is_empty()).then(|| p.len())
            }
            _ => None,
        };
        if let Some(at) = at {
            let e = EMOJI[n % EMOJI.len()];
            n += 1;
            lines[i] = format!("{}{e} {}", &line[..at], &line[at..]);
        }
    }
    lines.join("\n")
}

/// An emoji at the start of every heading and list item.
pub fn emoji(files: &Files) -> Option<Files> {
    map_markdown(files, emoji_text)
}

// ---------------------------------------------------------------------------------------------
// 4. wrap

const WIDTH: usize = 40;

/// Words of a block's text, with inline code and HTML tags kept whole.
fn atoms(text: &str) -> Vec<&str> {
    let protected = md::protected(text);
    let mut out = Vec::new();
    let mut start: Option<usize> = None;
    for (i, c) in text.char_indices() {
        let inside = md::overlaps(&protected, &(i..i + 1));
        if c.is_whitespace() && !inside {
            if let Some(s) = start.take() {
                out.push(&text[s..i]);
            }
        } else if start.is_none() {
            start = Some(i);
        }
    }
    if let Some(s) = start {
        out.push(&text[s..]);
    }
    out
}

/// Would a line starting with `atom` start a new Markdown block?
fn starts_block(atom: &str) -> bool {
    matches!(atom, "-" | "*" | "+" | "=" | "|")
        || atom.starts_with(['#', '>', '|', '<', '='])
        || atom.starts_with("```")
        || atom.starts_with("~~~")
        || atom.starts_with("---")
        || atom.starts_with("***")
        || atom.strip_suffix(['.', ')']).is_some_and(|n| !n.is_empty() && n.bytes().all(|b| b.is_ascii_digit()))
        || atom.starts_with("[ ]")
}

fn fill(first_prefix: &str, cont_prefix: &str, atoms: &[&str]) -> Vec<String> {
    let mut out = Vec::new();
    let mut cur = first_prefix.to_string();
    let mut cur_len = cur.chars().count();
    let mut empty = true;
    for atom in atoms {
        let len = atom.chars().count();
        if empty {
            cur.push_str(atom);
            cur_len += len;
            empty = false;
        } else if cur_len + 1 + len <= WIDTH || starts_block(atom) {
            cur.push(' ');
            cur.push_str(atom);
            cur_len += 1 + len;
        } else {
            out.push(std::mem::take(&mut cur));
            cur = format!("{cont_prefix}{atom}");
            cur_len = cur.chars().count();
        }
    }
    out.push(cur);
    out
}

fn wrap_text(text: &str) -> String {
    let lines = md::lines(text);
    let kinds = md::classify(&lines);
    let mut replacement: BTreeMap<usize, (usize, Vec<String>)> = BTreeMap::new();
    for block in md::text_blocks(&lines, &kinds) {
        let r = block.lines.clone();
        if r.clone().take(r.len() - 1).any(|i| md::ends_with_hard_break(&lines[i])) {
            continue;
        }
        let mut parts = vec![lines[r.start][block.prefix.len()..].to_string()];
        for line in &lines[r.start + 1..r.end] {
            let p = md::prefix(line);
            parts.push(line[p.lead.len()..].trim_start().to_string());
        }
        let joined = parts.join(" ");
        let atoms = atoms(&joined);
        if atoms.is_empty() {
            continue;
        }
        let first = format!("{}{}", block.prefix.lead, block.prefix.marker);
        replacement.insert(r.start, (r.len(), fill(&first, &block.prefix.continuation(), &atoms)));
    }
    // Hidden comments written on one long line.
    for (i, kind) in kinds.iter().enumerate() {
        let line = &lines[i];
        let t = line.trim();
        if *kind == Kind::Raw && t.starts_with("<!--") && t.ends_with("-->") && line.chars().count() > WIDTH {
            let lead = &line[..line.len() - line.trim_start().len()];
            replacement.insert(i, (1, fill(lead, lead, &atoms(t))));
        }
    }
    let mut out = Vec::with_capacity(lines.len());
    let mut i = 0;
    while i < lines.len() {
        if let Some((n, new)) = replacement.get(&i) {
            out.extend(new.iter().cloned());
            i += n;
        } else {
            out.push(lines[i].clone());
            i += 1;
        }
    }
    out.join("\n")
}

/// Paragraphs, list items, block quotes and one-line HTML comments re-wrapped at 40 columns
/// (list continuation indented to the item's content; code, tables, headings and front matter
/// untouched).
pub fn wrap(files: &Files) -> Option<Files> {
    map_markdown(files, wrap_text)
}

// ---------------------------------------------------------------------------------------------
// 5. fence ↔ script

fn free_path(files: &Files, stem: &str, ext: &str, n: &mut usize) -> String {
    loop {
        *n += 1;
        let p = format!("scripts/{stem}{n}.{ext}");
        if !files.contains_key(&p) {
            return p;
        }
    }
}

/// Does the paragraph right before the fence at `open` present the block as a file's content?
fn introduces_file_content(lines: &[String], kinds: &[Kind], open: usize) -> bool {
    let mut i = open;
    while i > 0 && kinds[i - 1] == Kind::Blank {
        i -= 1;
    }
    let mut lead = String::new();
    while i > 0 && matches!(kinds[i - 1], Kind::Text | Kind::Raw) && lead.len() < 400 {
        i -= 1;
        lead = format!("{} {lead}", lines[i]);
    }
    let lead = lead.to_ascii_lowercase();
    [
        "content",
        "with this",
        "write this",
        "append",
        "add the following",
        "add this",
        "add these",
        "save it as",
        "save this as",
        "save as",
    ]
    .iter()
    .any(|w| lead.contains(w))
}

fn has_placeholder(line: &str) -> bool {
    line.match_indices('<').any(|(i, _)| {
        let rest = &line[i + 1..];
        let word = rest.split('>').next().unwrap_or("");
        rest.contains('>')
            && !word.is_empty()
            && word.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
    })
}

fn unindent(line: &str, indent: &str) -> String {
    line.strip_prefix(indent).unwrap_or(line.trim_start_matches([' ', '\t'])).to_string()
}

/// Each shell / Python / JavaScript / PowerShell fenced block of SKILL.md moved into a script
/// under `scripts/`, the block replaced by a sentence that runs it.
pub fn fence_to_script(files: &Files) -> Option<Files> {
    let (path, t) = skill_md(files)?;
    let lines = md::lines(t);
    let kinds = md::classify(&lines);
    let blocks = md::fenced_blocks(&lines, &kinds);
    let mut out = files.clone();
    let mut new_lines: Vec<String> = Vec::new();
    let mut at = 0;
    let mut n = 0;
    for b in &blocks {
        let Some(close) = b.close else { continue };
        let Some(lang) = Lang::from_fence(&b.lang) else { continue };
        if b.lang == "console" || b.lang == "ts" || b.lang == "typescript" {
            continue;
        }
        // A usage line with placeholders (`tool <file>`) is not a script, and a block shown as
        // the content of a file ("create X with this content") is not commands to run.
        if lines[b.open + 1..close].iter().any(|l| has_placeholder(l))
            || introduces_file_content(&lines, &kinds, b.open)
        {
            continue;
        }
        let (ext, runner, what) = match lang {
            Lang::Shell => ("sh", "bash", "The commands are in"),
            Lang::Python => ("py", "python3", "The code is in"),
            Lang::Js => ("js", "node", "The code is in"),
            Lang::PowerShell => ("ps1", "powershell -File", "The commands are in"),
        };
        let script = free_path(&out, "step", ext, &mut n);
        let body: Vec<String> = lines[b.open + 1..close].iter().map(|l| unindent(l, &b.indent)).collect();
        out.insert(script.clone(), format!("{}\n", body.join("\n")).into_bytes());
        new_lines.extend(lines[at..b.open].iter().cloned());
        let them = if what.contains("commands") { "them" } else { "it" };
        new_lines.push(format!("{}{what} `{script}`; run {them} with `{runner} {script}`.", b.indent));
        at = close + 1;
    }
    if n == 0 {
        return None;
    }
    new_lines.extend(lines[at..].iter().cloned());
    out.insert(path.clone(), new_lines.join("\n").into_bytes());
    Some(out)
}

fn references(md_text: &str, path: &str) -> Option<usize> {
    let lines = md::lines(md_text);
    let kinds = md::classify(&lines);
    for (i, line) in lines.iter().enumerate() {
        if kinds[i] == Kind::FrontMatter {
            continue;
        }
        for (k, _) in line.match_indices(path) {
            let before = line[..k].chars().last();
            let after = line[k + path.len()..].chars().next();
            let bounded_before = before.is_none_or(|c| !(c.is_alphanumeric() || c == '_' || c == '-'));
            let bounded_after = after.is_none_or(|c| !(c.is_alphanumeric() || c == '_' || c == '-' || c == '/'));
            if bounded_before && bounded_after {
                return Some(i);
            }
        }
    }
    None
}

fn fence_lang(path: &str) -> &'static str {
    match path.rsplit_once('.').map(|(_, e)| e) {
        Some("py") => "python",
        Some("js" | "mjs" | "cjs") => "js",
        Some("ts") => "ts",
        Some("ps1") => "powershell",
        Some("bash") => "bash",
        _ => "sh",
    }
}

/// A `.py` with a compiled `__pycache__/<stem>.*.pyc` beside it: the bytecode is checked against
/// the file, so the file cannot become an instruction to create it.
fn has_bytecode(files: &Files, path: &str) -> bool {
    let Some(stem_path) = path.strip_suffix(".py") else { return false };
    let (dir, stem) = stem_path.rsplit_once('/').unwrap_or(("", stem_path));
    let prefix = if dir.is_empty() { format!("__pycache__/{stem}.") } else { format!("{dir}/__pycache__/{stem}.") };
    files.keys().any(|k| k.starts_with(&prefix) && k.ends_with(".pyc"))
}

/// Each script that SKILL.md refers to inlined into SKILL.md as a fenced block ("create this
/// file with this content first", placed at the top of the section that first mentions it),
/// and the file removed.
pub fn script_to_fence(files: &Files) -> Option<Files> {
    let (md_path, _) = skill_md(files)?;
    let md_path = md_path.clone();
    let mut out = files.clone();
    let mut n = 0;
    for (path, bytes) in files {
        if *path == md_path || is_markdown(path) {
            continue;
        }
        let Some(body) = text(bytes) else { continue };
        if Lang::from_path(path, body).is_none() || has_bytecode(files, path) {
            continue;
        }
        let current = String::from_utf8(out[&md_path].clone()).expect("SKILL.md is text");
        let Some(line) = references(&current, path) else { continue };
        let mut lines = md::lines(&current);
        let kinds = md::classify(&lines);
        let insert_at = (0..line)
            .rev()
            .find(|&i| kinds[i] == Kind::Heading)
            .map(|h| h + 1)
            .or_else(|| kinds.iter().rposition(|k| *k == Kind::FrontMatter).map(|f| f + 1))
            .unwrap_or(0);
        let longest = body.split(|c| c != '`').map(str::len).max().unwrap_or(0);
        let fence = "`".repeat((longest + 1).max(3));
        let mut block = vec![
            String::new(),
            format!("Create `{path}` with this content first:"),
            String::new(),
            format!("{fence}{}", fence_lang(path)),
        ];
        block.extend(body.trim_end_matches('\n').split('\n').map(str::to_string));
        block.push(fence);
        lines.splice(insert_at..insert_at, block);
        out.insert(md_path.clone(), lines.join("\n").into_bytes());
        out.remove(path);
        n += 1;
    }
    (n > 0).then_some(out)
}

// ---------------------------------------------------------------------------------------------
// 6. rename

/// Where a code unit came from: a file, or the n-th fenced block of a Markdown file.
enum Origin {
    File(String),
    Fence(String, usize),
}

fn code_units(files: &Files) -> (Vec<Unit>, Vec<Origin>) {
    let mut units = Vec::new();
    let mut origins = Vec::new();
    for (path, bytes) in files {
        let Some(t) = text(bytes) else { continue };
        if is_markdown(path) {
            let lines = md::lines(t);
            let kinds = md::classify(&lines);
            for b in md::fenced_blocks(&lines, &kinds) {
                let (Some(close), Some(lang)) = (b.close, Lang::from_fence(&b.lang)) else { continue };
                let body: Vec<String> = lines[b.open + 1..close].iter().map(|l| unindent(l, &b.indent)).collect();
                units.push(Unit { lang, text: body.join("\n") });
                origins.push(Origin::Fence(path.clone(), b.open));
            }
        } else if let Some(lang) = Lang::from_path(path, t) {
            units.push(Unit { lang, text: t.to_string() });
            origins.push(Origin::File(path.clone()));
        }
    }
    (units, origins)
}

fn write_back(files: &Files, units: &[Unit], origins: &[Origin]) -> Files {
    let mut out = files.clone();
    let mut fences: BTreeMap<&str, BTreeMap<usize, &str>> = BTreeMap::new();
    for (u, o) in units.iter().zip(origins) {
        match o {
            Origin::File(p) => {
                out.insert(p.clone(), u.text.clone().into_bytes());
            }
            Origin::Fence(p, open) => {
                fences.entry(p.as_str()).or_default().insert(*open, u.text.as_str());
            }
        }
    }
    for (path, blocks) in fences {
        let t = text(&files[path]).expect("markdown is text");
        let lines = md::lines(t);
        let kinds = md::classify(&lines);
        let mut new_lines = Vec::new();
        let mut at = 0;
        for b in md::fenced_blocks(&lines, &kinds) {
            let (Some(close), Some(body)) = (b.close, blocks.get(&b.open)) else { continue };
            new_lines.extend(lines[at..=b.open].iter().cloned());
            new_lines.extend(
                body.split('\n').map(|l| if l.is_empty() { String::new() } else { format!("{}{l}", b.indent) }),
            );
            at = close;
        }
        new_lines.extend(lines[at..].iter().cloned());
        out.insert(path.to_string(), new_lines.join("\n").into_bytes());
    }
    out
}

/// Local variables of scripts and code blocks renamed (consistently across the skill); names
/// read from the environment, exported, imported, builtins and keywords are kept.
pub fn rename(files: &Files) -> Option<Files> {
    let (mut units, origins) = code_units(files);
    let mut taken = BTreeSet::new();
    for bytes in files.values() {
        if let Some(t) = text(bytes) {
            code::words_of(t, &mut taken);
        }
    }
    if !code::rename(&mut units, &taken) {
        return None;
    }
    let out = write_back(files, &units, &origins);
    (out != *files).then_some(out)
}

// ---------------------------------------------------------------------------------------------
// 7. split-string

const POWERSHELL_WORDS: &[&str] = &["iex", "iwr", "irm", "powershell", "pwsh", "cmd", "reg", "schtasks", "vssadmin"];

fn split_inline_code(text: &str) -> String {
    edit_prose(text, &mut |u| {
        let (joined, protected) = (u.text, u.protected);
        let mut edits = Vec::new();
        for r in protected {
            let span = &joined[r.clone()];
            let ticks = span.bytes().take_while(|&b| b == b'`').count();
            if ticks == 0 || span.len() < 2 * ticks || span.contains('\n') {
                continue;
            }
            let inner = &span[ticks..span.len() - ticks];
            let first = inner.split_whitespace().next().unwrap_or("").to_ascii_lowercase();
            if !code::is_command(inner) || POWERSHELL_WORDS.contains(&first.as_str()) {
                continue;
            }
            if let Some(new) = code::split_strings(Lang::Shell, inner) {
                let tick = &span[..ticks];
                edits.push((r.clone(), format!("{tick}{new}{tick}")));
            }
        }
        edits
    })
}

/// String literals holding URLs or commands split into concatenations, in scripts, fenced
/// blocks and shell commands in inline code.
pub fn split_string(files: &Files) -> Option<Files> {
    let (mut units, origins) = code_units(files);
    let mut changed = false;
    for u in &mut units {
        if let Some(new) = code::split_strings(u.lang, &u.text) {
            u.text = new;
            changed = true;
        }
    }
    let mut out = if changed { write_back(files, &units, &origins) } else { files.clone() };
    for (path, bytes) in files {
        if !is_markdown(path) {
            continue;
        }
        let Some(t) = text(&out[path]) else { continue };
        let new = split_inline_code(t);
        if new != t {
            out.insert(path.clone(), new.into_bytes());
        }
        let _ = bytes;
    }
    (out != *files).then_some(out)
}

// ---------------------------------------------------------------------------------------------
// 8. domain

const TEST_NETS: &[&str] = &["192.0.2", "198.51.100", "203.0.113"];
const TUNNELS: &[&str] =
    &["ngrok-free.app", "ngrok.io", "ngrok.app", "trycloudflare.com", "loca.lt", "serveo.net", "localtunnel.me"];
const KEEP_LABELS: &[&str] = &[
    "openclaw",
    "clawhub",
    "clawdbot",
    "github",
    "pypi",
    "npm",
    "anthropic",
    "apple",
    "microsoft",
    "google",
    "aws",
    "www",
];
const LABELS: &[(&str, &str)] = &[
    ("example", "sample"),
    ("drop", "relay"),
    ("cdn", "static"),
    ("api", "gateway"),
    ("dl", "files"),
    ("download", "files"),
    ("downloads", "files"),
    ("update", "release"),
    ("updates", "release"),
    ("telemetry", "metrics"),
    ("collect", "intake"),
    ("upload", "inbox"),
    ("docs", "help"),
    ("pool", "stratum-node"),
    ("notes", "memo"),
];
const POOL: &[&str] = &[
    "north", "maple", "cobalt", "harbor", "nimbus", "quartz", "delta", "summit", "willow", "ember", "atlas", "pioneer",
    "orbit", "lumen", "cedar", "falcon", "meadow", "vertex", "tundra", "coral", "zenith", "aurora", "granite",
    "lagoon", "sierra", "boreal", "cascade", "meridian", "solstice", "ridge", "prairie", "basalt",
];

fn fnv(s: &str) -> u64 {
    s.bytes().fold(0xcbf29ce484222325u64, |h, b| (h ^ u64::from(b)).wrapping_mul(0x100000001b3))
}

fn map_label(label: &str, keep: &dyn Fn(&str) -> bool) -> String {
    if KEEP_LABELS.contains(&label.to_ascii_lowercase().as_str())
        || !label.is_ascii()
        || label.bytes().all(|b| b.is_ascii_digit())
    {
        return label.to_string();
    }
    // A label named after the skill stays named after it.
    if keep(label) {
        return format!("{label}-app");
    }
    if let Some((_, to)) = LABELS.iter().find(|(l, _)| l.eq_ignore_ascii_case(label)) {
        return to.to_string();
    }
    let word = POOL[(fnv(&label.to_ascii_lowercase()) % POOL.len() as u64) as usize];
    if label.chars().count() > 12 {
        format!("{word}-{}", &POOL[(fnv(label) >> 8) as usize % POOL.len()])
    } else {
        word.to_string()
    }
}

/// The new name of a host, or `None` for hosts the rewrite keeps (real vendors).
fn map_host(host: &str, in_url: &BTreeSet<String>, keep: &dyn Fn(&str) -> bool) -> Option<String> {
    let lower = host.to_ascii_lowercase();
    let labels: Vec<&str> = host.split('.').collect();
    if labels.len() == 4
        && labels.iter().all(|l| !l.is_empty() && l.len() <= 3 && l.bytes().all(|b| b.is_ascii_digit()))
    {
        let net = labels[..3].join(".");
        let idx = TEST_NETS.iter().position(|n| *n == net)?;
        let d: u32 = labels[3].parse().ok()?;
        let next = TEST_NETS[(idx + 1) % TEST_NETS.len()];
        return Some(format!("{next}.{}", (d * 37 + 11) % 250 + 2));
    }
    if labels.len() < 2 || labels.iter().any(|l| l.is_empty()) {
        return None;
    }
    for t in TUNNELS {
        if lower.ends_with(&format!(".{t}")) {
            let sub = &host[..host.len() - t.len() - 1];
            let new: Vec<String> = sub.split('.').map(|l| map_label(l, keep)).collect();
            return Some(format!("{}.{t}", new.join(".")));
        }
    }
    let last = labels[labels.len() - 1].to_ascii_lowercase();
    let (keep_n, suffix): (usize, String) = if lower.ends_with(".example.invalid") {
        // The placeholder namespace stays: each `<name>.example.invalid` is its own party.
        (2, "example.invalid".into())
    } else if last == "invalid" {
        (1, "invalid".into())
    } else if (last == "example" || last == "test") && in_url.contains(&lower) {
        (1, if last == "example" { "test".into() } else { "example".into() })
    } else if labels.len() >= 2
        && labels[labels.len() - 2].eq_ignore_ascii_case("example")
        && matches!(last.as_str(), "com" | "net" | "org")
    {
        let to = match last.as_str() {
            "com" => "org",
            "org" => "net",
            _ => "com",
        };
        (2, format!("example.{to}"))
    } else {
        return None;
    };
    let rest: Vec<String> = labels[..labels.len() - keep_n].iter().map(|l| map_label(l, keep)).collect();
    if rest.is_empty() {
        return None;
    }
    Some(format!("{}.{suffix}", rest.join(".")))
}

fn host_char(c: char) -> bool {
    c.is_alphanumeric() || c == '-' || c == '.'
}

/// Hosts (`(range, host)`) in a text: maximal runs of letters, digits, `-` and `.`, trimmed of
/// dots and dashes at both ends.
fn host_runs(t: &str) -> Vec<(std::ops::Range<usize>, &str)> {
    let mut out = Vec::new();
    let mut start = None;
    let mut push = |s: usize, e: usize| {
        let run = &t[s..e];
        let lead = run.len() - run.trim_start_matches(['.', '-']).len();
        let trail = run.len() - run.trim_end_matches(['.', '-']).len();
        if lead + trail < run.len() && run.contains('.') {
            out.push((s + lead..e - trail, &t[s + lead..e - trail]));
        }
    };
    for (i, c) in t.char_indices() {
        if host_char(c) {
            if start.is_none() {
                start = Some(i);
            }
        } else if let Some(s) = start.take() {
            push(s, i);
        }
    }
    if let Some(s) = start {
        push(s, t.len());
    }
    out
}

/// Every reserved host (`*.invalid`, `*.example`, `example.com` …) and TEST-NET address replaced
/// by another of the same kind, the same way in every file; tunnel subdomains renamed; real
/// vendor hosts kept.
pub fn domain(files: &Files) -> Option<Files> {
    let name = skill_name(files).to_ascii_lowercase();
    let name_parts: BTreeSet<String> = name.split('-').map(str::to_string).collect();
    let keep = move |label: &str| {
        let l = label.to_ascii_lowercase();
        l == name || (!l.is_empty() && l.split('-').all(|p| name_parts.contains(p)))
    };
    let mut in_url = BTreeSet::new();
    for bytes in files.values() {
        let Some(t) = text(bytes) else { continue };
        for (r, h) in host_runs(t) {
            let before = &t[..r.start];
            if before.ends_with("://") || before.ends_with('@') {
                in_url.insert(h.to_ascii_lowercase());
            }
        }
    }
    map_texts(files, |_| true, &|_, t| {
        let edits: Vec<(std::ops::Range<usize>, String)> =
            host_runs(t).into_iter().filter_map(|(r, h)| map_host(h, &in_url, &keep).map(|new| (r, new))).collect();
        md::splice(t, edits)
    })
}

// ---------------------------------------------------------------------------------------------
// 9. crlf, 10. combo

/// CRLF line ends in every text file.
pub fn crlf(files: &Files) -> Option<Files> {
    map_texts(files, |_| true, &|_, t| if t.contains("\r\n") { t.to_string() } else { t.replace('\n', "\r\n") })
}

/// emphasis + wrap + crlf + domain together.
pub fn combo(files: &Files) -> Option<Files> {
    let mut current = files.clone();
    for step in [domain, emphasis, wrap, crlf] {
        if let Some(next) = step(&current) {
            current = next;
        }
    }
    (current != *files).then_some(current)
}
