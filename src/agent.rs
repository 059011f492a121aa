//! The agent driver: one user turn as several rounds, with the model's tool calls carried out
//! between them — for every front end (the TUI, `exec`, the tests). The decisions are the pure
//! loop's (`session::agent`); this runs the tools (off the UI thread, mutating ones one at a
//! time, each edit and command checkpointed first), keeps their results bounded, and records
//! every run in the session file. Front ends get `Step`s to show and answer.

use std::collections::HashMap;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};
use std::time::Instant;
use tokio::sync::{mpsc, oneshot};

use crate::api::ToolSpec;
use crate::runner::Runner;
use crate::session::agent::{AgentLoop, Command, Decision, Event, Limits, Outcome};
use crate::session::approval::{self, Policy, Rule};
use crate::session::count;
use crate::session::store::{ToolRecord, ToolStatus};
use crate::session::{Conversation, Turn};
use crate::tools::calls::{self, Call};
use crate::tools::checkpoint::{Change, Checkpoints};
use crate::tools::{Tools, Workspace};

/// How an agent session is set up.
#[derive(Debug, Clone)]
pub struct Setup {
    pub workspace: PathBuf,
    pub policy: Policy,
    pub limits: Limits,
    /// Environment variables commands must not see (the provider's key).
    pub hide_env: Vec<String>,
}

/// What a call would do, shown before the user decides.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Preview {
    /// An edit or a write: the unified diff.
    Diff(String),
    /// A command: the line as it will run, and where.
    Command { line: String, cwd: String },
    /// A read (asked for by a rule), or a change that will fail: what the model asked.
    Text(String),
}

/// The user is asked about a call.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Ask {
    pub call_id: String,
    pub call: approval::Call,
    pub dangerous: Option<String>,
    /// The rule `a` saves for the session (shown before it is saved).
    pub suggested: Rule,
    pub preview: Preview,
}

/// A tool call's life, as the front ends show it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Step {
    /// Send the next round (the conversation has every result).
    Send,
    Ask(Ask),
    Started {
        call_id: String,
        name: String,
        title: String,
        by: String,
    },
    /// A line a running command printed.
    Output {
        call_id: String,
        line: String,
    },
    /// A call answered: run, failed, denied or not run.
    Ended(ToolRecord),
    Done(Outcome),
}

/// A tool task's report.
#[derive(Debug)]
pub enum ToolMsg {
    Line { call_id: String, line: String },
    Done(ToolRecord),
}

struct Running {
    /// Dropping it is not a cancel: `send` is.
    cancel: Option<oneshot::Sender<()>>,
}

/// Where a mutating call's checkpoints go: the session's directory for them (or a private
/// temporary one when nothing is saved).
fn private_temp() -> PathBuf {
    std::env::temp_dir().join(format!(
        "grokpair-{}-{:08x}",
        std::process::id(),
        fastrand::u32(..)
    ))
}

pub struct Agent {
    pub lp: AgentLoop,
    tools: Arc<Mutex<Tools>>,
    ws: Workspace,
    specs: Vec<ToolSpec>,
    checkpoints: Arc<Mutex<Option<Checkpoints>>>,
    /// The directory checkpoints and saved outputs live in (`<session>.agent/`).
    dir: PathBuf,
    dir_fixed: bool,
    hide_env: Vec<String>,
    /// Mutating calls run one at a time, in the order they were let run.
    write_lock: Arc<tokio::sync::Mutex<()>>,
    tx: mpsc::UnboundedSender<ToolMsg>,
    rx: mpsc::UnboundedReceiver<ToolMsg>,
    running: HashMap<String, Running>,
    /// The round record each pending call came from, and the exchange.
    round_rec: usize,
    pub exchange: usize,
    /// This user turn's rounds and calls so far (the status bar).
    pub rounds: usize,
    pub calls: usize,
}

impl Agent {
    pub fn new(setup: Setup) -> Result<Agent, String> {
        let ws = Workspace::new(&setup.workspace)?;
        let (tx, rx) = mpsc::unbounded_channel();
        let dir = private_temp();
        let mut tools = Tools::new(ws.clone());
        tools.outputs = Some(dir.join("outputs"));
        Ok(Agent {
            lp: AgentLoop::new(setup.policy, setup.limits, calls::classify),
            tools: Arc::new(Mutex::new(tools)),
            ws,
            specs: calls::specs(),
            checkpoints: Arc::new(Mutex::new(None)),
            dir,
            dir_fixed: false,
            hide_env: setup.hide_env,
            write_lock: Arc::new(tokio::sync::Mutex::new(())),
            tx,
            rx,
            running: HashMap::new(),
            round_rec: 0,
            exchange: 0,
            rounds: 0,
            calls: 0,
        })
    }

    pub fn root(&self) -> &Path {
        self.ws.root()
    }

    /// Keeps checkpoints and saved outputs beside the session file from now on (`<file
    /// stem>.agent/`), once it exists; the first one named is kept.
    pub fn attach(&mut self, session_file: Option<&Path>) {
        if self.dir_fixed {
            return;
        }
        let Some(f) = session_file else { return };
        self.dir_fixed = true;
        // Checkpoints already kept elsewhere stay there (they are this session's).
        if self.checkpoints.lock().expect("checkpoints").is_some() {
            return;
        }
        self.dir = f.with_extension("agent");
        self.tools.lock().expect("tools").outputs = Some(self.dir.join("outputs"));
    }

    /// A new conversation (`/new`): a new session file, so new checkpoints (the policy and
    /// its grants stay).
    pub fn new_session(&mut self) {
        self.dir = private_temp();
        self.dir_fixed = false;
        *self.checkpoints.lock().expect("checkpoints") = None;
        let mut t = self.tools.lock().expect("tools");
        t.outputs = Some(self.dir.join("outputs"));
        t.forget_reads();
    }

    /// The directory checkpoints and saved outputs live in.
    pub fn dir(&self) -> &Path {
        &self.dir
    }

    /// The tools offered (the same specs, in the same order, every round: `Runner::tools`).
    pub fn specs(&self) -> Vec<ToolSpec> {
        self.specs.clone()
    }

    /// A user turn starts: exchange `exchange` (its first round's record number).
    pub fn begin(&mut self, exchange: usize) {
        self.lp.begin();
        self.exchange = exchange;
        self.rounds = 0;
        self.calls = 0;
    }

    /// Any tool still running.
    pub fn busy(&self) -> bool {
        !self.running.is_empty()
    }

    /// A round ended, its reply closed into `conv`; `spent` is the session's cost so far.
    pub fn round_ended(
        &mut self,
        runner: &mut Runner,
        rec: usize,
        turn: &Turn,
        spent: i64,
        conv: &mut Conversation,
    ) -> Vec<Step> {
        self.rounds += 1;
        self.round_rec = rec;
        self.calls += turn.tool_calls.len();
        let cmds = self.lp.on(
            Event::RoundEnded {
                turn: Box::new(turn.clone()),
                spent,
            },
            conv,
        );
        self.carry_out(runner, cmds, conv)
    }

    pub fn decide(
        &mut self,
        runner: &mut Runner,
        call_id: &str,
        decision: Decision,
        conv: &mut Conversation,
    ) -> Vec<Step> {
        let cmds = self.lp.on(
            Event::Decided {
                call_id: call_id.to_string(),
                decision,
            },
            conv,
        );
        self.carry_out(runner, cmds, conv)
    }

    /// Esc: the running tools stop; every call is answered.
    pub fn stop(&mut self, runner: &mut Runner, conv: &mut Conversation) -> Vec<Step> {
        let cmds = self.lp.on(Event::Stop, conv);
        self.carry_out(runner, cmds, conv)
    }

    /// After a pause (budget, repeated calls): go on.
    pub fn go_on(&mut self, runner: &mut Runner, spent: i64, conv: &mut Conversation) -> Vec<Step> {
        let cmds = self.lp.on(Event::Continue { spent }, conv);
        self.carry_out(runner, cmds, conv)
    }

    /// The next report of a running tool (pending while none runs).
    pub async fn wait(&mut self) -> ToolMsg {
        if self.running.is_empty() {
            return std::future::pending().await;
        }
        match self.rx.recv().await {
            Some(m) => m,
            None => std::future::pending().await,
        }
    }

    /// Like `wait`, without waiting.
    pub fn poll_now(&mut self) -> Option<ToolMsg> {
        self.rx.try_recv().ok()
    }

    /// What a tool task reported.
    pub fn received(
        &mut self,
        runner: &mut Runner,
        msg: ToolMsg,
        conv: &mut Conversation,
    ) -> Vec<Step> {
        match msg {
            ToolMsg::Line { call_id, line } => {
                if self.running.contains_key(&call_id) {
                    vec![Step::Output { call_id, line }]
                } else {
                    vec![]
                }
            }
            ToolMsg::Done(rec) => {
                // A call stopped by the user was answered already.
                if self.running.remove(&rec.call_id).is_none() {
                    return vec![];
                }
                runner.rec.tool(&rec);
                let cmds = self.lp.on(
                    Event::ToolFinished {
                        call_id: rec.call_id.clone(),
                        output: rec.output.clone(),
                    },
                    conv,
                );
                let mut out = vec![Step::Ended(rec)];
                out.extend(self.carry_out(runner, cmds, conv));
                out
            }
        }
    }

    fn carry_out(
        &mut self,
        runner: &mut Runner,
        cmds: Vec<Command>,
        conv: &Conversation,
    ) -> Vec<Step> {
        let mut steps = Vec::new();
        let mut last = Vec::new();
        for c in cmds {
            match c {
                Command::SendRequest => last.push(Step::Send),
                Command::Finished(o) => last.push(Step::Done(o)),
                Command::AskApproval {
                    call_id,
                    call,
                    dangerous,
                    suggested,
                } => {
                    let preview = self.preview(&call_id, &call);
                    steps.push(Step::Ask(Ask {
                        call_id,
                        call,
                        dangerous,
                        suggested,
                        preview,
                    }));
                }
                Command::RunTool {
                    call_id,
                    name,
                    arguments,
                    by,
                } => steps.extend(self.spawn(call_id, name, arguments, by)),
                Command::CancelTools => {
                    for r in self.running.values_mut() {
                        if let Some(c) = r.cancel.take() {
                            let _ = c.send(());
                        }
                    }
                    // Their answers are in ("cancelled by the user"); late reports are dropped.
                    self.running.clear();
                }
            }
        }
        for a in self.lp.take_answered() {
            let status = if a.output.starts_with("denied") {
                ToolStatus::Denied
            } else if a.output.starts_with("cancelled") {
                ToolStatus::Cancelled
            } else if a.output.starts_with("error") {
                ToolStatus::Error
            } else {
                ToolStatus::NotRun
            };
            let title = Call::parse(&a.name, &a.arguments)
                .map(|c| title(&c))
                .unwrap_or_else(|_| a.name.clone());
            let mut rec = record(self.round_rec, a.call_id, a.name, title, None);
            rec.status = status;
            rec.summary = first_line(&a.output);
            rec.output = a.output;
            runner.rec.tool(&rec);
            steps.push(Step::Ended(rec));
        }
        if last.iter().any(|s| matches!(s, Step::Done(_))) {
            // The turn is over: every call's answer is in the file (no next request carries
            // them there).
            runner.rec.history(conv);
        }
        steps.extend(last);
        steps
    }

    /// What the approval prompt shows for a call.
    fn preview(&self, call_id: &str, view: &approval::Call) -> Preview {
        let Some(call) = self.pending_call(call_id) else {
            return Preview::Text(view.target.clone());
        };
        let tools = self.tools.lock().expect("tools");
        let planned = match &call {
            Call::EditFile {
                path,
                old,
                new,
                replace_all,
            } => Some(tools.plan_edit(path, old, new, *replace_all)),
            Call::WriteFile {
                path,
                content,
                overwrite,
            } => Some(tools.plan_write(path, content, *overwrite)),
            Call::RunCommand(spec) => {
                return Preview::Command {
                    line: calls::command_line(spec),
                    cwd: spec.cwd.clone().unwrap_or_else(|| ".".into()),
                }
            }
            _ => None,
        };
        match planned {
            Some(Ok(p)) => Preview::Diff(tools.diff(&p)),
            // It will fail when run (the model is told why): the prompt says so now.
            Some(Err(e)) => Preview::Text(format!("{}\n(this will fail: {e})", view.target)),
            None => Preview::Text(view.target.clone()),
        }
    }

    fn pending_call(&self, call_id: &str) -> Option<Call> {
        let (name, args) = self.lp.call(call_id)?;
        Call::parse(&name, &args).ok()
    }

    fn ensure_checkpoints(cps: &Mutex<Option<Checkpoints>>, dir: &Path) -> Result<(), String> {
        let mut g = cps.lock().expect("checkpoints");
        if g.is_none() {
            *g = Some(
                Checkpoints::open(&dir.join("checkpoints"))
                    .map_err(|e| format!("checkpoints in {}: {e}", dir.display()))?,
            );
        }
        Ok(())
    }

    /// Starts a call on its own task; reports come back through `wait`.
    fn spawn(&mut self, call_id: String, name: String, arguments: String, by: String) -> Vec<Step> {
        let call = match Call::parse(&name, &arguments) {
            Ok(c) => c,
            Err(e) => {
                // The loop classified it, so it parses; answered all the same.
                let rec = record(
                    self.round_rec,
                    call_id.clone(),
                    name.clone(),
                    name,
                    Some(by),
                );
                let _ = self.tx.send(ToolMsg::Done(failed(rec, &e.message)));
                self.running.insert(call_id, Running { cancel: None });
                return vec![];
            }
        };
        let title = title(&call);
        let started = Step::Started {
            call_id: call_id.clone(),
            name: name.clone(),
            title: title.clone(),
            by: by.clone(),
        };
        let tx = self.tx.clone();
        let tools = self.tools.clone();
        let cps = self.checkpoints.clone();
        let dir = self.dir.clone();
        let ws = self.ws.clone();
        let lock = self.write_lock.clone();
        let exchange = self.exchange;
        let base = record(
            self.round_rec,
            call_id.clone(),
            name.clone(),
            title.clone(),
            Some(by),
        );
        match call {
            Call::RunCommand(mut spec) => {
                spec.hide_env = self.hide_env.clone();
                let (ctx, crx) = oneshot::channel();
                self.running
                    .insert(call_id.clone(), Running { cancel: Some(ctx) });
                let what = format!("run_command {}", calls::command_line(&spec));
                tokio::spawn(async move {
                    let _turn = lock.lock().await;
                    let t0 = Instant::now();
                    let kept = {
                        let (cps, dir, ws) = (cps.clone(), dir.clone(), ws.clone());
                        tokio::task::spawn_blocking(move || {
                            Agent::ensure_checkpoints(&cps, &dir)?;
                            let mut g = cps.lock().expect("checkpoints");
                            g.as_mut()
                                .expect("opened")
                                .before_command(&ws)
                                .map_err(|e| format!("checkpoint before the command: {e}"))
                        })
                        .await
                        .unwrap_or_else(|e| Err(e.to_string()))
                    };
                    if let Err(e) = kept {
                        // Nothing runs that could not be undone.
                        let rec = failed(base, &format!("not run: {e}"));
                        let _ = tx.send(ToolMsg::Done(rec));
                        return;
                    }
                    let mut full = Spill::new(&dir, &call_id);
                    let runner_tools = Tools::new(ws.clone());
                    let line_tx = tx.clone();
                    let id = call_id.clone();
                    let out = runner_tools
                        .run_command(
                            &spec,
                            |l| {
                                full.push(l);
                                let _ = line_tx.send(ToolMsg::Line {
                                    call_id: id.clone(),
                                    line: crate::tools::cut_line(l, 500),
                                });
                            },
                            async move {
                                let _ = crx.await;
                            },
                        )
                        .await;
                    let changed = {
                        let (cps, ws) = (cps.clone(), ws.clone());
                        tokio::task::spawn_blocking(move || {
                            let mut g = cps.lock().expect("checkpoints");
                            g.as_mut()
                                .map(|c| c.after_command(&ws, exchange, &what).unwrap_or_default())
                                .unwrap_or_default()
                        })
                        .await
                        .unwrap_or_default()
                    };
                    let mut rec = base;
                    rec.ms = t0.elapsed().as_millis() as u64;
                    rec.changed = changed;
                    match out {
                        Ok(o) => {
                            rec.exit = o.status;
                            rec.status = if o.cancelled {
                                ToolStatus::Cancelled
                            } else if o.status == Some(0) {
                                ToolStatus::Ok
                            } else {
                                ToolStatus::Failed
                            };
                            rec.summary = if o.timed_out {
                                format!("timed out ({:.1} s)", rec.ms as f64 / 1000.0)
                            } else {
                                match o.status {
                                    Some(c) => {
                                        format!("exit {c} ({:.1} s)", rec.ms as f64 / 1000.0)
                                    }
                                    None => "killed".into(),
                                }
                            };
                            let mut text = o.for_model();
                            if o.omitted > 0 {
                                if let Some(p) = full.finish() {
                                    text.push_str(&format!(
                                        "\n(the whole output is in {p}: read_file it with offset/limit)"
                                    ));
                                }
                            }
                            rec.output = text;
                        }
                        Err(e) => rec = failed(rec, &e.message),
                    }
                    let _ = tx.send(ToolMsg::Done(rec));
                });
            }
            call => {
                self.running
                    .insert(call_id.clone(), Running { cancel: None });
                let mutating = matches!(call, Call::EditFile { .. } | Call::WriteFile { .. });
                tokio::task::spawn_blocking(move || {
                    let _turn = mutating.then(|| lock.blocking_lock());
                    let t0 = Instant::now();
                    let mut rec = base;
                    let mut t = tools.lock().expect("tools");
                    if mutating {
                        let path = match &call {
                            Call::EditFile { path, .. } | Call::WriteFile { path, .. } => path,
                            _ => unreachable!(),
                        };
                        let kept = t.ws.target(path).map_err(|e| e.message).and_then(|real| {
                            Agent::ensure_checkpoints(&cps, &dir)?;
                            let mut g = cps.lock().expect("checkpoints");
                            g.as_mut()
                                .expect("opened")
                                .before_write(
                                    &ws,
                                    exchange,
                                    &format!("{} {path}", call.name()),
                                    &[real],
                                )
                                .map_err(|e| format!("checkpoint before the change: {e}"))
                        });
                        if let Err(e) = kept {
                            let _ = tx.send(ToolMsg::Done(failed(rec, &e)));
                            return;
                        }
                    }
                    let res = t.run_now(&call);
                    rec.ms = t0.elapsed().as_millis() as u64;
                    match res {
                        Ok(text) => {
                            if mutating {
                                let diff = text.find("\n--- a/").map(|i| text[i + 1..].to_string());
                                rec.summary = match &diff {
                                    Some(d) => diff_stat(d),
                                    None => first_line(&text),
                                };
                                rec.diff = diff.or_else(|| match &call {
                                    // A new file: its lines, all added.
                                    Call::WriteFile { path, content, .. } => Some(
                                        similar::TextDiff::from_lines("", content.as_str())
                                            .unified_diff()
                                            .header("/dev/null", &format!("b/{path}"))
                                            .to_string(),
                                    ),
                                    _ => None,
                                });
                                if let Some(d) = &rec.diff {
                                    rec.summary = diff_stat(d);
                                }
                                rec.changed = vec![match &call {
                                    Call::EditFile { path, .. } | Call::WriteFile { path, .. } => {
                                        path.clone()
                                    }
                                    _ => unreachable!(),
                                }];
                            } else {
                                rec.summary = result_summary(&call, &text);
                            }
                            rec.output = t.bound(&rec.call_id, text);
                        }
                        Err(e) => {
                            rec = failed(rec, &e.message);
                            // (A tool's own error: its cell shows the message without "error:".)
                            rec.summary = first_line(&e.message);
                        }
                    }
                    let _ = tx.send(ToolMsg::Done(rec));
                });
            }
        }
        vec![started]
    }

    pub fn set_mode(&mut self, mode: approval::Mode) {
        self.lp.policy.mode = mode;
    }

    pub fn mode(&self) -> approval::Mode {
        self.lp.policy.mode
    }

    /// What rewinding to before user turn `exchange` would change in the workspace.
    pub fn rewind_plan(&self, exchange: usize) -> Result<Vec<Change>, String> {
        Agent::ensure_checkpoints(&self.checkpoints, &self.dir)?;
        let g = self.checkpoints.lock().expect("checkpoints");
        Ok(g.as_ref().map(|c| c.plan(exchange)).unwrap_or_default())
    }

    /// Puts the workspace back as it was before user turn `exchange`, recorded as turn
    /// `now`'s change (so it can be undone by rewinding to `now`).
    pub fn rewind(&mut self, exchange: usize, now: usize) -> Result<Vec<Change>, String> {
        if self.busy() {
            return Err("a tool is running: stop it first (Esc)".into());
        }
        Agent::ensure_checkpoints(&self.checkpoints, &self.dir)?;
        let mut g = self.checkpoints.lock().expect("checkpoints");
        let c = g.as_mut().expect("opened");
        let plan = c
            .rewind(&self.ws, exchange, now)
            .map_err(|e| format!("rewind: {e}"))?;
        drop(g);
        // What the model read may have changed under it: it reads again before an edit.
        self.tools.lock().expect("tools").forget_reads();
        Ok(plan)
    }
}

/// The full output of a command, as it comes, for a file the model can read later. Held in
/// memory while it is too short to be cut (then no file is made); written to
/// `<dir>/outputs/` once it is longer, and kept only when the result it was sent was cut.
struct Spill {
    dir: PathBuf,
    name: String,
    held: Vec<u8>,
    file: Option<(std::io::BufWriter<std::fs::File>, PathBuf)>,
    bytes: u64,
}

/// Most bytes of one command's output kept on disk (what `read_file` reads of one).
const SPILL_MAX: u64 = crate::tools::OUTPUT_BYTES;

impl Spill {
    fn new(dir: &Path, call_id: &str) -> Spill {
        Spill {
            dir: dir.join("outputs"),
            name: format!("{}.txt", safe_name(call_id)),
            held: Vec::new(),
            file: None,
            bytes: 0,
        }
    }

    fn push(&mut self, line: &str) {
        if self.bytes + line.len() as u64 + 1 > SPILL_MAX {
            return;
        }
        self.bytes += line.len() as u64 + 1;
        if self.file.is_none() {
            self.held.extend_from_slice(line.as_bytes());
            self.held.push(b'\n');
            // (Below what the model is sent of each end, nothing can be cut.)
            if self.held.len() <= crate::tools::shell::KEEP {
                return;
            }
            let path = self.dir.join(&self.name);
            let opened = crate::session::store::private_dir(&self.dir)
                .ok()
                .and_then(|_| {
                    crate::session::store::private_file()
                        .write(true)
                        .create(true)
                        .truncate(true)
                        .open(&path)
                        .ok()
                });
            match opened {
                Some(f) => {
                    let mut w = std::io::BufWriter::new(f);
                    let _ = w.write_all(&std::mem::take(&mut self.held));
                    self.file = Some((w, path));
                }
                // No file to be had: the result says only how much was left out.
                None => self.bytes = SPILL_MAX,
            }
            return;
        }
        if let Some((f, _)) = &mut self.file {
            let _ = f.write_all(line.as_bytes());
            let _ = f.write_all(b"\n");
        }
    }

    /// The name the model reads it by, when it was kept.
    fn finish(mut self) -> Option<String> {
        let (mut f, _) = self.file.take()?;
        f.flush().ok()?;
        Some(format!("{}{}", crate::tools::OUTPUT_PREFIX, self.name))
    }
}

impl Drop for Spill {
    fn drop(&mut self) {
        // Not needed: the result was whole.
        if let Some((_, path)) = self.file.take() {
            let _ = std::fs::remove_file(path);
        }
    }
}

/// A call's record before it is answered: it ran (so far) without an error.
fn record(
    turn: usize,
    call_id: String,
    name: String,
    title: String,
    by: Option<String>,
) -> ToolRecord {
    ToolRecord {
        turn,
        call_id,
        name,
        title,
        by,
        status: ToolStatus::Ok,
        ms: 0,
        exit: None,
        summary: String::new(),
        output: String::new(),
        diff: None,
        changed: Vec::new(),
    }
}

/// `rec` answered with an error the model reads (`error: …`).
fn failed(mut rec: ToolRecord, message: &str) -> ToolRecord {
    rec.status = ToolStatus::Error;
    rec.output = format!("error: {message}");
    rec.summary = first_line(&rec.output);
    rec
}

fn safe_name(s: &str) -> String {
    let n: String = s
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || c == '-' || c == '_' {
                c
            } else {
                '_'
            }
        })
        .take(80)
        .collect();
    if n.is_empty() {
        "call".into()
    } else {
        n
    }
}

fn first_line(s: &str) -> String {
    crate::session::store::one_line(s.lines().next().unwrap_or(""), 120)
}

/// `+3 −1` of a unified diff.
pub fn diff_stat(diff: &str) -> String {
    let (mut add, mut del) = (0, 0);
    for l in diff.lines() {
        if l.starts_with("+++") || l.starts_with("---") {
            continue;
        }
        if l.starts_with('+') {
            add += 1;
        } else if l.starts_with('-') {
            del += 1;
        }
    }
    format!("+{add} −{del}")
}

/// A call in a few words: `read src/a.rs`, `run cargo test`.
pub fn title(call: &Call) -> String {
    match call {
        Call::ReadFile { path, .. } => format!("read {path}"),
        Call::ListDir { path } => format!("list {path}"),
        Call::Glob { pattern } => format!("glob {pattern}"),
        Call::Grep(g) => format!(
            "grep {} {}",
            g.pattern,
            g.path.clone().unwrap_or_else(|| ".".into())
        ),
        Call::EditFile { path, .. } => format!("edit {path}"),
        Call::WriteFile { path, .. } => format!("write {path}"),
        Call::RunCommand(c) => format!("run {}", calls::command_line(c)),
    }
}

/// The server refused the request for its tools (llama-server without `--jinja`, an Ollama
/// model without tool support): agent mode cannot work with it.
pub fn rejects_tools(e: &crate::api::ApiError) -> bool {
    matches!(e.status, Some(400 | 404 | 422 | 500 | 501))
        && e.message.to_lowercase().contains("tool")
}

/// What a read found, in a few words.
fn result_summary(call: &Call, text: &str) -> String {
    let n = text.lines().count();
    match call {
        Call::Grep(_) => {
            let hits = text
                .lines()
                .filter(|l| l.contains(':') && l != &"--")
                .count();
            count(hits, "match", "matches")
        }
        Call::Glob { .. } | Call::ListDir { .. } => count(n, "entry", "entries"),
        _ => count(n, "line", "lines"),
    }
}

/// The files of project instructions, in the order they are read.
pub const INSTRUCTION_FILES: [&str; 3] = ["AGENTS.md", "CLAUDE.md", "GEMINI.md"];

/// Most bytes of project instructions added to the system prompt.
pub const INSTRUCTIONS_MAX: usize = 64 * 1024;

/// Project instructions from the workspace root down to `cwd`: in each directory its
/// `AGENTS.md`, else `CLAUDE.md`, else `GEMINI.md`. The files read (relative to the root)
/// and their text, each under its name.
pub fn project_instructions(root: &Path, cwd: &Path) -> (Vec<String>, String) {
    let mut dirs = vec![root.to_path_buf()];
    if let Ok(rel) = cwd.strip_prefix(root) {
        let mut d = root.to_path_buf();
        for c in rel.components() {
            d.push(c);
            dirs.push(d.clone());
        }
    }
    let (mut names, mut text) = (Vec::new(), String::new());
    for d in dirs {
        let Some((f, body)) = INSTRUCTION_FILES
            .iter()
            .map(|f| d.join(f))
            .find_map(|p| Some((p.clone(), std::fs::read_to_string(&p).ok()?)))
        else {
            continue;
        };
        let name = f
            .strip_prefix(root)
            .unwrap_or(&f)
            .to_string_lossy()
            .into_owned();
        let room = INSTRUCTIONS_MAX.saturating_sub(text.len());
        if room == 0 {
            break;
        }
        let body = &body[..floor(&body, room.min(body.len()))];
        text.push_str(&format!(
            "\n\n# Project instructions ({name})\n\n{}",
            body.trim_end()
        ));
        names.push(name);
    }
    (names, text)
}

fn floor(s: &str, mut i: usize) -> usize {
    while !s.is_char_boundary(i) {
        i -= 1;
    }
    i
}

/// The system prompt of an agent session: the user's (or the default), the workspace, and
/// the project's instructions. Made once per session: it is the prompt cache's prefix.
pub fn system_prompt(user: Option<&str>, root: &Path, instructions: &str) -> String {
    let base = user.unwrap_or(
        "You are grokpair, a pair programmer in the user's terminal. Work in the workspace with \
         the tools: look before you change (grep, glob, read_file), make small exact edits \
         (edit_file), and run the project's own checks (run_command) to verify. The user \
         approves edits and commands and may deny them with a note: follow it. Answer \
         briefly when done, naming what changed.",
    );
    format!(
        "{base}\n\nThe workspace root is {} (tool paths are relative to it).{instructions}",
        root.display()
    )
}
