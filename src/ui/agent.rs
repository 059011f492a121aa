//! Agent mode on screen: the approval prompt (what will happen — the coloured diff of an
//! edit, the command line and its directory — and the keys), the pause prompt and `/rewind`.

use ratatui::layout::Rect;
use ratatui::style::{Modifier, Style};
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, Borders, Clear, Paragraph, Wrap};
use ratatui::Frame;

use super::centered;
use crate::agent::Preview;
use crate::app::modal::Modal;
use crate::app::App;
use crate::session::agent::Outcome;
use crate::tools::checkpoint::Change;

pub fn draw_agent_modals(f: &mut Frame, app: &App) {
    match app.modal() {
        Some(Modal::Approval { note, scroll }) => draw_approval(f, app, note.as_deref(), *scroll),
        Some(Modal::Pause(o)) => draw_pause(f, app, o),
        Some(Modal::Rewind(p)) => draw_rewind(f, app, p),
        _ => {}
    }
}

fn frame_block<'a>(app: &App, title: String, danger: bool) -> Block<'a> {
    let th = &app.theme;
    let border = if danger {
        th.error()
    } else {
        th.fg(th.border_focus)
    };
    Block::default()
        .borders(Borders::ALL)
        .border_style(border.add_modifier(Modifier::BOLD))
        .title(Span::styled(
            title,
            th.fg(th.accent).add_modifier(Modifier::BOLD),
        ))
}

fn draw_approval(f: &mut Frame, app: &App, note: Option<&str>, scroll: usize) {
    let th = &app.theme;
    let Some(ask) = app.asking() else { return };
    let waiting = app.agent.as_ref().map(|a| a.asks.len()).unwrap_or(1);
    let area = f.area();
    let w = area.width.saturating_sub(4).clamp(20, 120);
    let h = area.height.saturating_sub(2).clamp(6, 40);
    let r = centered(area, w, h);
    f.render_widget(Clear, r);
    let verb = match ask.call.tool.as_str() {
        "edit_file" => "Edit",
        "write_file" => "Write",
        "run_command" => "Run",
        _ => "Use",
    };
    let more = if waiting > 1 {
        format!(" (1 of {waiting})")
    } else {
        String::new()
    };
    let block = frame_block(
        app,
        format!(" {verb} {}?{more} ", ask.call.tool),
        ask.dangerous.is_some(),
    );
    let inner = block.inner(r);
    f.render_widget(block, r);
    let mut head: Vec<Line<'static>> = Vec::new();
    if let Some(why) = &ask.dangerous {
        head.push(Line::from(Span::styled(
            format!("⚠ dangerous: {why} — asks in every mode"),
            th.error().add_modifier(Modifier::BOLD),
        )));
    }
    let mut body: Vec<Line<'static>> = Vec::new();
    match &ask.preview {
        Preview::Diff(d) => {
            head.push(Line::from(Span::styled(
                ask.call.target.clone(),
                Style::default().add_modifier(Modifier::BOLD),
            )));
            for l in d.lines() {
                body.push(Line::from(Span::styled(
                    l.replace('\t', "    "),
                    super::compare::diff_style(th, l),
                )));
            }
        }
        Preview::Command { line, cwd } => {
            head.push(Line::from(vec![
                Span::styled("in ", th.muted()),
                Span::raw(cwd.clone()),
            ]));
            for l in line.lines() {
                body.push(Line::from(Span::styled(
                    format!("$ {l}"),
                    Style::default().add_modifier(Modifier::BOLD),
                )));
            }
        }
        Preview::Text(t) => {
            for l in t.lines() {
                body.push(Line::from(Span::raw(l.to_string())));
            }
        }
    }
    let keys: Line<'static> = match note {
        Some(n) => Line::from(vec![
            Span::styled("Note to the model: ", th.warning()),
            Span::raw(format!("{n}▏")),
            Span::styled("   Enter denies · Esc back", th.muted()),
        ]),
        None => Line::from(vec![
            Span::styled("y", th.fg(th.accent).add_modifier(Modifier::BOLD)),
            Span::raw(" once  "),
            Span::styled("a", th.fg(th.accent).add_modifier(Modifier::BOLD)),
            Span::raw(format!(" allow `{}` this session  ", ask.suggested)),
            Span::styled("n", th.fg(th.accent).add_modifier(Modifier::BOLD)),
            Span::raw(" deny  "),
            Span::styled("Esc", th.fg(th.accent).add_modifier(Modifier::BOLD)),
            Span::raw(" stop"),
        ]),
    };
    let rows = inner.height as usize;
    let fixed = head.len() + 2;
    let room = rows.saturating_sub(fixed);
    let total = body.len();
    let first = scroll.min(total.saturating_sub(room));
    let mut lines = head;
    lines.extend(body.into_iter().skip(first).take(room));
    if total > room {
        lines.push(Line::from(Span::styled(
            format!(
                "… lines {}–{} of {total} (↑↓ PgUp PgDn)",
                first + 1,
                (first + room).min(total)
            ),
            th.muted(),
        )));
    } else {
        lines.push(Line::default());
    }
    lines.push(keys);
    f.render_widget(Paragraph::new(lines), inner);
}

fn draw_pause(f: &mut Frame, app: &App, o: &Outcome) {
    let th = &app.theme;
    let what = match o {
        Outcome::Budget { spent, budget } => format!(
            "The session has spent {} of its {} budget. Going on turns the budget off (/budget sets another).",
            crate::session::pricing::format_usd(*spent),
            crate::session::pricing::format_usd(*budget)
        ),
        Outcome::Repeating { tool, count } => format!(
            "The model made the same {tool} call with the same result {count} times in a row."
        ),
        other => format!("{other:?}"),
    };
    let r = centered(f.area(), f.area().width.clamp(20, 72), 7);
    f.render_widget(Clear, r);
    let block = frame_block(app, " The agent paused ".into(), false);
    let inner = block.inner(r);
    f.render_widget(block, r);
    let lines = vec![
        Line::from(Span::raw(what)),
        Line::default(),
        Line::from(vec![
            Span::styled("y", th.fg(th.accent).add_modifier(Modifier::BOLD)),
            Span::raw(" go on  "),
            Span::styled("n", th.fg(th.accent).add_modifier(Modifier::BOLD)),
            Span::raw(" stop here"),
        ]),
    ];
    f.render_widget(Paragraph::new(lines).wrap(Wrap { trim: false }), inner);
}

fn draw_rewind(f: &mut Frame, app: &App, p: &crate::app::agent::RewindPrompt) {
    let th = &app.theme;
    let area = f.area();
    let w = area.width.saturating_sub(4).clamp(20, 100);
    let h = area.height.saturating_sub(2).clamp(8, 30);
    let r: Rect = centered(area, w, h);
    f.render_widget(Clear, r);
    let block = frame_block(app, " Rewind to before… ".into(), false);
    let inner = block.inner(r);
    f.render_widget(block, r);
    let rows = inner.height as usize;
    let list_rows = (rows / 2).max(3).min(p.items.len().max(1));
    let first = p.selected.saturating_sub(list_rows.saturating_sub(1));
    let mut lines: Vec<Line<'static>> = p
        .items
        .iter()
        .enumerate()
        .skip(first)
        .take(list_rows)
        .map(|(i, it)| {
            let style = if i == p.selected {
                th.selected()
            } else {
                Style::default()
            };
            let mark = if it.entry.is_some() { "▸ " } else { "↶ " };
            Line::from(Span::styled(format!("{mark}{}", it.label), style))
        })
        .collect();
    lines.push(Line::default());
    match &p.plan {
        None => lines.push(Line::from(Span::styled(
            "finding what would change…",
            th.muted(),
        ))),
        Some(Err(e)) => lines.push(Line::from(Span::styled(e.clone(), th.error()))),
        Some(Ok(plan)) if plan.is_empty() => lines.push(Line::from(Span::styled(
            "files: nothing changed since then",
            th.muted(),
        ))),
        Some(Ok(plan)) => {
            lines.push(Line::from(Span::styled(
                format!("files ({}):", plan.len()),
                th.warning(),
            )));
            for c in plan
                .iter()
                .take(rows.saturating_sub(lines.len() + 2).max(1))
            {
                lines.push(Line::from(match c {
                    Change::Restore { path, .. } => format!("  restore {path}"),
                    Change::Delete { path } => format!("  delete  {path} (it did not exist)"),
                }));
            }
        }
    }
    lines.push(Line::from(vec![
        Span::styled("Enter", th.fg(th.accent).add_modifier(Modifier::BOLD)),
        Span::raw(" files and conversation  "),
        Span::styled("c", th.fg(th.accent).add_modifier(Modifier::BOLD)),
        Span::raw(" files  "),
        Span::styled("v", th.fg(th.accent).add_modifier(Modifier::BOLD)),
        Span::raw(" conversation  "),
        Span::styled("Esc", th.fg(th.accent).add_modifier(Modifier::BOLD)),
        Span::raw(" close"),
    ]));
    f.render_widget(Paragraph::new(lines), inner);
}

/// The status bar's agent segment: the mode, and while the loop works its rounds, calls
/// and the user turn's cost so far.
pub fn status(app: &App) -> Option<Span<'static>> {
    let a = app.agent.as_ref()?;
    let th = &app.theme;
    let mut s = format!("mode {}", a.mode.name());
    if let Some(r) = &a.running {
        s.push_str(&format!(
            " · round {} · {} · {}",
            r.rounds,
            crate::session::count(r.calls, "tool", "tools"),
            crate::session::pricing::format_usd(app.session_cost - r.cost_start)
        ));
    }
    if let Some(b) = a.budget {
        s.push_str(&format!(" · budget ${b}"));
    }
    if !a.instructions.is_empty() {
        s.push_str(&format!(" · {}", a.instructions.join(", ")));
    }
    let style = match a.mode {
        crate::session::approval::Mode::Yolo => th.warning(),
        _ => th.fg(th.accent),
    };
    Some(Span::styled(s, style))
}
