//! Row views: a matrix whose rows are contiguous but may be spaced apart (`X[::2]`, `X[:, :5]`).
//! Anything else (transposes, negative steps, Fortran order) is copied once into C order.

use crate::error::{try_zeros, KernelError};
use crate::Real;
use ndarray::ArrayView2;

/// `nrows` rows of `ncols` contiguous elements, row `i` starting at `data[i * row_stride]`.
#[derive(Clone, Copy, Debug)]
pub struct Rows<'a, T> {
    data: &'a [T],
    pub nrows: usize,
    pub ncols: usize,
    pub row_stride: usize,
}

impl<'a, T> Rows<'a, T> {
    /// A C-ordered `nrows x ncols` matrix in `data`.
    pub fn new(data: &'a [T], nrows: usize, ncols: usize) -> Result<Self, KernelError> {
        Self::strided(data, nrows, ncols, ncols)
    }

    /// Rows spaced `row_stride` elements apart (`row_stride >= ncols`).
    pub fn strided(
        data: &'a [T],
        nrows: usize,
        ncols: usize,
        row_stride: usize,
    ) -> Result<Self, KernelError> {
        let needed = if nrows == 0 || ncols == 0 {
            0
        } else {
            (nrows - 1) * row_stride + ncols
        };
        if data.len() < needed || (nrows > 1 && row_stride < ncols) {
            return Err(KernelError::shape(
                "data",
                format!("at least {needed} elements"),
                format!("{}", data.len()),
            ));
        }
        Ok(Rows {
            data,
            nrows,
            ncols,
            row_stride,
        })
    }

    #[inline(always)]
    pub fn row(&self, i: usize) -> &'a [T] {
        let s = i * self.row_stride;
        &self.data[s..s + self.ncols]
    }

    /// Raw pointer to element (0, 0), for GEMM calls; valid for `nrows` rows of this stride.
    #[inline]
    pub fn as_ptr(&self) -> *const T {
        self.data.as_ptr()
    }

    /// The underlying elements (rows `row_stride` apart).
    pub fn data_slice(&self) -> &'a [T] {
        self.data
    }

    /// Shape as `(nrows, ncols)` for error messages.
    pub fn shape_str(&self) -> String {
        format!("({}, {})", self.nrows, self.ncols)
    }
}

/// A [`Rows`] view that either borrows the caller's memory or owns a C-ordered copy of it.
pub enum RowsBuf<'a, T> {
    Borrowed(Rows<'a, T>),
    Owned {
        data: Vec<T>,
        nrows: usize,
        ncols: usize,
    },
}

impl<'a, T: Real> RowsBuf<'a, T> {
    /// Borrow `view` when its rows are contiguous and its row step is non-negative; copy otherwise.
    pub fn from_view(view: ArrayView2<'a, T>) -> Result<Self, KernelError> {
        let (nrows, ncols) = view.dim();
        let s = view.strides();
        let cols_ok = ncols <= 1 || s[1] == 1;
        let rows_ok = nrows <= 1 || s[0] >= ncols as isize;
        if cols_ok && rows_ok {
            // Zero-width rows are all the same empty row (a view's stride is meaningless then).
            let row_stride = if nrows <= 1 || ncols == 0 {
                ncols
            } else {
                s[0] as usize
            };
            let len = if nrows == 0 || ncols == 0 {
                0
            } else {
                (nrows - 1) * row_stride + ncols
            };
            // SAFETY: the view spans exactly these `len` elements starting at its first element.
            let data = unsafe { std::slice::from_raw_parts(view.as_ptr(), len) };
            return Ok(RowsBuf::Borrowed(Rows {
                data,
                nrows,
                ncols,
                row_stride,
            }));
        }
        let mut data = try_zeros(
            crate::error::checked_len(nrows, ncols, "a C-ordered copy")?,
            "a C-ordered copy",
        )?;
        for (dst, src) in data.chunks_mut(ncols.max(1)).zip(view.rows()) {
            for (d, s) in dst.iter_mut().zip(src.iter()) {
                *d = *s;
            }
        }
        Ok(RowsBuf::Owned { data, nrows, ncols })
    }

    pub fn rows(&self) -> Rows<'_, T> {
        match self {
            RowsBuf::Borrowed(r) => *r,
            RowsBuf::Owned { data, nrows, ncols } => Rows {
                data,
                nrows: *nrows,
                ncols: *ncols,
                row_stride: *ncols,
            },
        }
    }
}

/// Python-style index (`-n <= i < n`) to a position, or an error naming `arg`.
#[inline]
pub fn wrap_index(i: i64, n: usize, arg: &'static str) -> Result<usize, KernelError> {
    let n_i = n as i64;
    let j = if i < 0 { i + n_i } else { i };
    if j < 0 || j >= n_i {
        return Err(KernelError::value(
            arg,
            format!("index {i} is out of bounds for size {n}"),
        ));
    }
    Ok(j as usize)
}

#[cfg(test)]
mod tests {
    use super::*;
    use ndarray::{s, Array2};

    #[test]
    fn views_of_any_layout_give_the_same_rows() {
        let a = Array2::from_shape_fn((4, 5), |(i, j)| (i * 10 + j) as f64);
        let t = a.t().to_owned();
        let empty = a.slice(s![.., ..0]);
        assert_eq!(RowsBuf::from_view(empty).unwrap().rows().row(3), &[] as &[f64]);
        for v in [a.view(), a.slice(s![..;2, ..]), a.slice(s![..;-1, 1..4]), t.t()] {
            let buf = RowsBuf::from_view(v).unwrap();
            let r = buf.rows();
            for i in 0..v.nrows() {
                assert_eq!(r.row(i), v.row(i).to_vec().as_slice());
            }
        }
    }

    #[test]
    fn wrap_index_accepts_negative_like_numpy() {
        assert_eq!(wrap_index(-1, 5, "i").unwrap(), 4);
        assert!(wrap_index(5, 5, "i").is_err());
        assert!(wrap_index(-6, 5, "i").is_err());
    }
}
