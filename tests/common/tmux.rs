//! The real binary in a tmux pane: send-keys to type, capture-pane to read the screen.

use std::process::Command;
use std::time::{Duration, Instant};

pub struct Tmux {
    socket: String,
    session: String,
    pub dir: tempfile::TempDir,
}

impl Tmux {
    pub fn available() -> bool {
        let ok = Command::new("tmux")
            .arg("-V")
            .output()
            .is_ok_and(|o| o.status.success());
        if !ok {
            assert!(
                std::env::var("GROKPAIR_REQUIRE_TMUX").as_deref() != Ok("1"),
                "tmux is required (GROKPAIR_REQUIRE_TMUX=1) but not installed"
            );
            eprintln!("skipping: tmux not installed");
        }
        ok
    }

    /// Starts grokpair against `base_url` in a w×h tmux pane, chatting (agent mode off: the
    /// agent tests name their workspace). After grokpair exits, the pane
    /// prints its exit code and the terminal's line discipline, then waits.
    pub fn start(name: &str, base_url: &str, w: u16, h: u16, key: &str) -> Tmux {
        Tmux::start_with(
            name,
            &format!(
                "provider = \"fake\"\n[agent]\ntools = false\n[network]\nidle_timeout_secs = 30\n[providers.fake]\nbase_url = \"{base_url}\"\napi_key_env = \"FAKE_KEY\"\nmodel = \"grok-code-fast-1\"\ndialect = \"xai\"\n{}",
                grokpair::testing::RECORDING_PRICES_TOML
            ),
            w,
            h,
            key,
        )
    }

    /// Like `start`, with this config (its sessions go to `dir/sessions`).
    pub fn start_with(name: &str, config: &str, w: u16, h: u16, key: &str) -> Tmux {
        Tmux::start_args(name, config, w, h, key, "")
    }

    /// Like `start_with`, with arguments after the config (`ask "…"` runs a headless command
    /// on the pane's terminal).
    pub fn start_args(name: &str, config: &str, w: u16, h: u16, key: &str, args: &str) -> Tmux {
        let dir = tempfile::tempdir().unwrap();
        let cfg = dir.path().join("c.toml");
        std::fs::write(
            &cfg,
            format!(
                "{config}\n[sessions]\ndir = \"{}\"\n",
                dir.path().join("sessions").display()
            ),
        )
        .unwrap();
        let bin = env!("CARGO_BIN_EXE_grokpair");
        let cmd = format!(
            "env -u NO_COLOR FAKE_KEY={key} {bin} --config {} {args}; echo EXIT=$?; stty -a | grep -o -- '-\\?icanon'; echo STTY-DONE; sleep 120",
            cfg.display()
        );
        Tmux::spawn(name, w, h, &cmd, dir)
    }

    /// Runs a shell command line in a w×h pane (its terminal is the pane).
    pub fn start_shell(name: &str, w: u16, h: u16, cmd: &str) -> Tmux {
        Tmux::spawn(name, w, h, cmd, tempfile::tempdir().unwrap())
    }

    fn spawn(name: &str, w: u16, h: u16, cmd: &str, dir: tempfile::TempDir) -> Tmux {
        let socket = format!("gp-test-{}-{name}", std::process::id());
        let session = "t".to_string();
        let st = Command::new("tmux")
            .args([
                "-L",
                &socket,
                "-f",
                "/dev/null",
                "new-session",
                "-d",
                "-s",
                &session,
            ])
            .args(["-x", &w.to_string(), "-y", &h.to_string(), cmd])
            .status()
            .unwrap();
        assert!(st.success());
        Tmux {
            socket,
            session,
            dir,
        }
    }

    pub fn tmux(&self, args: &[&str]) -> String {
        let o = Command::new("tmux")
            .args(["-L", &self.socket])
            .args(args)
            .output()
            .unwrap();
        String::from_utf8_lossy(&o.stdout).into_owned()
    }

    pub fn send(&self, keys: &[&str]) {
        let mut a = vec!["send-keys", "-t", &self.session];
        a.extend_from_slice(keys);
        self.tmux(&a);
    }

    pub fn type_text(&self, text: &str) {
        self.tmux(&["send-keys", "-t", &self.session, "-l", text]);
    }

    pub fn screen(&self) -> String {
        self.tmux(&["capture-pane", "-p", "-t", &self.session])
    }

    pub fn screen_escapes(&self) -> String {
        self.tmux(&["capture-pane", "-p", "-e", "-t", &self.session])
    }

    pub async fn wait_for(&self, what: &str, f: impl Fn(&str) -> bool) -> String {
        self.wait_secs(what, 20, f).await
    }

    /// Ctrl+C twice, and the program's exit code (0) on the pane.
    pub async fn quit(&self) {
        self.send(&["C-c"]);
        self.send(&["C-c"]);
        self.wait_for("exit", |s| s.contains("EXIT=0")).await;
    }

    /// The one session the run saved.
    pub fn saved_session(&self) -> grokpair::session::store::Session {
        let dir = self.dir.path().join("sessions");
        let files = grokpair::session::store::list(&dir);
        assert_eq!(files.len(), 1, "one session file in {}", dir.display());
        grokpair::session::store::load(&files[0]).unwrap()
    }

    /// `wait_for` with a longer patience (a real model on a busy CPU).
    pub async fn wait_secs(&self, what: &str, secs: u64, f: impl Fn(&str) -> bool) -> String {
        let deadline = Instant::now() + Duration::from_secs(secs);
        loop {
            let s = self.screen();
            if f(&s) {
                return s;
            }
            assert!(
                Instant::now() < deadline,
                "timed out waiting for {what}; screen:\n{s}"
            );
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    }
}

impl Drop for Tmux {
    fn drop(&mut self) {
        let _ = Command::new("tmux")
            .args(["-L", &self.socket, "kill-server"])
            .status();
    }
}
