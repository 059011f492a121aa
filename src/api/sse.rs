//! Incremental Server-Sent Events parser.
//!
//! Bytes are fed exactly as they arrive from the network, split at any position (including inside a
//! line terminator or a multi-byte UTF-8 character). Lines are only decoded once complete, so a
//! character split across reads is never mangled.

/// One parsed SSE item.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SseItem {
    /// A dispatched event: its `event:` name (if any) and `data:` lines joined with `\n`.
    Event { event: Option<String>, data: String },
    /// A `:` comment line (keep-alive, e.g. `: OPENROUTER PROCESSING`).
    Comment(String),
}

#[derive(Debug, Default)]
pub struct SseParser {
    buf: Vec<u8>,
    /// Start of the not-yet-consumed part of `buf`.
    start: usize,
    /// Where to resume scanning for a line terminator.
    scan: usize,
    data: String,
    has_data: bool,
    event: Option<String>,
}

impl SseParser {
    pub fn new() -> Self {
        Self::default()
    }

    /// Feeds bytes; parsed items are appended to `out`.
    pub fn feed(&mut self, bytes: &[u8], out: &mut Vec<SseItem>) {
        self.buf.extend_from_slice(bytes);
        loop {
            let Some(rel) = self.buf[self.scan..]
                .iter()
                .position(|&b| b == b'\n' || b == b'\r')
            else {
                self.scan = self.buf.len();
                break;
            };
            let end = self.scan + rel;
            let next = if self.buf[end] == b'\r' {
                match self.buf.get(end + 1) {
                    Some(b'\n') => end + 2,
                    Some(_) => end + 1,
                    // A lone '\r' at the end may be the first half of "\r\n": wait for more.
                    None => {
                        self.scan = end;
                        break;
                    }
                }
            } else {
                end + 1
            };
            let line = std::mem::take(&mut self.buf);
            self.line(&line[self.start..end], out);
            self.buf = line;
            self.start = next;
            self.scan = next;
        }
        // Compact once the consumed prefix dominates, keeping feeding amortised O(n).
        if self.start > 0 && self.start * 2 >= self.buf.len() {
            self.buf.drain(..self.start);
            self.scan -= self.start;
            self.start = 0;
        }
    }

    /// Bytes held for an event not yet complete (its unfinished line and data so far).
    pub fn pending(&self) -> usize {
        self.buf.len() - self.start + self.data.len()
    }

    /// Ends the input. A final event not followed by a blank line is still dispatched: losing the
    /// last chunk (often the usage) to a server that omits the final separator is worse.
    pub fn finish(&mut self, out: &mut Vec<SseItem>) {
        if self.start < self.buf.len() {
            let rest = std::mem::take(&mut self.buf);
            let mut end = rest.len();
            if rest[end - 1] == b'\r' {
                end -= 1;
            }
            self.line(&rest[self.start..end], out);
        }
        self.buf.clear();
        self.start = 0;
        self.scan = 0;
        self.dispatch(out);
    }

    fn line(&mut self, line: &[u8], out: &mut Vec<SseItem>) {
        if line.is_empty() {
            self.dispatch(out);
            return;
        }
        let text = String::from_utf8_lossy(line);
        if let Some(comment) = text.strip_prefix(':') {
            out.push(SseItem::Comment(comment.trim_start().to_string()));
            return;
        }
        let (field, value) = match text.find(':') {
            Some(i) => {
                let v = &text[i + 1..];
                (&text[..i], v.strip_prefix(' ').unwrap_or(v))
            }
            None => (&text[..], ""),
        };
        match field {
            "data" => {
                if self.has_data {
                    self.data.push('\n');
                }
                self.data.push_str(value);
                self.has_data = true;
            }
            "event" => self.event = Some(value.to_string()),
            // `id` and `retry` have no meaning for chat completions.
            _ => {}
        }
    }

    fn dispatch(&mut self, out: &mut Vec<SseItem>) {
        if self.has_data {
            out.push(SseItem::Event {
                event: self.event.take(),
                data: std::mem::take(&mut self.data),
            });
            self.has_data = false;
        } else {
            self.event = None;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse_all(chunks: &[&[u8]]) -> Vec<SseItem> {
        let mut p = SseParser::new();
        let mut out = Vec::new();
        for c in chunks {
            p.feed(c, &mut out);
        }
        p.finish(&mut out);
        out
    }

    fn ev(data: &str) -> SseItem {
        SseItem::Event {
            event: None,
            data: data.into(),
        }
    }

    #[test]
    fn basic_events_and_comments() {
        let got = parse_all(&[b": ping\n\ndata: {\"a\":1}\n\ndata: [DONE]\n\n"]);
        assert_eq!(
            got,
            vec![
                SseItem::Comment("ping".into()),
                ev("{\"a\":1}"),
                ev("[DONE]")
            ]
        );
    }

    #[test]
    fn crlf_split_between_reads() {
        let got = parse_all(&[b"data: x\r", b"\n\r", b"\ndata: y\r\n\r\n"]);
        assert_eq!(got, vec![ev("x"), ev("y")]);
    }

    #[test]
    fn lone_cr_terminates_lines() {
        let got = parse_all(&[b"data: x\r\rdata: y\r\r"]);
        assert_eq!(got, vec![ev("x"), ev("y")]);
    }

    #[test]
    fn utf8_split_inside_character() {
        let s = "data: Olá – 日本\n\n".as_bytes();
        for cut in 0..s.len() {
            let got = parse_all(&[&s[..cut], &s[cut..]]);
            assert_eq!(got, vec![ev("Olá – 日本")], "cut at {cut}");
        }
    }

    #[test]
    fn multi_line_data_and_event_name() {
        let got = parse_all(&[b"event: error\ndata: a\ndata: b\n\n"]);
        assert_eq!(
            got,
            vec![SseItem::Event {
                event: Some("error".into()),
                data: "a\nb".into()
            }]
        );
    }

    #[test]
    fn final_event_without_blank_line_is_kept() {
        assert_eq!(parse_all(&[b"data: last"]), vec![ev("last")]);
        assert_eq!(parse_all(&[b"data: last\r"]), vec![ev("last")]);
    }

    #[test]
    fn field_without_space_and_unknown_fields() {
        let got = parse_all(&[b"id: 7\nretry: 10\ndata:x\n\n"]);
        assert_eq!(got, vec![ev("x")]);
    }
}
