//! Matrix product through the `gemm` crate (runtime AVX2/FMA/AVX-512 dispatch).
//!
//! Always single-threaded: callers split their work into fixed tiles and run the tiles on the pool,
//! so every output element is reduced over `k` in the same order whatever the thread count.

use crate::Real;

/// A strided matrix operand: element `(i, j)` is at `ptr + i * rs + j * cs`.
#[derive(Clone, Copy)]
pub struct Operand<T> {
    pub ptr: *const T,
    pub rs: isize,
    pub cs: isize,
}

impl<T> Operand<T> {
    /// A row-major matrix with rows `ld` elements apart.
    pub fn rows(ptr: *const T, ld: usize) -> Self {
        Operand {
            ptr,
            rs: ld as isize,
            cs: 1,
        }
    }
    /// The transpose of a row-major matrix with rows `ld` elements apart.
    pub fn transposed(ptr: *const T, ld: usize) -> Self {
        Operand {
            ptr,
            rs: 1,
            cs: ld as isize,
        }
    }
}

/// `dst (m x n, row-major, rows dst_ld apart) = [dst +] scale * a (m x k) * b (k x n)`.
///
/// # Safety
/// `dst`, `a` and `b` must be valid for the given shapes and strides, and `dst` must not overlap them.
#[allow(clippy::too_many_arguments)]
pub unsafe fn gemm<T: Real>(
    m: usize,
    n: usize,
    k: usize,
    dst: *mut T,
    dst_ld: usize,
    accumulate: bool,
    a: Operand<T>,
    b: Operand<T>,
    scale: T,
) {
    if m == 0 || n == 0 {
        return;
    }
    if k == 0 {
        if !accumulate {
            for i in 0..m {
                std::slice::from_raw_parts_mut(dst.add(i * dst_ld), n).fill(T::zero());
            }
        }
        return;
    }
    gemm::gemm(
        m,
        n,
        k,
        dst,
        1,
        dst_ld as isize,
        accumulate,
        a.ptr,
        a.cs,
        a.rs,
        b.ptr,
        b.cs,
        b.rs,
        T::one(),
        scale,
        false,
        false,
        false,
        gemm::Parallelism::None,
    );
}

/// A read-only strided matrix borrowed from an array of any layout (transposes, negative steps,
/// Fortran order): element `(i, j)` is at `ptr + i * rs + j * cs`. No copy is ever made of it.
#[derive(Clone, Copy)]
pub struct MatRef<'a, T> {
    ptr: *const T,
    pub nrows: usize,
    pub ncols: usize,
    rs: isize,
    cs: isize,
    _life: std::marker::PhantomData<&'a T>,
}

// SAFETY: a `MatRef` only reads the elements it borrows for `'a`.
unsafe impl<T: Sync> Send for MatRef<'_, T> {}
unsafe impl<T: Sync> Sync for MatRef<'_, T> {}

impl<'a, T: Real> MatRef<'a, T> {
    /// A view of an ndarray (the strides are taken as they are).
    pub fn from_view(v: ndarray::ArrayView2<'a, T>) -> Self {
        let (nrows, ncols) = v.dim();
        let s = v.strides();
        MatRef {
            ptr: v.as_ptr(),
            nrows,
            ncols,
            rs: s[0],
            cs: s[1],
            _life: std::marker::PhantomData,
        }
    }

    /// A C-ordered `nrows x ncols` matrix.
    pub fn c_order(data: &'a [T], nrows: usize, ncols: usize) -> Result<Self, crate::KernelError> {
        let rows = crate::Rows::new(data, nrows, ncols)?;
        Ok(Self::from_rows(rows))
    }

    /// A [`crate::Rows`] view.
    pub fn from_rows(r: crate::Rows<'a, T>) -> Self {
        MatRef {
            ptr: r.as_ptr(),
            nrows: r.nrows,
            ncols: r.ncols,
            rs: r.row_stride as isize,
            cs: 1,
            _life: std::marker::PhantomData,
        }
    }

    /// The transpose (free: strides swap).
    pub fn t(self) -> Self {
        MatRef {
            nrows: self.ncols,
            ncols: self.nrows,
            rs: self.cs,
            cs: self.rs,
            ..self
        }
    }

    /// Element `(i, j)`.
    #[inline(always)]
    pub fn at(&self, i: usize, j: usize) -> T {
        debug_assert!(i < self.nrows && j < self.ncols);
        // SAFETY: in bounds of the borrowed array.
        unsafe { *self.ptr.offset(i as isize * self.rs + j as isize * self.cs) }
    }

    /// The sub-matrix of rows `r0..r0 + nrows`, columns `c0..c0 + ncols`.
    fn block(&self, r0: usize, c0: usize, nrows: usize, ncols: usize) -> Operand<T> {
        let ptr = if nrows == 0 || ncols == 0 {
            self.ptr
        } else {
            // SAFETY: (r0, c0) is an element of the matrix.
            unsafe { self.ptr.offset(r0 as isize * self.rs + c0 as isize * self.cs) }
        };
        Operand {
            ptr,
            rs: self.rs,
            cs: self.cs,
        }
    }

    pub fn shape_str(&self) -> String {
        format!("({}, {})", self.nrows, self.ncols)
    }
}

/// Split of one GEMM into tiles: fixed by the shape alone, so every output element is reduced in
/// the same order whatever the thread count.
const MAX_TILES: usize = 8;
/// Multiply-adds per tile at least (below, waking a thread costs more than it saves).
const TILE_MIN_WORK: usize = 1 << 19;
/// And at least this many multiply-adds per element of the operand every tile packs again (B when
/// rows are split, A when columns are): more tiles would spend more on packing than they gain.
/// Tile counts are powers of two, which keeps 2 or 4 threads evenly loaded.
const WORK_PER_PACKED: usize = 64;
/// Tiles are multiples of this many rows or columns (equal tiles keep both threads busy to the end).
const TILE_QUANTUM: usize = 16;

/// One GEMM `dst = a * b` cut into tiles along its longer output dimension.
struct Plan<'a, T> {
    a: MatRef<'a, T>,
    b: MatRef<'a, T>,
    dst: usize,
    split_rows: bool,
    len: usize,
    tiles: usize,
}

impl<'a, T: Real> Plan<'a, T> {
    fn new(a: MatRef<'a, T>, b: MatRef<'a, T>, dst: &mut [T]) -> Self {
        let (m, k, n) = (a.nrows, a.ncols, b.ncols);
        debug_assert_eq!(b.nrows, k);
        assert_eq!(dst.len(), m * n, "par_gemm: dst has the wrong length");
        let split_rows = m >= n;
        let len = if split_rows { m } else { n };
        let work = m.saturating_mul(n).saturating_mul(k);
        let shared = if split_rows { k * n } else { m * k };
        let floor = TILE_MIN_WORK.max(shared.saturating_mul(WORK_PER_PACKED));
        let mut tiles = 1;
        while tiles < MAX_TILES && work / (2 * tiles) >= floor && len / (2 * tiles) >= TILE_QUANTUM {
            tiles *= 2;
        }
        let dst = dst.as_mut_ptr() as usize;
        Plan {
            a,
            b,
            dst,
            split_rows,
            len,
            tiles,
        }
    }

    /// Tile t covers [edge(t), edge(t + 1)): equal shares rounded to the quantum.
    fn edge(&self, t: usize) -> usize {
        if t == self.tiles {
            self.len
        } else {
            t * self.len / self.tiles / TILE_QUANTUM * TILE_QUANTUM
        }
    }

    /// Computes tile `t`, then runs `epilogue(i0, j0, rows, cols, tile)` on it.
    fn run(&self, t: usize, epilogue: &(impl Fn(usize, usize, usize, usize, &mut [T]) + Sync)) {
        let (m, k, n) = (self.a.nrows, self.a.ncols, self.b.ncols);
        let (start, end) = (self.edge(t), self.edge(t + 1));
        let (i0, j0, rows, cols) = if self.split_rows {
            (start, 0, end - start, n)
        } else {
            (0, start, m, end - start)
        };
        let tile_ptr = (self.dst as *mut T).wrapping_add(i0 * n + j0);
        // SAFETY: tiles are disjoint blocks of `dst`; the operands are valid borrowed matrices.
        unsafe {
            gemm(
                rows,
                cols,
                k,
                tile_ptr,
                n,
                false,
                self.a.block(i0, 0, rows, k),
                self.b.block(0, j0, k, cols),
                T::one(),
            );
        }
        if rows > 0 && cols > 0 {
            let tile_len = (rows - 1) * n + cols;
            // SAFETY: rows `i0..i0 + rows` of `dst`, of which this tile owns columns `j0..j0 + cols`;
            // the epilogue only touches those (it is given their bounds).
            let tile = unsafe { std::slice::from_raw_parts_mut(tile_ptr, tile_len) };
            epilogue(i0, j0, rows, cols, tile);
        }
    }
}

/// `dst (a.nrows x b.ncols, C order) = a * b`, then `epilogue(i0, j0, rows, cols, tile)` on each tile
/// (tile = rows of `dst` from `i0`, columns `j0..j0 + cols` of them meaningful). Tiles run in parallel
/// on the pool; the longer output dimension is split.
pub fn par_gemm<T: Real, E>(a: MatRef<'_, T>, b: MatRef<'_, T>, dst: &mut [T], epilogue: E)
where
    E: Fn(usize, usize, usize, usize, &mut [T]) + Sync,
{
    let plan = Plan::new(a, b, dst);
    crate::threads::for_each_index(plan.tiles, |t| plan.run(t, &epilogue));
}

/// Two independent products `dst1 = a1 * b1` and `dst2 = a2 * b2` in one parallel job (each tiled
/// as [`par_gemm`] tiles it, so the bits are the same), plus `extra()` as one more task: one hand-off
/// to the pool instead of three.
#[allow(clippy::too_many_arguments)]
pub fn par_gemm2<T: Real>(
    a1: MatRef<'_, T>,
    b1: MatRef<'_, T>,
    dst1: &mut [T],
    a2: MatRef<'_, T>,
    b2: MatRef<'_, T>,
    dst2: &mut [T],
    extra: impl Fn() + Sync + Send,
) {
    let (p1, p2) = (Plan::new(a1, b1, dst1), Plan::new(a2, b2, dst2));
    let none = |_: usize, _: usize, _: usize, _: usize, _: &mut [T]| {};
    crate::threads::for_each_index(p1.tiles + p2.tiles + 1, |t| {
        if t < p1.tiles {
            p1.run(t, &none)
        } else if t < p1.tiles + p2.tiles {
            p2.run(t - p1.tiles, &none)
        } else {
            extra()
        }
    });
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn par_gemm_matches_loops_for_any_layout_and_threads() {
        let (m, k, n) = (400, 300, 403); // 48M multiply-adds: two tiles
        let a: Vec<f64> = (0..m * k).map(|x| ((x * 7 % 13) as f64) * 0.25 - 1.5).collect();
        let b: Vec<f64> = (0..k * n).map(|x| (x as f64 * 0.1).sin()).collect();
        let bt: Vec<f64> = (0..n * k).map(|x| b[(x % k) * n + x / k]).collect();
        let am = MatRef::c_order(&a, m, k).unwrap();
        let mut first: Option<Vec<f64>> = None;
        for threads in [1, 2, 3] {
            crate::threads::set_num_threads(threads).unwrap();
            for bm in [
                MatRef::c_order(&b, k, n).unwrap(),
                MatRef::c_order(&bt, n, k).unwrap().t(),
            ] {
                let mut c = vec![0.0; m * n];
                par_gemm(am, bm, &mut c, |_, _, _, _, _| {});
                for i in (0..m).step_by(7) {
                    for j in (0..n).step_by(5) {
                        let want: f64 = (0..k).map(|p| a[i * k + p] * b[p * n + j]).sum();
                        assert!((c[i * n + j] - want).abs() < 1e-10);
                    }
                }
                match &first {
                    None => first = Some(c),
                    Some(f) => assert!(f.iter().zip(&c).all(|(x, y)| x.to_bits() == y.to_bits())),
                }
            }
        }
    }

    #[test]
    fn small_product_matches_loops() {
        let (m, n, k) = (3, 4, 5);
        let a: Vec<f64> = (0..m * k).map(|x| x as f64 * 0.5 - 2.0).collect();
        let b: Vec<f64> = (0..k * n).map(|x| (x as f64).sin()).collect();
        let mut c = vec![0.0; m * n];
        unsafe {
            gemm(
                m,
                n,
                k,
                c.as_mut_ptr(),
                n,
                false,
                Operand::rows(a.as_ptr(), k),
                Operand::rows(b.as_ptr(), n),
                1.0,
            )
        };
        for i in 0..m {
            for j in 0..n {
                let want: f64 = (0..k).map(|p| a[i * k + p] * b[p * n + j]).sum();
                assert!((c[i * n + j] - want).abs() < 1e-12);
            }
        }
    }
}
