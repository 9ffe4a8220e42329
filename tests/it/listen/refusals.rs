//! Deliveries refused before they touch the journal: bad, missing or foreign signatures (401),
//! malformed bodies (400), oversized bodies (413), a provider with no secret (503). Each
//! leaves the journal byte-for-byte as it was, and the server keeps serving.

use payrun::webhook::Secrets;

use crate::support::listen::*;
use crate::support::pay::ugx_payees;
use crate::support::sim::{SimConfig, client};

#[tokio::test(flavor = "multi_thread")]
async fn bad_missing_and_foreign_signatures_are_401_and_change_nothing() {
    let fx = fixture(SimConfig::default()).await;
    let (_batch, rows) = accepted_batch(&fx, "rohopay", &ugx_payees(2)).await;
    let receiver = InProcess::start(&fx.journal).await;
    let url = receiver.url("rohopay");
    let body = rohopay_callback(&rows[0], "successful");
    let good = sign(SECRET, &body);
    let before = snapshot(&fx.journal);

    let mut tampered = body.clone();
    let at = tampered.len() - 3;
    tampered[at] = b' ';
    let cases: Vec<(Vec<u8>, Option<String>)> = vec![
        (body.clone(), None),
        (body.clone(), Some(String::new())),
        (body.clone(), Some("not hex at all".into())),
        (body.clone(), Some(good[..32].to_owned())),
        (body.clone(), Some(sign("whsec_someone_else", &body))),
        (body.clone(), Some(format!("sha256={good}"))),
        (tampered, Some(good.clone())),
    ];
    for (payload, signature) in cases {
        let (status, _) = post(&url, payload, signature.as_deref()).await;
        assert_eq!(status, 401, "signature {signature:?}");
    }
    assert_eq!(
        snapshot(&fx.journal),
        before,
        "a refused delivery writes nothing"
    );
    let lines = receiver.lines();
    assert_eq!(lines.len(), 7, "{lines:#?}");
    assert!(
        lines.iter().all(|l| l.contains("refused with 401")),
        "{lines:#?}"
    );
    assert!(
        lines
            .iter()
            .all(|l| !l.contains(SECRET) && !l.contains(&good)),
        "{lines:#?}"
    );

    // The same body with the right signature, in upper-case hex, is accepted.
    let (status, text) = post(&url, body.clone(), Some(&good.to_uppercase())).await;
    assert_eq!((status, text.as_str()), (200, "succeeded\n"));
    assert_eq!(state_of(&fx.journal, rows[0].id), "succeeded");
    receiver.stop().await;
}

#[tokio::test(flavor = "multi_thread")]
async fn malformed_and_huge_bodies_are_refused_and_serving_goes_on() {
    let fx = fixture(SimConfig::default()).await;
    let (_batch, rows) = accepted_batch(&fx, "rohopay", &ugx_payees(2)).await;
    let receiver = InProcess::start(&fx.journal).await;
    let url = receiver.url("rohopay");
    let before = snapshot(&fx.journal);

    for malformed in [
        &b"{\"success\": true, \"data\": {"[..],
        b"",
        b"[]",
        br#"{"success":true}"#,
        br#"{"success":true,"data":{"id":"x","status":"successful","amount":"lots"}}"#,
    ] {
        let (status, text) = deliver(&url, malformed).await;
        assert_eq!(
            status,
            400,
            "{}: {text}",
            String::from_utf8_lossy(malformed)
        );
    }
    let huge = {
        let mut b = br#"{"success":true,"data":{"id":""#.to_vec();
        b.extend(std::iter::repeat_n(b'x', 8 << 20));
        b.extend(br#"","status":"successful"}}"#);
        b
    };
    // Refused bodies are dropped before answering, so the sender always sees the status
    // and never a reset mid-upload (8 MiB: well past what the socket buffers absorb).
    for _ in 0..3 {
        let (status, _) = deliver(&url, &huge).await;
        assert_eq!(status, 413);
        let (status, _) = post(&url, huge.clone(), None).await;
        assert_eq!(status, 401, "an unsigned huge body is refused unread");
    }
    assert_eq!(snapshot(&fx.journal), before);

    let (status, text) = deliver(&url, &rohopay_callback(&rows[1], "successful")).await;
    assert_eq!((status, text.as_str()), (200, "succeeded\n"));
    let lines = receiver.lines();
    assert!(
        lines.iter().any(|l| l.contains("refused with 413")),
        "{lines:#?}"
    );
    assert!(
        lines.iter().any(|l| l.contains("refused with 400")),
        "{lines:#?}"
    );
    receiver.stop().await;
}

#[tokio::test(flavor = "multi_thread")]
async fn a_provider_without_a_secret_is_switched_off() {
    let fx = fixture(SimConfig::default()).await;
    let (_batch, rows) = accepted_batch(&fx, "rohopay", &ugx_payees(1)).await;
    let receiver = InProcess::with_secrets(&fx.journal, Secrets::new(None, Some(SECRET))).await;
    let before = snapshot(&fx.journal);
    let (status, text) = deliver(
        &receiver.url("rohopay"),
        &rohopay_callback(&rows[0], "successful"),
    )
    .await;
    assert_eq!(status, 503);
    assert!(text.contains("webhook secret not configured"), "{text}");
    assert_eq!(snapshot(&fx.journal), before);

    let health = client()
        .get(format!("{}/health", receiver.base))
        .send()
        .await
        .unwrap();
    assert_eq!(health.status().as_u16(), 200);
    assert_eq!(health.text().await.unwrap(), "ok");
    let get = client().get(receiver.url("rumbapay")).send().await.unwrap();
    assert_eq!(get.status().as_u16(), 405);
    receiver.stop().await;
}
