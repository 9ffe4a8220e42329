use super::*;
use crate::domain::ProviderKind;
use crate::journal::test_support::{
    force_state, id_of_key, plan_keys, state_of as state, temp_journal,
};
use crate::journal::{RowKey, open_rows_page, rows_by};

fn fail(journal: &Journal, id: i64, why: &str) {
    force_state(journal, id, RowState::Failed);
    journal
        .conn()
        .execute(
            "UPDATE rows SET last_error = ?2, provider_id = 'P-' || ?1 WHERE id = ?1",
            params![id, why],
        )
        .unwrap();
}

#[test]
fn scan_lists_failed_rows_and_those_that_may_be_with_the_provider() {
    let (_dir, mut journal) = temp_journal();
    plan_keys(
        &mut journal,
        "b",
        ProviderKind::Rohopay,
        &["k1", "k2", "k3", "k4", "k5"],
    );
    let id = |k| id_of_key(&journal, k);
    fail(&journal, id("k1"), "invalid account");
    force_state(&journal, id("k2"), RowState::InDoubt);
    force_state(&journal, id("k3"), RowState::Succeeded);
    fail(&journal, id("k4"), "closed wallet");
    journal
        .conn()
        .execute(
            "UPDATE rows SET attention = 'paid after all' WHERE idem_key = 'k4'",
            [],
        )
        .unwrap();
    let scan = journal.retry_scan("b", None).unwrap();
    assert_eq!(
        scan.failed.iter().map(|f| f.line).collect::<Vec<_>>(),
        [2, 5]
    );
    assert_eq!(scan.failed[0].error.as_deref(), Some("invalid account"));
    assert_eq!(scan.failed[0].attempt, 1);
    assert_eq!(scan.failed[1].attention.as_deref(), Some("paid after all"));
    assert_eq!(
        scan.others
            .iter()
            .map(|o| (o.line, o.state))
            .collect::<Vec<_>>(),
        [(3, RowState::InDoubt)]
    );

    let only = journal.retry_scan("b", Some(&[2, 4, 99])).unwrap();
    assert_eq!(only.failed.len(), 1);
    assert_eq!(
        only.others
            .iter()
            .map(|o| (o.line, o.state))
            .collect::<Vec<_>>(),
        [(4, RowState::Succeeded)]
    );
    assert_eq!(only.missing_lines, [99]);
}

#[test]
fn a_new_attempt_keeps_the_old_one_and_is_planned_with_its_new_key() {
    let (_dir, mut journal) = temp_journal();
    plan_keys(&mut journal, "b", ProviderKind::Rohopay, &["k1", "k2"]);
    let k1 = id_of_key(&journal, "k1");
    fail(&journal, k1, "invalid account");
    let (token, _) = journal.acquire_lock("b").unwrap();
    let attempt = NewAttempt {
        row_id: k1,
        failed_attempt: 1,
        key: "k1-2".into(),
        body: b"{\"again\":1}".to_vec(),
    };
    let started =
        begin_attempts(journal.conn(), "b", &token, std::slice::from_ref(&attempt)).unwrap();
    assert_eq!(started, [k1]);
    assert_eq!(state(&journal, k1), RowState::Planned);
    let (key, attempt_no, provider_id, error): (String, i64, Option<String>, Option<String>) =
        journal
            .conn()
            .query_row(
                "SELECT idem_key, attempt, provider_id, last_error FROM rows WHERE id = ?1",
                [k1],
                |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?)),
            )
            .unwrap();
    assert_eq!(
        (key.as_str(), attempt_no, provider_id, error),
        ("k1-2", 2, None, None)
    );
    // The failed attempt is kept, and both keys belong to the row.
    let kept: (String, String, Option<String>, Option<String>) = journal
        .conn()
        .query_row(
            "SELECT idem_key, state, provider_id, last_error FROM attempts WHERE row_id = ?1 AND attempt = 1",
            [k1],
            |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?)),
        )
        .unwrap();
    assert_eq!(kept.0, "k1");
    assert_eq!(kept.1, "failed");
    assert_eq!(kept.3.as_deref(), Some("invalid account"));
    let earlier = earlier_attempts(
        journal.conn(),
        ProviderKind::Rohopay,
        RowKey::ProviderId(kept.2.as_deref().unwrap()),
    )
    .unwrap();
    assert_eq!(earlier.len(), 1);
    assert_eq!((earlier[0].row_id, earlier[0].attempt), (k1, 1));
    assert_eq!(
        rows_by(
            journal.conn(),
            ProviderKind::Rohopay,
            RowKey::IdemKey("k1-2")
        )
        .unwrap()[0]
            .id,
        k1
    );
    // The next send claims the new key and body.
    let open = open_rows_page(journal.conn(), "b", 0, 10).unwrap();
    let row = open.iter().find(|r| r.id == k1).unwrap();
    assert_eq!(
        (row.key.as_str(), row.body.as_slice()),
        ("k1-2", &b"{\"again\":1}"[..])
    );
    assert_eq!(journal.retried_counts("b").unwrap(), [(2, 1)]);

    // The same attempt again does nothing: the row is no longer failed on attempt 1.
    assert!(
        begin_attempts(journal.conn(), "b", &token, &[attempt])
            .unwrap()
            .is_empty()
    );
}

#[test]
fn rows_that_changed_since_the_scan_or_need_a_person_are_left_alone() {
    let (_dir, mut journal) = temp_journal();
    plan_keys(&mut journal, "b", ProviderKind::Rohopay, &["k1", "k2"]);
    let (k1, k2) = (id_of_key(&journal, "k1"), id_of_key(&journal, "k2"));
    fail(&journal, k1, "x");
    journal
        .conn()
        .execute(
            "UPDATE rows SET attention = 'callback successful after failed' WHERE id = ?1",
            [k1],
        )
        .unwrap();
    force_state(&journal, k2, RowState::InDoubt);
    let (token, _) = journal.acquire_lock("b").unwrap();
    let attempts: Vec<NewAttempt> = [k1, k2]
        .iter()
        .map(|&row_id| NewAttempt {
            row_id,
            failed_attempt: 1,
            key: format!("new-{row_id}"),
            body: b"{}".to_vec(),
        })
        .collect();
    assert!(
        begin_attempts(journal.conn(), "b", &token, &attempts)
            .unwrap()
            .is_empty()
    );
    assert_eq!(state(&journal, k1), RowState::Failed);
    assert_eq!(state(&journal, k2), RowState::InDoubt);
    let stale = LockToken("gone".into());
    assert!(matches!(
        begin_attempts(journal.conn(), "b", &stale, &attempts),
        Err(JournalError::LockLost(_))
    ));
}
