//! Functions and modules: values, operations and blocks in arenas, named
//! by typed handles.
//!
//! A function owns three arenas. Operations live in blocks (in order);
//! structured control flow (`For`, `If`, `While`) owns nested blocks
//! (regions with exactly one block each). Passes that remove an operation
//! only unlink it from its block; the arena entry stays, unreachable.

use crate::{ops::OpKind, types::Type};
use std::fmt;

macro_rules! handle {
    ($name:ident, $prefix:literal) => {
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
        pub struct $name(pub u32);

        impl $name {
            pub fn index(self) -> usize {
                self.0 as usize
            }
        }

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                write!(f, concat!($prefix, "{}"), self.0)
            }
        }
    };
}

handle!(Value, "v");
handle!(OpId, "op");
handle!(BlockId, "bb");

/// Where a value comes from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ValueDef {
    Result(OpId, u32),
    Arg(BlockId, u32),
}

#[derive(Debug, Clone, PartialEq)]
pub struct ValueData {
    pub ty: Type,
    pub def: ValueDef,
}

/// A byte range in the source the operation came from (0..0 when none).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Hash)]
pub struct Loc {
    pub start: u32,
    pub end: u32,
}

#[derive(Debug, Clone, PartialEq)]
pub struct OpData {
    pub kind: OpKind,
    pub operands: Vec<Value>,
    pub results: Vec<Value>,
    pub regions: Vec<BlockId>,
    pub loc: Loc,
}

#[derive(Debug, Clone, PartialEq, Default)]
pub struct BlockData {
    pub args: Vec<Value>,
    pub ops: Vec<OpId>,
}

/// Launch options of a kernel.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct LaunchOptions {
    pub num_warps: u32,
    pub num_stages: u32,
}

impl Default for LaunchOptions {
    fn default() -> Self {
        LaunchOptions {
            num_warps: 4,
            num_stages: 2,
        }
    }
}

#[derive(Debug, Clone, PartialEq)]
pub struct Function {
    pub name: String,
    pub is_kernel: bool,
    /// Parameter names, parallel to the entry block's arguments.
    pub param_names: Vec<String>,
    pub result_types: Vec<Type>,
    pub options: LaunchOptions,
    /// Per parameter: a power of two its value is known to be divisible by
    /// (for pointers, the address in bytes). Triton's JIT learns 16 for
    /// aligned arguments; `tritonc compile --divisible` says it ahead of time.
    pub arg_divisibility: Vec<u32>,
    /// Every buffer the kernel is launched with is smaller than 4 GiB, so a
    /// byte offset from a buffer's start fits in 32 bits (Triton's
    /// `pointer_range = 32`, learnt at launch). Lets AMDGPU address memory
    /// as a scalar base plus a 32-bit vector offset.
    pub small_buffers: bool,
    /// Dist IR: the layout of every value (None in tile IR).
    pub layouts: Option<std::collections::HashMap<Value, crate::layout::Layout>>,
    pub values: Vec<ValueData>,
    pub ops: Vec<OpData>,
    pub blocks: Vec<BlockData>,
    pub entry: BlockId,
}

impl Function {
    /// A function with an empty entry block taking `params`.
    pub fn new(name: impl Into<String>, params: Vec<(String, Type)>, result_types: Vec<Type>) -> Self {
        let mut f = Function {
            name: name.into(),
            is_kernel: false,
            param_names: Vec::new(),
            result_types,
            options: LaunchOptions::default(),
            arg_divisibility: Vec::new(),
            small_buffers: false,
            layouts: None,
            values: Vec::new(),
            ops: Vec::new(),
            blocks: Vec::new(),
            entry: BlockId(0),
        };
        let (names, types): (Vec<_>, Vec<_>) = params.into_iter().unzip();
        f.arg_divisibility = vec![1; names.len()];
        f.param_names = names;
        f.entry = f.new_block(types);
        f
    }

    pub fn value(&self, v: Value) -> &ValueData {
        &self.values[v.index()]
    }

    pub fn ty(&self, v: Value) -> &Type {
        &self.values[v.index()].ty
    }

    pub fn op(&self, op: OpId) -> &OpData {
        &self.ops[op.index()]
    }

    pub fn op_mut(&mut self, op: OpId) -> &mut OpData {
        &mut self.ops[op.index()]
    }

    pub fn block(&self, b: BlockId) -> &BlockData {
        &self.blocks[b.index()]
    }

    pub fn block_mut(&mut self, b: BlockId) -> &mut BlockData {
        &mut self.blocks[b.index()]
    }

    pub fn params(&self) -> &[Value] {
        &self.blocks[self.entry.index()].args
    }

    /// A new, unlinked block with arguments of the given types.
    pub fn new_block(&mut self, arg_types: Vec<Type>) -> BlockId {
        let id = BlockId(self.blocks.len() as u32);
        let args = arg_types
            .into_iter()
            .enumerate()
            .map(|(i, ty)| self.new_value(ty, ValueDef::Arg(id, i as u32)))
            .collect();
        self.blocks.push(BlockData { args, ops: Vec::new() });
        id
    }

    /// Appends an argument of type `ty` to `block`.
    pub fn add_block_arg(&mut self, block: BlockId, ty: Type) -> Value {
        let i = self.blocks[block.index()].args.len() as u32;
        let v = self.new_value(ty, ValueDef::Arg(block, i));
        self.blocks[block.index()].args.push(v);
        v
    }

    /// Appends a result of type `ty` to `op`.
    pub fn add_result(&mut self, op: OpId, ty: Type) -> Value {
        let i = self.ops[op.index()].results.len() as u32;
        let v = self.new_value(ty, ValueDef::Result(op, i));
        self.ops[op.index()].results.push(v);
        v
    }

    fn new_value(&mut self, ty: Type, def: ValueDef) -> Value {
        let v = Value(self.values.len() as u32);
        self.values.push(ValueData { ty, def });
        v
    }

    /// Creates an operation (not yet in any block).
    pub fn create_op(
        &mut self,
        kind: OpKind,
        operands: Vec<Value>,
        result_types: Vec<Type>,
        regions: Vec<BlockId>,
        loc: Loc,
    ) -> OpId {
        let id = OpId(self.ops.len() as u32);
        let results = result_types
            .into_iter()
            .enumerate()
            .map(|(i, ty)| self.new_value(ty, ValueDef::Result(id, i as u32)))
            .collect();
        self.ops.push(OpData {
            kind,
            operands,
            results,
            regions,
            loc,
        });
        id
    }

    /// Creates an operation at the end of `block` and returns it.
    pub fn append_op(
        &mut self,
        block: BlockId,
        kind: OpKind,
        operands: Vec<Value>,
        result_types: Vec<Type>,
        regions: Vec<BlockId>,
        loc: Loc,
    ) -> OpId {
        let op = self.create_op(kind, operands, result_types, regions, loc);
        self.blocks[block.index()].ops.push(op);
        op
    }

    /// Every operation reachable from the entry block, in program order
    /// (an op before the ops of its regions).
    pub fn walk(&self) -> Vec<OpId> {
        let mut out = Vec::new();
        self.walk_block(self.entry, &mut out);
        out
    }

    /// The operation whose result `v` is (None for block arguments).
    pub fn def_op(&self, v: Value) -> Option<OpId> {
        match self.value(v).def {
            ValueDef::Result(op, _) => Some(op),
            ValueDef::Arg(..) => None,
        }
    }

    /// The reachable block that holds `op`.
    pub fn block_of(&self, op: OpId) -> Option<BlockId> {
        self.walk_blocks()
            .into_iter()
            .find(|b| self.block(*b).ops.contains(&op))
    }

    /// The `for` whose body is `body`.
    pub fn for_of_body(&self, body: BlockId) -> Option<OpId> {
        self.walk()
            .into_iter()
            .find(|op| matches!(self.op(*op).kind, OpKind::For) && self.op(*op).regions.first() == Some(&body))
    }

    /// Every block reachable from the entry block (the entry first).
    pub fn walk_blocks(&self) -> Vec<BlockId> {
        std::iter::once(self.entry)
            .chain(self.walk().iter().flat_map(|op| self.op(*op).regions.clone()))
            .collect()
    }

    fn walk_block(&self, b: BlockId, out: &mut Vec<OpId>) {
        for &op in &self.blocks[b.index()].ops {
            out.push(op);
            for &r in &self.ops[op.index()].regions {
                self.walk_block(r, out);
            }
        }
    }

    /// Replaces every use of a value by its image under `map`, in every
    /// reachable operation.
    pub fn substitute(&mut self, map: &std::collections::HashMap<Value, Value>) {
        if map.is_empty() {
            return;
        }
        let resolve = |mut v: Value| {
            // Chains (a -> b -> c) resolve to their end; the map is acyclic.
            let mut hops = 0;
            while let Some(&n) = map.get(&v) {
                v = n;
                hops += 1;
                if hops > map.len() {
                    break;
                }
            }
            v
        };
        for op in self.walk() {
            for operand in &mut self.ops[op.index()].operands {
                *operand = resolve(*operand);
            }
        }
    }

    /// Number of live uses of each value (by index).
    pub fn use_counts(&self) -> Vec<u32> {
        let mut counts = vec![0u32; self.values.len()];
        for op in self.walk() {
            for v in &self.ops[op.index()].operands {
                counts[v.index()] += 1;
            }
        }
        counts
    }
}

/// A compilation unit: kernels and the helpers they call.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Module {
    pub functions: Vec<Function>,
}

impl Module {
    pub fn function(&self, name: &str) -> Option<&Function> {
        self.functions.iter().find(|f| f.name == name)
    }
}
