//! The kernel cache: hits, and the corrupt, truncated, concurrent and
//! changed-key cases.

use crate::common;
use common::*;
use tritonc::{
    cache::{Cache, Lookup},
    driver::compile_cached,
};

const VECTOR_ADD: &str = include_str!("../../../dsl-examples/vector_add.tk");

fn scratch(name: &str) -> std::path::PathBuf {
    let d = std::env::temp_dir().join(format!("tritonc-cache-test-{}-{name}", std::process::id()));
    let _ = std::fs::remove_dir_all(&d);
    d
}

fn compile(cache: &Cache, block: i64) -> (tritonc::driver::Compiled, Lookup, Vec<tritonc::driver::Stage>) {
    let t = tritonc::codegen::target::lookup("gfx942").unwrap();
    let mut sink = Vec::new();
    let (c, how) = compile_cached(
        &request(VECTOR_ADD, "add", &[("BLOCK", block)]),
        t.as_ref(),
        cache,
        &mut sink,
    )
    .unwrap();
    (c, how, sink)
}

#[test]
fn a_second_compilation_hits_with_every_stage() {
    let dir = scratch("hit");
    let (first, how, _) = compile(&Cache::at(&dir), 1024);
    assert!(matches!(how, Lookup::Miss(_)));
    // A new cache object over the same directory: a new process, in effect.
    let (second, how, stages) = compile(&Cache::at(&dir), 1024);
    assert_eq!(how, Lookup::DiskHit);
    assert_eq!(first.binary, second.binary);
    assert_eq!(stages.len(), first.stages.len(), "--emit gets every stage on a hit");
    let cache = Cache::at(&dir);
    let _ = compile(&cache, 1024);
    assert_eq!(compile(&cache, 1024).1, Lookup::MemoryHit);
    // Another constant is another entry.
    assert!(matches!(compile(&cache, 512).1, Lookup::Miss(_)));
    assert_eq!(cache.entries().len(), 2);
    assert_eq!(cache.clear().unwrap(), 2);
}

#[test]
fn corrupt_and_truncated_entries_are_recompiled_and_replaced() {
    let dir = scratch("corrupt");
    let (good, _, _) = compile(&Cache::at(&dir), 1024);
    let entry = Cache::at(&dir).entries()[0].path.clone();
    let original = std::fs::read(&entry).unwrap();
    // Flip one byte of the code object's region, then truncate.
    let mut flipped = original.clone();
    let at = flipped.len() - 100;
    flipped[at] ^= 0x40;
    for damaged in [
        flipped,
        original[..original.len() / 2].to_vec(),
        b"garbage".to_vec(),
        Vec::new(),
    ] {
        std::fs::write(&entry, &damaged).unwrap();
        let (c, how, _) = compile(&Cache::at(&dir), 1024);
        assert!(
            matches!(how, Lookup::Miss(ref why) if why.contains("corrupt")),
            "{how:?}"
        );
        assert_eq!(c.binary, good.binary);
        assert_eq!(std::fs::read(&entry).unwrap(), original, "the entry is replaced");
    }
}

#[test]
fn concurrent_compilations_of_one_kernel_both_succeed() {
    let dir = scratch("concurrent");
    let results: Vec<Vec<u8>> = std::thread::scope(|s| {
        let handles: Vec<_> = (0..4)
            .map(|_| s.spawn(|| compile(&Cache::at(&dir), 1024).0.binary))
            .collect();
        handles.into_iter().map(|h| h.join().unwrap()).collect()
    });
    assert!(results.windows(2).all(|w| w[0] == w[1]));
    assert_eq!(
        Cache::at(&dir).entries().len(),
        1,
        "one entry, no temporary files left as entries"
    );
    assert_eq!(compile(&Cache::at(&dir), 1024).1, Lookup::DiskHit);
}

#[test]
fn any_change_of_a_key_part_changes_the_key() {
    let t = tritonc::codegen::target::lookup("gfx942").unwrap();
    let req = request(VECTOR_ADD, "add", &[("BLOCK", 1024)]);
    let parts = tritonc::driver::key_parts(&req, t.as_ref(), "add", "ir text");
    for i in 0..parts.0.len() {
        let mut changed = parts.clone();
        changed.0[i].1.push('!');
        assert_ne!(changed.digest(), parts.digest(), "part {}", parts.0[i].0);
    }
    // A foreign entry (another compiler build) under the right file name is
    // not served: its stored key parts differ.
    let dir = scratch("foreign");
    let (_, _, _) = compile(&Cache::at(&dir), 1024);
    let entry = Cache::at(&dir).entries()[0].path.clone();
    let (_, _, _) = compile(&Cache::at(&dir), 512);
    let other = Cache::at(&dir)
        .entries()
        .into_iter()
        .map(|e| e.path)
        .find(|p| *p != entry)
        .unwrap();
    std::fs::copy(&other, &entry).unwrap();
    assert!(matches!(compile(&Cache::at(&dir), 1024).1, Lookup::Miss(_)));
}

/// Host code is built for the CPU it runs on, so a cache shared between
/// machines (an NFS home) must key it by that CPU: its name and features
/// are in the key, and code for a named CPU has a key of its own.
#[test]
fn host_keys_name_the_cpu_and_its_features() {
    let req = request(VECTOR_ADD, "add", &[("BLOCK", 1024)]);
    let native = tritonc::codegen::target::lookup("host").unwrap();
    let parts = tritonc::driver::key_parts(&req, native.as_ref(), "add", "ir text");
    let cpu = &parts.0.iter().find(|(name, _)| *name == "cpu").expect("a cpu part").1;
    let host_cpu = inkwell::targets::TargetMachine::get_host_cpu_name().to_string();
    let host_features = inkwell::targets::TargetMachine::get_host_cpu_features().to_string();
    assert!(cpu.contains(&host_cpu) && cpu.contains(&host_features), "{cpu}");
    if cfg!(target_arch = "x86_64") {
        let baseline = tritonc::codegen::target::lookup("host:x86-64").unwrap();
        let other = tritonc::driver::key_parts(&req, baseline.as_ref(), "add", "ir text");
        assert_ne!(other.digest(), parts.digest());
    }
}

/// A request key finds its kernel through an alias file (`.tkr`) naming
/// the entry it compiled to: only for exactly that request, and never
/// through a damaged alias or one copied under another request's name.
#[test]
fn request_aliases_name_their_entry_only_for_their_own_request() {
    let dir = scratch("alias");
    let _ = compile(&Cache::at(&dir), 1024);
    let key = request(VECTOR_ADD, "add", &[("BLOCK", 1024)]).request_key("gfx942");
    assert_eq!(Cache::at(&dir).get_request(&key).1, Lookup::DiskHit);
    let other = request(VECTOR_ADD, "add", &[("BLOCK", 512)]).request_key("gfx942");
    assert!(matches!(Cache::at(&dir).get_request(&other).1, Lookup::Miss(_)));
    let alias = dir.join(format!("{}.tkr", key.digest()));
    let good = std::fs::read(&alias).unwrap();
    let mut flipped = good.clone();
    let last = flipped.len() - 1;
    flipped[last] ^= 1;
    for damaged in [flipped, good[..good.len() / 2].to_vec(), good[..8].to_vec(), Vec::new()] {
        std::fs::write(&alias, &damaged).unwrap();
        assert!(matches!(Cache::at(&dir).get_request(&key).1, Lookup::Miss(_)));
    }
    // The good alias under the other request's name is not its alias.
    std::fs::write(dir.join(format!("{}.tkr", other.digest())), &good).unwrap();
    assert!(matches!(Cache::at(&dir).get_request(&other).1, Lookup::Miss(_)));
    std::fs::write(&alias, &good).unwrap();
    assert_eq!(Cache::at(&dir).get_request(&key).1, Lookup::DiskHit);
}
