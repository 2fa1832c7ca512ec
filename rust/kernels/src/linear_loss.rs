//! Loss and gradient of a linear classifier, scores = X W, in one pass over X.
//!
//!   loss = (1/N) sum_i L(s_i, y_i) + reg * sum(W^2)
//!   dW   = (1/N) X^T dS + 2 reg W,      dS_i = dL(s_i, y_i)/ds_i
//!
//! X is read block by block (32 rows): the block's scores come from one small GEMM, are turned into
//! dS in place by the row loss, and the same block (still in cache) is multiplied back into dW.
//! Blocks are grouped into at most 8 groups fixed by N alone; each group owns a partial dW, and the
//! partials are summed in group order, so the result is identical for any thread count.
//! An optional index array picks the rows of X (the SGD minibatch), so no gathered copy is made.

use crate::error::{checked_len, try_zeros, KernelError};
use crate::layout::wrap_index;
use crate::matmul::{gemm, Operand};
use crate::threads;
use crate::{KResult, Real, Rows};
use std::sync::atomic::{AtomicU64, Ordering};

/// A loss on one row of scores: returns L(s, y) and overwrites `s` with dL/ds.
pub trait ScoreLoss: Sync {
    fn row<T: Real>(s: &mut [T], y: usize) -> f64;
}

/// Multiclass hinge loss, delta = 1:
///   L = sum_{j != y} max(0, s_j - s_y + 1);  dL/ds_j = [margin_j > 0],  dL/ds_y = -#{j: margin_j > 0}.
/// A NaN margin makes L NaN (as `np.maximum` does) and contributes no gradient (as `margins > 0`).
pub struct Hinge;

impl ScoreLoss for Hinge {
    #[inline]
    fn row<T: Real>(s: &mut [T], y: usize) -> f64 {
        let sy = s[y];
        let mut loss = 0.0f64;
        let mut count = 0usize;
        for (j, v) in s.iter_mut().enumerate() {
            if j == y {
                continue;
            }
            let margin = *v - sy + T::one();
            if margin > T::zero() {
                loss += margin.wide();
                count += 1;
                *v = T::one();
            } else {
                if margin.is_nan() {
                    loss += f64::NAN;
                }
                *v = T::zero();
            }
        }
        s[y] = -T::of(count as f64);
        loss
    }
}

/// Softmax cross-entropy with the max shift (log-sum-exp):
///   m = max_j s_j,  L = log(sum_j exp(s_j - m)) - (s_y - m),  dL/ds_j = softmax(s)_j - [j == y].
/// The max propagates NaN as NumPy's does.
pub struct SoftmaxCrossEntropy;

impl ScoreLoss for SoftmaxCrossEntropy {
    #[inline]
    fn row<T: Real>(s: &mut [T], y: usize) -> f64 {
        let m = s.iter().fold(T::neg_infinity(), |a, &b| a.nan_max(b));
        let shifted_y = s[y] - m;
        let mut sum = T::zero();
        for v in s.iter_mut() {
            *v = (*v - m).exp();
            sum += *v;
        }
        let inv = T::one() / sum;
        for v in s.iter_mut() {
            *v *= inv;
        }
        s[y] -= T::one();
        (sum.ln() - shifted_y).wide()
    }
}

/// Rows per block: 32 rows of 3073 doubles (786 KB) stay in a 1-2 MB L2 between the two GEMMs.
const BLOCK: usize = 32;
/// At most this many partial gradients (fixed by N, never by the thread count).
const MAX_GROUPS: usize = 8;

/// Loss and gradient of `L` for `scores = X[idx] W` (or `X W` when `idx` is None).
///
/// `w` is (D, C), `x` is (num_rows, D), `y` has one label in `[0, C)` per sample, `dw` receives (D, C).
pub fn linear_loss<T: Real, L: ScoreLoss>(
    w: Rows<'_, T>,
    x: Rows<'_, T>,
    y: &[i64],
    idx: Option<&[i64]>,
    reg: T,
    dw: &mut [T],
) -> KResult<f64> {
    let (d, c) = (w.nrows, w.ncols);
    if x.ncols != d {
        return Err(KernelError::shape("X", format!("(N, {d}) to match W's {d} rows"), x.shape_str()));
    }
    if c == 0 {
        return Err(KernelError::shape("W", "(D, C) with C >= 1", w.shape_str()));
    }
    let n = idx.map_or(x.nrows, |i| i.len());
    if y.len() != n {
        return Err(KernelError::shape("y", format!("({n},), one label per sample"), format!("({},)", y.len())));
    }
    if n == 0 {
        return Err(KernelError::value("X", "no samples: the loss is averaged over N, which must be at least 1"));
    }
    if dw.len() != checked_len(d, c, "dW")? {
        return Err(KernelError::shape("dW", format!("({d}, {c})"), format!("{} elements", dw.len())));
    }
    for &label in y {
        if label < 0 || label >= c as i64 {
            return Err(KernelError::value("y", format!("label {label} is out of range for {c} classes [0, {c})")));
        }
    }
    let rows: Vec<usize> = match idx {
        Some(ix) => ix.iter().map(|&i| wrap_index(i, x.nrows, "idx")).collect::<KResult<_>>()?,
        None => Vec::new(),
    };

    let nblocks = n.div_ceil(BLOCK);
    let groups = nblocks.min(MAX_GROUPS);
    let dc = d * c;
    let mut partials: Vec<T> = try_zeros(checked_len(groups, dc, "partial gradients")?, "partial gradients")?;
    let losses: Vec<AtomicU64> = (0..groups).map(|_| AtomicU64::new(0)).collect();
    let gather = idx.is_some() || x.row_stride < d;

    threads::for_each_chunk_mut(&mut partials, dc.max(1), |g, part| {
        let (b0, b1) = (g * nblocks / groups, (g + 1) * nblocks / groups);
        let mut xb: Vec<T> = if gather { vec![T::zero(); BLOCK * d] } else { Vec::new() };
        let mut sc = vec![T::zero(); BLOCK * c];
        let mut loss = 0.0f64;
        for blk in b0..b1 {
            let (r0, r1) = (blk * BLOCK, ((blk + 1) * BLOCK).min(n));
            let b = r1 - r0;
            let (xptr, ld) = if gather {
                for (r, dst) in (r0..r1).zip(xb.chunks_mut(d)) {
                    let src = if rows.is_empty() { r } else { rows[r] };
                    dst.copy_from_slice(x.row(src));
                }
                (xb.as_ptr(), d)
            } else {
                (x.row(r0).as_ptr(), x.row_stride)
            };
            // SAFETY: xptr addresses b rows of d elements, ld apart; w is d x c with its row stride;
            // sc holds BLOCK x c and part d x c, both owned here and disjoint from the inputs.
            unsafe {
                gemm(b, c, d, sc.as_mut_ptr(), c, false, Operand::rows(xptr, ld), Operand::rows(w.as_ptr(), w.row_stride), T::one(), false);
            }
            for (r, srow) in sc.chunks_mut(c).take(b).enumerate() {
                loss += L::row(srow, y[r0 + r] as usize);
            }
            unsafe {
                gemm(d, c, b, part.as_mut_ptr(), c, true, Operand::transposed(xptr, ld), Operand::rows(sc.as_ptr(), c), T::one(), false);
            }
        }
        losses[g].store(loss.to_bits(), Ordering::Relaxed);
    });

    // dW = (sum of partials in group order) / N + 2 reg W
    let n_t = T::of(n as f64);
    let two_reg = reg + reg;
    let partials = &partials;
    threads::for_each_chunk_mut(dw, c * 256, |chunk, out| {
        for (k, o) in out.iter_mut().enumerate() {
            let e = chunk * c * 256 + k;
            let mut acc = partials[e];
            for g in 1..groups {
                acc += partials[g * dc + e];
            }
            *o = acc / n_t + two_reg * w.row(e / c)[e % c];
        }
    });
    let data_loss: f64 = losses.iter().map(|l| f64::from_bits(l.load(Ordering::Relaxed))).sum();
    let mut w_sq = 0.0f64;
    for i in 0..d {
        for &v in w.row(i) {
            w_sq += (v * v).wide();
        }
    }
    Ok(data_loss / n as f64 + reg.wide() * w_sq)
}

/// Index of the largest entry as `np.argmax` picks it: the first maximum, or the first NaN.
#[inline]
pub fn argmax<T: Real>(s: &[T]) -> usize {
    let mut best = 0;
    for (j, &v) in s.iter().enumerate() {
        if v.is_nan() {
            return j;
        }
        if v > s[best] {
            best = j;
        }
    }
    best
}

/// Predicted class of each row: out[i] = argmax_j (X W)[i, j], block by block (no N x C scores kept).
pub fn linear_predict<T: Real>(w: Rows<'_, T>, x: Rows<'_, T>, out: &mut [i64]) -> KResult<()> {
    let (d, c) = (w.nrows, w.ncols);
    if x.ncols != d {
        return Err(KernelError::shape("X", format!("(N, {d}) to match W's {d} rows"), x.shape_str()));
    }
    if c == 0 {
        return Err(KernelError::shape("W", "(D, C) with C >= 1", w.shape_str()));
    }
    if out.len() != x.nrows {
        return Err(KernelError::shape("out", format!("({},)", x.nrows), format!("({},)", out.len())));
    }
    threads::for_each_chunk_mut(out, BLOCK, |blk, o| {
        let mut sc = vec![T::zero(); o.len() * c];
        let r0 = blk * BLOCK;
        // SAFETY: rows r0..r0+o.len() of x exist; sc is o.len() x c.
        unsafe {
            gemm(o.len(), c, d, sc.as_mut_ptr(), c, false, Operand::rows(x.row(r0).as_ptr(), x.row_stride), Operand::rows(w.as_ptr(), w.row_stride), T::one(), false);
        }
        for (oi, srow) in o.iter_mut().zip(sc.chunks(c)) {
            *oi = argmax(srow) as i64;
        }
    });
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn data(n: usize, d: usize, c: usize) -> (Vec<f64>, Vec<f64>, Vec<i64>) {
        let w = (0..d * c).map(|i| ((i * 7 % 13) as f64 - 6.0) * 0.01).collect();
        let x = (0..n * d).map(|i| ((i * 31 % 17) as f64 - 8.0) * 0.1).collect();
        let y = (0..n).map(|i| (i * 5 % c) as i64).collect();
        (w, x, y)
    }

    /// The same loss by a plain triple loop and a numeric derivative check of one entry.
    fn check<L: ScoreLoss>(n: usize) {
        let (d, c, reg) = (9, 4, 0.3);
        let (w, x, y) = data(n, d, c);
        let f = |w: &[f64]| {
            let mut dw = vec![0.0; d * c];
            linear_loss::<f64, L>(Rows::new(w, d, c).unwrap(), Rows::new(&x, n, d).unwrap(), &y, None, reg, &mut dw).unwrap()
        };
        let mut dw = vec![0.0; d * c];
        linear_loss::<f64, L>(Rows::new(&w, d, c).unwrap(), Rows::new(&x, n, d).unwrap(), &y, None, reg, &mut dw).unwrap();
        for e in [0, 5, d * c - 1] {
            let h = 1e-6;
            let (mut wp, mut wm) = (w.clone(), w.clone());
            wp[e] += h;
            wm[e] -= h;
            let num = (f(&wp) - f(&wm)) / (2.0 * h);
            assert!((num - dw[e]).abs() < 1e-6 * (1.0 + num.abs()), "{num} vs {}", dw[e]);
        }
    }

    #[test]
    fn hinge_gradient_is_the_derivative() {
        check::<Hinge>(70);
    }

    #[test]
    fn softmax_gradient_is_the_derivative() {
        check::<SoftmaxCrossEntropy>(70);
    }

    #[test]
    fn uniform_scores_give_log_c() {
        let (d, c, n) = (3, 10, 5);
        let w = vec![0.0f64; d * c];
        let x = vec![1.0f64; n * d];
        let y = vec![3i64; n];
        let mut dw = vec![0.0; d * c];
        let loss = linear_loss::<f64, SoftmaxCrossEntropy>(Rows::new(&w, d, c).unwrap(), Rows::new(&x, n, d).unwrap(), &y, None, 0.0, &mut dw).unwrap();
        assert!((loss - (10f64).ln()).abs() < 1e-14);
    }

    #[test]
    fn indexed_rows_equal_a_gathered_copy() {
        let (d, c, n) = (6, 3, 50);
        let (w, x, _) = data(n, d, c);
        let idx: Vec<i64> = (0..40).map(|i| (i * 7 % 50) as i64 - 10).collect();
        let y: Vec<i64> = (0..40).map(|i| (i % 3) as i64).collect();
        let gathered: Vec<f64> = idx.iter().flat_map(|&i| x[(((i + 50) % 50) as usize) * d..][..d].to_vec()).collect();
        let (mut a, mut b) = (vec![0.0; d * c], vec![0.0; d * c]);
        let la = linear_loss::<f64, Hinge>(Rows::new(&w, d, c).unwrap(), Rows::new(&x, n, d).unwrap(), &y, Some(&idx), 0.1, &mut a).unwrap();
        let lb = linear_loss::<f64, Hinge>(Rows::new(&w, d, c).unwrap(), Rows::new(&gathered, 40, d).unwrap(), &y, None, 0.1, &mut b).unwrap();
        assert_eq!(la, lb);
        assert_eq!(a, b);
    }

    #[test]
    fn argmax_is_numpys() {
        assert_eq!(argmax(&[1.0, 3.0, 3.0, 2.0]), 1);
        assert_eq!(argmax(&[1.0, f64::NAN, 5.0, f64::NAN]), 1);
        assert_eq!(argmax(&[f32::NEG_INFINITY; 3]), 0);
    }

    #[test]
    fn bad_labels_and_empty_input_are_errors() {
        let (w, x, _) = data(4, 3, 2);
        let mut dw = vec![0.0; 6];
        let wr = Rows::new(&w, 3, 2).unwrap();
        assert!(linear_loss::<f64, Hinge>(wr, Rows::new(&x, 4, 3).unwrap(), &[0, 1, 2, 0], None, 0.0, &mut dw).is_err());
        assert!(linear_loss::<f64, Hinge>(wr, Rows::new(&x, 0, 3).unwrap(), &[], None, 0.0, &mut dw).is_err());
    }
}
