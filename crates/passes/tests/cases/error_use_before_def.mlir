// The parser accepts a use before the definition (as MLIR does); the
// verifier rejects it.
// error: used before its definition
"builtin.module"() ({
  "tk.func"() ({
  ^bb0(%arg0: !tk.ptr<i32>):
    %0 = "arith.addi"(%1, %1) : (i32, i32) -> (i32)
    %1 = "arith.constant"() {value = 1 : i32} : () -> (i32)
    "tk.store"(%arg0, %0) : (!tk.ptr<i32>, i32) -> ()
    "tk.return"() : () -> ()
  }) {arg_names = ["out"], function_type = (!tk.ptr<i32>) -> (), sym_name = "k", tk.kernel, tk.num_stages = 2 : i32, tk.num_warps = 4 : i32} : () -> ()
}) : () -> ()
