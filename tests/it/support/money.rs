//! Amounts as the tests write and read them: major-unit text (`10500`, `1520.50`) to minor
//! units and back, for the currencies the tests pay in. Written from the currencies' minor
//! units, not shared with payrun's code, so a payrun bug in amounts cannot hide itself here.

/// Decimal places of a currency's minor unit (UGX, RWF and XAF have none).
pub fn decimals(currency: &str) -> usize {
    match currency {
        "UGX" | "RWF" | "XAF" => 0,
        _ => 2,
    }
}

/// Minor units of a major-unit amount; `None` for more decimals than the currency has or text
/// that is not a plain decimal number.
pub fn minor_of(amount: &str, currency: &str) -> Option<u64> {
    let decimals = decimals(currency);
    let (int, frac) = amount.split_once('.').unwrap_or((amount, ""));
    if frac.len() > decimals || !frac.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    format!("{int}{frac:0<decimals$}").parse().ok()
}

/// Minor units written in major units with all the currency's decimals (`1520.50`).
pub fn major_text(minor: u64, currency: &str) -> String {
    match decimals(currency) {
        0 => minor.to_string(),
        d => {
            let unit = 10u64.pow(d as u32);
            format!("{}.{:0d$}", minor / unit, minor % unit)
        }
    }
}

#[test]
fn minor_and_major_round_trip() {
    assert_eq!(minor_of("1520.5", "KES"), Some(152_050));
    assert_eq!(minor_of("1520.50", "KES"), Some(152_050));
    assert_eq!(minor_of("10500", "UGX"), Some(10_500));
    assert_eq!(minor_of("10500.5", "UGX"), None);
    assert_eq!(minor_of("1.234", "KES"), None);
    assert_eq!(major_text(152_050, "KES"), "1520.50");
    assert_eq!(major_text(5, "TZS"), "0.05");
    assert_eq!(major_text(10_500, "UGX"), "10500");
}
