//! A launch: the kernarg segment, each wave's initial state (AMDGPUUsage,
//! "Initial Kernel Execution State"), and the workgroups, run one after
//! another, their waves cooperatively (switching at `s_barrier`).

use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::Mutex;
use std::time::Instant;

use crate::code_object::{self, Arch, Kernel};
use crate::decode::{self, Program};
use crate::exec::{self, Ctx, Flow};
use crate::memory::Memory;
use crate::wave::{Trap, Wave, LANES};
use crate::EmuError;

/// A kernel argument, positional in the metadata's order of explicit
/// (non-hidden) arguments.
#[derive(Clone, Debug, PartialEq)]
pub enum Arg {
    /// An address from [`Memory`], or 0 for a null pointer.
    Ptr(u64),
    I32(i32),
    U32(u32),
    F32(f32),
    I64(i64),
    /// Raw bytes of a by-value argument of that size.
    Bytes(Vec<u8>),
}

/// The shape of a launch.
#[derive(Clone, Debug)]
pub struct Launch {
    /// Workgroups in X, Y, Z.
    pub grid: [u32; 3],
    /// Work-items per workgroup in X, Y, Z.
    pub block: [u32; 3],
    /// LDS allocated at launch beyond the kernel's fixed group segment.
    pub dynamic_lds: u32,
}

/// What a launch executed.
#[derive(Clone, Debug, Default)]
pub struct Stats {
    /// Instructions executed, counted once per wave.
    pub wave_instructions: u64,
    /// Vector instructions counted once per active lane (EXEC), scalar
    /// instructions once.
    pub lane_instructions: u64,
    pub waves: u64,
    pub seconds: f64,
    /// Instructions that read a register (in some lane of EXEC) that
    /// neither the launch nor an instruction had written: at most one is
    /// counted per wave and instruction execution.
    pub uninitialized_reads: u64,
    /// The first few of them, each with program id, wave, lane, the
    /// instruction's offset and text.
    pub reports: Vec<String>,
}

/// How many reports [`Stats::reports`] keeps.
const MAX_REPORTS: usize = 8;

impl Stats {
    pub fn lane_instructions_per_second(&self) -> f64 {
        self.lane_instructions as f64 / self.seconds.max(1e-9)
    }
}

/// A kernel, decoded once, ready to launch any number of times.
#[derive(Debug)]
pub struct Emulator {
    pub kernel: Kernel,
    pub program: Program,
    /// Instructions one wave may execute before the run is stopped as a
    /// runaway (default 50 million).
    pub max_wave_instructions: u64,
    /// Threads running workgroups in parallel (default: the machine's
    /// cores). With 1, a kernel whose workgroups race runs the same way
    /// every time.
    pub threads: usize,
}

impl Emulator {
    /// Loads kernel `name` (its symbol) from a code object.
    pub fn new(code_object: &[u8], name: &str) -> Result<Emulator, EmuError> {
        let kernels = code_object::load(code_object)?;
        let names: Vec<String> = kernels.iter().map(|k| k.name.clone()).collect();
        let kernel = kernels
            .into_iter()
            .find(|k| k.name == name)
            .ok_or_else(|| EmuError::CodeObject(format!("no kernel `{name}` (it has {names:?})")))?;
        Emulator::from_kernel(kernel)
    }

    pub fn from_kernel(kernel: Kernel) -> Result<Emulator, EmuError> {
        let program = decode::decode(kernel.arch, &kernel.code)?;
        let threads = std::thread::available_parallelism().map(|n| n.get()).unwrap_or(1);
        Ok(Emulator {
            kernel,
            program,
            max_wave_instructions: 50_000_000,
            threads,
        })
    }

    pub fn wave_size(&self) -> usize {
        self.kernel.wave_size() as usize
    }

    /// Runs one launch: `args` are the explicit arguments in order.
    pub fn run(&self, mem: &mut Memory, args: &[Arg], launch: &Launch) -> Result<Stats, EmuError> {
        let start = Instant::now();
        let k = &self.kernel;
        let kd = &k.descriptor;
        let err = |m: String| EmuError::Launch(format!("kernel `{}`: {m}", k.name));
        if kd.property(11) {
            return Err(err("a dynamic stack is not modeled".into()));
        }
        if kd.float_denorm_mode_32() != 3 {
            return Err(err(
                "flushing f32 denormals (FLOAT_DENORM_MODE_32 != 3) is not modeled".into()
            ));
        }
        if launch.grid.contains(&0) || launch.block.contains(&0) {
            return Err(err("empty grid or block".into()));
        }
        let threads = launch.block.iter().product::<u32>() as usize;
        if threads > 1024 {
            return Err(err(format!("{threads} work-items per workgroup (at most 1024)")));
        }
        let wave_size = self.wave_size();
        let buffers_before = mem.len();
        let result = (|| {
            let kernarg = mem.alloc(&self.kernarg_segment(args, launch)?);
            let dispatch = kd.property(1).then(|| mem.alloc(&dispatch_packet(launch, kernarg)));
            let queue = kd.property(2).then(|| mem.alloc(&[0; 256]));
            let lds_size =
                (kd.group_segment_fixed_size.max(k.meta.group_segment_fixed_size) + launch.dynamic_lds) as usize;
            let nwaves = threads.div_ceil(wave_size);
            let mut groups = Vec::new();
            for z in 0..launch.grid[2] {
                for y in 0..launch.grid[1] {
                    for x in 0..launch.grid[0] {
                        groups.push([x, y, z]);
                    }
                }
            }
            // Workgroups are taken in order by `threads` threads, each
            // with its own waves and LDS; global memory is shared.
            let next = AtomicUsize::new(0);
            let failed = AtomicBool::new(false);
            let shared = Mutex::new(std::mem::take(mem));
            let nthreads = self.threads.clamp(1, groups.len());
            let worker = || {
                let mut stats = Stats::default();
                let mut lds = vec![0u8; lds_size];
                let mut waves: Vec<Wave> = (0..nwaves as u32).map(|i| Wave::new(i, wave_size)).collect();
                while !failed.load(Ordering::Relaxed) {
                    let i = next.fetch_add(1, Ordering::Relaxed);
                    let Some(&group) = groups.get(i) else { break };
                    lds.fill(0);
                    let run = (|| {
                        for w in waves.iter_mut() {
                            self.init_wave(w, group, launch, kernarg, dispatch, queue)?;
                        }
                        let mut ctx = Ctx {
                            arch: k.arch,
                            mem: &shared,
                            lds: &mut lds,
                        };
                        self.run_workgroup(&mut waves, &mut ctx, group, &mut stats)
                    })();
                    if let Err(e) = run {
                        failed.store(true, Ordering::Relaxed);
                        return (stats, Some((i, e)));
                    }
                }
                (stats, None)
            };
            let outcomes: Vec<(Stats, Option<(usize, EmuError)>)> = if nthreads == 1 {
                vec![worker()]
            } else {
                std::thread::scope(|scope| {
                    let handles: Vec<_> = (0..nthreads).map(|_| scope.spawn(worker)).collect();
                    handles
                        .into_iter()
                        .map(|h| h.join().expect("an emulator thread panicked"))
                        .collect()
                })
            };
            *mem = shared.into_inner().unwrap_or_else(|e| e.into_inner());
            let mut stats = Stats::default();
            let mut first_error: Option<(usize, EmuError)> = None;
            for (s, e) in outcomes {
                stats.wave_instructions += s.wave_instructions;
                stats.lane_instructions += s.lane_instructions;
                stats.waves += s.waves;
                stats.uninitialized_reads += s.uninitialized_reads;
                let room = MAX_REPORTS.saturating_sub(stats.reports.len());
                stats.reports.extend(s.reports.into_iter().take(room));
                if let Some((i, e)) = e {
                    if first_error.as_ref().is_none_or(|(j, _)| i < *j) {
                        first_error = Some((i, e));
                    }
                }
            }
            // The error of the first workgroup (in launch order) that
            // failed: every earlier one had been taken and ran to its end.
            match first_error {
                Some((_, e)) => Err(e),
                None => Ok(stats),
            }
        })();
        mem.truncate(buffers_before);
        let mut stats = result?;
        stats.seconds = start.elapsed().as_secs_f64();
        Ok(stats)
    }

    fn kernarg_segment(&self, args: &[Arg], launch: &Launch) -> Result<Vec<u8>, EmuError> {
        let k = &self.kernel;
        let err = |m: String| EmuError::Launch(format!("kernel `{}`: {m}", k.name));
        let size = k.meta.kernarg_segment_size.max(k.descriptor.kernarg_size) as usize;
        let mut seg = vec![0u8; size.div_ceil(16) * 16];
        let explicit: Vec<_> = k
            .meta
            .args
            .iter()
            .filter(|a| !a.value_kind.starts_with("hidden_"))
            .collect();
        if explicit.len() != args.len() {
            return Err(err(format!(
                "{} arguments given, the kernel takes {}",
                args.len(),
                explicit.len()
            )));
        }
        let mut put = |off: u32, bytes: &[u8]| -> Result<(), EmuError> {
            let off = off as usize;
            seg.get_mut(off..off + bytes.len())
                .ok_or_else(|| err(format!("argument at {off} outside the kernarg segment ({size} bytes)")))?
                .copy_from_slice(bytes);
            Ok(())
        };
        for (i, (meta, arg)) in explicit.iter().zip(args).enumerate() {
            let bytes = match arg {
                Arg::Ptr(p) => p.to_le_bytes().to_vec(),
                Arg::I32(v) => v.to_le_bytes().to_vec(),
                Arg::U32(v) => v.to_le_bytes().to_vec(),
                Arg::F32(v) => v.to_le_bytes().to_vec(),
                Arg::I64(v) => v.to_le_bytes().to_vec(),
                Arg::Bytes(b) => b.clone(),
            };
            let pointer_kind = matches!(meta.value_kind.as_str(), "global_buffer" | "dynamic_shared_pointer");
            if bytes.len() != meta.size as usize || pointer_kind != matches!(arg, Arg::Ptr(_)) {
                return Err(err(format!(
                    "argument {i} is {} of {} bytes; {arg:?} given",
                    meta.value_kind, meta.size
                )));
            }
            put(meta.offset, &bytes)?;
        }
        let grid = launch.grid;
        let block = launch.block;
        let dims = if grid[2] * block[2] > 1 {
            3u16
        } else if grid[1] * block[1] > 1 {
            2
        } else {
            1
        };
        for meta in k.meta.args.iter().filter(|a| a.value_kind.starts_with("hidden_")) {
            let axis = |s: &str| match s.chars().last() {
                Some('x') => 0,
                Some('y') => 1,
                _ => 2,
            };
            let kind = meta.value_kind.as_str();
            let value: u64 = match kind {
                "hidden_block_count_x" | "hidden_block_count_y" | "hidden_block_count_z" => grid[axis(kind)] as u64,
                "hidden_group_size_x" | "hidden_group_size_y" | "hidden_group_size_z" => block[axis(kind)] as u64,
                // Every workgroup is whole.
                "hidden_remainder_x" | "hidden_remainder_y" | "hidden_remainder_z" => 0,
                "hidden_global_offset_x" | "hidden_global_offset_y" | "hidden_global_offset_z" => 0,
                "hidden_grid_dims" => dims as u64,
                "hidden_dynamic_lds_size" => launch.dynamic_lds as u64,
                // Services this emulator does not provide: null pointers,
                // so that a kernel using one faults.
                "hidden_none"
                | "hidden_printf_buffer"
                | "hidden_hostcall_buffer"
                | "hidden_default_queue"
                | "hidden_completion_action"
                | "hidden_multigrid_sync_arg"
                | "hidden_heap_v1"
                | "hidden_queue_ptr"
                | "hidden_private_base"
                | "hidden_shared_base" => 0,
                other => return Err(err(format!("hidden argument `{other}` is not modeled"))),
            };
            let bytes = value.to_le_bytes();
            let n = (meta.size as usize).min(8);
            put(meta.offset, &bytes[..n])?;
        }
        Ok(seg)
    }

    fn init_wave(
        &self,
        w: &mut Wave,
        group: [u32; 3],
        launch: &Launch,
        kernarg: u64,
        dispatch: Option<u64>,
        queue: Option<u64>,
    ) -> Result<(), EmuError> {
        let k = &self.kernel;
        let kd = &k.descriptor;
        let id = w.id;
        *w = Wave::new(id, w.wave_size);
        w.gfx10 = k.arch.is_gfx10_plus();
        w.scratch_bytes = kd.private_segment_fixed_size.max(k.meta.private_segment_fixed_size) as usize;
        w.scratch = vec![0; w.scratch_bytes * LANES];
        let threads = launch.block.iter().product::<u32>() as usize;
        let first = id as usize * w.wave_size;
        let lanes = (threads - first).min(w.wave_size);
        w.exec = if lanes == 64 { u64::MAX } else { (1u64 << lanes) - 1 };
        // User SGPRs, in the descriptor's order.
        let mut sgprs: Vec<u32> = Vec::new();
        let pair = |v: u64| [v as u32, (v >> 32) as u32];
        if kd.property(0) {
            sgprs.extend([0; 4]); // private segment buffer: no scratch
        }
        if kd.property(1) {
            sgprs.extend(pair(dispatch.unwrap_or(0)));
        }
        if kd.property(2) {
            sgprs.extend(pair(queue.unwrap_or(0)));
        }
        if kd.property(3) {
            sgprs.extend(pair(kernarg));
        }
        if kd.property(4) {
            sgprs.extend([0; 2]); // dispatch id
        }
        if kd.property(5) {
            sgprs.extend([0; 2]); // flat scratch init
        }
        if kd.property(6) {
            sgprs.push(0); // private segment size
        }
        let user = kd.user_sgpr_count() as usize;
        if sgprs.len() > user {
            return Err(EmuError::Launch(format!(
                "kernel `{}`: the descriptor enables {} user SGPRs but USER_SGPR_COUNT is {user}",
                k.name,
                sgprs.len()
            )));
        }
        // The rest up to USER_SGPR_COUNT are preloaded kernel arguments:
        // execution starts at the entry, whose first 256 bytes load them
        // (the path for firmware without preloading).
        sgprs.resize(user, 0);
        for d in 0..3 {
            if kd.workgroup_id_enabled(d) {
                sgprs.push(group[d as usize]);
            }
        }
        if kd.workgroup_info_enabled() {
            sgprs.push(0);
        }
        if kd.private_segment_enabled() {
            sgprs.push(0); // scratch wave offset
        }
        w.s[..sgprs.len()].copy_from_slice(&sgprs);
        let packed_ids = matches!(k.arch, Arch::Gfx90a | Arch::Gfx942 | Arch::Gfx1100);
        w.mark_initialized(sgprs.len(), if packed_ids { 1 } else { 3 });
        // Work-item ids.
        let packed = matches!(k.arch, Arch::Gfx90a | Arch::Gfx942 | Arch::Gfx1100);
        let [bx, by, _] = launch.block;
        let id_dims = (kd.compute_pgm_rsrc2 >> 11) & 3;
        for lane in 0..lanes {
            let t = (first + lane) as u32;
            let (x, y, z) = (t % bx, (t / bx) % by, t / (bx * by));
            if packed {
                let y = if id_dims >= 1 { y } else { 0 };
                let z = if id_dims >= 2 { z } else { 0 };
                w.v[lane] = x | y << 10 | z << 20;
            } else {
                w.v[lane] = x;
                w.v[LANES + lane] = y;
                w.v[2 * LANES + lane] = z;
            }
        }
        Ok(())
    }

    fn run_workgroup(
        &self,
        waves: &mut [Wave],
        ctx: &mut Ctx,
        group: [u32; 3],
        stats: &mut Stats,
    ) -> Result<(), EmuError> {
        loop {
            for i in 0..waves.len() {
                if waves[i].ended || waves[i].at_barrier {
                    continue;
                }
                if let Err(mut e) = self.run_wave(&mut waves[i], ctx, group, stats) {
                    // A wave that never stops while others wait at a
                    // barrier: the workgroup would hang on hardware.
                    let waiting: Vec<u32> = waves.iter().filter(|w| w.at_barrier).map(|w| w.id).collect();
                    if let EmuError::Fault { what, .. } = &mut e {
                        if what.starts_with("runaway") && !waiting.is_empty() {
                            what.push_str(&format!(
                                " while waves {waiting:?} wait at a barrier it never reaches (a barrier deadlock on hardware)"
                            ));
                        }
                    }
                    return Err(e);
                }
            }
            if waves.iter().all(|w| w.ended) {
                stats.waves += waves.len() as u64;
                return Ok(());
            }
            // Every live wave waits at a barrier (waves that ended leave
            // the barrier, as on hardware): release them.
            for w in waves.iter_mut() {
                w.at_barrier = false;
            }
        }
    }

    fn run_wave(&self, w: &mut Wave, ctx: &mut Ctx, group: [u32; 3], stats: &mut Stats) -> Result<(), EmuError> {
        loop {
            let pc = w.pc;
            let inst = match self.program.at(pc) {
                Some(Ok(i)) => i,
                Some(Err((text, why))) => {
                    return Err(EmuError::Unimplemented {
                        mnemonic: text.split_whitespace().next().unwrap_or("").to_string(),
                        why: format!("operands not understood: {why}"),
                        offset: pc,
                        text: text.clone(),
                        program: group,
                        wave: w.id,
                    })
                }
                None => {
                    return Err(EmuError::Fault {
                        what: "execution reached something that is not an instruction".into(),
                        offset: pc,
                        text: String::new(),
                        program: group,
                        wave: w.id,
                        lane: None,
                    })
                }
            };
            w.executed += 1;
            if w.executed > self.max_wave_instructions {
                return Err(self.wrap(
                    Trap::Fault(
                        format!(
                            "runaway: more than {} instructions in one wave",
                            self.max_wave_instructions
                        ),
                        None,
                    ),
                    inst,
                    group,
                    w.id,
                ));
            }
            stats.wave_instructions += 1;
            let c = inst.base.as_bytes()[0];
            stats.lane_instructions += if c == b's' { 1 } else { w.exec.count_ones() as u64 };
            if !w.pending.is_empty() && !inst.base.starts_with("s_waitcnt") {
                if let Err(what) = w.pending.check(inst, w.gfx10) {
                    return Err(self.wrap(Trap::Fault(what, None), inst, group, w.id));
                }
            }
            let flow = exec::step(w, inst, ctx).map_err(|t| self.wrap(t, inst, group, w.id))?;
            if let Some(u) = w.uninit_read.take() {
                stats.uninitialized_reads += 1;
                if stats.reports.len() < MAX_REPORTS {
                    stats.reports.push(format!(
                        "a read of {}{} in lane {} that nothing had written, at {:#x} `{}` (program {group:?}, wave {})",
                        u.file, u.reg, u.lane, u.pc, inst.text, w.id
                    ));
                }
            }
            w.pending.after(inst, w.gfx10);
            match flow {
                Flow::Next => w.pc = pc + inst.size,
                Flow::Jump(t) => w.pc = t,
                Flow::Barrier => {
                    w.pc = pc + inst.size;
                    w.at_barrier = true;
                    return Ok(());
                }
                Flow::End => {
                    w.ended = true;
                    return Ok(());
                }
            }
        }
    }

    fn wrap(&self, t: Trap, inst: &decode::Inst, program: [u32; 3], wave: u32) -> EmuError {
        wrap(t, inst, program, wave)
    }
}

/// Executes one instruction, written as LLVM's disassembler prints it, on
/// `wave` (for tests of single instructions: set the registers, run, read
/// them). Branches and barriers are errors here.
pub fn execute_text(arch: Arch, wave: &mut Wave, text: &str, mem: &mut Memory, lds: &mut [u8]) -> Result<(), EmuError> {
    let inst = decode::parse(0, 4, text)?;
    wave.gfx10 = arch.is_gfx10_plus();
    let shared = Mutex::new(std::mem::take(mem));
    let mut ctx = Ctx {
        arch,
        mem: &shared,
        lds,
    };
    let flow = exec::step(wave, &inst, &mut ctx).map_err(|t| wrap(t, &inst, [0; 3], wave.id));
    *mem = shared.into_inner().unwrap_or_else(|e| e.into_inner());
    match flow? {
        Flow::Next => Ok(()),
        other => Err(EmuError::Launch(format!(
            "`{text}`: {other:?} in a single-instruction run"
        ))),
    }
}

fn wrap(t: Trap, inst: &decode::Inst, program: [u32; 3], wave: u32) -> EmuError {
    match t {
        Trap::Unimplemented(why) => EmuError::Unimplemented {
            mnemonic: inst.mnemonic.clone(),
            why,
            offset: inst.offset,
            text: inst.text.clone(),
            program,
            wave,
        },
        Trap::Fault(what, lane) => EmuError::Fault {
            what,
            offset: inst.offset,
            text: inst.text.clone(),
            program,
            wave,
            lane,
        },
    }
}

/// An HSA kernel dispatch packet (64 bytes) for the dispatch pointer.
fn dispatch_packet(launch: &Launch, kernarg: u64) -> Vec<u8> {
    let mut p = vec![0u8; 64];
    let dims = if launch.grid[2] * launch.block[2] > 1 {
        3u16
    } else if launch.grid[1] * launch.block[1] > 1 {
        2
    } else {
        1
    };
    p[2..4].copy_from_slice(&dims.to_le_bytes());
    for d in 0..3 {
        p[4 + 2 * d..6 + 2 * d].copy_from_slice(&(launch.block[d] as u16).to_le_bytes());
        p[12 + 4 * d..16 + 4 * d].copy_from_slice(&(launch.grid[d] * launch.block[d]).to_le_bytes());
    }
    p[28..32].copy_from_slice(&launch.dynamic_lds.to_le_bytes());
    p[40..48].copy_from_slice(&kernarg.to_le_bytes());
    p
}
