//! The terminal: taken (raw mode, the alternate screen, bracketed paste, mouse capture) and
//! always given back — on exit, on a panic, on Ctrl+Z — and one frame drawn.

use crossterm::event::{
    DisableBracketedPaste, DisableMouseCapture, EnableBracketedPaste, EnableMouseCapture,
};
use crossterm::execute;
use crossterm::terminal::{
    disable_raw_mode, enable_raw_mode, EnterAlternateScreen, LeaveAlternateScreen,
};
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

/// Draws one frame of `app` (at the terminal's size, which the app is told first) and gives
/// the app what the frame could show. True when that changed the app's scroll offsets (so
/// the frame drawn is already stale). The runtime, the tests and the benchmarks draw with it.
pub fn frame<B: ratatui::backend::Backend>(
    terminal: &mut Terminal<B>,
    app: &mut App,
    view: &mut crate::ui::view::View,
) -> std::io::Result<bool> {
    if let Ok(size) = terminal.size() {
        if (app.size.width, app.size.height) != (size.width, size.height) {
            app.update(AppEvent::Resize {
                width: size.width,
                height: size.height,
            });
        }
    }
    let mut drawn = None;
    terminal.draw(|f| drawn = Some(crate::ui::draw(f, app, view)))?;
    if let Some(d) = drawn {
        app.update(AppEvent::Drawn(d));
    }
    Ok(std::mem::take(&mut app.needs_frame))
}
