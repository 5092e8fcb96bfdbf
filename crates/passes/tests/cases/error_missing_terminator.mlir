// A function body must end in tk.return.
// error: a terminator must end its block
"builtin.module"() ({
  "tk.func"() ({
  ^bb0(%arg0: !tk.ptr<i32>):
    %0 = "arith.constant"() {value = 1 : i32} : () -> (i32)
    "tk.store"(%arg0, %0) : (!tk.ptr<i32>, i32) -> ()
  }) {arg_names = ["out"], function_type = (!tk.ptr<i32>) -> (), sym_name = "k", tk.kernel, tk.num_stages = 2 : i32, tk.num_warps = 4 : i32} : () -> ()
}) : () -> ()
