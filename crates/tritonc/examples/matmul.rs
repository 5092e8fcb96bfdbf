// The matmul tutorial with `#[kernel]` and autotuning: the tile sizes are
// picked by timing candidates on the device at the first launch (and
// remembered in the kernel cache). Runs on the first AMD GPU, else the CPU.
// `cargo run --release -p tritonc --example matmul` (`TRITONC_LOG=tune`
// shows the trials).

use tritonc::prelude::*;

#[kernel(num_warps = 4)]
fn matmul<const BLOCK_M: i32, const BLOCK_N: i32, const BLOCK_K: i32, const GROUP_M: i32>(
    a: Ptr<f16>,
    b: Ptr<f16>,
    c: Ptr<f32>,
    m: i32,
    n: i32,
    k: i32,
) {
    // Grouped ordering of the tiles, for L2 reuse.
    let pid = program_id(0);
    let num_pid_m = cdiv(m, BLOCK_M);
    let num_pid_n = cdiv(n, BLOCK_N);
    let num_pid_in_group = GROUP_M * num_pid_n;
    let first_pid_m = (pid / num_pid_in_group) * GROUP_M;
    let group_size_m = minimum(num_pid_m - first_pid_m, GROUP_M);
    let pid_m = first_pid_m + (pid % num_pid_in_group) % group_size_m;
    let pid_n = (pid % num_pid_in_group) / group_size_m;

    let rows = expand_dims(pid_m * BLOCK_M + arange(0, BLOCK_M), 1);
    let cols = expand_dims(pid_n * BLOCK_N + arange(0, BLOCK_N), 0);
    let ks = arange(0, BLOCK_K);
    let mut acc = zeros([BLOCK_M, BLOCK_N], f32);
    for step in 0..cdiv(k, BLOCK_K) {
        let kk = step * BLOCK_K + ks;
        let a_tile = load(
            a + rows * k + expand_dims(kk, 0),
            (rows < m) & (expand_dims(kk, 0) < k),
            0.0,
        );
        let b_tile = load(
            b + expand_dims(kk, 1) * n + cols,
            (expand_dims(kk, 1) < k) & (cols < n),
            0.0,
        );
        acc = dot(a_tile, b_tile, acc);
    }
    store(c + rows * n + cols, acc, (rows < m) & (cols < n));
}

fn main() -> Result<(), tritonc::Error> {
    let (m, n, k) = (200usize, 136usize, 96usize);
    let av: Vec<f32> = (0..m * k).map(|i| ((i * 7 % 23) as f32 - 11.0) / 16.0).collect();
    let bv: Vec<f32> = (0..k * n).map(|i| ((i * 5 % 19) as f32 - 9.0) / 16.0).collect();
    let dev = Device::default()?;
    let a = dev.upload(&av.iter().map(|x| F16::from_f32(*x)).collect::<Vec<_>>())?;
    let b = dev.upload(&bv.iter().map(|x| F16::from_f32(*x)).collect::<Vec<_>>())?;
    let c = dev.zeros::<f32>(m * n)?;
    let tile = |bm: i64, bn: i64, bk: i64| {
        Config::new()
            .constant("BLOCK_M", bm)
            .constant("BLOCK_N", bn)
            .constant("BLOCK_K", bk)
            .constant("GROUP_M", 4)
    };
    // Tune per problem size: the key is the arguments m, n, k.
    // (`num_stages(1)`: without software pipelining, fewer registers.)
    let tuner = Autotuner::new(vec![
        tile(32, 32, 32),
        tile(64, 32, 32),
        tile(64, 32, 32).num_stages(1),
        tile(32, 64, 16),
    ])
    .key(&[3, 4, 5]);
    let grid = |cfg: &Config| {
        let (bm, bn) = (cfg.get("BLOCK_M").unwrap_or(32), cfg.get("BLOCK_N").unwrap_or(32));
        grid![m.div_ceil(bm as usize) * n.div_ceil(bn as usize)]
    };
    matmul_tuned().launch(&dev, &tuner, grid, (&a, &b, &c, m as i32, n as i32, k as i32))?;
    let got = c.download()?;
    let mut max_err = 0.0f32;
    for i in 0..m {
        for j in 0..n {
            let want: f32 = (0..k).map(|p| av[i * k + p] * bv[p * n + j]).sum();
            max_err = max_err.max((got[i * n + j] - want).abs());
        }
    }
    let key = [m as u64, n as u64, k as u64];
    let chosen = tuner.chosen(matmul_tuned().source(), &key).map(|c| c.to_string());
    println!(
        "matmul {m}x{k} @ {k}x{n} on {}: tiles {}, max error {max_err}",
        dev.target(),
        chosen.unwrap_or_default()
    );
    assert!(max_err < 1e-3, "max error {max_err}");
    Ok(())
}
