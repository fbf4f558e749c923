//! Required literals of a regex: a set of strings at least one of which occurs (compared
//! case-insensitively) in every match. The engine finds all of them with one Aho-Corasick pass
//! per segment and runs a regex only where its literals occur. This is what keeps a hundred rules
//! over 60 MB of skills within the speed budget.
//!
//! The analysis is conservative: when in doubt it answers "no requirement", never a set that a
//! match could avoid.

use regex_syntax::hir::{Class, Hir, HirKind};

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
    let mut candidates: Vec<Req> = Vec::new();
    let mut run: Option<Vec<String>> = Some(vec![String::new()]);
    let mut all_exact = true;
    for child in children {
        match req(child) {
            Req::Lits { set, exact: true } => {
                run = match run.take() {
                    Some(current) => match cross(&current, &set) {
                        Some(next) => Some(next),
                        None => {
                            candidates.push(Req::Lits { set: current, exact: false });
                            Some(set)
                        }
                    },
                    None => Some(set),
                };
            }
            other => {
                all_exact = false;
                if let Some(current) = run.take() {
                    candidates.push(Req::Lits { set: current, exact: false });
                }
                candidates.push(other);
                run = Some(vec![String::new()]);
            }
        }
    }
    if all_exact && let Some(set) = run {
        return Ok(set);
    }
    if let Some(current) = run {
        candidates.push(Req::Lits { set: current, exact: false });
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
            let mut non_ascii = 0;
            for branch in branches {
                match req(branch) {
                    Req::Any => return Req::Any,
                    Req::NonAscii => non_ascii += 1,
                    Req::Lits { set, exact: e } => {
                        exact &= e;
                        union.extend(set);
                    }
                }
            }
            if non_ascii == branches.len() {
                return Req::NonAscii;
            }
            if non_ascii > 0 {
                return Req::Any;
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

/// Branches of required literal groups: the regex can match only where, for at least one
/// branch, every group of that branch has a literal present. A top-level alternation gives one
/// branch per alternative; each branch keeps the two best literal sets of distinct parts of its
/// concatenation (`(?:print|echo)…(?:api key|token)` needs a verb *and* a secret word), which
/// rules out far more text than either set alone. `None` when some branch has no usable set.
pub type Branches = Vec<Vec<Vec<String>>>;

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

fn branch_groups(hir: &Hir) -> Option<Vec<Vec<String>>> {
    let hir = strip_captures(hir);
    let HirKind::Concat(children) = hir.kind() else {
        return match req(hir) {
            Req::Lits { set, .. } if usable(&set) => Some(vec![set]),
            _ => None,
        };
    };
    let mut sets: Vec<Vec<String>> = match concat_parts(children) {
        Ok(set) => vec![set],
        Err(candidates) => candidates
            .into_iter()
            .filter_map(|c| match c {
                Req::Lits { set, .. } => Some(set),
                _ => None,
            })
            .collect(),
    };
    sets.retain(|set| usable(set));
    sets.sort_by_key(|set| std::cmp::Reverse(score(&Req::Lits { set: set.clone(), exact: false })));
    sets.truncate(2);
    (!sets.is_empty()).then_some(sets)
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
    fn non_ascii_classes() {
        assert_eq!(prefilter(r"[\x{E0000}-\x{E007F}]+").map(|p| matches!(p, Prefilter::Literals(_))), Some(true));
        assert_eq!(prefilter(r"\p{Latin}\p{Cyrillic}"), Some(Prefilter::NonAscii));
        let zw = lits(r"[A-Za-z][\x{200B}-\x{200D}]+[A-Za-z]");
        assert_eq!(zw.len(), 3);
    }

    #[test]
    fn branches_keep_two_groups_per_alternative() {
        let branches =
            prefilter_branches(r"(?i)\b(?:print|echo)\b[^\n]{0,40}\b(?:api\s+key|token)\b|\bask\s+the\s+user\b")
                .unwrap();
        assert_eq!(branches.len(), 2);
        assert_eq!(branches[0].len(), 2, "{branches:?}");
        assert!(branches[0].contains(&vec!["echo".to_string(), "print".to_string()]), "{branches:?}");
        assert!(
            branches[0].contains(&vec!["token".to_string()])
                || branches[0].iter().any(|g| g.contains(&"token".to_string()))
        );
        // A branch without any literal makes the whole pattern unfilterable this way.
        assert_eq!(prefilter_branches(r"foo\d+|[a-z]+"), None);
    }

    #[test]
    fn every_group_of_a_matching_branch_is_in_the_match() {
        for (pattern, text) in [
            (r"(?i)\b(?:print|echo)\b[^\n]{0,40}\b(?:api\s+key|token)\b|\bask\s+the\s+user\b", "Echo the API key"),
            (r"(?i)\b(?:curl|wget)\b[^\n|]*\|\s*(?:ba)?sh\b", "wget -qO- x | sh"),
            (r"(?i)\bnever\s+tell\s+the\s+(?:user|owner)\b", "NEVER tell the owner"),
        ] {
            let m = regex::Regex::new(pattern).unwrap().find(text).unwrap().as_str().to_lowercase();
            let branches = prefilter_branches(pattern).unwrap();
            assert!(
                branches.iter().any(|groups| groups.iter().all(|g| g.iter().any(|l| m.contains(l.as_str())))),
                "{pattern}: {branches:?}"
            );
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
