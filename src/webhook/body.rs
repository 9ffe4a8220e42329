//! Reading a delivery's body within the size limit, and refusing without a connection reset.
//!
//! A server that answers before it has read the request and then closes makes the kernel
//! reset the connection while the sender is still uploading; the sender then sees "broken
//! pipe" instead of our 401 or 413, and cannot tell a refusal from a network fault. So a body
//! we refuse is read to its end and dropped, never kept (the "lingering close" of nginx),
//! for at most [`DISCARD_LIMIT`] bytes and [`DISCARD_TIME`]; past either the answer goes
//! anyway and the connection is closed.

use std::time::Duration;

use axum::body::{Body, Bytes};
use axum::http::{HeaderMap, header::CONTENT_LENGTH};
use http_body_util::BodyExt;

/// Most bytes of a refused body read and dropped before answering.
pub const DISCARD_LIMIT: usize = 16 * 1024 * 1024;

/// Longest time spent dropping a refused body before answering.
pub const DISCARD_TIME: Duration = Duration::from_secs(5);

/// Why no body came out of [`read_limited`].
#[derive(Debug, PartialEq, Eq)]
pub enum ReadError {
    /// More than the limit was sent (or announced); the rest was dropped.
    TooLarge,
    /// The sender broke off or sent garbage framing.
    Broken(String),
}

/// The whole body if it is at most `limit` bytes. A larger one is refused without being
/// buffered: an announced `Content-Length` over the limit is refused before reading.
pub async fn read_limited(
    headers: &HeaderMap,
    body: Body,
    limit: usize,
) -> Result<Bytes, ReadError> {
    let announced = headers
        .get(CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse::<u64>().ok());
    if announced.is_some_and(|n| n > limit as u64) {
        discard(body).await;
        return Err(ReadError::TooLarge);
    }
    let mut body = body;
    let mut buf = Vec::with_capacity(announced.map_or(0, |n| n as usize));
    while let Some(frame) = body.frame().await {
        let frame = frame.map_err(|e| ReadError::Broken(e.to_string()))?;
        let Ok(data) = frame.into_data() else {
            continue;
        };
        if buf.len() + data.len() > limit {
            discard(body).await;
            return Err(ReadError::TooLarge);
        }
        buf.extend_from_slice(&data);
    }
    Ok(Bytes::from(buf))
}

/// Read and drop what is left of `body`, within [`DISCARD_LIMIT`] and [`DISCARD_TIME`].
pub async fn discard(body: Body) {
    let drain = async move {
        let mut body = body;
        let mut dropped = 0usize;
        while let Some(Ok(frame)) = body.frame().await {
            if let Ok(data) = frame.into_data() {
                dropped += data.len();
                if dropped > DISCARD_LIMIT {
                    return;
                }
            }
        }
    };
    let _ = tokio::time::timeout(DISCARD_TIME, drain).await;
}

#[cfg(test)]
mod tests {
    use super::*;
    use axum::http::HeaderValue;

    /// A body that arrives in several frames and announces no length.
    fn chunked(parts: Vec<&'static [u8]>) -> Body {
        let frames = parts
            .into_iter()
            .map(|p| Ok::<_, std::io::Error>(Bytes::from_static(p)));
        Body::from_stream(futures_util::stream::iter(frames))
    }

    #[tokio::test]
    async fn a_body_within_the_limit_is_read_whole() {
        let body = chunked(vec![b"{\"a\":", b"1}"]);
        let got = read_limited(&HeaderMap::new(), body, 7).await;
        assert_eq!(got, Ok(Bytes::from_static(b"{\"a\":1}")));
    }

    #[tokio::test]
    async fn one_byte_over_the_limit_is_too_large() {
        let body = chunked(vec![b"{\"a\":", b"12}"]);
        let got = read_limited(&HeaderMap::new(), body, 7).await;
        assert_eq!(got, Err(ReadError::TooLarge));
    }

    #[tokio::test]
    async fn an_announced_length_over_the_limit_is_refused_before_reading() {
        let mut headers = HeaderMap::new();
        headers.insert(CONTENT_LENGTH, HeaderValue::from_static("8"));
        let got = read_limited(&headers, Body::from("tiny"), 7).await;
        assert_eq!(got, Err(ReadError::TooLarge));
    }

    #[tokio::test]
    async fn a_broken_body_is_reported() {
        let stream = futures_util::stream::iter(vec![
            Ok(Bytes::from_static(b"{")),
            Err(std::io::Error::other("peer went away")),
        ]);
        let got = read_limited(&HeaderMap::new(), Body::from_stream(stream), 64).await;
        assert!(matches!(got, Err(ReadError::Broken(ref e)) if e.contains("peer went away")));
    }
}
