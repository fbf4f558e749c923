//! Just enough Markdown structure for the prose rewrites: which lines are front matter, fenced
//! code, headings, tables, raw HTML, or text (paragraphs, list items, block quotes), how text
//! lines group into blocks, and which byte ranges of a text are inline code or HTML tags.

use std::ops::Range;

#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub enum Kind {
    /// Between (and including) the `---` delimiters at the top of the file.
    FrontMatter,
    /// An opening or closing fence line.
    Fence,
    /// Inside a fenced block.
    Code,
    Blank,
    Heading,
    Table,
    /// HTML block lines, HTML comments, link reference definitions, thematic breaks.
    Raw,
    /// Paragraph, list item or block-quote text.
    Text,
}

/// One fenced code block: the fence lines and what is between them.
#[derive(Debug, Clone)]
pub struct FencedBlock {
    /// Line index of the opening fence.
    pub open: usize,
    /// Line index of the closing fence (`None` when the file ends inside the block).
    pub close: Option<usize>,
    /// Info string, lower-case, first word only (`sh`, `python`, …).
    pub lang: String,
    /// Leading whitespace of the opening fence.
    pub indent: String,
}

pub fn lines(text: &str) -> Vec<String> {
    text.split('\n').map(str::to_string).collect()
}

fn fence_marker(trimmed: &str) -> Option<(u8, usize)> {
    let first = *trimmed.as_bytes().first()?;
    if first != b'`' && first != b'~' {
        return None;
    }
    let n = trimmed.bytes().take_while(|&b| b == first).count();
    (n >= 3).then_some((first, n))
}

fn is_thematic_break(trimmed: &str) -> bool {
    let compact: String = trimmed.chars().filter(|c| !c.is_whitespace()).collect();
    compact.len() >= 3
        && (compact.chars().all(|c| c == '-') || compact.chars().all(|c| c == '*') || compact.chars().all(|c| c == '_'))
        || (!compact.is_empty() && compact.chars().all(|c| c == '='))
}

fn is_link_reference_definition(trimmed: &str) -> bool {
    trimmed.starts_with('[') && trimmed.find("]:").is_some_and(|i| i > 1)
}

pub fn is_heading(trimmed: &str) -> bool {
    let hashes = trimmed.bytes().take_while(|&b| b == b'#').count();
    (1..=6).contains(&hashes) && trimmed[hashes..].starts_with(' ')
}

/// Classifies every line of a Markdown file.
pub fn classify(lines: &[String]) -> Vec<Kind> {
    let mut kinds = vec![Kind::Text; lines.len()];
    let mut start = 0;
    if lines.first().is_some_and(|l| l.trim_end() == "---")
        && let Some(end) = lines.iter().skip(1).position(|l| matches!(l.trim_end(), "---" | "..."))
    {
        for kind in &mut kinds[..=end + 1] {
            *kind = Kind::FrontMatter;
        }
        start = end + 2;
    }
    let mut fence: Option<(u8, usize)> = None;
    let mut in_comment = false;
    let mut in_html = false;
    for i in start..lines.len() {
        let line = &lines[i];
        let trimmed = line.trim_start();
        kinds[i] = if let Some((ch, n)) = fence {
            match fence_marker(trimmed) {
                Some((c, m)) if c == ch && m >= n && trimmed[m..].trim().is_empty() => {
                    fence = None;
                    Kind::Fence
                }
                _ => Kind::Code,
            }
        } else if in_comment {
            if line.contains("-->") {
                in_comment = false;
            }
            Kind::Raw
        } else if let Some(marker) = fence_marker(trimmed) {
            fence = Some(marker);
            Kind::Fence
        } else if trimmed.trim().is_empty() {
            in_html = false;
            Kind::Blank
        } else if in_html {
            Kind::Raw
        } else if let Some(rest) = trimmed.strip_prefix("<!--") {
            in_comment = !rest.contains("-->");
            Kind::Raw
        } else if trimmed.starts_with('<') && trimmed[1..].starts_with(|c: char| c.is_ascii_alphabetic() || c == '/') {
            in_html = true;
            Kind::Raw
        } else if is_heading(trimmed) {
            Kind::Heading
        } else if trimmed.starts_with('|') {
            Kind::Table
        } else if is_link_reference_definition(trimmed) || is_thematic_break(trimmed) {
            Kind::Raw
        } else {
            Kind::Text
        };
    }
    kinds
}

pub fn fenced_blocks(lines: &[String], kinds: &[Kind]) -> Vec<FencedBlock> {
    let mut blocks = Vec::new();
    let mut open: Option<usize> = None;
    for (i, kind) in kinds.iter().enumerate() {
        if *kind != Kind::Fence {
            continue;
        }
        match open.take() {
            None => open = Some(i),
            Some(o) => blocks.push(block(lines, o, Some(i))),
        }
    }
    if let Some(o) = open {
        blocks.push(block(lines, o, None));
    }
    blocks
}

fn block(lines: &[String], open: usize, close: Option<usize>) -> FencedBlock {
    let line = &lines[open];
    let trimmed = line.trim_start();
    let indent = line[..line.len() - trimmed.len()].to_string();
    let info = trimmed.trim_start_matches(['`', '~']).trim();
    let lang =
        info.split(|c: char| c.is_whitespace() || c == '{' || c == ',').next().unwrap_or("").to_ascii_lowercase();
    FencedBlock { open, close, lang, indent }
}

/// The prefix of a text line: indentation, block-quote markers and a list marker (with a task
/// box), and the content after it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Prefix {
    /// Indentation and `>` markers.
    pub lead: String,
    /// `- `, `1. `, `- [ ] ` … (empty when the line is not a list item).
    pub marker: String,
}

impl Prefix {
    pub fn len(&self) -> usize {
        self.lead.len() + self.marker.len()
    }

    /// The prefix of the lines that continue this block (same quote depth, list content column).
    pub fn continuation(&self) -> String {
        format!("{}{}", self.lead, " ".repeat(self.marker.chars().count()))
    }
}

pub fn prefix(line: &str) -> Prefix {
    let bytes = line.as_bytes();
    let mut i = 0;
    loop {
        while i < bytes.len() && (bytes[i] == b' ' || bytes[i] == b'\t') {
            i += 1;
        }
        if i < bytes.len() && bytes[i] == b'>' {
            i += 1;
            continue;
        }
        break;
    }
    let lead_end = i;
    let mut j = i;
    let bullet = j < bytes.len() && matches!(bytes[j], b'-' | b'*' | b'+');
    if bullet {
        j += 1;
    } else {
        let digits = bytes[j..].iter().take_while(|b| b.is_ascii_digit()).count();
        if (1..=9).contains(&digits) && matches!(bytes.get(j + digits), Some(b'.' | b')')) {
            j += digits + 1;
        } else {
            return Prefix { lead: line[..lead_end].to_string(), marker: String::new() };
        }
    }
    let spaces = bytes[j..].iter().take_while(|&&b| b == b' ').count();
    if spaces == 0 || j + spaces >= bytes.len() {
        return Prefix { lead: line[..lead_end].to_string(), marker: String::new() };
    }
    let mut end = j + spaces;
    for task in ["[ ] ", "[x] ", "[X] "] {
        if line[end..].starts_with(task) {
            end += task.len();
        }
    }
    Prefix { lead: line[..lead_end].to_string(), marker: line[lead_end..end].to_string() }
}

fn quote_depth(lead: &str) -> usize {
    lead.bytes().filter(|&b| b == b'>').count()
}

/// A group of consecutive text lines that Markdown renders as one paragraph or one list item.
#[derive(Debug, Clone)]
pub struct TextBlock {
    pub lines: Range<usize>,
    pub prefix: Prefix,
}

pub fn text_blocks(lines: &[String], kinds: &[Kind]) -> Vec<TextBlock> {
    let mut blocks: Vec<TextBlock> = Vec::new();
    let mut current: Option<TextBlock> = None;
    for (i, line) in lines.iter().enumerate() {
        if kinds[i] != Kind::Text {
            if let Some(b) = current.take() {
                blocks.push(b);
            }
            continue;
        }
        let p = prefix(line);
        let continues = current.as_ref().is_some_and(|b| {
            p.marker.is_empty()
                && quote_depth(&p.lead) == quote_depth(&b.prefix.lead)
                && !ends_with_hard_break(&lines[i - 1])
        });
        if continues {
            if let Some(b) = current.as_mut() {
                b.lines.end = i + 1;
            }
        } else {
            if let Some(b) = current.take() {
                blocks.push(b);
            }
            current = Some(TextBlock { lines: i..i + 1, prefix: p });
        }
    }
    if let Some(b) = current {
        blocks.push(b);
    }
    blocks
}

pub fn ends_with_hard_break(line: &str) -> bool {
    line.ends_with("  ")
        || line.ends_with('\\')
        || line.trim_end().ends_with("<br>")
        || line.trim_end().ends_with("<br/>")
}

/// Byte ranges of `text` that prose rewrites must not touch: inline code spans (which may run
/// over line breaks) and HTML tags / autolinks. `<!--` and `-->` are protected on their own so
/// that a comment's words stay prose.
pub fn protected(text: &str) -> Vec<Range<usize>> {
    let bytes = text.as_bytes();
    let mut out = Vec::new();
    let mut i = 0;
    while i < bytes.len() {
        match bytes[i] {
            b'\\' => i += 2,
            b'`' => {
                let n = bytes[i..].iter().take_while(|&&b| b == b'`').count();
                let mut j = i + n;
                let mut closed = None;
                while j < bytes.len() {
                    if bytes[j] == b'`' {
                        let m = bytes[j..].iter().take_while(|&&b| b == b'`').count();
                        if m == n {
                            closed = Some(j + m);
                            break;
                        }
                        j += m;
                    } else {
                        j += 1;
                    }
                }
                let end = closed.unwrap_or(i + n);
                out.push(i..end);
                i = end;
            }
            b'<' if text[i..].starts_with("<!--") => {
                out.push(i..i + 4);
                i += 4;
            }
            b'<' if bytes.get(i + 1).is_some_and(|b| b.is_ascii_alphabetic() || *b == b'/') => {
                match text[i..].find('>') {
                    Some(k) => {
                        out.push(i..i + k + 1);
                        i += k + 1;
                    }
                    None => i += 1,
                }
            }
            _ => i += 1,
        }
    }
    out.into_iter().map(|r| r.start..r.end.min(bytes.len())).collect()
}

pub fn overlaps(ranges: &[Range<usize>], r: &Range<usize>) -> bool {
    ranges.iter().any(|p| p.start < r.end && r.start < p.end)
}

/// A whitespace-separated token of prose with its "core" word (leading and trailing punctuation
/// and emphasis markers stripped).
#[derive(Debug, Clone)]
pub struct Token {
    pub range: Range<usize>,
    pub core: Range<usize>,
    /// The core is a plain ASCII word (letters, inner apostrophes) outside any protected range.
    pub word: bool,
}

const LEAD_PUNCT: &[char] = &['(', '"', '\'', '*', '_', '[', '“', '‘'];
const TRAIL_PUNCT: &[char] = &['.', ',', ';', ':', '!', '?', ')', '"', '\'', '*', '_', ']', '”', '’'];

pub fn tokens(text: &str, protected: &[Range<usize>]) -> Vec<Token> {
    let mut out = Vec::new();
    let mut start = None;
    let mut push = |s: usize, e: usize| {
        let tok = &text[s..e];
        let lead = tok.len() - tok.trim_start_matches(LEAD_PUNCT).len();
        let trail = tok.len() - tok.trim_end_matches(TRAIL_PUNCT).len();
        let (cs, ce) = if lead + trail >= tok.len() { (s, s) } else { (s + lead, e - trail) };
        let core = &text[cs..ce];
        let word = !core.is_empty()
            && core.chars().all(|c| c.is_ascii_alphabetic() || c == '\'')
            && core.starts_with(|c: char| c.is_ascii_alphabetic())
            && !overlaps(protected, &(s..e));
        out.push(Token { range: s..e, core: cs..ce, word });
    };
    for (i, c) in text.char_indices() {
        if c.is_whitespace() {
            if let Some(s) = start.take() {
                push(s, i);
            }
        } else if start.is_none() {
            start = Some(i);
        }
    }
    if let Some(s) = start {
        push(s, text.len());
    }
    out
}

/// Replaces byte ranges of `text` (sorted, non-overlapping) with new strings.
pub fn splice(text: &str, mut edits: Vec<(Range<usize>, String)>) -> String {
    edits.sort_by_key(|(r, _)| r.start);
    let mut out = String::with_capacity(text.len() + edits.len() * 8);
    let mut at = 0;
    for (r, s) in edits {
        if r.start < at {
            continue;
        }
        out.push_str(&text[at..r.start]);
        out.push_str(&s);
        at = r.end;
    }
    out.push_str(&text[at..]);
    out
}

/// Groups of lines the word-level rewrites treat as one text (so that inline code running over
/// a line break is seen whole): consecutive text/raw lines, and each heading or table line alone.
pub fn prose_units(kinds: &[Kind]) -> Vec<Range<usize>> {
    let mut units = Vec::new();
    let mut i = 0;
    while i < kinds.len() {
        match kinds[i] {
            Kind::Heading | Kind::Table => {
                units.push(i..i + 1);
                i += 1;
            }
            Kind::Text | Kind::Raw => {
                let s = i;
                while i < kinds.len() && matches!(kinds[i], Kind::Text | Kind::Raw) {
                    i += 1;
                }
                units.push(s..i);
            }
            _ => i += 1,
        }
    }
    units
}
