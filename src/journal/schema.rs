//! The journal's SQLite schema (README, section "The journal") and its version. One batch table, one row table,
//! one append-only event table recording every HTTP attempt and status change, the
//! webhook delivery table `payrun listen` deduplicates with, and the approvals a batch was
//! paid under.
//!
//! The layout is shaped by planning, which writes a million rows in one transaction: a row's
//! id carries its batch (`batches.seq` in the high 32 bits), so batch-scoped reads are ranges
//! of the table's own key and no per-row batch column or batch index is written; idempotency
//! keys live in their own table, filled in key order once a batch's rows are in, instead of a
//! unique index on `rows` that a million random UUIDs would be inserted into one by one.

use rusqlite::Connection;

use super::JournalError;

/// Bumped on every incompatible change; stored in `PRAGMA user_version`.
pub const SCHEMA_VERSION: i64 = STEPS.len() as i64;

/// Version 1's layout; [`V2`] adds to it.
const SCHEMA: &str = r#"
-- `seq` is never reused, so the id range of a batch's rows (see `rows.id`) is its own.
CREATE TABLE batches (
    seq             INTEGER PRIMARY KEY AUTOINCREMENT,
    id              TEXT NOT NULL UNIQUE,
    file_name       TEXT NOT NULL,
    file_path       TEXT NOT NULL,
    file_sha256     TEXT NOT NULL,
    provider        TEXT NOT NULL,
    sandbox         INTEGER NOT NULL,
    base_url        TEXT NOT NULL,
    settings        TEXT NOT NULL,
    created_at      INTEGER NOT NULL,
    updated_at      INTEGER NOT NULL,
    lock_token      TEXT,
    lock_pid        INTEGER,
    lock_started    INTEGER,
    lock_host       TEXT,
    lock_heartbeat  INTEGER
);

-- A row's id is `batch seq * 2^32 + n`, n counting from 1 in plan order (see `super::span`):
-- the rows of a batch are the table-key range of its seq, read without any batch index.
-- `batch` is that seq, derived and not stored, for reading the file by hand; queries of a
-- batch use the id range, never `batch = ?` (which would scan every batch).
CREATE TABLE rows (
    id                  INTEGER PRIMARY KEY,
    batch               INTEGER GENERATED ALWAYS AS (id >> 32) VIRTUAL,
    line                INTEGER NOT NULL,
    identity            TEXT NOT NULL,
    idem_key            TEXT,
    reference           TEXT,
    phone               TEXT NOT NULL,
    amount_minor        INTEGER,
    amount_text         TEXT NOT NULL,
    currency            TEXT NOT NULL,
    request_body        BLOB,
    state               TEXT NOT NULL CHECK (state IN
                        ('planned','sending','accepted','succeeded','failed','in_doubt','rejected')),
    attempts            INTEGER NOT NULL DEFAULT 0,
    provider_status     TEXT,
    provider_id         TEXT,
    provider_reference  TEXT,
    internal_reference  TEXT,
    request_id          TEXT,
    routed_provider     TEXT,
    failover_reason     TEXT,
    unconfirmed         INTEGER NOT NULL DEFAULT 0,
    last_error          TEXT,
    conflict            TEXT,
    created_at          INTEGER NOT NULL,
    updated_at          INTEGER NOT NULL
);
-- What a resume still has to send: a million-row batch with ten rows left is found at once
-- (an id range of this index). Planning appends to it in id order.
CREATE INDEX rows_open ON rows (id) WHERE state IN ('planned','sending','in_doubt');
-- Every row's idempotency key (`rows.idem_key`), and the row it belongs to: the primary key
-- means never two rows with the same key, and the key is derived from the batch and the
-- row's identity, so this also keeps identities unique within a batch. Webhooks find rows
-- by key here. Written in the same transaction as the row, in key order when planning.
CREATE TABLE keys (
    idem_key    TEXT PRIMARY KEY,
    row_id      INTEGER NOT NULL
) WITHOUT ROWID;
-- Conflicts from edited files are rare; counting them must not scan the batch.
CREATE INDEX rows_conflict ON rows (id) WHERE conflict IS NOT NULL;
CREATE INDEX rows_provider_id ON rows (provider_id) WHERE provider_id IS NOT NULL;
CREATE INDEX rows_request_id ON rows (request_id) WHERE request_id IS NOT NULL;

CREATE TABLE events (
    id          INTEGER PRIMARY KEY,
    row_id      INTEGER NOT NULL,
    at          INTEGER NOT NULL,
    kind        TEXT NOT NULL,
    http_status INTEGER,
    latency_ms  INTEGER,
    outcome     TEXT NOT NULL,
    detail      TEXT
);
CREATE INDEX events_row ON events (row_id);
CREATE INDEX rows_internal_reference ON rows (internal_reference)
    WHERE internal_reference IS NOT NULL;

-- Webhook deliveries already handled by `payrun listen`, by SHA-256 of the raw body, so a
-- provider's repeated delivery changes nothing. Written in the transaction that applies it.
CREATE TABLE webhook_deliveries (
    digest      TEXT PRIMARY KEY,
    provider    TEXT NOT NULL,
    row_id      INTEGER,
    received_at INTEGER NOT NULL,
    outcome     TEXT NOT NULL
);
"#;

/// Version 2 (from 1): a row can carry a note that needs a person (`rows.attention`: a
/// provider answer or callback that contradicts the request), and a batch records the
/// fingerprint of what it pays and which key derivation its rows were keyed with. Batches
/// of version 1 keep `key_scheme` 1 and their stored keys; nothing is re-keyed.
const V2: &str = r#"
ALTER TABLE rows ADD COLUMN attention TEXT;
ALTER TABLE batches ADD COLUMN fingerprint TEXT;
ALTER TABLE batches ADD COLUMN key_scheme INTEGER NOT NULL DEFAULT 1;
"#;

/// Indexes of version 2, for new and migrated journals alike.
const V2_INDEXES: &str = r#"
CREATE INDEX rows_attention ON rows (id) WHERE attention IS NOT NULL;
CREATE INDEX batches_fingerprint ON batches (fingerprint) WHERE fingerprint IS NOT NULL;
"#;

/// Version 3 (from 2): a row can be `cancelled` (`payrun cancel`), a failed row can be paid
/// again under a new key (`payrun retry`: `rows.attempt` counts its attempts and every earlier
/// attempt is kept in `attempts`), and a batch records how its last run ended and whether it
/// was cancelled (what `status` says and suggests next). Nothing is rewritten: columns are
/// added, and the state check of `rows` admits one more word (see [`admit_cancelled`]).
const V3: &str = r#"
ALTER TABLE rows ADD COLUMN attempt INTEGER NOT NULL DEFAULT 1;
ALTER TABLE batches ADD COLUMN cancelled_at INTEGER;
ALTER TABLE batches ADD COLUMN run_token TEXT;
ALTER TABLE batches ADD COLUMN run_command TEXT;
ALTER TABLE batches ADD COLUMN run_started INTEGER;
ALTER TABLE batches ADD COLUMN run_ended INTEGER;
ALTER TABLE batches ADD COLUMN run_end TEXT;
ALTER TABLE batches ADD COLUMN run_detail TEXT;
-- Every earlier attempt of a row `payrun retry` paid again: the key, body, state and provider
-- facts it had when it was replaced. The row itself always holds its latest attempt; its old
-- key stays in `keys` (never given to another row).
CREATE TABLE attempts (
    row_id              INTEGER NOT NULL,
    attempt             INTEGER NOT NULL,
    idem_key            TEXT NOT NULL,
    request_body        BLOB NOT NULL,
    state               TEXT NOT NULL,
    provider_status     TEXT,
    provider_id         TEXT,
    provider_reference  TEXT,
    internal_reference  TEXT,
    request_id          TEXT,
    routed_provider     TEXT,
    failover_reason     TEXT,
    last_error          TEXT,
    ended_at            INTEGER NOT NULL,
    retried_at          INTEGER NOT NULL,
    PRIMARY KEY (row_id, attempt)
) WITHOUT ROWID;
-- A late callback about an earlier attempt is found by the provider's names for it.
CREATE INDEX attempts_provider_id ON attempts (provider_id) WHERE provider_id IS NOT NULL;
CREATE INDEX attempts_internal_reference ON attempts (internal_reference)
    WHERE internal_reference IS NOT NULL;
CREATE INDEX attempts_request_id ON attempts (request_id) WHERE request_id IS NOT NULL;
-- Retried rows are few; counting them per attempt must not scan the batch.
CREATE INDEX rows_retried ON rows (id) WHERE attempt > 1;
"#;

/// Also version 3: the approvals a batch was paid under (README "Approvals"), one row per
/// approver and statement, written when sending starts.
const V3_APPROVALS: &str = r#"
CREATE TABLE approvals (
    batch            INTEGER NOT NULL REFERENCES batches (seq),
    principal        TEXT NOT NULL,
    key_fingerprint  TEXT NOT NULL,
    statement_sha256 TEXT NOT NULL,
    checked_at       INTEGER NOT NULL,
    PRIMARY KEY (batch, statement_sha256, principal)
);
"#;

/// The state check of `rows` as versions 1 and 2 wrote it, and as version 3 widens it.
const STATES_V2: &str =
    "('planned','sending','accepted','succeeded','failed','in_doubt','rejected')";
const STATES_V3: &str =
    "('planned','sending','accepted','succeeded','failed','in_doubt','rejected','cancelled')";

/// Let `rows.state` be `cancelled`. SQLite cannot alter a CHECK constraint, and copying a
/// million-row table to change one word is what the upgrade must not do; SQLite documents
/// editing the table's text in `sqlite_schema` for changes that no stored row can violate
/// (removing or loosening a constraint: every existing state stays allowed). See
/// [`edit_rows_table`].
fn admit_cancelled(tx: &rusqlite::Transaction<'_>) -> Result<(), JournalError> {
    edit_rows_table(tx, |sql| {
        (sql.matches(STATES_V2).count() == 1).then(|| sql.replacen(STATES_V2, STATES_V3, 1))
    })
}

/// Replace the `rows` table's text in `sqlite_schema` with `edit`'s answer (`None`: the text
/// is not the one payrun wrote), with `schema_version` bumped so every connection re-reads
/// it. Only for changes no stored row can violate. Runs inside the caller's transaction.
fn edit_rows_table(
    tx: &rusqlite::Transaction<'_>,
    edit: impl FnOnce(&str) -> Option<String>,
) -> Result<(), JournalError> {
    let sql: String = tx.query_row(
        "SELECT sql FROM sqlite_schema WHERE type = 'table' AND name = 'rows'",
        [],
        |r| r.get(0),
    )?;
    let edited = edit(&sql).ok_or_else(|| {
        JournalError::Corrupt("the rows table's state check is not the one payrun wrote".into())
    })?;
    let version: i64 = tx.query_row("PRAGMA schema_version", [], |r| r.get(0))?;
    tx.execute_batch("PRAGMA writable_schema = ON")?;
    let written = tx.execute(
        "UPDATE sqlite_schema SET sql = ?1 WHERE type = 'table' AND name = 'rows'",
        [&edited],
    );
    let bumped = tx.execute_batch(&format!("PRAGMA schema_version = {}", version + 1));
    tx.execute_batch("PRAGMA writable_schema = OFF")?;
    written?;
    bumped?;
    Ok(())
}

/// Version 3's changes, in the caller's transaction.
fn to_v3(tx: &rusqlite::Transaction<'_>) -> Result<(), JournalError> {
    admit_cancelled(tx)?;
    tx.execute_batch(V3)?;
    tx.execute_batch(V3_APPROVALS)?;
    Ok(())
}

/// Version 4 (from 3): what the payee file said about each payee beyond the payment itself —
/// the name (first and last name joined), the operator and the description — so `report` can
/// show them whatever the provider's request carries. Rows planned before have none.
const V4: &str = r#"
ALTER TABLE rows ADD COLUMN payee_name TEXT;
ALTER TABLE rows ADD COLUMN payee_operator TEXT;
ALTER TABLE rows ADD COLUMN payee_description TEXT;
"#;

fn to_v1(tx: &rusqlite::Transaction<'_>) -> Result<(), JournalError> {
    Ok(tx.execute_batch(SCHEMA)?)
}

fn to_v2(tx: &rusqlite::Transaction<'_>) -> Result<(), JournalError> {
    tx.execute_batch(V2)?;
    Ok(tx.execute_batch(V2_INDEXES)?)
}

fn to_v4(tx: &rusqlite::Transaction<'_>) -> Result<(), JournalError> {
    Ok(tx.execute_batch(V4)?)
}

/// The open states (`planned`, `sending`, `in_doubt`) as a condition on a row, exactly as
/// the partial index `rows_open` is defined (version 5): a query that says it this way reads
/// only the open rows (`INDEXED BY rows_open`); SQLite uses a partial index only for a query
/// that repeats its condition.
pub const OPEN: &str = open_states!();

/// [`OPEN`] as a literal, for `concat!` in statements that are prepared on every call.
macro_rules! open_states {
    () => {
        "(state = 'planned' OR state = 'sending' OR state = 'in_doubt')"
    };
}
pub(crate) use open_states;

/// Version 5 (from 4): the state check of `rows` and the condition of `rows_open` say
/// `state = 'a' OR state = 'b' ...` instead of `state IN ('a','b', ...)`. Same meaning, same
/// rows; but SQLite evaluates a constant `IN` list of three or more through a temporary
/// b-tree built on every execution, and every statement that changes a row's state evaluated
/// three of them (the check, and the index condition for the old and the new row): about a
/// tenth of the CPU of a payout. The index is rebuilt from the open rows only.
///
/// Also: `batches.repeats`, how many valid rows of the planned file repeat an earlier row's
/// phone, amount and currency, as planning counted them. Zero lets `run` and `resume` skip the
/// whole-batch pass that looks for repeats (a resume of a million-row batch with ten rows left
/// starts at once); `NULL` (planned before version 5, or continued from an edited file) means
/// that pass is made.
fn to_v5(tx: &rusqlite::Transaction<'_>) -> Result<(), JournalError> {
    let check = format!("state IN\n                        {STATES_V3}");
    let ors = STATES_V3
        .trim_matches(|c| c == '(' || c == ')')
        .split(',')
        .map(|s| format!("state = {s}"))
        .collect::<Vec<_>>()
        .join(" OR ");
    edit_rows_table(tx, |sql| {
        (sql.matches(&check).count() == 1).then(|| sql.replacen(&check, &ors, 1))
    })?;
    tx.execute_batch(&format!(
        "DROP INDEX rows_open;
         CREATE INDEX rows_open ON rows (id) WHERE {};
         ALTER TABLE batches ADD COLUMN repeats INTEGER;",
        OPEN
    ))?;
    Ok(())
}

/// A step of the schema's history, in the caller's transaction.
type Step = fn(&rusqlite::Transaction<'_>) -> Result<(), JournalError>;

/// Step `n` takes a journal of version `n` to version `n + 1`. A new journal takes every step,
/// so new and upgraded journals are laid out the same.
const STEPS: [Step; 5] = [to_v1, to_v2, to_v3, to_v4, to_v5];

/// Create the schema in a new journal, upgrade an older one, or check its version.
pub fn migrate(conn: &mut Connection) -> Result<(), JournalError> {
    let version: i64 = conn.query_row("PRAGMA user_version", [], |r| r.get(0))?;
    match version {
        SCHEMA_VERSION => return Ok(()),
        old if (0..SCHEMA_VERSION).contains(&old) => {}
        newer => return Err(JournalError::NewerSchema(newer)),
    }
    let tx = conn.transaction_with_behavior(rusqlite::TransactionBehavior::Immediate)?;
    // Another process may have created or upgraded it between our read and our lock.
    let version: i64 = tx.query_row("PRAGMA user_version", [], |r| r.get(0))?;
    if !(0..=SCHEMA_VERSION).contains(&version) {
        return Err(JournalError::NewerSchema(version));
    }
    if version < SCHEMA_VERSION {
        for step in STEPS.iter().skip(usize::try_from(version).unwrap_or(0)) {
            step(&tx)?;
        }
        tx.execute_batch(&format!("PRAGMA user_version = {SCHEMA_VERSION}"))?;
    }
    tx.commit()?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_version_1_journal_is_migrated_and_keeps_its_rows() {
        let mut conn = Connection::open_in_memory().unwrap();
        conn.execute_batch(SCHEMA).unwrap();
        conn.execute_batch("PRAGMA user_version = 1").unwrap();
        conn.execute_batch(
            "INSERT INTO batches (id, file_name, file_path, file_sha256, provider, sandbox, base_url,
                settings, created_at, updated_at)
             VALUES ('old', 'f.csv', '/f.csv', 'ab', 'rohopay', 0, 'http://127.0.0.1', '{}', 1, 1);
             INSERT INTO rows (id, line, identity, idem_key, phone, amount_text, currency, state,
                created_at, updated_at)
             VALUES (4294967297, 2, 'EMP-1', 'k1', '256700000001', '1000', 'UGX', 'succeeded', 1, 1);",
        )
        .unwrap();
        migrate(&mut conn).unwrap();
        let version: i64 = conn
            .query_row("PRAGMA user_version", [], |r| r.get(0))
            .unwrap();
        assert_eq!(version, SCHEMA_VERSION);
        let (scheme, fingerprint): (i64, Option<String>) = conn
            .query_row(
                "SELECT key_scheme, fingerprint FROM batches WHERE id = 'old'",
                [],
                |r| Ok((r.get(0)?, r.get(1)?)),
            )
            .unwrap();
        assert_eq!((scheme, fingerprint), (1, None));
        let (key, attention): (String, Option<String>) = conn
            .query_row("SELECT idem_key, attention FROM rows", [], |r| {
                Ok((r.get(0)?, r.get(1)?))
            })
            .unwrap();
        assert_eq!((key.as_str(), attention), ("k1", None));
        let approvals: i64 = conn
            .query_row("SELECT COUNT(*) FROM approvals", [], |r| r.get(0))
            .unwrap();
        assert_eq!(approvals, 0, "version 3's approvals table is there, empty");
        // Opening it again changes nothing.
        migrate(&mut conn).unwrap();
    }

    /// The state check still refuses a word it does not know, and the file is sound.
    fn assert_refuses_other_states_and_is_sound(conn: &Connection) {
        assert!(
            conn.execute("UPDATE rows SET state = 'paid'", []).is_err(),
            "the check still refuses other words"
        );
        let ok: String = conn
            .query_row("PRAGMA integrity_check", [], |r| r.get(0))
            .unwrap();
        assert_eq!(ok, "ok");
    }

    /// A journal as payrun wrote it at version 2, with one row in it.
    fn version_2() -> Connection {
        let mut conn = Connection::open_in_memory().unwrap();
        let tx = conn.transaction().unwrap();
        tx.execute_batch(SCHEMA).unwrap();
        tx.execute_batch(V2).unwrap();
        tx.execute_batch(V2_INDEXES).unwrap();
        tx.execute_batch(
            "PRAGMA user_version = 2;
             INSERT INTO batches (id, file_name, file_path, file_sha256, provider, sandbox, base_url,
                settings, created_at, updated_at, key_scheme)
             VALUES ('b', 'f.csv', '/f.csv', 'ab', 'rohopay', 0, 'http://127.0.0.1', '{}', 1, 1, 2);
             INSERT INTO rows (id, line, identity, idem_key, phone, amount_text, currency, state,
                created_at, updated_at)
             VALUES (4294967297, 2, 'EMP-1', 'k1', '256700000001', '1000', 'UGX', 'planned', 1, 1);",
        )
        .unwrap();
        tx.commit().unwrap();
        conn
    }

    #[test]
    fn a_version_2_journal_learns_cancelled_and_attempts_and_keeps_its_rows() {
        let mut conn = version_2();
        let refused = conn.execute("UPDATE rows SET state = 'cancelled'", []);
        assert!(refused.is_err(), "version 2 does not know the word");
        migrate(&mut conn).unwrap();
        let version: i64 = conn
            .query_row("PRAGMA user_version", [], |r| r.get(0))
            .unwrap();
        assert_eq!(version, SCHEMA_VERSION);
        conn.execute("UPDATE rows SET state = 'cancelled'", [])
            .unwrap();
        let (state, attempt): (String, i64) = conn
            .query_row("SELECT state, attempt FROM rows", [], |r| {
                Ok((r.get(0)?, r.get(1)?))
            })
            .unwrap();
        assert_eq!((state.as_str(), attempt), ("cancelled", 1));
        assert_refuses_other_states_and_is_sound(&conn);
        migrate(&mut conn).unwrap();
    }

    #[test]
    fn new_and_upgraded_journals_are_laid_out_alike() {
        let schema = |conn: &Connection| -> Vec<(String, String)> {
            let mut stmt = conn
                .prepare("SELECT name, sql FROM sqlite_schema WHERE sql IS NOT NULL ORDER BY name")
                .unwrap();
            stmt.query_map([], |r| Ok((r.get(0)?, r.get(1)?)))
                .unwrap()
                .collect::<Result<_, _>>()
                .unwrap()
        };
        let mut new = Connection::open_in_memory().unwrap();
        migrate(&mut new).unwrap();
        let mut upgraded = version_2();
        migrate(&mut upgraded).unwrap();
        assert_eq!(schema(&new), schema(&upgraded));
    }

    #[test]
    fn a_version_3_journal_gains_the_payee_columns_empty() {
        let mut conn = version_2();
        {
            let tx = conn.transaction().unwrap();
            to_v3(&tx).unwrap();
            tx.execute_batch("PRAGMA user_version = 3").unwrap();
            tx.commit().unwrap();
        }
        migrate(&mut conn).unwrap();
        let version: i64 = conn
            .query_row("PRAGMA user_version", [], |r| r.get(0))
            .unwrap();
        assert_eq!(version, SCHEMA_VERSION);
        let details: Vec<(Option<String>, Option<String>, Option<String>)> = conn
            .prepare("SELECT payee_name, payee_operator, payee_description FROM rows")
            .unwrap()
            .query_map([], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)))
            .unwrap()
            .collect::<Result<_, _>>()
            .unwrap();
        assert!(!details.is_empty());
        assert!(
            details.iter().all(|d| *d == (None, None, None)),
            "{details:?}"
        );
    }

    /// The opcodes of `sql` as SQLite would run it.
    fn opcodes(conn: &Connection, sql: &str) -> Vec<String> {
        let mut stmt = conn.prepare(&format!("EXPLAIN {sql}")).unwrap();
        let mut rows = stmt.raw_query();
        let mut ops = Vec::new();
        while let Some(r) = rows.next().unwrap() {
            ops.push(r.get(1).unwrap());
        }
        ops
    }

    #[test]
    fn changing_a_rows_state_builds_no_temporary_btree() {
        let mut conn = Connection::open_in_memory().unwrap();
        migrate(&mut conn).unwrap();
        let claim = concat!(
            "UPDATE rows SET state = 'sending', updated_at = ?2 WHERE id = ?1 AND ",
            open_states!()
        );
        for sql in [claim, "UPDATE rows SET state = ?2 WHERE id = ?1"] {
            let ops = opcodes(&conn, sql);
            assert!(ops.iter().any(|o| o == "IdxInsert"), "{sql}: {ops:?}");
            assert!(!ops.iter().any(|o| o == "OpenEphemeral"), "{sql}: {ops:?}");
        }
        // What version 4 did: an `IN` list of three or more builds one every time.
        let v4 = "UPDATE rows SET state = 'sending' WHERE id = ?1 AND state IN ('planned','sending','in_doubt')";
        assert!(opcodes(&conn, v4).iter().any(|o| o == "OpenEphemeral"));
    }

    #[test]
    fn a_version_4_journal_keeps_its_open_rows_and_its_state_check() {
        let mut conn = version_2();
        {
            let tx = conn.transaction().unwrap();
            to_v3(&tx).unwrap();
            to_v4(&tx).unwrap();
            tx.execute_batch(
                "PRAGMA user_version = 4;
                 INSERT INTO rows (id, line, identity, idem_key, phone, amount_text, currency, state,
                    created_at, updated_at)
                 VALUES (4294967298, 3, 'EMP-2', 'k2', '256700000002', '1000', 'UGX', 'succeeded', 1, 1),
                        (4294967299, 4, 'EMP-3', 'k3', '256700000003', '1000', 'UGX', 'in_doubt', 1, 1),
                        (4294967300, 5, 'EMP-4', 'k4', '256700000004', '1000', 'UGX', 'cancelled', 1, 1);",
            )
            .unwrap();
            tx.commit().unwrap();
        }
        migrate(&mut conn).unwrap();
        let open: Vec<i64> = conn
            .prepare(&format!(
                "SELECT id FROM rows r INDEXED BY rows_open WHERE {OPEN} ORDER BY id"
            ))
            .unwrap()
            .query_map([], |r| r.get(0))
            .unwrap()
            .collect::<Result<_, _>>()
            .unwrap();
        assert_eq!(open, [4294967297, 4294967299], "planned and in doubt");
        let tables: String = conn
            .query_row(
                "SELECT group_concat(sql, ';') FROM sqlite_schema WHERE name IN ('rows', 'rows_open')",
                [],
                |r| r.get(0),
            )
            .unwrap();
        assert!(!tables.contains(" IN "), "{tables}");
        for word in [
            "planned",
            "sending",
            "accepted",
            "succeeded",
            "failed",
            "in_doubt",
        ] {
            conn.execute("UPDATE rows SET state = ?1 WHERE id = 4294967297", [word])
                .unwrap();
        }
        for word in ["rejected", "cancelled"] {
            conn.execute("UPDATE rows SET state = ?1 WHERE id = 4294967297", [word])
                .unwrap();
        }
        assert_refuses_other_states_and_is_sound(&conn);
    }
}
