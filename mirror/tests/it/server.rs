//! The connection loop: request headers have a deadline, open connections are capped, and
//! shutdown stops accepting and lets the loop return.

use std::time::{Duration, Instant};

use skillscan_mirror::build_router;
use skillscan_mirror::server::{ConnectionLimits, serve};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};

use crate::common::env;

async fn start(
    limits: ConnectionLimits,
) -> (std::net::SocketAddr, tokio::sync::oneshot::Sender<()>, tokio::task::JoinHandle<()>) {
    let e = env();
    let app = build_router(e.state.clone());
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
    let task = tokio::spawn(async move {
        let _keep = e;
        serve(listener, app, limits, async move {
            let _ = stopped.await;
        })
        .await
        .unwrap();
    });
    (addr, stop, task)
}

async fn get_healthz(addr: std::net::SocketAddr) -> String {
    let mut s = TcpStream::connect(addr).await.unwrap();
    s.write_all(b"GET /healthz HTTP/1.1\r\nHost: mirror\r\nConnection: close\r\n\r\n").await.unwrap();
    let mut out = Vec::new();
    tokio::time::timeout(Duration::from_secs(5), s.read_to_end(&mut out)).await.unwrap().unwrap();
    String::from_utf8_lossy(&out).into_owned()
}

#[tokio::test]
async fn requests_are_served_and_slow_headers_are_cut_off() {
    let limits = ConnectionLimits {
        header_timeout: Duration::from_millis(300),
        max_connections: 16,
        ..ConnectionLimits::default()
    };
    let (addr, stop, task) = start(limits).await;
    assert!(get_healthz(addr).await.starts_with("HTTP/1.1 200"));

    // Slowloris: half a request, then silence. The server closes the connection.
    let mut slow = TcpStream::connect(addr).await.unwrap();
    slow.write_all(b"GET /healthz HTTP/1.1\r\nHost: mir").await.unwrap();
    let mut rest = Vec::new();
    let closed = tokio::time::timeout(Duration::from_secs(5), slow.read_to_end(&mut rest)).await;
    assert!(closed.is_ok(), "a connection without complete headers stayed open");
    assert!(!String::from_utf8_lossy(&rest).contains(" 200 "), "half a request was answered");

    let _ = stop.send(());
    tokio::time::timeout(Duration::from_secs(5), task).await.expect("shutdown returns").unwrap();
}

#[tokio::test]
async fn connections_beyond_the_cap_wait_for_a_free_slot() {
    let limits = ConnectionLimits {
        header_timeout: Duration::from_millis(500),
        max_connections: 1,
        first_byte_timeout: Duration::from_millis(500),
        ..ConnectionLimits::default()
    };
    let (addr, stop, task) = start(limits).await;
    // The only slot is taken by a connection that sends nothing until its header deadline.
    let idle = TcpStream::connect(addr).await.unwrap();
    tokio::time::sleep(Duration::from_millis(50)).await;
    let started = Instant::now();
    let reply = get_healthz(addr).await;
    assert!(reply.starts_with("HTTP/1.1 200"), "{reply}");
    assert!(started.elapsed() >= Duration::from_millis(300), "served before the slot was free");
    drop(idle);
    let _ = stop.send(());
    tokio::time::timeout(Duration::from_secs(5), task).await.expect("shutdown returns").unwrap();
}
