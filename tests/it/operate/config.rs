//! Config files and profiles: a profile pays without any environment variable, flags and the
//! environment win over it, secrets others can read are refused, a typo is an error naming
//! its line, and `config show` says where each value came from.

use std::os::unix::fs::PermissionsExt;

use super::bare;
use crate::support::pay::{Fixture, code, text, ugx_payees};
use crate::support::sim::SimConfig;

fn write_private(path: &std::path::Path, text: &str, mode: u32) {
    std::fs::write(path, text).unwrap();
    std::fs::set_permissions(path, std::fs::Permissions::from_mode(mode)).unwrap();
}

fn profile(fx: &Fixture) -> String {
    format!(
        r#"# payroll, every month
[profiles.default]
provider = "RohoPay"
base_url = "{}"
api_key_file = "keys/rohopay.key"
journal = "from-profile.db"
rate = 200
concurrency = 8

[profiles.other]
provider = "rohopay"
journal = "other.db"
"#,
        fx.sim.rohopay_base_url()
    )
}

#[tokio::test(flavor = "multi_thread")]
async fn a_profile_pays_without_environment_variables_and_flags_and_env_win() {
    let fx = Fixture::new(SimConfig::default()).await;
    let dir = fx.dir.path();
    std::fs::create_dir(dir.join("keys")).unwrap();
    write_private(&dir.join("keys/rohopay.key"), "live_from_file\n", 0o600);
    write_private(&dir.join("payrun.toml"), &profile(&fx), 0o644);
    let payees = ugx_payees(6);
    fx.csv("payroll.csv", &payees);

    // No --provider, no key, no base URL, no journal: all from the default profile.
    let out = bare(dir)
        .args(["run", "payroll.csv", "--yes"])
        .output()
        .await
        .unwrap();
    assert_eq!(code(&out), 0, "{}", text(&out));
    assert!(
        dir.join("from-profile.db").exists(),
        "the profile's journal"
    );
    assert!(!dir.join("payrun.db").exists());
    assert_eq!(fx.ledger().await.len(), 6);
    // --provider in any letter case.
    let out = bare(dir)
        .args(["validate", "payroll.csv", "--provider", "ROHOPAY"])
        .output()
        .await
        .unwrap();
    assert_eq!(code(&out), 0, "{}", text(&out));

    // flag > env > profile: each names the journal it was given.
    let journal_used = |args: &[&str], env: Option<(&str, &str)>| {
        let mut cmd = bare(dir);
        cmd.args(args);
        if let Some((k, v)) = env {
            cmd.env(k, v);
        }
        async move {
            let out = cmd.output().await.unwrap();
            String::from_utf8_lossy(&out.stdout).into_owned()
                + &String::from_utf8_lossy(&out.stderr)
        }
    };
    let said = journal_used(
        &["status", "--journal", "flag.db"],
        Some(("PAYRUN_JOURNAL", "env.db")),
    )
    .await;
    assert!(said.contains("no journal at flag.db"), "{said}");
    let said = journal_used(&["status"], Some(("PAYRUN_JOURNAL", "env.db"))).await;
    assert!(said.contains("no journal at env.db"), "{said}");
    let said = journal_used(&["status", "--profile", "other"], None).await;
    assert!(said.contains("other.db"), "{said}");
    let said = journal_used(&["status"], Some(("PAYRUN_PROFILE", "other"))).await;
    assert!(said.contains("other.db"), "{said}");
    let said = journal_used(&["status"], None).await;
    assert!(
        said.contains("payroll-"),
        "the profile's journal lists the batch: {said}"
    );
    let said = journal_used(&["status", "--profile", "nope"], None).await;
    assert!(
        said.contains("has no [profiles.nope] (it has: default, other)"),
        "{said}"
    );

    // config show: each value with where it came from, the key masked.
    let out = bare(dir)
        .args(["config", "show"])
        .env("PAYRUN_JOURNAL", "env.db")
        .output()
        .await
        .unwrap();
    assert_eq!(code(&out), 0, "{}", text(&out));
    let shown = String::from_utf8_lossy(&out.stdout);
    let line = |setting: &str| {
        shown
            .lines()
            .find(|l| l.starts_with(&format!("{setting} ")))
            .unwrap_or_else(|| panic!("no {setting} line: {shown}"))
            .to_string()
    };
    assert!(
        line("config").contains("found in the working directory"),
        "{shown}"
    );
    assert!(line("journal").contains("env.db") && line("journal").contains("env PAYRUN_JOURNAL"));
    assert!(
        line("rate").contains("200") && line("rate").contains("profile default in payrun.toml")
    );
    assert!(
        line("api_key").contains("(file ") && line("api_key").contains("14 characters"),
        "{shown}"
    );
    assert!(
        !shown.contains("live_from_file"),
        "the key is never shown: {shown}"
    );
    assert!(line("amount_unit").contains("default"), "{shown}");
    let out = bare(dir)
        .args(["config", "show"])
        .env("ROHOPAY_API_KEY", "live_env")
        .output()
        .await
        .unwrap();
    let shown = String::from_utf8_lossy(&out.stdout);
    assert!(shown.contains("env ROHOPAY_API_KEY"), "{shown}");
}

#[tokio::test(flavor = "multi_thread")]
async fn secrets_others_can_read_are_refused_and_nothing_is_sent() {
    let fx = Fixture::new(SimConfig::default()).await;
    let dir = fx.dir.path();
    std::fs::create_dir(dir.join("keys")).unwrap();
    write_private(&dir.join("keys/rohopay.key"), "live_s3cret\n", 0o644);
    write_private(&dir.join("payrun.toml"), &profile(&fx), 0o644);
    fx.csv("payroll.csv", &ugx_payees(3));
    let out = bare(dir)
        .args(["run", "payroll.csv", "--yes"])
        .output()
        .await
        .unwrap();
    assert_eq!(code(&out), 2, "{}", text(&out));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains(
            "keys/rohopay.key holds a secret and is readable by group or others (mode 0644)"
        ) && err.contains("chmod 600"),
        "{err}"
    );
    assert!(!err.contains("s3cret"), "{err}");

    // A config file that holds the key itself must be private too.
    let inline = profile(&fx).replace(
        "api_key_file = \"keys/rohopay.key\"",
        "api_key = \"live_s3cret\"",
    );
    write_private(&dir.join("payrun.toml"), &inline, 0o640);
    let out = bare(dir)
        .args(["run", "payroll.csv", "--yes"])
        .output()
        .await
        .unwrap();
    assert_eq!(code(&out), 2, "{}", text(&out));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("payrun.toml holds a secret (api_key or webhook_secret)"),
        "{err}"
    );
    assert!(fx.ledger().await.is_empty(), "nothing was sent");
    // Private, it pays.
    std::fs::set_permissions(
        dir.join("payrun.toml"),
        std::fs::Permissions::from_mode(0o600),
    )
    .unwrap();
    let out = bare(dir)
        .args(["run", "payroll.csv", "--yes"])
        .output()
        .await
        .unwrap();
    assert_eq!(code(&out), 0, "{}", text(&out));
}

#[tokio::test(flavor = "multi_thread")]
async fn an_unknown_key_is_an_error_naming_its_line() {
    let fx = Fixture::new(SimConfig::default()).await;
    let dir = fx.dir.path();
    let typo = "[profiles.default]\nprovider = \"rohopay\"\njournal = \"x.db\"\n\nconcurency = 4\n";
    write_private(&dir.join("settings.toml"), typo, 0o644);
    fx.csv("payroll.csv", &ugx_payees(2));
    let out = bare(dir)
        .args(["validate", "payroll.csv", "--config", "settings.toml"])
        .output()
        .await
        .unwrap();
    assert_eq!(code(&out), 2, "{}", text(&out));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("config file settings.toml, line 5: unknown field `concurency`"),
        "{err}"
    );
    // The same through PAYRUN_CONFIG.
    let out = bare(dir)
        .args(["status"])
        .env("PAYRUN_CONFIG", "settings.toml")
        .output()
        .await
        .unwrap();
    assert_eq!(code(&out), 2, "{}", text(&out));
    // A value clap refuses names the profile.
    write_private(
        &dir.join("settings.toml"),
        "[profiles.default]\nprovider = \"mpesa\"\n",
        0o644,
    );
    let out = bare(dir)
        .args(["validate", "payroll.csv", "--config", "settings.toml"])
        .output()
        .await
        .unwrap();
    assert_eq!(code(&out), 2, "{}", text(&out));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("profile default in settings.toml gives a value payrun cannot use"),
        "{err}"
    );
}
