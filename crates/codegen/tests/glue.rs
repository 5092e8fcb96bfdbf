#[test]
fn glue() {
    let text = std::fs::read_to_string("/tmp/g.mlir").unwrap();
    let ctx = inkwell::context::Context::create();
    let (m, _) = tritonc_codegen::llvm::mlir_to_llvm(&text, &ctx).unwrap();
    let tm = tritonc_codegen::llvm::target_machine("amdgcn-amd-amdhsa", "gfx942", "").unwrap();
    tritonc_codegen::llvm::optimize(&m, &tm).unwrap();
    let (asm, obj) = tritonc_codegen::llvm::emit(&m, &tm).unwrap();
    println!("{}", &asm[..2000.min(asm.len())]);
    println!("obj {}", obj.len());
}
