// Dist IR: this blocked layout spreads 128 elements over 128 lanes, but
// the program (one wave of 64 lanes) has 64: the parser, told the lanes,
// finds no blocked layout over 64 lanes that prints so.
// lanes: 64
// error: not a blocked layout of 128 elements over 64 lanes
#blocked0 = #tk.blocked<{size_per_lane = [1], lanes_per_wave = [64], waves = [2], repeats = [1], order = [0], replicated = false}>
"tk.func"() ({
^bb0(%arg0: f32):
  %0 = "tk.splat"(%arg0) : (f32) -> (tensor<128xf32, #blocked0>)
  "tk.return"() : () -> ()
}) {arg_names = ["x"], function_type = (f32) -> (), sym_name = "k", tk.kernel, tk.num_stages = 2 : i32, tk.num_warps = 1 : i32} : () -> ()
