//! Replays the cargo-fuzz corpora of the text parsers (`fuzz/corpus/{spec,config}/`) through
//! the drivers the fuzz targets run (`fuzz/drivers/lab.rs`): specs built as optimizers,
//! transforms and models, and paper configs resolved from TOML and `--set` lines, must give Ok
//! or Err without panicking.

#[path = "../../../fuzz/drivers/lab.rs"]
mod lab;

#[path = "../../../fuzz/drivers/replay.rs"]
mod replay;

#[test]
fn spec_corpus() {
    replay::corpus("spec", lab::spec);
}

#[test]
fn config_corpus() {
    replay::corpus("config", lab::config);
}
