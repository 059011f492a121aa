//! `@path` in a message: the file is attached to it (read by the runtime, confined to the
//! workspace), and Tab completes the path fuzzily from the workspace's files (gitignore-aware,
//! listed by the runtime once).

use super::{commands, App, Effect};

/// The workspace files completion chooses from, at most this many.
pub const LIST_MAX: usize = 20_000;

/// The paths a message names with `@` (a word that starts with it; trailing punctuation is
/// not part of the path), each once, in order.
pub fn mentions(text: &str) -> Vec<String> {
    let mut out: Vec<String> = Vec::new();
    for w in text.split_whitespace() {
        let Some(p) = w.strip_prefix('@') else {
            continue;
        };
        let p = p.trim_end_matches([',', '.', ';', ':', ')', '!', '?', '"', '\'']);
        if p.is_empty() || p.contains('@') || out.iter().any(|o| o == p) {
            continue;
        }
        out.push(p.to_string());
    }
    out
}

/// How well `query` matches `path` as a subsequence (case-insensitive): consecutive
/// characters and matches at the start of a name score more; a shorter path wins a tie.
/// None: not every character of the query is there, in order.
pub fn score(query: &str, path: &str) -> Option<i64> {
    let q: Vec<char> = query.to_lowercase().chars().collect();
    let p: Vec<char> = path.to_lowercase().chars().collect();
    let (mut qi, mut s, mut run) = (0usize, 0i64, 0i64);
    for (i, c) in p.iter().enumerate() {
        if qi < q.len() && *c == q[qi] {
            run += 1;
            s += 1 + run * 2;
            if i == 0 || matches!(p[i - 1], '/' | '_' | '-' | '.') {
                s += 6;
            }
            qi += 1;
        } else {
            run = 0;
        }
    }
    (qi == q.len()).then(|| s * 100 - p.len() as i64)
}

/// The best `n` matches for `query`, best first.
pub fn best<'a>(query: &str, files: &'a [String], n: usize) -> Vec<&'a str> {
    let mut scored: Vec<(i64, &str)> = files
        .iter()
        .filter_map(|f| score(query, f).map(|s| (s, f.as_str())))
        .collect();
    scored.sort_by(|a, b| b.0.cmp(&a.0).then(a.1.cmp(b.1)));
    scored.into_iter().take(n).map(|(_, f)| f).collect()
}

impl App {
    /// Tab in the message box with an `@word` at its end: the word completed to the best
    /// matching file (the next ones shown). None: nothing to complete.
    pub(super) fn complete_mention(&mut self) -> Option<Vec<Effect>> {
        let text = self.input_text();
        let last = text.rsplit(char::is_whitespace).next()?;
        // `@word` anywhere, or the path after `/file` (the same completion).
        let (query, at) = match last.strip_prefix('@') {
            Some(q) => (q, "@"),
            None if text.starts_with("/file ") && !last.starts_with('/') => (last, ""),
            None => return None,
        };
        let Some(files) = &self.files else {
            // Listed once, off the UI thread; the completion follows.
            self.complete_pending = true;
            self.flash = Some("listing the workspace's files…".into());
            return Some(vec![Effect::ListFiles]);
        };
        let found = best(query, files, 6);
        match found.first() {
            None => self.flash = Some(format!("no file matches @{query}")),
            Some(top) => {
                let done = format!("{}{at}{top} ", &text[..text.len() - last.len()]);
                if found.len() > 1 {
                    self.flash = Some(format!("also: {}", found[1..].join("  ")));
                }
                self.set_input(&done);
            }
        }
        Some(vec![])
    }

    /// The runtime's list of workspace files.
    pub fn files_listed(&mut self, files: Vec<String>) -> Vec<Effect> {
        self.files = Some(files);
        if std::mem::take(&mut self.complete_pending) {
            self.flash = None;
            return self.complete_mention().unwrap_or_default();
        }
        vec![]
    }

    /// The files a message's `@path`s name, read: attached, then the message goes.
    pub fn mentions_read(
        &mut self,
        text: String,
        read: Vec<(String, Result<String, String>)>,
    ) -> Vec<Effect> {
        for (path, r) in read {
            match r {
                Ok(content) => self.attachments.push((path, content)),
                Err(e) => self.notice(&format!("@{path} not attached: {e}")),
            }
        }
        self.submit_text(text)
    }
}

/// Most bytes of a file `@path` attaches (as `/file`).
pub const MAX_ATTACH: u64 = commands::MAX_ATTACH;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn mentions_are_words_starting_with_at() {
        assert_eq!(
            mentions("look at @src/a.rs, and @b.txt. mail me@x.org or @src/a.rs again @"),
            ["src/a.rs", "b.txt"]
        );
    }

    #[test]
    fn tab_completes_and_enter_attaches() {
        use crate::app::{Effect, Event};
        use crossterm::event::{KeyCode, KeyEvent};
        let mut a = App::new(crate::testing::app_init(false));
        a.input.insert_str("explain @calc");
        assert_eq!(
            a.update(Event::Key(KeyEvent::from(KeyCode::Tab))),
            [Effect::ListFiles]
        );
        let fx = a.update(Event::Files(vec!["README.md".into(), "src/calc.py".into()]));
        assert!(fx.is_empty());
        assert_eq!(a.input_text(), "explain @src/calc.py ");
        let fx = a.update(Event::Key(KeyEvent::from(KeyCode::Enter)));
        let [Effect::ReadMentions { text, paths }] = fx.as_slice() else {
            panic!("{fx:?}");
        };
        assert_eq!(paths, &["src/calc.py"]);
        let fx = a.update(Event::MentionsRead {
            text: text.clone(),
            read: vec![("src/calc.py".into(), Ok("x = 1\n".into()))],
        });
        assert!(matches!(fx.as_slice(), [Effect::Start { .. }]), "{fx:?}");
        let sent = &a.conv.messages().last().unwrap().content;
        assert!(
            sent.starts_with("File `src/calc.py`:\n```python\nx = 1\n```"),
            "{sent}"
        );
        assert!(sent.trim_end().ends_with("explain @src/calc.py"), "{sent}");
    }

    /// Issue 15 (5): `/file` completes paths like `@`; Tab with text and nothing to complete
    /// stays in the box; `/` opens an empty search (Enter alone repeats the last query).
    #[test]
    fn file_paths_complete_tab_stays_and_search_starts_empty() {
        use crate::app::{Event, Pane};
        use crossterm::event::{KeyCode, KeyEvent};
        let key = |c: KeyCode| Event::Key(KeyEvent::from(c));
        let mut a = App::new(crate::testing::app_init(false));
        a.files = Some(vec!["README.md".into(), "src/calc.py".into()]);
        a.input.insert_str("/file calc");
        a.update(key(KeyCode::Tab));
        assert_eq!(a.input_text(), "/file src/calc.py ");
        a.set_input("just words");
        a.update(key(KeyCode::Tab));
        assert_eq!(a.focus, Pane::Input);
        assert!(a
            .flash
            .as_deref()
            .unwrap()
            .starts_with("nothing to complete"));
        a.set_input("");
        a.update(key(KeyCode::Tab));
        assert_eq!(a.focus, Pane::Conversation, "an empty box: Tab moves on");
        a.update(key(KeyCode::Char('/')));
        for c in "calc".chars() {
            a.update(key(KeyCode::Char(c)));
        }
        a.update(key(KeyCode::Enter));
        a.update(key(KeyCode::Char('/')));
        assert_eq!(
            a.search.as_ref().unwrap().query,
            "",
            "a new query each time"
        );
        a.update(key(KeyCode::Enter));
        assert_eq!(
            a.search.as_ref().unwrap().query,
            "calc",
            "Enter alone: the last one"
        );
    }

    #[test]
    fn fuzzy_matches_prefer_names_and_runs() {
        let files: Vec<String> = [
            "src/app/mod.rs",
            "src/app/mention.rs",
            "README.md",
            "src/main.rs",
        ]
        .iter()
        .map(|s| s.to_string())
        .collect();
        assert_eq!(best("mention", &files, 1), ["src/app/mention.rs"]);
        assert_eq!(best("main", &files, 1), ["src/main.rs"]);
        assert_eq!(best("readme", &files, 1), ["README.md"]);
        assert!(best("zzz", &files, 3).is_empty());
        assert_eq!(best("sam", &files, 4).len(), 2);
    }
}
