//! The machine-code emulator from the command line: `tritonc emu` runs a
//! code object another compiler made (Triton's vector add), `tritonc run
//! --backend emu` runs a kernel's own code object on each GPU target, and
//! a kernel's fault is exit 1 naming the instruction and the lane.

use std::{
    path::{Path, PathBuf},
    process::{Command, Output},
};
use tritonc::npy;

fn tritonc(dir: &Path) -> Command {
    let mut c = Command::new(env!("CARGO_BIN_EXE_tritonc"));
    c.current_dir(dir).env("TRITONC_CACHE", "off").env_remove("TRITONC_LOG");
    c
}

fn scratch(name: &str) -> PathBuf {
    let d = std::env::temp_dir().join(format!("tritonc-emu-cli-{}-{name}", std::process::id()));
    let _ = std::fs::remove_dir_all(&d);
    std::fs::create_dir_all(&d).unwrap();
    d
}

fn repo() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../..")
}

fn write_f32(path: &Path, data: &[f32]) {
    let bytes: Vec<u8> = data.iter().flat_map(|v| v.to_le_bytes()).collect();
    std::fs::write(path, npy::write("<f4", &[data.len()], &bytes)).unwrap();
}

fn read_f32(path: &Path) -> Vec<f32> {
    let a = npy::parse(&std::fs::read(path).unwrap()).unwrap();
    a.data
        .chunks(4)
        .map(|c| f32::from_le_bytes(c.try_into().unwrap()))
        .collect()
}

/// x, y and a zeroed out of `n` elements in `dir`.
fn inputs(dir: &Path, n: usize) -> (Vec<f32>, Vec<f32>) {
    let x: Vec<f32> = (0..n).map(|i| i as f32 * 0.75 - 9.0).collect();
    let y: Vec<f32> = (0..n).map(|i| 1.0 / (1.0 + i as f32)).collect();
    write_f32(&dir.join("x.npy"), &x);
    write_f32(&dir.join("y.npy"), &y);
    write_f32(&dir.join("out.npy"), &vec![0.0; n]);
    (x, y)
}

fn ok(out: &Output) {
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
}

#[test]
fn emu_runs_tritons_vector_add_code_object() {
    let dir = scratch("triton");
    let n = 4096;
    let (x, y) = inputs(&dir, n);
    let hsaco = repo().join("tests/data/triton-hsaco/add_gfx942.hsaco");
    let run = |grid: &str, n: usize| {
        tritonc(&dir)
            .arg("emu")
            .arg(&hsaco)
            .args(["--grid", grid, "--block", "256"])
            .args(["--arg", "@x.npy", "--arg", "@y.npy", "--arg", "@out.npy"])
            .args(["--arg", &format!("i32:{n}"), "--arg", "null", "--arg", "null"])
            .args(["--out", "2=result.npy"])
            .output()
            .unwrap()
    };
    ok(&run("4", n));
    let got = read_f32(&dir.join("result.npy"));
    for i in 0..n {
        assert_eq!(got[i], x[i] + y[i], "element {i}");
    }
    // Twice the programs with `n` claiming twice the elements: the fifth
    // program reads past x, a fault of the kernel's launch (exit 1).
    let out = run("8", 2 * n);
    assert_eq!(out.status.code(), Some(1));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("outside every buffer") && err.contains("global_load") && err.contains("lane"),
        "{err}"
    );
    let bad = tritonc(&dir)
        .arg("emu")
        .arg(&hsaco)
        .args(["--grid", "1", "--block", "256", "--arg", "x.npy"])
        .output()
        .unwrap();
    assert_eq!(bad.status.code(), Some(2), "{}", String::from_utf8_lossy(&bad.stderr));
}

#[test]
fn run_backend_emu_runs_our_code_object_on_every_gpu_target() {
    let dir = scratch("run");
    let n = 3000;
    let (x, y) = inputs(&dir, n);
    for target in ["gfx942", "gfx90a", "gfx1100"] {
        ok(&tritonc(&dir)
            .arg("run")
            .arg(repo().join("dsl-examples/vector_add.tk"))
            .args([
                "--backend",
                "emu",
                "--target",
                target,
                "--grid",
                "3",
                "--const",
                "BLOCK=1024",
            ])
            .args(["--arg", "x=@x.npy", "--arg", "y=@y.npy", "--arg", "out=@out.npy"])
            .args(["--arg", &format!("n={n}"), "--out", "out=result.npy"])
            .output()
            .unwrap());
        let got = read_f32(&dir.join("result.npy"));
        for i in 0..n {
            assert_eq!(got[i], x[i] + y[i], "{target}: element {i}");
        }
    }
}

/// A code object that reads a register nothing wrote still runs, with a
/// warning naming the read: Triton's vector add with `v_pk_add_f32`'s
/// second source patched to v[200:201].
#[test]
fn emu_warns_of_reads_of_registers_never_written() {
    let dir = scratch("uninit");
    inputs(&dir, 256);
    let mut bytes = std::fs::read(repo().join("tests/data/triton-hsaco/add_gfx942.hsaco")).unwrap();
    // The first VOP3P `v_pk_add_f32` (encoding 0xd3b2....): SRC1 is bits
    // 9-17 of its second dword (256 + n for vn).
    let sites: Vec<usize> = (0..bytes.len() - 8)
        .step_by(4)
        .filter(|&i| bytes[i + 2] == 0xb2 && bytes[i + 3] == 0xd3)
        .collect();
    assert!(!sites.is_empty());
    let at = sites[0] + 4;
    let mut d1 = u32::from_le_bytes(bytes[at..at + 4].try_into().unwrap());
    d1 = (d1 & !(0x1ff << 9)) | ((256 + 200) << 9);
    bytes[at..at + 4].copy_from_slice(&d1.to_le_bytes());
    std::fs::write(dir.join("patched.hsaco"), &bytes).unwrap();
    let out = tritonc(&dir)
        .arg("emu")
        .arg("patched.hsaco")
        .args(["--grid", "1", "--block", "256"])
        .args(["--arg", "@x.npy", "--arg", "@y.npy", "--arg", "@out.npy"])
        .args(["--arg", "i32:256", "--arg", "null", "--arg", "null"])
        .output()
        .unwrap();
    ok(&out);
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("warning:")
            && err.contains("a read of v200 in lane 0 that nothing had written")
            && err.contains("v_pk_add_f32 v[0:1], v[0:1], v[200:201]"),
        "{err}"
    );
}
