//! The comparison rule on its own: every fact, absent facts, exact amounts.

use super::*;

fn request() -> RequestFacts {
    RequestFacts {
        reference: Some("key-1".into()),
        phone: "254712973246".into(),
        amount_minor: 250_050,
        currency: "KES".into(),
    }
}

fn answer() -> AnswerFacts {
    AnswerFacts {
        reference: Some("key-1".into()),
        phone: Some("+254712973246".into()),
        amount: Some(AnswerAmount::Minor(250_050)),
        currency: Some("kes".into()),
    }
}

#[test]
fn a_matching_answer_contradicts_nothing() {
    assert_eq!(contradictions(&request(), &answer()), vec![]);
}

#[test]
fn an_answer_that_omits_facts_contradicts_nothing() {
    assert_eq!(contradictions(&request(), &AnswerFacts::default()), vec![]);
}

#[test]
fn every_present_different_fact_is_named() {
    let lie = AnswerFacts {
        reference: Some("key-2".into()),
        phone: Some("254712970000".into()),
        amount: Some(AnswerAmount::Minor(250_049)),
        currency: Some("TZS".into()),
    };
    let found = contradictions(&request(), &lie);
    assert_eq!(found.len(), 4, "{found:?}");
    let text = describe(&found).unwrap();
    assert!(
        text.contains("reference key-2 in the answer, key-1"),
        "{text}"
    );
    assert!(
        text.contains("amount 2500.49 KES in the answer, 2500.50 KES in the request"),
        "{text}"
    );
    assert!(text.contains("currency TZS"), "{text}");
    assert!(text.contains("phone ********0000"), "{text}");
}

#[test]
fn rohopay_requests_have_no_reference_to_check() {
    let body = br#"{"phone":"256700123456","amount":25000,"currency":"UGX","description":"d"}"#;
    let facts = request_facts(ProviderKind::Rohopay, "k", body).unwrap();
    assert_eq!(facts.reference, None);
    assert_eq!(facts.amount_minor, 25_000);
    let other_ref = AnswerFacts {
        reference: Some("anything".into()),
        ..AnswerFacts::default()
    };
    assert_eq!(contradictions(&facts, &other_ref), vec![]);
}

#[test]
fn rumbapay_requests_are_read_exactly() {
    let body = br#"{"method":"mobile_money","reference":"k","currency":"KES","amount":2500.50,
        "mobile_money":{"phone":"+254712973246","operator":"mpesa"}}"#;
    let facts = request_facts(ProviderKind::Rumbapay, "k", body).unwrap();
    assert_eq!(facts, request().clone_with_reference("k"));
}

impl RequestFacts {
    fn clone_with_reference(mut self, r: &str) -> Self {
        self.reference = Some(r.into());
        self
    }
}

#[test]
fn major_amounts_convert_exactly_or_not_at_all() {
    assert_eq!(exact_amount("2500.50", "KES"), AnswerAmount::Minor(250_050));
    assert_eq!(exact_amount("2500.5", "KES"), AnswerAmount::Minor(250_050));
    assert_eq!(
        exact_amount("2500.500", "KES"),
        AnswerAmount::Minor(250_050)
    );
    assert_eq!(
        exact_amount("\"2500\"", "KES"),
        AnswerAmount::Minor(250_000)
    );
    assert_eq!(exact_amount("2500.0", "XAF"), AnswerAmount::Minor(2500));
    // 0.1 + 0.2 style float noise is a different amount, never rounded away.
    assert_eq!(
        exact_amount("2500.4999999999", "KES"),
        AnswerAmount::Unreadable("2500.4999999999".into())
    );
    assert!(matches!(
        exact_amount("2.5e3", "KES"),
        AnswerAmount::Unreadable(_)
    ));
    assert!(matches!(
        exact_amount("-1", "KES"),
        AnswerAmount::Unreadable(_)
    ));
    assert!(matches!(
        exact_amount("1", "XXX"),
        AnswerAmount::Unreadable(_)
    ));
    assert_eq!(exact_minor("25000"), AnswerAmount::Minor(25_000));
    assert_eq!(exact_minor("25000.0"), AnswerAmount::Minor(25_000));
    assert!(matches!(
        exact_minor("25000.5"),
        AnswerAmount::Unreadable(_)
    ));
}
