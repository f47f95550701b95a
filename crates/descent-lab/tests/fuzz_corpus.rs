//! Replays the cargo-fuzz corpora of the text parsers (`fuzz/corpus/{spec,config}/`) and of
//! the files descent reads back (`fuzz/corpus/{safetensors,checkpoint}/`) through the drivers
//! the fuzz targets run (`fuzz/drivers/lab.rs`, `fuzz/drivers/files.rs`): specs built as
//! optimizers, transforms and models, paper configs resolved from TOML and `--set` lines,
//! weights files and checkpoints must give Ok or Err without panicking.

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

#[path = "../../../fuzz/drivers/files.rs"]
mod files;

#[test]
fn safetensors_corpus() {
    replay::corpus("safetensors", files::safetensors);
}

#[test]
fn checkpoint_corpus() {
    replay::corpus("checkpoint", files::checkpoint);
}
