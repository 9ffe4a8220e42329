//! `payrun sim`: run the provider simulator in the foreground. Prints
//! `listening on http://HOST:PORT` as the first stdout line (scripts read it when they pass
//! `--listen 127.0.0.1:0`), then the base URLs and active faults, and serves until Ctrl-C or
//! SIGTERM, after which it drains open requests (at most 5 s) and exits 0; a second Ctrl-C
//! quits at once with 130.

use std::io::Write;

use anyhow::Context;
use tokio::signal::unix::{SignalKind, signal};

use crate::{
    exit::Exit,
    sim::{self, SimConfig},
};

pub fn run(args: super::SimArgs) -> anyhow::Result<Exit> {
    let config = config(&args)?;
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .context("cannot start the async runtime")?;
    runtime.block_on(serve(args.listen, config))?;
    Ok(Exit::Ok)
}

fn config(args: &super::SimArgs) -> anyhow::Result<SimConfig> {
    let balances = match &args.balance {
        Some(spec) => SimConfig::parse_balances(spec).map_err(anyhow::Error::msg)?,
        None => Default::default(),
    };
    Ok(SimConfig {
        seed: args.seed,
        error_rate: args.error_rate,
        drop_rate: args.drop_rate,
        slow_rate: args.slow_rate,
        slow_ms: args.slow_ms,
        rate_limit: args.rate_limit,
        throttle_after: args.throttle_after,
        throttle_count: args.throttle_count,
        retry_after: args.retry_after.clone(),
        fail_rate: args.fail_rate,
        failover_rate: args.failover_rate,
        settle_ms: args.settle_ms,
        balances,
        webhook_secret: args.webhook_secret.clone().filter(|s| !s.is_empty()),
        lie_rate: args.lie_rate,
        lie_modes: args.lie_modes.0.clone(),
        ..SimConfig::default()
    })
}

async fn serve(listen: std::net::SocketAddr, config: SimConfig) -> anyhow::Result<()> {
    // Install the handlers before announcing the address, so an early Ctrl-C is not fatal.
    let mut interrupt = signal(SignalKind::interrupt()).context("cannot handle Ctrl-C")?;
    let mut terminate = signal(SignalKind::terminate()).context("cannot handle SIGTERM")?;
    let listener = tokio::net::TcpListener::bind(listen)
        .await
        .with_context(|| format!("cannot listen on {listen}"))?;
    let addr = listener
        .local_addr()
        .context("cannot read the bound address")?;
    {
        let mut out = super::out::Stdout;
        writeln!(out, "listening on http://{addr}")?;
        for line in summary(addr, &config) {
            writeln!(out, "{line}")?;
        }
        out.flush()?;
    }
    let shutdown = async move {
        tokio::select! {
            _ = interrupt.recv() => {}
            _ = terminate.recv() => {}
        }
        eprintln!("stopping: finishing open requests (Ctrl-C again to quit at once)");
        tokio::spawn(async move {
            if interrupt.recv().await.is_some() {
                eprintln!("interrupted again: quitting without waiting");
                std::process::exit(i32::from(Exit::Interrupted.code()));
            }
        });
    };
    sim::run(listener, config, shutdown).await?;
    eprintln!("simulator stopped");
    Ok(())
}

/// The lines after the first: where each API lives and what misbehaviour is switched on.
fn summary(addr: std::net::SocketAddr, c: &SimConfig) -> Vec<String> {
    let mut lines = vec![
        format!(
            "  rohopay  base URL: http://{addr}   (POST /api/v1/disburse, GET /api/v1/wallet/balance)"
        ),
        format!(
            "  rumbapay base URL: http://{addr}/v1 (POST /v1/payout, GET /v1/transaction/{{request_id}})"
        ),
        format!("  ledger:            http://{addr}/_sim/ledger"),
    ];
    let mut faults = Vec::new();
    for (name, p) in [
        ("error-rate", c.error_rate),
        ("drop-rate", c.drop_rate),
        ("fail-rate", c.fail_rate),
        ("failover-rate", c.failover_rate),
    ] {
        if p > 0.0 {
            faults.push(format!("{name} {p}"));
        }
    }
    if c.slow_rate > 0.0 {
        faults.push(format!("slow-rate {} ({} ms)", c.slow_rate, c.slow_ms));
    }
    if let Some(n) = c.rate_limit {
        faults.push(format!("rate-limit {n}/s"));
    }
    if let Some(n) = c.throttle_after {
        faults.push(match c.throttle_count {
            Some(m) => format!("429 to payout requests {} to {}", n + 1, n + m),
            None => format!("429 to every payout request after the first {n}"),
        });
    }
    if let Some(value) = &c.retry_after {
        faults.push(format!("Retry-After: {value}"));
    }
    if c.lie_rate > 0.0 {
        let modes: Vec<_> = c.lie_modes.iter().map(|m| m.name()).collect();
        let modes = if modes.is_empty() {
            "all".to_owned()
        } else {
            modes.join(",")
        };
        faults.push(format!(
            "lie-rate {} ({modes}; TESTING ONLY: answers contradict the ledger)",
            c.lie_rate
        ));
    }
    lines.push(if faults.is_empty() {
        "  faults: none".to_owned()
    } else {
        format!("  faults: {} (seed {})", faults.join(", "), c.seed)
    });
    lines.push(format!("  settle: {} ms after the answer", c.settle_ms));
    let balances = if c.balances.is_empty() {
        "10^15 minor units in every currency".to_owned()
    } else {
        let listed: Vec<_> = c.balances.iter().map(|(k, v)| format!("{k} {v}")).collect();
        format!("{} (minor units), others 10^15", listed.join(", "))
    };
    lines.push(format!("  balances: {balances}"));
    lines.push(format!(
        "  callbacks: {}",
        if c.webhook_secret.is_some() {
            "signed (X-Signature)"
        } else {
            "unsigned"
        }
    ));
    lines.push("  press Ctrl-C to stop".to_owned());
    lines
}
