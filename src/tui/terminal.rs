//! The terminal: taken (raw mode, the alternate screen, bracketed paste, mouse capture) and
//! always given back — on exit, on a panic, on Ctrl+Z — and one frame drawn.

use crossterm::event::{
    DisableBracketedPaste, DisableMouseCapture, EnableBracketedPaste, EnableMouseCapture,
};
use crossterm::execute;
use crossterm::terminal::{
    disable_raw_mode, enable_raw_mode, EnterAlternateScreen, LeaveAlternateScreen,
};
use ratatui::backend::Backend;
use ratatui::buffer::Buffer;
use ratatui::layout::Rect;
use ratatui::Terminal;
use std::io::Write;

use crate::app::{App, Event as AppEvent};

pub(super) fn restore_terminal() {
    let _ = disable_raw_mode();
    let mut out = std::io::stdout();
    let _ = execute!(
        out,
        DisableMouseCapture,
        DisableBracketedPaste,
        LeaveAlternateScreen,
        crossterm::cursor::Show
    );
    let _ = out.flush();
}

/// Stops the process as SIGTSTP asks, with the terminal given back first (cooked mode, the
/// normal screen, no mouse capture), and takes it again when continued.
#[cfg(unix)]
pub(super) fn suspend(mouse: bool) {
    restore_terminal();
    // SAFETY: SIGSTOP to this very process; execution resumes here on SIGCONT.
    unsafe {
        libc::kill(libc::getpid(), libc::SIGSTOP);
    }
    let _ = enable_raw_mode();
    let mut out = std::io::stdout();
    let _ = execute!(out, EnterAlternateScreen, EnableBracketedPaste);
    if mouse {
        let _ = execute!(out, EnableMouseCapture);
    }
}

/// Restores the terminal when dropped (normal exit and early returns).
pub(super) struct TerminalGuard;

impl Drop for TerminalGuard {
    fn drop(&mut self) {
        restore_terminal();
    }
}

/// A terminal and what is on it: frames are drawn through ratatui's `Terminal`, and only the
/// cells that changed since the last frame are sent. The comparison of the two frames is done
/// here rather than by `Terminal::draw`: ratatui measures the width of every cell's text three
/// times per frame, a fifth of all the CPU while a reply streams; a cell of one ASCII
/// character (nearly all of them) is one column wide without measuring.
pub struct Screen<B: Backend> {
    terminal: Terminal<B>,
    /// What the terminal shows (the last frame sent).
    shown: Buffer,
    cursor_hidden: bool,
}

impl<B: Backend> Screen<B> {
    pub fn new(backend: B) -> std::io::Result<Self> {
        let terminal = Terminal::new(backend)?;
        Ok(Screen {
            shown: Buffer::empty(Rect::default()),
            cursor_hidden: false,
            terminal,
        })
    }

    pub fn backend(&self) -> &B {
        self.terminal.backend()
    }

    pub fn size(&self) -> std::io::Result<ratatui::layout::Size> {
        self.terminal.size()
    }

    /// Clears the terminal: the next frame is sent whole.
    pub fn clear(&mut self) -> std::io::Result<()> {
        self.terminal.clear()?;
        self.shown = Buffer::empty(Rect::default());
        self.cursor_hidden = false;
        Ok(())
    }

    /// Follows the terminal's size (a new one clears it: everything is sent again) and says
    /// what it is.
    fn fit(&mut self) -> std::io::Result<Rect> {
        self.terminal.autoresize()?;
        Ok(self.terminal.get_frame().area())
    }

    /// Renders one frame with `render` at the size `fit` found, and sends what changed.
    fn draw<T>(&mut self, render: impl FnOnce(&mut ratatui::Frame) -> T) -> std::io::Result<T> {
        let mut frame = self.terminal.get_frame();
        let area = frame.area();
        let out = render(&mut frame);
        if self.shown.area != area {
            self.shown = Buffer::empty(area);
        }
        let next = self.terminal.current_buffer_mut();
        let updates = changed(&self.shown, next);
        // The cells sent become what is shown; the old frame's buffer is the next canvas.
        std::mem::swap(&mut self.shown, next);
        let Screen {
            terminal,
            shown,
            cursor_hidden,
        } = self;
        let cells = blend_blanks(
            updates
                .into_iter()
                .map(|(x, y, i)| (x, y, &shown.content[i])),
        );
        terminal
            .backend_mut()
            .draw(cells.iter().map(|(x, y, c)| (*x, *y, c)))?;
        if !*cursor_hidden {
            terminal.hide_cursor()?;
            *cursor_hidden = true;
        }
        terminal.current_buffer_mut().reset();
        ratatui::backend::Backend::flush(terminal.backend_mut())?;
        Ok(out)
    }
}

/// The cells of `next` to send over a terminal showing `shown` (same area): ratatui's
/// `Buffer::diff`, with the width of a one-byte symbol known without measuring. A wide
/// character hides the cells it covers; cells a wide one covered before are sent again.
fn changed(shown: &Buffer, next: &Buffer) -> Vec<(u16, u16, usize)> {
    let width = |c: &ratatui::buffer::Cell| {
        let s = c.symbol();
        if s.len() == 1 {
            1
        } else {
            unicode_width::UnicodeWidthStr::width(s)
        }
    };
    let mut updates = Vec::new();
    let mut invalidated: usize = 0;
    let mut to_skip: usize = 0;
    let w = next.area.width.max(1) as usize;
    for (i, (cur, prev)) in next.content.iter().zip(&shown.content).enumerate() {
        if !cur.skip && (cur != prev || invalidated > 0) && to_skip == 0 {
            let (x, y) = ((i % w) as u16, (i / w) as u16);
            updates.push((next.area.x + x, next.area.y + y, i));
        }
        let (wc, wp) = (width(cur), width(prev));
        to_skip = wc.saturating_sub(1);
        invalidated = wc.max(wp).max(invalidated).saturating_sub(1);
    }
    updates
}

/// The cells to send, each blank one in the foreground and attributes of the cell sent before
/// it where that cannot show (no underline, reverse video or strike-through on either, the
/// same background): a row of styled text and its blank end then take one style change, not
/// two per row. Half the bytes sent while a reply streamed were such changes. What the
/// terminal shows is the same; `shown` keeps the cells as drawn, which look the same.
fn blend_blanks<'a>(
    updates: impl Iterator<Item = (u16, u16, &'a ratatui::buffer::Cell)>,
) -> Vec<(u16, u16, ratatui::buffer::Cell)> {
    use ratatui::style::Modifier;
    let visible = Modifier::UNDERLINED | Modifier::REVERSED | Modifier::CROSSED_OUT;
    let mut out: Vec<(u16, u16, ratatui::buffer::Cell)> = Vec::new();
    for (x, y, cell) in updates {
        let mut cell = cell.clone();
        if let Some((_, _, prev)) = out.last() {
            if cell.symbol() == " "
                && cell.bg == prev.bg
                && !cell.modifier.intersects(visible)
                && !prev.modifier.intersects(visible)
            {
                cell.fg = prev.fg;
                cell.modifier = prev.modifier;
            }
        }
        out.push((x, y, cell));
    }
    out
}

/// Draws one frame of `app` (at the terminal's size, which the app is told first) and gives
/// the app what the frame could show. True when that changed the app's scroll offsets (so
/// the frame drawn is already stale). The runtime, the tests and the benchmarks draw with it.
pub fn frame<B: Backend>(
    screen: &mut Screen<B>,
    app: &mut App,
    view: &mut crate::ui::view::View,
) -> std::io::Result<bool> {
    // One look at the terminal's size per frame (each opens the terminal device).
    let size = screen.fit()?;
    if (app.size.width, app.size.height) != (size.width, size.height) {
        app.update(AppEvent::Resize {
            width: size.width,
            height: size.height,
        });
    }
    let drawn = screen.draw(|f| crate::ui::draw(f, app, view))?;
    app.update(AppEvent::Drawn(drawn));
    Ok(std::mem::take(&mut app.needs_frame))
}

#[cfg(test)]
mod tests {
    use super::changed;
    use proptest::prelude::*;
    use ratatui::buffer::Buffer;
    use ratatui::layout::Rect;
    use ratatui::style::{Color, Style};

    /// A buffer from a few symbols (narrow, wide, combining, empty) and colours.
    fn buffer(area: Rect, cells: &[(u8, u8)]) -> Buffer {
        const SYMBOLS: [&str; 6] = ["a", " ", "é", "漢", "😀", "e\u{301}"];
        let mut b = Buffer::empty(area);
        for (i, &(s, c)) in cells.iter().enumerate().take(b.content.len()) {
            let cell = &mut b.content[i];
            cell.set_symbol(SYMBOLS[s as usize % SYMBOLS.len()]);
            cell.set_style(Style::default().fg(Color::Indexed(c % 3)));
        }
        b
    }

    proptest! {
        /// The same cells as ratatui's own diff, wide characters and all.
        #[test]
        fn sends_what_ratatui_would(
            a in proptest::collection::vec((0u8..6, 0u8..3), 0..60),
            b in proptest::collection::vec((0u8..6, 0u8..3), 0..60),
        ) {
            let area = Rect::new(2, 1, 9, 6);
            let (shown, next) = (buffer(area, &a), buffer(area, &b));
            let ours: Vec<(u16, u16, usize)> = changed(&shown, &next);
            let theirs: Vec<(u16, u16)> = shown.diff(&next).iter().map(|(x, y, _)| (*x, *y)).collect();
            prop_assert_eq!(ours.iter().map(|(x, y, _)| (*x, *y)).collect::<Vec<_>>(), theirs);
            for (x, y, i) in ours {
                prop_assert_eq!(&next[(x, y)], &next.content[i]);
            }
        }
    }

    #[test]
    fn blanks_take_the_style_before_them_where_it_cannot_show() {
        use ratatui::style::Modifier;
        let area = Rect::new(0, 0, 6, 1);
        let mut b = Buffer::empty(area);
        let red = Style::default()
            .fg(Color::Red)
            .add_modifier(Modifier::ITALIC);
        b.set_string(0, 0, "ab", red);
        b.set_string(
            3,
            0,
            "c",
            Style::default().add_modifier(Modifier::UNDERLINED),
        );
        let cells =
            super::blend_blanks(b.content.iter().enumerate().map(|(i, c)| (i as u16, 0, c)));
        let styles: Vec<(Color, Modifier)> =
            cells.iter().map(|(_, _, c)| (c.fg, c.modifier)).collect();
        assert_eq!(
            styles,
            vec![
                (Color::Red, Modifier::ITALIC),
                (Color::Red, Modifier::ITALIC),
                // A blank after red italic text: red italic (invisible on a space).
                (Color::Red, Modifier::ITALIC),
                (Color::Reset, Modifier::UNDERLINED),
                // After an underline the blank keeps its own style: an underline would show.
                (Color::Reset, Modifier::empty()),
                (Color::Reset, Modifier::empty()),
            ]
        );
    }

    #[test]
    fn an_unchanged_frame_sends_nothing() {
        let area = Rect::new(0, 0, 20, 3);
        let a = buffer(area, &[(0, 1), (3, 2), (1, 0), (5, 1)]);
        assert!(changed(&a, &a.clone()).is_empty());
        let mut b = a.clone();
        b.content[19].set_symbol("z");
        assert_eq!(changed(&a, &b), vec![(19, 0, 19)]);
    }
}
