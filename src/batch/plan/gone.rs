//! Sent rows that left an edited file, and the rows of the file they answer for. A row whose
//! payout may have been executed and whose identity is no longer in the file (a renamed
//! reference, or without a reference column an edited amount or phone) was paid; a row the
//! edited file would newly pay the same (phone, amount, currency), or a new row of the same
//! phone and currency, is most likely that payee again, so it is a conflict and not paid.
//! Each gone row answers for one such row.

use std::collections::{HashMap, VecDeque};

use crate::domain::RowState;
use crate::journal::{ExistingRow, PlannedRow};

/// A sent row that left the file, as a conflict note names it.
pub(super) struct Gone {
    row_id: i64,
    line: u64,
    reference: Option<String>,
    state: RowState,
    amount_minor: u64,
    amount_text: String,
    currency: String,
}

impl Gone {
    fn named(&self) -> String {
        match &self.reference {
            Some(r) => format!("line {} (reference {r})", self.line),
            None => format!("line {}", self.line),
        }
    }

    /// The note of a row that pays exactly what this gone row paid.
    pub(super) fn same_payment_note(&self, p: &PlannedRow) -> String {
        format!(
            "line {} pays {} {} to {}, the payment already {} for {}, which is no longer in the \
             file (a renamed reference?); not paid",
            p.line,
            p.amount_text,
            p.currency,
            p.phone,
            self.state,
            self.named()
        )
    }

    /// The note of a new row of the phone this gone row paid, with another amount.
    pub(super) fn same_phone_note(&self, p: &PlannedRow) -> String {
        format!(
            "line {} pays {} {} to {}, which was already {} for {} with another amount ({} {}); not paid",
            p.line,
            p.amount_text,
            p.currency,
            p.phone,
            self.state,
            self.named(),
            self.amount_text,
            self.currency
        )
    }
}

/// States in which a row's payout may have been executed by the provider.
pub(super) fn maybe_paid(state: RowState) -> bool {
    matches!(
        state,
        RowState::Sending | RowState::InDoubt | RowState::Accepted | RowState::Succeeded
    )
}

/// The sent rows no longer in the file, by payment and by phone; a row taken from one is
/// taken from the other too.
#[derive(Default)]
pub(super) struct GoneRows<'a> {
    payments: HashMap<(&'a str, u64, &'a str), VecDeque<Gone>>,
    phones: HashMap<(&'a str, &'a str), VecDeque<Gone>>,
}

impl<'a> GoneRows<'a> {
    /// `old` left the file; kept if it may have been paid.
    pub(super) fn add(&mut self, old: &'a ExistingRow) {
        if !maybe_paid(old.state) {
            return;
        }
        let gone = || Gone {
            row_id: old.id,
            line: old.line,
            reference: old.reference.clone(),
            state: old.state,
            amount_minor: old.amount_minor,
            amount_text: old.amount_text.clone(),
            currency: old.currency.clone(),
        };
        let queue = self
            .payments
            .entry((&old.phone, old.amount_minor, &old.currency))
            .or_default();
        insert_by_line(queue, gone());
        let queue = self.phones.entry((&old.phone, &old.currency)).or_default();
        insert_by_line(queue, gone());
    }

    /// The gone row (lowest line first) that paid exactly what `p` pays, taken.
    pub(super) fn take_payment(&mut self, p: &'a PlannedRow) -> Option<Gone> {
        let code = p.currency.code();
        let gone = self
            .payments
            .get_mut(&(p.phone.as_str(), p.amount_minor, code))?
            .pop_front()?;
        if let Some(q) = self.phones.get_mut(&(p.phone.as_str(), code)) {
            q.retain(|g| g.row_id != gone.row_id);
        }
        Some(gone)
    }

    /// A gone row (lowest line first) of `p`'s phone and currency, taken.
    pub(super) fn take_phone(&mut self, p: &'a PlannedRow) -> Option<Gone> {
        let code = p.currency.code();
        let gone = self
            .phones
            .get_mut(&(p.phone.as_str(), code))?
            .pop_front()?;
        if let Some(q) = self
            .payments
            .get_mut(&(p.phone.as_str(), gone.amount_minor, code))
        {
            q.retain(|g| g.row_id != gone.row_id);
        }
        Some(gone)
    }
}

/// Lowest line first, so the notes pair rows the way a person reading the file would.
fn insert_by_line(queue: &mut VecDeque<Gone>, gone: Gone) {
    let at = queue.partition_point(|g| (g.line, g.row_id) <= (gone.line, gone.row_id));
    queue.insert(at, gone);
}
