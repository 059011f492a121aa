//! Untrusted text (model output, server messages, model names, session files) made safe to
//! show on a terminal: no control character or escape sequence ever reaches it. Control
//! characters are shown visibly instead (ESC as `␛`, the other C0 controls as their control
//! pictures, DEL as `␡`, C1 controls as `�`), and bidirectional overrides, which can make text
//! read differently from what it is, are neutralised (`�`).
//!
//! Two boundaries use it: the TUI's frame buffer (every cell, after each draw) and the
//! headless commands' output when it goes to a terminal (a pipe gets the bytes as they are).

use std::borrow::Cow;

/// The visible stand-in for a control or bidi-override character, or `None` for a character
/// that is safe as it is.
pub fn stand_in(c: char) -> Option<char> {
    match c {
        '\x1b' => Some('␛'),
        '\x00'..='\x1f' => char::from_u32(0x2400 + c as u32),
        '\x7f' => Some('␡'),
        '\u{80}'..='\u{9f}' => Some('\u{fffd}'),
        // LRE, RLE, PDF, LRO, RLO; LRI, RLI, FSI, PDI.
        '\u{202a}'..='\u{202e}' | '\u{2066}'..='\u{2069}' => Some('\u{fffd}'),
        _ => None,
    }
}

/// Text for a terminal that keeps its lines and tabs (`\n`, `\t`): headless output.
pub fn for_terminal(s: &str) -> Cow<'_, str> {
    replace(s, |c| matches!(c, '\n' | '\t'))
}

/// One line of text for a terminal: every control character is shown, tabs and newlines
/// too (a name, a title, a status field).
pub fn one_line(s: &str) -> Cow<'_, str> {
    replace(s, |_| false)
}

fn replace(s: &str, keep: impl Fn(char) -> bool) -> Cow<'_, str> {
    if !s.chars().any(|c| !keep(c) && stand_in(c).is_some()) {
        return Cow::Borrowed(s);
    }
    Cow::Owned(
        s.chars()
            .map(|c| match stand_in(c) {
                Some(v) if !keep(c) => v,
                _ => c,
            })
            .collect(),
    )
}

/// Makes a drawn cell's symbol safe: a symbol holding a control character (ratatui gives
/// those a width of one) becomes that character's one-column stand-in; bidi overrides are
/// zero-width and never drawn. Returns the replacement when one is needed.
pub fn cell_symbol(symbol: &str) -> Option<&'static str> {
    // Fast path: most cells are one printable ASCII character.
    if let [b] = symbol.as_bytes() {
        if *b >= 0x20 && *b != 0x7f {
            return None;
        }
    }
    // A tab that reached a cell is a blank there (its stops are not the terminal's).
    if symbol == "\t" {
        return Some(" ");
    }
    let c = symbol.chars().find_map(stand_in)?;
    Some(picture(c))
}

/// The stand-in as a `'static` string (cells keep `&str` symbols).
fn picture(c: char) -> &'static str {
    const C0: [&str; 32] = [
        "␀", "␁", "␂", "␃", "␄", "␅", "␆", "␇", "␈", "␉", "␊", "␋", "␌", "␍", "␎", "␏", "␐", "␑",
        "␒", "␓", "␔", "␕", "␖", "␗", "␘", "␙", "␚", "␛", "␜", "␝", "␞", "␟",
    ];
    match c as u32 {
        n @ 0x2400..=0x241f => C0[(n - 0x2400) as usize],
        _ if c == '␡' => "␡",
        _ => "\u{fffd}",
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn escapes_become_visible_and_safe_text_is_borrowed() {
        let osc52 = "copy \x1b]52;c;ZXZpbA==\x07 done";
        assert_eq!(for_terminal(osc52), "copy ␛]52;c;ZXZpbA==␇ done");
        assert_eq!(for_terminal("line\n\tindented"), "line\n\tindented");
        assert!(matches!(for_terminal("plain Olá 日本"), Cow::Borrowed(_)));
        assert_eq!(one_line("a\nb\tc\rd"), "a␊b␉c␍d");
        assert_eq!(for_terminal("\x7f\u{9b}31m"), "␡\u{fffd}31m");
        assert_eq!(
            for_terminal("abc\u{202e}fed\u{2066}x\u{2069}"),
            "abc\u{fffd}fed\u{fffd}x\u{fffd}"
        );
    }

    #[test]
    fn cell_symbols() {
        assert_eq!(cell_symbol("a"), None);
        assert_eq!(cell_symbol("日"), None);
        assert_eq!(cell_symbol("\x1b"), Some("␛"));
        assert_eq!(cell_symbol("\x07"), Some("␇"));
        assert_eq!(cell_symbol("\x7f"), Some("␡"));
        assert_eq!(cell_symbol("\u{9b}"), Some("\u{fffd}"));
        assert_eq!(cell_symbol("\r\n"), Some("␍"));
        assert_eq!(cell_symbol("\t"), Some(" "));
    }
}

/// Standard output, safe when it is a terminal.
pub fn stdout() -> SafeWriter<std::io::StdoutLock<'static>> {
    use std::io::IsTerminal;
    let on = std::io::stdout().is_terminal();
    SafeWriter::new(std::io::stdout().lock(), on)
}

/// Standard error, safe when it is a terminal (for output that paints no colours itself).
pub fn stderr() -> SafeWriter<std::io::Stderr> {
    use std::io::IsTerminal;
    let on = std::io::stderr().is_terminal();
    SafeWriter::new(std::io::stderr(), on)
}

/// A writer that, when `on` (its target is a terminal), shows every control character of
/// the text written through it as its stand-in, keeping newlines and tabs. Bytes split inside
/// a UTF-8 character across writes are held until the character is whole. Off, bytes pass
/// through as they are (a script reading a pipe wants them so).
pub struct SafeWriter<W: std::io::Write> {
    inner: W,
    on: bool,
    pending: Vec<u8>,
}

impl<W: std::io::Write> SafeWriter<W> {
    pub fn new(inner: W, on: bool) -> Self {
        SafeWriter {
            inner,
            on,
            pending: Vec::new(),
        }
    }

    fn emit(&mut self, text: &str) -> std::io::Result<()> {
        self.inner.write_all(for_terminal(text).as_bytes())
    }
}

impl<W: std::io::Write> std::io::Write for SafeWriter<W> {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        if !self.on {
            return self.inner.write(buf);
        }
        // Taken first: after a failed write nothing is written twice.
        let mut bytes = std::mem::take(&mut self.pending);
        bytes.extend_from_slice(buf);
        let mut text = String::new();
        let mut rest = &bytes[..];
        loop {
            match std::str::from_utf8(rest) {
                Ok(s) => {
                    text.push_str(s);
                    rest = &[];
                    break;
                }
                Err(e) => {
                    let valid = e.valid_up_to();
                    text.push_str(std::str::from_utf8(&rest[..valid]).expect("valid prefix"));
                    match e.error_len() {
                        // Not UTF-8 at all: shown as a replacement character.
                        Some(n) => {
                            text.push('\u{fffd}');
                            rest = &rest[valid + n..];
                        }
                        // A character cut short: kept for the next write.
                        None => {
                            rest = &rest[valid..];
                            break;
                        }
                    }
                }
            }
        }
        self.pending = rest.to_vec();
        self.emit(&text)?;
        Ok(buf.len())
    }

    fn flush(&mut self) -> std::io::Result<()> {
        self.inner.flush()
    }
}

impl<W: std::io::Write> Drop for SafeWriter<W> {
    fn drop(&mut self) {
        if !self.pending.is_empty() {
            let rest = String::from_utf8_lossy(&self.pending).into_owned();
            let _ = self.emit(&rest);
            let _ = self.inner.flush();
        }
    }
}

#[cfg(test)]
mod writer_tests {
    use super::*;
    use std::io::Write;

    #[test]
    fn on_a_terminal_escapes_are_shown_even_split_across_writes() {
        let mut out = Vec::new();
        {
            let mut w = SafeWriter::new(&mut out, true);
            let text = "Olá \x1b]0;pwned\x07 日本\n".as_bytes();
            for b in text.chunks(1) {
                w.write_all(b).unwrap();
            }
            w.write_all(b"\xff!").unwrap();
        }
        assert_eq!(
            String::from_utf8(out).unwrap(),
            "Olá ␛]0;pwned␇ 日本\n\u{fffd}!"
        );
        let mut raw = Vec::new();
        SafeWriter::new(&mut raw, false)
            .write_all(b"\x1b[31m")
            .unwrap();
        assert_eq!(raw, b"\x1b[31m", "a pipe gets the bytes as they are");
    }
}
