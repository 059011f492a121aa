//! The interactive runtime: terminal setup and restore, and one event loop over terminal input,
//! stream events and the frame clock. Stream tasks only send events; only this loop draws.

use crossterm::event::{EnableBracketedPaste, EnableMouseCapture, Event};
use crossterm::execute;
use crossterm::terminal::{enable_raw_mode, EnterAlternateScreen};
use ratatui::backend::CrosstermBackend;
use std::time::{Duration, Instant};
use tokio::sync::mpsc;

use crate::app::compare::ProviderInfo;
use crate::app::{App, AppInit, Event as AppEvent};
use crate::config::Config;
use crate::engine::Engine;
use crate::runner::{CompareRun, Round, Runner};
use crate::session::store::{Recorder, Session};
use crate::ui::theme::{color_enabled, Theme};

/// How long a status-bar notice stays, and how long Ctrl+C stays armed for the second press.
const FLASH_FOR: Duration = Duration::from_secs(6);
const QUIT_ARMED_FOR: Duration = Duration::from_millis(1500);
/// A letter that ran as a pane key, then a letter no pane takes within this: a word was being
/// typed (`App::pane_letter`). Typing is faster; scrolling, then starting to type, is slower.
const TYPE_THROUGH_FOR: Duration = Duration::from_millis(800);

/// At most ~60 frames a second after a key, a click or a resize.
const FRAME: Duration = Duration::from_millis(16);
/// At most 10 frames a second for what streams in (tokens, a command's output, the clock, a
/// replay): text appearing in tenths of a second still reads as a stream, and a frame costs
/// the same however little changed (every cell is rendered and compared): drawn 60 times a
/// second at 250 tok/s, frames were most of the CPU.
const STREAM_FRAME: Duration = Duration::from_millis(100);
/// While a reply streams, the clock in the status bar ticks this often even with no events.
const CLOCK: Duration = Duration::from_millis(250);
/// How long a stream's reader rests once it has taken what had arrived (a trickle of tokens
/// then costs a wake-up per batch, not per token). Below a frame's pace: nothing waits a frame
/// longer for it.
const STREAM_COALESCE: Duration = Duration::from_millis(40);
/// Most stream events applied between two looks at the keyboard and the signals: a flood
/// of events must never starve them.
const BATCH_EVENTS: usize = 2048;
const BATCH_TIME: Duration = Duration::from_millis(8);

/// What background work sends the loop: an event for the app, or a model listing for the
/// runtime's configuration (which then hands the app the new catalog).
mod effects;
mod terminal;

use effects::use_listing;
pub use effects::{base64, local_io, read_attachment};
pub use terminal::{frame, Screen};
use terminal::{restore_terminal, suspend, TerminalGuard};

enum Msg {
    App(AppEvent),
    Catalog {
        provider: String,
        models: Vec<crate::session::catalog::LiveModel>,
    },
}

pub struct TuiOptions {
    pub provider: Option<String>,
    pub model: Option<String>,
    pub theme: Option<String>,
    pub no_save: bool,
    /// The agent's workspace (`--cd`; default: the current directory).
    pub workspace: Option<std::path::PathBuf>,
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

/// The terminal's input, read on a thread of its own (blocking on the terminal) and handed to
/// the loop through a channel. crossterm's `EventStream` polls the terminal and signals its
/// waker thread every time it is polled, which the loop did for every stream event it woke
/// for: a system call and two thread switches per token.
fn input_events() -> mpsc::UnboundedReceiver<std::io::Result<Event>> {
    let (tx, rx) = mpsc::unbounded_channel();
    std::thread::spawn(move || loop {
        let ev = crossterm::event::read();
        let failed = ev.is_err();
        if tx.send(ev).is_err() || failed {
            return;
        }
    });
    rx
}

pub(super) fn key_help(cfg: &Config, provider: &crate::config::Provider) -> String {
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
         or set it in {file} (`grokpair config init` writes one) and `/provider {}` (the file is \
         read again). A local llama.cpp / Ollama server needs no key: `grokpair --provider local`.",
        provider.name, provider.name
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
        .map_err(|e| match &opts.provider {
            Some(n) => format!("--provider {n}: {}", e.message),
            None => e.to_string(),
        })?
        .clone();
    let model_flag = opts.model.clone().or(resumed_last
        .as_ref()
        .filter(|(p, _)| *p == provider.name)
        .map(|(_, m)| m.clone()));
    let has_key = !provider.needs_key() || provider.api_key().is_some();
    // Streams are read in batches at the screen's pace (see `NetPolicy::coalesce`).
    cfg.net.coalesce = STREAM_COALESCE;
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
    // Agent mode: the tools, the approval policy, the project's instructions in the system
    // prompt. Not for a replay or the keyless demo.
    let replaying = matches!(opts.start, Start::Replay { .. });
    let mut agent = None;
    let mut system = cfg.system.clone();
    let mut instructions = Vec::new();
    let mut agent_error = None;
    if cfg.agent.tools && !replaying && has_key {
        let root = match &opts.workspace {
            Some(d) => d.clone(),
            None => std::env::current_dir().map_err(|e| format!("cwd: {e}"))?,
        };
        match crate::agent::Agent::new(crate::agent::Setup {
            workspace: root,
            policy: cfg.agent.policy(),
            limits: crate::session::agent::Limits {
                max_steps: cfg.agent.max_steps,
                budget: cfg
                    .agent
                    .max_cost
                    .map(|c| crate::session::catalog::usd_to_ticks(c) as i64),
                ..Default::default()
            },
            hide_env: provider.api_key_env.iter().cloned().collect(),
        }) {
            Ok(a) => {
                let cwd = std::env::current_dir().unwrap_or_else(|_| a.root().to_path_buf());
                let (names, text) = crate::agent::project_instructions(a.root(), &cwd);
                system = Some(crate::agent::system_prompt(
                    cfg.system.as_deref(),
                    a.root(),
                    &text,
                ));
                instructions = names;
                agent = Some(a);
            }
            Err(e) => {
                if opts.workspace.is_some() {
                    return Err(format!("--cd: {e}"));
                }
                agent_error = Some(format!("agent mode is off: {e}"));
            }
        }
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
        system,
        provider_info: ProviderInfo::from_config(&cfg),
    });
    if let Some(n) = live_notice {
        app.notice(&n);
    }
    if let Some(e) = agent_error {
        app.error(&e);
    }
    if agent.is_some() {
        app.agent = Some(crate::app::agent::AgentView::new(
            cfg.agent.mode,
            instructions,
            cfg.agent.max_cost,
        ));
    }
    if app.model.is_empty() {
        app.flash = Some(format!("asking {} which model it serves…", provider.name));
    }
    app.params = cfg.sampling.clone();
    app.reading_width = cfg.reading_width;
    app.custom_system = cfg.system.as_deref().is_some_and(|s| !s.trim().is_empty());
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
    let specs = agent.as_ref().map(|a| a.specs()).unwrap_or_default();
    runner.tools = specs.clone();
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
            runner.tools = specs.clone();
            if let Some(a) = agent.as_mut() {
                // Its checkpoints are beside its file.
                a.attach(Some(&s.path));
            }
            // The provider and model chosen above (the flags', else the session's own)
            // stay: loading sets the session's.
            let chosen = (app.provider.clone(), app.model.clone());
            app.load_session(&s);
            (app.provider, app.model) = chosen;
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
    // A frame goes out in one write: stdout's own buffer writes every kilobyte, so a large
    // frame reached the terminal in pieces (more system calls, and a half-drawn screen for
    // anyone reading the terminal in between).
    let mut terminal = Screen::new(CrosstermBackend::new(std::io::BufWriter::with_capacity(
        1 << 16,
        std::io::stdout(),
    )))
    .map_err(|e| e.to_string())?;
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

    // The renderer's cells and caches, beside the app (drawing never writes the app).
    let mut view = crate::ui::view::View::new();
    let mut events = input_events();
    // The turn streaming now, read here directly: its bounded channel slows a flooding
    // server down to the screen's pace.
    let mut active: Option<(usize, Round)> = None;
    let mut dirty = true;
    // Something the user did is waiting to be drawn (the sooner frame pace).
    let mut urgent = true;
    let mut last_draw = Instant::now() - STREAM_FRAME;
    let mut clock = tokio::time::interval(CLOCK);
    clock.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Skip);
    let mut prewarmed = false;
    let mut exit_code = 0;
    let mut replay_last = Instant::now();
    // The comparison streaming now.
    let mut cmp_run: Option<(usize, CompareRun)> = None;
    // The notice on the status bar and since when; since when Ctrl+C is armed.
    let mut flash_since: Option<(String, Instant)> = None;
    let mut armed_since: Option<Instant> = None;
    let mut letter_since: Option<(u32, Instant)> = None;

    loop {
        let pace = if urgent { FRAME } else { STREAM_FRAME };
        if dirty && last_draw.elapsed() >= pace {
            // One more frame when the app's scroll offsets had to come back within what fits.
            dirty =
                terminal::frame(&mut terminal, &mut app, &mut view).map_err(|e| e.to_string())?;
            urgent = dirty;
            last_draw = Instant::now();
            if !prewarmed {
                // Syntaxes load after the first frame, off the UI thread.
                crate::ui::highlight::prewarm();
                prewarmed = true;
            }
        }
        let next_frame = tokio::time::Instant::from_std(last_draw + pace);
        // What shows only a while: timed from when it appeared.
        match (&app.flash, &flash_since) {
            (Some(f), Some((g, _))) if f == g => {}
            (Some(f), _) => flash_since = Some((f.clone(), Instant::now())),
            (None, _) => flash_since = None,
        }
        match (app.quit_armed, armed_since) {
            (true, None) => armed_since = Some(Instant::now()),
            (false, _) => armed_since = None,
            _ => {}
        }
        match (app.pane_letter.map(|l| l.seq), letter_since) {
            (Some(s), Some((t, _))) if s == t => {}
            (Some(s), _) => letter_since = Some((s, Instant::now())),
            (None, _) => letter_since = None,
        }
        let expiry = [
            flash_since.as_ref().map(|(_, t)| *t + FLASH_FOR),
            armed_since.map(|t| t + QUIT_ARMED_FOR),
            letter_since.map(|(_, t)| t + TYPE_THROUGH_FOR),
        ]
        .into_iter()
        .flatten()
        .min();
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
            ev = events.recv() => {
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
                urgent = true;
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
                urgent = true;
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
            msg = async {
                match agent.as_mut() {
                    Some(a) if a.busy() => a.wait().await,
                    _ => std::future::pending().await,
                }
            } => {
                if let Some(ag) = agent.as_mut() {
                    // This report and what else is waiting (a command's lines come in floods).
                    let until = Instant::now() + BATCH_TIME;
                    let mut next = Some(msg);
                    while let Some(m) = next {
                        for st in ag.received(&mut runner, m, &mut app.conv) {
                            effects.extend(app.update(AppEvent::Agent(st)));
                        }
                        if Instant::now() >= until {
                            break;
                        }
                        next = ag.poll_now();
                    }
                    dirty = true;
                }
            }
            _ = tokio::time::sleep_until(tokio::time::Instant::from_std(
                expiry.unwrap_or_else(Instant::now))), if expiry.is_some() => {
                let now = Instant::now();
                let flash = flash_since
                    .as_ref()
                    .filter(|(_, t)| now >= *t + FLASH_FOR)
                    .map(|(f, _)| f.clone());
                let quit = armed_since.is_some_and(|t| now >= t + QUIT_ARMED_FOR);
                let letter = letter_since
                    .filter(|(_, t)| now >= *t + TYPE_THROUGH_FOR)
                    .map(|(s, _)| s);
                effects = app.update(AppEvent::Expire { flash, quit, letter });
                dirty = true;
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
                urgent = true;
            }
            _ = hup.recv() => { exit_code = 129; break; }
            _ = int.recv() => { effects = app.update(AppEvent::Key(crossterm::event::KeyEvent::new(
                crossterm::event::KeyCode::Char('c'), crossterm::event::KeyModifiers::CONTROL))); dirty = true; urgent = true; }
        }
        // Effects run in order; what their results ask for runs after them — and what an
        // ended agent round asks for next.
        loop {
            let mut ctx = effects::Ctx {
                cfg: &mut cfg,
                engine: &mut engine,
                runner: &mut runner,
                active: &mut active,
                cmp_run: &mut cmp_run,
                tx: &tx,
                sessions_dir: &sessions_dir,
                save,
                rec_conv: &mut rec_conv,
                agent: &mut agent,
            };
            ctx.run(&mut app, std::mem::take(&mut effects));
            // A finished comparison lets go of its tasks.
            if cmp_run.as_ref().is_some_and(|(_, run)| !run.running()) {
                cmp_run = None;
                if let Some(e) = runner.rec.take_error() {
                    app.error(&e);
                }
            }
            // A turn that ended (finished, failed, cancelled) gets its end record.
            if active.as_ref().is_some_and(|(_, r)| r.turn.is_finished()) {
                if let Some((turn, mut r)) = active.take() {
                    runner.end(&mut r, &app.conv, &app.catalog);
                    // A server that refuses tools: chat without them from now on.
                    let refused = r.id.round == 0
                        && r.turn
                            .error
                            .as_ref()
                            .is_some_and(crate::agent::rejects_tools);
                    if refused && agent.is_some() {
                        agent = None;
                        runner.tools.clear();
                        let why = format!("{} refused the tools", app.provider);
                        effects.extend(app.update(AppEvent::AgentOff(why)));
                    }
                    // The agent's turn goes on: the calls it asked for are decided and run.
                    let agent_turn = app.agent_busy() && app.turns.get(turn).is_some();
                    if let (Some(ag), true) = (agent.as_mut(), agent_turn) {
                        let steps = ag.round_ended(
                            &mut runner,
                            r.id.rec,
                            &r.turn,
                            app.session_cost,
                            &mut app.conv,
                        );
                        for st in steps {
                            effects.extend(app.update(AppEvent::Agent(st)));
                        }
                    }
                }
                if let Some(e) = runner.rec.take_error() {
                    app.error(&e);
                }
            }
            // Nothing runs any more: a message queued meanwhile goes now.
            if effects.is_empty()
                && app.queued.is_some()
                && active.is_none()
                && cmp_run.is_none()
                && !app.agent_busy()
            {
                effects = app.update(AppEvent::Ready);
            }
            if effects.is_empty() {
                break;
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
        if let Some(ag) = agent.as_mut().filter(|_| app.agent_busy()) {
            ag.round_ended(
                &mut runner,
                r.id.rec,
                &r.turn,
                app.session_cost,
                &mut app.conv,
            );
        }
    }
    // Tools still running stop; every call is answered, in the file too.
    if let Some(ag) = agent.as_mut().filter(|a| a.busy()) {
        ag.stop(&mut runner, &mut app.conv);
    }
    // And a live comparison still running: its columns end cancelled, with what they had.
    if let Some((_, mut run)) = cmp_run.take() {
        runner.cancel_compare(&mut run);
    }
    drop(terminal);
    Ok(exit_code)
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
