//! The figures a finance manager reads first: every payee counted once under what became of
//! it (paid, failed, in doubt, not sent yet, cancelled, rejected), in rows and in exact minor
//! units per currency and per currency and operator. Shared by the xlsx totals sheet and the
//! html page, so both add up the same way `status` does: a row that needs a person is never
//! counted as paid.

use std::collections::BTreeMap;

use crate::domain::RowState;
use crate::journal::ReportRow;

/// What became of a payee, as the reports total it.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub enum Bucket {
    /// The provider has it: succeeded, or accepted and pending (as `status` counts paid).
    Paid,
    Failed,
    /// In doubt, being sent, or flagged for a person whatever its state.
    InDoubt,
    /// Planned and never sent; `payrun resume` sends it.
    NotSent,
    /// Withdrawn before it was sent (`payrun cancel`).
    Cancelled,
    /// Invalid in the file, or a conflict: never sent, not part of what was requested.
    Rejected,
}

impl Bucket {
    /// Every bucket, in the order the reports show them.
    pub const ALL: [Bucket; 6] = [
        Bucket::Paid,
        Bucket::Failed,
        Bucket::InDoubt,
        Bucket::NotSent,
        Bucket::Cancelled,
        Bucket::Rejected,
    ];

    /// Where a payee is counted. The match names every state, so a new state cannot be
    /// added without deciding here where it is counted.
    pub fn of(row: &ReportRow) -> Bucket {
        match row.state {
            RowState::Rejected => Bucket::Rejected,
            RowState::Cancelled => Bucket::Cancelled,
            _ if row.attention.is_some() => Bucket::InDoubt,
            RowState::Succeeded | RowState::Accepted => Bucket::Paid,
            RowState::Failed => Bucket::Failed,
            RowState::InDoubt | RowState::Sending => Bucket::InDoubt,
            RowState::Planned => Bucket::NotSent,
        }
    }

    pub fn label(self) -> &'static str {
        match self {
            Bucket::Paid => "Paid",
            Bucket::Failed => "Failed",
            Bucket::InDoubt => "In doubt",
            Bucket::NotSent => "Not sent yet",
            Bucket::Cancelled => "Cancelled",
            Bucket::Rejected => "Rejected",
        }
    }

    /// Whether the bucket is part of what the batch asked to pay.
    pub fn requested(self) -> bool {
        self != Bucket::Rejected
    }
}

/// A number of payees and their amount in minor units.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Tally {
    pub rows: u64,
    pub minor: u128,
}

impl Tally {
    fn add(&mut self, minor: Option<u64>) {
        self.rows += 1;
        self.minor += u128::from(minor.unwrap_or(0));
    }
}

/// One line of totals: what was requested, then each bucket.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Figures {
    pub requested: Tally,
    buckets: [Tally; Bucket::ALL.len()],
}

impl Figures {
    pub fn get(&self, bucket: Bucket) -> Tally {
        self.buckets[bucket as usize]
    }

    fn add(&mut self, bucket: Bucket, minor: Option<u64>) {
        if bucket.requested() {
            self.requested.add(minor);
        }
        self.buckets[bucket as usize].add(minor);
    }
}

/// Totals per currency, and per currency and operator (`""` for payees without one).
#[derive(Clone, Debug, Default)]
pub struct Totals {
    pub by_currency: BTreeMap<String, Figures>,
    pub by_operator: BTreeMap<(String, String), Figures>,
    pub payees: u64,
}

impl Totals {
    pub fn add(&mut self, row: &ReportRow) {
        let bucket = Bucket::of(row);
        self.payees += 1;
        self.by_currency
            .entry(row.currency.clone())
            .or_default()
            .add(bucket, row.amount_minor);
        self.by_operator
            .entry((
                row.currency.clone(),
                row.operator.clone().unwrap_or_default(),
            ))
            .or_default()
            .add(bucket, row.amount_minor);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::journal::ReportRow;

    fn row(state: RowState, minor: u64, operator: Option<&str>) -> ReportRow {
        ReportRow {
            state,
            amount_minor: Some(minor),
            operator: operator.map(str::to_owned),
            attention: None,
            ..crate::journal::test_support::report_row()
        }
    }

    #[test]
    fn every_state_lands_in_one_bucket() {
        let cases = [
            (RowState::Succeeded, Bucket::Paid),
            (RowState::Accepted, Bucket::Paid),
            (RowState::Failed, Bucket::Failed),
            (RowState::InDoubt, Bucket::InDoubt),
            (RowState::Sending, Bucket::InDoubt),
            (RowState::Planned, Bucket::NotSent),
            (RowState::Rejected, Bucket::Rejected),
            (RowState::Cancelled, Bucket::Cancelled),
        ];
        assert_eq!(cases.len(), RowState::ALL.len());
        for (state, bucket) in cases {
            assert_eq!(Bucket::of(&row(state, 1, None)), bucket, "{state}");
        }
    }

    #[test]
    fn a_row_that_needs_a_person_is_never_paid() {
        let mut flagged = row(RowState::Succeeded, 500, None);
        flagged.attention = Some("amount differs".into());
        assert_eq!(Bucket::of(&flagged), Bucket::InDoubt);
    }

    #[test]
    fn totals_add_up_per_currency_and_operator_exactly() {
        let mut totals = Totals::default();
        let big = u64::MAX;
        totals.add(&row(RowState::Succeeded, big, Some("mpesa")));
        totals.add(&row(RowState::Succeeded, big, Some("mpesa")));
        totals.add(&row(RowState::Failed, 250, Some("airtel")));
        let mut rejected = row(RowState::Rejected, 0, None);
        rejected.amount_minor = None;
        totals.add(&rejected);
        let kes = &totals.by_currency["KES"];
        assert_eq!(
            kes.requested,
            Tally {
                rows: 3,
                minor: 2 * u128::from(big) + 250
            }
        );
        assert_eq!(kes.get(Bucket::Paid).minor, 2 * u128::from(big));
        assert_eq!(
            kes.get(Bucket::Failed),
            Tally {
                rows: 1,
                minor: 250
            }
        );
        assert_eq!(kes.get(Bucket::Rejected), Tally { rows: 1, minor: 0 });
        assert_eq!(kes.get(Bucket::Cancelled), Tally::default());
        let mpesa = &totals.by_operator[&("KES".to_owned(), "mpesa".to_owned())];
        assert_eq!(mpesa.get(Bucket::Paid).rows, 2);
        assert!(
            totals
                .by_operator
                .contains_key(&("KES".to_owned(), String::new()))
        );
        assert_eq!(totals.payees, 4);
    }
}
