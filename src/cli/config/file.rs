//! The config file (README, "Config file and profiles"): `[profiles.NAME]` tables of settings,
//! read with serde so an unknown key (a typo) is an error naming its line rather than a
//! setting silently dropped. Relative paths are relative to the file. A file that holds a
//! secret itself (`api_key`, `webhook_secret`), like a secret file it names, must not be
//! readable by group or others: payrun refuses it as `ssh` refuses such a key.

use std::collections::BTreeMap;
use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};

use serde::Deserialize;

/// One profile: every key is optional; a flag or an environment variable wins over it.
#[derive(Clone, Debug, Default, Deserialize, PartialEq, Eq)]
#[serde(deny_unknown_fields)]
pub struct Profile {
    /// `rohopay` or `rumbapay`, any letter case. The credentials below are this provider's.
    pub provider: Option<String>,
    pub base_url: Option<String>,
    /// The API key itself (the file must then be 0600); or `api_key_file`, or `api_key_env`.
    pub api_key: Option<String>,
    pub api_key_file: Option<PathBuf>,
    /// The environment variable holding the API key.
    pub api_key_env: Option<String>,
    /// The webhook signing secret itself (the file must then be 0600), or a file holding it.
    pub webhook_secret: Option<String>,
    pub webhook_secret_file: Option<PathBuf>,
    pub journal: Option<PathBuf>,
    pub rate: Option<u32>,
    pub concurrency: Option<u32>,
    pub currency: Option<String>,
    pub delimiter: Option<String>,
    pub amount_unit: Option<String>,
    pub limits: Option<PathBuf>,
    pub callback_url: Option<String>,
    /// `--column FIELD="Header"` as a table: `columns = { reference = "Staff No" }`.
    #[serde(default)]
    pub columns: BTreeMap<String, String>,
    /// The approval policy of `run`, `resume` and `approval check`: the allowed_signers file
    /// and how many approvers must sign. Their flags and environment variables win.
    pub approvers: Option<PathBuf>,
    pub approvals_required: Option<u32>,
}

impl Profile {
    /// Whether the profile holds a secret in the file itself.
    pub fn holds_secret(&self) -> bool {
        self.api_key.is_some() || self.webhook_secret.is_some()
    }
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct Layout {
    #[serde(default)]
    profiles: BTreeMap<String, Profile>,
}

/// A config file, read and checked.
#[derive(Clone, Debug)]
pub struct ConfigFile {
    pub path: PathBuf,
    pub profiles: BTreeMap<String, Profile>,
}

#[derive(Debug, thiserror::Error)]
pub enum FileError {
    #[error("cannot read config file {path}: {source}")]
    Read {
        path: String,
        #[source]
        source: std::io::Error,
    },
    #[error("config file {path}, {at}{message}")]
    Invalid {
        path: String,
        at: String,
        message: String,
    },
    #[error(
        "{path} {what} and is readable by group or others (mode {mode:04o}); payrun refuses it, as ssh \
         refuses such a key. Make it private: chmod 600 {path}"
    )]
    TooOpen {
        path: String,
        what: &'static str,
        mode: u32,
    },
}

/// Refuse `path` if group or others may read or write it.
pub fn check_private(path: &Path, what: &'static str) -> Result<(), FileError> {
    let meta = std::fs::metadata(path).map_err(|source| FileError::Read {
        path: path.display().to_string(),
        source,
    })?;
    let mode = meta.permissions().mode() & 0o7777;
    if mode & 0o077 != 0 {
        return Err(FileError::TooOpen {
            path: path.display().to_string(),
            what,
            mode,
        });
    }
    Ok(())
}

/// Read a secret from `path` (a private file), trimmed of surrounding whitespace.
pub fn read_secret(path: &Path) -> Result<String, FileError> {
    check_private(path, "holds a secret")?;
    let text = std::fs::read_to_string(path).map_err(|source| FileError::Read {
        path: path.display().to_string(),
        source,
    })?;
    Ok(text.trim().to_string())
}

impl ConfigFile {
    /// Read and check the config file at `path`.
    pub fn load(path: &Path) -> Result<ConfigFile, FileError> {
        let text = std::fs::read_to_string(path).map_err(|source| FileError::Read {
            path: path.display().to_string(),
            source,
        })?;
        let file = ConfigFile::parse(&text, path)?;
        if file.profiles.values().any(Profile::holds_secret) {
            check_private(path, "holds a secret (api_key or webhook_secret)")?;
        }
        Ok(file)
    }

    /// Parse config text; `path` names the file in messages and anchors relative paths.
    pub fn parse(text: &str, path: &Path) -> Result<ConfigFile, FileError> {
        let layout: Layout = toml::from_str(text).map_err(|err| {
            let at = err
                .span()
                .map(|span| {
                    let line = text[..span.start.min(text.len())].matches('\n').count() + 1;
                    format!("line {line}: ")
                })
                .unwrap_or_default();
            FileError::Invalid {
                path: path.display().to_string(),
                at,
                message: err.message().trim().replace('\n', " "),
            }
        })?;
        let base = path.parent().unwrap_or(Path::new("."));
        let mut profiles = layout.profiles;
        for profile in profiles.values_mut() {
            for p in [
                &mut profile.api_key_file,
                &mut profile.webhook_secret_file,
                &mut profile.journal,
                &mut profile.limits,
                &mut profile.approvers,
            ]
            .into_iter()
            .flatten()
            {
                if p.is_relative() {
                    *p = base.join(&*p);
                }
            }
        }
        Ok(ConfigFile {
            path: path.to_path_buf(),
            profiles,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn profiles_are_read_and_relative_paths_follow_the_file() {
        let text = r#"
[profiles.default]
provider = "RohoPay"
base_url = "https://api.rohopay.com"
api_key_file = "keys/rohopay.key"
journal = "/srv/payroll/payrun.db"
rate = 10
concurrency = 4
columns = { reference = "Staff No" }

[profiles.kenya]
provider = "rumbapay"
api_key_env = "KE_KEY"
limits = "limits.toml"
approvers = "approvers/allowed_signers"
approvals_required = 2
"#;
        let file = ConfigFile::parse(text, Path::new("/etc/payrun/config.toml")).unwrap();
        let d = &file.profiles["default"];
        assert_eq!(d.provider.as_deref(), Some("RohoPay"));
        assert_eq!(
            d.api_key_file.as_deref(),
            Some(Path::new("/etc/payrun/keys/rohopay.key"))
        );
        assert_eq!(
            d.journal.as_deref(),
            Some(Path::new("/srv/payroll/payrun.db"))
        );
        assert_eq!((d.rate, d.concurrency), (Some(10), Some(4)));
        assert_eq!(d.columns["reference"], "Staff No");
        let k = &file.profiles["kenya"];
        assert_eq!(
            k.limits.as_deref(),
            Some(Path::new("/etc/payrun/limits.toml"))
        );
        assert_eq!(
            k.approvers.as_deref(),
            Some(Path::new("/etc/payrun/approvers/allowed_signers"))
        );
        assert_eq!(k.approvals_required, Some(2));
        assert!(!d.holds_secret());
    }

    #[test]
    fn an_unknown_key_is_an_error_naming_its_line() {
        let text = "[profiles.default]\nprovider = \"rohopay\"\n\nconcurency = 4\n";
        let err = ConfigFile::parse(text, Path::new("payrun.toml")).unwrap_err();
        let said = err.to_string();
        assert!(said.contains("payrun.toml, line 4:"), "{said}");
        assert!(said.contains("concurency"), "{said}");
        let err = ConfigFile::parse("[profile.default]\n", Path::new("p.toml")).unwrap_err();
        assert!(err.to_string().contains("line 1:"), "{err}");
    }

    #[test]
    fn secrets_readable_by_others_are_refused() {
        let dir = tempfile::tempdir().unwrap();
        let key = dir.path().join("k");
        std::fs::write(&key, "live_s3cret\n").unwrap();
        std::fs::set_permissions(&key, std::fs::Permissions::from_mode(0o640)).unwrap();
        let err = read_secret(&key).unwrap_err();
        let said = err.to_string();
        assert!(
            said.contains("mode 0640") && said.contains("chmod 600"),
            "{said}"
        );
        assert!(!said.contains("s3cret"), "{said}");
        std::fs::set_permissions(&key, std::fs::Permissions::from_mode(0o600)).unwrap();
        assert_eq!(read_secret(&key).unwrap(), "live_s3cret");

        let config = dir.path().join("payrun.toml");
        std::fs::write(&config, "[profiles.default]\napi_key = \"live_x\"\n").unwrap();
        std::fs::set_permissions(&config, std::fs::Permissions::from_mode(0o644)).unwrap();
        assert!(matches!(
            ConfigFile::load(&config),
            Err(FileError::TooOpen { .. })
        ));
        std::fs::set_permissions(&config, std::fs::Permissions::from_mode(0o600)).unwrap();
        assert!(ConfigFile::load(&config).unwrap().profiles["default"].holds_secret());
        // Without a secret in it, a config file may be shared.
        std::fs::write(&config, "[profiles.default]\nrate = 5\n").unwrap();
        std::fs::set_permissions(&config, std::fs::Permissions::from_mode(0o644)).unwrap();
        assert!(ConfigFile::load(&config).is_ok());
    }
}
