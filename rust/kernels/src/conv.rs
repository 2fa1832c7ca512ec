//! Convolution over images x (N, C, H, W) with filters w (F, C, HH, WW), bias b (F,), one stride `s`
//! and zero padding `p` on every side (cs231n's `conv_param`):
//!
//!   out[n, f, i, j] = b[f] + sum_{c, u, v} w[f, c, u, v] * xpad[n, c, i*s + u, j*s + v]
//!   H' = 1 + (H + 2p - HH) / s (floored),   W' likewise,   P = H' * W'
//!
//! As matrices, per image, with K = C * HH * WW and cols = im2col(x[n]) of shape (K, P):
//!   forward:   out[n] (F, P)  = w (F, K) cols + b
//!   backward:  dw (F, K)     += dout[n] (F, P) cols^T          (summed over n)
//!              db (F,)       += sum_P dout[n]
//!              dx[n]          = col2im(w^T (K, F) dout[n] (F, P))
//!
//! Images run in parallel, each with its columns in a per-thread scratch buffer that stays in cache
//! for its GEMMs (never a whole-batch im2col matrix). dw and db are summed per fixed block of images
//! (blocks set by N alone), then over the blocks in order: bit-identical for any thread count.
//! A 1x1 convolution with stride 1 and no padding skips im2col: x[n] is already (C, P).

use crate::error::{checked_len, try_zeros, KernelError};
use crate::matmul::{gemm, Operand};
use crate::matmul_small::gemm_short_k;
use crate::threads::{self, Disjoint};
use crate::{KResult, Real};
use ndarray::ArrayView4;
use std::cell::RefCell;

/// Multiply-adds below which a convolution runs on the calling thread (a hand-off costs ~20 us).
const MIN_PARALLEL_WORK: usize = 1 << 18;
/// dw and db are accumulated over at most this many blocks of images before the final sum.
const MAX_BLOCKS: usize = 16;

/// The shapes of one convolution, validated.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ConvGeom {
    pub n: usize,
    pub c: usize,
    pub h: usize,
    pub w: usize,
    pub f: usize,
    pub kh: usize,
    pub kw: usize,
    pub stride: usize,
    pub pad: usize,
    pub ho: usize,
    pub wo: usize,
}

/// 1 + (size + 2 pad - k) / stride, or an error naming the dimension when no window fits.
fn out_size(size: usize, k: usize, pad: usize, stride: usize, dim: &'static str) -> KResult<usize> {
    let padded = pad
        .checked_mul(2)
        .and_then(|p| p.checked_add(size))
        .ok_or_else(|| KernelError::value("pad", format!("the padded size {size} + 2 * {pad} overflows")))?;
    if padded < k {
        return Err(KernelError::value(
            dim,
            format!(
                "the filter ({k}) is larger than the padded input ({size} + 2 * {pad} = {padded}): \
                 the output would be empty"
            ),
        ));
    }
    Ok(1 + (padded - k) / stride)
}

impl ConvGeom {
    /// Geometry of x (N, C, H, W) convolved with w (F, C, HH, WW).
    pub fn new(x: [usize; 4], w: [usize; 4], stride: usize, pad: usize) -> KResult<Self> {
        if stride == 0 {
            return Err(KernelError::value(
                "stride",
                "expected a stride of at least 1, got 0",
            ));
        }
        if w[1] != x[1] {
            return Err(KernelError::shape(
                "w",
                format!("(F, {}, HH, WW) (C of x)", x[1]),
                format!("{:?}", w),
            ));
        }
        if w[2] == 0 || w[3] == 0 {
            return Err(KernelError::shape(
                "w",
                "filters of at least 1x1",
                format!("{:?}", w),
            ));
        }
        let ho = out_size(x[2], w[2], pad, stride, "height")?;
        let wo = out_size(x[3], w[3], pad, stride, "width")?;
        let g = ConvGeom {
            n: x[0],
            c: x[1],
            h: x[2],
            w: x[3],
            f: w[0],
            kh: w[2],
            kw: w[3],
            stride,
            pad,
            ho,
            wo,
        };
        // Every array a kernel allocates or indexes must fit in memory's address range.
        let arrays: [(&str, &[usize]); 4] = [
            ("the image columns", &[g.c, g.kh, g.kw, g.ho, g.wo]),
            ("the output", &[g.n, g.f, g.ho, g.wo]),
            ("dx", &[g.n, g.c, g.h, g.w]),
            ("dw", &[g.f, g.c, g.kh, g.kw]),
        ];
        for (what, dims) in arrays {
            let total = dims.iter().try_fold(1usize, |a, &d| a.checked_mul(d));
            if total.is_none_or(|t| t > isize::MAX as usize / 8) {
                return Err(KernelError::value(
                    "conv_param",
                    format!("{what} would have shape {dims:?}, too large to index"),
                ));
            }
        }
        Ok(g)
    }
    /// Rows of the column matrix: C * HH * WW.
    pub fn k(&self) -> usize {
        self.c * self.kh * self.kw
    }
    /// Output pixels per image: H' * W'.
    pub fn p(&self) -> usize {
        self.ho * self.wo
    }
    /// Multiply-adds of one of the three products.
    fn work(&self) -> usize {
        self.n
            .saturating_mul(self.f)
            .saturating_mul(self.k())
            .saturating_mul(self.p())
    }
    /// 1x1 filter, stride 1, no padding: the columns are the image itself.
    fn pointwise(&self) -> bool {
        self.kh == 1 && self.kw == 1 && self.stride == 1 && self.pad == 0
    }
    fn out_shape(&self) -> String {
        format!("({}, {}, {}, {})", self.n, self.f, self.ho, self.wo)
    }
}

/// The output positions `o` whose input position `o * stride + off - pad` lies in `0..size`.
#[inline]
fn valid_range(g: &ConvGeom, off: usize, size: usize, out: usize) -> (usize, usize) {
    let s = g.stride;
    let lo = g.pad.saturating_sub(off).div_ceil(s);
    let hi = if size + g.pad > off {
        ((size - 1 + g.pad - off) / s + 1).min(out)
    } else {
        0
    };
    (lo.min(out), hi.max(lo.min(out)))
}

/// Where a column matrix lives: element (row r, pixel q of image n) at
/// `ptr[r * row_stride + n * image_step + q * pixel_step]`.
#[derive(Clone, Copy)]
pub struct ColsLayout {
    pub row_stride: usize,
    pub image_step: usize,
    pub pixel_step: usize,
}

impl ColsLayout {
    /// One image's columns, (K, P) in C order.
    fn single(g: &ConvGeom) -> Self {
        ColsLayout {
            row_stride: g.p(),
            image_step: 0,
            pixel_step: 1,
        }
    }
    /// The whole batch as (K, N * P): pixels ordered (n, h', w') (`n_fastest = false`, cs231n's
    /// strides layout) or (h', w', n) (`n_fastest = true`, cs231n's `im2col_indices`).
    pub fn batch(g: &ConvGeom, n_fastest: bool) -> Self {
        let row_stride = g.n * g.p();
        if n_fastest {
            ColsLayout {
                row_stride,
                image_step: 1,
                pixel_step: g.n,
            }
        } else {
            ColsLayout {
                row_stride,
                image_step: g.p(),
                pixel_step: 1,
            }
        }
    }
}

/// A read-only image batch of any strides.
#[derive(Clone, Copy)]
struct Images<T> {
    ptr: *const T,
    st: [isize; 4],
}
// SAFETY: only ever read, while the borrowed view it came from is alive.
unsafe impl<T: Sync> Send for Images<T> {}
unsafe impl<T: Sync> Sync for Images<T> {}

impl<T: Real> Images<T> {
    fn new(x: &ArrayView4<'_, T>) -> Self {
        let s = x.strides();
        Images {
            ptr: x.as_ptr(),
            st: [s[0], s[1], s[2], s[3]],
        }
    }
    /// Pointer to x[n, c, h, 0].
    #[inline(always)]
    fn row(&self, n: usize, c: usize, h: usize) -> *const T {
        self.ptr
            .wrapping_offset(n as isize * self.st[0] + c as isize * self.st[1] + h as isize * self.st[2])
    }
}

/// cols[(c*HH + u)*WW + v, q = i*W' + j] = xpad[n, c, i*s + u, j*s + v] for image `n`.
///
/// # Safety
/// `dst` must be valid for image `n` of `layout`, and no one else may use those elements.
unsafe fn im2col_image<T: Real>(g: &ConvGeom, x: Images<T>, n: usize, dst: *mut T, layout: ColsLayout) {
    let (s, pad, step) = (g.stride, g.pad, layout.pixel_step);
    let sw = x.st[3];
    let base = dst.add(n * layout.image_step);
    for c in 0..g.c {
        for u in 0..g.kh {
            let (ilo, ihi) = valid_range(g, u, g.h, g.ho);
            for v in 0..g.kw {
                let (jlo, jhi) = valid_range(g, v, g.w, g.wo);
                let row = base.add(((c * g.kh + u) * g.kw + v) * layout.row_stride);
                for i in 0..g.ho {
                    let d = row.add(i * g.wo * step);
                    if i < ilo || i >= ihi {
                        for j in 0..g.wo {
                            *d.add(j * step) = T::zero();
                        }
                        continue;
                    }
                    for j in (0..jlo).chain(jhi..g.wo) {
                        *d.add(j * step) = T::zero();
                    }
                    let src = x.row(n, c, i * s + u - pad);
                    let first = (jlo * s + v) as isize - pad as isize;
                    if step == 1 && s == 1 && sw == 1 {
                        std::ptr::copy_nonoverlapping(src.offset(first), d.add(jlo), jhi - jlo);
                    } else {
                        let stride = s as isize * sw;
                        for j in jlo..jhi {
                            *d.add(j * step) = *src.offset(first * sw + (j - jlo) as isize * stride);
                        }
                    }
                }
            }
        }
    }
}

/// dx[n] (C, H, W), C-ordered: every column entry added back to the input pixel it was read from
/// (overlapping windows add up; padding is dropped). Overwrites `dx_n`.
///
/// # Safety
/// `cols` must be valid for image `n` of `layout`.
unsafe fn col2im_image<T: Real>(g: &ConvGeom, cols: *const T, layout: ColsLayout, n: usize, dx_n: &mut [T]) {
    let (s, pad, step) = (g.stride, g.pad, layout.pixel_step);
    dx_n.fill(T::zero());
    let base = cols.add(n * layout.image_step);
    for c in 0..g.c {
        let plane = &mut dx_n[c * g.h * g.w..(c + 1) * g.h * g.w];
        for u in 0..g.kh {
            let (ilo, ihi) = valid_range(g, u, g.h, g.ho);
            for v in 0..g.kw {
                let (jlo, jhi) = valid_range(g, v, g.w, g.wo);
                let row = base.add(((c * g.kh + u) * g.kw + v) * layout.row_stride);
                for i in ilo..ihi {
                    let src = row.add(i * g.wo * step);
                    let hrow = &mut plane[(i * s + u - pad) * g.w..][..g.w];
                    if s == 1 && step == 1 {
                        // Contiguous on both sides: a plain slice add (vectorizes). Each element
                        // still gets one add here, so the sums are those of the general loop.
                        let len = jhi - jlo;
                        if len == 0 {
                            continue; // (jlo + v - pad may then lie before the row)
                        }
                        let d = &mut hrow[jlo + v - pad..][..len];
                        let c = std::slice::from_raw_parts(src.add(jlo), len);
                        for (a, &b) in d.iter_mut().zip(c) {
                            *a += b;
                        }
                    } else {
                        for j in jlo..jhi {
                            hrow[j * s + v - pad] += *src.add(j * step);
                        }
                    }
                }
            }
        }
    }
}

thread_local! {
    /// Per-thread scratch for one image's columns (kept between calls: no page faults per image).
    static SCRATCH: RefCell<Vec<f64>> = const { RefCell::new(Vec::new()) };
}

/// Runs `f` on `len` elements of this thread's scratch memory (contents unspecified).
fn with_scratch<T: Real, R>(len: usize, f: impl FnOnce(&mut [T]) -> R) -> KResult<R> {
    let words = checked_len(len, std::mem::size_of::<T>(), "scratch columns")?.div_ceil(8);
    SCRATCH.with(|cell| {
        let mut buf = cell.borrow_mut();
        if buf.len() < words {
            let extra = words - buf.len();
            buf.try_reserve_exact(extra)
                .map_err(|_| KernelError::OutOfMemory {
                    what: "scratch columns",
                })?;
            buf.resize(words, 0.0);
        }
        // SAFETY: f32 and f64 are plain data with an alignment of at most 8; the buffer holds at
        // least `len` of them and is borrowed exclusively for the call.
        let s = unsafe { std::slice::from_raw_parts_mut(buf.as_mut_ptr() as *mut T, len) };
        Ok(f(s))
    })
}

/// `f(task)` for every task: on the pool when the work (multiply-adds or elements) is big enough
/// to gain from it.
fn for_tasks(work: usize, tasks: usize, f: impl Fn(usize) + Send + Sync) {
    if work >= MIN_PARALLEL_WORK {
        threads::for_each_index(tasks, f);
    } else {
        (0..tasks).for_each(f);
    }
}

fn check_len(arg: &'static str, got: usize, want: usize, shape: String) -> KResult<()> {
    if got != want {
        return Err(KernelError::shape(arg, shape, format!("{got} elements")));
    }
    Ok(())
}

/// The columns of image `n` as a GEMM operand (K, P): x[n] itself for a pointwise convolution whose
/// planes are flat, else im2col into `scratch`.
///
/// # Safety
/// As [`im2col_image`]; the operand is valid while `scratch` and the view are.
unsafe fn image_cols<T: Real>(g: &ConvGeom, x: Images<T>, n: usize, scratch: &mut [T]) -> Operand<T> {
    if g.pointwise() && (g.ho <= 1 || x.st[2] == g.w as isize * x.st[3]) {
        return Operand {
            ptr: x.row(n, 0, 0),
            rs: x.st[1],
            cs: x.st[3],
        };
    }
    im2col_image(g, x, n, scratch.as_mut_ptr(), ColsLayout::single(g));
    Operand::rows(scratch.as_ptr(), g.p())
}

/// Checks a whole batch's column matrix: (K, N * P).
fn check_cols(g: &ConvGeom, len: usize) -> KResult<()> {
    let shape = format!("({}, {})", g.k(), g.n * g.p());
    check_len("cols", len, g.k() * g.n * g.p(), shape)
}

/// im2col of the whole batch into `cols` (K rows, N * P columns, in `layout`'s pixel order).
pub fn im2col<T: Real>(g: &ConvGeom, x: ArrayView4<'_, T>, cols: &mut [T], n_fastest: bool) -> KResult<()> {
    check_cols(g, cols.len())?;
    let (xs, layout, out) = (
        Images::new(&x),
        ColsLayout::batch(g, n_fastest),
        Disjoint::new(cols),
    );
    // SAFETY: each task writes only the columns of its own image.
    for_tasks(cols.len(), g.n, |n| unsafe {
        im2col_image(g, xs, n, out.as_mut_ptr(), layout)
    });
    Ok(())
}

/// col2im of a whole batch's columns (K rows, N * P columns, in `layout`'s pixel order) into dx
/// (N, C, H, W), C-ordered.
pub fn col2im<T: Real>(g: &ConvGeom, cols: &[T], dx: &mut [T], n_fastest: bool) -> KResult<()> {
    check_cols(g, cols.len())?;
    let plane = g.c * g.h * g.w;
    check_len(
        "dx",
        dx.len(),
        g.n * plane,
        format!("({}, {}, {}, {})", g.n, g.c, g.h, g.w),
    )?;
    let (layout, out) = (ColsLayout::batch(g, n_fastest), Disjoint::new(dx));
    // SAFETY: each task writes only its own image of dx.
    for_tasks(cols.len(), g.n, |n| unsafe {
        col2im_image(g, cols.as_ptr(), layout, n, out.part(n * plane, plane))
    });
    Ok(())
}

/// out (N, F, H', W'), C-ordered = conv(x, w) + b; `w` is (F, C, HH, WW) in C order.
pub fn conv_forward<T: Real>(
    g: &ConvGeom,
    x: ArrayView4<'_, T>,
    w: &[T],
    b: &[T],
    out: &mut [T],
) -> KResult<()> {
    let (k, p) = (g.k(), g.p());
    check_len(
        "w",
        w.len(),
        g.f * k,
        format!("({}, {}, {}, {})", g.f, g.c, g.kh, g.kw),
    )?;
    check_len("b", b.len(), g.f, format!("({},)", g.f))?;
    check_len("out", out.len(), g.n * g.f * p, g.out_shape())?;
    let (xs, dst) = (Images::new(&x), Disjoint::new(out));
    let scratch = if g.pointwise() { 0 } else { k * p };
    let failed = std::sync::Mutex::new(None);
    for_tasks(g.work(), g.n, |n| {
        // SAFETY: task n writes only out[n]; the operands are valid borrowed arrays.
        let r = with_scratch::<T, _>(scratch, |cols| unsafe {
            let o = dst.part(n * g.f * p, g.f * p);
            for (row, &bias) in o.chunks_exact_mut(p.max(1)).zip(b) {
                row.fill(bias);
            }
            let cols = image_cols(g, xs, n, cols);
            product(
                g.f,
                p,
                k,
                o.as_mut_ptr(),
                true,
                Operand::rows(w.as_ptr(), k),
                cols,
            );
        });
        if let Err(e) = r {
            *failed.lock().unwrap_or_else(|e| e.into_inner()) = Some(e);
        }
    });
    match failed.into_inner().unwrap_or_else(|e| e.into_inner()) {
        Some(e) => Err(e),
        None => Ok(()),
    }
}

/// (dx, dw, db) of the convolution given dout (N, F, H', W') in C order; dx (N, C, H, W) C-ordered is
/// skipped when `None`. dw is (F, C, HH, WW), db (F,).
#[allow(clippy::too_many_arguments)]
pub fn conv_backward<T: Real>(
    g: &ConvGeom,
    dout: &[T],
    x: ArrayView4<'_, T>,
    w: &[T],
    dx: Option<&mut [T]>,
    dw: &mut [T],
    db: &mut [T],
) -> KResult<()> {
    let (k, p, f) = (g.k(), g.p(), g.f);
    check_len("dout", dout.len(), g.n * f * p, g.out_shape())?;
    check_len(
        "w",
        w.len(),
        f * k,
        format!("({}, {}, {}, {})", f, g.c, g.kh, g.kw),
    )?;
    check_len(
        "dw",
        dw.len(),
        f * k,
        format!("({}, {}, {}, {})", f, g.c, g.kh, g.kw),
    )?;
    check_len("db", db.len(), f, format!("({},)", f))?;
    let plane = g.c * g.h * g.w;
    if let Some(d) = &dx {
        check_len(
            "dx",
            d.len(),
            g.n * plane,
            format!("({}, {}, {}, {})", g.n, g.c, g.h, g.w),
        )?;
    }
    // Fixed blocks of images (set by N alone), each with its own partial dw and db.
    let per_block = g.n.div_ceil(MAX_BLOCKS).max(1);
    let blocks = g.n.div_ceil(per_block);
    let part_len = f * k + f;
    let mut parts: Vec<T> = try_zeros(checked_len(blocks, part_len, "partial dw")?, "partial dw")?;
    let parts_out = Disjoint::new(&mut parts);
    let dx_out = dx.map(|d| Disjoint::new(d));
    let xs = Images::new(&x);
    let cols_len = if g.pointwise() { 0 } else { k * p };
    let dcols_len = if dx_out.is_some() && !g.pointwise() {
        k * p
    } else {
        0
    };
    let failed = std::sync::Mutex::new(None);
    for_tasks(g.work(), blocks, |blk| {
        // SAFETY: block `blk` writes only its own partial sums and its images' dx.
        let r = with_scratch::<T, _>(cols_len + dcols_len, |scratch| unsafe {
            let (cols_buf, dcols) = scratch.split_at_mut(cols_len);
            let part = parts_out.part(blk * part_len, part_len);
            let (dw_part, db_part) = part.split_at_mut(f * k);
            for (i, n) in (blk * per_block..((blk + 1) * per_block).min(g.n)).enumerate() {
                let d_n = &dout[n * f * p..(n + 1) * f * p];
                let cols = image_cols(g, xs, n, cols_buf);
                // dw += dout[n] (F, P) cols^T (P, K)
                let cols_t = Operand {
                    ptr: cols.ptr,
                    rs: cols.cs,
                    cs: cols.rs,
                };
                gemm(
                    f,
                    k,
                    p,
                    dw_part.as_mut_ptr(),
                    k,
                    i > 0,
                    Operand::rows(d_n.as_ptr(), p),
                    cols_t,
                    T::one(),
                );
                for (acc, row) in db_part.iter_mut().zip(d_n.chunks_exact(p.max(1))) {
                    *acc += sum8(row);
                }
                if let Some(dx_out) = &dx_out {
                    image_dx(g, d_n, w, dcols, dx_out.part(n * plane, plane));
                }
            }
        });
        if let Err(e) = r {
            *failed.lock().unwrap_or_else(|e| e.into_inner()) = Some(e);
        }
    });
    if let Some(e) = failed.into_inner().unwrap_or_else(|e| e.into_inner()) {
        return Err(e);
    }
    // The blocks' partial sums, added in block order.
    dw.fill(T::zero());
    db.fill(T::zero());
    for part in parts.chunks_exact(part_len) {
        for (a, &v) in dw.iter_mut().zip(&part[..f * k]) {
            *a += v;
        }
        for (a, &v) in db.iter_mut().zip(&part[f * k..]) {
            *a += v;
        }
    }
    Ok(())
}

/// dx[n] (C, H, W), C-ordered, of one image from its dout[n] (F, P): dcols (K, P) = w^T (K, F)
/// dout[n], then col2im (for a pointwise convolution the product is dx[n] itself). `dcols` is
/// scratch of K * P elements (unused when pointwise). The one computation of dx shared by
/// [`conv_backward`] and [`conv_backward_dx`], so the two give the same bits.
///
/// # Safety
/// `w` holds F * K elements, `d_n` F * P, `dx_n` C * H * W; `dcols` K * P unless pointwise.
unsafe fn image_dx<T: Real>(g: &ConvGeom, d_n: &[T], w: &[T], dcols: &mut [T], dx_n: &mut [T]) {
    let (k, p) = (g.k(), g.p());
    let dst = if g.pointwise() {
        dx_n.as_mut_ptr()
    } else {
        dcols.as_mut_ptr()
    };
    product(
        k,
        p,
        g.f,
        dst,
        false,
        Operand::transposed(w.as_ptr(), k),
        Operand::rows(d_n.as_ptr(), p),
    );
    if !g.pointwise() {
        col2im_image(g, dcols.as_ptr(), ColsLayout::single(g), 0, dx_n);
    }
}

/// dx (N, C, H, W), C-ordered, of the convolution given dout (N, F, H', W') in C order, without dw
/// and db: no im2col of x (x is not read at all) and no dw product, for a gradient with respect to
/// the input only (a net's input gradient, saliency maps). Images run in parallel; each image's dx
/// is computed exactly as in [`conv_backward`] (the same bits, for any thread count).
pub fn conv_backward_dx<T: Real>(g: &ConvGeom, dout: &[T], w: &[T], dx: &mut [T]) -> KResult<()> {
    let (k, p, f) = (g.k(), g.p(), g.f);
    check_len("dout", dout.len(), g.n * f * p, g.out_shape())?;
    check_len(
        "w",
        w.len(),
        f * k,
        format!("({}, {}, {}, {})", f, g.c, g.kh, g.kw),
    )?;
    let plane = g.c * g.h * g.w;
    check_len(
        "dx",
        dx.len(),
        g.n * plane,
        format!("({}, {}, {}, {})", g.n, g.c, g.h, g.w),
    )?;
    let dx_out = Disjoint::new(dx);
    let dcols_len = if g.pointwise() { 0 } else { k * p };
    let failed = std::sync::Mutex::new(None);
    for_tasks(g.work(), g.n, |n| {
        // SAFETY: task n writes only dx[n]; the operands are valid borrowed slices.
        let r = with_scratch::<T, _>(dcols_len, |dcols| unsafe {
            let d_n = &dout[n * f * p..(n + 1) * f * p];
            image_dx(g, d_n, w, dcols, dx_out.part(n * plane, plane));
        });
        if let Err(e) = r {
            *failed.lock().unwrap_or_else(|e| e.into_inner()) = Some(e);
        }
    });
    match failed.into_inner().unwrap_or_else(|e| e.into_inner()) {
        Some(e) => Err(e),
        None => Ok(()),
    }
}

/// Products with at most this many rows and this inner dimension go through the register-tiled
/// short-k product (measured: ahead of the general GEMM at 32x27x1024 and 27x32x1024, behind it from
/// about 150 rows up, where the GEMM's packing pays off).
const SHORT_K: usize = 64;

/// `dst (m x n, C order) = [dst +] a (m x k) * b (k x n)`: the short-k kernel when k is short and
/// b's rows are contiguous, the general GEMM otherwise.
///
/// # Safety
/// As [`gemm`].
unsafe fn product<T: Real>(
    m: usize,
    n: usize,
    k: usize,
    dst: *mut T,
    acc: bool,
    a: Operand<T>,
    b: Operand<T>,
) {
    if k <= SHORT_K && m <= SHORT_K && b.cs == 1 && b.rs >= 0 {
        gemm_short_k(m, n, k, dst, n, acc, a, b.ptr, b.rs as usize);
    } else {
        gemm(m, n, k, dst, n, acc, a, b, T::one());
    }
}

/// Sum with eight interleaved accumulators (vectorizes).
fn sum8<T: Real>(x: &[T]) -> T {
    let mut acc = [T::zero(); 8];
    let chunks = x.chunks_exact(8);
    let tail: T = chunks.remainder().iter().fold(T::zero(), |a, &v| a + v);
    for c in chunks {
        for i in 0..8 {
            acc[i] += c[i];
        }
    }
    ((acc[0] + acc[1]) + (acc[2] + acc[3])) + ((acc[4] + acc[5]) + (acc[6] + acc[7])) + tail
}

#[cfg(test)]
mod tests {
    use super::*;
    use ndarray::{Array4, ShapeBuilder};

    fn lcg(seed: u64) -> impl FnMut() -> f64 {
        let mut s = seed;
        move || {
            s = s
                .wrapping_mul(6364136223846793005)
                .wrapping_add(1442695040888963407);
            ((s >> 11) as f64 / (1u64 << 53) as f64) * 2.0 - 1.0
        }
    }

    fn random4(d: [usize; 4], seed: u64) -> Array4<f64> {
        let mut r = lcg(seed);
        Array4::from_shape_fn(d, |_| r())
    }

    /// The definition, as loops.
    fn conv_loops(x: &Array4<f64>, w: &Array4<f64>, b: &[f64], s: usize, pad: usize) -> Array4<f64> {
        let (n, c, h, wd) = x.dim();
        let (f, _, kh, kw) = w.dim();
        let ho = 1 + (h + 2 * pad - kh) / s;
        let wo = 1 + (wd + 2 * pad - kw) / s;
        Array4::from_shape_fn((n, f, ho, wo), |(n, f, i, j)| {
            let mut acc = b[f];
            for c in 0..c {
                for u in 0..kh {
                    for v in 0..kw {
                        let (ih, iw) = (
                            (i * s + u) as isize - pad as isize,
                            (j * s + v) as isize - pad as isize,
                        );
                        if ih >= 0 && iw >= 0 && (ih as usize) < h && (iw as usize) < wd {
                            acc += w[[f, c, u, v]] * x[[n, c, ih as usize, iw as usize]];
                        }
                    }
                }
            }
            acc
        })
    }

    fn run(
        x: ndarray::ArrayView4<f64>,
        w: &Array4<f64>,
        b: &[f64],
        s: usize,
        pad: usize,
        dout: &[f64],
    ) -> [Vec<f64>; 4] {
        let g = ConvGeom::new(x.dim().into(), w.dim().into(), s, pad).unwrap();
        let ws: Vec<f64> = w.iter().copied().collect();
        let mut out = vec![f64::NAN; g.n * g.f * g.p()];
        conv_forward(&g, x, &ws, b, &mut out).unwrap();
        let mut dx = vec![f64::NAN; g.n * g.c * g.h * g.w];
        let (mut dw, mut db) = (vec![f64::NAN; ws.len()], vec![f64::NAN; g.f]);
        conv_backward(&g, dout, x, &ws, Some(&mut dx), &mut dw, &mut db).unwrap();
        [out, dx, dw, db]
    }

    #[test]
    fn forward_and_backward_match_the_definition() {
        let cases = [
            ([2, 3, 7, 6], [4, 3, 3, 3], 1, 1),
            ([3, 2, 9, 8], [5, 2, 3, 2], 2, 0),
            ([1, 1, 5, 5], [2, 1, 5, 5], 1, 2),
            ([2, 4, 6, 6], [3, 4, 1, 1], 1, 0),
            ([2, 3, 8, 7], [2, 3, 2, 4], 3, 3),
            ([4, 3, 11, 9], [6, 3, 4, 3], 2, 1),
            // filter columns that only ever see padding (empty valid ranges)
            ([2, 2, 1, 2], [3, 2, 7, 7], 1, 3),
            ([3, 3, 8, 8], [4, 3, 7, 7], 1, 3),
        ];
        for (ci, (xd, wd, s, pad)) in cases.into_iter().enumerate() {
            let x = random4(xd, 1 + ci as u64);
            let w = random4(wd, 100 + ci as u64);
            let b: Vec<f64> = (0..wd[0]).map(|i| i as f64 * 0.3 - 0.5).collect();
            let want = conv_loops(&x, &w, &b, s, pad);
            let dout = random4(want.dim().into(), 7);
            let ds: Vec<f64> = dout.iter().copied().collect();
            let [out, dx, dw, db] = run(x.view(), &w, &b, s, pad, &ds);
            for (a, e) in out.iter().zip(want.iter()) {
                assert!((a - e).abs() < 1e-12, "case {ci}: out {a} vs {e}");
            }
            // Backward by linearity: <dout, conv(x + t e, w)> is checked through a directional
            // derivative in x, w and b together (the forward is exact, so this is exact too).
            let dirx = random4(xd, 11);
            let dirw = random4(wd, 12);
            let dirb: Vec<f64> = (0..wd[0]).map(|i| (i as f64 + 1.0) * 0.1).collect();
            let lin = conv_loops(&dirx, &w, &vec![0.0; wd[0]], s, pad);
            let lin2 = conv_loops(&x, &dirw, &dirb, s, pad);
            let want_d: f64 = dout
                .iter()
                .zip(lin.iter().zip(lin2.iter()))
                .map(|(d, (a, b))| d * (a + b))
                .sum();
            let got_d: f64 = dx.iter().zip(dirx.iter()).map(|(a, b)| a * b).sum::<f64>()
                + dw.iter().zip(dirw.iter()).map(|(a, b)| a * b).sum::<f64>()
                + db.iter().zip(&dirb).map(|(a, b)| a * b).sum::<f64>();
            assert!(
                (want_d - got_d).abs() < 1e-9 * (1.0 + want_d.abs()),
                "case {ci}: {want_d} vs {got_d}"
            );
        }
    }

    #[test]
    fn any_layout_and_thread_count_give_the_same_bits() {
        let (xd, wd) = ([20, 3, 12, 10], [8, 3, 3, 3]);
        let x = random4(xd, 3);
        let w = random4(wd, 4);
        let b = vec![0.25; wd[0]];
        let g = ConvGeom::new(xd, wd, 1, 1).unwrap();
        let dout: Vec<f64> = {
            let mut r = lcg(5);
            (0..g.n * g.f * g.p()).map(|_| r()).collect()
        };
        let mut fortran = Array4::zeros(xd.f());
        fortran.assign(&x);
        let mut first: Option<[Vec<f64>; 4]> = None;
        for threads in [1, 2, 3] {
            crate::threads::set_num_threads(threads).unwrap();
            let flipped = {
                let mut v = x.clone();
                v.invert_axis(ndarray::Axis(3));
                v
            };
            let mut back = flipped.clone();
            back.invert_axis(ndarray::Axis(3)); // a negative-stride view of x's values
            for view in [x.view(), fortran.view(), back.view()] {
                let r = run(view, &w, &b, 1, 1, &dout);
                match &first {
                    None => first = Some(r),
                    Some(f) => {
                        for (a, e) in r.iter().zip(f.iter()) {
                            assert!(a.iter().zip(e).all(|(p, q)| p.to_bits() == q.to_bits()));
                        }
                    }
                }
            }
        }
        crate::threads::set_num_threads(2).unwrap();
    }

    #[test]
    fn dx_only_is_the_full_backward_dx_bit_for_bit_at_any_thread_count() {
        let cases = [
            ([5, 3, 12, 10], [8, 3, 7, 7], 1, 3),
            ([3, 2, 9, 8], [5, 2, 3, 2], 2, 0),
            ([4, 4, 6, 6], [3, 4, 1, 1], 1, 0),
            ([2, 3, 8, 7], [2, 3, 2, 4], 3, 3),
            ([40, 3, 16, 16], [16, 3, 5, 5], 1, 2),
            ([2, 2, 1, 2], [3, 2, 7, 7], 1, 3),
        ];
        for (ci, (xd, wd, s, pad)) in cases.into_iter().enumerate() {
            let x = random4(xd, 20 + ci as u64);
            let w = random4(wd, 40 + ci as u64);
            let b = vec![0.1; wd[0]];
            let g = ConvGeom::new(xd, wd, s, pad).unwrap();
            let dout: Vec<f64> = {
                let mut r = lcg(60 + ci as u64);
                (0..g.n * g.f * g.p()).map(|_| r()).collect()
            };
            let ws: Vec<f64> = w.iter().copied().collect();
            let full = run(x.view(), &w, &b, s, pad, &dout)[1].clone();
            for threads in [1, 2, 3] {
                crate::threads::set_num_threads(threads).unwrap();
                let mut dx = vec![f64::NAN; full.len()];
                conv_backward_dx(&g, &dout, &ws, &mut dx).unwrap();
                assert!(
                    dx.iter().zip(&full).all(|(a, e)| a.to_bits() == e.to_bits()),
                    "case {ci}, {threads} threads"
                );
                // and in f32
                let (d32, w32): (Vec<f32>, Vec<f32>) = (
                    dout.iter().map(|&v| v as f32).collect(),
                    ws.iter().map(|&v| v as f32).collect(),
                );
                let x32 = x.mapv(|v| v as f32);
                let (mut fx, mut fw, mut fb) =
                    (vec![f32::NAN; full.len()], vec![0f32; ws.len()], vec![0f32; g.f]);
                conv_backward(&g, &d32, x32.view(), &w32, Some(&mut fx), &mut fw, &mut fb).unwrap();
                let mut dx32 = vec![f32::NAN; full.len()];
                conv_backward_dx(&g, &d32, &w32, &mut dx32).unwrap();
                assert!(dx32.iter().zip(&fx).all(|(a, e)| a.to_bits() == e.to_bits()));
            }
        }
        crate::threads::set_num_threads(2).unwrap();
        let g = ConvGeom::new([2, 3, 5, 5], [4, 3, 3, 3], 1, 1).unwrap();
        let mut dx = vec![0.0; 2 * 3 * 25];
        assert!(conv_backward_dx(&g, &[0.0; 7], &[0.0; 108], &mut dx).is_err());
        assert!(conv_backward_dx(&g, &vec![0.0; 200], &[0.0; 107], &mut dx).is_err());
        assert!(conv_backward_dx(&g, &vec![0.0; 200], &[0.0; 108], &mut dx[1..]).is_err());
    }

    #[test]
    fn batch_im2col_col2im_layouts() {
        let (xd, wd) = ([3, 2, 5, 4], [1, 2, 3, 2]);
        let x = random4(xd, 9);
        let g = ConvGeom::new(xd, wd, 1, 1).unwrap();
        let (k, p) = (g.k(), g.p());
        for n_fastest in [false, true] {
            let mut cols = vec![f64::NAN; k * g.n * p];
            im2col(&g, x.view(), &mut cols, n_fastest).unwrap();
            for n in 0..g.n {
                let mut one = vec![0.0; k * p];
                unsafe {
                    im2col_image(
                        &g,
                        Images::new(&x.view()),
                        n,
                        one.as_mut_ptr(),
                        ColsLayout::single(&g),
                    )
                };
                for r in 0..k {
                    for q in 0..p {
                        let at = if n_fastest { q * g.n + n } else { n * p + q };
                        assert_eq!(cols[r * g.n * p + at], one[r * p + q]);
                    }
                }
            }
            // col2im is im2col's adjoint: <im2col(x), c> = <x, col2im(c)>.
            let mut r = lcg(10);
            let c: Vec<f64> = (0..cols.len()).map(|_| r()).collect();
            let mut back = vec![0.0; x.len()];
            col2im(&g, &c, &mut back, n_fastest).unwrap();
            let lhs: f64 = cols.iter().zip(&c).map(|(a, b)| a * b).sum();
            let rhs: f64 = x.iter().zip(&back).map(|(a, b)| a * b).sum();
            assert!((lhs - rhs).abs() < 1e-12 * (1.0 + lhs.abs()));
        }
    }

    #[test]
    fn bad_geometry_is_an_error() {
        assert!(ConvGeom::new([1, 3, 4, 4], [2, 3, 3, 3], 0, 1).is_err());
        assert!(ConvGeom::new([1, 3, 4, 4], [2, 2, 3, 3], 1, 1).is_err());
        assert!(ConvGeom::new([1, 3, 2, 4], [2, 3, 5, 3], 1, 1).is_err());
        assert!(ConvGeom::new([1, 3, 4, 4], [2, 3, 0, 3], 1, 1).is_err());
        assert!(ConvGeom::new([1, 3, 4, 4], [2, 3, 3, 3], 1, usize::MAX / 2).is_err());
        let g = ConvGeom::new([1, 3, 5, 4], [2, 3, 3, 3], 2, 1).unwrap();
        assert_eq!((g.ho, g.wo), (3, 2));
    }
}
