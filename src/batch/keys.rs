//! Deterministic identities and idempotency keys (README, "Keys and identity"). A row's key is
//! derived from the batch id and the row's identity, computed once at plan time and stored;
//! nothing here is random, so re-running the same file into the same batch yields the same keys.

use std::path::Path;

use sha2::{Digest, Sha256};
use uuid::Uuid;

use crate::domain::PayeeRow;

/// payrun's fixed UUIDv5 namespace: `uuid5(NAMESPACE_URL, "https://github.com/payrun/payrun/idempotency-key")`.
/// Changing it would re-key every future batch; never change it.
pub const KEY_NAMESPACE: Uuid = Uuid::from_u128(0x25b3d957_9bf9_59c5_a2c5_f8c30e836bf0);

/// Default batch id: `<file stem>-<first 12 hex of the file's SHA-256>`. The stem keeps only
/// characters that are safe to type in a shell (`[A-Za-z0-9._-]`, others become `-`) and at
/// most 87 of them, so the id passes [`check_batch_id`].
pub fn default_batch_id(path: &Path, file_sha256_hex: &str) -> String {
    let stem = path
        .file_stem()
        .map(|s| s.to_string_lossy().into_owned())
        .unwrap_or_default();
    let mut safe: String = stem
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || matches!(c, '.' | '_' | '-') {
                c
            } else {
                '-'
            }
        })
        .collect();
    if safe.is_empty() {
        safe.push_str("batch");
    }
    // Room for the dash and the 12 hex digits within the longest batch id.
    safe.truncate(MAX_BATCH_ID - 13);
    let short = file_sha256_hex.get(..12).unwrap_or(file_sha256_hex);
    format!("{safe}-{short}")
}

/// Row identity: the `reference` column when present; otherwise
/// `phone|amount_minor|currency|n`, where n counts earlier identical triples in the file.
pub fn row_identity(row: &PayeeRow) -> String {
    match &row.reference {
        Some(reference) => reference.clone(),
        None => format!(
            "{}|{}|{}|{}",
            row.phone.international(),
            row.amount.get(),
            row.currency.code(),
            row.occurrence
        ),
    }
}

/// Whether a row's identity is the file's `reference` or derived from phone, amount and
/// currency. The two never share a key, even when the text is the same (a reference written
/// as `256772123456|5000|UGX|1`).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum IdentityKind {
    Reference,
    Derived,
}

impl IdentityKind {
    pub fn of(row: &PayeeRow) -> IdentityKind {
        if row.reference.is_some() {
            IdentityKind::Reference
        } else {
            IdentityKind::Derived
        }
    }
}

/// The key derivation of payrun before key scheme 2: `batch_id + "/" + identity`. Ambiguous
/// (`march` + `b/c` = `march/b` + `c`); kept only so rows added to a batch planned with it
/// are keyed the way its other rows were. Never used for a new batch.
pub const KEY_SCHEME_LEGACY: i64 = 1;
/// The key derivation of new batches: length-prefixed batch id, identity kind and identity.
pub const KEY_SCHEME: i64 = 2;

/// The idempotency key of a row in a batch keyed with `scheme` (see [`KEY_SCHEME`]).
pub fn key_for(scheme: i64, batch_id: &str, kind: IdentityKind, identity: &str) -> Uuid {
    if scheme == KEY_SCHEME_LEGACY {
        return legacy_key(batch_id, identity);
    }
    idempotency_key(batch_id, kind, identity)
}

/// Key scheme 2: UUIDv5 of [`KEY_NAMESPACE`] over an unambiguous encoding, each field preceded
/// by its length in bytes (8 bytes, big-endian): `"payrun-key/2"`, the batch id, the identity
/// kind (`r` reference, `d` derived) and the identity. No two distinct (batch, kind, identity)
/// triples encode to the same bytes.
pub fn idempotency_key(batch_id: &str, kind: IdentityKind, identity: &str) -> Uuid {
    Uuid::new_v5(&KEY_NAMESPACE, &key_name(batch_id, kind, identity))
}

/// The bytes key scheme 2 hashes: each field preceded by its length (8 bytes, big-endian).
fn key_name(batch_id: &str, kind: IdentityKind, identity: &str) -> Vec<u8> {
    let kind = match kind {
        IdentityKind::Reference => "r",
        IdentityKind::Derived => "d",
    };
    let mut name = Vec::with_capacity(64 + batch_id.len() + identity.len());
    for field in ["payrun-key/2", batch_id, kind, identity] {
        name.extend_from_slice(&(field.len() as u64).to_be_bytes());
        name.extend_from_slice(field.as_bytes());
    }
    name
}

/// The key of attempt `attempt` (2 or more) of a row that `payrun retry` pays again, in a
/// batch of either key scheme: UUIDv5 of [`KEY_NAMESPACE`] over the fields `payrun-retry/1`,
/// the batch id, the identity kind, the identity and the attempt number in decimal, each
/// preceded by its length (8 bytes, big-endian). Attempt 1 is the row's planned key
/// ([`key_for`]), unchanged; no attempt of any row shares a key with another attempt or row.
pub fn retry_key(batch_id: &str, kind: IdentityKind, identity: &str, attempt: u32) -> Uuid {
    let kind = match kind {
        IdentityKind::Reference => "r",
        IdentityKind::Derived => "d",
    };
    let attempt = attempt.to_string();
    let mut name = Vec::with_capacity(80 + batch_id.len() + identity.len());
    for field in ["payrun-retry/1", batch_id, kind, identity, &attempt] {
        name.extend_from_slice(&(field.len() as u64).to_be_bytes());
        name.extend_from_slice(field.as_bytes());
    }
    Uuid::new_v5(&KEY_NAMESPACE, &name)
}

/// Key scheme 1: UUIDv5 of [`KEY_NAMESPACE`] over `batch_id + "/" + identity`.
pub fn legacy_key(batch_id: &str, identity: &str) -> Uuid {
    let mut name = String::with_capacity(batch_id.len() + 1 + identity.len());
    name.push_str(batch_id);
    name.push('/');
    name.push_str(identity);
    Uuid::new_v5(&KEY_NAMESPACE, name.as_bytes())
}

/// Longest batch id `--batch` accepts.
pub const MAX_BATCH_ID: usize = 100;

/// Why a batch id is refused.
#[derive(Debug, PartialEq, Eq, thiserror::Error)]
pub enum BatchIdError {
    #[error("the batch id is empty")]
    Empty,
    #[error("the batch id is {0} characters long; at most {MAX_BATCH_ID} are allowed")]
    TooLong(usize),
    #[error(
        "the batch id {} contains {}; use only letters A-Z and a-z, digits, and . _ : -",
        crate::domain::Quoted(id),
        crate::domain::ShownChar(*bad)
    )]
    BadChar { id: String, bad: char },
}

/// A batch id is non-empty, at most [`MAX_BATCH_ID`] characters, from `[A-Za-z0-9._:-]`.
pub fn check_batch_id(id: &str) -> Result<(), BatchIdError> {
    if id.is_empty() {
        return Err(BatchIdError::Empty);
    }
    if let Some(bad) = id
        .chars()
        .find(|c| !(c.is_ascii_alphanumeric() || matches!(c, '.' | '_' | ':' | '-')))
    {
        return Err(BatchIdError::BadChar {
            id: id.to_string(),
            bad,
        });
    }
    if id.len() > MAX_BATCH_ID {
        return Err(BatchIdError::TooLong(id.len()));
    }
    Ok(())
}

/// SHA-256 of a file as lowercase hex, streamed.
pub fn file_sha256(path: &Path) -> std::io::Result<String> {
    use std::io::Read;
    let mut file = crate::ingest::open_regular(path).map_err(std::io::Error::other)?;
    let mut hasher = Sha256::new();
    let mut buf = vec![0u8; 256 * 1024];
    loop {
        match file.read(&mut buf) {
            Ok(0) => break,
            Ok(n) => hasher.update(&buf[..n]),
            Err(e) if e.kind() == std::io::ErrorKind::Interrupted => {}
            Err(e) => return Err(e),
        }
    }
    Ok(hex::encode(hasher.finalize()))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::{Country, Currency, MinorUnits, Phone};

    fn row(reference: Option<&str>, occurrence: u32) -> PayeeRow {
        let (phone, _) = Phone::parse("256700123456", Some(Country::Uganda)).unwrap();
        PayeeRow {
            line: 2,
            reference: reference.map(str::to_string),
            phone,
            amount: MinorUnits::new(25000).unwrap(),
            currency: Currency::UGX,
            operator: None,
            first_name: None,
            last_name: None,
            description: None,
            document: None,
            occurrence,
        }
    }

    #[test]
    fn namespace_is_the_documented_constant() {
        assert_eq!(
            KEY_NAMESPACE,
            Uuid::new_v5(
                &Uuid::NAMESPACE_URL,
                b"https://github.com/payrun/payrun/idempotency-key"
            )
        );
    }

    #[test]
    fn identity_prefers_reference_and_counts_repeats_otherwise() {
        assert_eq!(
            IdentityKind::of(&row(Some("E"), 0)),
            IdentityKind::Reference
        );
        assert_eq!(IdentityKind::of(&row(None, 0)), IdentityKind::Derived);
        assert_eq!(row_identity(&row(Some("EMP-1"), 0)), "EMP-1");
        assert_eq!(row_identity(&row(None, 0)), "256700123456|25000|UGX|0");
        assert_eq!(row_identity(&row(None, 2)), "256700123456|25000|UGX|2");
    }

    #[test]
    fn keys_are_deterministic_and_distinct() {
        let r = IdentityKind::Reference;
        let a = idempotency_key("payroll-0123456789ab", r, "EMP-1");
        assert_eq!(a, idempotency_key("payroll-0123456789ab", r, "EMP-1"));
        assert_ne!(a, idempotency_key("payroll-0123456789ab", r, "EMP-2"));
        assert_ne!(a, idempotency_key("other-0123456789ab", r, "EMP-1"));
        assert_eq!(a.get_version_num(), 5);
    }

    #[test]
    fn separators_and_derived_look_alikes_do_not_collide() {
        let r = IdentityKind::Reference;
        let d = IdentityKind::Derived;
        // The old derivation's collision, and its fix.
        assert_eq!(legacy_key("march", "b/c"), legacy_key("march/b", "c"));
        assert_ne!(
            idempotency_key("march", r, "b/c"),
            idempotency_key("march/b", r, "c")
        );
        let id = "256772123456|5000|UGX|1";
        assert_ne!(idempotency_key("b", r, id), idempotency_key("b", d, id));
        // Old batches keep their keys; new ones use scheme 2.
        assert_eq!(key_for(1, "b", r, "E1"), legacy_key("b", "E1"));
        assert_eq!(key_for(2, "b", r, "E1"), idempotency_key("b", r, "E1"));
    }

    #[test]
    fn retry_keys_are_new_per_attempt_and_leave_attempt_1_alone() {
        let batch = "payroll-f747a9a15ff7";
        let r = IdentityKind::Reference;
        let first = key_for(KEY_SCHEME, batch, r, "EMP-0001");
        assert_eq!(first.to_string(), "463d6772-359d-5baa-ae84-6d9a6fe73be9");
        // Computed apart from this code (uuid5 over the documented bytes).
        assert_eq!(
            retry_key(batch, r, "EMP-0001", 2).to_string(),
            "5773122a-585d-5e89-b9a0-ae4cbb4274af"
        );
        let mut seen = std::collections::HashSet::new();
        seen.insert(first);
        seen.insert(legacy_key(batch, "EMP-0001"));
        for attempt in 2..50 {
            assert!(seen.insert(retry_key(batch, r, "EMP-0001", attempt)));
            assert!(seen.insert(retry_key(batch, IdentityKind::Derived, "EMP-0001", attempt)));
            assert!(seen.insert(retry_key(batch, r, "EMP-0002", attempt)));
        }
        assert_eq!(
            retry_key(batch, r, "EMP-0001", 3),
            retry_key(batch, r, "EMP-0001", 3),
            "deterministic"
        );
    }

    #[test]
    fn batch_ids_are_checked() {
        assert_eq!(check_batch_id("march-2026_v1.2:final"), Ok(()));
        assert_eq!(check_batch_id(""), Err(BatchIdError::Empty));
        assert!(matches!(
            check_batch_id("march/b"),
            Err(BatchIdError::BadChar { bad: '/', .. })
        ));
        assert!(matches!(
            check_batch_id("pay day"),
            Err(BatchIdError::BadChar { bad: ' ', .. })
        ));
        assert!(matches!(
            check_batch_id("caf\u{e9}"),
            Err(BatchIdError::BadChar { bad: '\u{e9}', .. })
        ));
        assert_eq!(check_batch_id(&"x".repeat(100)), Ok(()));
        assert_eq!(
            check_batch_id(&"x".repeat(101)),
            Err(BatchIdError::TooLong(101))
        );
        let long = Path::new(&format!("/x/{}.csv", "n".repeat(300))).to_path_buf();
        assert_eq!(
            check_batch_id(&default_batch_id(&long, &"ab".repeat(32))),
            Ok(())
        );
    }

    #[test]
    fn batch_id_uses_safe_stem_and_short_hash() {
        let id = default_batch_id(
            Path::new("/x/Nov payroll (final).csv"),
            "abcdef0123456789ffff",
        );
        assert_eq!(id, "Nov-payroll--final--abcdef012345");
    }

    #[test]
    fn known_keys_are_pinned() {
        // Computed apart from this code (uuid5 over the documented bytes): a change here
        // re-keys batches already planned, and their rows would be paid again.
        let batch = "payroll-f747a9a15ff7";
        assert_eq!(
            legacy_key(batch, "EMP-0001").to_string(),
            "22dadb9f-ebe7-5f7a-9ebc-24e83a7fbcea"
        );
        assert_eq!(
            key_for(KEY_SCHEME_LEGACY, batch, IdentityKind::Derived, "EMP-0001"),
            legacy_key(batch, "EMP-0001"),
            "scheme 1 ignores the identity kind"
        );
        assert_eq!(
            idempotency_key(batch, IdentityKind::Reference, "EMP-0001").to_string(),
            "463d6772-359d-5baa-ae84-6d9a6fe73be9"
        );
        assert_eq!(
            idempotency_key(batch, IdentityKind::Derived, "256775881399|1400000|UGX|0").to_string(),
            "73536613-de84-58b1-952e-81a314558f08"
        );
    }
}

#[cfg(test)]
mod props;
