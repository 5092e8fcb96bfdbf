// pipeline (num_stages = 2): the loads of the loop's dot are issued one
// iteration ahead. Before the loop, the first tiles are loaded with the
// mask lb < ub (a loop that runs no iteration reads nothing); the loop
// carries them, and each iteration loads the next iteration's tiles with
// the advanced pointers under the mask i + 1 < ub (computed in 64 bits)
// before the dot of the current ones. The original loads are left for
// DCE.
// pass: pipeline
"builtin.module"() ({
  "tk.func"() ({
  ^bb0(%arg0: !tk.ptr<f16>, %arg1: !tk.ptr<f16>, %arg2: !tk.ptr<f32>, %arg3: i32):
    %0 = "tk.make_range"() {end = 256 : i32, start = 0 : i32} : () -> (tensor<256xi32>)
    %1 = "tk.reshape"(%0) : (tensor<256xi32>) -> (tensor<16x16xi32>)
    %2 = "tk.splat"(%arg0) : (!tk.ptr<f16>) -> (tensor<16x16x!tk.ptr<f16>>)
    %3 = "tk.addptr"(%2, %1) : (tensor<16x16x!tk.ptr<f16>>, tensor<16x16xi32>) -> (tensor<16x16x!tk.ptr<f16>>)
    %4 = "tk.splat"(%arg1) : (!tk.ptr<f16>) -> (tensor<16x16x!tk.ptr<f16>>)
    %5 = "tk.addptr"(%4, %1) : (tensor<16x16x!tk.ptr<f16>>, tensor<16x16xi32>) -> (tensor<16x16x!tk.ptr<f16>>)
    %6 = "arith.constant"() {value = 0.0 : f32} : () -> (f32)
    %7 = "tk.splat"(%6) : (f32) -> (tensor<16x16xf32>)
    %8 = "arith.constant"() {value = 0 : i32} : () -> (i32)
    %9 = "arith.constant"() {value = 1 : i32} : () -> (i32)
    %10 = "arith.constant"() {value = 16 : i32} : () -> (i32)
    %11 = "tk.splat"(%10) : (i32) -> (tensor<16x16xi32>)
    %12:3 = "scf.for"(%8, %arg3, %9, %3, %5, %7) ({
    ^bb0(%13: i32, %14: tensor<16x16x!tk.ptr<f16>>, %15: tensor<16x16x!tk.ptr<f16>>, %16: tensor<16x16xf32>):
      %17 = "tk.load"(%14) : (tensor<16x16x!tk.ptr<f16>>) -> (tensor<16x16xf16>)
      %18 = "tk.load"(%15) : (tensor<16x16x!tk.ptr<f16>>) -> (tensor<16x16xf16>)
      %19 = "tk.dot"(%17, %18, %16) : (tensor<16x16xf16>, tensor<16x16xf16>, tensor<16x16xf32>) -> (tensor<16x16xf32>)
      %20 = "tk.addptr"(%14, %11) : (tensor<16x16x!tk.ptr<f16>>, tensor<16x16xi32>) -> (tensor<16x16x!tk.ptr<f16>>)
      %21 = "tk.addptr"(%15, %11) : (tensor<16x16x!tk.ptr<f16>>, tensor<16x16xi32>) -> (tensor<16x16x!tk.ptr<f16>>)
      "scf.yield"(%20, %21, %19) : (tensor<16x16x!tk.ptr<f16>>, tensor<16x16x!tk.ptr<f16>>, tensor<16x16xf32>) -> ()
    }) : (i32, i32, i32, tensor<16x16x!tk.ptr<f16>>, tensor<16x16x!tk.ptr<f16>>, tensor<16x16xf32>) -> (tensor<16x16x!tk.ptr<f16>>, tensor<16x16x!tk.ptr<f16>>, tensor<16x16xf32>)
    %22 = "tk.splat"(%arg2) : (!tk.ptr<f32>) -> (tensor<16x16x!tk.ptr<f32>>)
    %23 = "tk.addptr"(%22, %1) : (tensor<16x16x!tk.ptr<f32>>, tensor<16x16xi32>) -> (tensor<16x16x!tk.ptr<f32>>)
    "tk.store"(%23, %12#2) : (tensor<16x16x!tk.ptr<f32>>, tensor<16x16xf32>) -> ()
    "tk.return"() : () -> ()
  }) {arg_names = ["a", "b", "c", "k_tiles"], function_type = (!tk.ptr<f16>, !tk.ptr<f16>, !tk.ptr<f32>, i32) -> (), sym_name = "k", tk.kernel, tk.num_stages = 2 : i32, tk.num_warps = 4 : i32} : () -> ()
}) : () -> ()
// expect:
"builtin.module"() ({
  "tk.func"() ({
  ^bb0(%arg0: !tk.ptr<f16>, %arg1: !tk.ptr<f16>, %arg2: !tk.ptr<f32>, %arg3: i32):
    %0 = "tk.make_range"() {end = 256 : i32, start = 0 : i32} : () -> (tensor<256xi32>)
    %1 = "tk.reshape"(%0) : (tensor<256xi32>) -> (tensor<16x16xi32>)
    %2 = "tk.splat"(%arg0) : (!tk.ptr<f16>) -> (tensor<16x16x!tk.ptr<f16>>)
    %3 = "tk.addptr"(%2, %1) : (tensor<16x16x!tk.ptr<f16>>, tensor<16x16xi32>) -> (tensor<16x16x!tk.ptr<f16>>)
    %4 = "tk.splat"(%arg1) : (!tk.ptr<f16>) -> (tensor<16x16x!tk.ptr<f16>>)
    %5 = "tk.addptr"(%4, %1) : (tensor<16x16x!tk.ptr<f16>>, tensor<16x16xi32>) -> (tensor<16x16x!tk.ptr<f16>>)
    %6 = "arith.constant"() {value = 0.0 : f32} : () -> (f32)
    %7 = "tk.splat"(%6) : (f32) -> (tensor<16x16xf32>)
    %8 = "arith.constant"() {value = 0 : i32} : () -> (i32)
    %9 = "arith.constant"() {value = 1 : i32} : () -> (i32)
    %10 = "arith.constant"() {value = 16 : i32} : () -> (i32)
    %11 = "tk.splat"(%10) : (i32) -> (tensor<16x16xi32>)
    %12 = "tk.cast"(%8) {from = "i32", to = "i64"} : (i32) -> (i64)
    %13 = "tk.cast"(%arg3) {from = "i32", to = "i64"} : (i32) -> (i64)
    %14 = "arith.constant"() {value = 0 : i64} : () -> (i64)
    %15 = "arith.addi"(%12, %14) : (i64, i64) -> (i64)
    %16 = "arith.cmpi"(%15, %13) {predicate = 2 : i64} : (i64, i64) -> (i1)
    %17 = "tk.splat"(%16) : (i1) -> (tensor<16x16xi1>)
    %18 = "tk.load"(%3, %17) {mask} : (tensor<16x16x!tk.ptr<f16>>, tensor<16x16xi1>) -> (tensor<16x16xf16>)
    %19 = "tk.splat"(%16) : (i1) -> (tensor<16x16xi1>)
    %20 = "tk.load"(%5, %19) {mask} : (tensor<16x16x!tk.ptr<f16>>, tensor<16x16xi1>) -> (tensor<16x16xf16>)
    %21:5 = "scf.for"(%8, %arg3, %9, %3, %5, %7, %18, %20) ({
    ^bb0(%22: i32, %23: tensor<16x16x!tk.ptr<f16>>, %24: tensor<16x16x!tk.ptr<f16>>, %25: tensor<16x16xf32>, %26: tensor<16x16xf16>, %27: tensor<16x16xf16>):
      %28 = "tk.addptr"(%23, %11) : (tensor<16x16x!tk.ptr<f16>>, tensor<16x16xi32>) -> (tensor<16x16x!tk.ptr<f16>>)
      %29 = "tk.addptr"(%24, %11) : (tensor<16x16x!tk.ptr<f16>>, tensor<16x16xi32>) -> (tensor<16x16x!tk.ptr<f16>>)
      %30 = "arith.constant"() {value = 1 : i32} : () -> (i32)
      %31 = "arith.addi"(%22, %30) : (i32, i32) -> (i32)
      %32 = "tk.cast"(%22) {from = "i32", to = "i64"} : (i32) -> (i64)
      %33 = "tk.cast"(%arg3) {from = "i32", to = "i64"} : (i32) -> (i64)
      %34 = "arith.constant"() {value = 1 : i64} : () -> (i64)
      %35 = "arith.addi"(%32, %34) : (i64, i64) -> (i64)
      %36 = "arith.cmpi"(%35, %33) {predicate = 2 : i64} : (i64, i64) -> (i1)
      %37 = "tk.splat"(%36) : (i1) -> (tensor<16x16xi1>)
      %38 = "tk.load"(%28, %37) {mask} : (tensor<16x16x!tk.ptr<f16>>, tensor<16x16xi1>) -> (tensor<16x16xf16>)
      %39 = "tk.splat"(%36) : (i1) -> (tensor<16x16xi1>)
      %40 = "tk.load"(%29, %39) {mask} : (tensor<16x16x!tk.ptr<f16>>, tensor<16x16xi1>) -> (tensor<16x16xf16>)
      %41 = "tk.load"(%23) : (tensor<16x16x!tk.ptr<f16>>) -> (tensor<16x16xf16>)
      %42 = "tk.load"(%24) : (tensor<16x16x!tk.ptr<f16>>) -> (tensor<16x16xf16>)
      %43 = "tk.dot"(%26, %27, %25) : (tensor<16x16xf16>, tensor<16x16xf16>, tensor<16x16xf32>) -> (tensor<16x16xf32>)
      %44 = "tk.addptr"(%23, %11) : (tensor<16x16x!tk.ptr<f16>>, tensor<16x16xi32>) -> (tensor<16x16x!tk.ptr<f16>>)
      %45 = "tk.addptr"(%24, %11) : (tensor<16x16x!tk.ptr<f16>>, tensor<16x16xi32>) -> (tensor<16x16x!tk.ptr<f16>>)
      "scf.yield"(%44, %45, %43, %38, %40) : (tensor<16x16x!tk.ptr<f16>>, tensor<16x16x!tk.ptr<f16>>, tensor<16x16xf32>, tensor<16x16xf16>, tensor<16x16xf16>) -> ()
    }) : (i32, i32, i32, tensor<16x16x!tk.ptr<f16>>, tensor<16x16x!tk.ptr<f16>>, tensor<16x16xf32>, tensor<16x16xf16>, tensor<16x16xf16>) -> (tensor<16x16x!tk.ptr<f16>>, tensor<16x16x!tk.ptr<f16>>, tensor<16x16xf32>, tensor<16x16xf16>, tensor<16x16xf16>)
    %46 = "tk.splat"(%arg2) : (!tk.ptr<f32>) -> (tensor<16x16x!tk.ptr<f32>>)
    %47 = "tk.addptr"(%46, %1) : (tensor<16x16x!tk.ptr<f32>>, tensor<16x16xi32>) -> (tensor<16x16x!tk.ptr<f32>>)
    "tk.store"(%47, %21#2) : (tensor<16x16x!tk.ptr<f32>>, tensor<16x16xf32>) -> ()
    "tk.return"() : () -> ()
  }) {arg_names = ["a", "b", "c", "k_tiles"], function_type = (!tk.ptr<f16>, !tk.ptr<f16>, !tk.ptr<f32>, i32) -> (), sym_name = "k", tk.kernel, tk.num_stages = 2 : i32, tk.num_warps = 4 : i32} : () -> ()
}) : () -> ()
