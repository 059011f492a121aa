//! The comparison view: one column per model (its figures, reasoning and answer), a summary
//! row with the winners, and the code diff over it. Pure rendering of `App`.

use crate::session::report::seconds;
use ratatui::layout::Rect;
use ratatui::style::{Modifier, Style};
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, Borders, Clear, Paragraph};
use ratatui::Frame;

use super::markdown::Sink;
use super::view::FollowKey;
use super::{centered, cost_label, fit_groups, fit_segments, sparkline, window};
use crate::app::{App, Pane};
use crate::session::compare::{self, ColumnReport};
use crate::session::{format_usd, TurnState};

pub use crate::app::layout::column_rects;

fn state_label(c: &crate::session::compare::Column) -> (&'static str, fn(&App) -> Style) {
    if c.queued() {
        return ("queued", |a| a.theme.muted());
    }
    match c.turn.state {
        TurnState::Connecting if c.turn.retries > 0 => ("retrying", |a| a.theme.warning()),
        TurnState::Connecting => ("connecting", |a| a.theme.warning()),
        TurnState::Thinking => ("thinking", |a| a.theme.fg(a.theme.reasoning)),
        TurnState::Answering => ("answering", |a| a.theme.fg(a.theme.accent)),
        TurnState::Done => ("done", |a| a.theme.fg(a.theme.user)),
        TurnState::Failed => ("failed", |a| a.theme.error()),
        TurnState::Cancelled => ("cancelled", |a| a.theme.warning()),
    }
}

/// A column's two figure lines: timing, then tokens and money.
/// A column's two lines of figures within `width` columns: timing and pace, then tokens and
/// cost. What does not fit is dropped a whole figure at a time, the least important first
/// (the cost and the output tokens stay longest); "reasoning" is spelled out where there is
/// room.
fn figure_lines(app: &App, r: &ColumnReport, rate: &[u32], width: usize) -> Vec<Line<'static>> {
    let th = &app.theme;
    let rep = &r.report;
    let sep = th.muted();
    let mut l1: Vec<(u8, Span<'static>)> = vec![
        (0, Span::raw(format!("ttft {}", seconds(rep.ttft_ms)))),
        (
            1,
            Span::raw(
                rep.tokens_per_sec
                    .map(|t| format!("{t:.0} tok/s"))
                    .unwrap_or_else(|| "— tok/s".into()),
            ),
        ),
        (2, Span::raw(seconds(r.duration_ms))),
    ];
    if !rate.is_empty() {
        l1.push((4, Span::styled(sparkline(rate, 10), th.fg(th.accent))));
    }
    let approx = if rep.tokens_estimated { "~" } else { "" };
    let answer = rep.output_tokens.saturating_sub(rep.reasoning_tokens);
    let line2 = |reasoning: &str| {
        let mut l2: Vec<(u8, Span<'static>)> = Vec::new();
        match (rep.prompt_tokens, rep.cached_tokens) {
            (Some(p), Some(c)) if c > 0 => {
                l2.push((3, Span::styled(format!("in {p} ({c} cached)"), th.muted())))
            }
            (Some(p), _) => l2.push((3, Span::styled(format!("in {p}"), th.muted()))),
            _ => {}
        }
        l2.push((
            1,
            Span::styled(
                format!(
                    "out {approx}{answer} + {approx}{} {reasoning}",
                    rep.reasoning_tokens
                ),
                th.muted(),
            ),
        ));
        if let Some(c) = rep.cost.as_ref().map(cost_label) {
            l2.push((
                0,
                Span::styled(c, th.fg(th.accent).add_modifier(Modifier::BOLD)),
            ));
        }
        if let Some(saved) = rep.cost.as_ref().and_then(|c| c.savings_label()) {
            l2.push((2, Span::styled(format!("saved {saved}"), th.fg(th.user))));
        }
        l2
    };
    let width_of = |spans: &[Span<'static>]| spans.iter().map(|s| s.width()).sum::<usize>();
    let long = fit_segments(line2("reasoning"), width, " · ", sep);
    let short = fit_segments(line2("r"), width, " · ", sep);
    // The long spelling when it keeps as many figures, and fits.
    let l2 = if long.len() >= short.len() && width_of(&long) <= width {
        long
    } else {
        short
    };
    vec![
        Line::from(fit_segments(l1, width, " · ", sep)),
        Line::from(l2),
    ]
}

pub fn draw_compare(
    f: &mut Frame,
    app: &App,
    view: &mut super::view::View,
    areas: &crate::app::Areas,
    drawn: &mut crate::app::Drawn,
) {
    let Some(cmp) = app.compare_shown else {
        return;
    };
    let th = app.theme.clone();
    let rects = areas.columns.clone();
    drawn.columns = vec![None; rects.len()];
    let reports = app.comparisons[cmp].reports(&app.catalog);
    let winners = compare::winners(&reports);
    let running = app.comparisons[cmp].running();
    for (i, rect) in rects.iter().enumerate() {
        let cv = &app.comparisons[cmp];
        let c = &cv.cols[i];
        let focused = app.focus == Pane::Compare && cv.focus == i;
        let border = if focused {
            th.fg(th.border_focus).add_modifier(Modifier::BOLD)
        } else {
            th.fg(th.border)
        };
        let (state, style) = state_label(&c.col);
        let mut title = vec![Span::styled(
            format!(" {} ", c.col.name(i)),
            th.fg(th.assistant).add_modifier(Modifier::BOLD),
        )];
        if c.col.turn.model_differs() {
            title.push(Span::styled(
                format!("(asked {}) ", c.col.turn.asked_model),
                th.warning(),
            ));
        }
        title.push(Span::styled(
            format!("{state} "),
            style(app).add_modifier(Modifier::BOLD),
        ));
        if cv.adopted == Some(i) {
            title.push(Span::styled("✓ adopted ", th.fg(th.accent)));
        }
        let mut block = Block::default()
            .borders(Borders::ALL)
            .border_style(border)
            .title(Line::from(title));
        if !running && !winners.items().is_empty() {
            let won: Vec<&str> = winners
                .items()
                .iter()
                .filter(|w| w.1 == i)
                .map(|w| w.0)
                .collect();
            if !won.is_empty() {
                block = block.title_bottom(Line::from(Span::styled(
                    format!(" ★ {} ", won.join(" · ")),
                    th.fg(th.user).add_modifier(Modifier::BOLD),
                )));
            }
        }
        let inner = block.inner(*rect);
        f.render_widget(block, *rect);
        if inner.width < 4 || inner.height < 3 {
            continue;
        }
        let figures = figure_lines(app, &reports[i], &c.rate, inner.width as usize);
        let fig_h = (figures.len() as u16).min(inner.height);
        f.render_widget(
            Paragraph::new(figures),
            Rect {
                height: fig_h,
                ..inner
            },
        );
        let body = Rect {
            y: inner.y + fig_h,
            height: inner.height - fig_h,
            x: inner.x + 1,
            width: inner.width - 1,
        };
        let width = body.width.saturating_sub(1).max(1);
        let mut count = Sink::count();
        view.column_lines(app, cmp, i, width, &mut count);
        let total = count.pos;
        let h = body.height as usize;
        let mut scroll = app.comparisons[cmp].cols[i].scroll;
        let start = view
            .follow_top(
                FollowKey::Column(cmp, i),
                total,
                h,
                scroll > 0,
                !c.col.turn.is_finished(),
            )
            .unwrap_or_else(|| window(total, h, &mut scroll));
        drawn.columns[i] = Some(total.saturating_sub(h));
        let mut sink = Sink::window(start..start + h, 2 * h);
        view.column_lines(app, cmp, i, width, &mut sink);
        let mut lines = sink.out;
        super::mark_matches(app, &mut lines);
        if scroll > 0 && !lines.is_empty() && running {
            lines.pop();
            lines.push(Line::from(Span::styled(
                "↓ more below (End)",
                th.warning().add_modifier(Modifier::BOLD),
            )));
        }
        f.render_widget(Paragraph::new(lines), body);
    }
    draw_summary(f, app, cmp, &reports, areas.summary);
    if app.comparisons[cmp].diff.is_some() {
        draw_diff(f, app, cmp, areas.main, drawn);
    }
}

fn draw_summary(f: &mut Frame, app: &App, cmp: usize, reports: &[ColumnReport], area: Rect) {
    let th = &app.theme;
    let cv = &app.comparisons[cmp];
    let running = cv.running();
    // Whole figures: each item is kept or dropped whole (no `most reasoning` without its
    // figure), the last ones first, then the total; the first item stays.
    let mut items: Vec<Vec<Span<'static>>> = Vec::new();
    if running {
        let live = cv.cols.iter().filter(|c| !c.col.turn.is_finished()).count();
        let queued = cv.cols.iter().filter(|c| c.col.queued()).count();
        let mut s = format!("comparing {} models · {live} running", cv.cols.len());
        if queued > 0 {
            s.push_str(&format!(" ({queued} queued)"));
        }
        items.push(vec![Span::styled(
            s,
            th.warning().add_modifier(Modifier::BOLD),
        )]);
    } else {
        let winners = compare::winners(reports).items();
        if winners.is_empty() {
            let done = reports
                .iter()
                .filter(|r| r.report.state == crate::session::TurnState::Done)
                .count();
            items.push(vec![Span::styled(
                match done {
                    0 => "no complete answer to rank",
                    1 => "one complete answer: nothing to rank it against",
                    _ => "a tie: no figure tells the answers apart",
                },
                th.warning().add_modifier(Modifier::BOLD),
            )]);
        }
        for (what, col, fig) in winners {
            items.push(vec![
                Span::styled(format!("{what} "), th.muted()),
                // The letter names the column; its title names the model.
                Span::styled(
                    compare::letter(col).to_string(),
                    th.fg(th.accent).add_modifier(Modifier::BOLD),
                ),
                Span::raw(format!(" {fig}")),
            ]);
        }
    }
    let total: i64 = reports
        .iter()
        .filter_map(|r| r.report.cost.as_ref().and_then(|c| c.total_ticks))
        .sum();
    // Estimates (a column still streaming, or cut off) make the sum a lower bound.
    let estimated = reports.iter().any(|r| {
        r.report
            .cost
            .as_ref()
            .is_some_and(|c| c.source == crate::session::CostSource::Estimated)
    });
    let mut segs: Vec<(u8, Vec<Span<'static>>)> = items
        .into_iter()
        .enumerate()
        .map(|(i, item)| (if i == 0 { 0 } else { 2 }, item))
        .collect();
    if total > 0 {
        segs.push((
            1,
            vec![Span::styled(
                format!(
                    "all {}{}",
                    if estimated { "≥~" } else { "" },
                    format_usd(total)
                ),
                th.fg(th.accent),
            )],
        ));
    }
    let width = (area.width as usize).saturating_sub(1);
    let mut first: Vec<Span<'static>> = vec![Span::raw(" ")];
    first.extend(fit_groups(segs, width, " │ ", th.muted()));
    let hints = if app.replay.is_some() {
        "h/l or 1-4 column · ↑/↓ scroll · d diff code · r reasoning · s sync scroll · (←/→ seek)"
            .to_string()
    } else if running {
        "←/→ column · ↑/↓ scroll · x cancel column · Esc cancel all · r reasoning · s sync scroll"
            .to_string()
    } else {
        format!(
            "a adopt · d diff code · ←/→ column · ↑/↓ scroll{} · r reasoning · s sync · Esc back",
            if cv.sync { " (together)" } else { " (one)" }
        )
    };
    let lines = vec![
        Line::from(first),
        Line::from(Span::styled(
            format!(" {}", super::whole_items(&hints, width)),
            th.muted(),
        )),
    ];
    f.render_widget(Paragraph::new(lines), area);
}

fn draw_diff(f: &mut Frame, app: &App, cmp: usize, area: Rect, drawn: &mut crate::app::Drawn) {
    let th = app.theme.clone();
    let cv = &app.comparisons[cmp];
    let Some(d) = cv.diff.as_ref() else { return };
    let w = (area.width.saturating_mul(9) / 10).max(20).min(area.width);
    let h = (area.height.saturating_mul(9) / 10).max(5).min(area.height);
    let r = centered(area, w, h);
    f.render_widget(Clear, r);
    let name = |i: usize| cv.cols[i].col.name(i);
    let block = Block::default()
        .borders(Borders::ALL)
        .border_style(th.fg(th.border_focus).add_modifier(Modifier::BOLD))
        .title(Span::styled(
            format!(
                " Code diff {} → {} · ←/→ other column · ↑/↓ scroll · Esc closes ",
                name(d.a),
                name(d.b)
            ),
            th.fg(th.accent).add_modifier(Modifier::BOLD),
        ));
    let inner = block.inner(r);
    f.render_widget(block, r);
    let total = d.text.lines().count();
    let rows = inner.height as usize;
    drawn.diff = Some(total.saturating_sub(rows));
    let lines: Vec<Line<'static>> = d
        .text
        .lines()
        .skip(d.scroll.min(total.saturating_sub(rows)))
        .take(rows)
        .map(|l| Line::from(Span::styled(l.replace('\t', "    "), diff_style(&th, l))))
        .collect();
    f.render_widget(Paragraph::new(lines), inner);
}

/// The status bar while a comparison is on screen: how many run, what they cost together.
pub fn compare_status(app: &App, cmp: usize) -> Vec<(u8, Span<'static>)> {
    let th = &app.theme;
    let cv = &app.comparisons[cmp];
    let reports = cv.reports(&app.catalog);
    let mut segs: Vec<(u8, Span<'static>)> = Vec::new();
    if let Some(flash) = &app.flash {
        segs.push((
            0,
            Span::styled(flash.clone(), th.warning().add_modifier(Modifier::BOLD)),
        ));
    }
    let models: Vec<String> = reports
        .iter()
        .map(|r| format!("{} {}", r.label, r.model_label()))
        .collect();
    segs.push((1, Span::raw(format!("compare · {}", models.join(" · ")))));
    let live = cv.cols.iter().filter(|c| !c.col.turn.is_finished()).count();
    let (state, style) = if live > 0 {
        (format!("{live} running"), th.fg(th.accent))
    } else {
        ("done".to_string(), th.muted())
    };
    segs.push((1, Span::styled(state, style.add_modifier(Modifier::BOLD))));
    let session = crate::session::pricing::total_label(
        app.session_cost,
        !app.session_cost_known,
        app.session_unpriced,
    );
    segs.push((
        2,
        Span::styled(format!("session {session}"), th.fg(th.accent)),
    ));
    segs
}

/// How a line of a unified diff is coloured (the comparison's diff, an edit's).
pub fn diff_style(th: &crate::theme::Theme, l: &str) -> Style {
    if l.starts_with("+++") || l.starts_with("---") {
        th.fg(th.heading).add_modifier(Modifier::BOLD)
    } else if l.starts_with('+') {
        th.fg(th.user)
    } else if l.starts_with('-') {
        th.error()
    } else if l.starts_with("@@") {
        th.fg(th.accent)
    } else {
        Style::default()
    }
}
