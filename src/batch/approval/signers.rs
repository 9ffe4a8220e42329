//! The approvers: an OpenSSH `allowed_signers` file, as `ssh-keygen -Y verify` reads it (the
//! `ssh-key` crate has no parser for it). One line per key:
//! `principals [options] keytype base64-key [comment]`; principals comma-separated; options
//! comma-separated (`namespaces="a,b"`, `cert-authority`, `valid-after="20260101"`,
//! `valid-before="20261231Z"`); `#` comments and blank lines ignored. A line that cannot be
//! read stops the file, named with its line number: a half-read list of approvers is not a
//! policy.

use std::path::Path;

use ssh_key::PublicKey;
use ssh_key::public::KeyData;

/// One key line of the file.
#[derive(Clone, Debug)]
pub struct Signer {
    pub line: usize,
    pub principals: Vec<String>,
    /// `namespaces="..."`: the namespaces this key may sign for; `None` = any.
    pub namespaces: Option<Vec<String>>,
    /// `cert-authority`: the key signs certificates, not statements (payrun takes none).
    pub cert_authority: bool,
    /// `valid-after` / `valid-before`, Unix milliseconds (UTC).
    pub valid_after: Option<i64>,
    pub valid_before: Option<i64>,
    pub key: KeyData,
}

impl Signer {
    /// The key may sign for `namespace` (patterns with `*` and `?`, as OpenSSH matches them).
    pub fn allows(&self, namespace: &str) -> bool {
        self.namespaces
            .as_ref()
            .is_none_or(|list| list.iter().any(|p| glob(p, namespace)))
    }

    /// The key is valid at `now_ms`.
    pub fn valid_at(&self, now_ms: i64) -> bool {
        self.valid_after.is_none_or(|t| now_ms >= t) && self.valid_before.is_none_or(|t| now_ms < t)
    }
}

/// Every key line of an allowed_signers file, in file order.
#[derive(Clone, Debug, Default)]
pub struct AllowedSigners {
    pub signers: Vec<Signer>,
}

#[derive(Debug, thiserror::Error)]
pub enum SignersError {
    #[error("cannot read the approvers file {path}: {source}")]
    Read {
        path: String,
        #[source]
        source: std::io::Error,
    },
    #[error("approvers file {path}, line {line}: {reason}")]
    Line {
        path: String,
        line: usize,
        reason: String,
    },
}

/// Largest approvers file read: a list of people, never megabytes.
const MAX_BYTES: u64 = 1 << 20;

impl AllowedSigners {
    pub fn load(path: &Path) -> Result<AllowedSigners, SignersError> {
        let shown = path.display().to_string();
        let text =
            super::dir::read_capped(path, MAX_BYTES).map_err(|source| SignersError::Read {
                path: shown.clone(),
                source,
            })?;
        AllowedSigners::parse(&text, &shown)
    }

    /// Parse the file's text; `origin` names it in messages.
    pub fn parse(text: &str, origin: &str) -> Result<AllowedSigners, SignersError> {
        let mut signers = Vec::new();
        for (n, raw) in text.lines().enumerate() {
            let line = raw.trim();
            if line.is_empty() || line.starts_with('#') {
                continue;
            }
            let signer = parse_line(line, n + 1).map_err(|reason| SignersError::Line {
                path: origin.to_string(),
                line: n + 1,
                reason,
            })?;
            signers.push(signer);
        }
        Ok(AllowedSigners { signers })
    }

    /// Every principal that may approve (keys allowed to sign for `namespace`, not
    /// certificate authorities), in file order, once each.
    pub fn principals(&self, namespace: &str) -> Vec<String> {
        let mut out: Vec<String> = Vec::new();
        for s in self
            .signers
            .iter()
            .filter(|s| !s.cert_authority && s.allows(namespace))
        {
            for p in &s.principals {
                if !out.contains(p) {
                    out.push(p.clone());
                }
            }
        }
        out
    }
}

/// Key types a line may name (what OpenSSH writes); anything else in that place is options.
fn is_key_type(word: &str) -> bool {
    word.starts_with("ssh-")
        || word.starts_with("ecdsa-sha2-")
        || word.starts_with("sk-ssh-")
        || word.starts_with("sk-ecdsa-")
}

fn parse_line(line: &str, number: usize) -> Result<Signer, String> {
    let (principals, rest) = next_field(line);
    let principals: Vec<String> = unquote(principals)
        .split(',')
        .map(str::trim)
        .filter(|p| !p.is_empty())
        .map(str::to_string)
        .collect();
    if principals.is_empty() {
        return Err("no principal before the key".into());
    }
    let (word, after) = next_field(rest);
    let (options, rest) = if is_key_type(word) {
        ("", rest)
    } else {
        (word, after)
    };
    let (key_type, rest) = next_field(rest);
    let (base64, _comment) = next_field(rest);
    if key_type.is_empty() || base64.is_empty() {
        return Err(format!(
            "expected `principals [options] keytype base64-key`, found {} field(s)",
            line.split_whitespace().count()
        ));
    }
    if !is_key_type(key_type) {
        return Err(format!("{key_type:?} is not an SSH key type"));
    }
    let key = PublicKey::from_openssh(&format!("{key_type} {base64}"))
        .map_err(|e| format!("the {key_type} key cannot be read ({e})"))?;
    let mut signer = Signer {
        line: number,
        principals,
        namespaces: None,
        cert_authority: false,
        valid_after: None,
        valid_before: None,
        key: key.key_data().clone(),
    };
    for option in split_outside_quotes(options, ',') {
        let (name, value) = option
            .split_once('=')
            .map_or((option, None), |(n, v)| (n, Some(unquote(v))));
        match (name.to_ascii_lowercase().as_str(), value) {
            ("cert-authority", None) => signer.cert_authority = true,
            ("namespaces", Some(v)) => {
                signer.namespaces = Some(v.split(',').map(|s| s.trim().to_string()).collect());
            }
            ("valid-after", Some(v)) => signer.valid_after = Some(parse_time(v)?),
            ("valid-before", Some(v)) => signer.valid_before = Some(parse_time(v)?),
            _ => return Err(format!("unknown option {option:?}")),
        }
    }
    Ok(signer)
}

/// The first whitespace-separated field (quotes keep spaces inside it) and the rest.
fn next_field(text: &str) -> (&str, &str) {
    let text = text.trim_start();
    let mut quoted = false;
    for (i, c) in text.char_indices() {
        match c {
            '"' => quoted = !quoted,
            c if c.is_whitespace() && !quoted => return (&text[..i], &text[i..]),
            _ => {}
        }
    }
    (text, "")
}

fn split_outside_quotes(text: &str, sep: char) -> Vec<&str> {
    let mut out = Vec::new();
    let (mut start, mut quoted) = (0, false);
    for (i, c) in text.char_indices() {
        if c == '"' {
            quoted = !quoted;
        } else if c == sep && !quoted {
            out.push(&text[start..i]);
            start = i + 1;
        }
    }
    out.push(&text[start..]);
    out.into_iter().filter(|s| !s.is_empty()).collect()
}

fn unquote(text: &str) -> &str {
    text.strip_prefix('"')
        .and_then(|t| t.strip_suffix('"'))
        .unwrap_or(text)
}

/// `YYYYMMDD[HHMM[SS]]` with an optional `Z`, read as UTC, to Unix milliseconds.
fn parse_time(raw: &str) -> Result<i64, String> {
    let bad = || format!("{raw:?} is not a time written YYYYMMDD[HHMM[SS]][Z]");
    let digits = raw.strip_suffix(['Z', 'z']).unwrap_or(raw);
    if !digits.bytes().all(|b| b.is_ascii_digit()) || ![8, 12, 14].contains(&digits.len()) {
        return Err(bad());
    }
    let part = |from: usize, to: usize| digits.get(from..to).and_then(|d| d.parse::<u32>().ok());
    let (year, month, day) = (part(0, 4), part(4, 6), part(6, 8));
    let (hour, minute, second) = (
        part(8, 10).unwrap_or(0),
        part(10, 12).unwrap_or(0),
        part(12, 14).unwrap_or(0),
    );
    let (Some(year), Some(month), Some(day)) = (year, month, day) else {
        return Err(bad());
    };
    let month = u8::try_from(month)
        .ok()
        .and_then(|m| time::Month::try_from(m).ok())
        .ok_or_else(bad)?;
    let date = time::Date::from_calendar_date(
        i32::try_from(year).map_err(|_| bad())?,
        month,
        u8::try_from(day).map_err(|_| bad())?,
    )
    .map_err(|_| bad())?;
    let clock = time::Time::from_hms(
        u8::try_from(hour).map_err(|_| bad())?,
        u8::try_from(minute).map_err(|_| bad())?,
        u8::try_from(second).map_err(|_| bad())?,
    )
    .map_err(|_| bad())?;
    let at = time::PrimitiveDateTime::new(date, clock).assume_utc();
    Ok(at.unix_timestamp() * 1000)
}

/// OpenSSH pattern matching: `*` any run of characters, `?` one character.
fn glob(pattern: &str, text: &str) -> bool {
    let (p, t): (Vec<char>, Vec<char>) = (pattern.chars().collect(), text.chars().collect());
    let (mut pi, mut ti, mut star, mut mark) = (0, 0, None, 0);
    while ti < t.len() {
        if pi < p.len() && (p[pi] == '?' || p[pi] == t[ti]) {
            pi += 1;
            ti += 1;
        } else if pi < p.len() && p[pi] == '*' {
            star = Some(pi);
            mark = ti;
            pi += 1;
        } else if let Some(s) = star {
            pi = s + 1;
            mark += 1;
            ti = mark;
        } else {
            return false;
        }
    }
    p[pi..].iter().all(|c| *c == '*')
}

#[cfg(test)]
mod tests;
