//! The linear-loss micro-kernel without class padding, for few classes on CPUs with 32 vector
//! registers (AVX-512VL): vectors run along D, one accumulator per (sample, class).
//!
//!   pass 1: acc[r][c] (a vector over d) += x_r[d..d+L] * Wt[c, d..d+L];  s[r][c] = sum of lanes
//!   loss:   s[r][:] <- dL/ds
//!   pass 2: dWt[c, d..d+L] += dS[r][c] * x_r[d..d+L]
//!
//! Two samples share each weight load (2 x C accumulators + 2 x vectors + 1 weight = 23 registers
//! for C = 10). D is cut into tiles so that the C x TILE slice of Wt (pass 1) and of dWt (pass 2)
//! stays in L1 while the block's 8 samples stream through it. Against the padded kernel this saves
//! the padding lanes: 10 classes use 10 FMA lanes-worth instead of 12 (f64) or 16 (f32).

// Register-blocked loops index small fixed-size arrays on purpose: the indices are the math.
#![allow(clippy::needless_range_loop)]

use crate::linear_loss::{row_contributes, Group, ScoreLoss};
use crate::Real;

/// Samples per block (4 pairs).
const BLOCK: usize = 8;
/// Elements of D per tile: C x TILE weights stay in L1 (10 x 256 x 8 B = 20 KB).
const TILE: usize = 256;
/// Largest C served here (2 x C accumulators must fit in 32 registers with 3 to spare).
pub const MAX_CLASSES: usize = 12;

/// Row stride (elements) of Wt and dWt for D = `d`: at least d, and such that consecutive rows are
/// 4096 k + 384 bytes apart. Rows a multiple of 4 KiB apart (D = 3072 + 1 is almost that) make a
/// load from row c + 1 wait on the store just made to row c ("4K aliasing") and crowd the same L1
/// sets; measured, that made pass 2 three times slower.
pub fn row_stride<T>(d: usize) -> usize {
    let size = std::mem::size_of::<T>();
    let (page, offset) = (4096 / size, 384 / size);
    if d <= offset {
        return offset;
    }
    (d - offset).div_ceil(page) * page + offset
}

/// Sum of a vector's lanes, left to right (a fixed order).
#[inline(always)]
unsafe fn lane_sum<T: Real>(v: T::V) -> T {
    let mut buf = [T::zero(); 16];
    T::store(buf.as_mut_ptr(), v);
    buf[..T::LANES].iter().fold(T::zero(), |a, &b| a + b)
}

#[inline(always)]
unsafe fn dot_group<T: Real, L: ScoreLoss, const C: usize>(
    g: &Group<'_, T>,
    s0: usize,
    s1: usize,
    dwt: &mut [T],
) -> f64 {
    let (d, ld, lanes) = (g.d, g.w_ld, T::LANES);
    assert!(
        g.c == C && ld >= d && g.wp.len() >= C * ld && dwt.len() >= C * ld && g.zero_row.len() >= d,
        "dot kernel buffers"
    );
    let dv = d / lanes * lanes;
    let wt = g.wp.as_ptr();
    let dw = dwt.as_mut_ptr();
    let zero = T::splat(T::zero());
    let mut loss = 0.0f64;
    let mut s = s0;
    while s < s1 {
        let valid = BLOCK.min(s1 - s);
        let mut xr: [*const T; BLOCK] = [g.zero_row.as_ptr(); BLOCK];
        for (k, slot) in xr.iter_mut().enumerate().take(valid) {
            *slot = g.x_row(s + k).as_ptr();
        }
        let pairs = valid.div_ceil(2);
        // Accumulators of the block between tiles: [sample][class] vectors.
        let mut saved = [[zero; C]; BLOCK];
        // pass 1: scores
        let mut t0 = 0;
        while t0 < dv {
            let t1 = (t0 + TILE).min(dv);
            for p in 0..pairs {
                let (xa, xb) = (xr[2 * p], xr[2 * p + 1]);
                let (mut acc_a, mut acc_b) = (saved[2 * p], saved[2 * p + 1]);
                let mut dd = t0;
                while dd < t1 {
                    let va = T::load(xa.add(dd));
                    let vb = T::load(xb.add(dd));
                    for c in 0..C {
                        let w = T::load(wt.add(c * ld + dd));
                        acc_a[c] = T::fma(va, w, acc_a[c]);
                        acc_b[c] = T::fma(vb, w, acc_b[c]);
                    }
                    dd += lanes;
                }
                saved[2 * p] = acc_a;
                saved[2 * p + 1] = acc_b;
            }
            t0 = t1;
        }
        let mut ds = [[T::zero(); C]; BLOCK];
        for k in 0..valid {
            for c in 0..C {
                let mut v = lane_sum::<T>(saved[k][c]);
                for dd in dv..d {
                    v += *xr[k].add(dd) * *wt.add(c * ld + dd);
                }
                ds[k][c] = v;
            }
            loss += L::row(&mut ds[k], g.y[s + k] as usize);
            if !row_contributes::<T, L>(&ds[k]) {
                xr[k] = g.zero_row.as_ptr();
            }
        }
        // pass 2: dWt += dS^T x, the same tiles
        let mut t0 = 0;
        while t0 < dv {
            let t1 = (t0 + TILE).min(dv);
            for p in 0..pairs {
                let (xa, xb) = (xr[2 * p], xr[2 * p + 1]);
                let mut ga = [zero; C];
                let mut gb = [zero; C];
                for c in 0..C {
                    ga[c] = T::splat(ds[2 * p][c]);
                    gb[c] = T::splat(ds[2 * p + 1][c]);
                }
                let mut dd = t0;
                while dd < t1 {
                    let va = T::load(xa.add(dd));
                    let vb = T::load(xb.add(dd));
                    for c in 0..C {
                        let q = dw.add(c * ld + dd);
                        let v = T::fma(va, ga[c], T::load(q));
                        T::store(q, T::fma(vb, gb[c], v));
                    }
                    dd += lanes;
                }
            }
            t0 = t1;
        }
        for k in 0..valid {
            for c in 0..C {
                for dd in dv..d {
                    *dw.add(c * ld + dd) += *xr[k].add(dd) * ds[k][c];
                }
            }
        }
        s += BLOCK;
    }
    loss
}

#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx2,fma,avx512f,avx512vl")]
unsafe fn dot_group_avx512<T: Real, L: ScoreLoss, const C: usize>(
    g: &Group<'_, T>,
    s0: usize,
    s1: usize,
    dwt: &mut [T],
) -> f64 {
    dot_group::<T, L, C>(g, s0, s1, dwt)
}

/// Runs the samples `s0..s1` of `g` (W packed as Wt, C rows `g.w_ld` apart) into `dwt` (the same layout).
///
/// # Safety
/// The CPU must have AVX-512F/VL (the caller checks `simd::isa()`), and `2 <= g.c <= MAX_CLASSES`.
#[cfg(target_arch = "x86_64")]
pub unsafe fn dot_dispatch<T: Real, L: ScoreLoss>(
    g: &Group<'_, T>,
    s0: usize,
    s1: usize,
    dwt: &mut [T],
) -> f64 {
    macro_rules! arms {
        ($($c:literal),*) => {
            match g.c {
                $($c => dot_group_avx512::<T, L, $c>(g, s0, s1, dwt),)*
                _ => unreachable!("dot_dispatch serves 2..=MAX_CLASSES classes"),
            }
        };
    }
    arms!(2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12)
}
