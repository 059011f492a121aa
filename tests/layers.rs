//! The layers import only downward: `api` → `session` → the engine and runner → `app` → `ui`
//! → the `tui` runtime and `cli`. A file that reaches up fails here, with its line. (`theme`
//! is configuration data, below the app.)

use std::path::Path;

fn sources(rel: &str) -> Vec<std::path::PathBuf> {
    let p = Path::new(env!("CARGO_MANIFEST_DIR")).join("src").join(rel);
    if p.is_file() {
        return vec![p];
    }
    let mut out: Vec<_> = std::fs::read_dir(&p)
        .unwrap_or_else(|e| panic!("{}: {e}", p.display()))
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|x| x == "rs"))
        .collect();
    out.sort();
    assert!(!out.is_empty(), "no sources in {}", p.display());
    out
}

fn assert_no_imports(layer: &str, files: &[&str], above: &[&str]) {
    let mut bad = Vec::new();
    for f in files.iter().flat_map(|f| sources(f)) {
        let text = std::fs::read_to_string(&f).unwrap();
        // A file's unit tests may use what is above it to check what it makes.
        let code = text.split("#[cfg(test)]\nmod tests").next().unwrap_or("");
        for (n, line) in code.lines().enumerate() {
            for up in above {
                if line.contains(&format!("crate::{up}::"))
                    || line.contains(&format!("crate::{up}}}"))
                {
                    bad.push(format!("{}:{}: {}", f.display(), n + 1, line.trim()));
                }
            }
        }
    }
    assert!(bad.is_empty(), "{layer} reaches up:\n{}", bad.join("\n"));
}

#[test]
fn the_protocol_and_domain_layers_know_nothing_above_them() {
    assert_no_imports(
        "api",
        &["api"],
        &[
            "session", "engine", "runner", "app", "ui", "tui", "cli", "export",
        ],
    );
    assert_no_imports(
        "session",
        &["session"],
        &["engine", "runner", "app", "ui", "tui", "cli", "export"],
    );
}

#[test]
fn the_tools_know_only_the_workspace() {
    assert_no_imports(
        "tools",
        &["tools"],
        &["engine", "runner", "app", "ui", "tui", "cli", "export"],
    );
}

#[test]
fn the_engine_and_runner_know_no_front_end() {
    assert_no_imports(
        "engine",
        &["engine.rs", "runner.rs", "config.rs"],
        &["app", "ui", "tui", "cli"],
    );
}

#[test]
fn the_app_knows_no_renderer_and_no_runtime() {
    // The app is state and its update function: rendering (and its caches) is the ui's.
    assert_no_imports("app", &["app"], &["ui", "tui", "cli"]);
    assert_no_imports("ui", &["ui"], &["tui", "cli"]);
}
