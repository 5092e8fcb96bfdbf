//! In-process linking (`codegen::link`, lld as a library) against the
//! `ld.lld` program from lld-22: the same relocatable object, linked both
//! ways, must give the same bytes; and compiling never runs a linker
//! program (`TRITONC_LLD` pointing nowhere changes nothing).

use crate::common::example_request;
use std::{path::Path, process::Command};
use tritonc::{
    codegen::link::{link_shared, LinkKind},
    codegen::target::{self, Target},
    driver::compile,
};

const LLVM_BIN: &str = "/usr/lib/llvm-22/bin";

/// `llc` of the optimized LLVM IR a compile wrote: a relocatable object
/// made without our code generator's help.
fn object_from_ir(ir: &[u8], t: &dyn Target, dir: &Path) -> Vec<u8> {
    let ll = dir.join("k.ll");
    let obj = dir.join("k.o");
    std::fs::write(&ll, ir).unwrap();
    let out = Command::new(format!("{LLVM_BIN}/llc"))
        .args([
            "-filetype=obj",
            "-O3",
            &format!("-mtriple={}", t.triple()),
            &format!("-mcpu={}", t.cpu()),
        ])
        .arg(format!("-mattr={}", t.features()))
        .arg("-o")
        .arg(&obj)
        .arg(&ll)
        .output()
        .expect("llc from llvm-22 (scripts/setup.sh installs it)");
    assert!(out.status.success(), "llc: {}", String::from_utf8_lossy(&out.stderr));
    std::fs::read(&obj).unwrap()
}

/// Compiles `kernel` of `dsl-examples/{file}` for `target` and makes a
/// relocatable object of its optimized LLVM IR with `llc`.
fn object_of(
    file: &str,
    kernel: &str,
    consts: &[(&str, i64)],
    target: &dyn Target,
    dir: &Path,
) -> (tritonc::driver::Compiled, Vec<u8>) {
    let c = compile(&example_request(file, kernel, consts), target).unwrap();
    let ir = &c
        .stages
        .iter()
        .find(|s| s.file_name == "7-llvm-opt.ll")
        .unwrap()
        .contents;
    let object = object_from_ir(ir, target, dir);
    (c, object)
}

fn ld_lld(object: &[u8], extra: &[&str], dir: &Path) -> Vec<u8> {
    let obj = dir.join("in.o");
    let out = dir.join("out.so");
    std::fs::write(&obj, object).unwrap();
    let run = Command::new(format!("{LLVM_BIN}/ld.lld"))
        .arg("-shared")
        .arg("-o")
        .arg(&out)
        .arg(&obj)
        .args(extra)
        .output()
        .expect("ld.lld from lld-22 (scripts/setup.sh installs it)");
    assert!(run.status.success(), "ld.lld: {}", String::from_utf8_lossy(&run.stderr));
    std::fs::read(&out).unwrap()
}

fn scratch(name: &str) -> std::path::PathBuf {
    let d = std::env::temp_dir().join(format!("tritonc-linking-{name}-{}", std::process::id()));
    std::fs::create_dir_all(&d).unwrap();
    d
}

#[test]
fn code_objects_linked_in_process_are_byte_identical_to_ld_lld() {
    for (file, kernel, consts, target_name) in [
        ("vector_add.tk", "add", &[("BLOCK", 1024)][..], "gfx942"),
        ("softmax.tk", "softmax", &[("BLOCK", 1024)][..], "gfx1100"),
        (
            "matmul.tk",
            "matmul",
            &[
                ("BLOCK_M", 64),
                ("BLOCK_N", 64),
                ("BLOCK_K", 32),
                ("GROUP_M", 8),
                ("ACTIVATION", 0),
            ][..],
            "gfx90a",
        ),
    ] {
        let dir = scratch(target_name);
        let t = target::lookup(target_name).unwrap();
        let (c, object) = object_of(file, kernel, consts, t.as_ref(), &dir);
        let ours = link_shared(&object, LinkKind::Hsaco).unwrap();
        let theirs = ld_lld(&object, &["--no-undefined"], &dir);
        assert!(
            ours == theirs,
            "{kernel} on {target_name}: in-process link differs from ld.lld"
        );
        assert!(c.binary.starts_with(b"\x7fELF"));
        let _ = std::fs::remove_dir_all(&dir);
    }
}

#[test]
fn host_libraries_linked_in_process_are_byte_identical_to_ld_lld() {
    let dir = scratch("host");
    let t = target::lookup("host").unwrap();
    let (_, object) = object_of("softmax.tk", "softmax", &[("BLOCK", 1024)], t.as_ref(), &dir);
    let ours = link_shared(&object, LinkKind::HostLibrary).unwrap();
    let libm = ["/lib/x86_64-linux-gnu/libm.so.6", "/usr/lib/x86_64-linux-gnu/libm.so.6"]
        .into_iter()
        .find(|p| Path::new(p).exists());
    let theirs = ld_lld(&object, libm.as_slice(), &dir);
    assert!(ours == theirs, "host library: in-process link differs from ld.lld");
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn a_link_error_is_reported_not_fatal_and_linking_goes_on() {
    // An object that is not ELF: lld refuses it with a message, the process
    // lives, and the next link works.
    let err = link_shared(b"not an object", LinkKind::Hsaco).unwrap_err().to_string();
    assert!(err.contains("lld failed"), "{err}");
    let t = target::lookup("gfx942").unwrap();
    let c = compile(&example_request("vector_add.tk", "add", &[("BLOCK", 256)]), t.as_ref()).unwrap();
    assert!(c.binary.starts_with(b"\x7fELF"));
}

#[test]
fn compiling_runs_no_linker_program() {
    let dir = scratch("nolld");
    let out = dir.join("add.hsaco");
    let run = Command::new(env!("CARGO_BIN_EXE_tritonc"))
        .args([
            "compile",
            concat!(env!("CARGO_MANIFEST_DIR"), "/../../dsl-examples/vector_add.tk"),
        ])
        .args(["--target", "gfx942", "--const", "BLOCK=1024", "--no-cache", "-o"])
        .arg(&out)
        .env("TRITONC_LLD", "/nonexistent")
        .env("PATH", "/nonexistent")
        .output()
        .unwrap();
    assert!(run.status.success(), "{}", String::from_utf8_lossy(&run.stderr));
    assert!(std::fs::read(&out).unwrap().starts_with(b"\x7fELF"));
    let _ = std::fs::remove_dir_all(&dir);
}
