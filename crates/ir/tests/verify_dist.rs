//! The Dist IR verifier rejects layouts that do not fit their values or
//! their operations, and accepts what the layout pass produces (every
//! kernel the end-to-end tests compile passes it in the driver).

use std::collections::HashMap;
use tritonc_ir::{
    verify_layouts, BinaryOp, BlockedLayout, Elem, Function, Layout, Loc, MatrixFamily, MatrixInstr, MatrixLayout,
    OpKind, RegisterLayout, ScalarType, Type, Value,
};

/// `n: i32` -> `r = make_range(0, 256)`, `s = splat(n)`, `sum = r + s`;
/// each value blocked over `lanes` lanes (or uniform).
fn small_function(lanes: u32) -> (Function, [Value; 4]) {
    let i32t = Type::scalar(ScalarType::I32);
    let block = Type::block(Elem::Scalar(ScalarType::I32), vec![256]);
    let mut f = Function::new("k", vec![("n".into(), i32t)], Vec::new());
    let (entry, n) = (f.entry, f.params()[0]);
    let range = f.append_op(
        entry,
        OpKind::MakeRange { start: 0, end: 256 },
        vec![],
        vec![block.clone()],
        vec![],
        Loc::default(),
    );
    let r = f.op(range).results[0];
    let splat = f.append_op(
        entry,
        OpKind::Splat,
        vec![n],
        vec![block.clone()],
        vec![],
        Loc::default(),
    );
    let s = f.op(splat).results[0];
    let add = f.append_op(
        entry,
        OpKind::Binary(BinaryOp::Add),
        vec![r, s],
        vec![block],
        vec![],
        Loc::default(),
    );
    let sum = f.op(add).results[0];
    f.append_op(entry, OpKind::Return, vec![], vec![], vec![], Loc::default());
    let blocked = Layout::Blocked(BlockedLayout::new(256, lanes));
    f.layouts = Some(HashMap::from([
        (n, Layout::Uniform),
        (r, blocked),
        (s, blocked),
        (sum, blocked),
    ]));
    (f, [n, r, s, sum])
}

fn error(f: &Function, lanes: u32) -> String {
    verify_layouts(f, lanes)
        .expect_err("the verifier must reject this")
        .to_string()
}

#[test]
fn consistent_layouts_pass() {
    let (f, _) = small_function(64);
    verify_layouts(&f, 64).unwrap();
}

#[test]
fn a_missing_layout_is_an_error() {
    let (mut f, [_, _, _, sum]) = small_function(64);
    f.layouts.as_mut().unwrap().remove(&sum);
    assert!(error(&f, 64).contains("has no layout"));
    f.layouts = None;
    assert!(error(&f, 64).contains("without layouts"));
}

#[test]
fn a_layout_must_fit_its_value_and_the_program() {
    let (mut f, [n, r, _, _]) = small_function(64);
    // Blocked over other lanes than the program's.
    assert!(error(&f, 128).contains("over 64 lanes (the program has 128)"));
    // Of another element count.
    f.layouts
        .as_mut()
        .unwrap()
        .insert(r, Layout::Blocked(BlockedLayout::new(512, 64)));
    assert!(error(&f, 64).contains("blocked layout of 512 elements"));
    // A scalar in a block layout, a block uniform.
    let (mut f, _) = small_function(64);
    f.layouts
        .as_mut()
        .unwrap()
        .insert(n, Layout::Blocked(BlockedLayout::new(256, 64)));
    assert!(error(&f, 64).contains("scalar"));
    let (mut f, _) = small_function(64);
    f.layouts.as_mut().unwrap().insert(r, Layout::Uniform);
    assert!(error(&f, 64).contains("has the uniform layout"));
    // Shared memory only as a conversion's result.
    let (mut f, _) = small_function(64);
    f.layouts.as_mut().unwrap().insert(r, Layout::Shared);
    assert!(error(&f, 64).contains("not a conversion's result"));
}

#[test]
fn a_matrix_layout_needs_its_shape_and_the_programs_waves() {
    let (mut f, [_, r, _, _]) = small_function(256);
    let mfma = MatrixInstr {
        family: MatrixFamily::Mfma32,
        k: 8,
    };
    // 256 elements are not a 64x64 block.
    let m = MatrixLayout::for_block(mfma, 64, 64, 4).unwrap();
    f.layouts.as_mut().unwrap().insert(r, Layout::Matrix(m));
    assert!(error(&f, 256).contains("64x64 matrix layout"));
    // A slice of it must keep one of its dimensions.
    let slice = Layout::Slice {
        parent: RegisterLayout::Matrix(m),
        dim: 1,
    };
    f.layouts.as_mut().unwrap().insert(r, slice);
    assert!(error(&f, 256).contains("does not fit"));
}

#[test]
fn an_elementwise_operation_takes_its_operands_in_its_layout() {
    let (mut f, [_, _, s, _]) = small_function(64);
    let other = Layout::Slice {
        parent: RegisterLayout::Blocked(BlockedLayout::new(1024, 64)),
        dim: 0,
    };
    f.layouts.as_mut().unwrap().insert(s, other);
    let e = error(&f, 64);
    assert!(e.contains("elementwise operand is not in its result's layout"), "{e}");
}
