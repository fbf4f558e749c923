//! Tokens and sentences of a normalised unit. Words are split on spaces and markers; leading and
//! trailing punctuation is peeled into its own tokens; the core is classified as a URL, bare
//! host, IP, email, path, environment variable or word. A sentence ends at `.`/`!`/`?` before a
//! capital (not after an abbreviation), at a step or a break.

use std::ops::Range;

use super::lexicon::is_tld;
use super::norm::{self, is_marker};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Kind {
    Word,
    Num,
    /// A URL with a scheme, or `www.`.
    Url,
    /// A bare host name, with or without a path (`api.example.com/v1`).
    Host,
    Ip,
    Email,
    Path,
    /// An environment variable reference; its name is in `name`.
    Env,
    Punct(u8),
}

#[derive(Debug, Clone)]
pub(super) struct Tok {
    pub kind: Kind,
    /// Range in the unit text.
    pub range: Range<usize>,
    /// Range of the lookup key in [`Tokens::keys`].
    pub key: Range<usize>,
    /// For `Env`: range of the variable name in `keys` (upper case kept).
    pub name: Range<usize>,
    /// Written in capitals (`MUST`, `IMPORTANT`).
    pub caps: bool,
    /// Starts with a capital letter.
    pub capital: bool,
    /// Inside double quotes.
    pub quoted: bool,
    /// From an HTML comment, Unicode tag characters, or a word with invisible characters in it.
    pub hidden: bool,
    /// Inside backticks (inline code).
    pub code: bool,
}

#[derive(Debug, Clone)]
pub(super) struct Sentence {
    pub toks: Range<usize>,
    /// The step began with a "don't" sign (❌) or a "do" sign (✅).
    pub neg_mark: bool,
    pub pos_mark: bool,
    /// Tags `<IMPORTANT>` or `[SYSTEM]` opened within it.
    pub mand_mark: bool,
    pub auth_mark: bool,
    pub question: bool,
    pub ends_colon: bool,
}

#[derive(Default)]
pub(super) struct Tokens {
    pub toks: Vec<Tok>,
    pub keys: String,
    pub sentences: Vec<Sentence>,
    /// Scratch for [`Tokens::chunk`]: trailing punctuation peeled off a word.
    trailing: Vec<(u8, usize)>,
}

impl Tokens {
    pub fn key(&self, i: usize) -> &str {
        &self.keys[self.toks[i].key.clone()]
    }
    pub fn name(&self, i: usize) -> &str {
        &self.keys[self.toks[i].name.clone()]
    }
}

const ABBREVIATIONS: &[&str] =
    &["e.g", "i.e", "eg", "ie", "etc", "vs", "cf", "approx", "incl", "fig", "no", "mr", "mrs", "dr", "st", "v", "ex"];

fn is_open_punct(c: char) -> bool {
    matches!(c, '"' | '\'' | '(' | '[' | '{' | '<' | '¿' | '¡')
}

fn is_close_punct(c: char) -> bool {
    matches!(c, '"' | '\'' | ')' | ']' | '}' | '>' | '.' | ',' | ';' | ':' | '!' | '?' | '…')
}

fn fold(c: char) -> char {
    match c {
        'а' => 'a',
        'с' => 'c',
        'е' => 'e',
        'о' => 'o',
        'р' => 'p',
        'х' => 'x',
        'у' => 'y',
        'і' => 'i',
        'ѕ' => 's',
        'ј' => 'j',
        'һ' => 'h',
        'ԁ' => 'd',
        'ο' => 'o',
        'α' => 'a',
        'ε' => 'e',
        'ι' => 'i',
        'κ' => 'k',
        'ν' => 'v',
        'τ' => 't',
        'υ' => 'u',
        'ρ' => 'p',
        'А' => 'A',
        'В' => 'B',
        'С' => 'C',
        'Е' => 'E',
        'Н' => 'H',
        'І' => 'I',
        'К' => 'K',
        'М' => 'M',
        'О' => 'O',
        'Р' => 'P',
        'Т' => 'T',
        'Х' => 'X',
        'Ѕ' => 'S',
        _ => c,
    }
}

fn host_like(s: &str) -> Option<bool> {
    // Returns Some(is_ip) when `s` (up to a path) is a host name with a known TLD or an IPv4.
    let end = s.find(['/', '?', '#']).unwrap_or(s.len());
    let has_path = end < s.len();
    let authority = &s[..end];
    let host = authority.rsplit('@').next().unwrap_or(authority);
    let host = host.split(':').next().unwrap_or(host);
    let labels: Vec<&str> = host.split('.').collect();
    if labels.len() == 4
        && labels.iter().all(|l| !l.is_empty() && l.len() <= 3 && l.bytes().all(|b| b.is_ascii_digit()))
    {
        return labels.iter().all(|l| l.parse::<u16>().is_ok_and(|n| n <= 255)).then_some(true);
    }
    if labels.len() < 2 || labels.iter().any(|l| l.is_empty() || l.len() > 63) {
        return None;
    }
    if !labels.iter().all(|l| l.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-')) {
        return None;
    }
    let tld = labels[labels.len() - 1].to_ascii_lowercase();
    if !tld.bytes().all(|b| b.is_ascii_alphabetic()) {
        return None;
    }
    (is_tld(&tld) || (tld == "sh" && has_path)).then_some(false)
}

const FILE_EXTS: &[&str] = &[
    "md", "json", "json5", "toml", "yaml", "yml", "txt", "env", "sh", "bash", "zsh", "py", "js", "mjs", "cjs", "ts",
    "plist", "conf", "cfg", "ini", "rules", "dat", "pem", "key", "kdbx", "zip", "exe", "dmg", "pkg", "msi", "rar",
    "7z", "gz", "tgz", "appimage", "bin", "deb", "rpm", "jar", "ps1", "bat", "cmd", "scr", "apk", "log", "db",
    "sqlite", "keychain", "keystore", "p12", "pfx", "crt", "lock", "csv", "xml", "html", "mdc", "fish", "rc", "vbs",
    "lnk", "app", "command", "tar", "xz", "bz2",
];

fn is_env_name(s: &str) -> bool {
    let b = s.as_bytes();
    !b.is_empty()
        && b.len() <= 80
        && (b[0].is_ascii_uppercase() || b[0] == b'_')
        && b.iter().all(|c| c.is_ascii_uppercase() || c.is_ascii_digit() || *c == b'_')
}

/// The variable an environment reference names: `$X`, `${X}`, `%X%`, `process.env.X`,
/// `os.environ["X"]`, `os.getenv("X")`, `env.X`, `ENV["X"]`, `X=value`, or a bare `SOME_NAME`.
fn env_name(s: &str) -> Option<&str> {
    let trim = |n: &str| -> Option<usize> {
        let len = n.bytes().take_while(|c| c.is_ascii_alphanumeric() || *c == b'_').count();
        (len > 0).then_some(len)
    };
    if let Some(rest) = s.strip_prefix("${").or_else(|| s.strip_prefix('$')).or_else(|| s.strip_prefix('%')) {
        let len = trim(rest)?;
        let name = &rest[..len];
        return is_env_name(name).then_some(name);
    }
    for marker in
        ["process.env.", "os.environ[", "os.environ.get(", "os.getenv(", "getenv(", "env.", "ENV[", "Deno.env.get("]
    {
        if let Some(i) = s.find(marker) {
            let rest = s[i + marker.len()..].trim_start_matches(['"', '\'', '`']);
            let len = trim(rest)?;
            return Some(&rest[..len]);
        }
    }
    if let Some(eq) = s.find('=') {
        let name = &s[..eq];
        let name = name.strip_prefix("export").map_or(name, str::trim);
        return (is_env_name(name) && name.len() >= 3).then_some(name);
    }
    (is_env_name(s) && s.contains('_') && s.trim_matches('_').contains('_') && s.len() >= 5).then_some(s)
}

fn classify(core: &str) -> Kind {
    // Most tokens are plain words: letters, apostrophes and hyphens.
    let b = core.as_bytes();
    if b.iter().all(|c| c.is_ascii_alphabetic() || *c == b'\'' || *c == b'-') {
        return Kind::Word;
    }
    if !core.is_ascii() && !core.contains(['.', '/', '@', '$', '%', '=', '_', ':', '~', '\\']) {
        return Kind::Word;
    }
    if b.iter().all(|c| c.is_ascii_digit()) {
        return Kind::Num;
    }
    let lower_has_scheme = core.find("://").is_some_and(|i| {
        let scheme = core[..i].to_ascii_lowercase();
        matches!(scheme.as_str(), "http" | "https" | "ftp" | "ftps" | "ws" | "wss" | "sftp")
    });
    if lower_has_scheme {
        return Kind::Url;
    }
    if core.len() > 4 && core.as_bytes()[..4].eq_ignore_ascii_case(b"www.") {
        return Kind::Url;
    }
    if let Some(at) = core.find('@')
        && at > 0
        && !core.contains('/')
        && host_like(&core[at + 1..]) == Some(false)
        && core[..at].bytes().all(|b| b.is_ascii_alphanumeric() || matches!(b, b'.' | b'_' | b'%' | b'+' | b'-'))
    {
        return Kind::Email;
    }
    if (core.starts_with('$')
        || core.starts_with('%')
        || core.contains("env.")
        || core.contains("environ")
        || core.contains("getenv(")
        || core.contains("ENV["))
        && env_name(core).is_some()
    {
        return Kind::Env;
    }
    if core.starts_with("~/")
        || core.starts_with("~\\")
        || core.starts_with("./")
        || core.starts_with("../")
        || core.starts_with("%USERPROFILE%")
        || core.starts_with("%APPDATA%")
        || (core.len() > 2 && core.as_bytes()[1] == b':' && core.as_bytes()[2] == b'\\')
    {
        return Kind::Path;
    }
    if let Some(ip) = host_like(core) {
        // `Mail.app`, `Notes.app`: applications, not hosts.
        let app = !ip && core.ends_with(".app") && core.starts_with(|c: char| c.is_ascii_uppercase());
        if !app {
            return if ip { Kind::Ip } else { Kind::Host };
        }
    }
    if core.contains('=') && env_name(core).is_some() {
        return Kind::Env;
    }
    if core.starts_with('/') || core.contains('/') || core.contains('\\') {
        return Kind::Path;
    }
    if core.len() > 1 && core.starts_with('.') && core.as_bytes()[1].is_ascii_alphabetic() {
        return Kind::Path;
    }
    if let Some(dot) = core.rfind('.')
        && dot > 0
    {
        let ext = core[dot + 1..].to_ascii_lowercase();
        if FILE_EXTS.contains(&ext.as_str()) {
            return Kind::Path;
        }
    }
    if matches!(core.to_ascii_lowercase().as_str(), "id_rsa" | "id_ed25519" | "id_ecdsa" | "id_dsa" | "authorized_keys")
    {
        return Kind::Path;
    }
    if env_name(core).is_some() {
        return Kind::Env;
    }
    if core.bytes().all(|b| b.is_ascii_digit() || b == b'.' || b == b',') {
        return Kind::Num;
    }
    Kind::Word
}

struct Chunk {
    range: Range<usize>,
    hidden: bool,
    code: bool,
}

impl Tokens {
    pub fn clear(&mut self) {
        self.toks.clear();
        self.keys.clear();
        self.sentences.clear();
    }

    fn punct(&mut self, c: u8, at: usize, quoted: bool, hidden: bool) {
        let k = self.keys.len();
        self.keys.push(c as char);
        self.toks.push(Tok {
            kind: Kind::Punct(c),
            range: at..at + 1,
            key: k..k + 1,
            name: 0..0,
            caps: false,
            capital: false,
            quoted,
            hidden,
            code: false,
        });
    }

    /// Tokenises `text` (a normalised unit) and splits it into sentences.
    pub fn build(&mut self, text: &str) {
        self.clear();
        let mut sent_start = 0usize;
        let mut flags = SentFlags::default();
        let mut step_neg = false;
        let mut step_pos = false;
        let mut hidden = false;
        let mut code = false;
        let mut quoted = false;
        let mut chunk: Option<Chunk> = None;
        let mut boundary_pending = false;
        let mut i = 0;
        while i <= text.len() {
            // Printable ASCII never separates words (markers are private-use characters): take
            // the whole run into the chunk at once.
            let run = text.as_bytes()[i..].iter().take_while(|&&b| b.is_ascii() && b != b' ').count();
            if run > 0 {
                match &mut chunk {
                    Some(ch) => ch.range.end = i + run,
                    None => chunk = Some(Chunk { range: i..i + run, hidden, code }),
                }
                i += run;
                continue;
            }
            let c = if i < text.len() { text[i..].chars().next().unwrap_or(' ') } else { ' ' };
            let at_end = i >= text.len();
            let sep = at_end || c == ' ' || (is_marker(c) && c != norm::ZW);
            if !sep {
                match &mut chunk {
                    Some(ch) => {
                        ch.range.end = i + c.len_utf8();
                        if c == norm::ZW {
                            ch.hidden = true;
                        }
                    }
                    None => chunk = Some(Chunk { range: i..i + c.len_utf8(), hidden: c == norm::ZW || hidden, code }),
                }
                i += c.len_utf8();
                continue;
            }
            if let Some(ch) = chunk.take() {
                // A sentence break decided by the previous chunk: does this chunk start a new
                // sentence?
                if boundary_pending {
                    boundary_pending = false;
                    let first = text[ch.range.clone()].chars().find(|c| !is_open_punct(*c) && !is_marker(*c));
                    if first.is_none_or(|f| {
                        f.is_uppercase() || f.is_ascii_digit() || (f.is_alphabetic() && !f.is_lowercase())
                    }) {
                        self.end_sentence(&mut sent_start, &mut flags, step_neg, step_pos);
                    }
                }
                let ends = self.chunk(text, ch, &mut quoted);
                if ends {
                    boundary_pending = true;
                }
            }
            if at_end {
                break;
            }
            match c {
                norm::STEP => {
                    boundary_pending = false;
                    self.end_sentence(&mut sent_start, &mut flags, step_neg, step_pos);
                    step_neg = false;
                    step_pos = false;
                    quoted = false;
                }
                norm::BREAK => {
                    boundary_pending = false;
                    self.end_sentence(&mut sent_start, &mut flags, step_neg, step_pos);
                }
                norm::NEG => {
                    step_neg = true;
                    step_pos = false;
                }
                norm::POS => {
                    step_pos = true;
                    step_neg = false;
                }
                norm::CODE => code = !code,
                norm::HIDE_ON => hidden = true,
                norm::HIDE_OFF => hidden = false,
                norm::MAND => flags.mand = true,
                norm::AUTH => flags.auth = true,
                _ => {}
            }
            i += c.len_utf8();
        }
        self.end_sentence(&mut sent_start, &mut flags, step_neg, step_pos);
    }

    fn end_sentence(&mut self, start: &mut usize, flags: &mut SentFlags, neg: bool, pos: bool) {
        let end = self.toks.len();
        if end > *start {
            let last_punct = self.toks[*start..end].iter().rev().find_map(|t| match t.kind {
                Kind::Punct(p) if p != b'"' && p != b')' && p != b'\'' => Some(Some(p)),
                Kind::Punct(_) => None,
                _ => Some(None),
            });
            let last_punct = last_punct.flatten();
            self.sentences.push(Sentence {
                toks: *start..end,
                neg_mark: neg,
                pos_mark: pos,
                mand_mark: flags.mand,
                auth_mark: flags.auth,
                question: last_punct == Some(b'?'),
                ends_colon: last_punct == Some(b':'),
            });
        }
        *start = end;
        *flags = SentFlags::default();
    }

    /// Emits the tokens of one chunk; true when it ends a sentence (`.`, `!`, `?`).
    fn chunk(&mut self, text: &str, ch: Chunk, quoted: &mut bool) -> bool {
        let s = &text[ch.range.clone()];
        let base = ch.range.start;
        let hidden = ch.hidden;
        let code = ch.code;
        // Peel leading punctuation.
        let mut a = 0;
        for (k, c) in s.char_indices() {
            if !is_open_punct(c) {
                break;
            }
            match c {
                '"' => {
                    *quoted = !*quoted;
                    self.punct(b'"', base + k, *quoted, hidden);
                }
                '(' => self.punct(b'(', base + k, *quoted, hidden),
                _ => {}
            }
            a = k + c.len_utf8();
        }
        // Peel trailing punctuation (but keep a URL's or path's own slash).
        let mut b = s.len();
        // Reused across chunks: one allocation per unit rather than per word with punctuation.
        let mut trailing = std::mem::take(&mut self.trailing);
        trailing.clear();
        while b > a {
            let Some(c) = s[..b].chars().next_back() else { break };
            if !is_close_punct(c) {
                break;
            }
            // `>>` and `>` redirect into a file.
            if c == '>' && b - a <= 2 && s[a..b].bytes().all(|x| x == b'>') {
                break;
            }
            b -= c.len_utf8();
            let p = match c {
                '…' => b'.',
                _ => c as u8,
            };
            trailing.push((p, base + b));
        }
        let mut ends = false;
        if b > a {
            let core = &s[a..b];
            self.word(core, base + a, hidden, *quoted, code);
            // "e.g." does not end a sentence.
            let last = self.toks.len() - 1;
            let key = &self.keys[self.toks[last].key.clone()];
            let abbrev = ABBREVIATIONS.contains(&key) || (key.len() == 1 && self.toks[last].kind == Kind::Word);
            for &(p, at) in trailing.iter().rev() {
                if matches!(p, b'.' | b'!' | b'?') && !abbrev {
                    ends = true;
                }
                if p == b'"' {
                    *quoted = !*quoted;
                }
                if matches!(p, b',' | b';' | b':' | b'"' | b')' | b'?' | b'!' | b'.') {
                    self.punct(p, at, *quoted, hidden);
                }
            }
        } else {
            for &(p, at) in trailing.iter().rev() {
                if matches!(p, b'.' | b'!' | b'?') {
                    ends = true;
                }
                if p == b'"' {
                    *quoted = !*quoted;
                }
                if matches!(p, b',' | b';' | b':' | b'"' | b')' | b'?' | b'!' | b'.') {
                    self.punct(p, at, *quoted, hidden);
                }
            }
        }
        self.trailing = trailing;
        ends
    }

    fn word(&mut self, core: &str, at: usize, hidden: bool, quoted: bool, code: bool) {
        // Remove in-word markers before classifying.
        let mut hidden = hidden;
        let cleaned;
        let core_clean: &str = if core.contains(norm::ZW) {
            hidden = true;
            cleaned = core.replace(norm::ZW, "");
            &cleaned
        } else {
            core
        };
        let kind = if core_clean == ">" || core_clean == ">>" { Kind::Punct(b'>') } else { classify(core_clean) };
        let k0 = self.keys.len();
        let mut letters = 0;
        let mut upper = 0;
        for c in core_clean.chars() {
            if c.is_ascii() {
                // The same steps as below for ASCII, where folding and case mapping are trivial.
                if c.is_ascii_alphabetic() {
                    letters += 1;
                    if c.is_ascii_uppercase() {
                        upper += 1;
                    }
                }
                if !(matches!(kind, Kind::Word | Kind::Num) && matches!(c, '-' | '\'' | '.' | '+')) {
                    self.keys.push(c.to_ascii_lowercase());
                }
                continue;
            }
            let c = fold(c);
            if c.is_alphabetic() {
                letters += 1;
                if c.is_uppercase() {
                    upper += 1;
                }
            }
            match kind {
                Kind::Word | Kind::Num => {
                    if matches!(c, '-' | '\'' | '.' | '+') {
                        continue;
                    }
                    self.keys.extend(c.to_lowercase());
                }
                _ => self.keys.extend(c.to_lowercase()),
            }
        }
        let key = k0..self.keys.len();
        let mut name = 0..0;
        if kind == Kind::Env
            && let Some(n) = env_name(core_clean)
        {
            let n0 = self.keys.len();
            self.keys.push_str(n);
            name = n0..self.keys.len();
        }
        let capital = core_clean.chars().next().is_some_and(char::is_uppercase);
        self.toks.push(Tok {
            kind,
            range: at..at + core.len(),
            key,
            name,
            caps: letters >= 2 && upper == letters,
            capital,
            quoted,
            hidden,
            code,
        });
    }
}

#[derive(Default)]
struct SentFlags {
    mand: bool,
    auth: bool,
}
