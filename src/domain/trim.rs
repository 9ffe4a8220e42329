//! `str::trim` for the cells of every row: the same result, with a shortcut for the usual cell
//! that starts and ends with a visible ASCII character (nothing to trim). Every row trims about
//! ten cells, and the general trim decodes a character at each end of each: about 5 % of the
//! CPU of `payrun validate` on a million rows.

/// Exactly `text.trim()` (Unicode white space at both ends removed).
pub fn trim(text: &str) -> &str {
    match (text.as_bytes().first(), text.as_bytes().last()) {
        (Some(first), Some(last)) if first.is_ascii_graphic() && last.is_ascii_graphic() => text,
        _ => text.trim(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn trims_exactly_like_str_trim() {
        let ends = [
            "", " ", "\t", "\r", "\n", "\u{b}", "\u{c}", "\u{1c}", "\u{1f}", "\u{7f}", "\u{85}",
            "\u{a0}", "\u{2003}", "\u{3000}", "\u{feff}", "é", "x", "-", "~", "\u{0}",
        ];
        let middles = ["", "a", "a b", " ", "256700123456", "é\u{a0}é"];
        for start in ends {
            for middle in middles {
                for end in ends {
                    let text = format!("{start}{middle}{end}");
                    assert_eq!(trim(&text), text.trim(), "{text:?}");
                }
            }
        }
    }
}
