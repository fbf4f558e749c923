//! Where a ClawHub client may connect: the one containment policy of the registry client.
//!
//! A registry is not trusted to send the client somewhere else. The configured registry is
//! the user's choice and is always reachable; beyond it:
//! - a redirect is followed only within the registry's origin (scheme, host, port), unless
//!   its host is one of [`Containment::redirect_hosts`];
//! - a redirect never leads to a loopback, private, link-local or otherwise internal address
//!   (an IP literal, or a name that resolves to one: [`GuardedResolver`] checks the addresses
//!   actually connected to, so DNS rebinding does not get around it), unless
//!   [`Containment::allow_private_targets`] is set.
//!
//! Without this, a registry (or anyone able to answer for it) could make the client fetch a
//! cloud metadata endpoint or an internal service and read the answer back as an error text.

use std::net::{IpAddr, SocketAddr, ToSocketAddrs};
use std::sync::Arc;

use reqwest::Url;
use reqwest::dns::{Addrs, Name, Resolve, Resolving};

/// Redirect hops followed at most.
pub const MAX_REDIRECTS: usize = 5;

/// What a client may reach besides its registry's origin.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Containment {
    /// Hosts a redirect may lead to besides the registry's own origin (a blob store the
    /// registry hands downloads to). Empty by default: same-origin redirects only.
    pub redirect_hosts: Vec<String>,
    /// Allow redirects to loopback, private and link-local addresses. Off by default.
    pub allow_private_targets: bool,
}

/// A redirect the policy refuses (the reason is shown; the URL is cut to its origin).
#[derive(Debug, thiserror::Error)]
pub enum Refused {
    #[error("redirect to another origin ({0}) refused: only same-origin redirects are followed unless configured")]
    OtherOrigin(String),
    #[error("redirect to an internal address ({0}) refused: loopback, private and link-local targets are not allowed")]
    Internal(String),
    #[error("more than {MAX_REDIRECTS} redirects")]
    TooMany,
    #[error("{0} resolves only to internal addresses (loopback, private, link-local): refused")]
    InternalName(String),
}

/// `scheme://host[:port]` of a URL, as errors show it.
fn origin_text(url: &Url) -> String {
    match (url.host_str(), url.port()) {
        (Some(h), Some(p)) => format!("{}://{h}:{p}", url.scheme()),
        (Some(h), None) => format!("{}://{h}", url.scheme()),
        (None, _) => url.scheme().to_owned(),
    }
}

fn same_origin(a: &Url, b: &Url) -> bool {
    a.scheme() == b.scheme() && a.host_str() == b.host_str() && a.port_or_known_default() == b.port_or_known_default()
}

/// Loopback, private (RFC 1918, unique local), link-local, shared (CGNAT), unspecified,
/// broadcast, documentation and multicast addresses: nothing a public registry sends
/// clients to.
pub fn is_internal(ip: IpAddr) -> bool {
    match ip {
        IpAddr::V4(v4) => {
            let [a, b, ..] = v4.octets();
            v4.is_loopback()
                || v4.is_private()
                || v4.is_link_local()
                || v4.is_unspecified()
                || v4.is_broadcast()
                || v4.is_documentation()
                || v4.is_multicast()
                || a == 0
                || (a == 100 && (64..128).contains(&b))
        }
        IpAddr::V6(v6) => {
            if let Some(v4) = v6.to_ipv4_mapped() {
                return is_internal(IpAddr::V4(v4));
            }
            let first = v6.segments()[0];
            v6.is_loopback()
                || v6.is_unspecified()
                || v6.is_multicast()
                || (first & 0xfe00) == 0xfc00
                || (first & 0xffc0) == 0xfe80
        }
    }
}

impl Containment {
    /// The redirect policy for a client of the registry at `base`.
    pub fn redirect_policy(&self, base: &Url) -> reqwest::redirect::Policy {
        let base = base.clone();
        let policy = self.clone();
        reqwest::redirect::Policy::custom(move |attempt| {
            if attempt.previous().len() > MAX_REDIRECTS {
                return attempt.error(Refused::TooMany);
            }
            match policy.check_redirect(&base, attempt.url()) {
                Ok(()) => attempt.follow(),
                Err(refused) => attempt.error(refused),
            }
        })
    }

    /// Whether a redirect from the registry at `base` to `target` may be followed (names are
    /// checked again, against their addresses, by [`GuardedResolver`]).
    pub fn check_redirect(&self, base: &Url, target: &Url) -> Result<(), Refused> {
        if same_origin(base, target) {
            return Ok(());
        }
        let host = target.host_str().unwrap_or_default();
        let allowed = matches!(target.scheme(), "http" | "https")
            && self.redirect_hosts.iter().any(|h| h.eq_ignore_ascii_case(host.trim_matches(['[', ']'])));
        if !allowed {
            return Err(Refused::OtherOrigin(origin_text(target)));
        }
        let literal = host.trim_matches(['[', ']']).parse::<IpAddr>().ok();
        if !self.allow_private_targets && (literal.is_some_and(is_internal) || host.eq_ignore_ascii_case("localhost")) {
            return Err(Refused::Internal(origin_text(target)));
        }
        Ok(())
    }

    /// The resolver for a client of the registry at `base`.
    pub fn resolver(&self, base: &Url) -> Arc<GuardedResolver> {
        Arc::new(GuardedResolver {
            registry_host: base.host_str().unwrap_or_default().to_ascii_lowercase(),
            allow_private_targets: self.allow_private_targets,
        })
    }
}

/// Resolves names with the system resolver, dropping internal addresses for every host but
/// the configured registry's (unless private targets are allowed), so a redirect to a name
/// that points inside the network fails instead of connecting.
#[derive(Debug)]
pub struct GuardedResolver {
    registry_host: String,
    allow_private_targets: bool,
}

impl Resolve for GuardedResolver {
    fn resolve(&self, name: Name) -> Resolving {
        let host = name.as_str().to_ascii_lowercase();
        let filter = !self.allow_private_targets && host != self.registry_host;
        Box::pin(async move {
            // The blocking client resolves on its own runtime thread; a lookup is short.
            let addrs: Vec<SocketAddr> = (host.as_str(), 0).to_socket_addrs()?.collect();
            let kept: Vec<SocketAddr> = addrs.into_iter().filter(|a| !(filter && is_internal(a.ip()))).collect();
            if kept.is_empty() {
                return Err(Box::new(Refused::InternalName(host)) as Box<dyn std::error::Error + Send + Sync>);
            }
            Ok(Box::new(kept.into_iter()) as Addrs)
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn url(s: &str) -> Url {
        Url::parse(s).unwrap_or_else(|e| panic!("{s}: {e}"))
    }

    #[test]
    fn internal_addresses() {
        for ip in ["127.0.0.1", "10.1.2.3", "172.16.0.1", "192.168.1.1", "169.254.169.254", "100.64.0.1", "0.0.0.0"] {
            assert!(is_internal(ip.parse().unwrap_or_else(|e| panic!("{e}"))), "{ip}");
        }
        for ip in ["::1", "fe80::1", "fd00::1", "::ffff:127.0.0.1", "::"] {
            assert!(is_internal(ip.parse().unwrap_or_else(|e| panic!("{e}"))), "{ip}");
        }
        for ip in ["93.184.216.34", "1.1.1.1", "2606:4700::1111"] {
            assert!(!is_internal(ip.parse().unwrap_or_else(|e| panic!("{e}"))), "{ip}");
        }
    }

    #[test]
    fn redirects_stay_in_the_origin_unless_configured() {
        let base = url("https://registry.example/prefix");
        let none = Containment::default();
        assert!(none.check_redirect(&base, &url("https://registry.example/other")).is_ok());
        assert!(none.check_redirect(&base, &url("https://registry.example:443/x")).is_ok());
        for other in ["http://registry.example/x", "https://registry.example:8443/x", "https://cdn.example/x"] {
            assert!(matches!(none.check_redirect(&base, &url(other)), Err(Refused::OtherOrigin(_))), "{other}");
        }
        let cdn =
            Containment { redirect_hosts: vec!["cdn.example".into(), "10.0.0.5".into()], ..Containment::default() };
        assert!(cdn.check_redirect(&base, &url("https://cdn.example/blob")).is_ok());
        assert!(matches!(cdn.check_redirect(&base, &url("http://10.0.0.5/")), Err(Refused::Internal(_))));
        let private = Containment { allow_private_targets: true, ..cdn };
        assert!(private.check_redirect(&base, &url("http://10.0.0.5/")).is_ok());
    }
}
