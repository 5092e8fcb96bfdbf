//! Unit tests of the `tritonc` library that need only its public API
//! (here, in the one end-to-end test program, rather than in a unit-test
//! program of their own, which would link LLVM and MLIR once more).

mod autotune {
    use std::time::Duration;
    use tritonc::autotune::{fastest, read_record, write_record, Config};

    #[test]
    fn configs_describe_and_answer_their_values() {
        let c = Config::new().constant("BLOCK", 256).flag("EVEN", true).num_warps(8);
        assert_eq!(c.to_string(), "BLOCK=256 EVEN=true num_warps=8");
        assert_eq!(
            (c.get("BLOCK"), c.get("EVEN"), c.get("NONE")),
            (Some(256), Some(1), None)
        );
        let c = c.constant("BLOCK", 512);
        assert_eq!(c.get("BLOCK"), Some(512));
        assert_eq!(c.consts().len(), 2);
    }

    #[test]
    fn the_fastest_working_config_wins_and_records_check_their_config() {
        let ms = |m| Some(Duration::from_millis(m));
        assert_eq!(fastest(&[ms(5), None, ms(2), ms(3)]), Some(2));
        assert_eq!(fastest(&[None, None]), None);
        let dir = std::env::temp_dir().join(format!("tritonc-tune-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let configs = vec![Config::new().constant("B", 1), Config::new().constant("B", 2)];
        let path = dir.join("x.tkt");
        write_record(&path, 1, &configs[1]);
        assert_eq!(read_record(&path, &configs), Some(1));
        // A record whose config no longer matches is ignored.
        let changed = vec![Config::new().constant("B", 1), Config::new().constant("B", 4)];
        assert_eq!(read_record(&path, &changed), None);
        std::fs::write(&path, "garbage").unwrap();
        assert_eq!(read_record(&path, &configs), None);
        let _ = std::fs::remove_dir_all(&dir);
    }
}

mod launch {
    use tritonc::{
        ir::{ScalarType, Type},
        launch::parse_scalar,
    };

    fn message(text: &str, s: ScalarType) -> String {
        parse_scalar("n", text, &Type::scalar(s)).unwrap_err().to_string()
    }

    /// Scalar arguments that do not parse say, in the language's type
    /// names, what the value should have been.
    #[test]
    fn bad_scalars_say_what_was_expected() {
        assert_eq!(
            message("abc", ScalarType::I32),
            "`n` is i32, but `abc` is not an integer"
        );
        assert_eq!(
            message("1.5", ScalarType::I64),
            "`n` is i64, but `1.5` is not an integer"
        );
        assert_eq!(
            message("-1", ScalarType::U32),
            "`n` is u32, but `-1` is not a non-negative integer"
        );
        assert_eq!(message("x", ScalarType::F32), "`n` is f32, but `x` is not a number");
        assert_eq!(
            message("yes", ScalarType::I1),
            "`n` is bool, but `yes` is not `true`, `false`, 1 or 0"
        );
        assert_eq!(
            message("300", ScalarType::U8),
            "`n` is u8, and 300 is out of its range (0 to 255)"
        );
        assert_eq!(
            message("-129", ScalarType::I8),
            "`n` is i8, and -129 is out of its range (-128 to 127)"
        );
        assert_eq!(parse_scalar("n", "4000", &Type::scalar(ScalarType::I32)).unwrap(), 4000);
        assert_eq!(parse_scalar("n", "true", &Type::scalar(ScalarType::I1)).unwrap(), 1);
    }
}

mod npy {
    use tritonc::npy::{parse, write};

    #[test]
    fn round_trip() {
        let data: Vec<u8> = [1.5f32, -2.0, 3.25].iter().flat_map(|x| x.to_le_bytes()).collect();
        let bytes = write("<f4", &[3], &data);
        assert_eq!((10 + u16::from_le_bytes([bytes[8], bytes[9]]) as usize) % 64, 0);
        let a = parse(&bytes).unwrap();
        assert_eq!(
            (a.descr.as_str(), a.shape.as_slice(), a.data.as_slice()),
            ("<f4", &[3usize][..], &data[..])
        );
    }

    #[test]
    fn reads_numpy_header_text() {
        // The header numpy 1.26 writes for np.arange(4, dtype=np.int32).reshape(2, 2).
        let mut bytes = b"\x93NUMPY\x01\x00".to_vec();
        let header = "{'descr': '<i4', 'fortran_order': False, 'shape': (2, 2), }";
        let padded = format!("{header}{}\n", " ".repeat(128 - 10 - header.len() - 1));
        bytes.extend_from_slice(&(padded.len() as u16).to_le_bytes());
        bytes.extend_from_slice(padded.as_bytes());
        for i in 0..4i32 {
            bytes.extend_from_slice(&i.to_le_bytes());
        }
        let a = parse(&bytes).unwrap();
        assert_eq!(a.shape, vec![2, 2]);
        assert_eq!(a.data.len(), 16);
    }

    #[test]
    fn rejects_garbage_without_panicking() {
        for b in [
            &b""[..],
            b"\x93NUMPY",
            b"\x93NUMPY\x01\x00\xff\xff{",
            b"\x93NUMPY\x09\x00\x00\x00",
        ] {
            assert!(parse(b).is_err());
        }
    }
}
