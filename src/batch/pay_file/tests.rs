//! The library entry point against the built-in simulator: what an observer is told, in what
//! order, and the typed results and refusals a caller branches on.

use std::sync::{Arc, Mutex};
use std::time::Duration;

use super::*;
use crate::batch::observer::{Checked, SendStart};
use crate::batch::open::{FileRefused, How};
use crate::batch::preflight::{BalanceCheck, Preflight};
use crate::batch::send::StopReason;
use crate::batch::{Quiet, Yes};
use crate::domain::RowState;

/// Records every event as a word.
#[derive(Default)]
struct Recorder(Mutex<Vec<String>>);

impl Recorder {
    fn push(&self, event: String) {
        self.0.lock().unwrap().push(event);
    }

    fn events(&self) -> Vec<String> {
        self.0.lock().unwrap().clone()
    }
}

impl Observer for Recorder {
    fn opened(&self, _batch: &Batch, how: &How) {
        let how = match how {
            How::Continuing => "continuing".to_string(),
            How::Planned(stats) => format!("planned {}", stats.planned),
            How::Replanned(_) => "replanned".to_string(),
        };
        self.push(format!("opened {how}"));
    }
    fn preflight(&self, _batch: &Batch, p: &Preflight) {
        self.push(format!("preflight {} open", p.open));
    }
    fn sending(&self, start: &SendStart) {
        self.push(format!("sending {}", start.total));
    }
    fn outcome(&self, state: RowState) {
        self.push(format!("outcome {state}"));
    }
    fn paused(&self, _wait: Duration, _until_ms: i64) {
        self.push("paused".into());
    }
    fn sent(&self, stop: Option<&StopReason>) {
        self.push(format!("sent {stop:?}"));
    }
    fn reconciling(&self, rows: u64, _provider: ProviderKind) {
        self.push(format!("reconciling {rows}"));
    }
    fn checked(&self, _row: Checked) {
        self.push("checked".into());
    }
    fn reconciled(&self) {
        self.push("reconciled".into());
    }
}

const PAYROLL: &str = "reference,phone,amount,currency,first_name,last_name\n\
    EMP-0001,256775881399,1400000,UGX,Ronald,Nabirye\n\
    EMP-0002,256759730911,850000,UGX,Moses,Kyomuhendo\n\
    EMP-0003,256772000003,120000,UGX,Amina,Achieng\n";

fn payroll(dir: &Path, text: &str) -> PayFile {
    let file = dir.join("payroll.csv");
    std::fs::write(&file, text).unwrap();
    PayFile::new(&file, dir.join("payrun.db"), ProviderKind::Rohopay)
}

fn sandbox() -> Target {
    Target::Sandbox { balance: None }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_observer_is_told_each_step_in_order_and_each_outcome_once() {
    let dir = tempfile::tempdir().unwrap();
    let recorder = Arc::new(Recorder::default());
    let (batch, paid) = pay_file(
        payroll(dir.path(), PAYROLL),
        &sandbox(),
        recorder.clone(),
        &Yes,
    )
    .await
    .unwrap();
    let Paid::Sent(sent) = paid else {
        panic!("nothing was sent")
    };
    assert_eq!(sent.report.counts.sent, 3);
    assert_eq!(sent.report.stop, None);
    let events = recorder.events();
    let outcomes = events.iter().filter(|e| e.starts_with("outcome")).count();
    assert_eq!(outcomes, 3, "{events:?}");
    let position = |word: &str| {
        events
            .iter()
            .position(|e| e.starts_with(word))
            .unwrap_or_else(|| panic!("no {word} in {events:?}"))
    };
    let order = [
        position("opened planned 3"),
        position("preflight 3 open"),
        position("sending 3"),
        position("outcome"),
        position("sent None"),
        position("reconciling"),
        position("reconciled"),
    ];
    assert!(order.windows(2).all(|w| w[0] < w[1]), "{events:?}");
    // The standing the caller gets is the journal's: every row accepted or succeeded.
    let settled: u64 = sent
        .standing
        .counts
        .iter()
        .filter(|c| matches!(c.state, RowState::Succeeded | RowState::Accepted))
        .map(|c| c.rows)
        .sum();
    assert_eq!(settled, 3);
    assert_eq!(batch.provider, ProviderKind::Rohopay);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_short_sandbox_wallet_refuses_before_sending_and_says_why() {
    let dir = tempfile::tempdir().unwrap();
    let recorder = Arc::new(Recorder::default());
    let mut pay = payroll(dir.path(), PAYROLL);
    pay.sandbox_limited = true;
    let target = Target::Sandbox {
        balance: Some("UGX=1000".into()),
    };
    let err = pay_file(pay, &target, recorder.clone(), &Yes)
        .await
        .unwrap_err();
    let refused = err
        .downcast_ref::<crate::exit::Refused>()
        .expect("a refusal");
    assert!(
        refused.0.contains("insufficient balance in UGX"),
        "{refused}"
    );
    let events = recorder.events();
    assert!(
        events.contains(&"preflight 3 open".to_string()),
        "{events:?}"
    );
    assert!(
        !events.iter().any(|e| e.starts_with("sending")),
        "{events:?}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_invalid_file_is_refused_with_its_problems_and_nothing_planned() {
    let dir = tempfile::tempdir().unwrap();
    let text = format!("{PAYROLL}EMP-0004,not-a-phone,5000,UGX,Bad,Row\n");
    let pay = payroll(dir.path(), &text);
    let err = pay_file(pay, &sandbox(), Arc::new(Quiet), &Yes)
        .await
        .unwrap_err();
    let refused = err.downcast_ref::<FileRefused>().expect("a refused file");
    assert_eq!(refused.summary.invalid, 1);
    assert_eq!(refused.summary.errors[0].line, Some(5));
    assert!(refused.refused.0.contains("Nothing was sent"), "{refused}");
}

#[test]
fn a_balance_that_cannot_be_read_refuses_before_a_short_one() {
    let check = |currency: &str, balance| crate::batch::preflight::CurrencyCheck {
        currency: currency.into(),
        planned: 100,
        doubtful: 0,
        balance,
    };
    let mut p = Preflight {
        destination: crate::batch::endpoint::Destination::Live("https://x".into()),
        open: 2,
        total_rows: 2,
        notes: Vec::new(),
        currencies: vec![check("KES", BalanceCheck::Short(5))],
        sandbox_unlimited: false,
        repeats: Default::default(),
        operators: Vec::new(),
        validation: None,
        approved: None,
    };
    assert!(
        p.refusal()
            .unwrap()
            .0
            .starts_with("insufficient balance in KES")
    );
    p.currencies
        .push(check("UGX", BalanceCheck::Failed("timed out".into())));
    assert!(
        p.refusal()
            .unwrap()
            .0
            .contains("could not read the UGX wallet balance")
    );
    // Repeats: refused unless allowed or a person confirms after seeing them.
    assert!(p.repeats_refusal(false, false).is_none(), "no repeats");
    p.repeats.count = 2;
    let refused = p.repeats_refusal(false, false).unwrap().0;
    assert!(refused.starts_with("2 payout(s) repeat"), "{refused}");
    assert!(refused.contains("--allow-repeats"), "{refused}");
    assert!(p.repeats_refusal(true, false).is_none());
    assert!(p.repeats_refusal(false, true).is_none());
    p.currencies = vec![check("UGX", BalanceCheck::Unknown("no endpoint".into()))];
    assert!(p.refusal().is_none());
}
