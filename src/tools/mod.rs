//! Workspace I/O for the agent: every path confined to the workspace root (`workspace.rs`),
//! reading, listing and finding files (`fs.rs`), searching them (`grep.rs`), editing and
//! writing them (`edit.rs`), running commands (`shell.rs`), and keeping what they change
//! for a rewind (`checkpoint.rs`). No terminal, no network. A tool's error is a message for the
//! model: it says what went wrong and how to go on.

pub mod calls;
pub mod checkpoint;
pub mod edit;
pub mod fs;
pub mod grep;
pub mod shell;
pub mod workspace;

use std::collections::HashMap;
use std::hash::{Hash, Hasher};
use std::path::{Path, PathBuf};
use std::time::SystemTime;

pub use workspace::Workspace;

/// A tool call that could not be carried out; `message` goes back to the model.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ToolError {
    pub message: String,
}

impl ToolError {
    pub fn new(message: impl Into<String>) -> Self {
        ToolError {
            message: message.into(),
        }
    }
}

impl std::fmt::Display for ToolError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.message)
    }
}

impl std::error::Error for ToolError {}

/// How much a tool hands back: the model's context and the screen stay bounded.
#[derive(Debug, Clone)]
pub struct Limits {
    /// Files larger than this are not read.
    pub file_bytes: u64,
    /// Lines `read_file` returns when not asked for a range.
    pub read_lines: usize,
    /// Characters of one line shown (the rest is cut with `…`).
    pub line_chars: usize,
    pub list_entries: usize,
    pub glob_matches: usize,
    pub grep_matches: usize,
}

impl Default for Limits {
    fn default() -> Self {
        Limits {
            file_bytes: 4 << 20,
            read_lines: 2000,
            line_chars: 2000,
            list_entries: 1000,
            glob_matches: 500,
            grep_matches: 200,
        }
    }
}

/// A file as `read_file` saw it: an edit is made only while the disk still holds the same.
#[derive(Debug, Clone, PartialEq, Eq)]
struct Seen {
    len: u64,
    modified: Option<SystemTime>,
    hash: u64,
}

impl Seen {
    fn of(path: &Path, bytes: &[u8]) -> Seen {
        let meta = std::fs::metadata(path).ok();
        let mut h = std::collections::hash_map::DefaultHasher::new();
        bytes.hash(&mut h);
        Seen {
            len: bytes.len() as u64,
            modified: meta.and_then(|m| m.modified().ok()),
            hash: h.finish(),
        }
    }
}

/// The tools of one session over one workspace, with what has been read in it.
pub struct Tools {
    pub ws: Workspace,
    pub limits: Limits,
    /// Where results too long to send whole are kept (`spill`): `read_file` reads them as
    /// `@output/NAME`. Outside the workspace, beside the session file.
    pub outputs: Option<PathBuf>,
    seen: HashMap<PathBuf, Seen>,
}

/// How a spilled result is named to the model.
pub const OUTPUT_PREFIX: &str = "@output/";

/// Most bytes of a saved output `read_file` reads (a command's output is kept up to this).
pub const OUTPUT_BYTES: u64 = 64 << 20;

/// Most bytes of one result the model is sent: the head and the tail, the middle saved.
pub const RESULT_BYTES: usize = 32 * 1024;

impl Tools {
    pub fn new(ws: Workspace) -> Tools {
        Tools {
            ws,
            limits: Limits::default(),
            outputs: None,
            seen: HashMap::new(),
        }
    }

    /// Forgets what was read (after a rewind put other contents in place): files are read
    /// again before they are edited.
    pub fn forget_reads(&mut self) {
        self.seen.clear();
    }

    /// The file a spilled result `path` (`@output/NAME`) names, if it is one.
    fn output_file(&self, path: &str) -> Option<Result<PathBuf, ToolError>> {
        let name = path.strip_prefix(OUTPUT_PREFIX)?;
        let ok = !name.is_empty()
            && !name.starts_with('.')
            && name
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || "-_.".contains(c));
        Some(match (&self.outputs, ok) {
            (Some(dir), true) if dir.join(name).is_file() => Ok(dir.join(name)),
            _ => Err(ToolError::new(format!(
                "{path}: no such saved output (the names come in results that were cut)"
            ))),
        })
    }

    /// A result for the model, at most `RESULT_BYTES`: a longer one keeps its head and its
    /// tail, and the whole text goes to a file under `outputs` that `read_file` can read.
    pub fn bound(&self, name: &str, text: String) -> String {
        if text.len() <= RESULT_BYTES {
            return text;
        }
        let half = RESULT_BYTES / 2;
        let head_end = floor_char(&text, half);
        let tail_start = ceil_char(&text, text.len() - half);
        let omitted = tail_start - head_end;
        let saved = self.outputs.as_ref().and_then(|dir| {
            crate::session::store::private_dir(dir).ok()?;
            let file = format!("{name}.txt");
            std::fs::write(dir.join(&file), &text).ok()?;
            Some(format!("{OUTPUT_PREFIX}{file}"))
        });
        let note = match saved {
            Some(p) => format!(
                "\n… {omitted} bytes omitted; the whole output is in {p} (read_file with offset/limit) …\n"
            ),
            None => format!("\n… {omitted} bytes omitted …\n"),
        };
        format!("{}{note}{}", &text[..head_end], &text[tail_start..])
    }
}

fn floor_char(s: &str, mut i: usize) -> usize {
    while !s.is_char_boundary(i) {
        i -= 1;
    }
    i
}

fn ceil_char(s: &str, mut i: usize) -> usize {
    while !s.is_char_boundary(i) {
        i += 1;
    }
    i
}

/// `line` cut to `max` characters with an ellipsis (an owned copy).
pub fn cut_line(line: &str, max: usize) -> String {
    cut(line, max).into_owned()
}

/// `line` cut to `max` characters with an ellipsis.
fn cut(line: &str, max: usize) -> std::borrow::Cow<'_, str> {
    match line.char_indices().nth(max) {
        Some((i, _)) => format!("{}…", &line[..i]).into(),
        None => line.into(),
    }
}
