//! Text from servers and child processes, made safe to show: error descriptions, ARM and
//! registry messages, `az`'s stderr. Such text reaches a terminal, the log file, notifications
//! and the settings window; a control sequence in it could rewrite the terminal, forge log
//! lines, or (with bidirectional overrides) show something other than what it says.

/// The most characters of one server message shown; the rest is cut with `…`.
pub const MAX_SERVER_TEXT: usize = 500;

/// Whether a character may not be shown as it is: C0 and C1 controls (ESC, CR, NUL, ...), DEL,
/// and the invisible characters that change how text around them is laid out or read
/// (bidirectional overrides and isolates, zero-width characters, the BOM).
pub fn is_unsafe(c: char) -> bool {
    c.is_control()
        || matches!(c,
            '\u{061C}' | '\u{200B}'..='\u{200F}' | '\u{202A}'..='\u{202E}'
            | '\u{2060}'..='\u{2069}' | '\u{FEFF}' | '\u{FFF9}'..='\u{FFFB}')
}

/// The text on one line and without controls: line breaks and tabs become spaces, other
/// controls and invisible formatting characters are dropped, runs of spaces are collapsed and
/// the ends trimmed.
pub fn printable(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        let c = if c.is_whitespace() { ' ' } else { c };
        if is_unsafe(c) || (c == ' ' && (out.is_empty() || out.ends_with(' '))) {
            continue;
        }
        out.push(c);
    }
    out.truncate(out.trim_end().len());
    out
}

/// [`printable`], and at most [`MAX_SERVER_TEXT`] characters: for any text a server or
/// another program sent.
pub fn server_text(text: &str) -> String {
    printable_start(text, MAX_SERVER_TEXT)
}

/// [`printable`], and at most `max` characters: the rest is cut with `…`.
pub fn printable_start(text: &str, max: usize) -> String {
    let clean = printable(text);
    match clean.char_indices().nth(max) {
        Some((cut, _)) => format!("{}…", &clean[..cut]),
        None => clean,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn controls_and_layout_tricks_are_removed() {
        assert_eq!(
            printable("AADSTS70043: expired\r\nTrace ID: 1\x1b[2J\x1b]0;pwned\x07"),
            "AADSTS70043: expired Trace ID: 1[2J]0;pwned"
        );
        assert_eq!(printable("a\u{202E}gnp.exe\u{202C}b"), "agnp.exeb");
        assert_eq!(printable("\u{9b}31mred\u{7f} \0x"), "31mred x");
        assert_eq!(printable("  tab\there  \n"), "tab here");
        assert_eq!(printable("zero\u{200B}width\u{FEFF}"), "zerowidth");
        assert_eq!(printable("ünïcödé 漢字 ok"), "ünïcödé 漢字 ok");
    }

    #[test]
    fn long_text_is_cut() {
        let long = "é".repeat(MAX_SERVER_TEXT + 10);
        let cut = server_text(&long);
        assert_eq!(cut.chars().count(), MAX_SERVER_TEXT + 1);
        assert!(cut.ends_with('…'));
        assert_eq!(server_text("short"), "short");
        assert_eq!(printable_start("ab\x1bcdé\nf", 4), "abcd…");
        assert_eq!(printable_start("abcd", 4), "abcd");
    }
}
