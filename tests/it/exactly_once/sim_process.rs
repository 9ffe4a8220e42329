//! The simulator of an operator sequence as its own process (`payrun sim`), so any of its
//! command-line switches — the fault rates today, the lying modes once they exist — can be
//! turned on per seed by adding arguments. Its ledger is read over HTTP like a provider's
//! statement.

use std::process::Stdio;
use std::time::Duration;

use serde_json::Value;
use tokio::io::{AsyncBufReadExt, AsyncReadExt, BufReader};
use tokio::process::{Child, Command};

use crate::support::sim::client;

/// A running `payrun sim`, killed when dropped.
pub struct SimProcess {
    _child: Child,
    pub base: String,
}

impl SimProcess {
    /// Start `payrun sim --listen 127.0.0.1:0 ARGS` and wait for its address line.
    pub async fn start(args: &[String]) -> SimProcess {
        let mut child = Command::new(env!("CARGO_BIN_EXE_payrun"))
            .arg("sim")
            .args(["--listen", "127.0.0.1:0"])
            .args(args)
            .env_remove("RUST_LOG")
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .kill_on_drop(true)
            .spawn()
            .expect("payrun sim starts");
        let stdout = child.stdout.take().expect("piped stdout");
        let mut lines = BufReader::new(stdout);
        let mut first = String::new();
        tokio::time::timeout(Duration::from_secs(20), lines.read_line(&mut first))
            .await
            .expect("payrun sim prints its address within 20 s")
            .expect("read payrun sim's stdout");
        let base = first
            .trim()
            .strip_prefix("listening on ")
            .unwrap_or_else(|| {
                panic!("unexpected first line from payrun sim: {first:?} ({args:?})")
            })
            .to_string();
        // Keep reading so the simulator never blocks on a full pipe.
        tokio::spawn(async move {
            let mut sink = Vec::new();
            let _ = lines.read_to_end(&mut sink).await;
        });
        SimProcess {
            _child: child,
            base,
        }
    }

    pub fn rohopay_url(&self) -> String {
        self.base.clone()
    }

    pub fn rumbapay_url(&self) -> String {
        format!("{}/v1", self.base)
    }

    /// `GET /_sim/ledger`: every executed payout.
    pub async fn ledger(&self) -> Vec<Value> {
        for _ in 0..50 {
            let got = client()
                .get(format!("{}/_sim/ledger", self.base))
                .send()
                .await;
            if let Ok(resp) = got
                && let Ok(v) = resp.json::<Vec<Value>>().await
            {
                return v;
            }
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
        panic!("the simulator's ledger did not answer");
    }

    /// The ledger once it stops growing: a killed payrun's last request may still be executing
    /// inside the simulator. Waits for two equal reads (at most 3 s, then fails).
    pub async fn settled_ledger(&self) -> Vec<Value> {
        let deadline = tokio::time::Instant::now() + Duration::from_secs(3);
        let mut last = self.ledger().await;
        loop {
            tokio::time::sleep(Duration::from_millis(40)).await;
            let now = self.ledger().await;
            if now.len() == last.len() {
                return now;
            }
            assert!(
                tokio::time::Instant::now() < deadline,
                "the simulator's ledger kept growing with no payrun running"
            );
            last = now;
        }
    }
}
