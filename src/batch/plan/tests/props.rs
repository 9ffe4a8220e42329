//! Random payout files and random edits, planned in sequence with rows sent between plans
//! the way `batch::send` sends them (in plan order, a few out of order as concurrent requests
//! are, with every outcome including a crash mid-request), each replan checked by
//! [`super::check`].

use proptest::prelude::*;

use super::check::{
    content, every_row_accounted_for, gone_payments_not_planned, sent_rows_unchanged,
};
use super::{Desk, Payee};
use crate::domain::RowState;
use crate::journal::test_support::send;

/// Dialling codes and currencies of the countries RohoPay pays.
const COUNTRIES: [(&str, &str); 4] = [
    ("256", "UGX"),
    ("254", "KES"),
    ("255", "TZS"),
    ("250", "RWF"),
];
/// Few phones and amounts, so that payees share them as often as real files do.
const AMOUNTS: [&str; 3] = ["1000", "2500", "4000"];
/// References E0..E5; a rename may pick one already in the file (a duplicate reference).
const REFERENCES: u8 = 6;

/// A payee of the model file, as indices into the pools above.
#[derive(Clone, Copy, Debug)]
struct Spec {
    country: u8,
    phone: u8,
    amount: u8,
    /// `REFERENCES` or more: an empty reference cell.
    reference: u8,
    /// A spreadsheet-mangled phone: the row is invalid.
    invalid: bool,
}

impl Spec {
    fn payee(self) -> Payee {
        let (code, currency) = COUNTRIES[usize::from(self.country) % COUNTRIES.len()];
        let phone = if self.invalid {
            "2.567E+11".to_string()
        } else {
            format!("{code}7000000{:02}", self.phone)
        };
        let reference = if self.reference < REFERENCES {
            format!("E{}", self.reference)
        } else {
            String::new()
        };
        Payee::new(
            &reference,
            &phone,
            AMOUNTS[usize::from(self.amount) % AMOUNTS.len()],
            currency,
        )
    }
}

fn spec() -> impl Strategy<Value = Spec> {
    (
        prop_oneof![3 => Just(0u8), 1 => 1u8..4],
        0u8..3,
        0u8..3,
        prop_oneof![8 => 0..REFERENCES, 1 => Just(REFERENCES)],
        prop::bool::weighted(0.05),
    )
        .prop_map(|(country, phone, amount, reference, invalid)| Spec {
            country,
            phone,
            amount,
            reference,
            invalid,
        })
}

/// One edit of the file; indices are taken modulo the file's length.
#[derive(Clone, Debug)]
enum Edit {
    Amount(usize, u8),
    Phone(usize, u8),
    Country(usize, u8),
    Rename(usize, u8),
    Add(usize, Spec),
    Remove(usize),
    Swap(usize, usize),
    Duplicate(usize, usize),
}

fn edit() -> impl Strategy<Value = Edit> {
    let i = || 0usize..16;
    prop_oneof![
        (i(), 0u8..3).prop_map(|(i, a)| Edit::Amount(i, a)),
        (i(), 0u8..3).prop_map(|(i, p)| Edit::Phone(i, p)),
        (i(), 0u8..4).prop_map(|(i, c)| Edit::Country(i, c)),
        (i(), 0..REFERENCES + 1).prop_map(|(i, r)| Edit::Rename(i, r)),
        (i(), spec()).prop_map(|(i, s)| Edit::Add(i, s)),
        i().prop_map(Edit::Remove),
        (i(), i()).prop_map(|(i, j)| Edit::Swap(i, j)),
        (i(), i()).prop_map(|(i, j)| Edit::Duplicate(i, j)),
    ]
}

fn apply(file: &mut Vec<Spec>, edit: &Edit) {
    let n = file.len();
    if n == 0 {
        if let Edit::Add(_, s) = edit {
            file.push(*s);
        }
        return;
    }
    match *edit {
        Edit::Amount(i, a) => file[i % n].amount = a,
        Edit::Phone(i, p) => file[i % n].phone = p,
        Edit::Country(i, c) => file[i % n].country = c,
        Edit::Rename(i, r) => file[i % n].reference = r,
        Edit::Add(i, s) => file.insert(i % (n + 1), s),
        Edit::Remove(i) => {
            file.remove(i % n);
        }
        Edit::Swap(i, j) => file.swap(i % n, j % n),
        Edit::Duplicate(i, j) => {
            let copy = file[i % n];
            file.insert(j % (n + 1), copy);
        }
    }
}

/// Which open rows a run sends before it stops, and how each ends.
#[derive(Clone, Debug)]
struct Sends {
    /// Open rows sent in plan order.
    prefix: usize,
    /// Of the next few, which were sent too (concurrent requests overtake one another).
    overtaken: [bool; 3],
    /// Each sent row's end, in turn.
    outcomes: Vec<RowState>,
}

fn sends() -> impl Strategy<Value = Sends> {
    let outcome = prop_oneof![
        Just(RowState::Sending),
        Just(RowState::InDoubt),
        Just(RowState::Accepted),
        Just(RowState::Succeeded),
        Just(RowState::Failed),
    ];
    (
        0usize..8,
        any::<[bool; 3]>(),
        prop::collection::vec(outcome, 1..8),
    )
        .prop_map(|(prefix, overtaken, outcomes)| Sends {
            prefix,
            overtaken,
            outcomes,
        })
}

/// Send open rows of the batch as a run that stops part way would.
fn run(desk: &Desk, sends: &Sends) {
    let open: Vec<i64> = desk
        .rows()
        .into_iter()
        .filter(|r| r.state.is_open())
        .map(|r| r.id)
        .collect();
    let prefix = sends.prefix.min(open.len());
    let extra = sends
        .overtaken
        .iter()
        .enumerate()
        .filter(|(_, sent)| **sent)
        .filter_map(|(i, _)| open.get(prefix + i));
    for (n, id) in open[..prefix].iter().chain(extra).enumerate() {
        let outcome = sends.outcomes[n % sends.outcomes.len()];
        assert!(send(&desk.journal, *id, outcome), "row {id} was open");
    }
}

#[derive(Clone, Debug)]
struct Case {
    with_reference: bool,
    first: Vec<Spec>,
    rounds: Vec<(Sends, Vec<Edit>)>,
}

fn case() -> impl Strategy<Value = Case> {
    (
        any::<bool>(),
        prop::collection::vec(spec(), 1..8),
        prop::collection::vec((sends(), prop::collection::vec(edit(), 1..4)), 1..5),
    )
        .prop_map(|(with_reference, first, rounds)| Case {
            with_reference,
            first,
            rounds,
        })
}

fn payees(file: &[Spec]) -> Vec<Payee> {
    file.iter().map(|s| s.payee()).collect()
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(128))]
    /// Plan a file, then for each round send part of it and replan an edited file: every
    /// replan keeps sent rows as sent, plans no payment that left the file after being sent,
    /// accounts for every row of the file, and changes nothing when repeated.
    #[test]
    fn replans_keep_sent_rows_and_account_for_every_row(case in case()) {
        let mut desk = Desk::new(case.with_reference);
        let mut file = case.first.clone();
        desk.plan(&payees(&file));
        every_row_accounted_for(&desk.file_rows(&payees(&file)), &desk.rows());
        for (sends, edits) in &case.rounds {
            run(&desk, sends);
            for e in edits {
                apply(&mut file, e);
            }
            let payees = payees(&file);
            let rows = desk.file_rows(&payees);
            let before = desk.rows();
            let replanned = desk.replan(&payees);
            let after = desk.rows();
            prop_assert_eq!(replanned.rejected as usize, rows.invalid.len());
            sent_rows_unchanged(&before, &after);
            gone_payments_not_planned(&rows, &before, &after);
            every_row_accounted_for(&rows, &after);

            let again = desk.replan(&payees);
            prop_assert_eq!(
                (again.added, again.updated, again.withdrawn),
                (0, 0, 0),
                "{:?}", again
            );
            prop_assert_eq!(content(&desk.rows()), content(&after));
        }
    }
}
