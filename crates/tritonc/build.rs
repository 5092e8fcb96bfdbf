//! Links the `tritonc-compiler` program as a fixed-address executable.

fn main() {
    // The compiler program is linked as a fixed-address executable, not
    // a position-independent one: LLVM and MLIR, linked in statically,
    // bring 300,000 pointers that the dynamic loader would otherwise
    // relocate at every start (a 7 MB relocation table read, and the pages
    // it patches copied): `tritonc --version` went from 23.1 to 19.2 ms
    // (median of 31; 1996 -> 1446 page faults), and the program from 270
    // to 214 MB. Only the program; libraries are unaffected.
    if std::env::var("CARGO_CFG_TARGET_OS").as_deref() == Ok("linux") {
        println!("cargo:rustc-link-arg-bin=tritonc-compiler=-no-pie");
    }
}
