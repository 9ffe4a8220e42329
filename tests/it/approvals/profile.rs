//! The approval policy from a config profile: `approvers` (relative to the config file) and
//! `approvals_required` refuse an unapproved run with nothing sent, `approval check` reads the
//! same policy, a flag wins over the profile, and `config show` says where each came from.

use super::{Person, allowed_signers, stderr};
use crate::support::pay::{Fixture, code, text, ugx_payees};
use crate::support::sim::SimConfig;

#[tokio::test(flavor = "multi_thread")]
async fn a_profile_holds_the_policy_and_a_flag_wins_over_it() {
    let fx = Fixture::new(SimConfig::default()).await;
    let dir = fx.dir.path();
    let alice = Person::new(dir, "alice@corp", "ed25519");
    allowed_signers(dir, &[&alice]);
    let config = dir.join("payrun.toml");
    std::fs::write(
        &config,
        "[profiles.default]\nprovider = \"rohopay\"\napprovers = \"allowed_signers\"\napprovals_required = 1\n",
    )
    .unwrap();
    let env = [("PAYRUN_CONFIG", config.to_str().unwrap())];
    let file = fx.csv("payroll.csv", &ugx_payees(3));
    let f = file.to_str().unwrap();

    let out = fx
        .exec_envs(&["run", f, "--provider", "rohopay", "--yes"], &env)
        .await;
    assert_eq!(code(&out), 3, "{}", text(&out));
    assert!(
        stderr(&out).contains("needs 1 approval(s)"),
        "{}",
        text(&out)
    );
    assert!(fx.ledger().await.is_empty(), "nothing is sent");

    let show = fx.exec_envs(&["config", "show"], &env).await;
    assert_eq!(code(&show), 0, "{}", text(&show));
    let shown = String::from_utf8_lossy(&show.stdout).into_owned();
    let line = |setting: &str| {
        shown
            .lines()
            .find(|l| l.trim_start().starts_with(setting))
            .unwrap_or_default()
            .to_string()
    };
    assert!(
        line("approvers").contains(&dir.join("allowed_signers").display().to_string())
            && line("approvers").contains("profile"),
        "{shown}"
    );
    assert!(line("approvals_required").contains('1'), "{shown}");
    assert!(line("provider").contains("profile"), "not a flag: {shown}");

    let approval = fx.approval_new(&file, &[]).await;
    let a = approval.to_str().unwrap();
    let check = fx.exec_envs(&["approval", "check", a], &env).await;
    assert_eq!(
        code(&check),
        3,
        "the profile's policy, unsigned: {}",
        text(&check)
    );
    assert_eq!(code(&fx.approval_sign(&approval, &alice).await), 0);
    let check = fx.exec_envs(&["approval", "check", a], &env).await;
    assert_eq!(code(&check), 0, "{}", text(&check));

    let approved = ["run", f, "--provider", "rohopay", "--yes", "--approval", a];
    let out = fx.exec_envs(&approved, &env).await;
    assert_eq!(code(&out), 0, "{}", text(&out));
    assert_eq!(fx.ledger().await.len(), 3);

    // A flag wins over the profile: no approval needed for this one.
    let other = fx.csv("bonus.csv", &ugx_payees(2)[..]);
    let o = other.to_str().unwrap();
    let flagged = [
        "run",
        o,
        "--provider",
        "rohopay",
        "--yes",
        "--approvals-required",
        "0",
    ];
    let out = fx.exec_envs(&flagged, &env).await;
    assert_eq!(code(&out), 0, "{}", text(&out));
    assert_eq!(fx.ledger().await.len(), 5);
}
