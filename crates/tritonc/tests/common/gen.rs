//! Random kernels, valid by construction, for differential testing.
//!
//! A seed gives a kernel in the `.tk` language over a 1-D or 2-D block:
//! loads with masks, a random straight-line mix of float, integer and bool
//! arithmetic (with the language's edge cases: wrapping, C division,
//! shifts, NaN-ignoring `maximum`, f16 round trips, casts), `if`
//! expressions on a runtime scalar, runtime and unrolled loops with carried
//! blocks, loops walking pointer blocks over the input, `dot`s accumulated
//! over loops of tiles, helpers, reductions, arg-reductions and scans, and
//! masked stores. The same seed always gives the same kernel and inputs.
//!
//! It avoids what the language leaves unspecified, so that every back end
//! must agree with the interpreter: integer divisors are made nonzero,
//! shift amounts smaller than the width, floats are clamped before they
//! become integers. Transcendental functions (few-ulp approximations on the
//! back ends) are applied only right before a store, so that their small
//! differences are not amplified by later arithmetic.
#![allow(dead_code)]

/// Where the generator's choices come from: bytes first (so that a fuzzer
/// mutating them mutates the kernel), then splitmix64 (small,
/// deterministic, good enough to pick programs).
#[derive(Debug, Clone)]
pub struct GenRng {
    state: u64,
    bytes: Vec<u8>,
    at: usize,
}

impl GenRng {
    pub fn new(seed: u64) -> GenRng {
        GenRng {
            state: seed,
            bytes: Vec::new(),
            at: 0,
        }
    }

    /// Choices read from `data`, 8 bytes each, then from a splitmix64
    /// stream seeded by a hash of all of `data` (so that short inputs,
    /// which a fuzzer tries first, still give distinct kernels).
    pub fn from_bytes(data: &[u8]) -> GenRng {
        let hash = data.iter().fold(0xcbf2_9ce4_8422_2325u64, |h, b| {
            (h ^ u64::from(*b)).wrapping_mul(0x100_0000_01b3)
        });
        GenRng {
            state: hash,
            bytes: data.to_vec(),
            at: 0,
        }
    }

    pub fn next(&mut self) -> u64 {
        if self.at + 8 <= self.bytes.len() {
            let mut w = [0u8; 8];
            w.copy_from_slice(&self.bytes[self.at..self.at + 8]);
            self.at += 8;
            return u64::from_le_bytes(w);
        }
        self.state = self.state.wrapping_add(0x9e37_79b9_7f4a_7c15);
        let mut z = self.state;
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        z ^ (z >> 31)
    }

    /// Uniform in `0..n` (n > 0).
    pub fn below(&mut self, n: u64) -> u64 {
        self.next() % n
    }

    pub fn pick<'a, T>(&mut self, xs: &'a [T]) -> &'a T {
        &xs[self.below(xs.len() as u64) as usize]
    }

    pub fn chance(&mut self, percent: u64) -> bool {
        self.below(100) < percent
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Ty {
    F32,
    I32,
    Bool,
}

/// A generated kernel with everything needed to run it.
#[derive(Debug, Clone)]
pub struct GenKernel {
    pub source: String,
    pub num_warps: u32,
    pub grid: u32,
    /// Elements per program of the main block.
    pub block: u32,
    /// Rows and columns of the main block (rows = 1 for 1-D).
    pub rows: u32,
    pub cols: u32,
    /// The valid length `n` (loads and stores beyond it are masked off).
    pub n: i32,
    pub k: i32,
    pub s: f32,
    pub xf: Vec<f32>,
    pub xi: Vec<i32>,
}

impl GenKernel {
    /// Elements of each of `xf`, `xi`, `of`, `oi`.
    pub fn len(&self) -> usize {
        (self.grid * self.block) as usize
    }

    /// Elements of `ored` (a row result per program) and `oredi` (a column
    /// result per program).
    pub fn red_lens(&self) -> (usize, usize) {
        ((self.grid * self.rows) as usize, (self.grid * self.cols) as usize)
    }
}

struct Gen {
    rng: GenRng,
    lines: Vec<String>,
    vars: Vec<(String, Ty)>,
    next: usize,
    /// The main block's shape, as the language writes it (`[4, 16]`).
    shape: String,
    two_d: bool,
    rows: u32,
    cols: u32,
}

impl Gen {
    fn fresh(&mut self) -> String {
        self.next += 1;
        format!("v{}", self.next)
    }

    fn var(&mut self, ty: Ty) -> String {
        let of: Vec<String> = self.vars.iter().filter(|v| v.1 == ty).map(|v| v.0.clone()).collect();
        self.rng.pick(&of).clone()
    }

    /// A float expression of the main block's shape.
    fn float(&mut self, depth: u32) -> String {
        if depth == 0 || self.rng.chance(25) {
            return match self.rng.below(6) {
                0 => self.rng.pick(&["1.5", "0.25", "-2.0", "3.0"]).to_string(),
                1 => "s".to_string(),
                _ => self.var(Ty::F32),
            };
        }
        let d = depth - 1;
        match self.rng.below(15) {
            0 => format!("({} + {})", self.float(d), self.float(d)),
            1 => format!("({} - {})", self.float(d), self.float(d)),
            2 => format!("({} * {})", self.float(d), self.float(d)),
            3 => format!("({} / {})", self.float(d), self.float(d)),
            4 => format!("maximum({}, {})", self.float(d), self.float(d)),
            5 => format!("minimum({}, {})", self.float(d), self.float(d)),
            6 => format!("select({}, {}, {})", self.boolean(d), self.float(d), self.float(d)),
            7 => format!("{}.to(f32)", self.int(d)),
            8 => format!("sqrt(abs({}))", self.float(d)),
            9 => format!("{}({})", self.rng.pick(&["floor", "ceil", "abs"]), self.float(d)),
            10 => format!("(-{})", self.float(d)),
            11 => format!("fma({}, {}, {})", self.float(d), self.float(d), self.float(d)),
            12 => {
                let t = *self.rng.pick(&["f16", "bf16", "f64"]);
                format!("({}.to({t}) * {}.to({t})).to(f32)", self.float(d), self.float(d))
            }
            13 => format!("clamp_add({}, {})", self.float(d), self.float(d)),
            _ => format!("({} % {})", self.float(d), self.float(d)),
        }
    }

    /// An i32 expression of the main block's shape.
    fn int(&mut self, depth: u32) -> String {
        if depth == 0 || self.rng.chance(25) {
            return match self.rng.below(7) {
                // Small: a subtree of literals folds at compile time and must fit
                // in i32 (wrapping at run time comes from the inputs).
                0 => self.rng.pick(&["1", "7", "-3", "5"]).to_string(),
                1 => "k".to_string(),
                2 => "offs".to_string(),
                _ => self.var(Ty::I32),
            };
        }
        let d = depth - 1;
        match self.rng.below(14) {
            0 => format!("({} + {})", self.int(d), self.int(d)),
            1 => format!("({} - {})", self.int(d), self.int(d)),
            2 => format!("({} * {})", self.int(d), self.int(d)),
            3 => format!("({} / (({} & 15) + 1))", self.int(d), self.int(d)),
            4 => format!("({} % (({} & 7) + 1))", self.int(d), self.int(d)),
            5 => format!("({} & {})", self.int(d), self.int(d)),
            6 => format!("({} | {})", self.int(d), self.int(d)),
            7 => format!("({} ^ {})", self.int(d), self.int(d)),
            8 => format!("({} << ({} & 7))", self.int(d), self.int(d)),
            9 => format!("({} >> ({} & 31))", self.int(d), self.int(d)),
            10 => format!("maximum({}, {})", self.int(d), self.int(d)),
            11 => format!("select({}, {}, {})", self.boolean(d), self.int(d), self.int(d)),
            12 => format!("minimum(maximum({}, -1000.0), 1000.0).to(i32)", self.float(d)),
            _ => format!("(({}.to(u32) >> 3).to(i32))", self.int(d)),
        }
    }

    fn boolean(&mut self, depth: u32) -> String {
        let d = depth.saturating_sub(1);
        match self.rng.below(6) {
            0 => format!("({} < {})", self.float(d), self.float(d)),
            1 => format!("({} >= {})", self.int(d), self.int(d)),
            2 => format!("({} == {})", self.int(d), self.int(d)),
            3 => format!("({} != {})", self.float(d), self.float(d)),
            4 if !self.vars.iter().any(|v| v.1 == Ty::Bool) => "mask".to_string(),
            4 => self.var(Ty::Bool),
            _ => "mask".to_string(),
        }
    }

    fn expr(&mut self, ty: Ty, depth: u32) -> String {
        match ty {
            Ty::F32 => self.float(depth),
            Ty::I32 => self.int(depth),
            Ty::Bool => self.boolean(depth),
        }
    }

    /// `e` as a value of the main block's shape (an expression may be a
    /// scalar, as `1.5` or `s`).
    fn block(&self, e: String) -> String {
        format!("broadcast_to({e}, {})", self.shape)
    }

    fn let_(&mut self, ty: Ty, rhs: String) {
        let name = self.fresh();
        let rhs = self.block(rhs);
        self.lines.push(format!("    let {name} = {rhs};"));
        self.vars.push((name, ty));
    }

    fn statement(&mut self) {
        let ty = *self.rng.pick(&[Ty::F32, Ty::F32, Ty::I32, Ty::I32, Ty::Bool]);
        match self.rng.below(14) {
            12 if ty != Ty::Bool => {
                // A pointer block walking the input in a runtime loop, its
                // mask depending on the iteration (loop-carried pointers).
                let (name, p) = (self.fresh(), self.fresh());
                let step = *self.rng.pick(&[1u32, 3, self.rows * self.cols]);
                let (buf, zero, combine) = match ty {
                    Ty::F32 => ("xf", "0.0", "clamp_add"),
                    _ => ("xi", "0", "bit_xor"),
                };
                self.lines.push(format!("    let mut {p} = {buf} + offs;"));
                self.lines
                    .push(format!("    let mut {name} = {};", self.block(zero.to_string())));
                let load = format!("load({p}, offs + t * {step} < n, {zero})");
                let update = if combine == "bit_xor" {
                    format!("{name} ^ {load}")
                } else {
                    format!("clamp_add({name}, {load})")
                };
                self.lines
                    .push(format!("    for t in 0..k {{ {name} = {update}; {p} += {step}; }}"));
                self.vars.push((name, ty));
            }
            13 if ty == Ty::F32 => {
                // A 16x16x16 `dot` accumulated over a runtime loop of
                // tiles, one operand through a carried pointer block, one
                // addressed from the iteration (software pipelining).
                let (d, q) = (self.fresh(), self.fresh());
                let tile = "expand_dims(arange(0, 16), 1) * 16 + expand_dims(arange(0, 16), 0)";
                self.lines.push(format!("    let mut {q} = xf + {tile};"));
                self.lines.push(format!("    let mut {d} = zeros([16, 16], f32);"));
                self.lines.push(format!(
                    "    for t in 0..k {{ let o = {tile} + t * 16; {d} = dot(load({q}, o < n, 0.0), load(xf + o, o < n, 1.0), {d}); {q} += 16; }}"
                ));
                let total = format!("minimum(maximum(sum(sum({d}, 1), 0), -8.0), 8.0)");
                self.let_(ty, total);
            }
            0 => {
                // An `if` expression on a runtime scalar.
                let (a, b) = (self.expr(ty, 2), self.expr(ty, 2));
                let (a, b) = (self.block(a), self.block(b));
                self.let_(ty, format!("if k > 2 {{ {a} }} else {{ {b} }}"));
            }
            1 if ty != Ty::Bool => {
                // A runtime loop carrying a block.
                let name = self.fresh();
                let init = self.expr(ty, 2);
                let init = self.block(init);
                let step = self.expr(ty, 2);
                let (j, combine) = match ty {
                    Ty::F32 => ("j.to(f32)", "* 0.5 +"),
                    _ => ("j", "^"),
                };
                self.lines.push(format!("    let mut {name} = {init};"));
                self.lines.push(format!(
                    "    for j in 0..(k & 3) {{ {name} = {name} {combine} ({step} + {j}); }}"
                ));
                self.vars.push((name, ty));
            }
            2 if ty == Ty::I32 => {
                // An unrolled loop.
                let name = self.fresh();
                let init = self.expr(ty, 2);
                let init = self.block(init);
                let step = self.expr(ty, 1);
                self.lines.push(format!("    let mut {name} = {init};"));
                self.lines.push(format!(
                    "    for j in static_range(0, 3) {{ {name} = ({name} * 3) + {step} * j; }}"
                ));
                self.vars.push((name, ty));
            }
            3 | 4 if ty != Ty::Bool => {
                // Data moving between lanes: reductions broadcast back,
                // transposes, reshapes, scans.
                let v = self.var(ty);
                let rhs = self.shape_op(ty, &v);
                self.let_(ty, rhs);
            }
            5 if ty == Ty::I32 => {
                // A while loop with a carried block and a scalar counter.
                let name = self.fresh();
                let init = self.expr(ty, 2);
                let init = self.block(init);
                let step = self.expr(ty, 1);
                self.lines.push(format!("    let mut {name} = {init};"));
                self.lines.push(format!(
                    "    let mut w{name} = k;\n    while w{name} < 4 {{ {name} = ({name} + {step}) & 0xffff; w{name} += 1; }}"
                ));
                self.vars.push((name, ty));
            }
            6 if ty == Ty::I32 => {
                // Narrow and wide integer types on the way.
                let v = self.var(ty);
                let rhs = match self.rng.below(4) {
                    0 => format!("({v}.to(u8).to(i32) + {v}.to(i8).to(i32))"),
                    1 => format!("({v}.to(i64) * 3000000).to(i32)"),
                    2 => format!("(({v}.to(u32) / 7).to(i32) ^ ({v}.to(i16) >> 2).to(i32))"),
                    _ => format!("({v}.to(u64) % 1000).to(i32)"),
                };
                self.let_(ty, rhs);
            }
            _ => {
                let rhs = self.expr(ty, 3);
                self.let_(ty, rhs);
            }
        }
    }

    /// An expression that moves `v`'s elements between lanes.
    fn shape_op(&mut self, ty: Ty, v: &str) -> String {
        let (rows, cols, block) = (self.rows, self.cols, self.rows * self.cols);
        let red = match ty {
            Ty::F32 => *self.rng.pick(&["max", "min", "sum"]),
            _ => *self.rng.pick(&["max", "min", "sum", "xor_sum"]),
        };
        if self.two_d {
            match self.rng.below(6) {
                0 => format!("({v} - expand_dims({red}({v}, 1), 1))"),
                1 => format!("(expand_dims({red}({v}, 0), 0) + {v})"),
                2 => format!("reshape(trans({v}), [{rows}, {cols}])"),
                3 if ty == Ty::I32 => format!("cumsum({v}, {})", self.rng.below(2)),
                4 if ty == Ty::I32 => format!("(expand_dims(argmax({v}, 1), 1) + {v})"),
                _ => format!("broadcast_to(expand_dims({red}({v}, 1), 1), [{rows}, {cols}])"),
            }
        } else {
            let half = (block / 2).max(1);
            match self.rng.below(5) {
                0 => format!("({v} - {red}({v}, 0))"),
                1 if block >= 2 => format!(
                    "reshape(broadcast_to(expand_dims({red}(reshape({v}, [{half}, 2]), 1), 1), [{half}, 2]), [{block}])"
                ),
                2 if ty == Ty::I32 => format!("cumsum({v}, 0)"),
                3 if block >= 2 => format!("reshape(trans(reshape({v}, [2, {half}])), [{block}])"),
                _ => format!(
                    "({v} * 2 + argmin({v}, 0){})",
                    if ty == Ty::F32 { ".to(f32)" } else { "" }
                ),
            }
        }
    }
}

/// The kernel and inputs for `seed`.
pub fn generate(seed: u64) -> GenKernel {
    generate_from(GenRng::new(seed))
}

/// The kernel and inputs `rng`'s choices make.
pub fn generate_from(mut rng: GenRng) -> GenKernel {
    let two_d = rng.chance(40);
    let (rows, cols) = if two_d {
        (1u32 << rng.below(4), 1u32 << (1 + rng.below(5)))
    } else {
        (1, 1u32 << (2 + rng.below(8)))
    };
    let block = rows * cols;
    let grid = 1 + rng.below(3) as u32;
    let num_warps = *rng.pick(&[1u32, 2, 4, 8]);
    // Software pipelining of the loops with a `dot`, 0 to 2 iterations ahead.
    let num_stages = *rng.pick(&[1u32, 2, 2, 3]);
    let cap = (grid * block) as i32;
    let n = if rng.chance(30) {
        cap
    } else {
        1 + rng.below(cap as u64) as i32
    };
    let k = rng.below(6) as i32;
    let s = *rng.pick(&[0.5f32, -1.25, 3.0]);
    let mut g = Gen {
        rng,
        lines: Vec::new(),
        vars: Vec::new(),
        next: 0,
        shape: if two_d {
            format!("[{rows}, {cols}]")
        } else {
            format!("[{block}]")
        },
        two_d,
        rows,
        cols,
    };
    let offs = if two_d {
        format!("expand_dims(pid * {rows} + arange(0, {rows}), 1) * {cols} + expand_dims(arange(0, {cols}), 0)")
    } else {
        format!("pid * {block} + arange(0, {block})")
    };
    g.lines.push("    let pid = program_id(0);".into());
    g.lines.push(format!("    let offs = {offs};"));
    g.lines.push("    let mask = offs < n;".into());
    let other_f = if g.rng.chance(70) { ", 0.0" } else { "" };
    g.lines.push(format!("    let f0 = load(xf + offs, mask{other_f});"));
    g.lines.push("    let i0 = load(xi + offs, mask, -1);".into());
    g.vars.push(("f0".into(), Ty::F32));
    g.vars.push(("i0".into(), Ty::I32));
    for _ in 0..2 + g.rng.below(6) {
        g.statement();
    }
    let fv = g.var(Ty::F32);
    let iv = g.var(Ty::I32);
    let stored = match g.rng.below(8) {
        0 => format!("exp(minimum({fv}, 20.0))"),
        1 => format!("tanh({fv})"),
        2 => format!("log(abs({fv}) + 1.0)"),
        3 => format!("erf({fv})"),
        _ => fv.clone(),
    };
    g.lines.push(format!("    store(of + offs, {stored}, mask);"));
    g.lines.push(format!("    store(oi + offs, {iv}, mask);"));
    // Atomics whose final values do not depend on the order programs run.
    let ia = g.var(Ty::I32);
    let aop = g.rng.pick(&["atomic_add", "atomic_max", "atomic_min"]).to_string();
    g.lines.push(format!("    {aop}(acc + ({ia} & 7), {iv}, mask);"));
    // Reductions: along the rows (one value per row) and the columns.
    let fr = g.var(Ty::F32);
    let ir = g.var(Ty::I32);
    let f_red = g.rng.pick(&["sum", "max", "min"]).to_string();
    let i_red = g
        .rng
        .pick(&["sum", "max", "min", "xor_sum", "argmax", "argmin"])
        .to_string();
    if two_d {
        let fr_axis = format!("{f_red}(select(mask, {fr}, 0.0), 1)");
        let ir_axis = format!("{i_red}({ir}, 0)");
        g.lines.push(format!(
            "    store(ored + pid * {rows} + arange(0, {rows}), {fr_axis});"
        ));
        if g.rng.chance(50) {
            g.lines.push(format!(
                "    store(oredi + pid * {cols} + arange(0, {cols}), {ir_axis});"
            ));
        } else {
            let scan = g.rng.pick(&["cumsum", "cumprod"]).to_string();
            g.lines.push(format!(
                "    store(oredi + pid * {cols} + arange(0, {cols}), sum({scan}({ir}, 0), 0));"
            ));
        }
    } else {
        g.lines
            .push(format!("    store(ored + pid, {f_red}(select(mask, {fr}, 0.0), 0));"));
        if g.rng.chance(60) {
            g.lines.push(format!("    store(oredi + pid, {i_red}({ir}, 0));"));
        } else {
            let scan = g.rng.pick(&["cumsum", "cumprod"]).to_string();
            g.lines.push(format!("    store(oi + offs, {scan}({ir}, 0), mask);"));
            g.lines.push(format!("    store(oredi + pid, max({ir}, 0));"));
        }
    }
    let mut source = String::new();
    source.push_str("fn clamp_add(a: f32, b: f32) -> f32 {\n    minimum(maximum(a + b, -8.0), 8.0)\n}\n\n");
    source.push_str(&format!(
        "#[kernel(num_warps = {num_warps}, num_stages = {num_stages})]\nfn fuzz(xf: Ptr<f32>, xi: Ptr<i32>, of: Ptr<f32>, oi: Ptr<i32>, ored: Ptr<f32>, oredi: Ptr<i32>, acc: Ptr<i32>, n: i32, k: i32, s: f32) {{\n"
    ));
    for l in &g.lines {
        source.push_str(l);
        source.push('\n');
    }
    source.push_str("}\n");
    let mut rng = g.rng;
    let len = cap as usize;
    let xf = (0..len)
        .map(|_| match rng.below(40) {
            0 => f32::NAN,
            1 => f32::INFINITY,
            2 => -0.0,
            3 => 0.0,
            _ => ((rng.next() >> 40) as f32 / (1u64 << 24) as f32) * 8.0 - 4.0,
        })
        .collect();
    let xi = (0..len)
        .map(|_| match rng.below(20) {
            0 => i32::MIN,
            1 => i32::MAX,
            _ => rng.below(200) as i32 - 100,
        })
        .collect();
    GenKernel {
        source,
        num_warps,
        grid,
        block,
        rows,
        cols,
        n,
        k,
        s,
        xf,
        xi,
    }
}
