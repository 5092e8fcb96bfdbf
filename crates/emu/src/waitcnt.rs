//! Memory operations' counters: the emulator completes every memory
//! operation at once, but keeps, per wave, the loads the hardware could
//! still have in flight, retired only by the `s_waitcnt` that covers them
//! (as LLVM's AMDGPU back end must arrange), and reports an instruction
//! that reads or overwrites a register such a load has not yet written.
//!
//! The counters, as the ISA guides describe them: `vmcnt` counts vector
//! memory operations (loads and stores on GFX9; loads only on GFX10+,
//! where stores count in `vscnt`), completing in issue order; `lgkmcnt`
//! counts LDS operations (in order) and scalar memory loads (in any
//! order). `s_waitcnt vmcnt(N)` waits until at most N are outstanding: the
//! older ones of an in-order counter are then complete; a scalar load is
//! known complete only at `lgkmcnt(0)`.

use crate::decode::{Inst, Operand};

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Counter {
    Vm,
    Vs,
    Lgkm,
}

#[derive(Clone, Debug)]
struct Op {
    counter: Counter,
    /// A scalar load: completes in any order.
    unordered: bool,
    /// The registers it writes: (file: 0 SGPR, 1 VGPR, 2 AGPR, first, count).
    regs: Vec<(u8, u16, u16)>,
    offset: u32,
    text: String,
}

/// The memory operations a wave may still have in flight.
#[derive(Clone, Debug, Default)]
pub struct Pending {
    ops: Vec<Op>,
}

fn regs_of(op: &Operand) -> Option<(u8, u16, u16)> {
    match *op {
        Operand::Sgpr(r, n) => Some((0, r, n as u16)),
        Operand::Vgpr(r, n) => Some((1, r, n as u16)),
        Operand::Vgpr16(r, _) => Some((1, r, 1)),
        Operand::Agpr(r, n) => Some((2, r, n as u16)),
        _ => None,
    }
}

fn overlaps(a: (u8, u16, u16), b: (u8, u16, u16)) -> bool {
    a.0 == b.0 && a.1 < b.1 + b.2 && b.1 < a.1 + a.2
}

/// The counter a memory instruction counts in, whether it completes out
/// of order (scalar loads), and whether it writes its first operand.
fn classify(inst: &Inst, gfx10: bool) -> Option<(Counter, bool, bool)> {
    let m = inst.base.as_str();
    // An atomic returning its old value (a destination operand before
    // the address) is a load; one that does not, a store.
    let global_atomic = m.starts_with("global_atomic");
    let atomic_returns = global_atomic && inst.operands.len() == 4;
    let vector_load = ["global_load", "buffer_load", "scratch_load"]
        .iter()
        .any(|p| m.starts_with(p))
        || atomic_returns;
    let vector_store = ["global_store", "buffer_store", "scratch_store"]
        .iter()
        .any(|p| m.starts_with(p))
        || (global_atomic && !atomic_returns);
    let lds_load = m.starts_with("ds_read")
        || m.starts_with("ds_load")
        || m == "ds_bpermute_b32"
        || m == "ds_swizzle_b32"
        || (m.starts_with("ds_") && m.contains("_rtn"));
    let lds_store = m.starts_with("ds_") && !lds_load;
    let scalar_load = m.starts_with("s_load") || m.starts_with("s_buffer_load");
    if vector_load {
        Some((Counter::Vm, false, true))
    } else if vector_store {
        Some((if gfx10 { Counter::Vs } else { Counter::Vm }, false, false))
    } else if lds_load || lds_store {
        Some((Counter::Lgkm, false, lds_load))
    } else if scalar_load {
        Some((Counter::Lgkm, true, true))
    } else {
        None
    }
}

impl Pending {
    pub fn is_empty(&self) -> bool {
        self.ops.is_empty()
    }

    /// Before `inst` runs: a register it names that an outstanding load
    /// has yet to write is an error (its text).
    ///
    /// A load's destination may be one an older load of the same in-order
    /// counter has yet to write (they complete in order: `d16` loads
    /// filling the two halves of a register do this).
    pub fn check(&self, inst: &Inst, gfx10: bool) -> Result<(), String> {
        if self.ops.is_empty() {
            return Ok(());
        }
        let in_order_load = match classify(inst, gfx10) {
            Some((c, false, true)) => Some(c),
            _ => None,
        };
        let mut operands: Vec<&Operand> = inst.operands.iter().map(|s| &s.op).collect();
        if let Some(d) = &inst.dual {
            operands.extend(d.operands.iter().map(|s| &s.op));
        }
        for (i, o) in operands.into_iter().enumerate() {
            let Some(r) = regs_of(o) else { continue };
            for op in &self.ops {
                if i == 0 && !op.unordered && in_order_load == Some(op.counter) {
                    continue;
                }
                if op.regs.iter().any(|&p| overlaps(p, r)) {
                    let name = match r.0 {
                        0 => "SGPR",
                        1 => "VGPR",
                        _ => "AGPR",
                    };
                    return Err(format!(
                        "{name} {} used before the s_waitcnt that covers its load at {:#x} `{}`",
                        r.1, op.offset, op.text
                    ));
                }
            }
        }
        Ok(())
    }

    /// After `inst` ran: records it if it is a memory operation; retires
    /// what an `s_waitcnt` covers.
    pub fn after(&mut self, inst: &Inst, gfx10: bool) {
        let m = inst.base.as_str();
        if m.starts_with("s_waitcnt") {
            self.wait(inst);
            return;
        }
        let Some((counter, unordered, writes)) = classify(inst, gfx10) else {
            return;
        };
        let regs = if writes {
            inst.operands.first().and_then(|s| regs_of(&s.op)).into_iter().collect()
        } else {
            vec![]
        };
        self.ops.push(Op {
            counter,
            unordered,
            regs,
            offset: inst.offset,
            text: inst.text.clone(),
        });
    }

    fn wait(&mut self, inst: &Inst) {
        let m = inst.base.as_str();
        let mut limits: Vec<(Counter, usize)> = Vec::new();
        let counter_of = |name: &str| match name {
            "vmcnt" => Some(Counter::Vm),
            "vscnt" => Some(Counter::Vs),
            "lgkmcnt" => Some(Counter::Lgkm),
            _ => None,
        };
        for (name, v) in &inst.modifiers {
            if let (Some(c), Ok(n)) = (counter_of(name), v.parse::<usize>()) {
                limits.push((c, n));
            }
        }
        // `s_waitcnt_vscnt null, 0x0` and its kin: the counter is in the
        // mnemonic, the count the last operand.
        if let Some(c) = m.strip_prefix("s_waitcnt_").and_then(counter_of) {
            if let Some(n) = inst.modifiers.last().and_then(|(n, _)| {
                n.strip_prefix("0x")
                    .map_or(n.parse().ok(), |h| usize::from_str_radix(h, 16).ok())
            }) {
                limits.push((c, n));
            }
        }
        for (c, n) in limits {
            // Keep the youngest `n` of the counter's in-order operations;
            // scalar loads stay unless n is 0.
            let ordered_total = self.ops.iter().filter(|o| o.counter == c && !o.unordered).count();
            let mut seen = 0;
            self.ops.retain(|o| {
                if o.counter != c {
                    return true;
                }
                if o.unordered {
                    return n != 0;
                }
                seen += 1;
                // Operations younger than this one: ordered_total - seen.
                ordered_total - seen < n
            });
        }
    }
}
