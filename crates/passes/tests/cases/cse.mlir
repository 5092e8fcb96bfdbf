// cse: the second constant 7 and the second product are the first ones;
// inside the `if`, a product and a constant computed before it are
// reused (the merged operations stay, dead, for DCE).
// pass: cse
"builtin.module"() ({
  "tk.func"() ({
  ^bb0(%arg0: !tk.ptr<i32>, %arg1: i32, %arg2: i1):
    %0 = "arith.constant"() {value = 7 : i32} : () -> (i32)
    %1 = "arith.constant"() {value = 7 : i32} : () -> (i32)
    %2 = "arith.muli"(%arg1, %0) : (i32, i32) -> (i32)
    %3 = "arith.muli"(%arg1, %1) : (i32, i32) -> (i32)
    %4 = "arith.addi"(%2, %3) : (i32, i32) -> (i32)
    %5 = "scf.if"(%arg2) ({
    ^bb0():
      %6 = "arith.muli"(%arg1, %0) : (i32, i32) -> (i32)
      "scf.yield"(%6) : (i32) -> ()
    }, {
    ^bb0():
      %7 = "arith.constant"() {value = 7 : i32} : () -> (i32)
      "scf.yield"(%7) : (i32) -> ()
    }) : (i1) -> (i32)
    %8 = "arith.addi"(%4, %5) : (i32, i32) -> (i32)
    "tk.store"(%arg0, %8) : (!tk.ptr<i32>, i32) -> ()
    "tk.return"() : () -> ()
  }) {arg_names = ["out", "x", "c"], function_type = (!tk.ptr<i32>, i32, i1) -> (), sym_name = "k", tk.kernel, tk.num_stages = 2 : i32, tk.num_warps = 4 : i32} : () -> ()
}) : () -> ()
// expect:
"builtin.module"() ({
  "tk.func"() ({
  ^bb0(%arg0: !tk.ptr<i32>, %arg1: i32, %arg2: i1):
    %0 = "arith.constant"() {value = 7 : i32} : () -> (i32)
    %1 = "arith.constant"() {value = 7 : i32} : () -> (i32)
    %2 = "arith.muli"(%arg1, %0) : (i32, i32) -> (i32)
    %3 = "arith.muli"(%arg1, %0) : (i32, i32) -> (i32)
    %4 = "arith.addi"(%2, %2) : (i32, i32) -> (i32)
    %5 = "scf.if"(%arg2) ({
    ^bb0():
      %6 = "arith.muli"(%arg1, %0) : (i32, i32) -> (i32)
      "scf.yield"(%2) : (i32) -> ()
    }, {
    ^bb0():
      %7 = "arith.constant"() {value = 7 : i32} : () -> (i32)
      "scf.yield"(%0) : (i32) -> ()
    }) : (i1) -> (i32)
    %8 = "arith.addi"(%4, %5) : (i32, i32) -> (i32)
    "tk.store"(%arg0, %8) : (!tk.ptr<i32>, i32) -> ()
    "tk.return"() : () -> ()
  }) {arg_names = ["out", "x", "c"], function_type = (!tk.ptr<i32>, i32, i1) -> (), sym_name = "k", tk.kernel, tk.num_stages = 2 : i32, tk.num_warps = 4 : i32} : () -> ()
}) : () -> ()
