//! `payrun validate` integration tests. STUB: built by the validation work (issue 2).
