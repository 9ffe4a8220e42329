//! A full disk under the journal, recognised from SQLite's answer and said in words a clerk
//! can act on: that the disk is full, where, and what that means for the payouts.

use std::path::Path;

/// SQLITE_FULL: a write found no room on the disk.
pub fn is_disk_full(e: &rusqlite::Error) -> bool {
    e.sqlite_error_code() == Some(rusqlite::ErrorCode::DiskFull)
}

/// What a full disk under the journal means. "Nothing unjournaled was sent" holds because a
/// payout request leaves only after its row's `sending` mark is committed (a failed commit
/// stops that row before its request), so a payout whose answer could not be recorded stays
/// `sending` and resume resends it with the same key and body.
pub fn disk_full_message(path: &Path) -> String {
    let dir = match path.parent() {
        Some(dir) if !dir.as_os_str().is_empty() => dir.display().to_string(),
        _ => ".".to_owned(),
    };
    format!(
        "the disk holding the journal {} is full (no room left in {dir}); nothing unjournaled was sent: \
         every payout request leaves only after its row is recorded as `sending`, and a row whose answer \
         could not be recorded stays `sending` and is resent with the same key on resume, so the provider \
         answers with the first result instead of paying again. Free space in {dir}, then resume",
        path.display()
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_message_names_the_journal_and_its_directory() {
        let text = disk_full_message(Path::new("/data/pay/payrun.db"));
        assert!(text.starts_with("the disk holding the journal /data/pay/payrun.db is full"));
        assert!(text.contains("no room left in /data/pay"), "{text}");
        assert!(text.contains("nothing unjournaled was sent"), "{text}");
        let bare = disk_full_message(Path::new("payrun.db"));
        assert!(bare.contains("no room left in ."), "{bare}");
    }
}
