//! Replays the cargo-fuzz corpora of the loaders (`fuzz/corpus/{csv,idx,npy,cifar}/`) through
//! the same drivers the fuzz targets run (`fuzz/drivers/data.rs`): every file must give Ok or
//! Err without panicking. This is how CI checks the fuzzers' findings on stable, without
//! nightly.

#[path = "../../../fuzz/drivers/data.rs"]
mod data;

#[path = "../../../fuzz/drivers/replay.rs"]
mod replay;

#[test]
fn csv_corpus() {
    replay::corpus("csv", data::csv);
}

#[test]
fn idx_corpus() {
    replay::corpus("idx", data::idx);
}

#[test]
fn npy_corpus() {
    replay::corpus("npy", data::npy);
}

#[test]
fn cifar_corpus() {
    replay::corpus("cifar", data::cifar);
}
