// Dist IR: a 32x32 MFMA accumulator layout on a 32x64 block.
// lanes: 64
// error: a 32x32 matrix layout
#mfma0 = #tk.mfma<{instr = [32, 32, 8], waves = [1, 1], tiles_per_wave = [1, 1]}>
"tk.func"() ({
^bb0(%arg0: f32):
  %0 = "tk.splat"(%arg0) : (f32) -> (tensor<32x64xf32, #mfma0>)
  "tk.return"() : () -> ()
}) {arg_names = ["x"], function_type = (f32) -> (), sym_name = "k", tk.kernel, tk.num_stages = 2 : i32, tk.num_warps = 1 : i32} : () -> ()
