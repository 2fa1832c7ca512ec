//! Max pooling over (N, C, H, W) images (cs231n's `max_pool_*`): forward and backward.
//!
//! With a (ph, pw) window and stride s the output is (N, C, H', W'), H' = 1 + (H - ph) / s and
//! W' = 1 + (W - pw) / s (floored: rows and columns past the last window are ignored; their dx is 0).
//! Windows may overlap (s < ph or s < pw); their contributions to dx then add.
//!
//! x and dout may have any element strides (negative ones too); out and dx are C-ordered. The work
//! is split into fixed runs of (n, c) planes that depend on the shape only, and every plane is
//! computed by one task in a fixed order, so the bits do not depend on the thread count.

use crate::error::{checked_len, KernelError};
use crate::threads;
use crate::{KResult, Real};
use ndarray::{ArrayView4, Axis};
use std::marker::PhantomData;

/// Input elements a parallel task should at least cover: handing a task to another thread costs
/// about 20 us, the time these kernels take for some 30,000 elements.
const TASK_ELEMENTS: usize = 32 * 1024;

/// The pooling window and stride (cs231n's `pool_param`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct PoolShape {
    pub pool_height: usize,
    pub pool_width: usize,
    pub stride: usize,
}

/// Where the backward pass sends a window's gradient when several of its elements equal the max.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Ties {
    /// All of it to the first maximum in row-major window order, as `np.argmax` (cs231n's naive and
    /// im2col versions). A window holding NaN sends it to its first NaN, as `np.argmax` does.
    FirstMax,
    /// Split equally between the tied maxima, as cs231n's `max_pool_backward_reshape`:
    /// dx = (x == out) * dout / count. A window holding NaN has count 0 (NaN equals nothing), so
    /// every element of it gets 0 / 0 = NaN, as in the reference.
    SplitTies,
}

/// Sizes of one problem, checked.
#[derive(Clone, Copy, Debug)]
struct Geom {
    planes: usize,
    h: usize,
    w: usize,
    ph: usize,
    pw: usize,
    s: usize,
    ho: usize,
    wo: usize,
}

impl Geom {
    fn new(dims: [usize; 4], pool: PoolShape) -> KResult<Geom> {
        let [n, c, h, w] = dims;
        let PoolShape {
            pool_height: ph,
            pool_width: pw,
            stride: s,
        } = pool;
        for (arg, v) in [("pool_height", ph), ("pool_width", pw), ("stride", s)] {
            if v == 0 {
                return Err(KernelError::value(arg, "must be at least 1, got 0"));
            }
        }
        if ph > h {
            let msg = format!("the {ph}x{pw} pool window does not fit in the input's height H = {h}");
            return Err(KernelError::value("pool_height", msg));
        }
        if pw > w {
            let msg = format!("the {ph}x{pw} pool window does not fit in the input's width W = {w}");
            return Err(KernelError::value("pool_width", msg));
        }
        let (ho, wo) = (1 + (h - ph) / s, 1 + (w - pw) / s);
        let planes = checked_len(n, c, "the pooling output")?;
        checked_len(
            checked_len(planes, ho, "the pooling output")?,
            wo,
            "the pooling output",
        )?;
        checked_len(checked_len(planes, h, "dx")?, w, "dx")?;
        Ok(Geom {
            planes,
            h,
            w,
            ph,
            pw,
            s,
            ho,
            wo,
        })
    }

    fn out_len(&self) -> usize {
        self.planes * self.ho * self.wo
    }

    fn in_len(&self) -> usize {
        self.planes * self.h * self.w
    }

    /// Planes per parallel task (a function of the shape only).
    fn planes_per_task(&self) -> usize {
        (TASK_ELEMENTS / (self.h * self.w)).max(1)
    }

    fn is_2x2_stride_2(&self) -> bool {
        self.ph == 2 && self.pw == 2 && self.s == 2
    }
}

/// The output shape (N, C, H', W') of pooling an (N, C, H, W) input, or why it cannot be pooled.
pub fn output_shape(x_dims: [usize; 4], pool: PoolShape) -> KResult<[usize; 4]> {
    let g = Geom::new(x_dims, pool)?;
    Ok([x_dims[0], x_dims[1], g.ho, g.wo])
}

/// One (rows, w) plane read through contiguous rows `rs` elements apart (negative allowed).
#[derive(Clone, Copy)]
struct Plane<'s, T> {
    ptr: *const T,
    rs: isize,
    w: usize,
    _life: PhantomData<&'s [T]>,
}

impl<'s, T> Plane<'s, T> {
    #[inline(always)]
    fn row(&self, r: usize) -> &'s [T] {
        // SAFETY: `ptr` and `rs` describe rows of `w` readable elements (see `Planes::plane`),
        // alive for 's; callers only ask for rows of the plane.
        unsafe { std::slice::from_raw_parts(self.ptr.offset(r as isize * self.rs), self.w) }
    }
}

/// The (H, W) planes of a 4-D view with any strides.
struct Planes<'a, T> {
    v: ArrayView4<'a, T>,
}

impl<'a, T: Real> Planes<'a, T> {
    /// Plane `p` (= n * C + c): borrowed when its rows are contiguous, else copied into `scratch`.
    #[inline(always)]
    fn plane<'s>(&'s self, p: usize, scratch: &'s mut Vec<T>) -> Plane<'s, T> {
        let [_, c, h, w]: [usize; 4] = self.v.dim().into();
        let st = self.v.strides();
        let (n, c) = (p / c, p % c);
        if st[3] == 1 || w <= 1 {
            // SAFETY: (n, c) is inside the view, so the offset lands on its element (n, c, 0, 0).
            let ptr = unsafe { self.v.as_ptr().offset(n as isize * st[0] + c as isize * st[1]) };
            let rs = if h <= 1 { 0 } else { st[2] };
            return Plane {
                ptr,
                rs,
                w,
                _life: PhantomData,
            };
        }
        scratch.clear();
        scratch.extend(
            self.v
                .index_axis(Axis(0), n)
                .index_axis(Axis(0), c)
                .iter()
                .copied(),
        );
        Plane {
            ptr: scratch.as_ptr(),
            rs: w as isize,
            w,
            _life: PhantomData,
        }
    }
}

/// NumPy's maximum: the larger of the two, NaN if either is NaN (compiles to compare + blend).
#[inline(always)]
fn mx<T: Real>(a: T, b: T) -> T {
    if (a > b) | a.is_nan() {
        a
    } else {
        b
    }
}

/// 1 when `c` holds, else 0, in T.
#[inline(always)]
fn one_if<T: Real>(c: bool) -> T {
    if c {
        T::one()
    } else {
        T::zero()
    }
}

/// Max pooling forward:  out[n, c, i, j] = max_{a < ph, b < pw} x[n, c, i*s + a, j*s + b],
/// NaN propagating as `np.max`. `out` is C-ordered (N, C, H', W').
pub fn max_pool_forward<T: Real>(x: ArrayView4<'_, T>, pool: PoolShape, out: &mut [T]) -> KResult<()> {
    let g = Geom::new(x.dim().into(), pool)?;
    if out.len() != g.out_len() {
        return Err(KernelError::shape(
            "out",
            format!("{} elements (N * C * H' * W')", g.out_len()),
            format!("{}", out.len()),
        ));
    }
    if out.is_empty() {
        return Ok(());
    }
    let per_task = g.planes_per_task();
    let plane_out = g.ho * g.wo;
    let planes = Planes { v: x };
    threads::for_each_chunk_mut(out, per_task * plane_out, |t, part| {
        let mut scratch = Vec::new();
        for (k, o) in part.chunks_exact_mut(plane_out).enumerate() {
            let xp = planes.plane(t * per_task + k, &mut scratch);
            crate::wide!({ forward_plane(&g, xp, o) });
        }
    });
    Ok(())
}

#[inline(always)]
fn forward_plane<T: Real>(g: &Geom, x: Plane<'_, T>, out: &mut [T]) {
    let (s, wo) = (g.s, g.wo);
    if g.is_2x2_stride_2() {
        for (i, o) in out.chunks_exact_mut(wo).enumerate() {
            let (r0, r1) = (&x.row(2 * i)[..2 * wo], &x.row(2 * i + 1)[..2 * wo]);
            for ((o, a), b) in o.iter_mut().zip(r0.chunks_exact(2)).zip(r1.chunks_exact(2)) {
                *o = mx(mx(a[0], b[0]), mx(a[1], b[1]));
            }
        }
        return;
    }
    for (i, o) in out.chunks_exact_mut(wo).enumerate() {
        for a in 0..g.ph {
            let row = x.row(i * s + a);
            for b in 0..g.pw {
                let cols = row[b..].iter().step_by(s);
                if a == 0 && b == 0 {
                    o.iter_mut().zip(cols).for_each(|(o, &v)| *o = v);
                } else {
                    o.iter_mut().zip(cols).for_each(|(o, &v)| *o = mx(*o, v));
                }
            }
        }
    }
}

/// Max pooling backward: dx = sum over windows w of  route(w) * dout[w]  where route is the tie
/// rule's weights over the window's elements (FirstMax: 1 at the first maximum, or first NaN;
/// SplitTies: (x == max) / count). The max is recomputed from x. `dout` is (N, C, H', W') with
/// any strides; `dx` is C-ordered (N, C, H, W), every element written (0 outside all windows).
pub fn max_pool_backward<T: Real>(
    dout: ArrayView4<'_, T>,
    x: ArrayView4<'_, T>,
    pool: PoolShape,
    ties: Ties,
    dx: &mut [T],
) -> KResult<()> {
    let dims: [usize; 4] = x.dim().into();
    let g = Geom::new(dims, pool)?;
    let want = [dims[0], dims[1], g.ho, g.wo];
    let got: [usize; 4] = dout.dim().into();
    if got != want {
        return Err(KernelError::shape(
            "dout",
            format!("{want:?} (N, C, H', W')"),
            format!("{got:?}"),
        ));
    }
    if dx.len() != g.in_len() {
        return Err(KernelError::shape(
            "dx",
            format!("{} elements (the shape of x)", g.in_len()),
            format!("{}", dx.len()),
        ));
    }
    if dx.is_empty() {
        return Ok(());
    }
    let per_task = g.planes_per_task();
    let plane_in = g.h * g.w;
    let (xs, ds) = (Planes { v: x }, Planes { v: dout });
    threads::for_each_chunk_mut(dx, per_task * plane_in, |t, part| {
        let (mut x_scratch, mut d_scratch, mut buf) = (Vec::new(), Vec::new(), Vec::new());
        for (k, d) in part.chunks_exact_mut(plane_in).enumerate() {
            let p = t * per_task + k;
            let (xp, dp) = (xs.plane(p, &mut x_scratch), ds.plane(p, &mut d_scratch));
            crate::wide!({
                match (g.is_2x2_stride_2(), ties) {
                    (true, Ties::FirstMax) => backward_2x2_plane::<T, true>(&g, xp, dp, d, &mut buf),
                    (true, Ties::SplitTies) => backward_2x2_plane::<T, false>(&g, xp, dp, d, &mut buf),
                    (false, _) => backward_plane(&g, xp, dp, ties, d),
                }
            });
        }
    });
    Ok(())
}

/// The 2x2 stride-2 backward of one plane, in three passes per pair of rows so that each
/// vectorizes: split the rows into the four corners of the windows (a0 a1 / b0 b1, `buf`), turn
/// the corners into their gradients in place (branch-free), and interleave them into dx.
#[inline(always)]
fn backward_2x2_plane<T: Real, const FIRST: bool>(
    g: &Geom,
    x: Plane<'_, T>,
    dout: Plane<'_, T>,
    dx: &mut [T],
    buf: &mut Vec<T>,
) {
    let (w, wo) = (g.w, g.wo);
    let z = T::zero();
    buf.resize(4 * wo, z);
    let (ca, cb) = buf.split_at_mut(2 * wo);
    let (a0, a1) = ca.split_at_mut(wo);
    let (b0, b1) = cb.split_at_mut(wo);
    for i in 0..g.ho {
        let (r0, r1) = (&x.row(2 * i)[..2 * wo], &x.row(2 * i + 1)[..2 * wo]);
        let gr = &dout.row(i)[..wo];
        let corners = a0
            .iter_mut()
            .zip(a1.iter_mut())
            .zip(b0.iter_mut().zip(b1.iter_mut()));
        for (((p0, p1), (q0, q1)), (r, t)) in corners.zip(r0.chunks_exact(2).zip(r1.chunks_exact(2))) {
            (*p0, *p1, *q0, *q1) = (r[0], r[1], t[0], t[1]);
        }
        let corners = a0
            .iter_mut()
            .zip(a1.iter_mut())
            .zip(b0.iter_mut().zip(b1.iter_mut()));
        for (((p0, p1), (q0, q1)), &gv) in corners.zip(gr) {
            let (v0, v1, v2, v3) = (*p0, *p1, *q0, *q1);
            let m = mx(mx(v0, v2), mx(v1, v3));
            if FIRST {
                // np.argmax: the first element equal to the max, or the first NaN.
                let hit = |v: T| (v == m) | v.is_nan();
                let (h0, h1, h2) = (hit(v0), hit(v1), hit(v2));
                let v = z + gv;
                *p0 = if h0 { v } else { z };
                *p1 = if h1 & !h0 { v } else { z };
                *q0 = if h2 & !(h0 | h1) { v } else { z };
                *q1 = if !(h0 | h1 | h2) { v } else { z };
            } else {
                let (e0, e1, e2, e3) = (v0 == m, v1 == m, v2 == m, v3 == m);
                let count = (one_if::<T>(e0) + one_if::<T>(e1)) + (one_if::<T>(e2) + one_if::<T>(e3));
                // (mask ? dout : 0) / count, as the reference: 0 / 0 = NaN for a NaN window.
                let (q, zq) = (gv / count, z / count);
                *p0 = if e0 { q } else { zq };
                *p1 = if e1 { q } else { zq };
                *q0 = if e2 { q } else { zq };
                *q1 = if e3 { q } else { zq };
            }
        }
        let (d0, d1) = dx[2 * i * w..(2 * i + 2) * w].split_at_mut(w);
        let (d0, d0_rest) = d0.split_at_mut(2 * wo);
        let (d1, d1_rest) = d1.split_at_mut(2 * wo);
        let corners = a0.iter().zip(a1.iter()).zip(b0.iter().zip(b1.iter()));
        for (((p0, p1), (q0, q1)), (o0, o1)) in
            corners.zip(d0.chunks_exact_mut(2).zip(d1.chunks_exact_mut(2)))
        {
            (o0[0], o0[1], o1[0], o1[1]) = (*p0, *p1, *q0, *q1);
        }
        d0_rest.fill(z);
        d1_rest.fill(z);
    }
    dx[2 * g.ho * w..].fill(z);
}

/// The backward of one plane for any window and stride (windows may overlap: contributions add).
#[inline(always)]
fn backward_plane<T: Real>(g: &Geom, x: Plane<'_, T>, dout: Plane<'_, T>, ties: Ties, dx: &mut [T]) {
    let (w, s, ph, pw) = (g.w, g.s, g.ph, g.pw);
    let z = T::zero();
    let overlap = s < ph || s < pw;
    dx.fill(z);
    // Windows in reverse row-major order: an element's contributions then add in the order of its
    // offset inside the windows, as the reference's loop over offsets (and col2im's add.at) does.
    for i in (0..g.ho).rev() {
        let gr = dout.row(i);
        for (j, &gv) in gr[..g.wo].iter().enumerate().rev() {
            let (r0, c0) = (i * s, j * s);
            let window = |a: usize| &x.row(r0 + a)[c0..c0 + pw];
            match ties {
                Ties::FirstMax => {
                    // np.argmax over the window in row-major order (the first NaN wins).
                    let (mut best, mut at) = (window(0)[0], (0, 0));
                    'scan: for a in 0..ph {
                        for (b, &v) in window(a).iter().enumerate() {
                            if best.is_nan() {
                                break 'scan;
                            }
                            if v > best || v.is_nan() {
                                (best, at) = (v, (a, b));
                            }
                        }
                    }
                    dx[(r0 + at.0) * w + c0 + at.1] += gv;
                }
                Ties::SplitTies => {
                    let mut m = window(0)[0];
                    for a in 0..ph {
                        m = window(a).iter().fold(m, |m, &v| mx(m, v));
                    }
                    let mut count = z;
                    for a in 0..ph {
                        count += window(a).iter().fold(z, |c, &v| c + one_if::<T>(v == m));
                    }
                    let (q, zq) = (gv / count, z / count);
                    for a in 0..ph {
                        let d = &mut dx[(r0 + a) * w + c0..(r0 + a) * w + c0 + pw];
                        for (d, &v) in d.iter_mut().zip(window(a)) {
                            let share = if v == m { q } else { zq };
                            // the reference assigns (keeping the sign of a zero dout); overlaps add
                            *d = if overlap { *d + share } else { share };
                        }
                    }
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use ndarray::{s, Array4, ShapeBuilder};

    /// A small deterministic generator (64-bit LCG, top bits).
    struct Lcg(u64);
    impl Lcg {
        fn next(&mut self) -> u64 {
            self.0 = self
                .0
                .wrapping_mul(6364136223846793005)
                .wrapping_add(1442695040888963407);
            self.0 >> 33
        }
        fn below(&mut self, n: usize) -> usize {
            (self.next() % n as u64) as usize
        }
        /// Values on a coarse grid, so that windows often hold ties.
        fn coarse(&mut self) -> f64 {
            self.below(7) as f64 - 3.0
        }
        fn fine(&mut self) -> f64 {
            self.next() as f64 / (1u64 << 31) as f64 - 0.5
        }
    }

    fn array(dims: [usize; 4], rng: &mut Lcg, coarse: bool) -> Array4<f64> {
        Array4::from_shape_fn(dims, |_| if coarse { rng.coarse() } else { rng.fine() })
    }

    /// The plain-loop oracle: (out, dx) with the reference's formulas.
    fn oracle(x: &Array4<f64>, dout: &Array4<f64>, p: PoolShape, ties: Ties) -> (Array4<f64>, Array4<f64>) {
        let (n, c, h, w) = x.dim();
        let (ph, pw, s) = (p.pool_height, p.pool_width, p.stride);
        let (ho, wo) = (1 + (h - ph) / s, 1 + (w - pw) / s);
        let mut out = Array4::zeros((n, c, ho, wo));
        let mut dx = Array4::zeros((n, c, h, w));
        // windows in reverse order, so that overlapping contributions add in the reference's order
        let windows: Vec<_> = itertools_4(n, c, ho, wo).collect();
        for &(nn, cc, i, j) in windows.iter().rev() {
            let cells: Vec<(usize, usize, f64)> = (0..ph)
                .flat_map(|a| (0..pw).map(move |b| (a, b)))
                .map(|(a, b)| (i * s + a, j * s + b, x[[nn, cc, i * s + a, j * s + b]]))
                .collect();
            let m = if cells.iter().any(|c| c.2.is_nan()) {
                f64::NAN
            } else {
                cells.iter().map(|c| c.2).fold(f64::NEG_INFINITY, f64::max)
            };
            out[[nn, cc, i, j]] = m;
            let g = dout[[nn, cc, i, j]];
            match ties {
                Ties::FirstMax => {
                    let k = cells.iter().position(|c| c.2.is_nan() || c.2 == m).unwrap();
                    dx[[nn, cc, cells[k].0, cells[k].1]] += g;
                }
                Ties::SplitTies => {
                    let count = cells.iter().filter(|c| c.2 == m).count() as f64;
                    for &(r, q, v) in &cells {
                        dx[[nn, cc, r, q]] += (if v == m { g } else { 0.0 }) / count;
                    }
                }
            }
        }
        (out, dx)
    }

    fn itertools_4(
        n: usize,
        c: usize,
        ho: usize,
        wo: usize,
    ) -> impl Iterator<Item = (usize, usize, usize, usize)> {
        (0..n).flat_map(move |a| {
            (0..c).flat_map(move |b| (0..ho).flat_map(move |i| (0..wo).map(move |j| (a, b, i, j))))
        })
    }

    fn same_bits(a: &[f64], b: &[f64]) -> bool {
        a.len() == b.len()
            && a.iter()
                .zip(b)
                .all(|(p, q)| p.to_bits() == q.to_bits() || (p.is_nan() && q.is_nan()))
    }

    fn run(
        x: ArrayView4<'_, f64>,
        dout: ArrayView4<'_, f64>,
        p: PoolShape,
        ties: Ties,
    ) -> (Vec<f64>, Vec<f64>) {
        let [n, c, ho, wo] = output_shape(x.dim().into(), p).unwrap();
        let mut out = vec![f64::NAN; n * c * ho * wo];
        max_pool_forward(x, p, &mut out).unwrap();
        let mut dx = vec![f64::NAN; x.len()];
        max_pool_backward(dout, x, p, ties, &mut dx).unwrap();
        (out, dx)
    }

    fn check(x: &Array4<f64>, p: PoolShape, rng: &mut Lcg) {
        let [n, c, ho, wo] = output_shape(x.dim().into(), p).unwrap();
        let dout = array([n, c, ho, wo], rng, false);
        for ties in [Ties::FirstMax, Ties::SplitTies] {
            let (want_out, want_dx) = oracle(x, &dout, p, ties);
            let (out, dx) = run(x.view(), dout.view(), p, ties);
            let ctx = format!("{:?} {p:?} {ties:?}", x.dim());
            assert!(same_bits(&out, want_out.as_slice().unwrap()), "out {ctx}");
            assert!(same_bits(&dx, want_dx.as_slice().unwrap()), "dx {ctx}");
            // every layout gives the same bits: reversed axes, permuted storage, strided views
            let standard = |v: ArrayView4<'_, f64>| {
                let mut a = Array4::zeros(v.raw_dim());
                a.assign(&v);
                a
            };
            let rev = standard(x.slice(s![..;-1, .., ..;-1, ..;-1]));
            let back = rev.slice(s![..;-1, .., ..;-1, ..;-1]);
            let mut fortran = Array4::zeros(x.raw_dim().f());
            fortran.assign(x);
            let mut big = Array4::zeros((n, c, 2 * x.dim().2, 3 * x.dim().3));
            big.slice_mut(s![.., .., ..;2, ..;3]).assign(x);
            let dout_t = dout.view().permuted_axes([0, 1, 3, 2]).to_owned();
            let dout_back = dout_t.view().permuted_axes([0, 1, 3, 2]);
            let rows_rev = standard(x.slice(s![.., .., ..;-1, ..]));
            let rows_back = rows_rev.slice(s![.., .., ..;-1, ..]);
            let (h, w) = (x.dim().2, x.dim().3);
            assert!(h < 2 || w < 2 || (rows_back.strides()[2] < 0 && rows_back.strides()[3] == 1));
            let views = [back, rows_back, fortran.view(), big.slice(s![.., .., ..;2, ..;3])];
            for (k, v) in views.into_iter().enumerate() {
                let (o, d) = run(v, dout_back, p, ties);
                assert!(same_bits(&o, &out) && same_bits(&d, &dx), "layout {k} {ctx}");
            }
        }
    }

    #[test]
    fn matches_the_loop_oracle_on_random_shapes() {
        let mut rng = Lcg(7);
        for round in 0..300 {
            let (ph, pw, s) = (1 + rng.below(4), 1 + rng.below(4), 1 + rng.below(4));
            let h = ph + rng.below(9);
            let w = pw + rng.below(9);
            let (n, c) = (1 + rng.below(3), 1 + rng.below(3));
            let mut x = array([n, c, h, w], &mut rng, round % 2 == 0);
            for _ in 0..round % 3 {
                let at = [rng.below(n), rng.below(c), rng.below(h), rng.below(w)];
                x[at] = f64::NAN;
            }
            let p = PoolShape {
                pool_height: ph,
                pool_width: pw,
                stride: s,
            };
            check(&x, p, &mut rng);
        }
    }

    #[test]
    fn the_2x2_fast_path_matches_with_ties_remainders_and_nan() {
        let mut rng = Lcg(11);
        let p = PoolShape {
            pool_height: 2,
            pool_width: 2,
            stride: 2,
        };
        for (h, w) in [(2, 2), (4, 4), (5, 7), (8, 33), (3, 2)] {
            for coarse in [true, false] {
                let mut x = array([2, 3, h, w], &mut rng, coarse);
                check(&x, p, &mut rng);
                // NaN in some windows (and several NaN in one)
                x[[0, 0, 0, 0]] = f64::NAN;
                x[[1, 2, h - 1, w - 1]] = f64::NAN;
                x[[1, 1, 0, 1]] = f64::NAN;
                x[[1, 1, 1, 0]] = f64::NAN;
                check(&x, p, &mut rng);
            }
        }
    }

    #[test]
    fn nan_windows_follow_the_reference() {
        let x = Array4::from_shape_vec((1, 1, 2, 2), vec![1.0, f64::NAN, 3.0, f64::NAN]).unwrap();
        let dout = Array4::from_elem((1, 1, 1, 1), 2.0);
        for p in [(2, 2, 2), (2, 2, 1)] {
            let p = PoolShape {
                pool_height: p.0,
                pool_width: p.1,
                stride: p.2,
            };
            let (out, dx) = run(x.view(), dout.view(), p, Ties::FirstMax);
            assert!(out[0].is_nan());
            assert!(same_bits(&dx, &[0.0, 2.0, 0.0, 0.0]));
            let (_, dx) = run(x.view(), dout.view(), p, Ties::SplitTies);
            assert!(dx.iter().all(|v| v.is_nan()));
        }
    }

    #[test]
    fn ties_split_or_go_first() {
        let x = Array4::from_shape_vec((1, 1, 2, 2), vec![1.0, 5.0, 5.0, 5.0]).unwrap();
        let dout = Array4::from_elem((1, 1, 1, 1), 3.0);
        let p = PoolShape {
            pool_height: 2,
            pool_width: 2,
            stride: 2,
        };
        assert_eq!(
            run(x.view(), dout.view(), p, Ties::FirstMax).1,
            vec![0.0, 3.0, 0.0, 0.0]
        );
        assert_eq!(
            run(x.view(), dout.view(), p, Ties::SplitTies).1,
            vec![0.0, 1.0, 1.0, 1.0]
        );
    }

    #[test]
    fn f32_agrees_with_f64() {
        let mut rng = Lcg(5);
        for p in [(2, 2, 2), (3, 2, 1)] {
            let p = PoolShape {
                pool_height: p.0,
                pool_width: p.1,
                stride: p.2,
            };
            let x = array([2, 3, 7, 8], &mut rng, true);
            let [n, c, ho, wo] = output_shape([2, 3, 7, 8], p).unwrap();
            let dout = array([n, c, ho, wo], &mut rng, true);
            for ties in [Ties::FirstMax, Ties::SplitTies] {
                let (o64, d64) = run(x.view(), dout.view(), p, ties);
                let (x32, g32) = (x.mapv(|v| v as f32), dout.mapv(|v| v as f32));
                let mut o32 = vec![0f32; o64.len()];
                max_pool_forward(x32.view(), p, &mut o32).unwrap();
                let mut d32 = vec![0f32; d64.len()];
                max_pool_backward(g32.view(), x32.view(), p, ties, &mut d32).unwrap();
                assert!(o32.iter().zip(&o64).all(|(a, b)| *a == *b as f32));
                // overlapping windows sum shares of 1/count: rounding differs between the dtypes
                assert!(d32
                    .iter()
                    .zip(&d64)
                    .all(|(a, b)| (*a as f64 - b).abs() <= 1e-6 * b.abs()));
            }
        }
    }

    #[test]
    fn results_do_not_depend_on_the_thread_count() {
        let mut rng = Lcg(3);
        let x = array([8, 16, 32, 32], &mut rng, true); // 128K elements: several tasks
        for p in [(2, 2, 2), (3, 3, 2)] {
            let p = PoolShape {
                pool_height: p.0,
                pool_width: p.1,
                stride: p.2,
            };
            let [n, c, ho, wo] = output_shape([8, 16, 32, 32], p).unwrap();
            let dout = array([n, c, ho, wo], &mut rng, false);
            for ties in [Ties::FirstMax, Ties::SplitTies] {
                let mut results = Vec::new();
                for t in [1, 2, 3] {
                    crate::threads::set_num_threads(t).unwrap();
                    results.push(run(x.view(), dout.view(), p, ties));
                }
                for r in &results[1..] {
                    assert!(same_bits(&r.0, &results[0].0) && same_bits(&r.1, &results[0].1));
                }
            }
        }
    }

    #[test]
    fn bad_pools_and_shapes_are_errors() {
        let x = Array4::<f64>::zeros((2, 3, 4, 5));
        let p = |ph, pw, s| PoolShape {
            pool_height: ph,
            pool_width: pw,
            stride: s,
        };
        let mut out = vec![0.0; 2 * 3 * 2 * 2];
        let msg = |r: KResult<()>| r.unwrap_err().to_string();
        assert!(msg(max_pool_forward(x.view(), p(0, 2, 2), &mut out)).starts_with("pool_height:"));
        assert!(msg(max_pool_forward(x.view(), p(2, 0, 2), &mut out)).starts_with("pool_width:"));
        assert!(msg(max_pool_forward(x.view(), p(2, 2, 0), &mut out)).starts_with("stride:"));
        assert!(msg(max_pool_forward(x.view(), p(5, 2, 2), &mut out)).contains("height H = 4"));
        assert!(msg(max_pool_forward(x.view(), p(2, 6, 2), &mut out)).contains("width W = 5"));
        assert!(msg(max_pool_forward(x.view(), p(2, 2, 2), &mut out[..5])).starts_with("out:"));
        max_pool_forward(x.view(), p(2, 2, 2), &mut out).unwrap();
        let dout = Array4::<f64>::zeros((2, 3, 2, 3));
        let mut dx = vec![0.0; x.len()];
        let r = max_pool_backward(dout.view(), x.view(), p(2, 2, 2), Ties::FirstMax, &mut dx);
        assert!(msg(r).starts_with("dout:"));
        let dout = Array4::<f64>::zeros((2, 3, 2, 2));
        let r = max_pool_backward(dout.view(), x.view(), p(2, 2, 2), Ties::FirstMax, &mut dx[1..]);
        assert!(msg(r).starts_with("dx:"));
        // empty batches are fine
        let e = Array4::<f64>::zeros((0, 3, 4, 4));
        max_pool_forward(e.view(), p(2, 2, 2), &mut []).unwrap();
        let de = Array4::<f64>::zeros((0, 3, 2, 2));
        max_pool_backward(de.view(), e.view(), p(2, 2, 2), Ties::SplitTies, &mut []).unwrap();
    }
}
