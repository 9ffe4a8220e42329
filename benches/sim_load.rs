//! Load benchmark of the provider simulator (issue 3: ≥ 20,000 requests/s on loopback with
//! keep-alive on 2 cores). Drives N keep-alive HTTP/1.1 connections doing RohoPay
//! disbursements with unique idempotency keys, then prints requests/s and peak RSS and checks
//! the ledger holds exactly one payout per request.
//!
//! `cargo bench --bench sim_load` runs the simulator in-process (server and load generator
//! share the machine's cores). Environment: `SIM_LOAD_REQUESTS` (default 200000),
//! `SIM_LOAD_CONNECTIONS` (default 64), `SIM_LOAD_ADDR=127.0.0.1:PORT` to load an already
//! running `payrun sim` instead (then peak RSS is the load generator's only).

use std::{
    net::SocketAddr,
    sync::{
        Arc,
        atomic::{AtomicU64, Ordering},
    },
    time::Instant,
};

use axum::body::Body;
use hyper::{Request, client::conn::http1};
use hyper_util::rt::TokioIo;
use payrun::sim::{SimConfig, spawn};
use tokio::net::TcpStream;

const BODY: &str = r#"{"phone":"256700123456","amount":25000,"currency":"UGX","description":"Agent commission payout"}"#;

fn env_u64(name: &str, default: u64) -> u64 {
    std::env::var(name)
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

/// Peak resident set size of this process, in MiB (VmHWM).
fn peak_rss_mib() -> Option<f64> {
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    let line = status.lines().find(|l| l.starts_with("VmHWM:"))?;
    let kib: f64 = line.split_whitespace().nth(1)?.parse().ok()?;
    Some(kib / 1024.0)
}

/// One keep-alive connection sending requests until `total` have been taken.
async fn connection(
    addr: SocketAddr,
    next: Arc<AtomicU64>,
    total: u64,
    run: u64,
) -> Result<u64, String> {
    let stream = TcpStream::connect(addr).await.map_err(|e| e.to_string())?;
    stream.set_nodelay(true).map_err(|e| e.to_string())?;
    let (mut sender, conn) = http1::handshake::<_, Body>(TokioIo::new(stream))
        .await
        .map_err(|e| e.to_string())?;
    tokio::spawn(conn);
    let mut done = 0;
    loop {
        let i = next.fetch_add(1, Ordering::Relaxed);
        if i >= total {
            return Ok(done);
        }
        let request = Request::post("/api/v1/disburse")
            .header("host", addr.to_string())
            .header("authorization", "Bearer live_bench")
            .header("content-type", "application/json")
            .header("idempotency-key", format!("bench-{run}-{i}"))
            .body(Body::from(BODY))
            .map_err(|e| e.to_string())?;
        sender.ready().await.map_err(|e| e.to_string())?;
        let response = sender
            .send_request(request)
            .await
            .map_err(|e| e.to_string())?;
        let status = response.status();
        axum::body::to_bytes(Body::new(response.into_body()), 64 * 1024)
            .await
            .map_err(|e| e.to_string())?;
        if status != 200 {
            return Err(format!("request {i}: HTTP {status}"));
        }
        done += 1;
    }
}

async fn load(addr: SocketAddr, total: u64, connections: u64, run: u64) -> (u64, f64) {
    let next = Arc::new(AtomicU64::new(0));
    let started = Instant::now();
    let tasks: Vec<_> = (0..connections)
        .map(|_| tokio::spawn(connection(addr, Arc::clone(&next), total, run)))
        .collect();
    let mut ok = 0;
    for task in tasks {
        match task.await {
            Ok(Ok(n)) => ok += n,
            Ok(Err(err)) => eprintln!("connection failed: {err}"),
            Err(err) => eprintln!("connection task failed: {err}"),
        }
    }
    (ok, started.elapsed().as_secs_f64())
}

fn main() {
    let total = env_u64("SIM_LOAD_REQUESTS", 200_000);
    let connections = env_u64("SIM_LOAD_CONNECTIONS", 64);
    let external: Option<SocketAddr> = std::env::var("SIM_LOAD_ADDR")
        .ok()
        .and_then(|a| a.parse().ok());
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .expect("tokio runtime");
    runtime.block_on(async {
        let sim = match external {
            Some(_) => None,
            None => Some(spawn(SimConfig::default()).await.expect("simulator starts")),
        };
        let addr = external.unwrap_or_else(|| sim.as_ref().map(|s| s.addr()).expect("addr"));
        let run = std::process::id().into();
        // Warm up: connections, allocator, maps.
        load(addr, 5_000, connections, run).await;
        let (ok, secs) = load(addr, total, connections, run + 1).await;
        let rss = peak_rss_mib();
        println!(
            "sim_load: {ok} disbursements over {connections} keep-alive connections in {secs:.2} s \
             = {:.0} requests/s ({})",
            ok as f64 / secs,
            if sim.is_some() {
                "in-process"
            } else {
                "external simulator"
            }
        );
        match rss {
            Some(mib) => println!("sim_load: peak RSS {mib:.1} MiB (VmHWM, this process)"),
            None => println!("sim_load: peak RSS unavailable"),
        }
        if let Some(sim) = sim {
            let ledger: Vec<serde_json::Value> = reqwest::get(sim.ledger_url())
                .await
                .expect("ledger")
                .json()
                .await
                .expect("ledger JSON");
            let expected = ok + 5_000;
            assert_eq!(
                ledger.len() as u64,
                expected,
                "one ledger entry per disbursement"
            );
            println!(
                "sim_load: ledger holds {} payouts, one per key",
                ledger.len()
            );
            sim.shutdown().await;
        }
    });
}
