//! The parser never panics: valid texts (the roundtrip cases) with random
//! bytes changed, ranges cut or doubled, or cut short must give `Ok` or
//! `Err`, and what parses must print and verify without panicking.
//! Deterministic (a fixed-seed xorshift), so a failure names its input;
//! `PARSE_FUZZ_ITERS=N` (mutations per case, default 500) and
//! `PARSE_FUZZ_SEED=S` search further.

use std::panic::{catch_unwind, AssertUnwindSafe};
use std::path::Path;
use tritonc_ir::{
    parse_function, parse_module, print_function, print_module, verify_function, verify_layouts, verify_module,
};

/// xorshift64*: enough randomness for mutations, no dependency.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_F491_4F6C_DD1D)
    }

    fn below(&mut self, n: usize) -> usize {
        (self.next() % n.max(1) as u64) as usize
    }
}

/// Bytes that matter to the syntax, so that mutations reach deep.
const INTERESTING: &[u8] = b"{}()<>[],:=%#^@!\"x0123456789-.e \n\\abfiptu";

fn mutate(text: &[u8], rng: &mut Rng) -> Vec<u8> {
    let mut t = text.to_vec();
    for _ in 0..1 + rng.below(4) {
        if t.is_empty() {
            break;
        }
        let at = rng.below(t.len());
        match rng.below(6) {
            0 | 1 => t[at] = INTERESTING[rng.below(INTERESTING.len())],
            2 => {
                let end = (at + 1 + rng.below(40)).min(t.len());
                t.drain(at..end);
            }
            3 => {
                let end = (at + 1 + rng.below(40)).min(t.len());
                let copy = t[at..end].to_vec();
                let to = rng.below(t.len());
                t.splice(to..to, copy);
            }
            4 => t.truncate(at),
            _ => t[at] = (rng.next() & 0xff) as u8,
        }
    }
    t
}

/// Parses (as a module or a function), and prints and verifies what
/// parses.
fn exercise(text: &str) {
    if let Ok(m) = parse_module(text) {
        let _ = print_module(&m);
        let _ = verify_module(&m);
    }
    if let Ok(f) = parse_function(text) {
        let _ = print_function(&f);
        let _ = verify_function(&f);
        for lanes in [1, 64, 256] {
            let _ = verify_layouts(&f, lanes);
        }
    }
}

#[test]
fn mutated_texts_never_panic() {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/roundtrip");
    let mut files: Vec<_> = std::fs::read_dir(&dir)
        .expect("the roundtrip cases")
        .flatten()
        .map(|e| e.path())
        .collect();
    files.sort();
    let env = |name: &str, default: u64| std::env::var(name).ok().and_then(|v| v.parse().ok()).unwrap_or(default);
    let iters = env("PARSE_FUZZ_ITERS", 500);
    let mut rng = Rng(env("PARSE_FUZZ_SEED", 0x9E37_79B9_7F4A_7C15) | 1);
    let mut tried = 0u64;
    for path in &files {
        let text = std::fs::read(path).expect("a case");
        for i in 0..iters {
            let bytes = mutate(&text, &mut rng);
            let mutated = String::from_utf8_lossy(&bytes).into_owned();
            let outcome = catch_unwind(AssertUnwindSafe(|| exercise(&mutated)));
            if outcome.is_err() {
                let keep = std::env::temp_dir().join("parse_fuzz_panic.mlir");
                let _ = std::fs::write(&keep, &mutated);
                panic!(
                    "mutation {i} of {} panicked (input written to {})",
                    path.display(),
                    keep.display()
                );
            }
            tried += 1;
        }
    }
    assert!(tried >= iters * files.len() as u64, "only {tried} mutations");
}

#[test]
fn hostile_inputs_are_errors() {
    let deep_regions = "\"tk.func\"() ({^bb0():".repeat(10_000);
    let deep_layouts = format!("#a = {}\n", "#tk.slice<{dim = 0, parent = ".repeat(10_000));
    for text in [
        "",
        "\"",
        "%",
        "\"builtin.module\"() ({",
        deep_regions.as_str(),
        deep_layouts.as_str(),
        "\"tk.func\"() ({\n^bb0():\n  \"tk.return\"() : () -> ()\n}) {arg_names = [], function_type = () -> (), sym_name = \"f\", tk.num_warps = 0 : i32} : () -> ()",
        "#b = #tk.blocked<{size_per_lane = [0], lanes_per_wave = [1], waves = [1], repeats = [1], order = [0], replicated = false}>\n",
        "#m = #tk.mfma<{instr = [32, 32, 8], waves = [0, 1], tiles_per_wave = [1, 1]}>\n",
        "\"tk.func\"() ({\n^bb0(%arg0: tensor<4294967296xf32>):",
    ] {
        assert!(parse_function(text).is_err(), "{text:.80}");
        assert!(parse_module(text).is_err(), "{text:.80}");
    }
}
