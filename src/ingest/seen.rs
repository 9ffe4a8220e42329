//! Duplicate detection across a whole file in bounded memory: which earlier line used this
//! reference, and which earlier valid row had this phone + amount + currency.
//!
//! Keeping every reference string of a million-row file would cost far more than the 64 MB
//! budget, so each entry is a 96-bit key plus the 32-bit line of first use: 16 bytes.
//! - Triples are packed *exactly* into 96 bits (currency 3 bits, national number < 10^9 in 30
//!   bits, amount < 2^63 in 63 bits): no collision is possible, so `occurrence` (which row
//!   identity depends on) is exact and independent of anything but the earlier rows.
//! - References are keyed by 96 bits of two SipHash-1-3 outputs under one random per-process
//!   key (of two different messages: the reference, and the reference with one byte more). Two different references collide with probability 2^-96 per pair: about 6·10^-18 for
//!   a million-row file. A collision could only produce a false "duplicate reference" error
//!   (the row is refused, never paid twice).
//!
//! The table is open addressing with linear probing, split into 16 shards that grow one at a
//! time by ×1.25 at 80 % load, so memory stays near 20 bytes per entry with no moment where a
//! whole table is copied at once.

use std::{
    collections::HashMap,
    hash::{BuildHasher, Hash, Hasher, RandomState},
};

use crate::domain::{Currency, MinorUnits, Phone};

const SHARDS: usize = 16;
const MIN_SHARD_SLOTS: usize = 64;

#[derive(Clone, Copy, Default)]
struct Slot {
    key: [u32; 3],
    /// Line of first use; 0 marks an empty slot (data rows start at line 2).
    line: u32,
}

/// A map from 96-bit key to the line that first used it.
pub(crate) struct FirstSeen {
    shards: Vec<Shard>,
}

#[derive(Default)]
struct Shard {
    slots: Vec<Slot>,
    len: usize,
}

impl FirstSeen {
    pub(crate) fn new() -> FirstSeen {
        FirstSeen {
            shards: (0..SHARDS).map(|_| Shard::default()).collect(),
        }
    }

    /// The line that first used `key`, or `None` after recording `line` as its first use.
    pub(crate) fn first_or_insert(&mut self, key: [u32; 3], line: u64) -> Option<u64> {
        let hash = rehash(key);
        let line = u32::try_from(line).unwrap_or(u32::MAX).max(1);
        let shard = &mut self.shards[(hash >> 60) as usize];
        if (shard.len + 1) * 5 > shard.slots.len() * 4 {
            shard.grow();
        }
        let home = shard.home(hash);
        let slots = shard.slots.len();
        let mut i = home;
        loop {
            let slot = &mut shard.slots[i];
            if slot.line == 0 {
                *slot = Slot { key, line };
                shard.len += 1;
                return None;
            }
            if slot.key == key {
                return Some(u64::from(slot.line));
            }
            i += 1;
            if i == slots {
                i = 0;
            }
        }
    }

    /// Read the home slot of `key`. Reading the home slots of a whole batch of rows up front
    /// lets their cache misses overlap, instead of paying one full memory round trip per row.
    fn touch(&self, key: [u32; 3]) -> u32 {
        let hash = rehash(key);
        let shard = &self.shards[(hash >> 60) as usize];
        match shard.slots.get(shard.home(hash)) {
            Some(slot) => slot.line,
            None => 0,
        }
    }

    #[cfg(test)]
    fn len(&self) -> usize {
        self.shards.iter().map(|s| s.len).sum()
    }
}

impl Shard {
    /// Home slot: the hash's low 60 bits scaled to the table size (no power-of-two needed).
    fn home(&self, hash: u64) -> usize {
        (((hash << 4) as u128 * self.slots.len() as u128) >> 64) as usize
    }

    fn grow(&mut self) {
        let size = (self.slots.len() + self.slots.len() / 4).max(MIN_SHARD_SLOTS);
        let old = std::mem::replace(&mut self.slots, vec![Slot::default(); size]);
        for slot in old.into_iter().filter(|s| s.line != 0) {
            let mut i = self.home(rehash(slot.key));
            while self.slots[i].line != 0 {
                i = if i + 1 == size { 0 } else { i + 1 };
            }
            self.slots[i] = slot;
        }
    }
}

/// The index hash of a key (shard in the top 4 bits, home slot from the rest).
fn rehash(key: [u32; 3]) -> u64 {
    // SplitMix64 finaliser over the 96 bits: cheap and well mixed; keys from references are
    // already uniformly random, triples are structured and need the mixing.
    let mut x = (u64::from(key[0]) | u64::from(key[1]) << 32)
        ^ u64::from(key[2]).wrapping_mul(0x9E37_79B9_7F4A_7C15);
    x = (x ^ (x >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    x = (x ^ (x >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    x ^ (x >> 31)
}

/// Both duplicate checks for one file: a `reference` used again (an error), and a row paying
/// the same phone, amount and currency as an earlier one (a warning); README, section
/// "Validation rules".
pub(crate) struct Duplicates {
    hasher: RandomState,
    references: FirstSeen,
    triples: FirstSeen,
    /// Valid rows seen so far, for triples seen more than once.
    repeats: HashMap<[u32; 3], u32>,
}

impl Duplicates {
    pub(crate) fn new() -> Duplicates {
        Duplicates {
            hasher: RandomState::new(),
            references: FirstSeen::new(),
            triples: FirstSeen::new(),
            repeats: HashMap::new(),
        }
    }

    /// The table key of a reference (as written, trimmed): the hashes of two different
    /// messages, the reference (with `str`'s end marker) and the reference followed by one more
    /// byte, taken from one pass over its bytes.
    pub(crate) fn reference_key(&self, reference: &str) -> [u32; 3] {
        let mut hasher = self.hasher.build_hasher();
        reference.hash(&mut hasher);
        let a = hasher.clone().finish();
        hasher.write_u8(1);
        let b = hasher.finish();
        [a as u32, (a >> 32) as u32, b as u32]
    }

    /// Bring the table slots of a batch of upcoming checks into cache (see `FirstSeen::touch`).
    pub(crate) fn warm<'k>(&self, keys: impl Iterator<Item = &'k RowKeys>) {
        let mut seen = 0u32;
        for keys in keys {
            if let Some(key) = keys.reference {
                seen ^= self.references.touch(key);
            }
            if let Some(key) = keys.triple {
                seen ^= self.triples.touch(key);
            }
        }
        std::hint::black_box(seen);
    }

    /// The line that first used this reference key, or `None` (and `line` is now its first
    /// use).
    pub(crate) fn reference(&mut self, key: [u32; 3], line: u64) -> Option<u64> {
        self.references.first_or_insert(key, line)
    }

    /// Record a valid row's triple key. Returns the line of the first valid row with the same
    /// phone, amount and currency (if any) and this row's occurrence: how many earlier valid
    /// rows had them.
    pub(crate) fn triple(&mut self, key: [u32; 3], line: u64) -> (Option<u64>, u32) {
        let Some(first) = self.triples.first_or_insert(key, line) else {
            return (None, 0);
        };
        let seen = self.repeats.entry(key).or_insert(1);
        let occurrence = *seen;
        *seen = seen.saturating_add(1);
        (Some(first), occurrence)
    }
}

/// The duplicate-detection keys of one row.
#[derive(Clone, Copy, Debug, Default)]
pub(crate) struct RowKeys {
    /// Its reference, when it has one.
    pub reference: Option<[u32; 3]>,
    /// Its phone + amount + currency, when they are all valid.
    pub triple: Option<[u32; 3]>,
}

/// Exact 96-bit form of a valid (phone, amount, currency): the phone's country is the
/// currency's, so the national number identifies the phone.
pub(crate) fn triple_key(phone: &Phone, amount: MinorUnits, currency: Currency) -> [u32; 3] {
    let code_len = phone.country().dialling_code().len();
    let national = phone
        .international()
        .get(code_len..)
        .unwrap_or("")
        .bytes()
        .fold(0u128, |n, b| n * 10 + u128::from(b.wrapping_sub(b'0')))
        & ((1 << 30) - 1);
    let packed =
        (currency as u128) << 93 | national << 63 | u128::from(amount.get()) & ((1 << 63) - 1);
    [packed as u32, (packed >> 32) as u32, (packed >> 64) as u32]
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::Country;

    fn phone(raw: &str) -> Phone {
        Phone::parse(raw, Some(Country::Uganda)).unwrap().0
    }

    #[test]
    fn remembers_first_line_across_growth() {
        let mut seen = FirstSeen::new();
        for i in 0..50_000u64 {
            let key = [i as u32, (i * 7) as u32, 3];
            assert_eq!(seen.first_or_insert(key, i + 2), None);
        }
        assert_eq!(seen.len(), 50_000);
        for i in (0..50_000u64).step_by(997) {
            let key = [i as u32, (i * 7) as u32, 3];
            assert_eq!(seen.first_or_insert(key, 999_999), Some(i + 2));
        }
        assert_eq!(seen.len(), 50_000);
    }

    #[test]
    fn duplicate_reference_names_the_first_line() {
        let mut d = Duplicates::new();
        let key = |d: &Duplicates, r: &str| d.reference_key(r);
        let (k1, k2, lower) = (key(&d, "EMP-1"), key(&d, "EMP-2"), key(&d, "emp-1"));
        assert_eq!(d.reference(k1, 2), None);
        assert_eq!(d.reference(k2, 3), None);
        assert_eq!(d.reference(k1, 9), Some(2));
        assert_eq!(d.reference(k1, 12), Some(2));
        assert_eq!(d.reference(lower, 13), None);
    }

    #[test]
    fn distinct_references_get_distinct_keys_and_equal_ones_the_same() {
        let d = Duplicates::new();
        let mut keys = std::collections::HashSet::new();
        for i in 0..100_000u32 {
            let reference = format!("EMP-{i:07}");
            assert!(keys.insert(d.reference_key(&reference)), "{reference}");
            assert_eq!(
                d.reference_key(&reference),
                d.reference_key(&reference.clone())
            );
        }
        // A reference and the same text with one more character (even the byte the second
        // hash adds) are different references.
        for (a, b) in [("a", "a\u{1}"), ("", "\u{1}"), ("EMP-1", "EMP-1 ")] {
            assert_ne!(d.reference_key(a), d.reference_key(b), "{a:?} {b:?}");
        }
    }

    #[test]
    fn triples_count_occurrences_exactly() {
        let mut d = Duplicates::new();
        let p = phone("256700123456");
        let amount = MinorUnits::new(25_000).unwrap();
        let key = triple_key(&p, amount, Currency::UGX);
        assert_eq!(d.triple(key, 2), (None, 0));
        assert_eq!(d.triple(key, 5), (Some(2), 1));
        assert_eq!(d.triple(key, 9), (Some(2), 2));
        let other = MinorUnits::new(25_001).unwrap();
        assert_eq!(
            d.triple(triple_key(&p, other, Currency::UGX), 10),
            (None, 0)
        );
        let elsewhere = triple_key(&phone("256700123457"), amount, Currency::UGX);
        assert_eq!(d.triple(elsewhere, 11), (None, 0));
    }

    #[test]
    fn packing_is_injective_on_its_parts() {
        let p = phone("256799999999");
        let max = MinorUnits::new(MinorUnits::MAX).unwrap();
        let a = triple_key(&p, max, Currency::UGX);
        let b = triple_key(&p, max, Currency::XAF);
        let c = triple_key(&phone("256700000001"), max, Currency::UGX);
        assert!(a != b && a != c && b != c);
    }
}
