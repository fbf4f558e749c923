//! `serve`: the read API, proofs and admin API until SIGINT/SIGTERM.

use std::sync::Arc;
use std::time::Duration;

use anyhow::{Context, Result};
use clap::Args;
use skillscan_mirror::{AppState, Mirror, app, build_router, schedule, server};

use crate::exit::Exit;
use crate::shared::{blocking, resume_stuck};

#[derive(Debug, Args)]
pub struct ServeArgs {
    /// Address to listen on (overrides the config file and SKILLSCAN_MIRROR_LISTEN).
    #[arg(long)]
    listen: Option<String>,
}

pub async fn run(mut m: Arc<Mirror>, args: ServeArgs) -> Result<Exit> {
    let addr = args.listen.unwrap_or_else(|| m.config.listen.clone());
    let listener = tokio::net::TcpListener::bind(&addr).await.with_context(|| format!("cannot listen on {addr}"))?;
    let local = listener.local_addr()?;
    // Without `public_url`, discovery answers with the address actually bound (port 0 resolved).
    Arc::get_mut(&mut m).context("the mirror is shared before serving")?.config.listen = local.to_string();
    // Load the rules now (they load on first use), not on the first `/healthz`.
    let m2 = m.clone();
    blocking(move || Ok(m2.vetter.rules_version())).await?;
    for line in resume_stuck(&m, "serve").await? {
        tracing::info!("resumed {line}");
    }
    let m2 = m.clone();
    let state = blocking(move || Ok(AppState::new(m2)?)).await?;
    let snap = state.snapshot.load();
    tracing::info!(
        "serving {} approved skills on http://{local} (signing: {})",
        snap.skills.len(),
        if snap.pubkey.is_empty() { "unavailable" } else { "minisign" }
    );
    for w in m.config.webhooks.iter().filter(|w| w.secret.is_none()) {
        // Scheme and host only: the URL may be the secret.
        let target = skillscan_mirror::redact::origin(&w.url);
        tracing::warn!(%target, "webhook has no secret: its deliveries are not signed");
    }
    // Machine-readable line for scripts and tests that pass port 0.
    println!("skillscan-mirror listening on http://{local}");
    let (tx, rx) = tokio::sync::watch::channel(false);
    let bg = tokio::spawn(app::background(state.clone(), rx.clone()));
    let plan = schedule::Plan::of(&m.config);
    if let Some(every) = plan.sync_every {
        tracing::info!("scheduled sync every {}s", every.as_secs());
    }
    let jobs = tokio::spawn(schedule::run(state.clone(), plan, rx.clone()));
    let app = build_router(state);
    let stop = tx.clone();
    let limits = server::ConnectionLimits::of(&m.config);
    let serve = server::serve(listener, app, limits, async move {
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
    let _ = jobs.await;
    Ok(Exit::Success)
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
