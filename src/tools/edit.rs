//! `edit_file` (exact `old_string` → `new_string`) and `write_file` (new files; a whole file
//! replaced only when asked). An edit needs the file read in this session and unchanged on
//! disk since; every write is atomic (a temporary file renamed over the old one) and keeps the
//! file's line endings and permissions. Each returns the unified diff of what changed.

use std::io::Write;
use std::path::Path;

use super::{Seen, ToolError, Tools};

/// What a write did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Written {
    /// The path, relative to the workspace.
    pub path: String,
    pub created: bool,
    pub replacements: usize,
    /// Unified diff of the change (`--- a/PATH` / `+++ b/PATH`).
    pub diff: String,
}

impl Tools {
    /// Replaces `old` by `new` in the file: the one occurrence, or every one with
    /// `replace_all`.
    pub fn edit_file(
        &mut self,
        path: &str,
        old: &str,
        new: &str,
        replace_all: bool,
    ) -> Result<Written, ToolError> {
        let p = self.plan_edit(path, old, new, replace_all)?;
        self.commit(path, &p.real, &p.before, &p.after, false, p.replacements)
    }

    /// What `edit_file` would write, without writing it (the approval prompt's diff).
    pub fn plan_edit(
        &self,
        path: &str,
        old: &str,
        new: &str,
        replace_all: bool,
    ) -> Result<Planned, ToolError> {
        if old.is_empty() {
            return Err(ToolError::new(
                "old_string is empty: give the exact text to replace (write_file creates a file)",
            ));
        }
        if old == new {
            return Err(ToolError::new(
                "old_string and new_string are the same: nothing to do",
            ));
        }
        let real = self.ws.existing(path)?;
        let text = self.read_unchanged(path, &real)?;
        // A file with Windows line endings keeps them.
        let crlf = text.contains("\r\n");
        let (old, new) = if crlf && !old.contains('\r') {
            (old.replace('\n', "\r\n"), new.replace('\n', "\r\n"))
        } else {
            (old.to_string(), new.to_string())
        };
        let at: Vec<usize> = text.match_indices(&old).map(|(i, _)| i).collect();
        match at.len() {
            0 => {
                return Err(ToolError::new(format!(
                    "old_string was not found in {path}: read_file it again and copy the text exactly, whitespace and indentation included"
                )))
            }
            n if n > 1 && !replace_all => {
                let lines: Vec<String> = at
                    .iter()
                    .take(10)
                    .map(|i| (text[..*i].matches('\n').count() + 1).to_string())
                    .collect();
                return Err(ToolError::new(format!(
                    "{n} matches in {path} at lines {}{}: add surrounding lines to old_string so it matches once, or set replace_all",
                    lines.join(", "),
                    if n > 10 { ", …" } else { "" }
                )));
            }
            _ => {}
        }
        let after = if replace_all {
            text.replace(&old, &new)
        } else {
            text.replacen(&old, &new, 1)
        };
        Ok(Planned {
            real,
            before: text,
            after,
            replacements: at.len(),
        })
    }

    /// Writes `content` to a new file (directories made as needed), or replaces a whole
    /// existing one when `overwrite` is set — one read in this session, unchanged since.
    pub fn write_file(
        &mut self,
        path: &str,
        content: &str,
        overwrite: bool,
    ) -> Result<Written, ToolError> {
        let p = self.plan_write(path, content, overwrite)?;
        let created = !p.real.exists();
        if created {
            if let Some(dir) = p.real.parent() {
                std::fs::create_dir_all(dir).map_err(|e| ToolError::new(format!("{path}: {e}")))?;
            }
        }
        self.commit(path, &p.real, &p.before, content, created, 1)
    }

    /// What `write_file` would write, without writing it.
    pub fn plan_write(
        &self,
        path: &str,
        content: &str,
        overwrite: bool,
    ) -> Result<Planned, ToolError> {
        let real = self.ws.target(path)?;
        if real.is_dir() {
            return Err(ToolError::new(format!("{path} is a directory")));
        }
        let before = if real.exists() {
            if !overwrite {
                return Err(ToolError::new(format!(
                    "{path} exists: edit_file changes part of it; write_file with overwrite=true replaces it whole (read it first)"
                )));
            }
            self.read_unchanged(path, &real)?
        } else {
            String::new()
        };
        Ok(Planned {
            real,
            before,
            after: content.to_string(),
            replacements: 1,
        })
    }

    /// A planned change as a unified diff (`--- a/PATH` / `+++ b/PATH`).
    pub fn diff(&self, p: &Planned) -> String {
        diff(&self.ws.display(&p.real), &p.before, &p.after)
    }

    /// The file's text, provided it was read in this session and is as it was then.
    fn read_unchanged(&self, path: &str, real: &Path) -> Result<String, ToolError> {
        let Some(seen) = self.seen.get(real) else {
            return Err(ToolError::new(format!(
                "read_file {path} first: a file is changed only after it was read in this session"
            )));
        };
        let bytes = std::fs::read(real).map_err(|e| ToolError::new(format!("{path}: {e}")))?;
        if Seen::of(real, &bytes) != *seen {
            return Err(ToolError::new(format!(
                "{path} changed on disk since it was read: read_file it again, then edit"
            )));
        }
        String::from_utf8(bytes).map_err(|_| ToolError::new(format!("{path} is not UTF-8 text")))
    }

    /// Writes `after` atomically in place of `before` and remembers it as read.
    fn commit(
        &mut self,
        path: &str,
        real: &Path,
        before: &str,
        after: &str,
        created: bool,
        replacements: usize,
    ) -> Result<Written, ToolError> {
        write_atomic(real, after.as_bytes()).map_err(|e| ToolError::new(format!("{path}: {e}")))?;
        self.seen
            .insert(real.to_path_buf(), Seen::of(real, after.as_bytes()));
        let shown = self.ws.display(real);
        let diff = diff(&shown, before, after);
        Ok(Written {
            path: shown,
            created,
            replacements,
            diff,
        })
    }
}

/// What an edit or a write would do: the file, its text now and after.
#[derive(Debug, Clone)]
pub struct Planned {
    pub real: std::path::PathBuf,
    pub before: String,
    pub after: String,
    pub replacements: usize,
}

fn diff(shown: &str, before: &str, after: &str) -> String {
    similar::TextDiff::from_lines(before, after)
        .unified_diff()
        .context_radius(3)
        .header(&format!("a/{shown}"), &format!("b/{shown}"))
        .to_string()
}

/// `bytes` to `path` through a temporary file beside it, renamed over it: a crash leaves the
/// old file or the new one, never half of it. An existing file's permissions are kept.
fn write_atomic(path: &Path, bytes: &[u8]) -> std::io::Result<()> {
    let dir = path.parent().unwrap_or(Path::new("."));
    let name = path
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    let tmp = dir.join(format!(".{name}.grokpair-{:08x}", fastrand::u32(..)));
    let result = (|| {
        let mut f = std::fs::OpenOptions::new()
            .write(true)
            .create_new(true)
            .open(&tmp)?;
        f.write_all(bytes)?;
        f.sync_all()?;
        if let Ok(m) = std::fs::metadata(path) {
            std::fs::set_permissions(&tmp, m.permissions())?;
        }
        std::fs::rename(&tmp, path)
    })();
    if result.is_err() {
        let _ = std::fs::remove_file(&tmp);
    }
    result
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::tools::Workspace;

    fn tools(files: &[(&str, &str)]) -> (tempfile::TempDir, Tools) {
        let d = tempfile::tempdir().unwrap();
        for (p, text) in files {
            let p = d.path().join(p);
            std::fs::create_dir_all(p.parent().unwrap()).unwrap();
            std::fs::write(p, text).unwrap();
        }
        let t = Tools::new(Workspace::new(d.path()).unwrap());
        (d, t)
    }

    #[test]
    fn an_edit_needs_the_file_read_and_unchanged_and_one_clear_match() {
        let (d, mut t) = tools(&[("a.rs", "fn a() {}\nfn b() {}\nfn a() {}\n")]);
        let e = t.edit_file("a.rs", "fn b", "fn c", false).unwrap_err();
        assert!(
            e.message.starts_with("read_file a.rs first"),
            "{}",
            e.message
        );
        t.read_file("a.rs", None, None).unwrap();
        let e = t
            .edit_file("a.rs", "fn a() {}", "fn z() {}", false)
            .unwrap_err();
        assert_eq!(
            e.message,
            "2 matches in a.rs at lines 1, 3: add surrounding lines to old_string so it matches once, or set replace_all"
        );
        let e = t.edit_file("a.rs", "fn q", "fn r", false).unwrap_err();
        assert!(e.message.contains("was not found"), "{}", e.message);
        let w = t.edit_file("a.rs", "fn b", "fn c", false).unwrap();
        assert_eq!(w.replacements, 1);
        assert!(w.diff.contains("-fn b() {}\n+fn c() {}\n"), "{}", w.diff);
        assert!(w.diff.starts_with("--- a/a.rs\n+++ b/a.rs\n"), "{}", w.diff);
        // Its own write counts as read: a second edit goes through.
        let w = t.edit_file("a.rs", "fn a() {}", "fn z() {}", true).unwrap();
        assert_eq!(w.replacements, 2);
        assert_eq!(
            std::fs::read_to_string(d.path().join("a.rs")).unwrap(),
            "fn z() {}\nfn c() {}\nfn z() {}\n"
        );
        // Changed behind its back: refused until read again.
        std::fs::write(d.path().join("a.rs"), "fn z() {}\nchanged\n").unwrap();
        let e = t.edit_file("a.rs", "changed", "x", false).unwrap_err();
        assert!(e.message.contains("changed on disk"), "{}", e.message);
        // No temporary file is left behind.
        let names: Vec<_> = std::fs::read_dir(d.path()).unwrap().flatten().collect();
        assert_eq!(names.len(), 1);
    }

    #[cfg(unix)]
    #[test]
    fn line_endings_and_permissions_are_kept() {
        use std::os::unix::fs::PermissionsExt;
        let (d, mut t) = tools(&[("run.sh", "#!/bin/sh\r\necho one\r\necho two\r\n")]);
        let p = d.path().join("run.sh");
        std::fs::set_permissions(&p, std::fs::Permissions::from_mode(0o755)).unwrap();
        t.read_file("run.sh", None, None).unwrap();
        t.edit_file("run.sh", "echo one\necho two", "echo 1\necho 2", false)
            .unwrap();
        assert_eq!(
            std::fs::read_to_string(&p).unwrap(),
            "#!/bin/sh\r\necho 1\r\necho 2\r\n"
        );
        assert_eq!(
            std::fs::metadata(&p).unwrap().permissions().mode() & 0o777,
            0o755
        );
    }

    #[test]
    fn write_file_creates_and_replaces_only_when_asked() {
        let (d, mut t) = tools(&[("old.txt", "before\n")]);
        let w = t.write_file("new/dir/x.rs", "fn x() {}\n", false).unwrap();
        assert!(w.created);
        assert_eq!(w.path, "new/dir/x.rs");
        assert_eq!(
            std::fs::read_to_string(d.path().join("new/dir/x.rs")).unwrap(),
            "fn x() {}\n"
        );
        let e = t.write_file("old.txt", "after\n", false).unwrap_err();
        assert!(e.message.contains("exists: edit_file"), "{}", e.message);
        let e = t.write_file("old.txt", "after\n", true).unwrap_err();
        assert!(
            e.message.starts_with("read_file old.txt first"),
            "{}",
            e.message
        );
        t.read_file("old.txt", None, None).unwrap();
        let w = t.write_file("old.txt", "after\n", true).unwrap();
        assert!(
            !w.created && w.diff.contains("-before\n+after\n"),
            "{}",
            w.diff
        );
        assert!(t.write_file("../escape.txt", "x", false).is_err());
        assert!(t
            .write_file("new", "x", false)
            .unwrap_err()
            .message
            .contains("directory"));
    }
}
