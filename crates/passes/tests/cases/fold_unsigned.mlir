// fold: types print signless, so the parser learns from the operations
// that %0 and %1 are u32 (arith.divui, the store to ui32) and %4, %5 i32
// (the signed predicate): -1 as u32 is 4294967295, so 4294967295 / 2 =
// 2147483647 and 4294967295 <u 2 is false, while -1 <s 2 is true.
// pass: fold
"builtin.module"() ({
  "tk.func"() ({
  ^bb0(%arg0: !tk.ptr<ui32>, %arg1: !tk.ptr<i1>):
    %0 = "arith.constant"() {value = -1 : i32} : () -> (i32)
    %1 = "arith.constant"() {value = 2 : i32} : () -> (i32)
    %2 = "arith.divui"(%0, %1) : (i32, i32) -> (i32)
    "tk.store"(%arg0, %2) : (!tk.ptr<ui32>, i32) -> ()
    %3 = "arith.cmpi"(%0, %1) {predicate = 6 : i64} : (i32, i32) -> (i1)
    "tk.store"(%arg1, %3) : (!tk.ptr<i1>, i1) -> ()
    %4 = "arith.constant"() {value = -1 : i32} : () -> (i32)
    %5 = "arith.constant"() {value = 2 : i32} : () -> (i32)
    %6 = "arith.cmpi"(%4, %5) {predicate = 2 : i64} : (i32, i32) -> (i1)
    "tk.store"(%arg1, %6) : (!tk.ptr<i1>, i1) -> ()
    "tk.return"() : () -> ()
  }) {arg_names = ["q", "lt"], function_type = (!tk.ptr<ui32>, !tk.ptr<i1>) -> (), sym_name = "k", tk.kernel, tk.num_stages = 2 : i32, tk.num_warps = 4 : i32} : () -> ()
}) : () -> ()
// expect:
"builtin.module"() ({
  "tk.func"() ({
  ^bb0(%arg0: !tk.ptr<ui32>, %arg1: !tk.ptr<i1>):
    %0 = "arith.constant"() {value = -1 : i32} : () -> (i32)
    %1 = "arith.constant"() {value = 2 : i32} : () -> (i32)
    %2 = "arith.constant"() {value = 2147483647 : i32} : () -> (i32)
    "tk.store"(%arg0, %2) : (!tk.ptr<ui32>, i32) -> ()
    %3 = "arith.constant"() {value = false} : () -> (i1)
    "tk.store"(%arg1, %3) : (!tk.ptr<i1>, i1) -> ()
    %4 = "arith.constant"() {value = -1 : i32} : () -> (i32)
    %5 = "arith.constant"() {value = 2 : i32} : () -> (i32)
    %6 = "arith.constant"() {value = true} : () -> (i1)
    "tk.store"(%arg1, %6) : (!tk.ptr<i1>, i1) -> ()
    "tk.return"() : () -> ()
  }) {arg_names = ["q", "lt"], function_type = (!tk.ptr<ui32>, !tk.ptr<i1>) -> (), sym_name = "k", tk.kernel, tk.num_stages = 2 : i32, tk.num_warps = 4 : i32} : () -> ()
}) : () -> ()
