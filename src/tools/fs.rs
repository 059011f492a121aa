//! `read_file`, `list_dir` and `glob`.

use super::{cut, Seen, ToolError, Tools, OUTPUT_BYTES};

/// Bytes looked at for a NUL byte: a file with one is not text.
const BINARY_SNIFF: usize = 8192;

impl Tools {
    /// Lines `offset..offset+limit` (1-based; default: from the start, up to the limit) of a
    /// text file, numbered. The file counts as read: `edit_file` may change it from now on.
    pub fn read_file(
        &mut self,
        path: &str,
        offset: Option<usize>,
        limit: Option<usize>,
    ) -> Result<String, ToolError> {
        let (real, cap) = match self.output_file(path) {
            // A saved output is read in ranges, whatever its size.
            Some(p) => (p?, OUTPUT_BYTES),
            None => (self.ws.existing(path)?, self.limits.file_bytes),
        };
        let meta = std::fs::metadata(&real).map_err(|e| ToolError::new(format!("{path}: {e}")))?;
        if meta.is_dir() {
            return Err(ToolError::new(format!(
                "{path} is a directory: list_dir shows what is in it"
            )));
        }
        if !meta.is_file() {
            return Err(ToolError::new(format!(
                "{path} is not a regular file (a device, FIFO or socket): not read"
            )));
        }
        if meta.len() > cap {
            return Err(ToolError::new(format!(
                "{path} is {} KiB, more than the {} KiB a read may take: grep it for what you need",
                meta.len().div_ceil(1024),
                cap / 1024
            )));
        }
        let bytes = std::fs::read(&real).map_err(|e| ToolError::new(format!("{path}: {e}")))?;
        if bytes[..bytes.len().min(BINARY_SNIFF)].contains(&0) {
            return Err(ToolError::new(format!(
                "{path} is a binary file ({} bytes): not shown",
                bytes.len()
            )));
        }
        let text = String::from_utf8(bytes)
            .map_err(|_| ToolError::new(format!("{path} is not UTF-8 text: not shown")))?;
        self.seen
            .insert(real.clone(), Seen::of(&real, text.as_bytes()));
        let lines: Vec<&str> = text.lines().collect();
        let total = lines.len();
        let start = offset.unwrap_or(1).max(1);
        if total == 0 {
            return Ok(format!("({path} is empty)"));
        }
        if start > total {
            return Err(ToolError::new(format!(
                "{path} has {total} lines: offset {start} is past its end"
            )));
        }
        let n = limit.unwrap_or(self.limits.read_lines).max(1);
        let end = (start - 1 + n).min(total);
        let width = end.to_string().len();
        let mut out = String::new();
        for (i, line) in lines[start - 1..end].iter().enumerate() {
            let line = line.strip_suffix('\r').unwrap_or(line);
            out.push_str(&format!(
                "{:>width$}\t{}\n",
                start + i,
                cut(line, self.limits.line_chars)
            ));
        }
        if end < total || start > 1 {
            out.push_str(&format!("(lines {start}–{end} of {total}"));
            if end < total {
                out.push_str(&format!("; offset={} reads on", end + 1));
            }
            out.push_str(")\n");
        }
        Ok(out)
    }

    /// The entries of a directory: directories first (with a `/`), then files with their
    /// sizes, each sorted by name.
    pub fn list_dir(&self, path: &str) -> Result<String, ToolError> {
        let real = self.ws.existing(path)?;
        if !real.is_dir() {
            return Err(ToolError::new(format!(
                "{path} is a file: read_file shows it"
            )));
        }
        let mut dirs = Vec::new();
        let mut files = Vec::new();
        let rd = std::fs::read_dir(&real).map_err(|e| ToolError::new(format!("{path}: {e}")))?;
        for e in rd.flatten() {
            let name = e.file_name().to_string_lossy().into_owned();
            match e.file_type() {
                Ok(t) if t.is_dir() => dirs.push(format!("{name}/")),
                Ok(t) if t.is_symlink() => files.push(format!("{name} (symlink)")),
                _ => {
                    let size = e.metadata().map(|m| m.len()).unwrap_or(0);
                    files.push(format!("{name} ({size} bytes)"));
                }
            }
        }
        dirs.sort();
        files.sort();
        let all: Vec<String> = dirs.into_iter().chain(files).collect();
        if all.is_empty() {
            return Ok(format!("({} is empty)", self.ws.display(&real)));
        }
        let n = all.len();
        let mut out = all
            .into_iter()
            .take(self.limits.list_entries)
            .collect::<Vec<_>>()
            .join("\n");
        out.push('\n');
        if n > self.limits.list_entries {
            out.push_str(&format!(
                "(… {} more entries not shown: glob narrows it)\n",
                n - self.limits.list_entries
            ));
        }
        Ok(out)
    }

    /// Files under the workspace whose relative path matches `pattern` (`src/**/*.rs`), in
    /// path order, skipping what `.gitignore` (and the like) ignores.
    pub fn glob(&self, pattern: &str) -> Result<String, ToolError> {
        let glob = globset::GlobBuilder::new(pattern)
            .literal_separator(true)
            .build()
            .map_err(|e| ToolError::new(format!("glob {pattern:?}: {e}")))?
            .compile_matcher();
        let root = self.ws.root();
        let mut hits = Vec::new();
        for e in walker(root).build().flatten() {
            if !e.file_type().is_some_and(|t| t.is_file()) {
                continue;
            }
            let Ok(rel) = e.path().strip_prefix(root) else {
                continue;
            };
            if glob.is_match(rel) {
                hits.push(rel.to_string_lossy().into_owned());
            }
        }
        hits.sort();
        if hits.is_empty() {
            return Ok(format!("(no file matches {pattern})"));
        }
        let n = hits.len();
        let mut out = hits
            .into_iter()
            .take(self.limits.glob_matches)
            .collect::<Vec<_>>()
            .join("\n");
        out.push('\n');
        if n > self.limits.glob_matches {
            out.push_str(&format!(
                "(… {} more files not shown: narrow the pattern)\n",
                n - self.limits.glob_matches
            ));
        }
        Ok(out)
    }
}

/// A walk of the workspace as git would see it: `.gitignore`, `.ignore` and the global
/// excludes apply (in a git repository or not); hidden files are skipped.
/// The workspace's files as git sees them (`.gitignore` applies), relative, sorted, at most
/// `max` (the `@path` completion's list).
pub fn list_files(root: &std::path::Path, max: usize) -> Vec<String> {
    walker(root)
        .build()
        .flatten()
        .filter(|e| e.file_type().is_some_and(|t| t.is_file()))
        .filter_map(|e| {
            e.path()
                .strip_prefix(root)
                .ok()
                .map(|p| p.to_string_lossy().into_owned())
        })
        .take(max)
        .collect()
}

pub(super) fn walker(root: &std::path::Path) -> ignore::WalkBuilder {
    let mut w = ignore::WalkBuilder::new(root);
    w.require_git(false)
        .follow_links(false)
        .sort_by_file_name(|a, b| a.cmp(b));
    w
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::tools::Workspace;

    fn tools() -> (tempfile::TempDir, Tools) {
        let d = tempfile::tempdir().unwrap();
        std::fs::create_dir_all(d.path().join("src/deep")).unwrap();
        std::fs::write(
            d.path().join("src/a.rs"),
            (1..=30).map(|i| format!("line {i}\n")).collect::<String>(),
        )
        .unwrap();
        std::fs::write(d.path().join("src/deep/b.rs"), "fn b() {}\n").unwrap();
        std::fs::write(d.path().join("notes.md"), "# notes\r\nwindows line\r\n").unwrap();
        std::fs::write(d.path().join("blob.bin"), [0u8, 1, 2, 3]).unwrap();
        std::fs::create_dir_all(d.path().join("target")).unwrap();
        std::fs::write(d.path().join("target/out.rs"), "built").unwrap();
        std::fs::write(d.path().join(".gitignore"), "target/\n").unwrap();
        let t = Tools::new(Workspace::new(d.path()).unwrap());
        (d, t)
    }

    #[test]
    fn read_file_numbers_lines_takes_ranges_and_refuses_what_is_not_text() {
        let (_d, mut t) = tools();
        let all = t.read_file("src/a.rs", None, None).unwrap();
        assert!(all.starts_with(" 1\tline 1\n"), "{all}");
        assert!(all.contains("30\tline 30\n"));
        let part = t.read_file("src/a.rs", Some(10), Some(3)).unwrap();
        assert_eq!(
            part,
            "10\tline 10\n11\tline 11\n12\tline 12\n(lines 10–12 of 30; offset=13 reads on)\n"
        );
        assert!(t
            .read_file("src/a.rs", Some(31), None)
            .unwrap_err()
            .message
            .contains("past its end"));
        // Windows line endings are shown without the \r.
        assert_eq!(
            t.read_file("notes.md", None, None).unwrap(),
            "1\t# notes\n2\twindows line\n"
        );
        assert!(t
            .read_file("blob.bin", None, None)
            .unwrap_err()
            .message
            .contains("binary"));
        assert!(t
            .read_file("src", None, None)
            .unwrap_err()
            .message
            .contains("list_dir"));
        t.limits.file_bytes = 10;
        assert!(t
            .read_file("src/a.rs", None, None)
            .unwrap_err()
            .message
            .contains("grep it"));
    }

    #[test]
    fn list_dir_and_glob_see_the_workspace_as_git_does() {
        let (_d, t) = tools();
        let l = t.list_dir(".").unwrap();
        assert!(l.starts_with("src/\ntarget/\n"), "{l}");
        assert!(l.contains("notes.md (") && l.contains("bytes)"), "{l}");
        assert!(t
            .list_dir("notes.md")
            .unwrap_err()
            .message
            .contains("read_file"));
        assert_eq!(
            t.glob("**/*.rs").unwrap(),
            "src/a.rs\nsrc/deep/b.rs\n",
            "target/ is ignored"
        );
        assert_eq!(
            t.glob("src/*.rs").unwrap(),
            "src/a.rs\n",
            "* stays in one directory"
        );
        assert!(t.glob("*.py").unwrap().contains("no file matches"));
        assert!(t.glob("[").is_err());
    }
}
