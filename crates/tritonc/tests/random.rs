//! Philox random numbers against an independent implementation of
//! Philox 4x32-10 (checked against the Random123 known-answer vector) and
//! Triton's conversions to floats.

mod common;
use common::*;

/// Philox 4x32-10 (Salmon et al., SC'11), written from the paper's
/// description, not from the compiler's code.
fn philox4x32_10(mut ctr: [u32; 4], mut key: [u32; 2]) -> [u32; 4] {
    for _ in 0..10 {
        let p0 = u64::from(0xD251_1F53u32) * u64::from(ctr[0]);
        let p1 = u64::from(0xCD9E_8D57u32) * u64::from(ctr[2]);
        ctr = [
            ((p1 >> 32) as u32) ^ ctr[1] ^ key[0],
            p1 as u32,
            ((p0 >> 32) as u32) ^ ctr[3] ^ key[1],
            p0 as u32,
        ];
        key = [key[0].wrapping_add(0x9E37_79B9), key[1].wrapping_add(0xBB67_AE85)];
    }
    ctr
}

fn uniform(x: u32) -> f32 {
    let i = x as i32;
    let i = if i < 0 { -1 - i } else { i };
    i as f32 * 4.656_612_7e-10_f32
}

#[test]
fn reference_matches_the_random123_known_answer() {
    assert_eq!(
        philox4x32_10([0; 4], [0; 2]),
        [0x6627_e8d5, 0xe169_c58d, 0xbc57_ac4c, 0x9b00_dbd8]
    );
}

#[test]
fn randint_rand_and_randn_match_the_reference() {
    let src = r#"
#[kernel]
fn k<const B: i32>(ints: Ptr<u32>, unif: Ptr<f32>, norm: Ptr<f32>, seed: i64, base: i32) {
    let o = program_id(0) * B + arange(0, B);
    store(ints + o, randint(seed, o + base));
    store(unif + o, rand(seed, o + base));
    store(norm + o, randn(seed, o + base));
}
"#;
    for (seed, base) in [(0i64, 0i32), (42, 1000), (0x1234_5678_9abc_def0, -77)] {
        let n = 512usize;
        let args = run(
            src,
            "k",
            &[("B", 128)],
            [4, 1, 1],
            vec![
                buf(&vec![0u32; n], |x| x.to_le_bytes().to_vec()),
                f32s(&vec![0.0; n]),
                f32s(&vec![0.0; n]),
                tritonc::launch::Arg::Scalar(seed as u64),
                scalar_i32(base),
            ],
        );
        let ints: Vec<u32> = bytes_of(&args[0])
            .chunks(4)
            .map(|c| u32::from_le_bytes([c[0], c[1], c[2], c[3]]))
            .collect();
        let unif = as_f32(&args[1]);
        let norm = as_f32(&args[2]);
        let key = [seed as u64 as u32, ((seed as u64) >> 32) as u32];
        for i in 0..n {
            let ctr = [(i as i32 + base) as u32, 0, 0, 0];
            let r = philox4x32_10(ctr, key);
            assert_eq!(ints[i], r[0], "randint seed={seed} offset={}", i as i32 + base);
            assert_eq!(unif[i].to_bits(), uniform(r[0]).to_bits(), "rand at {i}");
            assert!((0.0..1.0).contains(&unif[i]));
            // Box-Muller in f64 from the same uniforms; f32 log/cos/sqrt agree
            // to a few ulp.
            let u1 = f64::from(uniform(r[0]).max(1.0e-7));
            let u2 = f64::from(uniform(r[1]));
            let want = (-2.0 * u1.ln()).sqrt() * (std::f64::consts::TAU * u2).cos();
            assert!(
                (f64::from(norm[i]) - want).abs() <= 1e-5 * want.abs().max(1.0),
                "randn at {i}: {} vs {want}",
                norm[i]
            );
        }
    }
}

#[test]
fn dropout_keeps_elements_where_rand_exceeds_p() {
    let src = include_str!("../../../dsl-examples/dropout.tk");
    let n = 1000usize;
    let x: Vec<f32> = (0..n).map(|i| i as f32 + 1.0).collect();
    let (p, seed) = (0.5f32, 123i32);
    let args = run(
        src,
        "seeded_dropout",
        &[("BLOCK", 256)],
        [4, 1, 1],
        vec![
            f32s(&x),
            f32s(&vec![-1.0; n]),
            scalar_i32(n as i32),
            scalar_f32(p),
            scalar_i32(seed),
        ],
    );
    let out = as_f32(&args[1]);
    let mut kept = 0;
    for i in 0..n {
        let r = uniform(philox4x32_10([i as u32, 0, 0, 0], [seed as u32, 0])[0]);
        let want = if r > p { x[i] / (1.0 - p) } else { 0.0 };
        assert_eq!(out[i], want, "i={i}");
        kept += usize::from(r > p);
    }
    // About half survive.
    assert!((400..600).contains(&kept), "{kept} kept");
}
