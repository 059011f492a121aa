//! The provider's own model listing (prices, context windows), cached on disk with its date:
//! read at start, refreshed when older than a day, used as it is when offline.

use serde::{Deserialize, Serialize};
use std::path::{Path, PathBuf};
use std::time::{SystemTime, UNIX_EPOCH};

use super::catalog::LiveModel;

/// A listing older than this is fetched again (the old one stays in use until then).
pub const MAX_AGE_SECS: u64 = 24 * 60 * 60;

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct LiveCatalog {
    /// When it was fetched, seconds since the Unix epoch.
    pub fetched_at: u64,
    /// Where from: a listing of another base URL is not this provider's.
    pub base_url: String,
    pub models: Vec<LiveModel>,
}

/// What the cache holds for a provider.
#[derive(Debug, Clone, PartialEq)]
pub enum Cached {
    Fresh(LiveCatalog),
    /// Older than a day: use it, and fetch a new one.
    Stale(LiveCatalog),
    Missing,
    /// Unreadable: ignored, with this message, and fetched again.
    Broken(String),
}

pub fn now_secs() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_secs())
        .unwrap_or(0)
}

/// `<cache dir>/grokpair/models-<provider>.json` (Linux: `~/.cache/grokpair/`, or under
/// `$XDG_CACHE_HOME`).
pub fn cache_path(provider: &str) -> Option<PathBuf> {
    let safe: String = provider
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || c == '-' || c == '_' {
                c
            } else {
                '_'
            }
        })
        .collect();
    directories::ProjectDirs::from("", "", "grokpair")
        .map(|d| d.cache_dir().join(format!("models-{safe}.json")))
}

/// Reads the cache at `path` for `base_url` as of `now`.
pub fn load(path: &Path, base_url: &str, now: u64) -> Cached {
    let text = match std::fs::read_to_string(path) {
        Ok(t) => t,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Cached::Missing,
        Err(e) => return Cached::Broken(format!("{}: {e}", path.display())),
    };
    let live: LiveCatalog = match serde_json::from_str(&text) {
        Ok(l) => l,
        Err(e) => {
            return Cached::Broken(format!(
                "{}: not a model listing ({e}); ignored",
                path.display()
            ))
        }
    };
    if live.base_url != base_url {
        return Cached::Missing;
    }
    if now.saturating_sub(live.fetched_at) > MAX_AGE_SECS || live.fetched_at > now + 300 {
        Cached::Stale(live)
    } else {
        Cached::Fresh(live)
    }
}

/// Writes the cache (through a temporary file, so a crash never leaves half a listing).
pub fn save(path: &Path, live: &LiveCatalog) -> std::io::Result<()> {
    if let Some(dir) = path.parent() {
        std::fs::create_dir_all(dir)?;
    }
    let tmp = path.with_extension("json.tmp");
    std::fs::write(
        &tmp,
        serde_json::to_vec_pretty(live).map_err(std::io::Error::other)?,
    )?;
    std::fs::rename(&tmp, path)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn listing(at: u64) -> LiveCatalog {
        LiveCatalog {
            fetched_at: at,
            base_url: "https://api.x.ai/v1".into(),
            models: vec![LiveModel {
                id: "grok-4.3".into(),
                aliases: vec![],
                context_window: Some(1_000_000),
                prices: None,
                long_context: None,
                cached_unknown: false,
            }],
        }
    }

    #[test]
    fn fresh_stale_missing_broken() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("sub/models-xai.json");
        assert_eq!(load(&p, "https://api.x.ai/v1", 1000), Cached::Missing);
        save(&p, &listing(1000)).unwrap();
        assert_eq!(
            load(&p, "https://api.x.ai/v1", 1000 + 60),
            Cached::Fresh(listing(1000))
        );
        assert_eq!(
            load(&p, "https://api.x.ai/v1", 1000 + MAX_AGE_SECS + 1),
            Cached::Stale(listing(1000))
        );
        assert_eq!(load(&p, "http://other/v1", 1000), Cached::Missing);
        std::fs::write(&p, "{not json").unwrap();
        assert!(
            matches!(load(&p, "https://api.x.ai/v1", 1000), Cached::Broken(m) if m.contains("ignored"))
        );
    }
}
