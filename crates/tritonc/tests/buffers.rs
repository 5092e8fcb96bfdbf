//! Buffers of the typed API on the CPU backend: copies in and out
//! (`upload`, `download`, `write_from`, `read_into`) of every kind of
//! element, length mismatches, and devices, buffers, launchers and tuners
//! shared between threads.

use tritonc::prelude::*;

#[kernel]
fn add_one<const BLOCK: i32>(x: Ptr<f32>, out: Ptr<f32>, n: i32) {
    let offs = program_id(0) * BLOCK + arange(0, BLOCK);
    let mask = offs < n;
    store(out + offs, load(x + offs, mask, 0.0) + 1.0, mask);
}

#[kernel]
fn flip<const BLOCK: i32>(x: Ptr<bool>, n: i32) {
    let offs = program_id(0) * BLOCK + arange(0, BLOCK);
    let mask = offs < n;
    let v = load(x + offs, mask, false);
    store(x + offs, v == false, mask);
}

/// Every way in and out gives back the values put in.
fn round_trip<T: tritonc::api::Element + PartialEq + std::fmt::Debug>(
    dev: &Device,
    a: &[T],
    b: &[T],
) -> Result<(), tritonc::Error> {
    assert_eq!(a.len(), b.len());
    let buf = dev.upload(a)?;
    assert_eq!(buf.len(), a.len());
    assert_eq!(buf.download()?, a);
    let mut out = vec![T::default(); a.len()];
    buf.read_into(&mut out)?;
    assert_eq!(out, a);
    buf.write_from(b)?;
    assert_eq!(buf.download()?, b);
    buf.read_into(&mut out)?;
    assert_eq!(out, b);
    let zeros = dev.zeros::<T>(a.len())?;
    assert_eq!(zeros.download()?, vec![T::default(); a.len()]);
    zeros.write_from(a)?;
    assert_eq!(zeros.download()?, a);
    Ok(())
}

#[test]
fn buffers_of_every_element_type_copy_in_and_out() -> Result<(), tritonc::Error> {
    let dev = Device::cpu()?;
    // Lengths that end inside an 8-byte word, and an empty buffer.
    for n in [0usize, 1, 7, 13, 1000, 4099] {
        let f: Vec<f32> = (0..n).map(|i| i as f32 * 0.25 - 3.0).collect();
        let g: Vec<f32> = f.iter().map(|x| -x * 2.0).collect();
        round_trip(&dev, &f, &g)?;
        let f64s: Vec<f64> = f.iter().map(|x| f64::from(*x) / 3.0).collect();
        round_trip(&dev, &f64s, &f64s.iter().rev().copied().collect::<Vec<_>>())?;
        let ints: Vec<i64> = (0..n as i64).map(|i| i * i - 7).collect();
        round_trip(&dev, &ints, &ints.iter().map(|x| !x).collect::<Vec<_>>())?;
        let bytes: Vec<u8> = (0..n).map(|i| (i * 37) as u8).collect();
        round_trip(
            &dev,
            &bytes,
            &bytes.iter().map(|x| x.wrapping_add(1)).collect::<Vec<_>>(),
        )?;
        let small: Vec<i8> = (0..n).map(|i| (i as i8).wrapping_mul(3)).collect();
        round_trip(
            &dev,
            &small,
            &small.iter().map(|x| x.wrapping_neg()).collect::<Vec<_>>(),
        )?;
        let bools: Vec<bool> = (0..n).map(|i| i % 3 == 0).collect();
        round_trip(&dev, &bools, &bools.iter().map(|b| !b).collect::<Vec<_>>())?;
        let halves: Vec<F16> = f.iter().map(|x| F16::from_f32(*x)).collect();
        round_trip(&dev, &halves, &g.iter().map(|x| F16::from_f32(*x)).collect::<Vec<_>>())?;
        let brains: Vec<Bf16> = f.iter().map(|x| Bf16::from_f32(*x)).collect();
        round_trip(&dev, &brains, &g.iter().map(|x| Bf16::from_f32(*x)).collect::<Vec<_>>())?;
    }
    Ok(())
}

/// A slice of the wrong length is an error that says both lengths, and
/// the buffer keeps its contents.
#[test]
fn copies_of_the_wrong_length_are_errors() -> Result<(), tritonc::Error> {
    let dev = Device::cpu()?;
    let buf = dev.upload(&[1.0f32, 2.0, 3.0])?;
    let err = buf.write_from(&[1.0, 2.0]).unwrap_err();
    assert!(
        matches!(err, tritonc::Error::Usage(_))
            && err.to_string().contains("3 elements")
            && err.to_string().contains("2"),
        "{err}"
    );
    let mut long = vec![0.0f32; 4];
    let err = buf.read_into(&mut long).unwrap_err();
    assert!(
        err.to_string().contains("read_into") && err.to_string().contains('4'),
        "{err}"
    );
    assert_eq!(long, vec![0.0; 4]);
    assert_eq!(buf.download()?, vec![1.0, 2.0, 3.0]);
    let flags = dev.zeros::<bool>(5)?;
    assert!(flags.write_from(&[true; 6]).is_err());
    assert!(flags.read_into(&mut [false; 4]).is_err());
    assert_eq!(flags.download()?, vec![false; 5]);
    Ok(())
}

/// Kernels see what `write_from` wrote, and `read_into` sees what they
/// wrote, bools included (one byte each, 0 or 1).
#[test]
fn kernels_read_and_write_what_the_copies_move() -> Result<(), tritonc::Error> {
    let dev = Device::cpu()?;
    let n = 3000;
    let x = dev.zeros::<f32>(n)?;
    let out = dev.zeros::<f32>(n)?;
    let data: Vec<f32> = (0..n).map(|i| i as f32).collect();
    x.write_from(&data)?;
    add_one::<256>().launch(&dev, grid![n.div_ceil(256)], (&x, &out, n as i32))?;
    let mut got = vec![0.0f32; n];
    out.read_into(&mut got)?;
    assert!(got.iter().zip(&data).all(|(g, d)| *g == d + 1.0));

    let flags: Vec<bool> = (0..77).map(|i| i % 5 == 1).collect();
    let b = dev.upload(&flags)?;
    flip::<64>().launch(&dev, grid![2], (&b, 77))?;
    let mut back = vec![false; 77];
    b.read_into(&mut back)?;
    assert_eq!(back, flags.iter().map(|f| !f).collect::<Vec<_>>());
    b.write_from(&flags)?;
    flip::<64>().launch(&dev, grid![2], (&b, 77))?;
    assert_eq!(b.download()?, back);
    Ok(())
}

fn assert_send_sync<T: Send + Sync>(_: &T) {}

/// Devices, buffers and launchers can be shared between threads; launches
/// from several threads at once on one device all run, and right.
#[test]
fn devices_buffers_and_launchers_are_send_and_sync() -> Result<(), tritonc::Error> {
    let dev = Device::cpu()?;
    let n = 5000;
    let data: Vec<f32> = (0..n).map(|i| i as f32 * 0.5).collect();
    let x = dev.upload(&data)?;
    assert_send_sync(&dev);
    assert_send_sync(&x);
    assert_send_sync(&dev.zeros::<bool>(1)?);
    assert_send_sync(&dev.zeros::<F16>(1)?);
    assert_send_sync(&add_one::<128>());
    assert_send_sync(&dev.stream()?);
    assert_send_sync(&Autotuner::new(vec![Config::new().constant("BLOCK", 64)]));
    std::thread::scope(|s| {
        let workers: Vec<_> = (0..4)
            .map(|t| {
                let (dev, x, data) = (&dev, &x, &data);
                s.spawn(move || -> Result<(), tritonc::Error> {
                    let out = dev.zeros::<f32>(n)?;
                    let mut got = vec![0.0f32; n];
                    for round in 0..20 {
                        add_one::<128>().launch(dev, grid![n.div_ceil(128)], (x, &out, n as i32))?;
                        out.read_into(&mut got)?;
                        assert!(
                            got.iter().zip(data).all(|(g, d)| *g == d + 1.0),
                            "thread {t}, round {round}"
                        );
                        // Reads of the shared input race with nothing.
                        assert_eq!(x.download()?[n - 1], data[n - 1]);
                    }
                    Ok(())
                })
            })
            .collect();
        workers
            .into_iter()
            .try_for_each(|w| w.join().expect("a launching thread panicked"))
    })?;
    // A buffer moves to another thread and back.
    let moved = std::thread::spawn(move || x).join().expect("the thread panicked");
    assert_eq!(moved.download()?, data);
    Ok(())
}
