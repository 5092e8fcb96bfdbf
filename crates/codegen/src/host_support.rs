//! The runtime functions host code may call, defined inside every host
//! library, so that a host `.so` needs nothing beyond libc and libm.
//!
//! LLVM's code generator turns a conversion the CPU has no instruction for
//! into a call of a compiler-runtime function: f32 → bf16 without
//! AVX-512 BF16 is `__truncsfbf2`, f16 ↔ f32 without F16C is
//! `__extendhfsf2` / `__truncsfhf2`, and f64 → f16 or bf16 is always a call
//! (one instruction pair would round twice). Those functions live in
//! libgcc or compiler-rt, and not every machine's copy has them (GCC 12's
//! libgcc has no `__truncsfbf2`): a library built on one machine would fail
//! to load on another. So every host module gets its own definitions
//! (hidden, so they resolve inside the library and are never exported);
//! when the CPU has the instruction, LLVM uses it and the definition is
//! simply unused.
//!
//! Every function rounds to nearest, ties to even (the conversions LLVM
//! asks for are IEEE's default rounding), handles subnormals, infinities
//! and overflow, and turns NaNs into quiet NaNs keeping the payload's top
//! bits, as the x86 instructions (`vcvtps2ph`, `vcvtneps2bf16`) do. They
//! are written with integer operations only: a float conversion in their
//! bodies could be lowered to a call of the very function being defined.
//! f64 sources are first rounded to f32 *to odd* (truncate, then set the
//! last bit if anything was lost), which keeps the one rounding to the
//! narrow type exact (f32 has more than two bits beyond f16 and bf16).
//!
//! `tests/host_symbols.rs` compiles every example and every conversion for
//! the most basic x86-64 CPU and checks that the libraries' undefined
//! symbols are all in libc and libm.

/// Names of the functions [`SUPPORT_IR`] defines.
pub const SUPPORT_FUNCTIONS: &[&str] = &[
    "__truncsfbf2",
    "__truncdfbf2",
    "__truncsfhf2",
    "__truncdfhf2",
    "__extendhfsf2",
    "__extendhfdf2",
];

/// The definitions, in LLVM IR (linked into the module before LLVM's
/// optimizer runs).
pub const SUPPORT_IR: &str = r#"
; f32 -> bf16: round the top 16 bits to nearest even; NaN -> quiet NaN.
define hidden bfloat @__truncsfbf2(float %x) {
  %b = bitcast float %x to i32
  %r = call i16 @tk.f32_bits_to_bf16(i32 %b)
  %o = bitcast i16 %r to bfloat
  ret bfloat %o
}

define hidden bfloat @__truncdfbf2(double %x) {
  %b = call i32 @tk.f64_to_f32_bits_odd(double %x)
  %r = call i16 @tk.f32_bits_to_bf16(i32 %b)
  %o = bitcast i16 %r to bfloat
  ret bfloat %o
}

define hidden half @__truncsfhf2(float %x) {
  %b = bitcast float %x to i32
  %r = call i16 @tk.f32_bits_to_f16(i32 %b)
  %o = bitcast i16 %r to half
  ret half %o
}

define hidden half @__truncdfhf2(double %x) {
  %b = call i32 @tk.f64_to_f32_bits_odd(double %x)
  %r = call i16 @tk.f32_bits_to_f16(i32 %b)
  %o = bitcast i16 %r to half
  ret half %o
}

define hidden float @__extendhfsf2(half %h) {
  %b = bitcast half %h to i16
  %r = call i32 @tk.f16_bits_to_f32(i16 %b)
  %o = bitcast i32 %r to float
  ret float %o
}

; f16 -> f64 is exact through f32 (f32 -> f64 is an SSE2 instruction).
define hidden double @__extendhfdf2(half %h) {
  %b = bitcast half %h to i16
  %r = call i32 @tk.f16_bits_to_f32(i16 %b)
  %f = bitcast i32 %r to float
  %d = fpext float %f to double
  ret double %d
}

define internal i16 @tk.f32_bits_to_bf16(i32 %b) alwaysinline {
  %abs = and i32 %b, 2147483647
  %nan = icmp ugt i32 %abs, 2139095040
  %hi = lshr i32 %b, 16
  %odd = and i32 %hi, 1
  %bias = add i32 %odd, 32767
  %sum = add i32 %b, %bias
  %rounded = lshr i32 %sum, 16
  %quiet = or i32 %hi, 64
  %sel = select i1 %nan, i32 %quiet, i32 %rounded
  %r = trunc i32 %sel to i16
  ret i16 %r
}

; f32 bits -> f16 bits, round to nearest even.
define internal i16 @tk.f32_bits_to_f16(i32 %b) alwaysinline {
entry:
  %sign32 = lshr i32 %b, 16
  %sign = and i32 %sign32, 32768
  %a = and i32 %b, 2147483647
  ; a >= 2^16 (0x47800000): infinity or NaN or overflow.
  %big = icmp uge i32 %a, 1199570944
  br i1 %big, label %big_case, label %finite

big_case:
  %isnan = icmp ugt i32 %a, 2139095040
  %payload = lshr i32 %a, 13
  %payload_m = and i32 %payload, 1023
  %nanbits = or i32 %payload_m, 32256
  %bigbits = select i1 %isnan, i32 %nanbits, i32 31744
  br label %done

finite:
  ; a >= 2^-14 (0x38800000): a normal f16 (or rounds up to infinity).
  %normal = icmp uge i32 %a, 947912704
  br i1 %normal, label %normal_case, label %small_case

normal_case:
  %lsb = lshr i32 %a, 13
  %lsb1 = and i32 %lsb, 1
  ; rebias the exponent (127 - 15 = 112, << 23) and round.
  %rebias = sub i32 %a, 939524096
  %plus = add i32 %rebias, 4095
  %plus2 = add i32 %plus, %lsb1
  %nbits = lshr i32 %plus2, 13
  br label %done

small_case:
  ; a <= 2^-25 (0x33000000) rounds to zero (2^-25 itself is a tie with 0).
  %tiny = icmp ule i32 %a, 855638016
  br i1 %tiny, label %done, label %subnormal

subnormal:
  ; value = m * 2^(e - 150) with the implicit bit; f16 subnormal units
  ; are 2^-24, so the result is m >> (126 - e), rounded.
  %e = lshr i32 %a, 23
  %mant = and i32 %a, 8388607
  %m = or i32 %mant, 8388608
  %shift = sub i32 126, %e
  %q = lshr i32 %m, %shift
  %one = shl i32 1, %shift
  %mask = sub i32 %one, 1
  %rem = and i32 %m, %mask
  %halfway = lshr i32 %one, 1
  %above = icmp ugt i32 %rem, %halfway
  %tie = icmp eq i32 %rem, %halfway
  %qodd = trunc i32 %q to i1
  %tie_up = and i1 %tie, %qodd
  %up = or i1 %above, %tie_up
  %inc = zext i1 %up to i32
  %sbits = add i32 %q, %inc
  br label %done

done:
  %mag = phi i32 [ %bigbits, %big_case ], [ %nbits, %normal_case ], [ 0, %small_case ], [ %sbits, %subnormal ]
  %res = or i32 %mag, %sign
  %r = trunc i32 %res to i16
  ret i16 %r
}

; f16 bits -> f32 bits (exact); NaN -> quiet NaN.
define internal i32 @tk.f16_bits_to_f32(i16 %h16) alwaysinline {
entry:
  %h = zext i16 %h16 to i32
  %s = and i32 %h, 32768
  %sign = shl i32 %s, 16
  %e16 = lshr i32 %h, 10
  %e = and i32 %e16, 31
  %m = and i32 %h, 1023
  %is_special = icmp eq i32 %e, 31
  br i1 %is_special, label %special, label %not_special

special:
  %m13 = shl i32 %m, 13
  %isnan = icmp ne i32 %m, 0
  %quiet = select i1 %isnan, i32 4194304, i32 0
  %sp0 = or i32 %m13, 2139095040
  %sp = or i32 %sp0, %quiet
  br label %done

not_special:
  %is_zero_exp = icmp eq i32 %e, 0
  br i1 %is_zero_exp, label %subnormal, label %normal

normal:
  %e32 = add i32 %e, 112
  %eb = shl i32 %e32, 23
  %mb = shl i32 %m, 13
  %nb = or i32 %eb, %mb
  br label %done

subnormal:
  ; m * 2^-24: normalize by the position of m's highest bit (m = 0 gives
  ; zero). With p = 31 - ctlz(m), the value is 2^(p - 24) * (m / 2^p).
  %is_zero = icmp eq i32 %m, 0
  %lz = call i32 @llvm.ctlz.i32(i32 %m, i1 false)
  %p = sub i32 31, %lz
  %exp = add i32 %p, 103
  %expb = shl i32 %exp, 23
  %drop = sub i32 23, %p
  %frac0 = shl i32 %m, %drop
  %frac = and i32 %frac0, 8388607
  %sb0 = or i32 %expb, %frac
  %sb = select i1 %is_zero, i32 0, i32 %sb0
  br label %done

done:
  %mag = phi i32 [ %sp, %special ], [ %nb, %normal ], [ %sb, %subnormal ]
  %res = or i32 %mag, %sign
  ret i32 %res
}

; f64 -> f32 bits rounded to odd: truncate toward zero, then set the last
; bit when the conversion was inexact. NaN and infinities pass through.
define internal i32 @tk.f64_to_f32_bits_odd(double %x) alwaysinline {
  %t = fptrunc double %x to float
  %back = fpext float %t to double
  %exact = fcmp oeq double %back, %x
  %isnan = fcmp uno double %x, %x
  %keep = or i1 %exact, %isnan
  %tb = bitcast float %t to i32
  %absx = call double @llvm.fabs.f64(double %x)
  %absback = call double @llvm.fabs.f64(double %back)
  %away = fcmp ogt double %absback, %absx
  %down = sub i32 %tb, 1
  %trunc = select i1 %away, i32 %down, i32 %tb
  %odd = or i32 %trunc, 1
  %r = select i1 %keep, i32 %tb, i32 %odd
  ret i32 %r
}

declare i32 @llvm.ctlz.i32(i32, i1)
declare double @llvm.fabs.f64(double)
"#;
