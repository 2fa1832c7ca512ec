//! The padded register-blocked micro-kernel of the linear losses (any CPU; AVX2 / AVX-512VL
//! versions selected at run time): C padded to whole vectors, R samples per step.
//!
//!   pass 1: acc[k][:] = sum_d x_k[d] * Wp[d, :]          (scores of the R samples)
//!   loss:   acc[k][:] <- dL/ds (padding lanes set to 0)
//!   pass 2: dWp[d, :] += sum_k x_k[d] * acc[k][:]          (rank-R update, x_k still in cache)

// Register-blocked loops index small fixed-size arrays on purpose: the indices are the math.
#![allow(clippy::needless_range_loop)]

use crate::linear_loss::{row_contributes, Group, ScoreLoss};
use crate::simd::{vector_registers, Isa};
use crate::Real;

/// The portable version: plain arrays, the compiler vectorises what it can.
#[inline(always)]
fn micro_group<T: Real, L: ScoreLoss, const CW: usize, const R: usize>(
    g: &Group<'_, T>,
    s0: usize,
    s1: usize,
    dwp: &mut [T],
) -> f64 {
    let d = g.d;
    assert!(
        g.wp.len() >= d * CW && dwp.len() >= d * CW && g.zero_row.len() >= d,
        "micro kernel buffers"
    );
    let mut loss = 0.0f64;
    let mut s = s0;
    while s < s1 {
        let valid = R.min(s1 - s);
        let mut xr: [&[T]; R] = [g.zero_row; R];
        for (k, slot) in xr.iter_mut().enumerate().take(valid) {
            *slot = g.x_row(s + k);
        }
        let mut acc = [[T::zero(); CW]; R];
        for dd in 0..d {
            // SAFETY: dd < d, wp holds d rows of CW, every xr[k] holds at least d elements.
            let wrow = unsafe { &*(g.wp.as_ptr().add(dd * CW) as *const [T; CW]) };
            for k in 0..R {
                let xv = unsafe { *xr[k].get_unchecked(dd) };
                for j in 0..CW {
                    acc[k][j] = xv * wrow[j] + acc[k][j];
                }
            }
        }
        for (k, a) in acc.iter_mut().enumerate() {
            if k < valid {
                loss += L::row(&mut a[..g.c], g.y[s + k] as usize);
                a[g.c..].fill(T::zero());
                if !row_contributes::<T, L>(&a[..g.c]) {
                    xr[k] = g.zero_row;
                }
            } else {
                a.fill(T::zero());
            }
        }
        for dd in 0..d {
            // SAFETY: as above, dwp holds d rows of CW.
            let dw = unsafe { &mut *(dwp.as_mut_ptr().add(dd * CW) as *mut [T; CW]) };
            let mut v = *dw;
            for k in 0..R {
                let xv = unsafe { *xr[k].get_unchecked(dd) };
                for j in 0..CW {
                    v[j] = xv * acc[k][j] + v[j];
                }
            }
            *dw = v;
        }
        s += R;
    }
    loss
}

/// The same computation as [`micro_group`] with explicit 256-bit vectors (CW lanes = CW / LANES
/// vectors per sample). Compiled through the target-feature wrappers below.
#[cfg(target_arch = "x86_64")]
#[inline(always)]
unsafe fn micro_group_simd<T: Real, L: ScoreLoss, const CW: usize, const R: usize>(
    g: &Group<'_, T>,
    s0: usize,
    s1: usize,
    dwp: &mut [T],
) -> f64 {
    let d = g.d;
    let lanes = T::LANES;
    assert!(
        CW.is_multiple_of(lanes) && g.wp.len() >= d * CW && dwp.len() >= d * CW && g.zero_row.len() >= d,
        "micro kernel buffers"
    );
    // V = CW / lanes vectors per row; written with CW-sized arrays and a stride of `lanes`.
    let nv = CW / lanes;
    let mut loss = 0.0f64;
    let mut s = s0;
    let mut buf = [[T::zero(); CW]; R];
    while s < s1 {
        let valid = R.min(s1 - s);
        let mut xr: [*const T; R] = [g.zero_row.as_ptr(); R];
        for (k, slot) in xr.iter_mut().enumerate().take(valid) {
            *slot = g.x_row(s + k).as_ptr();
        }
        let mut acc = [[T::splat(T::zero()); 4]; R];
        let wp = g.wp.as_ptr();
        for dd in 0..d {
            let wrow = wp.add(dd * CW);
            let mut wv = [T::splat(T::zero()); 4];
            for v in 0..nv {
                wv[v] = T::load(wrow.add(v * lanes));
            }
            for k in 0..R {
                let xv = T::splat(*xr[k].add(dd));
                for v in 0..nv {
                    acc[k][v] = T::fma(xv, wv[v], acc[k][v]);
                }
            }
        }
        for k in 0..R {
            for v in 0..nv {
                T::store(buf[k].as_mut_ptr().add(v * lanes), acc[k][v]);
            }
            if k < valid {
                loss += L::row(&mut buf[k][..g.c], g.y[s + k] as usize);
                buf[k][g.c..].fill(T::zero());
                if !row_contributes::<T, L>(&buf[k][..g.c]) {
                    xr[k] = g.zero_row.as_ptr();
                }
            } else {
                buf[k].fill(T::zero());
            }
            for v in 0..nv {
                acc[k][v] = T::load(buf[k].as_ptr().add(v * lanes));
            }
        }
        // While pass 2 works from cache, pull the next R samples' rows towards L2, one cache line
        // per row every `line` elements, so pass 1 of the next step does not wait on memory.
        let line = 64 / std::mem::size_of::<T>();
        let mut next: [*const T; R] = [std::ptr::null(); R];
        for (k, slot) in next.iter_mut().enumerate() {
            if s + R + k < s1 {
                *slot = g.x_row(s + R + k).as_ptr();
            }
        }
        let dwptr = dwp.as_mut_ptr();
        for dd in 0..d {
            if dd % line == 0 {
                for p in next {
                    if !p.is_null() {
                        prefetch_l2(p.add(dd));
                    }
                }
            }
            let dwrow = dwptr.add(dd * CW);
            let mut dv = [T::splat(T::zero()); 4];
            for v in 0..nv {
                dv[v] = T::load(dwrow.add(v * lanes));
            }
            for k in 0..R {
                let xv = T::splat(*xr[k].add(dd));
                for v in 0..nv {
                    dv[v] = T::fma(xv, acc[k][v], dv[v]);
                }
            }
            for v in 0..nv {
                T::store(dwrow.add(v * lanes), dv[v]);
            }
        }
        s += R;
    }
    loss
}

/// Hint that the cache line at `p` will be read soon (into L2).
#[cfg(target_arch = "x86_64")]
#[inline(always)]
unsafe fn prefetch_l2<T>(p: *const T) {
    std::arch::x86_64::_mm_prefetch::<{ std::arch::x86_64::_MM_HINT_T1 }>(p as *const i8);
}

#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx2,fma")]
unsafe fn micro_group_avx2<T: Real, L: ScoreLoss, const CW: usize, const R: usize>(
    g: &Group<'_, T>,
    s0: usize,
    s1: usize,
    dwp: &mut [T],
) -> f64 {
    micro_group_simd::<T, L, CW, R>(g, s0, s1, dwp)
}

/// AVX-512VL gives 32 ymm registers: twice the samples per step, half the W traffic per sample.
#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx2,fma,avx512f,avx512vl")]
unsafe fn micro_group_avx512<T: Real, L: ScoreLoss, const CW: usize, const R: usize>(
    g: &Group<'_, T>,
    s0: usize,
    s1: usize,
    dwp: &mut [T],
) -> f64 {
    micro_group_simd::<T, L, CW, R>(g, s0, s1, dwp)
}

fn micro_call<T: Real, L: ScoreLoss, const CW: usize, const R: usize>(
    isa: Isa,
    g: &Group<'_, T>,
    s0: usize,
    s1: usize,
    dwp: &mut [T],
) -> f64 {
    match isa {
        // SAFETY: `isa()` detected these features on this CPU.
        #[cfg(target_arch = "x86_64")]
        Isa::Avx2Fma => unsafe { micro_group_avx2::<T, L, CW, R>(g, s0, s1, dwp) },
        #[cfg(target_arch = "x86_64")]
        Isa::Avx512 => unsafe { micro_group_avx512::<T, L, CW, R>(g, s0, s1, dwp) },
        _ => micro_group::<T, L, CW, R>(g, s0, s1, dwp),
    }
}

/// Padded width CW and samples per step R of the micro path for C classes, or None (C too large:
/// GEMM path). CW is C rounded up to whole 256-bit vectors (V of them); R is the most samples whose
/// R x V accumulators leave room for the V weight vectors and a broadcast, capped at 8.
pub(crate) fn micro_plan<T: Real>(isa: Isa, c: usize) -> Option<(usize, usize)> {
    let lanes = T::LANES;
    let vecs = c.div_ceil(lanes);
    if vecs > 4 {
        return None;
    }
    let r = ((vector_registers(isa) - vecs - 1) / vecs).min(8);
    Some((vecs * lanes, r))
}

pub(crate) fn micro_dispatch<T: Real, L: ScoreLoss>(
    isa: Isa,
    plan: (usize, usize),
    g: &Group<'_, T>,
    s0: usize,
    s1: usize,
    dwp: &mut [T],
) -> f64 {
    macro_rules! arms {
        ($(($cw:literal, $r:literal)),*) => {
            match plan {
                $(($cw, $r) => micro_call::<T, L, $cw, $r>(isa, g, s0, s1, dwp),)*
                _ => unreachable!("micro_plan yields only the listed (CW, R) pairs"),
            }
        };
    }
    // 16 registers: f64 (4,8) (8,6) (12,4) (16,2); f32 (8,8) (16,6) (24,4) (32,2)
    // 32 registers: f64 (4,8) (8,8) (12,8) (16,6); f32 (8,8) (16,8) (24,8) (32,6)
    arms!(
        (4, 8),
        (8, 6),
        (12, 4),
        (16, 2),
        (8, 8),
        (12, 8),
        (16, 6),
        (16, 8),
        (24, 4),
        (24, 8),
        (32, 2),
        (32, 6)
    )
}
