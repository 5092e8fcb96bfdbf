//! The runtime: launching compiled kernels on the CPU backend ([`cpu`]) and,
//! with the `hip` feature, on AMD GPUs through HIP ([`hip`]).
//!
//! Architecture invariant: raw HIP calls live in `hip.rs` only.

pub mod cpu;
#[cfg(feature = "hip")]
pub mod hip;

/// The number of programs along each axis.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Grid(pub [u32; 3]);

impl Grid {
    /// Checks that every axis has between 1 and `i32::MAX` programs.
    pub fn validate(&self) -> Result<(), RuntimeError> {
        for (axis, n) in self.0.iter().enumerate() {
            if *n == 0 || *n > i32::MAX as u32 {
                return Err(RuntimeError::Launch(format!(
                    "grid axis {axis} has {n} programs; it must be from 1 to {}",
                    i32::MAX
                )));
            }
        }
        Ok(())
    }

    pub fn programs(&self) -> u64 {
        self.0.iter().map(|n| u64::from(*n)).product()
    }
}

#[derive(Debug, thiserror::Error)]
pub enum RuntimeError {
    /// No device of the requested kind; says which backend would work.
    #[error("{0}")]
    NoDevice(String),
    #[error("launch failed: {0}")]
    Launch(String),
    #[error("cannot load the compiled kernel: {0}")]
    Load(String),
    /// A `device_assert` failed in some program.
    #[error("device_assert failed in program ({program}, ..): {message}")]
    Assert { program: u32, message: String },
}
