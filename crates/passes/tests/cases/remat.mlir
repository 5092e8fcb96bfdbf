// remat: a 4x1 mask (rows < n) broadcast to 4x4 is computed in the 4x4
// shape instead: a fresh row range (4x1) broadcast to 4x4 (element (i, j)
// is i), n splat directly to 4x4, and the comparison of those, which the
// store now takes; the 4x1 originals and the old broadcast are left for
// DCE.
// pass: remat
"builtin.module"() ({
  "tk.func"() ({
  ^bb0(%arg0: !tk.ptr<f32>, %arg1: i32):
    %0 = "tk.make_range"() {end = 4 : i32, start = 0 : i32} : () -> (tensor<4xi32>)
    %1 = "tk.reshape"(%0) : (tensor<4xi32>) -> (tensor<4x1xi32>)
    %2 = "tk.splat"(%arg1) : (i32) -> (tensor<4x1xi32>)
    %3 = "arith.cmpi"(%1, %2) {predicate = 2 : i64} : (tensor<4x1xi32>, tensor<4x1xi32>) -> (tensor<4x1xi1>)
    %4 = "tk.broadcast"(%3) : (tensor<4x1xi1>) -> (tensor<4x4xi1>)
    %5 = "tk.splat"(%arg0) : (!tk.ptr<f32>) -> (tensor<4x4x!tk.ptr<f32>>)
    %6 = "arith.constant"() {value = 0.0 : f32} : () -> (f32)
    %7 = "tk.splat"(%6) : (f32) -> (tensor<4x4xf32>)
    "tk.store"(%5, %7, %4) {mask} : (tensor<4x4x!tk.ptr<f32>>, tensor<4x4xf32>, tensor<4x4xi1>) -> ()
    "tk.return"() : () -> ()
  }) {arg_names = ["out", "n"], function_type = (!tk.ptr<f32>, i32) -> (), sym_name = "k", tk.kernel, tk.num_stages = 2 : i32, tk.num_warps = 4 : i32} : () -> ()
}) : () -> ()
// expect:
"builtin.module"() ({
  "tk.func"() ({
  ^bb0(%arg0: !tk.ptr<f32>, %arg1: i32):
    %0 = "tk.make_range"() {end = 4 : i32, start = 0 : i32} : () -> (tensor<4xi32>)
    %1 = "tk.reshape"(%0) : (tensor<4xi32>) -> (tensor<4x1xi32>)
    %2 = "tk.splat"(%arg1) : (i32) -> (tensor<4x1xi32>)
    %3 = "arith.cmpi"(%1, %2) {predicate = 2 : i64} : (tensor<4x1xi32>, tensor<4x1xi32>) -> (tensor<4x1xi1>)
    %4 = "tk.make_range"() {end = 4 : i32, start = 0 : i32} : () -> (tensor<4xi32>)
    %5 = "tk.reshape"(%4) : (tensor<4xi32>) -> (tensor<4x1xi32>)
    %6 = "tk.broadcast"(%5) : (tensor<4x1xi32>) -> (tensor<4x4xi32>)
    %7 = "tk.splat"(%arg1) : (i32) -> (tensor<4x4xi32>)
    %8 = "arith.cmpi"(%6, %7) {predicate = 2 : i64} : (tensor<4x4xi32>, tensor<4x4xi32>) -> (tensor<4x4xi1>)
    %9 = "tk.broadcast"(%3) : (tensor<4x1xi1>) -> (tensor<4x4xi1>)
    %10 = "tk.splat"(%arg0) : (!tk.ptr<f32>) -> (tensor<4x4x!tk.ptr<f32>>)
    %11 = "arith.constant"() {value = 0.0 : f32} : () -> (f32)
    %12 = "tk.splat"(%11) : (f32) -> (tensor<4x4xf32>)
    "tk.store"(%10, %12, %8) {mask} : (tensor<4x4x!tk.ptr<f32>>, tensor<4x4xf32>, tensor<4x4xi1>) -> ()
    "tk.return"() : () -> ()
  }) {arg_names = ["out", "n"], function_type = (!tk.ptr<f32>, i32) -> (), sym_name = "k", tk.kernel, tk.num_stages = 2 : i32, tk.num_warps = 4 : i32} : () -> ()
}) : () -> ()
