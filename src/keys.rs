//! Deterministic identities and idempotency keys (DESIGN §4). A row's key is derived from the
//! batch id and the row's identity, computed once at plan time and stored; nothing here is
//! random, so re-running the same file into the same batch yields the same keys.

use std::path::Path;

use sha2::{Digest, Sha256};
use uuid::Uuid;

use crate::domain::PayeeRow;

/// payrun's fixed UUIDv5 namespace: `uuid5(NAMESPACE_URL, "https://github.com/payrun/payrun/idempotency-key")`.
/// Changing it would re-key every future batch; never change it.
pub const KEY_NAMESPACE: Uuid = Uuid::from_u128(0x25b3d957_9bf9_59c5_a2c5_f8c30e836bf0);

/// Default batch id: `<file stem>-<first 12 hex of the file's SHA-256>`. The stem keeps only
/// characters that are safe to type in a shell (`[A-Za-z0-9._-]`, others become `-`).
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

/// The idempotency key: UUIDv5 of [`KEY_NAMESPACE`] over `batch_id + "/" + identity`.
pub fn idempotency_key(batch_id: &str, identity: &str) -> Uuid {
    let mut name = String::with_capacity(batch_id.len() + 1 + identity.len());
    name.push_str(batch_id);
    name.push('/');
    name.push_str(identity);
    Uuid::new_v5(&KEY_NAMESPACE, name.as_bytes())
}

/// SHA-256 of a file as lowercase hex, streamed.
pub fn file_sha256(path: &Path) -> std::io::Result<String> {
    use std::io::Read;
    let mut file = std::fs::File::open(path)?;
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
        assert_eq!(row_identity(&row(Some("EMP-1"), 0)), "EMP-1");
        assert_eq!(row_identity(&row(None, 0)), "256700123456|25000|UGX|0");
        assert_eq!(row_identity(&row(None, 2)), "256700123456|25000|UGX|2");
    }

    #[test]
    fn keys_are_deterministic_and_distinct() {
        let a = idempotency_key("payroll-0123456789ab", "EMP-1");
        assert_eq!(a, idempotency_key("payroll-0123456789ab", "EMP-1"));
        assert_ne!(a, idempotency_key("payroll-0123456789ab", "EMP-2"));
        assert_ne!(a, idempotency_key("other-0123456789ab", "EMP-1"));
        assert_eq!(a.get_version_num(), 5);
    }

    #[test]
    fn batch_id_uses_safe_stem_and_short_hash() {
        let id = default_batch_id(
            Path::new("/x/Nov payroll (final).csv"),
            "abcdef0123456789ffff",
        );
        assert_eq!(id, "Nov-payroll--final--abcdef012345");
    }
}
