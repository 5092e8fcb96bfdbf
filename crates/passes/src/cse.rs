//! Common subexpression elimination over structured regions.
//!
//! Two pure operations with the same kind, attributes, operands and result
//! types are merged; an operation inside a region may reuse one from an
//! enclosing region, never the other way. Loads are not merged (a store
//! may sit between them), nor is anything with side effects.

use crate::PassError;
use std::collections::HashMap;
use tritonc_ir::{BlockId, Function, Module, OpKind, Type, Value};

pub fn run(m: &mut Module) -> Result<(), PassError> {
    for f in &mut m.functions {
        let mut subst = HashMap::new();
        let entry = f.entry;
        block(f, entry, &mut Vec::new(), &mut subst);
        f.substitute(&subst);
    }
    Ok(())
}

type Key = (String, Vec<Value>, Vec<Type>);

fn key(f: &Function, op: tritonc_ir::OpId, subst: &HashMap<Value, Value>) -> Option<Key> {
    let d = f.op(op);
    if d.kind.has_side_effects() || matches!(d.kind, OpKind::Load { .. }) || !d.regions.is_empty() {
        return None;
    }
    // Constants compare by bits, so format them by their bit pattern.
    let kind = match &d.kind {
        OpKind::Constant(tritonc_ir::ConstValue::Float(x)) => format!("constf {:x}", x.to_bits()),
        k => format!("{k:?}"),
    };
    let operands = d.operands.iter().map(|v| *subst.get(v).unwrap_or(v)).collect();
    let types = d.results.iter().map(|v| f.ty(*v).clone()).collect();
    Some((kind, operands, types))
}

fn block(f: &mut Function, b: BlockId, scopes: &mut Vec<HashMap<Key, Vec<Value>>>, subst: &mut HashMap<Value, Value>) {
    scopes.push(HashMap::new());
    for op in f.block(b).ops.clone() {
        if let Some(k) = key(f, op, subst) {
            let found = scopes.iter().rev().find_map(|s| s.get(&k)).cloned();
            match found {
                Some(prev) => {
                    for (r, p) in f.op(op).results.clone().into_iter().zip(prev) {
                        subst.insert(r, p);
                    }
                }
                None => {
                    let results = f.op(op).results.clone();
                    if let Some(s) = scopes.last_mut() {
                        s.insert(k, results);
                    }
                }
            }
        }
        // Rewrite operands now so that keys of later ops see merged values.
        let operands: Vec<Value> = f.op(op).operands.iter().map(|v| *subst.get(v).unwrap_or(v)).collect();
        f.op_mut(op).operands = operands;
        for r in f.op(op).regions.clone() {
            block(f, r, scopes, subst);
        }
    }
    scopes.pop();
}
