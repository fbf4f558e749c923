//! Running compiled rules over analysed files: one Aho-Corasick pass per segment selects the
//! regex rules that can match and finds the members of `at_least` lists, then analyzers and
//! correlations add what needs more than one match.

use std::collections::{BTreeSet, HashMap};
use std::ops::Range;

use regex::Captures;

use crate::engine::analysis::{Deadline, DeadlinePassed, FileAnalysis, Segment, SegmentBody};
use crate::engine::finding::{Decoded, Finding, SourceContext};
use crate::engine::hit::{Hit, HitLocation};
use crate::engine::rules::prefilter::Gaps;
use crate::engine::rules::{LiteralRole, Matcher, Rule, RuleSet, View, Within};
use crate::engine::text::{
    LineIndex, ceil_char_boundary, escape_snippet, excerpt, floor_char_boundary, lead_in, line_around, sentence_around,
    steps_above,
};
use crate::engine::urls;

/// Findings of one rule in one file beyond this many are counted, not listed.
const MAX_FINDINGS_PER_RULE_AND_FILE: usize = 10;

/// A literal of the automaton found in a text.
pub struct LiteralMatch {
    start: usize,
    end: usize,
    pattern: usize,
}

/// Per-file buffers of `match_segment`, indexed by rule: whether the rule is queued, and which
/// prefilter groups were seen in the segment.
struct Scratch<'a> {
    marks: &'a mut [bool],
    seen: &'a mut [u32],
    memo: &'a mut LineMemo,
    deadline: &'a Deadline,
}

/// Per-file answers that depend only on a line (or a segment), computed once: a line holding
/// a hundred thousand matches must cost its length once, not once per match.
#[derive(Default)]
struct LineMemo {
    /// Line starts of segment texts, by segment.
    seg_lines: HashMap<usize, LineIndex>,
    /// URL separators of segment texts, by segment.
    urls: HashMap<usize, urls::UrlIndex>,
    /// `unless.line` verdicts by (rule, segment (or kind of file slice), segment line start,
    /// file line start).
    unless_line: HashMap<(usize, usize, usize, usize), bool>,
    /// `unless.lead_in` verdicts by (rule, file line start).
    unless_lead_in: HashMap<(usize, usize), bool>,
}

impl LineMemo {
    fn seg_lines(&mut self, seg: usize, text: &str) -> &LineIndex {
        self.seg_lines.entry(seg).or_insert_with(|| LineIndex::new(text))
    }

    /// Start of the line of segment `seg` (text `text`) holding `offset`.
    fn seg_line_start(&mut self, seg: usize, text: &str, offset: usize) -> usize {
        let lines = self.seg_lines(seg, text);
        lines.line_start(lines.line_of(offset))
    }
}

/// Per-scan rule switches (from the config).
pub struct Matching<'r> {
    pub rules: &'r RuleSet,
    pub enabled: &'r [bool],
    /// Per-rule costs for `--timings`.
    pub timings: Option<&'r crate::engine::timings::Timings>,
}

impl Matching<'_> {
    fn active(&self, rule: usize, view: View, lang: crate::engine::lang::Lang) -> bool {
        self.enabled.get(rule).copied().unwrap_or(false) && self.rules.rules[rule].applies_to(view, lang)
    }

    /// The literal automaton's matches over a file's text, once per file.
    pub fn file_literals(&self, text: &str) -> Vec<LiteralMatch> {
        match &self.rules.literals {
            Some(automaton) if !text.is_empty() => automaton
                .find_overlapping_iter(text)
                .map(|m| LiteralMatch { start: m.start(), end: m.end(), pattern: m.pattern().as_usize() })
                .collect(),
            _ => Vec::new(),
        }
    }

    /// Parses the code segments some rule needs a syntax tree of (see [`crate::engine::rules::TreeDemand`]).
    pub fn parse_wanted_trees(
        &self,
        file: &mut FileAnalysis,
        literals: &[LiteralMatch],
        limits: &crate::engine::analysis::ParseLimits,
    ) {
        if file.tree_candidates.is_empty() {
            return;
        }
        // The dataflow analyzer skips vendored bundles: a tree only it would read is not built
        // for them (they are the costliest to parse).
        let for_dataflow = self.rules.tree_demand_dataflow && !crate::engine::analyzers::dataflow::too_large(file);
        file.parse_trees(limits, |segment, text| {
            let Some(demand) = self.rules.tree_demand.get(&segment.lang) else { return false };
            let SegmentBody::Range(range) = &segment.body else { return false };
            let code = text.get(range.clone()).unwrap_or("");
            // The dataflow analyzer follows sources through the tree; most code has none.
            if for_dataflow && crate::engine::analyzers::dataflow::has_source(code) {
                return true;
            }
            let first = literals.partition_point(|m| m.start < range.start);
            let mut seen: HashMap<usize, u32> = HashMap::new();
            for m in literals[first..].iter().take_while(|m| m.start < range.end) {
                for &(rule, role) in &self.rules.literal_owners[m.pattern] {
                    *seen.entry(rule).or_default() |= match role {
                        LiteralRole::Prefilter(bit) => 1 << bit,
                        LiteralRole::Member(_) => 1,
                    };
                }
            }
            let present = |rule: usize| {
                let groups = seen.get(&rule).copied().unwrap_or(0);
                match self.rules.rules[rule].matcher {
                    Matcher::AtLeast { .. } => groups != 0,
                    _ => self.rules.prefilter_satisfied(rule, groups),
                }
            };
            demand.rules.iter().any(|&rule| {
                if !self.enabled.get(rule).copied().unwrap_or(false) {
                    return false;
                }
                let filtered = !self.rules.unfiltered.contains(&rule) && !self.rules.non_ascii.contains(&rule);
                if filtered && !present(rule) {
                    return false;
                }
                match &self.rules.rules[rule].matcher {
                    Matcher::Regex(regex) => regex.get().is_match(code),
                    _ => true,
                }
            })
        });
    }

    /// Runs every text rule (regex, at_least) over one file. The literal automaton ran once over the
    /// file text (`file_literals`); segments that are slices of it (most of them) take their
    /// matches from that pass, decoded and normalised text gets a pass of its own.
    pub fn match_file(
        &self,
        file_index: usize,
        file: &FileAnalysis,
        file_literals: &[LiteralMatch],
        deadline: &Deadline,
        hits: &mut Vec<Hit>,
    ) -> Result<(), DeadlinePassed> {
        let text = file.text();
        let mut marks = vec![false; self.rules.rules.len()];
        let mut seen = vec![0u32; self.rules.rules.len()];
        let mut memo = LineMemo::default();
        for (seg_index, segment) in file.segments.iter().enumerate() {
            deadline.check()?;
            let seg_text = segment.text(text);
            if seg_text.is_empty() {
                continue;
            }
            let own;
            let (literals, offset): (&[LiteralMatch], usize) = match &segment.body {
                SegmentBody::Range(range) => {
                    let first = file_literals.partition_point(|m| m.start < range.start);
                    let last = file_literals.partition_point(|m| m.start < range.end);
                    (&file_literals[first..last], range.start)
                }
                _ => {
                    own = match &self.rules.literals {
                        Some(automaton) => automaton
                            .find_overlapping_iter(seg_text)
                            .map(|m| LiteralMatch { start: m.start(), end: m.end(), pattern: m.pattern().as_usize() })
                            .collect(),
                        None => Vec::new(),
                    };
                    (&own[..], 0)
                }
            };
            let scratch = Scratch { marks: &mut marks, seen: &mut seen, memo: &mut memo, deadline };
            self.match_segment(file_index, file, seg_index, segment, seg_text, literals, offset, scratch, hits)?;
        }
        Ok(())
    }

    #[allow(clippy::too_many_arguments)]
    fn match_segment(
        &self,
        file_index: usize,
        file: &FileAnalysis,
        seg_index: usize,
        segment: &Segment,
        text: &str,
        literals: &[LiteralMatch],
        offset: usize,
        scratch: Scratch<'_>,
        hits: &mut Vec<Hit>,
    ) -> Result<(), DeadlinePassed> {
        let Scratch { marks, seen, memo, deadline } = scratch;
        let mut marked = Vec::new();
        let mut touched = Vec::new();
        let mut mentions: Vec<Mention> = Vec::new();
        // Where the literals of rules with prefilter distances are: (rule, bit, start, end).
        let mut placed: Vec<(usize, u8, usize, usize)> = Vec::new();
        for m in literals {
            // `active` below would skip each owner of such a literal one by one.
            if m.end - offset > text.len() || !self.rules.literal_views[m.pattern].contains(segment.view) {
                continue;
            }
            for &(rule, role) in &self.rules.literal_owners[m.pattern] {
                if !self.active(rule, segment.view, segment.lang) {
                    continue;
                }
                match role {
                    LiteralRole::Prefilter(bit) => {
                        if seen[rule] == 0 {
                            touched.push(rule);
                        }
                        seen[rule] |= 1 << bit;
                        if self.rules.prefilter_has_distance(rule) {
                            placed.push((rule, bit, m.start - offset, m.end - offset));
                        }
                    }
                    LiteralRole::Member(member) => {
                        let (start, end) = (m.start - offset, m.end - offset);
                        if word_edges_free(text, start, end) {
                            mentions.push(Mention { rule, member, start, end });
                        }
                    }
                }
            }
        }
        if !mentions.is_empty() {
            mentions.sort_unstable_by_key(|m| (m.rule, m.start, std::cmp::Reverse(m.end)));
            for group in mentions.chunk_by(|a, b| a.rule == b.rule) {
                deadline.check()?;
                crate::engine::timings::timed(
                    self.timings,
                    |t, took| t.rule(group[0].rule, took, text.len()),
                    || self.match_at_least(group, file_index, file, seg_index, text, memo, hits),
                );
            }
        }
        // Only the positions of rules whose distance is in question are read below; the others'
        // (mostly common words such as "in" or "to" whose partner group is absent) need no order.
        if !placed.is_empty() {
            let mut in_question = vec![0u64; self.rules.rules.len().div_ceil(64)];
            for &rule in &touched {
                if self.rules.prefilter_has_distance(rule)
                    && self.rules.prefilter_distance_in_question(rule, seen[rule])
                {
                    in_question[rule / 64] |= 1 << (rule % 64);
                }
            }
            placed.retain(|p| in_question[p.0 / 64] & (1 << (p.0 % 64)) != 0);
        }
        placed.sort_unstable();
        let mut gaps = Gaps::new(text);
        for rule in touched {
            let groups = std::mem::take(&mut seen[rule]);
            let satisfied = if self.rules.prefilter_has_distance(rule) {
                let first = placed.partition_point(|p| p.0 < rule);
                let last = placed.partition_point(|p| p.0 <= rule);
                let found: Vec<(u8, usize, usize)> = placed[first..last].iter().map(|p| (p.1, p.2, p.3)).collect();
                // Sorted by bit, then start: one bit's literals are in start order.
                self.rules.prefilter_satisfied_near(rule, groups, &found, &mut gaps)
            } else {
                self.rules.prefilter_satisfied(rule, groups)
            };
            if satisfied && !marks[rule] {
                marks[rule] = true;
                marked.push(rule);
            }
        }
        let always = self.rules.unfiltered.iter();
        let non_ascii = if text.is_ascii() { [].iter() } else { self.rules.non_ascii.iter() };
        for &rule in always.chain(non_ascii) {
            if self.active(rule, segment.view, segment.lang) && !marks[rule] {
                marks[rule] = true;
                marked.push(rule);
            }
        }
        marked.sort_unstable();
        // A passed deadline ends the file's matching (its scratch is dropped with it, so marks
        // left set here do not matter).
        for rule in marked {
            marks[rule] = false;
            let Matcher::Regex(regex) = &self.rules.rules[rule].matcher else { continue };
            let regex = regex.get();
            let watch = crate::engine::timings::Stopwatch::start(self.timings);
            for (n, caps) in regex.captures_iter(text).enumerate() {
                // Each match costs little; a clock read per 256 of them keeps the check cheap.
                if n % 256 == 0 {
                    deadline.check()?;
                }
                let Some(whole) = caps.get(0) else { continue };
                if whole.is_empty() {
                    continue;
                }
                let captures = named_captures(regex, &caps);
                self.accept(rule, file_index, file, seg_index, whole.range(), captures, memo, hits);
            }
            watch.stop(|t, took| t.rule(rule, took, text.len()));
        }
        Ok(())
    }

    /// One `at_least` rule's member mentions in a segment (sorted by start, longest first):
    /// each region with `count` distinct members is a match, from its first mention to the one
    /// that completes the count; counting starts afresh after a match, as a regex's next match
    /// starts after the last.
    #[allow(clippy::too_many_arguments)]
    fn match_at_least(
        &self,
        mentions: &[Mention],
        file_index: usize,
        file: &FileAnalysis,
        seg_index: usize,
        text: &str,
        memo: &mut LineMemo,
        hits: &mut Vec<Hit>,
    ) {
        let rule = mentions[0].rule;
        let Matcher::AtLeast { count, members, within } = &self.rules.rules[rule].matcher else { return };
        // A mention inside a longer one (of another member) is part of that one.
        let mut outer: Vec<&Mention> = Vec::with_capacity(mentions.len());
        for m in mentions {
            if outer.last().is_none_or(|last| m.end > last.end) {
                outer.push(m);
            }
        }

        let mut i = 0;
        while i < outer.len() {
            let first = outer[i];
            let end_of_region = match within {
                Within::Line => memo.seg_lines(seg_index, text).line_end(text, first.start),
                Within::Segment => text.len(),
            };
            let mut distinct: Vec<u32> = Vec::with_capacity(*count);
            let mut next = i;
            let mut matched = None;
            while next < outer.len() && outer[next].start < end_of_region {
                let m = outer[next];
                next += 1;
                if !distinct.contains(&m.member) {
                    distinct.push(m.member);
                    if distinct.len() == *count {
                        matched = Some(m.end);
                        break;
                    }
                }
            }
            let Some(end) = matched else {
                // No match starts in this region: go on with the next one.
                i = next;
                continue;
            };
            let names = distinct
                .iter()
                .filter_map(|&m| members.get(m as usize))
                .map(|m| m.name.as_str())
                .collect::<Vec<_>>()
                .join(", ");
            let captures =
                vec![("value".to_string(), text[first.start..end].to_string()), ("members".to_string(), names)];
            self.accept(rule, file_index, file, seg_index, first.start..end, captures, memo, hits);
            i = next;
        }
    }

    /// Applies the rule's `unless` conditions, then records the hit.
    #[allow(clippy::too_many_arguments)]
    fn accept(
        &self,
        rule: usize,
        file_index: usize,
        file: &FileAnalysis,
        segment: usize,
        range: Range<usize>,
        captures: Vec<(String, String)>,
        memo: &mut LineMemo,
        hits: &mut Vec<Hit>,
    ) {
        let r = &self.rules.rules[rule];
        let seg = &file.segments[segment];
        let seg_text = seg.text(file.text());
        let mut captures = captures;
        if !captures.iter().any(|(name, _)| name == "url") {
            // Rules name the host in messages and host lists look at it: take the first URL of
            // the match, or else of the rest of its line (`curl -F f=@x https://host/…`).
            let in_match = seg_text.get(range.clone()).and_then(|m| urls::find_urls(m).next()).map(|(_, url)| url);
            let url = in_match.or_else(|| {
                let line_end = memo.seg_lines(segment, seg_text).line_end(seg_text, range.end.min(seg_text.len()));
                let urls = memo.urls.entry(segment).or_insert_with(|| urls::UrlIndex::new(seg_text));
                (range.start <= line_end).then(|| urls.first_in(seg_text, range.start, line_end)).flatten()
            });
            if let Some(url) = url {
                captures.push(("url".to_string(), url.to_string()));
            }
        }
        if excluded(self.rules, r, rule, file, segment, range.clone(), &captures, memo) {
            return;
        }
        // Rules consume a boundary character (`(?:^|\s)unzip`) since the regex engine has no
        // look-behind; the evidence starts at the first visible character.
        let matched = seg_text.get(range.clone()).unwrap_or("");
        let visible = matched.trim_start();
        let range = if visible.is_empty() { range } else { range.start + (matched.len() - visible.len())..range.end };
        hits.push(Hit {
            rule,
            location: HitLocation::Segment { file: file_index, segment, range },
            captures,
            detail: None,
            related: Vec::new(),
            severity: None,
        });
    }
}

fn named_captures(regex: &regex::Regex, caps: &Captures<'_>) -> Vec<(String, String)> {
    regex
        .capture_names()
        .flatten()
        .filter_map(|name| caps.name(name).map(|m| (name.to_string(), m.as_str().to_string())))
        .collect()
}

/// A mention of an `at_least` member in a segment.
struct Mention {
    rule: usize,
    member: u32,
    start: usize,
    end: usize,
}

/// Whether the match does not continue a word: an edge of it that is a word character has no
/// word character next to it (`.ssh` in `~/.ssh/id`, not in `~/.sshd`).
fn word_edges_free(text: &str, start: usize, end: usize) -> bool {
    let is_word = |c: char| c.is_alphanumeric() || c == '_';
    let matched = &text[start..end];
    let starts_word = matched.chars().next().is_some_and(is_word);
    let ends_word = matched.chars().next_back().is_some_and(is_word);
    let joined_before = starts_word && text[..start].chars().next_back().is_some_and(is_word);
    let joined_after = ends_word && text[end..].chars().next().is_some_and(is_word);
    !joined_before && !joined_after
}

#[allow(clippy::too_many_arguments)]
fn excluded(
    rules: &RuleSet,
    rule: &Rule,
    rule_index: usize,
    file: &FileAnalysis,
    seg_index: usize,
    range: Range<usize>,
    captures: &[(String, String)],
    memo: &mut LineMemo,
) -> bool {
    let unless = &rule.unless;
    let segment = &file.segments[seg_index];
    let (seg_text, file_text) = (segment.text(file.text()), file.text());
    // `unless.line` and `unless.lead_in` read whole lines: their verdicts are kept per line.
    let file_line_start = || file.lines.line_start(file.lines.line_of(segment.file_range(range.clone()).start));
    if let Some(paths) = &unless.paths
        && paths.is_match(&file.path)
    {
        return true;
    }
    let matched = seg_text.get(range.clone()).unwrap_or("");
    if let Some(regex) = &unless.matched
        && regex.get().is_match(matched)
    {
        return true;
    }
    if let Some(regex) = &unless.line {
        let at_file = segment.file_range(range.clone());
        let contexts = line_contexts(segment, seg_text, file_text, range.clone(), at_file, memo, seg_index, file);
        // A slice of the file is judged by its file line alone (and whether prose wraps), so
        // the thousand comment segments of one line share a verdict.
        let key = match &segment.body {
            SegmentBody::Range(_) => (
                rule_index,
                usize::MAX - usize::from(matches!(segment.view, View::Prose | View::Comments)),
                contexts.file_line.start,
                contexts.file.start,
            ),
            _ => (rule_index, seg_index, contexts.seg.start, contexts.file.start),
        };
        if let Some(&verdict) = memo.unless_line.get(&key) {
            if verdict {
                return true;
            }
        } else {
            let verdict = contexts.excuse(regex.get(), seg_text, file_text);
            memo.unless_line.insert(key, verdict);
            if verdict {
                return true;
            }
        }
    }
    if let Some(regex) = &unless.lead_in {
        let line = file_line_start();
        let verdict = *memo
            .unless_lead_in
            .entry((rule_index, line))
            .or_insert_with(|| regex.get().is_match(&lead_in(file_text, line)));
        if verdict {
            return true;
        }
    }
    if let Some(regex) = &unless.steps_above
        && !matches!(segment.body, SegmentBody::Decoded { .. })
    {
        let at = segment.file_range(range.clone());
        if steps_above(file_text, at.start, at.end)
            .is_some_and(|steps| steps.iter().all(|step| regex.get().is_match(step)))
        {
            return true;
        }
    }
    if !unless.host_in.is_empty() || !unless.require_host_in.is_empty() {
        let hosts = match_hosts(matched, captures);
        let in_any = |lists: &[String], (host, path): &(String, String)| {
            lists.iter().any(|l| rules.lists.contains(l, host, path))
        };
        if !unless.require_host_in.is_empty() && !hosts.iter().any(|h| in_any(&unless.require_host_in, h)) {
            return true;
        }
        if !unless.host_in.is_empty() && !hosts.is_empty() && hosts.iter().all(|h| in_any(&unless.host_in, h)) {
            return true;
        }
    }
    false
}

/// What `unless.line` reads around a match: a stretch of the segment's own text (decoded or
/// rewritten text; `usize::MAX..usize::MAX` for a slice of the file) and of the file's text
/// (`usize::MAX..usize::MAX` for decoded text, which has no file line of its own).
struct LineContexts {
    seg: Range<usize>,
    file: Range<usize>,
    /// For a slice of prose, `file` is its wrapped paragraph and this the line alone (a pattern
    /// anchored at the line's end reads it).
    file_line: Range<usize>,
}

const NO_CONTEXT: Range<usize> = usize::MAX..usize::MAX;

impl LineContexts {
    /// Whether `regex` excuses the match by what surrounds it.
    fn excuse(&self, regex: &regex::Regex, seg_text: &str, file_text: &str) -> bool {
        let seg = (self.seg != NO_CONTEXT).then(|| seg_text.get(self.seg.clone()).unwrap_or(""));
        let file = |range: &Range<usize>| (*range != NO_CONTEXT).then(|| file_text.get(range.clone()).unwrap_or(""));
        [seg, file(&self.file_line), file(&self.file)].into_iter().flatten().any(|l| regex.is_match(l))
    }
}

/// The lines `unless.line` reads for a match at `at` (in the segment text) and `at_file` (in the
/// file): for decoded text the decoded line, otherwise the file line (a code block's line is a
/// file line too). A rewritten view (joined, de-emphasised prose) is also judged by the file line
/// the match starts on, so markup that labels a line (`- **Ignore previous instructions:**`)
/// keeps its meaning, and a hard-wrapped sentence of prose continues on the next lines.
///
/// In prose and comments the line is cut to the sentences the match touches: a warning word
/// ("never", "detects", "blocks") in another sentence of the paragraph says nothing about this
/// one, and an attacker's own "do not reveal this" must not excuse the order before it.
#[allow(clippy::too_many_arguments)]
fn line_contexts(
    segment: &Segment,
    seg_text: &str,
    file_text: &str,
    at: Range<usize>,
    at_file: Range<usize>,
    memo: &mut LineMemo,
    seg_index: usize,
    file: &FileAnalysis,
) -> LineContexts {
    let prose = matches!(segment.view, View::Prose | View::Comments);
    let cut = |text: &str, line: &str, at: &Range<usize>| -> Range<usize> {
        let line_start = line.as_ptr() as usize - text.as_ptr() as usize;
        let whole = line_start..line_start + line.len();
        if !prose {
            return whole;
        }
        let local = sentence_around(
            line,
            at.start.saturating_sub(line_start),
            at.end.saturating_sub(line_start).min(line.len()),
        );
        line_start + local.start..line_start + local.end
    };
    let seg = match &segment.body {
        SegmentBody::Decoded { .. } | SegmentBody::Mapped { .. } => {
            let start = memo.seg_line_start(seg_index, seg_text, at.start);
            cut(seg_text, line_around(seg_text, start), &at)
        }
        SegmentBody::Range(_) => NO_CONTEXT,
    };
    let file_line_start = file.lines.line_start(file.lines.line_of(at_file.start));
    let line = || cut(file_text, line_around(file_text, file_line_start), &at_file);
    let (file, file_line) = match &segment.body {
        SegmentBody::Decoded { .. } => (NO_CONTEXT, NO_CONTEXT),
        SegmentBody::Mapped { .. } => (line(), NO_CONTEXT),
        SegmentBody::Range(_) if prose => (cut(file_text, wrapped_line(file_text, file_line_start), &at_file), line()),
        SegmentBody::Range(_) => (line(), NO_CONTEXT),
    };
    LineContexts { seg, file, file_line }
}

/// The line at `offset` and the lines that continue it (a hard-wrapped paragraph or list item),
/// at most four.
fn wrapped_line(text: &str, offset: usize) -> &str {
    let line = line_around(text, offset);
    let start = line.as_ptr() as usize - text.as_ptr() as usize;
    let mut end = start + line.len();
    for _ in 0..3 {
        let Some(next) = text.get(end + 1..) else { break };
        let next_line = next.split('\n').next().unwrap_or("");
        if next_line.trim().is_empty() || crate::engine::normalize::starts_block(next_line) {
            break;
        }
        end += 1 + next_line.len();
    }
    &text[start..end]
}

/// The (host, path) pairs a match talks about: its `url`/`host` capture, else every URL in it.
fn match_hosts(matched: &str, captures: &[(String, String)]) -> Vec<(String, String)> {
    let target = captures.iter().find(|(n, _)| n == "url" || n == "host").map(|(_, v)| v.as_str());
    let mut hosts: Vec<(String, String)> = match target.and_then(urls::host_and_path) {
        Some(hp) => vec![hp],
        None => urls::find_urls(matched).filter_map(|(_, u)| urls::host_and_path(u)).collect(),
    };
    // The URL as a shell reads it: quotes only join pieces (`"https://""registry.npmjs.org"`).
    if matched.contains(['"', '\'']) {
        let joined = matched.replace(['"', '\''], "");
        if let Some(hp) = urls::find_urls(&joined).filter_map(|(_, u)| urls::host_and_path(u)).next()
            && !hosts.contains(&hp)
        {
            hosts = vec![hp];
        }
    }
    hosts
}

/// Renders the rule message with `{capture}` placeholders filled in.
pub fn render_message(rule: &Rule, hit: &Hit) -> String {
    let mut message = rule.message.clone();
    if message.contains('{') {
        for (name, value) in &hit.captures {
            let placeholder = format!("{{{name}}}");
            if message.contains(&placeholder) {
                message = message.replace(&placeholder, &crate::engine::text::escape_snippet(value.trim(), 80));
            }
        }
        if message.contains("{host}")
            && let Some((host, _)) = hit.capture("url").and_then(urls::host_and_path)
        {
            message = message.replace("{host}", &host);
        }
        // A capture that took no part in this match (`wget -O- ... | sh` names no host) must
        // not leave its placeholder in the report.
        message = message.replace("{host}", "an unnamed host");
        while let Some(start) = message.find('{')
            && let Some(len) = message[start + 1..].find('}')
            && message[start + 1..start + 1 + len].bytes().all(|b| b.is_ascii_lowercase() || b == b'_')
            && len > 0
        {
            message.replace_range(start..start + len + 2, "(not named)");
        }
    }
    match &hit.detail {
        Some(detail) => format!("{message}: {detail}"),
        None => message,
    }
}

/// Turns hits into findings: locations, snippets, decoded text, de-duplication and caps.
pub fn findings_of(rules: &RuleSet, files: &[FileAnalysis], hits: &[Hit]) -> Vec<Finding> {
    let mut findings = Vec::new();
    // One finding per rule and start: a match in a rewritten view (normalised prose, unicode)
    // that starts where the original's does is the same evidence.
    let mut seen: BTreeSet<(usize, String, u32, u32)> = BTreeSet::new();
    let mut per_rule_file: HashMap<(usize, String), usize> = HashMap::new();
    let mut overflow: HashMap<(usize, String), usize> = HashMap::new();
    for hit in hits {
        let rule = &rules.rules[hit.rule];
        let Some(severity) = rule.severity else {
            continue;
        };
        let severity = hit.severity.unwrap_or(severity);
        // Where it starts decides whether it is listed; the snippet and source context cost far
        // more, and a line of many matches must not pay them for the ones not listed.
        let (file, line, column) = position(files, hit);
        if !seen.insert((hit.rule, file.clone(), line, column)) {
            continue;
        }
        let key = (hit.rule, file);
        let count = per_rule_file.entry(key.clone()).or_insert(0);
        *count += 1;
        if *count > MAX_FINDINGS_PER_RULE_AND_FILE {
            *overflow.entry(key).or_insert(0) += 1;
            continue;
        }
        let Located { file, line, column, end_line, end_column, snippet, decoded, context } = locate(files, hit);
        findings.push(Finding {
            rule_id: rule.id.clone(),
            severity,
            category: rule.category,
            confidence: rule.confidence,
            message: render_message(rule, hit),
            file,
            line,
            column,
            end_line,
            end_column,
            snippet,
            decoded,
            related: hit.related.clone(),
            suppressed: None,
            context,
        });
    }
    for ((rule, file), extra) in overflow {
        let id = &rules.rules[rule].id;
        if let Some(last) = findings.iter_mut().rev().find(|f| &f.rule_id == id && f.file == file) {
            last.message.push_str(&format!(" (and {extra} more matches of this rule in this file, not listed)"));
        }
    }
    findings
}

/// Where a hit is, in the terms of a finding.
#[derive(Debug, Clone, Default)]
pub struct Located {
    pub file: String,
    pub line: u32,
    pub column: u32,
    pub end_line: u32,
    pub end_column: u32,
    pub snippet: String,
    pub decoded: Option<Decoded>,
    pub context: Option<SourceContext>,
}

/// Snippets show at most this many characters of the matched text.
const SNIPPET_CHARS: usize = 200;
/// Source lines in human output are cut to a window of this many characters.
const CONTEXT_CHARS: usize = 160;

fn source_context(f: &FileAnalysis, range: &Range<usize>) -> SourceContext {
    let text = f.text();
    let line = f.lines.line_of(floor_char_boundary(text, range.start));
    let line_range = f.lines.line_range(text, line);
    let start = range.start.clamp(line_range.start, line_range.end);
    let end = range.end.clamp(start, line_range.end);
    // The last third of the window before the match, counted back from it (not from the line
    // start: a long line must not cost its length for every match on it).
    let before = &text[line_range.start..start];
    let window_start =
        before.char_indices().rev().nth(CONTEXT_CHARS / 3 - 1).map_or(line_range.start, |(i, _)| line_range.start + i);
    let prefix = escape_snippet(&text[window_start..start], CONTEXT_CHARS);
    let marked = escape_snippet(&text[start..end], CONTEXT_CHARS);
    let mut shown = escape_snippet(&text[window_start..line_range.end], CONTEXT_CHARS);
    if window_start > line_range.start {
        shown.insert(0, '…');
    }
    let offset = usize::from(window_start > line_range.start);
    let marker_start = prefix.chars().count() + offset;
    let visible = shown.chars().count().saturating_sub(marker_start).max(1);
    SourceContext { line: shown, marker_start, marker_len: marked.chars().count().clamp(1, visible) }
}

/// A hit's range in its file's text, widened to whole characters: a range mapped back from
/// normalised text can end inside a multi-byte character (the map records where each source
/// character starts), so positions, snippet and context all slice on boundaries.
fn file_range(f: &FileAnalysis, range: Range<usize>) -> Range<usize> {
    let text = f.text();
    let start = floor_char_boundary(text, range.start);
    start..ceil_char_boundary(text, range.end).max(start)
}

/// The file, line and column [`locate`] gives a hit, without its snippet and context.
fn position(files: &[FileAnalysis], hit: &Hit) -> (String, u32, u32) {
    let (f, range) = match &hit.location {
        HitLocation::Path(path) => return (path.clone(), 0, 0),
        HitLocation::File { file, range: None } => return (files[*file].path.clone(), 0, 0),
        HitLocation::File { file, range: Some(range) } => (&files[*file], range.clone()),
        HitLocation::Segment { file, segment, range } => {
            let f = &files[*file];
            (f, f.segments[*segment].file_range(range.clone()))
        }
    };
    let (line, column) = f.lines.line_col(f.text(), file_range(f, range).start);
    (f.path.clone(), line, column)
}

fn located_range(f: &FileAnalysis, range: Range<usize>, decoded: Option<Decoded>) -> Located {
    let text = f.text();
    let range = file_range(f, range);
    let (line, column) = f.lines.line_col(text, range.start);
    let (end_line, end_column) = f.lines.line_col(text, range.end);
    let matched = text.get(range.clone()).unwrap_or("");
    Located {
        file: f.path.clone(),
        line,
        column,
        end_line,
        end_column,
        snippet: escape_snippet(matched, SNIPPET_CHARS),
        decoded,
        context: Some(source_context(f, &range)),
    }
}

pub fn locate(files: &[FileAnalysis], hit: &Hit) -> Located {
    match &hit.location {
        HitLocation::Path(path) => Located { file: path.clone(), ..Default::default() },
        HitLocation::File { file, range: None } => Located { file: files[*file].path.clone(), ..Default::default() },
        HitLocation::File { file, range: Some(range) } => located_range(&files[*file], range.clone(), None),
        HitLocation::Segment { file, segment, range } => {
            let f = &files[*file];
            let seg = &f.segments[*segment];
            let decoded = match &seg.body {
                SegmentBody::Range(_) => None,
                SegmentBody::Mapped { text: normalised, step, .. } => {
                    Some(Decoded { chain: vec![step.clone()], text: excerpt(normalised, range.clone(), 200) })
                }
                SegmentBody::Decoded { text: decoded, chain, .. } => {
                    Some(Decoded { chain: chain.clone(), text: excerpt(decoded, range.clone(), 200) })
                }
            };
            located_range(f, seg.file_range(range.clone()), decoded)
        }
    }
}

#[cfg(test)]
mod tests {
    use crate::engine::text::lead_in;

    fn lead_in_of(text: &str, needle: &str) -> String {
        lead_in(text, text.find(needle).expect("needle in text"))
    }

    #[test]
    fn lead_in_is_the_paragraph_so_far() {
        let text = "Intro.\n\nFirst line of the paragraph,\nsecond line,\nMATCH here\nafter\n";
        assert_eq!(lead_in_of(text, "MATCH"), "First line of the paragraph,\nsecond line,");
    }

    #[test]
    fn lead_in_of_a_code_block_reaches_the_label_above_the_fence() {
        let text = "Unrelated.\n\n❌ Malicious:\n\n```bash\necho one\nMATCH\n```\n";
        assert_eq!(lead_in_of(text, "MATCH"), "❌ Malicious:\n```bash\necho one");
    }

    #[test]
    fn lead_in_stops_at_an_earlier_block_and_after_six_lines() {
        let text = "```\nold block\n```\n```sh\nMATCH\n```\n";
        assert_eq!(lead_in_of(text, "MATCH"), "```sh");
        let long = "label\n1\n2\n3\n4\n5\n6\nMATCH\n";
        assert_eq!(lead_in_of(long, "MATCH"), "1\n2\n3\n4\n5\n6");
    }

    #[test]
    fn lead_in_of_the_first_line_is_empty() {
        assert_eq!(lead_in_of("MATCH at start", "MATCH"), "");
    }
}
