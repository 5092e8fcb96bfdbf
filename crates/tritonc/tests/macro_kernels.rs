//! Kernels written with `#[kernel]` in Rust, launched through the typed API
//! on the CPU backend, against plain Rust references.

use tritonc::prelude::*;

#[kernel]
fn add<const BLOCK: i32>(x: Ptr<f32>, y: Ptr<f32>, out: Ptr<f32>, n: i32) {
    let offs = program_id(0) * BLOCK + arange(0, BLOCK);
    let mask = offs < n;
    store(out + offs, load(x + offs, mask, 0.0) + load(y + offs, mask, 0.0), mask);
}

#[kernel(num_warps = 4)]
fn softmax<const BLOCK: i32>(out: Ptr<f32>, inp: Ptr<f32>, stride: i32, n_cols: i32) {
    let row = program_id(0);
    let cols = arange(0, BLOCK);
    let mask = cols < n_cols;
    let x = load(inp + row * stride + cols, mask, f32::NEG_INFINITY);
    let num = exp(x - max(x, 0));
    store(out + row * stride + cols, num / sum(num, 0), mask);
}

/// Adds one to the first `n` of 64 integers and doubles them when
/// `DOUBLE` is set. (A `///` comment on a kernel is Rust's documentation:
/// the macro puts it on the generated function, not in the kernel text.)
#[kernel]
fn scale_ints<const DOUBLE: bool>(x: Ptr<i64>, n: i32) {
    let o = arange(0, 64);
    let m = o < n;
    let v = load(x + o, m, 0);
    let mut r = v + 1;
    if DOUBLE {
        r = r * 2;
    }
    store(x + o, r, m);
}

#[test]
fn vector_add_through_the_typed_api() -> Result<(), tritonc::Error> {
    let dev = Device::cpu()?;
    let n = 3000usize;
    let xs: Vec<f32> = (0..n).map(|i| i as f32).collect();
    let ys: Vec<f32> = (0..n).map(|i| 0.5 * i as f32).collect();
    let x = dev.upload(&xs)?;
    let y = dev.upload(&ys)?;
    let out = dev.zeros::<f32>(n)?;
    add::<1024>().launch(&dev, grid![n.div_ceil(1024)], (&x, &y, &out, n as i32))?;
    let result = out.download()?;
    for i in 0..n {
        assert_eq!(result[i], xs[i] + ys[i]);
    }
    // A second launch reuses the loaded kernel; another BLOCK compiles anew.
    add::<256>().launch(&dev, grid![n.div_ceil(256)], (&x, &x, &out, n as i32))?;
    assert_eq!(out.download()?[2999], 2.0 * 2999.0);
    Ok(())
}

#[test]
fn softmax_and_const_bools_through_the_typed_api() -> Result<(), tritonc::Error> {
    let dev = Device::default()?;
    let (rows, cols) = (3usize, 100usize);
    let data: Vec<f32> = (0..rows * cols).map(|i| ((i * 7) % 13) as f32 * 0.25).collect();
    let inp = dev.upload(&data)?;
    let out = dev.zeros::<f32>(rows * cols)?;
    softmax::<128>().launch(&dev, grid![rows], (&out, &inp, cols as i32, cols as i32))?;
    let got = out.download()?;
    for r in 0..rows {
        let row = &data[r * cols..(r + 1) * cols];
        let m = row.iter().cloned().fold(f32::NEG_INFINITY, f32::max);
        let den: f64 = row.iter().map(|v| f64::from(v - m).exp()).sum();
        for c in 0..cols {
            let want = f64::from(row[c] - m).exp() / den;
            assert!((f64::from(got[r * cols + c]) - want).abs() < 1e-6, "({r}, {c})");
        }
    }
    let v = dev.upload(&[1i64, -5, 7, 100])?;
    scale_ints::<true>().launch(&dev, grid![1], (&v, 3))?;
    assert_eq!(v.download()?, vec![4, -8, 16, 100]);
    scale_ints::<false>().launch(&dev, grid![1], (&v, 4))?;
    assert_eq!(v.download()?, vec![5, -7, 17, 101]);
    Ok(())
}

#[test]
fn launches_specialize_on_aligned_pointers_and_unit_integers() -> Result<(), tritonc::Error> {
    let dev = Device::cpu()?;
    // n divisible by 16: `n` is marked divisible; n == 1: `n` is assumed 1.
    for n in [4096usize, 1, 17, 16] {
        let xs: Vec<f32> = (0..n).map(|i| i as f32).collect();
        let x = dev.upload(&xs)?;
        let out = dev.zeros::<f32>(n)?;
        add::<256>().launch(&dev, grid![n.div_ceil(256)], (&x, &x, &out, n as i32))?;
        assert_eq!(
            out.download()?,
            xs.iter().map(|v| 2.0 * v).collect::<Vec<_>>(),
            "n = {n}"
        );
    }
    let v = dev.upload(&[3i64, 4])?;
    scale_ints::<true>().launch(&dev, grid![1], (&v, 1))?;
    assert_eq!(v.download()?, vec![8, 4]);
    Ok(())
}

#[kernel]
fn count<const BLOCK: i32>(x: Ptr<i32>, bins: Ptr<i32>, n: i32) {
    let offs = program_id(0) * BLOCK + arange(0, BLOCK);
    let m = offs < n;
    atomic_add(bins + load(x + offs, m, 0), 1, m);
}

#[test]
fn autotuning_picks_a_working_config_and_side_effects_happen_once() -> Result<(), tritonc::Error> {
    let dir = std::env::temp_dir().join(format!("tritonc-tune-test-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    let dev = Device::cpu()?.with_cache(tritonc::cache::Cache::at(&dir));
    let n = 5000usize;
    let xs: Vec<i32> = (0..n).map(|i| ((i * 31) % 17) as i32).collect();
    let x = dev.upload(&xs)?;
    let bins = dev.zeros::<i32>(17)?;
    let configs = vec![
        Config::new().constant("BLOCK", 64),
        Config::new().constant("BLOCK", 512).num_warps(8),
        // Too long a block for one host lane: refused, so never chosen.
        Config::new().constant("BLOCK", 1 << 20),
    ];
    let tuner = Autotuner::new(configs.clone()).key(&[2]);
    let grid = |c: &Config| grid![n.div_ceil(c.get("BLOCK").unwrap_or(1) as usize)];
    count_tuned().launch(&dev, &tuner, grid, (&x, &bins, n as i32))?;
    let mut want = vec![0i32; 17];
    for v in &xs {
        want[*v as usize] += 1;
    }
    // Every trial ran the atomics; the buffers were restored after each,
    // so the counts are those of exactly one run.
    assert_eq!(bins.download()?, want);
    let chosen = tuner.chosen(count_tuned().source(), &[n as u64]).cloned();
    let chosen = chosen.expect("tuned for this key");
    assert_ne!(chosen.get("BLOCK"), Some(1 << 20));
    // Remembered: the same key launches with the winner at once.
    count_tuned().launch(&dev, &tuner, grid, (&x, &bins, n as i32))?;
    assert_eq!(bins.download()?, want.iter().map(|c| 2 * c).collect::<Vec<_>>());
    // And on disk, for a new process (a new tuner reads it back).
    let records: Vec<String> = std::fs::read_dir(&dir)
        .map_err(|e| tritonc::Error::Io(e.to_string()))?
        .flatten()
        .filter(|e| e.path().extension().is_some_and(|x| x == "tkt"))
        .map(|e| std::fs::read_to_string(e.path()).unwrap_or_default())
        .collect();
    assert_eq!(records.len(), 1, "{records:?}");
    assert!(
        records[0].trim_end().ends_with(&chosen.to_string()),
        "{records:?} vs {chosen}"
    );
    let again = Autotuner::new(configs).key(&[2]);
    count_tuned().launch(&dev, &again, grid, (&x, &bins, n as i32))?;
    assert_eq!(again.chosen(count_tuned().source(), &[n as u64]), Some(&chosen));
    // Every config failing is an error, not a silent fallback.
    let broken = Autotuner::new(vec![Config::new().constant("BLOCK", 1 << 20)]);
    assert!(count_tuned()
        .launch(&dev, &broken, grid, (&x, &bins, n as i32))
        .is_err());
    let _ = std::fs::remove_dir_all(&dir);
    Ok(())
}

#[test]
fn launch_options_override_the_kernels_attributes() -> Result<(), tritonc::Error> {
    let dev = Device::cpu()?;
    let n = 100usize;
    let xs: Vec<f32> = (0..n).map(|i| i as f32).collect();
    let x = dev.upload(&xs)?;
    let out = dev.zeros::<f32>(n)?;
    let opts = LaunchOptions {
        num_warps: Some(8),
        num_stages: Some(3),
    };
    add::<64>().launch_with(&dev, grid![2], (&x, &x, &out, n as i32), opts)?;
    assert_eq!(out.download()?[99], 198.0);
    let bad = LaunchOptions {
        num_warps: Some(3),
        num_stages: None,
    };
    let e = add::<64>()
        .launch_with(&dev, grid![2], (&x, &x, &out, n as i32), bad)
        .unwrap_err();
    assert!(
        e.to_string()
            .contains("num_warps (--num-warps) must be a power of two from 1 to 16, found 3"),
        "{e}"
    );
    Ok(())
}

#[test]
fn streams_order_launches() -> Result<(), tritonc::Error> {
    let dev = Device::cpu()?;
    let n = 256usize;
    let x = dev.upload(&vec![1.0f32; n])?;
    let out = dev.zeros::<f32>(n)?;
    let stream = dev.stream()?;
    add::<64>().launch_on(&stream, grid![4], (&x, &x, &out, n as i32))?;
    add::<64>().launch_on(&stream, grid![4], (&out, &out, &out, n as i32))?;
    stream.synchronize()?;
    assert!(out.download()?.iter().all(|v| *v == 4.0));
    Ok(())
}

#[test]
fn buffers_copy_between_devices() -> Result<(), tritonc::Error> {
    let (a, b) = (Device::cpu()?, Device::cpu()?);
    let x = a.upload(&[1i32, 2, 3])?;
    let y = b.copy(&x)?;
    add_ints::<4>().launch(&b, grid![1], (&y, 3))?;
    assert_eq!((x.download()?, y.download()?), (vec![1, 2, 3], vec![2, 3, 4]));
    Ok(())
}

#[kernel]
fn add_ints<const B: i32>(x: Ptr<i32>, n: i32) {
    let o = arange(0, B);
    store(x + o, load(x + o, o < n, 0) + 1, o < n);
}

// A kernel whose shapes only fit for one const value: `#[kernel]` cannot
// reject it at build time, the first launch with another value does.
const WIDTHS_STORE_LINE: u32 = line!() + 4;
#[kernel]
fn widths<const BLOCK: i32>(x: Ptr<f32>) {
    let o = arange(0, BLOCK);
    store(x + o + arange(0, 64), 1.0); // the widths must agree
}

/// Errors found at a first launch (they depend on const values) are shown
/// at the user's file, line and column, under the user's own line (its
/// comment included), by `Display` and by `Debug` alike (what `fn main()
/// -> Result<(), tritonc::Error>` prints).
#[test]
fn const_dependent_errors_point_at_the_users_line() -> Result<(), tritonc::Error> {
    let file = file!();
    assert!(file.ends_with("tests/macro_kernels.rs"), "{file}");
    let dev = Device::cpu()?;
    let x = dev.zeros::<f32>(128)?;
    widths::<64>().launch(&dev, grid![1], (&x,))?;
    let e = widths::<128>().launch(&dev, grid![1], (&x,)).unwrap_err();
    let l = WIDTHS_STORE_LINE;
    let want = format!(
        "{file}:{l}:11: error: cannot broadcast pointers block<Ptr<f32>, [128]> with offsets block<i32, [64]>
    |
{l} |     store(x + o + arange(0, 64), 1.0); // the widths must agree
    |           ^^^^^^^^^^^^^^^^^^^^^"
    );
    assert_eq!(e.to_string(), want);
    assert_eq!(format!("{e:?}"), want);

    // The first kernel of this file, with a block length that is not a
    // power of two: at the `arange` of line 8.
    let out = dev.zeros::<f32>(100)?;
    let e = add::<100>()
        .launch(&dev, grid![1], (&out, &out, &out, 100))
        .unwrap_err();
    let want = format!(
        "{file}:8:40: error: `arange(0, 100)` has length 100; it must be a power of two up to 1048576
  |
8 |     let offs = program_id(0) * BLOCK + arange(0, BLOCK);
  |                                        ^^^^^^^^^^^^^^^^"
    );
    assert_eq!(format!("{e:?}"), want);
    assert_eq!(e.to_string(), want);

    // Other errors keep a derived `Debug`.
    let e = tritonc::Error::Usage("no".into());
    assert_eq!(format!("{e:?}"), "Usage(\"no\")");
    Ok(())
}

// The README's Rust examples, compiled into this test and run.
mod readme {
    include!("../examples/readme.rs");
    pub fn run() -> Result<(), tritonc::Error> {
        main()
    }
}
mod readme_autotune {
    include!("../examples/readme_autotune.rs");
    pub fn run() -> Result<(), tritonc::Error> {
        main()
    }
}

/// The ```rust blocks of a Markdown file of the repository.
fn rust_blocks(path: &str) -> Vec<String> {
    let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../..")
        .join(path);
    let text = std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    let mut blocks = Vec::new();
    let mut block: Option<String> = None;
    for line in text.lines() {
        match block.take() {
            None if line == "```rust" => block = Some(String::new()),
            None => {}
            Some(b) if line == "```" => blocks.push(b),
            Some(mut b) => {
                b.push_str(line);
                b.push('\n');
                block = Some(b);
            }
        }
    }
    blocks
}

fn example(name: &str) -> String {
    let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("examples")
        .join(name);
    std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

/// What a user copies from the README compiles and runs: its first block
/// is `examples/readme.rs` exactly, its second (autotuning, in the first's
/// `main`) is the marked part of `examples/readme_autotune.rs`, unindented.
#[test]
fn the_readmes_rust_snippets_are_the_examples_and_run() -> Result<(), tritonc::Error> {
    let blocks = rust_blocks("README.md");
    assert_eq!(
        blocks.len(),
        2,
        "README.md's ```rust blocks changed: cover the new ones here"
    );
    assert_eq!(blocks[0], example("readme.rs"));
    let tuned = example("readme_autotune.rs");
    let marked: String = tuned
        .lines()
        .skip_while(|l| l.trim() != "// README begin")
        .skip(1)
        .take_while(|l| l.trim() != "// README end")
        .map(|l| format!("{}\n", l.strip_prefix("    ").unwrap_or(l)))
        .collect();
    assert!(!marked.is_empty(), "no README markers in readme_autotune.rs");
    assert_eq!(blocks[1], marked);
    readme::run()?;
    readme_autotune::run()
}

/// docs/language.md's kernel is kernel-language text that the front end
/// accepts and lowers.
#[test]
fn the_language_guides_kernel_checks() -> Result<(), tritonc::Error> {
    let blocks = rust_blocks("docs/language.md");
    assert_eq!(
        blocks.len(),
        1,
        "docs/language.md's ```rust blocks changed: cover the new ones here"
    );
    let consts = [("BLOCK".to_string(), tritonc::sema::ConstArg::Int(1024))].into();
    let checked = tritonc::driver::check(&tritonc::syntax::SourceFile::new("language.md", &blocks[0]), &consts)?;
    assert_eq!(checked.kernels, ["add"]);
    Ok(())
}
