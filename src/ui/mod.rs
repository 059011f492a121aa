//! Rendering of the app state. No I/O here: everything drawn comes from `App`.

pub mod agent;
pub mod compare;
pub mod highlight;
pub mod markdown;
pub mod search;
pub mod view;
/// Colours and styles (configuration data, used by the app too).
pub use crate::theme;

use crate::session::report::seconds;
use ratatui::layout::Rect;
use ratatui::style::{Modifier, Style};
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, Borders, Clear, Paragraph};
use ratatui::Frame;

use crate::app::{App, Pane};
use crate::session::catalog::ReasoningMode;
use crate::session::{CostSource, TurnState};
use markdown::Sink;
use view::{Figures, FollowKey};

pub use crate::app::layout::{layout, Areas, WIDE};

/// A pane's frame. The focused one is marked (`▸` before its title, its border bold in the
/// focus colour) and names its own keys on its bottom border, from the keymap.
fn pane_block(app: &App, pane: Pane, mut title: Vec<Span<'static>>, width: u16) -> Block<'static> {
    use crate::app::keymap::{pane_hint, Action, Scope};
    let th = &app.theme;
    let focused = app.focus == pane;
    let border = if focused {
        th.fg(th.border_focus).add_modifier(Modifier::BOLD)
    } else {
        th.fg(th.border)
    };
    let block = Block::default().borders(Borders::ALL).border_style(border);
    // Between the corners; a title that does not fit ends in `…`.
    let room = (width as usize).saturating_sub(2);
    if !focused {
        return block.title(Line::from(ellipsize(title, room)));
    }
    title.insert(
        0,
        Span::styled("▸", th.fg(th.border_focus).add_modifier(Modifier::BOLD)),
    );
    let title = ellipsize(title, room);
    let scopes: &[Scope] = match pane {
        Pane::Conversation => &[Scope::Browse],
        Pane::Reasoning => &[Scope::Reasoning, Scope::Browse],
        Pane::Code => &[Scope::Code],
        _ => &[],
    };
    // Keys that do nothing now are not offered: a search's steps without one, the tool
    // calls' keys without any.
    let mut skip = Vec::new();
    if app.search.is_none() {
        skip.extend([Action::SearchNext, Action::Close]);
    }
    if app.tools.is_empty() {
        skip.extend([Action::ToolToggle, Action::ToolPrev]);
    }
    let hint = whole_items(&pane_hint(scopes, &skip), room.saturating_sub(2));
    let block = block.title(Line::from(title));
    if hint.is_empty() {
        return block;
    }
    block.title_bottom(Line::from(Span::styled(format!(" {hint} "), th.muted())))
}

/// `spans` cut to `width` columns, the last one kept for `…` when anything is cut.
pub(crate) fn ellipsize(spans: Vec<Span<'static>>, width: usize) -> Vec<Span<'static>> {
    hslice(spans, 0, width, None, '…').0
}

/// Draws the app into the frame. Scroll offsets are the app's: what the frame could show
/// comes back (`Drawn`, for `Event::Drawn`) and the offsets used here are clamped copies.
pub fn draw(f: &mut Frame, app: &App, view: &mut view::View) -> crate::app::Drawn {
    view.sync(app);
    let mut drawn = crate::app::Drawn::default();
    if app.search.as_ref().is_some_and(|s| s.pending) {
        drawn.search = Some(search::find(app, view));
    }
    draw_panes(f, app, view, &mut drawn);
    // The one boundary between untrusted text and the terminal: whatever a model, a server
    // or a session file put into a cell, no control character leaves as one.
    sanitize_cells(f.buffer_mut());
    drawn
}

/// Replaces every cell symbol holding a control character with its visible stand-in.
pub fn sanitize_cells(buf: &mut ratatui::buffer::Buffer) {
    for cell in buf.content.iter_mut() {
        if let Some(s) = crate::sanitize::cell_symbol(cell.symbol()) {
            cell.set_symbol(s);
        }
    }
}

fn draw_panes(f: &mut Frame, app: &App, view: &mut view::View, drawn: &mut crate::app::Drawn) {
    // Drawn where the app's layout says (for the frame's size, which the app follows through
    // `Event::Resize`).
    let areas = layout(f.area(), app);
    if app.compare_shown.is_some() {
        compare::draw_compare(f, app, view, &areas, drawn);
        draw_input(f, app, areas.input);
        draw_status(f, app, view, areas.status);
        draw_overlays(f, app);
        return;
    }
    if areas.conversation.height > 0 {
        draw_conversation(f, app, view, areas.conversation, drawn);
    }
    if areas.reasoning.height > 0 {
        draw_reasoning(f, app, view, areas.reasoning, drawn);
    }
    if areas.code.height > 0 {
        draw_code(f, app, view, areas.code, drawn);
    }
    draw_input(f, app, areas.input);
    draw_status(f, app, view, areas.status);
    draw_overlays(f, app);
}

/// The command palette: above the message box while a command's name is typed, each
/// matching command with its arguments and what it does, the highlighted one marked.
fn draw_palette(f: &mut Frame, app: &App) {
    let Some((matches, sel)) = app.palette() else {
        return;
    };
    let th = &app.theme;
    let input = layout(f.area(), app).input;
    let rows = matches.len().min(10);
    let h = rows as u16 + 2;
    if input.y < h || input.width < 20 {
        return;
    }
    let area = Rect {
        x: input.x,
        y: input.y - h,
        width: input.width.min(100),
        height: h,
    };
    f.render_widget(Clear, area);
    let block = Block::default()
        .borders(Borders::ALL)
        .border_style(th.fg(th.border_focus))
        .title(Span::styled(
            " Commands — ↑↓ pick · Tab completes · Enter runs ",
            th.muted(),
        ));
    let inner = block.inner(area);
    f.render_widget(block, area);
    let at = sel;
    let first = (at + 1).saturating_sub(rows);
    let name_w = matches
        .iter()
        .map(|(c, args, _)| c.chars().count() + 1 + args.chars().count())
        .max()
        .unwrap_or(0);
    let lines: Vec<Line<'static>> = matches
        .iter()
        .enumerate()
        .skip(first)
        .take(rows)
        .map(|(i, (c, args, what))| {
            let name = format!("{c} {args}");
            let style = if i == at {
                th.selected()
            } else {
                Style::default()
            };
            // A description too long for the row ends in `…`.
            Line::from(ellipsize(
                vec![
                    Span::styled(
                        format!(" {name:<name_w$}  "),
                        style.add_modifier(Modifier::BOLD),
                    ),
                    Span::styled(what.to_string(), if i == at { style } else { th.muted() }),
                ],
                inner.width as usize,
            ))
        })
        .collect();
    f.render_widget(Paragraph::new(lines), inner);
}

/// Help and the session picker, over whatever is on screen.
fn draw_overlays(f: &mut Frame, app: &App) {
    draw_palette(f, app);
    if app.help_open() {
        draw_help(f, app);
    }
    if app.picker().is_some() {
        draw_picker(f, app);
    }
    agent::draw_agent_modals(f, app);
}

fn draw_picker(f: &mut Frame, app: &App) {
    let th = &app.theme;
    let Some(p) = app.picker() else { return };
    let area = f.area();
    let w = area.width.min(110);
    let h = area.height.min(p.items.len().max(1) as u16 + 4).max(5);
    let r = centered(area, w, h);
    f.render_widget(Clear, r);
    let block = Block::default()
        .borders(Borders::ALL)
        .border_style(th.fg(th.border_focus).add_modifier(Modifier::BOLD))
        .title(Span::styled(
            " Saved sessions — Enter continues, Esc closes ",
            th.fg(th.accent).add_modifier(Modifier::BOLD),
        ));
    let inner = block.inner(r);
    f.render_widget(block, r);
    let rows = inner.height as usize;
    let first = p.selected.saturating_sub(rows.saturating_sub(1));
    let lines: Vec<Line<'static>> = if p.items.is_empty() {
        vec![Line::from(Span::styled(
            "No saved sessions yet.",
            th.muted(),
        ))]
    } else {
        p.items
            .iter()
            .enumerate()
            .skip(first)
            .take(rows)
            .map(|(i, (_, label))| {
                let style = if i == p.selected {
                    th.selected()
                } else {
                    Style::default()
                };
                Line::from(Span::styled(label.clone(), style))
            })
            .collect()
    };
    f.render_widget(Paragraph::new(lines), inner);
}

/// A `w`×`h` rectangle in the middle of `area` (overlays).
pub(crate) fn centered(area: Rect, w: u16, h: u16) -> Rect {
    let (w, h) = (w.min(area.width), h.min(area.height));
    Rect {
        x: area.x + (area.width - w) / 2,
        y: area.y + (area.height - h) / 2,
        width: w,
        height: h,
    }
}

/// Picks the visible window of `runs` lines: `scroll` lines up from the bottom.
pub(crate) fn window(total: usize, height: usize, scroll: &mut usize) -> usize {
    let max = total.saturating_sub(height);
    if *scroll > max {
        *scroll = max;
    }
    max - *scroll
}

fn draw_conversation(
    f: &mut Frame,
    app: &App,
    view: &mut view::View,
    area: Rect,
    drawn: &mut crate::app::Drawn,
) {
    let th = app.theme.clone();
    let mut title = vec![Span::styled(
        " Conversation ",
        th.fg(th.accent).add_modifier(Modifier::BOLD),
    )];
    if app.conv_scroll > 0 && app.new_output {
        title.push(Span::styled(
            " ↓ new output (End) ",
            th.warning().add_modifier(Modifier::BOLD),
        ));
    }
    let block = pane_block(app, Pane::Conversation, title, area.width);
    let inner = block.inner(area);
    f.render_widget(block, area);
    if inner.width < 2 || inner.height == 0 {
        return;
    }
    // Lines of prose no longer than a reading width, however wide the pane.
    let width = match app.reading_width {
        0 => inner.width.saturating_sub(1),
        w => inner.width.saturating_sub(1).min(w),
    };
    let mut count = Sink::count();
    count.track_marks();
    view.conversation_runs(app, width, &mut count);
    let total = count.pos;
    drawn.conversation_lines = Some((total, count.marks));
    let h = inner.height as usize;
    let mut scroll = app.conv_scroll;
    let start = view
        .follow_top(
            FollowKey::Conversation,
            total,
            h,
            app.conv_scroll > 0,
            app.streaming(),
        )
        .unwrap_or_else(|| window(total, h, &mut scroll));
    drawn.conversation = Some(total.saturating_sub(h));
    // Blocks within a few screens stay rendered, so scrolling does not re-render them.
    let mut sink = Sink::window(start..start + h, 2 * h);
    view.conversation_runs(app, width, &mut sink);
    let mut lines = sink.out;
    mark_matches(app, &mut lines);
    if total == 0 {
        lines.push(Line::from(Span::styled(
            "Type a message below and press Enter. F1 lists every key.",
            th.muted(),
        )));
    }
    f.render_widget(
        Paragraph::new(lines),
        Rect {
            x: inner.x + 1,
            width,
            ..inner
        },
    );
}

fn secs(ms: Option<u64>) -> String {
    ms.map(|m| format!("{:.1}s", m as f64 / 1000.0))
        .unwrap_or_else(|| "—".into())
}

fn draw_reasoning(
    f: &mut Frame,
    app: &App,
    view: &mut view::View,
    area: Rect,
    drawn: &mut crate::app::Drawn,
) {
    let th = app.theme.clone();
    let shown = app.shown_reasoning_turn();
    let mut title = vec![Span::styled(
        " Reasoning ",
        th.fg(th.reasoning).add_modifier(Modifier::BOLD),
    )];
    if let Some(t) = shown {
        let r = app.report(&app.turns[t]);
        let approx = if r.tokens_estimated { "~" } else { "" };
        title.push(Span::styled(
            format!(
                "· turn {}/{} · {approx}{} tok · {} ",
                t + 1,
                app.turns.len(),
                r.reasoning_tokens,
                secs(r.reasoning_ms)
            ),
            th.muted(),
        ));
        let tv = &app.turns[t];
        let thinking_rate = match (tv.turn.timing.first_reasoning, tv.turn.timing.first_content) {
            (Some(a), Some(b)) if b > a && r.reasoning_tokens > 0 => {
                Some(r.reasoning_tokens as f64 / (b - a).as_secs_f64())
            }
            (Some(a), None) if !tv.turn.is_finished() && app.now > a && r.reasoning_tokens > 0 => {
                Some(r.reasoning_tokens as f64 / (app.now - a).as_secs_f64())
            }
            _ => None,
        };
        if let Some(rate) = thinking_rate {
            title.push(Span::styled(format!("· {rate:.0} tok/s "), th.muted()));
        }
    }
    let live = shown.is_some_and(|t| !app.turns[t].turn.is_finished());
    let title = view.steady(Figures::ReasoningTitle, app.now, live, Line::from(title));
    let block = pane_block(app, Pane::Reasoning, title.spans, area.width);
    let inner = block.inner(area);
    f.render_widget(block, area);
    if inner.width < 2 || inner.height == 0 {
        return;
    }
    let Some(t) = shown else {
        note(f, "The model's reasoning streams here.", th.muted(), inner);
        return;
    };
    let width = inner.width.saturating_sub(1);
    if app.turns[t].turn.reasoning.is_empty() && app.earlier_rounds(t).is_empty() {
        let tv = &app.turns[t];
        let r = app.report(tv);
        // One row (the pane waits under the conversation): the short form.
        let short = inner.height == 1;
        let msg = match (tv.turn.state, tv.reasoning_mode, r.reasoning_tokens) {
            (_, _, n) if n > 0 && tv.turn.usage.is_some() && short => format!(
                "{n} tokens of hidden reasoning ({}), billed as output",
                secs(r.reasoning_ms)
            ),
            (_, _, n) if n > 0 && tv.turn.usage.is_some() => format!(
                "{} reasoned for {n} tokens ({}) but does not send its reasoning text; they are billed as output.",
                tv.turn.model(),
                secs(r.reasoning_ms)
            ),
            (TurnState::Connecting, _, _) => "connecting…".into(),
            (s, ReasoningMode::Hidden, _) if !tv.turn.is_finished() && s != TurnState::Answering => {
                if short {
                    "thinking (the model does not stream its reasoning)…".into()
                } else {
                    format!("{} is thinking; it does not stream its reasoning.", tv.turn.model())
                }
            }
            (TurnState::Thinking, _, _) => "waiting for the first token…".into(),
            _ => "No reasoning for this turn.".into(),
        };
        note(f, &msg, th.muted(), inner);
        return;
    }
    let h = inner.height as usize;
    let mut scroll = app.reasoning_scroll;
    let (done, tail) = view.reasoning_lines(app, t, width);
    let total = done.len() + tail.len();
    let start = view
        .follow_top(
            FollowKey::Reasoning(t),
            total,
            h,
            app.reasoning_scroll > 0,
            !app.turns[t].turn.is_finished(),
        )
        .unwrap_or_else(|| window(total, h, &mut scroll));
    let (done, tail) = view.reasoning_lines(app, t, width);
    let lines: Vec<Line<'static>> = done
        .iter()
        .chain(tail.iter())
        .skip(start)
        .take(h)
        .cloned()
        .collect();
    let mut lines = lines;
    mark_matches(app, &mut lines);
    drawn.reasoning = Some(total.saturating_sub(h));
    f.render_widget(Paragraph::new(lines), padded(inner));
}

fn draw_code(
    f: &mut Frame,
    app: &App,
    view: &mut view::View,
    area: Rect,
    drawn: &mut crate::app::Drawn,
) {
    let th = app.theme.clone();
    let n = app.code.len();
    let mut title = vec![Span::styled(
        " Code ",
        th.fg(th.accent).add_modifier(Modifier::BOLD),
    )];
    if n > 0 {
        let sel = app.selected_code.min(n - 1);
        let b = &app.code[sel];
        title.push(Span::styled(
            format!(
                "[{}/{n}] {} · {}{} ",
                sel + 1,
                b.label(),
                crate::session::count(
                    b.source.lines().count() + usize::from(!b.partial.is_empty()),
                    "line",
                    "lines"
                ),
                if b.complete { "" } else { " …" }
            ),
            th.muted(),
        ));
    }
    let block = pane_block(app, Pane::Code, title, area.width);
    let inner = block.inner(area);
    f.render_widget(block, area);
    if inner.width < 4 || inner.height == 0 {
        return;
    }
    if n == 0 {
        // One column in from the border, as the other panes' text.
        note(
            f,
            "Code blocks from answers collect here.",
            th.muted(),
            inner,
        );
        return;
    }
    let sel = app.selected_code.min(n - 1);
    let body_h = inner.height.saturating_sub(1) as usize;
    // The renderer's copy of the block (the same one, with its highlighting).
    let Some(b) = view.code.get_mut(sel) else {
        return;
    };
    let count = b.highlight();
    let partial = b.partial.clone();
    let total = count + usize::from(!partial.is_empty());
    // At least three digits: the gutter does not widen (and shift the code) as a block
    // streams past line 9 and 99.
    let gutter = total.max(1).to_string().len().max(3);
    let max_scroll = total.saturating_sub(body_h);
    drawn.code = Some(max_scroll);
    let code_scroll = app.code_scroll.min(max_scroll);
    // While the block streams, follow its end.
    let follows = !b.complete && code_scroll == 0;
    let start = view
        .follow_top(FollowKey::Code(sel), total, body_h, !follows, true)
        .unwrap_or(code_scroll);
    // Lines of the block below the pane are counted at the right of the tab row.
    let below = total.saturating_sub(start + body_h);
    let more = if below > 0 {
        format!(" ↓ {below} more")
    } else {
        String::new()
    };
    let tab_room = (inner.width as usize).saturating_sub(1 + more.chars().count());
    // Tabs: one per block around the selected one (never all of them: a long session has
    // hundreds), the selected one marked.
    let lo = sel.saturating_sub(inner.width as usize / 6);
    let hi = (sel + inner.width as usize / 4).min(n);
    let mut tabs: Vec<Span<'static>> = Vec::new();
    for (i, b) in app.code.iter().enumerate().take(hi).skip(lo) {
        let label = format!(" {} {} ", i + 1, b.label());
        let style = if i == sel {
            th.selected().add_modifier(Modifier::BOLD)
        } else {
            th.muted()
        };
        tabs.push(Span::styled(label, style));
    }
    // Keep the selected tab in view.
    let mut used: usize = tabs.iter().map(|s| s.content.chars().count()).sum();
    let mut first = 0;
    while used > tab_room && first < sel - lo {
        used -= tabs[first].content.chars().count();
        first += 1;
    }
    let mut tabs = ellipsize(tabs.split_off(first), tab_room);
    if below > 0 {
        let shown: usize = tabs.iter().map(|s| s.content.chars().count()).sum();
        tabs.push(Span::raw(" ".repeat(tab_room.saturating_sub(shown))));
        tabs.push(Span::styled(more, th.warning()));
    }
    let tab_line = Line::from(tabs);
    let Some(b) = view.code.get_mut(sel) else {
        return;
    };
    // Code is never wrapped: long lines are scrolled sideways, `›` at the right edge of a
    // line that goes on, `‹` at the left of one scrolled past.
    let avail = (inner.width as usize).saturating_sub(1 + gutter + 1);
    let mut widest = 0;
    let mut lines = vec![tab_line];
    for i in start..(start + body_h).min(total) {
        let code = if i < count {
            b.hl.line(i, &b.source).spans
        } else {
            vec![Span::raw(partial.clone())]
        };
        let (shown, width) = hslice(code, app.code_hscroll, avail, Some(th.muted()), '›');
        widest = widest.max(width);
        let mut spans = vec![Span::styled(format!("{:>gutter$} ", i + 1), th.muted())];
        spans.extend(shown);
        lines.push(Line::from(spans));
    }
    drawn.code_h = Some(widest.saturating_sub(avail));
    f.render_widget(Paragraph::new(lines), padded(inner));
}

/// The columns `skip..skip + avail` of a line of styled text (tabs as four spaces), and the
/// line's whole width. A line that goes on past them ends in `more`; one with text before the
/// window starts with `‹`. The markers are in `mark`, else in the style of the text they
/// stand for.
fn hslice(
    spans: Vec<Span<'static>>,
    skip: usize,
    avail: usize,
    mark: Option<Style>,
    more: char,
) -> (Vec<Span<'static>>, usize) {
    use unicode_width::UnicodeWidthChar;
    let mut cells: Vec<(char, Style, usize)> = Vec::new();
    for sp in &spans {
        for c in sp.content.chars() {
            match c {
                '\t' => cells.extend(std::iter::repeat_n((' ', sp.style, 1), 4)),
                c => cells.push((c, sp.style, c.width().unwrap_or(0))),
            }
        }
    }
    let total: usize = cells.iter().map(|c| c.2).sum();
    if avail == 0 {
        return (Vec::new(), total);
    }
    let fits = total.saturating_sub(skip) <= avail;
    // A line that goes on keeps its last column for the marker.
    let room = if fits { avail } else { avail - 1 };
    let (mut col, mut used) = (0, 0);
    let mut before = false;
    let mut shown: Vec<(char, Style)> = Vec::new();
    let mut hidden = None;
    for (c, style, w) in cells {
        let at = col;
        col += w;
        if at < skip {
            before |= c != ' ';
            continue;
        }
        if used + w > room {
            hidden = Some(style);
            break;
        }
        used += w;
        shown.push((c, style));
    }
    if before {
        match shown.first_mut() {
            Some(first) => *first = ('‹', mark.unwrap_or(first.1)),
            None => shown.push(('‹', mark.unwrap_or_default())),
        }
    }
    if !fits {
        shown.push((more, mark.or(hidden).unwrap_or_default()));
    }
    let mut out: Vec<Span<'static>> = Vec::new();
    for (c, style) in shown {
        match out.last_mut() {
            Some(last) if last.style == style => last.content.to_mut().push(c),
            _ => out.push(Span::styled(c.to_string(), style)),
        }
    }
    (out, total)
}

/// The first items of a ` · `-separated list that fit in `width` columns: whole ones, none
/// cut mid-word.
fn whole_items(list: &str, width: usize) -> String {
    let mut out = String::new();
    for item in list.split(" · ") {
        let more = if out.is_empty() {
            item.to_string()
        } else {
            format!("{out} · {item}")
        };
        if unicode_width::UnicodeWidthStr::width(more.as_str()) > width {
            break;
        }
        out = more;
    }
    out
}

/// A pane's note (what will show there, why nothing does): wrapped at its words, one
/// column in from the border; what does not fit ends in `…` rather than mid-word.
fn note(f: &mut Frame, text: &str, style: Style, inner: Rect) {
    let area = padded(inner);
    let h = area.height as usize;
    let wrapped = |width: usize| {
        let mut lines = Vec::new();
        markdown::wrap(
            vec![],
            vec![],
            vec![Span::styled(text.to_string(), style)],
            width.max(1),
            &mut lines,
        );
        lines
    };
    let width = area.width.saturating_sub(1) as usize;
    let mut lines = wrapped(width);
    if lines.len() > h {
        // Room for ` …` at the end of the last row shown.
        lines = wrapped(width.saturating_sub(2));
        lines.truncate(h);
        if let Some(last) = lines.last_mut() {
            last.spans.push(Span::styled(" …", style));
        }
    }
    f.render_widget(Paragraph::new(lines), area);
}

/// `inner` one column in from the left border (the panes' text never touches it).
fn padded(inner: Rect) -> Rect {
    Rect {
        x: inner.x + 1,
        width: inner.width.saturating_sub(1),
        ..inner
    }
}

fn draw_replay_bar(f: &mut Frame, app: &App, area: Rect) {
    use crate::app::replay::clock_label;
    let th = &app.theme;
    let Some(r) = &app.replay else { return };
    let state = if r.finished() {
        "■ end"
    } else if r.paused {
        "❚❚ paused"
    } else {
        "▶ playing"
    };
    let accent = th.fg(th.accent).add_modifier(Modifier::BOLD);
    // Same height as the message box, so the panes above are laid out exactly as live.
    let title = vec![
        Span::styled(
            if r.demo {
                " DEMO · a recorded session, replayed: no API calls · "
            } else {
                " Replay · no API calls · "
            },
            accent,
        ),
        Span::styled(format!("{state} "), accent),
        Span::styled(
            format!(
                "{} / {} · turn {}/{} · {} · {} ",
                clock_label(r.clock),
                clock_label(r.total),
                (r.current_turn() + 1).min(r.turn_starts.len().max(1)),
                r.turn_starts.len(),
                r.speed_label(),
                r.title
            ),
            th.fg(th.text),
        ),
    ];
    let block = Block::default()
        .borders(Borders::ALL)
        .border_style(accent)
        .title(Line::from(ellipsize(
            title,
            (area.width as usize).saturating_sub(2),
        )));
    let inner = block.inner(area);
    f.render_widget(block, area);
    let keys = format!(
        "Space {} · q {} · n/p next/previous turn · ←/→ seek 5 s · +/- speed · Tab panes",
        if r.finished() { "replays" } else { "pauses" },
        if r.quit_on_exit {
            "quits"
        } else {
            "leaves the demo"
        }
    );
    let area = padded(inner);
    let width = area.width.saturating_sub(1) as usize;
    let mut lines = vec![Line::from(Span::styled(
        whole_items(&keys, width),
        th.muted(),
    ))];
    if r.demo {
        // Wrapped at its words over the rows the layout gave it.
        let hint = vec![app.demo_hint()];
        for row in crate::app::layout::input_rows(&hint, width) {
            let text: String = hint[0]
                .chars()
                .skip(row.start)
                .take(row.end - row.start)
                .collect();
            lines.push(Line::from(Span::styled(text, th.warning())));
        }
    }
    f.render_widget(Paragraph::new(lines), area);
}

/// Shows the search query's matches (ASCII case-insensitive) in reverse video.
pub(crate) fn mark_matches(app: &App, lines: &mut [Line<'static>]) {
    let Some(q) = app
        .search
        .as_ref()
        .filter(|_| !app.search_editing())
        .map(|s| s.query.trim().to_ascii_lowercase())
        .filter(|q| !q.is_empty())
    else {
        return;
    };
    let hit = Style::default()
        .add_modifier(Modifier::REVERSED)
        .add_modifier(Modifier::BOLD);
    for line in lines.iter_mut() {
        let text: String = line.spans.iter().map(|s| s.content.as_ref()).collect();
        let lower = text.to_ascii_lowercase();
        let ranges: Vec<(usize, usize)> = lower
            .match_indices(&q)
            .map(|(i, m)| (i, i + m.len()))
            .collect();
        if ranges.is_empty() {
            continue;
        }
        let mut out = Vec::new();
        let mut at = 0;
        for span in &line.spans {
            let c = span.content.as_ref();
            let end = at + c.len();
            // Cut points inside this span: match boundaries.
            let mut cuts = vec![at, end];
            for &(a, b) in &ranges {
                for x in [a, b] {
                    if x > at && x < end && text.is_char_boundary(x) {
                        cuts.push(x);
                    }
                }
            }
            cuts.sort_unstable();
            cuts.dedup();
            for w in cuts.windows(2) {
                let piece = &text[w[0]..w[1]];
                if piece.is_empty() {
                    continue;
                }
                let inside = ranges.iter().any(|&(a, b)| w[0] >= a && w[1] <= b);
                let style = if inside {
                    span.style.patch(hit)
                } else {
                    span.style
                };
                out.push(Span::styled(piece.to_string(), style));
            }
            at = end;
        }
        line.spans = out;
    }
}

fn draw_input(f: &mut Frame, app: &App, area: Rect) {
    let th = app.theme.clone();
    if let Some(s) = app.search.as_ref().filter(|_| app.search_editing()) {
        let block = Block::default()
            .borders(Borders::ALL)
            .border_style(th.fg(th.accent).add_modifier(Modifier::BOLD))
            .title(Span::styled(
                " Search answers and reasoning — Enter finds, Esc cancels ",
                th.fg(th.accent),
            ));
        let inner = block.inner(area);
        f.render_widget(block, area);
        f.render_widget(Paragraph::new(format!("/{}▏", s.query)), padded(inner));
        return;
    }
    if app.replay.is_some() {
        draw_replay_bar(f, app, area);
        return;
    }
    if let Some(p) = app.save_prompt() {
        // The keys in the title (whole ones, as many as fit); the question in the box, where
        // a long absolute path has the row to itself.
        let room = (area.width as usize).saturating_sub(4);
        let (title, body) = if p.confirm {
            (
                format!(
                    "Save block {} · y or Enter writes · n edits the path · Esc cancels",
                    p.block + 1
                ),
                Span::styled(
                    format!("{} — write it?", p.why.as_deref().unwrap_or(&p.path)),
                    th.warning().add_modifier(Modifier::BOLD),
                ),
            )
        } else {
            (
                format!(
                    "Save block {} to (relative to the working directory) · Enter saves · Esc cancels",
                    p.block + 1
                ),
                Span::raw(format!("{}▏", p.path)),
            )
        };
        let block = Block::default()
            .borders(Borders::ALL)
            .border_style(th.warning().add_modifier(Modifier::BOLD))
            .title(Span::styled(
                format!(" {} ", whole_items(&title, room)),
                th.warning(),
            ));
        let inner = block.inner(area);
        f.render_widget(block, area);
        f.render_widget(
            Paragraph::new(Line::from(body)).wrap(ratatui::widgets::Wrap { trim: false }),
            padded(inner),
        );
        return;
    }
    let mut hint = String::from(" Message · Enter send · Alt+Enter newline · F1 help ");
    if let Some(t) = &app.compare_armed {
        hint = format!(
            " Compare: Enter sends to {} · Esc: just the current model ",
            crate::session::compare::target_names(t)
        );
    } else if !app.attachments.is_empty() {
        hint = format!(
            " Message · {} attached · Enter send ",
            crate::session::count(app.attachments.len(), "file", "files")
        );
    }
    if let Some(q) = &app.queued {
        // What waits, in its first line: sent when the reply ends.
        let first = q.lines().next().unwrap_or("");
        let first: String = first.chars().take(40).collect();
        let more = if q.chars().count() > first.chars().count() {
            "…"
        } else {
            ""
        };
        hint = format!(" Queued: “{first}{more}” · sent when the reply ends · Esc takes it back ");
    }
    let block = pane_block(
        app,
        Pane::Input,
        vec![Span::styled(hint, th.muted())],
        area.width,
    );
    let inner = block.inner(area);
    f.render_widget(block, area);
    let text = app.input.lines();
    // Soft-wrapped at the box's width (the text is not changed), the cursor's row in view.
    let rows = crate::app::layout::input_rows(text, crate::app::layout::input_width(area.width));
    let (cl, cc) = app.input.cursor();
    let at = rows
        .iter()
        .rposition(|r| r.line == cl && r.start <= cc)
        .unwrap_or(0);
    let h = inner.height as usize;
    let first = (at + 1).saturating_sub(h);
    let cursor = if app.focus == Pane::Input {
        Style::default().add_modifier(Modifier::REVERSED)
    } else {
        Style::default()
    };
    let empty = text.iter().all(String::is_empty);
    let lines: Vec<Line<'static>> = rows
        .iter()
        .enumerate()
        .skip(first)
        .take(h)
        .map(|(i, r)| {
            let chars: Vec<char> = text[r.line].chars().collect();
            let row: String = chars[r.start..r.end]
                .iter()
                .map(|&c| if c == '\t' { ' ' } else { c })
                .collect();
            if i != at {
                return Line::from(row);
            }
            // The cursor: the character under it reversed (a space at the end) when the box
            // has the focus.
            let k = cc - r.start;
            let before: String = row.chars().take(k).collect();
            let under: String = row.chars().nth(k).map(String::from).unwrap_or(" ".into());
            let after: String = row.chars().skip(k + 1).collect();
            let mut spans = vec![
                Span::raw(before),
                Span::styled(under, cursor),
                Span::raw(after),
            ];
            if empty {
                // Whole hints, as many as fit.
                let room = (inner.width as usize).saturating_sub(3);
                spans.push(Span::styled(
                    whole_items(app.input.placeholder_text(), room),
                    th.muted(),
                ));
            }
            Line::from(spans)
        })
        .collect();
    f.render_widget(Paragraph::new(lines), padded(inner));
}

pub(crate) fn sparkline(rate: &[u32], n: usize) -> String {
    const BARS: [char; 8] = ['▁', '▂', '▃', '▄', '▅', '▆', '▇', '█'];
    let tail = &rate[rate.len().saturating_sub(n)..];
    let max = tail.iter().copied().max().unwrap_or(0).max(1);
    tail.iter()
        .map(|&v| BARS[((v as usize * 7) + max as usize / 2) / max as usize])
        .collect()
}

/// A turn's cost for the screen: `free`, the amount, or `cost ?` when no price is known.
pub(crate) fn cost_label(c: &crate::session::Cost) -> String {
    match (c.source, c.amount()) {
        (CostSource::Free, _) => "free".into(),
        (_, Some(a)) => a,
        (_, None) => "cost ?".into(),
    }
}

/// The status bar: segments in priority order; the lowest-priority ones are dropped to fit.
pub fn status_segments(app: &App) -> Vec<(u8, Span<'static>)> {
    if let Some(c) = app.compare_shown {
        return compare::compare_status(app, c);
    }
    let th = &app.theme;
    let mut segs: Vec<(u8, Span<'static>)> = Vec::new();
    if let Some(flash) = &app.flash {
        segs.push((
            0,
            Span::styled(flash.clone(), th.warning().add_modifier(Modifier::BOLD)),
        ));
    }
    if let Some(a) = agent::status(app) {
        segs.push((1, a));
    }
    // Your own system prompt is in force (/system shows it): said after the model.
    let system = app
        .custom_system
        .then(|| (4, Span::styled("system prompt", th.fg(th.user))));
    let Some(tv) = app.status_turn() else {
        segs.push((1, Span::raw(format!("{} · {}", app.provider, app.model))));
        segs.extend(system);
        segs.push((2, Span::styled("idle", th.muted())));
        if !app.has_key {
            segs.push((1, Span::styled("no API key", th.error())));
        }
        return segs;
    };
    let r = app.report(tv);
    let model = if tv.turn.model_differs() {
        // As every report says it: asked → served.
        format!(
            "{} · {} → {}",
            tv.provider,
            tv.turn.asked_model,
            tv.turn.model()
        )
    } else {
        format!("{} · {}", tv.provider, tv.turn.model())
    };
    let model_style = if tv.turn.model_differs() {
        th.warning()
    } else {
        Style::default()
    };
    segs.push((1, Span::styled(model, model_style)));
    segs.extend(system);
    let (state, style) = match tv.turn.state {
        TurnState::Connecting if tv.turn.retries > 0 => {
            (format!("retrying ({})", tv.turn.retries), th.warning())
        }
        TurnState::Connecting => ("connecting".into(), th.warning()),
        TurnState::Thinking => ("thinking".into(), th.fg(th.reasoning)),
        TurnState::Answering => ("answering".into(), th.fg(th.accent)),
        TurnState::Done => ("idle".into(), th.muted()),
        TurnState::Failed => ("error".into(), th.error()),
        TurnState::Cancelled => ("cancelled".into(), th.warning()),
    };
    // A stream gone quiet says so (tok/s then 0), rather than "answering" on.
    let stalled = app.stalled(tv);
    let (state, style) = match stalled {
        Some(q) => (format!("no data for {} s", q.as_secs()), th.warning()),
        None => (state, style),
    };
    // Between rounds the agent is still at work.
    let (state, style) = match app.agent.as_ref() {
        Some(a) if a.running.is_some() && app.active.is_none() && !a.asks.is_empty() => {
            ("waiting for you".to_string(), th.warning())
        }
        Some(a) if a.running.is_some() && app.active.is_none() => {
            ("running tools".to_string(), th.fg(th.accent))
        }
        _ => (state, style),
    };
    segs.push((1, Span::styled(state, style.add_modifier(Modifier::BOLD))));
    let tps = match (stalled, r.tokens_per_sec) {
        (Some(_), _) => "0 tok/s".to_string(),
        (None, Some(t)) => format!("{t:.0} tok/s"),
        (None, None) => "— tok/s".into(),
    };
    segs.push((3, Span::raw(tps)));
    if !tv.rate.is_empty() {
        segs.push((5, Span::styled(sparkline(&tv.rate, 12), th.fg(th.accent))));
    }
    segs.push((3, Span::raw(format!("ttft {}", seconds(r.ttft_ms)))));
    let approx = if r.tokens_estimated { "~" } else { "" };
    let answer = r.output_tokens.saturating_sub(r.reasoning_tokens);
    match (r.prompt_tokens, r.cached_tokens) {
        (Some(p), Some(c)) => segs.push((4, Span::raw(format!("in {p} ({c} cached)")))),
        (Some(p), None) => segs.push((4, Span::raw(format!("in {p}")))),
        _ => {}
    }
    // A turn with no reasoning (none streamed, none billed) says only its output.
    let out = if r.reasoning_tokens == 0 && tv.turn.reasoning.is_empty() {
        format!("out {approx}{answer}")
    } else {
        format!(
            "out {approx}{answer} + {approx}{} reasoning",
            r.reasoning_tokens
        )
    };
    segs.push((3, Span::raw(out)));
    let turn_cost = r
        .cost
        .as_ref()
        .map(cost_label)
        .unwrap_or_else(|| "cost ?".into());
    // A turn still streaming counts with its estimate (the session's total grows with it,
    // not in one step at its end), marked `~` until it ends; an unpriced one makes it `+ ?`.
    let streaming = !tv.turn.is_finished();
    let live = r.cost.as_ref().filter(|_| streaming);
    let live_ticks = live.and_then(|c| c.total_ticks);
    // Output with no figure for it: no price to estimate with.
    let live_unpriced = match live {
        Some(c) => c.total_ticks.is_none() && c.source != CostSource::Free,
        None => streaming && r.output_tokens > 0,
    };
    let session = if app.provider_free && app.session_cost == 0 {
        "free".to_string()
    } else {
        let total = crate::session::pricing::total_label(
            app.session_cost + live_ticks.unwrap_or(0),
            !app.session_cost_known && live_ticks.is_none(),
            app.session_unpriced || live_unpriced,
        );
        match (live_ticks, app.session_cost_known) {
            (None, _) => total,
            _ if total == "cost ?" => total,
            (Some(_), true) => format!("~{total}"),
            (Some(_), false) => format!("≥~{total}"),
        }
    };
    segs.push((
        2,
        Span::styled(turn_cost, th.fg(th.accent).add_modifier(Modifier::BOLD)),
    ));
    // What the session has cost so far stays with the turn's cost (issue 15: 17).
    segs.push((
        2,
        Span::styled(format!("session {session}"), th.fg(th.accent)),
    ));
    if let Some(saved) = r.cost.as_ref().and_then(|c| c.savings_label()) {
        segs.push((
            3,
            Span::styled(format!("cache saved {saved}"), th.fg(th.user)),
        ));
    }
    if let Some(pct) = r.context_used_pct {
        segs.push((4, Span::raw(format!("ctx {pct:.1}%"))));
    }
    segs
}

/// `segs` (priority, text) in order, joined by `sep` (in `sep_style`), within `width`
/// columns: the least important segments (highest number; of equals, the later) are dropped
/// whole until the rest fits — a figure is never cut in the middle. The status bar and the
/// comparison columns' figures.
pub(crate) fn fit_segments(
    segs: Vec<(u8, Span<'static>)>,
    width: usize,
    sep: &'static str,
    sep_style: Style,
) -> Vec<Span<'static>> {
    let segs = segs.into_iter().map(|(p, s)| (p, vec![s])).collect();
    fit_groups(segs, width, sep, sep_style)
}

/// `fit_segments` for segments of several styled spans each (a label, a letter, a figure).
pub(crate) fn fit_groups(
    mut segs: Vec<(u8, Vec<Span<'static>>)>,
    width: usize,
    sep: &'static str,
    sep_style: Style,
) -> Vec<Span<'static>> {
    use unicode_width::UnicodeWidthStr;
    let total = |s: &[(u8, Vec<Span<'static>>)]| -> usize {
        s.iter()
            .flat_map(|(_, g)| g.iter())
            .map(|sp| sp.content.width())
            .sum::<usize>()
            + sep.width() * s.len().saturating_sub(1)
    };
    while total(&segs) > width && segs.len() > 1 {
        let worst = segs
            .iter()
            .enumerate()
            .max_by_key(|(i, (p, _))| (*p, *i))
            .map(|(i, _)| i)
            .unwrap_or(0);
        segs.remove(worst);
    }
    let mut spans = Vec::new();
    for (i, (_, g)) in segs.into_iter().enumerate() {
        if i > 0 {
            spans.push(Span::styled(sep, sep_style));
        }
        spans.extend(g);
    }
    spans
}

fn draw_status(f: &mut Frame, app: &App, view: &mut view::View, area: Rect) {
    let th = app.theme.clone();
    let mut spans = vec![Span::raw(" ")];
    spans.extend(fit_segments(
        status_segments(app),
        (area.width as usize).saturating_sub(1),
        " │ ",
        th.muted(),
    ));
    // A notice longer than the bar ends in `…`.
    let spans = ellipsize(spans, area.width as usize);
    let style = th.bg(th.fg(th.status_fg), th.status_bg);
    let (now, live) = match app.compare_shown.and_then(|c| app.comparisons.get(c)) {
        Some(cv) => (cv.now, cv.running()),
        None => (
            app.now,
            app.status_turn().is_some_and(|tv| !tv.turn.is_finished()),
        ),
    };
    let line = view.steady(Figures::Status, now, live, Line::from(spans));
    f.render_widget(Paragraph::new(line).style(style), area);
}

/// The scopes whose keys the help shows first: the focused pane's.
fn help_order(app: &App) -> Vec<crate::app::keymap::Scope> {
    use crate::app::keymap::Scope;
    let mut order = Vec::new();
    if app.replay.is_some() {
        order.push(Scope::Replay);
    }
    order.extend(match app.focus {
        Pane::Input => vec![Scope::Input],
        Pane::Conversation => vec![Scope::Panes, Scope::Browse],
        Pane::Reasoning => vec![Scope::Reasoning, Scope::Panes, Scope::Browse],
        Pane::Code => vec![Scope::Code, Scope::Panes],
        Pane::Compare => vec![Scope::Compare],
    });
    order.extend([Scope::Global, Scope::Always]);
    order
}

/// The help overlay: every binding of the keymap (the focused pane's first), then the
/// commands — generated, so it says what the keys do.
fn draw_help(f: &mut Frame, app: &App) {
    let th = &app.theme;
    let area = f.area();
    let sections = crate::app::keymap::help(&help_order(app));
    let rows: usize = sections.iter().map(|(_, r)| r.len() + 2).sum();
    let w = area.width.min(90);
    let h = area
        .height
        .min((rows + crate::app::commands::COMMANDS.len() + 4) as u16)
        .max(5);
    let r = centered(area, w, h);
    f.render_widget(Clear, r);
    let inner_w = r.width.saturating_sub(2) as usize;
    let key_w = sections
        .iter()
        .flat_map(|(_, rows)| rows.iter().map(|(k, _)| k.chars().count()))
        .max()
        .unwrap_or(10)
        .min(22)
        .min(inner_w / 2);
    let mut lines = Vec::new();
    let row = |k: &str, what: &str, lines: &mut Vec<Line<'static>>| {
        let pad = key_w.saturating_sub(k.chars().count());
        markdown::wrap(
            vec![Span::styled(
                format!("{k}{}  ", " ".repeat(pad)),
                th.fg(th.accent),
            )],
            vec![Span::raw(" ".repeat(key_w + 2))],
            vec![Span::raw(what.to_string())],
            inner_w,
            lines,
        );
    };
    let heading = |t: &str| {
        Line::from(Span::styled(
            t.to_string(),
            th.fg(th.heading).add_modifier(Modifier::BOLD),
        ))
    };
    for (title, keys) in &sections {
        if keys.is_empty() {
            continue;
        }
        if !lines.is_empty() {
            lines.push(Line::default());
        }
        lines.push(heading(title));
        for (k, what) in keys {
            row(k, what, &mut lines);
        }
    }
    lines.push(Line::default());
    lines.push(heading("Commands"));
    for (c, arg, what) in crate::app::commands::COMMANDS {
        row(&format!("{c} {arg}"), what, &mut lines);
    }
    let visible = r.height.saturating_sub(2) as usize;
    let max = lines.len().saturating_sub(visible);
    let scroll = app.help_scroll().min(max);
    let title = if max > 0 {
        format!(
            " Help — ↑↓ scroll ({}/{}) · Esc closes ",
            scroll + visible.min(lines.len()),
            lines.len()
        )
    } else {
        " Help — Esc closes ".to_string()
    };
    let block = Block::default()
        .borders(Borders::ALL)
        .border_style(th.fg(th.border_focus))
        .title(Span::styled(
            title,
            th.fg(th.accent).add_modifier(Modifier::BOLD),
        ));
    let shown: Vec<Line<'static>> = lines.into_iter().skip(scroll).collect();
    f.render_widget(Paragraph::new(shown).block(block), r);
}

#[cfg(test)]
mod hscroll_tests {
    use super::{ellipsize, hslice};
    use ratatui::style::{Color, Style};
    use ratatui::text::Span;

    fn text(spans: &[Span<'static>]) -> String {
        spans.iter().map(|s| s.content.as_ref()).collect()
    }

    /// Issue 15 (18): code is cut, never wrapped, with a marker on each side that goes on.
    #[test]
    fn long_lines_scroll_sideways_with_markers() {
        let red = Style::default().fg(Color::Red);
        let line = || {
            vec![
                Span::styled("let saturating".to_string(), red),
                Span::raw("_add = 1;".to_string()),
            ]
        };
        // 23 columns in a window of 10: 9 shown and the marker.
        let (s, w) = hslice(line(), 0, 10, None, '›');
        assert_eq!((text(&s).as_str(), w), ("let satur›", 23));
        assert_eq!(s[0].style, red);
        // Scrolled by 8: the left marker, then the window.
        let (s, _) = hslice(line(), 8, 10, None, '›');
        assert_eq!(text(&s), "‹ating_ad›");
        // To the end: no right marker.
        let (s, _) = hslice(line(), 13, 10, None, '›');
        assert_eq!(text(&s), "‹_add = 1;");
        // Exactly as wide as the window: whole, no marker.
        let (s, _) = hslice(vec![Span::raw("0123456789".to_string())], 0, 10, None, '›');
        assert_eq!(text(&s), "0123456789");
        // Tabs are four spaces; a short line scrolled past shows only that it was there.
        let (s, w) = hslice(vec![Span::raw("\tx".to_string())], 0, 10, None, '›');
        assert_eq!((text(&s).as_str(), w), ("    x", 5));
        let (s, _) = hslice(vec![Span::raw("ab".to_string())], 8, 10, None, '›');
        assert_eq!(text(&s), "‹");
    }

    /// Issue 15 (17): a title that does not fit ends in `…`.
    #[test]
    fn titles_that_do_not_fit_end_in_an_ellipsis() {
        let t = || vec![Span::raw(" Reasoning "), Span::raw("· turn 1/1 · 137 tok ")];
        assert_eq!(
            text(&ellipsize(t(), 40)),
            " Reasoning · turn 1/1 · 137 tok "
        );
        assert_eq!(text(&ellipsize(t(), 16)), " Reasoning · tu…");
        assert_eq!(text(&ellipsize(t(), 11)), " Reasoning…");
    }
}

#[cfg(test)]
mod status_tests {
    use crate::app::App;
    use crossterm::event::{KeyCode, KeyEvent};

    /// Issue 15 (Missing): your own system prompt is marked on the status bar; `/system`
    /// shows it.
    #[test]
    fn a_custom_system_prompt_is_marked_and_shown() {
        let mut a = App::new(crate::testing::app_init(false));
        let marked = |a: &App| {
            super::status_segments(a)
                .iter()
                .any(|(_, s)| s.content == "system prompt")
        };
        assert!(!marked(&a));
        a.input.insert_str("/system Answer in French.");
        a.on_key(KeyEvent::from(KeyCode::Enter));
        assert!(marked(&a));
        a.input.insert_str("/system");
        a.on_key(KeyEvent::from(KeyCode::Enter));
        assert!(a
            .entries
            .last()
            .is_some_and(|e| e.text == "system prompt: Answer in French."));
    }
}
