// Dist IR that verifies: the operand in another layout is converted to
// the result's first (no pass; parsed, verified with the program's 64
// lanes, printed back unchanged).
// lanes: 64
#blocked0 = #tk.blocked<{size_per_lane = [2], lanes_per_wave = [64], waves = [1], repeats = [1], order = [0], replicated = false}>
#blocked1 = #tk.blocked<{size_per_lane = [1], lanes_per_wave = [64], waves = [1], repeats = [2], order = [0], replicated = false}>
"tk.func"() ({
^bb0(%arg0: f32):
  %0 = "tk.splat"(%arg0) : (f32) -> (tensor<128xf32, #blocked0>)
  %1 = "tk.splat"(%arg0) : (f32) -> (tensor<128xf32, #blocked1>)
  %2 = "tk.convert_layout"(%1) : (tensor<128xf32, #blocked1>) -> (tensor<128xf32, #blocked0>)
  %3 = "arith.addf"(%0, %2) : (tensor<128xf32, #blocked0>, tensor<128xf32, #blocked0>) -> (tensor<128xf32, #blocked0>)
  "tk.return"() : () -> ()
}) {arg_names = ["x"], function_type = (f32) -> (), sym_name = "k", tk.kernel, tk.num_stages = 2 : i32, tk.num_warps = 1 : i32} : () -> ()
// expect:
#blocked0 = #tk.blocked<{size_per_lane = [2], lanes_per_wave = [64], waves = [1], repeats = [1], order = [0], replicated = false}>
#blocked1 = #tk.blocked<{size_per_lane = [1], lanes_per_wave = [64], waves = [1], repeats = [2], order = [0], replicated = false}>
"tk.func"() ({
^bb0(%arg0: f32):
  %0 = "tk.splat"(%arg0) : (f32) -> (tensor<128xf32, #blocked0>)
  %1 = "tk.splat"(%arg0) : (f32) -> (tensor<128xf32, #blocked1>)
  %2 = "tk.convert_layout"(%1) : (tensor<128xf32, #blocked1>) -> (tensor<128xf32, #blocked0>)
  %3 = "arith.addf"(%0, %2) : (tensor<128xf32, #blocked0>, tensor<128xf32, #blocked0>) -> (tensor<128xf32, #blocked0>)
  "tk.return"() : () -> ()
}) {arg_names = ["x"], function_type = (f32) -> (), sym_name = "k", tk.kernel, tk.num_stages = 2 : i32, tk.num_warps = 1 : i32} : () -> ()
