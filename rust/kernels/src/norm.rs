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
//!
//! The elementwise work runs in "runs": stretches of a row whose per-channel coefficients are either
//! one value per element (S = 1: a slice) or one value for the whole stretch (a channel of S > 1:
//! a scalar), through [`Coef`], so that one loop body serves both and vectorizes in both.

use crate::error::KernelError;
use crate::threads::{self, Disjoint as Out};
use crate::{KResult, Real, Rows};

/// Elements a parallel task should at least cover: handing a task to another thread costs about
/// 20 us on the development machine, the time these kernels take for some 20,000 elements.
const TASK_ELEMENTS: usize = 64 * 1024;

/// A per-channel coefficient along a run: a slice (one per element) or a scalar (the same for all).
trait Coef<T>: Copy {
    /// The first `n` coefficients (a slice is cut to `n`, once, so that `at(i)` for `i < n` needs
    /// no bounds check inside the loops and they vectorize).
    fn prefix(self, n: usize) -> Self;
    fn at(self, i: usize) -> T;
    /// Elements `i..i + 8`.
    fn chunk8(self, i: usize) -> [T; 8];
}
impl<T: Real> Coef<T> for T {
    #[inline(always)]
    fn prefix(self, _: usize) -> Self {
        self
    }
    #[inline(always)]
    fn at(self, _: usize) -> T {
        self
    }
    #[inline(always)]
    fn chunk8(self, _: usize) -> [T; 8] {
        [self; 8]
    }
}
impl<T: Real> Coef<T> for &[T] {
    #[inline(always)]
    fn prefix(self, n: usize) -> Self {
        &self[..n]
    }
    #[inline(always)]
    fn at(self, i: usize) -> T {
        self[i]
    }
    #[inline(always)]
    fn chunk8(self, i: usize) -> [T; 8] {
        self[i..i + 8].try_into().unwrap()
    }
}

/// Sum of `f(x_i, y_i, coef_i)` along a run with eight interleaved accumulators (vectorizes;
/// NumPy's pairwise summation also keeps eight).
#[inline(always)]
fn sum_run<T: Real>(x: &[T], y: &[T], coef: impl Coef<T>, f: impl Fn(T, T, T) -> T) -> T {
    let n = x.len().min(y.len());
    let (x, y) = (&x[..n], &y[..n]);
    let mut acc = [T::zero(); 8];
    for (j, (xs, ys)) in x.chunks_exact(8).zip(y.chunks_exact(8)).enumerate() {
        let cs = coef.chunk8(8 * j);
        for k in 0..8 {
            acc[k] += f(xs[k], ys[k], cs[k]);
        }
    }
    let mut tail = T::zero();
    for i in n / 8 * 8..n {
        tail += f(x[i], y[i], coef.at(i));
    }
    ((acc[0] + acc[1]) + (acc[2] + acc[3])) + ((acc[4] + acc[5]) + (acc[6] + acc[7])) + tail
}

/// x_hat = (x - mu) / std, as (x - mu) * (1 / std): a multiplication per element instead of a
/// division (within an ulp of the reference's division; the division was a third of the forward).
#[inline(always)]
fn x_hat<T: Real>(x: T, mu: T, inv_std: T) -> T {
    (x - mu) * inv_std
}

/// out = gamma * x_hat + beta along a run (`inv` = 1 / std).
#[inline(always)]
fn normalize_run<T: Real>(
    x: &[T],
    out: &mut [T],
    mu: impl Coef<T>,
    inv: impl Coef<T>,
    g: impl Coef<T>,
    b: impl Coef<T>,
) {
    let n = out.len().min(x.len());
    let (out, x) = (&mut out[..n], &x[..n]);
    let (mu, inv, g, b) = (mu.prefix(n), inv.prefix(n), g.prefix(n), b.prefix(n));
    for i in 0..n {
        out[i] = g.at(i) * x_hat(x[i], mu.at(i), inv.at(i)) + b.at(i);
    }
}

/// dx = (gamma * dout - mean_g - x_hat * mean_gx) / std along a run, with `inv` = 1 / std (the
/// backward passes multiply by it: one division per channel instead of per element).
#[allow(clippy::too_many_arguments)]
#[inline(always)]
fn dx_run<T: Real>(
    x: &[T],
    dout: &[T],
    dx: &mut [T],
    mu: impl Coef<T>,
    inv: impl Coef<T>,
    gamma: impl Coef<T>,
    mean_g: impl Coef<T>,
    mean_gx: impl Coef<T>,
) {
    let n = dx.len().min(x.len()).min(dout.len());
    let (dx, x, dout) = (&mut dx[..n], &x[..n], &dout[..n]);
    let (mu, inv, gamma) = (mu.prefix(n), inv.prefix(n), gamma.prefix(n));
    let (mean_g, mean_gx) = (mean_g.prefix(n), mean_gx.prefix(n));
    for i in 0..n {
        let (v, g, inv) = (x[i], dout[i], inv.at(i));
        dx[i] = (gamma.at(i) * g - mean_g.at(i) - (v - mu.at(i)) * inv * mean_gx.at(i)) * inv;
    }
}

/// (sum gamma * dout, sum gamma * dout * x_hat) along a run.
#[inline(always)]
fn gamma_sums<T: Real>(x: &[T], dout: &[T], gamma: impl Coef<T>, mu: T, inv: T) -> (T, T) {
    let g = sum_run(x, dout, gamma, |_, d, gm| gm * d);
    let gx = sum_run(x, dout, gamma, |v, d, gm| gm * d * ((v - mu) * inv));
    (g, gx)
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
    fn sized<T>(arg: &'static str, v: &[T], len: usize) -> KResult<()> {
        if v.len() != len {
            return Err(KernelError::shape(
                arg,
                format!("({len},)"),
                format!("({},)", v.len()),
            ));
        }
        Ok(())
    }
    fn per_channel<T>(&self, arg: &'static str, v: &[T]) -> KResult<()> {
        Self::sized(arg, v, self.c)
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

/// 1 / sqrt(var + eps) per statistic.
fn inv_std_of<T: Real>(var: &[T], eps: T) -> Vec<T> {
    var.iter().map(|&v| T::one() / (v + eps).sqrt()).collect()
}

/// Runs `f(c0, c1)` over fixed channel ranges in parallel (the ranges depend on the shape only).
#[inline(always)]
fn over_channels(sh: &NormShape, f: impl Fn(usize, usize) + Sync + Send) {
    let per_channel = (sh.n * sh.s).max(1);
    let step = (TASK_ELEMENTS / per_channel).max(1).div_ceil(8) * 8;
    threads::for_each_index(sh.c.div_ceil(step), |t| {
        crate::wide!({ f(t * step, ((t + 1) * step).min(sh.c)) })
    });
}

/// Runs `f(n)` for every sample in parallel, in fixed chunks of rows.
#[inline(always)]
fn over_rows(sh: &NormShape, f: impl Fn(usize) + Sync + Send) {
    let rows_per = (TASK_ELEMENTS / (sh.c * sh.s).max(1)).max(1);
    threads::for_each_index(sh.n.div_ceil(rows_per), |t| {
        crate::wide!({
            for n in t * rows_per..((t + 1) * rows_per).min(sh.n) {
                f(n)
            }
        })
    });
}

/// Channels of a register-held strip in [`channel_sums`]: 512 bytes (eight AVX-512 vectors).
const fn strip<T>() -> usize {
    512 / std::mem::size_of::<T>()
}

/// For channels c0..c1 of every row: `acc[c - c0] += sum_s term(x, y, c)` (rows in order, so a
/// column's sum is NumPy's `sum(axis=0)` order when S = 1). `term(x, y, mu, sd)` sees the channel's
/// `mean` and `std` (or zeros).
#[allow(clippy::too_many_arguments)]
#[inline(always)]
fn channel_sums<T: Real>(
    sh: &NormShape,
    x: &Rows<'_, T>,
    y: &Rows<'_, T>,
    c0: usize,
    c1: usize,
    stats: (&[T], &[T]),
    acc: &mut [T],
    term: impl Fn(T, T, T, T) -> T,
) {
    let s = sh.s;
    let (mu, sd) = (&stats.0[c0..c1], &stats.1[c0..c1]);
    if s == 1 {
        // Strips of STRIP channels: a strip's sums stay in registers while the rows go by (the
        // same additions in the same order as a row at a time, without a load and a store of
        // every sum for every row).
        let (w, mut j0) = (strip::<T>(), 0);
        while j0 + w <= acc.len() {
            let r = j0..j0 + w;
            let mut local: [T; 128] = [T::zero(); 128];
            let local = &mut local[..w];
            local.copy_from_slice(&acc[r.clone()]);
            let (m, d) = (&mu[r.clone()], &sd[r.clone()]);
            for n in 0..sh.n {
                let (xr, yr) = (&x.row(n)[c0 + j0..c0 + j0 + w], &y.row(n)[c0 + j0..c0 + j0 + w]);
                for ((((a, &v), &w), &mi), &di) in local.iter_mut().zip(xr).zip(yr).zip(m).zip(d) {
                    *a += term(v, w, mi, di);
                }
            }
            acc[r].copy_from_slice(local);
            j0 += w;
        }
        let (m, d) = (&mu[j0..acc.len()], &sd[j0..acc.len()]);
        for n in 0..sh.n {
            let (xr, yr) = (&x.row(n)[c0 + j0..c1], &y.row(n)[c0 + j0..c1]);
            for ((((a, &v), &w), &mi), &di) in acc[j0..].iter_mut().zip(xr).zip(yr).zip(m).zip(d) {
                *a += term(v, w, mi, di);
            }
        }
        return;
    }
    for n in 0..sh.n {
        let (xr, yr) = (&x.row(n)[c0 * s..c1 * s], &y.row(n)[c0 * s..c1 * s]);
        for (k, a) in acc.iter_mut().enumerate() {
            let (xs, ys) = (&xr[k * s..(k + 1) * s], &yr[k * s..(k + 1) * s]);
            let (m, d) = (mu[k], sd[k]);
            *a += sum_run(xs, ys, m, |v, w, _| term(v, w, m, d));
        }
    }
}

// ------------------------------------------------------------------------------------------------
// Channel norm: statistics per channel c over (n, s).
// ------------------------------------------------------------------------------------------------

/// Batch statistics: mean and biased variance per channel.
pub fn channel_moments<T: Real>(sh: NormShape, x: Rows<'_, T>, mean: &mut [T], var: &mut [T]) -> KResult<()> {
    sh.check(&x, "x")?;
    sh.per_channel("mean", mean)?;
    sh.per_channel("var", var)?;
    let count = T::of((sh.n * sh.s) as f64);
    let zeros = vec![T::zero(); sh.c];
    let (om, ov) = (Out::new(mean), Out::new(var));
    over_channels(
        &sh,
        #[inline(always)]
        |c0, c1| {
            // SAFETY: channels c0..c1 belong to this task.
            let (m, v) = unsafe { (om.part(c0, c1 - c0), ov.part(c0, c1 - c0)) };
            m.fill(T::zero());
            channel_sums(
                &sh,
                &x,
                &x,
                c0,
                c1,
                (&zeros, &zeros),
                m,
                #[inline(always)]
                |a, _, _, _| a,
            );
            for a in m.iter_mut() {
                *a /= count;
            }
            let mut mean_full = zeros.clone();
            mean_full[c0..c1].copy_from_slice(m);
            v.fill(T::zero());
            channel_sums(
                &sh,
                &x,
                &x,
                c0,
                c1,
                (&mean_full, &zeros),
                v,
                #[inline(always)]
                |a, _, mu, _| (a - mu) * (a - mu),
            );
            for a in v.iter_mut() {
                *a /= count;
            }
        },
    );
    Ok(())
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
    let inv = inv_std_of(var, eps);
    let (row_len, s, oo) = (sh.c * sh.s, sh.s, Out::new(out));
    over_rows(
        &sh,
        #[inline(always)]
        |n| {
            // SAFETY: row n belongs to this task.
            let (xr, o) = (x.row(n), unsafe { oo.part(n * row_len, row_len) });
            if s == 1 {
                normalize_run(xr, o, mean, &inv[..], gamma, beta);
            } else {
                for c in 0..sh.c {
                    let r = c * s..(c + 1) * s;
                    normalize_run(&xr[r.clone()], &mut o[r], mean[c], inv[c], gamma[c], beta[c]);
                }
            }
        },
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
    for (arg, v) in [
        ("mean", mean),
        ("var", var),
        ("gamma", gamma),
        ("dgamma", dgamma),
        ("dbeta", dbeta),
    ] {
        sh.per_channel(arg, v)?;
    }
    sh.whole("dx", dx)?;
    let inv_std: Vec<T> = inv_std_of(var, eps);
    let (og, ob) = (Out::new(dgamma), Out::new(dbeta));
    over_channels(
        &sh,
        #[inline(always)]
        |c0, c1| {
            // SAFETY: channels c0..c1 belong to this task.
            let (dg, db) = unsafe { (og.part(c0, c1 - c0), ob.part(c0, c1 - c0)) };
            dg.fill(T::zero());
            db.fill(T::zero());
            channel_sums(
                &sh,
                &dout,
                &dout,
                c0,
                c1,
                (mean, &inv_std),
                db,
                #[inline(always)]
                |g, _, _, _| g,
            );
            channel_sums(
                &sh,
                &x,
                &dout,
                c0,
                c1,
                (mean, &inv_std),
                dg,
                #[inline(always)]
                |v, g, mu, inv| g * ((v - mu) * inv),
            );
        },
    );
    // with g = gamma * dout: mean(g) = gamma * dbeta / M, mean(g x_hat) = gamma * dgamma / M
    let m = T::of((sh.n * sh.s) as f64);
    let mean_g: Vec<T> = dbeta.iter().zip(gamma).map(|(&b, &g)| g * b / m).collect();
    let mean_gx: Vec<T> = dgamma.iter().zip(gamma).map(|(&d, &g)| g * d / m).collect();
    let (row_len, s, od) = (sh.c * sh.s, sh.s, Out::new(dx));
    over_rows(
        &sh,
        #[inline(always)]
        |n| {
            // SAFETY: row n belongs to this task.
            let (xr, gr, d) = (x.row(n), dout.row(n), unsafe { od.part(n * row_len, row_len) });
            if s == 1 {
                dx_run(xr, gr, d, mean, &inv_std[..], gamma, &mean_g[..], &mean_gx[..]);
            } else {
                for c in 0..sh.c {
                    let r = c * s..(c + 1) * s;
                    let (xs, gs) = (&xr[r.clone()], &gr[r.clone()]);
                    dx_run(
                        xs, gs, &mut d[r], mean[c], inv_std[c], gamma[c], mean_g[c], mean_gx[c],
                    );
                }
            }
        },
    );
    Ok(())
}

// ------------------------------------------------------------------------------------------------
// Group norm: statistics per (n, g) over the C/G * S contiguous elements of the group.
// ------------------------------------------------------------------------------------------------

/// Checks of the group-norm arguments; returns the channels per group.
fn group_size(sh: &NormShape, groups: usize) -> KResult<usize> {
    if groups == 0 || !sh.c.is_multiple_of(groups) {
        return Err(KernelError::value(
            "G",
            format!(
                "the number of groups must divide the {} channels, got {groups}",
                sh.c
            ),
        ));
    }
    Ok(sh.c / groups)
}

/// Runs `run(range, channel_range)` over a group's elements: one run of the whole group when
/// S = 1 (coefficients per element), else one run per channel (scalar coefficients).
#[inline(always)]
fn group_runs(
    s: usize,
    cg: usize,
    base_c: usize,
    mut run: impl FnMut(std::ops::Range<usize>, Option<usize>),
) {
    if s == 1 {
        run(0..cg, None);
    } else {
        for k in 0..cg {
            run(k * s..(k + 1) * s, Some(base_c + k));
        }
    }
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
    let cg = group_size(&sh, groups)?;
    sh.check(&x, "x")?;
    sh.per_channel("gamma", gamma)?;
    sh.per_channel("beta", beta)?;
    sh.whole("out", out)?;
    NormShape::sized("mean", mean, sh.n * groups)?;
    NormShape::sized("var", var, sh.n * groups)?;
    let (s, len) = (sh.s, cg * sh.s);
    if len == 0 {
        mean.fill(T::nan());
        var.fill(T::nan());
        return Ok(());
    }
    let (om, ov, oo) = (Out::new(mean), Out::new(var), Out::new(out));
    let count = T::of(len as f64);
    over_rows(
        &sh,
        #[inline(always)]
        |n| {
            let xr = x.row(n);
            for g in 0..groups {
                let seg = &xr[g * len..(g + 1) * len];
                let mu = sum_run(seg, seg, T::zero(), |v, _, _| v) / count;
                let v = sum_run(seg, seg, mu, |a, _, m| (a - m) * (a - m)) / count;
                let inv = T::one() / (v + eps).sqrt();
                // SAFETY: row n (and its statistics) belong to this task.
                let o = unsafe {
                    om.part(n * groups + g, 1)[0] = mu;
                    ov.part(n * groups + g, 1)[0] = v;
                    oo.part(n * sh.c * s + g * len, len)
                };
                let (gs, bs) = (&gamma[g * cg..(g + 1) * cg], &beta[g * cg..(g + 1) * cg]);
                group_runs(
                    s,
                    cg,
                    g * cg,
                    #[inline(always)]
                    |r, c| match c {
                        None => normalize_run(&seg[r.clone()], &mut o[r], mu, inv, gs, bs),
                        Some(c) => normalize_run(&seg[r.clone()], &mut o[r], mu, inv, gamma[c], beta[c]),
                    },
                );
            }
        },
    );
    Ok(())
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
    let cg = group_size(&sh, groups)?;
    sh.check(&x, "x")?;
    sh.check(&dout, "dout")?;
    for (arg, v) in [("gamma", gamma), ("dgamma", &*dgamma), ("dbeta", &*dbeta)] {
        sh.per_channel(arg, v)?;
    }
    sh.whole("dx", dx)?;
    NormShape::sized("mean", mean, sh.n * groups)?;
    NormShape::sized("var", var, sh.n * groups)?;
    let (s, len) = (sh.s, cg * sh.s);
    let inv_std: Vec<T> = inv_std_of(var, eps);
    // dgamma, dbeta: per channel, samples added in order. Each sample has its own statistics, so
    // the statistic of (n, channel) is looked up per row.
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
                let mut c = c0;
                while c < c1 {
                    let g = c / cg;
                    let end = ((g + 1) * cg).min(c1);
                    let (mu, inv) = (mean[n * groups + g], inv_std[n * groups + g]);
                    let (xs, gs) = (&xr[c * s..end * s], &gr[c * s..end * s]);
                    let (dgk, dbk) = (&mut dg[c - c0..end - c0], &mut db[c - c0..end - c0]);
                    if s == 1 {
                        for (((a, b), &v), &w) in dgk.iter_mut().zip(dbk.iter_mut()).zip(xs).zip(gs) {
                            *b += w;
                            *a += w * ((v - mu) * inv);
                        }
                    } else {
                        for (k, (a, b)) in dgk.iter_mut().zip(dbk.iter_mut()).enumerate() {
                            let (xk, gk) = (&xs[k * s..(k + 1) * s], &gs[k * s..(k + 1) * s]);
                            *b += sum_run(gk, gk, T::zero(), |w, _, _| w);
                            *a += sum_run(xk, gk, T::zero(), |v, w, _| w * ((v - mu) * inv));
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
                let (mu, inv) = (mean[n * groups + g], inv_std[n * groups + g]);
                let (xs, gs) = (&xr[g * len..(g + 1) * len], &gr[g * len..(g + 1) * len]);
                let gamma_g = &gamma[g * cg..(g + 1) * cg];
                let (mut sum_g, mut sum_gx) = (T::zero(), T::zero());
                group_runs(
                    s,
                    cg,
                    g * cg,
                    #[inline(always)]
                    |r, c| {
                        let (xs, gs) = (&xs[r.clone()], &gs[r]);
                        let (a, b) = match c {
                            None => gamma_sums(xs, gs, gamma_g, mu, inv),
                            Some(c) => gamma_sums(xs, gs, gamma[c], mu, inv),
                        };
                        sum_g += a;
                        sum_gx += b;
                    },
                );
                let (mean_g, mean_gx) = (sum_g / count, sum_gx / count);
                // SAFETY: row n belongs to this task.
                let d = unsafe { odx.part(n * sh.c * s + g * len, len) };
                group_runs(
                    s,
                    cg,
                    g * cg,
                    #[inline(always)]
                    |r, c| {
                        let (xs, gs, d) = (&xs[r.clone()], &gs[r.clone()], &mut d[r]);
                        match c {
                            None => dx_run(xs, gs, d, mu, inv, gamma_g, mean_g, mean_gx),
                            Some(c) => dx_run(xs, gs, d, mu, inv, gamma[c], mean_g, mean_gx),
                        }
                    },
                );
            }
        },
    );
    Ok(())
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

    /// mean and biased variance per column, added row after row (NumPy's `sum(axis=0)` order).
    fn column_moments<T: Real>(x: &[T], n: usize, c: usize) -> (Vec<T>, Vec<T>) {
        let count = T::of(n as f64);
        let mut m = vec![T::zero(); c];
        for r in 0..n {
            for j in 0..c {
                m[j] += x[r * c + j];
            }
        }
        m.iter_mut().for_each(|a| *a /= count);
        let mut v = vec![T::zero(); c];
        for r in 0..n {
            for j in 0..c {
                v[j] += (x[r * c + j] - m[j]) * (x[r * c + j] - m[j]);
            }
        }
        v.iter_mut().for_each(|a| *a /= count);
        (m, v)
    }

    fn moments_are_the_row_order_sums<T: Real>() {
        // Widths below, at, around and across the register strip (64 f64 / 128 f32 channels),
        // and a row count that splits the channels into several tasks.
        for (n, c) in [
            (5, 1),
            (7, 63),
            (9, 64),
            (3, 65),
            (11, 129),
            (40, 300),
            (2000, 70),
        ] {
            let x: Vec<T> = data(n * c, 0.25).iter().map(|&v| T::of(v)).collect();
            let xr = Rows::new(&x, n, c).unwrap();
            let (mut m, mut v) = (vec![T::zero(); c], vec![T::zero(); c]);
            channel_moments(NormShape { n, c, s: 1 }, xr, &mut m, &mut v).unwrap();
            let (wm, wv) = column_moments(&x, n, c);
            let bits = |a: &[T], b: &[T]| {
                a.iter()
                    .zip(b)
                    .all(|(p, q)| p.wide().to_bits() == q.wide().to_bits())
            };
            assert!(bits(&m, &wm) && bits(&v, &wv), "n={n} c={c}");
        }
    }

    #[test]
    fn strip_sums_are_the_row_order_sums_bit_for_bit() {
        moments_are_the_row_order_sums::<f64>();
        moments_are_the_row_order_sums::<f32>();
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
