//! Settings from a config file with profiles (README, "Config file and profiles"), applied
//! under the flags and the environment: flag > environment variable > profile > built-in
//! default. The file is `--config PATH` (env `PAYRUN_CONFIG`), else `payrun.toml` in the
//! working directory, else `$XDG_CONFIG_HOME/payrun/config.toml` (`~/.config/payrun/...`
//! without it); the profile is `--profile NAME` (env `PAYRUN_PROFILE`), else `default`.
//!
//! A profile's settings that are flags of the command (`journal`, `rate`, `provider`,
//! `columns`, ...) are handed to clap as the flags they stand for, after the command line,
//! only where neither the command line nor the environment gave that flag: one parser and
//! one validation for both. Credentials (API key, base URL, webhook secret) are resolved here.

mod file;
mod show;

use std::ffi::OsString;
use std::path::PathBuf;

use anyhow::{Context, anyhow, bail};
use clap::parser::ValueSource;
use clap::{ArgMatches, CommandFactory};
use secrecy::SecretString;

pub use file::{ConfigFile, Profile};
pub use show::run as show;

use super::Cli;
use crate::domain::ProviderKind;
use crate::ingest::ColumnChoice;
use crate::provider::ProviderConfig;
use crate::webhook::Secrets;

/// Where the config file was found.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum FileOrigin {
    Flag,
    Env,
    WorkingDir,
    UserConfig(&'static str),
}

/// Where a setting's value came from, as `config show` says it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Source {
    Flag,
    Env(String),
    /// The chosen profile; `via` says how it gave a secret (`file PATH`, `env VAR`).
    Profile {
        via: Option<String>,
    },
    Default,
}

/// The config file and the profile chosen from it.
#[derive(Clone, Debug, Default)]
pub struct Settings {
    pub file: Option<(ConfigFile, FileOrigin)>,
    /// The profile's name, whether it was named (flag or env) or is `default`, and the profile.
    pub profile: Option<(String, Source, Profile)>,
}

impl Settings {
    /// `profile NAME in PATH`, for messages and `config show`.
    pub fn profile_label(&self) -> String {
        match (&self.profile, &self.file) {
            (Some((name, _, _)), Some((file, _))) => {
                format!("profile {name} in {}", file.path.display())
            }
            _ => "no profile".into(),
        }
    }

    fn chosen(&self) -> Option<&Profile> {
        self.profile.as_ref().map(|(_, _, p)| p)
    }

    /// The profile, if its credentials are for `kind` (it names that provider, or none).
    fn for_provider(&self, kind: ProviderKind) -> Option<&Profile> {
        self.chosen().filter(|p| {
            p.provider
                .as_deref()
                .is_none_or(|name| ProviderKind::parse(&name.to_ascii_lowercase()) == Some(kind))
        })
    }
}

/// The config file's path and how it was chosen; `None` when there is none.
fn find_file(cli: &Cli, matches: &ArgMatches) -> Option<(PathBuf, FileOrigin)> {
    if let Some(path) = &cli.config {
        let origin = match matches.value_source("config") {
            Some(ValueSource::EnvVariable) => FileOrigin::Env,
            _ => FileOrigin::Flag,
        };
        return Some((path.clone(), origin));
    }
    let here = PathBuf::from("payrun.toml");
    if here.is_file() {
        return Some((here, FileOrigin::WorkingDir));
    }
    let (base, label) = match std::env::var_os("XDG_CONFIG_HOME").filter(|v| !v.is_empty()) {
        Some(xdg) => (PathBuf::from(xdg), "$XDG_CONFIG_HOME"),
        None => (
            PathBuf::from(std::env::var_os("HOME")?).join(".config"),
            "~/.config",
        ),
    };
    let user = base.join("payrun").join("config.toml");
    user.is_file()
        .then_some((user, FileOrigin::UserConfig(label)))
}

/// Read the config file and pick the profile.
pub fn load(cli: &Cli, matches: &ArgMatches) -> anyhow::Result<Settings> {
    let file = match find_file(cli, matches) {
        Some((path, origin)) => Some((ConfigFile::load(&path)?, origin)),
        None => None,
    };
    let named = cli.profile.as_ref().map(|name| {
        let source = match matches.value_source("profile") {
            Some(ValueSource::EnvVariable) => Source::Env("PAYRUN_PROFILE".into()),
            _ => Source::Flag,
        };
        (name.clone(), source)
    });
    let profile = match (&file, named) {
        (None, Some((name, _))) => bail!(
            "--profile {name}: no config file (payrun looks for --config, PAYRUN_CONFIG, ./payrun.toml, \
             then $XDG_CONFIG_HOME/payrun/config.toml)"
        ),
        (None, None) => None,
        (Some((f, _)), Some((name, source))) => match f.profiles.get(&name) {
            Some(p) => Some((name, source, p.clone())),
            None => bail!(
                "--profile {name}: {} has no [profiles.{name}] (it has: {})",
                f.path.display(),
                listed(f)
            ),
        },
        (Some((f, _)), None) => f
            .profiles
            .get("default")
            .map(|p| ("default".to_string(), Source::Default, p.clone())),
    };
    Ok(Settings { file, profile })
}

fn listed(f: &ConfigFile) -> String {
    if f.profiles.is_empty() {
        "none".into()
    } else {
        f.profiles.keys().cloned().collect::<Vec<_>>().join(", ")
    }
}

/// The flags the profile stands for, for the command `matches` parsed: each setting that is
/// a flag of that command which neither the command line nor the environment gave.
pub fn extra_args(settings: &Settings, matches: &ArgMatches) -> Vec<OsString> {
    let Some(profile) = settings.chosen() else {
        return Vec::new();
    };
    let Some((name, mut sub)) = matches.subcommand() else {
        return Vec::new();
    };
    let command = Cli::command();
    let Some(mut declared) = command.find_subcommand(name) else {
        return Vec::new();
    };
    // `config show` reads the profile itself, to say where each value came from.
    if name == "config" {
        return Vec::new();
    }
    // `approval check` is a level down: its flags are the leaf's.
    while let Some((name, leaf)) = sub.subcommand() {
        let Some(found) = declared.find_subcommand(name) else {
            return Vec::new();
        };
        (declared, sub) = (found, leaf);
    }
    let has = |id: &str| declared.get_arguments().any(|a| a.get_id() == id);
    let unset = |id: &str| {
        has(id)
            && !matches!(
                sub.value_source(id),
                Some(ValueSource::CommandLine | ValueSource::EnvVariable)
            )
    };
    let mut out: Vec<OsString> = Vec::new();
    let mut push = |id: &str, flag: &str, value: Option<OsString>| {
        if let Some(value) = value
            && unset(id)
        {
            out.push(flag.into());
            out.push(value);
        }
    };
    let text = |v: &Option<String>| v.as_ref().map(OsString::from);
    let path = |v: &Option<PathBuf>| v.as_ref().map(|p| p.clone().into_os_string());
    let number = |v: Option<u32>| v.map(|n| OsString::from(n.to_string()));
    push("provider", "--provider", text(&profile.provider));
    push("journal", "--journal", path(&profile.journal));
    push("rate", "--rate", number(profile.rate));
    push("concurrency", "--concurrency", number(profile.concurrency));
    push("currency", "--currency", text(&profile.currency));
    push("delimiter", "--delimiter", text(&profile.delimiter));
    push("amount_unit", "--amount-unit", text(&profile.amount_unit));
    push("limits", "--limits", path(&profile.limits));
    push(
        "callback_url",
        "--callback-url",
        text(&profile.callback_url),
    );
    push("approvers", "--approvers", path(&profile.approvers));
    push(
        "approvals_required",
        "--approvals-required",
        number(profile.approvals_required),
    );
    if has("column") {
        // Per field: a --column for a field wins over the profile's header for it.
        let given: Vec<_> = sub
            .get_many::<ColumnChoice>("column")
            .map(|c| c.map(ColumnChoice::field).collect())
            .unwrap_or_default();
        for (field, header) in &profile.columns {
            let raw = format!("{field}={header}");
            let taken = raw
                .parse::<ColumnChoice>()
                .is_ok_and(|c| given.contains(&c.field()));
            if !taken {
                out.push("--column".into());
                out.push(raw.into());
            }
        }
    }
    out
}

/// Parse the command line, read the config file, and parse again with the profile's
/// settings under the flags.
pub fn parse(argv: Vec<OsString>) -> anyhow::Result<(Cli, ArgMatches, Settings)> {
    use clap::FromArgMatches;
    let matches = Cli::command()
        .try_get_matches_from(&argv)
        .unwrap_or_else(|e| e.exit());
    let cli = Cli::from_arg_matches(&matches).unwrap_or_else(|e| e.exit());
    let settings = load(&cli, &matches)?;
    let extra = extra_args(&settings, &matches);
    if extra.is_empty() {
        return Ok((cli, matches, settings));
    }
    let mut argv = argv;
    argv.extend(extra);
    let label = settings.profile_label();
    let matches = Cli::command()
        .try_get_matches_from(&argv)
        .map_err(|e| anyhow!("{label} gives a value payrun cannot use: {}", one_line(&e)))?;
    let cli = Cli::from_arg_matches(&matches)
        .map_err(|e| anyhow!("{label} gives a value payrun cannot use: {e}"))?;
    Ok((cli, matches, settings))
}

/// A clap error as one line, without its usage block.
fn one_line(e: &clap::Error) -> String {
    let text = e.to_string();
    text.lines()
        .find(|l| l.starts_with("error:"))
        .map_or(text.clone(), |l| {
            l.trim_start_matches("error:").trim().to_string()
        })
}

/// An API key and where it came from.
pub struct FoundKey {
    pub key: SecretString,
    pub source: Source,
}

impl Settings {
    /// The API key for `kind`: `<PROVIDER>_API_KEY`, else the profile's `api_key`,
    /// `api_key_env` or `api_key_file` (a file others cannot read).
    pub fn api_key(&self, kind: ProviderKind) -> anyhow::Result<Option<FoundKey>> {
        let (var, _, _) = ProviderConfig::env_names(kind);
        if let Some(v) = std::env::var(var).ok().filter(|v| !v.trim().is_empty()) {
            return Ok(Some(FoundKey {
                key: SecretString::from(v),
                source: Source::Env(var.into()),
            }));
        }
        let Some(p) = self.for_provider(kind) else {
            return Ok(None);
        };
        let given = [
            p.api_key.is_some(),
            p.api_key_env.is_some(),
            p.api_key_file.is_some(),
        ];
        if given.iter().filter(|g| **g).count() > 1 {
            bail!(
                "{} gives more than one of api_key, api_key_env and api_key_file; keep one",
                self.profile_label()
            );
        }
        if let Some(key) = &p.api_key {
            return Ok(Some(FoundKey {
                key: SecretString::from(key.clone()),
                source: Source::Profile { via: None },
            }));
        }
        if let Some(env) = &p.api_key_env {
            let value = std::env::var(env).ok().filter(|v| !v.trim().is_empty());
            let Some(value) = value else {
                bail!(
                    "{} takes the API key from {env}, which is not set: export it (payrun never prints or \
                     stores it)",
                    self.profile_label()
                );
            };
            return Ok(Some(FoundKey {
                key: SecretString::from(value),
                source: Source::Profile {
                    via: Some(format!("env {env}")),
                },
            }));
        }
        if let Some(path) = &p.api_key_file {
            let key = file::read_secret(path)
                .with_context(|| format!("the API key file of {}", self.profile_label()))?;
            if key.is_empty() {
                bail!("{} is empty: put the API key in it", path.display());
            }
            return Ok(Some(FoundKey {
                key: SecretString::from(key),
                source: Source::Profile {
                    via: Some(format!("file {}", path.display())),
                },
            }));
        }
        Ok(None)
    }

    /// The base URL for `kind` and where it came from.
    pub fn base_url(&self, kind: ProviderKind) -> (String, Source, &'static str) {
        let (_, var, default) = ProviderConfig::env_names(kind);
        if let Ok(url) = std::env::var(var) {
            return (url, Source::Env(var.into()), var);
        }
        match self.for_provider(kind).and_then(|p| p.base_url.clone()) {
            Some(url) => (url, Source::Profile { via: None }, "base_url"),
            None => (default.to_string(), Source::Default, var),
        }
    }

    /// Where and how to reach `kind`: the key and base URL by precedence.
    pub fn provider_config(&self, kind: ProviderKind) -> anyhow::Result<ProviderConfig> {
        let (var, _, _) = ProviderConfig::env_names(kind);
        let Some(found) = self.api_key(kind)? else {
            bail!(
                "{var} is not set{}: export your API key, or give api_key_file (or api_key_env) in a \
                 profile of the config file (README, \"Config file and profiles\"); payrun never prints or \
                 stores it. Or try --sandbox",
                match &self.profile {
                    Some(_) => format!(" and {} gives no API key for {kind}", self.profile_label()),
                    None => String::new(),
                }
            );
        };
        let (url, source, name) = self.base_url(kind);
        ProviderConfig::with_key(kind, name, &url, found.key).with_context(|| match source {
            Source::Profile { .. } => format!("base_url of {}", self.profile_label()),
            _ => format!("the base URL for {kind}"),
        })
    }

    /// The webhook secret for `kind`: `<PROVIDER>_WEBHOOK_SECRET`, else the profile's
    /// `webhook_secret` or `webhook_secret_file` (a file others cannot read).
    pub fn webhook_secret(&self, kind: ProviderKind) -> anyhow::Result<Option<(String, Source)>> {
        let var = crate::webhook::env_var(kind);
        if let Some(v) = std::env::var_os(var).filter(|v| !v.is_empty()) {
            let v = v
                .into_string()
                .map_err(|_| anyhow!("{var} is not valid UTF-8; set it to the secret exactly as the provider shows it"))?;
            return Ok(Some((v, Source::Env(var.into()))));
        }
        let Some(p) = self.for_provider(kind) else {
            return Ok(None);
        };
        if p.webhook_secret.is_some() && p.webhook_secret_file.is_some() {
            bail!(
                "{} gives both webhook_secret and webhook_secret_file; keep one",
                self.profile_label()
            );
        }
        if let Some(secret) = &p.webhook_secret {
            return Ok(Some((secret.clone(), Source::Profile { via: None })));
        }
        if let Some(path) = &p.webhook_secret_file {
            let secret = file::read_secret(path)
                .with_context(|| format!("the webhook secret file of {}", self.profile_label()))?;
            return Ok(Some((
                secret,
                Source::Profile {
                    via: Some(format!("file {}", path.display())),
                },
            )));
        }
        Ok(None)
    }

    /// Both providers' webhook secrets, for `payrun listen`.
    pub fn webhook_secrets(&self) -> anyhow::Result<Secrets> {
        let roho = self.webhook_secret(ProviderKind::Rohopay)?;
        let rumba = self.webhook_secret(ProviderKind::Rumbapay)?;
        Ok(Secrets::new(
            roho.as_ref().map(|(s, _)| s.as_str()),
            rumba.as_ref().map(|(s, _)| s.as_str()),
        ))
    }
}
