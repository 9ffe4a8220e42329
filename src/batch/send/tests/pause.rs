//! A provider that asks to pause (429 `Retry-After`): a pause up to the documented maximum is
//! waited out and the row is sent; a longer one stops the batch with when it ends, the row
//! stays as it was (planned, or in doubt from before: nothing in doubt is invented), and the
//! run's figures count it as not sent.

use std::time::Duration;

use super::Bench;
use super::fake::Reply;
use crate::batch::send::StopReason;
use crate::domain::RowState;
use crate::journal::now_ms;

#[test]
fn a_pause_longer_than_the_maximum_stops_the_batch_and_leaves_the_row_planned() {
    let mut bench = Bench::new();
    let before = now_ms();
    let end = bench.send(RowState::Planned, &[Reply::PauseTooLong, Reply::Pending], 8);
    assert_eq!(end.used, vec![Reply::PauseTooLong], "nothing sent after it");
    assert_eq!(end.state, RowState::Planned, "{end:?}");
    assert_eq!(end.attention, None);
    assert!(end.error.unwrap_or_default().contains("429"));
    let Some(StopReason::ProviderPaused { wait, until_ms }) = end.reason else {
        panic!("stopped for another reason: {:?}", end.reason);
    };
    assert_eq!(wait, Duration::from_secs(999_999));
    assert!(until_ms >= before + 999_999_000, "{until_ms}");
    assert_eq!(end.counts.sent, 0);
    assert_eq!(end.counts.not_sent, 1);
    assert_eq!(end.counts.requests, 1);
}

#[test]
fn a_row_in_doubt_stays_in_doubt_under_a_long_pause() {
    let mut bench = Bench::new();
    let end = bench.send(RowState::InDoubt, &[Reply::PauseTooLong], 8);
    assert_eq!(end.state, RowState::InDoubt, "{end:?}");
    assert!(matches!(
        end.reason,
        Some(StopReason::ProviderPaused { .. })
    ));
    assert_eq!(end.counts.in_doubt, 1);
}

#[test]
fn a_short_pause_is_waited_out_and_the_row_is_sent() {
    let mut bench = Bench::new();
    let end = bench.send(
        RowState::Planned,
        &[
            Reply::RateLimitedAfter,
            Reply::RateLimited,
            Reply::Successful,
        ],
        8,
    );
    assert_eq!(end.state, RowState::Succeeded, "{end:?}");
    assert!(!end.stopped);
    assert_eq!(end.counts.sent, 1);
    assert_eq!(end.counts.succeeded, 1);
    assert_eq!(end.counts.requests, 3);
}
