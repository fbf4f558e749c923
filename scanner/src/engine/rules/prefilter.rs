//! Required literals of a regex: a set of strings at least one of which occurs (compared
//! case-insensitively) in every match. The engine finds all of them with one Aho-Corasick pass
//! per segment and runs a regex only where its literals occur. This is what keeps a hundred rules
//! over 60 MB of skills within the speed budget.
//!
//! The analysis is conservative: when in doubt it answers "no requirement", never a set that a
//! match could avoid.

use regex_syntax::hir::{Class, Hir, HirKind};

use crate::engine::text::LineIndex;

/// What a regex needs to see before it can match.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Prefilter {
    /// One of these (lowercase) strings occurs in every match.
    Literals(Vec<String>),
    /// Every match contains a non-ASCII character.
    NonAscii,
}

#[derive(Debug, Clone, PartialEq, Eq)]
enum Req {
    /// Anything can match (no usable requirement).
    Any,
    /// One of these strings occurs; `exact` when the node matches exactly one of them.
    Lits {
        set: Vec<String>,
        exact: bool,
    },
    NonAscii,
}

/// Largest class turned into a set of one-character literals.
const MAX_CLASS: usize = 160;
/// Largest literal set built by concatenation.
const MAX_SET: usize = 64;

fn class_chars(class: &Class) -> Option<Vec<char>> {
    let mut chars = Vec::new();
    match class {
        Class::Unicode(unicode) => {
            for range in unicode.ranges() {
                let (start, end) = (range.start() as u32, range.end() as u32);
                if (end - start) as usize + chars.len() >= MAX_CLASS {
                    return None;
                }
                chars.extend((start..=end).filter_map(char::from_u32));
            }
        }
        Class::Bytes(bytes) => {
            for range in bytes.ranges() {
                if range.end() >= 0x80 || (range.end() - range.start()) as usize + chars.len() >= MAX_CLASS {
                    return None;
                }
                chars.extend((range.start()..=range.end()).map(char::from));
            }
        }
    }
    Some(chars)
}

fn all_non_ascii(class: &Class) -> bool {
    match class {
        Class::Unicode(unicode) => unicode.ranges().iter().all(|r| r.start() as u32 >= 0x80),
        Class::Bytes(bytes) => bytes.ranges().iter().all(|r| r.start() >= 0x80),
    }
}

fn class_req(class: &Class) -> Req {
    match class_chars(class) {
        Some(chars) if !chars.is_empty() => {
            let mut set: Vec<String> = chars.iter().flat_map(|c| c.to_lowercase()).map(String::from).collect();
            set.sort();
            set.dedup();
            // Case folding adds a few exotic variants of ASCII letters (long s, Kelvin sign);
            // Unicode normalisation folds those before matching, so the ASCII letter suffices.
            let ascii: Vec<String> = set.iter().filter(|s| s.is_ascii()).cloned().collect();
            if ascii.len() == 1 && set.len() <= 3 && ascii[0].chars().all(|c| c.is_ascii_alphabetic()) {
                set = ascii;
            }
            Req::Lits { set, exact: true }
        }
        _ if all_non_ascii(class) => Req::NonAscii,
        _ => Req::Any,
    }
}

fn score(req: &Req) -> i64 {
    match req {
        Req::Lits { set, .. } => {
            let shortest = set.iter().map(String::len).min().unwrap_or(0) as i64;
            shortest * 100 - (set.len() as i64).min(99)
        }
        Req::NonAscii => 150,
        Req::Any => 0,
    }
}

fn cross(a: &[String], b: &[String]) -> Option<Vec<String>> {
    if a.len() * b.len() > MAX_SET {
        return None;
    }
    let mut out: Vec<String> = a.iter().flat_map(|x| b.iter().map(move |y| format!("{x}{y}"))).collect();
    out.sort();
    out.dedup();
    Some(out)
}

/// The requirements of a concatenation's parts, in order: `Ok` with one exact set when the
/// whole concatenation is literal, else every part's requirement (literal runs joined).
fn concat_parts(children: &[Hir]) -> Result<Vec<String>, Vec<Req>> {
    concat_parts_spanned(children).map_err(|parts| parts.into_iter().map(|(req, _)| req).collect())
}

/// A part of a concatenation: its requirement and the children it covers (`first..=last`).
type Part = (Req, (usize, usize));

/// [`concat_parts`] with, for each part, the children it covers.
fn concat_parts_spanned(children: &[Hir]) -> Result<Vec<String>, Vec<Part>> {
    let mut candidates: Vec<Part> = Vec::new();
    let mut run: Option<Vec<String>> = Some(vec![String::new()]);
    // First child of the literal run being joined.
    let mut run_start = 0;
    let mut all_exact = true;
    for (index, child) in children.iter().enumerate() {
        match req(child) {
            Req::Lits { set, exact: true } => {
                run = match run.take() {
                    Some(current) => match cross(&current, &set) {
                        Some(next) => Some(next),
                        None => {
                            candidates.push((Req::Lits { set: current, exact: false }, (run_start, index - 1)));
                            run_start = index;
                            Some(set)
                        }
                    },
                    None => {
                        run_start = index;
                        Some(set)
                    }
                };
            }
            other => {
                all_exact = false;
                if let Some(current) = run.take() {
                    // An empty run (nothing joined yet) is dropped by the callers as unusable.
                    candidates.push((Req::Lits { set: current, exact: false }, (run_start, index.saturating_sub(1))));
                }
                candidates.push((other, (index, index)));
                run = Some(vec![String::new()]);
                run_start = index + 1;
            }
        }
    }
    if all_exact && let Some(set) = run {
        return Ok(set);
    }
    if let Some(current) = run {
        candidates.push((Req::Lits { set: current, exact: false }, (run_start, children.len().saturating_sub(1))));
    }
    Err(candidates)
}

fn req(hir: &Hir) -> Req {
    match hir.kind() {
        HirKind::Empty | HirKind::Look(_) => Req::Lits { set: vec![String::new()], exact: true },
        HirKind::Literal(literal) => match std::str::from_utf8(&literal.0) {
            Ok(text) => Req::Lits { set: vec![text.to_lowercase()], exact: true },
            Err(_) => Req::Any,
        },
        HirKind::Class(class) => class_req(class),
        HirKind::Capture(capture) => req(&capture.sub),
        HirKind::Repetition(repetition) => {
            if repetition.min == 0 {
                return Req::Any;
            }
            match req(&repetition.sub) {
                // `x{16,}` needs sixteen x's in a row: a much better literal than one x.
                Req::Lits { set, exact: true } if set.len() == 1 && repetition.min >= 2 => {
                    let times = repetition.min.min(16) as usize;
                    let exact = repetition.max == Some(repetition.min) && times == repetition.min as usize;
                    Req::Lits { set: vec![set[0].repeat(times)], exact }
                }
                Req::Lits { set, exact } => {
                    Req::Lits { set, exact: exact && repetition.max == Some(1) && repetition.min == 1 }
                }
                other => other,
            }
        }
        HirKind::Alternation(branches) => {
            let mut union = Vec::new();
            let mut exact = true;
            // Branches that need some non-ASCII character (a class of them), and literal sets
            // whose strings all hold one.
            let mut non_ascii = 0;
            let mut non_ascii_lits = 0;
            for branch in branches {
                match req(branch) {
                    Req::Any => return Req::Any,
                    Req::NonAscii => non_ascii += 1,
                    Req::Lits { set, exact: e } => {
                        if !set.is_empty() && set.iter().all(|s| !s.is_ascii()) {
                            non_ascii_lits += 1;
                        }
                        exact &= e;
                        union.extend(set);
                    }
                }
            }
            if non_ascii == branches.len() {
                return Req::NonAscii;
            }
            if non_ascii > 0 {
                // Every alternative needs a non-ASCII character (`\p{Cyrillic}` or `aο`).
                return if non_ascii + non_ascii_lits == branches.len() { Req::NonAscii } else { Req::Any };
            }
            union.sort();
            union.dedup();
            if union.iter().any(String::is_empty) {
                return Req::Any;
            }
            Req::Lits { set: union, exact }
        }
        HirKind::Concat(children) => {
            let candidates = match concat_parts(children) {
                Ok(set) => return Req::Lits { set, exact: true },
                Err(candidates) => candidates,
            };
            candidates
                .into_iter()
                .filter(|c| !matches!(c, Req::Lits { set, .. } if set.iter().any(String::is_empty)))
                .max_by_key(score)
                .map(|c| match c {
                    Req::Lits { set, .. } => Req::Lits { set, exact: false },
                    other => other,
                })
                .unwrap_or(Req::Any)
        }
    }
}

/// One alternative of a regex: the literal groups all of which occur in each of its matches,
/// in the order their parts come in the pattern, and, for two groups, how far apart they can
/// be.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Branch {
    pub groups: Vec<Vec<String>>,
    /// With two groups, how far the start of a first-group literal can be from the start of
    /// the second-group literal after it, when the pattern between them bounds it. A literal
    /// found somewhere and another found pages later do not make a match; most segments that
    /// hold a rule's literals hold them far apart.
    pub within: Option<Distance>,
}

/// A bound on the text between two positions of a match (at least one of its fields bounds).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Distance {
    /// Bytes, when the pattern bounds them.
    pub bytes: Option<usize>,
    /// Bytes of characters that are not white space (`char::is_whitespace`, the regex `\s`):
    /// bounded also where the pattern allows any run of white space between its words
    /// (`never\s+tell`), which most rules do so that wrapped lines still match.
    pub visible: Option<usize>,
    /// No line break between them (`curl[^\n]*https?://`).
    pub one_line: bool,
}

/// Whether a match of `hir` can hold a line feed.
fn can_match_newline(hir: &Hir) -> bool {
    match hir.kind() {
        HirKind::Empty | HirKind::Look(_) => false,
        HirKind::Literal(literal) => literal.0.contains(&b'\n'),
        HirKind::Class(Class::Unicode(unicode)) => {
            unicode.ranges().iter().any(|r| r.start() <= '\n' && '\n' <= r.end())
        }
        HirKind::Class(Class::Bytes(bytes)) => bytes.ranges().iter().any(|r| r.start() <= b'\n' && b'\n' <= r.end()),
        HirKind::Capture(capture) => can_match_newline(&capture.sub),
        HirKind::Repetition(repetition) => repetition.max != Some(0) && can_match_newline(&repetition.sub),
        HirKind::Concat(children) | HirKind::Alternation(children) => children.iter().any(can_match_newline),
    }
}

/// What lies between two offsets of a segment's text, answered from indexes built on first
/// use, so only for segments where some rule asks.
pub struct Gaps<'t> {
    text: &'t str,
    visible: Option<VisibleBytes>,
    lines: Option<LineIndex>,
}

impl<'t> Gaps<'t> {
    pub fn new(text: &'t str) -> Gaps<'t> {
        Gaps { text, visible: None, lines: None }
    }

    /// At most `most` bytes of non-white-space characters in `from..to`.
    pub fn visible_within(&mut self, from: usize, to: usize, most: usize) -> bool {
        // Most gaps are short or soon hold more than `most` visible bytes: counting them costs
        // less than indexing the segment. A long run of white space makes the index worth it
        // (and keeps many such checks linear in the segment).
        const COUNT_UP_TO: usize = 4096;
        if self.visible.is_none() {
            let gap = self.text.get(from..to.min(self.text.len())).unwrap_or("");
            if gap.is_empty() {
                return true;
            }
            let mut visible = 0;
            for (at, c) in gap.char_indices() {
                if at > COUNT_UP_TO {
                    break;
                }
                if !c.is_whitespace() {
                    visible += c.len_utf8();
                    if visible > most {
                        return false;
                    }
                }
                if at + c.len_utf8() == gap.len() {
                    return true;
                }
            }
        }
        self.visible.get_or_insert_with(|| VisibleBytes::new(self.text)).between(from, to) <= most
    }

    /// No line feed in `from..to`.
    pub fn same_line(&mut self, from: usize, to: usize) -> bool {
        let lines = self.lines.get_or_insert_with(|| LineIndex::new(self.text));
        lines.line_of(from) == lines.line_of(to)
    }
}

/// Bytes of non-white-space characters before each byte offset of a text, so that those
/// between two offsets cost one subtraction.
struct VisibleBytes(Vec<u32>);

impl VisibleBytes {
    fn new(text: &str) -> VisibleBytes {
        let bytes = text.as_bytes();
        let mut before = Vec::with_capacity(bytes.len() + 1);
        let mut count = 0u32;
        let mut i = 0;
        while i < bytes.len() {
            let b = bytes[i];
            // ASCII white space is what `char::is_whitespace` says it is: U+0009..U+000D, space.
            let (len, visible) = if b < 0x80 {
                (1, !matches!(b, b'\t'..=b'\r' | b' '))
            } else {
                let c = text[i..].chars().next().unwrap_or(' ');
                (c.len_utf8(), !c.is_whitespace())
            };
            before.extend(std::iter::repeat_n(count, len));
            if visible {
                count = count.saturating_add(len as u32);
            }
            i += len;
        }
        before.push(count);
        VisibleBytes(before)
    }

    /// Non-white-space bytes in `from..to` (offsets past the end count as the end).
    fn between(&self, from: usize, to: usize) -> usize {
        let at = |i: usize| self.0.get(i).or(self.0.last()).copied().unwrap_or(0);
        at(to).saturating_sub(at(from)) as usize
    }
}

/// The most bytes of non-white-space characters a match of `hir` can hold (`None`: unbounded).
fn max_visible(hir: &Hir) -> Option<usize> {
    match hir.kind() {
        HirKind::Empty | HirKind::Look(_) => Some(0),
        HirKind::Literal(literal) => Some(match std::str::from_utf8(&literal.0) {
            Ok(text) => text.chars().filter(|c| !c.is_whitespace()).map(char::len_utf8).sum(),
            Err(_) => literal.0.len(),
        }),
        HirKind::Class(class) => Some(class_max_visible(class)),
        HirKind::Capture(capture) => max_visible(&capture.sub),
        HirKind::Repetition(repetition) => match max_visible(&repetition.sub)? {
            0 => Some(0),
            one => one.checked_mul(repetition.max? as usize),
        },
        HirKind::Concat(children) => children.iter().try_fold(0usize, |sum, c| sum.checked_add(max_visible(c)?)),
        HirKind::Alternation(branches) => branches.iter().try_fold(0usize, |most, b| Some(most.max(max_visible(b)?))),
    }
}

/// The longest non-white-space character of a class, in bytes (0 when it holds only white space).
fn class_max_visible(class: &Class) -> usize {
    // Long ranges are never all white space (the longest run of it, U+2000..U+200A, has 11).
    let all_space = |start: u32, end: u32| {
        end - start < 16 && (start..=end).all(|c| char::from_u32(c).is_some_and(char::is_whitespace))
    };
    match class {
        Class::Unicode(unicode) => unicode
            .ranges()
            .iter()
            .filter(|r| !all_space(r.start() as u32, r.end() as u32))
            .map(|r| r.end().len_utf8())
            .max()
            .unwrap_or(0),
        Class::Bytes(bytes) => {
            let visible = bytes.ranges().iter().any(|r| !all_space(u32::from(r.start()), u32::from(r.end())));
            usize::from(visible)
        }
    }
}

/// Branches of required literal groups: the regex can match only where, for at least one
/// branch, every group of that branch has a literal present. A top-level alternation gives one
/// branch per alternative; each branch keeps two literal sets of distinct parts of its
/// concatenation (`(?:print|echo)…(?:api key|token)` needs a verb *and* a secret word), which
/// rules out far more text than either set alone: a pair whose distance the pattern bounds
/// when there is one, else the two best-scoring sets. `None` when some branch has no usable set.
pub type Branches = Vec<Branch>;

/// At most this many branches (each takes two bits of a `u32` mask in the engine).
pub const MAX_BRANCHES: usize = 16;

pub fn prefilter_branches(pattern: &str) -> Option<Branches> {
    let hir = regex_syntax::ParserBuilder::new().build().parse(pattern).ok()?;
    let hir = strip_captures(&hir);
    // The parser lifts a prefix common to all alternatives (`\b` mostly) out of the alternation.
    let inner = match hir.kind() {
        HirKind::Concat(children) => {
            let mut rest = children.iter().filter(|c| !matches!(c.kind(), HirKind::Look(_) | HirKind::Empty));
            match (rest.next().map(strip_captures), rest.next()) {
                (Some(only), None) if matches!(only.kind(), HirKind::Alternation(_)) => only,
                _ => hir,
            }
        }
        _ => hir,
    };
    let branches: Vec<&Hir> = match inner.kind() {
        HirKind::Alternation(branches) => branches.iter().collect(),
        _ => vec![hir],
    };
    if branches.len() > MAX_BRANCHES {
        return None;
    }
    branches.into_iter().map(branch_groups).collect()
}

fn strip_captures(hir: &Hir) -> &Hir {
    match hir.kind() {
        HirKind::Capture(capture) => strip_captures(&capture.sub),
        _ => hir,
    }
}

fn usable(set: &[String]) -> bool {
    !set.is_empty()
        && !set.iter().any(String::is_empty)
        && (set.iter().all(|s| s.len() >= 2) || set.iter().all(|s| !s.is_ascii()))
}

fn branch_groups(hir: &Hir) -> Option<Branch> {
    let hir = strip_captures(hir);
    let HirKind::Concat(children) = hir.kind() else {
        return match req(hir) {
            Req::Lits { set, .. } if usable(&set) => Some(Branch { groups: vec![set], within: None }),
            _ => None,
        };
    };
    let mut sets: Vec<(Vec<String>, (usize, usize))> = match concat_parts_spanned(children) {
        Ok(set) => vec![(set, (0, children.len().saturating_sub(1)))],
        Err(candidates) => candidates
            .into_iter()
            .filter_map(|(c, span)| match c {
                Req::Lits { set, .. } => Some((set, span)),
                _ => None,
            })
            .collect(),
    };
    sets.retain(|(set, _)| usable(set));
    let set_score = |set: &Vec<String>| score(&Req::Lits { set: set.clone(), exact: false });
    let distance = |first: usize, last: usize| {
        let parts = children.get(first..=last)?;
        let visible = parts.iter().try_fold(0usize, |sum, part| sum.checked_add(max_visible(part)?));
        let bytes = parts.iter().try_fold(0usize, |sum, part| sum.checked_add(part.properties().maximum_len()?));
        let one_line = !parts.iter().any(can_match_newline);
        (visible.is_some() || one_line).then_some(Distance { bytes, visible, one_line })
    };
    // Two literals that must be near each other rule out far more segments than two better
    // literals that may be pages apart: a pair with a distance wins over one without, then
    // the better weaker set. `sets` is in pattern order.
    let mut best: Option<(bool, i64, usize, usize, Option<Distance>)> = None;
    for i in 0..sets.len() {
        for j in i + 1..sets.len() {
            let within = distance(sets[i].1.0, sets[j].1.1);
            let pair = (within.is_some(), set_score(&sets[i].0).min(set_score(&sets[j].0)));
            if best.as_ref().is_none_or(|b| pair > (b.0, b.1)) {
                best = Some((pair.0, pair.1, i, j, within));
            }
        }
    }
    let within = match best {
        Some((_, _, i, j, within)) => {
            let second = sets.swap_remove(j);
            let first = sets.swap_remove(i);
            sets = vec![first, second];
            within
        }
        None => {
            sets.truncate(1);
            None
        }
    };
    let groups: Vec<Vec<String>> = sets.into_iter().map(|(set, _)| set).collect();
    (!groups.is_empty()).then_some(Branch { groups, within })
}

/// The prefilter of a pattern, or `None` when there is no useful one.
pub fn prefilter(pattern: &str) -> Option<Prefilter> {
    let hir = regex_syntax::ParserBuilder::new().build().parse(pattern).ok()?;
    match req(&hir) {
        Req::Lits { set, .. } if !set.is_empty() && set.iter().all(|s| s.len() >= 2) => Some(Prefilter::Literals(set)),
        Req::NonAscii => Some(Prefilter::NonAscii),
        // A set of short ASCII strings filters nothing; but non-ASCII one-character sets (zero-
        // width characters, tag characters) are still multi-byte and rare.
        Req::Lits { set, .. } if !set.is_empty() && set.iter().all(|s| !s.is_ascii()) => Some(Prefilter::Literals(set)),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn lits(pattern: &str) -> Vec<String> {
        match prefilter(pattern) {
            Some(Prefilter::Literals(set)) => set,
            other => panic!("{pattern}: {other:?}"),
        }
    }

    #[test]
    fn alternatives_and_case_insensitivity() {
        assert_eq!(lits(r"(?i)\b(?:curl|wget)\b.*\|\s*sh"), ["curl", "wget"]);
        assert_eq!(lits(r"(?i)Ignore\s+previous"), ["previous"]);
    }

    #[test]
    fn inner_literals_are_found_after_classes() {
        assert_eq!(lits(r"(?:^|[\s>*])(?:system\s+notice|\[system\])"), ["[system]", "notice"]);
        assert_eq!(lits(r"[a-z]+/\.ssh/id_"), ["/.ssh/id_"]);
    }

    #[test]
    fn optional_parts_are_not_required() {
        assert_eq!(lits(r"(?:foo)?barbaz"), ["barbaz"]);
        assert_eq!(prefilter(r"(?:foo)?b"), None);
        assert_eq!(prefilter(r"a|[a-z]+"), None);
    }

    #[test]
    fn repetitions_of_one_literal_become_longer_literals() {
        assert_eq!(lits(r" {200,}\S"), [" ".repeat(16)]);
        assert_eq!(lits(r"(?:ab){3}c"), ["abababc"]);
    }

    #[test]
    fn visible_bytes_skip_every_kind_of_white_space() {
        let text = "a \t\r\nb\u{a0}é\u{2003}x\u{3000}";
        let visible = VisibleBytes::new(text);
        assert_eq!(
            visible.between(0, text.len()),
            text.chars().filter(|c| !c.is_whitespace()).map(char::len_utf8).sum::<usize>()
        );
        assert_eq!(visible.between(1, 6), 1, "only the b");
        assert_eq!(visible.between(0, text.len() + 10), visible.between(0, text.len()));
    }

    #[test]
    fn alternatives_that_each_need_non_ascii_text_need_it() {
        assert_eq!(prefilter(r"\p{Latin}\p{Cyrillic}|[a-z]ο|ο[a-z]"), Some(Prefilter::NonAscii));
        assert_eq!(prefilter(r"\p{Cyrillic}|[a-z]x"), None, "one alternative is ASCII");
    }

    #[test]
    fn gap_counts_agree_whether_counted_or_indexed() {
        let spaces = " \n\t".repeat(3000);
        let text = format!("ab  cd\u{a0}é {spaces}xyz");
        for (from, to, most, expected) in
            [(0, 6, 4, true), (0, 6, 3, false), (0, text.len(), 9, true), (0, text.len(), 8, false), (3, 3, 0, true)]
        {
            assert_eq!(Gaps::new(&text).visible_within(from, to, most), expected, "{from}..{to} <= {most}");
            let mut indexed = Gaps::new(&text);
            indexed.visible = Some(VisibleBytes::new(&text));
            assert_eq!(indexed.visible_within(from, to, most), expected, "indexed {from}..{to} <= {most}");
        }
        assert!(Gaps::new(&text).same_line(0, 6) && !Gaps::new(&text).same_line(0, text.len()));
    }

    #[test]
    fn non_ascii_classes() {
        assert_eq!(prefilter(r"[\x{E0000}-\x{E007F}]+").map(|p| matches!(p, Prefilter::Literals(_))), Some(true));
        assert_eq!(prefilter(r"\p{Latin}\p{Cyrillic}"), Some(Prefilter::NonAscii));
        let zw = lits(r"[A-Za-z][\x{200B}-\x{200D}]+[A-Za-z]");
        assert_eq!(zw.len(), 3);
    }

    #[test]
    fn branches_keep_two_groups_per_alternative() {
        let branches =
            prefilter_branches(r"(?i)\b(?:print|echo)\b[^\n]{0,40}\b(?:api[ _]key|token)\b|\bask\s+the\s+user\b")
                .unwrap();
        assert_eq!(branches.len(), 2);
        assert_eq!(branches[0].groups.len(), 2, "{branches:?}");
        assert_eq!(branches[0].groups[0], ["echo", "print"], "pattern order: {branches:?}");
        assert!(branches[0].groups[1].iter().any(|l| l == "token"), "{branches:?}");
        // `print` (5 bytes) + `\b[^\n]{0,40}\b` (40 characters of up to 4 bytes) + `api_key`:
        // no further apart than the pattern is long. In `ask\s+the\s+user`, `ask` and `user` are
        // at most `ask` + `the` + `user` visible bytes apart, however wrapped.
        let within = branches[0].within.expect("bounded");
        let bytes = within.bytes.expect("bounded bytes");
        assert!((165..400).contains(&bytes), "{within:?}");
        assert!(within.visible.is_some_and(|v| v <= bytes) && within.one_line, "{within:?}");
        assert!(branches[1].within.is_some_and(|d| d.visible.is_some_and(|v| v <= 10)), "{branches:?}");
        // Any white space between the parts: visible characters still bounded, bytes not.
        let spaced = prefilter_branches(r"(?i)\b(?:print|echo)\s+(?:the\s+)?(?:api_key|token)\b").unwrap();
        // `print` + `the` + `api_key`, where case folding lets `k` be the three-byte Kelvin sign.
        assert_eq!(spaced[0].within, Some(Distance { bytes: None, visible: Some(5 + 3 + 7 + 2), one_line: false }));
        // Anything but a line break between them: on one line.
        let line = prefilter_branches(r"(?i)\b(?:curl|wget)\b[^\n]*?https?://").unwrap();
        assert_eq!(line[0].within, Some(Distance { bytes: None, visible: None, one_line: true }));
        // Anything else unbounded between them: no distance.
        let unbounded = prefilter_branches(r"(?i)\b(?:print|echo)\b[\s\S]*\b(?:api_key|token)\b").unwrap();
        assert_eq!((unbounded[0].groups.len(), unbounded[0].within), (2, None));
        // A branch without any literal makes the whole pattern unfilterable this way.
        assert_eq!(prefilter_branches(r"foo\d+|[a-z]+"), None);
    }

    #[test]
    fn every_group_of_a_matching_branch_is_in_the_match() {
        for (pattern, text) in [
            (r"(?i)\b(?:print|echo)\b[^\n]{0,40}\b(?:api\s+key|token)\b|\bask\s+the\s+user\b", "Echo the API key"),
            (r"(?i)\b(?:curl|wget)\b[^\n|]*\|\s*(?:ba)?sh\b", "wget -qO- x | sh"),
            (r"(?i)\bnever\s+tell\s+the\s+(?:user|owner)\b", "NEVER tell the owner"),
            (r#"(?i)[/|"'(](?:key|token)s?[/|"')][^\n]{0,60}?\b(?:test|match)\s*\("#, "x = '/token/' if re.match(y)"),
            (r"(?i)\bexport\s+\w+=[^\n]{0,30}\bhttps?://", "EXPORT A=1 b=https://x"),
            (r"(?i)\b(?:curl|wget)\b[^\n]*?(?P<url>https?://\S+)", "x\nWGET -q  --header 'a: b' https://x.example/y"),
            (r"(?i)\bnever\s+(?:ever\s+)?tell\s+(?:the\s+)?(?:user|owner)\b", "never \n\n  ever\t tell   the\nuser"),
            (
                r"(?i)\b(?:do\s+not|never)\s+(?:tell|reveal)\s+(?:this\s+)?to\s+the\s+(?:user|owner)",
                "Do  not reveal this to\r\n the owner",
            ),
        ] {
            let m = regex::Regex::new(pattern).unwrap().find(text).unwrap().as_str().to_lowercase();
            let branches = prefilter_branches(pattern).unwrap();
            assert!(
                branches.iter().any(|b| b.groups.iter().all(|g| g.iter().any(|l| m.contains(l.as_str())))),
                "{pattern}: {branches:?}"
            );
            // ... in pattern order and within the distance.
            let visible = |from: usize, to: usize| {
                m[from..to].chars().filter(|c| !c.is_whitespace()).map(char::len_utf8).sum::<usize>()
            };
            let near = |b: &Branch| match (b.groups.as_slice(), b.within) {
                ([first, second], Some(within)) => first.iter().any(|a| {
                    m.match_indices(a.as_str()).any(|(a0, _)| {
                        second.iter().any(|l| {
                            m.match_indices(l.as_str()).any(|(b0, _)| {
                                b0 >= a0 + a.len()
                                    && within.bytes.is_none_or(|n| b0 - a0 <= n)
                                    && within.visible.is_none_or(|n| visible(a0, b0) <= n)
                                    && (!within.one_line || !m[a0..b0].contains('\n'))
                            })
                        })
                    })
                }),
                _ => true,
            };
            assert!(branches.iter().any(near), "{pattern}: {branches:?}");
        }
    }

    #[test]
    fn every_literal_is_really_in_the_matches() {
        // Soundness spot check: each match of the regex contains one of its literals.
        for (pattern, text) in [
            (r"(?i)\b(?:curl|wget)\b[^\n|]*\|\s*(?:ba)?sh\b", "CURL -s x | bash"),
            (r"(?i)(?:^|[\s>])(?:system\s+(?:notice|override))", "> SYSTEM NOTICE"),
            (r"\b(?:exec|eval)\s*\([^\n]{0,20}\b(?:b64decode|unhexlify)", "exec(base64.b64decode(x))"),
        ] {
            let regex = regex::Regex::new(pattern).unwrap();
            let m = regex.find(text).unwrap().as_str().to_lowercase();
            assert!(lits(pattern).iter().any(|l| m.contains(l.as_str())), "{pattern}");
        }
    }
}
