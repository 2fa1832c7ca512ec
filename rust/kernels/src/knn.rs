//! k-nearest-neighbour vote.
//!
//! For each test row: the k smallest distances (ties to the smaller training index, NaN after every
//! number, as a stable `np.argsort` orders them), then the most frequent label among them, ties to
//! the smaller label. Selection is O(num_train) per row (`select_nth_unstable`), never a full sort.

use crate::error::KernelError;
use crate::threads;
use crate::{KResult, Real, Rows};
use std::cmp::Ordering;

/// Total order of (distance, index): NaN greater than any number, then by index.
#[inline]
fn order<T: Real>(a: &(T, u32), b: &(T, u32)) -> Ordering {
    match (a.0.is_nan(), b.0.is_nan()) {
        (false, false) => {
            a.0.partial_cmp(&b.0)
                .unwrap_or(Ordering::Equal)
                .then(a.1.cmp(&b.1))
        }
        (true, true) => a.1.cmp(&b.1),
        (true, false) => Ordering::Greater,
        (false, true) => Ordering::Less,
    }
}

/// Checks labels (non-negative) and returns the number of distinct label slots (max + 1).
pub fn label_slots(labels: &[i64], arg: &'static str) -> KResult<usize> {
    let mut max = -1i64;
    for &l in labels {
        if l < 0 {
            return Err(KernelError::value(
                arg,
                format!("labels must be non-negative integers, found {l}"),
            ));
        }
        max = max.max(l);
    }
    if max >= i32::MAX as i64 {
        return Err(KernelError::value(arg, format!("label {max} is too large")));
    }
    Ok((max + 1) as usize)
}

/// `out[i]` = the voted label of test row `i` of `dists` (num_test x num_train).
pub fn knn_vote<T: Real>(dists: Rows<'_, T>, labels: &[i64], k: usize, out: &mut [i64]) -> KResult<()> {
    let n = dists.ncols;
    if labels.len() != n {
        return Err(KernelError::shape(
            "y_train",
            format!("({n},) to match dists' {n} columns"),
            format!("({},)", labels.len()),
        ));
    }
    if out.len() != dists.nrows {
        return Err(KernelError::shape(
            "out",
            format!("({},)", dists.nrows),
            format!("({},)", out.len()),
        ));
    }
    if k == 0 {
        return Err(KernelError::value("k", "k must be at least 1, got 0"));
    }
    if k > n {
        return Err(KernelError::value(
            "k",
            format!("k={k} is larger than the training set ({n} examples)"),
        ));
    }
    if n > u32::MAX as usize {
        return Err(KernelError::value("dists", "more than 2^32 training examples"));
    }
    let slots = label_slots(labels, "y_train")?;
    const CHUNK: usize = 16;
    threads::for_each_chunk_mut(out, CHUNK, |c, block| {
        let mut cand: Vec<(T, u32)> = Vec::with_capacity(n);
        let mut counts = vec![0u32; slots];
        for (r, o) in block.iter_mut().enumerate() {
            let row = dists.row(c * CHUNK + r);
            cand.clear();
            cand.extend(row.iter().enumerate().map(|(j, &v)| (v, j as u32)));
            if k < n {
                cand.select_nth_unstable_by(k - 1, order);
            }
            let nearest = &cand[..k];
            for &(_, j) in nearest {
                counts[labels[j as usize] as usize] += 1;
            }
            // Most votes; among equal counts the smaller label (strict > keeps the first).
            let (mut best, mut best_count) = (0usize, 0u32);
            for &(_, j) in nearest {
                let l = labels[j as usize] as usize;
                let cnt = counts[l];
                if cnt > best_count || (cnt == best_count && l < best) {
                    best = l;
                    best_count = cnt;
                }
            }
            for &(_, j) in nearest {
                counts[labels[j as usize] as usize] = 0;
            }
            *o = best as i64;
        }
    });
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ties_go_to_the_smaller_label() {
        let d = vec![0.1f64, 0.2, 0.3, 0.4];
        let y = vec![5, 2, 2, 5];
        let mut out = vec![0; 1];
        knn_vote(Rows::new(&d, 1, 4).unwrap(), &y, 4, &mut out).unwrap();
        assert_eq!(out[0], 2);
        knn_vote(Rows::new(&d, 1, 4).unwrap(), &y, 1, &mut out).unwrap();
        assert_eq!(out[0], 5);
    }

    #[test]
    fn equal_distances_prefer_the_smaller_index_and_nan_is_last() {
        let d = vec![f64::NAN, 1.0, 1.0, 0.5];
        let y = vec![0, 1, 2, 3];
        let mut out = vec![0; 1];
        knn_vote(Rows::new(&d, 1, 4).unwrap(), &y, 2, &mut out).unwrap();
        // nearest: index 3 (label 3) then index 1 (label 1): tie -> smaller label 1
        assert_eq!(out[0], 1);
    }

    #[test]
    fn bad_k_and_labels_are_errors() {
        let d = vec![0.0f32; 3];
        let mut out = vec![0; 1];
        assert!(knn_vote(Rows::new(&d, 1, 3).unwrap(), &[0, 1, 2], 4, &mut out).is_err());
        assert!(knn_vote(Rows::new(&d, 1, 3).unwrap(), &[0, 1, 2], 0, &mut out).is_err());
        assert!(knn_vote(Rows::new(&d, 1, 3).unwrap(), &[0, -1, 2], 1, &mut out).is_err());
    }
}
