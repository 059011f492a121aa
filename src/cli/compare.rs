//! `grokpair compare`: one prompt to 2–4 models at once; a Markdown table of their figures and
//! each answer on stdout (or NDJSON events and a summary object with `--json`).

use crate::session::report::seconds;
use std::io::Write;

use serde_json::{json, Value};

use super::output::event_json;
use super::{pick_provider, require_key, AskArgs, CompareArgs, Failure};
use super::{EXIT_INTERRUPTED, EXIT_OK, EXIT_PROVIDER};
use crate::api::{StreamEvent, TimedEvent};
use crate::config::Config;
use crate::engine::{ColumnPlan, Engine};
use crate::runner::{ColumnStep, Runner};
use crate::session::compare::{self, Column, ColumnReport, Winners};
use crate::session::store::{Recorder, Settings};
use crate::session::{format_usd, Conversation, CostSource, TurnState};

/// The column's name in headings: its letter, the model that answered and its own settings.
fn column_name(i: usize, c: &ColumnReport) -> String {
    format!("{} · {}", compare::letter(i), c.model_label())
}

fn state_word(s: TurnState) -> &'static str {
    match s {
        TurnState::Done => "done",
        TurnState::Failed => "failed",
        TurnState::Cancelled => "cancelled",
        TurnState::Connecting => "connecting",
        TurnState::Thinking => "thinking",
        TurnState::Answering => "answering",
    }
}

fn cost_cell(c: &ColumnReport) -> (String, String) {
    match &c.report.cost {
        Some(cost) if cost.source == CostSource::Free => ("free".into(), "—".into()),
        Some(cost) => {
            let total = cost
                .total_ticks
                .map(format_usd)
                .unwrap_or_else(|| "unknown".into());
            let saved = cost.savings_label().unwrap_or_else(|| "—".into());
            (total, saved)
        }
        None => ("—".into(), "—".into()),
    }
}

/// The Markdown report: the figures table, the winners, then each answer.
pub fn markdown(
    prompt: &str,
    cols: &[Column],
    reports: &[ColumnReport],
    winners: &Winners,
    reasoning: bool,
) -> String {
    let mut s = String::from("# Comparison\n\n");
    for line in prompt.trim().lines().take(6) {
        s.push_str(&format!("> {line}\n"));
    }
    s.push('\n');
    s.push_str(
        "| | model | status | ttft | tok/s | time | prompt (cached) | output | reasoning | cost | cache saved |\n\
         |---|---|---|---:|---:|---:|---:|---:|---:|---:|---:|\n",
    );
    for c in reports {
        let r = &c.report;
        let approx = if r.tokens_estimated { "~" } else { "" };
        let prompt = match (r.prompt_tokens, r.cached_tokens) {
            (Some(p), Some(k)) => format!("{p} ({k})"),
            (Some(p), None) => p.to_string(),
            _ => "—".into(),
        };
        let (cost, saved) = cost_cell(c);
        s.push_str(&format!(
            "| {} | {} | {} | {} | {} | {} | {} | {approx}{} | {approx}{} | {} | {} |\n",
            c.label,
            c.model_label().replace('|', "\\|"),
            state_word(r.state),
            seconds(r.ttft_ms),
            r.tokens_per_sec
                .map(|t| format!("{t:.0}"))
                .unwrap_or_else(|| "—".into()),
            seconds(c.duration_ms),
            prompt,
            r.output_tokens.saturating_sub(r.reasoning_tokens),
            r.reasoning_tokens,
            cost,
            saved,
        ));
    }
    let items = winners.items();
    if !items.is_empty() {
        s.push('\n');
        let parts: Vec<String> = items
            .iter()
            .map(|(what, col, fig)| {
                let mut w = what.to_string();
                w[..1].make_ascii_uppercase();
                format!("**{w}:** {} ({fig})", column_name(*col, &reports[*col]))
            })
            .collect();
        s.push_str(&parts.join(" · "));
        s.push('\n');
    }
    for (i, (c, r)) in cols.iter().zip(reports).enumerate() {
        s.push_str(&format!("\n## {}\n\n", column_name(i, r)));
        if reasoning && !c.turn.reasoning.trim().is_empty() {
            s.push_str(&format!(
                "<details><summary>reasoning ({} tokens)</summary>\n\n{}\n\n</details>\n\n",
                r.report.reasoning_tokens,
                c.turn.reasoning.trim()
            ));
        }
        if c.turn.content.trim().is_empty() {
            if c.turn.error.is_none() && c.turn.state == TurnState::Done {
                s.push_str("_(no answer text)_\n");
            }
        } else {
            s.push_str(c.turn.content.trim_end());
            s.push('\n');
        }
        for tc in &c.turn.tool_calls {
            s.push_str(&format!(
                "\n_tool call:_ `{}({})`\n",
                tc.function.name, tc.function.arguments
            ));
        }
        if let Some(e) = &c.turn.error {
            let kept = if c.turn.content.is_empty() {
                ""
            } else {
                " (partial answer above)"
            };
            s.push_str(&format!("\n> **error** ({}): {e}{kept}\n", c.provider));
        } else if c.turn.state == TurnState::Cancelled {
            s.push_str("\n> **cancelled** (partial answer above)\n");
        }
    }
    s
}

/// The final `--json` object.
pub fn summary_json(
    prompt: &str,
    conv_id: &str,
    session: Option<String>,
    reports: &[ColumnReport],
    winners: &Winners,
) -> Value {
    let columns: Vec<Value> = reports
        .iter()
        .map(|c| {
            let mut v = serde_json::to_value(c).unwrap_or_default();
            if let (Value::Object(o), Some(cost)) = (&mut v, &c.report.cost) {
                let usd = |t: Option<i64>| t.map(|t| t as f64 / 1e10);
                o.insert("cost_usd".into(), usd(cost.total_ticks).into());
                o.insert("savings_usd".into(), usd(cost.savings_ticks).into());
            }
            v
        })
        .collect();
    let win = |w: Option<(usize, Value)>| match w {
        Some((col, value)) => json!({
            "column": col,
            "label": compare::letter(col).to_string(),
            "model": reports[col].report.model_label(),
            "value": value,
        }),
        None => Value::Null,
    };
    json!({
        "type": "summary",
        "prompt": prompt,
        "conversation_id": conv_id,
        "session": session,
        "columns": columns,
        "winners": {
            "first_token_ms": win(winners.first_token.map(|w| (w.column, w.value.into()))),
            "fastest_ms": win(winners.fastest.map(|w| (w.column, w.value.into()))),
            "cheapest_ticks": win(winners.cheapest.map(|w| (w.column, w.value.into()))),
            "most_reasoning_tokens": win(winners.most_reasoning.map(|w| (w.column, w.value.into()))),
        },
    })
}

pub async fn run(
    cfg: &Config,
    provider_flag: Option<&str>,
    models: &[String],
    no_save: bool,
    args: CompareArgs,
) -> Result<i32, Failure> {
    let ask = AskArgs {
        gen: args.gen.clone(),
        ..Default::default()
    };
    let mut params = super::ask::params(&ask)?;
    params.or_defaults(&cfg.sampling);
    let default_provider = pick_provider(cfg, provider_flag)?.name.clone();
    let names: Vec<String> = cfg.providers.keys().cloned().collect();
    let targets = compare::parse_targets(models, &names, &default_provider)
        .map_err(|e| Failure::Usage(format!("{e} (give each with -m: compare -m A -m B)")))?;
    let prompt = super::ask::read_prompt(&ask)?;
    let mut engines = Vec::new();
    for t in &targets {
        let p = pick_provider(cfg, Some(&t.provider))?;
        require_key(p, cfg)?;
        let engine = Engine::new(cfg, &super::with_api(p, ask.gen.api))
            .map_err(|e| Failure::Provider(e.to_string()))?;
        let mut column = params.clone();
        column.apply(&t.settings).map_err(Failure::Usage)?;
        engines.push((p, engine, t.model.as_deref(), column, t.settings.as_str()));
    }
    let mut providers: Vec<&crate::config::Provider> = Vec::new();
    for (p, ..) in &engines {
        if !providers.iter().any(|q| q.name == p.name) {
            providers.push(p);
        }
    }
    let live = super::with_live_catalog(cfg, &providers, args.quiet).await;
    let cfg = &live;
    // Servers asked for their models all at once: a slow one holds up only that lookup.
    let models = futures_util::future::join_all(engines.iter().map(|(p, e, m, ..)| async move {
        e.resolve_model(cfg, *m)
            .await
            .map_err(|e| Failure::Provider(format!("{}: {e}", p.name)))
    }))
    .await;
    let mut columns = Vec::new();
    for ((p, engine, _, params, settings), model) in engines.into_iter().zip(models) {
        let model = model?;
        let col = Column::new(&p.name, &model, p.completion_includes_reasoning, p.free)
            .with_settings(settings);
        columns.push((
            col,
            Ok(ColumnPlan {
                engine,
                model,
                params,
            }),
        ));
    }
    let system = args.gen.system.as_deref().or(cfg.system.as_deref());
    let base = Conversation::new(system);
    let mut asked = base.clone();
    asked.push_user(prompt.clone());
    let settings = Settings {
        system: system.map(str::to_string),
        params: params.clone(),
    };
    let rec = Recorder::new(&cfg.sessions_dir(), cfg.autosave && !no_save);
    let mut runner = Runner::new(rec);
    let ids = (0..columns.len()).collect();
    let mut run = runner.start_compare(cfg, &asked, &settings, columns, ids);
    let mut out = crate::sanitize::stdout();
    let mut err = crate::sanitize::stderr();
    let ctrl_c = async {
        if tokio::signal::ctrl_c().await.is_err() {
            std::future::pending::<()>().await;
        }
    };
    tokio::pin!(ctrl_c);
    let mut interrupted = false;
    // Whose first token was told (events of one millisecond share their time).
    let mut told = vec![false; run.cols.len()];
    loop {
        let step = tokio::select! {
            s = runner.next_column(&mut run) => s,
            _ = &mut ctrl_c => { interrupted = true; break; }
        };
        let Some((i, step)) = step else { break };
        let cols = &run.cols;
        match step {
            ColumnStep::Sent(at) => {
                if args.json {
                    let _ = writeln!(
                        out,
                        "{}",
                        json!({"type": "sent", "column": i, "model": cols[i].turn.asked_model,
                               "provider": cols[i].provider, "t_ms": at.as_millis() as u64})
                    );
                }
            }
            ColumnStep::Event(ev) => {
                let first = ev.event.is_output()
                    && cols[i].turn.timing.first_output.is_some()
                    && !matches!(ev.event, StreamEvent::Notice(_))
                    && !std::mem::replace(&mut told[i], true);
                if first && !args.json && !args.quiet {
                    let _ = writeln!(
                        err,
                        "{}: first token {:.2}s",
                        cols[i].name(i),
                        ev.at.as_secs_f64()
                    );
                }
                emit(&mut out, &mut err, &args, cols, i, &ev);
            }
            ColumnStep::Ended(r) => progress(&mut err, &args, cols, i, &r),
        }
    }
    if interrupted {
        // What is still running ends here, with what it had; a column never sent is on
        // record with no events.
        runner.cancel_compare(&mut run);
        while let Some((i, step)) = runner.poll_column(&mut run) {
            if let ColumnStep::Ended(r) = step {
                progress(&mut err, &args, &run.cols, i, &r);
            }
        }
    }
    runner.flush();
    let mut rec = runner.rec;
    let reports: Vec<ColumnReport> = run.reports();
    let cols = &run.cols;
    let winners = compare::winners(&reports);
    let session = rec
        .path()
        .and_then(|p| p.file_stem())
        .map(|s| s.to_string_lossy().into_owned());
    if let Some(e) = rec.take_error() {
        let _ = writeln!(err, "note: {e}");
    }
    if args.json {
        let v = summary_json(&prompt, &base.id, session, &reports, &winners);
        let _ = writeln!(out, "{v}");
    } else {
        let md = markdown(&prompt, cols, &reports, &winners, args.show_reasoning);
        let _ = write!(out, "{md}");
        if !args.quiet {
            if let Some(s) = session {
                let _ = writeln!(err, "saved as session {s}");
            }
        }
    }
    let _ = out.flush();
    Ok(if interrupted {
        EXIT_INTERRUPTED
    } else if cols.iter().all(|c| c.turn.state == TurnState::Done) {
        EXIT_OK
    } else {
        EXIT_PROVIDER
    })
}

fn emit(
    out: &mut impl Write,
    err: &mut impl Write,
    args: &CompareArgs,
    cols: &[Column],
    i: usize,
    ev: &TimedEvent,
) {
    if args.json {
        let mut v = event_json(ev);
        if let Value::Object(o) = &mut v {
            o.insert("column".into(), i.into());
            o.insert("model".into(), cols[i].turn.asked_model.clone().into());
        }
        let _ = writeln!(out, "{v}");
        let _ = out.flush();
        return;
    }
    match &ev.event {
        StreamEvent::Notice(n) => {
            let _ = writeln!(err, "{}: note: {n}", cols[i].name(i));
        }
        StreamEvent::Retrying {
            attempt,
            delay,
            error,
        } if !args.quiet => {
            let _ = writeln!(
                err,
                "{}: retrying in {:.1}s (attempt {}): {error}",
                cols[i].name(i),
                delay.as_secs_f64(),
                attempt + 1
            );
        }
        _ => {}
    }
}

/// A column ended: a progress line on stderr.
fn progress(err: &mut impl Write, args: &CompareArgs, cols: &[Column], i: usize, r: &ColumnReport) {
    let c = &cols[i];
    if args.json || args.quiet {
        return;
    }
    let name = c.name(i);
    let line = match (&c.turn.error, c.turn.state) {
        (Some(e), _) => format!("{name}: failed after {}: {e}", seconds(r.duration_ms)),
        (None, TurnState::Cancelled) => format!("{name}: cancelled"),
        _ => format!("{}: {}", compare::letter(i), r.report.summary_line()),
    };
    let _ = writeln!(err, "{line}");
}
