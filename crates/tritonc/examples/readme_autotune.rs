// The README's autotuning snippet, in the context the README gives it
// (the kernel and buffers of its first example). A test checks that the
// README's block is the text between the `README` markers, unindented.
// `cargo run -p tritonc --example readme_autotune`

use tritonc::prelude::*;

#[kernel]
fn add<const BLOCK: i32>(x: Ptr<f32>, y: Ptr<f32>, out: Ptr<f32>, n: i32) {
    let offs = program_id(0) * BLOCK + arange(0, BLOCK);
    let mask = offs < n;
    store(out + offs, load(x + offs, mask, 0.0) + load(y + offs, mask, 0.0), mask);
}

fn main() -> Result<(), tritonc::Error> {
    let n: usize = 4000;
    let xs: Vec<f32> = (0..n).map(|i| i as f32).collect();
    let ys = vec![2.0f32; n];
    let dev = Device::default()?;
    let (x, y) = (dev.upload(&xs)?, dev.upload(&ys)?);
    let out = dev.zeros::<f32>(n)?;
    // README begin
    let tuner = Autotuner::new(vec![
        Config::new().constant("BLOCK", 256).num_warps(4),
        Config::new().constant("BLOCK", 1024).num_warps(8),
    ])
    .key(&[3]); // re-tune when argument 3 (n) changes
    let grid = |c: &Config| grid![n.div_ceil(c.get("BLOCK").unwrap() as usize)];
    add_tuned().launch(&dev, &tuner, grid, (&x, &y, &out, n as i32))?;
    // README end
    let result: Vec<f32> = out.download()?;
    assert_eq!(result[n - 1], xs[n - 1] + 2.0);
    let chosen = tuner.chosen(add_tuned().source(), &[n as u64]);
    println!(
        "the tuner chose {}",
        chosen.map_or("nothing".to_string(), |c| c.to_string())
    );
    Ok(())
}
