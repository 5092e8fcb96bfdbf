// Dist IR: an elementwise operation takes its operands in its result's
// layout (here one operand holds 2 contiguous elements per lane, the
// other 1 per lane, repeated twice): a tk.convert_layout is missing.
// lanes: 64
// error: an elementwise operand is not in its result's layout
#blocked0 = #tk.blocked<{size_per_lane = [2], lanes_per_wave = [64], waves = [1], repeats = [1], order = [0], replicated = false}>
#blocked1 = #tk.blocked<{size_per_lane = [1], lanes_per_wave = [64], waves = [1], repeats = [2], order = [0], replicated = false}>
"tk.func"() ({
^bb0(%arg0: f32):
  %0 = "tk.splat"(%arg0) : (f32) -> (tensor<128xf32, #blocked0>)
  %1 = "tk.splat"(%arg0) : (f32) -> (tensor<128xf32, #blocked1>)
  %2 = "arith.addf"(%0, %1) : (tensor<128xf32, #blocked0>, tensor<128xf32, #blocked1>) -> (tensor<128xf32, #blocked0>)
  "tk.return"() : () -> ()
}) {arg_names = ["x"], function_type = (f32) -> (), sym_name = "k", tk.kernel, tk.num_stages = 2 : i32, tk.num_warps = 1 : i32} : () -> ()
