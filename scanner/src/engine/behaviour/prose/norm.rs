//! Inline normalisation of a unit's pieces into one logical line, with a byte map back to the
//! source: Markdown emphasis, backticks, link brackets, escapes and HTML tags are dropped;
//! emoji and symbols become spaces; invisible characters are dropped (noted when they sat
//! inside a word); Unicode tag characters are decoded into the ASCII they mirror; HTML comments
//! keep their content; typographic quotes become ASCII; whitespace collapses.
//!
//! Structure and hints travel in the text as private-use marker characters (the input's own
//! private-use characters become spaces), so that everything downstream works on one string.

use std::ops::Range;

use super::Framing;

/// Starts a list step (also a sentence break).
pub(super) const STEP: char = '\u{E000}';
/// A sentence break (table cell, comment edge, block tag, code line).
pub(super) const BREAK: char = '\u{E001}';
/// A negative symbol (❌, 🚫, ⛔ …): the rest of the step is a "don't".
pub(super) const NEG: char = '\u{E002}';
/// A positive symbol (✅, ✔ …): the rest of the step is a "do".
pub(super) const POS: char = '\u{E003}';
/// Start and end of text a reader does not see (HTML comment, Unicode tag characters).
pub(super) const HIDE_ON: char = '\u{E004}';
pub(super) const HIDE_OFF: char = '\u{E005}';
/// A tag such as `<IMPORTANT>` opened here.
pub(super) const MAND: char = '\u{E006}';
/// A fake system/admin tag (`<system>`, `[ADMIN]`) opened here.
pub(super) const AUTH: char = '\u{E007}';
/// An invisible character sat between two letters here (the word is still joined).
pub(super) const ZW: char = '\u{E008}';
/// A backtick: inline code starts or ends here.
pub(super) const CODE: char = '\u{E009}';

pub(super) fn is_marker(c: char) -> bool {
    ('\u{E000}'..='\u{E009}').contains(&c)
}

/// The marker a symbol stands for, if it is a "do" or "don't" sign.
pub(super) fn marker_of(c: char) -> Option<char> {
    match c {
        '❌' | '✗' | '✘' | '🚫' | '⛔' | '🛑' | '❎' | '🙅' => Some(NEG),
        '✅' | '✔' | '☑' | '✓' | '👍' => Some(POS),
        _ => None,
    }
}

/// Emoji, pictographs, dingbats, arrows, box drawing and similar symbols.
pub(super) fn is_symbol(c: char) -> bool {
    matches!(c as u32,
        0x00A9 | 0x00AE | 0x00B7 | 0x2022 | 0x2023 | 0x2043 | 0x2122 | 0x2139
        | 0x2190..=0x21FF | 0x2300..=0x23FF | 0x2460..=0x24FF | 0x2500..=0x27BF
        | 0x2900..=0x297F | 0x2B00..=0x2BFF | 0x3030 | 0x303D | 0x3297 | 0x3299
        | 0x1F000..=0x1FAFF | 0xE000..=0xF8FF)
}

fn is_invisible(c: char) -> bool {
    matches!(c as u32,
        0x00AD | 0x034F | 0x180E | 0x200B..=0x200F | 0x202A..=0x202E | 0x2060..=0x2064
        | 0x2066..=0x2069 | 0xFE00..=0xFE0F | 0xFEFF | 0xE0100..=0xE01EF)
}

/// A printable ASCII byte that [`Normalizer::piece`] copies as it is in any state: not a space
/// or control, not markup (`<`, `&`, `\`, `*`, `` ` ``, `~`, `_`, `[`, `]`, `!`, `|`) and not
/// `-` (which may close a comment).
fn is_plain(b: u8) -> bool {
    b.is_ascii_graphic()
        && !matches!(b, b'<' | b'&' | b'\\' | b'*' | b'`' | b'~' | b'_' | b'[' | b']' | b'!' | b'|' | b'-')
}

fn is_space(c: char) -> bool {
    c.is_whitespace() || (c as u32) < 0x20 || c == '\u{7F}'
}

/// A normalised unit: text and, per byte of it, the byte offset in the source it came from
/// (one extra entry for the end).
#[derive(Default)]
pub(super) struct Unit {
    pub text: String,
    pub map: Vec<u32>,
    /// Framing of tags that were open while the unit was read (`<IMPORTANT>` … `</IMPORTANT>`).
    pub framing: Framing,
}

impl Unit {
    pub fn clear(&mut self) {
        self.text.clear();
        self.map.clear();
        self.framing = Framing::default();
    }

    fn push(&mut self, c: char, from: usize) {
        let from = u32::try_from(from).unwrap_or(u32::MAX);
        for _ in 0..c.len_utf8() {
            self.map.push(from);
        }
        self.text.push(c);
    }

    /// Appends ASCII text whose byte `i` comes from `from + i`.
    fn push_ascii(&mut self, s: &str, from: usize) {
        debug_assert!(s.is_ascii());
        self.map.extend((from..from + s.len()).map(|f| u32::try_from(f).unwrap_or(u32::MAX)));
        self.text.push_str(s);
    }

    fn last(&self) -> Option<char> {
        self.text.chars().next_back()
    }

    fn space(&mut self, from: usize) {
        if !matches!(self.last(), None | Some(' ')) {
            self.push(' ', from);
        }
    }

    pub fn marker(&mut self, m: char, from: usize) {
        self.push(m, from);
    }

    /// The source range of a range of the unit text (`src` is the source text, for char ends).
    pub fn source_range(&self, src: &str, r: Range<usize>) -> Range<usize> {
        if self.map.is_empty() {
            return 0..0;
        }
        let at = |i: usize| self.map[i.min(self.map.len() - 1)] as usize;
        let start = at(r.start).min(src.len());
        if r.end <= r.start {
            return start..start;
        }
        let last = at(r.end - 1).min(src.len());
        let end = last + src.get(last..).and_then(|s| s.chars().next()).map_or(0, char::len_utf8);
        start..end.max(start)
    }
}

const MANDATORY_TAGS: &[&str] =
    &["important", "critical", "mandatory", "required", "must", "urgent", "priority", "instructions", "instruction"];
const AUTHORITY_TAGS: &[&str] = &[
    "system",
    "sys",
    "admin",
    "administrator",
    "developer",
    "root",
    "operator",
    "system-prompt",
    "system_prompt",
    "systemprompt",
    "system-message",
    "system_message",
    "system-notice",
    "sysadmin",
    "inst",
    "anthropic",
    "openai",
    "openclaw",
];
const HIDDEN_TAGS: &[&str] = &["hidden", "secret", "invisible"];
const BLOCK_TAGS: &[&str] = &[
    "p",
    "div",
    "br",
    "hr",
    "li",
    "ul",
    "ol",
    "details",
    "summary",
    "table",
    "tr",
    "td",
    "th",
    "h1",
    "h2",
    "h3",
    "h4",
    "h5",
    "h6",
    "blockquote",
    "pre",
    "section",
    "article",
    "header",
    "footer",
    "nav",
    "main",
    "center",
    "dl",
    "dt",
    "dd",
    "figure",
    "figcaption",
];
const INLINE_TAGS: &[&str] = &[
    "a", "b", "i", "u", "s", "em", "strong", "code", "span", "img", "sup", "sub", "kbd", "font", "small", "big",
    "mark", "picture", "source", "video", "iframe", "meta", "link", "input", "button", "label", "svg", "path", "del",
    "ins", "abbr", "cite", "q", "var", "samp", "tt", "strike", "script", "style", "noscript", "form",
];

/// Carries state across units (open comments and tags span blocks).
#[derive(Default)]
pub(super) struct Normalizer {
    in_comment: bool,
    open: Framing,
    /// `|` separates cells.
    pub table: bool,
}

enum Tag {
    Open(Framing, bool),
    Close(Framing),
    Block,
    Inline,
}

/// Parses an HTML-ish tag at the start of `s` (which starts with `<`): (length, what it is).
fn tag_at(s: &str) -> Option<(usize, Tag)> {
    let b = s.as_bytes();
    let mut i = 1;
    let closing = b.get(1) == Some(&b'/');
    if closing {
        i += 1;
    }
    let name_start = i;
    while i < b.len() && i - name_start < 32 && (b[i].is_ascii_alphanumeric() || matches!(b[i], b'-' | b'_' | b':')) {
        i += 1;
    }
    if i == name_start || !b[name_start].is_ascii_alphabetic() {
        return None;
    }
    let name = s[name_start..i].to_ascii_lowercase();
    // Attributes up to '>' on a short stretch without another '<'.
    let mut j = i;
    while j < b.len() && j - i < 200 && b[j] != b'>' && b[j] != b'<' && b[j] != b'\n' {
        j += 1;
    }
    if b.get(j) != Some(&b'>') || (j > i && !matches!(b[i], b' ' | b'/' | b'\t')) {
        return None;
    }
    let len = j + 1;
    let self_closing = b[j - 1] == b'/';
    let frame = if MANDATORY_TAGS.contains(&name.as_str()) {
        Framing::MANDATORY
    } else if AUTHORITY_TAGS.contains(&name.as_str()) {
        Framing::AUTHORITY
    } else if HIDDEN_TAGS.contains(&name.as_str()) {
        Framing::HIDDEN
    } else if BLOCK_TAGS.contains(&name.as_str()) {
        return Some((len, Tag::Block));
    } else if INLINE_TAGS.contains(&name.as_str()) {
        return Some((len, Tag::Inline));
    } else {
        return None;
    };
    Some((len, if closing { Tag::Close(frame) } else { Tag::Open(frame, self_closing) }))
}

/// `[SYSTEM]`, `[ADMIN]`, `[INST]`, `[SYSTEM NOTICE]` at the start of `s`: its length.
fn bracket_authority(s: &str) -> Option<usize> {
    let end = s.as_bytes().iter().take(24).position(|&b| b == b']')?;
    let name = s[1..end].trim().to_ascii_lowercase();
    let first = name.split([' ', '-', '_']).next().unwrap_or("");
    matches!(first, "system" | "sys" | "admin" | "administrator" | "inst" | "developer" | "root" | "operator")
        .then_some(end + 1)
}

fn entity_at(s: &str) -> Option<(usize, char)> {
    const ENTITIES: &[(&str, char)] = &[
        ("&lt;", '<'),
        ("&gt;", '>'),
        ("&amp;", '&'),
        ("&quot;", '"'),
        ("&#39;", '\''),
        ("&apos;", '\''),
        ("&nbsp;", ' '),
        ("&#x27;", '\''),
    ];
    ENTITIES.iter().find(|(e, _)| s.starts_with(e)).map(|(e, c)| (e.len(), *c))
}

impl Normalizer {
    /// Appends the normalised text of `src[range]` to `out`.
    pub fn piece(&mut self, src: &str, range: Range<usize>, out: &mut Unit) {
        out.framing |= self.open;
        let s = &src[range.clone()];
        let base = range.start;
        let mut k = 0;
        let mut tag_run = false;
        let mut pending_zw = false;
        while k < s.len() {
            // Most of a unit is plain ASCII (letters, digits, ordinary punctuation) that every
            // branch below would copy one char at a time: copy the whole run at once. Only
            // bytes without a branch of their own qualify, and only when no tag run or
            // invisible character is pending, so the result is the same.
            if !tag_run && !pending_zw {
                let run = s.as_bytes()[k..].iter().take_while(|&&b| is_plain(b)).count();
                if run > 0 {
                    out.push_ascii(&s[k..k + run], base + k);
                    k += run;
                    continue;
                }
                // The space between words: all a space does in that state.
                if s.as_bytes()[k] == b' ' {
                    out.space(base + k);
                    k += 1;
                    continue;
                }
            }
            let rest = &s[k..];
            let Some(c) = rest.chars().next() else { break };
            let at = base + k;
            let clen = c.len_utf8();
            let code = c as u32;
            if (0xE0000..=0xE007F).contains(&code) {
                if !tag_run {
                    tag_run = true;
                    out.marker(HIDE_ON, at);
                }
                if let Some(a) = char::from_u32(code - 0xE0000).filter(|a| (' '..='~').contains(a)) {
                    out.push(a, at);
                }
                k += clen;
                continue;
            }
            if tag_run {
                tag_run = false;
                out.marker(HIDE_OFF, at);
            }
            if is_invisible(c) {
                if out.last().is_some_and(|l| l.is_alphanumeric()) {
                    pending_zw = true;
                }
                k += clen;
                continue;
            }
            if std::mem::take(&mut pending_zw) && c.is_alphanumeric() {
                out.marker(ZW, at);
            }
            if self.in_comment && rest.starts_with("-->") {
                self.in_comment = false;
                out.marker(HIDE_OFF, at);
                out.marker(BREAK, at);
                k += 3;
                continue;
            }
            match c {
                '<' if rest.starts_with("<!--") => {
                    self.in_comment = true;
                    out.marker(BREAK, at);
                    out.marker(HIDE_ON, at);
                    k += 4;
                    continue;
                }
                '<' => {
                    if let Some((len, tag)) = tag_at(rest) {
                        match tag {
                            Tag::Open(f, self_closing) => {
                                out.marker(BREAK, at);
                                if f.contains(Framing::HIDDEN) {
                                    out.marker(HIDE_ON, at);
                                }
                                out.marker(if f.contains(Framing::AUTHORITY) { AUTH } else { MAND }, at);
                                if !self_closing {
                                    self.open |= f;
                                    out.framing |= f;
                                }
                            }
                            Tag::Close(f) => {
                                if f.contains(Framing::HIDDEN) {
                                    out.marker(HIDE_OFF, at);
                                }
                                self.open = self.open.without(f);
                                out.marker(BREAK, at);
                            }
                            Tag::Block => out.marker(BREAK, at),
                            Tag::Inline => out.space(at),
                        }
                        k += len;
                        continue;
                    }
                    out.push('<', at);
                }
                '&' => match entity_at(rest) {
                    Some((len, ch)) => {
                        if ch == ' ' {
                            out.space(at)
                        } else {
                            out.push(ch, at)
                        }
                        k += len;
                        continue;
                    }
                    None => out.push('&', at),
                },
                '\\' if rest.as_bytes().get(1).is_some_and(|b| b.is_ascii_punctuation()) => {
                    let next = rest.as_bytes()[1] as char;
                    out.push(next, at + 1);
                    k += 2;
                    continue;
                }
                '*' => {}
                '`' => {
                    let run = rest.bytes().take_while(|&b| b == b'`').count();
                    out.marker(CODE, at);
                    k += run;
                    continue;
                }
                '~' if rest.starts_with("~~") => {
                    k += 2;
                    continue;
                }
                '_' => {
                    let before = out.last().is_some_and(|l| l.is_alphanumeric());
                    let after = rest[1..].chars().next().is_some_and(|n| n.is_alphanumeric());
                    if before && after {
                        out.push('_', at);
                    }
                }
                '[' => {
                    if let Some(len) = bracket_authority(rest) {
                        out.marker(AUTH, at);
                        out.space(at);
                        k += len;
                        continue;
                    }
                }
                ']' => {
                    if rest[1..].starts_with('(') {
                        out.space(at);
                    }
                }
                '!' if rest[1..].starts_with('[') => {}
                '|' if self.table => out.marker(BREAK, at),
                '\u{2019}' | '\u{2018}' | '\u{201B}' | '\u{2032}' => out.push('\'', at),
                '\u{201C}' | '\u{201D}' | '\u{201E}' | '\u{201F}' | '\u{00AB}' | '\u{00BB}' | '\u{2033}' => {
                    out.push('"', at)
                }
                '\u{2013}' | '\u{2014}' | '\u{2015}' | '\u{2212}' => {
                    out.space(at);
                    out.push('-', at);
                    out.space(at);
                }
                _ if is_space(c) => out.space(at),
                _ => {
                    if let Some(m) = marker_of(c) {
                        out.marker(m, at);
                        out.space(at);
                    } else if is_symbol(c) {
                        out.space(at);
                    } else {
                        out.push(c, at);
                    }
                }
            }
            k += clen;
        }
        if tag_run {
            out.marker(HIDE_OFF, base + s.len());
        }
    }

    /// Starts a new unit (comments and open tags carry over).
    pub fn begin(&mut self, out: &mut Unit, at: usize) {
        out.clear();
        out.framing = self.open;
        if self.in_comment {
            out.marker(HIDE_ON, at);
        }
    }

    /// Separates two pieces of a unit: a space (wrapped line), a step or a break.
    pub fn join(&mut self, out: &mut Unit, sep: char, at: usize) {
        if sep == ' ' { out.space(at) } else { out.marker(sep, at) }
    }
}
