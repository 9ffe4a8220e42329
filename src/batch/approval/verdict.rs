//! Which signatures count. A signature counts when it is an OpenSSH signature (SSHSIG) in the
//! `payrun` namespace, made with an ed25519 key that the allowed_signers file lists for a
//! principal allowed to sign for `payrun`, it verifies over the statement's exact bytes, and
//! that principal is neither the statement's maker nor counted already. Every other signature
//! file gets its one-line reason; every approver without a counting signature is named.

use ssh_key::{Algorithm, Fingerprint, HashAlg, PublicKey, SshSig};

use super::dir::SigFile;
use super::signers::AllowedSigners;

/// The namespace every payrun signature is made in (`ssh-keygen -Y sign -n payrun`).
pub const NAMESPACE: &str = "payrun";

/// A signature that counts.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Counted {
    pub principal: String,
    /// `SHA256:...`, as `ssh-keygen -l` shows it.
    pub fingerprint: String,
    pub file: String,
}

/// Every signature file judged, against the number required.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Verdict {
    pub required: u32,
    pub counted: Vec<Counted>,
    /// Approvers with no signature at all.
    pub missing: Vec<String>,
    /// (file, why it does not count).
    pub problems: Vec<(String, String)>,
}

impl Verdict {
    pub fn met(&self) -> bool {
        self.counted.len() as u64 >= u64::from(self.required)
    }

    /// `1 of 2 approvals: alice@corp ✓; bob@corp: no signature; mallory.sig: key not in
    /// allowed_signers`.
    pub fn line(&self) -> String {
        let parts: Vec<String> = self
            .counted
            .iter()
            .map(|c| format!("{} ✓", c.principal))
            .chain(self.missing.iter().map(|p| format!("{p}: no signature")))
            .chain(self.problems.iter().map(|(f, why)| format!("{f}: {why}")))
            .collect();
        let head = format!("{} of {} approvals", self.counted.len(), self.required);
        if parts.is_empty() {
            head
        } else {
            format!("{head}: {}", parts.join("; "))
        }
    }
}

/// `SHA256:...` of a public key.
pub fn fingerprint(key: &ssh_key::public::KeyData) -> String {
    Fingerprint::new(HashAlg::Sha256, key).to_string()
}

/// Judge every signature file over `statement` (its exact bytes), made by `maker`.
pub fn evaluate(
    statement: &[u8],
    maker: &str,
    files: &[SigFile],
    signers: &AllowedSigners,
    required: u32,
    now_ms: i64,
) -> Verdict {
    let mut verdict = Verdict {
        required,
        counted: Vec::new(),
        missing: Vec::new(),
        problems: Vec::new(),
    };
    // Approvers whose key signed something, counted or not: they are not "missing".
    let mut seen: Vec<String> = Vec::new();
    for file in files {
        match judge(statement, maker, file, signers, now_ms, &verdict.counted) {
            Ok(counted) => verdict.counted.push(counted),
            Err((why, principals)) => {
                seen.extend(principals);
                verdict.problems.push((file.name.clone(), why));
            }
        }
    }
    verdict.missing = signers
        .principals(NAMESPACE)
        .into_iter()
        .filter(|p| p != maker)
        .filter(|p| !seen.contains(p) && !verdict.counted.iter().any(|c| &c.principal == p))
        .collect();
    verdict
}

/// One file: counted, or why not and the principals its key belongs to.
fn judge(
    statement: &[u8],
    maker: &str,
    file: &SigFile,
    signers: &AllowedSigners,
    now_ms: i64,
    counted: &[Counted],
) -> Result<Counted, (String, Vec<String>)> {
    let plain = |why: String| (why, Vec::new());
    let text = file
        .text
        .as_ref()
        .map_err(|e| plain(format!("cannot be read ({e})")))?;
    let sig = SshSig::from_pem(text.trim().as_bytes()).map_err(|e| {
        plain(format!(
            "malformed signature, not an OpenSSH signature ({e})"
        ))
    })?;
    if sig.namespace() != NAMESPACE {
        return Err(plain(format!(
            "signed for namespace {:?}, not \"{NAMESPACE}\" (sign with -n {NAMESPACE})",
            sig.namespace()
        )));
    }
    let kind = sig.public_key().algorithm();
    if kind != Algorithm::Ed25519 || sig.algorithm() != Algorithm::Ed25519 {
        return Err(plain(format!(
            "unsupported key type {kind} (payrun verifies ssh-ed25519 signatures)"
        )));
    }
    let key = sig.public_key();
    let listed: Vec<_> = signers
        .signers
        .iter()
        .filter(|s| !s.cert_authority && &s.key == key)
        .collect();
    if listed.is_empty() {
        return Err(plain("key not in allowed_signers".into()));
    }
    let owners: Vec<String> = listed
        .iter()
        .flat_map(|s| s.principals.iter().cloned())
        .collect();
    let fail = |why: String| (why, owners.clone());
    if PublicKey::new(key.clone(), "")
        .verify(NAMESPACE, statement, &sig)
        .is_err()
    {
        return Err(fail(
            "does not verify over this statement (it was changed after signing, or the signature is for another statement)"
                .into(),
        ));
    }
    let allowed: Vec<_> = listed.iter().filter(|s| s.allows(NAMESPACE)).collect();
    if allowed.is_empty() {
        return Err(fail(format!(
            "the key of {} may not sign for {NAMESPACE} (its namespaces option)",
            owners.join(", ")
        )));
    }
    let valid: Vec<_> = allowed.iter().filter(|s| s.valid_at(now_ms)).collect();
    if valid.is_empty() {
        return Err(fail(format!(
            "the key of {} is not valid now (its valid-after/valid-before options)",
            owners.join(", ")
        )));
    }
    let principals: Vec<&String> = valid.iter().flat_map(|s| s.principals.iter()).collect();
    if principals.iter().all(|p| p.as_str() == maker) {
        return Err(fail(format!(
            "{maker} prepared this statement; the maker's own signature does not count"
        )));
    }
    let fingerprint = fingerprint(key);
    match principals
        .iter()
        .find(|p| p.as_str() != maker && !counted.iter().any(|c| &c.principal == **p))
    {
        Some(p) => Ok(Counted {
            principal: (*p).clone(),
            fingerprint,
            file: file.name.clone(),
        }),
        None => {
            let who: Vec<&str> = principals
                .iter()
                .filter(|p| p.as_str() != maker)
                .map(|p| p.as_str())
                .collect();
            Err(fail(format!("{} counted already", who.join(", "))))
        }
    }
}

#[cfg(test)]
mod tests;
