#![no_main]

// each target uses one driver of the module
#[allow(dead_code)]
#[path = "../drivers/data.rs"]
mod data;

libfuzzer_sys::fuzz_target!(|bytes: &[u8]| data::cifar(bytes));
