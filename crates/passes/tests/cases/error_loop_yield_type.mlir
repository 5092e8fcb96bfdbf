// A loop must yield its carried values' types.
// error: yielded values must match the results
"builtin.module"() ({
  "tk.func"() ({
  ^bb0(%arg0: i32):
    %0 = "arith.constant"() {value = 0 : i32} : () -> (i32)
    %1 = "arith.constant"() {value = 1 : i32} : () -> (i32)
    %2 = "arith.constant"() {value = 0.0 : f32} : () -> (f32)
    %3 = "scf.for"(%0, %arg0, %1, %0) ({
    ^bb0(%4: i32, %5: i32):
      "scf.yield"(%2) : (f32) -> ()
    }) : (i32, i32, i32, i32) -> (i32)
    "tk.return"() : () -> ()
  }) {arg_names = ["n"], function_type = (i32) -> (), sym_name = "k", tk.kernel, tk.num_stages = 2 : i32, tk.num_warps = 4 : i32} : () -> ()
}) : () -> ()
