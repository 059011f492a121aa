//! `grep`: a regex over the workspace's files (gitignore-aware), with context lines and a cap.

use grep_regex::RegexMatcherBuilder;
use grep_searcher::{BinaryDetection, Searcher, SearcherBuilder, Sink, SinkContext, SinkMatch};

use super::{cut, ToolError, Tools};

/// What to search for and where.
#[derive(Debug, Clone, Default)]
pub struct GrepArgs {
    pub pattern: String,
    /// A file or directory inside the workspace (default: all of it).
    pub path: Option<String>,
    /// Only files whose relative path matches this glob (`*.rs`, `src/**/*.py`).
    pub glob: Option<String>,
    /// Lines of context before and after each match.
    pub context: usize,
    pub case_insensitive: bool,
}

struct Collect<'a> {
    file: String,
    out: &'a mut Vec<String>,
    matches: &'a mut usize,
    max: usize,
    line_chars: usize,
    /// With context lines, groups that do not touch are set apart by `--`.
    separate: bool,
    last: Option<u64>,
}

impl Collect<'_> {
    fn line(&mut self, n: Option<u64>, bytes: &[u8], sep: char) {
        let n = n.unwrap_or(0);
        if self.separate && self.last.is_some_and(|l| n > l + 1) {
            self.out.push("--".into());
        }
        self.last = Some(n);
        let text = String::from_utf8_lossy(bytes);
        let text = text.trim_end_matches(['\n', '\r']);
        self.out.push(format!(
            "{}{sep}{n}{sep}{}",
            self.file,
            cut(text, self.line_chars)
        ));
    }
}

impl Sink for Collect<'_> {
    type Error = std::io::Error;

    fn matched(&mut self, _: &Searcher, m: &SinkMatch<'_>) -> Result<bool, Self::Error> {
        *self.matches += 1;
        if *self.matches > self.max {
            return Ok(false);
        }
        self.line(m.line_number(), m.bytes(), ':');
        Ok(true)
    }

    fn context(&mut self, _: &Searcher, c: &SinkContext<'_>) -> Result<bool, Self::Error> {
        if *self.matches < self.max {
            self.line(c.line_number(), c.bytes(), '-');
        }
        Ok(true)
    }
}

impl Tools {
    /// Every line matching the regex, as `path:line:text` (context as `path-line-text`, groups
    /// apart separated by `--`), in path order, at most `limits.grep_matches` of them.
    pub fn grep(&self, a: &GrepArgs) -> Result<String, ToolError> {
        let matcher = RegexMatcherBuilder::new()
            .case_insensitive(a.case_insensitive)
            .build(&a.pattern)
            .map_err(|e| ToolError::new(format!("grep pattern {:?}: {e}", a.pattern)))?;
        let glob = match &a.glob {
            Some(g) => Some(
                globset::GlobBuilder::new(g)
                    .literal_separator(false)
                    .build()
                    .map_err(|e| ToolError::new(format!("glob {g:?}: {e}")))?
                    .compile_matcher(),
            ),
            None => None,
        };
        let start = match &a.path {
            Some(p) => self.ws.existing(p)?,
            None => self.ws.root().to_path_buf(),
        };
        let mut searcher = SearcherBuilder::new()
            .line_number(true)
            .before_context(a.context)
            .after_context(a.context)
            .binary_detection(BinaryDetection::quit(0))
            .build();
        let mut out = Vec::new();
        let mut matches = 0usize;
        let max = self.limits.grep_matches;
        for e in super::fs::walker(&start).build().flatten() {
            if !e.file_type().is_some_and(|t| t.is_file()) {
                continue;
            }
            let rel = self.ws.display(e.path());
            if let Some(g) = &glob {
                let name = e.path().file_name().map(std::path::Path::new);
                if !g.is_match(&rel) && !name.is_some_and(|n| g.is_match(n)) {
                    continue;
                }
            }
            let before = out.len();
            let mut sink = Collect {
                file: rel,
                out: &mut out,
                matches: &mut matches,
                max,
                line_chars: self.limits.line_chars,
                separate: a.context > 0,
                last: None,
            };
            // An unreadable file is skipped, as grep does.
            let _ = searcher.search_path(&matcher, e.path(), &mut sink);
            if out.len() > before && a.context > 0 && before > 0 {
                out.insert(before, "--".into());
            }
            if matches > max {
                break;
            }
        }
        if matches == 0 {
            return Ok(format!("(no match for {:?})", a.pattern));
        }
        let mut text = out.join("\n");
        text.push('\n');
        if matches > max {
            text.push_str(&format!(
                "(stopped after {max} matches: narrow the pattern, the path or the glob)\n"
            ));
        }
        Ok(text)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::tools::Workspace;

    #[test]
    fn matches_with_context_in_path_order_skipping_ignored_and_binary_files() {
        let d = tempfile::tempdir().unwrap();
        std::fs::create_dir_all(d.path().join("src")).unwrap();
        std::fs::write(
            d.path().join("src/a.rs"),
            "fn one() {}\nfn two() {}\nlet x = 1;\nlet y = 2;\nfn three() {}\n",
        )
        .unwrap();
        std::fs::write(d.path().join("src/b.py"), "def one():\n    pass\n").unwrap();
        std::fs::write(d.path().join("ignored.rs"), "fn one() {}\n").unwrap();
        std::fs::write(d.path().join(".gitignore"), "ignored.rs\n").unwrap();
        std::fs::write(d.path().join("blob"), b"fn one\0\x01").unwrap();
        let t = Tools::new(Workspace::new(d.path()).unwrap());
        let g = |pattern: &str, context: usize, glob: Option<&str>| {
            t.grep(&GrepArgs {
                pattern: pattern.into(),
                context,
                glob: glob.map(str::to_string),
                ..GrepArgs::default()
            })
        };
        assert_eq!(
            g(r"fn (one|three)", 0, None).unwrap(),
            "src/a.rs:1:fn one() {}\nsrc/a.rs:5:fn three() {}\n"
        );
        assert_eq!(
            g("three", 1, None).unwrap(),
            "src/a.rs-4-let y = 2;\nsrc/a.rs:5:fn three() {}\n"
        );
        assert_eq!(
            g("one", 0, Some("*.py")).unwrap(),
            "src/b.py:1:def one():\n"
        );
        assert!(g("nothing here", 0, None).unwrap().contains("no match"));
        assert!(g("(", 0, None)
            .unwrap_err()
            .message
            .contains("grep pattern"));
        let mut t = t;
        t.limits.grep_matches = 1;
        let capped = t
            .grep(&GrepArgs {
                pattern: "fn".into(),
                ..GrepArgs::default()
            })
            .unwrap();
        assert!(capped.starts_with("src/a.rs:1:fn one() {}\n"), "{capped}");
        assert!(capped.contains("stopped after 1 matches"), "{capped}");
    }
}
