//! Load benchmark client for skillscan-mirror (run by `bench/mirror-load.sh`).
//!
//! `mirror-load seed DIR` writes a skill whose zip is about 20 KB (incompressible payload).
//! `mirror-load run URL PATH [CONCURRENCY] [SECONDS] [MAX_REQUESTS]` hammers one route with
//! CONCURRENCY keep-alive connections for at most SECONDS or MAX_REQUESTS (both bounded, so
//! it always stops by itself) and prints req/s, p50, p99, errors and bytes. Loopback only.
//! URL may list several replicas, comma-separated: each connection sticks to one of them, in
//! turn (as a load balancer spreads clients).

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

fn seed(dir: &str) -> std::io::Result<()> {
    let d = std::path::Path::new(dir);
    std::fs::create_dir_all(d.join("assets"))?;
    std::fs::write(
        d.join("SKILL.md"),
        "---\nname: load-skill\ndescription: Load-test skill with a 20 KB payload.\n---\n# Load\nNothing to run.\n",
    )?;
    // xorshift: deterministic, incompressible bytes so the zip stays ~20 KB.
    let mut x: u64 = 0x9E37_79B9_7F4A_7C15;
    let data: Vec<u8> = (0..20_000)
        .map(|_| {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            x as u8
        })
        .collect();
    std::fs::write(d.join("assets/payload.bin"), data)
}

fn main() {
    let args: Vec<String> = std::env::args().collect();
    match args.get(1).map(String::as_str) {
        Some("seed") if args.len() == 3 => seed(&args[2]).expect("seed"),
        Some("run") if args.len() >= 4 => {
            let url = args[2].clone();
            let path = args[3].clone();
            let conc: usize = args.get(4).and_then(|s| s.parse().ok()).unwrap_or(64);
            let secs: u64 = args.get(5).and_then(|s| s.parse().ok()).unwrap_or(10);
            let max: u64 = args.get(6).and_then(|s| s.parse().ok()).unwrap_or(2_000_000);
            for u in url.split(',') {
                assert!(
                    u.starts_with("http://127.") || u.starts_with("http://localhost") || u.starts_with("http://[::1]"),
                    "loopback targets only"
                );
            }
            let rt = tokio::runtime::Builder::new_multi_thread().worker_threads(1).enable_all().build().unwrap();
            rt.block_on(run(url, path, conc, Duration::from_secs(secs), max));
        }
        _ => eprintln!("usage: mirror-load seed DIR | mirror-load run URL PATH [CONCURRENCY] [SECONDS] [MAX_REQUESTS]"),
    }
}

async fn run(url: String, path: String, conc: usize, dur: Duration, max: u64) {
    let client = reqwest::Client::builder().pool_max_idle_per_host(conc).build().unwrap();
    let targets: Vec<String> = url.split(',').map(|u| format!("{u}{path}")).collect();
    // Warm-up: open the connections.
    for i in 0..conc {
        let _ = client.get(&targets[i % targets.len()]).send().await.map(|r| r.bytes());
    }
    let issued = Arc::new(AtomicU64::new(0));
    let errors = Arc::new(AtomicU64::new(0));
    let bytes = Arc::new(AtomicU64::new(0));
    let start = Instant::now();
    let deadline = start + dur;
    let mut tasks = Vec::new();
    for i in 0..conc {
        let target = targets[i % targets.len()].clone();
        let (client, issued, errors, bytes) = (client.clone(), issued.clone(), errors.clone(), bytes.clone());
        tasks.push(tokio::spawn(async move {
            let mut lat = Vec::with_capacity(1 << 16);
            while Instant::now() < deadline && issued.fetch_add(1, Ordering::Relaxed) < max {
                let t = Instant::now();
                match client.get(&target).send().await {
                    Ok(r) if r.status().is_success() => match r.bytes().await {
                        Ok(b) => {
                            bytes.fetch_add(b.len() as u64, Ordering::Relaxed);
                        }
                        Err(_) => {
                            errors.fetch_add(1, Ordering::Relaxed);
                        }
                    },
                    _ => {
                        errors.fetch_add(1, Ordering::Relaxed);
                    }
                }
                lat.push(t.elapsed().as_micros() as u32);
            }
            lat
        }));
    }
    let mut all = Vec::new();
    for t in tasks {
        all.extend(t.await.unwrap());
    }
    let elapsed = start.elapsed().as_secs_f64();
    all.sort_unstable();
    let pct =
        |p: f64| all.get(((all.len() as f64 * p) as usize).min(all.len().saturating_sub(1))).copied().unwrap_or(0);
    println!(
        "{path}: {} requests in {elapsed:.2}s = {:.0} req/s, concurrency {conc}, p50 {:.2} ms, p99 {:.2} ms, max {:.2} ms, errors {}, {:.1} MB/s",
        all.len(),
        all.len() as f64 / elapsed,
        pct(0.50) as f64 / 1000.0,
        pct(0.99) as f64 / 1000.0,
        all.last().copied().unwrap_or(0) as f64 / 1000.0,
        errors.load(Ordering::Relaxed),
        bytes.load(Ordering::Relaxed) as f64 / elapsed / 1e6,
    );
}
