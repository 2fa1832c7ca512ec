//! Affine (fully connected) layer: forward and backward on GEMM tiles run by the pool.

use crate::error::KernelError;
use crate::matmul::{par_gemm, par_gemm2, MatRef};
use crate::{KResult, Real};

fn check_len<T>(arg: &'static str, v: &[T], want: usize, shape: String) -> KResult<()> {
    if v.len() != want {
        return Err(KernelError::shape(arg, shape, format!("{} elements", v.len())));
    }
    Ok(())
}

/// Forward:  out (N, M) = x (N, D) w (D, M) + b (M,)
/// (the product first, then the bias, as `x.dot(w) + b` rounds).
pub fn affine_forward<T: Real>(x: MatRef<'_, T>, w: MatRef<'_, T>, b: &[T], out: &mut [T]) -> KResult<()> {
    let (n, d, m) = (x.nrows, x.ncols, w.ncols);
    if w.nrows != d {
        return Err(KernelError::shape(
            "w",
            format!("({d}, M) to match x reshaped to {}", x.shape_str()),
            w.shape_str(),
        ));
    }
    check_len("b", b, m, format!("({m},)"))?;
    check_len("out", out, n * m, format!("({n}, {m})"))?;
    par_gemm(x, w, out, |_, j0, rows, cols, tile| {
        for r in 0..rows {
            let row = &mut tile[r * m..r * m + cols];
            for (o, &bj) in row.iter_mut().zip(&b[j0..j0 + cols]) {
                *o += bj;
            }
        }
    });
    Ok(())
}

/// Backward of `out = x w + b`, given dout (N, M):
///   dx (N, D) = dout w^T     (skipped when `dx` is None: a net's first layer needs no dx)
///   dw (D, M) = x^T dout
///   db (M,)   = sum_n dout[n]   (rows added in order, as NumPy's `sum(axis=0)`)
pub fn affine_backward<T: Real>(
    dout: MatRef<'_, T>,
    x: MatRef<'_, T>,
    w: MatRef<'_, T>,
    dx: Option<&mut [T]>,
    dw: &mut [T],
    db: &mut [T],
) -> KResult<()> {
    let (n, d, m) = (x.nrows, x.ncols, w.ncols);
    if w.nrows != d {
        return Err(KernelError::shape("w", format!("({d}, M)"), w.shape_str()));
    }
    if dout.nrows != n || dout.ncols != m {
        return Err(KernelError::shape(
            "dout",
            format!("({n}, {m})"),
            dout.shape_str(),
        ));
    }
    check_len("dw", dw, d * m, format!("({d}, {m})"))?;
    check_len("db", db, m, format!("({m},)"))?;
    if let Some(dx) = &dx {
        check_len("dx", dx, n * d, format!("({n}, {d})"))?;
    }
    // db = sum_n dout[n], rows added in order (a task of its own)
    let dbp = crate::threads::Disjoint::new(db);
    let col_sums = || {
        // SAFETY: only this task touches db.
        let db = unsafe { dbp.part(0, m) };
        db.fill(T::zero());
        for i in 0..n {
            for (j, acc) in db.iter_mut().enumerate() {
                *acc += dout.at(i, j);
            }
        }
    };
    match dx {
        Some(dx) => par_gemm2(dout, w.t(), dx, x.t(), dout, dw, col_sums),
        None => {
            par_gemm(x.t(), dout, dw, |_, _, _, _, _| {});
            col_sums();
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn forward_and_backward_match_loops() {
        let (n, d, m) = (5, 7, 3);
        let x: Vec<f64> = (0..n * d).map(|v| (v as f64 * 0.37).cos()).collect();
        let w: Vec<f64> = (0..d * m).map(|v| (v as f64 * 0.11).sin()).collect();
        let b = [0.5, -1.0, 2.0];
        let dout: Vec<f64> = (0..n * m).map(|v| v as f64 - 7.0).collect();
        let (xm, wm) = (
            MatRef::c_order(&x, n, d).unwrap(),
            MatRef::c_order(&w, d, m).unwrap(),
        );
        let mut out = vec![0.0; n * m];
        affine_forward(xm, wm, &b, &mut out).unwrap();
        let (mut dx, mut dw, mut db) = (vec![0.0; n * d], vec![0.0; d * m], vec![9.0; m]);
        let dm = MatRef::c_order(&dout, n, m).unwrap();
        affine_backward(dm, xm, wm, Some(&mut dx), &mut dw, &mut db).unwrap();
        for i in 0..n {
            for j in 0..m {
                let want = (0..d).map(|k| x[i * d + k] * w[k * m + j]).sum::<f64>() + b[j];
                assert!((out[i * m + j] - want).abs() < 1e-12);
            }
            for k in 0..d {
                let want: f64 = (0..m).map(|j| dout[i * m + j] * w[k * m + j]).sum();
                assert!((dx[i * d + k] - want).abs() < 1e-12);
            }
        }
        for k in 0..d {
            for j in 0..m {
                let want: f64 = (0..n).map(|i| x[i * d + k] * dout[i * m + j]).sum();
                assert!((dw[k * m + j] - want).abs() < 1e-12);
            }
        }
        for j in 0..m {
            assert_eq!(db[j], (0..n).map(|i| dout[i * m + j]).sum::<f64>());
        }
    }

    #[test]
    fn shape_mismatch_is_an_error() {
        let x = vec![0.0f32; 6];
        let w = vec![0.0f32; 6];
        let xm = MatRef::c_order(&x, 2, 3).unwrap();
        let wm = MatRef::c_order(&w, 2, 3).unwrap();
        let mut out = vec![0.0; 6];
        let e = affine_forward(xm, wm, &[0.0; 3], &mut out).unwrap_err();
        assert!(e.to_string().starts_with("w: expected shape (3, M)"), "{e}");
    }
}
