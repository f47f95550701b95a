#![no_main]

#[path = "../drivers/data.rs"]
mod data;

libfuzzer_sys::fuzz_target!(|bytes: &[u8]| data::csv(bytes));
