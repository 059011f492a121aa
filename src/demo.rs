//! The bundled demo: recorded sessions (made by `cargo run --example make_demo` through the
//! real engine and recorder) compiled into the binary, so it plays anywhere, offline.

use std::path::Path;

use crate::session::store::{self, Session};

const FILES: &[(&str, &str)] = &[
    (
        "demo/rust-config.jsonl",
        include_str!("../assets/demo/rust-config.jsonl"),
    ),
    (
        "demo/python-async.jsonl",
        include_str!("../assets/demo/python-async.jsonl"),
    ),
    (
        "demo/sql-index.jsonl",
        include_str!("../assets/demo/sql-index.jsonl"),
    ),
    (
        "demo/compare-dedupe.jsonl",
        include_str!("../assets/demo/compare-dedupe.jsonl"),
    ),
];

/// The demo sessions, in order.
pub fn sessions() -> Vec<Session> {
    FILES
        .iter()
        .filter_map(|(name, text)| store::parse(text.as_bytes(), Path::new(name)).ok())
        .collect()
}

#[cfg(test)]
mod tests {
    #[test]
    fn every_demo_loads_and_the_last_is_a_comparison() {
        let all = super::sessions();
        assert_eq!(all.len(), super::FILES.len(), "every bundled file parses");
        assert!(all.iter().all(|s| s.skipped == 0 && !s.turns.is_empty()));
        let cmp = all.last().unwrap();
        assert_eq!(cmp.turn_count(), 1);
        assert!(cmp
            .turns
            .iter()
            .all(|t| t.compare.as_ref().is_some_and(|c| c.of == 3)));
        let models: Vec<&str> = cmp.turns.iter().map(|t| t.model.as_str()).collect();
        assert_eq!(
            models,
            ["grok-code-fast-1", "grok-3-mini", "grok-4-fast-reasoning"]
        );
    }
}
