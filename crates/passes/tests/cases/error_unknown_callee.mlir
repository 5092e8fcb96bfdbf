// A call must name a function of the module.
// error: call to unknown function `missing`
"builtin.module"() ({
  "tk.func"() ({
  ^bb0(%arg0: f32):
    %0 = "tk.call"(%arg0) {callee = @missing} : (f32) -> (f32)
    "tk.return"() : () -> ()
  }) {arg_names = ["x"], function_type = (f32) -> (), sym_name = "k", tk.kernel, tk.num_stages = 2 : i32, tk.num_warps = 4 : i32} : () -> ()
}) : () -> ()
