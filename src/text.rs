//! Target-controlled text made safe to print: a path, comm, argv or string
//! from another process must not drive the terminal (an ESC in a mapping's
//! path would otherwise reach the terminal as a command).
//!
//! The escapes are Rust's, as values already show them (`{:?}`): `\u{1b}`,
//! `\t`, `\\`, and invisible format characters such as `\u{202e}`.

use std::borrow::Cow;

/// `text` with control and invisible characters (and `\`) escaped.
///
/// ```
/// assert_eq!(pvtui::text::escape("/tmp/a\x1b[2Jb"), "/tmp/a\\u{1b}[2Jb");
/// assert_eq!(pvtui::text::escape("/usr/lib/libc.so.6"), "/usr/lib/libc.so.6");
/// ```
pub fn escape(text: &str) -> Cow<'_, str> {
    escape_with(text, false)
}

/// Like [`escape`], but line breaks and backslashes stay: for messages of
/// several lines that may quote text already escaped with `{:?}`.
pub fn escape_lines(text: &str) -> Cow<'_, str> {
    escape_with(text, true)
}

/// A line of JSON with the non-ASCII control and invisible characters
/// (C1 controls such as U+009B, bidi overrides) written as `\uXXXX`:
/// serde_json escapes only those below U+0020, and a terminal may act on
/// the others. Only strings hold non-ASCII text, so the JSON stays valid.
pub fn json_line(line: String) -> String {
    let hidden = |c: char| !c.is_ascii() && c.escape_debug().len() > 1;
    if !line.chars().any(hidden) {
        return line;
    }
    let mut out = String::with_capacity(line.len() + 16);
    for c in line.chars() {
        if hidden(c) {
            let mut units = [0u16; 2];
            for unit in c.encode_utf16(&mut units) {
                out.push_str(&format!("\\u{unit:04x}"));
            }
        } else {
            out.push(c);
        }
    }
    out
}

/// `text` as a message names it: up to `shown` characters, then how long
/// it was, so a 100,000-character argument is not echoed whole.
///
/// ```
/// assert_eq!(pvtui::text::shortened("abcdef", 3), "abc... (6 characters)");
/// assert_eq!(pvtui::text::shortened("abc", 3), "abc");
/// ```
pub fn shortened(text: &str, shown: usize) -> Cow<'_, str> {
    match text.char_indices().nth(shown) {
        None => Cow::Borrowed(text),
        Some((cut, _)) => Cow::Owned(format!(
            "{}... ({} characters)",
            &text[..cut],
            text.chars().count()
        )),
    }
}

/// The text [`escape`] was given, from what it printed: `\\`, `\n`, `\r`,
/// `\t`, `\0`, `\'`, `\"` and `\u{HEX}` read back; None when `text` holds
/// another escape or a broken one.
///
/// ```
/// assert_eq!(pvtui::text::unescape("a\\u{1b}[7m\\n").as_deref(), Some("a\x1b[7m\n"));
/// assert_eq!(pvtui::text::unescape("a\\q"), None);
/// ```
pub fn unescape(text: &str) -> Option<String> {
    let mut out = String::with_capacity(text.len());
    let mut chars = text.chars();
    while let Some(c) = chars.next() {
        if c != '\\' {
            out.push(c);
            continue;
        }
        out.push(match chars.next()? {
            '\\' => '\\',
            'n' => '\n',
            'r' => '\r',
            't' => '\t',
            '0' => '\0',
            '\'' => '\'',
            '"' => '"',
            'u' => {
                if chars.next()? != '{' {
                    return None;
                }
                let hex: String = chars.by_ref().take_while(|&c| c != '}').collect();
                char::from_u32(u32::from_str_radix(&hex, 16).ok()?)?
            }
            _ => return None,
        });
    }
    Some(out)
}

fn escape_with(text: &str, message: bool) -> Cow<'_, str> {
    let plain = |c: char| c == '"' || c == '\'' || (message && (c == '\n' || c == '\\'));
    if text
        .chars()
        .all(|c| plain(c) || c.escape_debug().len() == 1)
    {
        return Cow::Borrowed(text);
    }
    let mut out = String::with_capacity(text.len() + 8);
    for c in text.chars() {
        if plain(c) {
            out.push(c);
        } else {
            out.extend(c.escape_debug());
        }
    }
    Cow::Owned(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn terminal_controls_are_escaped_and_plain_text_is_borrowed() {
        assert!(matches!(escape("[heap] \"x\" 'y' é"), Cow::Borrowed(_)));
        assert_eq!(escape("a\x1b]0;pwned\x07b"), "a\\u{1b}]0;pwned\\u{7}b");
        assert_eq!(escape("\u{9b}31m"), "\\u{9b}31m");
        assert_eq!(escape("x\u{202e}y"), "x\\u{202e}y");
        assert_eq!(escape("a\\u{1b}"), "a\\\\u{1b}");
        assert_eq!(escape("a\nb"), "a\\nb");
        let json = json_line(serde_json::json!({"p": "a\u{9b}b\u{202e}\u{e0001}é"}).to_string());
        assert_eq!(json, r#"{"p":"a\u009bb\u202e\udb40\udc01é"}"#);
        let back: serde_json::Value = serde_json::from_str(&json).expect("valid JSON");
        assert_eq!(back["p"], "a\u{9b}b\u{202e}\u{e0001}é");
        assert_eq!(escape_lines("a\nb\x1b\\"), "a\nb\\u{1b}\\");
    }
}
