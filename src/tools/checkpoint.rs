//! Checkpoints: before every mutating call the files it may change are kept, so that a
//! rewind can put the workspace back as it was before any user turn. Contents are stored
//! once by hash (`objects/`), beside the session file; no git is needed.
//!
//! An edit or a write names its file: that file is kept. A command may touch anything: the
//! workspace (as git sees it: `.gitignore` applies) is indexed by size and modification time
//! before it runs — only changed files are read again — and compared after it; every file it
//! created, changed or deleted is recorded with its state from before.
//!
//! A rewind shows what it will change first (`plan`), and is itself recorded, so it can be
//! undone by rewinding past it.

use std::collections::{BTreeMap, HashMap};
use std::hash::{Hash, Hasher};
use std::io::Write;
use std::path::{Path, PathBuf};
use std::time::SystemTime;

use super::Workspace;

/// A file's state before a change: its content's hash, or `None` when it did not exist.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct Before {
    pub path: String,
    pub hash: Option<String>,
}

/// One mutating call's record: the files as they were before it.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct Checkpoint {
    /// The user turn it belongs to.
    pub exchange: usize,
    /// What made it (`edit_file src/a.rs`, `run_command cargo fmt`, `rewind`).
    pub what: String,
    pub files: Vec<Before>,
}

/// What a rewind will do to one file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Change {
    /// Put back the content with this hash.
    Restore { path: String, hash: String },
    /// The file did not exist then: delete it.
    Delete { path: String },
}

impl Change {
    pub fn path(&self) -> &str {
        match self {
            Change::Restore { path, .. } | Change::Delete { path } => path,
        }
    }
}

/// Size and modification time: what says a file may have changed.
type Stamp = (u64, Option<SystemTime>);

pub struct Checkpoints {
    dir: PathBuf,
    list: Vec<Checkpoint>,
    /// The workspace as last indexed: relative path → (stamp, content hash).
    index: HashMap<String, (Stamp, String)>,
}

fn hash_bytes(b: &[u8]) -> String {
    // Two 64-bit SipHashes of the whole content under different prefixes: 128 bits of
    // address. (Only a name: a restore reads what the record names.)
    let mut a = std::collections::hash_map::DefaultHasher::new();
    b.hash(&mut a);
    let mut c = std::collections::hash_map::DefaultHasher::new();
    ("grokpair checkpoint", b).hash(&mut c);
    format!("{:016x}{:016x}", a.finish(), c.finish())
}

impl Checkpoints {
    /// The checkpoints kept in `dir` (created readable by its owner only), with those
    /// recorded there before.
    pub fn open(dir: &Path) -> std::io::Result<Checkpoints> {
        crate::session::store::private_dir(&dir.join("objects"))?;
        let list = match std::fs::read_to_string(dir.join("index.jsonl")) {
            Ok(t) => t
                .lines()
                .filter_map(|l| serde_json::from_str(l).ok())
                .collect(),
            Err(_) => Vec::new(),
        };
        Ok(Checkpoints {
            dir: dir.to_path_buf(),
            list,
            index: HashMap::new(),
        })
    }

    pub fn list(&self) -> &[Checkpoint] {
        &self.list
    }

    fn store(&self, bytes: &[u8]) -> std::io::Result<String> {
        let h = hash_bytes(bytes);
        let p = self.dir.join("objects").join(&h);
        if !p.exists() {
            let tmp = self.dir.join("objects").join(format!(".{h}.tmp"));
            let mut f = crate::session::store::private_file()
                .write(true)
                .create(true)
                .truncate(true)
                .open(&tmp)?;
            f.write_all(bytes)?;
            std::fs::rename(&tmp, &p)?;
        }
        Ok(h)
    }

    fn record(&mut self, c: Checkpoint) -> std::io::Result<()> {
        let mut f = crate::session::store::private_file()
            .create(true)
            .append(true)
            .open(self.dir.join("index.jsonl"))?;
        let mut line = serde_json::to_vec(&c).expect("checkpoints serialize");
        line.push(b'\n');
        f.write_all(&line)?;
        self.list.push(c);
        Ok(())
    }

    /// Keeps `paths` (inside the workspace) as they are now, before `what` changes them.
    pub fn before_write(
        &mut self,
        ws: &Workspace,
        exchange: usize,
        what: &str,
        paths: &[PathBuf],
    ) -> std::io::Result<()> {
        let mut files = Vec::new();
        for p in paths {
            let hash = match std::fs::read(p) {
                Ok(b) => Some(self.store(&b)?),
                Err(e) if e.kind() == std::io::ErrorKind::NotFound => None,
                Err(e) => return Err(e),
            };
            files.push(Before {
                path: ws.display(p),
                hash,
            });
        }
        self.record(Checkpoint {
            exchange,
            what: what.to_string(),
            files,
        })
    }

    /// Indexes the workspace before a command: files whose size or time changed since the
    /// last index are read and stored.
    pub fn before_command(&mut self, ws: &Workspace) -> std::io::Result<()> {
        let now = scan(ws);
        let mut index = HashMap::with_capacity(now.len());
        for (rel, stamp) in now {
            match self.index.remove(&rel) {
                Some((s, h)) if s == stamp => {
                    index.insert(rel, (s, h));
                }
                _ => {
                    if let Ok(b) = std::fs::read(ws.root().join(&rel)) {
                        let h = self.store(&b)?;
                        index.insert(rel, (stamp, h));
                    }
                }
            }
        }
        self.index = index;
        Ok(())
    }

    /// After the command: every file it created, changed or deleted, recorded with its
    /// state from before. Returns the paths.
    pub fn after_command(
        &mut self,
        ws: &Workspace,
        exchange: usize,
        what: &str,
    ) -> std::io::Result<Vec<String>> {
        let now = scan(ws);
        let mut files = Vec::new();
        for (rel, stamp) in &now {
            match self.index.get(rel) {
                Some((s, _)) if s == stamp => {}
                Some((_, h)) => files.push(Before {
                    path: rel.clone(),
                    hash: Some(h.clone()),
                }),
                None => files.push(Before {
                    path: rel.clone(),
                    hash: None,
                }),
            }
        }
        for (rel, (_, h)) in &self.index {
            if !now.contains_key(rel) {
                files.push(Before {
                    path: rel.clone(),
                    hash: Some(h.clone()),
                });
            }
        }
        files.sort_by(|a, b| a.path.cmp(&b.path));
        let changed: Vec<String> = files.iter().map(|f| f.path.clone()).collect();
        if !files.is_empty() {
            self.record(Checkpoint {
                exchange,
                what: what.to_string(),
                files,
            })?;
        }
        // The index follows what is there now (read again before the next command).
        self.index.clear();
        Ok(changed)
    }

    /// What rewinding to before user turn `exchange` changes: for every file touched since,
    /// its state before the first change made from that turn on.
    pub fn plan(&self, exchange: usize) -> Vec<Change> {
        let mut first: BTreeMap<&str, &Option<String>> = BTreeMap::new();
        for c in self.list.iter().filter(|c| c.exchange >= exchange) {
            for f in &c.files {
                first.entry(&f.path).or_insert(&f.hash);
            }
        }
        first
            .into_iter()
            .map(|(path, hash)| match hash {
                Some(h) => Change::Restore {
                    path: path.to_string(),
                    hash: h.clone(),
                },
                None => Change::Delete {
                    path: path.to_string(),
                },
            })
            .collect()
    }

    /// Puts the files back as they were before user turn `exchange` (see `plan`). What is
    /// there now is recorded first, as turn `now`'s `rewind`, so this can be undone.
    pub fn rewind(
        &mut self,
        ws: &Workspace,
        exchange: usize,
        now: usize,
    ) -> std::io::Result<Vec<Change>> {
        let plan = self.plan(exchange);
        let paths: Vec<PathBuf> = plan.iter().map(|c| ws.root().join(c.path())).collect();
        self.before_write(ws, now, "rewind", &paths)?;
        for c in &plan {
            let p = ws.root().join(c.path());
            match c {
                Change::Restore { hash, .. } => {
                    let bytes = std::fs::read(self.dir.join("objects").join(hash))?;
                    if let Some(d) = p.parent() {
                        std::fs::create_dir_all(d)?;
                    }
                    std::fs::write(&p, bytes)?;
                }
                Change::Delete { .. } => match std::fs::remove_file(&p) {
                    Err(e) if e.kind() != std::io::ErrorKind::NotFound => return Err(e),
                    _ => {}
                },
            }
        }
        self.index.clear();
        Ok(plan)
    }
}

/// Every file of the workspace as git sees it, with its stamp.
fn scan(ws: &Workspace) -> HashMap<String, Stamp> {
    let mut out = HashMap::new();
    for e in super::fs::walker(ws.root()).build().flatten() {
        if !e.file_type().is_some_and(|t| t.is_file()) {
            continue;
        }
        if let Ok(m) = e.metadata() {
            out.insert(ws.display(e.path()), (m.len(), m.modified().ok()));
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn edits_and_commands_are_kept_and_a_rewind_restores_and_can_be_undone() {
        let ws_dir = tempfile::tempdir().unwrap();
        let cp_dir = tempfile::tempdir().unwrap();
        let root = ws_dir.path();
        std::fs::write(root.join("a.rs"), "a0\n").unwrap();
        std::fs::write(root.join("gone.txt"), "keep me\n").unwrap();
        std::fs::write(root.join(".gitignore"), "target/\n").unwrap();
        let ws = Workspace::new(root).unwrap();
        let mut cp = Checkpoints::open(cp_dir.path()).unwrap();
        // Turn 0: an edit.
        cp.before_write(&ws, 0, "edit_file a.rs", &[ws.root().join("a.rs")])
            .unwrap();
        std::fs::write(root.join("a.rs"), "a1\n").unwrap();
        // Turn 1: a command that changes a.rs, creates b.rs, deletes gone.txt and writes
        // into an ignored directory.
        cp.before_command(&ws).unwrap();
        std::thread::sleep(std::time::Duration::from_millis(20));
        std::fs::write(root.join("a.rs"), "a2 longer\n").unwrap();
        std::fs::write(root.join("b.rs"), "b\n").unwrap();
        std::fs::remove_file(root.join("gone.txt")).unwrap();
        std::fs::create_dir_all(root.join("target")).unwrap();
        std::fs::write(root.join("target/out"), "x").unwrap();
        let changed = cp.after_command(&ws, 1, "run_command make").unwrap();
        assert_eq!(changed, ["a.rs", "b.rs", "gone.txt"]);
        // Back to before turn 1: a.rs as turn 0 left it, b.rs gone, gone.txt back.
        assert_eq!(
            cp.plan(1),
            [
                Change::Restore {
                    path: "a.rs".into(),
                    hash: hash_bytes(b"a1\n")
                },
                Change::Delete {
                    path: "b.rs".into()
                },
                Change::Restore {
                    path: "gone.txt".into(),
                    hash: hash_bytes(b"keep me\n")
                },
            ]
        );
        cp.rewind(&ws, 1, 2).unwrap();
        assert_eq!(std::fs::read_to_string(root.join("a.rs")).unwrap(), "a1\n");
        assert!(!root.join("b.rs").exists());
        assert_eq!(
            std::fs::read_to_string(root.join("gone.txt")).unwrap(),
            "keep me\n"
        );
        // Back to before everything.
        cp.rewind(&ws, 0, 3).unwrap();
        assert_eq!(std::fs::read_to_string(root.join("a.rs")).unwrap(), "a0\n");
        // And the rewinds undone: back to before the first rewind (turn 2's record).
        let mut again = Checkpoints::open(cp_dir.path()).unwrap();
        assert_eq!(again.list().len(), 4, "kept on disk");
        again.rewind(&ws, 2, 4).unwrap();
        assert_eq!(
            std::fs::read_to_string(root.join("a.rs")).unwrap(),
            "a2 longer\n"
        );
        assert_eq!(std::fs::read_to_string(root.join("b.rs")).unwrap(), "b\n");
        assert!(!root.join("gone.txt").exists());
    }
}
