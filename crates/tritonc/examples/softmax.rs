// Fused softmax with `#[kernel]`, one row per program.
// `cargo run -p tritonc --example softmax`

use tritonc::prelude::*;

#[kernel(num_warps = 4)]
fn softmax<const BLOCK: i32>(out: Ptr<f32>, inp: Ptr<f32>, stride: i32, n_cols: i32) {
    let row = program_id(0);
    let cols = arange(0, BLOCK);
    let mask = cols < n_cols;
    let x = load(inp + row * stride + cols, mask, f32::NEG_INFINITY);
    let num = exp(x - max(x, 0));
    store(out + row * stride + cols, num / sum(num, 0), mask);
}

fn main() -> Result<(), tritonc::Error> {
    let (rows, cols) = (1823usize, 781usize);
    let data: Vec<f32> = (0..rows * cols).map(|i| ((i * 37) % 101) as f32 / 10.0).collect();
    let dev = Device::default()?;
    let inp = dev.upload(&data)?;
    let out = dev.zeros::<f32>(rows * cols)?;
    softmax::<1024>().launch(&dev, grid![rows], (&out, &inp, cols as i32, cols as i32))?;
    let got = out.download()?;
    // Against a plain loop in f64.
    let mut max_err = 0.0f64;
    for (row, want_row) in data.chunks(cols).enumerate() {
        let top = want_row.iter().fold(f64::NEG_INFINITY, |m, &x| m.max(f64::from(x)));
        let total: f64 = want_row.iter().map(|&x| (f64::from(x) - top).exp()).sum();
        for (col, &x) in want_row.iter().enumerate() {
            let want = (f64::from(x) - top).exp() / total;
            max_err = max_err.max((f64::from(got[row * cols + col]) - want).abs());
        }
    }
    println!("softmax of {rows}x{cols} on {}: max error {max_err:.2e}", dev.target());
    // f32 throughout, probabilities <= 1: a few ulps of 1.
    assert!(max_err < 1e-5, "max error {max_err}");
    Ok(())
}
