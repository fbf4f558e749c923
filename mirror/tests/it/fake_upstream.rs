//! A fake ClawHub upstream for the sync tests: routes keyed by path and query, each answered
//! with bytes, after a stall, one byte at a time, endlessly, or in a sequence; every request
//! target is recorded.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use tokio::io::{AsyncReadExt, AsyncWriteExt};

#[derive(Clone)]
pub enum Reply {
    Raw(Vec<u8>),
    /// Sleep, then answer.
    Stall(Duration, Vec<u8>),
    /// Headers, then `body` one byte every `every`.
    Trickle(Duration, Vec<u8>),
    /// A 200 without a length that never ends.
    Endless,
    /// Each request takes the first entry until one is left.
    Seq(Vec<Reply>),
}

pub fn http(status: &str, headers: &[(&str, String)], body: &[u8]) -> Vec<u8> {
    let mut out = format!("HTTP/1.1 {status}\r\nconnection: close\r\n");
    if !headers.iter().any(|(k, _)| k.eq_ignore_ascii_case("content-length")) {
        out.push_str(&format!("content-length: {}\r\n", body.len()));
    }
    for (k, v) in headers {
        out.push_str(&format!("{k}: {v}\r\n"));
    }
    out.push_str("\r\n");
    let mut v = out.into_bytes();
    v.extend_from_slice(body);
    v
}

pub fn ok_json(v: serde_json::Value) -> Reply {
    Reply::Raw(http("200 OK", &[("content-type", "application/json".into())], v.to_string().as_bytes()))
}

pub fn ok_zip(z: &[u8]) -> Reply {
    Reply::Raw(http("200 OK", &[("content-type", "application/zip".into())], z))
}

pub type Routes = Arc<Mutex<HashMap<String, Reply>>>;
pub type Seen = Arc<Mutex<Vec<String>>>;

/// Serve `routes` (path and query) on 127.0.0.1, recording every request target.
pub async fn fake_upstream(routes: Routes) -> (String, Seen) {
    let l = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = l.local_addr().unwrap();
    let seen: Seen = Arc::default();
    let log = seen.clone();
    tokio::spawn(async move {
        while let Ok((mut s, _)) = l.accept().await {
            let (routes, log) = (routes.clone(), log.clone());
            tokio::spawn(async move {
                let mut buf = Vec::new();
                let mut chunk = [0u8; 4096];
                while !buf.windows(4).any(|w| w == b"\r\n\r\n") {
                    match s.read(&mut chunk).await {
                        Ok(0) | Err(_) => return,
                        Ok(n) => buf.extend_from_slice(&chunk[..n]),
                    }
                }
                let head = String::from_utf8_lossy(&buf).into_owned();
                let target = head.split_whitespace().nth(1).unwrap_or("/").to_string();
                log.lock().unwrap().push(target.clone());
                let reply = {
                    let mut r = routes.lock().unwrap();
                    match r.get_mut(&target) {
                        Some(Reply::Seq(v)) if v.len() > 1 => Some(v.remove(0)),
                        Some(Reply::Seq(v)) => v.first().cloned(),
                        other => other.cloned(),
                    }
                };
                match reply {
                    Some(Reply::Raw(b)) => {
                        let _ = s.write_all(&b).await;
                    }
                    Some(Reply::Stall(d, b)) => {
                        tokio::time::sleep(d).await;
                        let _ = s.write_all(&b).await;
                    }
                    Some(Reply::Trickle(every, body)) => {
                        let head = format!("HTTP/1.1 200 OK\r\ncontent-length: {}\r\n\r\n", body.len());
                        let _ = s.write_all(head.as_bytes()).await;
                        for b in body {
                            if s.write_all(&[b]).await.is_err() {
                                return;
                            }
                            tokio::time::sleep(every).await;
                        }
                    }
                    Some(Reply::Endless) => {
                        let _ = s.write_all(b"HTTP/1.1 200 OK\r\nconnection: close\r\n\r\n").await;
                        let block = vec![b'A'; 64 * 1024];
                        while s.write_all(&block).await.is_ok() {}
                    }
                    Some(Reply::Seq(_)) | None => {
                        let _ = s.write_all(&http("404 Not Found", &[], b"Skill not found")).await;
                    }
                }
                let _ = s.shutdown().await;
            });
        }
    });
    (format!("http://{addr}"), seen)
}
