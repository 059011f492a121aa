//! Where everything goes on a terminal of the app's size: the panes, the message box, the
//! status bar, a comparison's columns. Geometry of the state only (no drawing): the renderer
//! draws into these areas and the update function hit-tests the mouse against them.

use ratatui::layout::{Constraint, Direction, Layout, Rect};

use super::{App, Pane};

/// Below this width the side panes go under the conversation instead of beside it.
pub const WIDE: u16 = 110;

#[derive(Debug, Default, Clone, PartialEq)]
pub struct Areas {
    /// Everything above the message box (the panes, or a comparison's columns).
    pub main: Rect,
    pub conversation: Rect,
    pub reasoning: Rect,
    pub code: Rect,
    pub input: Rect,
    pub status: Rect,
    /// A comparison on screen: its columns and the summary row under them.
    pub columns: Vec<Rect>,
    pub summary: Rect,
}

pub fn layout(area: Rect, app: &App) -> Areas {
    let mut a = panes(area, app);
    if let Some(cv) = app.compare_shown.and_then(|c| app.comparisons.get(c)) {
        let rows = Layout::default()
            .direction(Direction::Vertical)
            .constraints([Constraint::Min(4), Constraint::Length(2)])
            .split(a.main);
        a.columns = column_rects(rows[0], cv.cols.len());
        a.summary = rows[1];
        (a.conversation, a.reasoning, a.code) = (Rect::default(), Rect::default(), Rect::default());
    }
    a
}

/// A row of the message box as shown: logical line `line`, its characters `start..end`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct InputRow {
    pub line: usize,
    pub start: usize,
    pub end: usize,
}

/// The message box's text soft-wrapped at `width` columns: a long line breaks after its last
/// space that fits (a word longer than the row is cut); the text itself is not changed.
pub fn input_rows(lines: &[String], width: usize) -> Vec<InputRow> {
    use unicode_width::UnicodeWidthChar;
    let width = width.max(1);
    let mut rows = Vec::new();
    for (line, text) in lines.iter().enumerate() {
        let chars: Vec<char> = text.chars().collect();
        let mut start = 0;
        loop {
            let (mut used, mut i, mut space) = (0, start, None);
            while i < chars.len() {
                // A tab shows as one space.
                let w = if chars[i] == '\t' {
                    1
                } else {
                    chars[i].width().unwrap_or(0)
                };
                if used + w > width && i > start {
                    break;
                }
                used += w;
                if chars[i] == ' ' {
                    space = Some(i);
                }
                i += 1;
            }
            if i >= chars.len() {
                rows.push(InputRow {
                    line,
                    start,
                    end: chars.len(),
                });
                break;
            }
            // Break after the last space of the row, else where it is full.
            let end = match space {
                Some(sp) if sp + 1 > start && sp + 1 < i => sp + 1,
                _ => i,
            };
            rows.push(InputRow { line, start, end });
            start = end;
        }
    }
    if rows.is_empty() {
        rows.push(InputRow {
            line: 0,
            start: 0,
            end: 0,
        });
    }
    rows
}

/// The message box's text width inside its borders, one column kept for the cursor.
pub fn input_width(area_width: u16) -> usize {
    // Two borders, a column of padding, and the cursor after the last character.
    area_width.saturating_sub(4) as usize
}

fn panes(area: Rect, app: &App) -> Areas {
    let input_lines = match &app.replay {
        // The keys, then how to chat for real, wrapped (up to 3 rows).
        Some(r) if r.demo => {
            1 + input_rows(&[app.demo_hint()], input_width(area.width))
                .len()
                .clamp(1, 3) as u16
        }
        Some(_) => 1,
        None => input_rows(app.input.lines(), input_width(area.width))
            .len()
            .clamp(1, 6) as u16,
    };
    let rows = Layout::default()
        .direction(Direction::Vertical)
        .constraints([
            Constraint::Min(3),
            Constraint::Length(input_lines + 2),
            Constraint::Length(1),
        ])
        .split(area);
    let (main, input, status) = (rows[0], rows[1], rows[2]);
    let none = Rect::default();
    if app.zoom && app.focus != Pane::Input {
        let mut a = Areas {
            main,
            conversation: none,
            reasoning: none,
            code: none,
            input,
            status,
            ..Areas::default()
        };
        match app.focus {
            Pane::Reasoning => a.reasoning = main,
            Pane::Code => a.code = main,
            _ => a.conversation = main,
        }
        return a;
    }
    // Wide: conversation | (reasoning over code). Narrow: conversation over
    // (reasoning | code). The side split is perpendicular to the main one.
    // Until the side panes have something to show, they keep one line each under the
    // conversation (their titles and what will stream there): the conversation gets the rows,
    // and when wide its full width (`App::side_column_idle` says when the column opens).
    let wide = area.width >= WIDE;
    let bare = !matches!(app.focus, Pane::Reasoning | Pane::Code)
        && if wide {
            app.side_column_idle()
        } else {
            app.side_panes_empty()
        };
    let (dir, side_dir, side_pct) = if wide && !bare {
        (Direction::Horizontal, Direction::Vertical, 45)
    } else {
        (Direction::Vertical, Direction::Horizontal, 50)
    };
    let constraints = if bare {
        [Constraint::Min(3), Constraint::Length(3)]
    } else {
        [
            Constraint::Percentage(app.split),
            Constraint::Percentage(100 - app.split),
        ]
    };
    let halves = Layout::default()
        .direction(dir)
        .constraints(constraints)
        .split(main);
    let side = Layout::default()
        .direction(side_dir)
        .constraints([
            Constraint::Percentage(side_pct),
            Constraint::Percentage(100 - side_pct),
        ])
        .split(halves[1]);
    Areas {
        main,
        conversation: halves[0],
        reasoning: side[0],
        code: side[1],
        input,
        status,
        ..Areas::default()
    }
}

/// Narrower than this, 3 or 4 columns go in two rows.
const MIN_COLUMN_WIDTH: u16 = 30;

/// Where each column goes in `area`: side by side, or two rows of two when too narrow.
pub fn column_rects(area: Rect, n: usize) -> Vec<Rect> {
    if n == 0 {
        return Vec::new();
    }
    let side_by_side = n <= 2 || area.width / n as u16 >= MIN_COLUMN_WIDTH;
    let split = |r: Rect, k: usize| -> Vec<Rect> {
        Layout::default()
            .direction(Direction::Horizontal)
            .constraints(vec![Constraint::Ratio(1, k as u32); k])
            .split(r)
            .to_vec()
    };
    if side_by_side {
        return split(area, n);
    }
    let rows = Layout::default()
        .direction(Direction::Vertical)
        .constraints([Constraint::Ratio(1, 2), Constraint::Ratio(1, 2)])
        .split(area);
    let top = n.div_ceil(2);
    let mut v = split(rows[0], top);
    v.extend(split(rows[1], n - top));
    v
}

#[cfg(test)]
mod input_tests {
    use super::{input_rows, InputRow};

    fn shown(lines: &[&str], width: usize) -> Vec<String> {
        let lines: Vec<String> = lines.iter().map(|s| s.to_string()).collect();
        input_rows(&lines, width)
            .iter()
            .map(|r| {
                lines[r.line]
                    .chars()
                    .skip(r.start)
                    .take(r.end - r.start)
                    .collect()
            })
            .collect()
    }

    /// Issue 15 (15): a long line soft-wraps at its spaces; a word longer than a row is cut;
    /// line breaks stay.
    #[test]
    fn the_message_box_soft_wraps() {
        assert_eq!(
            shown(&["the quick brown fox jumps"], 10),
            ["the quick ", "brown fox ", "jumps"]
        );
        assert_eq!(shown(&["abcdefghijkl"], 5), ["abcde", "fghij", "kl"]);
        assert_eq!(shown(&["one", "", "two"], 10), ["one", "", "two"]);
        assert_eq!(
            input_rows(&[String::new()], 10),
            [InputRow {
                line: 0,
                start: 0,
                end: 0
            }]
        );
    }
}
