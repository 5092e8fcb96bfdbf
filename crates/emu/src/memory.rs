//! Global memory: a set of buffers at fake 64-bit addresses, every access
//! bounds-checked against them.

/// One allocation.
#[derive(Clone, Debug)]
pub struct Buffer {
    pub base: u64,
    pub data: Vec<u8>,
}

/// Global memory. Buffers lie 1 TiB apart (below 2^47, as buffer resources
/// hold 48-bit addresses), so an access running off one never lands in
/// another.
#[derive(Clone, Debug, Default)]
pub struct Memory {
    buffers: Vec<Buffer>,
}

const SPACING: u64 = 1 << 40;

impl Memory {
    pub fn new() -> Memory {
        Memory::default()
    }

    /// A new buffer holding `bytes`; returns its address.
    pub fn alloc(&mut self, bytes: &[u8]) -> u64 {
        let base = SPACING * (self.buffers.len() as u64 + 1);
        self.buffers.push(Buffer {
            base,
            data: bytes.to_vec(),
        });
        base
    }

    /// How many buffers there are.
    pub fn len(&self) -> usize {
        self.buffers.len()
    }

    pub fn is_empty(&self) -> bool {
        self.buffers.is_empty()
    }

    /// Frees the buffers allocated after the first `n`.
    pub fn truncate(&mut self, n: usize) {
        self.buffers.truncate(n);
    }

    pub fn alloc_zeroed(&mut self, len: usize) -> u64 {
        self.alloc(&vec![0; len])
    }

    pub fn alloc_f32(&mut self, values: &[f32]) -> u64 {
        let bytes: Vec<u8> = values.iter().flat_map(|v| v.to_le_bytes()).collect();
        self.alloc(&bytes)
    }

    /// The buffer that starts at `addr`.
    pub fn buffer(&self, addr: u64) -> Option<&[u8]> {
        self.buffers.iter().find(|b| b.base == addr).map(|b| b.data.as_slice())
    }

    pub fn read_f32(&self, addr: u64) -> Option<Vec<f32>> {
        let b = self.buffer(addr)?;
        Some(
            b.chunks_exact(4)
                .map(|c| f32::from_le_bytes(c.try_into().unwrap()))
                .collect(),
        )
    }

    fn locate(&self, addr: u64, len: usize) -> Option<(usize, usize)> {
        let i = (addr / SPACING).checked_sub(1)? as usize;
        let b = self.buffers.get(i)?;
        let off = addr.checked_sub(b.base)? as usize;
        (off.checked_add(len)? <= b.data.len()).then_some((i, off))
    }

    /// Reads `out.len()` bytes at `addr`; `None` if they are not all inside
    /// one buffer.
    pub fn read(&self, addr: u64, out: &mut [u8]) -> Option<()> {
        let (i, off) = self.locate(addr, out.len())?;
        out.copy_from_slice(&self.buffers[i].data[off..off + out.len()]);
        Some(())
    }

    pub fn write(&mut self, addr: u64, bytes: &[u8]) -> Option<()> {
        let (i, off) = self.locate(addr, bytes.len())?;
        self.buffers[i].data[off..off + bytes.len()].copy_from_slice(bytes);
        Some(())
    }

    pub fn read_u32(&self, addr: u64) -> Option<u32> {
        let mut b = [0; 4];
        self.read(addr, &mut b)?;
        Some(u32::from_le_bytes(b))
    }
}
