//! Markdown blocks as byte ranges of the text: headings, paragraphs (hard-wrapped lines joined),
//! list items with their continuation lines, table rows, fenced code and front-matter lines.
//! Blockquote markers, list bullets and numbers, checkboxes and heading `#`s are left out of the
//! ranges. One pass over the lines; no backtracking.

use std::ops::Range;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum BlockKind {
    Heading,
    Para,
    /// A list item, a "Step N" line or heading, or a line led by a symbol (❌, ✅, •).
    Item,
    /// Fenced code; `prose` when it is untagged or tagged as text and reads like sentences.
    Code {
        prose: bool,
    },
    Table,
}

#[derive(Debug, Clone)]
pub(super) struct Block {
    pub kind: BlockKind,
    /// Heading level (1–6), else 0.
    pub level: u8,
    pub pieces: Vec<Range<usize>>,
    /// A front-matter line: metadata that describes the skill.
    pub meta: bool,
}

/// Lines as (content start, content end, next line start); `\n`, `\r\n` and a lone `\r` end a
/// line.
fn lines(text: &str) -> impl Iterator<Item = (usize, usize)> + '_ {
    let bytes = text.as_bytes();
    let mut pos = 0;
    std::iter::from_fn(move || {
        if pos >= bytes.len() {
            return None;
        }
        let start = pos;
        let (end, next) = match memchr::memchr2(b'\n', b'\r', &bytes[start..]) {
            Some(i) => {
                let e = start + i;
                if bytes[e] == b'\r' && bytes.get(e + 1) == Some(&b'\n') { (e, e + 2) } else { (e, e + 1) }
            }
            None => (bytes.len(), bytes.len()),
        };
        pos = next;
        Some((start, end))
    })
}

fn skip_ws(bytes: &[u8], mut i: usize, end: usize) -> (usize, usize) {
    let mut width = 0;
    while i < end && (bytes[i] == b' ' || bytes[i] == b'\t') {
        width += if bytes[i] == b'\t' { 4 } else { 1 };
        i += 1;
    }
    (i, width)
}

fn fence(rest: &[u8]) -> Option<(u8, usize)> {
    let ch = *rest.first()?;
    if ch != b'`' && ch != b'~' {
        return None;
    }
    let n = rest.iter().take_while(|&&b| b == ch).count();
    (n >= 3).then_some((ch, n))
}

fn is_rule(rest: &[u8]) -> bool {
    let Some(&ch) = rest.iter().find(|b| !b.is_ascii_whitespace()) else { return false };
    if !matches!(ch, b'-' | b'*' | b'_' | b'=') {
        return false;
    }
    let mut n = 0;
    for &b in rest {
        if b == ch {
            n += 1;
        } else if !b.is_ascii_whitespace() {
            return false;
        }
    }
    n >= 3
}

/// Offset of the item's content after a bullet, number or checkbox, if `rest` starts an item.
fn list_marker(rest: &str) -> Option<usize> {
    let b = rest.as_bytes();
    let first = *b.first()?;
    let after = if matches!(first, b'-' | b'*' | b'+') {
        1
    } else if rest.starts_with('•') || rest.starts_with('◦') || rest.starts_with('▪') {
        3
    } else if first.is_ascii_digit() {
        let n = b.iter().take_while(|c| c.is_ascii_digit()).count();
        if n > 9 || !matches!(b.get(n), Some(b'.' | b')')) {
            return None;
        }
        n + 1
    } else {
        return None;
    };
    match b.get(after) {
        None => Some(after),
        Some(b' ' | b'\t') => {
            let mut i = after;
            while matches!(b.get(i), Some(b' ' | b'\t')) {
                i += 1;
            }
            // A task-list checkbox.
            if b.get(i) == Some(&b'[')
                && matches!(b.get(i + 1), Some(b' ' | b'x' | b'X'))
                && b.get(i + 2) == Some(&b']')
            {
                i += 3;
            }
            Some(i)
        }
        _ => None,
    }
}

/// "Step 3:", "Step 3.", "step 3 -" at the start of a line.
fn is_step_label(rest: &str) -> bool {
    let b = rest.as_bytes();
    if b.len() < 5 || !b[..4].eq_ignore_ascii_case(b"step") {
        return false;
    }
    let mut i = 4;
    while i < b.len() && b[i] == b' ' {
        i += 1;
    }
    let digits = b[i..].iter().take_while(|c| c.is_ascii_digit()).count();
    digits > 0 && digits < 4 && matches!(b.get(i + digits), None | Some(b':' | b'.' | b')' | b' ' | b'-'))
}

/// A line led by an emoji or symbol (❌ Don't…, ✅ Do…, → …) reads as a list item.
fn symbol_led(rest: &str) -> bool {
    rest.chars().next().is_some_and(|c| super::norm::marker_of(c).is_some() || super::norm::is_symbol(c))
}

/// Untagged or text-tagged fenced content that reads as sentences rather than code.
fn reads_as_prose(text: &str, info: &str, lines: &[Range<usize>]) -> bool {
    let tag = info.split_whitespace().next().unwrap_or("").to_ascii_lowercase();
    if !matches!(tag.as_str(), "" | "text" | "txt" | "markdown" | "md" | "plain" | "plaintext" | "prompt" | "none") {
        return false;
    }
    let (mut words, mut codeish, mut nonblank) = (0usize, 0usize, 0usize);
    for r in lines {
        let line = text.get(r.clone()).unwrap_or("").trim();
        if line.is_empty() {
            continue;
        }
        nonblank += 1;
        words += line.split_whitespace().count();
        // `key: value` lines are YAML, not sentences.
        let yaml_key = line.trim_start_matches("- ").split_once(": ").is_some_and(|(k, _)| {
            !k.is_empty()
                && k.len() <= 40
                && k.bytes().all(|b| b.is_ascii_alphanumeric() || matches!(b, b'_' | b'-' | b'"'))
        });
        if yaml_key
            || line.starts_with('$')
            || line.starts_with("#!")
            || line.bytes().any(|b| matches!(b, b'{' | b'}' | b'=' | b';' | b'|' | b'&' | b'$'))
        {
            codeish += 1;
        }
    }
    nonblank > 0 && words >= 4 * nonblank && codeish * 3 < nonblank
}

/// A block's single piece.
fn one(r: Range<usize>) -> Vec<Range<usize>> {
    std::iter::once(r).collect()
}

/// An open fence: its character, length, info string and content lines so far.
type OpenFence = (u8, usize, Range<usize>, Vec<Range<usize>>);

/// Splits `text` into blocks.
pub(super) fn blocks(text: &str) -> Vec<Block> {
    let bytes = text.as_bytes();
    let mut out: Vec<Block> = Vec::new();
    let mut blank = true;
    // Open fence: (char, length, info, content lines).
    let mut fence_state: Option<OpenFence> = None;
    let mut front_matter = false;
    let mut first = true;
    for (start, end) in lines(text) {
        let is_first = std::mem::replace(&mut first, false);
        if let Some((ch, n, info, mut content)) = fence_state.take() {
            let (i, _) = skip_ws(bytes, start, end);
            let mut s = i;
            // Fences inside blockquotes.
            while s < end && bytes[s] == b'>' {
                s = skip_ws(bytes, s + 1, end).0;
            }
            if fence(&bytes[s..end]).is_some_and(|(c, m)| c == ch && m >= n)
                && bytes[s..end].iter().all(|&b| b == ch || b.is_ascii_whitespace())
            {
                let info_text = text.get(info).unwrap_or("");
                let prose = reads_as_prose(text, info_text, &content);
                out.push(Block { kind: BlockKind::Code { prose }, level: 0, pieces: content, meta: false });
                blank = true;
            } else {
                content.push(start..end);
                fence_state = Some((ch, n, info, content));
            }
            continue;
        }
        if is_first && text[start..end].trim_end() == "---" {
            front_matter = true;
            blank = true;
            continue;
        }
        if front_matter {
            let line = text[start..end].trim_end();
            if line == "---" || line == "..." {
                front_matter = false;
            } else if !line.trim().is_empty() {
                let (i, _) = skip_ws(bytes, start, end);
                out.push(Block { kind: BlockKind::Para, level: 0, pieces: one(i..end), meta: true });
            }
            blank = true;
            continue;
        }
        // Blockquote markers.
        let mut s = start;
        loop {
            let (i, w) = skip_ws(bytes, s, end);
            if w <= 3 && i < end && bytes[i] == b'>' {
                s = i + 1;
            } else {
                break;
            }
        }
        let (c, indent) = skip_ws(bytes, s, end);
        if c >= end {
            blank = true;
            continue;
        }
        let rest = &text[c..end];
        if let Some((ch, n)) = fence(rest.as_bytes()) {
            let info = c + n..end;
            if ch == b'~' || !text[info.clone()].contains('`') {
                fence_state = Some((ch, n, info, Vec::new()));
                continue;
            }
        }
        if is_rule(rest.as_bytes()) {
            blank = true;
            continue;
        }
        let hashes = rest.bytes().take_while(|&b| b == b'#').count();
        if (1..=6).contains(&hashes) && matches!(rest.as_bytes().get(hashes), None | Some(b' ' | b'\t')) {
            let body_start = skip_ws(bytes, c + hashes, end).0;
            let body = text[body_start..end].trim_end().trim_end_matches('#').trim_end();
            let piece = body_start..body_start + body.len();
            let kind = if is_step_label(body) { BlockKind::Item } else { BlockKind::Heading };
            out.push(Block { kind, level: hashes as u8, pieces: one(piece), meta: false });
            blank = true;
            continue;
        }
        if rest.starts_with('|') {
            let cells = rest.trim_matches(|c: char| c == '|' || c.is_whitespace());
            if !cells.bytes().all(|b| matches!(b, b'-' | b':' | b'|' | b' ' | b'\t')) {
                out.push(Block { kind: BlockKind::Table, level: 0, pieces: one(c..end), meta: false });
            }
            blank = true;
            continue;
        }
        if let Some(off) = list_marker(rest) {
            out.push(Block { kind: BlockKind::Item, level: 0, pieces: one(c + off..end), meta: false });
            blank = false;
            continue;
        }
        if is_step_label(rest) || symbol_led(rest) {
            out.push(Block { kind: BlockKind::Item, level: 0, pieces: one(c..end), meta: false });
            blank = false;
            continue;
        }
        // A text line: continues the paragraph or item before it, or starts a paragraph.
        match out.last_mut() {
            Some(b) if b.kind == BlockKind::Para && !blank => b.pieces.push(c..end),
            Some(b) if b.kind == BlockKind::Item && (!blank || indent >= 2) => b.pieces.push(c..end),
            _ => out.push(Block { kind: BlockKind::Para, level: 0, pieces: one(c..end), meta: false }),
        }
        blank = false;
    }
    if let Some((_, _, info, content)) = fence_state {
        let info_text = text.get(info).unwrap_or("");
        let prose = reads_as_prose(text, info_text, &content);
        out.push(Block { kind: BlockKind::Code { prose }, level: 0, pieces: content, meta: false });
    }
    out
}
