//! The open rows of a batch in plan order, read from the journal a page at a time (and, for
//! `retry`, only the rows it gave a new attempt).

use std::collections::{HashSet, VecDeque};
use std::sync::Arc;

use crate::journal::{JournalActor, JournalError, OpenRow, open_rows_page};

const PAGE: usize = 1024;

pub(super) struct OpenRows {
    journal: JournalActor,
    batch: String,
    after_id: i64,
    page: VecDeque<OpenRow>,
    exhausted: bool,
    only: Option<Arc<HashSet<i64>>>,
}

impl OpenRows {
    pub fn new(journal: JournalActor, batch: &str, only: Option<Arc<HashSet<i64>>>) -> OpenRows {
        OpenRows {
            journal,
            batch: batch.to_string(),
            after_id: 0,
            page: VecDeque::new(),
            exhausted: false,
            only,
        }
    }

    /// The next open row, or `None` when there are no more.
    pub async fn next(&mut self) -> Result<Option<OpenRow>, JournalError> {
        loop {
            if let Some(row) = self.page.pop_front() {
                if self
                    .only
                    .as_ref()
                    .is_some_and(|only| !only.contains(&row.id))
                {
                    continue;
                }
                return Ok(Some(row));
            }
            if self.exhausted {
                return Ok(None);
            }
            let (batch, after_id) = (self.batch.clone(), self.after_id);
            let page = self
                .journal
                .call(move |j| open_rows_page(j.conn(), &batch, after_id, PAGE))
                .await??;
            match page.last() {
                Some(last) => self.after_id = last.id,
                None => self.exhausted = true,
            }
            self.page.extend(page);
        }
    }

    /// Up to `n` next open rows (fewer only at the end).
    pub async fn take(&mut self, n: usize) -> Result<Vec<OpenRow>, JournalError> {
        let mut out = Vec::with_capacity(n);
        while out.len() < n {
            match self.next().await? {
                Some(row) => out.push(row),
                None => break,
            }
        }
        Ok(out)
    }
}
