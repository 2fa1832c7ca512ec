//! A register-tiled product for a short inner dimension k (a convolution's C * HH * WW = 27 for
//! 3-channel 3x3 filters, or its F filters in the backward pass), where a general GEMM spends more
//! time packing its operands than multiplying them.
//!
//!   dst (m x n) [+]= a (m x k, any strides) * b (k x n, contiguous rows)
//!
//! Each 4 x (3 vectors) tile of dst is held in twelve registers while k runs: per step, three
//! loads of b's row, four broadcasts of a's column and twelve fused multiply-adds. Every element
//! is the sum over k in order, from zero, then added to dst when accumulating.

use crate::matmul::{gemm, Operand};
use crate::simd::{isa, Isa, Lanes};
use crate::Real;

/// Rows of a tile.
const MR: usize = 4;
/// Vectors per tile row.
const NV: usize = 3;

/// `dst (m x n, rows dst_ld apart) = [dst +] a (m x k) * b (k x n, rows ld_b apart)`.
///
/// # Safety
/// The pointers must be valid for the given shapes and strides, and `dst` must not overlap them.
#[allow(clippy::too_many_arguments)]
pub unsafe fn gemm_short_k<T: Real>(
    m: usize,
    n: usize,
    k: usize,
    dst: *mut T,
    dst_ld: usize,
    accumulate: bool,
    a: Operand<T>,
    b: *const T,
    ld_b: usize,
) {
    if isa() == Isa::Portable || T::LANES == 1 {
        return gemm(
            m,
            n,
            k,
            dst,
            dst_ld,
            accumulate,
            a,
            Operand::rows(b, ld_b),
            T::one(),
        );
    }
    let width = NV * T::LANES;
    crate::wide!({
        let mut i0 = 0;
        while i0 < m {
            let rows = MR.min(m - i0);
            let mut j0 = 0;
            while j0 < n {
                let cols = width.min(n - j0);
                let t = Tile {
                    k,
                    a,
                    b,
                    ld_b,
                    dst,
                    dst_ld,
                    accumulate,
                };
                if cols == width {
                    t.full(i0, j0, rows);
                } else {
                    t.edge(i0, j0, rows, cols);
                }
                j0 += width;
            }
            i0 += MR;
        }
    })
}

#[derive(Clone, Copy)]
struct Tile<T> {
    k: usize,
    a: Operand<T>,
    b: *const T,
    ld_b: usize,
    dst: *mut T,
    dst_ld: usize,
    accumulate: bool,
}

impl<T: Real> Tile<T> {
    #[inline(always)]
    unsafe fn a_at(&self, i: usize, kk: usize) -> T {
        *self
            .a
            .ptr
            .offset(i as isize * self.a.rs + kk as isize * self.a.cs)
    }

    /// acc[i][v] = sum_kk a[i0 + i, kk] * brow(kk)[v * LANES ..]
    #[inline(always)]
    unsafe fn run(&self, i0: usize, rows: usize, brow: impl Fn(usize) -> *const T) -> [[T::V; NV]; MR] {
        let l = T::LANES;
        let z = T::splat(T::zero());
        let mut acc = [[z; NV]; MR];
        for kk in 0..self.k {
            let bp = brow(kk);
            let bv = [T::load(bp), T::load(bp.add(l)), T::load(bp.add(2 * l))];
            for (i, acc_i) in acc.iter_mut().enumerate() {
                let av = T::splat(if i < rows {
                    self.a_at(i0 + i, kk)
                } else {
                    T::zero()
                });
                for v in 0..NV {
                    acc_i[v] = T::fma(av, bv[v], acc_i[v]);
                }
            }
        }
        acc
    }

    /// A tile of full width (`rows` <= MR of its rows inside dst).
    #[inline(always)]
    unsafe fn full(&self, i0: usize, j0: usize, rows: usize) {
        let l = T::LANES;
        let acc = self.run(i0, rows, |kk| self.b.add(kk * self.ld_b + j0));
        for (i, acc_i) in acc.iter().enumerate().take(rows) {
            let d = self.dst.add((i0 + i) * self.dst_ld + j0);
            for (v, &x) in acc_i.iter().enumerate() {
                let p = d.add(v * l);
                let x = if self.accumulate {
                    <T as Lanes>::add(T::load(p), x)
                } else {
                    x
                };
                T::store(p, x);
            }
        }
    }

    /// A tile cut short by the right edge of dst: b's row copied into a padded buffer, dst written
    /// element by element.
    #[inline(always)]
    unsafe fn edge(&self, i0: usize, j0: usize, rows: usize, cols: usize) {
        let l = T::LANES;
        let mut pad = [T::zero(); 3 * 16];
        let padp = pad.as_mut_ptr();
        let acc = self.run(i0, rows, |kk| {
            let src = self.b.add(kk * self.ld_b + j0);
            std::ptr::copy_nonoverlapping(src, padp, cols);
            padp as *const T
        });
        let mut out = [T::zero(); 3 * 16];
        for (i, acc_i) in acc.iter().enumerate().take(rows) {
            for (v, &x) in acc_i.iter().enumerate() {
                T::store(out.as_mut_ptr().add(v * l), x);
            }
            let d = self.dst.add((i0 + i) * self.dst_ld + j0);
            for (j, &x) in out.iter().enumerate().take(cols) {
                *d.add(j) = if self.accumulate { *d.add(j) + x } else { x };
            }
        }
    }
}
