//! Parse, type-check and lower every kernel of the input, then run the pass
//! pipeline (which verifies after every pass). Const generics get small
//! power-of-two values. Errors are fine; panics and verifier failures are
//! bugs.
#![no_main]

use libfuzzer_sys::fuzz_target;
use std::collections::BTreeMap;
use tritonc_sema::{lower_kernel, ConstArg};
use tritonc_syntax::{parse, SourceFile};

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else { return };
    let file = SourceFile::new("fuzz.tk", text);
    let Ok(ast) = parse(&file) else { return };
    for k in ast.kernels() {
        let consts: BTreeMap<String, ConstArg> = k
            .const_params
            .iter()
            .map(|c| {
                let v = if c.ty.name == "bool" { ConstArg::Bool(true) } else { ConstArg::Int(16) };
                (c.name.name.clone(), v)
            })
            .collect();
        if let Ok(mut m) = lower_kernel(&ast, &k.name.name, &consts) {
            tritonc_passes::run_pipeline(&mut m).expect("the verifier accepts what the front end and passes produce");
        }
    }
});
