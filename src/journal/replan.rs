//! The journal side of continuing a batch with an edited file (`--allow-changed-file`): the
//! batch's keyed rows as they stand, and the writes the planner decides on, all in one
//! transaction that the caller commits or drops.

use rusqlite::{Connection, Transaction, TransactionBehavior, params};

use super::fingerprint::set_fingerprint;
use super::rows::{state_of, to_u64};
use super::span::{IN_BATCH, insert_key, next_row_id};
use super::{Journal, JournalError, PlannedRow, RejectedInsert, now_ms};
use crate::domain::RowState;

/// A keyed row of a batch, as the edited file is matched against it.
#[derive(Clone, Debug)]
pub struct ExistingRow {
    pub id: i64,
    pub identity: String,
    /// The identity is the file's reference (not derived from phone, amount and currency).
    pub reference: Option<String>,
    pub state: RowState,
    pub phone: String,
    pub amount_minor: u64,
    /// Major units as shown to people.
    pub amount_text: String,
    pub currency: String,
    pub line: u64,
    /// Never sent, and withdrawn because an earlier file no longer had it (`rejected`, with
    /// its key and no conflict note).
    pub withdrawn: bool,
    /// Its attempt (`payrun retry`): a row on attempt 2 or later was sent before, whatever
    /// its state now, and its key and body are the retry's.
    pub attempt: u32,
    /// Never sent and held back as a conflict: the note that holds it.
    pub held: Option<String>,
}

fn existing_rows(conn: &Connection, batch_id: &str) -> Result<Vec<ExistingRow>, JournalError> {
    let mut stmt = conn.prepare(&format!(
        "SELECT r.id, r.identity, r.reference, r.state, r.phone, r.amount_minor, r.amount_text,
                r.currency, r.line,
                r.state = 'rejected' AND r.idem_key IS NOT NULL AND r.conflict IS NULL, r.attempt,
                CASE WHEN r.state = 'rejected' THEN r.conflict END
         FROM batches b CROSS JOIN rows r
         WHERE b.id = ?1 AND {IN_BATCH} AND (r.idem_key IS NOT NULL OR r.conflict IS NOT NULL)
         ORDER BY r.id"
    ))?;
    let mut rows = stmt.query([batch_id])?;
    let mut out = Vec::new();
    while let Some(r) = rows.next()? {
        let state: String = r.get(3)?;
        out.push(ExistingRow {
            id: r.get(0)?,
            identity: r.get(1)?,
            reference: r.get(2)?,
            state: state_of(&state)?,
            phone: r.get(4)?,
            amount_minor: to_u64(r.get::<_, Option<i64>>(5)?.unwrap_or(0)),
            amount_text: r.get(6)?,
            currency: r.get(7)?,
            line: to_u64(r.get(8)?),
            withdrawn: r.get(9)?,
            attempt: u32::try_from(r.get::<_, i64>(10)?).unwrap_or(u32::MAX),
            held: r.get(11)?,
        });
    }
    Ok(out)
}

/// The writes of one replan, inside its transaction.
pub struct ReplanWriter<'c> {
    tx: Transaction<'c>,
    batch_id: String,
    now: i64,
}

impl Journal {
    /// Start a replan of `batch_id`: its keyed rows, and a writer holding the write
    /// transaction. Nothing is written unless [`ReplanWriter::commit`] is called.
    pub fn begin_replan(
        &mut self,
        batch_id: &str,
    ) -> Result<(Vec<ExistingRow>, ReplanWriter<'_>), JournalError> {
        let tx = self
            .conn_mut()
            .transaction_with_behavior(TransactionBehavior::Immediate)?;
        let rows = existing_rows(&tx, batch_id)?;
        Ok((
            rows,
            ReplanWriter {
                tx,
                batch_id: batch_id.to_string(),
                now: now_ms(),
            },
        ))
    }
}

impl ReplanWriter<'_> {
    /// An unchanged row moved to another line of the file.
    pub fn move_line(&self, row_id: i64, line: u64) -> Result<(), JournalError> {
        self.tx.execute(
            "UPDATE rows SET line = ?2 WHERE id = ?1",
            params![row_id, line as i64],
        )?;
        Ok(())
    }

    /// A row not sent yet (planned, or withdrawn and now back in the file) takes the file's
    /// values and is planned; its key stays.
    pub fn update_unsent(&self, row_id: i64, p: &PlannedRow) -> Result<(), JournalError> {
        self.unsent(row_id, p, None)
    }

    /// A row not sent yet that the file now has paying what a sent row, gone from the file,
    /// already paid: it takes the file's values (so reports show what the file asks) and the
    /// conflict note, and is never sent.
    pub fn conflict_unsent(
        &self,
        row_id: i64,
        p: &PlannedRow,
        note: &str,
    ) -> Result<(), JournalError> {
        self.unsent(row_id, p, Some(note))
    }

    fn unsent(
        &self,
        row_id: i64,
        p: &PlannedRow,
        conflict: Option<&str>,
    ) -> Result<(), JournalError> {
        let changed = self.tx.execute(
            "UPDATE rows SET line = ?2, phone = ?3, amount_minor = ?4, amount_text = ?5, currency = ?6,
                request_body = ?7, reference = ?8, updated_at = ?9, last_error = NULL,
                state = CASE WHEN ?10 IS NULL THEN 'planned' ELSE 'rejected' END, conflict = ?10,
                payee_name = ?11, payee_operator = ?12, payee_description = ?13
             WHERE id = ?1 AND attempt = 1 AND (state = 'planned'
                OR (state = 'rejected' AND idem_key IS NOT NULL AND conflict IS NULL))",
            params![row_id, p.line as i64, p.phone, p.amount_minor as i64, p.amount_text,
                    p.currency.code(), p.body, p.reference, self.now, conflict,
                    p.details.name, p.details.operator, p.details.description],
        )?;
        if changed != 1 {
            return Err(JournalError::Corrupt(format!(
                "row {row_id} was sent while its batch was being replanned"
            )));
        }
        Ok(())
    }

    /// A row held back as a conflict (never sent) that the file edits again: it takes the
    /// file's values, so reports show what the file asks, and stays held with `note`.
    pub fn hold_again(&self, row_id: i64, p: &PlannedRow, note: &str) -> Result<(), JournalError> {
        let changed = self.tx.execute(
            "UPDATE rows SET line = ?2, phone = ?3, amount_minor = ?4, amount_text = ?5, currency = ?6,
                reference = ?7, conflict = ?8, updated_at = ?9,
                payee_name = ?10, payee_operator = ?11, payee_description = ?12
             WHERE id = ?1 AND state = 'rejected' AND conflict IS NOT NULL",
            params![row_id, p.line as i64, p.phone, p.amount_minor as i64, p.amount_text,
                    p.currency.code(), p.reference, note, self.now,
                    p.details.name, p.details.operator, p.details.description],
        )?;
        if changed != 1 {
            return Err(JournalError::Corrupt(format!(
                "row {row_id} is no longer held back while its batch is being replanned"
            )));
        }
        Ok(())
    }

    /// A row whose retry (a later attempt) was not sent yet, and that the file now changes or
    /// no longer has: the retry is withdrawn (`cancelled`, never sent) with `note`.
    pub fn withdraw_retry(&self, row_id: i64, note: &str) -> Result<(), JournalError> {
        let changed = self.tx.execute(
            "UPDATE rows SET state = 'cancelled', conflict = ?2, updated_at = ?3
             WHERE id = ?1 AND state = 'planned' AND attempt > 1",
            params![row_id, note, self.now],
        )?;
        if changed != 1 {
            return Err(JournalError::Corrupt(format!(
                "row {row_id} was sent while its batch was being replanned"
            )));
        }
        Ok(())
    }

    /// A sent row that the file changes or no longer has: noted, never paid again.
    pub fn note_conflict(&self, row_id: i64, note: &str) -> Result<(), JournalError> {
        self.tx.execute(
            "UPDATE rows SET conflict = ?2, updated_at = ?3 WHERE id = ?1",
            params![row_id, note, self.now],
        )?;
        Ok(())
    }

    /// An unsent row the file no longer has: it will not be paid.
    pub fn withdraw(&self, row_id: i64) -> Result<(), JournalError> {
        self.tx.execute(
            "UPDATE rows SET state = 'rejected', last_error = 'removed from the file before it was sent',
                updated_at = ?2 WHERE id = ?1 AND state = 'planned' AND attempt = 1",
            params![row_id, self.now],
        )?;
        Ok(())
    }

    /// A new row of the file that would pay again what was already sent: recorded, not paid.
    pub fn add_conflict(&self, p: &PlannedRow, note: &str) -> Result<(), JournalError> {
        let id = next_row_id(&self.tx, &self.batch_id)?;
        self.tx.execute(
            "INSERT INTO rows (id, line, identity, reference, phone, amount_minor, amount_text, currency,
                state, conflict, created_at, updated_at, payee_name, payee_operator, payee_description)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, 'rejected', ?9, ?10, ?10, ?11, ?12, ?13)",
            params![id, p.line as i64, p.identity, p.reference, p.phone, p.amount_minor as i64,
                    p.amount_text, p.currency.code(), note, self.now,
                    p.details.name, p.details.operator, p.details.description],
        )?;
        Ok(())
    }

    /// A new payee added to the batch.
    pub fn add_planned(&self, p: &PlannedRow) -> Result<(), JournalError> {
        let id = next_row_id(&self.tx, &self.batch_id)?;
        self.tx.execute(
            "INSERT INTO rows (id, line, identity, idem_key, reference, phone, amount_minor, amount_text,
                currency, request_body, state, created_at, updated_at, payee_name, payee_operator,
                payee_description)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, 'planned', ?11, ?11, ?12, ?13, ?14)",
            params![id, p.line as i64, p.identity, p.key, p.reference, p.phone, p.amount_minor as i64,
                    p.amount_text, p.currency.code(), p.body, self.now,
                    p.details.name, p.details.operator, p.details.description],
        )?;
        insert_key(&self.tx, &p.key, id)
    }

    /// The edited file's invalid rows replace the old file's.
    pub fn replace_rejected(&self, rejected: &[RejectedInsert]) -> Result<(), JournalError> {
        self.tx.execute(
            &format!(
                "DELETE FROM rows WHERE id IN (SELECT r.id FROM batches b CROSS JOIN rows r
                    WHERE b.id = ?1 AND {IN_BATCH} AND r.idem_key IS NULL AND r.state = 'rejected'
                      AND r.conflict IS NULL AND r.identity LIKE 'rejected:line:%')"
            ),
            [&self.batch_id],
        )?;
        for r in rejected {
            let id = next_row_id(&self.tx, &self.batch_id)?;
            self.tx.execute(
                "INSERT INTO rows (id, line, identity, reference, phone, amount_text, currency, state,
                    last_error, created_at, updated_at)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, 'rejected', ?8, ?9, ?9)",
                params![id, r.line as i64, r.identity(),
                        (!r.reference.is_empty()).then_some(r.reference.as_str()),
                        r.phone, r.amount, r.currency, r.error, self.now],
            )?;
        }
        Ok(())
    }

    /// Record the file the batch now follows, and commit everything.
    pub fn commit(
        self,
        file_path: &str,
        file_sha256: &str,
        fingerprint: &str,
    ) -> Result<(), JournalError> {
        self.tx.execute(
            "UPDATE batches SET file_path = ?2, file_sha256 = ?3, updated_at = ?4 WHERE id = ?1",
            params![self.batch_id, file_path, file_sha256, self.now],
        )?;
        // Repeats across the kept rows and the edited file are not counted here: looked for.
        set_fingerprint(&self.tx, &self.batch_id, fingerprint, None)?;
        self.tx.commit()?;
        Ok(())
    }
}
