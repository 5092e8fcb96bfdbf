// dce: the product, the unused load and the difference of them are dead
// (the difference first, then what only it used); the sum that is stored,
// the store and the terminator stay.
// pass: dce
"builtin.module"() ({
  "tk.func"() ({
  ^bb0(%arg0: !tk.ptr<f32>, %arg1: f32):
    %0 = "arith.constant"() {value = 1.0 : f32} : () -> (f32)
    %1 = "arith.addf"(%arg1, %0) : (f32, f32) -> (f32)
    %2 = "arith.mulf"(%1, %1) : (f32, f32) -> (f32)
    %3 = "tk.load"(%arg0) : (!tk.ptr<f32>) -> (f32)
    %4 = "arith.subf"(%2, %3) : (f32, f32) -> (f32)
    "tk.store"(%arg0, %1) : (!tk.ptr<f32>, f32) -> ()
    "tk.return"() : () -> ()
  }) {arg_names = ["p", "x"], function_type = (!tk.ptr<f32>, f32) -> (), sym_name = "k", tk.kernel, tk.num_stages = 2 : i32, tk.num_warps = 4 : i32} : () -> ()
}) : () -> ()
// expect:
"builtin.module"() ({
  "tk.func"() ({
  ^bb0(%arg0: !tk.ptr<f32>, %arg1: f32):
    %0 = "arith.constant"() {value = 1.0 : f32} : () -> (f32)
    %1 = "arith.addf"(%arg1, %0) : (f32, f32) -> (f32)
    "tk.store"(%arg0, %1) : (!tk.ptr<f32>, f32) -> ()
    "tk.return"() : () -> ()
  }) {arg_names = ["p", "x"], function_type = (!tk.ptr<f32>, f32) -> (), sym_name = "k", tk.kernel, tk.num_stages = 2 : i32, tk.num_warps = 4 : i32} : () -> ()
}) : () -> ()
