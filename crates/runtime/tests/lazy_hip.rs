//! HIP is loaded when first used, not at process start (issue #15): a binary
//! linking the runtime does not name the HIP library among the libraries
//! the dynamic loader loads, and a missing library is reported in one line.
#![cfg(feature = "hip")]

use object::{
    elf,
    read::elf::{Dyn, FileHeader, SectionHeader},
    Endianness,
};
use std::process::Command;
use tritonc_runtime::{
    hip::{Device, NO_DEVICE},
    RuntimeError,
};

/// The `DT_NEEDED` entries of an ELF64 executable.
fn needed_libraries(data: &[u8]) -> Vec<String> {
    let header = elf::FileHeader64::<Endianness>::parse(data).expect("an ELF64 file");
    let endian = header.endian().unwrap();
    let sections = header.sections(endian, data).unwrap();
    let mut needed = Vec::new();
    for section in sections.iter() {
        let Some((entries, link)) = section.dynamic(endian, data).unwrap() else {
            continue;
        };
        let strings = sections.strings(endian, data, link).unwrap();
        for entry in entries {
            if entry.d_tag(endian) == elf::DT_NEEDED {
                let name = entry.string(endian, strings).unwrap();
                needed.push(String::from_utf8_lossy(name).into_owned());
            }
        }
    }
    needed
}

#[test]
fn the_test_binary_does_not_load_hip_at_start() {
    // This binary calls into HIP (`Device::open` below), so a HIP library
    // linked at build time would be among its NEEDED entries.
    let exe = std::env::current_exe().unwrap();
    let data = std::fs::read(&exe).unwrap();
    let needed = needed_libraries(&data);
    assert!(needed.iter().any(|n| n.starts_with("libc.so")), "{needed:?}");
    for n in &needed {
        assert!(
            !n.contains("amdhip") && !n.contains("hsa-runtime"),
            "{} needs {n}",
            exe.display()
        );
    }
}

/// Run in a child process (so that the environment and the once-loaded
/// library are its own): with `$TRITONC_HIP_LIBRARY` naming no file, opening
/// a device says so in one line, and nothing of HIP was mapped before.
#[test]
fn child_missing_library() {
    if std::env::var_os("LAZY_HIP_CHILD").is_none() {
        return;
    }
    let maps = std::fs::read_to_string("/proc/self/maps").unwrap();
    assert!(!maps.contains("amdhip"), "HIP mapped before first use:\n{maps}");
    match Device::open(0) {
        Err(RuntimeError::NoDevice(msg)) => println!("MESSAGE: {msg}"),
        other => panic!("expected NoDevice, got {other:?}"),
    }
}

#[test]
fn a_missing_hip_library_is_no_device_naming_it() {
    let out = Command::new(std::env::current_exe().unwrap())
        .args(["--exact", "child_missing_library", "--nocapture", "--test-threads=1"])
        .env("LAZY_HIP_CHILD", "1")
        .env("TRITONC_HIP_LIBRARY", "/nonexistent/libamdhip64.so")
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "{stdout}\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let line = stdout
        .lines()
        .find_map(|l| l.split_once("MESSAGE: ").map(|(_, m)| m))
        .unwrap_or_else(|| panic!("no message in:\n{stdout}"));
    assert_eq!(
        line,
        "no AMD GPU found (no HIP runtime library: tried /nonexistent/libamdhip64.so); \
         use `--backend cpu` to run on the host"
    );
}

/// Run in a child process with the default library names: HIP is mapped
/// only once a device is asked for (when this machine has the library).
#[test]
fn child_default_library() {
    if std::env::var_os("LAZY_HIP_CHILD").is_none() {
        return;
    }
    let mapped = || std::fs::read_to_string("/proc/self/maps").unwrap().contains("amdhip");
    assert!(!mapped(), "HIP mapped before first use");
    let loaded = match Device::open(0) {
        Ok(_) => true,
        Err(RuntimeError::NoDevice(msg)) if msg == NO_DEVICE => true,
        Err(RuntimeError::NoDevice(msg)) if msg.starts_with("no AMD GPU found (no HIP runtime library: tried ") => {
            false
        }
        other => panic!("unexpected: {other:?}"),
    };
    assert_eq!(mapped(), loaded);
    println!("LOADED: {loaded}");
}

#[test]
fn hip_is_loaded_at_the_first_device_open() {
    let out = Command::new(std::env::current_exe().unwrap())
        .args(["--exact", "child_default_library", "--nocapture", "--test-threads=1"])
        .env("LAZY_HIP_CHILD", "1")
        .env_remove("TRITONC_HIP_LIBRARY")
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "{stdout}\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(stdout.contains("LOADED: "), "{stdout}");
}
