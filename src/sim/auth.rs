//! Bearer-key check shared by both APIs: `Authorization: Bearer live_…` or `Bearer test_…`.
//! Any such key is accepted (there are no accounts); anything else is unauthorised.

use axum::http::{HeaderMap, header::AUTHORIZATION};

/// Which kind of key the caller used.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum KeyMode {
    Live,
    Test,
}

/// The key mode, or `None` when the header is missing, not `Bearer`, or the key is not a
/// `live_`/`test_` key.
pub(crate) fn key_mode(headers: &HeaderMap) -> Option<KeyMode> {
    let value = headers.get(AUTHORIZATION)?.to_str().ok()?.trim();
    let (scheme, key) = value.split_once(' ')?;
    if !scheme.eq_ignore_ascii_case("bearer") {
        return None;
    }
    let key = key.trim();
    let mode = if let Some(rest) = key.strip_prefix("live_") {
        (rest, KeyMode::Live)
    } else if let Some(rest) = key.strip_prefix("test_") {
        (rest, KeyMode::Test)
    } else {
        return None;
    };
    (!mode.0.is_empty() && !mode.0.contains(char::is_whitespace)).then_some(mode.1)
}

#[cfg(test)]
mod tests {
    use axum::http::HeaderValue;

    use super::*;

    fn mode(value: Option<&str>) -> Option<KeyMode> {
        let mut headers = HeaderMap::new();
        if let Some(v) = value {
            headers.insert(AUTHORIZATION, HeaderValue::from_str(v).unwrap());
        }
        key_mode(&headers)
    }

    #[test]
    fn accepts_live_and_test_bearer_keys() {
        assert_eq!(mode(Some("Bearer live_YOUR_KEY")), Some(KeyMode::Live));
        assert_eq!(mode(Some("bearer test_abc")), Some(KeyMode::Test));
    }

    #[test]
    fn refuses_everything_else() {
        for bad in [
            None,
            Some(""),
            Some("Bearer"),
            Some("Bearer "),
            Some("Basic live_abc"),
            Some("Bearer sk_abc"),
            Some("Bearer live_"),
            Some("Bearer live_a b"),
            Some("live_abc"),
        ] {
            assert_eq!(mode(bad), None, "{bad:?}");
        }
    }
}
