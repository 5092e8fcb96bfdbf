//! Types of tile IR values: scalars, pointers, and blocks of either.

use std::fmt;

/// Element (scalar) types of the language.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum ScalarType {
    I1,
    I8,
    I16,
    I32,
    I64,
    U8,
    U16,
    U32,
    U64,
    F16,
    BF16,
    F32,
    F64,
}

impl ScalarType {
    pub const ALL: [ScalarType; 13] = [
        ScalarType::I1,
        ScalarType::I8,
        ScalarType::I16,
        ScalarType::I32,
        ScalarType::I64,
        ScalarType::U8,
        ScalarType::U16,
        ScalarType::U32,
        ScalarType::U64,
        ScalarType::F16,
        ScalarType::BF16,
        ScalarType::F32,
        ScalarType::F64,
    ];

    /// The language's name for the type (`bool` is spelled `i1` here).
    pub fn name(self) -> &'static str {
        match self {
            ScalarType::I1 => "i1",
            ScalarType::I8 => "i8",
            ScalarType::I16 => "i16",
            ScalarType::I32 => "i32",
            ScalarType::I64 => "i64",
            ScalarType::U8 => "u8",
            ScalarType::U16 => "u16",
            ScalarType::U32 => "u32",
            ScalarType::U64 => "u64",
            ScalarType::F16 => "f16",
            ScalarType::BF16 => "bf16",
            ScalarType::F32 => "f32",
            ScalarType::F64 => "f64",
        }
    }

    pub fn from_name(name: &str) -> Option<ScalarType> {
        if name == "bool" {
            return Some(ScalarType::I1);
        }
        ScalarType::ALL.into_iter().find(|t| t.name() == name)
    }

    /// The MLIR builtin type with the same bits and signedness.
    pub fn mlir(self) -> &'static str {
        match self {
            ScalarType::U8 => "ui8",
            ScalarType::U16 => "ui16",
            ScalarType::U32 => "ui32",
            ScalarType::U64 => "ui64",
            other => other.name(),
        }
    }

    /// The signless MLIR type used once signedness is encoded in the ops.
    pub fn signless(self) -> &'static str {
        match self {
            ScalarType::U8 => "i8",
            ScalarType::U16 => "i16",
            ScalarType::U32 => "i32",
            ScalarType::U64 => "i64",
            other => other.name(),
        }
    }

    pub fn bits(self) -> u32 {
        match self {
            ScalarType::I1 => 1,
            ScalarType::I8 | ScalarType::U8 => 8,
            ScalarType::I16 | ScalarType::U16 | ScalarType::F16 | ScalarType::BF16 => 16,
            ScalarType::I32 | ScalarType::U32 | ScalarType::F32 => 32,
            ScalarType::I64 | ScalarType::U64 | ScalarType::F64 => 64,
        }
    }

    /// Size in memory (a bool occupies one byte).
    pub fn bytes(self) -> u32 {
        self.bits().div_ceil(8)
    }

    pub fn is_float(self) -> bool {
        matches!(
            self,
            ScalarType::F16 | ScalarType::BF16 | ScalarType::F32 | ScalarType::F64
        )
    }

    pub fn is_int(self) -> bool {
        !self.is_float()
    }

    pub fn is_bool(self) -> bool {
        self == ScalarType::I1
    }

    pub fn is_unsigned(self) -> bool {
        matches!(
            self,
            ScalarType::U8 | ScalarType::U16 | ScalarType::U32 | ScalarType::U64
        )
    }

    pub fn is_signed_int(self) -> bool {
        self.is_int() && !self.is_unsigned() && !self.is_bool()
    }
}

impl fmt::Display for ScalarType {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// What one element of a value is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Elem {
    Scalar(ScalarType),
    /// A pointer to global memory holding the given type.
    Ptr(ScalarType),
}

impl Elem {
    pub fn scalar(self) -> Option<ScalarType> {
        match self {
            Elem::Scalar(s) => Some(s),
            Elem::Ptr(_) => None,
        }
    }
}

impl fmt::Display for Elem {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Elem::Scalar(s) => write!(f, "{s}"),
            Elem::Ptr(s) => write!(f, "Ptr<{s}>"),
        }
    }
}

/// The type of a value: a scalar (empty shape) or a block.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Type {
    pub elem: Elem,
    pub shape: Vec<u32>,
}

impl Type {
    pub fn scalar(s: ScalarType) -> Type {
        Type {
            elem: Elem::Scalar(s),
            shape: Vec::new(),
        }
    }

    pub fn ptr(s: ScalarType) -> Type {
        Type {
            elem: Elem::Ptr(s),
            shape: Vec::new(),
        }
    }

    pub fn block(elem: Elem, shape: Vec<u32>) -> Type {
        Type { elem, shape }
    }

    pub fn is_block(&self) -> bool {
        !self.shape.is_empty()
    }

    /// The same shape with another element.
    pub fn with_elem(&self, elem: Elem) -> Type {
        Type {
            elem,
            shape: self.shape.clone(),
        }
    }

    pub fn scalar_elem(&self) -> Option<ScalarType> {
        self.elem.scalar()
    }

    /// Number of elements (1 for a scalar).
    pub fn numel(&self) -> u64 {
        self.shape.iter().map(|d| u64::from(*d)).product()
    }

    /// MLIR spelling, as Triton prints its IR: signless scalars (signedness
    /// lives in the operations, `arith.divui` vs `arith.divsi`), pointers as
    /// `!tk.ptr<T>` (which keep `ui32` etc.), blocks as builtin tensors
    /// (`tensor<1024xf32>`, `tensor<1024x!tk.ptr<f32>>`). With these types
    /// the `arith`, `math` and `scf` operations of a dump verify in MLIR.
    pub fn mlir(&self) -> String {
        let elem = match self.elem {
            Elem::Scalar(s) => s.signless().to_string(),
            Elem::Ptr(s) => format!("!tk.ptr<{}>", s.mlir()),
        };
        if self.shape.is_empty() {
            return elem;
        }
        let dims: Vec<String> = self.shape.iter().map(u32::to_string).collect();
        format!("tensor<{}x{elem}>", dims.join("x"))
    }
}

impl fmt::Display for Type {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.shape.is_empty() {
            write!(f, "{}", self.elem)
        } else {
            let dims: Vec<String> = self.shape.iter().map(u32::to_string).collect();
            write!(f, "block<{}, [{}]>", self.elem, dims.join(", "))
        }
    }
}
