//! What `run` says it did is what the journal holds, and a provider's request to pause is
//! honoured or, past 15 minutes, stops the batch for a later resume: the summary's figures
//! against the journal's counts (a normal run, and 429 for every request until Ctrl-C), and a
//! huge `Retry-After` (seconds or a date) with its message, exit code and an exactly-once
//! resume.

use std::path::Path;
use std::time::Duration;

use nix::sys::signal::{Signal, kill};
use nix::unistd::Pid;
use tokio::io::{AsyncBufReadExt, BufReader};

use crate::support::listen::peek;
use crate::support::pay::{Fixture, batch_id, code, states, text, ugx_payees};
use crate::support::sim::SimConfig;

/// The whole number written just before `marker` in `line` (0 if `marker` is absent).
fn number_before(line: &str, marker: &str) -> u64 {
    let Some(at) = line.find(marker) else {
        return 0;
    };
    let digits: String = line[..at]
        .chars()
        .rev()
        .take_while(char::is_ascii_digit)
        .collect::<Vec<_>>()
        .into_iter()
        .rev()
        .collect();
    digits
        .parse()
        .unwrap_or_else(|_| panic!("no number before {marker:?}: {line}"))
}

/// The run's "Sent ..." line.
fn sent_line(stdout: &str) -> String {
    stdout
        .lines()
        .find(|l| l.starts_with("Sent "))
        .unwrap_or_else(|| panic!("no Sent line:\n{stdout}"))
        .to_owned()
}

/// `(state, rows)` of the journal, and how many HTTP send attempts it logged.
fn journal_counts(journal: &Path) -> (std::collections::BTreeMap<String, u64>, u64) {
    let conn = peek(journal);
    let mut stmt = conn
        .prepare("SELECT state, COUNT(*) FROM rows GROUP BY state")
        .unwrap();
    let by_state = stmt
        .query_map([], |r| {
            Ok((r.get::<_, String>(0)?, r.get::<_, i64>(1)? as u64))
        })
        .unwrap()
        .map(Result::unwrap)
        .collect();
    let sends: i64 = conn
        .query_row("SELECT COUNT(*) FROM events WHERE kind = 'send'", [], |r| {
            r.get(0)
        })
        .unwrap();
    (by_state, sends as u64)
}

#[tokio::test(flavor = "multi_thread")]
async fn a_normal_run_prints_the_journals_figures() {
    let fx = Fixture::new(SimConfig {
        error_rate: 0.3,
        seed: 7,
        ..SimConfig::default()
    })
    .await;
    let file = fx.csv("payroll.csv", &ugx_payees(12));
    let out = fx.run(&file, "rohopay", &["--rate", "500"]).await;
    let stdout = String::from_utf8_lossy(&out.stdout);
    let line = sent_line(&stdout);
    let (by_state, sends) = journal_counts(&fx.journal);
    let n = |s: &str| by_state.get(s).copied().unwrap_or(0);
    assert!(
        sends > 12,
        "the seed makes some requests fail and be retried: {sends}"
    );
    assert_eq!(number_before(&line, " payout(s)"), 12, "{line}");
    assert_eq!(number_before(&line, " HTTP requests"), sends, "{line}");
    assert_eq!(
        number_before(&line, " accepted ("),
        n("accepted") + n("succeeded"),
        "{line}"
    );
    assert_eq!(
        number_before(&line, " succeeded,"),
        n("succeeded"),
        "{line}"
    );
    assert_eq!(number_before(&line, " pending)"), n("accepted"), "{line}");
    assert_eq!(number_before(&line, " failed,"), n("failed"), "{line}");
    assert_eq!(number_before(&line, " in doubt"), n("in_doubt"), "{line}");
    assert!(!line.contains("not sent"), "{line}");
    assert!(line.contains("/s achieved"), "{line}");
    assert_eq!(code(&out), 0, "{}", text(&out));
}

#[tokio::test(flavor = "multi_thread")]
async fn under_429_for_every_request_nothing_is_counted_as_sent() {
    let fx = Fixture::new(SimConfig {
        throttle_after: Some(0),
        retry_after: Some("1".into()),
        ..SimConfig::default()
    })
    .await;
    let file = fx.csv("payroll.csv", &ugx_payees(4));
    let mut child = fx.spawn_run(&file, "rohopay", &[]);
    let mut stderr = BufReader::new(child.stderr.take().unwrap()).lines();
    let mut seen = Vec::new();
    tokio::time::timeout(Duration::from_secs(30), async {
        while let Some(line) = stderr.next_line().await.unwrap() {
            let paused = line.contains("the provider asked to pause");
            seen.push(line);
            if paused {
                return;
            }
        }
    })
    .await
    .unwrap_or_else(|_| panic!("no pause announced:\n{}", seen.join("\n")));
    let pause = seen.last().unwrap();
    assert!(pause.contains("Retry-After 1 s"), "{pause}");
    assert!(pause.contains("sending resumes at 20"), "{pause}");

    let pid = Pid::from_raw(i32::try_from(child.id().unwrap()).unwrap());
    kill(pid, Signal::SIGINT).unwrap();
    let out = tokio::time::timeout(Duration::from_secs(60), child.wait_with_output())
        .await
        .expect("the run stops after Ctrl-C")
        .unwrap();
    assert_eq!(code(&out), 130, "{}", text(&out));
    let stdout = String::from_utf8_lossy(&out.stdout);
    let line = sent_line(&stdout);
    let (by_state, sends) = journal_counts(&fx.journal);
    assert_eq!(by_state.get("planned"), Some(&4), "{by_state:?}");
    assert_eq!(by_state.len(), 1, "{by_state:?}");
    assert!(sends >= 1);
    assert!(line.starts_with("Sent 0 payout(s) in "), "{line}");
    assert_eq!(number_before(&line, " HTTP requests"), sends, "{line}");
    assert_eq!(number_before(&line, " accepted ("), 0, "{line}");
    assert_eq!(number_before(&line, " not sent"), 4, "{line}");
    assert!(
        !line.contains("/s achieved"),
        "no rate over nothing sent: {line}"
    );
    assert!(fx.ledger().await.is_empty());
}

#[tokio::test(flavor = "multi_thread")]
async fn a_retry_after_beyond_15_minutes_stops_the_batch_and_resume_pays_the_rest_once() {
    let fx = Fixture::new(SimConfig {
        throttle_after: Some(2),
        throttle_count: Some(1),
        retry_after: Some("999999".into()),
        ..SimConfig::default()
    })
    .await;
    let payees = ugx_payees(5);
    let file = fx.csv("payroll.csv", &payees);
    let out = fx
        .run(&file, "rohopay", &["--rate", "500", "--concurrency", "1"])
        .await;
    assert_eq!(code(&out), 1, "{}", text(&out));
    let batch = batch_id(&out);
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        stdout.contains("Stopped: provider unavailable, resume later."),
        "{stdout}"
    );
    assert!(
        stdout.contains("rohopay asked payrun to pause for 999999 s"),
        "{stdout}"
    );
    assert!(stdout.contains("longer than the 15 min"), "{stdout}");
    assert!(
        stdout.contains(&format!("resume with: payrun resume {batch} --journal")),
        "{stdout}"
    );
    let line = sent_line(&stdout);
    assert_eq!(number_before(&line, " payout(s)"), 2, "{line}");
    assert_eq!(number_before(&line, " not sent"), 3, "{line}");
    let (by_state, _) = journal_counts(&fx.journal);
    assert_eq!(by_state.get("planned"), Some(&3), "{by_state:?}");
    assert_eq!(
        by_state.get("in_doubt"),
        None,
        "no doubt invented: {by_state:?}"
    );
    assert_eq!(by_state.get("sending"), None, "{by_state:?}");
    assert_eq!(fx.ledger().await.len(), 2);

    let resumed = fx.exec(&["resume", &batch, "--yes", "--rate", "500"]).await;
    assert_eq!(code(&resumed), 0, "{}", text(&resumed));
    let report = fx.report(&batch).await;
    assert_eq!(fx.assert_exactly_once(&batch, &payees).await, 5);
    assert_eq!(states(&report).get("planned"), None);
}

#[tokio::test(flavor = "multi_thread")]
async fn a_retry_after_date_a_year_ahead_says_until_when() {
    let next_year = std::time::SystemTime::now() + Duration::from_secs(366 * 24 * 3600);
    let fx = Fixture::new(SimConfig {
        throttle_after: Some(0),
        retry_after: Some(httpdate::fmt_http_date(next_year)),
        ..SimConfig::default()
    })
    .await;
    let file = fx.csv("payroll.csv", &ugx_payees(3));
    let out = fx.run(&file, "rohopay", &["--rate", "500"]).await;
    assert_eq!(code(&out), 1, "{}", text(&out));
    let stdout = String::from_utf8_lossy(&out.stdout);
    let year = time::OffsetDateTime::from(next_year).year();
    assert!(
        stdout.contains(&format!("), until {year}-")),
        "the end of the pause is named:\n{stdout}"
    );
    assert!(
        stdout.contains("The rows not sent stay planned"),
        "{stdout}"
    );
    let line = sent_line(&stdout);
    assert_eq!(number_before(&line, " payout(s)"), 0, "{line}");
    assert_eq!(number_before(&line, " not sent"), 3, "{line}");
    assert!(fx.ledger().await.is_empty());
}
