//! The operations of tile IR.
//!
//! Operations are typed by their operands: `Binary(Add)` on floats prints as
//! `arith.addf`, on ints as `arith.addi`; `Div` on unsigned ints is
//! `arith.divui`. Every operand of an elementwise op has the same shape
//! (the front end inserts `tk.splat` / `tk.broadcast`).

/// A constant's value. Integers are stored sign-extended in an `i64`
/// (unsigned 64-bit values reinterpret the bits).
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum ConstValue {
    Int(i64),
    Float(f64),
}

impl ConstValue {
    /// Bitwise equality, so that CSE distinguishes `-0.0` from `0.0` and NaNs
    /// compare equal to themselves.
    pub fn same(self, other: ConstValue) -> bool {
        match (self, other) {
            (ConstValue::Int(a), ConstValue::Int(b)) => a == b,
            (ConstValue::Float(a), ConstValue::Float(b)) => a.to_bits() == b.to_bits(),
            _ => false,
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum BinaryOp {
    Add,
    Sub,
    Mul,
    /// Truncating division for integers (C semantics), IEEE for floats.
    Div,
    /// Remainder with the sign of the dividend (C semantics).
    Rem,
    Shl,
    /// Arithmetic shift for signed ints, logical for unsigned.
    Shr,
    And,
    Or,
    Xor,
    /// Maximum; for floats IEEE `maxNum` as Triton's default `maximum`: a NaN
    /// operand is ignored and the other returned (NaN only if both are).
    Max,
    Min,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum CmpPred {
    Eq,
    Ne,
    Lt,
    Le,
    Gt,
    Ge,
}

impl CmpPred {
    /// MLIR predicate name for `arith.cmpi` / `arith.cmpf` (ordered floats,
    /// except `!=`, which is unordered so that `NaN != x` is true).
    /// The predicate `q` with `a p b` exactly when `b q a`.
    pub fn swapped(self) -> CmpPred {
        match self {
            CmpPred::Eq | CmpPred::Ne => self,
            CmpPred::Lt => CmpPred::Gt,
            CmpPred::Le => CmpPred::Ge,
            CmpPred::Gt => CmpPred::Lt,
            CmpPred::Ge => CmpPred::Le,
        }
    }

    pub fn mlir(self, float: bool, unsigned: bool) -> &'static str {
        match (self, float, unsigned) {
            (CmpPred::Eq, true, _) => "oeq",
            (CmpPred::Ne, true, _) => "une",
            (CmpPred::Lt, true, _) => "olt",
            (CmpPred::Le, true, _) => "ole",
            (CmpPred::Gt, true, _) => "ogt",
            (CmpPred::Ge, true, _) => "oge",
            (CmpPred::Eq, false, _) => "eq",
            (CmpPred::Ne, false, _) => "ne",
            (CmpPred::Lt, false, false) => "slt",
            (CmpPred::Le, false, false) => "sle",
            (CmpPred::Gt, false, false) => "sgt",
            (CmpPred::Ge, false, false) => "sge",
            (CmpPred::Lt, false, true) => "ult",
            (CmpPred::Le, false, true) => "ule",
            (CmpPred::Gt, false, true) => "ugt",
            (CmpPred::Ge, false, true) => "uge",
        }
    }
}

/// Unary math functions on floats (and `Abs` on ints too).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum MathFn {
    Exp,
    Exp2,
    Log,
    Log2,
    Sqrt,
    Rsqrt,
    Sin,
    Cos,
    Tanh,
    Erf,
    Abs,
    Floor,
    Ceil,
}

impl MathFn {
    pub const ALL: [MathFn; 13] = [
        MathFn::Exp,
        MathFn::Exp2,
        MathFn::Log,
        MathFn::Log2,
        MathFn::Sqrt,
        MathFn::Rsqrt,
        MathFn::Sin,
        MathFn::Cos,
        MathFn::Tanh,
        MathFn::Erf,
        MathFn::Abs,
        MathFn::Floor,
        MathFn::Ceil,
    ];

    pub fn name(self) -> &'static str {
        match self {
            MathFn::Exp => "exp",
            MathFn::Exp2 => "exp2",
            MathFn::Log => "log",
            MathFn::Log2 => "log2",
            MathFn::Sqrt => "sqrt",
            MathFn::Rsqrt => "rsqrt",
            MathFn::Sin => "sin",
            MathFn::Cos => "cos",
            MathFn::Tanh => "tanh",
            MathFn::Erf => "erf",
            MathFn::Abs => "abs",
            MathFn::Floor => "floor",
            MathFn::Ceil => "ceil",
        }
    }

    pub fn from_name(name: &str) -> Option<MathFn> {
        MathFn::ALL.into_iter().find(|m| m.name() == name)
    }
}

/// How a reduction combines elements.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ReduceKind {
    Sum,
    /// `maxNum` for floats (NaNs are ignored unless all are NaN).
    Max,
    Min,
    /// Bitwise exclusive or (integers).
    Xor,
}

impl ReduceKind {
    pub fn name(self) -> &'static str {
        match self {
            ReduceKind::Sum => "sum",
            ReduceKind::Max => "max",
            ReduceKind::Min => "min",
            ReduceKind::Xor => "xor_sum",
        }
    }
}

/// The read-modify-write of an atomic operation.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum AtomicOp {
    Add,
    /// `maxNum` for floats.
    Max,
    Min,
    Xchg,
}

impl AtomicOp {
    pub fn name(self) -> &'static str {
        match self {
            AtomicOp::Add => "add",
            AtomicOp::Max => "max",
            AtomicOp::Min => "min",
            AtomicOp::Xchg => "xchg",
        }
    }
}

/// How a scan combines elements.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ScanKind {
    Sum,
    Prod,
}

#[derive(Debug, Clone, PartialEq)]
pub enum OpKind {
    /// A scalar constant.
    Constant(ConstValue),
    ProgramId(u8),
    NumPrograms(u8),
    /// `[start, end)` as a 1-D i32 block.
    MakeRange {
        start: i32,
        end: i32,
    },
    /// Scalar to block of the result's shape.
    Splat,
    /// Block to a block of the result's shape (dimensions of size 1 grow).
    Broadcast,
    /// The same elements in row-major order, in another shape.
    Reshape,
    /// Transposition: result dimension `i` is operand dimension `order[i]`.
    Permute(Vec<u32>),
    /// Combines the elements along `axis`; the result drops that dimension
    /// (a 1-D block reduces to a scalar).
    Reduce {
        kind: ReduceKind,
        axis: u32,
    },
    /// The index (i32) of the maximum (`max`) or minimum element along
    /// `axis`, the lowest on ties; NaNs are ignored unless all are NaN.
    ArgReduce {
        max: bool,
        axis: u32,
    },
    /// Inclusive prefix sums or products along `axis`.
    Scan {
        kind: ScanKind,
        axis: u32,
    },
    Binary(BinaryOp),
    Cmp(CmpPred),
    /// Arithmetic negation (ints and floats).
    Neg,
    /// Bitwise not (logical not on bools).
    Not,
    /// Value conversion (`x.to(T)`): the result type gives the target.
    Cast,
    /// Bit reinterpretation between types of equal width.
    Bitcast,
    /// `select(cond, a, b)`.
    Select,
    Math(MathFn),
    Fma,
    /// Pointer plus an integer offset in elements.
    AddPtr,
    /// Operands: pointers, then an optional mask, then an optional `other`.
    Load {
        mask: bool,
        other: bool,
    },
    /// Operands: pointers, values, then an optional mask.
    Store {
        mask: bool,
    },
    /// Atomic read-modify-write of every element (acquire-release, device
    /// scope). Operands: pointers, values, then an optional mask. The result
    /// is the old values (masked-off elements: zero).
    Atomic {
        op: AtomicOp,
        mask: bool,
    },
    /// Atomic compare-and-swap. Operands: pointers, expected, new values.
    /// The result is the old values.
    AtomicCas,
    /// `acc + a @ b` for `a: [M, K]`, `b: [K, N]`, `acc: [M, N]`: each
    /// output is `acc[i, j]` with the products `a[i, k] * b[k, j]` added in
    /// increasing `k`, each by a fused multiply-add in the accumulator's
    /// type (f16/bf16/f32 inputs accumulate in f32, i8 in i32).
    Dot,
    /// Dist IR only: the operand's value with another layout (the result's
    /// entry in `Function::layouts`); moving a block into shared memory.
    ConvertLayout,
    /// A call to another function of the module (removed by inlining).
    Call(String),
    /// Operands: lower bound, upper bound, step, initial carried values.
    /// One region whose block takes the induction variable and the carried
    /// values and ends in `Yield`.
    For,
    /// Operand: the condition. Two regions (then, else), each ending in `Yield`.
    If,
    /// Operands: initial carried values. Region 0 ("before") takes the
    /// carried values and ends in `Condition`; region 1 ("after") takes
    /// the values forwarded by `Condition` and ends in `Yield`.
    While,
    /// Terminator of `For`/`If`/`While` bodies.
    Yield,
    /// Terminator of a `While`'s before region: the condition, then the
    /// values forwarded to the after region (and the results).
    Condition,
    /// Function terminator, with the returned values.
    Return,
    /// Checks that every element of the operand is true.
    Assert(String),
}

impl OpKind {
    /// Whether the op has effects beyond its results (never removed by DCE,
    /// never merged by CSE).
    pub fn has_side_effects(&self) -> bool {
        matches!(
            self,
            OpKind::Store { .. }
                | OpKind::Atomic { .. }
                | OpKind::AtomicCas
                | OpKind::Call(_)
                | OpKind::For
                | OpKind::If
                | OpKind::While
                | OpKind::Yield
                | OpKind::Condition
                | OpKind::Return
                | OpKind::Assert(_)
        )
    }

    /// Whether the op combines its operands position by position, each
    /// result element computed from the same element of every operand.
    pub fn is_elementwise(&self) -> bool {
        matches!(
            self,
            OpKind::Binary(_)
                | OpKind::Cmp(_)
                | OpKind::Neg
                | OpKind::Not
                | OpKind::Cast
                | OpKind::Bitcast
                | OpKind::Select
                | OpKind::Math(_)
                | OpKind::Fma
                | OpKind::AddPtr
        )
    }

    pub fn is_terminator(&self) -> bool {
        matches!(self, OpKind::Yield | OpKind::Condition | OpKind::Return)
    }
}
