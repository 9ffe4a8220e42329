//! Timestamps written the way each seed document writes them: RohoPay `2024-07-15T09:00:00Z`,
//! Rumbapay dates `2025-08-27T08:27:49.014` (no zone) and timestamps
//! `2025-08-27T08:27:49.2818969Z` (seven fractional digits), and RFC 3339 for the ledger.

use time::{OffsetDateTime, format_description::FormatItem, macros::format_description};

const ROHOPAY: &[FormatItem<'static>] =
    format_description!("[year]-[month]-[day]T[hour]:[minute]:[second]Z");
const RUMBAPAY_DATE: &[FormatItem<'static>] =
    format_description!("[year]-[month]-[day]T[hour]:[minute]:[second].[subsecond digits:3]");
const RUMBAPAY_TIMESTAMP: &[FormatItem<'static>] =
    format_description!("[year]-[month]-[day]T[hour]:[minute]:[second].[subsecond digits:7]Z");

/// Current UTC time.
pub(crate) fn now() -> OffsetDateTime {
    OffsetDateTime::now_utc()
}

/// Formatting a UTC time with a fixed all-numeric description cannot fail; an empty string
/// would only ever show up if the `time` crate changed that.
fn format(at: OffsetDateTime, items: &[FormatItem<'static>]) -> String {
    at.format(items).unwrap_or_default()
}

/// `2024-07-15T09:00:00Z`
pub(crate) fn rohopay(at: OffsetDateTime) -> String {
    format(at, ROHOPAY)
}

/// `2025-08-27T08:27:49.014`
pub(crate) fn rumbapay_date(at: OffsetDateTime) -> String {
    format(at, RUMBAPAY_DATE)
}

/// `2025-08-27T08:27:49.2818969Z`
pub(crate) fn rumbapay_timestamp(at: OffsetDateTime) -> String {
    format(at, RUMBAPAY_TIMESTAMP)
}

/// RFC 3339, for the ledger.
pub(crate) fn rfc3339(at: OffsetDateTime) -> String {
    at.format(&time::format_description::well_known::Rfc3339)
        .unwrap_or_default()
}

/// Milliseconds since the Unix epoch (for ULIDs).
pub(crate) fn unix_ms(at: OffsetDateTime) -> u64 {
    u64::try_from(at.unix_timestamp_nanos() / 1_000_000).unwrap_or(0)
}

#[cfg(test)]
mod tests {
    use time::macros::datetime;

    use super::*;

    #[test]
    fn formats_match_the_seed_documents() {
        let at = datetime!(2025-08-27 08:27:49.281_896_912 UTC);
        assert_eq!(rohopay(at), "2025-08-27T08:27:49Z");
        assert_eq!(rumbapay_date(at), "2025-08-27T08:27:49.281");
        assert_eq!(rumbapay_timestamp(at), "2025-08-27T08:27:49.2818969Z");
        assert_eq!(rfc3339(at), "2025-08-27T08:27:49.281896912Z");
        assert_eq!(unix_ms(at), 1_756_283_269_281);
    }
}
