//! Simulator integration tests: the simulator runs in-process on a loopback port (or as the
//! real `payrun sim` binary) and is spoken to over real HTTP, starting from the seed
//! documents' own example requests.

mod binary;
mod callbacks;
mod faults;
mod ledger;
mod lies;
mod rohopay;
mod rumbapay;

/// Keys of a JSON object, sorted.
fn keys(value: &serde_json::Value) -> Vec<&str> {
    let mut keys: Vec<&str> = value
        .as_object()
        .expect("a JSON object")
        .keys()
        .map(String::as_str)
        .collect();
    keys.sort_unstable();
    keys
}

/// Sorted copy of a list of field names.
fn sorted<'a>(names: &[&'a str]) -> Vec<&'a str> {
    let mut names = names.to_vec();
    names.sort_unstable();
    names
}

/// `s` is `len` characters, each accepted by `ok`.
fn all_of(s: &str, len: usize, ok: impl Fn(char) -> bool) -> bool {
    s.chars().count() == len && s.chars().all(ok)
}

/// An RFC 3339 UTC timestamp.
fn is_rfc3339_utc(s: &str) -> bool {
    s.ends_with('Z')
        && time::OffsetDateTime::parse(s, &time::format_description::well_known::Rfc3339).is_ok()
}
