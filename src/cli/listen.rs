//! `payrun listen --journal DB [--addr 127.0.0.1:8088]`: receive the providers' signed
//! status webhooks and record them in an existing journal, next to `payrun run
//! --callback-url`. Prints `listening on http://HOST:PORT` as the first stdout line (scripts
//! read it when they pass port 0), then which endpoints are on; serves until Ctrl-C or
//! SIGTERM, lets open deliveries finish, exits 0. Refuses to start (exit 2) without any
//! webhook secret, because payrun never accepts an unsigned callback.

use std::io::Write;
use std::time::Duration;

use anyhow::{Context, bail};
use tokio::signal::unix::{SignalKind, signal};

use super::ListenArgs;
use crate::domain::ProviderKind;
use crate::exit::Exit;
use crate::journal::{Journal, JournalActor};
use crate::webhook::{self, Limits, Secrets, env_var};

/// How long to wait for the journal thread to finish its last writes after serving stops.
const JOURNAL_CLOSE_WAIT: Duration = Duration::from_secs(2);

const PROVIDERS: [ProviderKind; 2] = [ProviderKind::Rohopay, ProviderKind::Rumbapay];

pub fn run(args: ListenArgs, settings: &super::config::Settings) -> anyhow::Result<Exit> {
    let secrets = settings.webhook_secrets()?;
    if secrets.is_empty() {
        bail!(
            "no webhook secret configured: set {} and/or {} to the secret your provider signs \
             callbacks with, or webhook_secret_file in a profile of the config file (payrun never \
             accepts unsigned callbacks)",
            env_var(ProviderKind::Rohopay),
            env_var(ProviderKind::Rumbapay)
        );
    }
    let journal = Journal::open_existing(&args.journal.journal)?;
    let defaults = Limits::default();
    let limits = Limits {
        header_timeout: args.header_timeout.unwrap_or(defaults.header_timeout),
        body_timeout: args.body_timeout.unwrap_or(defaults.body_timeout),
        max_connections: args.max_connections.unwrap_or(defaults.max_connections),
    };
    super::notice_tightened(&journal);
    super::runtime()?.block_on(serve(args.addr, journal, secrets, limits))
}

async fn serve(
    addr: std::net::SocketAddr,
    journal: Journal,
    secrets: Secrets,
    limits: Limits,
) -> anyhow::Result<Exit> {
    // Install the handlers before announcing the address, so an early Ctrl-C is not fatal.
    let mut interrupt = signal(SignalKind::interrupt()).context("cannot handle Ctrl-C")?;
    let mut terminate = signal(SignalKind::terminate()).context("cannot handle SIGTERM")?;
    let listener = tokio::net::TcpListener::bind(addr)
        .await
        .with_context(|| format!("cannot listen on {addr}"))?;
    let local = listener
        .local_addr()
        .context("cannot read the bound address")?;
    let journal_path = journal.path().display().to_string();
    let (actor, thread) =
        JournalActor::spawn(journal).context("cannot start the journal thread")?;
    {
        let mut out = super::out::Stdout;
        writeln!(out, "listening on http://{local}")?;
        for line in summary(local, &secrets, &journal_path, &limits) {
            writeln!(out, "{line}")?;
        }
        out.flush()?;
    }
    for provider in PROVIDERS {
        if secrets.get(provider).is_none() {
            eprintln!(
                "warning: {} is not set: {provider} callbacks are answered 503 and not recorded",
                env_var(provider)
            );
        }
    }
    let shutdown = async move {
        tokio::select! {
            _ = interrupt.recv() => {}
            _ = terminate.recv() => {}
        }
        eprintln!(
            "stopping: finishing open deliveries (at most {} s)",
            webhook::DRAIN_TIMEOUT.as_secs()
        );
    };
    webhook::run(listener, actor, secrets, limits, shutdown)
        .await
        .context("the webhook server failed")?;
    // Every answered delivery is already durable; this only lets a last write finish.
    let closing = tokio::task::spawn_blocking(move || thread.join());
    let _ = tokio::time::timeout(JOURNAL_CLOSE_WAIT, closing).await;
    eprintln!("listener stopped");
    Ok(Exit::Ok)
}

/// The lines after the first: each endpoint and whether it is on, the journal, how to stop.
fn summary(
    addr: std::net::SocketAddr,
    secrets: &Secrets,
    journal: &str,
    limits: &Limits,
) -> Vec<String> {
    let mut lines = Vec::new();
    for provider in PROVIDERS {
        let var = env_var(provider);
        let url = format!("http://{addr}{}", webhook::path(provider));
        lines.push(if secrets.get(provider).is_some() {
            format!(
                "  {:<8} webhooks: POST {url}  (verified with {var})",
                provider.name()
            )
        } else {
            format!(
                "  {:<8} webhooks: off, {var} is not set (POST {url} answers 503)",
                provider.name()
            )
        });
    }
    lines.push(format!("  health:            GET  http://{addr}/health"));
    lines.push(format!("  journal: {journal}"));
    lines.push(format!(
        "  limits:  {} connections; request head within {} ms, body within {} ms",
        limits.max_connections,
        limits.header_timeout.as_millis(),
        limits.body_timeout.as_millis()
    ));
    lines.push("  press Ctrl-C to stop".to_owned());
    lines
}
