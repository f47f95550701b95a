#![no_main]

#[path = "../drivers/wire.rs"]
mod wire;

libfuzzer_sys::fuzz_target!(|bytes: &[u8]| wire::wire(bytes));
