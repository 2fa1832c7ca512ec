//! Loss layers over class scores x (N, C): `svm_loss` (hinge, delta 1) and `softmax_loss`
//! (cross-entropy), the per-row math shared with the linear classifiers (`linear_loss::ScoreLoss`):
//!   loss = (1/N) sum_i L(x_i, y_i);   dx_i = dL/dx_i / N.

use crate::error::KernelError;
use crate::linear_loss::ScoreLoss;
use crate::threads::{self, Disjoint};
use crate::{KResult, Real, Rows};

/// Rows per parallel task (their losses are added in task order).
const ROWS_PER_TASK: usize = 256;

/// Mean loss of the rows of `x` with labels `y`; writes dx (N x C, C order).
pub fn score_loss<T: Real, L: ScoreLoss>(x: Rows<'_, T>, y: &[i64], dx: &mut [T]) -> KResult<f64> {
    let (n, c) = (x.nrows, x.ncols);
    if y.len() != n {
        return Err(KernelError::shape(
            "y",
            format!("({n},), one label per row of x"),
            format!("({},)", y.len()),
        ));
    }
    if dx.len() != n * c {
        return Err(KernelError::shape(
            "dx",
            format!("({n}, {c})"),
            format!("{} elements", dx.len()),
        ));
    }
    for &label in y {
        if label < 0 || label as u64 >= c as u64 {
            return Err(KernelError::value(
                "y",
                format!("labels must be in [0, {c}), got {label}"),
            ));
        }
    }
    let tasks = n.div_ceil(ROWS_PER_TASK);
    let mut partial = vec![0.0f64; tasks];
    let (od, op) = (Disjoint::new(dx), Disjoint::new(&mut partial));
    let count = T::of(n as f64);
    threads::for_each_index(tasks, |t| {
        let (r0, r1) = (t * ROWS_PER_TASK, ((t + 1) * ROWS_PER_TASK).min(n));
        // SAFETY: rows r0..r1 and partial[t] belong to this task.
        let (d, p) = unsafe { (od.part(r0 * c, (r1 - r0) * c), op.part(t, 1)) };
        p[0] = crate::wide!({
            for (r, row) in d.chunks_mut(c.max(1)).enumerate().take(r1 - r0) {
                row.copy_from_slice(x.row(r0 + r));
            }
            let sum = L::block(d, c, &y[r0..r1]); // labels checked above
            for v in d.iter_mut() {
                *v /= count;
            }
            sum
        });
    });
    Ok(partial.iter().sum::<f64>() / n as f64)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::linear_loss::{Hinge, SoftmaxCrossEntropy};

    #[test]
    fn softmax_and_hinge_of_a_small_batch() {
        let x = [1.0f64, 2.0, 3.0, 0.5, 0.5, 0.5];
        let xr = Rows::new(&x, 2, 3).unwrap();
        let mut dx = [0.0; 6];
        let l = score_loss::<f64, SoftmaxCrossEntropy>(xr, &[2, 0], &mut dx).unwrap();
        let z: f64 = (1f64.exp() + 2f64.exp() + 3f64.exp()).ln();
        assert!((l - ((z - 3.0) + 3f64.ln()) / 2.0).abs() < 1e-14);
        assert!((dx[2] - ((3f64.exp() / z.exp()) - 1.0) / 2.0).abs() < 1e-14);
        let l = score_loss::<f64, Hinge>(xr, &[0, 1], &mut dx).unwrap();
        // row 0: margins 2, 3 -> 5; row 1: margins 1, 1 -> 2
        assert_eq!(l, 3.5);
        assert_eq!(dx, [-1.0, 0.5, 0.5, 0.5, -1.0, 0.5]);
        assert!(score_loss::<f64, Hinge>(xr, &[0, 3], &mut dx).is_err());
    }
}
