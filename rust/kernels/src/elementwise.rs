//! Elementwise layers over contiguous buffers: ReLU forward/backward and applying a mask.
//!
//! Each output element depends on the same-index inputs only, so any split gives the same bits;
//! the pool gets fixed chunks large enough to beat the cost of waking a thread.

use crate::error::KernelError;
use crate::threads;
use crate::{KResult, Real};

/// Elements per parallel chunk (256 KB of f64: a few microseconds of memory traffic).
const CHUNK: usize = 32 * 1024;

fn check_same(arg: &'static str, got: usize, want: usize) -> KResult<()> {
    if got != want {
        return Err(KernelError::shape(
            arg,
            format!("{want} elements (the shape of x)"),
            format!("{got}"),
        ));
    }
    Ok(())
}

/// `out[i] = f(a[i], b[i])` in parallel chunks.
#[inline(always)]
pub fn zip_map<A, B, T>(a: &[A], b: &[B], out: &mut [T], f: impl Fn(A, B) -> T + Sync)
where
    A: Copy + Sync,
    B: Copy + Sync,
    T: Send,
{
    threads::for_each_chunk_mut(out, CHUNK, |c, part| {
        let (s, len) = (c * CHUNK, part.len());
        crate::wide!({
            for ((o, &x), &y) in part.iter_mut().zip(&a[s..s + len]).zip(&b[s..s + len]) {
                *o = f(x, y);
            }
        })
    });
}

/// ReLU forward:  out = max(0, x), NaN propagating as NumPy's `np.maximum(0, x)`.
pub fn relu_forward<T: Real>(x: &[T], out: &mut [T]) -> KResult<()> {
    check_same("out", out.len(), x.len())?;
    zip_map(
        x,
        x,
        out,
        |v, _| if v > T::zero() || v.is_nan() { v } else { T::zero() },
    );
    Ok(())
}

/// ReLU backward:  dx = dout * [x > 0]   (as `dout * (x > 0)`: a NaN or inf dout stays NaN where
/// x <= 0, since inf * 0 = NaN; the sign of a zero follows dout).
pub fn relu_backward<T: Real>(dout: &[T], x: &[T], dx: &mut [T]) -> KResult<()> {
    check_same("dout", dout.len(), x.len())?;
    check_same("dx", dx.len(), x.len())?;
    zip_map(
        dout,
        x,
        dx,
        #[inline(always)]
        |g, v| g * if v > T::zero() { T::one() } else { T::zero() },
    );
    Ok(())
}

/// Mask product:  out = x * mask  (dropout's forward with the scaled mask, and its backward).
pub fn mul<T: Real>(x: &[T], mask: &[T], out: &mut [T]) -> KResult<()> {
    check_same("mask", mask.len(), x.len())?;
    check_same("out", out.len(), x.len())?;
    zip_map(
        x,
        mask,
        out,
        #[inline(always)]
        |a, m| a * m,
    );
    Ok(())
}

/// Dtype conversion, rounding to nearest as NumPy's `astype` does:  dst = (D) src.
pub fn convert<S: Real, D: Real>(src: &[S], dst: &mut [D]) -> KResult<()> {
    check_same("dst", dst.len(), src.len())?;
    threads::for_each_chunk_mut(dst, CHUNK, |c, part| {
        let s = &src[c * CHUNK..c * CHUNK + part.len()];
        crate::wide!({
            for (d, &v) in part.iter_mut().zip(s) {
                *d = D::of(v.wide());
            }
        })
    });
    Ok(())
}

/// L2 regularization of a weight matrix, in one pass:  returns sum(w * w)  and does
/// dw += reg * w  in place. Partial sums of fixed chunks are added in chunk order.
pub fn l2_reg<T: Real>(w: &[T], dw: &mut [T], reg: T) -> KResult<T> {
    check_same("dw", dw.len(), w.len())?;
    let mut partial = vec![T::zero(); w.len().div_ceil(CHUNK)];
    let parts = crate::threads::Disjoint::new(&mut partial);
    threads::for_each_chunk_mut(dw, CHUNK, |c, part| {
        let ws = &w[c * CHUNK..c * CHUNK + part.len()];
        let sum = crate::wide!({
            let mut acc = [T::zero(); 8];
            for (d8, w8) in part.chunks_exact_mut(8).zip(ws.chunks_exact(8)) {
                for k in 0..8 {
                    acc[k] += w8[k] * w8[k];
                    d8[k] += reg * w8[k];
                }
            }
            let tail = part.len() / 8 * 8;
            for (d, &v) in part[tail..].iter_mut().zip(&ws[tail..]) {
                acc[0] += v * v;
                *d += reg * v;
            }
            acc.iter().fold(T::zero(), |a, &b| a + b)
        });
        // SAFETY: chunk c's slot is written by this task only.
        unsafe { parts.part(c, 1)[0] = sum };
    });
    Ok(partial.iter().fold(T::zero(), |a, &b| a + b))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn relu_matches_numpy_rules() {
        let x = [1.5f64, -2.0, 0.0, f64::NAN, f64::INFINITY, f64::NEG_INFINITY];
        let mut out = [9.0; 6];
        relu_forward(&x, &mut out).unwrap();
        assert_eq!(&out[..3], &[1.5, 0.0, 0.0]);
        assert!(out[3].is_nan());
        assert_eq!(&out[4..], &[f64::INFINITY, 0.0]);
        let dout = [2.0, f64::INFINITY, -3.0, 1.0, 4.0, f64::NAN];
        let mut dx = [9.0; 6];
        relu_backward(&dout, &x, &mut dx).unwrap();
        assert_eq!(dx[0], 2.0);
        assert!(dx[1].is_nan());
        assert!(dx[2] == 0.0 && dx[2].is_sign_negative());
        assert_eq!(&dx[3..5], &[0.0, 4.0]);
        assert!(dx[5].is_nan());
        assert!(relu_backward(&dout[..5], &x, &mut dx).is_err());
    }

    #[test]
    fn l2_reg_sums_squares_and_adds_the_gradient() {
        let w: Vec<f64> = (0..100_001).map(|i| (i % 7) as f64 - 3.0).collect();
        let mut dw = vec![1.0; w.len()];
        let s = l2_reg(&w, &mut dw, 0.5).unwrap();
        assert_eq!(s, w.iter().map(|v| v * v).sum::<f64>());
        assert!(dw.iter().zip(&w).all(|(d, v)| *d == 1.0 + 0.5 * v));
        assert!(l2_reg(&w, &mut dw[..5], 0.5).is_err());
    }

    #[test]
    fn convert_rounds_like_a_cast() {
        let src: Vec<f64> = (0..70_000).map(|i| (i as f64).sqrt() * 1.000_000_1).collect();
        let mut dst = vec![0f32; src.len()];
        convert(&src, &mut dst).unwrap();
        assert!(dst.iter().zip(&src).all(|(&d, &s)| d == s as f32));
    }

    #[test]
    fn chunks_cover_long_inputs() {
        let n = 3 * CHUNK + 17;
        let x: Vec<f32> = (0..n).map(|i| i as f32 - 40000.0).collect();
        let mut out = vec![0.0; n];
        relu_forward(&x, &mut out).unwrap();
        assert!(out.iter().zip(&x).all(|(&o, &v)| o == v.max(0.0)));
    }
}
