//! Differential fuzzing: the input bytes are the random kernel generator's
//! choices (`crates/tritonc/tests/common/gen.rs`); the kernel runs in the
//! reference interpreter, after each pass pipeline, on the host and on the
//! lane simulators, and every result must agree (see
//! `crates/tritonc/tests/differential.rs`). A disagreement panics, so
//! libFuzzer keeps the input.
#![no_main]

#[path = "../../crates/tritonc/tests/common/mod.rs"]
#[allow(dead_code)]
mod common;

use common::gen;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    common::check_generated(&gen::generate_from(gen::GenRng::from_bytes(data)), "fuzz.tk");
});
