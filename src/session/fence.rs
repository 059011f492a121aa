//! Fenced code blocks, CommonMark style: the one parser behind the code pane, the comparison
//! diff and the HTML export, so that all three see the same blocks.
//!
//! A fence is three or more backticks or tildes, indented at most three spaces; a backtick
//! fence's info string has no backtick. It is closed by a line of the same character, at
//! least as long, indented at most three spaces, with nothing but spaces after it — so a
//! closing fence indented four spaces inside a block is content. Content lines lose as many
//! leading spaces as the opening fence had. A fence still open at the end runs to the end
//! (a cut-off answer keeps its code).

/// An open fence.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Fence {
    pub ch: char,
    pub len: usize,
    /// Spaces before the opening fence.
    pub indent: usize,
    /// The first word of the info string (the language), possibly empty.
    pub lang: String,
}

fn indent_of(line: &str) -> usize {
    line.len() - line.trim_start_matches(' ').len()
}

/// The fence `line` opens, if any.
pub fn open(line: &str) -> Option<Fence> {
    let indent = indent_of(line);
    if indent > 3 {
        return None;
    }
    let t = &line[indent..];
    let ch = t.chars().next().filter(|c| *c == '`' || *c == '~')?;
    let len = t.chars().take_while(|&x| x == ch).count();
    if len < 3 {
        return None;
    }
    let info = t[len..].trim();
    if ch == '`' && info.contains('`') {
        return None;
    }
    Some(Fence {
        ch,
        len,
        indent,
        lang: info.split_whitespace().next().unwrap_or("").to_string(),
    })
}

/// Whether the unfinished line `partial` may still become a fence's opening line (its first
/// backticks or tildes, or a fence and part of its info string): a streaming renderer holds
/// it back rather than show a lone `` ` `` that turns into a code block a moment later.
pub fn may_open(partial: &str) -> bool {
    let indent = indent_of(partial);
    if indent > 3 {
        return false;
    }
    let t = &partial[indent..];
    let Some(ch) = t.chars().next().filter(|c| *c == '`' || *c == '~') else {
        return false;
    };
    let len = t.chars().take_while(|&x| x == ch).count();
    // All fence characters so far, or three or more and then an info string.
    len == t.chars().count() || open(partial).is_some()
}

impl Fence {
    /// True when `line` closes this fence.
    pub fn closes(&self, line: &str) -> bool {
        let indent = indent_of(line);
        if indent > 3 {
            return false;
        }
        let t = line[indent..].trim_end();
        t.chars().count() >= self.len && t.chars().all(|c| c == self.ch)
    }

    /// The unfinished last line as the block shows it while it streams: held back (empty)
    /// while it may yet close the fence (only fence characters so far), so the closing
    /// ```` ``` ```` never shows as a line of code for a frame.
    pub fn partial<'a>(&self, line: &'a str) -> &'a str {
        let indent = indent_of(line);
        let t = &line[indent.min(line.len())..];
        if indent <= 3 && !t.is_empty() && t.trim_end().chars().all(|c| c == self.ch) {
            return "";
        }
        self.content(line)
    }

    /// A content line as the block holds it: up to the opening fence's indentation removed.
    pub fn content<'a>(&self, line: &'a str) -> &'a str {
        let strip = indent_of(line).min(self.indent);
        &line[strip..]
    }
}

/// A fenced code block of a message, as data: the code pane lists these, copy and save write
/// `text()`. (The renderer keeps its own copy, with highlighting, found the same way.)
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Code {
    pub lang: String,
    /// Complete lines only.
    pub source: String,
    /// The unfinished last line while streaming.
    pub partial: String,
    pub complete: bool,
    /// Which transcript entry it belongs to.
    pub message: usize,
}

impl Code {
    /// The full text (what copy and save write).
    pub fn text(&self) -> String {
        let mut s = self.source.clone();
        s.push_str(&self.partial);
        s
    }

    pub fn label(&self) -> &str {
        if self.lang.is_empty() {
            "text"
        } else {
            &self.lang
        }
    }
}

/// Follows a message's text as it streams, keeping its code blocks in a list (the same blocks,
/// in the same order, as the streaming renderer finds).
#[derive(Debug, Default, Clone)]
pub struct Tracker {
    line: String,
    /// The fence open now and its block's index in the list.
    open: Option<(Fence, usize)>,
}

impl Tracker {
    /// Appends streamed text; new blocks go onto `blocks`, tagged with `message`.
    pub fn push(&mut self, text: &str, blocks: &mut Vec<Code>, message: usize) {
        let mut rest = text;
        while let Some(i) = rest.find('\n') {
            self.line.push_str(&rest[..i]);
            let line = std::mem::take(&mut self.line);
            self.complete_line(&line, blocks, message);
            rest = &rest[i + 1..];
        }
        self.line.push_str(rest);
        if let Some((f, idx)) = &self.open {
            blocks[*idx].partial = f.partial(&self.line).to_string();
        }
    }

    /// The message ended: whatever is unfinished is final.
    pub fn finish(&mut self, blocks: &mut Vec<Code>, message: usize) {
        if !self.line.is_empty() {
            // The last line may itself open a fence ("```rust" with nothing after it).
            let line = std::mem::take(&mut self.line);
            self.complete_line(&line, blocks, message);
        }
        if let Some((_, idx)) = self.open.take() {
            blocks[idx].complete = true;
            blocks[idx].partial.clear();
        }
    }

    fn complete_line(&mut self, line: &str, blocks: &mut Vec<Code>, message: usize) {
        if self.open.is_none() {
            if let Some(f) = open(line) {
                blocks.push(Code {
                    lang: f.lang.clone(),
                    message,
                    ..Code::default()
                });
                self.open = Some((f, blocks.len() - 1));
            }
            return;
        }
        self.complete_line_in(line, blocks);
    }

    /// A complete line inside the open block.
    fn complete_line_in(&mut self, line: &str, blocks: &mut [Code]) {
        let Some((f, idx)) = &self.open else {
            return;
        };
        let b = &mut blocks[*idx];
        b.partial.clear();
        if f.closes(line) {
            b.complete = true;
            self.open = None;
        } else {
            b.source.push_str(f.content(line));
            b.source.push('\n');
        }
    }
}

/// A Markdown text in pieces: prose, and fenced code.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Piece {
    Text(String),
    Code { lang: String, code: String },
}

/// Splits `markdown` into prose and fenced code blocks, in order.
pub fn split(markdown: &str) -> Vec<Piece> {
    let mut out = Vec::new();
    let mut text = String::new();
    let mut open: Option<(Fence, String)> = None;
    for line in markdown.split_inclusive('\n') {
        let bare = line.strip_suffix('\n').unwrap_or(line);
        let bare = bare.strip_suffix('\r').unwrap_or(bare);
        match &mut open {
            Some((f, code)) => {
                if f.closes(bare) {
                    let (f, code) = open.take().expect("open fence");
                    out.push(Piece::Code { lang: f.lang, code });
                } else {
                    code.push_str(f.content(bare));
                    code.push('\n');
                }
            }
            None => match self::open(bare) {
                Some(f) => {
                    if !text.is_empty() {
                        out.push(Piece::Text(std::mem::take(&mut text)));
                    }
                    open = Some((f, String::new()));
                }
                None => text.push_str(line),
            },
        }
    }
    if let Some((f, code)) = open {
        out.push(Piece::Code { lang: f.lang, code });
    }
    if !text.is_empty() {
        out.push(Piece::Text(text));
    }
    out
}

/// The fenced code blocks of `markdown`: `(language, code)`.
pub fn blocks(markdown: &str) -> Vec<(String, String)> {
    split(markdown)
        .into_iter()
        .filter_map(|p| match p {
            Piece::Code { lang, code } => Some((lang, code)),
            Piece::Text(_) => None,
        })
        .collect()
}

#[cfg(test)]
mod tests {
    #[test]
    fn a_partial_line_that_may_open_a_fence() {
        for p in ["`", "``", "```", "```ru", "  ~~", "~~~ python x"] {
            assert!(may_open(p), "{p:?}");
        }
        for p in ["`code` is", "`a", "``x", "    ```", "text `", "```a`b"] {
            assert!(!may_open(p), "{p:?}");
        }
    }

    use super::*;

    #[test]
    fn an_indented_closing_fence_inside_a_block_is_content() {
        let md = "```rust\nfn a() {}\n    ```\nfn b() {}\n```\nafter\n";
        assert_eq!(
            split(md),
            [
                Piece::Code {
                    lang: "rust".into(),
                    code: "fn a() {}\n    ```\nfn b() {}\n".into()
                },
                Piece::Text("after\n".into()),
            ]
        );
    }

    #[test]
    fn closing_fences_match_their_opening() {
        // A shorter fence or the other character does not close; a longer one does.
        let md = "````md\n```\n~~~\n`````\ntext\n";
        assert_eq!(blocks(md), [("md".to_string(), "```\n~~~\n".to_string())]);
        // Up to three spaces of indentation open and close; content loses the fence's indent.
        let md = "  ```py\n  x = 1\n    y = 2\n   ```\n";
        assert_eq!(
            blocks(md),
            [("py".to_string(), "x = 1\n  y = 2\n".to_string())]
        );
        // Four spaces do not open a fence; a backtick in the info string does not either.
        assert!(blocks("    ```\ncode\n").is_empty());
        assert!(blocks("``` a`b\n").is_empty());
        // Text after a closing fence means it is not one.
        assert_eq!(blocks("```\n``` x\n").len(), 1);
    }

    /// Issue 15 (20): the closing fence, arriving a backtick at a time, never shows as code;
    /// a line that turns out not to close shows once it is more than fence characters.
    #[test]
    fn a_partial_closing_fence_is_held_back() {
        let (mut blocks, mut t) = (Vec::new(), Tracker::default());
        t.push("```py\nx = 1\n", &mut blocks, 0);
        for (piece, shown) in [("`", ""), ("`", ""), ("`", "")] {
            t.push(piece, &mut blocks, 0);
            assert_eq!(blocks[0].partial, shown);
            assert_eq!(blocks[0].text(), "x = 1\n");
        }
        t.push("\n", &mut blocks, 0);
        assert!(blocks[0].complete);
        let (mut blocks, mut t) = (Vec::new(), Tracker::default());
        t.push("```md\n``", &mut blocks, 0);
        assert_eq!(blocks[0].partial, "");
        t.push(" x", &mut blocks, 0);
        assert_eq!(blocks[0].partial, "`` x");
    }

    #[test]
    fn the_tracker_streams_the_blocks_split_finds() {
        let md = "a\n```rust\nfn a() {}\n    ```\n```\n~~~\nopen";
        let mut blocks = Vec::new();
        let mut t = Tracker::default();
        for piece in md.as_bytes().chunks(2) {
            t.push(std::str::from_utf8(piece).unwrap(), &mut blocks, 7);
        }
        assert_eq!(
            blocks[1].partial, "open",
            "the unfinished line while streaming"
        );
        t.finish(&mut blocks, 7);
        let got: Vec<(String, String)> =
            blocks.iter().map(|b| (b.lang.clone(), b.text())).collect();
        assert_eq!(got, super::blocks(md));
        assert!(blocks.iter().all(|b| b.complete && b.message == 7));
        // A message that ends on an opening fence has an empty block.
        let (mut blocks, mut t) = (Vec::new(), Tracker::default());
        t.push("Here:\n\n```rust", &mut blocks, 0);
        t.finish(&mut blocks, 0);
        assert_eq!(blocks.len(), 1);
        assert!(blocks[0].complete && blocks[0].source.is_empty());
    }

    #[test]
    fn an_open_fence_runs_to_the_end() {
        assert_eq!(
            blocks("say\n~~~sh\nls\n"),
            [("sh".to_string(), "ls\n".to_string())]
        );
        assert_eq!(split("a\r\n```\r\nb\r\n```\r\n").len(), 2);
    }
}
