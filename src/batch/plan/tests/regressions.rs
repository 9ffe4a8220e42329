//! Plain tests of what the planning properties found, each the smallest sequence that showed
//! it.

use super::check::{every_row_accounted_for, gone_payments_not_planned};
use super::{Desk, Payee};
use crate::domain::RowState;
use crate::journal::test_support::{StoredRow, send};

const P: &str = "256700000001";

fn payee(reference: &str, amount: &str) -> Payee {
    Payee::new(reference, P, amount, "UGX")
}

fn row<'a>(rows: &'a [StoredRow], identity: &str) -> &'a StoredRow {
    rows.iter()
        .find(|r| r.identity == identity)
        .unwrap_or_else(|| panic!("no row {identity} in {rows:?}"))
}

/// Send the row with `identity` and leave it `succeeded`.
fn pay(desk: &Desk, identity: &str) {
    let id = row(&desk.rows(), identity).id;
    assert!(send(&desk.journal, id, RowState::Succeeded));
}

/// Replan with `payees`, checking the properties on the way.
fn replan(desk: &mut Desk, payees: &[Payee]) -> Vec<StoredRow> {
    let file = desk.file_rows(payees);
    let before = desk.rows();
    desk.replan(payees);
    let after = desk.rows();
    gone_payments_not_planned(&file, &before, &after);
    every_row_accounted_for(&file, &after);
    after
}

#[test]
fn a_row_removed_before_it_was_sent_and_put_back_is_paid() {
    let mut desk = Desk::new(true);
    desk.plan(&[payee("E1", "1000"), payee("E2", "2500")]);
    let rows = replan(&mut desk, &[payee("E1", "1000")]);
    assert_eq!(row(&rows, "E2").state, RowState::Rejected, "withdrawn");
    let rows = replan(&mut desk, &[payee("E1", "1000"), payee("E2", "4000")]);
    let back = row(&rows, "E2");
    assert_eq!(
        (
            back.state,
            back.amount_minor,
            back.line,
            back.conflict.as_deref()
        ),
        (RowState::Planned, Some(4000), 3, None),
        "{back:?}"
    );
    assert_eq!(back.last_error, None, "{back:?}");
}

#[test]
fn a_renamed_sent_row_is_matched_before_a_new_amount_of_the_same_phone() {
    let mut desk = Desk::new(true);
    desk.plan(&[payee("E1", "2500")]);
    pay(&desk, "E1");
    // E1 renamed E6 (same payment) on line 3; E5 on line 2 is a new amount to that phone.
    let rows = replan(&mut desk, &[payee("E5", "1000"), payee("E6", "2500")]);
    let renamed = row(&rows, "E6");
    assert_eq!(renamed.state, RowState::Rejected, "{renamed:?}");
    assert!(renamed.conflict.is_some(), "{renamed:?}");
    assert_eq!(row(&rows, "E5").state, RowState::Planned);
}

#[test]
fn an_unsent_row_edited_to_pay_what_a_gone_sent_row_paid_is_a_conflict() {
    let mut desk = Desk::new(true);
    desk.plan(&[payee("E1", "1000"), payee("E2", "2500")]);
    pay(&desk, "E2");
    // E2 (paid) leaves the file and E1, never sent, now pays what E2 paid.
    let rows = replan(&mut desk, &[payee("E1", "2500")]);
    let merged = row(&rows, "E1");
    assert_eq!(merged.state, RowState::Rejected, "{merged:?}");
    assert!(
        merged.conflict.as_deref().is_some_and(|c| c.contains("E2")),
        "{merged:?}"
    );
    // The same file again changes nothing, and the row stays a conflict.
    let again = replan(&mut desk, &[payee("E1", "2500")]);
    assert_eq!(again, rows);
}

#[test]
fn a_withdrawn_row_put_back_with_the_payment_of_a_gone_sent_row_is_a_conflict() {
    let mut desk = Desk::new(true);
    desk.plan(&[payee("E1", "1000"), payee("E2", "2500")]);
    pay(&desk, "E2");
    replan(&mut desk, &[payee("E2", "2500")]);
    let rows = replan(&mut desk, &[payee("E1", "2500")]);
    let back = row(&rows, "E1");
    assert_eq!(back.state, RowState::Rejected, "{back:?}");
    assert!(back.conflict.is_some(), "{back:?}");
}
