//! The webhook receiver under test: started in-process on port 0 over a real journal file,
//! or as the `payrun listen` binary; callbacks signed with this file's own HMAC (never the
//! simulator's signer); and read-only peeks into the journal to prove what changed.

use std::path::Path;
use std::process::Stdio;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use hmac::{Hmac, KeyInit, Mac};
use payrun::journal::{Journal, JournalActor};
use payrun::webhook::{LogSink, Secrets};
use serde_json::{Value, json};
use sha2::Sha256;
use tokio::io::{AsyncBufReadExt, BufReader};
use tokio::sync::oneshot;
use tokio::task::JoinHandle;

use super::pay::{Fixture, Payee, batch_id, code, text};
use super::sim::SimConfig;

/// The secret the simulator signs with and the receiver verifies with.
pub const SECRET: &str = "whsec_listen_test_3f9a";

const PATIENCE: Duration = Duration::from_secs(20);

/// `hex(HMAC-SHA256(secret, body))`, lower case.
pub fn sign(secret: &str, body: &[u8]) -> String {
    let mut mac = Hmac::<Sha256>::new_from_slice(secret.as_bytes()).unwrap();
    mac.update(body);
    hex::encode(mac.finalize().into_bytes())
}

/// A receiver running in this test process.
pub struct InProcess {
    pub base: String,
    lines: Arc<Mutex<Vec<String>>>,
    stop: Option<oneshot::Sender<()>>,
    task: JoinHandle<std::io::Result<()>>,
}

impl InProcess {
    /// Serve over the existing journal at `journal` with both secrets set to [`SECRET`].
    pub async fn start(journal: &Path) -> InProcess {
        InProcess::with_secrets(journal, Secrets::new(Some(SECRET), Some(SECRET))).await
    }

    pub async fn with_secrets(journal: &Path, secrets: Secrets) -> InProcess {
        let journal = Journal::open_existing(journal).unwrap();
        let (actor, _thread) = JournalActor::spawn(journal).unwrap();
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let base = format!("http://{}", listener.local_addr().unwrap());
        let lines = Arc::new(Mutex::new(Vec::new()));
        let sink = {
            let lines = lines.clone();
            LogSink::new(move |line| lines.lock().unwrap().push(line.to_owned()))
        };
        let (stop, stopped) = oneshot::channel::<()>();
        let shutdown = async move {
            let _ = stopped.await;
        };
        let task = tokio::spawn(payrun::webhook::serve(
            listener, actor, secrets, sink, shutdown,
        ));
        InProcess {
            base,
            lines,
            stop: Some(stop),
            task,
        }
    }

    /// `http://127.0.0.1:PORT/webhooks/<provider>`.
    pub fn url(&self, provider: &str) -> String {
        format!("{}/webhooks/{provider}", self.base)
    }

    /// The delivery lines logged so far.
    pub fn lines(&self) -> Vec<String> {
        self.lines.lock().unwrap().clone()
    }

    /// Shut down and wait for the server to return.
    pub async fn stop(mut self) {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
        tokio::time::timeout(PATIENCE, &mut self.task)
            .await
            .expect("the receiver stops")
            .unwrap()
            .unwrap();
    }
}

/// POST `body` with an optional `X-Signature`; returns the status and the answer's text.
pub async fn post(url: &str, body: impl Into<Vec<u8>>, signature: Option<&str>) -> (u16, String) {
    let mut request = super::sim::client()
        .post(url)
        .header("Content-Type", "application/json")
        .body(body.into());
    if let Some(signature) = signature {
        request = request.header("X-Signature", signature);
    }
    let response = request.send().await.unwrap();
    let status = response.status().as_u16();
    (status, response.text().await.unwrap())
}

/// POST `body` signed with [`SECRET`].
pub async fn deliver(url: &str, body: &[u8]) -> (u16, String) {
    post(url, body.to_vec(), Some(&sign(SECRET, body))).await
}

pub use super::journal::{JournalRow, peek, rows};

/// The state of the row with id `id`.
pub fn state_of(journal: &Path, id: i64) -> String {
    peek(journal)
        .query_row("SELECT state FROM rows WHERE id = ?1", [id], |r| r.get(0))
        .unwrap()
}

/// `(row id, outcome)` of every `webhook` event, in order.
pub fn webhook_events(journal: &Path) -> Vec<(i64, String)> {
    let conn = peek(journal);
    let mut stmt = conn
        .prepare("SELECT row_id, outcome FROM events WHERE kind = 'webhook' ORDER BY id")
        .unwrap();
    stmt.query_map([], |r| Ok((r.get(0)?, r.get(1)?)))
        .unwrap()
        .map(Result::unwrap)
        .collect()
}

/// Outcomes in the webhook delivery table, sorted.
pub fn delivery_outcomes(journal: &Path) -> Vec<String> {
    let conn = peek(journal);
    let mut stmt = conn
        .prepare("SELECT outcome FROM webhook_deliveries ORDER BY outcome")
        .unwrap();
    stmt.query_map([], |r| r.get(0))
        .unwrap()
        .map(Result::unwrap)
        .collect()
}

/// Everything a delivery could change: every row column, every event, every delivery.
pub fn snapshot(journal: &Path) -> Value {
    let conn = peek(journal);
    let dump = |sql: &str| -> Vec<Value> {
        let mut stmt = conn.prepare(sql).unwrap();
        let n = stmt.column_count();
        stmt.query_map([], |r| {
            let mut cells = Vec::with_capacity(n);
            for i in 0..n {
                let cell = match r.get_ref(i)? {
                    rusqlite::types::ValueRef::Null => Value::Null,
                    rusqlite::types::ValueRef::Integer(v) => json!(v),
                    rusqlite::types::ValueRef::Real(v) => json!(v),
                    rusqlite::types::ValueRef::Text(t) | rusqlite::types::ValueRef::Blob(t) => {
                        json!(String::from_utf8_lossy(t))
                    }
                };
                cells.push(cell);
            }
            Ok(Value::Array(cells))
        })
        .unwrap()
        .map(Result::unwrap)
        .collect()
    };
    json!({
        "rows": dump("SELECT * FROM rows ORDER BY id"),
        "events": dump("SELECT * FROM events ORDER BY id"),
        "deliveries": dump("SELECT * FROM webhook_deliveries ORDER BY digest"),
    })
}

/// A RohoPay callback for `row` in the disbursement envelope (the assumed shape).
pub fn rohopay_callback(row: &JournalRow, status: &str) -> Vec<u8> {
    json!({
        "success": true,
        "data": {
            "id": row.provider_id,
            "internal_reference": row.internal_reference,
            "provider_reference": "0987654321",
            "status": status,
            "type": "disbursement",
            "payment_method": "mobile_money",
            "provider": "relworx",
            "phone_number": row.phone,
            "amount": row.amount_minor,
            "currency": row.currency,
            "net_amount": row.amount_minor,
            "environment": "live",
            "created_at": "2024-07-15T09:00:00Z"
        }
    })
    .to_string()
    .into_bytes()
}

/// A Rumbapay callback for `row` in the seed's Callback shape, amount written as in the file.
pub fn rumbapay_callback(row: &JournalRow, status: &str) -> Vec<u8> {
    format!(
        r#"{{"identifier":"MOB000137185","request_id":{},"reference":"{}","description":"payout",
"status":{{"name":"{status}","date":"2025-08-27T08:27:49.014"}},"created_date":"2025-08-27T08:27:45.764",
"amount":{amount},"billing_amount":{amount},"currency":"{}","extra":[],
"timestamp":"2025-08-27T08:27:49.2818969Z","error_code":0,"error_message":""}}"#,
        json!(row.request_id),
        row.key(),
        row.currency,
        amount = row.amount_text,
    )
    .into_bytes()
}

/// A fixture whose journal exists before anything is sent, as `payrun listen` requires.
pub async fn fixture(config: SimConfig) -> Fixture {
    let fx = Fixture::new(config).await;
    Journal::open(&fx.journal).unwrap();
    fx
}

/// Pay `payees` through `provider` with no callback URL, so every row ends `accepted` and
/// the test delivers callbacks itself. Returns the batch id and the journal's rows.
pub async fn accepted_batch(
    fx: &Fixture,
    provider: &str,
    payees: &[Payee],
) -> (String, Vec<JournalRow>) {
    let file = fx.csv("batch.csv", payees);
    let out = fx.run(&file, provider, &["--rate", "500"]).await;
    assert_eq!(code(&out), 0, "{}", text(&out));
    let rows = rows(&fx.journal);
    assert!(rows.iter().all(|r| r.state == "accepted"), "{rows:?}");
    (batch_id(&out), rows)
}

/// `payrun listen` as a child process: its stdout's first line and the rest of its output.
pub struct ListenChild {
    pub child: tokio::process::Child,
    pub first_line: String,
    pub base: String,
}

/// A `payrun listen` command for `journal` with the given secrets (others removed).
pub fn listen_command(
    journal: &Path,
    rohopay: Option<&str>,
    rumbapay: Option<&str>,
) -> tokio::process::Command {
    let mut cmd = tokio::process::Command::from(super::payrun());
    cmd.args(["listen", "--addr", "127.0.0.1:0", "--journal"])
        .arg(journal)
        .env_remove("ROHOPAY_WEBHOOK_SECRET")
        .env_remove("RUMBAPAY_WEBHOOK_SECRET")
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .kill_on_drop(true);
    if let Some(s) = rohopay {
        cmd.env("ROHOPAY_WEBHOOK_SECRET", s);
    }
    if let Some(s) = rumbapay {
        cmd.env("RUMBAPAY_WEBHOOK_SECRET", s);
    }
    cmd
}

/// Start `payrun listen` and read its first stdout line; the remaining stdout is drained.
pub async fn start_listen(mut cmd: tokio::process::Command) -> ListenChild {
    let mut child = cmd.spawn().unwrap();
    let mut lines = BufReader::new(child.stdout.take().unwrap()).lines();
    let first_line = tokio::time::timeout(PATIENCE, lines.next_line())
        .await
        .expect("payrun listen prints its address")
        .unwrap()
        .expect("a first line");
    let base = first_line
        .strip_prefix("listening on ")
        .unwrap_or_else(|| panic!("first line was {first_line:?}"))
        .to_owned();
    tokio::spawn(async move { while let Ok(Some(_)) = lines.next_line().await {} });
    ListenChild {
        child,
        first_line,
        base,
    }
}

/// Poll `payrun status BATCH --format json` until `done` says so.
pub async fn wait_for_status(fx: &Fixture, batch: &str, done: impl Fn(&Value) -> bool) -> Value {
    super::wait::until(
        &format!("batch {batch} to reach the awaited status"),
        || async {
            let status = fx.status(batch).await;
            done(&status).then_some(status)
        },
    )
    .await
}
