// The parser solves signedness from the operations: one value cannot be
// divided as unsigned and as signed.
// error: needs signed integers
"builtin.module"() ({
  "tk.func"() ({
  ^bb0(%arg0: i32, %arg1: i32):
    %0 = "arith.divui"(%arg0, %arg1) : (i32, i32) -> (i32)
    %1 = "arith.divsi"(%arg0, %arg1) : (i32, i32) -> (i32)
    "tk.return"() : () -> ()
  }) {arg_names = ["a", "b"], function_type = (i32, i32) -> (), sym_name = "k", tk.kernel, tk.num_stages = 2 : i32, tk.num_warps = 4 : i32} : () -> ()
}) : () -> ()
