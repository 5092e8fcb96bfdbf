// The verifier rejects a binary operation whose operands differ in type.
// error: binary operands and result must have one type
"builtin.module"() ({
  "tk.func"() ({
  ^bb0(%arg0: i32, %arg1: i64):
    %0 = "arith.addi"(%arg0, %arg1) : (i32, i64) -> (i32)
    "tk.return"() : () -> ()
  }) {arg_names = ["a", "b"], function_type = (i32, i64) -> (), sym_name = "k", tk.kernel, tk.num_stages = 2 : i32, tk.num_warps = 4 : i32} : () -> ()
}) : () -> ()
