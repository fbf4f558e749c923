//! `skillscan-mirror` binary: wiring and output. The library does the work.

use std::path::Path;
use std::process::ExitCode;
use std::sync::Arc;
use std::sync::atomic::AtomicU64;
use std::time::Duration;

use anyhow::{Context, Result, bail};
use clap::Parser;
use skillscan_mirror::cli::{Cli, Command, Decision, TokenAction};
use skillscan_mirror::config::Config;
use skillscan_mirror::model::State;
use skillscan_mirror::policy::Policy;
use skillscan_mirror::service::{IngestOutcome, parse_key};
use skillscan_mirror::store::{FsBlobStore, SqliteStore};
use skillscan_mirror::{AppState, Mirror, adapters, auth, build_router, service, sync, webhooks};

fn main() -> ExitCode {
    let cli = Cli::parse();
    init_logging(&cli);
    let rt = match tokio::runtime::Builder::new_multi_thread().enable_all().build() {
        Ok(rt) => rt,
        Err(e) => {
            eprintln!("error: cannot start runtime: {e}");
            return ExitCode::from(2);
        }
    };
    match rt.block_on(run(cli)) {
        Ok(code) => code,
        Err(e) => {
            eprintln!("error: {e:#}");
            ExitCode::from(2)
        }
    }
}

fn init_logging(cli: &Cli) {
    let default = if matches!(cli.command, Command::Serve { .. }) { "info" } else { "warn" };
    let filter = tracing_subscriber::EnvFilter::try_from_env("SKILLSCAN_MIRROR_LOG")
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new(default));
    let b = tracing_subscriber::fmt().with_env_filter(filter).with_writer(std::io::stderr);
    if cli.global.log_json {
        b.json().init();
    } else {
        b.init();
    }
}

fn open(data: &Path, config: Option<&Path>) -> Result<Mirror> {
    std::fs::create_dir_all(data).with_context(|| format!("cannot create data directory {}", data.display()))?;
    let config = Config::load(config, data)?;
    // Fail closed: an unreadable or invalid policy stops everything.
    let policy = match config.policy_path(data) {
        Some(p) => Policy::load(&p).with_context(|| format!("policy {}", p.display()))?,
        None => Policy::default(),
    };
    let meta = SqliteStore::open(&data.join("mirror.db")).context("opening the metadata database")?;
    let blobs = FsBlobStore::open(data).context("opening the blob store")?;
    Ok(Mirror {
        data_dir: data.to_path_buf(),
        config,
        policy,
        meta: Arc::new(meta),
        blobs: Arc::new(blobs),
        vetter: adapters::default_vetter(),
        signer: adapters::open_signer(data),
        local_changes: Arc::new(AtomicU64::new(0)),
    })
}

async fn blocking<T: Send + 'static>(f: impl FnOnce() -> Result<T> + Send + 'static) -> Result<T> {
    tokio::task::spawn_blocking(f).await?
}

async fn flush_hooks(m: &Mirror) {
    if m.config.webhooks.is_empty() {
        return;
    }
    let (ok, failed) = webhooks::flush(m, Duration::from_secs(15)).await;
    if failed > 0 {
        eprintln!("webhooks: {ok} delivered, {failed} failed attempts (will be retried by `serve`)");
    }
}

async fn run(cli: Cli) -> Result<ExitCode> {
    let data = cli.global.data.clone();
    let cfg = cli.global.config.clone();
    let m = Arc::new(open(&data, cfg.as_deref())?);
    match cli.command {
        Command::Serve { listen } => serve(m, listen).await,
        Command::Sync { upstream, slugs, all } => {
            let report = sync::run(m.clone(), sync::SyncOptions { upstream, slugs, all }).await?;
            for (key, outcome) in &report.results {
                match outcome {
                    IngestOutcome::New { state, reason } => println!("{key}: {state} ({reason})"),
                    IngestOutcome::Unchanged { state } => println!("{key}: unchanged ({state})"),
                    IngestOutcome::IntegrityAlert { pinned, observed } => {
                        println!(
                            "{key}: INTEGRITY ALERT: upstream bytes changed (pinned {pinned}, observed {observed}); original kept"
                        )
                    }
                }
            }
            for f in &report.failures {
                println!(
                    "{}{}: FAILED: {}",
                    f.slug,
                    f.version.as_deref().map(|v| format!("@{v}")).unwrap_or_default(),
                    f.error
                );
            }
            flush_hooks(&m).await;
            Ok(if report.failures.is_empty() { ExitCode::SUCCESS } else { ExitCode::from(1) })
        }
        Command::Import { path, slug, version, owner } => {
            let m2 = m.clone();
            let outcome = blocking(move || {
                let input = Mirror::import_input(&path, &slug, &version, owner.as_deref())?;
                Ok(m2.ingest(input, "import")?)
            })
            .await?;
            println!("{}", serde_json::to_string(&outcome)?);
            flush_hooks(&m).await;
            Ok(ExitCode::SUCCESS)
        }
        Command::Approve(d) => decide(m, d, State::Approved).await,
        Command::Reject(d) => decide(m, d, State::Rejected).await,
        Command::Revoke(d) => decide(m, d, State::Revoked).await,
        Command::List { state, json } => {
            let st = state.map(|s| s.parse::<State>()).transpose().map_err(anyhow::Error::msg)?;
            for v in m.meta.versions(st)? {
                if json {
                    println!(
                        "{}",
                        serde_json::json!({"slug": v.slug, "version": v.version, "owner": v.owner, "state": v.state,
                            "verdict": v.verdict, "reason": v.state_reason, "archiveSha256": v.archive_sha256})
                    );
                } else {
                    println!(
                        "{:<40} {:<12} {:<11} {}",
                        v.key(),
                        v.state,
                        v.verdict.map(|x| x.to_string()).unwrap_or_else(|| "-".into()),
                        v.state_reason
                    );
                }
            }
            Ok(ExitCode::SUCCESS)
        }
        Command::Show { key, diff, json } => show(&m, &key, diff, json),
        Command::Rescan { all } => {
            let m2 = m.clone();
            let res = blocking(move || Ok(m2.rescan(all, "rescan")?)).await?;
            for (key, from, to, why) in &res {
                if from == to {
                    println!("{key}: {to} ({why})");
                } else {
                    println!("{key}: {from} -> {to} ({why})");
                }
            }
            flush_hooks(&m).await;
            Ok(ExitCode::SUCCESS)
        }
        Command::Audit { json, limit } => {
            for e in m.meta.audit(limit)? {
                if json {
                    println!("{}", serde_json::to_string(&e)?);
                } else {
                    println!(
                        "#{} {} {} {} {}@{} {} -> {} verdict={} rules={} : {}",
                        e.id,
                        httpdate::fmt_http_date(std::time::UNIX_EPOCH + Duration::from_millis(e.at.max(0) as u64)),
                        e.actor,
                        e.action,
                        e.slug,
                        e.version,
                        e.from_state.as_deref().unwrap_or("-"),
                        e.to_state.as_deref().unwrap_or("-"),
                        e.verdict.as_deref().unwrap_or("-"),
                        e.rules_version.as_deref().unwrap_or("-"),
                        e.reason
                    );
                }
            }
            Ok(ExitCode::SUCCESS)
        }
        Command::Alerts { json } => {
            for a in m.meta.alerts()? {
                if json {
                    println!("{}", serde_json::to_string(&a)?);
                } else {
                    println!("ALERT #{} {}@{} {}: {}", a.id, a.slug, a.version, a.kind, a.detail);
                }
            }
            for f in m.meta.sync_failures(100)? {
                if json {
                    println!("{}", serde_json::to_string(&f)?);
                } else {
                    println!("sync failure #{} {} {} {:?}: {}", f.id, f.upstream, f.slug, f.version, f.error);
                }
            }
            Ok(ExitCode::SUCCESS)
        }
        Command::Token { action } => {
            match action {
                TokenAction::Create { name, role } => {
                    let tok = auth::create_token(m.meta.as_ref(), &name, &role)?;
                    // Shown once; only its sha256 is stored.
                    println!("{tok}");
                }
                TokenAction::List => {
                    for t in m.meta.tokens()? {
                        println!("{:<24} {:<6} {}", t.name, t.role, if t.revoked { "revoked" } else { "active" });
                    }
                }
                TokenAction::Revoke { name } => {
                    if !m.meta.revoke_token(&name)? {
                        bail!("no active token named {name}");
                    }
                    println!("revoked {name}");
                }
            }
            Ok(ExitCode::SUCCESS)
        }
    }
}

async fn decide(m: Arc<Mirror>, d: Decision, to: State) -> Result<ExitCode> {
    let (slug, version) = parse_key(&d.key)?;
    let m2 = m.clone();
    let rec = blocking(move || Ok(m2.decide(&slug, &version, to, &d.reason, &d.by)?)).await?;
    println!("{}: {} ({})", rec.key(), rec.state, rec.state_reason);
    flush_hooks(&m).await;
    Ok(ExitCode::SUCCESS)
}

fn show(m: &Mirror, key: &str, diff: bool, json: bool) -> Result<ExitCode> {
    let (slug, version) = parse_key(key)?;
    let rec = m.get(&slug, &version)?;
    let review = if diff { Some(m.review(&slug, &version)?) } else { None };
    if json {
        let report: serde_json::Value =
            rec.report_json.as_deref().and_then(|r| serde_json::from_str(r).ok()).unwrap_or(serde_json::Value::Null);
        println!(
            "{}",
            serde_json::to_string_pretty(&serde_json::json!({"version": rec, "report": report, "review": review}))?
        );
        return Ok(ExitCode::SUCCESS);
    }
    println!("{}  owner={}  state={}", rec.key(), rec.owner.as_deref().unwrap_or("-"), rec.state);
    println!("reason:   {}", rec.state_reason);
    println!(
        "verdict:  {} (rules {})",
        rec.verdict.map(|v| v.to_string()).unwrap_or_else(|| "-".into()),
        rec.rules_version.as_deref().unwrap_or("-")
    );
    println!("sha256:   {}", rec.archive_sha256);
    println!("tree:     {}", rec.tree_digest);
    println!("source:   {}", rec.source);
    println!("signed:   {}", if rec.signature.is_some() { "yes" } else { "no" });
    if !rec.reason_codes.is_empty() {
        println!("findings: {}", rec.reason_codes.join(", "));
    }
    if let Some(c) = &rec.capabilities {
        println!("capabilities:");
        for l in service::caps_lines(c) {
            println!("  {l}");
        }
    }
    println!("files:");
    for f in &rec.files {
        println!("  {:>8}  {}  {}", f.size, f.sha256, f.path);
    }
    // Human output lists the findings; `--json` carries the full versioned scan report.
    if let Some(report) = rec.report_json.as_deref().and_then(|r| serde_json::from_str::<serde_json::Value>(r).ok()) {
        let findings: Vec<&serde_json::Value> = report["skills"]
            .as_array()
            .map(|skills| skills.iter().flat_map(|s| s["findings"].as_array().into_iter().flatten()).collect())
            .unwrap_or_default();
        println!("scan findings ({}):", findings.len());
        for f in findings {
            let suppressed = if f.get("suppressed").is_some_and(|x| !x.is_null()) { " (suppressed)" } else { "" };
            println!(
                "  {:<8} {:<28} {}:{}  {}{suppressed}",
                f["severity"].as_str().unwrap_or("?"),
                f["rule_id"].as_str().unwrap_or("?"),
                f["file"].as_str().unwrap_or("?"),
                f["line"].as_u64().unwrap_or(0),
                f["message"].as_str().unwrap_or("")
            );
        }
    }
    if let Some(rv) = review {
        println!();
        match &rv.base_version {
            None => println!("update review: no earlier approved version of {slug}"),
            Some(b) => {
                println!("update review against approved {slug}@{b}:");
                for p in &rv.files_added {
                    println!("  + {p}");
                }
                for p in &rv.files_removed {
                    println!("  - {p}");
                }
                for p in &rv.files_changed {
                    println!("  ~ {p}");
                }
                let lines = rv.capability_delta.lines();
                if lines.is_empty() {
                    println!("capability delta: none (no new capability)");
                } else {
                    println!("capability delta:");
                    for l in lines {
                        println!("  {l}");
                    }
                }
                for d in rv.text_diffs.values() {
                    print!("{d}");
                }
            }
        }
    }
    Ok(ExitCode::SUCCESS)
}

async fn serve(m: Arc<Mirror>, listen: Option<String>) -> Result<ExitCode> {
    let addr = listen.unwrap_or_else(|| m.config.listen.clone());
    let m2 = m.clone();
    let state = blocking(move || Ok(AppState::new(m2)?)).await?;
    let listener = tokio::net::TcpListener::bind(&addr).await.with_context(|| format!("cannot listen on {addr}"))?;
    let local = listener.local_addr()?;
    let snap = state.snapshot.load();
    tracing::info!(
        "serving {} approved skills on http://{local} (signing: {})",
        snap.skills.len(),
        if snap.pubkey.is_empty() { "unavailable" } else { "minisign" }
    );
    // Machine-readable line for scripts and tests that pass port 0.
    println!("skillscan-mirror listening on http://{local}");
    let (tx, rx) = tokio::sync::watch::channel(false);
    let bg = tokio::spawn(skillscan_mirror::app::background(state.clone(), rx.clone()));
    let app = build_router(state);
    let stop = tx.clone();
    let limits = skillscan_mirror::server::ConnectionLimits::of(&m.config);
    let serve = skillscan_mirror::server::serve(listener, app, limits, async move {
        shutdown_signal().await;
        tracing::info!("shutting down: finishing in-flight requests (at most 10 s)");
        let _ = stop.send(true);
    });
    // Graceful, but bounded: a client holding a connection open cannot keep the process alive.
    let mut drained = rx.clone();
    tokio::select! {
        r = serve => r?,
        _ = async {
            let _ = drained.wait_for(|v| *v).await;
            tokio::time::sleep(Duration::from_secs(10)).await;
        } => tracing::warn!("drain timeout: closing remaining connections"),
    }
    let _ = tx.send(true);
    let _ = bg.await;
    Ok(ExitCode::SUCCESS)
}

async fn shutdown_signal() {
    let ctrl_c = tokio::signal::ctrl_c();
    #[cfg(unix)]
    {
        let mut term = match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(s) => s,
            Err(_) => {
                let _ = ctrl_c.await;
                return;
            }
        };
        tokio::select! {
            _ = ctrl_c => {}
            _ = term.recv() => {}
        }
    }
    #[cfg(not(unix))]
    {
        let _ = ctrl_c.await;
    }
}
