//! Image features of cs231n's `features.py`, over a batch of images: the HOG descriptor and the
//! histogram of HSV hue. Each image is independent: images are processed in fixed chunks on the
//! crate's threads, each writing its own output row, so results are the same bits for any thread
//! count. Input images are a strided 4-D view `(N, H, W, C)` of `u8`, `f32` or `f64` elements.

use crate::error::KernelError;
use crate::threads;
use crate::{KResult, Real};
use std::sync::Mutex;

/// cs231n's `rgb2gray` weights: note 0.144 for blue (not the usual 0.114), kept for drop-in HOG.
pub const CS231N_GRAY_WEIGHTS: [f64; 3] = [0.299, 0.587, 0.144];

/// How `rgb2gray` rounds `0.299 r + 0.587 g + 0.144 b`. NumPy's `np.dot` hands each pixel to the
/// BLAS `ddot`, whose rounding depends on the BLAS build and CPU; the Python layer finds which rule
/// reproduces it bit for bit on the running machine (see [`gray_pixel`]) and falls back to NumPy's
/// own gray image when none does. It matters: two pixels of different colour can have exactly equal
/// gray values, and a 1-ulp difference then moves a pixel between orientation bins.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum GrayRule {
    /// `(r w0 + g w1) + b w2`, each product rounded.
    Sequential,
    /// `fma(b, w2, fma(r, w0, g w1))` (measured for OpenBLAS's `dgemv` on a 2-D `(K, 3)` input).
    FmaGreenFirst,
    /// `fma(b, w2, fma(g, w1, r w0))` (measured for OpenBLAS's `ddot`, which `np.dot` calls per pixel
    /// of an `(H, W, 3)` image, on an AVX2/FMA machine).
    FmaInOrder,
}

impl GrayRule {
    /// The rule numbered `i` at the Python boundary: 0 sequential, 1 fma green first, 2 fma in order.
    pub fn from_index(i: u8) -> KResult<Self> {
        match i {
            0 => Ok(GrayRule::Sequential),
            1 => Ok(GrayRule::FmaGreenFirst),
            2 => Ok(GrayRule::FmaInOrder),
            _ => Err(KernelError::value("rule", format!("expected 0, 1 or 2, got {i}"))),
        }
    }
}

/// The gray value of one pixel under `rule`, with NumPy's `0. + ddot(...)` (which turns -0 into +0).
#[inline(always)]
pub fn gray_pixel(rule: GrayRule, r: f64, g: f64, b: f64) -> f64 {
    let [w0, w1, w2] = CS231N_GRAY_WEIGHTS;
    let v = match rule {
        GrayRule::Sequential => (r * w0 + g * w1) + b * w2,
        GrayRule::FmaGreenFirst => b.mul_add(w2, r.mul_add(w0, g * w1)),
        GrayRule::FmaInOrder => b.mul_add(w2, g.mul_add(w1, r * w0)),
    };
    0.0 + v
}

/// HOG: orientation bins and cell size (`hog_feature`'s fixed `orientations = 9`, `ppc = (8, 8)`).
pub const HOG_ORIENTATIONS: usize = 9;
pub const HOG_CELL: usize = 8;

/// Images per parallel work item.
const IMAGES_PER_CHUNK: usize = 8;

/// A pixel element the kernels read directly.
pub trait Pixel: Copy + Send + Sync + 'static {
    /// The value as `f64` (exact for every implementor).
    fn wide(self) -> f64;
}

impl Pixel for u8 {
    #[inline(always)]
    fn wide(self) -> f64 {
        self as f64
    }
}
impl Pixel for f32 {
    #[inline(always)]
    fn wide(self) -> f64 {
        self as f64
    }
}
impl Pixel for f64 {
    #[inline(always)]
    fn wide(self) -> f64 {
        self
    }
}

/// A strided `(N, H, W, C)` view: element `[n, h, w, c]` is `data[offset + n*s0 + h*s1 + w*s2 + c*s3]`
/// (strides in elements, any sign, zero allowed).
#[derive(Clone, Copy, Debug)]
pub struct Images<'a, T> {
    data: &'a [T],
    offset: usize,
    pub shape: [usize; 4],
    strides: [isize; 4],
}

impl<'a, T: Copy> Images<'a, T> {
    /// Checks that every element of the view lies inside `data`.
    pub fn new(data: &'a [T], offset: usize, shape: [usize; 4], strides: [isize; 4]) -> KResult<Self> {
        if shape.iter().all(|&d| d > 0) {
            let (mut lo, mut hi) = (offset as i128, offset as i128);
            for (&d, &s) in shape.iter().zip(strides.iter()) {
                let span = (d as i128 - 1) * s as i128;
                if span < 0 {
                    lo += span;
                } else {
                    hi += span;
                }
            }
            if lo < 0 || hi >= data.len() as i128 {
                return Err(KernelError::shape(
                    "imgs",
                    format!("a view inside a buffer of {} elements", data.len()),
                    format!("elements {lo}..={hi}"),
                ));
            }
        } else {
            let total = shape.iter().try_fold(1usize, |a, &d| a.checked_mul(d));
            if total.is_none() {
                return Err(KernelError::OutOfMemory {
                    what: "the image view",
                });
            }
        }
        Ok(Images {
            data,
            offset,
            shape,
            strides,
        })
    }

    /// A C-ordered batch in `data`.
    pub fn contiguous(data: &'a [T], shape: [usize; 4]) -> KResult<Self> {
        let [_, h, w, c] = shape;
        let s = [(h * w * c) as isize, (w * c) as isize, c as isize, 1];
        Self::new(data, 0, shape, s)
    }

    #[inline(always)]
    fn at(&self, n: usize, h: usize, w: usize, c: usize) -> T {
        let i = self.offset as isize
            + n as isize * self.strides[0]
            + h as isize * self.strides[1]
            + w as isize * self.strides[2]
            + c as isize * self.strides[3];
        self.data[i as usize]
    }

    fn shape_str(&self) -> String {
        format!("{:?}", self.shape)
    }
}

/// Runs `f(image, out_row)` for every image, in fixed chunks on the crate's threads. The first
/// error in image order is returned (a chunk stops at its first error; later chunks may run).
fn par_images<F>(n: usize, row_len: usize, out: &mut [f64], f: F) -> KResult<()>
where
    F: Fn(usize, &mut [f64]) -> KResult<()> + Send + Sync,
{
    let need = n
        .checked_mul(row_len)
        .ok_or(KernelError::OutOfMemory { what: "the features" })?;
    if out.len() != need {
        return Err(KernelError::shape(
            "out",
            format!("{need} elements"),
            format!("{}", out.len()),
        ));
    }
    let first_err: Mutex<Option<(usize, KernelError)>> = Mutex::new(None);
    let base = out.as_mut_ptr() as usize;
    threads::for_each_index(n.div_ceil(IMAGES_PER_CHUNK), |c| {
        for i in c * IMAGES_PER_CHUNK..((c + 1) * IMAGES_PER_CHUNK).min(n) {
            // SAFETY: each image owns the disjoint row `out[i*row_len .. (i+1)*row_len]`.
            let row = unsafe { std::slice::from_raw_parts_mut((base as *mut f64).add(i * row_len), row_len) };
            if let Err(e) = f(i, row) {
                let mut slot = first_err.lock().unwrap_or_else(|e| e.into_inner());
                if slot.as_ref().is_none_or(|(j, _)| i < *j) {
                    *slot = Some((i, e));
                }
                return;
            }
        }
    });
    match first_err.into_inner().unwrap_or_else(|e| e.into_inner()) {
        Some((_, e)) => Err(e),
        None => Ok(()),
    }
}

// ---------------------------------------------------------------------------------------------
// HOG

/// Length of one image's HOG descriptor: `floor(H/8) * floor(W/8) * 9`.
pub fn hog_len(h: usize, w: usize) -> usize {
    (h / HOG_CELL) * (w / HOG_CELL) * HOG_ORIENTATIONS
}

/// cs231n's `hog_feature` for every image of `(N, H, W, C)`; `out` is `(N, hog_len(H, W))`, C order.
///
///   g        = rgb2gray(im) = 0.299 r + 0.587 g + 0.144 b, rounded by `rule` (the channel itself if `gray`)
///   gx[r, c] = g[r, c+1] - g[r, c] (0 in the last column),  gy[r, c] = g[r+1, c] - g[r, c] (0 in the last row)
///   mag      = sqrt(gx^2 + gy^2),  ori = atan2(gy, gx + 1e-15) * (180/pi) + 90
///   bin i    = pixels with 20 i <= ori < 20 (i+1) and ori > 0 (cs231n's `temp_ori > 0`)
///   out[a, b, i] = mean of mag over bin i's pixels of the 8x8 cell in row block b, column block a
///
/// The last line is `uniform_filter(mag_i, 8)[4::8, 4::8].T`: scipy's size-8 window at row 4 + 8b
/// covers rows 8b .. 8b+7, exactly a cell, so its reflect boundary never reaches a sampled value.
/// Pixels past the last whole cell only enter through the differences. Non-square images get the
/// transpose's natural generalisation (cs231n's own code fails on them with a broadcasting error).
pub fn hog_batch<P: Pixel>(imgs: &Images<'_, P>, gray: bool, rule: GrayRule, out: &mut [f64]) -> KResult<()> {
    let [n, h, w, c] = imgs.shape;
    if gray && c != 1 {
        return Err(KernelError::shape(
            "imgs",
            "(N, H, W, 1) for grayscale images",
            imgs.shape_str(),
        ));
    }
    if !gray && c < 3 {
        return Err(KernelError::shape(
            "imgs",
            "(N, H, W, C) with C >= 3 (RGB)",
            imgs.shape_str(),
        ));
    }
    let (ncr, ncc) = (h / HOG_CELL, w / HOG_CELL);
    let row_len = hog_len(h, w);
    // Gray values needed: the whole cells plus one row/column for the differences.
    let gh = (ncr * HOG_CELL + 1).min(h);
    let gw = (ncc * HOG_CELL + 1).min(w);
    let (gh, gw) = if row_len == 0 { (0, 0) } else { (gh, gw) };
    let gray_len = gh.checked_mul(gw).ok_or(KernelError::OutOfMemory {
        what: "the gray image",
    })?;
    let to_deg = 180.0 / std::f64::consts::PI;
    let tans = bin_tangents();
    par_images(n, row_len, out, |img, row| {
        let mut g = Vec::new();
        g.try_reserve_exact(gray_len)
            .map_err(|_| KernelError::OutOfMemory {
                what: "the gray image",
            })?;
        fill_gray(imgs, img, gh, gw, gray, rule, &mut g);
        // Cell sums in `row` laid out [col block a][row block b][bin], summed pixel by pixel.
        row.fill(0.0);
        for y in 0..ncr * HOG_CELL {
            let b = y / HOG_CELL;
            for x in 0..ncc * HOG_CELL {
                let here = g[y * gw + x];
                let gx = if x + 1 < w { g[y * gw + x + 1] - here } else { 0.0 };
                let gy = if y + 1 < h {
                    g[(y + 1) * gw + x] - here
                } else {
                    0.0
                };
                let mag = (gx * gx + gy * gy).sqrt();
                if mag == 0.0 {
                    continue; // adds +0 to whichever cell: no change
                }
                if let Some(bin) = hog_bin(gx, gy, &tans, to_deg) {
                    row[((x / HOG_CELL) * ncr + b) * HOG_ORIENTATIONS + bin] += mag;
                }
            }
        }
        let inv = (HOG_CELL * HOG_CELL) as f64;
        row.iter_mut().for_each(|v| *v /= inv);
        Ok(())
    })
}

/// The gray image (rows `0..gh`, columns `0..gw`) of image `img`, appended to `g`. With an FMA rule
/// on a CPU that has FMA, the loop is compiled for it (otherwise `mul_add` is a slow libm call).
fn fill_gray<P: Pixel>(
    imgs: &Images<'_, P>,
    img: usize,
    gh: usize,
    gw: usize,
    gray: bool,
    rule: GrayRule,
    g: &mut Vec<f64>,
) {
    #[cfg(target_arch = "x86_64")]
    if !gray && rule != GrayRule::Sequential && std::arch::is_x86_feature_detected!("fma") {
        // SAFETY: the CPU has FMA (checked just above).
        unsafe { fill_gray_fma(imgs, img, gh, gw, gray, rule, g) };
        return;
    }
    fill_gray_body(imgs, img, gh, gw, gray, rule, g)
}

#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "fma")]
unsafe fn fill_gray_fma<P: Pixel>(
    imgs: &Images<'_, P>,
    img: usize,
    gh: usize,
    gw: usize,
    gray: bool,
    rule: GrayRule,
    g: &mut Vec<f64>,
) {
    fill_gray_body(imgs, img, gh, gw, gray, rule, g)
}

#[inline(always)]
fn fill_gray_body<P: Pixel>(
    imgs: &Images<'_, P>,
    img: usize,
    gh: usize,
    gw: usize,
    gray: bool,
    rule: GrayRule,
    g: &mut Vec<f64>,
) {
    for y in 0..gh {
        for x in 0..gw {
            let v = if gray {
                imgs.at(img, y, x, 0).wide()
            } else {
                let r = imgs.at(img, y, x, 0).wide();
                let gg = imgs.at(img, y, x, 1).wide();
                let b = imgs.at(img, y, x, 2).wide();
                gray_pixel(rule, r, gg, b)
            };
            g.push(v);
        }
    }
}

/// tan of the bin boundaries in gradient angle: (20 k - 90) degrees for k = 1..8.
fn bin_tangents() -> [f64; HOG_ORIENTATIONS - 1] {
    std::array::from_fn(|k| ((20.0 * (k + 1) as f64 - 90.0).to_radians()).tan())
}

/// `orientation_bin(atan2(gy, gx + 1e-15) * (180/pi) + 90)`, mostly without the atan2: for
/// `gx' = gx + 1e-15 > 0` and `|gy| < 1e6 gx'` the angle is inside (-90, 90) degrees by a wide
/// margin and its bin is the number of boundary tangents below `gy / gx'`, unless that ratio lies
/// within a relative 1e-9 of one (an angle margin ~1e-8 degrees, far above atan2's ~1e-13 error),
/// in which case, and for every other input (NaN, near-vertical gradients), atan2 decides.
#[inline(always)]
fn hog_bin(gx: f64, gy: f64, tans: &[f64; HOG_ORIENTATIONS - 1], to_deg: f64) -> Option<usize> {
    let gxp = gx + 1e-15;
    let ay = gy.abs();
    if gxp > 0.0 && ay < 1e6 * gxp {
        let t = gy / gxp;
        let mut k = 0;
        let mut near = false;
        for &th in tans {
            k += (t > th) as usize;
            near |= (t - th).abs() <= 1e-9 * (1.0 + th.abs());
        }
        if !near {
            return Some(k);
        }
    } else if gxp < 0.0 && ay < 1e6 * -gxp {
        return None; // angle beyond +-90 degrees by a wide margin: ori outside (0, 180)
    }
    orientation_bin(gy.atan2(gxp) * to_deg + 90.0)
}

/// The bin `i` with `20 i <= ori < 20 (i + 1)`, for `0 < ori < 180`; `None` otherwise (and for NaN).
#[inline]
fn orientation_bin(ori: f64) -> Option<usize> {
    let width = 180.0 / HOG_ORIENTATIONS as f64;
    if !(ori > 0.0 && ori < 180.0) {
        return None;
    }
    let mut b = ((ori / width) as usize).min(HOG_ORIENTATIONS - 1);
    // ori / width can round across a boundary: settle with the exact comparisons cs231n makes.
    if ori < width * b as f64 {
        b -= 1;
    } else if b + 1 < HOG_ORIENTATIONS && ori >= width * (b + 1) as f64 {
        b += 1;
    }
    Some(b)
}

// ---------------------------------------------------------------------------------------------
// Colour histogram

/// `color_histogram_hsv` for every image of `(N, H, W, 3)`; `out` is `(N, edges.len() - 1)`.
///
///   (r, g, b) = pixel / xmax                        in T (the dtype of NumPy's `im / xmax`)
///   hue       = matplotlib's rgb_to_hsv: with M = max, delta = M - min (NaN propagates),
///               0 if !(delta > 0), else 4 + (r-g)/delta if b == M, else 2 + (b-r)/delta if g == M,
///               else (g-b)/delta; then (hue / 6) mod 1 (Python's sign convention)
///   v         = hue * xmax  (in T), counted by np.histogram's rule on `edges`: bin i holds
///               edges[i] <= v < edges[i+1], the last bin also v == edges[-1]; others are ignored
///   out       = n_i * db_i, or ((n_i / db_i) / sum(n)) * db_i when `density`, db_i = edges[i+1]-edges[i]
///
/// Errors as matplotlib's: a pixel with max > 1, or an image whose minimum is < 0 (an image with
/// a NaN has a NaN minimum and passes that check, as in NumPy).
pub fn hsv_hist_batch<P: Pixel, T: Real>(
    imgs: &Images<'_, P>,
    xmax: f64,
    edges: &[f64],
    density: bool,
    out: &mut [f64],
) -> KResult<()> {
    let [n, h, w, c] = imgs.shape;
    if c != 3 {
        return Err(KernelError::value(
            "im",
            format!(
                "Last dimension of input array must be 3; shape {:?} was found.",
                [h, w, c]
            ),
        ));
    }
    if edges.is_empty() {
        return Err(KernelError::value("bins", "at least one bin edge is needed"));
    }
    if edges.iter().any(|e| e.is_nan()) {
        return Err(KernelError::value("bins", "bin edges must not be NaN"));
    }
    if edges.windows(2).any(|e| e[0] > e[1]) {
        return Err(KernelError::value(
            "bins",
            "`bins` must increase monotonically, when an array",
        ));
    }
    let nbin = edges.len() - 1;
    let db: Vec<f64> = edges.windows(2).map(|e| e[1] - e[0]).collect();
    let xm = T::of(xmax);
    let one = T::one();
    let bins = Bins::new(edges);
    let npx = h * w;
    par_images(n, nbin, out, |img, row| {
        // Pass 1 (strided reads): the channels, planar.
        let mut planes = Vec::new();
        planes
            .try_reserve_exact(4 * npx)
            .map_err(|_| KernelError::OutOfMemory {
                what: "the hue buffers",
            })?;
        planes.resize(4 * npx, T::zero());
        let (rp, rest) = planes.split_at_mut(npx);
        let (gp, rest) = rest.split_at_mut(npx);
        let (bp, xp) = rest.split_at_mut(npx);
        for y in 0..h {
            for x in 0..w {
                let k = y * w + x;
                rp[k] = T::of(imgs.at(img, y, x, 0).wide());
                gp[k] = T::of(imgs.at(img, y, x, 1).wide());
                bp[k] = T::of(imgs.at(img, y, x, 2).wide());
            }
        }
        // Pass 2 (branch-free, vectorised): channels / xmax in place, and hue / 6 of every pixel.
        hue_sixths(rp, gp, bp, xm, xp);
        // Pass 3: matplotlib's range checks (reported below in its order), and (hue / 6) mod 1 *
        // xmax binned. NaN-propagating max/min without data-dependent branches: NaN is tracked by
        // a flag, and the sign of a zero max/min changes nothing. A pixel with a NaN has hue 0.
        let mut max_of_max = T::neg_infinity();
        let mut min_all = T::infinity();
        let mut too_big = false;
        let mut saw_nan = false;
        let mut counts = vec![0u64; nbin];
        for k in 0..npx {
            let (r, g, b) = (rp[k], gp[k], bp[k]);
            let nan = r.is_nan() | g.is_nan() | b.is_nan();
            let mx = r.max(g).max(b);
            saw_nan |= nan;
            too_big |= mx > one;
            max_of_max = max_of_max.max(mx);
            min_all = min_all.min(r.min(g).min(b));
            let sixth = if nan { T::zero() } else { xp[k] };
            if let Some(i) = bins.find((py_mod1(sixth) * xm).wide()) {
                counts[i] += 1;
            }
        }
        if saw_nan {
            (max_of_max, min_all) = (T::nan(), T::nan()); // np.max / np.min of the image
        }
        if too_big {
            return Err(KernelError::value(
                "im",
                format!("Input array must be in the range [0, 1]. Found a maximum value of {max_of_max:?}"),
            ));
        }
        if min_all < T::zero() {
            return Err(KernelError::value(
                "im",
                format!("Input array must be in the range [0, 1]. Found a minimum value of {min_all:?}"),
            ));
        }
        if density {
            let total = counts.iter().sum::<u64>() as f64;
            for ((o, &k), &d) in row.iter_mut().zip(&counts).zip(&db) {
                *o = ((k as f64 / d) / total) * d;
            }
        } else {
            for ((o, &k), &d) in row.iter_mut().zip(&counts).zip(&db) {
                *o = k as f64 * d;
            }
        }
        Ok(())
    })
}

/// np.histogram's bin of a value for monotonic `edges`: the last `i < nbin` with `edges[i] <= v`,
/// for `edges[0] <= v <= edges[nbin]` (so the last bin is closed); `None` outside and for NaN. A
/// guess from the bin width (exact for linspace edges up to rounding) is settled by comparisons
/// with the edges themselves, so the answer never depends on the guess.
struct Bins<'a> {
    edges: &'a [f64],
    nbin: usize,
    first: f64,
    last: f64,
    scale: f64,
}

impl<'a> Bins<'a> {
    fn new(edges: &'a [f64]) -> Self {
        let nbin = edges.len() - 1;
        let (first, last) = (edges[0], edges[nbin]);
        let span = last - first;
        let scale = if span > 0.0 && span.is_finite() {
            nbin as f64 / span
        } else {
            0.0
        };
        Bins {
            edges,
            nbin,
            first,
            last,
            scale,
        }
    }

    #[inline(always)]
    fn find(&self, v: f64) -> Option<usize> {
        if self.nbin == 0 || !(v >= self.first && v <= self.last) {
            return None;
        }
        let e = self.edges;
        let guess = ((v - self.first) * self.scale) as usize; // saturating; NaN impossible here
        let mut i = guess.min(self.nbin - 1);
        if e[i] > v || (i + 1 < self.nbin && e[i + 1] <= v) {
            i = e[..self.nbin].partition_point(|&x| x <= v) - 1;
        }
        Some(i)
    }
}

/// Divides the channels by `xm` in place, then matplotlib's hue / 6 for pixels without NaN (theirs is fixed up by the caller): with M = max,
/// delta = M - min: 0 unless delta > 0, else 4 + (r-g)/delta if b == M, else 2 + (b-r)/delta if
/// g == M, else (g-b)/delta (matplotlib assigns red, green, blue in turn: the last match wins).
/// Selects only, so the loop vectorises; red's `0 + x` differs from x only for -0, which the mod
/// that follows maps to +0 either way.
#[inline(always)]
fn hue_sixths_body<T: Real>(r: &mut [T], g: &mut [T], b: &mut [T], xm: T, out: &mut [T]) {
    let (zero, two, four, six) = (T::zero(), T::of(2.0), T::of(4.0), T::of(6.0));
    let n = out.len();
    let (r, g, b) = (&mut r[..n], &mut g[..n], &mut b[..n]);
    for i in 0..n {
        let (rr, gg, bb) = (r[i] / xm, g[i] / xm, b[i] / xm);
        (r[i], g[i], b[i]) = (rr, gg, bb);
        let (r, g, b) = (rr, gg, bb);
        let mx = r.max(g).max(b);
        let delta = mx - r.min(g).min(b);
        let is_b = b == mx;
        let is_g = (g == mx) & !is_b;
        let base = if is_b {
            four
        } else if is_g {
            two
        } else {
            zero
        };
        let num = if is_b {
            r - g
        } else if is_g {
            b - r
        } else {
            g - b
        };
        let ok = (delta > zero) & (is_b | is_g | (r == mx));
        let hue = if ok { base + num / delta } else { zero };
        out[i] = hue / six;
    }
}

fn hue_sixths<T: Real>(r: &mut [T], g: &mut [T], b: &mut [T], xm: T, out: &mut [T]) {
    #[cfg(target_arch = "x86_64")]
    if std::arch::is_x86_feature_detected!("avx2") {
        // SAFETY: the CPU has AVX2 (checked just above).
        unsafe { hue_sixths_avx2(r, g, b, xm, out) };
        return;
    }
    hue_sixths_body(r, g, b, xm, out)
}

#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx2")]
unsafe fn hue_sixths_avx2<T: Real>(r: &mut [T], g: &mut [T], b: &mut [T], xm: T, out: &mut [T]) {
    hue_sixths_body(r, g, b, xm, out)
}

/// NumPy's `x % 1.0` for floats: fmod, moved into [0, 1) when negative; +0 for a zero result.
#[inline(always)]
fn py_mod1<T: Real>(x: T) -> T {
    // fmod(x, 1) is x itself when |x| < 1 (always, for a hue / 6), and fmod is slow.
    let m = if x.abs() < T::one() { x } else { x % T::one() };
    // A select, not a branch: `m + 0` turns -0 into +0 and changes nothing else.
    if m < T::zero() {
        m + T::one()
    } else {
        m + T::zero()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn lcg_image(n: usize, h: usize, w: usize, c: usize, seed: u64) -> Vec<f64> {
        let mut s = seed;
        (0..n * h * w * c)
            .map(|_| {
                s = s
                    .wrapping_mul(6364136223846793005)
                    .wrapping_add(1442695040888963407);
                ((s >> 33) % 256) as f64
            })
            .collect()
    }

    /// A direct transcription of cs231n's algorithm on one gray image: a full uniform filter with
    /// reflect boundaries, sampled at [4::8, 4::8] and transposed.
    fn naive_hog(g: &[f64], h: usize, w: usize) -> Vec<f64> {
        let mut gx = vec![0.0; h * w];
        let mut gy = vec![0.0; h * w];
        for y in 0..h {
            for x in 0..w {
                if x + 1 < w {
                    gx[y * w + x] = g[y * w + x + 1] - g[y * w + x];
                }
                if y + 1 < h {
                    gy[y * w + x] = g[(y + 1) * w + x] - g[y * w + x];
                }
            }
        }
        let reflect = |i: isize, n: usize| -> usize {
            let n = n as isize;
            let mut i = i;
            loop {
                if i < 0 {
                    i = -i - 1;
                } else if i >= n {
                    i = 2 * n - i - 1;
                } else {
                    return i as usize;
                }
            }
        };
        let (ncr, ncc) = (h / 8, w / 8);
        let mut out = vec![0.0; ncr * ncc * 9];
        for bin in 0..9 {
            let lo = 20.0 * bin as f64;
            let hi = 20.0 * (bin + 1) as f64;
            let m: Vec<f64> = (0..h * w)
                .map(|k| {
                    let ori = gy[k].atan2(gx[k] + 1e-15) * (180.0 / std::f64::consts::PI) + 90.0;
                    let t = if ori < hi { ori } else { 0.0 };
                    let t = if ori >= lo { t } else { 0.0 };
                    if t > 0.0 {
                        (gx[k] * gx[k] + gy[k] * gy[k]).sqrt()
                    } else {
                        0.0
                    }
                })
                .collect();
            for b in 0..ncr {
                for a in 0..ncc {
                    let (cy, cx) = (4 + 8 * b, 4 + 8 * a);
                    let mut s = 0.0;
                    for dy in -4isize..4 {
                        for dx in -4isize..4 {
                            let yy = reflect(cy as isize + dy, h);
                            let xx = reflect(cx as isize + dx, w);
                            s += m[yy * w + xx];
                        }
                    }
                    out[(a * ncr + b) * 9 + bin] = s / 64.0;
                }
            }
        }
        out
    }

    #[test]
    fn hog_matches_a_direct_transcription() {
        for &(h, w) in &[(32, 32), (16, 24), (35, 19), (8, 8), (9, 17)] {
            let data = lcg_image(3, h, w, 3, (h * w) as u64);
            let imgs = Images::contiguous(&data, [3, h, w, 3]).unwrap();
            let len = hog_len(h, w);
            let mut out = vec![f64::NAN; 3 * len];
            hog_batch(&imgs, false, GrayRule::Sequential, &mut out).unwrap();
            for i in 0..3 {
                let g: Vec<f64> = (0..h * w)
                    .map(|k| {
                        let p = &data[(i * h * w + k) * 3..];
                        (p[0] * 0.299 + p[1] * 0.587) + p[2] * 0.144
                    })
                    .collect();
                let want = naive_hog(&g, h, w);
                for (a, b) in out[i * len..(i + 1) * len].iter().zip(&want) {
                    assert!((a - b).abs() <= 1e-12 * (1.0 + b.abs()), "{h}x{w}: {a} vs {b}");
                }
            }
        }
    }

    #[test]
    fn hog_same_bits_for_any_thread_count_and_layout() {
        let (n, h, w) = (37, 32, 32);
        let data = lcg_image(n, h, w, 3, 7);
        let u8s: Vec<u8> = data.iter().map(|&v| v as u8).collect();
        let len = hog_len(h, w);
        let mut reference = vec![0.0; n * len];
        threads::set_num_threads(1).unwrap();
        hog_batch(
            &Images::contiguous(&data, [n, h, w, 3]).unwrap(),
            false,
            GrayRule::Sequential,
            &mut reference,
        )
        .unwrap();
        threads::set_num_threads(3).unwrap();
        let mut out = vec![0.0; n * len];
        hog_batch(
            &Images::contiguous(&u8s, [n, h, w, 3]).unwrap(),
            false,
            GrayRule::Sequential,
            &mut out,
        )
        .unwrap();
        assert_eq!(out, reference);
        // The same images in reverse order with negative strides along every axis.
        let last = data.len() - 1;
        let s = [-((h * w * 3) as isize), -((w * 3) as isize), -3, 1];
        let rev = Images::new(&data, last - 2, [n, h, w, 3], s).unwrap();
        hog_batch(&rev, false, GrayRule::Sequential, &mut out).unwrap();
        for i in 0..n {
            // image n-1-i flipped in both directions is not the same descriptor; compare with a flipped copy
            let mut flip = vec![0.0; h * w * 3];
            for y in 0..h {
                for x in 0..w {
                    for c in 0..3 {
                        flip[(y * w + x) * 3 + c] = rev.at(i, y, x, c);
                    }
                }
            }
            let mut one = vec![0.0; len];
            hog_batch(
                &Images::contiguous(&flip, [1, h, w, 3]).unwrap(),
                false,
                GrayRule::Sequential,
                &mut one,
            )
            .unwrap();
            assert_eq!(&out[i * len..(i + 1) * len], one.as_slice());
        }
    }

    #[test]
    fn hog_rejects_bad_channels_and_handles_empty() {
        let data = vec![0.0f64; 2 * 8 * 8 * 2];
        let imgs = Images::contiguous(&data, [2, 8, 8, 2]).unwrap();
        assert!(matches!(
            hog_batch(&imgs, false, GrayRule::Sequential, &mut [0.0; 18]),
            Err(KernelError::Shape { .. })
        ));
        assert!(hog_batch(&imgs, true, GrayRule::Sequential, &mut [0.0; 18]).is_err());
        let empty: [f64; 0] = [];
        let imgs = Images::contiguous(&empty, [0, 32, 32, 3]).unwrap();
        hog_batch(&imgs, false, GrayRule::Sequential, &mut []).unwrap();
        // Constant image: no gradient anywhere.
        let data = vec![7u8; 16 * 16];
        let mut out = vec![1.0; hog_len(16, 16)];
        hog_batch(
            &Images::contiguous(&data, [1, 16, 16, 1]).unwrap(),
            true,
            GrayRule::Sequential,
            &mut out,
        )
        .unwrap();
        assert!(out.iter().all(|&v| v == 0.0));
    }

    #[test]
    fn gray_rules_differ_where_two_colours_have_equal_gray() {
        // 0.299 * 58 - 0.587 * 58 + 0.144 * 116 = 0: mathematically equal gray values.
        let (p, q) = ([101.0, 238.0, 73.0], [159.0, 180.0, 189.0]);
        let g = |rule, c: [f64; 3]| gray_pixel(rule, c[0], c[1], c[2]);
        assert_eq!(g(GrayRule::FmaGreenFirst, p), g(GrayRule::FmaGreenFirst, q));
        assert_eq!(g(GrayRule::FmaInOrder, p), g(GrayRule::FmaInOrder, q));
        assert_ne!(g(GrayRule::Sequential, p), g(GrayRule::Sequential, q));
        assert_eq!(
            gray_pixel(GrayRule::Sequential, -0.0, -0.0, -0.0).to_bits(),
            0.0f64.to_bits()
        );
        assert!(GrayRule::from_index(3).is_err());
        for (i, r) in [
            (0, GrayRule::Sequential),
            (1, GrayRule::FmaGreenFirst),
            (2, GrayRule::FmaInOrder),
        ] {
            assert_eq!(GrayRule::from_index(i).unwrap(), r);
        }
    }

    #[test]
    fn view_outside_the_buffer_is_an_error() {
        let data = vec![0u8; 10];
        assert!(Images::new(&data, 0, [1, 2, 2, 3], [12, 6, 3, 1]).is_err());
        assert!(Images::new(&data, 0, [1, 1, 2, 1], [0, 0, -1, 1]).is_err());
        assert!(Images::new(&data, 9, [1, 2, 1, 1], [0, 1, 0, 0]).is_err());
        assert!(Images::new(&data, 0, [0, 2, 2, 3], [12, 6, 3, 1]).is_ok());
    }

    #[test]
    fn fast_bins_equal_atan2_bins() {
        let tans = bin_tangents();
        let to_deg = 180.0 / std::f64::consts::PI;
        let exact = |gx: f64, gy: f64| orientation_bin(gy.atan2(gx + 1e-15) * to_deg + 90.0);
        let mut s = 12345u64;
        let mut rnd = || {
            s = s
                .wrapping_mul(6364136223846793005)
                .wrapping_add(1442695040888963407);
            ((s >> 11) as f64 / (1u64 << 53) as f64) * 2.0 - 1.0
        };
        let mut cases = vec![
            (0.0, 0.0),
            (0.0, 1.0),
            (0.0, -1.0),
            (-1e-15, 5.0),
            (-1e-15, -5.0),
            (1e-300, 1.0),
            (-1e-300, -1.0),
            (1.0, 1e7),
            (-1.0, 1e7),
            (f64::NAN, 1.0),
            (1.0, f64::NAN),
            (f64::INFINITY, 1.0),
            (1.0, f64::INFINITY),
            (f64::INFINITY, f64::INFINITY),
            (-f64::INFINITY, 0.0),
        ];
        for _ in 0..200_000 {
            let (gx, gy) = (rnd() * 300.0, rnd() * 300.0);
            cases.push((gx, gy));
            cases.push((gx.round(), gy.round()));
        }
        // right at and next to every boundary
        for &th in &tans {
            for gx in [1.0, 3.0, 0.1, 255.0, 1e-10] {
                let gy = gx * th;
                for d in -3i64..=3 {
                    cases.push((gx, f64::from_bits((gy.to_bits() as i64 + d) as u64)));
                }
            }
        }
        for (gx, gy) in cases {
            assert_eq!(
                hog_bin(gx, gy, &tans, to_deg),
                exact(gx, gy),
                "gx={gx:e} gy={gy:e}"
            );
        }
    }

    #[test]
    fn orientation_bins_follow_the_exact_comparisons() {
        assert_eq!(orientation_bin(0.0), None);
        assert_eq!(orientation_bin(180.0), None);
        assert_eq!(orientation_bin(f64::NAN), None);
        assert_eq!(orientation_bin(20.0), Some(1));
        assert_eq!(orientation_bin(20.0 - 1e-14), Some(0));
        assert_eq!(orientation_bin(179.99999999999997), Some(8));
        assert_eq!(orientation_bin(1e-300), Some(0));
        for k in 1..9 {
            let t = 20.0 * k as f64;
            assert_eq!(orientation_bin(t), Some(k));
            let below = f64::from_bits(t.to_bits() - 1);
            assert_eq!(orientation_bin(below), Some(k - 1));
        }
    }

    fn hue_of(r: f64, g: f64, b: f64) -> f64 {
        let data = [r, g, b];
        let edges: Vec<f64> = (0..=360).map(|k| k as f64 / 360.0).collect();
        let mut out = vec![0.0; 360];
        let imgs = Images::contiguous(&data, [1, 1, 1, 3]).unwrap();
        hsv_hist_batch::<f64, f64>(&imgs, 1.0, &edges, false, &mut out).unwrap();
        let i = out.iter().position(|&v| v > 0.0).unwrap();
        i as f64 / 360.0
    }

    #[test]
    fn hue_of_primary_colours() {
        assert_eq!(hue_of(1.0, 0.0, 0.0), 0.0);
        assert!((hue_of(0.0, 1.0, 0.0) - 120.0 / 360.0).abs() < 1e-12);
        assert!((hue_of(0.0, 0.0, 1.0) - 240.0 / 360.0).abs() < 1e-12);
        // magenta: red is max, g - b < 0, wraps to 300 degrees
        assert!((hue_of(1.0, 0.0, 1.0) - 300.0 / 360.0).abs() < 1e-12);
        assert_eq!(hue_of(0.5, 0.5, 0.5), 0.0);
    }

    #[test]
    fn histogram_counts_and_density() {
        // 4 gray pixels (hue 0) and 4 pure green (hue 1/3 -> 85 of 255).
        let mut data = vec![0u8; 8 * 3];
        for p in 4..8 {
            data[p * 3 + 1] = 255;
        }
        let imgs = Images::contiguous(&data, [1, 2, 4, 3]).unwrap();
        let edges: Vec<f64> = (0..=10).map(|k| 25.5 * k as f64).collect();
        let mut out = vec![0.0; 10];
        hsv_hist_batch::<u8, f64>(&imgs, 255.0, &edges, false, &mut out).unwrap();
        assert_eq!(out[0], 4.0 * 25.5);
        assert_eq!(out[3], 4.0 * 25.5);
        hsv_hist_batch::<u8, f64>(&imgs, 255.0, &edges, true, &mut out).unwrap();
        assert!((out.iter().sum::<f64>() - 1.0).abs() < 1e-15);
        assert!((out[0] - 0.5).abs() < 1e-15);
    }

    #[test]
    fn bins_follow_searchsorted_rules() {
        let naive = |e: &[f64], v: f64| -> Option<usize> {
            let n = e.len() - 1;
            (0..n).find(|&i| e[i] <= v && (v < e[i + 1] || (i == n - 1 && v <= e[n])))
        };
        let sets: Vec<Vec<f64>> = vec![
            (0..=10).map(|k| 25.5 * k as f64).collect(),
            vec![0.0, 0.0, 1.0, 1.0, 1.0, 3.0],
            vec![5.0, 5.0, 5.0],
            vec![-1.0, 2.0],
            vec![7.0],
            (0..=25).map(|k| k as f64 * 255.0 / 25.0).collect(),
        ];
        for e in &sets {
            let b = Bins::new(e);
            let mut vals = vec![f64::NAN, f64::INFINITY, -f64::INFINITY, -0.0, 1e300];
            for &x in e.iter() {
                for d in -2i64..=2 {
                    vals.push(f64::from_bits((x.to_bits() as i64 + d) as u64));
                }
            }
            vals.extend((0..600).map(|k| k as f64 * 0.5 - 20.0));
            for v in vals {
                let want = if e.len() == 1 { None } else { naive(e, v) };
                assert_eq!(b.find(v), want, "edges {e:?} v {v}");
            }
        }
    }

    #[test]
    fn histogram_range_errors() {
        let data = [0.0f64, 300.0, 1.0];
        let imgs = Images::contiguous(&data, [1, 1, 1, 3]).unwrap();
        let e = hsv_hist_batch::<f64, f64>(&imgs, 255.0, &[0.0, 255.0], true, &mut [0.0]);
        assert!(matches!(e, Err(KernelError::Value { .. })));
        let data = [0.0f64, -1.0, 1.0];
        let imgs = Images::contiguous(&data, [1, 1, 1, 3]).unwrap();
        assert!(hsv_hist_batch::<f64, f64>(&imgs, 255.0, &[0.0, 255.0], true, &mut [0.0]).is_err());
        // with a NaN anywhere the minimum is NaN and the negative value passes (as in NumPy)
        let data = [0.0f64, -1.0, 1.0, f64::NAN, 0.0, 0.0];
        let imgs = Images::contiguous(&data, [1, 1, 2, 3]).unwrap();
        assert!(hsv_hist_batch::<f64, f64>(&imgs, 255.0, &[0.0, 255.0], true, &mut [0.0]).is_ok());
        let data = [0.0f64; 3];
        let imgs = Images::contiguous(&data, [1, 1, 1, 3]).unwrap();
        assert!(hsv_hist_batch::<f64, f64>(&imgs, 255.0, &[1.0, 0.0], true, &mut [0.0]).is_err());
        let imgs4 = Images::contiguous(&data, [1, 1, 1, 3]).unwrap();
        assert!(hsv_hist_batch::<f64, f32>(&imgs4, 255.0, &[], true, &mut []).is_err());
    }

    #[test]
    fn first_error_in_image_order_for_any_thread_count() {
        let n = 40;
        let mut data = vec![0.0f64; n * 3];
        data[25 * 3] = 2.0; // image 25 too big
        data[33 * 3 + 1] = 5.0; // image 33 too big
        for t in [1, 2, 4] {
            threads::set_num_threads(t).unwrap();
            let imgs = Images::contiguous(&data, [n, 1, 1, 3]).unwrap();
            let mut out = vec![0.0; n];
            let e = hsv_hist_batch::<f64, f64>(&imgs, 1.0, &[0.0, 1.0], true, &mut out).unwrap_err();
            assert!(e.to_string().contains("maximum value of 2.0"), "{e}");
        }
    }
}
