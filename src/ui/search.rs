//! The matches of the pending search, found in what is drawn: the conversation's lines, every
//! turn's wrapped reasoning, every comparison column — in transcript order (a turn's answer
//! before its reasoning, a comparison where it stands).

use ratatui::text::Line;

use super::markdown::{plain, Sink};
use super::view::View;
use crate::app::search::{text_size, Hit, Match};
use crate::app::{App, EntryKind};

fn contains_ci(hay: &str, needle_lower: &str) -> bool {
    hay.to_ascii_lowercase().contains(needle_lower)
}

/// Every match of the app's search query, each with its pane's line count.
pub fn find(app: &App, view: &mut View) -> Vec<Match> {
    let Some(q) = app
        .search
        .as_ref()
        .map(|s| s.query.trim().to_ascii_lowercase())
        .filter(|q| !q.is_empty())
    else {
        return Vec::new();
    };
    let areas = app.areas();
    let (cw, _) = text_size(areas.conversation);
    let cw = if cw < 4 { 80 } else { cw };
    // Every conversation line, with where each entry starts.
    let mut sink = Sink::all();
    view.conversation_runs(app, cw, &mut sink);
    let lines = plain(&sink.out);
    let conversation_lines = lines.len();
    let marks = sink.marks.clone();
    let turn_at = |line: usize| -> Option<usize> {
        let e = marks.iter().rposition(|m| *m <= line)?;
        // A question belongs to the answer that follows it.
        app.entries[e..].iter().find_map(|en| match en.kind {
            EntryKind::Assistant(t) => Some(t),
            _ => None,
        })
    };
    let mut hits: Vec<Match> = lines
        .iter()
        .enumerate()
        .filter(|(_, l)| contains_ci(l, &q))
        .map(|(line, _)| Match {
            hit: Hit::Conversation {
                line,
                turn: turn_at(line),
            },
            lines: conversation_lines,
        })
        .collect();
    let (rw, _) = text_size(areas.reasoning);
    let rw = if rw < 4 { 60 } else { rw };
    for t in 0..app.turns.len() {
        if !contains_ci(&app.turns[t].turn.reasoning, &q) {
            continue;
        }
        let (done, tail) = view.reasoning_lines(app, t, rw);
        let all: Vec<Line<'static>> = done.iter().chain(tail).cloned().collect();
        for (line, text) in plain(&all).iter().enumerate() {
            if contains_ci(text, &q) {
                hits.push(Match {
                    hit: Hit::Reasoning { turn: t, line },
                    lines: all.len(),
                });
            }
        }
    }
    // A comparison sorts after the turns before it in the transcript.
    let turns_before: Vec<usize> = app
        .comparisons
        .iter()
        .map(|cv| {
            app.entries[..cv.entry]
                .iter()
                .filter(|e| matches!(e.kind, EntryKind::Assistant(_)))
                .count()
        })
        .collect();
    for cmp in 0..app.comparisons.len() {
        for col in 0..app.comparisons[cmp].cols.len() {
            let (w, _) = app.column_size(cmp, col);
            let mut sink = Sink::all();
            view.column_lines(app, cmp, col, w, &mut sink);
            let texts = plain(&sink.out);
            for (line, text) in texts.iter().enumerate() {
                if contains_ci(text, &q) {
                    hits.push(Match {
                        hit: Hit::Column { cmp, col, line },
                        lines: texts.len(),
                    });
                }
            }
        }
    }
    let key = |m: &Match| match m.hit {
        Hit::Conversation { line, turn } => (turn.map_or(0, |t| t + 1), 0, line),
        Hit::Reasoning { turn, line } => (turn + 1, 1, line),
        Hit::Column { cmp, col, line } => (turns_before[cmp], 2 + col, line),
    };
    hits.sort_by_key(key);
    hits
}
