//! Accepting connections. `axum::serve` has neither a deadline for request headers nor a cap on
//! open connections, so one client sending a header byte every few seconds (slowloris) could
//! hold connections forever; this loop serves the same router with both.
//!
//! Fairness: the global cap alone let one client take every slot. With 1,100 idle sockets
//! from one address, the other clients waited in the accept queue until the idle ones hit
//! their header deadline (9.5 s in the fault campaign). So, besides the global cap:
//! - each peer address may hold at most `max_connections_per_ip` connections; a connection
//!   beyond that is closed as soon as it is accepted, before it takes a slot for longer;
//! - a connection must send its first byte within `first_byte_timeout` (short: a real client
//!   sends its request right after connecting), so silent sockets give their slot back fast;
//!   the full request headers still have `header_timeout`.

use std::collections::HashMap;
use std::future::Future;
use std::net::IpAddr;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use axum::Router;
use hyper_util::rt::{TokioIo, TokioTimer};
use hyper_util::server::graceful::GracefulShutdown;
use hyper_util::service::TowerToHyperService;
use tokio::net::TcpListener;
use tokio::sync::Semaphore;

/// Per-connection limits (`[limits]` in the configuration).
#[derive(Debug, Clone, Copy)]
pub struct ConnectionLimits {
    /// A connection that has not sent complete request headers within this time is closed.
    pub header_timeout: Duration,
    /// Connections open at once; further ones wait in the kernel's accept queue.
    pub max_connections: usize,
    /// Connections one peer address may hold at once; more are closed on accept. 0: no cap.
    pub max_connections_per_ip: usize,
    /// A connection that sends nothing within this time is closed.
    pub first_byte_timeout: Duration,
}

impl Default for ConnectionLimits {
    /// The configuration's defaults.
    fn default() -> Self {
        ConnectionLimits::of(&crate::config::Config::default())
    }
}

impl ConnectionLimits {
    pub fn of(config: &crate::config::Config) -> Self {
        ConnectionLimits {
            header_timeout: config.header_timeout(),
            max_connections: config.limits.max_connections,
            max_connections_per_ip: config.limits.max_connections_per_ip,
            first_byte_timeout: config.first_byte_timeout(),
        }
    }
}

/// The address a connection is counted under: an IPv4 address (also when it arrives mapped
/// into IPv6), or an IPv6 /64, the block one host usually has to pick addresses from.
fn peer_key(ip: IpAddr) -> IpAddr {
    match ip {
        IpAddr::V4(_) => ip,
        IpAddr::V6(v6) => match v6.to_ipv4_mapped() {
            Some(v4) => IpAddr::V4(v4),
            None => IpAddr::V6(std::net::Ipv6Addr::from(v6.to_bits() & !((1u128 << 64) - 1))),
        },
    }
}

/// Open connections per peer address ([`peer_key`]).
#[derive(Default)]
struct PerIp(Mutex<HashMap<IpAddr, usize>>);

/// One counted connection; uncounted on drop.
struct IpSlot {
    table: Arc<PerIp>,
    ip: IpAddr,
}

impl PerIp {
    /// Count a connection from `ip`, unless it already holds `cap` (0: no cap).
    fn claim(self: &Arc<Self>, ip: IpAddr, cap: usize) -> Option<IpSlot> {
        let mut t = self.0.lock().unwrap_or_else(|p| p.into_inner());
        let n = t.entry(ip).or_insert(0);
        if cap > 0 && *n >= cap {
            return None;
        }
        *n += 1;
        Some(IpSlot { table: self.clone(), ip })
    }
}

impl Drop for IpSlot {
    fn drop(&mut self) {
        let mut t = self.table.0.lock().unwrap_or_else(|p| p.into_inner());
        if let Some(n) = t.get_mut(&self.ip) {
            *n = n.saturating_sub(1);
            if *n == 0 {
                t.remove(&self.ip);
            }
        }
    }
}

/// Serves `app` on `listener` until `shutdown` completes, then stops accepting and waits for
/// the open connections to finish their current request (callers bound that wait).
pub async fn serve(
    listener: TcpListener,
    app: Router,
    limits: ConnectionLimits,
    shutdown: impl Future<Output = ()>,
) -> std::io::Result<()> {
    let permits = Arc::new(Semaphore::new(limits.max_connections.max(1)));
    let per_ip = Arc::new(PerIp::default());
    let graceful = GracefulShutdown::new();
    let mut http = hyper::server::conn::http1::Builder::new();
    http.timer(TokioTimer::new()).header_read_timeout(limits.header_timeout);
    tokio::pin!(shutdown);
    loop {
        let permit = tokio::select! {
            permit = permits.clone().acquire_owned() => permit.expect("the semaphore is never closed"),
            () = &mut shutdown => break,
        };
        let (stream, peer) = tokio::select! {
            accepted = listener.accept() => match accepted {
                Ok(accepted) => accepted,
                // Out of file descriptors and the like: wait instead of spinning.
                Err(error) => {
                    tracing::warn!("accept failed: {error}");
                    tokio::time::sleep(Duration::from_millis(50)).await;
                    continue;
                }
            },
            () = &mut shutdown => break,
        };
        let Some(slot) = per_ip.claim(peer_key(peer.ip()), limits.max_connections_per_ip) else {
            // Closed at once (the permit returns with it): one address cannot starve the others.
            tracing::debug!(peer = %peer.ip(), "connection refused: per-address connection cap reached");
            drop(stream);
            continue;
        };
        let _ = stream.set_nodelay(true);
        let (http, app, watcher) = (http.clone(), app.clone(), graceful.watcher());
        let first_byte = limits.first_byte_timeout;
        tokio::spawn(async move {
            let _slot = slot;
            let _permit = permit;
            // A real client sends its request right after connecting. Peeking leaves the
            // byte for hyper to read.
            let mut byte = [0u8; 1];
            match tokio::time::timeout(first_byte, stream.peek(&mut byte)).await {
                Ok(Ok(n)) if n > 0 => {}
                _ => {
                    tracing::debug!("connection closed: nothing sent within the first-byte timeout");
                    return;
                }
            }
            let connection = http.serve_connection(TokioIo::new(stream), TowerToHyperService::new(app));
            // Errors here are client-side (reset, header timeout): nothing to report upstream.
            if let Err(error) = watcher.watch(connection).await {
                tracing::debug!("connection closed: {error}");
            }
        });
    }
    drop(listener);
    graceful.shutdown().await;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn connections_are_counted_per_ipv4_address_and_ipv6_block() {
        let key = |s: &str| peer_key(s.parse().unwrap()).to_string();
        assert_eq!(key("203.0.113.7"), "203.0.113.7");
        assert_eq!(key("::ffff:203.0.113.7"), "203.0.113.7");
        assert_eq!(key("2001:db8:1:2:aaaa:bbbb:cccc:dddd"), "2001:db8:1:2::");
        assert_eq!(key("2001:db8:1:2::1"), key("2001:db8:1:2:ffff::9"));
        assert_ne!(key("2001:db8:1:2::1"), key("2001:db8:1:3::1"));

        let table = Arc::new(PerIp::default());
        let ip: IpAddr = "127.0.0.1".parse().unwrap();
        let first = table.claim(ip, 2);
        let second = table.claim(ip, 2);
        assert!(first.is_some() && second.is_some());
        assert!(table.claim(ip, 2).is_none(), "a third connection over the cap");
        assert!(table.claim("127.0.0.2".parse().unwrap(), 2).is_some(), "another address is not affected");
        drop(first);
        assert!(table.claim(ip, 2).is_some(), "a closed connection frees its place");
        assert!(table.claim(ip, 0).is_some(), "0: no cap");
    }
}
