//! The workspace: the one directory the tools may touch. Every path a model names is
//! resolved here — relative to the root, canonicalised through any symlinks — and refused
//! when it would leave the root, with an error that says what to do instead.

use std::path::{Component, Path, PathBuf};

use super::ToolError;

#[derive(Debug, Clone)]
pub struct Workspace {
    root: PathBuf,
}

impl Workspace {
    /// The workspace at `root` (canonicalised: it must exist and be a directory).
    pub fn new(root: &Path) -> Result<Workspace, String> {
        let root = std::fs::canonicalize(root).map_err(|e| format!("{}: {e}", root.display()))?;
        if !root.is_dir() {
            return Err(format!("{}: not a directory", root.display()));
        }
        Ok(Workspace { root })
    }

    pub fn root(&self) -> &Path {
        &self.root
    }

    /// `path` as shown to the model: relative to the root.
    pub fn display(&self, path: &Path) -> String {
        let rel = path.strip_prefix(&self.root).unwrap_or(path);
        let s = rel.to_string_lossy();
        if s.is_empty() {
            ".".into()
        } else {
            s.into_owned()
        }
    }

    /// The real path of an existing file or directory inside the workspace.
    pub fn existing(&self, path: &str) -> Result<PathBuf, ToolError> {
        let joined = self.join(path)?;
        let real = std::fs::canonicalize(&joined).map_err(|e| match e.kind() {
            std::io::ErrorKind::NotFound => ToolError::new(format!(
                "{path}: no such file or directory in the workspace; list_dir or glob shows what is there"
            )),
            _ => ToolError::new(format!("{path}: {e}")),
        })?;
        self.inside(path, real)
    }

    /// Where a file to be created (or replaced) at `path` goes: its deepest existing ancestor
    /// is resolved through symlinks and must be inside the workspace; the rest is plain names.
    pub fn target(&self, path: &str) -> Result<PathBuf, ToolError> {
        let joined = self.join(path)?;
        if let Ok(real) = std::fs::canonicalize(&joined) {
            return self.inside(path, real);
        }
        // A dangling symlink is refused: writing through it would go wherever it points.
        if joined.symlink_metadata().is_ok() {
            return Err(ToolError::new(format!(
                "{path}: a symlink to nothing; it is not written through"
            )));
        }
        let mut existing = joined.as_path();
        let mut rest = Vec::new();
        while !existing.exists() {
            match (existing.parent(), existing.file_name()) {
                (Some(p), Some(name)) => {
                    rest.push(name.to_owned());
                    existing = p;
                }
                _ => break,
            }
        }
        let real =
            std::fs::canonicalize(existing).map_err(|e| ToolError::new(format!("{path}: {e}")))?;
        let mut out = self.inside(path, real)?;
        for name in rest.into_iter().rev() {
            out.push(name);
        }
        Ok(out)
    }

    /// `path` joined to the root, refusing what obviously leaves it (`..` past the root, an
    /// absolute path elsewhere) before the filesystem is asked.
    fn join(&self, path: &str) -> Result<PathBuf, ToolError> {
        if path.is_empty() {
            return Err(ToolError::new(
                "an empty path: give one relative to the workspace root",
            ));
        }
        if path.contains('\0') {
            return Err(ToolError::new("a path with a NUL byte"));
        }
        let p = Path::new(path);
        let joined = if p.is_absolute() {
            p.to_path_buf()
        } else {
            self.root.join(p)
        };
        // Resolve `.` and `..` by name first: `a/../../x` leaves however the links are set.
        let mut norm = PathBuf::new();
        for c in joined.components() {
            match c {
                Component::ParentDir => {
                    if !norm.pop() {
                        return Err(self.outside(path));
                    }
                }
                Component::CurDir => {}
                other => norm.push(other.as_os_str()),
            }
        }
        if !norm.starts_with(&self.root) {
            return Err(self.outside(path));
        }
        Ok(norm)
    }

    fn inside(&self, path: &str, real: PathBuf) -> Result<PathBuf, ToolError> {
        if real.starts_with(&self.root) {
            Ok(real)
        } else {
            Err(self.outside(path))
        }
    }

    fn outside(&self, path: &str) -> ToolError {
        ToolError::new(format!(
            "{path}: outside the workspace ({}); only paths inside it can be used — give one relative to it",
            self.root.display()
        ))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn paths_that_leave_the_root_are_refused_whatever_their_form() {
        let outer = tempfile::tempdir().unwrap();
        let root = outer.path().join("ws");
        std::fs::create_dir_all(root.join("src")).unwrap();
        std::fs::write(root.join("src/a.rs"), "x").unwrap();
        std::fs::write(outer.path().join("secret"), "s").unwrap();
        let ws = Workspace::new(&root).unwrap();
        assert!(ws.existing("src/a.rs").is_ok());
        assert!(ws.existing("./src/../src/a.rs").is_ok());
        let abs_inside = ws.root().join("src/a.rs");
        assert!(ws.existing(abs_inside.to_str().unwrap()).is_ok());
        for bad in ["../secret", "src/../../secret", "/etc/passwd"] {
            let e = ws.existing(bad).unwrap_err();
            assert!(
                e.message.contains("outside the workspace"),
                "{bad}: {}",
                e.message
            );
        }
        assert!(ws.target("../new.txt").is_err());
        #[cfg(unix)]
        {
            // A symlink out, and a directory symlink out, are refused; one within is fine.
            std::os::unix::fs::symlink(outer.path().join("secret"), root.join("link")).unwrap();
            std::os::unix::fs::symlink(outer.path(), root.join("up")).unwrap();
            std::os::unix::fs::symlink(root.join("src/a.rs"), root.join("ok")).unwrap();
            assert!(ws.existing("link").is_err());
            assert!(ws.existing("up/secret").is_err());
            assert!(ws.target("up/new.txt").is_err());
            assert!(ws.existing("ok").is_ok());
            std::os::unix::fs::symlink(root.join("nowhere"), root.join("dangling")).unwrap();
            assert!(ws.target("dangling").is_err());
        }
        // A new file in new directories resolves inside.
        let t = ws.target("new/dir/file.rs").unwrap();
        assert!(t.starts_with(ws.root()));
        assert_eq!(ws.display(&t), "new/dir/file.rs");
        let missing = ws.existing("nope.rs").unwrap_err();
        assert!(
            missing.message.contains("list_dir or glob"),
            "{}",
            missing.message
        );
    }
}
