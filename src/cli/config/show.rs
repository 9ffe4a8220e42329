//! `payrun config show`: every setting payrun would use here, with its value (secrets masked)
//! and where it came from: a flag, an environment variable, the profile (and its file), or
//! the built-in default.

use clap::parser::ValueSource;

use super::{FileOrigin, Settings, Source};
use crate::cli::ConfigShowArgs;
use crate::domain::ProviderKind;
use crate::exit::Exit;

fn source_text(settings: &Settings, source: &Source) -> String {
    match source {
        Source::Flag => "flag".into(),
        Source::Env(var) => format!("env {var}"),
        Source::Profile { via } => match via {
            Some(via) => format!("{} ({via})", settings.profile_label()),
            None => settings.profile_label(),
        },
        Source::Default => "default".into(),
    }
}

/// A secret shown as its length only.
fn masked(secret: &str) -> String {
    format!("******** ({} characters)", secret.chars().count())
}

struct Table(Vec<[String; 3]>);

impl Table {
    fn row(&mut self, name: &str, value: String, from: String) {
        self.0.push([name.to_string(), value, from]);
    }

    fn print(&self) {
        let w0 = self.0.iter().map(|r| r[0].len()).max().unwrap_or(0).max(7);
        let w1 = self
            .0
            .iter()
            .map(|r| r[1].chars().count())
            .max()
            .unwrap_or(0)
            .max(5);
        outln!("{:<w0$}  {:<w1$}  from", "setting", "value");
        for [a, b, c] in &self.0 {
            outln!("{a:<w0$}  {b:<w1$}  {c}");
        }
    }
}

pub fn run(
    args: &ConfigShowArgs,
    settings: &Settings,
    matches: &clap::ArgMatches,
) -> anyhow::Result<Exit> {
    let mut t = Table(Vec::new());
    match &settings.file {
        Some((file, origin)) => {
            let from = match origin {
                FileOrigin::Flag => "flag --config".to_string(),
                FileOrigin::Env => "env PAYRUN_CONFIG".to_string(),
                FileOrigin::WorkingDir => "found in the working directory".to_string(),
                FileOrigin::UserConfig(dir) => format!("found in {dir}"),
            };
            t.row("config", file.path.display().to_string(), from);
        }
        None => t.row(
            "config",
            "(none)".into(),
            "no --config, PAYRUN_CONFIG, ./payrun.toml or user config file".into(),
        ),
    }
    match &settings.profile {
        Some((name, source, _)) => {
            let from = match source {
                Source::Default => "default (no --profile or PAYRUN_PROFILE)".to_string(),
                Source::Flag => "flag --profile".to_string(),
                other => source_text(settings, other),
            };
            t.row("profile", name.clone(), from);
        }
        None => t.row("profile", "(none)".into(), "-".into()),
    }
    let profile = settings.profile.as_ref().map(|(_, _, p)| p);
    let from_profile = || Source::Profile { via: None };
    // The provider: --provider here, else the profile's.
    let provider = match (args.provider, profile.and_then(|p| p.provider.clone())) {
        (Some(kind), _) => {
            let source = match matches.value_source("provider") {
                Some(ValueSource::CommandLine) => Source::Flag,
                _ => Source::Default,
            };
            t.row(
                "provider",
                kind.name().into(),
                source_text(settings, &source),
            );
            Some(kind)
        }
        (None, Some(name)) => {
            let kind = ProviderKind::parse(&name.to_ascii_lowercase());
            t.row("provider", name, source_text(settings, &from_profile()));
            kind
        }
        (None, None) => {
            t.row(
                "provider",
                "(none)".into(),
                "give --provider on run and validate".into(),
            );
            None
        }
    };
    let kinds: Vec<ProviderKind> = match provider {
        Some(kind) => vec![kind],
        None => vec![ProviderKind::Rohopay, ProviderKind::Rumbapay],
    };
    let many = kinds.len() > 1;
    for kind in kinds {
        let name = |setting: &str| {
            if many {
                format!("{kind}.{setting}")
            } else {
                setting.to_string()
            }
        };
        let (url, source, _) = settings.base_url(kind);
        t.row(&name("base_url"), url, source_text(settings, &source));
        match settings.api_key(kind) {
            Ok(Some(found)) => {
                use secrecy::ExposeSecret;
                t.row(
                    &name("api_key"),
                    masked(found.key.expose_secret()),
                    source_text(settings, &found.source),
                );
            }
            Ok(None) => t.row(&name("api_key"), "(not set)".into(), "-".into()),
            Err(e) => t.row(&name("api_key"), "(refused)".into(), format!("{e:#}")),
        }
        match settings.webhook_secret(kind) {
            Ok(Some((secret, source))) => t.row(
                &name("webhook_secret"),
                masked(&secret),
                source_text(settings, &source),
            ),
            Ok(None) => t.row(&name("webhook_secret"), "(not set)".into(), "-".into()),
            Err(e) => t.row(
                &name("webhook_secret"),
                "(refused)".into(),
                format!("{e:#}"),
            ),
        }
    }
    // Settings an environment variable of their own may give, over the profile.
    let path_text = |p: &Option<std::path::PathBuf>| p.as_ref().map(|p| p.display().to_string());
    for (setting, env, value, default) in [
        (
            "journal",
            "PAYRUN_JOURNAL",
            profile.and_then(|p| path_text(&p.journal)),
            "payrun.db",
        ),
        (
            "approvers",
            "PAYRUN_APPROVERS",
            profile.and_then(|p| path_text(&p.approvers)),
            "(none)",
        ),
        (
            "approvals_required",
            "PAYRUN_APPROVALS_REQUIRED",
            profile.and_then(|p| p.approvals_required.map(|n| n.to_string())),
            "0 (no approval needed)",
        ),
    ] {
        let (v, s) = match (std::env::var_os(env), value) {
            (Some(v), _) => (v.to_string_lossy().into_owned(), Source::Env(env.into())),
            (None, Some(v)) => (v, from_profile()),
            (None, None) => (default.to_string(), Source::Default),
        };
        t.row(setting, v, source_text(settings, &s));
    }
    let plain = |value: Option<String>, default: &str| match value {
        Some(v) => (v, from_profile()),
        None => (default.to_string(), Source::Default),
    };
    let p = |f: fn(&super::Profile) -> Option<String>| profile.and_then(f);
    for (setting, value, default) in [
        ("rate", p(|p| p.rate.map(|n| n.to_string())), "10"),
        (
            "concurrency",
            p(|p| p.concurrency.map(|n| n.to_string())),
            "4",
        ),
        ("currency", p(|p| p.currency.clone()), "(from the file)"),
        ("delimiter", p(|p| p.delimiter.clone()), "(detected)"),
        ("amount_unit", p(|p| p.amount_unit.clone()), "major"),
        (
            "limits",
            p(|p| p.limits.as_ref().map(|l| l.display().to_string())),
            "(none)",
        ),
        ("callback_url", p(|p| p.callback_url.clone()), "(none)"),
    ] {
        let (v, s) = plain(value, default);
        t.row(setting, v, source_text(settings, &s));
    }
    match profile.filter(|p| !p.columns.is_empty()) {
        Some(p) => {
            for (field, header) in &p.columns {
                t.row(
                    &format!("columns.{field}"),
                    format!("{header:?}"),
                    source_text(settings, &from_profile()),
                );
            }
        }
        None => t.row("columns", "(aliases only)".into(), "default".into()),
    }
    t.print();
    outln!(
        "Precedence: flag > environment variable > profile > default. A flag given to a command wins over all of these."
    );
    Ok(Exit::Ok)
}
