// fold: `2 + 3` becomes the constant 5 in place (the operation keeps its
// result, so no use changes); the operands are left for DCE.
// pass: fold
"builtin.module"() ({
  "tk.func"() ({
  ^bb0(%arg0: !tk.ptr<i32>):
    %0 = "arith.constant"() {value = 2 : i32} : () -> (i32)
    %1 = "arith.constant"() {value = 3 : i32} : () -> (i32)
    %2 = "arith.addi"(%0, %1) : (i32, i32) -> (i32)
    "tk.store"(%arg0, %2) : (!tk.ptr<i32>, i32) -> ()
    "tk.return"() : () -> ()
  }) {arg_names = ["out"], function_type = (!tk.ptr<i32>) -> (), sym_name = "k", tk.kernel, tk.num_stages = 2 : i32, tk.num_warps = 4 : i32} : () -> ()
}) : () -> ()
// expect:
"builtin.module"() ({
  "tk.func"() ({
  ^bb0(%arg0: !tk.ptr<i32>):
    %0 = "arith.constant"() {value = 2 : i32} : () -> (i32)
    %1 = "arith.constant"() {value = 3 : i32} : () -> (i32)
    %2 = "arith.constant"() {value = 5 : i32} : () -> (i32)
    "tk.store"(%arg0, %2) : (!tk.ptr<i32>, i32) -> ()
    "tk.return"() : () -> ()
  }) {arg_names = ["out"], function_type = (!tk.ptr<i32>) -> (), sym_name = "k", tk.kernel, tk.num_stages = 2 : i32, tk.num_warps = 4 : i32} : () -> ()
}) : () -> ()
