//! Reading and writing NumPy `.npy` files (format versions 1 to 3, C order,
//! little-endian), for `tritonc run`.

use crate::Error;
use tritonc_ir::ScalarType;

/// An array read from a `.npy` file.
#[derive(Debug, Clone, PartialEq)]
pub struct NpyArray {
    /// The dtype string as written in the file (`<f4`, `|b1`, ...).
    pub descr: String,
    pub shape: Vec<usize>,
    pub data: Vec<u8>,
}

/// The element type of a NumPy dtype descriptor.
pub fn dtype_of(descr: &str) -> Option<ScalarType> {
    Some(match descr {
        "|b1" => ScalarType::I1,
        "|i1" | "<i1" => ScalarType::I8,
        "<i2" => ScalarType::I16,
        "<i4" => ScalarType::I32,
        "<i8" => ScalarType::I64,
        "|u1" | "<u1" => ScalarType::U8,
        "<u2" => ScalarType::U16,
        "<u4" => ScalarType::U32,
        "<u8" => ScalarType::U64,
        "<f2" => ScalarType::F16,
        "<f4" => ScalarType::F32,
        "<f8" => ScalarType::F64,
        "bfloat16" | "<bf16" => ScalarType::BF16,
        _ => return None,
    })
}

/// The descriptor written for an element type. NumPy has no bfloat16, so
/// bf16 arrays are written as their raw bits (`<u2`).
pub fn descr_of(s: ScalarType) -> &'static str {
    match s {
        ScalarType::I1 => "|b1",
        ScalarType::I8 => "|i1",
        ScalarType::I16 => "<i2",
        ScalarType::I32 => "<i4",
        ScalarType::I64 => "<i8",
        ScalarType::U8 => "|u1",
        ScalarType::U16 | ScalarType::BF16 => "<u2",
        ScalarType::U32 => "<u4",
        ScalarType::U64 => "<u8",
        ScalarType::F16 => "<f2",
        ScalarType::F32 => "<f4",
        ScalarType::F64 => "<f8",
    }
}

fn bad(what: &str) -> Error {
    Error::Io(format!("not a valid .npy file: {what}"))
}

/// Parses the bytes of a `.npy` file.
pub fn parse(bytes: &[u8]) -> Result<NpyArray, Error> {
    if bytes.len() < 10 || &bytes[..6] != b"\x93NUMPY" {
        return Err(bad("missing the \\x93NUMPY magic"));
    }
    let major = bytes[6];
    let (header_len, start): (usize, usize) = match major {
        1 => (usize::from(u16::from_le_bytes([bytes[8], bytes[9]])), 10),
        2 | 3 => {
            if bytes.len() < 12 {
                return Err(bad("truncated header"));
            }
            (
                u32::from_le_bytes([bytes[8], bytes[9], bytes[10], bytes[11]]) as usize,
                12,
            )
        }
        v => return Err(bad(&format!("unknown format version {v}"))),
    };
    let end = start
        .checked_add(header_len)
        .filter(|e| *e <= bytes.len())
        .ok_or_else(|| bad("truncated header"))?;
    let header = std::str::from_utf8(&bytes[start..end]).map_err(|_| bad("header is not text"))?;
    let descr = dict_value(header, "descr").ok_or_else(|| bad("no 'descr'"))?;
    let descr = descr.trim().trim_matches(|c| c == '\'' || c == '"').to_string();
    let fortran = dict_value(header, "fortran_order").ok_or_else(|| bad("no 'fortran_order'"))?;
    if fortran.trim() != "False" {
        return Err(Error::Io(
            "Fortran-order .npy arrays are not supported; save with C order".into(),
        ));
    }
    let shape_text = dict_value(header, "shape").ok_or_else(|| bad("no 'shape'"))?;
    let inner = shape_text.trim().trim_start_matches('(').trim_end_matches(')');
    let mut shape = Vec::new();
    for part in inner.split(',') {
        let p = part.trim();
        if p.is_empty() {
            continue;
        }
        shape.push(p.parse::<usize>().map_err(|_| bad("malformed shape"))?);
    }
    let elem = dtype_of(&descr).ok_or_else(|| {
        Error::Io(format!(
            "unsupported .npy dtype `{descr}` (little-endian ints, floats and bools are supported)"
        ))
    })?;
    let count = shape
        .iter()
        .try_fold(1usize, |a, d| a.checked_mul(*d))
        .ok_or_else(|| bad("shape too large"))?;
    let size = count
        .checked_mul(elem.bytes() as usize)
        .ok_or_else(|| bad("shape too large"))?;
    let data = bytes
        .get(end..end + size)
        .ok_or_else(|| bad(&format!("expected {size} bytes of data, found {}", bytes.len() - end)))?;
    Ok(NpyArray {
        descr,
        shape,
        data: data.to_vec(),
    })
}

/// The text after `'key':` up to the next top-level comma.
fn dict_value<'a>(header: &'a str, key: &str) -> Option<&'a str> {
    let at = header.find(&format!("'{key}'"))?;
    let rest = &header[at + key.len() + 2..];
    let rest = rest.trim_start().strip_prefix(':')?;
    let mut depth = 0i32;
    for (i, c) in rest.char_indices() {
        match c {
            '(' | '[' => depth += 1,
            ')' | ']' => depth -= 1,
            ',' | '}' if depth == 0 => return Some(&rest[..i]),
            _ => {}
        }
    }
    None
}

/// Serializes an array as a version 1.0 `.npy` file.
pub fn write(descr: &str, shape: &[usize], data: &[u8]) -> Vec<u8> {
    let dims: Vec<String> = shape.iter().map(usize::to_string).collect();
    let shape_text = match dims.len() {
        1 => format!("({},)", dims[0]),
        _ => format!("({})", dims.join(", ")),
    };
    let mut header = format!("{{'descr': '{descr}', 'fortran_order': False, 'shape': {shape_text}, }}");
    // Pad so that the data starts at a multiple of 64 bytes.
    let total = 10 + header.len() + 1;
    header.push_str(&" ".repeat((64 - total % 64) % 64));
    header.push('\n');
    let mut out = Vec::with_capacity(10 + header.len() + data.len());
    out.extend_from_slice(b"\x93NUMPY\x01\x00");
    out.extend_from_slice(&(header.len() as u16).to_le_bytes());
    out.extend_from_slice(header.as_bytes());
    out.extend_from_slice(data);
    out
}
