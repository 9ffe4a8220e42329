//! Provider-style identifiers: RohoPay's ULID-like `id`, `internal_reference` and
//! `provider_reference`; Rumbapay's `request_id` (UUID) and `identifier` (`MOB` + 9 digits).
//!
//! Random parts come from a ChaCha stream seeded with `--seed` mixed with an instance nonce
//! (clock and process id): a restarted simulator — `resume --sandbox` starts a new one — must
//! never hand out a request id or transaction id an earlier one gave another payee, even with
//! the same `--seed` (faults stay reproducible; they do not depend on ids). The short
//! references are a bijection of a sequence number (multiply by a constant coprime to the
//! modulus, add a seeded offset), so they look random yet never collide within one run.

use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use uuid::Uuid;

/// Crockford base32, lower case, as ULIDs are written in the RohoPay example.
const CROCKFORD: &[u8; 32] = b"0123456789abcdefghjkmnpqrstvwxyz";
const BASE36_UPPER: &[u8; 36] = b"0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ";
/// Coprime to 2, 3 and 5, hence to every modulus used below.
const SPREAD: u128 = 1_234_567_891;

/// Generates identifiers; one per simulator, used under the state lock.
pub(crate) struct IdGen {
    rng: ChaCha8Rng,
    offset: u64,
    seq: u64,
}

impl IdGen {
    /// The generator of one simulator instance: `seed` mixed with this instance's nonce.
    pub(crate) fn for_instance(seed: u64) -> Self {
        IdGen::new(seed ^ instance_nonce())
    }

    pub(crate) fn new(seed: u64) -> Self {
        let mut rng = ChaCha8Rng::seed_from_u64(seed);
        let offset = rng.next_u64();
        IdGen {
            rng,
            offset,
            seq: 0,
        }
    }

    /// A fresh random UUID (v4 layout) from the seeded stream.
    pub(crate) fn uuid(&mut self) -> Uuid {
        let mut bytes = [0u8; 16];
        self.rng.fill_bytes(&mut bytes);
        uuid::Builder::from_random_bytes(bytes).into_uuid()
    }

    /// A 26-character lower-case ULID: 48-bit millisecond time, then 80 random bits.
    pub(crate) fn ulid(&mut self, unix_ms: u64) -> String {
        let mut random = [0u8; 10];
        self.rng.fill_bytes(&mut random);
        let mut value: u128 = u128::from(unix_ms & 0xFFFF_FFFF_FFFF) << 80;
        for (i, byte) in random.iter().enumerate() {
            value |= u128::from(*byte) << (8 * (9 - i));
        }
        let mut out = String::with_capacity(26);
        for i in (0..26).rev() {
            out.push(char::from(CROCKFORD[((value >> (5 * i)) & 31) as usize]));
        }
        out
    }

    /// Next sequence number; every payout takes one.
    pub(crate) fn next_seq(&mut self) -> u64 {
        self.seq += 1;
        self.seq
    }

    /// `RHP-<year>-<8 upper-case alphanumerics>`, unique per sequence number.
    pub(crate) fn internal_reference(&self, year: i32, seq: u64) -> String {
        let mut n = self.scatter(seq, 36u128.pow(8));
        let mut tail = [b'0'; 8];
        for slot in tail.iter_mut().rev() {
            *slot = BASE36_UPPER[(n % 36) as usize];
            n /= 36;
        }
        format!("RHP-{year}-{}", String::from_utf8_lossy(&tail))
    }

    /// A 10-digit string, unique per sequence number.
    pub(crate) fn provider_reference(&self, seq: u64) -> String {
        format!("{:010}", self.scatter(seq, 10u128.pow(10)))
    }

    /// `MOB` + 9 digits, unique per sequence number (up to 10^9 payouts).
    pub(crate) fn mob_identifier(&self, seq: u64) -> String {
        format!("MOB{:09}", self.scatter(seq, 10u128.pow(9)))
    }

    fn scatter(&self, seq: u64, modulus: u128) -> u128 {
        (u128::from(seq) * SPREAD + u128::from(self.offset)) % modulus
    }
}

/// Differs between simulator instances: nanoseconds of the clock, the process id, and a
/// counter of instances in this process, hashed together.
fn instance_nonce() -> u64 {
    use sha2::{Digest, Sha256};
    use std::sync::atomic::{AtomicU64, Ordering};
    static INSTANCES: AtomicU64 = AtomicU64::new(0);
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_nanos());
    let mut hasher = Sha256::new();
    hasher.update(nanos.to_le_bytes());
    hasher.update(std::process::id().to_le_bytes());
    hasher.update(INSTANCES.fetch_add(1, Ordering::Relaxed).to_le_bytes());
    let digest = hasher.finalize();
    let mut first = [0u8; 8];
    first.copy_from_slice(&digest[..8]);
    u64::from_le_bytes(first)
}

#[cfg(test)]
mod tests {
    use std::collections::HashSet;

    use super::*;

    #[test]
    fn ulid_is_26_lowercase_alphanumerics_and_time_ordered() {
        let mut ids = IdGen::new(1);
        let a = ids.ulid(1_700_000_000_000);
        let b = ids.ulid(1_700_000_000_001);
        assert_eq!(a.len(), 26);
        assert!(
            a.bytes()
                .all(|c| c.is_ascii_digit() || c.is_ascii_lowercase())
        );
        assert!(a < b);
    }

    #[test]
    fn short_references_never_collide() {
        let ids = IdGen::new(42);
        let mut refs = HashSet::new();
        let mut provider_refs = HashSet::new();
        let mut mobs = HashSet::new();
        for seq in 1..=50_000 {
            let r = ids.internal_reference(2025, seq);
            assert_eq!(r.len(), "RHP-2025-".len() + 8, "{r}");
            assert!(refs.insert(r));
            let p = ids.provider_reference(seq);
            assert!(
                p.len() == 10 && p.bytes().all(|b| b.is_ascii_digit()),
                "{p}"
            );
            assert!(provider_refs.insert(p));
            let m = ids.mob_identifier(seq);
            assert!(m.starts_with("MOB") && m.len() == 12, "{m}");
            assert!(mobs.insert(m));
        }
    }

    #[test]
    fn instances_with_the_same_seed_hand_out_different_ids() {
        let (mut a, mut b) = (IdGen::for_instance(9), IdGen::for_instance(9));
        assert_ne!(a.uuid(), b.uuid());
        assert_ne!(a.ulid(1_700_000_000_000), b.ulid(1_700_000_000_000));
    }

    #[test]
    fn same_seed_same_ids() {
        let (mut a, mut b) = (IdGen::new(9), IdGen::new(9));
        assert_eq!(a.uuid(), b.uuid());
        assert_eq!(a.internal_reference(2025, 3), b.internal_reference(2025, 3));
        assert_ne!(IdGen::new(10).uuid(), IdGen::new(9).uuid());
        assert_eq!(a.uuid().get_version_num(), 4);
    }
}
