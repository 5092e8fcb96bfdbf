//! Global memory: named byte buffers at far-apart addresses, so that every
//! access can be checked against the buffer it was meant for.
//!
//! Buffer `i` starts at address `(i + 1) << 40`; a pointer anywhere within
//! 2^39 bytes of a start is taken as relative to that buffer, so running
//! off either end of a buffer is reported as an offset from it.

use std::fmt;

const SHIFT: u32 = 40;

/// A handle to one buffer.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct BufferId(pub usize);

#[derive(Debug, Clone, Default)]
pub struct Memory {
    buffers: Vec<(String, Vec<u8>)>,
}

/// Where an access went wrong.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BadAccess {
    /// The buffer the address is nearest to (its name), if any.
    pub buffer: Option<String>,
    /// Byte offset from that buffer's start.
    pub offset: i64,
    pub size: u32,
    /// That buffer's length in bytes.
    pub len: usize,
}

impl fmt::Display for BadAccess {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.buffer {
            Some(name) => write!(
                f,
                "{} bytes at byte offset {} of `{name}`, which has {} bytes",
                self.size, self.offset, self.len
            ),
            None => write!(f, "{} bytes at an address no buffer is near", self.size),
        }
    }
}

impl Memory {
    pub fn new() -> Memory {
        Memory::default()
    }

    /// Adds a buffer; `name` is how errors refer to it.
    pub fn add(&mut self, name: impl Into<String>, bytes: Vec<u8>) -> BufferId {
        self.buffers.push((name.into(), bytes));
        BufferId(self.buffers.len() - 1)
    }

    pub fn bytes(&self, id: BufferId) -> &[u8] {
        &self.buffers[id.0].1
    }

    /// The buffers' contents, in the order they were added.
    pub fn into_buffers(self) -> Vec<Vec<u8>> {
        self.buffers.into_iter().map(|(_, b)| b).collect()
    }

    /// The address of a buffer's first byte.
    pub fn address(id: BufferId) -> u64 {
        (id.0 as u64 + 1) << SHIFT
    }

    /// The buffer and in-bounds range of `size` bytes at `addr`.
    fn locate(&self, addr: u64, size: u32) -> Result<(usize, usize), BadAccess> {
        let nearest = (addr.wrapping_add(1 << (SHIFT - 1)) >> SHIFT) as usize;
        let Some((name, bytes)) = nearest.checked_sub(1).and_then(|i| self.buffers.get(i)) else {
            return Err(BadAccess {
                buffer: None,
                offset: 0,
                size,
                len: 0,
            });
        };
        let offset = addr.wrapping_sub((nearest as u64) << SHIFT) as i64;
        if offset < 0 || offset as u64 + u64::from(size) > bytes.len() as u64 {
            return Err(BadAccess {
                buffer: Some(name.clone()),
                offset,
                size,
                len: bytes.len(),
            });
        }
        Ok((nearest - 1, offset as usize))
    }

    /// Reads `size` (1, 2, 4 or 8) little-endian bytes at `addr`.
    pub fn read(&self, addr: u64, size: u32) -> Result<u64, BadAccess> {
        let (b, at) = self.locate(addr, size)?;
        let mut w = [0u8; 8];
        w[..size as usize].copy_from_slice(&self.buffers[b].1[at..at + size as usize]);
        Ok(u64::from_le_bytes(w))
    }

    /// Writes the low `size` bytes of `bits` at `addr`.
    pub fn write(&mut self, addr: u64, size: u32, bits: u64) -> Result<(), BadAccess> {
        let (b, at) = self.locate(addr, size)?;
        self.buffers[b].1[at..at + size as usize].copy_from_slice(&bits.to_le_bytes()[..size as usize]);
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn accesses_are_checked_against_their_buffer() {
        let mut m = Memory::new();
        let a = m.add("a", vec![0; 16]);
        let b = m.add("b", vec![1; 8]);
        m.write(Memory::address(a) + 12, 4, 0xdead_beef).unwrap();
        assert_eq!(m.read(Memory::address(a) + 12, 4), Ok(0xdead_beef));
        assert_eq!(m.read(Memory::address(b), 8), Ok(0x0101_0101_0101_0101));
        let past = m.read(Memory::address(a) + 16, 4).unwrap_err();
        assert_eq!((past.buffer.as_deref(), past.offset, past.len), (Some("a"), 16, 16));
        let before = m.read(Memory::address(b).wrapping_sub(4), 4).unwrap_err();
        assert_eq!((before.buffer.as_deref(), before.offset), (Some("b"), -4));
        assert_eq!(m.read(8, 4).unwrap_err().buffer, None);
        assert!(m.write(Memory::address(b) + 6, 4, 0).is_err(), "straddling the end");
    }
}
