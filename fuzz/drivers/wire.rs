//! Fuzz driver for `Wire` decoding (descent-dist): arbitrary bytes decoded as every message type
//! must give Ok or Err without panicking, and a message that decodes encodes back to exactly the
//! same bytes, `wire_bytes()` long. Shared by the cargo-fuzz target (`fuzz/fuzz_targets/`) and
//! the stable corpus replay (`crates/descent-dist/tests/fuzz_corpus.rs`).

use descent_dist::{ClientUpdate, PushMsg, RoundMsg, Wire};

fn round_trip<T: Wire>(bytes: &[u8]) {
    if let Ok(m) = T::decode(bytes) {
        let mut out = Vec::new();
        m.encode(&mut out);
        assert_eq!(out, bytes, "decode then encode changed the bytes");
        assert_eq!(m.wire_bytes(), bytes.len() as u64);
    }
}

/// Decodes `bytes` as each message type.
pub fn wire(bytes: &[u8]) {
    round_trip::<Vec<f64>>(bytes);
    round_trip::<f64>(bytes);
    round_trip::<()>(bytes);
    round_trip::<RoundMsg<'static>>(bytes);
    round_trip::<ClientUpdate>(bytes);
    round_trip::<PushMsg>(bytes);
}
