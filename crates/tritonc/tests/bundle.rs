//! Bundles (`tritonc bundle`, `run --bundle`, `bundle::register_bytes`,
//! `Device::export_bundle`): kernels launched with no compilation and an
//! empty cache; a missing kernel, and a truncated, corrupt or foreign
//! bundle, are clear errors.

use sha2::{Digest, Sha256};
use std::{
    path::{Path, PathBuf},
    process::{Command, Output},
};
use tritonc::{
    bundle::{Bundle, BundleError},
    cache::{Cache, Lookup},
    npy,
    prelude::*,
};

fn tritonc(cache: &Path) -> Command {
    let mut c = Command::new(env!("CARGO_BIN_EXE_tritonc"));
    c.env("TRITONC_CACHE_DIR", cache).env_remove("TRITONC_LOG");
    c
}

fn scratch(name: &str) -> PathBuf {
    let d = std::env::temp_dir().join(format!("tritonc-bundle-{}-{name}", std::process::id()));
    let _ = std::fs::remove_dir_all(&d);
    std::fs::create_dir_all(&d).unwrap();
    d
}

fn vector_add() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../dsl-examples/vector_add.tk")
}

fn ok(out: &Output) -> String {
    let err = String::from_utf8_lossy(&out.stderr).into_owned();
    assert!(out.status.success(), "{err}");
    err
}

fn f32_npy(path: &Path, data: &[f32]) {
    let bytes: Vec<u8> = data.iter().flat_map(|v| v.to_le_bytes()).collect();
    std::fs::write(path, npy::write("<f4", &[data.len()], &bytes)).unwrap();
}

/// Makes `add.tkb` (host, gfx942, gfx1100; BLOCK 256 and 1024) in `dir`.
fn make_bundle(dir: &Path) -> PathBuf {
    let out = dir.join("add.tkb");
    ok(&tritonc(&dir.join("cache"))
        .arg("bundle")
        .arg(vector_add())
        .args(["--target", "host,gfx942,gfx1100", "--const-set", "BLOCK=256"])
        .args(["--const-set", "BLOCK=1024", "-o"])
        .arg(&out)
        .output()
        .unwrap());
    out
}

/// `tritonc run --bundle` of vector add on the CPU backend, BLOCK as given,
/// with an empty cache that must stay empty.
fn run_from(bundle: &Path, dir: &Path, block: u32) -> Output {
    let n = 3000usize;
    let x: Vec<f32> = (0..n).map(|i| i as f32 * 0.5).collect();
    let y: Vec<f32> = (0..n).map(|i| 7.0 - i as f32).collect();
    f32_npy(&dir.join("x.npy"), &x);
    f32_npy(&dir.join("y.npy"), &y);
    f32_npy(&dir.join("out.npy"), &vec![0.0; n]);
    let empty = dir.join("empty-cache");
    let out = tritonc(&empty)
        .env("TRITONC_LOG", "cache,compile")
        .current_dir(dir)
        .arg("run")
        .arg(vector_add())
        .arg("--bundle")
        .arg(bundle)
        .args([
            "--grid",
            &n.div_ceil(block as usize).to_string(),
            "--const",
            &format!("BLOCK={block}"),
        ])
        .args(["--arg", "x=@x.npy", "--arg", "y=@y.npy", "--arg", "out=@out.npy"])
        .args(["--arg", &format!("n={n}"), "--out", "out=result.npy"])
        .output()
        .unwrap();
    assert!(
        !empty.exists() || std::fs::read_dir(&empty).unwrap().next().is_none(),
        "nothing is written to the cache"
    );
    if out.status.success() {
        let result = npy::parse(&std::fs::read(dir.join("result.npy")).unwrap()).unwrap();
        for (i, chunk) in result.data.chunks(4).enumerate() {
            let got = f32::from_le_bytes(chunk.try_into().unwrap());
            assert_eq!(got, x[i] + y[i], "element {i}");
        }
    }
    out
}

#[test]
fn a_bundle_runs_on_the_cpu_backend_with_no_compilation_and_an_empty_cache() {
    let dir = scratch("run");
    let bundle = make_bundle(&dir);
    let info = tritonc(&dir.join("cache"))
        .arg("bundle-info")
        .arg(&bundle)
        .output()
        .unwrap();
    ok(&info);
    let listing = String::from_utf8_lossy(&info.stdout);
    assert!(
        listing.starts_with(&format!("{}: 6 kernels", bundle.display())),
        "{listing}"
    );
    for target in ["host ", "gfx942", "gfx1100"] {
        assert_eq!(listing.matches(target).count(), 2, "{target} in {listing}");
    }
    for block in [256, 1024] {
        let err = ok(&run_from(&bundle, &dir, block));
        assert!(err.contains("from the bundle"), "{err}");
        assert!(!err.contains("tritonc compile:"), "nothing compiles: {err}");
    }
}

#[test]
fn a_kernel_the_bundle_lacks_is_exit_2_naming_it() {
    let dir = scratch("missing");
    let bundle = make_bundle(&dir);
    let out = run_from(&bundle, &dir, 512);
    assert_eq!(out.status.code(), Some(2));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("kernel `add` for host with BLOCK=512") && err.contains("never compiles"),
        "{err}"
    );
    assert!(
        err.contains("BLOCK=256") && err.contains("gfx1100"),
        "lists what it holds: {err}"
    );
}

/// The bundle's bytes with the build identity replaced and the checksum
/// made right again: a bundle from another tritonc.
fn with_identity(bytes: &[u8], identity: &str) -> Vec<u8> {
    let len = u64::from_le_bytes(bytes[12..20].try_into().unwrap()) as usize;
    let mut out = bytes[..12].to_vec();
    out.extend_from_slice(&(identity.len() as u64).to_le_bytes());
    out.extend_from_slice(identity.as_bytes());
    out.extend_from_slice(&bytes[20 + len..bytes.len() - 32]);
    let sum = Sha256::digest(&out);
    out.extend_from_slice(&sum);
    out
}

#[test]
fn truncated_corrupt_and_foreign_bundles_are_refused_with_the_reason() {
    let dir = scratch("damaged");
    let good = std::fs::read(make_bundle(&dir)).unwrap();
    assert!(Bundle::from_bytes(&good, "good").is_ok());
    let mut flipped = good.clone();
    let mid = flipped.len() / 2;
    flipped[mid] ^= 0x10;
    let mut format2 = good.clone();
    format2[8] = 2;
    let cases: Vec<(&str, Vec<u8>, &str)> = vec![
        ("truncated", good[..good.len() - 100].to_vec(), "truncated or corrupt"),
        ("flipped", flipped, "truncated or corrupt"),
        ("empty", Vec::new(), "not a tritonc bundle"),
        ("text", b"hello, world".to_vec(), "not a tritonc bundle"),
        ("format 2", format2, "bundle format 2"),
        (
            "another build",
            with_identity(&good, "tritonc 0.0.1 build 0123 llvm 21.1.0"),
            "made by tritonc 0.0.1 build 0123 llvm 21.1.0",
        ),
    ];
    for (name, bytes, says) in cases {
        let err = Bundle::from_bytes(&bytes, name).unwrap_err();
        assert!(err.to_string().contains(says), "{name}: {err}");
        if name == "another build" {
            assert!(matches!(err, BundleError::Version { .. }));
        }
        // The CLI says the same, with exit 2.
        let path = dir.join(format!("{}.tkb", name.replace(' ', "-")));
        std::fs::write(&path, &bytes).unwrap();
        let out = run_from(&path, &dir, 256);
        assert_eq!(out.status.code(), Some(2), "{name}");
        assert!(String::from_utf8_lossy(&out.stderr).contains(says), "{name}");
    }
    // A bundle whose identity is this build's but whose kernels are not
    // complete entries is corrupt, not a crash.
    let this = tritonc::request::build_identity();
    assert!(Bundle::from_bytes(&with_identity(&good, &this), "same").is_ok());
}

#[kernel]
fn bundle_affine<const K: i32>(x: Ptr<f32>, out: Ptr<f32>, n: i32) {
    let offs = program_id(0) * 256 + arange(0, 256);
    let mask = offs < n;
    store(out + offs, load(x + offs, mask, 0.0) * K + 1.0, mask);
}

/// A device's kernels exported as a bundle and registered from bytes: a
/// second device, with no cache, takes them from the bundle (a portable
/// `host:x86-64-v2` build found by this CPU's backend).
#[test]
fn kernels_exported_from_a_device_launch_from_the_registered_bundle() {
    let n = 1000usize;
    let x: Vec<f32> = (0..n).map(|i| i as f32 - 300.0).collect();
    let run = |dev: &Device| -> Vec<f32> {
        let xb = dev.upload(&x).unwrap();
        let out = dev.zeros::<f32>(n).unwrap();
        bundle_affine::<3>()
            .launch(dev, grid![n.div_ceil(256)], (&xb, &out, n as i32))
            .unwrap();
        out.download().unwrap()
    };
    let expected: Vec<f32> = x.iter().map(|v| v * 3.0 + 1.0).collect();
    let maker = Device::cpu_for("host:x86-64-v2").unwrap().with_cache(Cache::disabled());
    assert_eq!(run(&maker), expected);
    assert!(matches!(maker.kernel_origins()[..], [(ref k, Lookup::Miss(_))] if k == "bundle_affine"));
    let bytes = maker.export_bundle().to_bytes();
    let b = Bundle::from_bytes(&bytes, "exported").unwrap();
    let entries = b.entries();
    assert_eq!(entries.len(), 1);
    assert_eq!(
        (
            entries[0].kernel.as_str(),
            entries[0].target.as_str(),
            entries[0].consts.as_str()
        ),
        ("bundle_affine", "host:x86-64-v2", "K=3")
    );
    tritonc::bundle::register_bytes(&bytes).unwrap();
    let user = Device::cpu().unwrap().with_cache(Cache::disabled());
    assert_eq!(run(&user), expected);
    let origins = user.kernel_origins();
    assert!(
        matches!(origins[..], [(ref k, Lookup::Bundle(ref from))] if k == "bundle_affine" && from == "bundle from memory"),
        "{origins:?}"
    );
}

/// Bundles whose checksum is right but whose contents are random edits of
/// a good one (lengths, counts, entries) are refused or read, never a
/// panic or a huge allocation.
#[test]
fn damaged_bundles_with_a_valid_checksum_never_panic() {
    let dir = scratch("fuzz");
    let good = std::fs::read(make_bundle(&dir)).unwrap();
    let body = &good[..good.len() - 32];
    let mut state = 0x9e37_79b9_7f4a_7c15u64;
    let mut next = move || {
        state ^= state << 13;
        state ^= state >> 7;
        state ^= state << 17;
        state
    };
    for _ in 0..3000 {
        let mut b = body.to_vec();
        match next() % 4 {
            // Overwrite a few bytes anywhere past the magic and format.
            0 | 1 => {
                for _ in 0..1 + next() % 4 {
                    let at = 12 + (next() as usize) % (b.len() - 12);
                    b[at] = next() as u8;
                }
            }
            // A length or count field made huge.
            2 => {
                let at = 12 + (next() as usize) % (b.len() - 20);
                b[at..at + 8].copy_from_slice(&(next() | 1 << 40).to_le_bytes());
            }
            // Cut short.
            _ => b.truncate(12 + (next() as usize) % (b.len() - 12)),
        }
        let sum = Sha256::digest(&b);
        b.extend_from_slice(&sum);
        let _ = Bundle::from_bytes(&b, "fuzzed");
    }
}

#[kernel]
fn bundle_tuned_square<const BLOCK: i32>(x: Ptr<f32>, out: Ptr<f32>, n: i32) {
    let offs = program_id(0) * BLOCK + arange(0, BLOCK);
    let mask = offs < n;
    let v = load(x + offs, mask, 0.0);
    store(out + offs, v * v, mask);
}

/// An autotuning winner exported with the kernels: a new tuner on another
/// device launches the winner from the bundle at once, trying nothing.
#[test]
fn autotuning_winners_are_baked_into_exported_bundles() {
    let n = 3000usize;
    let x: Vec<f32> = (0..n).map(|i| i as f32 * 0.25 - 100.0).collect();
    let expected: Vec<f32> = x.iter().map(|v| v * v).collect();
    let configs = vec![
        Config::new().constant("BLOCK", 64),
        Config::new().constant("BLOCK", 1024),
    ];
    let grid = |c: &Config| grid![n.div_ceil(c.get("BLOCK").unwrap_or(1) as usize)];
    let run = |dev: &Device, tuner: &Autotuner| -> Vec<f32> {
        let xb = dev.upload(&x).unwrap();
        let out = dev.zeros::<f32>(n).unwrap();
        bundle_tuned_square_tuned()
            .launch(dev, tuner, grid, (&xb, &out, n as i32))
            .unwrap();
        out.download().unwrap()
    };
    let maker = Device::cpu_for("host:x86-64-v2").unwrap().with_cache(Cache::disabled());
    let tuner = Autotuner::new(configs.clone());
    assert_eq!(run(&maker, &tuner), expected);
    let chosen = tuner
        .chosen(bundle_tuned_square_tuned().source(), &[])
        .cloned()
        .unwrap();
    assert_eq!(maker.kernel_origins().len(), 2, "both configs were tried");
    let bytes = maker.export_bundle().to_bytes();
    tritonc::bundle::register_bytes(&bytes).unwrap();
    let user = Device::cpu().unwrap().with_cache(Cache::disabled());
    let fresh = Autotuner::new(configs);
    assert_eq!(run(&user, &fresh), expected);
    assert_eq!(fresh.chosen(bundle_tuned_square_tuned().source(), &[]), Some(&chosen));
    let origins = user.kernel_origins();
    assert!(
        matches!(origins[..], [(_, Lookup::Bundle(_))]),
        "only the winner, from the bundle: {origins:?}"
    );
}
