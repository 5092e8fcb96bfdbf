//! Embeds a hash of the compiler's own sources (every crate of the
//! workspace that decides generated code) as `TRITONC_BUILD_HASH`, so that
//! the kernel cache never serves code compiled by a different compiler,
//! and the LLVM version it is built against as `TRITONC_LLVM_VERSION`.

use std::{fs, path::Path};

fn visit(dir: &Path, files: &mut Vec<std::path::PathBuf>) {
    let Ok(entries) = fs::read_dir(dir) else { return };
    for e in entries.flatten() {
        let p = e.path();
        if p.is_dir() {
            visit(&p, files);
        } else if p
            .extension()
            .is_some_and(|x| x == "rs" || x == "pest" || x == "toml" || x == "cpp")
        {
            files.push(p);
        }
    }
}

fn main() {
    let crates = Path::new(env!("CARGO_MANIFEST_DIR")).join("..");
    let mut files = Vec::new();
    for krate in [
        "syntax", "ir", "sema", "passes", "codegen", "runtime", "cache", "tritonc",
    ] {
        let dir = crates.join(krate);
        visit(&dir.join("src"), &mut files);
        visit(&dir.join("cpp"), &mut files);
        files.push(dir.join("Cargo.toml"));
        println!("cargo:rerun-if-changed={}", dir.join("src").display());
        if dir.join("cpp").exists() {
            println!("cargo:rerun-if-changed={}", dir.join("cpp").display());
        }
    }
    files.sort();
    // FNV-1a, 64 bits: enough to tell builds apart.
    let mut h: u64 = 0xcbf2_9ce4_8422_2325;
    for f in files {
        // The path within the workspace, not where the checkout is: the
        // same sources built in another directory are the same compiler
        // (their kernel cache entries and bundles are interchangeable).
        let name = f
            .strip_prefix(&crates)
            .unwrap_or(&f)
            .to_string_lossy()
            .replace('\\', "/");
        for b in name.bytes().chain(fs::read(&f).unwrap_or_default()) {
            h ^= u64::from(b);
            h = h.wrapping_mul(0x0000_0100_0000_01b3);
        }
    }
    println!("cargo:rustc-env=TRITONC_BUILD_HASH={h:016x}");
    // The LLVM this build is made against, named in bundles and request
    // keys without linking LLVM to ask it.
    println!("cargo:rerun-if-env-changed=LLVM_SYS_221_PREFIX");
    let prefix = std::env::var("LLVM_SYS_221_PREFIX").unwrap_or_else(|_| "/usr/lib/llvm-22".into());
    let version = std::process::Command::new(Path::new(&prefix).join("bin/llvm-config"))
        .arg("--version")
        .output()
        .ok()
        .filter(|o| o.status.success())
        .map(|o| String::from_utf8_lossy(&o.stdout).trim().to_string())
        .unwrap_or_else(|| "22 (llvm-config not found)".into());
    println!("cargo:rustc-env=TRITONC_LLVM_VERSION={version}");
}
