//! Every sequence of provider answers, generated: the row ends where the rules say, a row
//! that may have been executed is never `failed` (unless the provider says that very payout
//! failed) or `planned`, and a row that certainly never ran is never in doubt for no reason.

use std::cell::RefCell;

use proptest::prelude::*;
use proptest::sample::select;
use proptest::test_runner::{Config, TestRunner};

use super::fake::Reply;
use super::{Bench, Final};
use crate::domain::RowState;

/// What the rules say a script leads to.
#[derive(Debug, PartialEq, Eq)]
struct Expect {
    state: RowState,
    attention: bool,
    consumed: usize,
    stopped: bool,
    /// Some request (or an earlier run) may have executed the payout.
    maybe_executed: bool,
}

/// The rules of the send loop, written out independently of it. Once the script is used up
/// the provider is unreachable (nothing executed), which counts as a retryable try.
fn model(start: RowState, script: &[Reply], max_tries: u32) -> Expect {
    let mut maybe = start != RowState::Planned;
    let mut tries = 0;
    let end = |state, attention, consumed, maybe, stopped| Expect {
        state,
        attention,
        consumed,
        stopped,
        maybe_executed: maybe,
    };
    let unsettled = |maybe: bool| {
        if maybe {
            RowState::InDoubt
        } else {
            RowState::Planned
        }
    };
    let mut i = 0;
    loop {
        let reply = script.get(i).copied();
        i += 1;
        let consumed = i.min(script.len());
        match reply {
            Some(Reply::Pending) => return end(RowState::Accepted, false, consumed, maybe, false),
            Some(Reply::Successful) => {
                return end(RowState::Succeeded, false, consumed, maybe, false);
            }
            Some(Reply::Failed) => return end(RowState::Failed, false, consumed, maybe, false),
            Some(Reply::Contradicting) => {
                return end(RowState::InDoubt, true, consumed, true, false);
            }
            Some(Reply::KeyReused | Reply::Redirect) => {
                return end(RowState::InDoubt, true, consumed, true, false);
            }
            Some(Reply::Definitive) if maybe => {
                return end(RowState::InDoubt, true, consumed, maybe, false);
            }
            Some(Reply::Definitive) => return end(RowState::Failed, false, consumed, false, false),
            // An empty wallet, or a pause longer than a run waits: the batch stops and the
            // row stays as it was (nothing of this request ran).
            Some(Reply::InsufficientFunds | Reply::PauseTooLong) => {
                return end(unsettled(maybe), false, consumed, maybe, true);
            }
            Some(Reply::RateLimited | Reply::RateLimitedAfter) => {}
            Some(Reply::Drop | Reply::Timeout | Reply::Server | Reply::InFlight) | None => {
                maybe |= reply.is_some();
                tries += 1;
                if tries >= max_tries {
                    return end(unsettled(maybe), false, consumed, maybe, false);
                }
            }
        }
    }
}

/// The properties every outcome must have, whatever the rules in detail.
fn check(start: RowState, script: &[Reply], max_tries: u32, got: &Final) -> Result<(), String> {
    let want = model(start, script, max_tries);
    let fail = |what: &str| {
        Err(format!(
            "{what}: {start:?} {script:?} tries {max_tries}: {got:?}"
        ))
    };
    if got.used.len() != want.consumed {
        return fail("consumed another number of answers than the rules say");
    }
    if got.state != want.state || got.attention.is_some() != want.attention {
        return fail(&format!("expected {want:?}"));
    }
    if got.stopped != want.stopped {
        return fail("stopped (or not) against the rules");
    }
    let last = got.used.last().copied();
    if want.maybe_executed && got.state == RowState::Planned {
        return fail("a row that may have been paid went back to planned");
    }
    if want.maybe_executed && got.state == RowState::Failed && last != Some(Reply::Failed) {
        return fail("a row that may have been paid was failed by a later error");
    }
    if got.state == RowState::InDoubt
        && (got.error.is_none() || !(want.maybe_executed || got.attention.is_some()))
    {
        return fail("in doubt without a reason");
    }
    if got.attention.is_some() && got.error.is_none() {
        return fail("needs a person but says nothing");
    }
    let said = got.error.as_deref().unwrap_or_default();
    if got.state == RowState::InDoubt
        && got.attention.is_none()
        && !said.ends_with("payrun will ask it before paying again")
        && !said.ends_with("payrun will ask the provider before paying again")
    {
        return fail("in doubt in words a clerk cannot act on");
    }
    if got.state.is_good() && got.used.contains(&Reply::Contradicting) {
        return fail("a contradicting answer was counted as paid");
    }
    Ok(())
}

fn starts() -> impl Strategy<Value = RowState> {
    prop_oneof![Just(RowState::Planned), Just(RowState::InDoubt)]
}

#[test]
fn every_pair_of_answers_ends_where_the_rules_say() {
    let mut bench = Bench::new();
    for start in [RowState::Planned, RowState::InDoubt] {
        for a in Reply::ALL {
            for b in Reply::ALL {
                for tries in [1, 2, 8] {
                    let got = bench.send(start, &[a, b], tries);
                    if let Err(e) = check(start, &[a, b], tries, &got) {
                        panic!("{e}");
                    }
                }
            }
        }
    }
}

#[test]
fn generated_answer_sequences_end_where_the_rules_say() {
    let bench = RefCell::new(Bench::new());
    let mut runner = TestRunner::new(Config {
        failure_persistence: None,
        ..Config::with_cases(10_000)
    });
    let sequences = (
        starts(),
        prop::collection::vec(select(Reply::ALL.to_vec()), 1..=7),
        1u32..=5,
    );
    let result = runner.run(&sequences, |(start, script, tries)| {
        let got = bench.borrow_mut().send(start, &script, tries);
        check(start, &script, tries, &got).map_err(TestCaseError::fail)
    });
    if let Err(e) = result {
        panic!("{e}");
    }
}
