// Dist IR: only a tk.convert_layout puts a block in shared memory.
// lanes: 64
// error: is in shared memory but not a conversion's result
#shared = #tk.shared
"tk.func"() ({
^bb0(%arg0: f32):
  %0 = "tk.splat"(%arg0) : (f32) -> (tensor<128xf32, #shared>)
  "tk.return"() : () -> ()
}) {arg_names = ["x"], function_type = (f32) -> (), sym_name = "k", tk.kernel, tk.num_stages = 2 : i32, tk.num_warps = 1 : i32} : () -> ()
