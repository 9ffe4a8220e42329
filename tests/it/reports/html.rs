//! `report --format html` opened in a real headless Chromium: the page it builds holds the
//! batch's totals, what needs attention with the command to run, and every payee, with hostile
//! names shown as text; the page asks the network for nothing; and it renders to a screenshot
//! (kept at `$PAYRUN_REPORT_SCREENSHOT` when that is set, to look at).

use super::{HOSTILE_FIRST, mode, settled_batch};
use crate::support::chromium;
use crate::support::pay::{code, exec, text};

#[tokio::test(flavor = "multi_thread")]
async fn the_page_renders_in_chromium_with_totals_and_loads_nothing() {
    let Some(browser) = chromium::require() else {
        return;
    };
    let (fx, batch) = settled_batch().await;
    let page = fx.dir.path().join("june.html");
    let out = exec(&mut fx.payrun_with_umask(
        "000",
        &[
            "report",
            &batch,
            "--format",
            "html",
            "--out",
            page.to_str().unwrap(),
        ],
    ))
    .await;
    assert_eq!(code(&out), 0, "{}", text(&out));
    assert_eq!(mode(&page), 0o600);

    let scratch = fx.dir.path();
    let rendered = chromium::render(&browser, scratch, &page).await;
    let dom = &rendered.dom;
    assert!(
        dom.contains(&format!("Payroll batch <code>{batch}</code>")),
        "{dom}"
    );
    // Totals: requested, paid, failed, in KES, and the chart.
    for figure in ["3,300.75 KES", "1,300.75 KES", "2,000.00 KES"] {
        assert!(dom.contains(figure), "no {figure} in {dom}");
    }
    assert!(dom.contains("<svg class=\"chart\""), "{dom}");
    // What needs attention: the failed payee in Rumbapay's words.
    let attention = &dom[dom
        .find("id=\"attention\"")
        .expect("a Needs attention section")..];
    assert!(attention.contains("Failed: not paid (1)"), "{attention}");
    assert!(
        attention.contains("Payout declined by the mobile network"),
        "{attention}"
    );
    // Every payee, the hostile name as text: no element came out of it.
    assert_eq!(dom.matches("<span class=\"state ").count(), 3, "{dom}");
    assert!(dom.contains("&lt;img src=x onerror=alert(1)&gt;"), "{dom}");
    assert!(
        !dom.contains(HOSTILE_FIRST) && !dom.contains("<b id=\"pwned\""),
        "{dom}"
    );
    assert!(!dom.contains("<script"), "{dom}");
    assert_eq!(
        rendered.requests,
        Vec::<String>::new(),
        "the page made network requests"
    );

    let png = chromium::screenshot(&browser, scratch, &page, 1280, 1400).await;
    assert_eq!(chromium::png_size(&png), (1280, 1400));
    assert!(
        png.len() > 20_000,
        "a near-empty screenshot: {} bytes",
        png.len()
    );
    if let Some(keep) = std::env::var_os("PAYRUN_REPORT_SCREENSHOT") {
        std::fs::write(keep, &png).unwrap();
    }
}

/// The check above would see a page that loads something: a page with an image and a style
/// sheet from elsewhere is caught making both requests.
#[tokio::test(flavor = "multi_thread")]
async fn the_request_check_sees_a_page_that_loads_something() {
    let Some(browser) = chromium::require() else {
        return;
    };
    let dir = tempfile::tempdir().unwrap();
    let page = dir.path().join("leaky.html");
    std::fs::write(
        &page,
        "<!DOCTYPE html><html><head><link rel=\"stylesheet\" href=\"http://127.0.0.1:9/a.css\">\
         </head><body><img src=\"http://127.0.0.1:9/x.png\"></body></html>",
    )
    .unwrap();
    let rendered = chromium::render(&browser, dir.path(), &page).await;
    let mut requests = rendered.requests;
    requests.sort();
    requests.dedup();
    assert_eq!(
        requests,
        ["http://127.0.0.1:9/a.css", "http://127.0.0.1:9/x.png"]
    );
}
