//! Decoding: LLVM's own AMDGPU disassembler (through llvm-sys) turns each
//! instruction's bytes into text, and this module parses that text into a
//! mnemonic, operands and modifiers. There are no encoding tables here.

use std::ffi::{c_char, CStr, CString};
use std::sync::Once;

use crate::code_object::Arch;
use crate::EmuError;

extern "C" {
    // Exported by libLLVM; llvm-sys declares only the "all targets" wrapper.
    fn LLVMInitializeAMDGPUDisassembler();
}

/// One operand as the disassembler prints it.
#[derive(Clone, Debug, PartialEq)]
pub enum Operand {
    /// `sN` / `s[A:B]`: first register and count.
    Sgpr(u16, u8),
    Vgpr(u16, u8),
    /// A 16-bit half of a VGPR (GFX11 true16: `v1.l`, `v1.h`): register
    /// and whether it is the high half.
    Vgpr16(u16, bool),
    Agpr(u16, u8),
    Vcc,
    VccLo,
    VccHi,
    Exec,
    ExecLo,
    ExecHi,
    M0,
    /// `null` (GFX10+) and `off`.
    Null,
    Off,
    /// `scc` as an operand (`src_scc`).
    Scc,
    /// An integer constant (inline or literal) as printed.
    Int(i64),
    /// A floating-point inline constant (`1.0`, `-0.5`, `0.15915494`).
    Float(f64),
}

/// A source with its VOP3 modifiers.
#[derive(Clone, Debug, PartialEq)]
pub struct Src {
    pub op: Operand,
    pub neg: bool,
    pub abs: bool,
}

impl Src {
    /// The operand as it is, without modifiers.
    pub fn plain(op: Operand) -> Src {
        Src {
            op,
            neg: false,
            abs: false,
        }
    }
}

/// A decoded instruction.
#[derive(Clone, Debug)]
pub struct Inst {
    /// Offset from the kernel's entry.
    pub offset: u32,
    pub size: u32,
    /// The disassembler's text, trimmed.
    pub text: String,
    /// The mnemonic as printed (`v_add_f32_e32`, `v_mov_b32_dpp`).
    pub mnemonic: String,
    /// The mnemonic without `_e32`/`_e64`/`_dpp`/`_sdwa` suffix.
    pub base: String,
    /// `e32`, `e64`, `dpp`, `sdwa` or empty.
    pub encoding: &'static str,
    pub operands: Vec<Src>,
    /// Modifiers after the operands: (`offset`, "2048"), (`offen`, ""),
    /// (`row_shr`, "8"), (`quad_perm`, "[2,3,0,1]"), (`vmcnt`, "0").
    pub modifiers: Vec<(String, String)>,
    /// The second half of a GFX11 `v_dual_*` pair.
    pub dual: Option<Box<Inst>>,
}

impl Inst {
    pub fn modifier(&self, name: &str) -> Option<&str> {
        self.modifiers.iter().find(|(n, _)| n == name).map(|(_, v)| v.as_str())
    }
}

/// Every instruction of a kernel's code, decoded once, indexed by offset.
#[derive(Debug)]
pub struct Program {
    /// `slots[offset / 4]` is the instruction starting at `offset`, or the
    /// text the disassembler printed and why it could not be parsed (an
    /// error only if it runs).
    pub slots: Vec<Option<Result<Inst, (String, String)>>>,
}

impl Program {
    pub fn at(&self, offset: u32) -> Option<&Result<Inst, (String, String)>> {
        if !offset.is_multiple_of(4) {
            return None;
        }
        self.slots.get(offset as usize / 4).and_then(|s| s.as_ref())
    }
}

struct Disasm(llvm_sys::disassembler::LLVMDisasmContextRef);

impl Drop for Disasm {
    fn drop(&mut self) {
        // SAFETY: the context came from LLVMCreateDisasmCPUFeatures and is
        // disposed once.
        unsafe { llvm_sys::disassembler::LLVMDisasmDispose(self.0) }
    }
}

/// Decodes all of `code` (the kernel's bytes from its entry).
pub fn decode(arch: Arch, code: &[u8]) -> Result<Program, EmuError> {
    static INIT: Once = Once::new();
    INIT.call_once(|| {
        // SAFETY: LLVM's target registration functions, called once.
        unsafe {
            llvm_sys::target::LLVMInitializeAMDGPUTargetInfo();
            llvm_sys::target::LLVMInitializeAMDGPUTargetMC();
            LLVMInitializeAMDGPUDisassembler();
        }
    });
    let triple = CString::new("amdgcn-amd-amdhsa").unwrap();
    let cpu = CString::new(arch.name()).unwrap();
    let features = CString::new("").unwrap();
    // SAFETY: valid C strings; no callbacks.
    let ctx = unsafe {
        llvm_sys::disassembler::LLVMCreateDisasmCPUFeatures(
            triple.as_ptr(),
            cpu.as_ptr(),
            features.as_ptr(),
            std::ptr::null_mut(),
            0,
            None,
            None,
        )
    };
    if ctx.is_null() {
        return Err(EmuError::CodeObject(format!(
            "LLVM has no AMDGPU disassembler for {}",
            arch.name()
        )));
    }
    let ctx = Disasm(ctx);
    let mut slots: Vec<Option<Result<Inst, (String, String)>>> = (0..code.len().div_ceil(4)).map(|_| None).collect();
    let mut at = 0usize;
    let mut buf = vec![0 as c_char; 512];
    while at < code.len() {
        let mut bytes = code[at..].to_vec();
        // SAFETY: `bytes` and `buf` outlive the call, with their lengths.
        let n = unsafe {
            llvm_sys::disassembler::LLVMDisasmInstruction(
                ctx.0,
                bytes.as_mut_ptr(),
                bytes.len() as u64,
                at as u64,
                buf.as_mut_ptr(),
                buf.len(),
            )
        };
        if n == 0 {
            // Not an instruction (padding after the end, or data): it is
            // an error only if execution reaches it.
            at += 4;
            continue;
        }
        // SAFETY: LLVM wrote a NUL-terminated string into `buf`.
        let text = unsafe { CStr::from_ptr(buf.as_ptr()) }
            .to_string_lossy()
            .trim()
            .to_string();
        slots[at / 4] = Some(parse(at as u32, n as u32, &text).map_err(|e| match e {
            EmuError::Parse { why, .. } => (text.clone(), why),
            e => (text.clone(), e.to_string()),
        }));
        at += n;
    }
    Ok(Program { slots })
}

fn bad(offset: u32, text: &str, why: &str) -> EmuError {
    EmuError::Parse {
        offset,
        text: text.to_string(),
        why: why.to_string(),
    }
}

/// Parses one line of the disassembler's text.
pub fn parse(offset: u32, size: u32, text: &str) -> Result<Inst, EmuError> {
    if let Some((a, b)) = text.split_once(" :: ") {
        let mut first = parse(offset, size, a.trim())?;
        let second = parse(offset, size, b.trim())?;
        first.text = text.to_string();
        first.dual = Some(Box::new(second));
        return Ok(first);
    }
    let (mnemonic, rest) = match text.split_once(char::is_whitespace) {
        Some((m, r)) => (m.to_string(), r.trim()),
        None => (text.to_string(), ""),
    };
    let mut base = mnemonic.clone();
    let mut encoding = "";
    for suffix in ["_e32", "_e64", "_dpp", "_sdwa"] {
        if let Some(b) = mnemonic.strip_suffix(suffix) {
            base = b.to_string();
            encoding = &suffix[1..];
        }
    }
    let mut inst = Inst {
        offset,
        size,
        text: text.to_string(),
        mnemonic,
        base,
        encoding,
        operands: Vec::new(),
        modifiers: Vec::new(),
        dual: None,
    };
    // s_delay_alu, s_waitcnt_depctr, s_clause: scheduling hints whose
    // operands do not change results; s_waitcnt's counters are modifiers.
    if matches!(
        inst.base.as_str(),
        "s_delay_alu" | "s_waitcnt_depctr" | "s_clause" | "s_waitcnt" | "s_sendmsg"
    ) {
        for tok in rest
            .split(|c: char| c.is_whitespace() || c == '&' || c == '|' || c == ',')
            .filter(|t| !t.is_empty())
        {
            if let Some((name, v)) = tok.split_once('(') {
                inst.modifiers
                    .push((name.to_string(), v.trim_end_matches(')').to_string()));
            } else {
                inst.modifiers.push((tok.to_string(), String::new()));
            }
        }
        return Ok(inst);
    }
    // Split at top-level commas; the last piece holds the modifiers after
    // a space.
    let mut pieces = Vec::new();
    let mut depth = 0i32;
    let mut cur = String::new();
    for c in rest.chars() {
        match c {
            '[' | '(' => depth += 1,
            ']' | ')' => depth -= 1,
            _ => {}
        }
        if c == ',' && depth == 0 {
            pieces.push(cur.trim().to_string());
            cur.clear();
        } else {
            cur.push(c);
        }
    }
    if !cur.trim().is_empty() {
        pieces.push(cur.trim().to_string());
    }
    let mut words: Vec<String> = Vec::new();
    if let Some(last) = pieces.pop() {
        let mut toks = last.split_whitespace();
        let first = toks.next().unwrap_or("").to_string();
        if is_modifier(&first) {
            words.push(first);
        } else {
            pieces.push(first);
        }
        words.extend(toks.map(str::to_string));
    }
    for (i, p) in pieces.iter().enumerate() {
        // SDWA's integer sign extension, `sext(v1)`: a modifier naming the
        // operand's index.
        let p = match p.strip_prefix("sext(").and_then(|r| r.strip_suffix(')')) {
            Some(inner) => {
                inst.modifiers.push(("sext".to_string(), i.to_string()));
                inner
            }
            None => p.as_str(),
        };
        inst.operands
            .push(parse_src(p).ok_or_else(|| bad(offset, text, &format!("operand `{p}`")))?);
    }
    for w in words {
        match w.split_once(':') {
            Some((n, v)) => inst.modifiers.push((n.to_string(), v.to_string())),
            None => inst.modifiers.push((w, String::new())),
        }
    }
    Ok(inst)
}

fn is_modifier(tok: &str) -> bool {
    tok.contains(':') && !tok.starts_with(['s', 'v', 'a', 't']) && !tok.starts_with("-")
        || matches!(
            tok,
            "offen" | "idxen" | "glc" | "slc" | "dlc" | "nt" | "sc0" | "sc1" | "lds" | "clamp" | "gds"
        )
        || tok.starts_with("offset:")
        || tok.starts_with("row_")
        || tok.starts_with("quad_perm:")
        || tok.starts_with("wave_")
        || tok.starts_with("op_sel")
}

fn parse_src(p: &str) -> Option<Src> {
    let mut s = p;
    let mut neg = false;
    let mut abs = false;
    if let Some(r) = s.strip_prefix('-') {
        if r.starts_with(['v', 's', 'a', '|']) || r.starts_with("vcc") {
            neg = true;
            s = r;
        }
    }
    if let Some(r) = s.strip_prefix('|').and_then(|r| r.strip_suffix('|')) {
        abs = true;
        s = r;
    }
    Some(Src {
        op: parse_operand(s)?,
        neg,
        abs,
    })
}

fn parse_operand(s: &str) -> Option<Operand> {
    let fixed = match s {
        "vcc" => Some(Operand::Vcc),
        "vcc_lo" => Some(Operand::VccLo),
        "vcc_hi" => Some(Operand::VccHi),
        "exec" => Some(Operand::Exec),
        "exec_lo" => Some(Operand::ExecLo),
        "exec_hi" => Some(Operand::ExecHi),
        "m0" => Some(Operand::M0),
        "null" => Some(Operand::Null),
        "off" => Some(Operand::Off),
        "scc" | "src_scc" => Some(Operand::Scc),
        _ => None,
    };
    if fixed.is_some() {
        return fixed;
    }
    if let Some((reg, half)) = s.strip_prefix('v').and_then(|r| r.split_once('.')) {
        let hi = match half {
            "l" => false,
            "h" => true,
            _ => return None,
        };
        return Some(Operand::Vgpr16(reg.parse().ok()?, hi));
    }
    for (prefix, kind) in [("s", 0), ("v", 1), ("a", 2)] {
        if let Some(r) = s.strip_prefix(prefix) {
            let range = if let Some(inner) = r.strip_prefix('[').and_then(|r| r.strip_suffix(']')) {
                let (a, b) = inner.split_once(':')?;
                let (a, b): (u16, u16) = (a.parse().ok()?, b.parse().ok()?);
                Some((a, (b.checked_sub(a)? + 1) as u8))
            } else if !r.is_empty() && r.bytes().all(|c| c.is_ascii_digit()) {
                Some((r.parse().ok()?, 1))
            } else {
                None
            };
            if let Some((first, n)) = range {
                return Some(match kind {
                    0 => Operand::Sgpr(first, n),
                    1 => Operand::Vgpr(first, n),
                    _ => Operand::Agpr(first, n),
                });
            }
        }
    }
    let (negative, digits) = match s.strip_prefix('-') {
        Some(r) => (true, r),
        None => (false, s),
    };
    if let Some(hex) = digits.strip_prefix("0x") {
        let v = i64::from_str_radix(hex, 16).ok()?;
        return Some(Operand::Int(if negative { -v } else { v }));
    }
    if digits.bytes().all(|c| c.is_ascii_digit()) && !digits.is_empty() {
        let v: i64 = digits.parse().ok()?;
        return Some(Operand::Int(if negative { -v } else { v }));
    }
    if digits.contains('.') {
        let v: f64 = digits.parse().ok()?;
        return Some(Operand::Float(if negative { -v } else { v }));
    }
    None
}
