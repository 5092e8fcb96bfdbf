#blocked0 = #tk.blocked<{size_per_lane = [1], lanes_per_wave = [32], waves = [1], repeats = [1], order = [0], replicated = true}>
"tk.func"() ({
^bb0(%arg0: !tk.ptr<i32>, %arg1: !tk.ptr<i32>, %arg2: i32, %arg3: i32):
  %0 = "tk.program_id"() {axis = 0 : i32} : () -> (i32)
  %1 = "arith.constant"() {value = 32 : i32} : () -> (i32)
  %2 = "arith.muli"(%0, %1) : (i32, i32) -> (i32)
  %3 = "tk.make_range"() {end = 32 : i32, start = 0 : i32} : () -> (tensor<32xi32, #blocked0>)
  %4 = "tk.splat"(%2) : (i32) -> (tensor<32xi32, #blocked0>)
  %5 = "arith.addi"(%4, %3) : (tensor<32xi32, #blocked0>, tensor<32xi32, #blocked0>) -> (tensor<32xi32, #blocked0>)
  %6 = "tk.splat"(%arg0) : (!tk.ptr<i32>) -> (tensor<32x!tk.ptr<i32>, #blocked0>)
  %7 = "tk.addptr"(%6, %5) : (tensor<32x!tk.ptr<i32>, #blocked0>, tensor<32xi32, #blocked0>) -> (tensor<32x!tk.ptr<i32>, #blocked0>)
  %8 = "tk.splat"(%arg2) : (i32) -> (tensor<32xi32, #blocked0>)
  %9 = "arith.cmpi"(%5, %8) {predicate = 2 : i64} : (tensor<32xi32, #blocked0>, tensor<32xi32, #blocked0>) -> (tensor<32xi1, #blocked0>)
  %10 = "arith.constant"() {value = -1 : i32} : () -> (i32)
  %11 = "tk.splat"(%10) : (i32) -> (tensor<32xi32, #blocked0>)
  %12 = "tk.load"(%7, %9, %11) {mask, other} : (tensor<32x!tk.ptr<i32>, #blocked0>, tensor<32xi1, #blocked0>, tensor<32xi32, #blocked0>) -> (tensor<32xi32, #blocked0>)
  %13 = "arith.constant"() {value = 2 : i32} : () -> (i32)
  %14 = "arith.cmpi"(%arg3, %13) {predicate = 4 : i64} : (i32, i32) -> (i1)
  %15 = "scf.if"(%14) ({
  ^bb0():
    %16 = "arith.constant"() {value = 100 : i32} : () -> (i32)
    "scf.yield"(%16) : (i32) -> ()
  }, {
  ^bb0():
    %17 = "arith.cmpi"(%arg3, %13) {predicate = 0 : i64} : (i32, i32) -> (i1)
    %18 = "scf.if"(%17) ({
    ^bb0():
      %19 = "arith.constant"() {value = 10 : i32} : () -> (i32)
      "scf.yield"(%19) : (i32) -> ()
    }, {
    ^bb0():
      %20 = "arith.constant"() {value = 0 : i32} : () -> (i32)
      "scf.yield"(%20) : (i32) -> ()
    }) : (i1) -> (i32)
    "scf.yield"(%18) : (i32) -> ()
  }) : (i1) -> (i32)
  %21 = "tk.splat"(%13) : (i32) -> (tensor<32xi32, #blocked0>)
  %22 = "arith.muli"(%12, %21) : (tensor<32xi32, #blocked0>, tensor<32xi32, #blocked0>) -> (tensor<32xi32, #blocked0>)
  %23 = "arith.remsi"(%arg3, %13) : (i32, i32) -> (i32)
  %24 = "arith.constant"() {value = 0 : i32} : () -> (i32)
  %25 = "arith.cmpi"(%23, %24) {predicate = 0 : i64} : (i32, i32) -> (i1)
  %26 = "scf.if"(%25) ({
  ^bb0():
    "scf.yield"(%12) : (tensor<32xi32, #blocked0>) -> ()
  }, {
  ^bb0():
    "scf.yield"(%22) : (tensor<32xi32, #blocked0>) -> ()
  }) : (i1) -> (tensor<32xi32, #blocked0>)
  %27 = "tk.splat"(%15) : (i32) -> (tensor<32xi32, #blocked0>)
  %28 = "arith.addi"(%26, %27) : (tensor<32xi32, #blocked0>, tensor<32xi32, #blocked0>) -> (tensor<32xi32, #blocked0>)
  %29 = "tk.num_programs"() {axis = 0 : i32} : () -> (i32)
  %30 = "arith.constant"() {value = 1000 : i32} : () -> (i32)
  %31 = "arith.muli"(%29, %30) : (i32, i32) -> (i32)
  %32 = "tk.splat"(%31) : (i32) -> (tensor<32xi32, #blocked0>)
  %33 = "arith.addi"(%28, %32) : (tensor<32xi32, #blocked0>, tensor<32xi32, #blocked0>) -> (tensor<32xi32, #blocked0>)
  %34 = "tk.splat"(%arg1) : (!tk.ptr<i32>) -> (tensor<32x!tk.ptr<i32>, #blocked0>)
  %35 = "tk.addptr"(%34, %5) : (tensor<32x!tk.ptr<i32>, #blocked0>, tensor<32xi32, #blocked0>) -> (tensor<32x!tk.ptr<i32>, #blocked0>)
  "tk.store"(%35, %33) : (tensor<32x!tk.ptr<i32>, #blocked0>, tensor<32xi32, #blocked0>) -> ()
  "tk.return"() : () -> ()
}) {arg_names = ["x", "out", "n", "mode"], function_type = (!tk.ptr<i32>, !tk.ptr<i32>, i32, i32) -> (), sym_name = "k", tk.kernel, tk.num_stages = 2 : i32, tk.num_warps = 4 : i32} : () -> ()
