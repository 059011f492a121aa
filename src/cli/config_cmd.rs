//! `grokpair config init|show|path`.

use std::path::Path;

use super::{ConfigCommand, Failure, EXIT_OK};
use crate::config::{resolve_path, Config, ConfigError, DEFAULT_CONFIG};

pub fn run(flag: Option<&Path>, cmd: ConfigCommand) -> Result<i32, Failure> {
    let no_path = || Failure::Usage("no config location: pass --config PATH".into());
    match cmd {
        ConfigCommand::Path => {
            let (path, _) = resolve_path(flag).ok_or_else(no_path)?;
            // The path alone on stdout (for scripts); a missing file said on stderr, on a line
            // of its own, after it.
            {
                use std::io::Write;
                let mut out = std::io::stdout();
                let _ = writeln!(out, "{}", path.display());
                let _ = out.flush();
            }
            if !path.exists() {
                eprintln!("grokpair: note: no file there yet: the built-in defaults apply (`grokpair config init` writes one)");
            }
            Ok(EXIT_OK)
        }
        ConfigCommand::Show => {
            let cfg = Config::load(flag)?;
            print!("{}", cfg.show());
            Ok(EXIT_OK)
        }
        ConfigCommand::Init { force } => {
            let (path, _) = resolve_path(flag).ok_or_else(no_path)?;
            let io_err = |e: std::io::Error| {
                Failure::Config(ConfigError {
                    path: Some(path.clone()),
                    line: None,
                    key: None,
                    message: e.to_string(),
                })
            };
            if path.exists() && !force {
                return Err(Failure::Usage(format!(
                    "{} already exists; pass --force to overwrite it",
                    path.display()
                )));
            }
            if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
                std::fs::create_dir_all(dir).map_err(io_err)?;
            }
            std::fs::write(&path, DEFAULT_CONFIG).map_err(io_err)?;
            #[cfg(unix)]
            {
                // The file may come to hold keys.
                use std::os::unix::fs::PermissionsExt;
                let _ = std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o600));
            }
            println!("wrote {}", path.display());
            Ok(EXIT_OK)
        }
    }
}
