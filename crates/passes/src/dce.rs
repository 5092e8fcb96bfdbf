//! Dead code elimination: removes operations without side effects whose
//! results are unused, until nothing changes.
//!
//! Guarantees: stores, asserts, control flow and terminators are kept;
//! loads are removed when unused (they cannot fault when masked, and an
//! unmasked load of an unused value has no observable effect).

use crate::PassError;
use tritonc_ir::{BlockId, Function, Module};

pub fn run(m: &mut Module) -> Result<(), PassError> {
    for f in &mut m.functions {
        function(f);
    }
    Ok(())
}

/// Removes `f`'s dead operations (for passes that leave some behind).
pub fn function(f: &mut Function) {
    while sweep(f) {}
}

fn sweep(f: &mut Function) -> bool {
    let uses = f.use_counts();
    let blocks: Vec<BlockId> = std::iter::once(f.entry)
        .chain(f.walk().iter().flat_map(|op| f.op(*op).regions.clone()))
        .collect();
    let mut changed = false;
    for b in blocks {
        let before = f.block(b).ops.len();
        let ops = f.block(b).ops.clone();
        let kept: Vec<_> = ops
            .into_iter()
            .filter(|op| {
                let d = f.op(*op);
                d.kind.has_side_effects() || d.results.iter().any(|r| uses[r.index()] > 0)
            })
            .collect();
        changed |= kept.len() != before;
        f.block_mut(b).ops = kept;
    }
    changed
}
