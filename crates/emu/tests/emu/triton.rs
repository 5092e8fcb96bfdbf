//! OpenAI Triton 3.9's own code objects (tests/data/triton-hsaco/, made by
//! a compiler that is not ours) run on the emulator against references
//! computed here in Rust. The kernels' names, arguments, workgroup sizes
//! and dynamic LDS come from the data's `manifest.json`.

use std::path::PathBuf;

use serde_json::Value;
use tritonc_emu::matrix::{f16_to_f32, f32_to_f16};
use tritonc_emu::{Arg, EmuError, Emulator, Launch, Memory, Stats};

fn data_dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../tests/data/triton-hsaco")
}

fn manifest() -> Vec<Value> {
    let text = std::fs::read_to_string(data_dir().join("manifest.json")).unwrap();
    serde_json::from_str::<Value>(&text)
        .unwrap()
        .as_array()
        .unwrap()
        .clone()
}

/// The manifest entry of `kernel` (`add`, `softmax`, ...) on `arch`.
fn entry(kernel: &str, arch: &str) -> Value {
    manifest()
        .into_iter()
        .find(|e| e["file"].as_str() == Some(&format!("{kernel}_{arch}.hsaco")))
        .unwrap_or_else(|| panic!("no {kernel} for {arch} in the manifest"))
}

struct Kernel {
    emu: Emulator,
    entry: Value,
}

fn kernel_from(kernel: &str, arch: &str, bytes: Option<Vec<u8>>) -> Kernel {
    let entry = entry(kernel, arch);
    let bytes = bytes.unwrap_or_else(|| std::fs::read(data_dir().join(entry["file"].as_str().unwrap())).unwrap());
    let emu = Emulator::new(&bytes, entry["kernel"].as_str().unwrap()).unwrap();
    assert_eq!(emu.wave_size() as u64, entry["wave_size"].as_u64().unwrap());
    Kernel { emu, entry }
}

fn kernel(kernel: &str, arch: &str) -> Kernel {
    kernel_from(kernel, arch, None)
}

impl Kernel {
    /// Launches with the explicit arguments, then Triton's trailing null
    /// pointers.
    fn run(&self, mem: &mut Memory, args: &[Arg], grid: [u32; 3]) -> Result<Stats, EmuError> {
        let stats = self.run_unchecked(mem, args, grid)?;
        // Triton's code reads no register before writing it.
        assert_eq!(stats.uninitialized_reads, 0, "{:?}", stats.reports);
        Ok(stats)
    }

    /// [`Kernel::run`] whatever the reads of unwritten registers.
    fn run_unchecked(&self, mem: &mut Memory, args: &[Arg], grid: [u32; 3]) -> Result<Stats, EmuError> {
        let mut args = args.to_vec();
        assert_eq!(args.len(), self.entry["args"].as_array().unwrap().len());
        for _ in 0..self.entry["extra_trailing_pointer_args"].as_u64().unwrap() {
            args.push(Arg::Ptr(0));
        }
        let launch = Launch {
            grid,
            block: [self.entry["workgroup_size"].as_u64().unwrap() as u32, 1, 1],
            dynamic_lds: self.entry["dynamic_lds_bytes"].as_u64().unwrap() as u32,
        };
        self.emu.run(mem, &args, &launch)
    }
}

/// Deterministic values in [lo, hi).
fn values(n: usize, seed: u64, lo: f32, hi: f32) -> Vec<f32> {
    let mut s = seed.wrapping_mul(0x9e37_79b9_7f4a_7c15) | 1;
    (0..n)
        .map(|_| {
            s ^= s << 13;
            s ^= s >> 7;
            s ^= s << 17;
            lo + (hi - lo) * ((s >> 40) as f32 / (1u64 << 24) as f32)
        })
        .collect()
}

const ARCHS: [&str; 3] = ["gfx942", "gfx90a", "gfx1100"];
const BLOCK: usize = 1024;

/// x + y, bit for bit. `n` is a multiple of 16 (Triton specialized `n`
/// as divisible by 16) but not of the block, over several programs; the
/// buffers are exactly `n` long, so a store or load past the mask faults.
fn add_on(arch: &str, n: usize) -> Stats {
    let k = kernel("add", arch);
    let (x, y) = (values(n, 1, -100.0, 100.0), values(n, 2, -100.0, 100.0));
    let mut mem = Memory::new();
    let (xp, yp) = (mem.alloc_f32(&x), mem.alloc_f32(&y));
    let out = mem.alloc_f32(&vec![f32::NAN; n]);
    let stats = k
        .run(
            &mut mem,
            &[Arg::Ptr(xp), Arg::Ptr(yp), Arg::Ptr(out), Arg::I32(n as i32)],
            [n.div_ceil(BLOCK) as u32, 1, 1],
        )
        .unwrap_or_else(|e| panic!("{arch}: {e}"));
    let got = mem.read_f32(out).unwrap();
    for i in 0..n {
        assert_eq!(got[i].to_bits(), (x[i] + y[i]).to_bits(), "{arch}: element {i} of {n}");
    }
    stats
}

#[test]
fn add_matches_rust_on_every_target() {
    for arch in ARCHS {
        for n in [16, 1024, 3 * BLOCK + 16 * 5] {
            add_on(arch, n);
        }
    }
}

/// Softmax in f64, and each element's tolerance: Triton computes exp(z)
/// as exp2(z * log2(e)) in f32, whose rounding of the product alone is a
/// relative error up to |z| * 2^-24 (about 6e-8 |z|); the sum and the
/// division add a few ulp.
fn softmax_reference(row: &[f32]) -> Vec<(f64, f64)> {
    let max = row.iter().fold(f64::NEG_INFINITY, |m, &v| m.max(v as f64));
    let e: Vec<f64> = row.iter().map(|&v| (v as f64 - max).exp()).collect();
    let sum: f64 = e.iter().sum();
    row.iter()
        .zip(&e)
        .map(|(&v, x)| (x / sum, (1e-6 + 1e-7 * (max - v as f64)) * (x / sum)))
        .collect()
}

/// Softmax over rows of `n_cols` (a multiple of 16, as Triton specialized
/// it) with strides longer than the row; the values after each row must
/// stay untouched.
fn softmax_on(arch: &str, n_cols: usize, rows: usize, spread: f32) -> Stats {
    let k = kernel("softmax", arch);
    let stride = n_cols + 16;
    let input = values(rows * stride, n_cols as u64, -spread, spread / 4.0);
    let mut mem = Memory::new();
    let inp = mem.alloc_f32(&input);
    let sentinel = 12345.0f32;
    let out = mem.alloc_f32(&vec![sentinel; rows * stride]);
    let stats = k
        .run(
            &mut mem,
            &[
                Arg::Ptr(out),
                Arg::Ptr(inp),
                Arg::I32(stride as i32),
                Arg::I32(stride as i32),
                Arg::I32(n_cols as i32),
            ],
            [rows as u32, 1, 1],
        )
        .unwrap_or_else(|e| panic!("{arch}: {e}"));
    let got = mem.read_f32(out).unwrap();
    for r in 0..rows {
        let want = softmax_reference(&input[r * stride..r * stride + n_cols]);
        for c in 0..stride {
            let g = got[r * stride + c];
            if c >= n_cols {
                assert_eq!(
                    g, sentinel,
                    "{arch}: row {r} col {c} beyond n_cols {n_cols} was written"
                );
                continue;
            }
            let (w, tol) = want[c];
            // Results below f32's normal range keep fewer bits.
            let tol = tol.max(2f64.powi(-149));
            assert!(
                (g as f64 - w).abs() <= tol,
                "{arch}: row {r} col {c} of {n_cols}: {g} want {w} (within {tol:e})"
            );
        }
    }
    stats
}

#[test]
fn softmax_matches_rust_on_every_target() {
    for arch in ARCHS {
        for n_cols in [16, 48, 256, 1008, 1024] {
            softmax_on(arch, n_cols, 3, 10.0);
        }
        // Differences below -87 take exp's scaled path (x < -126 after
        // the multiplication by log2(e)).
        softmax_on(arch, 512, 2, 200.0);
    }
}

/// Halves in [-1, 1): their bits and values.
fn halves(n: usize, seed: u64) -> (Vec<u16>, Vec<f64>) {
    let bits: Vec<u16> = values(n, seed, -1.0, 1.0).into_iter().map(f32_to_f16).collect();
    let vals = bits.iter().map(|&h| f16_to_f32(h) as f64).collect();
    (bits, vals)
}

fn f16_bytes(bits: &[u16]) -> Vec<u8> {
    bits.iter().flat_map(|h| h.to_le_bytes()).collect()
}

/// C = A B with A (M x K) and B (K x N) f16 row-major, C f32; M, N and K
/// multiples of 16 (as Triton specialized them) but not of the tiles
/// (128 x 128 x 64), over a 2 x 2 grid. The kernel masks its loads only
/// along K, so A and B are padded to whole tiles (as hardware would read
/// there too); C is exact-sized, so a store past the mask faults.
fn matmul_on(arch: &str, m: usize, n: usize, k: usize) -> Stats {
    let kern = kernel("matmul", arch);
    let (mpad, npad) = (m.div_ceil(128) * 128, n.div_ceil(128) * 128);
    let (a_bits, a) = halves(mpad * k, 11);
    let (b_bits, b) = halves(k * n + npad, 12);
    let mut mem = Memory::new();
    let ap = mem.alloc(&f16_bytes(&a_bits));
    let bp = mem.alloc(&f16_bytes(&b_bits));
    let cp = mem.alloc_f32(&vec![f32::NAN; m * n]);
    let args = [
        Arg::Ptr(ap),
        Arg::Ptr(bp),
        Arg::Ptr(cp),
        Arg::I32(m as i32),
        Arg::I32(n as i32),
        Arg::I32(k as i32),
        Arg::I32(k as i32),
        Arg::I32(n as i32),
        Arg::I32(n as i32),
    ];
    let stats = kern
        .run(&mut mem, &args, [m.div_ceil(128) as u32, n.div_ceil(128) as u32, 1])
        .unwrap_or_else(|e| panic!("{arch}: {e}"));
    let c = mem.read_f32(cp).unwrap();
    for i in 0..m {
        for j in 0..n {
            let (mut want, mut mag) = (0f64, 0f64);
            for kk in 0..k {
                want += a[i * k + kk] * b[kk * n + j];
                mag += (a[i * k + kk] * b[kk * n + j]).abs();
            }
            // f32 accumulation over K: a few ulp of the magnitude.
            let tol = mag * k as f64 * f32::EPSILON as f64;
            let got = c[i * n + j] as f64;
            assert!(
                (got - want).abs() <= tol,
                "{arch}: C[{i}][{j}] = {got}, want {want} (within {tol:e})"
            );
        }
    }
    stats
}

#[test]
fn matmul_matches_rust_on_every_target() {
    for arch in ARCHS {
        matmul_on(arch, 144, 160, 80);
    }
}

/// Flash attention: out = softmax(q k^T * scale) v per head, q/k/v/o f16
/// `[heads, n_ctx, 64]` contiguous. Triton casts p to f16 before the
/// second dot and stores f16, so the result is within a few f16 ulp.
fn attention_on(arch: &str, n_ctx: usize, heads: usize) -> Stats {
    let kern = kernel("attn", arch);
    let d = 64;
    let len = heads * n_ctx * d;
    let (q_bits, q) = halves(len, 21);
    let (k_bits, k) = halves(len, 22);
    let (v_bits, v) = halves(len, 23);
    let mut mem = Memory::new();
    let (qp, kp, vp) = (
        mem.alloc(&f16_bytes(&q_bits)),
        mem.alloc(&f16_bytes(&k_bits)),
        mem.alloc(&f16_bytes(&v_bits)),
    );
    let op = mem.alloc(&vec![0xff; 2 * len]);
    let scale = 0.3f32;
    let args = [
        Arg::Ptr(qp),
        Arg::Ptr(kp),
        Arg::Ptr(vp),
        Arg::Ptr(op),
        Arg::F32(scale),
        Arg::I32(n_ctx as i32),
        Arg::I32((n_ctx * d) as i32),
        Arg::I32(d as i32),
    ];
    let stats = kern
        .run(&mut mem, &args, [n_ctx.div_ceil(128) as u32, heads as u32, 1])
        .unwrap_or_else(|e| panic!("{arch}: {e}"));
    let out = mem.buffer(op).unwrap();
    for h in 0..heads {
        let base = h * n_ctx * d;
        for i in 0..n_ctx {
            let s: Vec<f64> = (0..n_ctx)
                .map(|j| (0..d).map(|x| q[base + i * d + x] * k[base + j * d + x]).sum::<f64>() * scale as f64)
                .collect();
            let max = s.iter().cloned().fold(f64::NEG_INFINITY, f64::max);
            let p: Vec<f64> = s.iter().map(|x| (x - max).exp()).collect();
            let sum: f64 = p.iter().sum();
            for x in 0..d {
                let want = (0..n_ctx).map(|j| p[j] * v[base + j * d + x]).sum::<f64>() / sum;
                let at = 2 * (base + i * d + x);
                let got = f16_to_f32(u16::from_le_bytes([out[at], out[at + 1]])) as f64;
                assert!(
                    (got - want).abs() <= 2e-3,
                    "{arch}: head {h} row {i} col {x}: {got}, want {want}"
                );
            }
        }
    }
    stats
}

#[test]
fn attention_matches_rust_on_every_target() {
    for arch in ARCHS {
        attention_on(arch, 144, 2);
    }
}

/// The first instruction of kernel `k` whose text starts with `prefix`:
/// its offset in the ELF file (the kernel's code found by its bytes).
fn patch_site(k: &Kernel, bytes: &[u8], prefix: &str) -> (usize, String) {
    let inst = k
        .emu
        .program
        .slots
        .iter()
        .flatten()
        .filter_map(|s| s.as_ref().ok())
        .find(|i| i.text.starts_with(prefix))
        .unwrap_or_else(|| panic!("no {prefix}"));
    let code = &k.emu.kernel.code;
    let sites: Vec<usize> = bytes
        .windows(code.len())
        .enumerate()
        .filter(|(_, w)| *w == &code[..])
        .map(|(i, _)| i)
        .collect();
    assert_eq!(sites.len(), 1, "the kernel's code is not unique in the file");
    (sites[0] + inst.offset as usize, inst.text.clone())
}

/// A code object with one opcode changed to another implemented
/// instruction computes something else: the reference comparison fails.
#[test]
fn a_wrong_instruction_gives_wrong_results() {
    let path = data_dir().join("add_gfx942.hsaco");
    let mut bytes = std::fs::read(&path).unwrap();
    let k = kernel("add", "gfx942");
    let (at, text) = patch_site(&k, &bytes, "v_pk_add_f32");
    // VOP3P opcode 0x32 (v_pk_add_f32) -> 0x31 (v_pk_mul_f32).
    assert_eq!(bytes[at + 2], 0xb2, "{text}");
    bytes[at + 2] = 0xb1;
    let k = kernel_from("add", "gfx942", Some(bytes));
    let n = 64;
    let (x, y) = (values(n, 1, -100.0, 100.0), values(n, 2, -100.0, 100.0));
    let mut mem = Memory::new();
    let (xp, yp) = (mem.alloc_f32(&x), mem.alloc_f32(&y));
    let out = mem.alloc_zeroed(4 * n);
    k.run(
        &mut mem,
        &[Arg::Ptr(xp), Arg::Ptr(yp), Arg::Ptr(out), Arg::I32(n as i32)],
        [1, 1, 1],
    )
    .unwrap();
    let got = mem.read_f32(out).unwrap();
    assert_eq!(got[0], x[0] * y[0]);
    assert!((0..n).any(|i| got[i] != x[i] + y[i]));
}

/// A source register nothing wrote is reported with program id, wave,
/// lane, offset and text: `v_pk_add_f32`'s second source patched from
/// the loaded pair to v[200:201], which no instruction writes.
#[test]
fn a_read_of_a_register_never_written_is_reported() {
    let path = data_dir().join("add_gfx942.hsaco");
    let mut bytes = std::fs::read(&path).unwrap();
    let k = kernel("add", "gfx942");
    let (at, text) = patch_site(&k, &bytes, "v_pk_add_f32");
    // VOP3P: SRC1 is bits 9-17 of the second dword (256 + n for vn).
    let mut d1 = u32::from_le_bytes(bytes[at + 4..at + 8].try_into().unwrap());
    assert!((d1 >> 9) & 0x1ff >= 256, "{text}");
    d1 = (d1 & !(0x1ff << 9)) | ((256 + 200) << 9);
    bytes[at + 4..at + 8].copy_from_slice(&d1.to_le_bytes());
    let k = kernel_from("add", "gfx942", Some(bytes));
    let mut mem = Memory::new();
    let buf = mem.alloc_zeroed(4 * 64);
    let stats = k
        .run_unchecked(
            &mut mem,
            &[Arg::Ptr(buf), Arg::Ptr(buf), Arg::Ptr(buf), Arg::I32(64)],
            [1, 1, 1],
        )
        .unwrap();
    assert!(stats.uninitialized_reads > 0);
    let first = &stats.reports[0];
    assert!(
        first.contains("a read of v200 in lane 0 that nothing had written")
            && first.contains("v_pk_add_f32 v[0:1], v[0:1], v[200:201]")
            && first.contains("program [0, 0, 0], wave 0"),
        "{first}"
    );
}

/// An instruction the emulator does not implement stops the run with an
/// error naming it, its text and offset; it is never skipped.
#[test]
fn an_unimplemented_instruction_fails_closed() {
    let path = data_dir().join("add_gfx942.hsaco");
    let mut bytes = std::fs::read(&path).unwrap();
    let k = kernel("add", "gfx942");
    let (at, _) = patch_site(&k, &bytes, "v_pk_add_f32");
    // VOP3P opcode 0x32 -> 0x00: v_pk_mad_i16 (not implemented).
    bytes[at + 2] = 0x80;
    let k = kernel_from("add", "gfx942", Some(bytes));
    let mut mem = Memory::new();
    let buf = mem.alloc_zeroed(4 * 64);
    let err = k
        .run(
            &mut mem,
            &[Arg::Ptr(buf), Arg::Ptr(buf), Arg::Ptr(buf), Arg::I32(64)],
            [1, 1, 1],
        )
        .unwrap_err();
    match &err {
        EmuError::Unimplemented {
            mnemonic, text, offset, ..
        } => {
            assert_eq!(mnemonic, "v_pk_mad_i16", "{err}");
            assert!(text.starts_with("v_pk_mad_i16 v0, v0, v4"), "{err}");
            assert_eq!(*offset, 0x160, "{err}");
        }
        _ => panic!("{err}"),
    }
    let msg = err.to_string();
    assert!(msg.contains("v_pk_mad_i16") && msg.contains("0x160"), "{msg}");
}

/// A load's result used before the `s_waitcnt` that covers it is
/// reported: the code object with its `s_waitcnt vmcnt(0)` turned into
/// `s_nop 0` adds registers its loads have not written yet.
#[test]
fn a_missing_waitcnt_is_reported() {
    for arch in ARCHS {
        for wait in ["s_waitcnt lgkmcnt(0)", "s_waitcnt vmcnt(0)"] {
            let mut bytes = std::fs::read(data_dir().join(format!("add_{arch}.hsaco"))).unwrap();
            let k = kernel("add", arch);
            let (at, text) = patch_site(&k, &bytes, wait);
            // s_nop 0 (SOPP opcode 0 on GFX9 and GFX11).
            bytes[at..at + 4].copy_from_slice(&0xbf80_0000u32.to_le_bytes());
            let k = kernel_from("add", arch, Some(bytes));
            let mut mem = Memory::new();
            let buf = mem.alloc_zeroed(4 * 1024);
            let args = [Arg::Ptr(buf), Arg::Ptr(buf), Arg::Ptr(buf), Arg::I32(1024)];
            let err = k.run(&mut mem, &args, [1, 1, 1]).unwrap_err();
            match &err {
                EmuError::Fault { what, .. } if what.contains("used before the s_waitcnt that covers its load") => {}
                _ => panic!("{arch} without `{text}`: {err}"),
            }
        }
    }
}

/// A store past the end of every buffer is reported with the program,
/// wave, lane and instruction.
#[test]
fn an_out_of_bounds_store_is_reported() {
    for arch in ARCHS {
        let k = kernel("add", arch);
        let n = 2048;
        let mut mem = Memory::new();
        let x = mem.alloc_zeroed(4 * n);
        let y = mem.alloc_zeroed(4 * n);
        // The output is 16 elements short.
        let out = mem.alloc_zeroed(4 * (n - 16));
        let err = k
            .run(
                &mut mem,
                &[Arg::Ptr(x), Arg::Ptr(y), Arg::Ptr(out), Arg::I32(n as i32)],
                [2, 1, 1],
            )
            .unwrap_err();
        match &err {
            EmuError::Fault {
                what,
                text,
                program,
                lane: Some(_),
                ..
            } => {
                assert!(
                    what.contains("store") && what.contains("outside every buffer"),
                    "{arch}: {err}"
                );
                assert!(text.starts_with("global_store"), "{arch}: {err}");
                assert_eq!(*program, [1, 0, 0], "{arch}: {err}");
            }
            _ => panic!("{arch}: {err}"),
        }
    }
}

/// Lane-instructions per second, printed (`--nocapture`) for
/// docs/emulator.md.
#[test]
fn throughput() {
    // EMU_THROUGHPUT_SCALE=8 for steadier numbers (docs/emulator.md).
    let scale: usize = std::env::var("EMU_THROUGHPUT_SCALE")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(1);
    let mut report = String::new();
    for arch in ARCHS {
        let a = add_on(arch, 16 * scale * BLOCK);
        let s = softmax_on(arch, 1024, 8 * scale, 10.0);
        report += &format!(
            "{arch}: add {:.1} M lane-instr/s ({} lane-instr in {:.3} s), softmax {:.1} M lane-instr/s ({} in {:.3} s)\n",
            a.lane_instructions_per_second() / 1e6,
            a.lane_instructions,
            a.seconds,
            s.lane_instructions_per_second() / 1e6,
            s.lane_instructions,
            s.seconds
        );
    }
    println!("{report}");
}
