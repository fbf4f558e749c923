//! Accepting connections. `axum::serve` has neither a deadline for request headers nor a cap on
//! open connections, so one client sending a header byte every few seconds (slowloris) could
//! hold connections forever; this loop serves the same router with both.

use std::future::Future;
use std::sync::Arc;
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
}

impl ConnectionLimits {
    pub fn of(config: &crate::config::Config) -> Self {
        ConnectionLimits { header_timeout: config.header_timeout(), max_connections: config.limits.max_connections }
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
    let graceful = GracefulShutdown::new();
    let mut http = hyper::server::conn::http1::Builder::new();
    http.timer(TokioTimer::new()).header_read_timeout(limits.header_timeout);
    tokio::pin!(shutdown);
    loop {
        let permit = tokio::select! {
            permit = permits.clone().acquire_owned() => permit.expect("the semaphore is never closed"),
            () = &mut shutdown => break,
        };
        let (stream, _) = tokio::select! {
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
        let _ = stream.set_nodelay(true);
        let connection = http.serve_connection(TokioIo::new(stream), TowerToHyperService::new(app.clone()));
        let connection = graceful.watch(connection);
        tokio::spawn(async move {
            // Errors here are client-side (reset, header timeout): nothing to report upstream.
            if let Err(error) = connection.await {
                tracing::debug!("connection closed: {error}");
            }
            drop(permit);
        });
    }
    drop(listener);
    graceful.shutdown().await;
    Ok(())
}
