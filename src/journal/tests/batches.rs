//! Batches sharing one journal: a batch's rows are an id range of its own (`span`), its keys
//! are in the `keys` table (`bulk`); every batch-scoped read must see exactly its own rows,
//! and no key may be planned twice, within a batch or across batches.

use crate::domain::{ProviderKind, RowState};
use crate::journal::span::next_row_id;
use crate::journal::test_support::{self, temp_journal};
use crate::journal::*;

/// A planned row keyed like payrun keyed rows before key scheme 2, with an amount and body
/// of its own line.
fn row(batch: &str, line: u64, identity: &str) -> PlanItem {
    PlanItem::Planned(PlannedRow {
        reference: Some(identity.to_string()),
        amount_minor: 1_000 + line,
        amount_text: (1_000 + line).to_string(),
        body: format!(r#"{{"line":{line}}}"#).into_bytes(),
        ..test_support::planned(
            line,
            identity,
            &crate::batch::keys::legacy_key(batch, identity).to_string(),
        )
    })
}

fn rejected(line: u64) -> PlanItem {
    PlanItem::Rejected(test_support::rejected(line))
}

fn plan(journal: &mut Journal, id: &str, items: &[PlanItem]) -> Result<PlanStats, JournalError> {
    test_support::plan(
        journal,
        &test_support::new_batch(id, ProviderKind::Rohopay),
        items,
    )
}

/// `n` rows of `batch`, every tenth one rejected: more than one multi-row statement.
fn many(batch: &str, n: u64) -> Vec<PlanItem> {
    (0..n)
        .map(|i| match i % 10 {
            3 => rejected(i + 2),
            _ => row(batch, i + 2, &format!("{batch}-{i}")),
        })
        .collect()
}

fn lines(rows: &[OpenRow]) -> Vec<u64> {
    rows.iter().map(|r| r.line).collect()
}

#[test]
fn batches_in_one_journal_do_not_see_each_others_rows() {
    let (_dir, mut journal) = temp_journal();
    let stats = plan(&mut journal, "b1", &many("b1", 300)).unwrap();
    assert_eq!((stats.planned, stats.rejected), (270, 30));
    plan(&mut journal, "b2", &many("b2", 5)).unwrap();
    plan(&mut journal, "b3", &[row("b3", 2, "only")]).unwrap();

    assert_eq!(journal.row_count("b1").unwrap(), 300);
    assert_eq!(journal.row_count("b2").unwrap(), 5);
    assert_eq!(journal.row_count("b3").unwrap(), 1);
    assert_eq!(journal.row_count("nope").unwrap(), 0);

    let open = open_rows_page(journal.conn(), "b2", 0, 100).unwrap();
    assert_eq!(
        lines(&open),
        vec![2, 3, 4, 6],
        "b2's planned rows, in plan order"
    );
    let open = open_rows_page(journal.conn(), "b1", 0, 1000).unwrap();
    assert_eq!(open.len(), 270);
    assert!(
        open.windows(2)
            .all(|w| w[0].id < w[1].id && w[0].line < w[1].line)
    );
    // Every open row carries its own key and body.
    for r in &open {
        let identity = format!("b1-{}", r.line - 2);
        assert_eq!(
            r.key,
            crate::batch::keys::legacy_key("b1", &identity).to_string()
        );
        assert_eq!(r.body, format!(r#"{{"line":{}}}"#, r.line).into_bytes());
    }

    let counts = journal.state_counts("b2").unwrap();
    let rows: Vec<(RowState, u64)> = counts.iter().map(|c| (c.state, c.rows)).collect();
    assert_eq!(rows, vec![(RowState::Planned, 4), (RowState::Rejected, 1)]);
    let open = journal.open_counts("b3").unwrap();
    assert_eq!(
        (open.len(), open[0].rows, open[0].amount_minor),
        (1, 1, 1_002)
    );
    let mut report = Vec::new();
    journal
        .report_rows("b2", |r| {
            report.push(r.line);
            Ok(())
        })
        .unwrap();
    assert_eq!(report, vec![2, 3, 4, 5, 6]);

    // Settling all of b1 leaves b2 and b3 open.
    journal
        .conn()
        .execute_batch("UPDATE rows SET state = 'succeeded' WHERE batch = 1 AND state = 'planned'")
        .unwrap();
    assert!(
        open_rows_page(journal.conn(), "b1", 0, 10)
            .unwrap()
            .is_empty()
    );
    assert_eq!(
        open_rows_page(journal.conn(), "b2", 0, 10).unwrap().len(),
        4
    );
    assert!(unsettled_rows(journal.conn(), "b2").unwrap().is_empty());
}

#[test]
fn rows_are_numbered_inside_their_batch() {
    let (_dir, mut journal) = temp_journal();
    plan(&mut journal, "b1", &many("b1", 130)).unwrap();
    plan(&mut journal, "b2", &many("b2", 3)).unwrap();
    let ids = |batch: &str| -> Vec<i64> {
        let mut stmt = journal
            .conn()
            .prepare("SELECT r.id FROM rows r JOIN batches b ON b.seq = r.batch WHERE b.id = ?1 ORDER BY r.id")
            .unwrap();
        stmt.query_map([batch], |r| r.get(0))
            .unwrap()
            .map(Result::unwrap)
            .collect()
    };
    let b1: Vec<i64> = (1..=130).map(|n| span::SPAN + n).collect();
    assert_eq!(ids("b1"), b1);
    assert_eq!(
        ids("b2"),
        vec![2 * span::SPAN + 1, 2 * span::SPAN + 2, 2 * span::SPAN + 3]
    );
    // An edited file appends to b1 after its last row, not after b2's.
    assert_eq!(next_row_id(journal.conn(), "b1").unwrap(), span::SPAN + 131);
    assert!(matches!(
        next_row_id(journal.conn(), "nope"),
        Err(JournalError::BatchNotFound(_))
    ));
}

#[test]
fn every_key_is_in_the_key_table_and_found_by_webhooks() {
    let (_dir, mut journal) = temp_journal();
    plan(&mut journal, "b1", &many("b1", 200)).unwrap();
    let keys: i64 = journal
        .conn()
        .query_row(
            "SELECT COUNT(*) FROM keys k JOIN rows r ON r.id = k.row_id AND r.idem_key = k.idem_key",
            [],
            |r| r.get(0),
        )
        .unwrap();
    assert_eq!(keys, 180);
    let key = crate::batch::keys::legacy_key("b1", "b1-42").to_string();
    let found = rows_by(journal.conn(), ProviderKind::Rohopay, RowKey::IdemKey(&key)).unwrap();
    assert_eq!(
        (found.len(), found[0].line, found[0].batch_id.as_str()),
        (1, 44, "b1")
    );
    let upper = key.to_uppercase();
    let found = rows_by(
        journal.conn(),
        ProviderKind::Rohopay,
        RowKey::IdemKey(&upper),
    )
    .unwrap();
    assert!(found.is_empty(), "a key matches exactly, as before");
}

#[test]
fn a_key_is_never_planned_twice() {
    let (_dir, mut journal) = temp_journal();
    let mut dup = many("b1", 100);
    dup.push(row("b1", 500, "b1-7"));
    let err = plan(&mut journal, "b1", &dup).unwrap_err();
    assert!(
        test_support::is_constraint(&err),
        "same identity twice in a batch: the unique index refuses it, not {err}"
    );
    assert!(journal.find_batch("b1").unwrap().is_none());
    assert_eq!(journal.row_count("b1").unwrap(), 0);

    plan(&mut journal, "b1", &many("b1", 100)).unwrap();
    // A second batch whose row somehow carries a key of the first is refused whole.
    let mut stolen = many("b2", 100);
    stolen.push(row("b1", 500, "b1-7"));
    let err = plan(&mut journal, "b2", &stolen).expect_err("a key of another batch");
    assert!(
        matches!(&err, JournalError::Sqlite(e) if e.to_string().contains("UNIQUE constraint failed: keys.idem_key")),
        "{err}"
    );
    assert!(journal.find_batch("b2").unwrap().is_none());
    let total: i64 = journal
        .conn()
        .query_row("SELECT COUNT(*) FROM rows", [], |r| r.get(0))
        .unwrap();
    assert_eq!(total, 100);
}
