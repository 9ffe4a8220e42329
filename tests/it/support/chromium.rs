//! A real headless Chromium for the html report: the DOM it builds from a page, a screenshot,
//! and the requests the page itself made (read from Chromium's own network log, where the
//! browser's background requests are told apart from the page's by their isolation key).
//!
//! CI installs Chromium (`.ci/run`), and there a missing browser fails the test. Elsewhere it
//! is skipped with a message saying how to install it.

use std::path::{Path, PathBuf};
use std::time::Duration;

use serde_json::Value;

/// The browser, if one is installed: `PAYRUN_CHROMIUM`, else `chromium` (Debian) or
/// `chromium-browser` / `google-chrome` on the PATH.
pub fn find() -> Option<PathBuf> {
    if let Some(path) = std::env::var_os("PAYRUN_CHROMIUM") {
        return Some(PathBuf::from(path));
    }
    let path = std::env::var_os("PATH")?;
    ["chromium", "chromium-browser", "google-chrome"]
        .iter()
        .flat_map(|name| std::env::split_paths(&path).map(move |dir| dir.join(name)))
        .find(|candidate| candidate.is_file())
}

/// The browser, or `None` after saying why the test is skipped; under CI a missing browser
/// fails the test.
pub fn require() -> Option<PathBuf> {
    let found = find();
    if found.is_none() {
        assert!(
            std::env::var_os("CI").is_none(),
            "Chromium is not installed, and CI must render the html report: .ci/run installs it \
             (apt-get install -y chromium)"
        );
        eprintln!(
            "SKIPPED: no Chromium to render the html report in; install it (apt-get install -y \
             chromium) or set PAYRUN_CHROMIUM"
        );
    }
    found
}

/// One headless Chromium run over `page` with `args`, its own profile in `scratch`.
async fn run(chromium: &Path, scratch: &Path, page: &Path, args: &[String]) -> Vec<u8> {
    let profile = tempfile::tempdir_in(scratch).unwrap();
    let mut cmd = tokio::process::Command::new(chromium);
    cmd.args([
        "--headless",
        // Root (as in CI) cannot use Chromium's sandbox.
        "--no-sandbox",
        "--disable-gpu",
        "--hide-scrollbars",
        "--no-first-run",
        "--disable-background-networking",
        "--disable-component-update",
        "--disable-sync",
        "--disable-extensions",
    ])
    .arg(format!("--user-data-dir={}", profile.path().display()))
    .args(args)
    .arg(format!("file://{}", page.display()))
    .stdin(std::process::Stdio::null())
    .stdout(std::process::Stdio::piped())
    .stderr(std::process::Stdio::piped())
    .kill_on_drop(true);
    let out = tokio::time::timeout(Duration::from_secs(120), cmd.output())
        .await
        .expect("Chromium finished within 120 s")
        .expect("Chromium started");
    assert!(
        out.status.success(),
        "Chromium failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    out.stdout
}

/// What Chromium made of a page.
pub struct Rendered {
    /// The DOM after parsing, serialised.
    pub dom: String,
    /// Every URL the page itself asked the network for.
    pub requests: Vec<String>,
}

/// Load `page` and return its DOM and the requests it made.
pub async fn render(chromium: &Path, scratch: &Path, page: &Path) -> Rendered {
    let log = scratch.join(format!(
        "net-{}.json",
        page.file_stem().unwrap().to_string_lossy()
    ));
    let dom = run(
        chromium,
        scratch,
        page,
        &[
            "--dump-dom".into(),
            format!("--log-net-log={}", log.display()),
        ],
    )
    .await;
    Rendered {
        dom: String::from_utf8_lossy(&dom).into_owned(),
        requests: page_requests(&std::fs::read(&log).expect("Chromium wrote its network log")),
    }
}

/// A screenshot of `page` in a `width`×`height` window, as PNG bytes.
pub async fn screenshot(
    chromium: &Path,
    scratch: &Path,
    page: &Path,
    width: u32,
    height: u32,
) -> Vec<u8> {
    let png = scratch.join(format!(
        "{}.png",
        page.file_stem().unwrap().to_string_lossy()
    ));
    run(
        chromium,
        scratch,
        page,
        &[
            format!("--screenshot={}", png.display()),
            format!("--window-size={width},{height}"),
        ],
    )
    .await;
    std::fs::read(&png).expect("Chromium wrote the screenshot")
}

/// The URLs of requests started on behalf of a page loaded from a file: their network
/// isolation key names `file://`. The browser's own background requests carry none.
fn page_requests(net_log: &[u8]) -> Vec<String> {
    let log: Value = serde_json::from_slice(net_log).expect("a complete network log");
    let start_job = log["constants"]["logEventTypes"]["URL_REQUEST_START_JOB"].clone();
    log["events"]
        .as_array()
        .into_iter()
        .flatten()
        .filter(|e| e["type"] == start_job)
        .filter(|e| {
            e["params"]["network_isolation_key"]
                .as_str()
                .is_some_and(|k| k.contains("file://"))
        })
        .filter_map(|e| e["params"]["url"].as_str().map(str::to_owned))
        .collect()
}

/// Width and height of a PNG, from its header.
pub fn png_size(png: &[u8]) -> (u32, u32) {
    assert_eq!(&png[..8], b"\x89PNG\r\n\x1a\n", "a PNG file");
    let be = |at: usize| u32::from_be_bytes(png[at..at + 4].try_into().unwrap());
    (be(16), be(20))
}
