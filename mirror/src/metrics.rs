//! Prometheus text-format metrics with lock-free counters.
//!
//! Per-route counters are allocated once for the fixed route table, so recording a request
//! is a hash lookup and a few relaxed atomic adds (the hot path budget is microseconds).

use std::collections::HashMap;
use std::fmt::Write;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

const BUCKETS: [f64; 10] = [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.02, 0.05, 0.1, 0.5, 2.0];
const CLASSES: [&str; 5] = ["1xx", "2xx", "3xx", "4xx", "5xx"];

#[derive(Default)]
pub struct RouteCounters {
    by_class: [AtomicU64; 5],
    buckets: [AtomicU64; BUCKETS.len()],
    sum_micros: AtomicU64,
    count: AtomicU64,
}

#[derive(Default)]
pub struct Metrics {
    routes: HashMap<&'static str, RouteCounters>,
    other: RouteCounters,
    pub downloads: AtomicU64,
    pub download_bytes: AtomicU64,
    pub refused_403: AtomicU64,
    pub refused_423: AtomicU64,
    pub snapshot_rebuilds: AtomicU64,
    pub snapshot_rebuild_failures: AtomicU64,
    pub webhook_delivered: AtomicU64,
    pub webhook_failed: AtomicU64,
    /// Scheduled runs (`crate::schedule`): sync ok / failed, rescan ok / failed.
    pub scheduled_sync_ok: AtomicU64,
    pub scheduled_sync_failed: AtomicU64,
    pub scheduled_rescan_ok: AtomicU64,
    pub scheduled_rescan_failed: AtomicU64,
    /// Unix seconds of the last finished scheduled run (0: none yet).
    pub scheduled_last_run: AtomicU64,
}

impl Metrics {
    pub fn new(routes: &[&'static str]) -> Metrics {
        Metrics { routes: routes.iter().map(|r| (*r, RouteCounters::default())).collect(), ..Default::default() }
    }

    pub fn record(&self, route: Option<&str>, status: u16, elapsed: Duration) {
        let c = route.and_then(|r| self.routes.get(r)).unwrap_or(&self.other);
        let class = ((status / 100) as usize).clamp(1, 5) - 1;
        c.by_class[class].fetch_add(1, Ordering::Relaxed);
        let secs = elapsed.as_secs_f64();
        for (i, b) in BUCKETS.iter().enumerate() {
            if secs <= *b {
                c.buckets[i].fetch_add(1, Ordering::Relaxed);
            }
        }
        c.sum_micros.fetch_add(elapsed.as_micros() as u64, Ordering::Relaxed);
        c.count.fetch_add(1, Ordering::Relaxed);
    }

    /// Render everything, plus the gauges passed in (name, help, value) from the snapshot.
    pub fn render(&self, gauges: &[(String, &str, f64)]) -> String {
        let mut out = String::with_capacity(8 * 1024);
        out.push_str("# HELP skillscan_mirror_http_requests_total HTTP requests by route and status class.\n");
        out.push_str("# TYPE skillscan_mirror_http_requests_total counter\n");
        let mut names: Vec<(&str, &RouteCounters)> = self.routes.iter().map(|(k, v)| (*k, v)).collect();
        names.sort_by_key(|(k, _)| *k);
        names.push(("unmatched", &self.other));
        for (route, c) in &names {
            for (i, cl) in CLASSES.iter().enumerate() {
                let n = c.by_class[i].load(Ordering::Relaxed);
                if n > 0 {
                    let _ =
                        writeln!(out, "skillscan_mirror_http_requests_total{{route=\"{route}\",status=\"{cl}\"}} {n}");
                }
            }
        }
        out.push_str("# HELP skillscan_mirror_http_request_duration_seconds Request latency by route.\n");
        out.push_str("# TYPE skillscan_mirror_http_request_duration_seconds histogram\n");
        for (route, c) in &names {
            let count = c.count.load(Ordering::Relaxed);
            if count == 0 {
                continue;
            }
            for (i, b) in BUCKETS.iter().enumerate() {
                let _ = writeln!(
                    out,
                    "skillscan_mirror_http_request_duration_seconds_bucket{{route=\"{route}\",le=\"{b}\"}} {}",
                    c.buckets[i].load(Ordering::Relaxed)
                );
            }
            let _ = writeln!(
                out,
                "skillscan_mirror_http_request_duration_seconds_bucket{{route=\"{route}\",le=\"+Inf\"}} {count}"
            );
            let _ = writeln!(
                out,
                "skillscan_mirror_http_request_duration_seconds_sum{{route=\"{route}\"}} {}",
                c.sum_micros.load(Ordering::Relaxed) as f64 / 1e6
            );
            let _ = writeln!(out, "skillscan_mirror_http_request_duration_seconds_count{{route=\"{route}\"}} {count}");
        }
        let counters: [(&str, &str, &AtomicU64); 12] = [
            ("skillscan_mirror_downloads_total", "Archives served.", &self.downloads),
            ("skillscan_mirror_download_bytes_total", "Archive bytes served.", &self.download_bytes),
            (
                "skillscan_mirror_refusals_forbidden_total",
                "Requests refused with 403 (rejected or revoked).",
                &self.refused_403,
            ),
            (
                "skillscan_mirror_refusals_pending_total",
                "Requests refused with 423 (pending review).",
                &self.refused_423,
            ),
            ("skillscan_mirror_snapshot_rebuilds_total", "Read snapshot rebuilds.", &self.snapshot_rebuilds),
            (
                "skillscan_mirror_snapshot_rebuild_failures_total",
                "Failed read snapshot rebuilds.",
                &self.snapshot_rebuild_failures,
            ),
            ("skillscan_mirror_webhook_delivered_total", "Webhook deliveries that succeeded.", &self.webhook_delivered),
            ("skillscan_mirror_webhook_failed_total", "Webhook delivery attempts that failed.", &self.webhook_failed),
            (
                "skillscan_mirror_scheduled_sync_total",
                "Scheduled syncs that finished without a failed item.",
                &self.scheduled_sync_ok,
            ),
            (
                "skillscan_mirror_scheduled_sync_failed_total",
                "Scheduled syncs with a failed item or that could not run.",
                &self.scheduled_sync_failed,
            ),
            (
                "skillscan_mirror_scheduled_rescan_total",
                "Rescans started by a rules version change.",
                &self.scheduled_rescan_ok,
            ),
            (
                "skillscan_mirror_scheduled_rescan_failed_total",
                "Rescans started by a rules version change that failed.",
                &self.scheduled_rescan_failed,
            ),
        ];
        for (name, help, v) in counters {
            let _ = writeln!(out, "# HELP {name} {help}\n# TYPE {name} counter\n{name} {}", v.load(Ordering::Relaxed));
        }
        let mut last = "";
        for (name, help, v) in gauges {
            let base = name.split('{').next().unwrap_or(name);
            if base != last {
                let _ = writeln!(out, "# HELP {base} {help}\n# TYPE {base} gauge");
                last = base;
            }
            let _ = writeln!(out, "{name} {v}");
        }
        out
    }
}
