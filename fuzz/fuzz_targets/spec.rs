#![no_main]

// each target uses one driver of the module
#[allow(dead_code)]
#[path = "../drivers/lab.rs"]
mod lab;

libfuzzer_sys::fuzz_target!(|bytes: &[u8]| lab::spec(bytes));
