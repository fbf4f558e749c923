//! Text helpers shared by the file formats: one-line free text, canonical numbers, and
//! escaping for error messages and TOML.
//!
//! Validators return a short reason (`&'static str`) so each caller can wrap it in its own
//! error naming the field and the entry. Names (slugs, versions, owners, paths) have their
//! own types in [`crate::identity`].

use toml_writer::{ToTomlValue as _, TomlStringBuilder};

/// Longest accepted free-text value (file names, sources, rule versions).
pub(crate) const MAX_TEXT_LEN: usize = 4096;

/// Free text on one line: non-empty, at most [`MAX_TEXT_LEN`] bytes, no control characters
/// (so no tab, CR or LF either).
pub(crate) fn single_line_text(value: &str) -> Result<(), &'static str> {
    if value.is_empty() {
        return Err("must not be empty");
    }
    if value.len() > MAX_TEXT_LEN {
        return Err("is longer than 4096 bytes");
    }
    if value.chars().any(char::is_control) {
        return Err("must not contain control characters (tab, newline, ...)");
    }
    Ok(())
}

/// A canonical unsigned decimal: digits only, no sign, no leading zero (except `0` itself),
/// fits in `u64`. Rust's `u64::from_str` accepts a leading `+`, which would break
/// byte-identical round trips, hence this helper.
pub(crate) fn canonical_u64(value: &str) -> Result<u64, &'static str> {
    if value.is_empty() {
        return Err("must not be empty");
    }
    if !value.bytes().all(|b| b.is_ascii_digit()) {
        return Err("must be a decimal number");
    }
    if value.len() > 1 && value.starts_with('0') {
        return Err("must not have leading zeros");
    }
    value.parse().map_err(|_| "is too large")
}

/// Shortens and escapes untrusted input before it goes into an error message, so a hostile
/// file cannot flood a terminal or inject control sequences through our errors.
pub(crate) fn excerpt(value: &str) -> String {
    const MAX_CHARS: usize = 80;
    let mut out = String::new();
    for (count, c) in value.chars().enumerate() {
        if count == MAX_CHARS {
            out.push('…');
            break;
        }
        out.extend(c.escape_debug());
    }
    out
}

/// A TOML basic string (with its quotes), as the canonical files write every string and
/// every quoted key: encoded by `toml_writer`, the encoder the `toml` crate writes with, forced
/// to the basic style. `"` and `\` are escaped, control characters become escapes (`\n`,
/// `\u007F`, ...), everything else is kept as is, so any Rust string becomes valid TOML that
/// parses back to the same string.
///
/// This replaced a hand-written escaper with the same output for every string a valid lock or
/// trust store can hold (their text fields refuse control characters, which were the only place
/// the two escaped differently: `\b` and `\f` for `\u0008` and `\u000C`, C1 controls kept).
pub(crate) fn toml_string(value: &str) -> String {
    TomlStringBuilder::new(value).as_basic().to_toml_value()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn canonical_numbers() {
        assert_eq!(canonical_u64("0"), Ok(0));
        assert_eq!(canonical_u64("1767225600"), Ok(1_767_225_600));
        assert!(canonical_u64("+1").is_err());
        assert!(canonical_u64("01").is_err());
        assert!(canonical_u64("-1").is_err());
        assert!(canonical_u64("18446744073709551616").is_err());
        assert!(canonical_u64("").is_err());
    }

    #[test]
    fn toml_strings_round_trip() {
        #[derive(serde::Deserialize)]
        struct Holder {
            s: String,
        }
        for value in
            ["plain", "quote \" and \\ back", "tab\tnl\ncr\r", "del\u{7f} nul\0 c1\u{85} bs\u{8} ff\u{c}", "ü 🌦"]
        {
            let text = format!("s = {}", toml_string(value));
            let parsed: Result<Holder, _> = toml::from_str(&text);
            assert_eq!(parsed.map(|h| h.s).ok().as_deref(), Some(value), "{text}");
        }
    }

    /// The bytes the canonical files had before `toml_writer` wrote their strings.
    #[test]
    fn toml_strings_keep_their_bytes() {
        let cases = [
            ("weather-brief", r#""weather-brief""#),
            (r#"local:C:\skills\"odd""#, r#""local:C:\\skills\\\"odd\"""#),
            ("docs/say \"hi\".md", r#""docs/say \"hi\".md""#),
            ("ü/🌦.txt", "\"ü/🌦.txt\""),
            ("it's", r#""it's""#),
            ("tab\tnl\ncr\r del\u{7f} nul\0", r#""tab\tnl\ncr\r del\u007F nul\u0000""#),
        ];
        for (value, expected) in cases {
            assert_eq!(toml_string(value), expected, "{value:?}");
        }
    }

    #[test]
    fn excerpts_escape_and_truncate() {
        assert_eq!(excerpt("a\nb"), "a\\nb");
        let long = "x".repeat(200);
        assert_eq!(excerpt(&long).chars().count(), 81);
    }
}
