//! Euclidean distance matrix by the squared-L2 expansion.
//!
//!   dists[i, j] = sqrt(max(0, |a_i|^2 + |b_j|^2 - 2 a_i . b_j))
//!
//! The product `-2 A B^T` is written straight into the output by one GEMM, then each row gets the
//! norms added and the clamped square root: no (N, M, D) temporary, extra memory O(N + M).
//! NaN propagates as in NumPy (`max(0, NaN)` is NaN).

use crate::error::KernelError;
use crate::matmul::{gemm, Operand};
use crate::threads;
use crate::{KResult, Real, Rows};

/// The long side of the output is cut into tiles of at least this many rows/columns ...
const TILE_MIN: usize = 64;
/// ... and at most this many tiles (enough to balance 2-8 threads).
const MAX_TILES: usize = 8;

/// Sum of squares of each row, each row reduced left to right (fixed order).
pub fn row_sq_norms<T: Real>(x: Rows<'_, T>) -> Vec<T> {
    let mut out = vec![T::zero(); x.nrows];
    threads::for_each_chunk_mut(&mut out, 256, |c, chunk| {
        for (r, o) in chunk.iter_mut().enumerate() {
            *o = x.row(c * 256 + r).iter().fold(T::zero(), |acc, &v| acc + v * v);
        }
    });
    out
}

/// `out` (test.nrows x train.nrows, C order) receives the L2 distances between rows of `test` and `train`.
pub fn l2_distances<T: Real>(test: Rows<'_, T>, train: Rows<'_, T>, out: &mut [T]) -> KResult<()> {
    if test.ncols != train.ncols {
        return Err(KernelError::shape(
            "X",
            format!(
                "(num_test, {}) to match X_train's {} columns",
                train.ncols, train.ncols
            ),
            test.shape_str(),
        ));
    }
    let (m, n, d) = (test.nrows, train.nrows, test.ncols);
    if out.len() != m * n {
        return Err(KernelError::shape(
            "out",
            format!("{} elements", m * n),
            format!("{}", out.len()),
        ));
    }
    if m == 0 || n == 0 {
        return Ok(());
    }
    let a2 = row_sq_norms(test);
    let b2 = row_sq_norms(train);
    // -2 A B^T, tile by tile: the larger side is cut into a fixed number of tiles (a function of the
    // shape only), each a single-threaded GEMM, so every element sees the same reduction order for
    // any thread count, and two threads scale better than one GEMM split internally.
    let along_cols = n >= m;
    let long = if along_cols { n } else { m };
    let tiles = (long / TILE_MIN).clamp(1, MAX_TILES);
    let out_addr = out.as_mut_ptr() as usize;
    threads::for_each_index(tiles, |t| {
        let (lo, hi) = (t * long / tiles, (t + 1) * long / tiles);
        let (r0, r1, c0, c1) = if along_cols {
            (0, m, lo, hi)
        } else {
            (lo, hi, 0, n)
        };
        // SAFETY: tiles cover disjoint blocks of the m x n output; the operands are valid rows of
        // test (r0..r1) and train (c0..c1), each row contiguous and row_stride apart.
        unsafe {
            gemm(
                r1 - r0,
                c1 - c0,
                d,
                (out_addr as *mut T).add(r0 * n + c0),
                n,
                false,
                Operand::rows(test.as_ptr().add(r0 * test.row_stride), test.row_stride),
                Operand::transposed(train.as_ptr().add(c0 * train.row_stride), train.row_stride),
                T::of(-2.0),
            );
        }
    });
    threads::for_each_chunk_mut(out, n * 8, |c, block| {
        for (r, row) in block.chunks_mut(n).enumerate() {
            let ai = a2[c * 8 + r];
            for (v, &bj) in row.iter_mut().zip(b2.iter()) {
                let s = (ai + bj) + *v;
                // `s < 0` is false for NaN, which therefore reaches sqrt as NumPy's maximum would pass it.
                *v = if s < T::zero() { T::zero() } else { s }.sqrt();
            }
        }
    });
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn naive(a: &[f64], b: &[f64], m: usize, n: usize, d: usize) -> Vec<f64> {
        let mut out = vec![0.0; m * n];
        for i in 0..m {
            for j in 0..n {
                out[i * n + j] = (0..d)
                    .map(|k| (a[i * d + k] - b[j * d + k]).powi(2))
                    .sum::<f64>()
                    .sqrt();
            }
        }
        out
    }

    #[test]
    fn matches_direct_differences() {
        let (m, n, d) = (7, 11, 13);
        let a: Vec<f64> = (0..m * d).map(|x| ((x * 37 % 17) as f64).sin()).collect();
        let b: Vec<f64> = (0..n * d).map(|x| ((x * 29 % 23) as f64).cos()).collect();
        let mut out = vec![0.0; m * n];
        l2_distances(
            Rows::new(&a, m, d).unwrap(),
            Rows::new(&b, n, d).unwrap(),
            &mut out,
        )
        .unwrap();
        for (x, y) in out.iter().zip(naive(&a, &b, m, n, d)) {
            assert!((x - y).abs() < 1e-12, "{x} vs {y}");
        }
    }

    #[test]
    fn identical_points_are_zero_not_nan() {
        let a = vec![1e8f64, 3.0, -7.5];
        let mut out = vec![f64::NAN; 1];
        l2_distances(
            Rows::new(&a, 1, 3).unwrap(),
            Rows::new(&a, 1, 3).unwrap(),
            &mut out,
        )
        .unwrap();
        assert_eq!(out[0], 0.0);
    }

    #[test]
    fn column_mismatch_is_an_error() {
        let a = vec![0.0f32; 6];
        let mut out = vec![0.0f32; 4];
        let e = l2_distances(
            Rows::new(&a, 2, 3).unwrap(),
            Rows::new(&a, 3, 2).unwrap(),
            &mut out,
        );
        assert!(matches!(e, Err(KernelError::Shape { arg: "X", .. })));
    }
}
