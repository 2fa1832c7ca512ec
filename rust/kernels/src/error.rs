//! The one error type of the kernel crate; the bindings map it to Python exceptions.

use std::fmt;

/// Why a kernel refused its input. Every variant names the argument it is about.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum KernelError {
    /// A shape that does not fit: `arg` expected `expected`, got `actual` (both human-readable).
    Shape {
        arg: &'static str,
        expected: String,
        actual: String,
    },
    /// A value out of its allowed range (labels, indices, k, thread counts...).
    Value { arg: &'static str, message: String },
    /// The output would not fit in memory, or its size overflows `usize`.
    OutOfMemory { what: &'static str },
}

impl KernelError {
    pub fn shape(arg: &'static str, expected: impl Into<String>, actual: impl Into<String>) -> Self {
        KernelError::Shape {
            arg,
            expected: expected.into(),
            actual: actual.into(),
        }
    }
    pub fn value(arg: &'static str, message: impl Into<String>) -> Self {
        KernelError::Value {
            arg,
            message: message.into(),
        }
    }
}

impl fmt::Display for KernelError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            KernelError::Shape {
                arg,
                expected,
                actual,
            } => {
                write!(f, "{arg}: expected shape {expected}, got {actual}")
            }
            KernelError::Value { arg, message } => write!(f, "{arg}: {message}"),
            KernelError::OutOfMemory { what } => write!(f, "cannot allocate {what}: out of memory"),
        }
    }
}

impl std::error::Error for KernelError {}

/// A zero-filled vector of `len` elements, or `OutOfMemory` instead of an abort.
pub fn try_zeros<T: Copy + Default>(len: usize, what: &'static str) -> Result<Vec<T>, KernelError> {
    let mut v = Vec::new();
    v.try_reserve_exact(len)
        .map_err(|_| KernelError::OutOfMemory { what })?;
    v.resize(len, T::default());
    Ok(v)
}

/// `a * b` or `OutOfMemory` when the product overflows.
pub fn checked_len(a: usize, b: usize, what: &'static str) -> Result<usize, KernelError> {
    a.checked_mul(b).ok_or(KernelError::OutOfMemory { what })
}
