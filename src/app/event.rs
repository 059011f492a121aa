//! Everything that reaches the app, as one type: terminal input, the runner's stream and
//! comparison steps, the clock, and the results of effects carried out elsewhere (a file
//! read, a listing, a save). `App::update` is the one entry point.

use crossterm::event::{KeyEvent, MouseEvent};
use std::path::PathBuf;
use std::time::Duration;

use super::{commands, App, Effect};
use crate::api::TimedEvent;
use crate::runner::ColumnStep;
use crate::session::catalog::LiveModel;

#[derive(Debug)]
pub enum Event {
    Key(KeyEvent),
    Paste(String),
    Mouse(MouseEvent),
    /// The terminal's size: where everything goes follows from it.
    Resize {
        width: u16,
        height: u16,
    },
    /// A frame was drawn: how far each pane can scroll at its size now (scroll offsets are
    /// the app's; the renderer only reports what fits).
    Drawn(Drawn),
    /// A stream event of turn `turn`, applied and recorded by the runner.
    Stream {
        turn: usize,
        ev: TimedEvent,
    },
    /// A step of comparison `cmp`'s column `col`, applied and recorded by the runner.
    Column {
        cmp: usize,
        col: usize,
        step: ColumnStep,
    },
    /// The clock while something streams: time since the turn, or comparison `.0`, began.
    Clock {
        turn: Option<Duration>,
        compare: Option<(usize, Duration)>,
    },
    /// A replay's clock moved on by this much wall time.
    ReplayAdvance(Duration),
    /// A line for the status bar from background work.
    Flash(String),
    /// The provider's own listing (prices, context windows) was applied: the new catalog.
    Catalog {
        provider: String,
        models: Vec<LiveModel>,
        catalog: crate::session::Catalog,
    },
    /// What the provider serves, for `/model`.
    Models(Result<Vec<String>, String>),
    /// The model a server says it serves (started without one).
    Model(Result<String, String>),
    /// The saved sessions, for the `/sessions` picker.
    Sessions(Vec<(PathBuf, String)>),
    /// A file read for `/file`.
    FileRead {
        path: String,
        read: Result<String, String>,
    },
    /// `Effect::CheckSave`'s answer: whether anything (a symlink too) is at the path.
    SaveTarget {
        path: PathBuf,
        exists: bool,
        /// Its absolute path, when it is outside the working directory.
        outside: Option<PathBuf>,
    },
    /// `Effect::LoadTheme`'s answer.
    ThemeLoaded {
        name: String,
        theme: Result<crate::theme::Theme, String>,
    },
    /// A code block written by `Effect::Save`: the path and its lines, or why not.
    Saved(Result<(PathBuf, usize), String>),
    /// Requests now go to another provider (`/provider`, or an adopted answer's: then
    /// `adopted` is the model the conversation goes on with).
    ProviderSwitched {
        to: ProviderState,
        adopted: Option<String>,
    },
    /// A saved session was loaded (and locked) to continue.
    SessionOpened(Box<crate::session::store::Session>),
    /// A step of the agent's (a tool call asked, started, printed, answered; the next
    /// round; done).
    Agent(crate::agent::Step),
    /// The workspace's files (`Effect::ListFiles`).
    Files(Vec<String>),
    /// `Effect::ReadMentions`' answer: each path's text, or why not.
    MentionsRead {
        text: String,
        read: Vec<(String, Result<String, String>)>,
    },
    /// Time is up for a status-bar notice (this one), the Ctrl+C arming, and/or a letter that
    /// ran as a pane key (`App::pane_letter`: this press).
    Expire {
        flash: Option<String>,
        quit: bool,
        letter: Option<u32>,
    },
    /// The provider refused the tools: agent mode is off for this session (why).
    AgentOff(String),
    /// `Effect::RewindPlan`'s answer.
    RewindPlan {
        exchange: usize,
        plan: Result<Vec<crate::tools::checkpoint::Change>, String>,
    },
    /// `Effect::Rewind`'s answer: the files put back.
    Rewound(Result<Vec<crate::tools::checkpoint::Change>, String>),
    /// The configured providers, as the config file now names them.
    Providers(Vec<String>),
    /// Nothing runs any more (no reply streams, the agent is done): a queued message goes.
    Ready,
    /// Something failed that the transcript should say.
    Error(String),
    /// A note for the transcript.
    Notice(String),
}

/// What a frame could show: the most each pane can scroll by (lines above the bottom for the
/// conversation and reasoning, lines below the top for the code pane, a comparison's columns
/// and its diff).
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Drawn {
    pub conversation: Option<usize>,
    pub reasoning: Option<usize>,
    pub code: Option<usize>,
    /// The most the code pane can scroll sideways (its widest line shown past its width).
    pub code_h: Option<usize>,
    /// Per column of the comparison on screen (`None`: a column not drawn).
    pub columns: Vec<Option<usize>>,
    pub diff: Option<usize>,
    /// The conversation's lines and where each entry starts (for turn jumps).
    pub conversation_lines: Option<(usize, Vec<usize>)>,
    /// The pending search's matches, when one was asked for.
    pub search: Option<Vec<crate::app::search::Match>>,
}

/// What decides where the panes are scrolled to and what they show.
type Placement = (
    usize,
    usize,
    usize,
    usize,
    bool,
    super::Pane,
    Option<usize>,
    Option<usize>,
);

impl App {
    fn placement(&self) -> Placement {
        (
            self.conv_scroll,
            self.reasoning_scroll,
            self.code_scroll,
            self.code_hscroll,
            self.new_output,
            self.focus,
            self.compare_shown,
            self.reasoning_turn,
        )
    }

    /// Scroll offsets kept within what the last frame could show.
    fn drawn(&mut self, d: Drawn) {
        let before = self.placement();
        if let Some(max) = d.conversation {
            self.conv_scroll = self.conv_scroll.min(max);
            if self.conv_scroll == 0 {
                self.new_output = false;
            }
        }
        if let Some(max) = d.reasoning {
            self.reasoning_scroll = self.reasoning_scroll.min(max);
        }
        if let Some(max) = d.code {
            self.code_scroll = self.code_scroll.min(max);
        }
        if let Some(max) = d.code_h {
            self.code_hscroll = self.code_hscroll.min(max);
        }
        if let Some(cv) = self.compare_shown.and_then(|c| self.comparisons.get_mut(c)) {
            for (c, max) in cv.cols.iter_mut().zip(&d.columns) {
                if let Some(max) = max {
                    c.scroll = c.scroll.min(*max);
                }
            }
            if let (Some(diff), Some(max)) = (cv.diff.as_mut(), d.diff) {
                diff.scroll = diff.scroll.min(max);
            }
        }
        if let Some(l) = d.conversation_lines {
            self.conv_layout = l;
        }
        let searched = d.search.is_some();
        if let Some(hits) = d.search {
            self.search_found(hits);
        }
        // What was drawn is already out of date: one more frame.
        self.needs_frame = searched || before != self.placement();
    }
}

/// What the app shows and sends with of a provider.
#[derive(Debug, Clone)]
pub struct ProviderState {
    pub name: String,
    pub free: bool,
    pub includes_reasoning: bool,
    pub has_key: bool,
    pub key_help: String,
    /// The provider's own model, when it names one.
    pub model: Option<String>,
}

impl App {
    /// The one entry point: an event in, the effects it asks for out. No I/O here.
    pub fn update(&mut self, ev: Event) -> Vec<Effect> {
        match ev {
            Event::Key(k) => return self.on_key(k),
            Event::Paste(p) => return self.on_paste(&p),
            Event::Mouse(m) => return self.on_mouse(m),
            Event::Resize { width, height } => {
                self.size = ratatui::layout::Rect::new(0, 0, width, height)
            }
            Event::Drawn(d) => self.drawn(d),
            Event::Stream { turn, ev } => self.on_stream(turn, ev),
            Event::Column { cmp, col, step } => match step {
                ColumnStep::Sent(at) => self.compare_sent(cmp, col, at),
                ColumnStep::Event(ev) => self.on_compare_event(cmp, col, ev),
                ColumnStep::Ended(_) => {}
            },
            Event::Clock { turn, compare } => {
                if let Some(t) = turn {
                    self.now = self.now.max(t);
                }
                if let Some((c, t)) = compare {
                    if let Some(cv) = self.comparisons.get_mut(c) {
                        cv.now = cv.now.max(t);
                    }
                }
            }
            Event::ReplayAdvance(d) => self.replay_advance(d),
            Event::Flash(s) => self.flash = Some(s),
            // A listing for a provider no longer in use is not applied.
            Event::Catalog {
                provider, catalog, ..
            } if provider == self.provider => self.set_catalog(catalog),
            Event::Catalog { .. } => {}
            Event::Models(served) => commands::show_models(self, served),
            Event::Model(found) => commands::model_found(self, found),
            Event::Sessions(items) => commands::sessions_listed(self, items),
            Event::FileRead { path, read } => commands::attach_file(self, path, read),
            Event::ProviderSwitched { to, adopted } => self.provider_switched(to, adopted),
            Event::SessionOpened(s) => self.session_opened(&s),
            Event::Agent(step) => return self.on_agent(step),
            Event::Files(f) => return self.files_listed(f),
            Event::Expire {
                flash,
                quit,
                letter,
            } => {
                self.expire(flash.as_deref(), quit);
                if letter.is_some() && self.pane_letter.map(|l| l.seq) == letter {
                    self.pane_letter = None;
                }
            }
            Event::AgentOff(why) => {
                self.agent = None;
                self.notice(&format!(
                    "{why}: agent mode is off for this session. Enter sends the message again as plain chat; `[agent] tools = false` (or a server that takes tools: llama-server --jinja) avoids this"
                ));
            }
            Event::MentionsRead { text, read } => return self.mentions_read(text, read),
            Event::RewindPlan { exchange, plan } => self.rewind_planned(exchange, plan),
            Event::Rewound(r) => self.rewound(r),
            Event::Ready => return self.release_queued(),
            Event::Providers(names) => self.providers = names,
            Event::Error(e) => self.error(&e),
            Event::Notice(n) => self.notice(&n),
            Event::SaveTarget {
                path,
                exists,
                outside,
            } => return self.save_target(path, exists, outside),
            Event::ThemeLoaded { name, theme } => match theme {
                Ok(t) => {
                    self.theme = t;
                    self.restyle();
                    self.flash = Some(format!("theme: {name}"));
                }
                Err(e) => self.error(&e),
            },
            Event::Saved(r) => {
                self.flash = Some(match r {
                    Ok((path, lines)) => format!(
                        "saved {} ({})",
                        path.display(),
                        crate::session::count(lines, "line", "lines")
                    ),
                    Err(e) => e,
                })
            }
        }
        vec![]
    }
}

impl App {
    fn provider_switched(&mut self, p: ProviderState, adopted: Option<String>) {
        self.provider = p.name;
        self.provider_free = p.free;
        self.includes_reasoning = p.includes_reasoning;
        self.has_key = p.has_key;
        self.key_help = p.key_help;
        // Another provider's models are its own: none named, the server is asked (the
        // runtime does; `Event::Model` brings the answer).
        self.model = p.model.unwrap_or_default();
        self.flash = Some(match adopted {
            Some(m) => {
                self.model = m;
                format!(
                    "adopted: the conversation goes on with {} · {}",
                    self.provider, self.model
                )
            }
            None if self.model.is_empty() => {
                format!(
                    "provider: {} · asking it which model it serves…",
                    self.provider
                )
            }
            None => format!("provider: {} · model: {}", self.provider, self.model),
        });
        if !self.has_key {
            let h = self.key_help.clone();
            self.error(&h);
        }
    }

    /// Continues a saved session (`/sessions`): its transcript and history, sent on with the
    /// current provider.
    fn session_opened(&mut self, s: &crate::session::store::Session) {
        self.replay = None;
        let (cur_provider, cur_model) = (self.provider.clone(), self.model.clone());
        self.load_session(s);
        if self.provider != cur_provider {
            // The requests go to the current provider; say so.
            self.notice(&format!(
                "this session used provider `{}`; continuing with `{cur_provider}` ({cur_model}). `/provider {}` switches.",
                self.provider, self.provider
            ));
            self.provider = cur_provider;
            self.model = cur_model;
        }
        self.flash = Some(format!("continuing {} ({} turns)", s.id(), s.turn_count()));
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::api::StreamEvent;
    use crossterm::event::KeyCode;

    fn at(ms: u64, event: StreamEvent) -> TimedEvent {
        TimedEvent {
            at: Duration::from_millis(ms),
            event,
        }
    }

    #[test]
    fn events_in_effects_and_state_out() {
        let mut a = App::new(crate::testing::app_init(false));
        for c in "hello".chars() {
            assert!(a
                .update(Event::Key(KeyEvent::from(KeyCode::Char(c))))
                .is_empty());
        }
        assert_eq!(
            a.update(Event::Key(KeyEvent::from(KeyCode::Enter))),
            [Effect::Start { turn: 0 }]
        );
        assert_eq!(a.active, Some(0));
        for ev in [
            at(5, StreamEvent::Content("Hi ".into())),
            at(9, StreamEvent::Content("there.".into())),
            at(
                10,
                StreamEvent::Finished {
                    reason: Some("stop".into()),
                },
            ),
        ] {
            assert!(a.update(Event::Stream { turn: 0, ev }).is_empty());
        }
        assert_eq!(a.active, None, "the turn ended");
        assert_eq!(a.conv.messages().last().unwrap().content, "Hi there.");
        a.update(Event::Saved(Ok(("out/a.rs".into(), 3))));
        assert_eq!(a.flash.as_deref(), Some("saved out/a.rs (3 lines)"));
        a.update(Event::Clock {
            turn: Some(Duration::from_secs(2)),
            compare: None,
        });
        assert_eq!(a.now, Duration::from_secs(2));
    }

    /// Issue 15 (6): a printable key that is no pane key goes to the message box, itself
    /// included; the pane keys keep their meaning.
    #[test]
    fn typing_from_a_pane_keeps_the_first_letter() {
        let mut a = App::new(crate::testing::app_init(false));
        for pane in [
            crate::app::Pane::Conversation,
            crate::app::Pane::Code,
            crate::app::Pane::Reasoning,
        ] {
            a.set_input("");
            a.focus = pane;
            for c in "quest".chars() {
                a.update(Event::Key(KeyEvent::from(KeyCode::Char(c))));
            }
            assert_eq!(
                (a.focus, a.input_text().as_str()),
                (crate::app::Pane::Input, "quest")
            );
        }
        // `j` scrolls the conversation: not typed.
        a.set_input("");
        a.focus = crate::app::Pane::Conversation;
        a.update(Event::Key(KeyEvent::from(KeyCode::Char('j'))));
        assert_eq!(
            (a.focus, a.input_text().as_str()),
            (crate::app::Pane::Conversation, "")
        );
    }

    /// Issue 15 (6): a word that starts with a pane key arrives whole: the letter ran (`j`
    /// scrolled, `y` copied), then a letter no pane takes came before the runtime expired
    /// it, so both go to the box. Pane keys pressed on their own, or with time between, keep
    /// their meaning; `/` and `s` open prompts that take what is typed next.
    #[test]
    fn a_word_that_starts_with_a_pane_key_arrives_whole() {
        use crate::app::Pane;
        let key = |a: &mut App, c: char| a.update(Event::Key(KeyEvent::from(KeyCode::Char(c))));
        let typed = |a: &mut App, text: &str| {
            for c in text.chars() {
                key(a, c);
            }
        };
        let mut a = App::new(crate::testing::app_init(false));
        a.input.insert_str("q");
        a.update(Event::Key(KeyEvent::from(KeyCode::Enter)));
        for ev in [
            at(
                5,
                StreamEvent::Content("```rust\nfn main() {}\n```\n".into()),
            ),
            at(6, StreamEvent::Finished { reason: None }),
        ] {
            a.update(Event::Stream { turn: 0, ev });
        }
        assert_eq!(a.code.len(), 1);
        for (pane, word) in [
            (Pane::Conversation, "just"),
            (Pane::Conversation, "good"),
            (Pane::Code, "list"),
            (Pane::Code, "yes"),
            (Pane::Code, "next"),
            (Pane::Reasoning, "kind"),
        ] {
            a.set_input("");
            a.focus = pane;
            typed(&mut a, word);
            assert_eq!(
                (a.focus, a.input_text().as_str(), a.modal().is_none()),
                (Pane::Input, word, true),
                "{pane:?}"
            );
            assert!(a.search.is_none(), "{pane:?} {word}");
        }
        // Two pane keys: both run, nothing is typed.
        a.set_input("");
        a.focus = Pane::Conversation;
        a.conv_scroll = 5;
        typed(&mut a, "kk");
        assert_eq!((a.focus, a.input_text().as_str()), (Pane::Conversation, ""));
        // Time between: the runtime expired the letter; `u` alone is typed.
        a.conv_scroll = 5;
        key(&mut a, 'j');
        let seq = a.pane_letter.map(|l| l.seq);
        assert!(seq.is_some());
        a.update(Event::Expire {
            flash: None,
            quit: false,
            letter: seq,
        });
        key(&mut a, 'u');
        assert_eq!((a.focus, a.input_text().as_str()), (Pane::Input, "u"));
        assert_eq!(a.conv_scroll, 4, "the scroll stays done");
        // The prompts take what follows: a search query, a file name.
        a.set_input("");
        a.focus = Pane::Conversation;
        typed(&mut a, "/main");
        assert_eq!(a.search.as_ref().map(|s| s.query.as_str()), Some("main"));
        a.update(Event::Key(KeyEvent::from(KeyCode::Esc)));
        a.focus = Pane::Code;
        typed(&mut a, "sx.rs");
        assert_eq!(a.save_prompt().map(|p| p.path.as_str()), Some("x.rs"));
        assert_eq!(a.input_text(), "");
    }

    /// `/system` says what the conversation was sent with; one set mid-conversation is named
    /// as the next conversation's, not as if it were in force.
    #[test]
    fn system_tells_what_is_in_force_and_what_is_next() {
        let mut a = App::new(crate::testing::app_init(false));
        let run = |a: &mut App, line: &str| {
            a.set_input(line);
            a.update(Event::Key(KeyEvent::from(KeyCode::Enter)))
        };
        run(&mut a, "/system Be brief.");
        run(&mut a, "/system");
        assert_eq!(a.entries.last().unwrap().text, "system prompt: Be brief.");
        run(&mut a, "q");
        a.update(Event::Stream {
            turn: 0,
            ev: at(5, StreamEvent::Finished { reason: None }),
        });
        run(&mut a, "/system Be long.");
        run(&mut a, "/system");
        assert_eq!(
            a.entries.last().unwrap().text,
            "system prompt: Be brief. · from the next /new: Be long."
        );
        // The status bar's marker is about what is in force.
        a.custom_system = false;
        run(&mut a, "/system Be long.");
        assert!(!a.custom_system, "not in force yet");
        run(&mut a, "/new");
        assert!(a.custom_system);
        run(&mut a, "/system");
        assert_eq!(a.entries.last().unwrap().text, "system prompt: Be long.");
    }

    /// After `/model` (or `/provider`), the status bar tells of the new model, idle: the last
    /// turn's figures belong to the one before.
    #[test]
    fn the_status_bar_follows_a_model_switch() {
        let mut a = App::new(crate::testing::app_init(false));
        a.input.insert_str("q");
        a.update(Event::Key(KeyEvent::from(KeyCode::Enter)));
        a.update(Event::Stream {
            turn: 0,
            ev: at(5, StreamEvent::Finished { reason: None }),
        });
        assert_eq!(a.status_turn().map(|t| t.rec), Some(a.turns[0].rec));
        a.input.insert_str("/model grok-3-mini");
        a.update(Event::Key(KeyEvent::from(KeyCode::Enter)));
        assert_eq!(a.model, "grok-3-mini");
        assert!(a.status_turn().is_none());
    }

    /// Issue 15 (3, 4, 15): a stalled stream says so; End in the box follows the tail again;
    /// Ctrl+U deletes to the line's start and Ctrl+Z undoes it.
    #[test]
    fn a_stall_the_tail_and_line_editing() {
        let mut a = App::new(crate::testing::app_init(false));
        a.input.insert_str("q");
        a.update(Event::Key(KeyEvent::from(KeyCode::Enter)));
        a.update(Event::Stream {
            turn: 0,
            ev: at(1000, StreamEvent::Content("partial".into())),
        });
        let tick = |a: &mut App, s: u64| {
            a.update(Event::Clock {
                turn: Some(Duration::from_secs(s)),
                compare: None,
            })
        };
        tick(&mut a, 3);
        assert_eq!(a.stalled(&a.turns[0]), None);
        tick(&mut a, 13);
        assert_eq!(a.stalled(&a.turns[0]), Some(Duration::from_secs(12)));
        // Scrolled up; End from the (empty) message box goes back to the tail.
        a.conv_scroll = 7;
        a.new_output = true;
        a.update(Event::Key(KeyEvent::from(KeyCode::End)));
        assert_eq!((a.conv_scroll, a.new_output), (0, false));
        // With text, End moves the cursor first; Ctrl+End always follows the tail.
        a.input.insert_str("hello world");
        a.input.move_cursor(tui_textarea::CursorMove::Head);
        a.conv_scroll = 7;
        a.update(Event::Key(KeyEvent::from(KeyCode::End)));
        assert_eq!(a.conv_scroll, 7);
        a.update(Event::Key(KeyEvent::new(
            KeyCode::End,
            crossterm::event::KeyModifiers::CONTROL,
        )));
        assert_eq!(a.conv_scroll, 0);
        let ctrl = |c: char| {
            Event::Key(KeyEvent::new(
                KeyCode::Char(c),
                crossterm::event::KeyModifiers::CONTROL,
            ))
        };
        a.update(ctrl('u'));
        assert_eq!(a.input_text(), "");
        a.update(ctrl('z'));
        assert_eq!(a.input_text(), "hello world");
    }

    /// Issue 15 (8): the first Ctrl+C with text in the box clears it (↑ brings it back), the
    /// second quits; notices and the arming expire on the runtime's clock.
    #[test]
    fn ctrl_c_clears_the_box_first_and_notices_expire() {
        let mut a = App::new(crate::testing::app_init(false));
        let ctrl_c = Event::Key(KeyEvent::new(
            KeyCode::Char('c'),
            crossterm::event::KeyModifiers::CONTROL,
        ));
        a.input.insert_str("a long message I typed");
        assert!(a.update(ctrl_c).is_empty());
        assert_eq!(a.input_text(), "");
        assert!(!a.should_quit);
        assert!(a.flash.as_deref().unwrap().starts_with("message cleared"));
        a.update(Event::Key(KeyEvent::from(KeyCode::Up)));
        assert_eq!(a.input_text(), "a long message I typed");
        // Armed, then the time is up: a later Ctrl+C only arms again.
        let ctrl_c = || {
            Event::Key(KeyEvent::new(
                KeyCode::Char('c'),
                crossterm::event::KeyModifiers::CONTROL,
            ))
        };
        a.set_input("");
        a.update(ctrl_c());
        assert!(a.quit_armed);
        a.update(Event::Expire {
            flash: None,
            quit: true,
            letter: None,
        });
        assert!(!a.quit_armed && a.flash.is_none());
        a.update(ctrl_c());
        assert!(!a.should_quit);
        assert_eq!(a.update(ctrl_c()), [Effect::Quit]);
        // A notice goes when its time is up, unless another replaced it meanwhile.
        a.flash = Some("model: x".into());
        a.update(Event::Expire {
            flash: Some("other".into()),
            quit: false,
            letter: None,
        });
        assert_eq!(a.flash.as_deref(), Some("model: x"));
        a.update(Event::Expire {
            flash: Some("model: x".into()),
            quit: false,
            letter: None,
        });
        assert_eq!(a.flash, None);
    }

    /// Issue 15 (13): a provider with no model named does not keep the last one's: it is
    /// asked, and its answer is used.
    #[test]
    fn a_switch_to_a_provider_with_no_model_asks_it() {
        let mut a = App::new(crate::testing::app_init(false));
        assert!(!a.model.is_empty());
        a.update(Event::ProviderSwitched {
            to: ProviderState {
                name: "local".into(),
                free: true,
                includes_reasoning: false,
                has_key: true,
                key_help: String::new(),
                model: None,
            },
            adopted: None,
        });
        assert_eq!(a.model, "");
        assert!(a
            .flash
            .as_deref()
            .unwrap()
            .contains("asking it which model it serves"));
        a.update(Event::Model(Ok("SmolLM2-135M-Instruct".into())));
        assert_eq!(a.model, "SmolLM2-135M-Instruct");
    }

    #[test]
    fn a_provider_switch_and_a_stale_listing() {
        let mut a = App::new(crate::testing::app_init(false));
        a.update(Event::ProviderSwitched {
            to: ProviderState {
                name: "local".into(),
                free: true,
                includes_reasoning: false,
                has_key: true,
                key_help: String::new(),
                model: Some("qwen".into()),
            },
            adopted: None,
        });
        assert_eq!((a.provider.as_str(), a.model.as_str()), ("local", "qwen"));
        assert!(a.provider_free);
        assert_eq!(a.flash.as_deref(), Some("provider: local · model: qwen"));
        // A listing that arrives for the provider left behind changes nothing.
        let before = a.catalog.all().len();
        a.update(Event::Catalog {
            provider: "xai".into(),
            models: Vec::new(),
            catalog: crate::session::Catalog::default(),
        });
        assert_eq!(a.catalog.all().len(), before);
    }
}
