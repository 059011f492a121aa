//! The tools as the model sees them: their specs (name, description, JSON Schema), and a
//! model's call parsed into a typed one — with an error that names what is wrong and what
//! is expected when the arguments do not fit.

use serde_json::{json, Value};
use std::time::Duration;

use super::grep::GrepArgs;
use super::shell::CommandSpec;
use super::{ToolError, Tools};
use crate::api::ToolSpec;
use crate::session::approval::{self, Kind};

/// A command's timeout when the model gives none, and the most it may ask for.
pub const DEFAULT_TIMEOUT: Duration = Duration::from_secs(120);
pub const MAX_TIMEOUT: Duration = Duration::from_secs(600);

/// Every tool, in a fixed order (the specs are part of the prompt-cache prefix).
pub fn specs() -> Vec<ToolSpec> {
    let spec = |name: &str, description: &str, parameters: Value| ToolSpec {
        name: name.into(),
        description: description.into(),
        parameters,
    };
    vec![
        spec(
            "read_file",
            "Read a text file of the workspace, with line numbers. Use offset and limit for a range of a long file. A file must be read before edit_file changes it.",
            json!({"type": "object", "properties": {
                "path": {"type": "string", "description": "relative to the workspace root"},
                "offset": {"type": "integer", "description": "first line, from 1"},
                "limit": {"type": "integer", "description": "how many lines"}},
                "required": ["path"], "additionalProperties": false}),
        ),
        spec(
            "list_dir",
            "List a directory of the workspace: subdirectories first, then files with their sizes.",
            json!({"type": "object", "properties": {
                "path": {"type": "string", "description": "relative to the workspace root; default the root"}},
                "additionalProperties": false}),
        ),
        spec(
            "glob",
            "Find files whose path matches a glob (src/**/*.rs); .gitignore applies.",
            json!({"type": "object", "properties": {
                "pattern": {"type": "string"}},
                "required": ["pattern"], "additionalProperties": false}),
        ),
        spec(
            "grep",
            "Search file contents with a regular expression; .gitignore applies. Prints path:line:text.",
            json!({"type": "object", "properties": {
                "pattern": {"type": "string", "description": "a regular expression"},
                "path": {"type": "string", "description": "a file or directory to search; default the workspace"},
                "glob": {"type": "string", "description": "only files matching this glob (*.rs)"},
                "context": {"type": "integer", "description": "lines of context around each match"},
                "case_insensitive": {"type": "boolean"}},
                "required": ["pattern"], "additionalProperties": false}),
        ),
        spec(
            "edit_file",
            "Replace exact text in a file read before: old_string must match once (or set replace_all). Keep indentation exact; include surrounding lines to make it unique.",
            json!({"type": "object", "properties": {
                "path": {"type": "string"},
                "old_string": {"type": "string"},
                "new_string": {"type": "string"},
                "replace_all": {"type": "boolean"}},
                "required": ["path", "old_string", "new_string"], "additionalProperties": false}),
        ),
        spec(
            "write_file",
            "Create a new file (directories as needed). Replacing a whole existing file needs overwrite=true and the file read before; prefer edit_file for changes.",
            json!({"type": "object", "properties": {
                "path": {"type": "string"},
                "content": {"type": "string"},
                "overwrite": {"type": "boolean"}},
                "required": ["path", "content"], "additionalProperties": false}),
        ),
        spec(
            "run_command",
            "Run a program in the workspace: argv (no shell) or, for pipes and redirections, command (run by sh -c). Stdin is closed; the output is returned with the exit code.",
            json!({"type": "object", "properties": {
                "argv": {"type": "array", "items": {"type": "string"}},
                "command": {"type": "string", "description": "a shell command line"},
                "cwd": {"type": "string", "description": "a directory of the workspace; default the root"},
                "timeout_secs": {"type": "integer", "description": "default 120, at most 600"}},
                "additionalProperties": false}),
        ),
    ]
}

/// A model's tool call, checked.
#[derive(Debug, Clone)]
pub enum Call {
    ReadFile {
        path: String,
        offset: Option<usize>,
        limit: Option<usize>,
    },
    ListDir {
        path: String,
    },
    Glob {
        pattern: String,
    },
    Grep(GrepArgs),
    EditFile {
        path: String,
        old: String,
        new: String,
        replace_all: bool,
    },
    WriteFile {
        path: String,
        content: String,
        overwrite: bool,
    },
    RunCommand(CommandSpec),
}

fn string(v: &Value, key: &str, tool: &str) -> Result<String, ToolError> {
    match v.get(key) {
        Some(Value::String(s)) => Ok(s.clone()),
        Some(other) => Err(ToolError::new(format!(
            "{tool}: `{key}` must be a string, not {other}"
        ))),
        None => Err(ToolError::new(format!("{tool}: `{key}` is missing"))),
    }
}

fn opt_string(v: &Value, key: &str, tool: &str) -> Result<Option<String>, ToolError> {
    match v.get(key) {
        None | Some(Value::Null) => Ok(None),
        Some(_) => string(v, key, tool).map(Some),
    }
}

fn opt_uint(v: &Value, key: &str, tool: &str) -> Result<Option<usize>, ToolError> {
    match v.get(key) {
        None | Some(Value::Null) => Ok(None),
        Some(x) => x.as_u64().map(|n| Some(n as usize)).ok_or_else(|| {
            ToolError::new(format!(
                "{tool}: `{key}` must be a whole number ≥ 0, not {x}"
            ))
        }),
    }
}

fn opt_bool(v: &Value, key: &str, tool: &str) -> Result<bool, ToolError> {
    match v.get(key) {
        None | Some(Value::Null) => Ok(false),
        Some(Value::Bool(b)) => Ok(*b),
        Some(x) => Err(ToolError::new(format!(
            "{tool}: `{key}` must be true or false, not {x}"
        ))),
    }
}

impl Call {
    /// Parses a call of tool `name` with JSON `arguments` (as the model sent them).
    pub fn parse(name: &str, arguments: &str) -> Result<Call, ToolError> {
        let v: Value = if arguments.trim().is_empty() {
            json!({})
        } else {
            serde_json::from_str(arguments).map_err(|e| {
                ToolError::new(format!("{name}: the arguments are not valid JSON ({e})"))
            })?
        };
        if !v.is_object() {
            return Err(ToolError::new(format!(
                "{name}: the arguments must be a JSON object"
            )));
        }
        let known = |keys: &[&str]| -> Result<(), ToolError> {
            if let Some(k) = v
                .as_object()
                .and_then(|o| o.keys().find(|k| !keys.contains(&k.as_str())))
            {
                return Err(ToolError::new(format!(
                    "{name}: unknown argument `{k}` (it takes {})",
                    keys.join(", ")
                )));
            }
            Ok(())
        };
        Ok(match name {
            "read_file" => {
                known(&["path", "offset", "limit"])?;
                Call::ReadFile {
                    path: string(&v, "path", name)?,
                    offset: opt_uint(&v, "offset", name)?,
                    limit: opt_uint(&v, "limit", name)?,
                }
            }
            "list_dir" => {
                known(&["path"])?;
                Call::ListDir {
                    path: opt_string(&v, "path", name)?.unwrap_or_else(|| ".".into()),
                }
            }
            "glob" => {
                known(&["pattern"])?;
                Call::Glob {
                    pattern: string(&v, "pattern", name)?,
                }
            }
            "grep" => {
                known(&["pattern", "path", "glob", "context", "case_insensitive"])?;
                Call::Grep(GrepArgs {
                    pattern: string(&v, "pattern", name)?,
                    path: opt_string(&v, "path", name)?,
                    glob: opt_string(&v, "glob", name)?,
                    context: opt_uint(&v, "context", name)?.unwrap_or(0).min(20),
                    case_insensitive: opt_bool(&v, "case_insensitive", name)?,
                })
            }
            "edit_file" => {
                known(&["path", "old_string", "new_string", "replace_all"])?;
                Call::EditFile {
                    path: string(&v, "path", name)?,
                    old: string(&v, "old_string", name)?,
                    new: string(&v, "new_string", name)?,
                    replace_all: opt_bool(&v, "replace_all", name)?,
                }
            }
            "write_file" => {
                known(&["path", "content", "overwrite"])?;
                Call::WriteFile {
                    path: string(&v, "path", name)?,
                    content: string(&v, "content", name)?,
                    overwrite: opt_bool(&v, "overwrite", name)?,
                }
            }
            "run_command" => {
                known(&["argv", "command", "cwd", "timeout_secs"])?;
                let argv = match v.get("argv") {
                    None | Some(Value::Null) => Vec::new(),
                    Some(Value::Array(a)) => a
                        .iter()
                        .map(|x| x.as_str().map(str::to_string))
                        .collect::<Option<Vec<_>>>()
                        .ok_or_else(|| {
                            ToolError::new("run_command: `argv` must be an array of strings")
                        })?,
                    Some(x) => {
                        return Err(ToolError::new(format!(
                            "run_command: `argv` must be an array of strings, not {x}"
                        )))
                    }
                };
                let shell = opt_string(&v, "command", name)?;
                match (argv.is_empty(), &shell) {
                    (true, None) => {
                        return Err(ToolError::new(
                            "run_command: give `argv` (a program and its arguments) or `command` (a shell line)",
                        ))
                    }
                    (false, Some(_)) => {
                        return Err(ToolError::new("run_command: give `argv` or `command`, not both"))
                    }
                    _ => {}
                }
                let timeout = opt_uint(&v, "timeout_secs", name)?
                    .map(|s| Duration::from_secs(s as u64).min(MAX_TIMEOUT))
                    .unwrap_or(DEFAULT_TIMEOUT);
                Call::RunCommand(CommandSpec {
                    argv,
                    shell,
                    cwd: opt_string(&v, "cwd", name)?,
                    timeout,
                    hide_env: Vec::new(),
                })
            }
            other => {
                return Err(ToolError::new(format!(
                    "no tool `{other}`; the tools are {}",
                    specs()
                        .iter()
                        .map(|s| s.name.as_str())
                        .collect::<Vec<_>>()
                        .join(", ")
                )))
            }
        })
    }

    pub fn name(&self) -> &'static str {
        match self {
            Call::ReadFile { .. } => "read_file",
            Call::ListDir { .. } => "list_dir",
            Call::Glob { .. } => "glob",
            Call::Grep(_) => "grep",
            Call::EditFile { .. } => "edit_file",
            Call::WriteFile { .. } => "write_file",
            Call::RunCommand(_) => "run_command",
        }
    }

    /// The call as the approval policy sees it: its kind and what it touches (the command
    /// line the user will see for a command).
    pub fn approval(&self) -> approval::Call {
        let (kind, target) = match self {
            Call::ReadFile { path, .. } | Call::ListDir { path } => (Kind::Read, path.clone()),
            Call::Glob { pattern } => (Kind::Read, pattern.clone()),
            Call::Grep(g) => (Kind::Read, g.path.clone().unwrap_or_else(|| ".".into())),
            Call::EditFile { path, .. } | Call::WriteFile { path, .. } => {
                (Kind::Edit, path.clone())
            }
            Call::RunCommand(c) => (Kind::Command, command_line(c)),
        };
        approval::Call {
            tool: self.name().into(),
            kind,
            target,
        }
    }
}

/// The approval view of a wire call, for `session::agent::AgentLoop` (its `Classify`).
pub fn classify(c: &crate::api::ToolCall) -> Result<approval::Call, String> {
    Call::parse(&c.function.name, &c.function.arguments)
        .map(|call| call.approval())
        .map_err(|e| e.message)
}

/// A command as the user sees it: its shell line, or its argv quoted where needed.
pub fn command_line(c: &CommandSpec) -> String {
    if let Some(s) = &c.shell {
        return s.clone();
    }
    c.argv
        .iter()
        .map(|a| {
            if !a.is_empty()
                && a.chars()
                    .all(|ch| ch.is_ascii_alphanumeric() || "-_./=:,@+%".contains(ch))
            {
                a.clone()
            } else {
                format!("'{}'", a.replace('\'', r"'\''"))
            }
        })
        .collect::<Vec<_>>()
        .join(" ")
}

impl Tools {
    /// Carries out a call other than `run_command` (which streams: `Tools::run_command`):
    /// the text for the model.
    pub fn run_now(&mut self, call: &Call) -> Result<String, ToolError> {
        match call {
            Call::ReadFile {
                path,
                offset,
                limit,
            } => self.read_file(path, *offset, *limit),
            Call::ListDir { path } => self.list_dir(path),
            Call::Glob { pattern } => self.glob(pattern),
            Call::Grep(g) => self.grep(g),
            Call::EditFile {
                path,
                old,
                new,
                replace_all,
            } => self.edit_file(path, old, new, *replace_all).map(|w| {
                format!(
                    "edited {} ({})\n{}",
                    w.path,
                    crate::session::count(w.replacements, "replacement", "replacements"),
                    w.diff
                )
            }),
            Call::WriteFile {
                path,
                content,
                overwrite,
            } => self.write_file(path, content, *overwrite).map(|w| {
                if w.created {
                    let n = crate::session::count(content.lines().count(), "line", "lines");
                    format!("created {} ({n})", w.path)
                } else {
                    format!("replaced {}\n{}", w.path, w.diff)
                }
            }),
            Call::RunCommand(_) => Err(ToolError::new(
                "run_command streams: use Tools::run_command",
            )),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::tools::Workspace;

    #[test]
    fn specs_are_valid_and_in_a_fixed_order() {
        let names: Vec<String> = specs().into_iter().map(|s| s.name).collect();
        assert_eq!(
            names,
            [
                "read_file",
                "list_dir",
                "glob",
                "grep",
                "edit_file",
                "write_file",
                "run_command"
            ]
        );
        for s in specs() {
            assert_eq!(s.parameters["type"], "object", "{}", s.name);
            // Every required field is a property.
            if let Some(req) = s.parameters["required"].as_array() {
                for r in req {
                    assert!(s.parameters["properties"][r.as_str().unwrap()].is_object());
                }
            }
        }
        assert_eq!(
            serde_json::to_string(&specs()).unwrap(),
            serde_json::to_string(&specs()).unwrap()
        );
    }

    #[test]
    fn bad_arguments_say_what_is_expected() {
        let e = |name: &str, args: &str| Call::parse(name, args).unwrap_err().message;
        assert_eq!(e("read_file", "{}"), "read_file: `path` is missing");
        assert!(e("read_file", r#"{"path": 3}"#).contains("must be a string"));
        assert!(e("read_file", r#"{"path": "a", "lines": 3}"#).contains("unknown argument `lines`"));
        assert!(e("read_file", "{not json").contains("not valid JSON"));
        assert!(e("run_command", "{}").contains("give `argv`"));
        assert!(e("run_command", r#"{"argv": ["ls"], "command": "ls"}"#).contains("not both"));
        assert!(e("nope", "{}").contains("the tools are read_file"));
        let c = Call::parse(
            "run_command",
            r#"{"argv": ["git", "commit", "-m", "a b"], "timeout_secs": 9999}"#,
        )
        .unwrap();
        let a = c.approval();
        assert_eq!(a.kind, Kind::Command);
        assert_eq!(a.target, "git commit -m 'a b'");
        match c {
            Call::RunCommand(s) => assert_eq!(s.timeout, MAX_TIMEOUT),
            _ => unreachable!(),
        }
    }

    /// The loop and the tools together: a read runs, an edit asks, bad arguments are
    /// answered with the reason.
    #[test]
    fn the_agent_loop_classifies_calls_through_the_tools() {
        use crate::api::types::FunctionCall;
        use crate::session::agent::{AgentLoop, Command, Event, Limits};
        use crate::session::approval::{Mode, Policy};
        use crate::session::{Conversation, Turn, TurnState};
        let call = |id: &str, name: &str, args: &str| crate::api::ToolCall {
            id: id.into(),
            kind: "function".into(),
            function: FunctionCall {
                name: name.into(),
                arguments: args.into(),
            },
        };
        let mut conv = Conversation::new(None);
        conv.push_user("q");
        let mut t = Turn::new("m");
        t.tool_calls = vec![
            call("1", "read_file", r#"{"path":"a.txt"}"#),
            call(
                "2",
                "edit_file",
                r#"{"path":"a.txt","old_string":"a","new_string":"b"}"#,
            ),
            call("3", "read_file", r#"{"file":"a.txt"}"#),
        ];
        t.state = TurnState::Done;
        conv.push_turn(&t);
        let mut a = AgentLoop::new(Policy::new(Mode::Ask), Limits::default(), classify);
        let cmds = a.on(
            Event::RoundEnded {
                turn: Box::new(t),
                spent: 0,
            },
            &mut conv,
        );
        assert!(matches!(&cmds[0], Command::RunTool { call_id, .. } if call_id == "1"));
        assert!(matches!(&cmds[1], Command::AskApproval { call, .. } if call.target == "a.txt"));
        assert_eq!(cmds.len(), 2);
    }

    #[test]
    fn calls_run_against_the_workspace() {
        let d = tempfile::tempdir().unwrap();
        std::fs::write(d.path().join("a.txt"), "one\ntwo\n").unwrap();
        let mut t = Tools::new(Workspace::new(d.path()).unwrap());
        let run =
            |t: &mut Tools, name: &str, args: &str| t.run_now(&Call::parse(name, args).unwrap());
        assert_eq!(run(&mut t, "list_dir", "").unwrap(), "a.txt (8 bytes)\n");
        assert!(run(
            &mut t,
            "edit_file",
            r#"{"path":"a.txt","old_string":"two","new_string":"2"}"#
        )
        .unwrap_err()
        .message
        .contains("read_file a.txt first"));
        assert_eq!(
            run(&mut t, "read_file", r#"{"path":"a.txt"}"#).unwrap(),
            "1\tone\n2\ttwo\n"
        );
        let out = run(
            &mut t,
            "edit_file",
            r#"{"path":"a.txt","old_string":"two","new_string":"2"}"#,
        )
        .unwrap();
        assert!(
            out.starts_with("edited a.txt (1 replacement)\n--- a/a.txt"),
            "{out}"
        );
        assert_eq!(
            run(&mut t, "grep", r#"{"pattern":"^2$"}"#).unwrap(),
            "a.txt:2:2\n"
        );
        assert_eq!(
            run(
                &mut t,
                "write_file",
                r#"{"path":"b/c.txt","content":"x\n"}"#
            )
            .unwrap(),
            "created b/c.txt (1 line)"
        );
    }
}
