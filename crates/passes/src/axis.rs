//! Axis analysis: for every value, facts about its elements along the
//! (1-D) block axis that code generation uses to vectorize memory access.
//!
//! - `contiguity`: the values come in runs of this many consecutive
//!   integers (pointers: consecutive elements), each run starting at an
//!   index that is a multiple of it;
//! - `divisibility`: the first value of every run is a multiple of this
//!   (pointers: in bytes);
//! - `constancy`: the values come in runs of this many equal values, each
//!   starting at a multiple of it.
//!
//! All three are powers of two. Facts are conservative: a value about which
//! nothing is known has 1, 1, 1. The rules follow Triton's axis analysis
//! for the operations that make addresses and masks (`make_range`, `splat`,
//! `+`, `*`, `<<`, `addptr`, comparisons); other operations keep only
//! constancy. Arguments marked divisible by 16 (`Function::arg_divisibility`)
//! are where alignment comes from.

use std::collections::HashMap;
use tritonc_ir::{BinaryOp, CmpPred, ConstValue, Elem, Function, OpKind, Value, ValueDef};

/// The largest divisibility tracked (for zero and unknown large constants).
pub const MAX_DIVISIBILITY: u64 = 1 << 30;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct AxisInfo {
    pub contiguity: u64,
    pub divisibility: u64,
    pub constancy: u64,
}

impl AxisInfo {
    pub const UNKNOWN: AxisInfo = AxisInfo {
        contiguity: 1,
        divisibility: 1,
        constancy: 1,
    };
}

fn gcd(a: u64, b: u64) -> u64 {
    // All facts are powers of two, so the gcd is the smaller one.
    a.min(b).max(1)
}

/// The largest power of two dividing `v` (capped; zero is divisible by all).
pub fn pow2_divisor(v: i64) -> u64 {
    if v == 0 {
        MAX_DIVISIBILITY
    } else {
        (1u64 << v.unsigned_abs().trailing_zeros()).min(MAX_DIVISIBILITY)
    }
}

fn meet(a: AxisInfo, b: AxisInfo) -> AxisInfo {
    AxisInfo {
        contiguity: gcd(a.contiguity, b.contiguity),
        divisibility: gcd(a.divisibility, b.divisibility),
        constancy: gcd(a.constancy, b.constancy),
    }
}

/// Facts for every value of `f` that they are known for.
///
/// Values a loop carries (`scf.for`) start optimistic, with the facts of
/// their initial value, and are met with the facts of what the body
/// yields until nothing changes: a pointer advanced by a uniform step
/// stays contiguous, as Triton's analysis finds.
pub fn analyze(f: &Function) -> HashMap<Value, AxisInfo> {
    let mut carried: HashMap<Value, AxisInfo> = HashMap::new();
    for _ in 0..8 {
        let info = analyze_once(f, &carried);
        let mut changed = false;
        for op in f.walk() {
            let d = f.op(op);
            if !matches!(d.kind, OpKind::For) {
                continue;
            }
            let body = d.regions[0];
            let Some(&last) = f.block(body).ops.last() else {
                continue;
            };
            for (i, y) in f.op(last).operands.iter().enumerate() {
                let (arg, result) = (f.block(body).args[i + 1], d.results[i]);
                let get = |v: &Value| info.get(v).copied().unwrap_or(AxisInfo::UNKNOWN);
                let now = meet(get(&d.operands[3 + i]), get(y));
                if carried.get(&arg) != Some(&now) {
                    carried.insert(arg, now);
                    carried.insert(result, now);
                    changed = true;
                }
            }
        }
        if !changed {
            return info;
        }
    }
    // Not settled: nothing is assumed about carried values.
    for v in carried.values_mut() {
        *v = AxisInfo::UNKNOWN;
    }
    analyze_once(f, &carried)
}

/// One forward pass; `carried` gives the facts of loop-carried values
/// (their initial value's facts when absent).
fn analyze_once(f: &Function, carried: &HashMap<Value, AxisInfo>) -> HashMap<Value, AxisInfo> {
    let mut info: HashMap<Value, AxisInfo> = HashMap::new();
    for (i, &p) in f.params().iter().enumerate() {
        let d = f.arg_divisibility.get(i).copied().unwrap_or(1).max(1);
        let natural = match f.ty(p).elem {
            Elem::Ptr(s) => u64::from(s.bytes()),
            Elem::Scalar(_) => 1,
        };
        info.insert(
            p,
            AxisInfo {
                contiguity: 1,
                divisibility: u64::from(d).max(natural),
                constancy: 1,
            },
        );
    }
    let get = |info: &HashMap<Value, AxisInfo>, v: Value| info.get(&v).copied().unwrap_or(AxisInfo::UNKNOWN);
    for op in f.walk() {
        let d = f.op(op);
        if matches!(d.kind, OpKind::For) {
            let body = d.regions[0];
            // The induction variable, `lb + i * step`, is divisible by
            // whatever divides both (a K loop's `k0 + arange(0, BLOCK_K)`
            // is then known to start at a multiple of the step).
            let (lb, step) = (get(&info, d.operands[0]), get(&info, d.operands[2]));
            info.insert(
                f.block(body).args[0],
                AxisInfo {
                    contiguity: 1,
                    divisibility: gcd(lb.divisibility, step.divisibility),
                    constancy: 1,
                },
            );
            for (i, init) in d.operands.iter().skip(3).enumerate() {
                let (arg, result) = (f.block(body).args[i + 1], d.results[i]);
                let fact = carried.get(&arg).copied().unwrap_or_else(|| get(&info, *init));
                info.insert(arg, fact);
                info.insert(result, carried.get(&result).copied().unwrap_or(fact));
            }
            continue;
        }
        let Some(&result) = d.results.first() else { continue };
        let rt = f.ty(result);
        let n = rt.numel().max(1);
        let ins: Vec<AxisInfo> = d.operands.iter().map(|v| get(&info, *v)).collect();
        let all_const = || ins.iter().map(|i| i.constancy).fold(n, gcd);
        let fact = match &d.kind {
            OpKind::Constant(ConstValue::Int(c)) => AxisInfo {
                contiguity: 1,
                divisibility: pow2_divisor(*c),
                constancy: 1,
            },
            OpKind::MakeRange { start, .. } => AxisInfo {
                contiguity: n,
                divisibility: pow2_divisor(i64::from(*start)),
                constancy: 1,
            },
            OpKind::Splat => AxisInfo {
                contiguity: 1,
                divisibility: ins[0].divisibility,
                constancy: n,
            },
            OpKind::Broadcast => broadcast_info(&f.ty(d.operands[0]).shape, &rt.shape, ins[0]),
            // Row-major order is unchanged, and facts are about that order.
            OpKind::Reshape | OpKind::ConvertLayout => ins[0],
            OpKind::Permute(_)
            | OpKind::Reduce { .. }
            | OpKind::ArgReduce { .. }
            | OpKind::Scan { .. }
            | OpKind::Atomic { .. }
            | OpKind::AtomicCas
            | OpKind::Dot => AxisInfo::UNKNOWN,
            OpKind::Binary(BinaryOp::Add | BinaryOp::Sub) | OpKind::AddPtr => {
                let (a, b) = (ins[0], ins[1]);
                let scale = match (&d.kind, f.ty(d.operands[0]).elem) {
                    (OpKind::AddPtr, Elem::Ptr(s)) => u64::from(s.bytes()),
                    _ => 1,
                };
                AxisInfo {
                    contiguity: gcd(a.contiguity, b.constancy)
                        .max(gcd(a.constancy, b.contiguity))
                        .min(n),
                    divisibility: gcd(a.divisibility, b.divisibility.saturating_mul(scale)),
                    constancy: gcd(a.constancy, b.constancy),
                }
            }
            OpKind::Binary(BinaryOp::Mul) => {
                let (a, b) = (ins[0], ins[1]);
                AxisInfo {
                    contiguity: 1,
                    divisibility: a.divisibility.saturating_mul(b.divisibility).min(MAX_DIVISIBILITY),
                    constancy: gcd(a.constancy, b.constancy),
                }
            }
            OpKind::Binary(BinaryOp::Shl) => {
                let shift = const_int(f, d.operands[1]);
                AxisInfo {
                    contiguity: 1,
                    divisibility: match shift {
                        Some(s) if (0..31).contains(&s) => {
                            ins[0].divisibility.saturating_mul(1 << s).min(MAX_DIVISIBILITY)
                        }
                        _ => 1,
                    },
                    constancy: gcd(ins[0].constancy, ins[1].constancy),
                }
            }
            OpKind::Cmp(p) => {
                let (a, b) = (ins[0], ins[1]);
                // `x < n` (or `n > x`) over runs of consecutive x whose
                // starts and n share a divisor g is constant over runs of g.
                let run = |x: AxisInfo, bound: AxisInfo| {
                    if bound.constancy >= x.contiguity.min(n) {
                        gcd(x.contiguity, gcd(x.divisibility, bound.divisibility))
                    } else {
                        1
                    }
                };
                let extra = match p {
                    CmpPred::Lt | CmpPred::Ge => run(a, b),
                    CmpPred::Gt | CmpPred::Le => run(b, a),
                    _ => 1,
                };
                AxisInfo {
                    contiguity: 1,
                    divisibility: 1,
                    constancy: gcd(a.constancy, b.constancy).max(extra.min(n)),
                }
            }
            // Widening an integer keeps its facts (narrowing could wrap).
            OpKind::Cast
                if matches!(
                    (f.ty(d.operands[0]).scalar_elem(), rt.scalar_elem()),
                    (Some(a), Some(b)) if a.is_int() && !a.is_bool() && b.is_int() && b.bits() >= a.bits()
                ) =>
            {
                ins[0]
            }
            _ if d.operands.is_empty() => AxisInfo::UNKNOWN,
            _ => AxisInfo {
                contiguity: 1,
                divisibility: 1,
                constancy: all_const(),
            },
        };
        info.insert(result, fact);
    }
    info
}

/// Facts of a broadcast, in row-major order: repeating each element
/// (trailing dimensions grow) multiplies constancy; repeating the whole
/// block (leading dimensions grow) keeps the operand's facts.
fn broadcast_info(from: &[u32], to: &[u32], input: AxisInfo) -> AxisInfo {
    let numel_in: u64 = from.iter().map(|d| u64::from(*d)).product();
    if numel_in == 1 {
        let n: u64 = to.iter().map(|d| u64::from(*d)).product();
        return AxisInfo {
            contiguity: 1,
            divisibility: input.divisibility,
            constancy: n.max(1),
        };
    }
    let grows: Vec<bool> = from.iter().zip(to).map(|(a, b)| a != b).collect();
    let first_grow = grows.iter().position(|g| *g).unwrap_or(grows.len());
    let last_grow = grows.iter().rposition(|g| *g).unwrap_or(0);
    let first_real = from.iter().position(|d| *d > 1).unwrap_or(from.len());
    let last_real = from.iter().rposition(|d| *d > 1).unwrap_or(0);
    if first_grow > last_real {
        // Only trailing dimensions grow: each element repeats `factor` times.
        let factor: u64 = to[first_grow..].iter().map(|d| u64::from(*d)).product();
        AxisInfo {
            contiguity: 1,
            divisibility: input.divisibility,
            constancy: input.constancy.saturating_mul(factor),
        }
    } else if last_grow < first_real {
        // Only leading dimensions grow: the block repeats whole.
        input
    } else {
        AxisInfo::UNKNOWN
    }
}

/// The integer every element of `v` equals: a constant, or a splat of one.
pub(crate) fn const_int(f: &Function, v: Value) -> Option<i64> {
    match f.value(v).def {
        ValueDef::Result(op, 0) => match f.op(op).kind {
            OpKind::Constant(ConstValue::Int(c)) => Some(c),
            OpKind::Splat => const_int(f, f.op(op).operands[0]),
            _ => None,
        },
        _ => None,
    }
}
