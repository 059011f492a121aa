//! `grokpair exec`: the agent loop without a screen. The model reads, edits and runs what
//! the policy lets it (`--mode`, `--approve`); nothing can be asked, so a call that would
//! ask is denied and the model is told. The answer goes to stdout; tool calls and figures to
//! stderr (or every step as NDJSON with `--json`).

use std::collections::VecDeque;
use std::io::{IsTerminal, Write};

use super::output::event_json;
use super::{
    pick_provider, require_key, ExecArgs, Failure, EXIT_INTERRUPTED, EXIT_OK, EXIT_PROVIDER,
};
use crate::agent::{Agent, Setup, Step};
use crate::api::StreamEvent;
use crate::config::Config;
use crate::engine::Engine;
use crate::session::agent::{Decision, Limits, Outcome};
use crate::session::approval::Rule;
use crate::session::exchange::RoundId;
use crate::session::store::{Recorder, Settings, ToolStatus};
use crate::session::Conversation;

/// Stopped by the budget, the step cap or the loop guard.
pub const EXIT_STOPPED: i32 = 3;

/// What a denied call tells the model when there is no one to ask.
const NO_ONE: &str =
    "no one to approve it (grokpair exec runs unattended: --mode or --approve allow more)";

struct Out {
    json: bool,
    quiet: bool,
    color: bool,
    tty: bool,
    out: crate::sanitize::SafeWriter<std::io::StdoutLock<'static>>,
    err: std::io::Stderr,
}

impl Out {
    fn event(&mut self, v: serde_json::Value) {
        if self.json {
            let _ = writeln!(self.out, "{v}");
            let _ = self.out.flush();
        }
    }
    fn note(&mut self, code: &str, s: &str) {
        if self.json || self.quiet && code != "31" {
            return;
        }
        let s = if self.tty {
            crate::sanitize::for_terminal(s).into_owned()
        } else {
            s.to_string()
        };
        let _ = if self.color {
            writeln!(self.err, "\x1b[{code}m{s}\x1b[0m")
        } else {
            writeln!(self.err, "{s}")
        };
    }
}

pub async fn run(
    cfg: &Config,
    provider_flag: Option<&str>,
    model_flag: Option<&str>,
    no_save: bool,
    workspace: Option<&std::path::Path>,
    args: ExecArgs,
) -> Result<i32, Failure> {
    // (`--mode` and `--max-cost` are applied to the config already.)
    let mut agent_cfg = cfg.agent.clone();
    for r in &args.approve {
        agent_cfg
            .allow
            .push(Rule::parse(r).map_err(|e| Failure::Usage(format!("--approve: {e}")))?);
    }
    if let Some(n) = args.max_steps {
        if n == 0 {
            return Err(Failure::Usage("--max-steps: at least 1".into()));
        }
        agent_cfg.max_steps = n;
    }
    let root = match workspace {
        Some(d) => d.to_path_buf(),
        None => std::env::current_dir().map_err(|e| Failure::Usage(format!("cwd: {e}")))?,
    };
    let mut params = super::ask::params(&super::AskArgs {
        gen: args.gen.clone(),
        ..Default::default()
    })?;
    params.or_defaults(&cfg.sampling);
    let provider = pick_provider(cfg, provider_flag)?;
    require_key(provider, cfg)?;
    let live = super::with_live_catalog(cfg, &[provider], args.quiet || args.json).await;
    let cfg = &live;
    let prompt = super::ask::read_prompt(&super::AskArgs {
        gen: args.gen.clone(),
        ..Default::default()
    })?;
    let engine = Engine::new(cfg, &super::with_api(provider, args.gen.api))
        .map_err(|e| Failure::Provider(e.to_string()))?;
    let model = engine
        .resolve_model(cfg, model_flag)
        .await
        .map_err(|e| Failure::Provider(format!("{}: {e}", provider.name)))?;

    let mut agent = Agent::new(Setup {
        workspace: root.clone(),
        policy: agent_cfg.policy(),
        limits: Limits {
            max_steps: agent_cfg.max_steps,
            budget: agent_cfg
                .max_cost
                .map(|c| crate::session::catalog::usd_to_ticks(c) as i64),
            ..Limits::default()
        },
        hide_env: provider.api_key_env.iter().cloned().collect(),
    })
    .map_err(|e| Failure::Usage(format!("--cd: {e}")))?;
    let (instr_files, instr) = crate::agent::project_instructions(agent.root(), agent.root());
    let system = crate::agent::system_prompt(
        args.gen.system.as_deref().or(cfg.system.as_deref()),
        agent.root(),
        &instr,
    );
    let mut conv = Conversation::new(Some(&system));
    conv.push_user(prompt);
    let settings = Settings {
        system: Some(system.clone()),
        params,
    };
    let mut runner =
        crate::runner::Runner::new(Recorder::new(&cfg.sessions_dir(), cfg.autosave && !no_save));
    runner.rec.set_kind("agent");
    runner.tools = agent.specs();
    agent.begin(0);

    let tty = std::io::stderr().is_terminal();
    let mut o = Out {
        json: args.json,
        quiet: args.quiet,
        color: tty && std::env::var_os("NO_COLOR").is_none_or(|v| v.is_empty()),
        tty,
        out: crate::sanitize::stdout(),
        err: std::io::stderr(),
    };
    if !instr_files.is_empty() {
        o.note("2", &format!("instructions: {}", instr_files.join(", ")));
    }
    o.event(
        serde_json::json!({"type": "start", "workspace": agent.root().display().to_string(),
        "mode": agent.mode().name(), "model": model, "instructions": instr_files}),
    );

    let ctrl_c = async {
        if tokio::signal::ctrl_c().await.is_err() {
            std::future::pending::<()>().await;
        }
    };
    tokio::pin!(ctrl_c);
    let mut spent: i64 = 0;
    let mut cost_known = true;
    let mut round_no = 0usize;
    let mut rec = 0usize;
    let mut answer_open = false;
    let outcome = 'rounds: loop {
        o.event(serde_json::json!({"type": "round", "round": round_no}));
        let id = RoundId {
            rec,
            exchange: 0,
            round: round_no,
        };
        let mut round = runner.start(&engine, cfg, &conv, &model, &settings, id);
        agent.attach(runner.rec.path());
        if let Some(n) = round.notice.take() {
            o.note("33", &format!("note: {n}"));
            runner.note(&mut round, n);
        }
        let mut interrupted = false;
        loop {
            let ev = tokio::select! {
                ev = runner.next(&mut round) => ev,
                _ = &mut ctrl_c => { interrupted = true; None }
            };
            let Some(ev) = ev else { break };
            if o.json {
                // A call's fragments: the whole call follows as one `tool_call` event.
                if matches!(ev.event, StreamEvent::ToolCall(_)) {
                    continue;
                }
                let mut v = event_json(&ev);
                v["round"] = round_no.into();
                o.event(v);
                continue;
            }
            match &ev.event {
                StreamEvent::Reasoning(r) if args.show_reasoning => {
                    let _ = write!(o.err, "{}", crate::sanitize::for_terminal(r));
                }
                StreamEvent::Content(c) => {
                    answer_open = !c.ends_with('\n');
                    let _ = write!(o.out, "{c}");
                    let _ = o.out.flush();
                }
                StreamEvent::Retrying { attempt, error, .. } => {
                    o.note(
                        "33",
                        &format!("retrying (attempt {}): {error}", attempt + 1),
                    );
                }
                StreamEvent::Notice(n) => o.note("33", &format!("note: {n}")),
                _ => {}
            }
        }
        if interrupted {
            runner.cancel(&mut round, None);
        }
        let (_, report) = runner.close(&mut round, &mut conv, &cfg.catalog);
        if answer_open {
            let _ = writeln!(o.out);
            answer_open = false;
        }
        match report.cost.as_ref().and_then(|c| c.total_ticks) {
            Some(t) => spent += t,
            None if round.turn.usage.is_some() && !provider.free => cost_known = false,
            None => {}
        }
        let turn = &round.turn;
        if !turn.content.is_empty() {
            o.event(serde_json::json!({"type": "answer", "round": round_no, "text": turn.content}));
        }
        o.event(serde_json::json!({"type": "cost", "round": round_no,
            "cost_usd": report.cost.as_ref().and_then(|c| c.total_ticks).map(|t| t as f64 / 1e10),
            "session_usd": spent as f64 / 1e10, "prompt_tokens": report.prompt_tokens,
            "cached_tokens": report.cached_tokens, "completion_tokens": report.completion_tokens,
            "reasoning_tokens": report.reasoning_tokens}));
        if let Some(e) = &turn.error {
            o.note("31", &format!("error: {}: {e}", provider.name));
            if crate::agent::rejects_tools(e) {
                o.note(
                    "33",
                    "the server refused the tools: exec needs one that takes them (llama-server --jinja, a tool-capable model); `grokpair ask` chats without them",
                );
            }
        }
        if !o.json && !args.quiet {
            o.note("2", &report.summary_line());
        }
        for c in &turn.tool_calls {
            o.event(
                serde_json::json!({"type": "tool_call", "round": round_no, "call_id": c.id,
                "name": c.function.name, "arguments": c.function.arguments}),
            );
        }
        let mut queue: VecDeque<Step> = agent
            .round_ended(&mut runner, rec, turn, spent, &mut conv)
            .into();
        loop {
            while let Some(step) = queue.pop_front() {
                match step {
                    Step::Send => {
                        round_no += 1;
                        rec += 1;
                        continue 'rounds;
                    }
                    Step::Done(out) => break 'rounds out,
                    Step::Ask(a) => {
                        o.event(serde_json::json!({"type": "decision", "call_id": a.call_id,
                            "decision": "deny", "by": "exec (no one to ask)",
                            "dangerous": a.dangerous}));
                        o.note(
                            "33",
                            &format!("⚙ {} {}: denied ({NO_ONE})", a.call.tool, a.call.target),
                        );
                        queue.extend(agent.decide(
                            &mut runner,
                            &a.call_id,
                            Decision::Deny(Some(NO_ONE.into())),
                            &mut conv,
                        ));
                    }
                    Step::Started {
                        call_id,
                        name,
                        title,
                        by,
                    } => {
                        o.event(serde_json::json!({"type": "decision", "call_id": call_id,
                            "decision": "allow", "by": by}));
                        o.event(
                            serde_json::json!({"type": "tool_started", "call_id": call_id,
                            "name": name, "title": title}),
                        );
                        o.note("36", &format!("⚙ {title} …"));
                    }
                    Step::Output { call_id, line } => {
                        o.event(serde_json::json!({"type": "tool_output", "call_id": call_id, "line": line}));
                        if !o.json && !args.quiet {
                            o.note("2", &format!("  │ {line}"));
                        }
                    }
                    Step::Ended(r) => {
                        if let Some(d) = &r.diff {
                            o.event(serde_json::json!({"type": "diff", "call_id": r.call_id, "diff": d}));
                        }
                        o.event(
                            serde_json::json!({"type": "tool_result", "call_id": r.call_id,
                            "name": r.name, "status": r.status, "summary": r.summary,
                            "ms": r.ms, "exit": r.exit, "changed": r.changed, "output": r.output}),
                        );
                        let mark = match r.status {
                            ToolStatus::Ok => "✓",
                            _ => "✗",
                        };
                        o.note(
                            if r.status == ToolStatus::Ok {
                                "36"
                            } else {
                                "33"
                            },
                            &format!("⚙ {} {} {mark}", r.title, r.summary),
                        );
                        if let Some(d) = &r.diff {
                            if !o.json && !args.quiet {
                                for l in d.lines() {
                                    let code = if l.starts_with('+') {
                                        "32"
                                    } else if l.starts_with('-') {
                                        "31"
                                    } else {
                                        "2"
                                    };
                                    o.note(code, l);
                                }
                            }
                        }
                    }
                }
            }
            if !agent.busy() {
                // Nothing running and nothing to do: the loop waits on nothing.
                break 'rounds Outcome::Failed;
            }
            let msg = tokio::select! {
                m = agent.wait() => Some(m),
                _ = &mut ctrl_c => None,
            };
            match msg {
                Some(m) => queue.extend(agent.received(&mut runner, m, &mut conv)),
                None => queue.extend(agent.stop(&mut runner, &mut conv)),
            }
        }
    };
    let code = match &outcome {
        Outcome::Done => EXIT_OK,
        Outcome::Failed => EXIT_PROVIDER,
        Outcome::Stopped => EXIT_INTERRUPTED,
        _ => EXIT_STOPPED,
    };
    let why = match &outcome {
        Outcome::Done => None,
        Outcome::Failed => Some("the round failed".to_string()),
        Outcome::Stopped => Some("interrupted; every call was answered".to_string()),
        Outcome::StepCap => Some(format!(
            "stopped: the limit of {} tool steps was reached (--max-steps)",
            agent_cfg.max_steps
        )),
        Outcome::Repeating { tool, count } => Some(format!(
            "stopped: the same {tool} call with the same result came {count} times in a row"
        )),
        Outcome::Budget { spent, budget } => Some(format!(
            "stopped: the budget is spent ({} of {}; --max-cost)",
            crate::session::pricing::format_usd(*spent),
            crate::session::pricing::format_usd(*budget)
        )),
        Outcome::DoomLoop(d) => Some(format!("stopped: the provider's loop check fired: {d}")),
    };
    if let Some(w) = &why {
        o.note(if code == EXIT_PROVIDER { "31" } else { "33" }, w);
    }
    if let Some(e) = runner.rec.take_error() {
        o.note("33", &format!("note: {e}"));
    }
    let total = format!(
        "{}{}",
        if cost_known { "" } else { "≥" },
        crate::session::pricing::format_usd(spent)
    );
    o.note(
        "2",
        &format!(
            "{}, {}, {total}",
            crate::session::count(agent.rounds, "round", "rounds"),
            crate::session::count(agent.calls, "tool call", "tool calls")
        ),
    );
    let session = runner
        .rec
        .path()
        .and_then(|p| p.file_stem())
        .map(|s| s.to_string_lossy().into_owned());
    o.event(
        serde_json::json!({"type": "summary", "outcome": format!("{outcome:?}"),
        "reason": why, "exit_code": code, "rounds": agent.rounds, "tool_calls": agent.calls,
        "cost_usd": spent as f64 / 1e10, "cost_known": cost_known,
        "conversation_id": conv.id, "session": session}),
    );
    Ok(code)
}
