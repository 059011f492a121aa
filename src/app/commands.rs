//! Slash commands typed in the input.

use super::{App, Effect};
use crate::api::request::SAMPLING_KEYS;
use crate::theme::bundled_names;

/// A command: its name, its argument hint, what it does.
pub type Command = (&'static str, &'static str, &'static str);

/// Every command — also the help overlay's command list and the palette's.
pub const COMMANDS: &[Command] = &[
    (
        "/model",
        "[ID]",
        "switch model (no ID: show the current one and the catalog)",
    ),
    ("/provider", "[NAME]", "switch provider"),
    (
        "/system",
        "[TEXT]",
        "set the system prompt (applies to a new conversation)",
    ),
    ("/new", "", "start a new conversation"),
    (
        "/retry",
        "",
        "send the last question again (after an error, or for another answer)",
    ),
    (
        "/set",
        "[KEY VALUE]",
        "set temperature, top_p, max_tokens, seed or reasoning_effort (off: default)",
    ),
    (
        "/compare",
        "A B [C D]",
        "send the next message to 2-4 models at once (MODEL, PROVIDER:MODEL, MODEL@temperature=0); alone: show the last comparison",
    ),
    (
        "/mode",
        "[MODE]",
        "agent: read-only, ask (default), auto-edit or yolo (no MODE: what each does)",
    ),
    (
        "/budget",
        "[USD|off]",
        "agent: pause before a round past this session spend",
    ),
    (
        "/rewind",
        "",
        "agent: put the files and/or the conversation back as before a turn (undoable)",
    ),
    ("/sessions", "", "pick a saved session to continue"),
    ("/search", "TEXT", "search answers and reasoning (n/N step)"),
    (
        "/file",
        "PATH",
        "attach a file's content to the next message",
    ),
    (
        "/copy",
        "[N]",
        "copy code block N (default: the selected one)",
    ),
    ("/save", "[N] [PATH]", "save code block N to a file"),
    (
        "/theme",
        "[NAME]",
        "switch theme (dark, light, or your own)",
    ),
    ("/help", "", "show keys and commands"),
    ("/quit", "", "quit"),
];

pub fn candidates(prefix: &str) -> Vec<&'static str> {
    COMMANDS
        .iter()
        .map(|c| c.0)
        .filter(|c| c.starts_with(prefix))
        .collect()
}

/// Completes a unique command prefix (with a trailing space when it takes arguments).
pub fn complete(prefix: &str) -> Option<String> {
    let c = candidates(prefix);
    if c.len() != 1 {
        return None;
    }
    let takes_args = COMMANDS.iter().any(|x| x.0 == c[0] && !x.1.is_empty());
    Some(if takes_args {
        format!("{} ", c[0])
    } else {
        c[0].to_string()
    })
}

/// A file extension for a fence language.
pub fn extension(lang: &str) -> &str {
    match lang.to_ascii_lowercase().as_str() {
        "rust" | "rs" => "rs",
        "python" | "py" => "py",
        "javascript" | "js" => "js",
        "typescript" | "ts" => "ts",
        "bash" | "sh" | "shell" | "zsh" => "sh",
        "go" | "golang" => "go",
        "c" => "c",
        "cpp" | "c++" => "cpp",
        "java" => "java",
        "json" => "json",
        "toml" => "toml",
        "yaml" | "yml" => "yaml",
        "html" => "html",
        "css" => "css",
        "sql" => "sql",
        "markdown" | "md" => "md",
        "" => "txt",
        _ => "txt",
    }
}

/// A fence language for a file path.
pub fn extension_to_lang(path: &str) -> &str {
    let ext = path.rsplit('.').next().unwrap_or("");
    match ext {
        "rs" => "rust",
        "py" => "python",
        "js" | "mjs" => "javascript",
        "ts" | "tsx" => "typescript",
        "sh" => "bash",
        "go" => "go",
        "c" | "h" => "c",
        "cpp" | "cc" | "hpp" => "cpp",
        "toml" => "toml",
        "json" => "json",
        "yaml" | "yml" => "yaml",
        "md" => "markdown",
        other => other,
    }
}

/// Largest file `/file` attaches (a context window is not a dump truck).
pub(crate) const MAX_ATTACH: u64 = 512 * 1024;

/// `/sessions`' answer: the picker over the saved conversations (newest first).
pub fn sessions_listed(app: &mut App, items: Vec<(std::path::PathBuf, String)>) {
    app.flash = None;
    if items.is_empty() {
        app.flash = Some("no saved conversation to continue yet".into());
        return;
    }
    // Something else took the screen meanwhile (a message sent): the picker would cover it.
    if app.busy() {
        return;
    }
    app.open_modal(crate::app::modal::Modal::Picker(crate::app::Picker {
        items,
        selected: 0,
    }));
}

/// `/model`'s answer: what the provider serves (or, when it could not say, what the catalog
/// knows), each with its prices per 1M tokens (input / cached / output) where known.
pub fn show_models(app: &mut App, served: Result<Vec<String>, String>) {
    let label = |id: &str, app: &App| {
        let info = app.catalog.lookup(id);
        match info.prices {
            Some(p) if info.id != crate::session::catalog::DEFAULT_ID => {
                format!("  {id}  {}", p.label())
            }
            _ => format!("  {id}  (price unknown)"),
        }
    };
    let (head, ids) = match served {
        Ok(ids) if !ids.is_empty() => (format!("{} serves:", app.provider), ids),
        other => {
            let why = match other {
                Err(e) => format!("could not ask {}: {e}", app.provider),
                Ok(_) => format!("{} lists no models", app.provider),
            };
            let known = app
                .catalog
                .all()
                .iter()
                .map(|m| m.id.clone())
                .filter(|id| id != crate::session::catalog::DEFAULT_ID)
                .collect();
            (format!("{why}. The catalog knows:"), known)
        }
    };
    let mut text = format!(
        "model: {} (provider {}). {head} (USD per 1M tokens: input / cached / output)",
        app.model, app.provider
    );
    for id in &ids {
        text.push('\n');
        text.push_str(&label(id, app));
    }
    text.push_str("\n/model ID switches.");
    app.notice(&text);
}

/// The model a server said it serves, asked at start-up. A model set meanwhile (`/model ID`)
/// stays; when the server cannot say, `default` is asked for (local servers take any name).
pub fn model_found(app: &mut App, found: Result<String, String>) {
    if !app.model.is_empty() {
        return;
    }
    match found {
        Ok(m) => {
            app.flash = Some(format!("model: {m}"));
            app.model = m;
        }
        Err(e) => {
            app.flash = None;
            app.notice(&format!(
                "could not ask {} for its models: {e}. Asking for `default`; /model ID sets one.",
                app.provider
            ));
            app.model = "default".into();
        }
    }
}

/// The answer to `/file`'s `Effect::ReadFile`.
pub fn attach_file(app: &mut App, path: String, read: Result<String, String>) {
    app.flash = None;
    app.reading_files = app.reading_files.saturating_sub(1);
    match read {
        Ok(content) => {
            let n = crate::session::count(content.lines().count(), "line", "lines");
            app.notice(&format!("attached {path} ({n}) to the next message"));
            app.attachments.push((path, content));
        }
        Err(e) => app.error(&format!("/file {path}: {e}")),
    }
}

pub fn run(app: &mut App, line: &str) -> Vec<Effect> {
    let (cmd, arg) = match line.split_once(char::is_whitespace) {
        Some((c, a)) => (c, a.trim()),
        None => (line, ""),
    };
    let matches = candidates(cmd);
    let cmd = match (COMMANDS.iter().any(|c| c.0 == cmd), matches.as_slice()) {
        (true, _) => cmd,
        (false, [one]) => *one,
        _ => {
            app.error(&format!("unknown command {cmd} — /help lists them"));
            return vec![];
        }
    };
    match cmd {
        "/model" => {
            if arg.is_empty() {
                app.flash = Some(format!("asking {} for its models…", app.provider));
                return vec![Effect::ListModels];
            } else {
                app.model = arg.to_string();
                app.flash = Some(format!("model: {arg}"));
            }
            vec![]
        }
        "/provider" => {
            if arg.is_empty() {
                app.notice(&format!(
                    "provider: {}. Configured: {}",
                    app.provider,
                    app.providers.join(", ")
                ));
                vec![]
            } else {
                vec![Effect::SwitchProvider(arg.to_string())]
            }
        }
        "/system" => {
            if arg.is_empty() {
                // What this conversation was sent with, and what the next one will be.
                let now = app
                    .conv
                    .messages()
                    .iter()
                    .find(|m| m.role == crate::api::Role::System)
                    .map(|m| m.content.clone());
                let mut text = match &now {
                    Some(s) => format!("system prompt: {s}"),
                    None => "no system prompt".to_string(),
                };
                if app.system != now {
                    match &app.system {
                        Some(s) => text.push_str(&format!(" · from the next /new: {s}")),
                        None => text.push_str(" · from the next /new: none"),
                    }
                }
                app.notice(&text);
                return vec![];
            }
            app.system = Some(arg.to_string());
            if app
                .conv
                .messages()
                .iter()
                .all(|m| m.role == crate::api::Role::System)
            {
                app.conv = crate::session::Conversation::with_id(app.conv.id.clone(), Some(arg));
                app.flash = Some("system prompt set".into());
                app.custom_system = true;
            } else {
                app.custom_system_next = true;
                // Rewriting history would break the provider's prompt cache.
                app.notice("system prompt set; it applies from the next /new conversation");
            }
            vec![]
        }
        "/compare" => {
            if !arg.is_empty() && app.busy() {
                // Nothing is lost: the command (and any question under it) stays in the box.
                app.set_input(&format!("/compare {arg}"));
                return vec![];
            }
            app.compare_command(arg)
        }
        "/set" => {
            let words: Vec<&str> = arg.split_whitespace().collect();
            let current = |app: &App, key: &str| {
                app.params
                    .sampling()
                    .into_iter()
                    .find(|(k, _)| *k == key)
                    .map_or_else(|| "the provider's default".to_string(), |(_, v)| v)
            };
            match words.as_slice() {
                [] => {
                    let keys: Vec<&str> = SAMPLING_KEYS.iter().map(|k| k.0).collect();
                    let set = app.params.sampling_label();
                    app.notice(&format!(
                        "sampling: {}. /set KEY VALUE changes one ({}); /set KEY off clears it",
                        set.as_deref().unwrap_or("the provider's defaults"),
                        keys.join(", ")
                    ));
                }
                [key] if SAMPLING_KEYS.iter().any(|k| k.0 == *key) => {
                    let now = current(app, key);
                    app.notice(&format!("{key}: {now}"));
                }
                [key, value] => match app.params.set(key, value) {
                    Ok(()) => {
                        let now = current(app, key);
                        app.flash = Some(format!("{key}: {now} (from the next message)"));
                    }
                    Err(e) => app.error(&format!("/set: {e}")),
                },
                _ => app.error("/set KEY VALUE, e.g. /set temperature 0.2 (/set alone lists them)"),
            }
            vec![]
        }
        "/retry" => app.retry(),
        "/mode" => app.set_mode(arg),
        "/budget" => app.set_budget(arg),
        "/rewind" => app.open_rewind(),
        "/new" => {
            if app.busy() {
                return vec![];
            }
            app.compare_shown = None;
            app.compare_armed = None;
            app.new_conversation();
            app.flash = Some("new conversation".into());
            vec![]
        }
        "/file" => {
            if arg.is_empty() {
                app.error("/file needs a path");
                return vec![];
            }
            // Read off the UI thread: a slow disk never freezes the screen.
            app.flash = Some(format!("reading {arg}…"));
            app.reading_files += 1;
            vec![Effect::ReadFile {
                path: arg.to_string(),
                max: MAX_ATTACH,
            }]
        }
        "/copy" => {
            let idx = match parse_block(app, arg) {
                Ok(i) => i,
                Err(e) => {
                    app.error(&e);
                    return vec![];
                }
            };
            app.copy_block(idx)
        }
        "/save" => {
            let mut parts = arg.splitn(2, char::is_whitespace);
            let first = parts.next().unwrap_or("");
            let (idx, path) = match first.parse::<usize>() {
                Ok(_) => match parse_block(app, first) {
                    Ok(i) => (i, parts.next().map(|p| p.trim().to_string())),
                    Err(e) => {
                        app.error(&e);
                        return vec![];
                    }
                },
                Err(_) => (
                    app.selected_code,
                    (!first.is_empty()).then(|| arg.to_string()),
                ),
            };
            match path.filter(|p| !p.is_empty()) {
                Some(p) => app.save_now(idx, p),
                None => {
                    app.start_save(idx, None);
                    vec![]
                }
            }
        }
        "/theme" => {
            if arg.is_empty() {
                app.notice(&format!(
                    "theme: {}. Bundled: {}",
                    app.theme.name,
                    bundled_names().join(", ")
                ));
                return vec![];
            }
            // A theme of the user's is a file: read by the runtime.
            vec![Effect::LoadTheme {
                name: arg.to_string(),
                color: app.theme.color,
            }]
        }
        "/help" => {
            app.open_modal(crate::app::modal::Modal::Help { scroll: 0 });
            vec![]
        }
        "/quit" => {
            app.should_quit = true;
            vec![Effect::Quit]
        }
        "/sessions" => {
            if app.busy() {
                return vec![];
            }
            vec![Effect::ListSessions]
        }
        "/search" => {
            app.search = Some(crate::app::search::Search {
                query: arg.to_string(),
                ..Default::default()
            });
            app.run_search();
            vec![]
        }
        _ => vec![],
    }
}

fn parse_block(app: &App, arg: &str) -> Result<usize, String> {
    if app.code.is_empty() {
        return Err("no code blocks yet".into());
    }
    if arg.is_empty() {
        return Ok(app.selected_code);
    }
    match arg.parse::<usize>() {
        Ok(n) if n >= 1 && n <= app.code.len() => Ok(n - 1),
        _ => Err(format!(
            "no code block {arg} (there are {})",
            app.code.len()
        )),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn completion() {
        assert_eq!(complete("/mod").as_deref(), None);
        assert_eq!(complete("/mode").as_deref(), None);
        assert_eq!(complete("/b").as_deref(), Some("/budget "));
        assert_eq!(complete("/rew").as_deref(), Some("/rewind"));
        assert_eq!(complete("/ne").as_deref(), Some("/new"));
        assert_eq!(complete("/s"), None);
        assert_eq!(
            candidates("/s"),
            vec!["/system", "/set", "/sessions", "/search", "/save"]
        );
        assert_eq!(complete("/ses").as_deref(), Some("/sessions"));
    }
}
