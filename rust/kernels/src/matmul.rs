//! Matrix product through the `gemm` crate (runtime AVX2/FMA/AVX-512 dispatch).
//!
//! Every output element is reduced over `k` in the same order whatever the thread count (gemm
//! splits the work over output tiles, never over `k`), which the thread-invariance tests check.

use crate::threads;
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
    parallel: bool,
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
    let par = if parallel && threads::num_threads() > 1 {
        gemm::Parallelism::Rayon(threads::num_threads())
    } else {
        gemm::Parallelism::None
    };
    // Raw pointers are not Send: carry the addresses, valid for the duration of the call.
    let (d, ap, bp) = (dst as usize, a.ptr as usize, b.ptr as usize);
    let (a_rs, a_cs, b_rs, b_cs) = (a.rs, a.cs, b.rs, b.cs);
    let call = move || {
        gemm::gemm(
            m,
            n,
            k,
            d as *mut T,
            1,
            dst_ld as isize,
            accumulate,
            ap as *const T,
            a_cs,
            a_rs,
            bp as *const T,
            b_cs,
            b_rs,
            T::one(),
            scale,
            false,
            false,
            false,
            par,
        )
    };
    if matches!(par, gemm::Parallelism::Rayon(_)) {
        threads::install(call);
    } else {
        call();
    }
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
                false,
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
