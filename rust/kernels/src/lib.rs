//! Pure-Rust kernels behind cs231n-rs.
//!
//! Nothing here knows about Python: every kernel takes plain slices (or [`Rows`] views), is generic
//! over `f32`/`f64` through [`Real`], validates its inputs and returns a [`KernelError`] instead of
//! panicking. Parallel kernels split their work into chunks whose boundaries depend only on the
//! problem size, and combine partial results in a fixed order, so the bits of every result are the
//! same for any thread count.

mod affinity;
pub mod conv;
pub mod dense;
pub mod distances;
pub mod dropout;
pub mod elementwise;
pub mod error;
pub mod features;
pub mod gather;
pub mod knn;
pub mod layout;
mod linear_dot;
pub mod linear_loss;
mod linear_padded;
pub mod math;
pub mod matmul;
pub mod matmul_small;
pub mod mt19937;
pub mod norm;
pub mod optim;
pub mod pool;
pub mod real;
pub mod score_loss;
pub mod simd;
pub mod threads;

pub use error::KernelError;
pub use layout::{Rows, RowsBuf};
pub use real::Real;

/// Result type of every kernel.
pub type KResult<T> = Result<T, KernelError>;
