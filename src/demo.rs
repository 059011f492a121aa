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
];

/// The demo sessions, in order.
pub fn sessions() -> Vec<Session> {
    FILES
        .iter()
        .filter_map(|(name, text)| store::parse(text.as_bytes(), Path::new(name)).ok())
        .collect()
}
