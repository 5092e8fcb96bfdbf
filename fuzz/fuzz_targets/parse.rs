//! The parser on arbitrary bytes: it must return an AST or a diagnostic,
//! never panic, and a diagnostic's span must render.
#![no_main]

use libfuzzer_sys::fuzz_target;
use tritonc_syntax::{parse, SourceFile};

fuzz_target!(|data: &[u8]| {
    if let Ok(text) = std::str::from_utf8(data) {
        let file = SourceFile::new("fuzz.tk", text);
        if let Err(d) = parse(&file) {
            let _ = d.rendered();
        }
    }
});
