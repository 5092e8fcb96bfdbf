//! Compile errors of `#[kernel]` (trybuild): each points at the user's
//! token, and launches are typed.

#[test]
fn kernel_macro_compile_errors() {
    let t = trybuild::TestCases::new();
    t.compile_fail("tests/ui/*.rs");
}
