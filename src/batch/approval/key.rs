//! An approver's private key, read the way `ssh` reads one: a key file that its group or
//! others may read is refused ("UNPROTECTED PRIVATE KEY FILE"), and so is a key payrun cannot
//! use (protected by a passphrase, or not ed25519). The key's bytes never leave this module;
//! errors name the file, never its content.

use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};

use ssh_key::{Algorithm, HashAlg, LineEnding, PrivateKey};

use super::verdict::{NAMESPACE, fingerprint};

/// Why a key cannot sign.
#[derive(Debug, thiserror::Error)]
pub enum KeyError {
    #[error(
        "UNPROTECTED PRIVATE KEY FILE! Permissions {mode:04o} for '{}' are too open: a private key must not be \
         accessible by others, so it is ignored. Run: chmod 600 {}",
        .path.display(), .path.display()
    )]
    Unprotected { path: PathBuf, mode: u32 },
    #[error("cannot read the private key {}: {source}", .path.display())]
    Read {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error(
        "{} is not an OpenSSH private key as ssh-keygen writes it ({reason}); give the private key file (not the .pub)",
        .path.display()
    )]
    Format { path: PathBuf, reason: String },
    #[error(
        "the private key {} is protected by a passphrase, which payrun does not ask for: sign with \
         `ssh-keygen -Y sign -f {} -n {NAMESPACE} DIR/statement.txt` and copy the .sig file into DIR",
        .path.display(), .path.display()
    )]
    Encrypted { path: PathBuf },
    #[error(
        "unsupported key type {algorithm} in {}: payrun signs with ssh-ed25519 keys (ssh-keygen -t ed25519)",
        .path.display()
    )]
    Unsupported { path: PathBuf, algorithm: String },
    #[error("cannot sign with {}: {reason}", .path.display())]
    Sign { path: PathBuf, reason: String },
}

/// Largest key file read.
const MAX_KEY: u64 = 64 << 10;

/// A key ready to sign.
pub struct SigningKey {
    key: PrivateKey,
    path: PathBuf,
}

impl SigningKey {
    /// Read the key at `path`, refusing it as `ssh` would.
    pub fn load(path: &Path) -> Result<SigningKey, KeyError> {
        let read = |source| KeyError::Read {
            path: path.to_path_buf(),
            source,
        };
        let mode = std::fs::metadata(path).map_err(read)?.permissions().mode() & 0o777;
        if mode & 0o077 != 0 {
            return Err(KeyError::Unprotected {
                path: path.to_path_buf(),
                mode,
            });
        }
        let text =
            secrecy::zeroize::Zeroizing::new(super::dir::read_capped(path, MAX_KEY).map_err(read)?);
        let key = PrivateKey::from_openssh(text.as_bytes()).map_err(|e| KeyError::Format {
            path: path.to_path_buf(),
            reason: e.to_string(),
        })?;
        if key.is_encrypted() {
            return Err(KeyError::Encrypted {
                path: path.to_path_buf(),
            });
        }
        if key.algorithm() != Algorithm::Ed25519 {
            return Err(KeyError::Unsupported {
                path: path.to_path_buf(),
                algorithm: key.algorithm().to_string(),
            });
        }
        Ok(SigningKey {
            key,
            path: path.to_path_buf(),
        })
    }

    /// The comment ssh-keygen stored with the key (often `user@host`).
    pub fn comment(&self) -> &str {
        self.key.comment()
    }

    /// `SHA256:...` of the public key.
    pub fn fingerprint(&self) -> String {
        fingerprint(self.key.public_key().key_data())
    }

    /// An SSHSIG over `message` in the `payrun` namespace, armoured as `ssh-keygen -Y sign`
    /// writes it (SHA-512, as ssh-keygen does by default).
    pub fn sign(&self, message: &[u8]) -> Result<String, KeyError> {
        let fail = |e: ssh_key::Error| KeyError::Sign {
            path: self.path.clone(),
            reason: e.to_string(),
        };
        let sig = self
            .key
            .sign(NAMESPACE, HashAlg::Sha512, message)
            .map_err(fail)?;
        let mut pem = sig.to_pem(LineEnding::LF).map_err(fail)?;
        if !pem.ends_with('\n') {
            pem.push('\n');
        }
        Ok(pem)
    }
}
