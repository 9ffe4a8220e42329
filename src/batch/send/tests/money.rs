//! A refusal that follows a lost answer: the first request may have paid, so the row is never
//! `failed` (someone re-paying failed rows would pay twice); it waits in doubt for a person.

use super::Bench;
use super::fake::Reply;
use crate::domain::RowState;

#[test]
fn a_refusal_after_a_lost_answer_leaves_the_row_in_doubt_not_failed() {
    let mut bench = Bench::new();
    for lost in [Reply::Drop, Reply::Timeout, Reply::Server, Reply::InFlight] {
        let end = bench.send(RowState::Planned, &[lost, Reply::Definitive], 8);
        assert_eq!(end.used, vec![lost, Reply::Definitive]);
        assert_eq!(end.state, RowState::InDoubt, "{lost:?} then 400: {end:?}");
        let note = end.attention.unwrap_or_default();
        assert!(note.contains("may have been paid"), "{note}");
        assert!(end.error.unwrap_or_default().contains("HTTP 400"));
    }
}

#[test]
fn a_refusal_on_resume_of_a_row_in_doubt_leaves_it_in_doubt() {
    let mut bench = Bench::new();
    let end = bench.send(RowState::InDoubt, &[Reply::Definitive], 8);
    assert_eq!(end.state, RowState::InDoubt, "{end:?}");
    assert!(end.attention.is_some());
}

#[test]
fn a_refusal_of_a_request_that_never_ran_fails_the_row() {
    let mut bench = Bench::new();
    for script in [
        vec![Reply::Definitive],
        vec![Reply::RateLimited, Reply::Definitive],
        vec![Reply::RateLimitedAfter, Reply::Definitive],
    ] {
        let end = bench.send(RowState::Planned, &script, 8);
        assert_eq!(end.state, RowState::Failed, "{script:?}: {end:?}");
        assert_eq!(end.attention, None);
    }
}
