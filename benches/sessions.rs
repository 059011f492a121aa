//! Session files at scale: 300 files of 300 turns each, listed (`grokpair sessions`, the
//! `/sessions` picker) from their summary records versus parsed whole, and a version 1 file
//! loaded and continued. `cargo bench --bench sessions`. No network.

use grokpair::api::{StreamEvent, TimedEvent, Usage};
use grokpair::session::store::{self, Recorder, Settings};
use grokpair::session::{Conversation, Turn};
use std::time::{Duration, Instant};

const FILES: usize = 300;
const TURNS: usize = 300;

/// One session of `TURNS` turns, each a question and a ~1 KB answer in 40 deltas.
fn write_session(dir: &std::path::Path) -> std::path::PathBuf {
    let mut rec = Recorder::new(dir, true);
    let mut conv = Conversation::new(None);
    let settings = Settings::default();
    for k in 0..TURNS {
        conv.push_user(format!(
            "question {k}: how does this part of the code work?"
        ));
        rec.begin(k, &conv, "xai", "grok-4.3", &settings);
        let mut t = Turn::new("grok-4.3");
        let mut evs: Vec<StreamEvent> = (0..40)
            .map(|i| StreamEvent::Content(format!("word{i} of answer {k}, ")))
            .collect();
        evs.push(StreamEvent::Usage(Usage {
            prompt_tokens: 100 + k as u64 * 60,
            completion_tokens: 60,
            ..Usage::default()
        }));
        evs.push(StreamEvent::Finished {
            reason: Some("stop".into()),
        });
        for (i, e) in evs.into_iter().enumerate() {
            let ev = TimedEvent {
                at: Duration::from_millis(200 + i as u64 * 10),
                event: e,
            };
            t.apply(&ev);
            rec.event(k, &ev);
        }
        conv.push_turn(&t);
        rec.end(k, &t, None, &conv);
    }
    rec.path().unwrap().to_path_buf()
}

fn main() {
    let dir = tempfile::tempdir().unwrap();
    let t = Instant::now();
    let one = write_session(dir.path());
    for i in 1..FILES {
        std::fs::copy(&one, dir.path().join(format!("copy-{i:03}.jsonl"))).unwrap();
    }
    let size = std::fs::metadata(&one).unwrap().len();
    println!(
        "wrote {FILES} files of {TURNS} turns ({:.1} MB each) in {:.1} s",
        size as f64 / 1e6,
        t.elapsed().as_secs_f64()
    );
    for round in 0..3 {
        let t = Instant::now();
        let listed: Vec<_> = store::list(dir.path())
            .iter()
            .map(|p| store::listing(p).unwrap())
            .collect();
        let fast = t.elapsed();
        assert!(listed.iter().all(|l| l.summary.turns == TURNS));
        let t = Instant::now();
        let parsed: usize = store::list(dir.path())
            .iter()
            .map(|p| store::load(p).unwrap().summary().turns)
            .sum();
        let slow = t.elapsed();
        assert_eq!(parsed, FILES * TURNS);
        println!(
            "round {round}: listing {FILES} files from their summary records: {:.1} ms · parsing them whole: {:.0} ms",
            fast.as_secs_f64() * 1e3,
            slow.as_secs_f64() * 1e3
        );
    }
    // The same file as version 1 wrote it: no summary records, no exchange numbers.
    let text = std::fs::read_to_string(&one).unwrap();
    let v1: String = text
        .lines()
        .filter(|l| !l.starts_with("{\"type\":\"summary\""))
        .map(|l| {
            let l = l.replace("\"version\":2", "\"version\":1");
            match l.find(",\"exchange\":") {
                Some(i) => {
                    let end = l[i + 1..].find([',', '}']).map(|j| i + 1 + j).unwrap();
                    format!("{}{}", &l[..i], &l[end..])
                }
                None => l,
            }
        })
        .map(|l| l + "\n")
        .collect();
    let v1_dir = tempfile::tempdir().unwrap();
    let v1_path = v1_dir.path().join("v1.jsonl");
    std::fs::write(&v1_path, &v1).unwrap();
    let t = Instant::now();
    let s = store::load(&v1_path).unwrap();
    let load = t.elapsed();
    assert_eq!(s.turn_count(), TURNS);
    assert_eq!(s.header.version, 1);
    let t = Instant::now();
    let l = store::listing(&v1_path).unwrap();
    let list_v1 = t.elapsed();
    assert_eq!(l.summary.turns, TURNS);
    // Continued: the next turn appends, and the file then lists from its summary.
    let mut rec = Recorder::continue_session(&s, true);
    let mut conv = s.conversation();
    conv.push_user("one more");
    rec.begin(TURNS, &conv, "xai", "grok-4.3", &Settings::default());
    let mut turn = Turn::new("grok-4.3");
    turn.apply(&TimedEvent {
        at: Duration::from_millis(5),
        event: StreamEvent::Finished {
            reason: Some("stop".into()),
        },
    });
    rec.end(TURNS, &turn, None, &conv);
    drop(rec);
    let after = store::listing(&v1_path).unwrap();
    assert_eq!(after.summary.turns, TURNS + 1);
    println!(
        "version 1 file ({:.1} MB): loaded in {:.0} ms, listed (whole parse) in {:.0} ms; continued: {} turns",
        v1.len() as f64 / 1e6,
        load.as_secs_f64() * 1e3,
        list_v1.as_secs_f64() * 1e3,
        after.summary.turns
    );
}
