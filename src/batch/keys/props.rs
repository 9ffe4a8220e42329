//! Key scheme 2 is injective: distinct (batch, identity kind, identity) triples never share a
//! key, whatever separators, NUL bytes or length-prefix look-alikes the batch id and the
//! identity hold. Shown two ways: the hashed bytes decode back to exactly the triple (so two
//! triples cannot encode alike), and keys of triples built to be confusable differ.

use proptest::prelude::*;

use super::{IdentityKind, idempotency_key, key_name};

/// The inverse of [`key_name`], for the test: the four fields, or `None` if the bytes are not
/// exactly four length-prefixed UTF-8 fields.
fn decode(mut bytes: &[u8]) -> Option<Vec<String>> {
    let mut fields = Vec::new();
    while !bytes.is_empty() {
        let (len, rest) = bytes.split_first_chunk::<8>()?;
        let len = usize::try_from(u64::from_be_bytes(*len)).ok()?;
        let field = rest.get(..len)?;
        fields.push(String::from_utf8(field.to_vec()).ok()?);
        bytes = &rest[len..];
    }
    (fields.len() == 4).then_some(fields)
}

/// Text that looks like a length prefix: 8 big-endian bytes of a small number, as UTF-8.
fn prefix_lookalike() -> impl Strategy<Value = String> {
    (0u8..24).prop_map(|n| {
        let mut s = "\0".repeat(7);
        s.push(char::from(n));
        s
    })
}

/// Batch ids and identities made of separators, NUL, the kind letters and fake prefixes.
fn confusable() -> impl Strategy<Value = String> {
    let piece = prop_oneof![
        4 => "[ab:./|\\-rd\u{0}]{0,3}",
        1 => prefix_lookalike(),
        1 => Just("payrun-key/2".to_string()),
    ];
    prop::collection::vec(piece, 0..4).prop_map(|pieces| pieces.concat())
}

fn kind(reference: bool) -> IdentityKind {
    if reference {
        IdentityKind::Reference
    } else {
        IdentityKind::Derived
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(3000))]

    /// The bytes hashed for a key decode to exactly its triple.
    #[test]
    fn the_encoding_decodes_to_its_triple(b in confusable(), r: bool, i in confusable()) {
        let fields = decode(&key_name(&b, kind(r), &i));
        let letter = if r { "r" } else { "d" };
        prop_assert_eq!(
            fields,
            Some(vec!["payrun-key/2".to_string(), b, letter.to_string(), i])
        );
    }

    /// Distinct triples never share a key, including the same text split differently between
    /// batch id and identity, or a prefix and kind letter smuggled into either.
    #[test]
    fn distinct_triples_never_share_a_key(
        a in confusable(), ka: bool, x in confusable(),
        b in confusable(), kb: bool, y in confusable(),
        split in 0usize..64,
    ) {
        let key = idempotency_key(&a, kind(ka), &x);
        let same = a == b && ka == kb && x == y;
        prop_assert_eq!(key == idempotency_key(&b, kind(kb), &y), same);
        // The same bytes cut elsewhere between batch id and identity.
        let joined = format!("{a}{x}");
        let cut = split % (joined.len() + 1);
        if cut != a.len() && joined.is_char_boundary(cut) {
            let moved = idempotency_key(&joined[..cut], kind(ka), &joined[cut..]);
            prop_assert_ne!(key, moved);
        }
        // The identity carrying what would follow the batch id in the encoding.
        let letter = if ka { "r" } else { "d" };
        let smuggled = format!("{a}\0\0\0\0\0\0\0\u{1}{letter}{x}");
        prop_assert_ne!(key, idempotency_key(&smuggled, kind(!ka), &x));
        prop_assert_ne!(key, idempotency_key(&a, kind(!ka), &x));
    }
}
