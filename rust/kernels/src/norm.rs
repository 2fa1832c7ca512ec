//! Normalization layers: batch / spatial batch norm (statistics per channel) and layer / group norm
//! (statistics per sample and group). One pair of kernels per family; the layers are shapes of them:
//!
//! * channel norm, x seen as (N, C, S): batchnorm is S = 1, spatial batchnorm S = H * W.
//! * group norm, x seen as (N, G, C/G, S): layernorm is G = 1, S = 1 (C = D), spatial groupnorm S = H * W.
//!
//! In both, with M elements per statistic, mean mu and biased variance var (two passes, as NumPy's
//! `mean` and `var`), and gamma / beta per channel:
//!   forward:   x_hat = (x - mu) / sqrt(var + eps);   out = gamma * x_hat + beta
//!   backward:  dbeta_c = sum dout;  dgamma_c = sum dout * x_hat   (over everything but the channel)
//!              g = gamma * dout;  dx = (g - mean(g) - x_hat * mean(g * x_hat)) / sqrt(var + eps)
//!              (means over the M elements of x's statistic)

use crate::error::KernelError;
use crate::threads::{self, Disjoint as Out};
use crate::{KResult, Real, Rows};

/// Elements a parallel task should at least cover (smaller tasks cost more to hand out than to run).
const TASK_ELEMENTS: usize = 16 * 1024;

/// Sum of `f(i)` for `i < n` with eight interleaved accumulators (vectorizes; NumPy's pairwise
/// summation also keeps eight).
#[inline(always)]
fn sum_of<T: Real>(n: usize, f: impl Fn(usize) -> T) -> T {
    let mut acc = [T::zero(); 8];
    let full = n / 8 * 8;
    let mut i = 0;
    while i < full {
        for (k, a) in acc.iter_mut().enumerate() {
            *a += f(i + k);
        }
        i += 8;
    }
    let mut tail = T::zero();
    for j in full..n {
        tail += f(j);
    }
    ((acc[0] + acc[1]) + (acc[2] + acc[3])) + ((acc[4] + acc[5]) + (acc[6] + acc[7])) + tail
}

/// x seen as (N, C, S) or (N, G, C/G, S): the sizes and the checks of every argument.
#[derive(Clone, Copy, Debug)]
pub struct NormShape {
    pub n: usize,
    pub c: usize,
    pub s: usize,
}

impl NormShape {
    fn check<T>(&self, x: &Rows<'_, T>, arg: &'static str) -> KResult<()> {
        if x.nrows != self.n || x.ncols != self.c * self.s {
            return Err(KernelError::shape(
                arg,
                format!("({}, {})", self.n, self.c * self.s),
                x.shape_str(),
            ));
        }
        Ok(())
    }
    fn per_channel<T>(&self, arg: &'static str, v: &[T]) -> KResult<()> {
        if v.len() != self.c {
            return Err(KernelError::shape(
                arg,
                format!("({},)", self.c),
                format!("({},)", v.len()),
            ));
        }
        Ok(())
    }
    fn whole<T>(&self, arg: &'static str, v: &[T]) -> KResult<()> {
        if v.len() != self.n * self.c * self.s {
            return Err(KernelError::shape(
                arg,
                format!("{} elements", self.n * self.c * self.s),
                format!("{}", v.len()),
            ));
        }
        Ok(())
    }
}

/// `1 / sqrt(var + eps)` is never formed: x_hat divides by `sqrt(var + eps)` as the reference does.
#[inline(always)]
fn std_of<T: Real>(var: T, eps: T) -> T {
    (var + eps).sqrt()
}

// ------------------------------------------------------------------------------------------------
// Channel norm: statistics per channel c over (n, s).
// ------------------------------------------------------------------------------------------------

/// Channel ranges of the parallel tasks (fixed by the shape).
fn channel_tasks(sh: &NormShape) -> (usize, usize) {
    let per_channel = (sh.n * sh.s).max(1);
    let step = (TASK_ELEMENTS / per_channel).max(1);
    let step = if sh.s == 1 { step.div_ceil(8) * 8 } else { step };
    (step, sh.c.div_ceil(step))
}

/// Runs `f(c0, c1)` over fixed channel ranges in parallel.
#[inline(always)]
fn over_channels(sh: &NormShape, f: impl Fn(usize, usize) + Sync + Send) {
    let (step, tasks) = channel_tasks(sh);
    threads::for_each_index(tasks, |t| {
        crate::wide!({ f(t * step, ((t + 1) * step).min(sh.c)) })
    });
}

/// For channels `c0..c1`, `acc[c - c0] += sum_{n, s} term(n, c, x[n, c, s])` in (n, s) order.
/// `S1`: the statically known `s == 1` case, whose loop runs along contiguous channels.
#[inline(always)]
fn channel_sums<T: Real, const S1: bool>(
    sh: &NormShape,
    x: &Rows<'_, T>,
    c0: usize,
    c1: usize,
    acc: &mut [T],
    term: impl Fn(usize, usize, T) -> T,
) {
    let s = if S1 { 1 } else { sh.s };
    for n in 0..sh.n {
        let row = &x.row(n)[c0 * s..c1 * s];
        for (k, a) in acc.iter_mut().enumerate() {
            for v in &row[k * s..(k + 1) * s] {
                *a += term(n, c0 + k, *v);
            }
        }
    }
}

/// Batch statistics: mean and biased variance per channel.
pub fn channel_moments<T: Real>(sh: NormShape, x: Rows<'_, T>, mean: &mut [T], var: &mut [T]) -> KResult<()> {
    sh.check(&x, "x")?;
    sh.per_channel("mean", mean)?;
    sh.per_channel("var", var)?;
    let count = T::of((sh.n * sh.s) as f64);
    let (om, ov) = (Out::new(mean), Out::new(var));
    over_channels(
        &sh,
        #[inline(always)]
        |c0, c1| {
            let s1 = sh.s == 1;
            // SAFETY: channels c0..c1 belong to this task.
            let (m, v) = unsafe { (om.part(c0, c1 - c0), ov.part(c0, c1 - c0)) };
            m.fill(T::zero());
            v.fill(T::zero());
            if s1 {
                channel_sums::<T, true>(&sh, &x, c0, c1, m, |_, _, a| a);
            } else {
                channel_sums::<T, false>(&sh, &x, c0, c1, m, |_, _, a| a);
            }
            m.iter_mut().for_each(|a| *a /= count);
            let dev = |_: usize, c: usize, a: T| {
                let d = a - m[c - c0];
                d * d
            };
            if s1 {
                channel_sums::<T, true>(&sh, &x, c0, c1, v, dev);
            } else {
                channel_sums::<T, false>(&sh, &x, c0, c1, v, dev);
            }
            v.iter_mut().for_each(|a| *a /= count);
        },
    );
    Ok(())
}

/// Applies `out[n, c, s] = f(c, x[n, c, s], g[n, c, s])` over rows in parallel (out is C-ordered).
#[inline(always)]
fn channel_map<T: Real>(
    sh: &NormShape,
    x: &Rows<'_, T>,
    g: Option<&Rows<'_, T>>,
    out: &mut [T],
    f: impl Fn(usize, T, T) -> T + Sync + Send,
) {
    let row_len = sh.c * sh.s;
    if row_len == 0 {
        return;
    }
    let rows_per = (TASK_ELEMENTS / row_len).max(1);
    let s = sh.s;
    threads::for_each_chunk_mut(out, rows_per * row_len, |t, part| {
        crate::wide!({ channel_map_rows(&f, x, g, s, row_len, t * rows_per, part) })
    });
}

#[inline(always)]
fn channel_map_rows<T: Real>(
    f: &impl Fn(usize, T, T) -> T,
    x: &Rows<'_, T>,
    g: Option<&Rows<'_, T>>,
    s: usize,
    row_len: usize,
    first_row: usize,
    part: &mut [T],
) {
    {
        for (r, o) in part.chunks_mut(row_len).enumerate() {
            let n = first_row + r;
            let xr = x.row(n);
            let gr = g.map(|g| g.row(n));
            if s == 1 {
                for (c, (o, &v)) in o.iter_mut().zip(xr).enumerate() {
                    *o = f(c, v, gr.map_or(T::zero(), |g| g[c]));
                }
            } else {
                for (i, (o, &v)) in o.iter_mut().zip(xr).enumerate() {
                    *o = f(i / s, v, gr.map_or(T::zero(), |g| g[i]));
                }
            }
        }
    }
}

/// Normalizes with the given per-channel statistics (the batch's in training, the running ones in
/// test mode):  out = gamma * ((x - mean) / sqrt(var + eps)) + beta.
#[allow(clippy::too_many_arguments)]
pub fn channel_normalize<T: Real>(
    sh: NormShape,
    x: Rows<'_, T>,
    mean: &[T],
    var: &[T],
    eps: T,
    gamma: &[T],
    beta: &[T],
    out: &mut [T],
) -> KResult<()> {
    sh.check(&x, "x")?;
    for (arg, v) in [("mean", mean), ("var", var), ("gamma", gamma), ("beta", beta)] {
        sh.per_channel(arg, v)?;
    }
    sh.whole("out", out)?;
    let std: Vec<T> = var.iter().map(|&v| std_of(v, eps)).collect();
    channel_map(
        &sh,
        &x,
        None,
        out,
        #[inline(always)]
        |c, v, _| gamma[c] * ((v - mean[c]) / std[c]) + beta[c],
    );
    Ok(())
}

/// Backward of [`channel_normalize`] with batch statistics (`mean`, `var` from the forward pass).
#[allow(clippy::too_many_arguments)]
pub fn channel_norm_backward<T: Real>(
    sh: NormShape,
    dout: Rows<'_, T>,
    x: Rows<'_, T>,
    mean: &[T],
    var: &[T],
    eps: T,
    gamma: &[T],
    dx: &mut [T],
    dgamma: &mut [T],
    dbeta: &mut [T],
) -> KResult<()> {
    sh.check(&x, "x")?;
    sh.check(&dout, "dout")?;
    for (arg, v) in [("mean", mean), ("var", var), ("gamma", gamma)] {
        sh.per_channel(arg, v)?;
    }
    sh.per_channel("dgamma", dgamma)?;
    sh.per_channel("dbeta", dbeta)?;
    sh.whole("dx", dx)?;
    let std: Vec<T> = var.iter().map(|&v| std_of(v, eps)).collect();
    let (og, ob) = (Out::new(dgamma), Out::new(dbeta));
    over_channels(
        &sh,
        #[inline(always)]
        |c0, c1| {
            // SAFETY: channels c0..c1 belong to this task.
            let (dg, db) = unsafe { (og.part(c0, c1 - c0), ob.part(c0, c1 - c0)) };
            dg.fill(T::zero());
            db.fill(T::zero());
            let s = sh.s;
            for n in 0..sh.n {
                let (xr, gr) = (&x.row(n)[c0 * s..c1 * s], &dout.row(n)[c0 * s..c1 * s]);
                if s == 1 {
                    for k in 0..c1 - c0 {
                        let c = c0 + k;
                        db[k] += gr[k];
                        dg[k] += gr[k] * ((xr[k] - mean[c]) / std[c]);
                    }
                } else {
                    for k in 0..c1 - c0 {
                        let c = c0 + k;
                        for i in k * s..(k + 1) * s {
                            db[k] += gr[i];
                            dg[k] += gr[i] * ((xr[i] - mean[c]) / std[c]);
                        }
                    }
                }
            }
        },
    );
    let m = T::of((sh.n * sh.s) as f64);
    // dx = gamma / std * (dout - dbeta / M - x_hat * dgamma / M)
    let mean_g: Vec<T> = dbeta.iter().map(|&b| b / m).collect();
    let mean_gx: Vec<T> = dgamma.iter().map(|&g| g / m).collect();
    let scale: Vec<T> = gamma.iter().zip(&std).map(|(&g, &s)| g / s).collect();
    channel_map(
        &sh,
        &x,
        Some(&dout),
        dx,
        #[inline(always)]
        |c, v, g| {
            let xh = (v - mean[c]) / std[c];
            scale[c] * (g - mean_g[c] - xh * mean_gx[c])
        },
    );
    Ok(())
}

// ------------------------------------------------------------------------------------------------
// Group norm: statistics per (n, g) over the C/G * S contiguous elements of the group.
// ------------------------------------------------------------------------------------------------

/// Checks of the group-norm arguments; returns the group size L = C/G * S.
fn group_len(sh: &NormShape, groups: usize) -> KResult<usize> {
    if groups == 0 || !sh.c.is_multiple_of(groups) {
        return Err(KernelError::value(
            "G",
            format!(
                "the number of groups must divide the {} channels, got {groups}",
                sh.c
            ),
        ));
    }
    Ok(sh.c / groups * sh.s)
}

/// Per-(n, g) mean and biased variance (`mean`, `var` of length N * G) and the normalized output.
#[allow(clippy::too_many_arguments)]
pub fn group_norm_forward<T: Real>(
    sh: NormShape,
    groups: usize,
    x: Rows<'_, T>,
    eps: T,
    gamma: &[T],
    beta: &[T],
    out: &mut [T],
    mean: &mut [T],
    var: &mut [T],
) -> KResult<()> {
    let len = group_len(&sh, groups)?;
    sh.check(&x, "x")?;
    sh.per_channel("gamma", gamma)?;
    sh.per_channel("beta", beta)?;
    sh.whole("out", out)?;
    for (arg, v) in [("mean", &*mean), ("var", &*var)] {
        if v.len() != sh.n * groups {
            return Err(KernelError::shape(
                arg,
                format!("({},)", sh.n * groups),
                format!("({},)", v.len()),
            ));
        }
    }
    if len == 0 {
        mean.fill(T::nan());
        var.fill(T::nan());
        return Ok(());
    }
    let (om, ov, oo) = (Out::new(mean), Out::new(var), Out::new(out));
    let (s, count) = (sh.s, T::of(len as f64));
    over_rows(
        &sh,
        #[inline(always)]
        |n| {
            let xr = x.row(n);
            for g in 0..groups {
                let seg = &xr[g * len..(g + 1) * len];
                let mu = sum_of(len, |i| seg[i]) / count;
                let v = sum_of(len, |i| (seg[i] - mu) * (seg[i] - mu)) / count;
                let std = std_of(v, eps);
                // SAFETY: row n (and its statistics) belong to this task.
                unsafe {
                    om.part(n * groups + g, 1)[0] = mu;
                    ov.part(n * groups + g, 1)[0] = v;
                    let o = oo.part(n * sh.c * s + g * len, len);
                    let c0 = g * (sh.c / groups);
                    for_channels(s, o, seg, c0, |c, o, v| {
                        *o = gamma[c] * ((v - mu) / std) + beta[c]
                    });
                }
            }
        },
    );
    Ok(())
}

/// Runs `f(n)` for every sample in parallel, in fixed chunks of rows.
#[inline(always)]
fn over_rows(sh: &NormShape, f: impl Fn(usize) + Sync + Send) {
    let rows_per = (TASK_ELEMENTS / (sh.c * sh.s).max(1)).max(1);
    threads::for_each_index(sh.n.div_ceil(rows_per), |t| {
        crate::wide!({ (t * rows_per..((t + 1) * rows_per).min(sh.n)).for_each(&f) })
    });
}

/// `f(channel, out_elem, x_elem)` along one group's elements (channel = c0 + i / s).
#[inline(always)]
fn for_channels<T: Real>(s: usize, out: &mut [T], seg: &[T], c0: usize, f: impl Fn(usize, &mut T, T)) {
    if s == 1 {
        for (i, (o, &v)) in out.iter_mut().zip(seg).enumerate() {
            f(c0 + i, o, v);
        }
    } else {
        for (i, (o, &v)) in out.iter_mut().zip(seg).enumerate() {
            f(c0 + i / s, o, v);
        }
    }
}

/// Backward of [`group_norm_forward`] (`mean`, `var` from it).
#[allow(clippy::too_many_arguments)]
pub fn group_norm_backward<T: Real>(
    sh: NormShape,
    groups: usize,
    dout: Rows<'_, T>,
    x: Rows<'_, T>,
    mean: &[T],
    var: &[T],
    eps: T,
    gamma: &[T],
    dx: &mut [T],
    dgamma: &mut [T],
    dbeta: &mut [T],
) -> KResult<()> {
    let len = group_len(&sh, groups)?;
    sh.check(&x, "x")?;
    sh.check(&dout, "dout")?;
    sh.per_channel("gamma", gamma)?;
    sh.per_channel("dgamma", dgamma)?;
    sh.per_channel("dbeta", dbeta)?;
    sh.whole("dx", dx)?;
    for (arg, v) in [("mean", mean), ("var", var)] {
        if v.len() != sh.n * groups {
            return Err(KernelError::shape(
                arg,
                format!("({},)", sh.n * groups),
                format!("({},)", v.len()),
            ));
        }
    }
    let s = sh.s;
    let cg = sh.c / groups.max(1);
    let std: Vec<T> = var.iter().map(|&v| std_of(v, eps)).collect();
    // dgamma, dbeta: sums over samples per channel, rows added in order (channel tasks).
    let (og, ob) = (Out::new(dgamma), Out::new(dbeta));
    over_channels(
        &sh,
        #[inline(always)]
        |c0, c1| {
            // SAFETY: channels c0..c1 belong to this task.
            let (dg, db) = unsafe { (og.part(c0, c1 - c0), ob.part(c0, c1 - c0)) };
            dg.fill(T::zero());
            db.fill(T::zero());
            for n in 0..sh.n {
                let (xr, gr) = (x.row(n), dout.row(n));
                // the groups that channels c0..c1 overlap, each with its own statistics
                let mut c = c0;
                while c < c1 {
                    let g = c / cg;
                    let end = ((g + 1) * cg).min(c1);
                    let (mu, sd) = (mean[n * groups + g], std[n * groups + g]);
                    let (dgk, dbk) = (&mut dg[c - c0..end - c0], &mut db[c - c0..end - c0]);
                    let (xs, gs) = (&xr[c * s..end * s], &gr[c * s..end * s]);
                    if s == 1 {
                        for (k, (&xv, &gv)) in xs.iter().zip(gs).enumerate() {
                            dbk[k] += gv;
                            dgk[k] += gv * ((xv - mu) / sd);
                        }
                    } else {
                        for (k, (xc, gc)) in xs.chunks_exact(s).zip(gs.chunks_exact(s)).enumerate() {
                            for (&xv, &gv) in xc.iter().zip(gc) {
                                dbk[k] += gv;
                                dgk[k] += gv * ((xv - mu) / sd);
                            }
                        }
                    }
                    c = end;
                }
            }
        },
    );
    if len == 0 {
        return Ok(());
    }
    // dx per (n, g): g = gamma * dout;  dx = (g - mean(g) - x_hat * mean(g * x_hat)) / std
    let odx = Out::new(dx);
    let count = T::of(len as f64);
    over_rows(
        &sh,
        #[inline(always)]
        |n| {
            let (xr, gr) = (x.row(n), dout.row(n));
            for g in 0..groups {
                let st = (mean[n * groups + g], std[n * groups + g]);
                let span = g * len..(g + 1) * len;
                let gam = &gamma[g * cg..(g + 1) * cg];
                // SAFETY: row n belongs to this task.
                let d = unsafe { odx.part(n * sh.c * s + g * len, len) };
                if s == 1 {
                    group_dx::<T, true>(1, &xr[span.clone()], &gr[span], gam, st, count, d);
                } else {
                    group_dx::<T, false>(s, &xr[span.clone()], &gr[span], gam, st, count, d);
                }
            }
        },
    );
    Ok(())
}

/// dx of one group: with g = gamma * dout,  dx = (g - mean(g) - x_hat * mean(g * x_hat)) / std.
#[inline(always)]
fn group_dx<T: Real, const S1: bool>(
    s: usize,
    xs: &[T],
    gs: &[T],
    gamma: &[T],
    (mu, sd): (T, T),
    count: T,
    dx: &mut [T],
) {
    let s = if S1 { 1 } else { s };
    let gam = |i: usize| gamma[if S1 { i } else { i / s }];
    let xh = |i: usize| (xs[i] - mu) / sd;
    let mean_g = sum_of(xs.len(), |i| gam(i) * gs[i]) / count;
    let mean_gx = sum_of(xs.len(), |i| gam(i) * gs[i] * xh(i)) / count;
    for (i, o) in dx.iter_mut().enumerate() {
        *o = (gam(i) * gs[i] - mean_g - xh(i) * mean_gx) / sd;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn data(n: usize, seed: f64) -> Vec<f64> {
        (0..n)
            .map(|i| ((i as f64 + seed) * 0.731).sin() * 3.0 + 1.0)
            .collect()
    }

    /// Loss  sum(out * w)  for a fixed w: its numeric gradient checks the backward pass.
    fn channel_loss(sh: NormShape, x: &[f64], gamma: &[f64], beta: &[f64], w: &[f64]) -> f64 {
        let xr = Rows::new(x, sh.n, sh.c * sh.s).unwrap();
        let (mut m, mut v) = (vec![0.0; sh.c], vec![0.0; sh.c]);
        channel_moments(sh, xr, &mut m, &mut v).unwrap();
        let mut out = vec![0.0; x.len()];
        channel_normalize(sh, xr, &m, &v, 1e-5, gamma, beta, &mut out).unwrap();
        out.iter().zip(w).map(|(a, b)| a * b).sum()
    }

    fn group_loss(sh: NormShape, g: usize, x: &[f64], gamma: &[f64], beta: &[f64], w: &[f64]) -> f64 {
        let xr = Rows::new(x, sh.n, sh.c * sh.s).unwrap();
        let (mut m, mut v) = (vec![0.0; sh.n * g], vec![0.0; sh.n * g]);
        let mut out = vec![0.0; x.len()];
        group_norm_forward(sh, g, xr, 1e-5, gamma, beta, &mut out, &mut m, &mut v).unwrap();
        out.iter().zip(w).map(|(a, b)| a * b).sum()
    }

    fn numeric(f: impl Fn(&[f64]) -> f64, x: &[f64]) -> Vec<f64> {
        let h = 1e-6;
        (0..x.len())
            .map(|i| {
                let (mut a, mut b) = (x.to_vec(), x.to_vec());
                a[i] += h;
                b[i] -= h;
                (f(&a) - f(&b)) / (2.0 * h)
            })
            .collect()
    }

    fn assert_near(a: &[f64], b: &[f64]) {
        for (x, y) in a.iter().zip(b) {
            assert!((x - y).abs() <= 1e-6 * (1.0 + y.abs()), "{x} vs {y}");
        }
    }

    #[test]
    fn channel_norm_gradients_are_right() {
        for sh in [NormShape { n: 6, c: 5, s: 1 }, NormShape { n: 3, c: 4, s: 3 }] {
            let len = sh.n * sh.c * sh.s;
            let (x, w) = (data(len, 0.0), data(len, 9.0));
            let (gamma, beta) = (data(sh.c, 3.0), data(sh.c, 5.0));
            let xr = Rows::new(&x, sh.n, sh.c * sh.s).unwrap();
            let (mut m, mut v) = (vec![0.0; sh.c], vec![0.0; sh.c]);
            channel_moments(sh, xr, &mut m, &mut v).unwrap();
            let (mut dx, mut dg, mut db) = (vec![0.0; len], vec![0.0; sh.c], vec![0.0; sh.c]);
            let wr = Rows::new(&w, sh.n, sh.c * sh.s).unwrap();
            channel_norm_backward(sh, wr, xr, &m, &v, 1e-5, &gamma, &mut dx, &mut dg, &mut db).unwrap();
            assert_near(&dx, &numeric(|x| channel_loss(sh, x, &gamma, &beta, &w), &x));
            assert_near(&dg, &numeric(|g| channel_loss(sh, &x, g, &beta, &w), &gamma));
            assert_near(&db, &numeric(|b| channel_loss(sh, &x, &gamma, b, &w), &beta));
        }
    }

    #[test]
    fn group_norm_gradients_are_right() {
        for (sh, g) in [
            (NormShape { n: 4, c: 7, s: 1 }, 1),
            (NormShape { n: 2, c: 6, s: 4 }, 3),
        ] {
            let len = sh.n * sh.c * sh.s;
            let (x, w) = (data(len, 1.0), data(len, 7.0));
            let (gamma, beta) = (data(sh.c, 2.0), data(sh.c, 4.0));
            let xr = Rows::new(&x, sh.n, sh.c * sh.s).unwrap();
            let (mut m, mut v) = (vec![0.0; sh.n * g], vec![0.0; sh.n * g]);
            let mut out = vec![0.0; len];
            group_norm_forward(sh, g, xr, 1e-5, &gamma, &beta, &mut out, &mut m, &mut v).unwrap();
            let (mut dx, mut dg, mut db) = (vec![0.0; len], vec![0.0; sh.c], vec![0.0; sh.c]);
            let wr = Rows::new(&w, sh.n, sh.c * sh.s).unwrap();
            group_norm_backward(sh, g, wr, xr, &m, &v, 1e-5, &gamma, &mut dx, &mut dg, &mut db).unwrap();
            assert_near(&dx, &numeric(|x| group_loss(sh, g, x, &gamma, &beta, &w), &x));
            assert_near(&dg, &numeric(|gm| group_loss(sh, g, &x, gm, &beta, &w), &gamma));
            assert_near(&db, &numeric(|b| group_loss(sh, g, &x, &gamma, b, &w), &beta));
        }
    }

    #[test]
    fn results_do_not_depend_on_the_thread_count() {
        let sh = NormShape { n: 64, c: 700, s: 1 };
        let x = data(sh.n * sh.c, 0.5);
        let xr = Rows::new(&x, sh.n, sh.c).unwrap();
        let run = || {
            let (mut m, mut v) = (vec![0.0; sh.c], vec![0.0; sh.c]);
            channel_moments(sh, xr, &mut m, &mut v).unwrap();
            let (mut gm, mut gv, mut out) = (vec![0.0; sh.n], vec![0.0; sh.n], vec![0.0; x.len()]);
            let ones = vec![1.0; sh.c];
            group_norm_forward(sh, 1, xr, 1e-5, &ones, &ones, &mut out, &mut gm, &mut gv).unwrap();
            [m, v, gm, gv, out].concat()
        };
        crate::threads::set_num_threads(1).unwrap();
        let a = run();
        crate::threads::set_num_threads(3).unwrap();
        let b = run();
        assert!(a.iter().zip(&b).all(|(p, q)| p.to_bits() == q.to_bits()));
    }

    #[test]
    fn bad_groups_and_shapes_are_errors() {
        let x = vec![0.0f64; 12];
        let xr = Rows::new(&x, 2, 6).unwrap();
        let sh = NormShape { n: 2, c: 6, s: 1 };
        let (mut o, mut m, mut v) = (vec![0.0; 12], vec![0.0; 8], vec![0.0; 8]);
        let e = group_norm_forward(sh, 4, xr, 1e-5, &[1.0; 6], &[0.0; 6], &mut o, &mut m, &mut v);
        assert!(e.unwrap_err().to_string().starts_with("G:"));
        let e = channel_moments(sh, xr, &mut [0.0; 5], &mut [0.0; 6]);
        assert!(e.unwrap_err().to_string().starts_with("mean:"));
    }
}
