//! The command-line surface (README, "Commands"), declared with clap derive. Help text is
//! written for the person running payroll, not for the person who wrote payrun.

use std::{net::SocketAddr, path::PathBuf};

use clap::{Args, Parser, Subcommand, ValueEnum};

use super::approval_args::{ApprovalArgs, GateArgs};
use crate::domain::{AmountUnit, Currency, Money, ProviderKind};
use crate::ingest::ColumnChoice;

#[derive(Debug, Parser)]
#[command(
    name = "payrun",
    version,
    about = "Pay a CSV or spreadsheet of mobile-money payees exactly once: validate, check balance, send, resume.",
    long_about = "payrun validates a payout file (salaries, commissions, settlements), checks the \
wallet balance, pays every payee through RohoPay or Rumbapay at a controlled rate, and journals \
every step in SQLite. An interrupted run is resumed later: no payee is ever paid twice and none \
is silently skipped.\n\nTry it with no account: payrun run samples/payroll.csv --provider rohopay --sandbox --yes",
    after_help = "Exit codes: 0 all good, 1 some rows rejected/failed/in doubt, 2 usage or \
configuration error, 3 refused before sending anything, 130 interrupted (resumable)."
)]
pub struct Cli {
    /// Config file with [profiles.NAME] tables (default: ./payrun.toml, else
    /// $XDG_CONFIG_HOME/payrun/config.toml). See README, "Config file and profiles".
    #[arg(long, global = true, env = "PAYRUN_CONFIG", value_name = "PATH")]
    pub config: Option<PathBuf>,

    /// Profile of the config file to use (default: the profile named `default`, if any).
    #[arg(long, global = true, env = "PAYRUN_PROFILE", value_name = "NAME")]
    pub profile: Option<String>,

    #[command(subcommand)]
    pub command: Command,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Check a payout file and show every problem with its line number, plus the totals.
    Validate(ValidateArgs),
    /// Pay a file: validate, show a pre-flight summary, confirm, then send every payout once.
    Run(RunArgs),
    /// Continue an interrupted batch from the journal; nothing already paid is paid again.
    Resume(ResumeArgs),
    /// Show where a batch stands (or list every batch in the journal).
    Status(StatusArgs),
    /// Write every payee with its final state, provider ids and errors: CSV or JSON for
    /// scripts, an Excel workbook (xlsx) or one self-contained web page (html) for people.
    Report(ReportArgs),
    /// Ask the provider for the final state of accepted and in-doubt payouts.
    Reconcile(ReconcileArgs),
    /// Pay again the rows whose last attempt definitively failed, each under a new key.
    Retry(RetryArgs),
    /// Withdraw a batch: its rows not sent yet are never sent.
    Cancel(CancelArgs),
    /// The config file and profiles: `payrun config show`.
    Config(ConfigArgs),
    /// Receive the providers' status webhooks and record them in the journal.
    Listen(ListenArgs),
    /// Maker-checker approvals: write a statement of a file, sign it, check its signatures.
    Approval(ApprovalArgs),
    /// Start the built-in provider simulator (RohoPay and Rumbapay APIs, with faults; a testing aid).
    Sim(SimArgs),
    /// Write a large valid sample file (for benchmarks).
    #[command(hide = true)]
    Generate(GenerateArgs),
}

/// The input file and how to read it; shared by `validate` and `run`.
#[derive(Debug, Args)]
pub struct InputArgs {
    /// The payee file: CSV text, or an .xlsx, .xls or .ods workbook (header row required).
    pub file: PathBuf,

    /// Which provider will pay: decides accepted currencies, operators and required columns.
    /// Any letter case; optional when the profile names one.
    #[arg(long, value_enum, ignore_case = true)]
    pub provider: Option<ProviderKind>,

    /// CSV column delimiter. Detected from the header (',', ';' or tab) when not given.
    #[arg(long, value_parser = parse_delimiter)]
    pub delimiter: Option<u8>,

    /// Currency (ISO code, e.g. UGX) for rows whose currency cell is empty, or every row when the
    /// file has no currency column.
    #[arg(long)]
    pub currency: Option<Currency>,

    /// How the amount column is written: major units (25000, 2500.50) or integer minor units.
    #[arg(long, value_enum, default_value_t = AmountUnit::Major)]
    pub amount_unit: AmountUnit,

    /// TOML file with min/max amounts per provider and currency (see README).
    #[arg(long, value_name = "limits.toml")]
    pub limits: Option<PathBuf>,

    /// Control count: the number of payee rows the file must contain.
    #[arg(long, value_name = "N")]
    pub expect_count: Option<u64>,

    /// Control total per currency in major units, e.g. 1234567UGX (repeat for each currency).
    #[arg(long, value_name = "AMOUNT+CUR")]
    pub expect_total: Vec<Money>,

    /// The header of a column no alias covers, e.g. --column reference="Staff No" --column
    /// amount="Net Pay (KES)" (repeatable; fields: phone, amount, amount_minor, currency,
    /// reference, first_name, last_name, name, operator, description, document_type,
    /// document_value).
    #[arg(long, value_name = "FIELD=HEADER")]
    pub column: Vec<ColumnChoice>,

    /// The sheet to read from an .xlsx, .xls or .ods workbook (default: the first visible one).
    #[arg(long, value_name = "NAME")]
    pub sheet: Option<String>,
}

impl InputArgs {
    /// The provider: `--provider`, or the profile's (applied as the flag).
    pub fn provider(&self) -> anyhow::Result<ProviderKind> {
        self.provider.ok_or_else(|| {
            anyhow::anyhow!(
                "which provider? give --provider rohopay (or rumbapay), or provider = \"rohopay\" in a \
                 profile of the config file (README, \"Config file and profiles\")"
            )
        })
    }
}

#[derive(Debug, Args)]
pub struct ConfigArgs {
    #[command(subcommand)]
    pub action: ConfigAction,
}

#[derive(Debug, Subcommand)]
pub enum ConfigAction {
    /// Print every setting payrun would use here, with where it came from (secrets masked).
    Show(ConfigShowArgs),
}

#[derive(Debug, Args)]
pub struct ConfigShowArgs {
    /// Show the credentials of this provider (default: the profile's, else both).
    #[arg(long, value_enum, ignore_case = true)]
    pub provider: Option<ProviderKind>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum TextOrJson {
    Text,
    Json,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum CsvOrJson {
    Csv,
    Json,
}

/// What `report` writes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum ReportFormat {
    /// One line per payee, safe to open in a spreadsheet.
    Csv,
    /// A JSON array, one object per payee.
    Json,
    /// An Excel workbook: a sheet of payees and a sheet of totals.
    Xlsx,
    /// One self-contained web page for the person who approves payroll.
    Html,
}

#[derive(Debug, Args)]
pub struct ValidateArgs {
    #[command(flatten)]
    pub input: InputArgs,

    /// Output: a readable list (text) or one JSON object on stdout (json).
    #[arg(long, value_enum, default_value_t = TextOrJson::Text)]
    pub format: TextOrJson,

    /// Write the invalid rows, as written, plus an `error` column to this CSV.
    #[arg(long, value_name = "OUT.csv")]
    pub rejects: Option<PathBuf>,
}

/// Where the journal lives.
#[derive(Debug, Clone, Args)]
pub struct JournalArgs {
    /// SQLite journal file (`run` creates it, mode 0600; other commands need it to exist).
    #[arg(
        long,
        env = "PAYRUN_JOURNAL",
        default_value = "payrun.db",
        value_name = "DB"
    )]
    pub journal: PathBuf,
}

/// How fast and how wide to send; shared by `run` and `resume`.
#[derive(Debug, Clone, Args)]
pub struct SendArgs {
    /// Payouts per second sent to the provider.
    #[arg(long, default_value_t = 10, value_parser = clap::value_parser!(u32).range(1..=100_000))]
    pub rate: u32,

    /// Requests in flight at once.
    #[arg(long, default_value_t = 4, value_parser = clap::value_parser!(u32).range(1..=1024))]
    pub concurrency: u32,

    /// Do not ask for confirmation (required when not on a terminal).
    #[arg(long)]
    pub yes: bool,

    /// Pay rows that repeat an earlier row's phone, amount and currency. Without it a batch
    /// with such rows is refused under --yes (at a terminal, typing yes after the list accepts
    /// them).
    #[arg(long)]
    pub allow_repeats: bool,

    /// Pay through the built-in simulator on a loopback port: no account, no money moves.
    #[arg(long)]
    pub sandbox: bool,

    /// Sandbox wallet balance per currency in major units, e.g. UGX=500000,KES=1000.50.
    #[arg(long, value_name = "CUR=AMOUNT,...", requires = "sandbox")]
    pub sandbox_balance: Option<String>,
}

#[derive(Debug, Args)]
pub struct RunArgs {
    #[command(flatten)]
    pub input: InputArgs,

    /// Batch id: 1 to 100 characters from A-Z, a-z, 0-9, '.', '_', ':' and '-'. Default: the file
    /// name without extension, a dash, and the first 12 hex digits of the file's SHA-256 (for a
    /// workbook: of the SHA-256 of its bytes and the sheet read).
    #[arg(long, value_name = "ID")]
    pub batch: Option<String>,

    #[command(flatten)]
    pub journal: JournalArgs,

    #[command(flatten)]
    pub send: SendArgs,

    /// Pay the valid rows and record the invalid ones as rejected, instead of refusing the file.
    #[arg(long)]
    pub skip_invalid: bool,

    /// Continue a batch even though its file changed; changed rows already sent become conflicts.
    #[arg(long)]
    pub allow_changed_file: bool,

    /// Pay a file as a new batch although a batch of the last 25 days pays the same payees the
    /// same amounts (a re-saved file, a copy, a new --batch id). Without it such a file is
    /// refused, because everyone in it would be paid twice.
    #[arg(long)]
    pub pay_again: bool,

    /// HTTPS URL the provider calls with final statuses, e.g.
    /// https://your-host/webhooks/rohopay (see `payrun listen`); http only for loopback. Part of
    /// each stored request: a later run of the same batch with a different URL is refused.
    #[arg(long, value_name = "URL")]
    pub callback_url: Option<String>,

    #[command(flatten)]
    pub approval: GateArgs,
}

#[derive(Debug, Args)]
pub struct ResumeArgs {
    /// Batch id, as printed by `run` and listed by `status`.
    pub batch: String,

    #[command(flatten)]
    pub journal: JournalArgs,

    #[command(flatten)]
    pub send: SendArgs,

    #[command(flatten)]
    pub approval: GateArgs,
}

#[derive(Debug, Args)]
pub struct RetryArgs {
    /// Batch id, as printed by `run` and listed by `status`.
    pub batch: String,

    /// Retry only the failed rows on these lines of the file, e.g. --only 4,17,230.
    #[arg(long, value_name = "LINE,...", value_delimiter = ',')]
    pub only: Vec<u64>,

    #[command(flatten)]
    pub journal: JournalArgs,

    #[command(flatten)]
    pub send: SendArgs,
}

#[derive(Debug, Args)]
pub struct CancelArgs {
    /// Batch id, as printed by `run` and listed by `status`.
    pub batch: String,

    #[command(flatten)]
    pub journal: JournalArgs,

    /// Do not ask for confirmation (required when not on a terminal).
    #[arg(long)]
    pub yes: bool,
}

#[derive(Debug, Args)]
pub struct StatusArgs {
    /// Batch id; without it, every batch in the journal is listed.
    pub batch: Option<String>,

    #[command(flatten)]
    pub journal: JournalArgs,

    /// Output: readable text, or JSON (rows and money per state) for scripts.
    #[arg(long, value_enum, default_value_t = TextOrJson::Text)]
    pub format: TextOrJson,
}

#[derive(Debug, Args)]
pub struct ReportArgs {
    /// Batch id (see `payrun status`).
    pub batch: String,

    #[command(flatten)]
    pub journal: JournalArgs,

    /// Output format. Without it: the --out file's extension (.csv, .json, .xlsx, .html),
    /// else csv.
    #[arg(long, value_enum)]
    pub format: Option<ReportFormat>,

    /// Write to this file (created readable by you only) instead of standard output.
    /// Required for xlsx when standard output is a terminal.
    #[arg(long, value_name = "FILE")]
    pub out: Option<PathBuf>,
}

#[derive(Debug, Args)]
pub struct ReconcileArgs {
    /// Batch id (see `payrun status`).
    pub batch: String,

    #[command(flatten)]
    pub journal: JournalArgs,

    /// Status queries per second.
    #[arg(long, default_value_t = 10, value_parser = clap::value_parser!(u32).range(1..=100_000))]
    pub rate: u32,

    /// Queries in flight at once.
    #[arg(long, default_value_t = 4, value_parser = clap::value_parser!(u32).range(1..=1024))]
    pub concurrency: u32,

    /// List every row checked and what became of it, not only the counts, the failures and
    /// what needs a person.
    #[arg(long, short)]
    pub verbose: bool,
}

#[derive(Debug, Args)]
pub struct ListenArgs {
    #[command(flatten)]
    pub journal: JournalArgs,

    /// Address to listen on for webhooks.
    #[arg(long, default_value = "127.0.0.1:8088")]
    pub addr: SocketAddr,

    /// Longest a client may take to send a request's head (`10s`, `500ms`); then the
    /// connection is closed. Default 10s.
    #[arg(long, env = "PAYRUN_LISTEN_HEADER_TIMEOUT", value_parser = crate::webhook::limits::parse_duration)]
    pub header_timeout: Option<std::time::Duration>,

    /// Longest a client may take to send a request's body once its head arrived; then it is
    /// answered 408 and the connection closed. Default 30s.
    #[arg(long, env = "PAYRUN_LISTEN_BODY_TIMEOUT", value_parser = crate::webhook::limits::parse_duration)]
    pub body_timeout: Option<std::time::Duration>,

    /// Most connections open at once. Default: the open-files limit (`ulimit -n`) less 64,
    /// between 8 and 4096.
    #[arg(long, env = "PAYRUN_LISTEN_MAX_CONNECTIONS", value_parser = crate::webhook::limits::parse_connections)]
    pub max_connections: Option<usize>,
}

#[derive(Debug, Args)]
pub struct SimArgs {
    /// Address to listen on; port 0 picks a free port (printed on the first line).
    #[arg(long, default_value = "127.0.0.1:0")]
    pub listen: SocketAddr,

    /// Seed for every random choice, so a fault pattern can be reproduced.
    #[arg(long, default_value_t = 0)]
    pub seed: u64,

    /// Probability of a 5xx answer with nothing executed.
    #[arg(long, default_value_t = 0.0, value_parser = parse_probability)]
    pub error_rate: f64,

    /// Probability that a payout is executed and then the connection closed with no answer.
    #[arg(long, default_value_t = 0.0, value_parser = parse_probability)]
    pub drop_rate: f64,

    /// Probability that an answer is delayed by --slow-ms.
    #[arg(long, default_value_t = 0.0, value_parser = parse_probability)]
    pub slow_rate: f64,

    /// Delay of a slow answer, in milliseconds.
    #[arg(long, default_value_t = 2000)]
    pub slow_ms: u64,

    /// Requests per second accepted before answering 429 with Retry-After.
    #[arg(long, value_name = "N")]
    pub rate_limit: Option<u32>,

    /// Answer 429 to every payout request after the first N (both providers together).
    #[arg(long, value_name = "N")]
    pub throttle_after: Option<u64>,

    /// With --throttle-after: answer 429 to only this many payout requests, then serve again.
    #[arg(long, value_name = "M", requires = "throttle_after")]
    pub throttle_count: Option<u64>,

    /// The Retry-After header of every 429: seconds (e.g. 999999) or an HTTP date. Default 1.
    #[arg(long, value_name = "VALUE")]
    pub retry_after: Option<String>,

    /// Probability that a payout ends in the terminal `failed` state.
    #[arg(long, default_value_t = 0.0, value_parser = parse_probability)]
    pub fail_rate: f64,

    /// Probability that RohoPay answers from its secondary provider (iotec) with a failover_reason.
    #[arg(long, default_value_t = 0.0, value_parser = parse_probability)]
    pub failover_rate: f64,

    /// Milliseconds before a pending payout becomes terminal (then the callback is sent).
    #[arg(long, default_value_t = 0)]
    pub settle_ms: u64,

    /// Live wallet balances in major units, e.g. UGX=500000,KES=1000.50 (default: 10^15 each).
    #[arg(long, value_name = "CUR=AMOUNT,...")]
    pub balance: Option<String>,

    /// Secret used to sign callbacks (X-Signature: hex HMAC-SHA256 of the body).
    #[arg(long, env = "SIM_WEBHOOK_SECRET", value_name = "SECRET")]
    pub webhook_secret: Option<String>,

    /// TESTING AID: probability per request that the answer lies (contradicts what the simulator
    /// did; the ledger keeps the truth). Proves payrun never trusts such an answer.
    #[arg(long, default_value_t = 0.0, value_parser = parse_probability)]
    pub lie_rate: f64,

    /// TESTING AID: which lies --lie-rate tells (default all): amount, phone, currency,
    /// reference (another value in the answer), redirect (302 to another host after executing),
    /// replay-4xx (a 400 for a repeated request), dup-ref (409 "duplicate reference" for a
    /// reference never sent, executing nothing).
    #[arg(long, value_name = "MODE,...", value_parser = parse_lie_modes, default_value = "")]
    pub lie_modes: LieModes,
}

/// `--lie-modes`, parsed.
#[derive(Debug, Clone, Default)]
pub struct LieModes(pub Vec<crate::sim::LieMode>);

fn parse_lie_modes(raw: &str) -> Result<LieModes, String> {
    crate::sim::LieMode::parse_list(raw).map(LieModes)
}

#[derive(Debug, Args)]
pub struct GenerateArgs {
    /// Number of payee rows.
    #[arg(long, default_value_t = 1000)]
    pub rows: u64,

    #[arg(long, value_enum, default_value_t = ProviderKind::Rohopay)]
    pub provider: ProviderKind,

    #[arg(long, default_value_t = 1)]
    pub seed: u64,

    /// Output file (default: standard output).
    #[arg(long, value_name = "FILE")]
    pub out: Option<PathBuf>,
}

fn parse_delimiter(raw: &str) -> Result<u8, String> {
    match raw {
        "," | "comma" => Ok(b','),
        ";" | "semicolon" => Ok(b';'),
        "\t" | "\\t" | "tab" => Ok(b'\t'),
        "|" | "pipe" => Ok(b'|'),
        other => Err(format!(
            "unsupported delimiter {other:?}; use ',', ';', 'tab' or '|'"
        )),
    }
}

fn parse_probability(raw: &str) -> Result<f64, String> {
    let p: f64 = raw
        .parse()
        .map_err(|_| format!("{raw:?} is not a number"))?;
    if (0.0..=1.0).contains(&p) {
        Ok(p)
    } else {
        Err(format!("{raw} is not a probability between 0 and 1"))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn command_surface_is_consistent() {
        use clap::CommandFactory;
        Cli::command().debug_assert();
    }

    #[test]
    fn parses_control_totals_and_delimiters() {
        let cli = Cli::try_parse_from([
            "payrun",
            "validate",
            "f.csv",
            "--provider",
            "rohopay",
            "--expect-total",
            "1000UGX",
            "--expect-total",
            "2.50KES",
            "--delimiter",
            "tab",
        ])
        .unwrap();
        let Command::Validate(args) = cli.command else {
            panic!("not validate")
        };
        assert_eq!(args.input.expect_total.len(), 2);
        assert_eq!(args.input.delimiter, Some(b'\t'));
    }

    #[test]
    fn refuses_bad_probability() {
        assert!(Cli::try_parse_from(["payrun", "sim", "--drop-rate", "1.5"]).is_err());
    }
}
