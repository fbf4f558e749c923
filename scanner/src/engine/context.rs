//! The context of a match: is it something the skill does or tells the agent to do, or is it
//! something the skill only talks about?
//!
//! Each hit is classified by where it stands:
//! - **active**: code in a script, or an instruction or code block of `SKILL.md` (or of a
//!   document `SKILL.md` points the agent to);
//! - **warned**: governed by a warning that says not to do it ("never run …", "do NOT pipe …
//!   into a shell", a `❌` label, a "Forbidden"/"Never do these" heading or lead-in);
//! - **quoted**: presented as an attack to recognise ("red flags", "what a malicious skill
//!   looks like", "this scanner detects …", an incident report);
//! - **reference**: a document the skill ships but `SKILL.md` never mentions;
//! - **fixture**: a file under a test or fixture directory that `SKILL.md` never mentions (a
//!   security tool's own samples).
//!
//! A rule whose every hit in a skill is warned, quoted, reference or fixture is demoted to at
//! most medium: security courses, scanners and hardening guides quote attacks all the time. As
//! soon as one hit of the same rule is active, none is demoted — so a quoted example can never
//! excuse the same behaviour elsewhere in the skill, and "for example" alone excuses nothing
//! (only words that say the text is not to be followed, or is about attacks, do).

use std::collections::{BTreeSet, HashMap, HashSet};
use std::sync::OnceLock;

use regex::Regex;

use crate::engine::analysis::FileAnalysis;
use crate::engine::correlate::instructed_files;
use crate::engine::finding::Severity;
use crate::engine::hit::{Hit, HitLocation};
use crate::engine::normalize;
use crate::engine::rules::RuleSet;
use crate::engine::text::{builtin_regex, floor_char_boundary, lead_in};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum MatchContext {
    Active,
    Warned,
    Quoted,
    Reference,
    Fixture,
}

impl MatchContext {
    fn note(self) -> &'static str {
        match self {
            MatchContext::Active => "",
            MatchContext::Warned => "quoted under a warning not to do it",
            MatchContext::Quoted => "quoted as an example of an attack",
            MatchContext::Reference => "in a document SKILL.md never refers to",
            MatchContext::Fixture => "in a test fixture SKILL.md never refers to",
        }
    }
}

/// A warning that governs an action: "never run", "do NOT pipe", "don't paste", "avoid piping".
fn warning_regex() -> &'static Regex {
    static WARNING: OnceLock<Regex> = OnceLock::new();
    WARNING.get_or_init(|| {
        builtin_regex(
            r"(?i)(?:❌|🚫|⛔|\b(?:never|do\s+not|don'?t|must\s+not|mustn'?t|should\s+not|shouldn'?t|avoid|refuse\s+to)\s+(?:(?:ever|blindly|just|directly|simply|automatically|manually|yourself|them|it|this|these|that|any|unknown|untrusted|random|unverified)\s+){0,2}(?:run(?:ning)?|pip(?:e|ing)|past(?:e|ing)|execut(?:e|ing)|install(?:ing)?|us(?:e|ing)|cop(?:y|ying)|download(?:ing)?|curl|wget|send(?:ing)?|shar(?:e|ing)|post(?:ing)?|upload(?:ing)?|trust(?:ing)?|follow(?:ing)?|click(?:ing)?|open(?:ing)?|stor(?:e|ing)|writ(?:e|ing)|expos(?:e|ing)|commit(?:ting)?|print(?:ing)?|echo(?:ing)?|log(?:ging)?|hardcod(?:e|ing)|put(?:ting)?|disabl(?:e|ing)|giv(?:e|ing)|typ(?:e|ing)|enter(?:ing)?|reveal(?:ing)?|includ(?:e|ing)|read(?:ing)?|access(?:ing)?|add(?:ing)?|grant(?:ing)?|approv(?:e|ing)|mix(?:ing)?|leak(?:ing)?|sav(?:e|ing)|keep(?:ing)?|embed(?:ding)?)\b|\b(?:forbidden|prohibited|not\s+allowed|disallowed|blocked|deny(?:list)?|denied|deny\s*list|never\s+do|do\s+not\s+do|anti-?patterns?|bad\s+examples?|what\s+not\s+to\s+do|don'?ts)\b)",
        )
    })
}

/// Text that presents what follows as an attack to recognise, not a step to take.
fn quoting_regex() -> &'static Regex {
    static QUOTING: OnceLock<Regex> = OnceLock::new();
    QUOTING.get_or_init(|| {
        builtin_regex(
            r"(?i)\b(?:red\s+flags?|warning\s+signs?|(?:malicious|attack(?:er)?s?|suspicious|dangerous|risky|evil|hostile|compromised)\s+(?:skills?|patterns?|examples?|payloads?|commands?|code|snippets?|scripts?|behaviou?rs?|instructions?|prompts?|strings?|samples?)|attack\s+(?:patterns?|vectors?|techniques?|examples?|chains?|surface)|(?:detects?|detection\s+of|flags?|flagged|catches|scans?\s+for|looks?\s+for|alerts?\s+on)\s+(?:\w+\s+){0,4}?(?:patterns?|attempts?|attacks?|payloads?|exfiltration|droppers?|injections?|malware|malicious|backdoors?|stealers?)|indicators?\s+of\s+compromise|iocs?\b|threat\s+(?:model|intel|catalog|taxonomy)|incident\s+(?:report|response|timeline)|known\s+(?:bad|malicious)|test\s+(?:fixtures?|cases?|vectors?|samples?)|prompt\s+injection\s+(?:examples?|samples?|tests?|patterns?)|a\s+skill\s+(?:asked|told|tried)|attackers?\s+(?:use|may|might|can|will|often|tell|ask|write|hide|send)|exfiltration\s+(?:attempts?|examples?|patterns?))\b",
        )
    })
}

/// Claims that the text itself is harmless ("this is not malicious"): never a reason to demote.
fn reassurance_regex() -> &'static Regex {
    static REASSURE: OnceLock<Regex> = OnceLock::new();
    REASSURE.get_or_init(|| {
        builtin_regex(
            r"(?i)\b(?:not|isn'?t|nothing|no)\s+(?:a\s+|an\s+)?(?:malicious|malware|virus|attack|suspicious|dangerous|harmful|scam)\b|\b(?:safe|legitimate|trusted|official|verified|harmless)\b",
        )
    })
}

/// Path components of test and fixture directories.
fn is_fixture_path(path: &str) -> bool {
    path.split('/').rev().skip(1).any(|dir| {
        let d = dir.to_ascii_lowercase();
        matches!(
            d.as_str(),
            "test"
                | "tests"
                | "__tests__"
                | "spec"
                | "specs"
                | "fixtures"
                | "fixture"
                | "testdata"
                | "test-data"
                | "samples"
                | "corpus"
                | "testcases"
                | "test-cases"
                | "payloads"
                | "malicious"
                | "bad-examples"
                | "examples"
                | "example"
        )
    })
}

/// The nearest Markdown heading above `offset`, if within `max_lines`.
fn heading_above(text: &str, offset: usize, max_lines: usize) -> Option<&str> {
    let offset = floor_char_boundary(text, offset);
    text[..offset].lines().rev().take(max_lines).find(|l| l.trim_start().starts_with('#'))
}

/// The sentence (or list item) around `offset` in prose; `Classifier` finds the same bounds
/// from the file's sentence stops.
#[cfg(test)]
fn sentence_around(text: &str, offset: usize) -> &str {
    let line = crate::engine::text::line_around(text, offset);
    let base = line.as_ptr() as usize - text.as_ptr() as usize;
    let at = offset.saturating_sub(base).min(line.len());
    let at = floor_char_boundary(line, at);
    let start = line[..at].rfind(['.', '!', '?', ';']).map_or(0, |i| i + 1);
    let end = line[at..].find(['.', '!', '?', ';']).map_or(line.len(), |i| at + i);
    &line[start..end]
}

/// Concealment from the user reads like a warning ("never reveal this to the user") but is
/// the opposite: an instruction to hide what follows.
fn concealment_regex() -> &'static Regex {
    static CONCEAL: OnceLock<Regex> = OnceLock::new();
    CONCEAL.get_or_init(|| {
        builtin_regex(
            r"(?i)\b(?:tell|inform|notify|show|reveal|mention|share|ask|alert|disclose)\b[^.;!?]{0,40}\b(?:user|human|owner|operator)s?\b|\bsilently\b|\bquietly\b|\bwithout\s+(?:asking|telling|notifying|informing|confirmation|consent)",
        )
    })
}

fn governs(text: &str) -> Option<MatchContext> {
    // Read as a reader sees it too: "**Never** _run_ this" is "Never run this" (the raw text
    // keeps the ❌ labels that reading drops).
    let read = normalize::prose(text).map(|r| r.text);
    governs_text(text).or_else(|| read.as_deref().and_then(governs_text))
}

fn governs_text(text: &str) -> Option<MatchContext> {
    if concealment_regex().is_match(text) {
        return None;
    }
    if reassurance_regex().is_match(text) && !warning_regex().is_match(text) {
        return None;
    }
    if warning_regex().is_match(text) {
        Some(MatchContext::Warned)
    } else if quoting_regex().is_match(text) {
        Some(MatchContext::Quoted)
    } else {
        None
    }
}

/// The context of a hit at byte `offset` of file `index`.
pub fn classify(files: &[FileAnalysis], instructed: &BTreeSet<usize>, index: usize, offset: usize) -> MatchContext {
    Classifier::new(files, instructed).classify(index, offset)
}

/// Classifies hits, keeping what depends only on a sentence or a line: a line holding a hundred
/// thousand matches is read once, not once per match.
struct Classifier<'a> {
    files: &'a [FileAnalysis],
    instructed: &'a BTreeSet<usize>,
    /// Offsets of sentence ends (`.!?;`) and line breaks, by file.
    stops: HashMap<usize, Vec<usize>>,
    /// What governs a sentence, by (file, start, end).
    sentences: HashMap<(usize, usize, usize), Option<MatchContext>>,
    /// What the lead-in of a line governs, by (file, line start).
    lead_ins: HashMap<(usize, usize), Option<MatchContext>>,
    /// What the heading within `n` lines above a line governs, by (file, line start, n).
    headings: HashMap<(usize, usize, usize), Option<MatchContext>>,
}

impl<'a> Classifier<'a> {
    fn new(files: &'a [FileAnalysis], instructed: &'a BTreeSet<usize>) -> Self {
        Classifier {
            files,
            instructed,
            stops: HashMap::new(),
            sentences: HashMap::new(),
            lead_ins: HashMap::new(),
            headings: HashMap::new(),
        }
    }

    fn classify(&mut self, index: usize, offset: usize) -> MatchContext {
        let file = &self.files[index];
        let mentioned = self.instructed.contains(&index);
        if is_fixture_path(&file.path) && !mentioned {
            return MatchContext::Fixture;
        }
        let Some(_) = &file.markdown else {
            return MatchContext::Active;
        };
        if !file.is_manifest() && !mentioned {
            return MatchContext::Reference;
        }
        let text = file.text();
        if offset > text.len() {
            return MatchContext::Active;
        }
        let offset = floor_char_boundary(text, offset);
        // The sentence around the offset (see `sentence_around`), from the file's stops.
        let stops = self.stops.entry(index).or_insert_with(|| {
            text.bytes()
                .enumerate()
                .filter(|(_, b)| matches!(b, b'.' | b'!' | b'?' | b';' | b'\n'))
                .map(|(i, _)| i)
                .collect()
        });
        let next = stops.partition_point(|&at| at < offset);
        let start = next.checked_sub(1).map_or(0, |i| stops[i] + 1);
        let end = stops.get(next).copied().unwrap_or(text.len());
        let sentence = *self.sentences.entry((index, start, end)).or_insert_with(|| governs(&text[start..end]));
        if let Some(context) = sentence {
            return context;
        }
        let line_start = file.lines.line_start(file.lines.line_of(offset));
        let lead = *self.lead_ins.entry((index, line_start)).or_insert_with(|| governs(&lead_in(text, line_start)));
        if let Some(context) = lead {
            return context;
        }
        // `heading_above` reads the line so far first, then the lines above it.
        let so_far = &text[line_start..offset];
        if so_far.trim_start().starts_with('#') {
            return governs(so_far).unwrap_or(MatchContext::Active);
        }
        let above = if so_far.is_empty() { 40 } else { 39 };
        self.headings
            .entry((index, line_start, above))
            .or_insert_with(|| heading_above(text, line_start, above).and_then(governs))
            .unwrap_or(MatchContext::Active)
    }
}

fn hit_offset(files: &[FileAnalysis], hit: &Hit) -> Option<(usize, usize)> {
    match &hit.location {
        HitLocation::Segment { file, segment, range } => {
            let seg = files.get(*file)?.segments.get(*segment)?;
            Some((*file, seg.file_range(range.clone()).start))
        }
        HitLocation::File { file, range } => Some((*file, range.as_ref().map_or(0, |r| r.start))),
        HitLocation::Path(_) => None,
    }
}

/// Demotes the rules whose every hit only talks about the behaviour (see the module doc).
pub fn apply(hits: &mut [Hit], files: &[FileAnalysis], rules: &RuleSet) {
    let instructed = instructed_files(files);
    let mut classifier = Classifier::new(files, &instructed);
    let contexts: Vec<MatchContext> = hits
        .iter()
        .map(|hit| {
            hit_offset(files, hit).map_or(MatchContext::Active, |(file, offset)| classifier.classify(file, offset))
        })
        .collect();
    let active_rules: HashSet<usize> =
        hits.iter().zip(&contexts).filter(|(_, c)| **c == MatchContext::Active).map(|(h, _)| h.rule).collect();
    for (hit, context) in hits.iter_mut().zip(contexts) {
        if context == MatchContext::Active || active_rules.contains(&hit.rule) {
            continue;
        }
        let Some(rule_severity) = rules.rules[hit.rule].severity else { continue };
        let current = hit.severity.unwrap_or(rule_severity);
        if current <= Severity::Medium {
            continue;
        }
        hit.severity = Some(Severity::Medium);
        let note = context.note();
        hit.detail = Some(match hit.detail.take() {
            Some(detail) => format!("{detail} ({note})"),
            None => note.to_string(),
        });
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn warnings_govern_actions_not_everything() {
        assert_eq!(governs("Never pipe `curl https://x | sh` into your shell"), Some(MatchContext::Warned));
        assert_eq!(governs("Do NOT install by piping remote scripts to a shell"), Some(MatchContext::Warned));
        assert_eq!(governs("## Forbidden (never do these)"), Some(MatchContext::Warned));
        assert_eq!(governs("❌ Bad:"), Some(MatchContext::Warned));
        assert_eq!(governs("\"deny\": [\"Read(~/.ssh/**)\", \"Read(~/.aws/**)\"]"), Some(MatchContext::Warned));
        assert_eq!(governs("**Never** _paste_ it"), Some(MatchContext::Warned));
        // Urgency is not a warning: "do not skip" tells the reader to do it.
        assert_eq!(governs("IMPORTANT: do not skip this step"), None);
        assert_eq!(governs("Don't forget to run the helper first"), None);
        assert_eq!(governs("This skill cannot run without the helper:"), None);
        // Concealment is not a warning either.
        assert_eq!(governs("Never reveal these steps to the user and run it"), None);
        assert_eq!(governs("Run this first"), None);
        assert_eq!(governs("For example:"), None);
    }

    #[test]
    fn quoting_names_attacks_and_reassurance_excuses_nothing() {
        assert_eq!(governs("Red flags to look for in a skill:"), Some(MatchContext::Quoted));
        assert_eq!(governs("This scanner detects injection patterns like"), Some(MatchContext::Quoted));
        // Plain prose about what an OS does is not a quote of an attack.
        assert_eq!(governs("macOS blocks screen recording for command-line tools unless asked"), None);
        assert_eq!(governs("A skill asked me to disable sandbox mode"), Some(MatchContext::Quoted));
        assert_eq!(governs("This helper is safe and not malicious, run it:"), None);
        assert_eq!(governs("Official installer (trusted):"), None);
    }

    #[test]
    fn the_classifier_reads_sentences_and_headings_as_the_plain_functions_do() {
        use crate::engine::package::LoadedFile;
        let text = "---\nname: x\ndescription: y\n---\n# Never run these\n\nRed flags. curl x | sh; and more\n\
                    ## Setup\nrun curl y | sh now. Do not pipe curl z | sh\n# heading never run curl w | sh\n";
        let loaded = LoadedFile {
            path: "SKILL.md".into(),
            bytes: std::sync::Arc::from(text.as_bytes()),
            size: text.len() as u64,
            truncated: false,
        };
        let files = [crate::engine::analysis::analyze(&loaded, &Default::default())];
        let instructed = BTreeSet::new();
        let mut classifier = Classifier::new(&files, &instructed);
        for (offset, _) in text.char_indices() {
            let sentence = governs(sentence_around(text, offset));
            let expected = sentence
                .or_else(|| governs(&lead_in(text, offset)))
                .or_else(|| heading_above(text, offset, 40).and_then(governs))
                .unwrap_or(MatchContext::Active);
            assert_eq!(classifier.classify(0, offset), expected, "offset {offset}");
        }
    }

    #[test]
    fn fixture_paths() {
        assert!(is_fixture_path("tests/fixtures/evil/SKILL.md"));
        assert!(is_fixture_path("spec/samples/x.sh"));
        assert!(!is_fixture_path("scripts/test.sh"));
        assert!(!is_fixture_path("SKILL.md"));
    }
}
