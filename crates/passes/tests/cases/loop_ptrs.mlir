// loop_ptrs: the loop carries a block of pointers splat(x) + offs advanced
// by splat(16) each iteration; it carries the scalar base instead,
// advanced by 16 (tk.addptr on the scalar), and rebuilds the block
// splat(base) + offs at the top of the body for the load (and after the
// loop, for uses of the result: none here). The old block, its update and
// the rebuilt result are left for DCE.
// pass: loop_ptrs
"builtin.module"() ({
  "tk.func"() ({
  ^bb0(%arg0: !tk.ptr<f32>, %arg1: !tk.ptr<f32>, %arg2: i32):
    %0 = "tk.make_range"() {end = 16 : i32, start = 0 : i32} : () -> (tensor<16xi32>)
    %1 = "tk.splat"(%arg0) : (!tk.ptr<f32>) -> (tensor<16x!tk.ptr<f32>>)
    %2 = "tk.addptr"(%1, %0) : (tensor<16x!tk.ptr<f32>>, tensor<16xi32>) -> (tensor<16x!tk.ptr<f32>>)
    %3 = "arith.constant"() {value = 0 : i32} : () -> (i32)
    %4 = "arith.constant"() {value = 1 : i32} : () -> (i32)
    %5 = "arith.constant"() {value = 16 : i32} : () -> (i32)
    %6 = "tk.splat"(%5) : (i32) -> (tensor<16xi32>)
    %7 = "arith.constant"() {value = 0.0 : f32} : () -> (f32)
    %8 = "tk.splat"(%7) : (f32) -> (tensor<16xf32>)
    %9:2 = "scf.for"(%3, %arg2, %4, %2, %8) ({
    ^bb0(%10: i32, %11: tensor<16x!tk.ptr<f32>>, %12: tensor<16xf32>):
      %13 = "tk.load"(%11) : (tensor<16x!tk.ptr<f32>>) -> (tensor<16xf32>)
      %14 = "arith.addf"(%12, %13) : (tensor<16xf32>, tensor<16xf32>) -> (tensor<16xf32>)
      %15 = "tk.addptr"(%11, %6) : (tensor<16x!tk.ptr<f32>>, tensor<16xi32>) -> (tensor<16x!tk.ptr<f32>>)
      "scf.yield"(%15, %14) : (tensor<16x!tk.ptr<f32>>, tensor<16xf32>) -> ()
    }) : (i32, i32, i32, tensor<16x!tk.ptr<f32>>, tensor<16xf32>) -> (tensor<16x!tk.ptr<f32>>, tensor<16xf32>)
    %16 = "tk.splat"(%arg1) : (!tk.ptr<f32>) -> (tensor<16x!tk.ptr<f32>>)
    %17 = "tk.addptr"(%16, %0) : (tensor<16x!tk.ptr<f32>>, tensor<16xi32>) -> (tensor<16x!tk.ptr<f32>>)
    "tk.store"(%17, %9#1) : (tensor<16x!tk.ptr<f32>>, tensor<16xf32>) -> ()
    "tk.return"() : () -> ()
  }) {arg_names = ["x", "out", "n"], function_type = (!tk.ptr<f32>, !tk.ptr<f32>, i32) -> (), sym_name = "k", tk.kernel, tk.num_stages = 2 : i32, tk.num_warps = 4 : i32} : () -> ()
}) : () -> ()
// expect:
"builtin.module"() ({
  "tk.func"() ({
  ^bb0(%arg0: !tk.ptr<f32>, %arg1: !tk.ptr<f32>, %arg2: i32):
    %0 = "tk.make_range"() {end = 16 : i32, start = 0 : i32} : () -> (tensor<16xi32>)
    %1 = "tk.splat"(%arg0) : (!tk.ptr<f32>) -> (tensor<16x!tk.ptr<f32>>)
    %2 = "tk.addptr"(%1, %0) : (tensor<16x!tk.ptr<f32>>, tensor<16xi32>) -> (tensor<16x!tk.ptr<f32>>)
    %3 = "arith.constant"() {value = 0 : i32} : () -> (i32)
    %4 = "arith.constant"() {value = 1 : i32} : () -> (i32)
    %5 = "arith.constant"() {value = 16 : i32} : () -> (i32)
    %6 = "tk.splat"(%5) : (i32) -> (tensor<16xi32>)
    %7 = "arith.constant"() {value = 0.0 : f32} : () -> (f32)
    %8 = "tk.splat"(%7) : (f32) -> (tensor<16xf32>)
    %9:2 = "scf.for"(%3, %arg2, %4, %arg0, %8) ({
    ^bb0(%10: i32, %11: !tk.ptr<f32>, %12: tensor<16xf32>):
      %13 = "tk.splat"(%11) : (!tk.ptr<f32>) -> (tensor<16x!tk.ptr<f32>>)
      %14 = "tk.addptr"(%13, %0) : (tensor<16x!tk.ptr<f32>>, tensor<16xi32>) -> (tensor<16x!tk.ptr<f32>>)
      %15 = "tk.load"(%14) : (tensor<16x!tk.ptr<f32>>) -> (tensor<16xf32>)
      %16 = "arith.addf"(%12, %15) : (tensor<16xf32>, tensor<16xf32>) -> (tensor<16xf32>)
      %17 = "tk.addptr"(%14, %6) : (tensor<16x!tk.ptr<f32>>, tensor<16xi32>) -> (tensor<16x!tk.ptr<f32>>)
      %18 = "tk.addptr"(%11, %5) : (!tk.ptr<f32>, i32) -> (!tk.ptr<f32>)
      "scf.yield"(%18, %16) : (!tk.ptr<f32>, tensor<16xf32>) -> ()
    }) : (i32, i32, i32, !tk.ptr<f32>, tensor<16xf32>) -> (!tk.ptr<f32>, tensor<16xf32>)
    %19 = "tk.splat"(%9#0) : (!tk.ptr<f32>) -> (tensor<16x!tk.ptr<f32>>)
    %20 = "tk.addptr"(%19, %0) : (tensor<16x!tk.ptr<f32>>, tensor<16xi32>) -> (tensor<16x!tk.ptr<f32>>)
    %21 = "tk.splat"(%arg1) : (!tk.ptr<f32>) -> (tensor<16x!tk.ptr<f32>>)
    %22 = "tk.addptr"(%21, %0) : (tensor<16x!tk.ptr<f32>>, tensor<16xi32>) -> (tensor<16x!tk.ptr<f32>>)
    "tk.store"(%22, %9#1) : (tensor<16x!tk.ptr<f32>>, tensor<16xf32>) -> ()
    "tk.return"() : () -> ()
  }) {arg_names = ["x", "out", "n"], function_type = (!tk.ptr<f32>, !tk.ptr<f32>, i32) -> (), sym_name = "k", tk.kernel, tk.num_stages = 2 : i32, tk.num_warps = 4 : i32} : () -> ()
}) : () -> ()
