//! grokpair: a terminal pair-programming client for xAI Grok and OpenAI-compatible servers.
//!
//! Data flows one way: `api` (protocol) → `session` (accounting) → front ends (`cli`).

pub mod agent;
pub mod api;
pub mod app;
pub mod cli;
pub mod config;
pub mod demo;
pub mod engine;
pub mod export;
pub mod runner;
pub mod sanitize;
pub mod session;
#[cfg(any(test, feature = "testing"))]
pub mod testing;
pub mod theme;
pub mod tools;
pub mod tui;
pub mod ui;
