use std::collections::BTreeMap;
use tritonc_sema::{lower_kernel, ConstArg};
use tritonc_syntax::{parse, SourceFile};

#[test]
fn smoke() {
    for (file, kernel, consts) in [
        ("vector_add.tk", "add", vec![("BLOCK", ConstArg::Int(1024))]),
        ("elementwise.tk", "activations", vec![("BLOCK", ConstArg::Int(256)), ("CLAMP", ConstArg::Bool(true))]),
        ("elementwise.tk", "shifted_sum", vec![("BLOCK", ConstArg::Int(128))]),
    ] {
        let path = format!("{}/../../dsl-examples/{file}", env!("CARGO_MANIFEST_DIR"));
        let src = SourceFile::new(file, std::fs::read_to_string(path).unwrap());
        let ast = parse(&src).unwrap_or_else(|e| panic!("{e}"));
        let consts: BTreeMap<String, ConstArg> = consts.into_iter().map(|(k, v)| (k.to_string(), v)).collect();
        let mut m = lower_kernel(&ast, kernel, &consts).unwrap_or_else(|d| panic!("{}", d.render(&src)));
        println!("{}", tritonc_ir::print_module(&m));
        tritonc_passes::run_pipeline(&mut m).unwrap();
        println!("{}", tritonc_ir::print_module(&m));
    }
}
