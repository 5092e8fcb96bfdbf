//! The front end and the pass pipeline on the example kernels: the result
//! verifies, and each pass leaves its mark.

use std::collections::BTreeMap;
use tritonc_ir::{print_module, OpKind};
use tritonc_sema::{lower_kernel, ConstArg};
use tritonc_syntax::{parse, SourceFile};

fn lower(file: &str, kernel: &str, consts: &[(&str, ConstArg)]) -> tritonc_ir::Module {
    let path = format!("{}/../../dsl-examples/{file}", env!("CARGO_MANIFEST_DIR"));
    let src = SourceFile::new(file, std::fs::read_to_string(path).unwrap());
    let ast = parse(&src).unwrap_or_else(|e| panic!("{e}"));
    let consts: BTreeMap<String, ConstArg> = consts.iter().map(|(k, v)| (k.to_string(), *v)).collect();
    lower_kernel(&ast, kernel, &consts).unwrap_or_else(|d| panic!("{}", d.render(&src)))
}

fn count(m: &tritonc_ir::Module, pred: impl Fn(&OpKind) -> bool) -> usize {
    m.functions
        .iter()
        .map(|f| f.walk().iter().filter(|op| pred(&f.op(**op).kind)).count())
        .sum()
}

#[test]
fn pipeline_inlines_folds_and_merges() {
    let mut m = lower(
        "elementwise.tk",
        "activations",
        &[("BLOCK", ConstArg::Int(256)), ("CLAMP", ConstArg::Bool(true))],
    );
    tritonc_ir::verify_module(&m).unwrap();
    assert_eq!(m.functions.len(), 3, "the kernel and two helper instances");
    assert_eq!(count(&m, |k| matches!(k, OpKind::Call(_))), 2);
    tritonc_passes::run_pipeline(&mut m).unwrap();
    assert_eq!(m.functions.len(), 1, "helpers are gone after inlining");
    assert_eq!(count(&m, |k| matches!(k, OpKind::Call(_))), 0);
    // CSE: the constant 1.0 (used by gelu and by exp(v) - 1.0) exists once.
    let text = print_module(&m);
    assert_eq!(text.matches("value = 1.0 : f32").count(), 1, "{text}");
}

#[test]
fn constant_if_keeps_only_the_taken_branch() {
    let with = lower(
        "elementwise.tk",
        "activations",
        &[("BLOCK", ConstArg::Int(64)), ("CLAMP", ConstArg::Bool(true))],
    );
    let without = lower(
        "elementwise.tk",
        "activations",
        &[("BLOCK", ConstArg::Int(64)), ("CLAMP", ConstArg::Bool(false))],
    );
    assert_eq!(count(&with, |k| matches!(k, OpKind::If)), 0);
    assert_eq!(
        count(&with, |k| matches!(k, OpKind::Call(c) if c.starts_with("clamp"))),
        1
    );
    assert_eq!(
        count(&without, |k| matches!(k, OpKind::Call(c) if c.starts_with("clamp"))),
        0
    );
}

#[test]
fn loops_carry_values_and_static_range_unrolls() {
    let mut m = lower("elementwise.tk", "shifted_sum", &[("BLOCK", ConstArg::Int(128))]);
    assert_eq!(count(&m, |k| matches!(k, OpKind::For)), 1);
    assert_eq!(count(&m, |k| matches!(k, OpKind::While)), 1);
    let f = &m.functions[0];
    let for_op = f
        .walk()
        .into_iter()
        .find(|op| matches!(f.op(*op).kind, OpKind::For))
        .unwrap();
    assert_eq!(f.op(for_op).results.len(), 1, "acc is carried");
    let while_op = f
        .walk()
        .into_iter()
        .find(|op| matches!(f.op(*op).kind, OpKind::While))
        .unwrap();
    assert_eq!(f.op(while_op).results.len(), 2, "acc and k are carried");
    tritonc_passes::run_pipeline(&mut m).unwrap();
    // static_range(0, 2) subtracts 0 and then 1: folding removes `- 0`.
    let subs = count(&m, |k| matches!(k, OpKind::Binary(tritonc_ir::BinaryOp::Sub)));
    assert_eq!(subs, 1, "{}", print_module(&m));
}
