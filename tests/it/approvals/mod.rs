//! Maker–checker approvals end to end (README "Approvals"): keys and OpenSSH signatures made by
//! the real `ssh-keygen`, statements and payrun signatures made by the real binary, batches
//! paid (or refused, with nothing sent) against the simulator.

mod flow;
mod profile;
mod refusals;

use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use crate::support::pay::{Fixture, code, text};

/// An approver: a principal and an ed25519 key pair made by `ssh-keygen`.
pub struct Person {
    pub principal: String,
    pub key: PathBuf,
}

impl Person {
    /// `ssh-keygen -t ed25519` (or `kind`) for `principal`, in `dir`.
    pub fn new(dir: &Path, principal: &str, kind: &str) -> Person {
        let key = dir.join(format!("{}-{kind}", principal.replace('@', "_")));
        let out = Command::new("ssh-keygen")
            .args(["-q", "-t", kind, "-N", "", "-C", principal, "-f"])
            .arg(&key)
            .output()
            .expect("ssh-keygen runs (the CI script installs openssh-client)");
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        Person {
            principal: principal.into(),
            key,
        }
    }

    /// The public key as `ssh-ed25519 AAAA...`, without its comment.
    pub fn public(&self) -> String {
        let text = std::fs::read_to_string(format!("{}.pub", self.key.display())).unwrap();
        text.split_whitespace()
            .take(2)
            .collect::<Vec<_>>()
            .join(" ")
    }

    /// `SHA256:...` as `ssh-keygen -l` prints it.
    pub fn fingerprint(&self) -> String {
        let out = Command::new("ssh-keygen")
            .arg("-lf")
            .arg(&self.key)
            .output()
            .unwrap();
        String::from_utf8_lossy(&out.stdout)
            .split_whitespace()
            .nth(1)
            .unwrap()
            .to_string()
    }

    /// `ssh-keygen -Y sign -f KEY -n payrun DIR/statement.txt`, the signature moved to
    /// `DIR/<name>` (any `*.sig` name is accepted).
    pub fn ssh_sign(&self, dir: &Path, name: &str) {
        let statement = dir.join("statement.txt");
        let out = Command::new("ssh-keygen")
            .args(["-Y", "sign", "-n", "payrun", "-f"])
            .arg(&self.key)
            .arg(&statement)
            .output()
            .unwrap();
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        std::fs::rename(dir.join("statement.txt.sig"), dir.join(name)).unwrap();
    }
}

/// The allowed_signers file: each person with `namespaces="payrun"`.
pub fn allowed_signers(dir: &Path, people: &[&Person]) -> PathBuf {
    let text: String = people
        .iter()
        .map(|p| {
            format!(
                "{} namespaces=\"payrun\" {} {}\n",
                p.principal,
                p.public(),
                p.principal
            )
        })
        .collect();
    let path = dir.join("allowed_signers");
    std::fs::write(&path, format!("# approvers of the payroll\n{text}")).unwrap();
    path
}

/// The environment of a policy: approvers file and required count.
pub fn policy(approvers: &Path, required: u32) -> Vec<(String, String)> {
    vec![
        ("PAYRUN_APPROVERS".into(), approvers.display().to_string()),
        ("PAYRUN_APPROVALS_REQUIRED".into(), required.to_string()),
    ]
}

impl Fixture {
    /// `payrun ARGS` with the environment `envs`.
    pub async fn exec_with(&self, args: &[&str], envs: &[(String, String)]) -> Output {
        let envs: Vec<(&str, &str)> = envs.iter().map(|(k, v)| (k.as_str(), v.as_str())).collect();
        self.exec_envs(args, &envs).await
    }

    /// `payrun approval new FILE --provider rohopay --prepared-by maker@corp` plus `extra`;
    /// returns the approval directory.
    pub async fn approval_new(&self, file: &Path, extra: &[&str]) -> PathBuf {
        let dir = PathBuf::from(format!("{}.approval", file.display()));
        let out = self
            .exec(
                &[
                    &[
                        "approval",
                        "new",
                        file.to_str().unwrap(),
                        "--provider",
                        "rohopay",
                    ],
                    &["--prepared-by", "maker@corp"][..],
                    extra,
                ]
                .concat(),
            )
            .await;
        assert_eq!(code(&out), 0, "{}", text(&out));
        dir
    }

    /// `payrun approval sign DIR --key KEY`.
    pub async fn approval_sign(&self, dir: &Path, person: &Person) -> Output {
        self.exec(&[
            "approval",
            "sign",
            dir.to_str().unwrap(),
            "--key",
            person.key.to_str().unwrap(),
        ])
        .await
    }
}

/// The mode bits of a file.
pub fn mode(path: &Path) -> u32 {
    std::fs::metadata(path).unwrap().permissions().mode() & 0o777
}

/// Standard error, as text.
pub fn stderr(out: &Output) -> String {
    String::from_utf8_lossy(&out.stderr).into_owned()
}
