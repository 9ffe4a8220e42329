//! `X-Signature: hex(HMAC-SHA256(secret, raw body))` (README "Webhooks", assumed for both
//! providers). The header is decoded before the body is read, so an unsigned request costs
//! nothing; the comparison is the `hmac` crate's constant-time `verify_slice` on the decoded
//! bytes.

use axum::http::HeaderMap;
use hmac::{Hmac, KeyInit, Mac};
use secrecy::{ExposeSecret, SecretString};
use sha2::{Digest, Sha256};

/// The header carrying the signature (matched case-insensitively, as all HTTP headers).
pub const SIGNATURE_HEADER: &str = "x-signature";

/// Why a signature was refused. None of these says anything about the secret.
#[derive(Clone, Copy, Debug, PartialEq, Eq, thiserror::Error)]
pub enum SignatureError {
    #[error("no X-Signature header")]
    Missing,
    #[error("X-Signature is not a hex string")]
    NotHex,
    #[error("X-Signature does not match the body (wrong secret, or the body was altered)")]
    Mismatch,
}

/// The decoded `X-Signature` tag of a request (hex in either case; surrounding spaces ignored).
pub fn tag(headers: &HeaderMap) -> Result<Vec<u8>, SignatureError> {
    let value = headers
        .get(SIGNATURE_HEADER)
        .ok_or(SignatureError::Missing)?;
    let text = value.to_str().map_err(|_| SignatureError::NotHex)?.trim();
    if text.is_empty() {
        return Err(SignatureError::Missing);
    }
    hex::decode(text).map_err(|_| SignatureError::NotHex)
}

/// Check `tag` against the HMAC-SHA256 of `body` under `secret`, in constant time.
pub fn verify(secret: &SecretString, body: &[u8], tag: &[u8]) -> Result<(), SignatureError> {
    let mut mac = Hmac::<Sha256>::new_from_slice(secret.expose_secret().as_bytes())
        .map_err(|_| SignatureError::Mismatch)?;
    mac.update(body);
    mac.verify_slice(tag).map_err(|_| SignatureError::Mismatch)
}

/// Lower-case hex SHA-256 of a delivery's raw body: its identity for deduplication.
pub fn digest(body: &[u8]) -> String {
    hex::encode(Sha256::digest(body))
}

#[cfg(test)]
mod tests {
    use super::*;
    use axum::http::HeaderValue;

    fn headers(value: Option<&str>) -> HeaderMap {
        let mut h = HeaderMap::new();
        if let Some(v) = value {
            h.insert("X-Signature", HeaderValue::from_str(v).unwrap());
        }
        h
    }

    // RFC 4231 test case 2.
    const KEY: &str = "Jefe";
    const DATA: &[u8] = b"what do ya want for nothing?";
    const MAC: &str = "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843";

    #[test]
    fn accepts_the_rfc_4231_vector_in_either_case() {
        let secret = SecretString::from(KEY);
        for text in [MAC.to_owned(), MAC.to_uppercase(), format!(" {MAC} ")] {
            let t = tag(&headers(Some(&text))).unwrap();
            assert_eq!(verify(&secret, DATA, &t), Ok(()), "{text}");
        }
    }

    #[test]
    fn refuses_missing_undecodable_short_and_wrong_tags() {
        let secret = SecretString::from(KEY);
        assert_eq!(tag(&headers(None)), Err(SignatureError::Missing));
        assert_eq!(tag(&headers(Some(""))), Err(SignatureError::Missing));
        assert_eq!(tag(&headers(Some("xyz"))), Err(SignatureError::NotHex));
        assert_eq!(tag(&headers(Some("abc"))), Err(SignatureError::NotHex));
        let short = tag(&headers(Some(&MAC[..32]))).unwrap();
        assert_eq!(verify(&secret, DATA, &short), Err(SignatureError::Mismatch));
        let full = tag(&headers(Some(MAC))).unwrap();
        assert_eq!(
            verify(&SecretString::from("other"), DATA, &full),
            Err(SignatureError::Mismatch)
        );
        assert_eq!(
            verify(&secret, b"what do ya want for nothing!", &full),
            Err(SignatureError::Mismatch)
        );
    }

    #[test]
    fn digest_is_hex_sha256() {
        assert_eq!(
            digest(b"abc"),
            "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"
        );
    }
}
