//! `grokpair sessions | resume | replay | export | demo`.

use std::io::Write;
use std::path::Path;
use std::time::Duration;

use super::{Cli, DemoArgs, ExportArgs, ExportFormat, Failure, ResumeArgs, SessionsArgs, EXIT_OK};
use crate::api::{Message, StreamEvent, TimedEvent};
use crate::config::Config;
use crate::session::store::{
    self, one_line, short_date, End, Header, SavedTurn, Session, Settings,
};
use crate::session::TurnState;

pub fn tui_options(cli: &Cli, start: crate::tui::Start) -> crate::tui::TuiOptions {
    crate::tui::TuiOptions {
        provider: cli.provider.clone(),
        model: cli.model.first().cloned(),
        theme: cli.theme.clone(),
        no_save: cli.no_save,
        workspace: cli.cd.clone(),
        start,
    }
}

pub fn list(cfg: &Config, a: &SessionsArgs) -> Result<i32, Failure> {
    let dir = cfg.sessions_dir();
    let mut paths = store::list(&dir);
    let all = paths.len();
    if let Some(n) = a.limit {
        paths.truncate(n);
    }
    let mut out = crate::sanitize::stdout();
    let mut rows = Vec::new();
    for p in &paths {
        // The first line and the summary record: hundreds of files list without parsing them.
        match store::listing(p) {
            Ok(s) => rows.push(s),
            Err(e) => {
                use std::io::Write;
                let _ = writeln!(crate::sanitize::stderr(), "grokpair: skipped {e}");
            }
        }
    }
    if a.json {
        let v: Vec<serde_json::Value> = rows
            .iter()
            .map(|s| {
                let sum = &s.summary;
                serde_json::json!({
                    "id": s.id(),
                    "name": s.header.name,
                    "file": s.path,
                    "created": s.header.created,
                    "last_activity": sum.last_activity,
                    "provider": s.header.provider,
                    "model": sum.model,
                    "conversation_id": s.header.conv_id,
                    "turns": sum.turns,
                    "tokens": sum.tokens,
                    "tokens_estimated": sum.tokens_estimated,
                    "cost_usd": sum.cost_known.then_some(sum.cost_ticks as f64 / 1e10),
                    "first_prompt": sum.first_prompt,
                })
            })
            .collect();
        let _ = writeln!(out, "{}", serde_json::Value::Array(v));
        return Ok(EXIT_OK);
    }
    if rows.is_empty() {
        let _ = writeln!(
            out,
            "No saved sessions in {} yet: every conversation is saved as it happens.",
            dir.display()
        );
        return Ok(EXIT_OK);
    }
    let _ = writeln!(
        out,
        "{:<24} {:<16} {:<22} {:>5} {:>8} {:>10}  FIRST PROMPT",
        "ID", "ACTIVE (UTC)", "MODEL", "TURNS", "TOKENS", "COST"
    );
    for s in &rows {
        let sum = &s.summary;
        let model = &sum.model;
        // A lower bound when some rounds were not reported (cancelled, cut off); `+ ?` when
        // some had no known price.
        let cost = crate::session::pricing::total_label(
            sum.cost_ticks,
            sum.tokens_estimated,
            !sum.cost_known,
        );
        let tokens = if sum.tokens_estimated {
            format!("~{}", sum.tokens)
        } else {
            sum.tokens.to_string()
        };
        let active = if sum.last_activity.is_empty() {
            &s.header.created
        } else {
            &sum.last_activity
        };
        let _ = writeln!(
            out,
            "{:<24} {:<16} {:<22} {:>5} {:>8} {:>10}  {}",
            one_line(s.id(), 24),
            short_date(active),
            one_line(model, 22),
            sum.turns,
            tokens,
            cost,
            one_line(&sum.first_prompt, 60)
        );
    }
    let shown = if rows.len() < all {
        format!("{} of {all} sessions", rows.len())
    } else {
        crate::session::count(all, "session", "sessions")
    };
    let _ = writeln!(
        out,
        "\n{shown} in {}, the last active first. `grokpair resume ID` continues one; `grokpair replay ID` plays it.",
        dir.display()
    );
    Ok(EXIT_OK)
}

fn load_session(cfg: &Config, what: &str) -> Result<Session, Failure> {
    let path = store::find(&cfg.sessions_dir(), what).map_err(Failure::Usage)?;
    store::load(&path).map_err(|e| Failure::Usage(e.to_string()))
}

pub fn resolve_for_resume(cfg: &Config, a: &ResumeArgs) -> Result<Session, Failure> {
    if a.last {
        let dir = cfg.sessions_dir();
        return store::list(&dir)
            .iter()
            .filter_map(|p| store::load(p).ok())
            .find(|s| s.header.kind == "chat")
            .ok_or_else(|| {
                Failure::Usage(format!("no saved session in {} to resume", dir.display()))
            });
    }
    load_session(cfg, a.id.as_deref().unwrap_or_default())
}

/// A session by id or file; a file that is not a session is read as a raw SSE capture.
pub fn resolve_for_replay(cfg: &Config, what: &str) -> Result<Session, Failure> {
    let p = Path::new(what);
    if p.is_file() {
        let bytes = std::fs::read(p).map_err(|e| Failure::Usage(format!("{what}: {e}")))?;
        return match store::parse(&bytes, p) {
            Ok(s) => Ok(s),
            Err(_) => import_sse(p, &bytes),
        };
    }
    load_session(cfg, what)
}

/// Pace of an imported capture, which has no timing: a first token after 300 ms, then one
/// event every 10 ms (about 100 tokens/s).
const IMPORT_FIRST: Duration = Duration::from_millis(300);
const IMPORT_GAP: Duration = Duration::from_millis(10);

/// A raw SSE capture (as in `fixtures/recorded/*/response.sse`) as a one-turn session. The
/// question and model come from a `request.json` beside it, when there is one.
pub fn import_sse(path: &Path, bytes: &[u8]) -> Result<Session, Failure> {
    let api = crate::api::client::detect_api(bytes);
    let (mut events, d) = crate::api::client::decode_body(api, bytes);
    if events.is_empty() {
        return Err(Failure::Usage(format!(
            "{}: neither a grokpair session nor an SSE stream of chat completion chunks or \
             Responses events",
            path.display()
        )));
    }
    if d.done() || d.finish_reason().is_some() {
        events.push(StreamEvent::Finished {
            reason: d.finish_reason(),
        });
    }
    let request: Option<serde_json::Value> = path
        .parent()
        .map(|d| d.join("request.json"))
        .and_then(|r| std::fs::read(r).ok())
        .and_then(|b| serde_json::from_slice(&b).ok());
    let mut messages: Vec<Message> = request
        .as_ref()
        .and_then(|r| r.get("messages"))
        .and_then(|m| serde_json::from_value::<Vec<serde_json::Value>>(m.clone()).ok())
        .unwrap_or_default()
        .into_iter()
        .filter_map(|m| {
            let role = serde_json::from_value(m.get("role")?.clone()).ok()?;
            let content = match m.get("content")? {
                serde_json::Value::String(s) => s.clone(),
                other => other.to_string(),
            };
            Some(Message::new(role, content))
        })
        .collect();
    if !messages.iter().any(|m| m.role == crate::api::Role::User) {
        messages.push(Message::user(format!(
            "(captured stream: {})",
            path.display()
        )));
    }
    let served = events.iter().find_map(|e| match e {
        StreamEvent::Started { model, .. } => model.clone(),
        _ => None,
    });
    let model = request
        .as_ref()
        .and_then(|r| r.get("model"))
        .and_then(|m| m.as_str())
        .map(str::to_string)
        .or(served)
        .unwrap_or_else(|| "unknown".into());
    let timed: Vec<TimedEvent> = events
        .into_iter()
        .enumerate()
        .map(|(i, event)| TimedEvent {
            at: IMPORT_FIRST + IMPORT_GAP * i as u32,
            event,
        })
        .collect();
    let end_at = timed.last().map(|e| e.at).unwrap_or_default();
    let finished = timed.last().is_some_and(|e| e.event.is_terminal());
    let name = path
        .parent()
        .and_then(|d| d.file_name())
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_else(|| path.display().to_string());
    Ok(Session {
        path: path.to_path_buf(),
        header: Header {
            version: store::FORMAT_VERSION,
            id: name.clone(),
            name: Some(format!("capture {name}")),
            created: store::rfc3339(
                std::fs::metadata(path)
                    .and_then(|m| m.modified())
                    .unwrap_or(std::time::UNIX_EPOCH),
            ),
            provider: "import".into(),
            model: model.clone(),
            conv_id: String::new(),
            settings: Settings::default(),
            kind: "import".into(),
        },
        messages: messages.clone(),
        turns: vec![SavedTurn {
            turn: 0,
            at: String::new(),
            provider: "import".into(),
            model,
            request: messages.into(),
            events: timed,
            end: Some(End {
                state: if finished {
                    TurnState::Done
                } else {
                    TurnState::Cancelled
                },
                at: end_at,
                usage: None,
                cost: None,
                error: None,
            }),
            compare: None,
            params: Default::default(),
            exchange: 0,
            round: 0,
        }],
        skipped: 0,
        adopted_turns: Vec::new(),
        tools: Vec::new(),
        recorded: usize::MAX,
    })
}

pub fn demo(a: &DemoArgs) -> Result<Option<Session>, Failure> {
    let all = crate::demo::sessions();
    if a.list {
        for (i, s) in all.iter().enumerate() {
            println!(
                "{}  {:<14} {:<22} {} turn{}  {}",
                i + 1,
                s.id(),
                s.model_label(),
                s.turn_count(),
                if s.turn_count() == 1 { " " } else { "s" },
                one_line(s.first_prompt(), 60)
            );
        }
        return Ok(None);
    }
    let n = all.len();
    all.into_iter()
        .nth(a.number.wrapping_sub(1))
        .map(Some)
        .ok_or_else(|| Failure::Usage(format!("there are {n} demos: 1 to {n}")))
}

/// Whether two paths name one existing file.
fn same_file(a: &Path, b: &Path) -> bool {
    match (std::fs::metadata(a), std::fs::metadata(b)) {
        #[cfg(unix)]
        (Ok(x), Ok(y)) => {
            use std::os::unix::fs::MetadataExt;
            x.dev() == y.dev() && x.ino() == y.ino()
        }
        #[cfg(not(unix))]
        (Ok(_), Ok(_)) => std::fs::canonicalize(a).ok() == std::fs::canonicalize(b).ok(),
        _ => false,
    }
}

pub fn export(cfg: &Config, a: &ExportArgs) -> Result<i32, Failure> {
    // A session id, name or file; a raw SSE capture exports like an imported session.
    let s = resolve_for_replay(cfg, &a.id)?;
    let text = match a.format {
        ExportFormat::Md => crate::export::markdown(&s, &cfg.catalog),
        ExportFormat::Html => crate::export::html(&s, &cfg.catalog),
        ExportFormat::Json => crate::export::json(&s, &cfg.catalog),
    };
    match &a.output {
        Some(p) => {
            // Writing the export over the session it is made from would destroy it (by
            // another name, a symlink or a hard link too: the same file is the same inode).
            if same_file(p, &s.path) {
                return Err(Failure::Usage(format!(
                    "{} is the session file itself: choose another -o",
                    p.display()
                )));
            }
            std::fs::write(p, text)
                .map_err(|e| Failure::Usage(format!("cannot write {}: {e}", p.display())))?
        }
        None => {
            // HTML and JSON escape what they hold; Markdown on a terminal is shown safely.
            let mut out = crate::sanitize::stdout();
            let _ = out.write_all(text.as_bytes());
        }
    }
    Ok(EXIT_OK)
}
