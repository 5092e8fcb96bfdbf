use tritonc::driver::{compile, CompileRequest};
use tritonc::sema::ConstArg;
#[test]
fn scratch() {
    for (file, k, consts) in [("vector_add.tk", "add", vec![("BLOCK", ConstArg::Int(1024))]),
        ("elementwise.tk", "activations", vec![("BLOCK", ConstArg::Int(256)), ("CLAMP", ConstArg::Bool(true))]),
        ("elementwise.tk", "shifted_sum", vec![("BLOCK", ConstArg::Int(128))])] {
        let path = format!("{}/../../dsl-examples/{file}", env!("CARGO_MANIFEST_DIR"));
        let src = tritonc::syntax::SourceFile::new(file, std::fs::read_to_string(path).unwrap());
        let mut req = CompileRequest::new(src);
        req.kernel = Some(k.into());
        req.consts = consts.into_iter().map(|(a, b)| (a.to_string(), b)).collect();
        for t in ["gfx942", "gfx1100", "host"] {
            let target = tritonc::codegen::target::lookup(t).unwrap();
            match compile(&req, target.as_ref()) {
                Ok(c) => { println!("{k} {t}: {:?}", c.timings); std::fs::create_dir_all(format!("/tmp/emit/{k}-{t}")).unwrap(); for s in &c.stages { std::fs::write(format!("/tmp/emit/{k}-{t}/{}", s.file_name), &s.contents).unwrap(); } }
                Err(e) => println!("{k} {t}: ERROR {e}"),
            }
        }
    }
}
