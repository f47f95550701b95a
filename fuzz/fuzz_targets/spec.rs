#![no_main]

#[path = "../drivers/lab.rs"]
mod lab;

libfuzzer_sys::fuzz_target!(|bytes: &[u8]| lab::spec(bytes));
