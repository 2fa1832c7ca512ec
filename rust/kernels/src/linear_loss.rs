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

// Register-blocked loops index small fixed-size arrays on purpose: the indices are the math.
#![allow(clippy::needless_range_loop)]

use crate::error::{checked_len, try_zeros, KernelError};
use crate::layout::wrap_index;
use crate::linear_dot;
use crate::linear_padded::{micro_dispatch, micro_plan};
use crate::matmul::{gemm, Operand};
use crate::simd::{isa, Isa};
use crate::threads;
use crate::{KResult, Real, Rows};
use std::sync::atomic::{AtomicU64, Ordering};

/// A loss on one row of scores: returns L(s, y) and overwrites `s` with dL/ds.
pub trait ScoreLoss: Sync {
    /// True when, as in a loop that adds `X[i]` to dW only where a margin is positive, a sample
    /// whose gradient is all zero must not touch dW at all (not even with `0 * inf = NaN`).
    const SILENT_ROWS_SKIPPED: bool = false;

    fn row<T: Real>(s: &mut [T], y: usize) -> f64;

    /// The sum of [`ScoreLoss::row`] over consecutive rows of `c` scores (labels `y`, in range),
    /// each row overwritten with its gradient, bit for bit as `row` would. Losses may override
    /// it to vectorize across rows.
    #[inline(always)]
    fn block<T: Real>(s: &mut [T], c: usize, y: &[i64]) -> f64 {
        s.chunks_exact_mut(c.max(1))
            .zip(y)
            .map(|(r, &l)| Self::row(r, l as usize))
            .sum()
    }
}

/// Whether the sample with gradient `ds` takes part in dW += x^T ds (see `SILENT_ROWS_SKIPPED`).
#[inline(always)]
pub(crate) fn row_contributes<T: Real, L: ScoreLoss>(ds: &[T]) -> bool {
    !L::SILENT_ROWS_SKIPPED || ds.iter().any(|&v| v != T::zero())
}

/// Multiclass hinge loss, delta = 1:
///   L = sum_{j != y} max(0, s_j - s_y + 1);  dL/ds_j = [margin_j > 0],  dL/ds_y = -#{j: margin_j > 0}.
/// `nan_counts`: a NaN margin makes L NaN (as `np.maximum` does) or adds nothing (as a loop's
/// `if margin > 0`); either way it contributes no gradient (as `margins > 0`).
#[inline(always)]
fn hinge_row<T: Real>(s: &mut [T], y: usize, nan_counts: bool) -> f64 {
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
            if nan_counts && margin.is_nan() {
                loss += f64::NAN;
            }
            *v = T::zero();
        }
    }
    s[y] = -T::of(count as f64);
    loss
}

/// The vectorized SVM (`svm_loss_vectorized`): NaN margins make the loss NaN.
pub struct Hinge;

impl ScoreLoss for Hinge {
    #[inline(always)]
    fn row<T: Real>(s: &mut [T], y: usize) -> f64 {
        hinge_row(s, y, true)
    }
}

/// cs231n's loop SVM (`svm_loss_naive`): a NaN margin adds nothing, and a sample without a positive
/// margin leaves dW untouched, exactly as the loop's `if margin > 0: dW[:, j] += X[i] ...`.
pub struct HingeLoop;

impl ScoreLoss for HingeLoop {
    const SILENT_ROWS_SKIPPED: bool = true;

    #[inline(always)]
    fn row<T: Real>(s: &mut [T], y: usize) -> f64 {
        hinge_row(s, y, false)
    }
}

/// Softmax cross-entropy with the max shift (log-sum-exp):
///   m = max_j s_j,  L = log(sum_j exp(s_j - m)) - (s_y - m),  dL/ds_j = softmax(s)_j - [j == y].
/// The max propagates NaN as NumPy's does.
pub struct SoftmaxCrossEntropy;

impl ScoreLoss for SoftmaxCrossEntropy {
    #[inline(always)]
    fn row<T: Real>(s: &mut [T], y: usize) -> f64 {
        let m = s.iter().fold(T::neg_infinity(), |a, &b| a.nan_max(b));
        let shifted_y = s[y] - m;
        for v in s.iter_mut() {
            *v = (*v - m).exp_v();
        }
        let sum = s.iter().fold(T::zero(), |a, &b| a + b);
        let inv = T::one() / sum;
        for v in s.iter_mut() {
            *v *= inv;
        }
        s[y] -= T::one();
        (sum.ln_v() - shifted_y).wide()
    }

    /// `row` in three passes over the block (max-shift, exp of everything, normalize), so the
    /// exponentials run as long vector loops instead of one short row at a time.
    #[inline(always)]
    fn block<T: Real>(s: &mut [T], c: usize, y: &[i64]) -> f64 {
        if c == 0 {
            return Self::block_rows(s, c, y);
        }
        if c <= Self::NARROW {
            return Self::block_narrow(s, c, y);
        }
        const ROWS: usize = 64;
        let mut loss = 0.0;
        let mut shifted_y = [T::zero(); ROWS];
        for (part, ys) in s.chunks_mut(ROWS * c).zip(y.chunks(ROWS)) {
            for ((row, &l), sy) in part.chunks_exact_mut(c).zip(ys).zip(shifted_y.iter_mut()) {
                let m = row.iter().fold(T::neg_infinity(), |a, &b| a.nan_max(b));
                for v in row.iter_mut() {
                    *v -= m;
                }
                *sy = row[l as usize];
            }
            for v in part.iter_mut() {
                *v = v.exp_v();
            }
            let mut sums = [T::zero(); ROWS];
            for ((row, &l), sum) in part.chunks_exact_mut(c).zip(ys).zip(sums.iter_mut()) {
                *sum = row.iter().fold(T::zero(), |a, &b| a + b);
                let inv = T::one() / *sum;
                for v in row.iter_mut() {
                    *v *= inv;
                }
                row[l as usize] -= T::one();
            }
            for (sum, &sy) in sums.iter().zip(&shifted_y).take(ys.len()) {
                loss += (sum.ln_v() - sy).wide();
            }
        }
        loss
    }
}

impl SoftmaxCrossEntropy {
    /// Classes up to which [`Self::block_narrow`] serves a block.
    const NARROW: usize = 16;

    /// `row` for few classes (C <= 16, as the assignments' 10): a row is too short for vectors,
    /// so each group of 64 rows is transposed to (C, 64) and every step (max, shift, exp, sums, ln)
    /// runs across the 64 rows. The same operations in the same order per row as `row`: the
    /// same bits.
    #[inline(always)]
    fn block_narrow<T: Real>(s: &mut [T], c: usize, y: &[i64]) -> f64 {
        const ROWS: usize = 64;
        let mut t = [T::zero(); ROWS * Self::NARROW];
        let t = &mut t[..ROWS * c];
        let mut loss = 0.0;
        for (part, ys) in s.chunks_mut(ROWS * c).zip(y.chunks(ROWS)) {
            let nr = ys.len();
            for (r, row) in part.chunks_exact(c).enumerate() {
                for (j, &v) in row.iter().enumerate() {
                    t[j * ROWS + r] = v;
                }
            }
            let mut m = [T::neg_infinity(); ROWS];
            for col in t.chunks_exact(ROWS) {
                for (a, &v) in m.iter_mut().zip(col) {
                    *a = a.nan_max(v);
                }
            }
            for col in t.chunks_exact_mut(ROWS) {
                for (v, &mr) in col.iter_mut().zip(&m) {
                    *v -= mr;
                }
            }
            let mut shifted_y = [T::zero(); ROWS];
            for (r, (sy, &l)) in shifted_y.iter_mut().zip(ys).enumerate() {
                *sy = t[l as usize * ROWS + r];
            }
            for v in t.iter_mut() {
                *v = v.exp_v();
            }
            let mut sums = [T::zero(); ROWS];
            for col in t.chunks_exact(ROWS) {
                for (a, &v) in sums.iter_mut().zip(col) {
                    *a += v;
                }
            }
            let (mut inv, mut logs) = ([T::zero(); ROWS], [T::zero(); ROWS]);
            for ((i, lg), &sm) in inv.iter_mut().zip(logs.iter_mut()).zip(&sums) {
                *i = T::one() / sm;
                *lg = sm.ln_v();
            }
            for (r, (row, &l)) in part.chunks_exact_mut(c).zip(ys).enumerate() {
                for (j, v) in row.iter_mut().enumerate() {
                    *v = t[j * ROWS + r] * inv[r];
                }
                row[l as usize] -= T::one();
            }
            for (lg, sy) in logs.iter().zip(&shifted_y).take(nr) {
                loss += (*lg - *sy).wide();
            }
        }
        loss
    }

    fn block_rows<T: Real>(s: &mut [T], c: usize, y: &[i64]) -> f64 {
        s.chunks_exact_mut(c.max(1))
            .zip(y)
            .map(|(r, &l)| Self::row(r, l as usize))
            .sum()
    }
}

/// Rows per block of the GEMM path: 32 rows of 3073 doubles (786 KB) stay in L2 between the GEMMs.
const BLOCK: usize = 32;
/// At most this many partial gradients (fixed by N, never by the thread count).
const MAX_GROUPS: usize = 8;
/// At least this many samples per group: each group zeroes and later sums a partial dW (D x 12
/// doubles, 295 KB), which for a minibatch of 200 costs as much as a quarter of the arithmetic.
/// Measured (`examples/loss_speed.rs -- 200 0 f64 49000`, random minibatches): 0.71 ms with 4 groups,
/// 0.60 ms with 2.
const MIN_GROUP_ROWS: usize = 100;

/// Everything a group of samples needs; the group owns a partial dW laid out as its path's W.
pub(crate) struct Group<'a, T> {
    pub x: Rows<'a, T>,
    /// Row of X for each sample (empty: sample i is row i).
    pub rows: &'a [usize],
    pub y: &'a [i64],
    /// W packed for the path: d x CW zero-padded (padded), C x d transposed (dot), W itself (GEMM).
    pub wp: &'a [T],
    pub w_ld: usize,
    pub zero_row: &'a [T],
    pub d: usize,
    pub c: usize,
}

impl<'a, T: Real> Group<'a, T> {
    #[inline(always)]
    pub fn x_row(&self, i: usize) -> &'a [T] {
        self.x.row(if self.rows.is_empty() { i } else { self.rows[i] })
    }
}

/// How a call computes: which kernel, and so how W and the partial gradients are laid out.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Path {
    /// `linear_dot`: W transposed (C x D), partial dW likewise. f32, AVX-512VL, 2..=12 classes.
    Dot,
    /// The padded register-blocked kernel: W as D x CW, R samples per step.
    Padded(usize, usize),
    /// Many classes: blocks through GEMM, W and dW as D x C.
    Gemm,
}

impl Path {
    fn choose<T: Real>(isa: Isa, c: usize) -> Path {
        // Measured (AVX-512VL, C = 10): the dot kernel wins in f32, where padding 10 classes to 16
        // lanes wastes 37.5% of the FMAs (N = 500: 0.74 vs 1.12 ms); in f64 the padded kernel (12
        // lanes) wins (1.06 vs 1.37 ms), its pass 2 being cheaper than the dot kernel's stores.
        let f32_like = std::mem::size_of::<T>() == 4;
        if f32_like
            && cfg!(target_arch = "x86_64")
            && isa == Isa::Avx512
            && (2..=linear_dot::MAX_CLASSES).contains(&c)
        {
            return Path::Dot;
        }
        match micro_plan::<T>(isa, c) {
            Some((cw, r)) => Path::Padded(cw, r),
            None => Path::Gemm,
        }
    }

    /// Row stride of W as the kernel reads it.
    fn w_ld<T>(&self, w: &Rows<'_, T>) -> usize {
        match *self {
            Path::Dot => linear_dot::row_stride::<T>(w.nrows),
            Path::Padded(cw, _) => cw,
            Path::Gemm => w.row_stride,
        }
    }

    /// Elements of one partial gradient.
    fn partial_len<T>(&self, d: usize, c: usize) -> KResult<usize> {
        match *self {
            Path::Dot => checked_len(linear_dot::row_stride::<T>(d), c, "partial gradients"),
            Path::Padded(cw, _) => checked_len(d, cw, "partial gradients"),
            Path::Gemm => checked_len(d, c, "partial gradients"),
        }
    }

    /// Position of dW[i, j] in a partial gradient.
    #[inline]
    fn partial_index(&self, i: usize, j: usize, ld: usize, c: usize) -> usize {
        match *self {
            Path::Dot => j * ld + i,
            Path::Padded(cw, _) => i * cw + j,
            Path::Gemm => i * c + j,
        }
    }

    /// W in the path's layout (empty for the GEMM path, which reads W in place).
    fn pack<T: Real>(&self, w: &Rows<'_, T>) -> KResult<Vec<T>> {
        let (d, c) = (w.nrows, w.ncols);
        Ok(match *self {
            Path::Dot => {
                let ld = linear_dot::row_stride::<T>(d);
                let mut p = try_zeros(checked_len(ld, c, "packed W")?, "packed W")?;
                for i in 0..d {
                    for (j, &v) in w.row(i).iter().enumerate() {
                        p[j * ld + i] = v;
                    }
                }
                p
            }
            Path::Padded(cw, _) => {
                let mut p = try_zeros(checked_len(d, cw, "packed W")?, "packed W")?;
                for (i, dst) in p.chunks_mut(cw).enumerate() {
                    dst[..c].copy_from_slice(w.row(i));
                }
                p
            }
            Path::Gemm => Vec::new(),
        })
    }
}

/// The GEMM path (many classes): per block of 32 samples, scores = Xb W, dS in place, dW += Xb^T dS.
fn gemm_group<T: Real, L: ScoreLoss>(g: &Group<'_, T>, s0: usize, s1: usize, part: &mut [T]) -> f64 {
    let (d, c) = (g.d, g.c);
    let mut xb: Vec<T> = vec![T::zero(); BLOCK * d];
    let mut sc = vec![T::zero(); BLOCK * c];
    let mut loss = 0.0f64;
    let mut r0 = s0;
    while r0 < s1 {
        let r1 = (r0 + BLOCK).min(s1);
        let b = r1 - r0;
        for (r, dst) in (r0..r1).zip(xb.chunks_mut(d.max(1))) {
            dst.copy_from_slice(g.x_row(r));
        }
        let xptr = xb.as_ptr();
        // SAFETY: xb holds b rows of d; wp is d x c with rows w_ld apart; sc is BLOCK x c; part d x c.
        unsafe {
            gemm(
                b,
                c,
                d,
                sc.as_mut_ptr(),
                c,
                false,
                Operand::rows(xptr, d),
                Operand::rows(g.wp.as_ptr(), g.w_ld),
                T::one(),
            );
        }
        for (r, srow) in sc.chunks_mut(c).take(b).enumerate() {
            loss += L::row(srow, g.y[r0 + r] as usize);
            if !row_contributes::<T, L>(srow) {
                xb[r * d..(r + 1) * d].fill(T::zero());
            }
        }
        unsafe {
            gemm(
                d,
                c,
                b,
                part.as_mut_ptr(),
                c,
                true,
                Operand::transposed(xptr, d),
                Operand::rows(sc.as_ptr(), c),
                T::one(),
            );
        }
        r0 = r1;
    }
    loss
}

/// (D, C) of `scores = X W`, after checking that X has D columns and that C >= 1.
fn check_scores_shapes<T>(w: &Rows<'_, T>, x: &Rows<'_, T>) -> KResult<(usize, usize)> {
    let (d, c) = (w.nrows, w.ncols);
    if x.ncols != d {
        return Err(KernelError::shape(
            "X",
            format!("(N, {d}) to match W's {d} rows"),
            x.shape_str(),
        ));
    }
    if c == 0 {
        return Err(KernelError::shape("W", "(D, C) with C >= 1", w.shape_str()));
    }
    Ok((d, c))
}

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
    linear_loss_on::<T, L>(isa(), w, x, y, idx, reg, dw)
}

/// [`linear_loss`] with the instruction set chosen by the caller (tests run every kernel path).
pub(crate) fn linear_loss_on<T: Real, L: ScoreLoss>(
    isa: Isa,
    w: Rows<'_, T>,
    x: Rows<'_, T>,
    y: &[i64],
    idx: Option<&[i64]>,
    reg: T,
    dw: &mut [T],
) -> KResult<f64> {
    let (d, c) = check_scores_shapes(&w, &x)?;
    let n = idx.map_or(x.nrows, |i| i.len());
    if y.len() != n {
        return Err(KernelError::shape(
            "y",
            format!("({n},), one label per sample"),
            format!("({},)", y.len()),
        ));
    }
    if n == 0 {
        return Err(KernelError::value(
            "X",
            "no samples: the loss is averaged over N, which must be at least 1",
        ));
    }
    if dw.len() != checked_len(d, c, "dW")? {
        return Err(KernelError::shape(
            "dW",
            format!("({d}, {c})"),
            format!("{} elements", dw.len()),
        ));
    }
    for &label in y {
        if label < 0 || label >= c as i64 {
            return Err(KernelError::value(
                "y",
                format!("label {label} is out of range for {c} classes [0, {c})"),
            ));
        }
    }
    let rows: Vec<usize> = match idx {
        Some(ix) => ix
            .iter()
            .map(|&i| wrap_index(i, x.nrows, "idx"))
            .collect::<KResult<_>>()?,
        None => Vec::new(),
    };

    let path = Path::choose::<T>(isa, c);
    let packed = path.pack(&w)?;
    let zero_row = try_zeros::<T>(d, "a zero row")?;
    let group = Group {
        x,
        rows: &rows,
        y,
        wp: if matches!(path, Path::Gemm) {
            w.data_slice()
        } else {
            &packed
        },
        w_ld: path.w_ld(&w),
        zero_row: &zero_row,
        d,
        c,
    };

    // Samples are split into `groups` contiguous ranges, a function of N only.
    // An even count when there is more than one, so that two threads get equal shares.
    let groups = match n.div_ceil(MIN_GROUP_ROWS) {
        0 | 1 => 1,
        g => (g + g % 2).min(MAX_GROUPS),
    };
    let dwidth = path.partial_len::<T>(d, c)?;
    // One slack element per group keeps every group's chunk non-empty (so it runs) when D = 0.
    let stride = dwidth + 1;
    let mut partials: Vec<T> = try_zeros(
        checked_len(groups, stride, "partial gradients")?,
        "partial gradients",
    )?;
    let losses: Vec<AtomicU64> = (0..groups).map(|_| AtomicU64::new(0)).collect();
    threads::for_each_chunk_mut(&mut partials, stride, |gi, part| {
        let (s0, s1) = (gi * n / groups, (gi + 1) * n / groups);
        let loss = match path {
            // SAFETY: Path::choose picks Dot only on CPUs with AVX-512F/VL and for 2..=12 classes.
            #[cfg(target_arch = "x86_64")]
            Path::Dot => unsafe { linear_dot::dot_dispatch::<T, L>(&group, s0, s1, part) },
            Path::Padded(cw, r) => micro_dispatch::<T, L>(isa, (cw, r), &group, s0, s1, part),
            _ => gemm_group::<T, L>(&group, s0, s1, part),
        };
        losses[gi].store(loss.to_bits(), Ordering::Relaxed);
    });

    // dW = (sum of partials in group order) / N + 2 reg W
    let n_t = T::of(n as f64);
    let two_reg = reg + reg;
    let partials = &partials;
    threads::for_each_chunk_mut(dw, c * 256, |chunk, out| {
        for (k, o) in out.iter_mut().enumerate() {
            let e = chunk * c * 256 + k;
            let (i, j) = (e / c, e % c);
            let pe = path.partial_index(i, j, group.w_ld, c);
            let mut acc = partials[pe];
            for gi in 1..groups {
                acc += partials[gi * stride + pe];
            }
            *o = acc / n_t + two_reg * w.row(i)[j];
        }
    });
    let data_loss: f64 = losses
        .iter()
        .map(|l| f64::from_bits(l.load(Ordering::Relaxed)))
        .sum();
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
    let (d, c) = check_scores_shapes(&w, &x)?;
    if out.len() != x.nrows {
        return Err(KernelError::shape(
            "out",
            format!("({},)", x.nrows),
            format!("({},)", out.len()),
        ));
    }
    threads::for_each_chunk_mut(out, BLOCK, |blk, o| {
        let mut sc = vec![T::zero(); o.len() * c];
        let r0 = blk * BLOCK;
        // SAFETY: rows r0..r0+o.len() of x exist; sc is o.len() x c.
        unsafe {
            gemm(
                o.len(),
                c,
                d,
                sc.as_mut_ptr(),
                c,
                false,
                Operand::rows(x.row(r0).as_ptr(), x.row_stride),
                Operand::rows(w.as_ptr(), w.row_stride),
                T::one(),
            );
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
            linear_loss::<f64, L>(
                Rows::new(w, d, c).unwrap(),
                Rows::new(&x, n, d).unwrap(),
                &y,
                None,
                reg,
                &mut dw,
            )
            .unwrap()
        };
        let mut dw = vec![0.0; d * c];
        linear_loss::<f64, L>(
            Rows::new(&w, d, c).unwrap(),
            Rows::new(&x, n, d).unwrap(),
            &y,
            None,
            reg,
            &mut dw,
        )
        .unwrap();
        for e in [0, 5, d * c - 1] {
            let h = 1e-6;
            let (mut wp, mut wm) = (w.clone(), w.clone());
            wp[e] += h;
            wm[e] -= h;
            let num = (f(&wp) - f(&wm)) / (2.0 * h);
            assert!(
                (num - dw[e]).abs() < 1e-6 * (1.0 + num.abs()),
                "{num} vs {}",
                dw[e]
            );
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
        let loss = linear_loss::<f64, SoftmaxCrossEntropy>(
            Rows::new(&w, d, c).unwrap(),
            Rows::new(&x, n, d).unwrap(),
            &y,
            None,
            0.0,
            &mut dw,
        )
        .unwrap();
        assert!((loss - (10f64).ln()).abs() < 1e-14);
    }

    #[test]
    fn indexed_rows_equal_a_gathered_copy() {
        let (d, c, n) = (6, 3, 50);
        let (w, x, _) = data(n, d, c);
        let idx: Vec<i64> = (0..40).map(|i| (i * 7 % 50) as i64 - 10).collect();
        let y: Vec<i64> = (0..40).map(|i| (i % 3) as i64).collect();
        let gathered: Vec<f64> = idx
            .iter()
            .flat_map(|&i| x[(((i + 50) % 50) as usize) * d..][..d].to_vec())
            .collect();
        let (mut a, mut b) = (vec![0.0; d * c], vec![0.0; d * c]);
        let la = linear_loss::<f64, Hinge>(
            Rows::new(&w, d, c).unwrap(),
            Rows::new(&x, n, d).unwrap(),
            &y,
            Some(&idx),
            0.1,
            &mut a,
        )
        .unwrap();
        let lb = linear_loss::<f64, Hinge>(
            Rows::new(&w, d, c).unwrap(),
            Rows::new(&gathered, 40, d).unwrap(),
            &y,
            None,
            0.1,
            &mut b,
        )
        .unwrap();
        assert_eq!(la, lb);
        assert_eq!(a, b);
    }

    /// Loss and dW by plain loops in f64 (the definition, no blocking).
    fn naive<L: ScoreLoss>(
        w: &[f64],
        x: &[f64],
        y: &[i64],
        n: usize,
        d: usize,
        c: usize,
        reg: f64,
    ) -> (f64, Vec<f64>) {
        let mut dw = vec![0.0; d * c];
        let mut loss = 0.0;
        for i in 0..n {
            let mut s: Vec<f64> = (0..c)
                .map(|j| (0..d).map(|k| x[i * d + k] * w[k * c + j]).sum())
                .collect();
            loss += L::row(&mut s, y[i] as usize);
            for k in 0..d {
                for j in 0..c {
                    dw[k * c + j] += x[i * d + k] * s[j];
                }
            }
        }
        let wsq: f64 = w.iter().map(|v| v * v).sum();
        let dw = dw
            .iter()
            .zip(w)
            .map(|(g, wv)| g / n as f64 + 2.0 * reg * wv)
            .collect();
        (loss / n as f64 + reg * wsq, dw)
    }

    /// Every micro-kernel shape (C = 1..40 covers all (CW, R) plans and the GEMM path), with N not a
    /// multiple of R, in f64 and f32, against the plain loops.
    /// Every instruction set this CPU can run (each selects other kernel paths).
    fn available_isas() -> Vec<Isa> {
        let best = isa();
        let mut v = vec![Isa::Portable];
        if matches!(best, Isa::Avx2Fma | Isa::Avx512) {
            v.push(Isa::Avx2Fma);
        }
        if best == Isa::Avx512 {
            v.push(Isa::Avx512);
        }
        v
    }

    /// Every kernel path (dot, padded at every (CW, R), GEMM: C = 1..40) on every instruction set
    /// available, with N not a multiple of any step, in f64 and f32, against the plain loops.
    fn all_widths<L: ScoreLoss>() {
        widths::<L>(37, 19, 1..=40);
        // D across several dot-kernel tiles (and a ragged tail), more than one group of samples
        widths::<L>(150, 613, [2, 10, 12, 13]);
    }

    fn widths<L: ScoreLoss>(n: usize, d: usize, cs: impl IntoIterator<Item = usize>) {
        let reg = 0.05;
        for c in cs {
            let (w, x, _) = data(n, d, c);
            let y: Vec<i64> = (0..n).map(|i| (i * 7 % c) as i64).collect();
            let (want_loss, want_dw) = naive::<L>(&w, &x, &y, n, d, c, reg);
            let (w32, x32): (Vec<f32>, Vec<f32>) = (
                w.iter().map(|&v| v as f32).collect(),
                x.iter().map(|&v| v as f32).collect(),
            );
            for isa in available_isas() {
                let mut dw = vec![0.0; d * c];
                let (wr, xr) = (Rows::new(&w, d, c).unwrap(), Rows::new(&x, n, d).unwrap());
                let loss = linear_loss_on::<f64, L>(isa, wr, xr, &y, None, reg, &mut dw).unwrap();
                let tol = |v: f64, t: f64| t * v.abs().max(1.0);
                assert!(
                    (loss - want_loss).abs() < tol(want_loss, 1e-12),
                    "{isa:?} C={c}: {loss} vs {want_loss}"
                );
                for (a, b) in dw.iter().zip(&want_dw) {
                    assert!((a - b).abs() < tol(*b, 1e-12), "{isa:?} C={c}: {a} vs {b}");
                }
                let mut dw32 = vec![0.0f32; d * c];
                let (wr, xr) = (Rows::new(&w32, d, c).unwrap(), Rows::new(&x32, n, d).unwrap());
                let loss32 = linear_loss_on::<f32, L>(isa, wr, xr, &y, None, reg as f32, &mut dw32).unwrap();
                assert!(
                    (loss32 - want_loss).abs() < tol(want_loss, 1e-4),
                    "{isa:?} f32 C={c}"
                );
                for (a, b) in dw32.iter().zip(&want_dw) {
                    assert!(
                        (*a as f64 - b).abs() < tol(*b, 1e-4),
                        "{isa:?} f32 C={c}: {a} vs {b}"
                    );
                }
            }
        }
    }

    #[test]
    fn hinge_every_width_matches_the_loops() {
        all_widths::<Hinge>();
    }

    #[test]
    fn loop_hinge_every_width_matches_the_loops() {
        all_widths::<HingeLoop>();
    }

    /// A sample whose scores are NaN adds nothing with the loop SVM (but still counts in N), on every
    /// kernel path: the same as leaving it out and rescaling by (N - 1) / N.
    #[test]
    fn loop_hinge_skips_a_nan_sample_like_the_loop() {
        let (n, d) = (45, 613);
        for c in [3, 10, 40] {
            let (w, x, _) = data(n, d, c);
            let y: Vec<i64> = (0..n).map(|i| (i * 7 % c) as i64).collect();
            let mut with_nan = x.clone();
            with_nan[5 * d + 17] = f64::NAN;
            let without: Vec<f64> = x[..5 * d].iter().chain(&x[6 * d..]).copied().collect();
            let y_without: Vec<i64> = y[..5].iter().chain(&y[6..]).copied().collect();
            let (want_loss, want_dw) = naive::<Hinge>(&w, &without, &y_without, n - 1, d, c, 0.0);
            let scale = (n - 1) as f64 / n as f64;
            for isa in available_isas() {
                let mut dw = vec![0.0; d * c];
                let (wr, xr) = (Rows::new(&w, d, c).unwrap(), Rows::new(&with_nan, n, d).unwrap());
                let loss = linear_loss_on::<f64, HingeLoop>(isa, wr, xr, &y, None, 0.0, &mut dw).unwrap();
                assert!((loss - want_loss * scale).abs() < 1e-12, "{isa:?} C={c}: {loss}");
                for (a, b) in dw.iter().zip(&want_dw) {
                    assert!(
                        (a - b * scale).abs() < 1e-12 * b.abs().max(1.0),
                        "{isa:?} C={c}: {a} vs {b}"
                    );
                }
                let mut dw = vec![0.0; d * c];
                let loss = linear_loss_on::<f64, Hinge>(isa, wr, xr, &y, None, 0.0, &mut dw).unwrap();
                assert!(loss.is_nan(), "the vectorized SVM propagates NaN");
            }
        }
    }

    #[test]
    fn softmax_every_width_matches_the_loops() {
        all_widths::<SoftmaxCrossEntropy>();
    }

    /// The transposed block of few classes gives `row`'s bits, NaN and inf rows included.
    fn narrow_block_is_row_by_row<T: Real>() {
        for c in 1..=SoftmaxCrossEntropy::NARROW + 2 {
            for n in [1usize, 63, 64, 65, 130] {
                let mut s: Vec<T> = (0..n * c)
                    .map(|i| T::of(((i as f64 + 0.5) * 0.613).sin() * 7.0))
                    .collect();
                if n > 2 {
                    s[c] = T::nan();
                    s[2 * c] = T::infinity();
                }
                let y: Vec<i64> = (0..n).map(|i| ((i * 7) % c) as i64).collect();
                let mut a = s.clone();
                let la = SoftmaxCrossEntropy::block(&mut a, c, &y);
                let mut b = s.clone();
                let lb = SoftmaxCrossEntropy::block_rows(&mut b, c, &y);
                assert_eq!(la.to_bits(), lb.to_bits(), "c={c} n={n}: loss {la} vs {lb}");
                let same = a
                    .iter()
                    .zip(&b)
                    .all(|(p, q)| p.wide().to_bits() == q.wide().to_bits());
                assert!(same, "c={c} n={n}: dx differs");
            }
        }
    }

    #[test]
    fn narrow_softmax_block_is_the_row_kernel_bit_for_bit() {
        narrow_block_is_row_by_row::<f64>();
        narrow_block_is_row_by_row::<f32>();
    }

    #[test]
    fn same_bits_for_any_thread_count() {
        let (n, d, c) = (1000, 70, 10);
        let (w, x, y) = data(n, d, c);
        let run = |t: usize| {
            crate::threads::set_num_threads(t).unwrap();
            let mut dw = vec![0.0; d * c];
            let l = linear_loss::<f64, SoftmaxCrossEntropy>(
                Rows::new(&w, d, c).unwrap(),
                Rows::new(&x, n, d).unwrap(),
                &y,
                None,
                0.1,
                &mut dw,
            )
            .unwrap();
            (l.to_bits(), dw.iter().map(|v| v.to_bits()).collect::<Vec<_>>())
        };
        let one = run(1);
        assert_eq!(one, run(2));
        assert_eq!(one, run(3));
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
        assert!(linear_loss::<f64, Hinge>(
            wr,
            Rows::new(&x, 4, 3).unwrap(),
            &[0, 1, 2, 0],
            None,
            0.0,
            &mut dw
        )
        .is_err());
        assert!(
            linear_loss::<f64, Hinge>(wr, Rows::new(&x, 0, 3).unwrap(), &[], None, 0.0, &mut dw).is_err()
        );
    }
}
