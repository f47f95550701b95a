#![no_main]

// each target uses one driver of the module
#[allow(dead_code)]
#[path = "../drivers/files.rs"]
mod files;

libfuzzer_sys::fuzz_target!(|bytes: &[u8]| files::checkpoint(bytes));
