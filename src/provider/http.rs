//! HTTP plumbing shared by the provider clients: one pooled reqwest client (rustls), sending
//! with timing, and the classification of transport failures into "never left" (safe to
//! retry) versus "may have been executed" (in doubt). Redirects are never followed: a 3xx on a
//! payment may come after the provider executed it, so it is an answer in doubt, not a hop.

use std::time::{Duration, SystemTime};

use reqwest::{Client, RequestBuilder, Response, StatusCode, Url, header::HeaderMap};
use secrecy::{ExposeSecret, SecretString};

use super::{ProviderConfig, ProviderError};

/// What every provider client holds: the pooled HTTP client, the base URL and the key. Builds
/// authenticated requests so no client handles the key itself.
pub struct ApiBase {
    http: Client,
    base: Url,
    key: SecretString,
    test_key: bool,
}

impl ApiBase {
    pub fn new(config: &ProviderConfig) -> Result<ApiBase, reqwest::Error> {
        Ok(ApiBase {
            http: client(config)?,
            base: config.base_url.clone(),
            key: config.api_key.clone(),
            test_key: config.is_test_key(),
        })
    }

    pub fn is_test_key(&self) -> bool {
        self.test_key
    }

    /// `base + path`, plus any extra path segments (escaped). The base is parsed once; only
    /// the path is set here, so a payout does not parse (and IDNA-map) the host again.
    pub fn url(&self, path: &str, segments: &[&str]) -> Result<Url, ProviderError> {
        let mut url = self.base.clone();
        url.set_path(&format!("{}{path}", self.base.path().trim_end_matches('/')));
        if !segments.is_empty() {
            url.path_segments_mut()
                .map_err(|()| ProviderError::Misconfigured {
                    status: 0,
                    message: "the base URL cannot take a path".into(),
                })?
                .extend(segments);
        }
        Ok(url)
    }

    /// A JSON POST with the bearer key.
    pub fn post(&self, url: Url, body: &[u8]) -> RequestBuilder {
        self.http
            .post(url)
            .bearer_auth(self.key.expose_secret())
            .header(reqwest::header::CONTENT_TYPE, "application/json")
            .body(body.to_vec())
    }

    /// A GET with the bearer key.
    pub fn get(&self, url: Url) -> RequestBuilder {
        self.http.get(url).bearer_auth(self.key.expose_secret())
    }
}

/// Build the client every request of a run shares (connection reuse, timeouts).
pub fn client(config: &ProviderConfig) -> Result<Client, reqwest::Error> {
    Client::builder()
        .user_agent(concat!("payrun/", env!("CARGO_PKG_VERSION")))
        .timeout(config.timeout)
        .connect_timeout(Duration::from_secs(10).min(config.timeout))
        .pool_max_idle_per_host(config.max_connections)
        .pool_idle_timeout(Duration::from_secs(60))
        .redirect(reqwest::redirect::Policy::none())
        // payrun retries a payout itself, with the same key, and journals every request;
        // reqwest's own replay (of HTTP/2 refusals) would hide requests from that log, and
        // readying it copies every request's headers.
        .retry(reqwest::retry::never().max_retries_per_request(0))
        .build()
}

/// A response read to the end.
pub struct Answer {
    pub status: StatusCode,
    pub headers: HeaderMap,
    pub body: Vec<u8>,
}

/// Send and read the whole answer. A failure before the request could leave is
/// [`ProviderError::Unreachable`]; any later failure is [`ProviderError::NoAnswer`].
pub async fn send(request: RequestBuilder) -> Result<Answer, ProviderError> {
    let response: Response = request.send().await.map_err(classify)?;
    let status = response.status();
    let headers = response.headers().clone();
    if status.is_redirection() {
        return Err(ProviderError::Redirected {
            status: status.as_u16(),
            host: location_host(&headers, response.url()),
        });
    }
    let body = response.bytes().await.map_err(classify)?.to_vec();
    Ok(Answer {
        status,
        headers,
        body,
    })
}

/// Where a redirect points: `host:port` of its `Location` (relative to `base`), or a note that it
/// named none.
fn location_host(headers: &HeaderMap, base: &Url) -> String {
    let Some(location) = headers
        .get(reqwest::header::LOCATION)
        .and_then(|v| v.to_str().ok())
    else {
        return "no Location".into();
    };
    match base.join(location) {
        Ok(url) => match (url.host_str(), url.port_or_known_default()) {
            (Some(host), Some(port)) => format!("{host}:{port}"),
            (Some(host), None) => host.to_owned(),
            _ => excerpt(location.as_bytes()),
        },
        Err(_) => excerpt(location.as_bytes()),
    }
}

fn classify(err: reqwest::Error) -> ProviderError {
    let connect = err.is_connect();
    let reason = describe(&err.without_url());
    if connect {
        ProviderError::Unreachable { reason }
    } else {
        ProviderError::NoAnswer { reason }
    }
}

/// The error and its causes on one line, without the URL's query string.
fn describe(err: &reqwest::Error) -> String {
    use std::error::Error;
    let mut text = if err.is_timeout() {
        "timed out".to_string()
    } else {
        err.to_string()
    };
    let mut source = err.source();
    while let Some(cause) = source {
        let cause_text = cause.to_string();
        if !text.contains(&cause_text) {
            text.push_str(": ");
            text.push_str(&cause_text);
        }
        source = cause.source();
    }
    text
}

/// `Retry-After` as seconds or an HTTP date, as the provider asked (only bounded so that a
/// deadline computed from it cannot overflow: at most [`RETRY_AFTER_MAX`]). Whether payrun
/// waits that long is the sender's decision.
pub fn retry_after_from(headers: &HeaderMap) -> Option<Duration> {
    let value = headers
        .get(reqwest::header::RETRY_AFTER)?
        .to_str()
        .ok()?
        .trim();
    let wait = if let Ok(secs) = value.parse::<u64>() {
        Duration::from_secs(secs)
    } else {
        let when = httpdate::parse_http_date(value).ok()?;
        when.duration_since(SystemTime::now())
            .unwrap_or(Duration::ZERO)
    };
    Some(wait.min(RETRY_AFTER_MAX))
}

/// Longest `Retry-After` taken as written (about 136 years).
pub const RETRY_AFTER_MAX: Duration = Duration::from_secs(u32::MAX as u64);

/// A short, printable excerpt of an unexpected body.
pub fn excerpt(body: &[u8]) -> String {
    let text = String::from_utf8_lossy(body);
    let text = text.trim();
    if text.chars().count() > 200 {
        format!("{}…", text.chars().take(200).collect::<String>())
    } else if text.is_empty() {
        "(empty body)".to_string()
    } else {
        text.to_string()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn urls_are_the_base_and_the_path_with_escaped_segments() {
        let api = |base: &str| {
            ApiBase::new(&ProviderConfig {
                kind: crate::domain::ProviderKind::Rumbapay,
                base_url: Url::parse(base).unwrap(),
                api_key: SecretString::from("k"),
                timeout: Duration::from_secs(1),
                max_connections: 1,
            })
            .unwrap()
        };
        for base in ["http://127.0.0.1:9/v1", "http://127.0.0.1:9/v1/"] {
            let api = api(base);
            assert_eq!(
                api.url("/payout", &[]).unwrap().as_str(),
                "http://127.0.0.1:9/v1/payout"
            );
            assert_eq!(
                api.url("/transaction", &["a b/c"]).unwrap().as_str(),
                "http://127.0.0.1:9/v1/transaction/a%20b%2Fc"
            );
        }
        assert_eq!(
            api("https://api.example.com")
                .url("/api/v1/disburse", &[])
                .unwrap()
                .as_str(),
            "https://api.example.com/api/v1/disburse"
        );
    }
    use reqwest::header::{HeaderValue, RETRY_AFTER};

    #[test]
    fn parses_retry_after_seconds_and_dates() {
        let mut h = HeaderMap::new();
        h.insert(RETRY_AFTER, HeaderValue::from_static("3"));
        assert_eq!(retry_after_from(&h), Some(Duration::from_secs(3)));
        let later = SystemTime::now() + Duration::from_secs(5);
        let date = httpdate::fmt_http_date(later);
        h.insert(RETRY_AFTER, HeaderValue::from_str(&date).unwrap());
        let wait = retry_after_from(&h).unwrap();
        assert!(
            wait <= Duration::from_secs(5) && wait >= Duration::from_secs(3),
            "{wait:?}"
        );
        h.insert(
            RETRY_AFTER,
            HeaderValue::from_static("Wed, 21 Oct 2015 07:28:00 GMT"),
        );
        assert_eq!(retry_after_from(&h), Some(Duration::ZERO));
        h.insert(RETRY_AFTER, HeaderValue::from_static("999999"));
        assert_eq!(retry_after_from(&h), Some(Duration::from_secs(999_999)));
        let next_year =
            httpdate::fmt_http_date(SystemTime::now() + Duration::from_secs(31_536_000));
        h.insert(RETRY_AFTER, HeaderValue::from_str(&next_year).unwrap());
        assert!(retry_after_from(&h).unwrap() > Duration::from_secs(31_535_000));
        h.insert(
            RETRY_AFTER,
            HeaderValue::from_static("99999999999999999999"),
        );
        assert_eq!(retry_after_from(&h), None, "not a number payrun can read");
        h.insert(
            RETRY_AFTER,
            HeaderValue::from_static("18446744073709551615"),
        );
        assert_eq!(retry_after_from(&h), Some(RETRY_AFTER_MAX));
        h.insert(RETRY_AFTER, HeaderValue::from_static("soon"));
        assert_eq!(retry_after_from(&h), None);
    }

    #[test]
    fn excerpts_are_short() {
        assert_eq!(excerpt(b""), "(empty body)");
        assert!(excerpt(&[b'x'; 500]).chars().count() <= 201);
    }
}
