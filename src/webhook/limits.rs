//! How much the webhook receiver gives any one client, so slow or many clients cannot take it
//! down (README "Webhooks: `payrun listen`", limits): a deadline for a request's head, a
//! deadline for its body, and a cap on open connections that stays below the process's
//! file-descriptor limit, with room left for the journal and the logs.

use std::time::Duration;

/// Longest a client may take to send a request's head (request line and headers), counted
/// from the connection opening or the previous answer on a kept-alive connection.
pub const HEADER_TIMEOUT: Duration = Duration::from_secs(10);

/// Longest a client may take to send a request's body once its head arrived.
pub const BODY_TIMEOUT: Duration = Duration::from_secs(30);

/// File descriptors kept free for everything that is not a client connection: standard
/// streams, the listening socket, the runtime, the journal and its `-wal`/`-shm` files.
pub const RESERVED_FDS: u64 = 64;

/// Fewest connections the cap allows, whatever the file-descriptor limit says.
pub const MIN_CONNECTIONS: usize = 8;

/// Most connections by default, even when the file-descriptor limit is huge.
pub const MAX_CONNECTIONS: usize = 4096;

/// The receiver's limits.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Limits {
    pub header_timeout: Duration,
    pub body_timeout: Duration,
    pub max_connections: usize,
}

impl Default for Limits {
    /// The documented timeouts and a cap derived from this process's `RLIMIT_NOFILE`.
    fn default() -> Self {
        Limits {
            header_timeout: HEADER_TIMEOUT,
            body_timeout: BODY_TIMEOUT,
            max_connections: connections_for(open_files_limit()),
        }
    }
}

/// The soft limit on open files, if the system says.
fn open_files_limit() -> Option<u64> {
    nix::sys::resource::getrlimit(nix::sys::resource::Resource::RLIMIT_NOFILE)
        .ok()
        .map(|(soft, _hard)| soft)
}

/// The connection cap for a file-descriptor limit: the limit less [`RESERVED_FDS`], between
/// [`MIN_CONNECTIONS`] and [`MAX_CONNECTIONS`].
pub fn connections_for(nofile: Option<u64>) -> usize {
    let Some(nofile) = nofile else {
        return MAX_CONNECTIONS;
    };
    let room = usize::try_from(nofile.saturating_sub(RESERVED_FDS)).unwrap_or(MAX_CONNECTIONS);
    room.clamp(MIN_CONNECTIONS, MAX_CONNECTIONS)
}

/// Parse a duration as written on the command line: `10`, `10s` or `500ms`; at least 1 ms.
pub fn parse_duration(text: &str) -> Result<Duration, String> {
    let t = text.trim();
    let (digits, millis) = if let Some(n) = t.strip_suffix("ms") {
        (n, true)
    } else {
        (t.strip_suffix('s').unwrap_or(t), false)
    };
    let n: u64 = digits
        .trim()
        .parse()
        .map_err(|_| format!("{text:?} is not a duration; write e.g. 10s or 500ms"))?;
    let d = if millis {
        Duration::from_millis(n)
    } else {
        Duration::from_secs(n)
    };
    if d.is_zero() {
        return Err(format!("{text:?}: a timeout must be longer than zero"));
    }
    Ok(d)
}

/// Parse a connection cap: a whole number, at least 1.
pub fn parse_connections(text: &str) -> Result<usize, String> {
    match text.trim().parse::<usize>() {
        Ok(n) if n >= 1 => Ok(n),
        _ => Err(format!("{text:?} is not a connection count of at least 1")),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_cap_leaves_room_below_the_file_limit() {
        assert_eq!(connections_for(Some(256)), 192);
        assert_eq!(connections_for(Some(1024)), 960);
        assert_eq!(connections_for(Some(20)), MIN_CONNECTIONS);
        assert_eq!(connections_for(Some(1 << 20)), MAX_CONNECTIONS);
        assert_eq!(connections_for(None), MAX_CONNECTIONS);
    }

    #[test]
    fn durations_are_seconds_or_milliseconds() {
        assert_eq!(parse_duration("10"), Ok(Duration::from_secs(10)));
        assert_eq!(parse_duration(" 30s"), Ok(Duration::from_secs(30)));
        assert_eq!(parse_duration("250ms"), Ok(Duration::from_millis(250)));
        assert!(
            parse_duration("0")
                .unwrap_err()
                .contains("longer than zero")
        );
        assert!(parse_duration("soon").unwrap_err().contains("10s or 500ms"));
        assert!(parse_duration("-1s").unwrap_err().contains("10s or 500ms"));
    }

    #[test]
    fn connection_counts_are_positive_whole_numbers() {
        assert_eq!(parse_connections("300"), Ok(300));
        assert!(parse_connections("0").is_err());
        assert!(parse_connections("many").is_err());
    }
}
