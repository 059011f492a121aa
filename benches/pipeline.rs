//! The whole UI pipeline at maximum rate: stream events → app update (markdown segmentation,
//! incremental highlighting, accounting) → layout → render into a headless backend.
//!
//! `cargo bench --bench pipeline` prints: time to first frame, throughput with real frame
//! coalescing (≤ 60 frames/s), per-token cost at 5k / 20k / 80k tokens with a frame every 64
//! tokens, CPU time per 1k tokens, and peak RSS; then the same per-token cost for a comparison
//! of three columns streaming at once. No network: events are fed directly, exactly as the
//! runtime's channel delivers them.

use grokpair::api::{StreamEvent, TimedEvent};
use grokpair::app::App;
use grokpair::testing::token_pieces;
use grokpair::ui::view::View;
use ratatui::backend::TestBackend;
use std::time::{Duration, Instant};

fn app() -> App {
    App::new(grokpair::testing::app_init(true))
}

/// CPU time of this thread, in nanoseconds (CLOCK_THREAD_CPUTIME_ID: exact, unlike the
/// tick-granular figures in /proc).
fn cpu_ns() -> u64 {
    let mut ts = libc::timespec {
        tv_sec: 0,
        tv_nsec: 0,
    };
    // SAFETY: `ts` is a valid, writable timespec.
    let rc = unsafe { libc::clock_gettime(libc::CLOCK_THREAD_CPUTIME_ID, &mut ts) };
    assert_eq!(rc, 0, "clock_gettime");
    ts.tv_sec as u64 * 1_000_000_000 + ts.tv_nsec as u64
}

fn peak_rss_kib() -> u64 {
    rss_kib("VmHWM:")
}

/// `n` token-sized pieces of realistic markdown with code blocks in several languages.
fn pieces(n: usize) -> Vec<String> {
    let unit = include_str!("../tests/data/answer.md");
    let mut out = Vec::with_capacity(n);
    let mut i = 0;
    while out.len() < n {
        out.push(format!("\n\n### Part {i}\n\n"));
        out.extend(token_pieces(unit));
        i += 1;
    }
    out.truncate(n);
    out
}

fn start(app: &mut App) -> usize {
    let fx = app.send("benchmark".into());
    match fx.as_slice() {
        [grokpair::app::Effect::Start { turn }] => *turn,
        _ => unreachable!(),
    }
}

/// The pieces of `pieces(n)`, generated one at a time (so the harness holds none of them).
fn piece_stream(n: usize) -> impl Iterator<Item = String> {
    let unit = include_str!("../tests/data/answer.md");
    (0..)
        .flat_map(move |i| {
            std::iter::once(format!("\n\n### Part {i}\n\n")).chain(token_pieces(unit))
        })
        .take(n)
}

/// Counts live heap bytes, to tell the app's memory from allocator overhead.
struct Counting;
static LIVE: std::sync::atomic::AtomicUsize = std::sync::atomic::AtomicUsize::new(0);
unsafe impl std::alloc::GlobalAlloc for Counting {
    unsafe fn alloc(&self, l: std::alloc::Layout) -> *mut u8 {
        LIVE.fetch_add(l.size(), std::sync::atomic::Ordering::Relaxed);
        std::alloc::System.alloc(l)
    }
    unsafe fn dealloc(&self, p: *mut u8, l: std::alloc::Layout) {
        LIVE.fetch_sub(l.size(), std::sync::atomic::Ordering::Relaxed);
        std::alloc::System.dealloc(p, l)
    }
}
#[global_allocator]
static GLOBAL: Counting = Counting;

fn rss_kib(key: &str) -> u64 {
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|s| {
            s.lines()
                .find(|l| l.starts_with(key))
                .and_then(|l| l.split_whitespace().nth(1).and_then(|v| v.parse().ok()))
        })
        .unwrap_or(0)
}

/// Child mode: one 80k-token answer streamed and on screen, nothing else; prints peak RSS.
fn rss_child(w: u16, h: u16) {
    let mut a = app();
    let mut v = View::new();
    let mut term = grokpair::tui::Screen::new(TestBackend::new(w, h)).unwrap();
    let turn = start(&mut a);
    for (i, p) in piece_stream(80_000).enumerate() {
        a.on_stream(
            turn,
            TimedEvent {
                at: Duration::from_micros(i as u64 * 10),
                event: StreamEvent::Content(p),
            },
        );
        if i % 1_000 == 0 {
            grokpair::tui::frame(&mut term, &mut a, &mut v).unwrap();
            if std::env::var_os("BENCH_DEBUG").is_some() && i % 10_000 == 0 {
                eprintln!(
                    "token {i}: rss {} KiB, live heap {} KiB",
                    rss_kib("VmRSS:"),
                    LIVE.load(std::sync::atomic::Ordering::Relaxed) / 1024
                );
            }
        }
    }
    grokpair::tui::frame(&mut term, &mut a, &mut v).unwrap();
    println!("{}", peak_rss_kib());
}

/// Per-token CPU of a three-column comparison at 200x50 (a frame every 64 tokens, round-robin
/// across the columns), in the 3,000-token windows ending at `marks` tokens per column;
/// interleaved and the median of three rounds, like the single-answer figures.
fn compare_costs(ps: &[String], marks: [usize; 2]) -> Vec<(usize, f64)> {
    use grokpair::session::compare::Target;
    let mut term = grokpair::tui::Screen::new(TestBackend::new(200, 50)).unwrap();
    let window = 3_000;
    let feed = |a: &mut App, from: usize, to: usize| {
        for i in from..to {
            for col in 0..3 {
                a.on_compare_event(
                    0,
                    col,
                    TimedEvent {
                        at: Duration::from_micros(i as u64 * 10),
                        event: StreamEvent::Content(ps[(i + col * 7) % ps.len()].clone()),
                    },
                );
            }
        }
    };
    let mut rounds: Vec<Vec<f64>> = Vec::new();
    for _ in 0..3 {
        let mut apps: Vec<(App, View)> = marks
            .iter()
            .map(|m| {
                let mut a = app();
                let mut v = View::new();
                let targets: Vec<Target> = ["grok-code-fast-1", "grok-3-mini", "grok-4-fast"]
                    .iter()
                    .map(|m| Target {
                        provider: "xai".into(),
                        model: Some(m.to_string()),
                        settings: String::new(),
                    })
                    .collect();
                a.start_compare("benchmark".into(), targets);
                for col in 0..3 {
                    a.compare_sent(0, col, Duration::ZERO);
                }
                for from in (0..m - window).step_by(64) {
                    feed(&mut a, from, (from + 64).min(m - window));
                    grokpair::tui::frame(&mut term, &mut a, &mut v).unwrap();
                }
                (a, v)
            })
            .collect();
        let mut spent = [0u64; 2];
        for slice in 0..window / 64 {
            for (k, (a, v)) in apps.iter_mut().enumerate() {
                let from = marks[k] - window + slice * 64;
                let c0 = cpu_ns();
                feed(a, from, from + 64);
                grokpair::tui::frame(&mut term, a, v).unwrap();
                spent[k] += cpu_ns() - c0;
            }
        }
        // Per token of the comparison: three columns' tokens each slice.
        rounds.push(
            spent
                .iter()
                .map(|ns| *ns as f64 / 1e3 / (window / 64 * 64 * 3) as f64)
                .collect(),
        );
    }
    medians(&marks, &rounds)
}

/// Each mark's median over the rounds (`rounds[r][k]` is mark `k` in round `r`).
/// CPU per frame of an idle screen (nothing streaming) over a transcript of `turns` finished
/// turns, each a short answer with its figures line: the median of 60 frames at 160x48.
fn idle_frame_us(turns: usize) -> f64 {
    let mut a = app();
    let mut v = View::new();
    let sse = grokpair::testing::synth_sse(
        "grok-code-fast-1",
        "A short thought.\n",
        "A short answer with `code` and **bold** text.\n",
        grokpair::testing::SynthUsage {
            prompt: 100,
            cached: 64,
            completion: 12,
            reasoning: 4,
            ticks: Some(99_000),
        },
    );
    let events = grokpair::testing::timed_events(&sse, 100, 5);
    for _ in 0..turns {
        let t = start(&mut a);
        for e in &events {
            a.on_stream(t, e.clone());
        }
    }
    let mut term = grokpair::tui::Screen::new(TestBackend::new(160, 48)).unwrap();
    let mut samples = Vec::new();
    for _ in 0..60 {
        let c0 = cpu_ns();
        grokpair::tui::frame(&mut term, &mut a, &mut v).unwrap();
        samples.push((cpu_ns() - c0) as f64 / 1e3);
    }
    samples.sort_by(|x, y| x.total_cmp(y));
    samples[samples.len() / 2]
}

fn medians(marks: &[usize], rounds: &[Vec<f64>]) -> Vec<(usize, f64)> {
    marks
        .iter()
        .enumerate()
        .map(|(k, m)| {
            let mut v: Vec<f64> = rounds.iter().map(|r| r[k]).collect();
            v.sort_by(|a, b| a.total_cmp(b));
            (*m, v[v.len() / 2])
        })
        .collect()
}

fn main() {
    let (w, h) = (160u16, 48u16);
    if std::env::args().any(|a| a == "--rss-floor") {
        let _ = grokpair::ui::highlight::syntaxes();
        let _ = grokpair::ui::highlight::themes();
        let mut a = app();
        let mut v = View::new();
        let mut term = grokpair::tui::Screen::new(TestBackend::new(w, h)).unwrap();
        grokpair::tui::frame(&mut term, &mut a, &mut v).unwrap();
        println!("{}", peak_rss_kib());
        return;
    }
    if std::env::args().any(|a| a == "--rss-child") {
        rss_child(w, h);
        return;
    }

    // Time to first frame: app state, theme, catalog, layout, one full render.
    let t0 = Instant::now();
    let mut a = app();
    let mut v = View::new();
    let mut term = grokpair::tui::Screen::new(TestBackend::new(w, h)).unwrap();
    grokpair::tui::frame(&mut term, &mut a, &mut v).unwrap();
    let first_frame = t0.elapsed();
    // First code block pays for loading syntect's syntaxes (done off-thread after the first
    // frame in the real runtime).
    let t1 = Instant::now();
    let _ = grokpair::ui::highlight::syntaxes();
    let syntaxes = t1.elapsed();

    // Throughput with real coalescing: draw when ≥16 ms passed since the last frame.
    let n = 80_000;
    let ps = pieces(n);
    let mut a = app();
    let mut v = View::new();
    let turn = start(&mut a);
    let mut frames = 0u32;
    let t = Instant::now();
    let cpu0 = cpu_ns();
    let mut last = Instant::now() - Duration::from_millis(16);
    for (i, p) in ps.iter().enumerate() {
        a.on_stream(
            turn,
            TimedEvent {
                at: Duration::from_micros(i as u64 * 10),
                event: StreamEvent::Content(p.clone()),
            },
        );
        if last.elapsed() >= Duration::from_millis(16) {
            let ft = Instant::now();
            grokpair::tui::frame(&mut term, &mut a, &mut v).unwrap();
            if std::env::var_os("BENCH_DEBUG").is_some() {
                eprintln!("frame at token {i}: {:?}", ft.elapsed());
            }
            frames += 1;
            last = Instant::now();
        }
    }
    grokpair::tui::frame(&mut term, &mut a, &mut v).unwrap();
    frames += 1;
    let dt = t.elapsed();
    let cpu = cpu_ns() - cpu0;
    let tps = n as f64 / dt.as_secs_f64();

    // Per-token cost as the answer grows: a frame every 64 tokens, measured in thread CPU time
    // over the 4,000 tokens that end at 5k, 20k and 80k. The three windows run interleaved, 64
    // tokens at a time, so a slow spell of this shared machine hits all three alike; the
    // median of three rounds.
    let marks = [5_000usize, 20_000, 80_000];
    let window = 4_000;
    let mut rounds: Vec<Vec<f64>> = Vec::new();
    for _ in 0..3 {
        let mut apps: Vec<(App, usize, View)> = marks
            .iter()
            .map(|m| {
                let mut a = app();
                let mut v = View::new();
                let turn = start(&mut a);
                for (i, p) in ps.iter().enumerate().take(m - window) {
                    a.on_stream(
                        turn,
                        TimedEvent {
                            at: Duration::from_micros(i as u64 * 10),
                            event: StreamEvent::Content(p.clone()),
                        },
                    );
                    if i % 64 == 0 {
                        grokpair::tui::frame(&mut term, &mut a, &mut v).unwrap();
                    }
                }
                (a, turn, v)
            })
            .collect();
        let mut spent = [0u64; 3];
        for slice in 0..window / 64 {
            for (k, (a, turn, v)) in apps.iter_mut().enumerate() {
                let from = marks[k] - window + slice * 64;
                let c0 = cpu_ns();
                for (i, p) in ps.iter().enumerate().skip(from).take(64) {
                    a.on_stream(
                        *turn,
                        TimedEvent {
                            at: Duration::from_micros(i as u64 * 10),
                            event: StreamEvent::Content(p.clone()),
                        },
                    );
                }
                grokpair::tui::frame(&mut term, a, v).unwrap();
                spent[k] += cpu_ns() - c0;
            }
        }
        rounds.push(
            spent
                .iter()
                .map(|ns| *ns as f64 / 1e3 / (window / 64 * 64) as f64)
                .collect(),
        );
    }
    let costs = medians(&marks, &rounds);
    let exe = std::env::current_exe().unwrap();
    let out = std::process::Command::new(exe)
        .arg("--rss-child")
        .output()
        .unwrap();
    let rss: u64 = String::from_utf8_lossy(&out.stdout)
        .trim()
        .parse()
        .unwrap_or(0);
    let out = std::process::Command::new(std::env::current_exe().unwrap())
        .arg("--rss-floor")
        .output()
        .unwrap();
    let floor: u64 = String::from_utf8_lossy(&out.stdout)
        .trim()
        .parse()
        .unwrap_or(0);

    println!(
        "grokpair UI pipeline benchmark ({w}x{h}, markdown with rust/python code, theme dark)"
    );
    println!(
        "  first frame (app + layout + render):     {:>8.2} ms",
        first_frame.as_secs_f64() * 1e3
    );
    println!(
        "  syntect syntaxes, loaded lazily:         {:>8.2} ms (off the UI thread at start-up)",
        syntaxes.as_secs_f64() * 1e3
    );
    println!(
        "  throughput, 80k tokens, ≤60 fps:         {:>8.0} tokens/s ({frames} frames in {:.2} s)",
        tps,
        dt.as_secs_f64()
    );
    println!(
        "  CPU per 1k tokens (same run):            {:>8.2} ms",
        cpu as f64 / 1e6 / (n as f64 / 1000.0)
    );
    for (at, us) in &costs {
        println!(
            "  per-token CPU at {:>6} tokens:           {:>8.2} µs (frame every 64 tokens, interleaved, median of 3)",
            at, us
        );
    }
    if let (Some(first), Some(last)) = (costs.first(), costs.last()) {
        println!(
            "  cost ratio 80k / 5k:                     {:>8.2}x",
            last.1 / first.1
        );
    }
    println!(
        "  peak RSS, 80k-token answer on screen:    {:>8.1} MB (separate process)",
        rss as f64 / 1024.0
    );
    println!(
        "  peak RSS, empty app with syntect loaded: {:>8.1} MB (separate process)",
        floor as f64 / 1024.0
    );
    let (idle10, idle400) = (idle_frame_us(10), idle_frame_us(400));
    println!(
        "  idle frame, 10 / 400 finished turns:    {:>8.1} / {:.1} µs ({:.2}x)",
        idle10,
        idle400,
        idle400 / idle10
    );
    let cmp = compare_costs(&ps, [4_000, 30_000]);
    for (at, us) in &cmp {
        println!(
            "  comparison, 3 columns at {:>6} tokens each: {:>6.2} µs per token (200x50)",
            at, us
        );
    }
    println!(
        "  comparison cost ratio 30k / 4k:           {:>6.2}x",
        cmp[1].1 / cmp[0].1
    );
}
