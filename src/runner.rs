//! The one driver of a turn, for every front end: the TUI, `ask`, `compare`, the demo
//! recorder and the tests. It sends the request, applies every stream event to the round's
//! turn, records each step in the session file and closes the round; front ends only present
//! what it hands them.
//!
//! A round ends exactly once, with a terminal event: a stream that closes without one yields
//! a synthesized failure, so the front end and the file always agree on how it ended.

use std::collections::VecDeque;
use std::time::{Duration, Instant};
use tokio::sync::mpsc;

use crate::api::{ApiError, ChatStream, ErrorKind, StreamEvent, TimedEvent};
use crate::config::Config;
use crate::engine::{spawn_compare, ColumnMsg, ColumnPlan, Engine};
use crate::session::compare::{Column, ColumnReport};
use crate::session::exchange::{self, Closed, RoundId};
use crate::session::store::{CompareTag, Recorder, Settings};
use crate::session::{Catalog, Conversation, Turn, TurnReport};

/// Stream events are written at most this often (and whenever a round ends): one `events`
/// line per flush, its consecutive deltas merged.
pub const FLUSH_EVERY: Duration = Duration::from_millis(100);

/// The message of the failure a stream that closed without a terminal event ends with.
pub const TASK_ENDED: &str = "the request task ended unexpectedly";

/// Drives rounds and records them into one session file.
pub struct Runner {
    pub rec: Recorder,
    flushed: Instant,
    /// Offered with every round (the agent's tools; the same bytes each time). Not part of
    /// the recorded settings.
    pub tools: Vec<crate::api::ToolSpec>,
}

/// One request streaming (or streamed): its turn as assembled so far.
pub struct Round {
    pub id: RoundId,
    pub turn: Turn,
    /// Parameters the model does not take were left out (for the front end to show, and to
    /// record with `Runner::note` when it does).
    pub notice: Option<String>,
    pub provider: String,
    includes_reasoning: bool,
    free: bool,
    stream: Option<ChatStream>,
    t0: Instant,
    ended: bool,
}

impl Round {
    /// Waits for the stream's next event without applying it (for a front end waiting on
    /// several things at once): `None` once the round has ended, `Some(None)` when the stream
    /// closed. Hand the result to `Runner::received`.
    pub async fn wait(&mut self) -> Option<Option<TimedEvent>> {
        Some(self.stream.as_mut()?.next().await)
    }

    /// Time since the request was sent.
    pub fn elapsed(&self) -> Duration {
        self.t0.elapsed()
    }

    /// The round's figures, now.
    pub fn report(&self, catalog: &Catalog) -> TurnReport {
        let now = self.turn.timing.end.unwrap_or_else(|| self.elapsed());
        TurnReport::new(
            &self.turn,
            now,
            &self.provider,
            catalog,
            self.includes_reasoning,
            self.free,
        )
    }
}

impl Runner {
    pub fn new(rec: Recorder) -> Self {
        Runner {
            rec,
            flushed: Instant::now(),
            tools: Vec::new(),
        }
    }

    /// Sends `conv` (its last message the user's) to `model`: the request record, then the
    /// request.
    pub fn start(
        &mut self,
        engine: &Engine,
        cfg: &Config,
        conv: &Conversation,
        model: &str,
        settings: &Settings,
        id: RoundId,
    ) -> Round {
        self.rec
            .begin_round(id, conv, &engine.provider.name, model, settings);
        let started = if self.tools.is_empty() {
            engine.start(cfg, model, conv, &settings.params)
        } else {
            let mut p = settings.params.clone();
            p.tools = self.tools.clone();
            engine.start(cfg, model, conv, &p)
        };
        Round {
            id,
            turn: Turn::new(model),
            notice: started.notice,
            provider: engine.provider.name.clone(),
            includes_reasoning: engine.provider.completion_includes_reasoning,
            free: engine.provider.free,
            stream: Some(started.stream),
            t0: Instant::now(),
            ended: false,
        }
    }

    /// A note of the front end's for the round (shown with it): applied and recorded as an
    /// event at the start.
    pub fn note(&mut self, r: &mut Round, text: String) -> TimedEvent {
        self.take(
            r,
            TimedEvent {
                at: Duration::ZERO,
                event: StreamEvent::Notice(text),
            },
        )
    }

    /// The round's next event, applied and recorded; `None` once it has ended.
    pub async fn next(&mut self, r: &mut Round) -> Option<TimedEvent> {
        let ev = r.stream.as_mut()?.next().await;
        Some(self.received(r, ev))
    }

    /// Like `next`, without waiting: `None` when nothing is waiting or the round has ended.
    pub fn poll_now(&mut self, r: &mut Round) -> Option<TimedEvent> {
        let ev = r.stream.as_mut()?.poll_now()?;
        Some(self.received(r, ev))
    }

    /// Applies and records what `Round::wait` returned (`None`: the stream closed).
    pub fn received(&mut self, r: &mut Round, ev: Option<TimedEvent>) -> TimedEvent {
        let ev = ev.unwrap_or_else(|| TimedEvent {
            at: r.elapsed(),
            event: StreamEvent::Error(ApiError::new(ErrorKind::Protocol, TASK_ENDED)),
        });
        let ev = self.take(r, ev);
        if ev.event.is_terminal() {
            r.stream = None;
        }
        ev
    }

    fn take(&mut self, r: &mut Round, ev: TimedEvent) -> TimedEvent {
        if !r.turn.is_finished() {
            r.turn.apply(&ev);
            self.rec.event(r.id.rec, &ev);
            self.tick();
        }
        ev
    }

    /// Writes what is waiting when it has waited long enough (the TUI calls this on its
    /// clock, so a quiet stream's last events do not sit in memory).
    pub fn tick(&mut self) {
        if self.flushed.elapsed() >= FLUSH_EVERY {
            self.flush();
        }
    }

    pub fn flush(&mut self) {
        self.rec.flush();
        self.flushed = Instant::now();
    }

    /// Stops the round where it is (`at`: when, by the front end's clock; else now).
    pub fn cancel(&mut self, r: &mut Round, at: Option<Duration>) {
        if let Some(s) = r.stream.take() {
            s.cancel();
        }
        if !r.turn.is_finished() {
            r.turn.cancel(at.unwrap_or_else(|| r.elapsed()));
        }
    }

    /// Ends the round: the conversation (as it stands after the round) and its end record.
    /// A round still streaming is cancelled first. Once only.
    pub fn end(&mut self, r: &mut Round, conv: &Conversation, catalog: &Catalog) -> TurnReport {
        if !r.turn.is_finished() {
            self.cancel(r, None);
        }
        let report = r.report(catalog);
        if !r.ended {
            r.ended = true;
            self.rec.end(r.id.rec, &r.turn, report.cost.clone(), conv);
        }
        report
    }

    /// Closes the round into `conv` (`exchange::close`) and records its end.
    pub fn close(
        &mut self,
        r: &mut Round,
        conv: &mut Conversation,
        catalog: &Catalog,
    ) -> (Closed, TurnReport) {
        if !r.turn.is_finished() {
            self.cancel(r, None);
        }
        let closed = exchange::close(conv, &r.turn);
        (closed, self.end(r, conv, catalog))
    }

    /// Sends the same question to every column at once (see `engine::spawn_compare`). A
    /// column whose plan could not be made fails at once, unsent. `ids[i]` is column i's
    /// record number; the first is the comparison's group.
    pub fn start_compare(
        &mut self,
        cfg: &Config,
        asked: &Conversation,
        settings: &Settings,
        columns: Vec<(Column, Result<ColumnPlan, String>)>,
        ids: Vec<usize>,
    ) -> CompareRun {
        let n = columns.len();
        let mut cols = Vec::with_capacity(n);
        let mut params = Vec::with_capacity(n);
        let mut plans = Vec::new();
        let mut failed = Vec::new();
        for (i, (col, plan)) in columns.into_iter().enumerate() {
            match plan {
                Ok(p) => {
                    params.push(p.params.clone());
                    plans.push((i, p));
                }
                Err(e) => {
                    params.push(settings.params.clone());
                    failed.push((i, e));
                }
            }
            cols.push(col);
        }
        let (tx, rx) = mpsc::channel(crate::engine::COMPARE_BUFFER);
        let tasks = spawn_compare(cfg, asked, plans, tx);
        let mut run = CompareRun {
            ids,
            cols,
            asked: asked.clone(),
            settings: settings.clone(),
            params,
            catalog: cfg.catalog.clone(),
            rx: Some(rx),
            tasks,
            t0: Instant::now(),
            begun: vec![false; n],
            ended: vec![false; n],
            ready: VecDeque::new(),
        };
        for (i, e) in failed {
            let ev = TimedEvent {
                at: Duration::ZERO,
                event: StreamEvent::Error(ApiError::new(ErrorKind::Network, e)),
            };
            self.column_event(&mut run, i, ev);
        }
        run
    }

    /// The comparison's next step, applied and recorded; `None` once every column ended.
    pub async fn next_column(&mut self, c: &mut CompareRun) -> Option<(usize, ColumnStep)> {
        loop {
            if let Some(s) = c.ready.pop_front() {
                return Some(s);
            }
            if !c.running() {
                c.rx = None;
                return None;
            }
            let msg = match c.rx.as_mut() {
                Some(rx) => rx.recv().await,
                None => None,
            };
            self.column_msg(c, msg);
        }
    }

    /// Like `next_column`, without waiting.
    pub fn poll_column(&mut self, c: &mut CompareRun) -> Option<(usize, ColumnStep)> {
        loop {
            if let Some(s) = c.ready.pop_front() {
                return Some(s);
            }
            if !c.running() {
                return None;
            }
            let msg = match c.rx.as_mut()?.try_recv() {
                Ok(m) => Some(m),
                Err(mpsc::error::TryRecvError::Empty) => return None,
                Err(mpsc::error::TryRecvError::Disconnected) => None,
            };
            self.column_msg(c, msg);
        }
    }

    /// Applies and records what `CompareRun::wait` returned (`None`: every task is gone);
    /// the steps it made come out of `poll_column`.
    pub fn column_msg(&mut self, c: &mut CompareRun, msg: Option<(usize, ColumnMsg)>) {
        let Some((i, msg)) = msg else {
            // Every task is gone: what is still open died with its task.
            c.rx = None;
            for i in 0..c.cols.len() {
                self.column_died(c, i);
            }
            return;
        };
        match msg {
            ColumnMsg::Sent => {
                if c.cols[i].turn.is_finished() {
                    return;
                }
                let at = c.t0.elapsed();
                c.cols[i].sent_at.get_or_insert(at);
                self.begin_column(c, i);
                c.ready.push_back((i, ColumnStep::Sent(at)));
            }
            ColumnMsg::Notice(n) => {
                let ev = TimedEvent {
                    at: Duration::ZERO,
                    event: StreamEvent::Notice(n),
                };
                self.column_event(c, i, ev);
            }
            ColumnMsg::Event(ev) => self.column_event(c, i, ev),
            ColumnMsg::Closed => self.column_died(c, i),
        }
    }

    /// Column `i`'s task ended without a terminal event: it fails (if it was still open).
    fn column_died(&mut self, c: &mut CompareRun, i: usize) {
        if !c.cols[i].turn.is_finished() {
            let at = c.cols[i].local(c.t0.elapsed());
            let ev = TimedEvent {
                at,
                event: StreamEvent::Error(ApiError::new(ErrorKind::Protocol, TASK_ENDED)),
            };
            self.column_event(c, i, ev);
        }
    }

    fn column_event(&mut self, c: &mut CompareRun, i: usize, ev: TimedEvent) {
        if c.cols[i].turn.is_finished() {
            return;
        }
        self.begin_column(c, i);
        c.cols[i].turn.apply(&ev);
        self.rec.event(c.ids[i], &ev);
        self.tick();
        let terminal = c.cols[i].turn.is_finished();
        c.ready.push_back((i, ColumnStep::Event(ev)));
        if terminal {
            self.end_column(c, i);
        }
    }

    /// Column `i`'s request record (once): when it went out, or unsent.
    fn begin_column(&mut self, c: &mut CompareRun, i: usize) {
        if c.begun[i] {
            return;
        }
        c.begun[i] = true;
        let col = &c.cols[i];
        let now = c.t0.elapsed();
        let tag = CompareTag {
            group: c.ids[0],
            column: i,
            of: c.cols.len(),
            start_ms: col.sent_at.unwrap_or(now).as_millis() as u64,
            sent: col.sent_at.is_some(),
            settings: col.settings.clone(),
        };
        self.rec.begin_tagged(
            c.ids[i],
            &c.asked,
            &col.provider,
            &col.turn.asked_model,
            &c.settings,
            Some((tag, &c.params[i])),
        );
    }

    fn end_column(&mut self, c: &mut CompareRun, i: usize) {
        if c.ended[i] {
            return;
        }
        c.ended[i] = true;
        let r = c.cols[i].report(i, c.t0.elapsed(), &c.catalog);
        // The history stays as the columns sent it: answers join it only when adopted.
        self.rec
            .end(c.ids[i], &c.cols[i].turn, r.report.cost.clone(), &c.asked);
        self.flush();
        c.ready.push_back((i, ColumnStep::Ended(Box::new(r))));
    }

    /// Stops column `i` where it is (one never sent is recorded unsent, with no events).
    pub fn cancel_column(&mut self, c: &mut CompareRun, i: usize) {
        for (_, h) in c.tasks.iter().filter(|(col, _)| *col == i) {
            h.abort();
        }
        if i < c.cols.len() && !c.cols[i].turn.is_finished() {
            let at = c.cols[i].local(c.t0.elapsed());
            self.begin_column(c, i);
            c.cols[i].turn.cancel(at);
            self.end_column(c, i);
        }
    }

    /// Stops every column still running.
    pub fn cancel_compare(&mut self, c: &mut CompareRun) {
        for i in 0..c.cols.len() {
            self.cancel_column(c, i);
        }
    }
}

/// A comparison streaming: every column's turn, as assembled so far.
pub struct CompareRun {
    ids: Vec<usize>,
    pub cols: Vec<Column>,
    asked: Conversation,
    settings: Settings,
    params: Vec<crate::api::ChatParams>,
    catalog: Catalog,
    rx: Option<mpsc::Receiver<(usize, ColumnMsg)>>,
    tasks: Vec<(usize, tokio::task::JoinHandle<()>)>,
    t0: Instant,
    begun: Vec<bool>,
    ended: Vec<bool>,
    ready: VecDeque<(usize, ColumnStep)>,
}

impl CompareRun {
    /// Waits for a column's next message without applying it: `Some(message)` to hand to
    /// `Runner::column_msg` (`Some(None)`: every task is gone), or `None` at once while steps
    /// are waiting in `Runner::poll_column`. Pending forever once there is nothing more.
    pub async fn wait(&mut self) -> Option<Option<(usize, ColumnMsg)>> {
        if !self.ready.is_empty() {
            return None;
        }
        match self.rx.as_mut() {
            Some(rx) => Some(rx.recv().await),
            None => std::future::pending().await,
        }
    }

    /// True while a column has not ended or a step is waiting to be handed out.
    pub fn running(&self) -> bool {
        !self.ready.is_empty() || self.ended.iter().any(|e| !e)
    }

    /// Time since the comparison started.
    pub fn elapsed(&self) -> Duration {
        self.t0.elapsed()
    }

    pub fn reports(&self) -> Vec<ColumnReport> {
        let now = self.elapsed();
        self.cols
            .iter()
            .enumerate()
            .map(|(i, c)| c.report(i, now, &self.catalog))
            .collect()
    }
}

impl Drop for CompareRun {
    fn drop(&mut self) {
        for (_, h) in &self.tasks {
            h.abort();
        }
    }
}

/// What happened in a comparison's column.
#[derive(Debug)]
pub enum ColumnStep {
    /// Its request went out (at comparison time `.0`; its events count from here).
    Sent(Duration),
    /// A stream event, applied and recorded (times are the column's own).
    Event(TimedEvent),
    /// The column ended (after its terminal event), with its figures.
    Ended(Box<ColumnReport>),
}
