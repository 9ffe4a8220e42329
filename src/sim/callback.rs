//! Terminal-status callbacks: POST the body to the payout's `callback_url`, signed
//! `X-Signature: hex(HMAC-SHA256(secret, raw body))` when a secret is configured (README,
//! section "Webhooks: `payrun listen`"),
//! retried with exponential backoff while the receiver is down. Runs on its own task, so a
//! slow or dead receiver never holds up request handling.

use std::time::Duration;

use axum::body::Bytes;
use hmac::{Hmac, KeyInit, Mac};
use sha2::Sha256;
use time::OffsetDateTime;

use super::payout::{Detail, Payout};
use super::{rohopay::wire as roho_wire, rumbapay::wire as rumba_wire};

/// Header carrying the signature.
const SIGNATURE_HEADER: &str = "X-Signature";
/// Attempts per callback before giving up.
const ATTEMPTS: u32 = 6;
/// Delay after the first failed attempt; doubles after each further one.
const FIRST_BACKOFF: Duration = Duration::from_millis(100);
/// Per-attempt timeout.
const ATTEMPT_TIMEOUT: Duration = Duration::from_secs(5);

/// The body POSTed to a terminal payout's `callback_url`, in its provider's wire format.
pub(crate) fn body(payout: &Payout, now: OffsetDateTime) -> serde_json::Result<Vec<u8>> {
    match &payout.detail {
        Detail::Rohopay(d) => roho_wire::callback_body(payout, d),
        Detail::Rumbapay(d) => rumba_wire::callback_body(payout, d, now),
    }
}

/// `hex(HMAC-SHA256(secret, body))`, lower case.
pub(crate) fn signature(secret: &str, body: &[u8]) -> String {
    // HMAC accepts keys of any length, so this constructor cannot fail; an error would
    // produce an empty signature that no receiver accepts, never a panic.
    match Hmac::<Sha256>::new_from_slice(secret.as_bytes()) {
        Ok(mut mac) => {
            mac.update(body);
            hex::encode(mac.finalize().into_bytes())
        }
        Err(_) => String::new(),
    }
}

/// Can a callback be POSTed to this URL? http or https with a host (plain http is accepted so
/// loopback receivers work in tests and demos).
pub(crate) fn is_callback_url(url: &str) -> bool {
    reqwest::Url::parse(url).is_ok_and(|u| matches!(u.scheme(), "http" | "https") && u.has_host())
}

/// The HTTP client for callbacks (one per simulator, built on first use).
pub(crate) fn client() -> Option<reqwest::Client> {
    match reqwest::Client::builder().timeout(ATTEMPT_TIMEOUT).build() {
        Ok(client) => Some(client),
        Err(err) => {
            tracing::warn!("sim: cannot build the callback HTTP client, callbacks disabled: {err}");
            None
        }
    }
}

/// Deliver one callback, retrying until a 2xx answer or the attempts run out.
pub(crate) async fn deliver(
    client: reqwest::Client,
    secret: Option<String>,
    url: Box<str>,
    body: Vec<u8>,
) {
    let signature = secret.as_deref().map(|s| signature(s, &body));
    let body = Bytes::from(body);
    let mut backoff = FIRST_BACKOFF;
    for attempt in 1..=ATTEMPTS {
        let mut request = client
            .post(&*url)
            .header(reqwest::header::CONTENT_TYPE, "application/json")
            .body(body.clone());
        if let Some(signature) = &signature {
            request = request.header(SIGNATURE_HEADER, signature);
        }
        match request.send().await {
            Ok(response) if response.status().is_success() => return,
            Ok(response) => {
                tracing::debug!(
                    "sim: callback {url} attempt {attempt}: {}",
                    response.status()
                );
            }
            Err(err) => tracing::debug!("sim: callback {url} attempt {attempt}: {err}"),
        }
        if attempt < ATTEMPTS {
            tokio::time::sleep(backoff).await;
            backoff *= 2;
        }
    }
    tracing::warn!("sim: callback to {url} not acknowledged after {ATTEMPTS} attempts");
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn callback_urls_must_be_http_with_a_host() {
        assert!(is_callback_url("https://your-app.com/webhooks/rohopay"));
        assert!(is_callback_url("http://127.0.0.1:8088/cb"));
        for bad in [
            "",
            "your-app.com/cb",
            "ftp://host/x",
            "https://",
            "mailto:a@b.c",
        ] {
            assert!(!is_callback_url(bad), "{bad}");
        }
    }

    #[test]
    fn signature_matches_a_known_hmac_sha256_vector() {
        // RFC 4231 test case 2.
        assert_eq!(
            signature("Jefe", b"what do ya want for nothing?"),
            "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843"
        );
    }
}
