//! The operator's desk during one sequence: the temp dir with the payout files and the
//! journal, the simulator process, and the operator model kept in step with both. It builds
//! the payrun commands a careful operator would type (never a new batch of payees some batch
//! already holds unless the point is to see it refused) and learns from the journal which
//! batch each file went into.

use std::collections::BTreeSet;
use std::path::PathBuf;
use std::process::Stdio;

use rand::RngExt;
use rand_chacha::ChaCha8Rng;
use tempfile::TempDir;

use super::checker::{batch_file, batch_ids, journal_rows};
use super::ledger_model::{Basis, Content, Expect, Model};
use super::sim_process::SimProcess;

/// Where a `run` sends a file.
#[derive(Clone, Debug)]
pub enum Target {
    /// No `--batch`: payrun derives the id from the file name and content.
    Default,
    /// `--batch ID`, with `--allow-changed-file` when true.
    Explicit(String, bool),
}

/// A payout file on disk.
#[derive(Clone, Debug)]
pub struct FileOnDisk {
    pub name: String,
    pub path: PathBuf,
    pub content: Content,
    /// The batch the operator considers this file part of (copies inherit it).
    pub home: Option<String>,
}

pub struct Sequence {
    pub provider: &'static str,
    pub sim: SimProcess,
    pub dir: TempDir,
    pub journal: PathBuf,
    pub model: Model,
    pub files: Vec<FileOnDisk>,
    /// Per roster: the file the operator touched last (their latest wish).
    pub latest: Vec<usize>,
    /// Per roster: the `--batch` id the operator uses for it.
    pub roster_ids: Vec<String>,
    pub phones: BTreeSet<String>,
    persons: usize,
    fresh: usize,
    /// People whose reference was renamed, and whose phone was changed, at some point.
    renamed: BTreeSet<usize>,
    rephoned: BTreeSet<usize>,
}

impl Sequence {
    pub fn new(provider: &'static str, sim: SimProcess) -> Sequence {
        let dir = tempfile::tempdir().expect("temp dir");
        let journal = dir.path().join("payrun.db");
        Sequence {
            provider,
            sim,
            dir,
            journal,
            model: Model::default(),
            files: Vec::new(),
            latest: Vec::new(),
            roster_ids: Vec::new(),
            phones: BTreeSet::new(),
            persons: 0,
            fresh: 0,
            renamed: BTreeSet::new(),
            rephoned: BTreeSet::new(),
        }
    }

    /// Note that row `row` of `file` had its reference renamed (`phone` false) or its phone
    /// changed (`phone` true). Once a person has had both, and no journal row holds the row's
    /// current reference (as identity) or phone, nothing payrun holds links the new row to the old
    /// payments, so in the model it is a new person: paying it is what the file asks, not a
    /// second payment.
    /// Returns whether the row became a new person.
    pub fn changed_identity(&mut self, file: usize, row: usize, phone: bool) -> bool {
        let person = self.files[file].content.payees[row].person;
        let (mine, other) = if phone {
            (&mut self.rephoned, &self.renamed)
        } else {
            (&mut self.renamed, &self.rephoned)
        };
        mine.insert(person);
        if !other.contains(&person) {
            return false;
        }
        // payrun still links the row if a journal row has its reference as identity, or its
        // phone as the phone it was planned (and perhaps paid) with.
        let (reference, phone) = {
            let p = &self.files[file].content.payees[row];
            (p.reference.clone(), p.phone.clone())
        };
        let linked = batch_ids(&self.journal).iter().any(|id| {
            journal_rows(&self.journal, id).is_ok_and(|rows| {
                rows.iter()
                    .any(|r| r.identity == reference || r.phone == phone)
            })
        });
        if linked {
            return false;
        }
        let fresh = self.next_person();
        let payee = &mut self.files[file].content.payees[row];
        payee.person = fresh;
        // Its phone (a fresh one, never another person's) now counts for the new person.
        self.model.group_of_person.insert(fresh, fresh);
        self.model.group_of_phone.insert(payee.phone.clone(), fresh);
        true
    }

    pub fn next_person(&mut self) -> usize {
        self.persons += 1;
        self.persons - 1
    }

    /// Write a new file and note it as its roster's latest.
    pub fn add_file(&mut self, name: &str, content: Content, home: Option<String>) -> usize {
        let path = self.dir.path().join(name);
        self.files.push(FileOnDisk {
            name: name.to_string(),
            path,
            content,
            home,
        });
        let idx = self.files.len() - 1;
        self.rewrite(idx);
        idx
    }

    /// Save file `idx` as its content now says.
    pub fn rewrite(&mut self, idx: usize) {
        let f = &self.files[idx];
        std::fs::write(&f.path, f.content.csv()).expect("write the payout file");
        self.model.saw(&f.content);
        let roster = f.content.roster;
        if self.latest.len() <= roster {
            self.latest.resize(roster + 1, idx);
        }
        self.latest[roster] = idx;
    }

    fn new_name(&mut self, idx: usize) -> String {
        self.fresh += 1;
        let stem = self.files[idx].name.trim_end_matches(".csv");
        let stem = stem.split(" (").next().unwrap_or(stem).to_string();
        format!("{stem} ({}).csv", self.fresh)
    }

    /// Re-save with the other line ending, in place or under a new name.
    pub fn resave(&mut self, idx: usize, in_place: bool) -> usize {
        let to = if in_place {
            idx
        } else {
            let name = self.new_name(idx);
            let f = self.files[idx].clone();
            self.add_file(&name, f.content, f.home)
        };
        self.files[to].content.crlf = !self.files[to].content.crlf;
        self.rewrite(to);
        to
    }

    /// The same bytes under a new name.
    pub fn copy(&mut self, idx: usize) -> usize {
        let name = self.new_name(idx);
        let f = self.files[idx].clone();
        self.add_file(&name, f.content, f.home)
    }

    /// A batch id not used yet; now and then one payrun must refuse (`/` is not allowed).
    pub fn fresh_id(&mut self, rng: &mut ChaCha8Rng) -> String {
        self.fresh += 1;
        if rng.random_bool(0.2) {
            format!("redo/{}", self.fresh)
        } else {
            format!("pay:{}", self.fresh)
        }
    }

    /// A batch the journal holds, if any.
    pub fn some_batch(&self, rng: &mut ChaCha8Rng) -> Option<String> {
        let ids = self.journal_batches();
        (!ids.is_empty()).then(|| ids[rng.random_range(0..ids.len())].clone())
    }

    pub fn journal_batches(&self) -> Vec<String> {
        batch_ids(&self.journal)
    }

    /// Rows of `batch` still `planned`, `sending` or `in_doubt`.
    pub fn open_rows(&self, batch: &str) -> usize {
        journal_rows(&self.journal, batch).map_or(usize::MAX, |rows| {
            rows.iter()
                .filter(|r| {
                    matches!(r.state.as_str(), "planned" | "sending" | "in_doubt")
                        && !r.needs_a_person()
                })
                .count()
        })
    }

    /// How an operator would run file `idx` now: into its batch, or its roster's first id.
    /// A run that would plan a new batch paying people some batch already holds is turned
    /// into the continuation payrun suggests (`--batch HOME --allow-changed-file`).
    pub fn choose_run(&self, rng: &mut ChaCha8Rng, idx: usize) -> Target {
        let f = &self.files[idx];
        let target = match &f.home {
            None if rng.random_bool(0.3) => Target::Default,
            None => Target::Explicit(self.roster_ids[f.content.roster].clone(), false),
            Some(_) if rng.random_bool(0.4) => Target::Default,
            Some(home) => Target::Explicit(home.clone(), rng.random_bool(0.6)),
        };
        let (expect, id) = self.predict(idx, &target);
        let new_batch = !self.model.batches.contains_key(&id);
        if expect.0 == Expect::Proceed && new_batch && self.model.overlaps(&f.content) {
            return match self.home_of(idx) {
                Some(home) => Target::Explicit(home, true),
                None => target,
            };
        }
        target
    }

    /// The batch file `idx` belongs to: its own, else the one its roster was last run into.
    pub fn home_of(&self, idx: usize) -> Option<String> {
        let roster = self.files[idx].content.roster;
        self.files[idx].home.clone().or_else(|| {
            self.files
                .iter()
                .rev()
                .filter(|f| f.content.roster == roster)
                .find_map(|f| f.home.clone())
        })
    }

    fn sha(&self, idx: usize) -> String {
        payrun::batch::keys::file_sha256(&self.files[idx].path).expect("hash the file")
    }

    /// The model's verdict on running file `idx` into `target`, and the batch id it names.
    fn predict(&self, idx: usize, target: &Target) -> ((Expect, Basis), String) {
        let f = &self.files[idx];
        let sha = self.sha(idx);
        let default_id = payrun::batch::keys::default_batch_id(&f.path, &sha);
        let (explicit, allow) = match target {
            Target::Default => (None, false),
            Target::Explicit(id, allow) => (Some(id.as_str()), *allow),
        };
        let path = f.path.to_string_lossy();
        let expect = self
            .model
            .expect_run(&path, &sha, &f.content, explicit, &default_id, allow);
        (expect, explicit.map_or(default_id, str::to_string))
    }

    /// The payrun binary, pointed at this sequence's simulator and journal.
    pub fn payrun(&self) -> tokio::process::Command {
        let mut c = tokio::process::Command::new(env!("CARGO_BIN_EXE_payrun"));
        c.env("ROHOPAY_API_KEY", "live_test_fixture")
            .env("ROHOPAY_BASE_URL", self.sim.rohopay_url())
            .env("RUMBAPAY_API_KEY", "live_test_fixture")
            .env("RUMBAPAY_BASE_URL", self.sim.rumbapay_url())
            .env("PAYRUN_JOURNAL", &self.journal)
            .env("PAYRUN_PROGRESS_SECS", "1")
            .env_remove("RUST_LOG")
            .current_dir(self.dir.path())
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .kill_on_drop(true);
        c
    }

    /// The files repeat some payments on purpose (the model pays them as often as written), so
    /// every sending command says they are meant.
    pub fn send_args(&self, c: &mut tokio::process::Command) {
        c.args(["--rate", "1000", "--concurrency", "4", "--allow-repeats"]);
    }

    /// `run FILE ...` for `target`: the command, the model's verdict, a log line, the id.
    pub fn run_command(
        &self,
        idx: usize,
        target: &Target,
    ) -> (tokio::process::Command, (Expect, Basis), String, String) {
        let f = &self.files[idx];
        let (expect, id) = self.predict(idx, target);
        let mut c = self.payrun();
        c.arg("run")
            .arg(&f.path)
            .args(["--provider", self.provider, "--yes"]);
        let mut line = format!("run '{}'", f.name);
        if let Target::Explicit(id, allow) = target {
            c.args(["--batch", id]);
            line.push_str(&format!(" --batch {id}"));
            if *allow {
                c.arg("--allow-changed-file");
                line.push_str(" --allow-changed-file");
            }
        }
        self.send_args(&mut c);
        (c, expect, line, id)
    }

    /// After a `run` into `id`: if the journal's batch now holds this file's bytes, the
    /// model learns it and the file belongs to that batch.
    pub fn observe_run(&mut self, idx: usize, id: &str) {
        let sha = self.sha(idx);
        // The journal's path, not this file's: continuing a batch with an identical copy
        // leaves the batch's path as it was.
        if let Some((planned_sha, planned_path)) = batch_file(&self.journal, id)
            && planned_sha == sha
        {
            let f = &self.files[idx];
            self.model.planned(id, &planned_path, &sha, &f.content);
            self.files[idx].home = Some(id.to_string());
        }
    }
}
