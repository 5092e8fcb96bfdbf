//! Targets: one trait, looked up by name.
//!
//! A target says how a program's block is spread over lanes (its wave
//! size; the host has one "lane" holding whole blocks as vectors), how ids
//! are read, how kernels are declared, and how LLVM builds code for it.
//! Nothing else in code generation asks which target it is.

use crate::CodegenError;
use std::fmt::Write;

/// What kind of code a target gets.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TargetKind {
    Amdgpu,
    Host,
}

pub trait Target: Send + Sync {
    /// The name users pass (`gfx942`, `host`).
    fn name(&self) -> &str;
    fn kind(&self) -> TargetKind;
    fn description(&self) -> &str;
    /// Lanes of a wavefront (1 on the host).
    fn wave_size(&self) -> u32;
    /// Bytes of local data share per workgroup (0 on the host).
    fn lds_bytes(&self) -> u32;
    fn triple(&self) -> String;
    fn cpu(&self) -> String;
    fn features(&self) -> String;
    /// The MLIR type of a pointer to global memory.
    fn global_ptr(&self) -> &'static str;
    /// Lanes (work-items) of one program for `num_warps` waves.
    fn lanes(&self, num_warps: u32) -> u32;
    /// Emits the MLIR for the function header, given the kernel name,
    /// its parameters' MLIR types and the lanes per program. Returns the
    /// header text (up to and including `{`) and the body prologue, with
    /// parameters bound to `%arg0..`.
    fn function_header(&self, name: &str, params: &[String], lanes: u32) -> (String, String);
    /// MLIR that defines `%{out}` as the program id along `axis` (i32).
    fn program_id(&self, axis: u8, out: &str) -> String;
    /// MLIR that defines `%{out}` as the number of programs along `axis`.
    fn num_programs(&self, axis: u8, out: &str) -> String;
    /// MLIR that defines `%{out}` as this lane's index in the program (i32).
    fn lane_id(&self, out: &str) -> String;
    /// Whether `device_assert` is checked in generated code.
    fn checks_asserts(&self) -> bool;
    /// Whether f64 `exp`, `log`, `sin`, ... are available on this target.
    fn has_f64_transcendentals(&self) -> bool;
    /// Whether integer division by zero (or `MIN / -1`) traps, so that
    /// generated code must avoid it even in masked-off elements.
    fn traps_on_integer_division(&self) -> bool;
    /// Shared memory (LDS) of `bytes` bytes for one program: module-level
    /// declarations, and function-entry code defining `%{out}` as its base
    /// address, of the returned pointer type.
    fn shared_memory(&self, bytes: u32, out: &str) -> (String, String, &'static str);
    /// An operation reading a 32-bit value from another lane of the same
    /// wave (`byte_addr` = that lane's index times 4) without going through
    /// shared memory, if the target has one (AMDGPU: `ds_bpermute`).
    fn wave_shuffle(&self, byte_addr: &str, value: &str) -> Option<String>;
    fn has_wave_shuffle(&self) -> bool {
        self.wave_shuffle("%0", "%1").is_some()
    }
    /// Code defining `%{out}` as a 32-bit value from another lane of the
    /// same wave, without shared memory, for the low levels of a butterfly:
    /// level `bit` reads the lane whose index differs in that bit, assuming
    /// (for bits 2 and 3) that the aligned groups below are already
    /// uniform, so that a mirror within the row reads the same values as an
    /// exchange would. AMDGPU: DPP `quad_perm` and row mirrors for bits 0-3,
    /// `ds_swizzle` for bit 4.
    fn row_exchange(&self, _bit: u32, _value: &str, _out: &str) -> Option<String> {
        None
    }
    /// Code that waits until every lane of the program reached this point,
    /// with shared-memory writes before it visible after it. `tag` makes
    /// the names it defines unique.
    fn barrier(&self, tag: &str) -> String;
}

/// An AMD GPU architecture.
#[derive(Debug, Clone, Copy)]
pub struct AmdGpu {
    pub arch: &'static str,
    pub wave: u32,
    pub lds: u32,
    pub about: &'static str,
}

/// The AMD GPUs this compiler knows, by `gfx` name.
pub const AMD_GPUS: &[AmdGpu] = &[
    AmdGpu {
        arch: "gfx90a",
        wave: 64,
        lds: 65536,
        about: "CDNA2 (MI200 series)",
    },
    AmdGpu {
        arch: "gfx942",
        wave: 64,
        lds: 65536,
        about: "CDNA3 (MI300 series)",
    },
    AmdGpu {
        arch: "gfx1030",
        wave: 32,
        lds: 65536,
        about: "RDNA2 (RX 6000 series)",
    },
    AmdGpu {
        arch: "gfx1100",
        wave: 32,
        lds: 65536,
        about: "RDNA3 (RX 7900 series)",
    },
];

impl Target for AmdGpu {
    fn name(&self) -> &str {
        self.arch
    }
    fn kind(&self) -> TargetKind {
        TargetKind::Amdgpu
    }
    fn description(&self) -> &str {
        self.about
    }
    fn wave_size(&self) -> u32 {
        self.wave
    }
    fn lds_bytes(&self) -> u32 {
        self.lds
    }
    fn triple(&self) -> String {
        "amdgcn-amd-amdhsa".into()
    }
    fn cpu(&self) -> String {
        self.arch.into()
    }
    fn features(&self) -> String {
        // Wave size is a feature on RDNA (which defaults to wave32).
        if self.wave == 64 {
            "+wavefrontsize64".into()
        } else {
            "+wavefrontsize32".into()
        }
    }
    fn global_ptr(&self) -> &'static str {
        "!llvm.ptr<1>"
    }
    fn lanes(&self, num_warps: u32) -> u32 {
        num_warps * self.wave
    }
    fn function_header(&self, name: &str, params: &[String], lanes: u32) -> (String, String) {
        let args: Vec<String> = params
            .iter()
            .enumerate()
            .map(|(i, t)| format!("%arg{i}: {t}"))
            .collect();
        let head = format!(
            "  llvm.func @{name}({}) attributes {{rocdl.kernel, rocdl.flat_work_group_size = \"{lanes},{lanes}\", rocdl.reqd_work_group_size = array<i32: {lanes}, 1, 1>}} {{\n",
            args.join(", ")
        );
        (head, String::new())
    }
    fn program_id(&self, axis: u8, out: &str) -> String {
        format!("    %{out} = rocdl.workgroup.id.{} : i32\n", axis_name(axis))
    }
    fn num_programs(&self, axis: u8, out: &str) -> String {
        // The HSA dispatch packet holds the grid size in work-items (u32 at
        // byte 12 + 4 * axis) and the workgroup size (u16 at 4 + 2 * axis).
        let mut s = String::new();
        let _ = writeln!(
            s,
            "    %{out}_dp = llvm.call_intrinsic \"llvm.amdgcn.dispatch.ptr\"() : () -> !llvm.ptr<4>"
        );
        let _ = writeln!(
            s,
            "    %{out}_gp = llvm.getelementptr %{out}_dp[{}] : (!llvm.ptr<4>) -> !llvm.ptr<4>, i8",
            12 + 4 * u32::from(axis)
        );
        let _ = writeln!(
            s,
            "    %{out}_g = llvm.load %{out}_gp {{alignment = 4 : i64, invariant}} : !llvm.ptr<4> -> i32"
        );
        let _ = writeln!(
            s,
            "    %{out}_wp = llvm.getelementptr %{out}_dp[{}] : (!llvm.ptr<4>) -> !llvm.ptr<4>, i8",
            4 + 2 * u32::from(axis)
        );
        let _ = writeln!(
            s,
            "    %{out}_w16 = llvm.load %{out}_wp {{alignment = 2 : i64, invariant}} : !llvm.ptr<4> -> i16"
        );
        let _ = writeln!(s, "    %{out}_w = arith.extui %{out}_w16 : i16 to i32");
        let _ = writeln!(s, "    %{out} = arith.divui %{out}_g, %{out}_w : i32");
        s
    }
    fn lane_id(&self, out: &str) -> String {
        format!("    %{out} = rocdl.workitem.id.x : i32\n")
    }
    fn checks_asserts(&self) -> bool {
        false
    }
    fn has_f64_transcendentals(&self) -> bool {
        false
    }
    fn traps_on_integer_division(&self) -> bool {
        false
    }
    fn shared_memory(&self, bytes: u32, out: &str) -> (String, String, &'static str) {
        let global = format!(
            "  llvm.mlir.global internal @__tk_lds() {{addr_space = 3 : i32, alignment = 16 : i64}} : !llvm.array<{bytes} x i8> {{\n    %0 = llvm.mlir.undef : !llvm.array<{bytes} x i8>\n    llvm.return %0 : !llvm.array<{bytes} x i8>\n  }}\n"
        );
        let code = format!("    %{out} = llvm.mlir.addressof @__tk_lds : !llvm.ptr<3>\n");
        (global, code, "!llvm.ptr<3>")
    }
    fn wave_shuffle(&self, byte_addr: &str, value: &str) -> Option<String> {
        Some(format!("rocdl.ds_bpermute {byte_addr}, {value} : (i32, i32) -> i32"))
    }
    fn row_exchange(&self, bit: u32, value: &str, out: &str) -> Option<String> {
        // quad_perm [1,0,3,2], quad_perm [2,3,0,1], row_half_mirror, row_mirror.
        if let Some(ctrl) = [177, 78, 0x141, 0x140].get(bit as usize) {
            return Some(format!(
                "%{out} = rocdl.update.dpp {value}, {value} with {ctrl}, 15, 15, false : i32"
            ));
        }
        // ds_swizzle in bit mode: and 0x1f, or 0, xor 0x10 (lanes 16 apart).
        (bit == 4).then(|| {
            format!(
                "%{out}_pattern = llvm.mlir.constant({} : i32) : i32\n%{out} = rocdl.ds_swizzle {value}, %{out}_pattern : (i32, i32) -> i32",
                0x1f | (0x10 << 10)
            )
        })
    }
    fn barrier(&self, _tag: &str) -> String {
        "llvm.fence syncscope(\"workgroup\") release\nrocdl.s.barrier\nllvm.fence syncscope(\"workgroup\") acquire"
            .into()
    }
}

fn axis_name(axis: u8) -> &'static str {
    match axis {
        0 => "x",
        1 => "y",
        _ => "z",
    }
}

/// The host CPU: one "lane" per program holding whole blocks as vectors;
/// programs run in parallel on the host's threads.
#[derive(Debug, Clone, Copy, Default)]
pub struct Host;

/// Name prefix of host kernels, so that they never collide with C symbols.
pub const HOST_PREFIX: &str = "tk_";

impl Target for Host {
    fn name(&self) -> &str {
        "host"
    }
    fn kind(&self) -> TargetKind {
        TargetKind::Host
    }
    fn description(&self) -> &str {
        "the host CPU (the CPU backend)"
    }
    fn wave_size(&self) -> u32 {
        1
    }
    fn lds_bytes(&self) -> u32 {
        0
    }
    fn triple(&self) -> String {
        inkwell::targets::TargetMachine::get_default_triple()
            .as_str()
            .to_string_lossy()
            .into_owned()
    }
    fn cpu(&self) -> String {
        inkwell::targets::TargetMachine::get_host_cpu_name().to_string()
    }
    fn features(&self) -> String {
        inkwell::targets::TargetMachine::get_host_cpu_features().to_string()
    }
    fn global_ptr(&self) -> &'static str {
        "!llvm.ptr"
    }
    fn lanes(&self, _num_warps: u32) -> u32 {
        1
    }
    fn function_header(&self, name: &str, params: &[String], _lanes: u32) -> (String, String) {
        // Every host kernel has one signature: a pointer to 8-byte argument
        // slots, the program id, the grid size, a status word where a failed
        // `device_assert` records itself, the lane (always 0 on the host;
        // the lane simulator calls once per lane) and the program's shared
        // memory and barrier (lane simulator only).
        let head = format!(
            "  llvm.func @{HOST_PREFIX}{name}(%args: !llvm.ptr, %pid0: i32, %pid1: i32, %pid2: i32, %np0: i32, %np1: i32, %np2: i32, %status: !llvm.ptr, %lane_arg: i32, %shared: !llvm.ptr) {{\n"
        );
        let mut pro = String::from("    %c0_i32 = arith.constant 0 : i32\n");
        for (i, t) in params.iter().enumerate() {
            let _ = writeln!(
                pro,
                "    %arg{i}_p = llvm.getelementptr %args[{i}] : (!llvm.ptr) -> !llvm.ptr, i64"
            );
            let _ = writeln!(pro, "    %arg{i} = llvm.load %arg{i}_p : !llvm.ptr -> {t}");
        }
        (head, pro)
    }
    fn program_id(&self, axis: u8, out: &str) -> String {
        format!("    %{out} = arith.addi %pid{axis}, %c0_i32 : i32\n")
    }
    fn num_programs(&self, axis: u8, out: &str) -> String {
        format!("    %{out} = arith.addi %np{axis}, %c0_i32 : i32\n")
    }
    fn lane_id(&self, out: &str) -> String {
        format!("    %{out} = arith.addi %lane_arg, %c0_i32 : i32\n")
    }
    fn checks_asserts(&self) -> bool {
        true
    }
    fn has_f64_transcendentals(&self) -> bool {
        true
    }
    fn traps_on_integer_division(&self) -> bool {
        true
    }
    fn shared_memory(&self, _bytes: u32, out: &str) -> (String, String, &'static str) {
        // The runtime passes `%shared`: a pointer to { memory, barrier
        // function, barrier context } for the program being run.
        let code = format!("    %{out} = llvm.load %shared : !llvm.ptr -> !llvm.ptr\n");
        (String::new(), code, "!llvm.ptr")
    }
    fn wave_shuffle(&self, _byte_addr: &str, _value: &str) -> Option<String> {
        None
    }
    fn barrier(&self, tag: &str) -> String {
        [
            format!("%{tag}_fp = llvm.getelementptr %shared[1] : (!llvm.ptr) -> !llvm.ptr, !llvm.ptr"),
            format!("%{tag}_f = llvm.load %{tag}_fp : !llvm.ptr -> !llvm.ptr"),
            format!("%{tag}_cp = llvm.getelementptr %shared[2] : (!llvm.ptr) -> !llvm.ptr, !llvm.ptr"),
            format!("%{tag}_c = llvm.load %{tag}_cp : !llvm.ptr -> !llvm.ptr"),
            format!("llvm.call %{tag}_f(%{tag}_c) : !llvm.ptr, (!llvm.ptr) -> ()"),
        ]
        .join("\n")
    }
}

/// An AMD GPU's lane-level code run on the host: the same layouts, lane
/// ids and vectorized accesses as the GPU, compiled for the host CPU, with
/// the runtime calling the kernel once per lane of every program. Exact
/// for kernels without cross-lane communication (all 1-D kernels today), so
/// it checks the GPU code path's numbers without a GPU.
#[derive(Debug, Clone, Copy)]
pub struct LaneSimulator {
    pub gpu: AmdGpu,
    name: &'static str,
}

impl Target for LaneSimulator {
    fn name(&self) -> &str {
        self.name
    }
    fn kind(&self) -> TargetKind {
        TargetKind::Host
    }
    fn description(&self) -> &str {
        "an AMD GPU's lanes simulated on the host"
    }
    fn wave_size(&self) -> u32 {
        self.gpu.wave
    }
    fn lds_bytes(&self) -> u32 {
        self.gpu.lds
    }
    fn triple(&self) -> String {
        Host.triple()
    }
    fn cpu(&self) -> String {
        Host.cpu()
    }
    fn features(&self) -> String {
        Host.features()
    }
    fn global_ptr(&self) -> &'static str {
        Host.global_ptr()
    }
    fn lanes(&self, num_warps: u32) -> u32 {
        self.gpu.lanes(num_warps)
    }
    fn function_header(&self, name: &str, params: &[String], lanes: u32) -> (String, String) {
        Host.function_header(name, params, lanes)
    }
    fn program_id(&self, axis: u8, out: &str) -> String {
        Host.program_id(axis, out)
    }
    fn num_programs(&self, axis: u8, out: &str) -> String {
        Host.num_programs(axis, out)
    }
    fn lane_id(&self, out: &str) -> String {
        Host.lane_id(out)
    }
    fn checks_asserts(&self) -> bool {
        true
    }
    fn has_f64_transcendentals(&self) -> bool {
        self.gpu.has_f64_transcendentals()
    }
    fn traps_on_integer_division(&self) -> bool {
        true
    }
    fn shared_memory(&self, bytes: u32, out: &str) -> (String, String, &'static str) {
        Host.shared_memory(bytes, out)
    }
    /// Lanes run on separate threads here, so exchanges go through
    /// shared memory and barriers (the same values `ds_bpermute` gives).
    fn wave_shuffle(&self, _byte_addr: &str, _value: &str) -> Option<String> {
        None
    }
    fn barrier(&self, tag: &str) -> String {
        Host.barrier(tag)
    }
}

/// Finds a target by name: `host`, a `gfx` architecture (optionally with
/// feature suffixes such as `gfx942:sramecc+:xnack-`), or `sim:gfx942`
/// for that GPU's lanes simulated on the host.
pub fn lookup(name: &str) -> Result<Box<dyn Target>, CodegenError> {
    if name == "host" || name == "cpu" {
        return Ok(Box::new(Host));
    }
    if let Some(gpu) = name.strip_prefix("sim:") {
        let arch = gpu.split(':').next().unwrap_or(gpu);
        if let Some(g) = AMD_GPUS.iter().find(|g| g.arch == arch) {
            let name: &'static str = Box::leak(format!("sim:{}", g.arch).into_boxed_str());
            return Ok(Box::new(LaneSimulator { gpu: *g, name }));
        }
    }
    let arch = name.split(':').next().unwrap_or(name);
    AMD_GPUS
        .iter()
        .find(|g| g.arch == arch)
        .map(|g| Box::new(*g) as Box<dyn Target>)
        .ok_or_else(|| {
            let known: Vec<&str> = AMD_GPUS.iter().map(|g| g.arch).collect();
            CodegenError::UnknownTarget(format!("unknown target `{name}` (known: host, {})", known.join(", ")))
        })
}
