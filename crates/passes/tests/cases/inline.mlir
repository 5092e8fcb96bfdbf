// inline: both calls of the helper become copies of its body (the second
// takes the first's result), and the helper, no kernel, is dropped.
// pass: inline
"builtin.module"() ({
  "tk.func"() ({
  ^bb0(%arg0: f32):
    %0 = "arith.constant"() {value = 2.0 : f32} : () -> (f32)
    %1 = "arith.mulf"(%arg0, %0) : (f32, f32) -> (f32)
    "tk.return"(%1) : (f32) -> ()
  }) {arg_names = ["x"], function_type = (f32) -> (f32), sym_name = "twice"} : () -> ()
  "tk.func"() ({
  ^bb0(%arg0: !tk.ptr<f32>, %arg1: f32):
    %0 = "tk.call"(%arg1) {callee = @twice} : (f32) -> (f32)
    %1 = "tk.call"(%0) {callee = @twice} : (f32) -> (f32)
    "tk.store"(%arg0, %1) : (!tk.ptr<f32>, f32) -> ()
    "tk.return"() : () -> ()
  }) {arg_names = ["out", "x"], function_type = (!tk.ptr<f32>, f32) -> (), sym_name = "k", tk.kernel, tk.num_stages = 2 : i32, tk.num_warps = 4 : i32} : () -> ()
}) : () -> ()
// expect:
"builtin.module"() ({
  "tk.func"() ({
  ^bb0(%arg0: !tk.ptr<f32>, %arg1: f32):
    %0 = "arith.constant"() {value = 2.0 : f32} : () -> (f32)
    %1 = "arith.mulf"(%arg1, %0) : (f32, f32) -> (f32)
    %2 = "arith.constant"() {value = 2.0 : f32} : () -> (f32)
    %3 = "arith.mulf"(%1, %2) : (f32, f32) -> (f32)
    "tk.store"(%arg0, %3) : (!tk.ptr<f32>, f32) -> ()
    "tk.return"() : () -> ()
  }) {arg_names = ["out", "x"], function_type = (!tk.ptr<f32>, f32) -> (), sym_name = "k", tk.kernel, tk.num_stages = 2 : i32, tk.num_warps = 4 : i32} : () -> ()
}) : () -> ()
