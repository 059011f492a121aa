//! The effect executor: carries out what the app asks for (requests through the runner,
//! clipboard, files, listings, provider switches) and hands the results back as events.

use crossterm::event::{DisableMouseCapture, EnableMouseCapture};
use crossterm::execute;
use std::io::Write;
use std::time::{Duration, Instant};
use tokio::sync::mpsc;

use super::{key_help, Msg};
use crate::app::{App, Effect, Event as AppEvent};
use crate::config::Config;
use crate::engine::{ColumnPlan, Engine};
use crate::runner::{CompareRun, Round, Runner};
use crate::session::exchange::RoundId;
use crate::session::store::{self, Recorder};
use crate::ui::theme::Theme;

/// What the executor works with: the runtime's state, lent for one batch of effects.
pub(super) struct Ctx<'a> {
    pub cfg: &'a mut Config,
    pub engine: &'a mut Engine,
    pub runner: &'a mut Runner,
    pub active: &'a mut Option<(usize, Round)>,
    pub cmp_run: &'a mut Option<(usize, CompareRun)>,
    pub tx: &'a mpsc::UnboundedSender<Msg>,
    pub sessions_dir: &'a std::path::Path,
    pub save: bool,
    /// The conversation the session file records (`/new` starts another file).
    pub rec_conv: &'a mut String,
    /// Agent mode's driver (None: the tools are off).
    pub agent: &'a mut Option<crate::agent::Agent>,
}

impl Ctx<'_> {
    /// Where `@path`s are found: the agent's workspace, else the current directory.
    fn workspace_root(&self) -> std::path::PathBuf {
        match self.agent.as_ref() {
            Some(a) => a.root().to_path_buf(),
            None => std::env::current_dir().unwrap_or_else(|_| ".".into()),
        }
    }

    /// Carries out `effects` in order, then what their results ask for.
    pub fn run(&mut self, app: &mut App, effects: Vec<Effect>) {
        let mut queue = effects;
        while !queue.is_empty() {
            let mut after = Vec::new();
            for fx in queue {
                if matches!(fx, Effect::Start { .. } | Effect::StartCompare { .. })
                    && app.conv.id != *self.rec_conv
                {
                    // `/new`: a new conversation is a new session file.
                    *self.runner = Runner::new(Recorder::new(self.sessions_dir, self.save));
                    *self.rec_conv = app.conv.id.clone();
                    if let Some(ag) = self.agent.as_mut() {
                        ag.new_session();
                        self.runner.tools = ag.specs();
                    }
                }
                match fx {
                    Effect::Start { turn } => {
                        let settings = app.settings();
                        let tv = &app.turns[turn];
                        let id = RoundId {
                            rec: tv.rec,
                            exchange: tv.exchange,
                            round: tv.round,
                        };
                        if let (Some(ag), 0) = (self.agent.as_mut(), tv.round) {
                            ag.begin(tv.exchange);
                        }
                        let mut round = self.runner.start(
                            self.engine,
                            self.cfg,
                            &app.conv,
                            &app.model,
                            &settings,
                            id,
                        );
                        if let Some(n) = app.params_notice(turn, round.notice.take()) {
                            self.runner.note(&mut round, n);
                        }
                        if let Some(ag) = self.agent.as_mut() {
                            ag.attach(self.runner.rec.path());
                        }
                        *self.active = Some((turn, round));
                    }
                    Effect::Cancel => {
                        if let Some((_, r)) = self.active.as_mut() {
                            self.runner.cancel(r, Some(app.now));
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
                            let plan = self
                                .cfg
                                .provider(&c.col.provider)
                                .map_err(|e| e.message)
                                .and_then(|p| Engine::new(self.cfg, p).map_err(|e| e.to_string()))
                                .map(|engine| ColumnPlan {
                                    engine,
                                    model: c.col.turn.asked_model.clone(),
                                    params: c.params.clone(),
                                });
                            columns.push((c.col.clone(), plan));
                            ids.push(c.rec);
                        }
                        let mut run = self
                            .runner
                            .start_compare(self.cfg, &asked, &settings, columns, ids);
                        // Columns that could not be sent fail at once.
                        while let Some((col, step)) = self.runner.poll_column(&mut run) {
                            after.extend(app.update(AppEvent::Column { cmp, col, step }));
                        }
                        *self.cmp_run = Some((cmp, run));
                    }
                    Effect::CancelColumn { cmp, col } => {
                        if let Some((c, run)) = self.cmp_run.as_mut().filter(|(c, _)| *c == cmp) {
                            self.runner.cancel_column(run, col);
                            while let Some((col, step)) = self.runner.poll_column(run) {
                                after.extend(app.update(AppEvent::Column { cmp: *c, col, step }));
                            }
                        }
                    }
                    Effect::Adopted {
                        provider,
                        model,
                        rec: rec_id,
                    } => {
                        self.runner.rec.adopted(rec_id, &app.conv);
                        if provider != app.provider {
                            let ev = switch_provider(self.cfg, self.engine, &provider, Some(model));
                            after.extend(app.update(ev));
                        }
                    }
                    Effect::Copy(text) => {
                        let n = crate::session::count(text.lines().count(), "line", "lines");
                        // OSC 52 cannot be confirmed (a terminal or a tmux without passthrough
                        // drops it silently): the status says which route did take the text.
                        copy_osc52(&text);
                        after.extend(app.update(AppEvent::Flash(format!("copying {n}…"))));
                        // A clipboard tool may hang (no display, a stuck wl-copy): never in this loop.
                        let tx = self.tx.clone();
                        tokio::task::spawn_blocking(move || {
                            let routes = copy_routes(&text);
                            let msg = if routes.is_empty() {
                                format!(
                                    "sent {n} as OSC 52, not confirmed: no clipboard tool took it (in tmux: set -g set-clipboard on, or allow-passthrough on)"
                                )
                            } else {
                                format!("copied {n} ({})", routes.join(" + "))
                            };
                            let _ = tx.send(Msg::App(AppEvent::Flash(msg)));
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
                        // The config file is read again: a provider or a key added to it
                        // since start is there. The rest of the running configuration (flags,
                        // the live price listing) stays.
                        match Config::load(self.cfg.path.as_deref()) {
                            Ok(fresh) => {
                                let names: Vec<String> = fresh.providers.keys().cloned().collect();
                                self.cfg.providers = fresh.providers;
                                after.extend(app.update(AppEvent::Providers(names)));
                            }
                            Err(e) => after.extend(app.update(AppEvent::Error(format!(
                                "the config file was not read again (the one read at start \
                                 stays): {e}"
                            )))),
                        }
                        let ev = switch_provider(self.cfg, self.engine, &name, None);
                        let switched = matches!(ev, AppEvent::ProviderSwitched { .. });
                        after.extend(app.update(ev));
                        if switched && app.model.is_empty() {
                            let (engine, cfg, tx) =
                                (self.engine.clone(), self.cfg.clone(), self.tx.clone());
                            tokio::spawn(async move {
                                let found = engine.resolve_model(&cfg, None).await;
                                let found = found.map_err(|e| e.to_string());
                                let _ = tx.send(Msg::App(AppEvent::Model(found)));
                            });
                        }
                        if switched {
                            if let Some(n) = use_listing(self.cfg, self.engine, self.tx) {
                                after.extend(app.update(AppEvent::Notice(n)));
                            }
                            after.extend(app.update(AppEvent::Catalog {
                                provider: self.engine.provider.name.clone(),
                                models: Vec::new(),
                                catalog: self.cfg.catalog.clone(),
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
                    Effect::ListFiles => {
                        let (tx, root) = (self.tx.clone(), self.workspace_root());
                        tokio::task::spawn_blocking(move || {
                            let files =
                                crate::tools::fs::list_files(&root, crate::app::mention::LIST_MAX);
                            let _ = tx.send(Msg::App(AppEvent::Files(files)));
                        });
                    }
                    Effect::ReadMentions { text, paths } => {
                        // Local files, bounded: read here, so the message goes at once.
                        let read = match crate::tools::Workspace::new(&self.workspace_root()) {
                            Ok(ws) => paths
                                .into_iter()
                                .filter_map(|p| match ws.existing(&p) {
                                    // Not a file here: an `@` that names nothing is text.
                                    Err(_) => None,
                                    Ok(real) => {
                                        let r =
                                            read_attachment(&real, crate::app::mention::MAX_ATTACH);
                                        Some((p, r))
                                    }
                                })
                                .collect(),
                            Err(_) => Vec::new(),
                        };
                        after.extend(app.update(AppEvent::MentionsRead { text, read }));
                    }
                    Effect::ReadFile { path, max } => {
                        let tx = self.tx.clone();
                        tokio::task::spawn_blocking(move || {
                            let read = read_attachment(std::path::Path::new(&path), max);
                            let _ = tx.send(Msg::App(AppEvent::FileRead { path, read }));
                        });
                    }
                    Effect::ListModels => {
                        let (engine, tx) = (self.engine.clone(), self.tx.clone());
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
                        let (dir, tx) = (self.sessions_dir.to_path_buf(), self.tx.clone());
                        app.flash = Some("reading saved sessions…".into());
                        tokio::task::spawn_blocking(move || {
                            let _ = tx.send(Msg::App(AppEvent::Sessions(session_items(&dir))));
                        });
                    }
                    Effect::OpenSession(path) => match store::lock_session(&path)
                        .and_then(|lock| Ok((lock, store::load(&path).map_err(|e| e.to_string())?)))
                    {
                        Ok((lock, s)) => {
                            self.runner.flush();
                            let mut rec = Recorder::continue_session(&s, self.save);
                            rec.hold(lock);
                            *self.runner = Runner::new(rec);
                            after.extend(app.update(AppEvent::SessionOpened(Box::new(s))));
                            *self.rec_conv = app.conv.id.clone();
                        }
                        Err(e) => after.extend(app.update(AppEvent::Error(e))),
                    },
                    Effect::Quit => {}
                    Effect::Decide { call_id, decision } => {
                        if let Some(ag) = self.agent.as_mut() {
                            let steps = ag.decide(self.runner, &call_id, decision, &mut app.conv);
                            for st in steps {
                                after.extend(app.update(AppEvent::Agent(st)));
                            }
                        }
                    }
                    Effect::StopAgent => {
                        if let Some(ag) = self.agent.as_mut() {
                            for st in ag.stop(self.runner, &mut app.conv) {
                                after.extend(app.update(AppEvent::Agent(st)));
                            }
                        }
                    }
                    Effect::GoOn => {
                        if let Some(ag) = self.agent.as_mut() {
                            for st in ag.go_on(self.runner, app.session_cost, &mut app.conv) {
                                after.extend(app.update(AppEvent::Agent(st)));
                            }
                        }
                    }
                    Effect::SetMode(m) => {
                        if let Some(ag) = self.agent.as_mut() {
                            ag.set_mode(m);
                        }
                    }
                    Effect::SetBudget(b) => {
                        if let Some(ag) = self.agent.as_mut() {
                            ag.lp.limits.budget =
                                b.map(|usd| crate::session::catalog::usd_to_ticks(usd) as i64);
                        }
                    }
                    Effect::RewindPlan { exchange } => {
                        let plan = match self.agent.as_ref() {
                            Some(ag) => ag.rewind_plan(exchange),
                            None => Err("agent mode is off".into()),
                        };
                        after.extend(app.update(AppEvent::RewindPlan { exchange, plan }));
                    }
                    Effect::Rewind { exchange, now } => {
                        let r = match self.agent.as_mut() {
                            Some(ag) => ag.rewind(exchange, now),
                            None => Err("agent mode is off".into()),
                        };
                        after.extend(app.update(AppEvent::Rewound(r)));
                    }
                }
            }
            queue = after;
        }
    }
}

/// The provider's own model listing (the xai preset reads one): the cached one applied now
/// (none: the built-in table, with no other provider's listing), a new one fetched in the
/// background when due (it arrives as `Msg::Catalog`). Returns a notice when the cache was
/// unreadable.
pub(super) fn use_listing(
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
            // The model named for it (the config's default for the default provider), else
            // none: the server is asked which one it serves.
            let model = adopted.clone().or_else(|| engine.known_model(cfg, None));
            AppEvent::ProviderSwitched {
                to: crate::app::ProviderState {
                    name: p.name.clone(),
                    free: p.free,
                    includes_reasoning: p.completion_includes_reasoning,
                    has_key: !p.needs_key() || p.api_key().is_some(),
                    key_help: key_help(cfg, &p),
                    model,
                },
                adopted,
            }
        }
        Err(e) => AppEvent::Error(e.to_string()),
    }
}

/// The effects that are a quick local file operation, carried out at once: the event with
/// the result (`None` for any other effect). Also what tests use to stand in for the runtime.
pub fn local_io(fx: Effect) -> Option<AppEvent> {
    Some(match fx {
        Effect::CheckSave { path } => {
            // Anything there, a symlink too (even a broken one, which `exists()` calls absent
            // and a write would follow).
            let exists = path.symlink_metadata().is_ok();
            // Outside the working directory (`..`, an absolute path elsewhere): its absolute
            // path, for the question.
            let cwd = std::env::current_dir().unwrap_or_default();
            let abs = cwd.join(&path);
            let mut norm = std::path::PathBuf::new();
            for c in abs.components() {
                match c {
                    std::path::Component::ParentDir => {
                        norm.pop();
                    }
                    std::path::Component::CurDir => {}
                    c => norm.push(c),
                }
            }
            let outside = (!norm.starts_with(&cwd)).then_some(norm);
            AppEvent::SaveTarget {
                path,
                exists,
                outside,
            }
        }
        Effect::LoadTheme { name, color } => {
            let theme = Theme::load(&name, color);
            AppEvent::ThemeLoaded { name, theme }
        }
        Effect::Save { path, text } => AppEvent::Saved(
            match path
                .parent()
                .filter(|d| !d.as_os_str().is_empty())
                .map_or(Ok(()), std::fs::create_dir_all)
                .and_then(|_| std::fs::write(&path, &text))
            {
                Ok(()) => Ok((path, text.lines().count())),
                Err(e) => Err(format!("could not save {}: {e}", path.display())),
            },
        ),
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

/// Where the text went, confirmed: tmux's buffer (inside tmux; `-w` hands it on to the outer
/// terminal's clipboard under tmux's default `set-clipboard external`), and the first system
/// clipboard tool that took it.
fn copy_routes(text: &str) -> Vec<&'static str> {
    let mut routes = Vec::new();
    if std::env::var_os("TMUX").is_some()
        && run_with_input("tmux", &["load-buffer", "-w", "-"], text)
    {
        routes.push("tmux buffer");
    }
    if let Some(cmd) = copy_system(text) {
        routes.push(cmd);
    }
    routes
}

/// Runs `cmd args` with `text` on its stdin; true when it succeeded within two seconds.
fn run_with_input(cmd: &str, args: &[&str], text: &str) -> bool {
    let Ok(mut c) = std::process::Command::new(cmd)
        .args(args)
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .spawn()
    else {
        return false;
    };
    if let Some(mut stdin) = c.stdin.take() {
        let _ = stdin.write_all(text.as_bytes());
    }
    let deadline = Instant::now() + Duration::from_secs(2);
    loop {
        match c.try_wait() {
            Ok(Some(st)) => return st.success(),
            Err(_) => return false,
            Ok(None) if Instant::now() >= deadline => {
                let _ = c.kill();
                let _ = c.wait();
                return false;
            }
            Ok(None) => std::thread::sleep(Duration::from_millis(20)),
        }
    }
}

/// The first system clipboard tool that takes the text within two seconds, if any.
fn copy_system(text: &str) -> Option<&'static str> {
    [
        ("wl-copy", &[][..]),
        ("xclip", &["-selection", "clipboard"][..]),
        ("xsel", &["--clipboard", "--input"][..]),
        ("pbcopy", &[][..]),
    ]
    .into_iter()
    .find(|(cmd, args)| run_with_input(cmd, args, text))
    .map(|(cmd, _)| cmd)
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
