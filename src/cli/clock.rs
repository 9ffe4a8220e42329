//! Times for people: journal timestamps in the machine's local time with its UTC offset
//! (`2026-12-03 13:15:02 +03:00`). On Linux the local offset can only be read safely while the
//! process has a single thread, so it is read once, first thing in `main`, before any runtime
//! or journal thread starts; if it cannot be read (or `TZ` names no zone), times are shown in
//! UTC, honestly marked `+00:00`.

use std::sync::OnceLock;

use time::{
    OffsetDateTime, UtcOffset, format_description::BorrowedFormatItem, macros::format_description,
};

static OFFSET: OnceLock<UtcOffset> = OnceLock::new();

const SHOWN: &[BorrowedFormatItem<'_>] = format_description!(
    "[year]-[month]-[day] [hour]:[minute]:[second] [offset_hour sign:mandatory]:[offset_minute]"
);

/// Read the local offset while the process is single-threaded (call before anything spawns).
pub fn init() {
    let offset = UtcOffset::current_local_offset().unwrap_or(UtcOffset::UTC);
    let _ = OFFSET.set(offset);
}

/// The offset times are shown in: the local one read by [`init`], else UTC.
fn offset() -> UtcOffset {
    OFFSET.get().copied().unwrap_or(UtcOffset::UTC)
}

/// A journal timestamp (Unix milliseconds) in local time with its offset.
pub fn local(ms: i64) -> String {
    at_offset(ms, offset())
}

/// A journal timestamp shown at `offset`, to the second.
pub fn at_offset(ms: i64, offset: UtcOffset) -> String {
    OffsetDateTime::from_unix_timestamp(ms.div_euclid(1000))
        .ok()
        .map(|t| t.to_offset(offset))
        .and_then(|t| t.format(SHOWN).ok())
        .unwrap_or_else(|| ms.to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn times_carry_their_offset() {
        // 2026-11-21T09:30:00.999Z
        let ms = 1_795_253_400_999;
        assert_eq!(at_offset(ms, UtcOffset::UTC), "2026-11-21 09:30:00 +00:00");
        let nairobi = UtcOffset::from_hms(3, 0, 0).unwrap();
        assert_eq!(at_offset(ms, nairobi), "2026-11-21 12:30:00 +03:00");
        let west = UtcOffset::from_hms(-5, -30, 0).unwrap();
        assert_eq!(at_offset(ms, west), "2026-11-21 04:00:00 -05:30");
    }
}
