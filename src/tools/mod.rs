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
    seen: HashMap<PathBuf, Seen>,
}

impl Tools {
    pub fn new(ws: Workspace) -> Tools {
        Tools {
            ws,
            limits: Limits::default(),
            seen: HashMap::new(),
        }
    }
}

/// `line` cut to `max` characters with an ellipsis.
fn cut(line: &str, max: usize) -> std::borrow::Cow<'_, str> {
    match line.char_indices().nth(max) {
        Some((i, _)) => format!("{}…", &line[..i]).into(),
        None => line.into(),
    }
}
