//! Builds the C++ wrapper around lld's ELF linker (cpp/lld_elf.cpp) and
//! links lld's static libraries (Debian's `liblld-22-dev`): code objects
//! and host libraries are linked in-process, with no `ld.lld` at run time.
//! LLVM's own libraries, which lld needs, are linked by llvm-sys.

use std::{path::PathBuf, process::Command};

fn main() {
    println!("cargo:rerun-if-changed=cpp/lld_elf.cpp");
    println!("cargo:rerun-if-env-changed=LLVM_SYS_221_PREFIX");
    let prefix = std::env::var("LLVM_SYS_221_PREFIX").unwrap_or_else(|_| "/usr/lib/llvm-22".into());
    let prefix = PathBuf::from(prefix);
    let lib = prefix.join("lib");
    let include = prefix.join("include");
    if !lib.join("liblldELF.a").exists() || !include.join("lld/Common/Driver.h").exists() {
        panic!(
            "lld's libraries are not in {} (liblldELF.a, lld/Common/Driver.h): install Debian's liblld-22-dev \
             (scripts/setup.sh does), or set LLVM_SYS_221_PREFIX to an LLVM 22 with lld",
            prefix.display()
        );
    }
    // LLVM's own flags (C++ standard, no exceptions, ABI macros) so the
    // wrapper agrees with the libraries it calls.
    let cxxflags = Command::new(prefix.join("bin/llvm-config"))
        .arg("--cxxflags")
        .output()
        .ok()
        .filter(|o| o.status.success())
        .map(|o| String::from_utf8_lossy(&o.stdout).into_owned())
        .unwrap_or_else(|| format!("-I{} -std=c++17 -fno-exceptions", include.display()));
    let mut build = cc::Build::new();
    build.cpp(true).file("cpp/lld_elf.cpp").warnings(false);
    for flag in cxxflags.split_whitespace() {
        build.flag(flag);
    }
    build.compile("tritonc_lld_elf");
    println!("cargo:rustc-link-search=native={}", lib.display());
    println!("cargo:rustc-link-lib=static=lldELF");
    println!("cargo:rustc-link-lib=static=lldCommon");
}
