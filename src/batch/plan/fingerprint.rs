//! What a file pays, independent of its bytes and of the batch id: the same payees re-saved
//! with other line endings, reordered, or planned under another `--batch` have the same
//! fingerprint, so payrun can refuse to pay them a second time by mistake (README, "Why
//! re-running a file never double-pays").
//!
//! Each valid row contributes the SHA-256 of its identity (and whether it is a reference),
//! phone, amount in minor units, currency, description (empty when absent) and provider, each
//! field length-prefixed. The digests are added as 256-bit numbers (order-independent, and a
//! row twice counts twice), and the fingerprint is the SHA-256 of that sum and the row count.
//! Constant memory, one hash per row, computed on the CSV thread while planning.

use sha2::{Digest, Sha256};

use crate::batch::keys::{self, IdentityKind};
use crate::domain::{PayeeRow, ProviderKind};

/// Accumulates the fingerprint of the valid rows of a file.
#[derive(Clone, Debug)]
pub struct Fingerprint {
    provider: ProviderKind,
    /// Little-endian 64-bit limbs of the running 256-bit sum.
    sum: [u64; 4],
    rows: u64,
}

impl Fingerprint {
    pub fn new(provider: ProviderKind) -> Fingerprint {
        Fingerprint {
            provider,
            sum: [0; 4],
            rows: 0,
        }
    }

    /// Add one valid row.
    pub fn add(&mut self, row: &PayeeRow) {
        let identity = keys::row_identity(row);
        let kind = match IdentityKind::of(row) {
            IdentityKind::Reference => "r",
            IdentityKind::Derived => "d",
        };
        let amount = row.amount.get().to_string();
        let mut hasher = Sha256::new();
        for field in [
            kind,
            identity.as_str(),
            row.phone.international(),
            amount.as_str(),
            row.currency.code(),
            row.description.as_deref().unwrap_or(""),
            self.provider.name(),
        ] {
            hasher.update((field.len() as u64).to_be_bytes());
            hasher.update(field.as_bytes());
        }
        let digest = hasher.finalize();
        let mut carry = 0u128;
        for (i, limb) in self.sum.iter_mut().enumerate() {
            let mut bytes = [0u8; 8];
            bytes.copy_from_slice(&digest[i * 8..i * 8 + 8]);
            let total = u128::from(*limb) + u128::from(u64::from_le_bytes(bytes)) + carry;
            *limb = total as u64;
            carry = total >> 64;
        }
        self.rows += 1;
    }

    /// The fingerprint as lowercase hex.
    pub fn finish(&self) -> String {
        let mut hasher = Sha256::new();
        hasher.update(b"payrun-fingerprint/1");
        hasher.update(self.rows.to_be_bytes());
        for limb in self.sum {
            hasher.update(limb.to_le_bytes());
        }
        hex::encode(hasher.finalize())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::{Country, Currency, MinorUnits, Phone};

    fn row(reference: Option<&str>, phone: &str, amount: u64) -> PayeeRow {
        let (phone, _) = Phone::parse(phone, Some(Country::Uganda)).unwrap();
        PayeeRow {
            line: 2,
            reference: reference.map(str::to_string),
            phone,
            amount: MinorUnits::new(amount).unwrap(),
            currency: Currency::UGX,
            operator: None,
            first_name: None,
            last_name: None,
            description: None,
            document: None,
            occurrence: 0,
        }
    }

    fn of(rows: &[PayeeRow]) -> String {
        let mut fp = Fingerprint::new(ProviderKind::Rohopay);
        rows.iter().for_each(|r| fp.add(r));
        fp.finish()
    }

    #[test]
    fn order_does_not_matter_but_every_paid_field_does() {
        let a = row(Some("E1"), "256700123456", 5000);
        let b = row(Some("E2"), "256700123457", 6000);
        assert_eq!(of(&[a.clone(), b.clone()]), of(&[b.clone(), a.clone()]));
        assert_ne!(of(std::slice::from_ref(&a)), of(&[a.clone(), b.clone()]));
        assert_ne!(of(&[a.clone(), a.clone()]), of(std::slice::from_ref(&a)));
        let mut changed = b.clone();
        changed.amount = MinorUnits::new(6001).unwrap();
        assert_ne!(of(&[a.clone(), b.clone()]), of(&[a.clone(), changed]));
        let mut described = b.clone();
        described.description = Some("March salary".into());
        assert_ne!(of(&[a.clone(), b.clone()]), of(&[a.clone(), described]));
        assert_ne!(
            of(&[row(None, "256700123456", 5000)]),
            of(&[row(Some("256700123456|5000|UGX|0"), "256700123456", 5000)]),
            "a reference that spells a derived identity is another row"
        );
        let mut rumba = Fingerprint::new(ProviderKind::Rumbapay);
        rumba.add(&a);
        assert_ne!(rumba.finish(), of(&[a]));
    }
}
