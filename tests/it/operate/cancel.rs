//! `payrun cancel`: refused while another live payrun sends the batch (naming it); then every
//! planned row is cancelled, and `resume`, `run` and `retry` send nothing more.

use nix::sys::signal::{Signal, kill};
use nix::unistd::Pid;

use crate::support::pay::{Fixture, batch_id, code, states, text, ugx_payees};
use crate::support::sim::SimConfig;

#[tokio::test(flavor = "multi_thread")]
async fn cancel_mid_batch_then_resume_sends_nothing() {
    let fx = Fixture::new(SimConfig::default()).await;
    let payees = ugx_payees(150);
    let file = fx.csv("payroll.csv", &payees);
    let child = fx.spawn_run(&file, "rohopay", &["--rate", "30", "--concurrency", "2"]);
    let pid = i32::try_from(child.id().unwrap()).unwrap();
    crate::support::wait::until_true("5 payouts", || async { fx.ledger().await.len() >= 5 }).await;
    // Frozen mid-batch, the run holds the lock for as long as cancel needs.
    kill(Pid::from_raw(pid), Signal::SIGSTOP).unwrap();
    let batch = {
        let all = fx.exec(&["status", "--format", "json"]).await;
        let all: serde_json::Value = serde_json::from_slice(&all.stdout).unwrap();
        all[0]["batch"].as_str().unwrap().to_string()
    };
    let refused = fx.exec(&["cancel", &batch, "--yes"]).await;
    kill(Pid::from_raw(pid), Signal::SIGCONT).unwrap();
    assert_eq!(code(&refused), 3, "{}", text(&refused));
    let err = String::from_utf8_lossy(&refused.stderr);
    assert!(
        err.contains(&format!("being sent by another payrun (pid {pid} on"))
            && err.contains("Nothing was cancelled"),
        "{err}"
    );
    // Ctrl-C: the run stops, its unsent rows stay planned.
    kill(Pid::from_raw(pid), Signal::SIGINT).unwrap();
    let out = child.wait_with_output().await.unwrap();
    assert_eq!(code(&out), 130, "{}", text(&out));
    assert_eq!(batch_id(&out), batch);
    let planned = fx.status(&batch).await["states"]["planned"]
        .as_u64()
        .unwrap();
    assert!(planned > 0);

    let out = fx.exec(&["cancel", &batch, "--yes"]).await;
    assert_eq!(code(&out), 0, "{}", text(&out));
    let said = String::from_utf8_lossy(&out.stdout);
    assert!(
        said.contains(&format!(
            "Cancelled batch {batch}: {planned} payout(s) withdrawn"
        )),
        "{said}"
    );
    assert!(
        said.contains(&format!("payrun reconcile {batch} --journal")),
        "{said}"
    );
    let paid = fx.ledger().await.len();

    for args in [
        vec!["resume", batch.as_str(), "--yes"],
        vec!["retry", batch.as_str(), "--yes"],
    ] {
        let out = fx.exec(&args).await;
        assert_eq!(code(&out), 3, "{args:?}: {}", text(&out));
        assert!(
            String::from_utf8_lossy(&out.stderr).contains("was cancelled"),
            "{}",
            text(&out)
        );
    }
    let out = fx.run(&file, "rohopay", &[]).await;
    assert_eq!(code(&out), 3, "{}", text(&out));
    assert_eq!(fx.ledger().await.len(), paid, "nothing more was sent");

    let report = fx.report(&batch).await;
    let by_state = states(&report);
    assert_eq!(
        by_state.get("cancelled").copied(),
        Some(planned as usize),
        "{by_state:?}"
    );
    assert_eq!(by_state.get("planned"), None);
    let status = fx.status(&batch).await;
    assert_eq!(status["last_run"]["end"], "cancelled", "{status}");
    assert!(
        status["next"]
            .as_str()
            .unwrap()
            .starts_with(&format!("payrun reconcile {batch}")),
        "accepted payouts are settled by reconcile: {status}"
    );
    // Reconcile settles them; then there is nothing left to do.
    let out = fx.exec(&["reconcile", &batch]).await;
    assert_eq!(code(&out), 0, "{}", text(&out));
    assert_eq!(fx.status(&batch).await["next"], serde_json::Value::Null);
    assert_eq!(fx.ledger().await.len(), paid);
}
