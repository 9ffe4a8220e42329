//! What a callback did to the journal, as one value: the word stored with the delivery and
//! the row's event, and the line `listen` prints (see `report`) are both derived from it.

use crate::domain::RowState;
use crate::journal::RowRef;

/// Delivery outcome meaning "no row matched"; such a delivery is looked at again if it comes
/// back, in case its row was journaled meanwhile.
pub(super) const UNKNOWN: &str = "unknown";

/// What a callback did.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Verdict {
    /// The row moved from `row.state` to `to`; `to == row.state` when the callback confirmed an
    /// acceptance that was unconfirmed.
    Applied { row: RowRef, to: RowState },
    /// The row is already at or past what the callback reports; nothing changed.
    Ignored { row: RowRef, reported: RowState },
    /// This exact body was handled before (first outcome given); nothing changed.
    Duplicate { row: Option<RowRef>, first: String },
    /// The callback's amount, currency, phone or reference contradict the row: not applied,
    /// and the row is marked as needing a person.
    Mismatch { row: RowRef, problems: Vec<String> },
    /// The callback is about an earlier attempt of the row, one that failed and that
    /// `payrun retry` replaced: nothing changes, but a report that it was paid after all
    /// (`flagged`) marks the row as needing a person, since the new attempt may pay too.
    Earlier {
        row: RowRef,
        attempt: u32,
        reported: RowState,
        flagged: bool,
    },
    /// Several rows carry the callback's id: none is picked, each needs a person.
    Ambiguous { rows: Vec<i64> },
    /// No row of a batch sent through this provider matches.
    Unknown,
    /// No row carries the id yet, but a row with the callback's payee, amount and currency is
    /// still waiting for its answer: the callback outran it. Nothing written; retry later.
    NotYetJournaled,
}

impl Verdict {
    /// The word stored with the delivery and the event.
    pub fn outcome(&self) -> String {
        match self {
            Verdict::Applied { row, to } if *to == row.state => "confirmed".into(),
            Verdict::Applied { to, .. } => to.as_str().into(),
            Verdict::Ignored { row, .. } => format!("ignored: already {}", row.state),
            Verdict::Duplicate { .. } => "duplicate".into(),
            Verdict::Mismatch { .. } => "mismatch".into(),
            Verdict::Earlier { flagged: true, .. } => "earlier attempt: needs a person".into(),
            Verdict::Earlier { .. } => "earlier attempt: ignored".into(),
            Verdict::Ambiguous { .. } => "ambiguous".into(),
            Verdict::Unknown => UNKNOWN.into(),
            Verdict::NotYetJournaled => "not journaled yet".into(),
        }
    }

    /// A final state reported for a row already at the other final state (`successful` after
    /// `failed`, or `failed` after `succeeded`): the row keeps its state, a person must look.
    pub fn is_contrary(&self) -> bool {
        matches!(self, Verdict::Ignored { row, reported }
            if row.state.rank() == 3 && reported.rank() == 3 && *reported != row.state)
    }
}
