//! `run_command`: a program run in the workspace — as an argv (no shell), or as a shell
//! command line when the model asks for one (the user sees that line) — with stdin closed, a
//! timeout, its output streamed line by line as it comes and kept bounded (the head and the
//! tail, the middle counted), and the whole process group stopped on timeout or cancel.

use std::process::Stdio;
use std::time::{Duration, Instant};
use tokio::io::{AsyncBufReadExt, BufReader};

use super::{ToolError, Tools};

/// What to run.
#[derive(Debug, Clone, Default)]
pub struct CommandSpec {
    /// The program and its arguments, run directly.
    pub argv: Vec<String>,
    /// Or a command line for `sh -c` (pipes, redirections): only when asked for.
    pub shell: Option<String>,
    /// The working directory, inside the workspace (default: its root).
    pub cwd: Option<String>,
    pub timeout: Duration,
    /// Environment variables the command must not see (the provider's API key).
    pub hide_env: Vec<String>,
}

/// How a command ended and what it printed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CommandOutput {
    /// The exit code (`None`: killed by a signal, or stopped here).
    pub status: Option<i32>,
    pub timed_out: bool,
    pub cancelled: bool,
    /// Standard output and error, merged line by line as they are read (their relative order
    /// is as the two pipes delivered it): the first and last `KEEP` bytes.
    pub output: String,
    /// Bytes left out of the middle.
    pub omitted: usize,
    pub elapsed: Duration,
}

/// Bytes of output kept at each end.
pub const KEEP: usize = 16 * 1024;

/// Characters of one output line the model is sent (the rest cut with `…`).
pub const LINE_CHARS: usize = 2000;

impl CommandOutput {
    /// The result as the model reads it.
    pub fn for_model(&self) -> String {
        let mut s = self.output.clone();
        if !s.is_empty() && !s.ends_with('\n') {
            s.push('\n');
        }
        let end = if self.timed_out {
            format!(
                "timed out after {:.0} s and was stopped",
                self.elapsed.as_secs_f64()
            )
        } else if self.cancelled {
            "cancelled by the user".to_string()
        } else {
            match self.status {
                Some(c) => format!("exit code {c}"),
                None => "killed by a signal".to_string(),
            }
        };
        format!("{s}({end})")
    }
}

/// Keeps the head and the tail of a stream of lines.
struct Bounded {
    head: String,
    tail: std::collections::VecDeque<String>,
    tail_bytes: usize,
    omitted: usize,
}

impl Bounded {
    fn push(&mut self, line: &str) {
        if self.head.len() + line.len() < KEEP && self.tail.is_empty() {
            self.head.push_str(line);
            self.head.push('\n');
            return;
        }
        self.tail.push_back(format!("{line}\n"));
        self.tail_bytes += line.len() + 1;
        while self.tail_bytes > KEEP && self.tail.len() > 1 {
            let dropped = self.tail.pop_front().map(|l| l.len()).unwrap_or(0);
            self.tail_bytes -= dropped;
            self.omitted += dropped;
        }
    }

    fn text(self) -> (String, usize) {
        let mut s = self.head;
        if self.omitted > 0 {
            s.push_str(&format!("… {} bytes left out …\n", self.omitted));
        }
        s.extend(self.tail);
        (s, self.omitted)
    }
}

impl Tools {
    /// Runs `spec`, calling `on_line` with each line of output as it comes, until it exits,
    /// times out, or `cancel` completes.
    pub async fn run_command(
        &self,
        spec: &CommandSpec,
        mut on_line: impl FnMut(&str),
        cancel: impl std::future::Future<Output = ()>,
    ) -> Result<CommandOutput, ToolError> {
        let cwd = match &spec.cwd {
            Some(d) => self.ws.existing(d)?,
            None => self.ws.root().to_path_buf(),
        };
        if !cwd.is_dir() {
            return Err(ToolError::new(format!(
                "{}: not a directory",
                spec.cwd.as_deref().unwrap_or(".")
            )));
        }
        let mut cmd =
            match (&spec.shell, spec.argv.split_first()) {
                (Some(line), _) => {
                    let mut c = tokio::process::Command::new("sh");
                    c.arg("-c").arg(line);
                    c
                }
                (None, Some((prog, args))) => {
                    let mut c = tokio::process::Command::new(prog);
                    c.args(args);
                    c
                }
                (None, None) => return Err(ToolError::new(
                    "no command: give argv (a program and its arguments) or a shell command line",
                )),
            };
        cmd.current_dir(&cwd)
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .kill_on_drop(true);
        for k in &spec.hide_env {
            cmd.env_remove(k);
        }
        #[cfg(unix)]
        cmd.process_group(0);
        let t0 = Instant::now();
        let mut child = cmd.spawn().map_err(|e| {
            let what = spec.argv.first().map(String::as_str).unwrap_or("sh");
            ToolError::new(match e.kind() {
                std::io::ErrorKind::NotFound => {
                    format!("{what}: command not found (is it installed and on PATH?)")
                }
                _ => format!("{what}: {e}"),
            })
        })?;
        let pid = child.id();
        let mut out = BufReader::new(child.stdout.take().expect("piped")).lines();
        let mut err = BufReader::new(child.stderr.take().expect("piped")).lines();
        let mut kept = Bounded {
            head: String::new(),
            tail: Default::default(),
            tail_bytes: 0,
            omitted: 0,
        };
        let deadline = tokio::time::sleep(spec.timeout);
        tokio::pin!(deadline);
        tokio::pin!(cancel);
        let (mut out_open, mut err_open) = (true, true);
        let mut stopped: Option<&str> = None;
        while out_open || err_open {
            let line = tokio::select! {
                l = out.next_line(), if out_open => match l {
                    Ok(Some(l)) => Some(l),
                    _ => { out_open = false; None }
                },
                l = err.next_line(), if err_open => match l {
                    Ok(Some(l)) => Some(l),
                    _ => { err_open = false; None }
                },
                _ = &mut deadline => { stopped = Some("timeout"); break; }
                _ = &mut cancel => { stopped = Some("cancel"); break; }
            };
            // As printed: the screen shows it through the one sanitizing pass (`ui::draw`).
            if let Some(l) = line {
                on_line(&l);
                // One enormous line must not fill the tail on its own.
                kept.push(&super::cut(&l, LINE_CHARS));
            }
        }
        let status = match stopped {
            Some(_) => {
                kill_group(pid);
                let _ = child.kill().await;
                None
            }
            None => tokio::select! {
                s = child.wait() => s.ok().and_then(|s| s.code()),
                _ = &mut deadline => { stopped = Some("timeout"); kill_group(pid); let _ = child.kill().await; None }
                _ = &mut cancel => { stopped = Some("cancel"); kill_group(pid); let _ = child.kill().await; None }
            },
        };
        let (output, omitted) = kept.text();
        Ok(CommandOutput {
            status,
            timed_out: stopped == Some("timeout"),
            cancelled: stopped == Some("cancel"),
            output,
            omitted,
            elapsed: t0.elapsed(),
        })
    }
}

/// Stops the command and everything it started (its process group).
fn kill_group(pid: Option<u32>) {
    #[cfg(unix)]
    if let Some(pid) = pid {
        // SAFETY: a signal to the process group this function's caller created for the child.
        unsafe {
            libc::kill(-(pid as i32), libc::SIGKILL);
        }
    }
    #[cfg(not(unix))]
    let _ = pid;
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::tools::Workspace;

    fn tools() -> (tempfile::TempDir, Tools) {
        let d = tempfile::tempdir().unwrap();
        std::fs::create_dir_all(d.path().join("sub")).unwrap();
        let t = Tools::new(Workspace::new(d.path()).unwrap());
        (d, t)
    }

    fn never() -> impl std::future::Future<Output = ()> {
        std::future::pending()
    }

    #[tokio::test]
    async fn runs_an_argv_in_the_workspace_with_stdin_closed_and_streams_its_lines() {
        let (_d, t) = tools();
        let mut seen = Vec::new();
        let spec = CommandSpec {
            shell: Some("pwd; echo err >&2; cat; exit 3".into()),
            cwd: Some("sub".into()),
            timeout: Duration::from_secs(10),
            ..Default::default()
        };
        let out = t
            .run_command(&spec, |l| seen.push(l.to_string()), never())
            .await
            .unwrap();
        assert_eq!(out.status, Some(3));
        // Two pipes: lines of stdout and stderr merge in the order they are read.
        assert!(
            out.output.lines().any(|l| l.ends_with("/sub")),
            "{}",
            out.output
        );
        assert!(out.output.contains("err\n"));
        assert_eq!(seen.len(), 2, "cat read nothing: stdin is closed");
        assert!(out.for_model().ends_with("(exit code 3)"));
        let argv = CommandSpec {
            argv: vec!["echo".into(), "a;b".into()],
            timeout: Duration::from_secs(10),
            ..Default::default()
        };
        let out = t.run_command(&argv, |_| {}, never()).await.unwrap();
        assert_eq!(out.output, "a;b\n", "an argv is not a shell line");
        let missing = CommandSpec {
            argv: vec!["no-such-program-xyz".into()],
            timeout: Duration::from_secs(10),
            ..Default::default()
        };
        let e = t.run_command(&missing, |_| {}, never()).await.unwrap_err();
        assert!(e.message.contains("command not found"), "{}", e.message);
        let outside = CommandSpec {
            argv: vec!["ls".into()],
            cwd: Some("..".into()),
            timeout: Duration::from_secs(10),
            ..Default::default()
        };
        assert!(t.run_command(&outside, |_| {}, never()).await.is_err());
    }

    #[tokio::test]
    async fn a_timeout_or_a_cancel_stops_the_whole_group_and_output_stays_bounded() {
        let (_d, t) = tools();
        // The child's own child (sleep) is stopped too: the call returns at once.
        let spec = CommandSpec {
            shell: Some("echo started; sleep 30 & wait".into()),
            timeout: Duration::from_millis(300),
            ..Default::default()
        };
        let out = t.run_command(&spec, |_| {}, never()).await.unwrap();
        assert!(out.timed_out && out.status.is_none());
        assert!(out.elapsed < Duration::from_secs(5), "{:?}", out.elapsed);
        assert!(out.for_model().contains("timed out"));
        let spec = CommandSpec {
            shell: Some("sleep 30".into()),
            timeout: Duration::from_secs(60),
            ..Default::default()
        };
        let cancel = tokio::time::sleep(Duration::from_millis(200));
        let out = t.run_command(&spec, |_| {}, cancel).await.unwrap();
        assert!(out.cancelled);
        assert!(out.for_model().ends_with("(cancelled by the user)"));
        // 200k lines: the head and the tail are kept, the middle counted.
        let spec = CommandSpec {
            shell: Some("seq 1 200000".into()),
            timeout: Duration::from_secs(30),
            ..Default::default()
        };
        let mut n = 0;
        let out = t.run_command(&spec, |_| n += 1, never()).await.unwrap();
        assert_eq!(n, 200_000, "every line is streamed");
        assert!(out.output.starts_with("1\n2\n"));
        assert!(out.output.ends_with("199999\n200000\n"));
        assert!(out.omitted > 1_000_000);
        assert!(out.output.len() < 3 * KEEP);
        // The provider's key is not in the command's environment.
        std::env::set_var("GROKPAIR_TEST_HIDDEN", "k");
        let spec = CommandSpec {
            shell: Some("echo \"[$GROKPAIR_TEST_HIDDEN]\"".into()),
            timeout: Duration::from_secs(10),
            hide_env: vec!["GROKPAIR_TEST_HIDDEN".into()],
            ..Default::default()
        };
        let out = t.run_command(&spec, |_| {}, never()).await.unwrap();
        assert_eq!(out.output, "[]\n");
    }
}
