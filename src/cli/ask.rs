//! `grokpair ask`: one streamed question, answer on stdout, reasoning and summary on stderr.

use std::io::{IsTerminal, Read, Write};

use super::output::event_json;
use super::{
    pick_provider, require_key, AskArgs, Failure, EXIT_INTERRUPTED, EXIT_OK, EXIT_PROVIDER,
};
use crate::api::request::json_schema_format;
use crate::api::{ChatParams, StreamEvent};
use crate::config::Config;
use crate::engine::Engine;
use crate::session::store::{self, Recorder, Session, Settings};
use crate::session::{Conversation, TurnState};

/// Styling for stderr, off when it is not a terminal or NO_COLOR is set.
/// What goes to stderr on a terminal is shown safely (`crate::sanitize`): a server's text
/// never reaches it as escape sequences; only `paint`'s own colours do.
struct Style {
    on: bool,
    tty: bool,
}

impl Style {
    fn detect() -> Self {
        let no_color = std::env::var_os("NO_COLOR").is_some_and(|v| !v.is_empty());
        let tty = std::io::stderr().is_terminal();
        Style {
            on: tty && !no_color,
            tty,
        }
    }
    fn paint(&self, code: &str, s: &str) -> String {
        let s = if self.tty {
            crate::sanitize::for_terminal(s)
        } else {
            s.into()
        };
        if self.on {
            format!("\x1b[{code}m{s}\x1b[0m")
        } else {
            s.into_owned()
        }
    }
}

pub(super) fn read_prompt(args: &AskArgs) -> Result<String, Failure> {
    let mut prompt = args.gen.prompt.join(" ");
    let stdin = std::io::stdin();
    if !stdin.is_terminal() {
        let mut piped = String::new();
        stdin
            .lock()
            .read_to_string(&mut piped)
            .map_err(|e| Failure::Usage(format!("cannot read stdin: {e}")))?;
        if !piped.trim().is_empty() {
            if prompt.is_empty() {
                prompt = piped;
            } else {
                prompt = format!("{prompt}\n\n{piped}");
            }
        }
    }
    if prompt.trim().is_empty() {
        return Err(Failure::Usage(
            "no prompt: give one as an argument or on stdin (grokpair ask \"…\")".into(),
        ));
    }
    Ok(prompt)
}

pub(super) fn params(args: &AskArgs) -> Result<ChatParams, Failure> {
    let response_format = match &args.json_schema {
        None => None,
        Some(path) => {
            let text = std::fs::read_to_string(path)
                .map_err(|e| Failure::Usage(format!("--json-schema {}: {e}", path.display())))?;
            let schema: serde_json::Value = serde_json::from_str(&text).map_err(|e| {
                Failure::Usage(format!(
                    "--json-schema {}: line {}, column {}: {e}",
                    path.display(),
                    e.line(),
                    e.column()
                ))
            })?;
            let name = schema
                .get("title")
                .and_then(|t| t.as_str())
                .map(str::to_string)
                .or_else(|| path.file_stem().map(|s| s.to_string_lossy().into_owned()))
                .unwrap_or_else(|| "answer".into());
            Some(json_schema_format(&name, schema))
        }
    };
    let params = ChatParams {
        temperature: args.gen.temperature,
        top_p: args.gen.top_p,
        max_tokens: args.gen.max_tokens,
        seed: args.gen.seed,
        stop: args.stop.clone(),
        presence_penalty: args.presence_penalty,
        frequency_penalty: args.frequency_penalty,
        reasoning_effort: args.gen.reasoning_effort.clone(),
        response_format,
        ..ChatParams::default()
    };
    params.validate().map_err(|(key, message)| {
        Failure::Usage(format!("--{}: {message}", key.replace('_', "-")))
    })?;
    Ok(params)
}

/// The conversation a run continues (or starts) and where it is recorded.
struct Target {
    conv: Conversation,
    rec: Recorder,
    turn: usize,
    session: Option<Session>,
}

fn target(
    cfg: &Config,
    args: &AskArgs,
    no_save: bool,
    system: Option<&str>,
) -> Result<Target, Failure> {
    let dir = cfg.sessions_dir();
    // `--no-save` and `autosave = false` hold for a continued session too.
    let save = cfg.autosave && !no_save;
    let existing = if let Some(name) = &args.session {
        if !store::valid_name(name) {
            return Err(Failure::Usage(format!(
                "--session {name:?}: use letters, digits, '-', '_' and '.'"
            )));
        }
        let path = dir.join(format!("{name}.jsonl"));
        if !path.is_file() {
            store::private_dir(&dir)
                .map_err(|e| Failure::Usage(format!("{}: {e}", dir.display())))?;
            let mut rec = Recorder::named(&dir, name, save);
            rec.hold(store::lock_session(&path).map_err(Failure::Usage)?);
            return Ok(Target {
                conv: Conversation::new(system),
                rec,
                turn: 0,
                session: None,
            });
        }
        Some(path)
    } else if args.continue_last {
        let latest = store::list(&dir)
            .into_iter()
            .find(|p| store::load(p).is_ok_and(|s| s.header.kind == "chat" && !s.turns.is_empty()));
        match latest {
            Some(p) => Some(p),
            None => {
                return Err(Failure::Usage(format!(
                    "--continue: no saved conversation in {}",
                    dir.display()
                )))
            }
        }
    } else {
        None
    };
    match existing {
        Some(path) => {
            let lock = store::lock_session(&path).map_err(Failure::Usage)?;
            // Loaded under the lock: what another run wrote before is all there.
            let s = store::load(&path).map_err(|e| Failure::Usage(e.to_string()))?;
            let mut rec = Recorder::continue_session(&s, save);
            rec.hold(lock);
            Ok(Target {
                conv: s.conversation(),
                rec,
                turn: s.turns.last().map(|t| t.turn + 1).unwrap_or(0),
                session: Some(s),
            })
        }
        None => Ok(Target {
            conv: Conversation::new(system),
            rec: Recorder::new(&dir, save),
            turn: 0,
            session: None,
        }),
    }
}

pub async fn run(
    cfg: &Config,
    provider_flag: Option<&str>,
    model_flag: Option<&str>,
    no_save: bool,
    args: AskArgs,
) -> Result<i32, Failure> {
    let mut params = params(&args)?;
    params.or_defaults(&cfg.sampling);
    let system = args.gen.system.as_deref().or(cfg.system.as_deref());
    let Target {
        mut conv,
        rec,
        turn: turn_idx,
        session,
    } = target(cfg, &args, no_save, system)?;
    // A continued conversation keeps its provider and model unless told otherwise.
    let last = session.as_ref().and_then(|s| s.current_model());
    let provider_flag = provider_flag.or(last.map(|(p, _)| p));
    let provider = pick_provider(cfg, provider_flag)?;
    let model_flag = model_flag.or(last.filter(|(p, _)| *p == provider.name).map(|(_, m)| m));
    require_key(provider, cfg)?;
    let live = super::with_live_catalog(cfg, &[provider], args.quiet).await;
    let cfg = &live;
    let prompt = read_prompt(&args)?;
    let engine = Engine::new(cfg, &super::with_api(provider, args.gen.api))
        .map_err(|e| Failure::Provider(e.to_string()))?;
    let model = engine
        .resolve_model(cfg, model_flag)
        .await
        .map_err(|e| Failure::Provider(format!("{}: {e}", provider.name)))?;
    if session.is_some() && args.gen.system.is_some() {
        eprintln!(
            "grokpair: note: --system ignored: a continued conversation keeps its history (changing it would break the prompt cache)"
        );
    }
    conv.push_user(prompt);
    let settings = Settings {
        system: system.map(str::to_string),
        params: params.clone(),
    };
    let mut runner = crate::runner::Runner::new(rec);
    let mut round = runner.start(
        &engine,
        cfg,
        &conv,
        &model,
        &settings,
        crate::session::exchange::RoundId::first(turn_idx),
    );

    let style = Style::detect();
    let mut out = crate::sanitize::stdout();
    let mut err = std::io::stderr();
    if let Some(n) = round.notice.take() {
        if args.json {
            let _ = writeln!(
                out,
                "{}",
                serde_json::json!({"type": "notice", "t_ms": 0, "message": n})
            );
        } else {
            let _ = writeln!(err, "{}", style.paint("33", &format!("note: {n}")));
        }
        runner.note(&mut round, n);
    }

    let mut in_reasoning = false;
    let mut wrote_content = false;
    // One listener for the whole stream, so that no Ctrl+C is missed between events; if
    // listening fails, run without it rather than treat the failure as an interrupt.
    let ctrl_c = async {
        if tokio::signal::ctrl_c().await.is_err() {
            std::future::pending::<()>().await;
        }
    };
    tokio::pin!(ctrl_c);
    let interrupted = loop {
        let ev = tokio::select! {
            ev = runner.next(&mut round) => ev,
            _ = &mut ctrl_c => break true,
        };
        let Some(ev) = ev else { break false };
        if args.json {
            let _ = writeln!(out, "{}", event_json(&ev));
            let _ = out.flush();
            continue;
        }
        match &ev.event {
            StreamEvent::Reasoning(r) if args.show_reasoning => {
                if !in_reasoning {
                    let _ = write!(err, "{}", style.paint("2;3", "thinking: "));
                    in_reasoning = true;
                }
                let _ = write!(err, "{}", style.paint("2", r));
                let _ = err.flush();
            }
            StreamEvent::Content(c) => {
                if in_reasoning {
                    let _ = writeln!(err);
                    in_reasoning = false;
                }
                wrote_content = true;
                let _ = write!(out, "{c}");
                let _ = out.flush();
            }
            StreamEvent::Notice(n) => {
                let _ = writeln!(err, "{}", style.paint("33", &format!("note: {n}")));
            }
            StreamEvent::ServerTool(t) => {
                let line = crate::session::report::server_tool_line(t);
                let _ = writeln!(err, "{}", style.paint("2", &format!("⚙ {line}")));
            }
            StreamEvent::DoomLoop(d) => {
                let _ = writeln!(
                    err,
                    "{}",
                    style.paint("33", &format!("note: the provider's loop check fired: {d}"))
                );
            }
            StreamEvent::Retrying {
                attempt,
                delay,
                error,
            } => {
                let _ = writeln!(
                    err,
                    "{}",
                    style.paint(
                        "33",
                        &format!(
                            "retrying in {:.1}s (attempt {} of {}): {error}",
                            delay.as_secs_f64(),
                            attempt + 1,
                            cfg.net.max_retries + 1
                        )
                    )
                );
            }
            _ => {}
        }
    };
    if interrupted {
        runner.cancel(&mut round, None);
    }
    let (_, report) = runner.close(&mut round, &mut conv, &cfg.catalog);
    let turn = round.turn;
    let mut rec = runner.rec;
    if let Some(e) = rec.take_error() {
        let _ = writeln!(err, "{}", style.paint("33", &format!("note: {e}")));
    }
    if args.json {
        let mut v = serde_json::to_value(&report).unwrap_or_default();
        if let serde_json::Value::Object(o) = &mut v {
            o.insert("type".into(), "summary".into());
            o.insert("conversation_id".into(), conv.id.clone().into());
            if let Some(p) = rec.path() {
                let id = p.file_stem().map(|s| s.to_string_lossy().into_owned());
                o.insert("session".into(), id.into());
            }
            if let Some(c) = &report.cost {
                let usd = |t: Option<i64>| t.map(|t| t as f64 / 1e10);
                o.insert("cost_usd".into(), usd(c.total_ticks).into());
                o.insert("savings_usd".into(), usd(c.savings_ticks).into());
                o.insert("savings_pct".into(), c.savings_pct().into());
            }
            if !turn.tool_calls.is_empty() {
                o.insert(
                    "tool_calls".into(),
                    serde_json::to_value(&turn.tool_calls).unwrap_or_default(),
                );
            }
        }
        let _ = writeln!(out, "{v}");
        let _ = out.flush();
    } else {
        if in_reasoning {
            let _ = writeln!(err);
        }
        if wrote_content && !turn.content.ends_with('\n') {
            let _ = writeln!(out);
        }
        // The sources belong with the answer: `ask … > answer.md` keeps them.
        if !turn.citations.is_empty() {
            let _ = writeln!(out, "\nSources:");
            for (i, c) in turn.citations.iter().enumerate() {
                let _ = writeln!(out, "{}", crate::session::report::citation_line(i, c));
            }
        }
        let _ = out.flush();
        for tc in &turn.tool_calls {
            let _ = writeln!(
                err,
                "{}",
                style.paint(
                    "36",
                    &format!("tool call: {}({})", tc.function.name, tc.function.arguments)
                )
            );
        }
        if turn.state == TurnState::Done && turn.content.is_empty() && turn.tool_calls.is_empty() {
            let reason = turn.finish_reason.as_deref().unwrap_or("none");
            let _ = writeln!(
                err,
                "{}",
                style.paint(
                    "33",
                    &format!("note: the model sent no answer (finish reason: {reason})")
                )
            );
        }
        match (&turn.error, turn.state) {
            (Some(e), _) => {
                let kept = if turn.content.is_empty() && turn.reasoning.is_empty() {
                    String::new()
                } else {
                    format!(
                        " (kept {} chars of answer, {} of reasoning)",
                        turn.content.chars().count(),
                        turn.reasoning.chars().count()
                    )
                };
                let _ = writeln!(
                    err,
                    "{}",
                    style.paint("31", &format!("error: {}: {e}{kept}", provider.name))
                );
            }
            (None, TurnState::Cancelled) => {
                let _ = writeln!(
                    err,
                    "{}",
                    style.paint("33", "interrupted; partial answer kept above")
                );
            }
            _ => {}
        }
        if !args.quiet {
            let _ = writeln!(err, "{}", style.paint("2", &report.summary_line()));
        }
    }
    Ok(match turn.state {
        TurnState::Cancelled => EXIT_INTERRUPTED,
        TurnState::Failed => EXIT_PROVIDER,
        _ => EXIT_OK,
    })
}
