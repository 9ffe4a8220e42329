//! Text from a file or the command line, made safe to echo to a terminal. A value that holds a
//! zero-width space, a right-to-left override or an ANSI escape prints as something it is not
//! (or changes the terminal), so every message that quotes user text shows those characters by
//! name instead: `U+200B ZERO WIDTH SPACE`. Other characters print as themselves.

use std::fmt;

/// Names of the invisible characters people actually meet in payroll files; any other
/// invisible character is shown by its code point alone.
const NAMES: &[(char, &str)] = &[
    // C0 controls that spreadsheets and terminals produce.
    ('\u{0}', "NULL"),
    ('\u{9}', "CHARACTER TABULATION"),
    ('\u{A}', "LINE FEED"),
    ('\u{D}', "CARRIAGE RETURN"),
    ('\u{1B}', "ESCAPE"),
    ('\u{7F}', "DELETE"),
    ('\u{85}', "NEXT LINE"),
    // Spaces that look like a space but are not one.
    ('\u{A0}', "NO-BREAK SPACE"),
    ('\u{2007}', "FIGURE SPACE"),
    ('\u{2009}', "THIN SPACE"),
    ('\u{202F}', "NARROW NO-BREAK SPACE"),
    ('\u{3000}', "IDEOGRAPHIC SPACE"),
    ('\u{2028}', "LINE SEPARATOR"),
    ('\u{2029}', "PARAGRAPH SEPARATOR"),
    // Format characters: invisible, pasted from web pages and chat apps.
    ('\u{AD}', "SOFT HYPHEN"),
    ('\u{200B}', "ZERO WIDTH SPACE"),
    ('\u{200C}', "ZERO WIDTH NON-JOINER"),
    ('\u{200D}', "ZERO WIDTH JOINER"),
    ('\u{2060}', "WORD JOINER"),
    ('\u{FEFF}', "ZERO WIDTH NO-BREAK SPACE (BYTE ORDER MARK)"),
    // Bidirectional controls: they reorder what is printed after them.
    ('\u{200E}', "LEFT-TO-RIGHT MARK"),
    ('\u{200F}', "RIGHT-TO-LEFT MARK"),
    ('\u{61C}', "ARABIC LETTER MARK"),
    ('\u{202A}', "LEFT-TO-RIGHT EMBEDDING"),
    ('\u{202B}', "RIGHT-TO-LEFT EMBEDDING"),
    ('\u{202C}', "POP DIRECTIONAL FORMATTING"),
    ('\u{202D}', "LEFT-TO-RIGHT OVERRIDE"),
    ('\u{202E}', "RIGHT-TO-LEFT OVERRIDE"),
    ('\u{2066}', "LEFT-TO-RIGHT ISOLATE"),
    ('\u{2067}', "RIGHT-TO-LEFT ISOLATE"),
    ('\u{2068}', "FIRST STRONG ISOLATE"),
    ('\u{2069}', "POP DIRECTIONAL ISOLATE"),
];

/// The format characters (Unicode category Cf) outside [`NAMES`], as inclusive ranges.
const FORMAT: &[(char, char)] = &[
    ('\u{600}', '\u{605}'),
    ('\u{6DD}', '\u{6DD}'),
    ('\u{70F}', '\u{70F}'),
    ('\u{890}', '\u{891}'),
    ('\u{8E2}', '\u{8E2}'),
    ('\u{180E}', '\u{180E}'),
    ('\u{200B}', '\u{200F}'),
    ('\u{202A}', '\u{202E}'),
    ('\u{2060}', '\u{2064}'),
    ('\u{2066}', '\u{206F}'),
    ('\u{FEFF}', '\u{FEFF}'),
    ('\u{FFF9}', '\u{FFFB}'),
    ('\u{110BD}', '\u{110BD}'),
    ('\u{110CD}', '\u{110CD}'),
    ('\u{13430}', '\u{1343F}'),
    ('\u{1BCA0}', '\u{1BCA3}'),
    ('\u{1D173}', '\u{1D17A}'),
    ('\u{E0001}', '\u{E0001}'),
    ('\u{E0020}', '\u{E007F}'),
];

/// True for characters that must not reach a terminal raw: controls, format characters
/// (zero-width, bidi, BOM, soft hyphen), and whitespace other than the ASCII space.
pub fn is_invisible(c: char) -> bool {
    c.is_control()
        || (c.is_whitespace() && c != ' ')
        || c == '\u{AD}'
        || c == '\u{61C}'
        || FORMAT.iter().any(|&(lo, hi)| (lo..=hi).contains(&c))
}

/// `U+200B ZERO WIDTH SPACE`, or `U+E0041` for an invisible character without a listed name.
pub struct CodePoint(pub char);

impl fmt::Display for CodePoint {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "U+{:04X}", u32::from(self.0))?;
        match NAMES.iter().find(|(c, _)| *c == self.0) {
            Some((_, name)) => write!(f, " {name}"),
            None => Ok(()),
        }
    }
}

/// One character for a message: `'O'` as itself, an invisible one by name.
pub struct ShownChar(pub char);

impl fmt::Display for ShownChar {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if is_invisible(self.0) {
            write!(f, "{}", CodePoint(self.0))
        } else {
            write!(f, "'{}'", self.0)
        }
    }
}

/// User text in double quotes for a message: `"` and `\` escaped, invisible characters shown
/// as `<U+200B ZERO WIDTH SPACE>`.
pub struct Quoted<'a>(pub &'a str);

impl fmt::Display for Quoted<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("\"")?;
        for c in self.0.chars() {
            match c {
                '"' => f.write_str("\\\"")?,
                '\\' => f.write_str("\\\\")?,
                c => write!(f, "{}", Escaped(c.encode_utf8(&mut [0; 4])))?,
            }
        }
        f.write_str("\"")
    }
}

/// User text without quotes (a header, a message built around a value), invisible characters
/// shown as `<U+200B ZERO WIDTH SPACE>`, everything else as itself.
pub struct Escaped<'a>(pub &'a str);

impl fmt::Display for Escaped<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for c in self.0.chars() {
            if is_invisible(c) {
                write!(f, "<{}>", CodePoint(c))?;
            } else {
                write!(f, "{c}")?;
            }
        }
        Ok(())
    }
}

/// Characters of a long value shown in a message.
pub const PREVIEW_CHARS: usize = 40;

/// The first [`PREVIEW_CHARS`] characters of `text`, with `…` when there is more.
pub fn preview(text: &str) -> String {
    match text.char_indices().nth(PREVIEW_CHARS) {
        Some((end, _)) => format!("{}…", &text[..end]),
        None => text.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn invisible_characters_are_named_and_others_are_themselves() {
        assert_eq!(ShownChar('\u{200B}').to_string(), "U+200B ZERO WIDTH SPACE");
        assert_eq!(ShownChar('\u{A0}').to_string(), "U+00A0 NO-BREAK SPACE");
        assert_eq!(
            ShownChar('\u{202E}').to_string(),
            "U+202E RIGHT-TO-LEFT OVERRIDE"
        );
        assert_eq!(
            ShownChar('\u{FEFF}').to_string(),
            "U+FEFF ZERO WIDTH NO-BREAK SPACE (BYTE ORDER MARK)"
        );
        assert_eq!(ShownChar('\u{AD}').to_string(), "U+00AD SOFT HYPHEN");
        assert_eq!(ShownChar('\u{1B}').to_string(), "U+001B ESCAPE");
        assert_eq!(ShownChar('\u{9F}').to_string(), "U+009F");
        assert_eq!(ShownChar('\u{E0041}').to_string(), "U+E0041");
        assert_eq!(ShownChar('O').to_string(), "'O'");
        assert_eq!(ShownChar('é').to_string(), "'é'");
        assert_eq!(ShownChar('٣').to_string(), "'٣'");
    }

    #[test]
    fn quoted_text_carries_no_raw_control_or_format_character() {
        let hostile = "25670\u{200B}0123\u{1B}[31m\u{202E}\u{A0}\"x\\\n";
        let shown = Quoted(hostile).to_string();
        assert_eq!(
            shown,
            "\"25670<U+200B ZERO WIDTH SPACE>0123<U+001B ESCAPE>[31m<U+202E RIGHT-TO-LEFT OVERRIDE>\
             <U+00A0 NO-BREAK SPACE>\\\"x\\\\<U+000A LINE FEED>\""
        );
        assert!(shown.chars().all(|c| !is_invisible(c)), "{shown}");
        assert_eq!(Quoted("Amina Nakato").to_string(), "\"Amina Nakato\"");
    }

    #[test]
    fn previews_cut_long_text_on_a_character_boundary() {
        assert_eq!(preview("short"), "short");
        let long = "é".repeat(100);
        assert_eq!(preview(&long), format!("{}…", "é".repeat(40)));
        assert_eq!(preview(&"a".repeat(40)), "a".repeat(40));
    }
}
