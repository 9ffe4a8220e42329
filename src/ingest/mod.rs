//! CSV ingest and validation (DESIGN §2). STUB: built by the validation work (issue 2).
