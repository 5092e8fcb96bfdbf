//! The parser on what the dumps rarely hold: constants of every type
//! (the hex bit patterns of infinities and NaNs included) read back to the
//! same bits, and errors that say where and what.

use tritonc_ir::{
    parse_function, parse_module, print_function, ConstValue, Elem, Function, Loc, OpKind, ScalarType, Type,
};

/// A kernel that stores constant `c` of type `s` through a pointer.
fn storing(c: ConstValue, s: ScalarType) -> Function {
    let mut f = Function::new("k", vec![("p".into(), Type::ptr(s))], vec![]);
    f.is_kernel = true;
    let entry = f.entry;
    let p = f.params()[0];
    let op = f.append_op(
        entry,
        OpKind::Constant(c),
        vec![],
        vec![Type::scalar(s)],
        vec![],
        Loc::default(),
    );
    let v = f.op(op).results[0];
    f.append_op(
        entry,
        OpKind::Store { mask: false },
        vec![p, v],
        vec![],
        vec![],
        Loc::default(),
    );
    f.append_op(entry, OpKind::Return, vec![], vec![], vec![], Loc::default());
    f
}

#[test]
fn constants_read_back_to_the_same_value() {
    let floats = [
        0.0,
        -0.0,
        1.5,
        0.1,
        1e-40,
        3.4e38,
        1e300,
        f64::INFINITY,
        f64::NEG_INFINITY,
        f64::NAN,
        -f64::NAN,
    ];
    for s in [ScalarType::F16, ScalarType::BF16, ScalarType::F32, ScalarType::F64] {
        for x in floats {
            let f = storing(ConstValue::Float(x), s);
            let text = print_function(&f);
            let back = parse_function(&text).unwrap_or_else(|e| panic!("{e}\n{text}"));
            assert_eq!(print_function(&back), text);
            let OpKind::Constant(ConstValue::Float(y)) = back.op(back.block(back.entry).ops[0]).kind else {
                panic!("not a float constant: {text}");
            };
            let same = tritonc_ir::print::float_bits(x, s) == tritonc_ir::print::float_bits(y, s);
            assert!(same, "{x} as {s}: read back {y}");
        }
    }
    for s in ScalarType::ALL.into_iter().filter(|s| s.is_int()) {
        for v in [
            0i64,
            1,
            -1,
            127,
            -128,
            255,
            i64::from(i32::MIN),
            i64::from(u32::MAX),
            i64::MAX,
            i64::MIN,
        ] {
            // The front end's form: the value wrapped to the type.
            let bits = s.bits();
            let w = if bits >= 64 {
                v
            } else if s.is_unsigned() || s.is_bool() {
                v & ((1i64 << bits) - 1)
            } else {
                (v << (64 - bits)) >> (64 - bits)
            };
            let f = storing(ConstValue::Int(w), s);
            let text = print_function(&f);
            let back = parse_function(&text).unwrap_or_else(|e| panic!("{e}\n{text}"));
            assert_eq!(print_function(&back), text);
            assert_eq!(
                back.op(back.block(back.entry).ops[0]).kind,
                OpKind::Constant(ConstValue::Int(w)),
                "{text}"
            );
            // The pointer says the signedness.
            assert_eq!(back.ty(back.params()[0]).elem, Elem::Ptr(s));
        }
    }
}

fn error(text: &str) -> String {
    match parse_module(text) {
        Ok(_) => panic!("parsed: {text}"),
        Err(e) => e.to_string(),
    }
}

const HEAD: &str = "\"builtin.module\"() ({\n  \"tk.func\"() ({\n  ^bb0(%arg0: i32):\n";
const TAIL: &str = "    \"tk.return\"() : () -> ()\n  }) {arg_names = [\"a\"], function_type = (i32) -> (), sym_name = \"k\"} : () -> ()\n}) : () -> ()\n";

#[test]
fn errors_say_where_and_what() {
    let with = |op: &str| format!("{HEAD}{op}\n{TAIL}");
    let cases = [
        (
            with("    %0 = \"arith.addi\"(%arg0, %9) : (i32, i32) -> (i32)"),
            "4:30: `%9` is not defined",
        ),
        (
            with("    %0 = \"arith.nope\"(%arg0) : (i32) -> (i32)"),
            "4:5: unknown operation \"arith.nope\"",
        ),
        (
            with("    %0 = \"arith.addi\"(%arg0, %arg0) : (i32, f32) -> (i32)"),
            "4:30: `%arg0` is a i32, but used as a f32",
        ),
        (
            with("    %0 = \"arith.addf\"(%arg0, %arg0) : (i32, i32) -> (i32)"),
            "does not fit its operand types",
        ),
        (
            with("    %0 = \"tk.splat\"(%arg0) : (i32) -> (tensor<3xi32, #blocked9>)"),
            "layout alias `#blocked9` is not defined",
        ),
        (
            with("    %0 = \"arith.constant\"() {value = 1.5 : f64} : () -> (f32)"),
            "must be typed `f32`",
        ),
        (
            with("    %0 = \"tk.load\"(%arg0) {mask = 1 : i32} : (i32) -> (i32)"),
            "`mask` takes no value",
        ),
        (
            with("    %0 = \"tk.reduce\"(%arg0) {axis = 0 : i32, kind = \"avg\"} : (i32) -> (i32)"),
            "has no kind \"avg\"",
        ),
        (
            with("    %0 = \"arith.addi\"(%arg0, %arg0) : (i32, i32) -> (i32"),
            "5:5: expected `)`",
        ),
        (
            format!("{HEAD}    \"tk.assert\"(%arg0) {{message = \"oops}} : (i32) -> ()\n{TAIL}"),
            "4:35: unterminated string",
        ),
    ];
    for (text, want) in cases {
        let got = error(&text);
        assert!(got.contains(want), "wanted `{want}`, got `{got}` for:\n{text}");
    }
}
