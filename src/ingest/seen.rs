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
//! whole table is copied at once. When the number of rows can be estimated (a regular file's
//! length over the bytes of its first rows), both tables are sized for it up front, so they
//! (almost) never grow: growing rehashes every entry again, about four times over a whole file.

use std::{
    collections::HashMap,
    hash::{BuildHasher, Hash, Hasher, RandomState},
};

use crate::domain::{Currency, MinorUnits, Phone};

const SHARDS: usize = 16;
const MIN_SHARD_SLOTS: usize = 64;
/// Presizing never reserves room for more entries than this per table (2 × 24 MB of slots):
/// an estimate of the row count can be wrong, and even one twice too high must keep a
/// million-row file within the 64 MB budget (open addressing touches every page it reserves).
/// Beyond it the tables grow as they fill.
const MAX_PRESIZE_ENTRIES: u64 = 1_200_000;

/// One slot: the 96-bit key, then the line of first use (0 marks an empty slot: data rows
/// start at line 2). Plain integers, so a new table is a zeroed allocation whose pages are
/// only mapped as they are first written.
type Slot = [u32; 4];
const LINE: usize = 3;

fn key_of(slot: &Slot) -> [u32; 3] {
    [slot[0], slot[1], slot[2]]
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

    /// Make room for about `entries` keys in all (at most [`MAX_PRESIZE_ENTRIES`]) so that
    /// the table need not grow while they are inserted. A hint only: more keys still fit.
    pub(crate) fn reserve(&mut self, entries: u64) {
        // A tenth more: shards fill unevenly and an estimate is only an estimate.
        let entries = entries
            .saturating_add(entries / 10)
            .min(MAX_PRESIZE_ENTRIES);
        let per_shard = entries.div_ceil(SHARDS as u64);
        // Room for the keys at 80 % load, when the growth check would let them in.
        let slots = usize::try_from(per_shard * 5 / 4 + 1).unwrap_or(usize::MAX);
        for shard in &mut self.shards {
            if slots > shard.slots.len() {
                shard.resize(slots);
            }
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
            if slot[LINE] == 0 {
                *slot = [key[0], key[1], key[2], line];
                shard.len += 1;
                return None;
            }
            if key_of(slot) == key {
                return Some(u64::from(slot[LINE]));
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
            Some(slot) => slot[LINE],
            None => 0,
        }
    }

    #[cfg(test)]
    fn len(&self) -> usize {
        self.shards.iter().map(|s| s.len).sum()
    }

    #[cfg(test)]
    fn slots(&self) -> usize {
        self.shards.iter().map(|s| s.slots.len()).sum()
    }
}

impl Shard {
    /// Home slot: the hash's low 60 bits scaled to the table size (no power-of-two needed).
    fn home(&self, hash: u64) -> usize {
        (((hash << 4) as u128 * self.slots.len() as u128) >> 64) as usize
    }

    fn grow(&mut self) {
        self.resize((self.slots.len() + self.slots.len() / 4).max(MIN_SHARD_SLOTS));
    }

    /// Move every entry into a fresh table of `size` slots (more than the entries).
    fn resize(&mut self, size: usize) {
        let old = std::mem::replace(&mut self.slots, vec![[0; 4]; size]);
        for slot in old.into_iter().filter(|s| s[LINE] != 0) {
            let mut i = self.home(rehash(key_of(&slot)));
            while self.slots[i][LINE] != 0 {
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

    /// Size both tables for about `rows` rows (see [`FirstSeen::reserve`]).
    pub(crate) fn reserve(&mut self, rows: u64) {
        self.references.reserve(rows);
        self.triples.reserve(rows);
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

/// The number of data rows a file of `file_len` bytes will have, from the first `rows` of them,
/// which took the bytes from offset `start` (the end of the header) to `now`. `None` when
/// nothing can be told (no rows, or no bytes, read yet).
pub(crate) fn estimate_rows(file_len: u64, start: u64, now: u64, rows: u64) -> Option<u64> {
    let read = now.checked_sub(start).filter(|&n| n > 0)?;
    if rows == 0 {
        return None;
    }
    let rest = u128::from(file_len.saturating_sub(now)) * u128::from(rows) / u128::from(read);
    Some(rows.saturating_add(u64::try_from(rest).unwrap_or(u64::MAX)))
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
    fn a_reserved_table_holds_more_keys_than_reserved() {
        for reserved in [0, 1, 1_000, 20_000] {
            let mut seen = FirstSeen::new();
            seen.reserve(reserved);
            for i in 0..30_000u64 {
                assert_eq!(seen.first_or_insert([i as u32, 1, 2], i + 2), None);
            }
            for i in (0..30_000u64).step_by(101) {
                assert_eq!(seen.first_or_insert([i as u32, 1, 2], 5), Some(i + 2));
            }
            assert_eq!(seen.len(), 30_000);
        }
    }

    #[test]
    fn reserving_keeps_what_is_there_and_is_capped() {
        let mut seen = FirstSeen::new();
        for i in 0..100u64 {
            seen.first_or_insert([i as u32, 0, 0], i + 2);
        }
        seen.reserve(50_000);
        // Room for the estimate and a tenth more at 80 % load: no growth on the way.
        assert!(seen.slots() >= 55_000 * 5 / 4, "{}", seen.slots());
        let before = seen.slots();
        for i in 0..50_000u64 {
            let first = seen.first_or_insert([i as u32, 0, 0], i + 1_000);
            assert_eq!(first, (i < 100).then_some(i + 2));
        }
        assert_eq!(seen.slots(), before);
        seen.reserve(10); // never shrinks
        assert_eq!(seen.slots(), before);

        let mut huge = FirstSeen::new();
        huge.reserve(u64::MAX);
        let cap = MAX_PRESIZE_ENTRIES as usize * 5 / 4 + SHARDS;
        assert!(huge.slots() <= cap, "{}", huge.slots());
    }

    #[test]
    fn rows_are_estimated_from_the_first_ones() {
        // 10 rows took bytes 100..200 of a 1,000-byte file: 80 more rows in the other 800.
        assert_eq!(estimate_rows(1_000, 100, 200, 10), Some(90));
        // Nothing read yet, or no rows: no estimate.
        assert_eq!(estimate_rows(1_000, 100, 100, 10), None);
        assert_eq!(estimate_rows(1_000, 100, 200, 0), None);
        assert_eq!(estimate_rows(1_000, 200, 100, 3), None);
        // A file that turned out shorter than told, or the whole file read.
        assert_eq!(estimate_rows(150, 100, 200, 10), Some(10));
        assert_eq!(estimate_rows(u64::MAX, 0, 1, 1), Some(u64::MAX));
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
