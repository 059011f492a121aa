//! The SSE parser and chunk decoder never panic, and chunking never changes what they produce.

mod common;

use grokpair::api::chunk::ChunkDecoder;
use grokpair::api::sse::{SseItem, SseParser};
use grokpair::api::StreamEvent;
use proptest::prelude::*;

fn decode_all(chunks: &[&[u8]]) -> Vec<StreamEvent> {
    let mut p = SseParser::new();
    let mut d = ChunkDecoder::new();
    let mut items = Vec::new();
    let mut events = Vec::new();
    for c in chunks {
        p.feed(c, &mut items);
    }
    p.finish(&mut items);
    for it in items {
        if let SseItem::Event { data, .. } = it {
            d.decode(&data, &mut events);
        }
    }
    events
}

/// Splits `body` at the given (sorted, deduplicated) cut points.
fn split<'a>(body: &'a [u8], cuts: &[usize]) -> Vec<&'a [u8]> {
    let mut out = Vec::new();
    let mut last = 0;
    for &c in cuts {
        let c = c.min(body.len());
        if c > last {
            out.push(&body[last..c]);
            last = c;
        }
    }
    out.push(&body[last..]);
    out
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(512))]

    #[test]
    fn arbitrary_bytes_never_panic(chunks in proptest::collection::vec(proptest::collection::vec(any::<u8>(), 0..64), 0..16)) {
        let refs: Vec<&[u8]> = chunks.iter().map(|c| c.as_slice()).collect();
        let _ = decode_all(&refs);
    }

    #[test]
    fn sse_shaped_noise_never_panics(lines in proptest::collection::vec(
        prop_oneof![
            Just("data: ".to_string()),
            Just("data: [DONE]".to_string()),
            Just(": keep-alive".to_string()),
            Just("".to_string()),
            Just("\r".to_string()),
            "data: \\{\"choices\":\\[\\{\"delta\":\\{\"content\":\"[a-zé]{0,4}\"\\}\\}\\]\\}",
            "data: \\{\"error\":[0-9a-z\"{}:]{0,12}\\}",
            "data: \\{\"choices\":\\[\\],\"usage\":\\{\"prompt_tokens\":[0-9]{1,3}\\}\\}",
            "[ -~]{0,20}",
        ], 0..40)) {
        let body = lines.join("\n");
        let _ = decode_all(&[body.as_bytes()]);
    }

    #[test]
    fn chunking_is_invisible(cuts in proptest::collection::vec(0usize..75_000, 0..40)) {
        let body = std::fs::read(common::fixtures_dir().join("xai-grok-3-mini-thinking-streaming-turn1/response.sse")).unwrap();
        let mut cuts = cuts;
        cuts.sort_unstable();
        cuts.dedup();
        let whole = decode_all(&[&body]);
        let pieces = split(&body, &cuts);
        prop_assert_eq!(decode_all(&pieces), whole);
    }
}

#[test]
fn every_streaming_fixture_decodes_identically_one_byte_at_a_time() {
    let dir = common::fixtures_dir();
    let mut n = 0;
    for entry in std::fs::read_dir(&dir).unwrap() {
        let path = entry.unwrap().path().join("response.sse");
        let Ok(body) = std::fs::read(&path) else {
            continue;
        };
        n += 1;
        let whole = decode_all(&[&body]);
        assert!(
            whole.iter().any(|e| matches!(e, StreamEvent::Usage(_))),
            "{}",
            path.display()
        );
        let bytes: Vec<&[u8]> = body.chunks(1).collect();
        assert_eq!(decode_all(&bytes), whole, "{}", path.display());
    }
    assert_eq!(n, 26);
}
