//! Replays the cargo-fuzz corpus of `Wire` decoding (`fuzz/corpus/wire/`) through the driver the
//! fuzz target runs (`fuzz/drivers/wire.rs`): every file must decode to Ok or Err without
//! panicking, and what decodes must encode back to the same bytes.

#[path = "../../../fuzz/drivers/wire.rs"]
mod wire;

#[path = "../../../fuzz/drivers/replay.rs"]
mod replay;

#[test]
fn wire_corpus() {
    replay::corpus("wire", wire::wire);
}
