//! The interactive runtime: terminal setup and restore, and one event loop over terminal input,
//! stream events and the frame clock. Stream tasks only send events; only this loop draws.

use crossterm::event::{
    DisableBracketedPaste, DisableMouseCapture, EnableBracketedPaste, EnableMouseCapture, Event,
    EventStream,
};
use crossterm::execute;
use crossterm::terminal::{
    disable_raw_mode, enable_raw_mode, EnterAlternateScreen, LeaveAlternateScreen,
};
use futures_util::StreamExt;
use ratatui::backend::CrosstermBackend;
use ratatui::Terminal;
use std::io::Write;
use std::time::{Duration, Instant};
use tokio::sync::mpsc;

use crate::app::compare::ProviderInfo;
use crate::app::{App, AppInit, Effect, Event as AppEvent};
use crate::config::Config;
use crate::engine::{ColumnPlan, Engine};
use crate::runner::{CompareRun, Round, Runner};
use crate::session::exchange::RoundId;
use crate::session::store::{self, Recorder, Session};
use crate::ui::theme::{color_enabled, Theme};

/// At most ~60 frames a second.
const FRAME: Duration = Duration::from_millis(16);
/// While a reply streams, the clock in the status bar ticks this often even with no events.
const CLOCK: Duration = Duration::from_millis(250);
/// Most stream events applied between two looks at the keyboard and the signals: a flood
/// of events must never starve them.
const BATCH_EVENTS: usize = 2048;
const BATCH_TIME: Duration = Duration::from_millis(8);

/// What background work sends the loop: an event for the app, or a model listing for the
/// runtime's configuration (which then hands the app the new catalog).
enum Msg {
    App(AppEvent),
    Catalog {
        provider: String,
        models: Vec<crate::session::catalog::LiveModel>,
    },
}

/// Reads a file to attach: regular files only (a device or a FIFO reports a length of 0 and
/// never ends, or blocks forever), at most `max` bytes even if it grows while being read,
/// UTF-8 text.
pub fn read_attachment(path: &std::path::Path, max: u64) -> Result<String, String> {
    use std::io::Read;
    let regular = |m: &std::fs::Metadata| {
        if m.is_file() {
            Ok(())
        } else if m.is_dir() {
            Err("a directory, not a file".to_string())
        } else {
            Err("not a regular file (devices, FIFOs and sockets are not attached)".to_string())
        }
    };
    let too_big = |n: u64| {
        format!(
            "{} KiB is more than the {} KiB limit",
            n.div_ceil(1024),
            max / 1024
        )
    };
    let m = std::fs::metadata(path).map_err(|e| e.to_string())?;
    regular(&m)?;
    if m.len() > max {
        return Err(too_big(m.len()));
    }
    let f = std::fs::File::open(path).map_err(|e| e.to_string())?;
    // The path may have been swapped since: what was opened must be a regular file too.
    regular(&f.metadata().map_err(|e| e.to_string())?)?;
    let mut buf = Vec::new();
    f.take(max + 1)
        .read_to_end(&mut buf)
        .map_err(|e| e.to_string())?;
    if buf.len() as u64 > max {
        return Err(too_big(buf.len() as u64));
    }
    String::from_utf8(buf).map_err(|_| "not UTF-8 text".to_string())
}

fn restore_terminal() {
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
fn suspend(mouse: bool) {
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
struct TerminalGuard;

impl Drop for TerminalGuard {
    fn drop(&mut self) {
        restore_terminal();
    }
}

pub struct TuiOptions {
    pub provider: Option<String>,
    pub model: Option<String>,
    pub theme: Option<String>,
    pub no_save: bool,
    pub start: Start,
}

/// What the TUI opens with.
pub enum Start {
    /// A new conversation (or, with no key configured, the demo first).
    Chat,
    /// A saved session, to continue.
    Resume(Box<Session>),
    /// A saved session played back; `speed` None is as fast as possible.
    Replay {
        session: Box<Session>,
        speed: Option<f64>,
        demo: bool,
    },
}

fn key_help(cfg: &Config, provider: &crate::config::Provider) -> String {
    let var = provider
        .api_key_env
        .clone()
        .unwrap_or_else(|| format!("providers.{}.api_key", provider.name));
    let file = cfg
        .path
        .clone()
        .or_else(crate::config::default_path)
        .map(|p| p.display().to_string())
        .unwrap_or_else(|| "the config file".into());
    format!(
        "No API key for provider `{}`. Quit (Ctrl+C twice), then `export {var}=…` and start again, \
         or set it in {file} (`grokpair config init` writes one). A local llama.cpp / Ollama \
         server needs no key: `grokpair --provider local`.",
        provider.name
    )
}

pub async fn run(mut cfg: Config, opts: TuiOptions) -> Result<i32, String> {
    let color = color_enabled();
    let theme_name = opts
        .theme
        .clone()
        .or(cfg.theme.clone())
        .unwrap_or_else(|| "dark".into());
    let theme = Theme::load(&theme_name, color)?;
    // A resumed session keeps its provider and model unless told otherwise.
    let resumed_last = match &opts.start {
        Start::Resume(s) => s
            .current_model()
            .map(|(p, m)| (p.to_string(), m.to_string())),
        _ => None,
    };
    let provider_name = opts
        .provider
        .clone()
        .or(resumed_last.as_ref().map(|(p, _)| p.clone()))
        .unwrap_or_else(|| cfg.provider.clone());
    let provider = cfg
        .provider(&provider_name)
        .map_err(|e| e.to_string())?
        .clone();
    let model_flag = opts.model.clone().or(resumed_last
        .as_ref()
        .filter(|(p, _)| *p == provider.name)
        .map(|(_, m)| m.clone()));
    let has_key = !provider.needs_key() || provider.api_key().is_some();
    let (tx, mut rx) = mpsc::unbounded_channel::<Msg>();
    let mut engine = Engine::new(&cfg, &provider).map_err(|e| e.to_string())?;
    let live_notice = use_listing(&mut cfg, &engine, &tx);
    // A local server with no model set is asked which one it serves — in the background:
    // the screen comes first, and a message waits until the answer (or `/model ID`) is in.
    let model = engine
        .known_model(&cfg, model_flag.as_deref())
        .unwrap_or_default();
    if model.is_empty() {
        let (engine, cfg, tx) = (engine.clone(), cfg.clone(), tx.clone());
        tokio::spawn(async move {
            let found = engine.resolve_model(&cfg, None).await;
            let _ = tx.send(Msg::App(AppEvent::Model(found.map_err(|e| e.to_string()))));
        });
    }
    let mut app = App::new(AppInit {
        theme,
        catalog: cfg.catalog.clone(),
        provider: provider.name.clone(),
        providers: cfg.providers.keys().cloned().collect(),
        provider_free: provider.free,
        includes_reasoning: provider.completion_includes_reasoning,
        has_key,
        key_help: key_help(&cfg, &provider),
        model,
        system: cfg.system.clone(),
        provider_info: ProviderInfo::from_config(&cfg),
    });
    if let Some(n) = live_notice {
        app.notice(&n);
    }
    if app.model.is_empty() {
        app.flash = Some(format!("asking {} which model it serves…", provider.name));
    }
    app.params = cfg.sampling.clone();
    app.key_hint = match &provider.api_key_env {
        Some(var) => format!(
            "To chat for real: quit, `export {var}=…`, run grokpair again (a local server needs no key: grokpair -p local)."
        ),
        None => format!(
            "To chat for real: set providers.{}.api_key in the config (a local server needs no key: grokpair -p local).",
            provider.name
        ),
    };
    let sessions_dir = cfg.sessions_dir();
    let save = cfg.autosave && !opts.no_save;
    let mut runner = Runner::new(Recorder::new(&sessions_dir, save));
    match opts.start {
        Start::Chat if !has_key => {
            // Something real to look at without a key: the bundled demo, clearly labelled.
            if let Some(s) = crate::demo::sessions().into_iter().next() {
                app.start_replay(&s, Some(1.0), true, false);
            }
        }
        Start::Chat => {}
        Start::Resume(s) => {
            // One writer per session: refused before the screen is taken.
            let mut rec = Recorder::continue_session(&s, save);
            rec.try_lock()?;
            runner = Runner::new(rec);
            app.load_session(&s);
            app.flash = Some(format!("resumed {} ({} turns)", s.id(), s.turn_count()));
        }
        Start::Replay {
            session,
            speed,
            demo,
        } => app.start_replay(&session, speed, demo, true),
    }
    let mut rec_conv = app.conv.id.clone();

    // Terminal setup, with restore on panic and on every exit path.
    let prev_hook = std::panic::take_hook();
    std::panic::set_hook(Box::new(move |info| {
        restore_terminal();
        prev_hook(info);
    }));
    enable_raw_mode().map_err(|e| format!("cannot enter raw mode: {e}"))?;
    let _guard = TerminalGuard;
    let mut stdout = std::io::stdout();
    execute!(
        stdout,
        EnterAlternateScreen,
        EnableBracketedPaste,
        EnableMouseCapture
    )
    .map_err(|e| e.to_string())?;
    let mut terminal =
        Terminal::new(CrosstermBackend::new(std::io::stdout())).map_err(|e| e.to_string())?;
    if let Ok(size) = terminal.size() {
        app.update(AppEvent::Resize {
            width: size.width,
            height: size.height,
        });
    }

    #[cfg(unix)]
    let mut signals = {
        use tokio::signal::unix::{signal, SignalKind};
        (
            signal(SignalKind::terminate()).map_err(|e| e.to_string())?,
            signal(SignalKind::hangup()).map_err(|e| e.to_string())?,
            signal(SignalKind::interrupt()).map_err(|e| e.to_string())?,
            signal(SignalKind::from_raw(libc::SIGTSTP)).map_err(|e| e.to_string())?,
        )
    };

    let mut events = EventStream::new();
    // The turn streaming now, read here directly: its bounded channel slows a flooding
    // server down to the screen's pace.
    let mut active: Option<(usize, Round)> = None;
    let mut dirty = true;
    let mut last_draw = Instant::now() - FRAME;
    let mut clock = tokio::time::interval(CLOCK);
    clock.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Skip);
    let mut prewarmed = false;
    let mut exit_code = 0;
    let mut replay_last = Instant::now();
    // The comparison streaming now.
    let mut cmp_run: Option<(usize, CompareRun)> = None;

    loop {
        if dirty && last_draw.elapsed() >= FRAME {
            // One more frame when the app's scroll offsets had to come back within what fits.
            dirty = frame(&mut terminal, &mut app).map_err(|e| e.to_string())?;
            last_draw = Instant::now();
            if !prewarmed {
                // Syntaxes load after the first frame, off the UI thread.
                crate::ui::highlight::prewarm();
                prewarmed = true;
            }
        }
        let next_frame = tokio::time::Instant::from_std(last_draw + FRAME);
        // A playing replay wakes when its next event is due (and at least every clock tick).
        let replay_wait = app
            .replay
            .as_ref()
            .and_then(|r| r.next_due())
            .map(|d| d.min(CLOCK));
        if replay_wait.is_none() {
            replay_last = Instant::now();
        }
        let mut effects = Vec::new();
        #[cfg(unix)]
        let (term, hup, int, tstp) = (
            &mut signals.0,
            &mut signals.1,
            &mut signals.2,
            &mut signals.3,
        );
        tokio::select! {
            ev = events.next() => {
                match ev {
                    Some(Ok(Event::Key(k))) => effects = app.update(AppEvent::Key(k)),
                    Some(Ok(Event::Paste(p))) => effects = app.update(AppEvent::Paste(p)),
                    Some(Ok(Event::Mouse(m))) => effects = app.update(AppEvent::Mouse(m)),
                    Some(Ok(Event::Resize(width, height))) => {
                        effects = app.update(AppEvent::Resize { width, height });
                    }
                    Some(Ok(_)) => {}
                    Some(Err(_)) | None => break,
                }
                dirty = true;
            }
            (turn, first) = async {
                match active.as_mut() {
                    Some((turn, r)) => match r.wait().await {
                        Some(ev) => (*turn, ev),
                        None => std::future::pending().await,
                    },
                    None => std::future::pending().await,
                }
            } => {
                // This event and whatever else is waiting, one frame for a burst of tokens —
                // but never more than a frame's work, so keys and signals keep their turn.
                let until = Instant::now() + BATCH_TIME;
                let mut next = active.as_mut().map(|(_, r)| runner.received(r, first));
                let mut n = 0;
                while let Some(ev) = next {
                    effects.extend(app.update(AppEvent::Stream { turn, ev }));
                    n += 1;
                    if n >= BATCH_EVENTS || Instant::now() >= until {
                        break;
                    }
                    next = active.as_mut().and_then(|(_, r)| runner.poll_now(r));
                }
                dirty = true;
            }
            Some(msg) = rx.recv() => {
                let mut next = Some(msg);
                while let Some(msg) = next {
                    match msg {
                        Msg::App(ev) => effects.extend(app.update(ev)),
                        Msg::Catalog { provider, models } => {
                            if provider == app.provider {
                                cfg.use_live(&models);
                            }
                            let catalog = cfg.catalog.clone();
                            effects.extend(app.update(AppEvent::Catalog { provider, models, catalog }));
                        }
                    }
                    next = rx.try_recv().ok();
                }
                dirty = true;
            }
            msg = async {
                match cmp_run.as_mut() {
                    Some((_, run)) => run.wait().await,
                    None => std::future::pending().await,
                }
            } => {
                if let Some((cmp, run)) = cmp_run.as_mut() {
                    let until = Instant::now() + BATCH_TIME;
                    if let Some(msg) = msg {
                        runner.column_msg(run, msg);
                    }
                    let mut next = runner.poll_column(run);
                    let mut n = 0;
                    while let Some((col, step)) = next {
                        effects.extend(app.update(AppEvent::Column { cmp: *cmp, col, step }));
                        n += 1;
                        if n >= BATCH_EVENTS || Instant::now() >= until {
                            break;
                        }
                        next = runner.poll_column(run);
                    }
                    dirty = true;
                }
            }
            _ = tokio::time::sleep_until(next_frame), if dirty => {}
            // Anchored to the last advance, so other wake-ups never push it back.
            _ = tokio::time::sleep_until(tokio::time::Instant::from_std(
                replay_last + replay_wait.unwrap_or_default())), if replay_wait.is_some() => {
                let now = Instant::now();
                effects = app.update(AppEvent::ReplayAdvance(now - replay_last));
                replay_last = now;
                dirty = true;
            }
            _ = clock.tick(), if active.is_some() || cmp_run.is_some() => {
                effects = app.update(AppEvent::Clock {
                    turn: active.as_ref().map(|(_, r)| r.elapsed()),
                    compare: cmp_run.as_ref().map(|(c, run)| (*c, run.elapsed())),
                });
                // A quiet stream's last events reach the file too.
                runner.tick();
                dirty = true;
            }
            _ = term.recv() => { exit_code = 143; break; }
            _ = tstp.recv() => {
                suspend(app.mouse);
                // Continued (`fg`): everything on screen is stale.
                let _ = terminal.clear();
                dirty = true;
            }
            _ = hup.recv() => { exit_code = 129; break; }
            _ = int.recv() => { effects = app.update(AppEvent::Key(crossterm::event::KeyEvent::new(
                crossterm::event::KeyCode::Char('c'), crossterm::event::KeyModifiers::CONTROL))); dirty = true; }
        }
        // Effects run in order; what their results ask for runs after them.
        let mut queue = effects;
        while !queue.is_empty() {
            let mut after = Vec::new();
            for fx in queue {
                if matches!(fx, Effect::Start { .. } | Effect::StartCompare { .. })
                    && app.conv.id != rec_conv
                {
                    // `/new`: a new conversation is a new session file.
                    runner = Runner::new(Recorder::new(&sessions_dir, save));
                    rec_conv = app.conv.id.clone();
                }
                match fx {
                    Effect::Start { turn } => {
                        let settings = app.settings();
                        let id = RoundId::first(app.turns[turn].rec);
                        let mut round =
                            runner.start(&engine, &cfg, &app.conv, &app.model, &settings, id);
                        if let Some(n) = app.params_notice(turn, round.notice.take()) {
                            runner.note(&mut round, n);
                        }
                        active = Some((turn, round));
                    }
                    Effect::Cancel => {
                        if let Some((_, r)) = active.as_mut() {
                            runner.cancel(r, Some(app.now));
                        }
                    }
                    Effect::StartCompare { cmp } => {
                        let asked = app.compare_request(cmp);
                        let mut settings = app.settings();
                        // What the comparison was asked with (a queued column goes out later).
                        settings.params = app.comparisons[cmp].params.clone();
                        let mut columns = Vec::new();
                        let mut ids = Vec::new();
                        for c in &app.comparisons[cmp].cols {
                            let plan = cfg
                                .provider(&c.col.provider)
                                .map_err(|e| e.message)
                                .and_then(|p| Engine::new(&cfg, p).map_err(|e| e.to_string()))
                                .map(|engine| ColumnPlan {
                                    engine,
                                    model: c.col.turn.asked_model.clone(),
                                    params: c.params.clone(),
                                });
                            columns.push((c.col.clone(), plan));
                            ids.push(c.rec);
                        }
                        let mut run = runner.start_compare(&cfg, &asked, &settings, columns, ids);
                        // Columns that could not be sent fail at once.
                        while let Some((col, step)) = runner.poll_column(&mut run) {
                            after.extend(app.update(AppEvent::Column { cmp, col, step }));
                        }
                        cmp_run = Some((cmp, run));
                    }
                    Effect::CancelColumn { cmp, col } => {
                        if let Some((c, run)) = cmp_run.as_mut().filter(|(c, _)| *c == cmp) {
                            runner.cancel_column(run, col);
                            while let Some((col, step)) = runner.poll_column(run) {
                                after.extend(app.update(AppEvent::Column { cmp: *c, col, step }));
                            }
                        }
                    }
                    Effect::Adopted {
                        provider,
                        model,
                        rec: rec_id,
                    } => {
                        runner.rec.adopted(rec_id, &app.conv);
                        if provider != app.provider {
                            let ev = switch_provider(&cfg, &mut engine, &provider, Some(model));
                            after.extend(app.update(ev));
                        }
                    }
                    Effect::Copy(text) => {
                        let n = text.lines().count();
                        copy_osc52(&text);
                        after.extend(
                            app.update(AppEvent::Flash(format!("copied {n} lines (OSC 52)"))),
                        );
                        // A clipboard tool may hang (no display, a stuck wl-copy): never in this loop.
                        let tx = tx.clone();
                        tokio::task::spawn_blocking(move || {
                            if let Some(cmd) = copy_system(&text) {
                                let _ = tx.send(Msg::App(AppEvent::Flash(format!(
                                    "copied {n} lines (terminal + {cmd})"
                                ))));
                            }
                        });
                    }
                    fx @ (Effect::CheckSave { .. }
                    | Effect::LoadTheme { .. }
                    | Effect::Save { .. }) => {
                        if let Some(ev) = local_io(fx) {
                            after.extend(app.update(ev));
                        }
                    }
                    Effect::SwitchProvider(name) => {
                        let ev = switch_provider(&cfg, &mut engine, &name, None);
                        let switched = matches!(ev, AppEvent::ProviderSwitched { .. });
                        after.extend(app.update(ev));
                        if switched {
                            if let Some(n) = use_listing(&mut cfg, &engine, &tx) {
                                after.extend(app.update(AppEvent::Notice(n)));
                            }
                            after.extend(app.update(AppEvent::Catalog {
                                provider: engine.provider.name.clone(),
                                models: Vec::new(),
                                catalog: cfg.catalog.clone(),
                            }));
                        }
                    }
                    Effect::SetMouse(on) => {
                        let mut out = std::io::stdout();
                        let _ = if on {
                            execute!(out, EnableMouseCapture)
                        } else {
                            execute!(out, DisableMouseCapture)
                        };
                    }
                    Effect::ReadFile { path, max } => {
                        let tx = tx.clone();
                        tokio::task::spawn_blocking(move || {
                            let read = read_attachment(std::path::Path::new(&path), max);
                            let _ = tx.send(Msg::App(AppEvent::FileRead { path, read }));
                        });
                    }
                    Effect::ListModels => {
                        let (engine, tx) = (engine.clone(), tx.clone());
                        tokio::spawn(async move {
                            let served = engine
                                .client
                                .get_json("models")
                                .await
                                .map(|v| crate::api::client::model_ids(&v))
                                .map_err(|e| e.to_string());
                            let _ = tx.send(Msg::App(AppEvent::Models(served)));
                        });
                    }
                    Effect::ListSessions => {
                        // Off the UI thread: a directory of hundreds of sessions never stalls keys.
                        let (dir, tx) = (sessions_dir.clone(), tx.clone());
                        app.flash = Some("reading saved sessions…".into());
                        tokio::task::spawn_blocking(move || {
                            let _ = tx.send(Msg::App(AppEvent::Sessions(session_items(&dir))));
                        });
                    }
                    Effect::OpenSession(path) => match store::lock_session(&path)
                        .and_then(|lock| Ok((lock, store::load(&path).map_err(|e| e.to_string())?)))
                    {
                        Ok((lock, s)) => {
                            runner.flush();
                            let mut rec = Recorder::continue_session(&s, save);
                            rec.hold(lock);
                            runner = Runner::new(rec);
                            after.extend(app.update(AppEvent::SessionOpened(Box::new(s))));
                            rec_conv = app.conv.id.clone();
                        }
                        Err(e) => after.extend(app.update(AppEvent::Error(e))),
                    },
                    Effect::Quit => {}
                }
            }
            queue = after;
        }
        // A finished comparison lets go of its tasks.
        if cmp_run.as_ref().is_some_and(|(_, run)| !run.running()) {
            cmp_run = None;
            if let Some(e) = runner.rec.take_error() {
                app.error(&e);
            }
        }
        // A turn that ended (finished, failed, cancelled) gets its end record.
        if active.as_ref().is_some_and(|(_, r)| r.turn.is_finished()) {
            if let Some((_, mut r)) = active.take() {
                runner.end(&mut r, &app.conv, &app.catalog);
            }
            if let Some(e) = runner.rec.take_error() {
                app.error(&e);
            }
        }
        if app.should_quit {
            break;
        }
    }
    // Quitting mid-stream (a signal): what arrived is saved, marked cancelled.
    if let Some((_, mut r)) = active.take() {
        runner.cancel(&mut r, Some(app.now));
        runner.end(&mut r, &app.conv, &app.catalog);
    }
    // And a live comparison still running: its columns end cancelled, with what they had.
    if let Some((_, mut run)) = cmp_run.take() {
        runner.cancel_compare(&mut run);
    }
    drop(terminal);
    Ok(exit_code)
}

/// The provider's own model listing (the xai preset reads one): the cached one applied now
/// (none: the built-in table, with no other provider's listing), a new one fetched in the
/// background when due (it arrives as `Msg::Catalog`). Returns a notice when the cache was
/// unreadable.
fn use_listing(
    cfg: &mut Config,
    engine: &Engine,
    tx: &mpsc::UnboundedSender<Msg>,
) -> Option<String> {
    let (cached, due, notice) = crate::engine::cached_live_catalog(&engine.provider);
    cfg.use_live(cached.map(|l| l.models).as_deref().unwrap_or_default());
    if due {
        let (engine, tx) = (engine.clone(), tx.clone());
        tokio::spawn(async move {
            // Offline, the cached listing (or the built-in table) stays: nothing to say.
            if let Ok(l) = engine.refresh_live_catalog().await {
                let _ = tx.send(Msg::Catalog {
                    provider: engine.provider.name.clone(),
                    models: l.models,
                });
            }
        });
    }
    notice
}

/// Switches the engine to provider `name` for the next requests (`/provider`, or an adopted
/// answer's, `adopted` being its model): the event that tells the app, or the error.
fn switch_provider(
    cfg: &Config,
    engine: &mut Engine,
    name: &str,
    adopted: Option<String>,
) -> AppEvent {
    let p = match cfg.provider(name) {
        Ok(p) => p.clone(),
        Err(e) => return AppEvent::Error(e.message),
    };
    match Engine::new(cfg, &p) {
        Ok(e) => {
            *engine = e;
            AppEvent::ProviderSwitched {
                to: crate::app::ProviderState {
                    name: p.name.clone(),
                    free: p.free,
                    includes_reasoning: p.completion_includes_reasoning,
                    has_key: !p.needs_key() || p.api_key().is_some(),
                    key_help: key_help(cfg, &p),
                    model: p.model.clone(),
                },
                adopted,
            }
        }
        Err(e) => AppEvent::Error(e.to_string()),
    }
}

/// Draws one frame of `app` (at the terminal's size, which the app is told first) and gives
/// the app what the frame could show. True when that changed the app's scroll offsets (so
/// the frame drawn is already stale). The runtime, the tests and the benchmarks draw with it.
pub fn frame<B: ratatui::backend::Backend>(
    terminal: &mut Terminal<B>,
    app: &mut App,
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
    terminal.draw(|f| drawn = Some(crate::ui::draw(f, app)))?;
    let before = (
        app.conv_scroll,
        app.reasoning_scroll,
        app.code_scroll,
        app.new_output,
    );
    if let Some(d) = drawn {
        app.update(AppEvent::Drawn(d));
    }
    Ok(before
        != (
            app.conv_scroll,
            app.reasoning_scroll,
            app.code_scroll,
            app.new_output,
        ))
}

/// The effects that are a quick local file operation, carried out at once: the event with
/// the result (`None` for any other effect). Also what tests use to stand in for the runtime.
pub fn local_io(fx: Effect) -> Option<AppEvent> {
    Some(match fx {
        Effect::CheckSave { path } => {
            // Anything there, a symlink too (even a broken one, which `exists()` calls absent
            // and a write would follow).
            let exists = path.symlink_metadata().is_ok();
            AppEvent::SaveTarget { path, exists }
        }
        Effect::LoadTheme { name, color } => {
            let theme = Theme::load(&name, color);
            AppEvent::ThemeLoaded { name, theme }
        }
        Effect::Save { path, text } => AppEvent::Saved(match std::fs::write(&path, &text) {
            Ok(()) => Ok((path, text.lines().count())),
            Err(e) => Err(format!("could not save {}: {e}", path.display())),
        }),
        _ => return None,
    })
}

/// The picker's lines: the newest 200 conversations, from their listings (first line and
/// summary record).
fn session_items(dir: &std::path::Path) -> Vec<(std::path::PathBuf, String)> {
    store::list(dir)
        .into_iter()
        .take(200)
        .filter_map(|p| {
            let l = store::listing(&p).ok()?;
            if l.summary.turns == 0 || l.header.kind != "chat" {
                return None;
            }
            let label = format!(
                "{}  {:<22} {:>3} turns  {}",
                store::short_date(&l.header.created),
                l.summary.model,
                l.summary.turns,
                store::one_line(&l.summary.first_prompt, 60)
            );
            Some((p, label))
        })
        .collect()
}

/// OSC 52, through tmux when inside it: the terminal sets the clipboard, also over ssh.
fn copy_osc52(text: &str) {
    let b64 = base64(text.as_bytes());
    let osc = format!("\x1b]52;c;{b64}\x07");
    let seq = if std::env::var_os("TMUX").is_some() {
        format!("\x1bPtmux;{}\x1b\\", osc.replace('\x1b', "\x1b\x1b"))
    } else {
        osc
    };
    let mut out = std::io::stdout();
    let _ = out.write_all(seq.as_bytes());
    let _ = out.flush();
}

/// The first system clipboard tool that takes the text within two seconds, if any.
fn copy_system(text: &str) -> Option<&'static str> {
    for (cmd, args) in [
        ("wl-copy", &[][..]),
        ("xclip", &["-selection", "clipboard"][..]),
        ("xsel", &["--clipboard", "--input"][..]),
        ("pbcopy", &[][..]),
    ] {
        let Ok(mut c) = std::process::Command::new(cmd)
            .args(args)
            .stdin(std::process::Stdio::piped())
            .stdout(std::process::Stdio::null())
            .stderr(std::process::Stdio::null())
            .spawn()
        else {
            continue;
        };
        if let Some(mut stdin) = c.stdin.take() {
            let _ = stdin.write_all(text.as_bytes());
        }
        let deadline = Instant::now() + Duration::from_secs(2);
        loop {
            match c.try_wait() {
                Ok(Some(st)) if st.success() => return Some(cmd),
                Ok(Some(_)) | Err(_) => break,
                Ok(None) if Instant::now() >= deadline => {
                    let _ = c.kill();
                    let _ = c.wait();
                    break;
                }
                Ok(None) => std::thread::sleep(Duration::from_millis(20)),
            }
        }
    }
    None
}

pub fn base64(data: &[u8]) -> String {
    const T: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    let mut out = String::with_capacity(data.len().div_ceil(3) * 4);
    for c in data.chunks(3) {
        let b = [c[0], *c.get(1).unwrap_or(&0), *c.get(2).unwrap_or(&0)];
        let n = (b[0] as u32) << 16 | (b[1] as u32) << 8 | b[2] as u32;
        out.push(T[(n >> 18) as usize & 63] as char);
        out.push(T[(n >> 12) as usize & 63] as char);
        out.push(if c.len() > 1 {
            T[(n >> 6) as usize & 63] as char
        } else {
            '='
        });
        out.push(if c.len() > 2 {
            T[n as usize & 63] as char
        } else {
            '='
        });
    }
    out
}

#[cfg(test)]
mod tests {
    #[test]
    fn base64_matches_rfc4648() {
        assert_eq!(super::base64(b""), "");
        assert_eq!(super::base64(b"f"), "Zg==");
        assert_eq!(super::base64(b"fo"), "Zm8=");
        assert_eq!(super::base64(b"foobar"), "Zm9vYmFy");
    }
}

#[cfg(test)]
mod attach_tests {
    use super::read_attachment;

    #[test]
    fn only_regular_files_within_the_cap() {
        let dir = tempfile::tempdir().unwrap();
        let ok = dir.path().join("a.rs");
        std::fs::write(&ok, "fn main() {}\n").unwrap();
        assert_eq!(read_attachment(&ok, 100).unwrap(), "fn main() {}\n");
        let big = dir.path().join("big.txt");
        std::fs::write(&big, vec![b'x'; 4096]).unwrap();
        assert_eq!(
            read_attachment(&big, 2048).unwrap_err(),
            "4 KiB is more than the 2 KiB limit"
        );
        assert!(read_attachment(std::path::Path::new("/dev/zero"), 2048)
            .unwrap_err()
            .starts_with("not a regular file"));
        assert!(read_attachment(dir.path(), 2048)
            .unwrap_err()
            .contains("directory"));
        let bin = dir.path().join("b.bin");
        std::fs::write(&bin, [0xff, 0xfe]).unwrap();
        assert_eq!(read_attachment(&bin, 2048).unwrap_err(), "not UTF-8 text");
        let fifo = dir.path().join("fifo");
        assert!(std::process::Command::new("mkfifo")
            .arg(&fifo)
            .status()
            .unwrap()
            .success());
        assert!(read_attachment(&fifo, 2048)
            .unwrap_err()
            .starts_with("not a regular file"));
    }
}
