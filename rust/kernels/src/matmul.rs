//! Matrix product through the `gemm` crate (runtime AVX2/FMA/AVX-512 dispatch).
//!
//! Always single-threaded: callers split their work into fixed tiles and run the tiles on the pool,
//! so every output element is reduced over `k` in the same order whatever the thread count.

use crate::Real;

/// A strided matrix operand: element `(i, j)` is at `ptr + i * rs + j * cs`.
#[derive(Clone, Copy)]
pub struct Operand<T> {
    pub ptr: *const T,
    pub rs: isize,
    pub cs: isize,
}

impl<T> Operand<T> {
    /// A row-major matrix with rows `ld` elements apart.
    pub fn rows(ptr: *const T, ld: usize) -> Self {
        Operand {
            ptr,
            rs: ld as isize,
            cs: 1,
        }
    }
    /// The transpose of a row-major matrix with rows `ld` elements apart.
    pub fn transposed(ptr: *const T, ld: usize) -> Self {
        Operand {
            ptr,
            rs: 1,
            cs: ld as isize,
        }
    }
}

/// `dst (m x n, row-major, rows dst_ld apart) = [dst +] scale * a (m x k) * b (k x n)`.
///
/// # Safety
/// `dst`, `a` and `b` must be valid for the given shapes and strides, and `dst` must not overlap them.
#[allow(clippy::too_many_arguments)]
pub unsafe fn gemm<T: Real>(
    m: usize,
    n: usize,
    k: usize,
    dst: *mut T,
    dst_ld: usize,
    accumulate: bool,
    a: Operand<T>,
    b: Operand<T>,
    scale: T,
) {
    if m == 0 || n == 0 {
        return;
    }
    if k == 0 {
        if !accumulate {
            for i in 0..m {
                std::slice::from_raw_parts_mut(dst.add(i * dst_ld), n).fill(T::zero());
            }
        }
        return;
    }
    gemm::gemm(
        m,
        n,
        k,
        dst,
        1,
        dst_ld as isize,
        accumulate,
        a.ptr,
        a.cs,
        a.rs,
        b.ptr,
        b.cs,
        b.rs,
        T::one(),
        scale,
        false,
        false,
        false,
        gemm::Parallelism::None,
    );
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn small_product_matches_loops() {
        let (m, n, k) = (3, 4, 5);
        let a: Vec<f64> = (0..m * k).map(|x| x as f64 * 0.5 - 2.0).collect();
        let b: Vec<f64> = (0..k * n).map(|x| (x as f64).sin()).collect();
        let mut c = vec![0.0; m * n];
        unsafe {
            gemm(
                m,
                n,
                k,
                c.as_mut_ptr(),
                n,
                false,
                Operand::rows(a.as_ptr(), k),
                Operand::rows(b.as_ptr(), n),
                1.0,
            )
        };
        for i in 0..m {
            for j in 0..n {
                let want: f64 = (0..k).map(|p| a[i * k + p] * b[p * n + j]).sum();
                assert!((c[i * n + j] - want).abs() < 1e-12);
            }
        }
    }
}
