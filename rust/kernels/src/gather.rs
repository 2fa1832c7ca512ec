//! Minibatch gather: out[r] = X[idx[r]] (negative indices count from the end, as NumPy's).

use crate::error::KernelError;
use crate::layout::wrap_index;
use crate::threads;
use crate::{KResult, Real, Rows};

/// Copies the rows `idx` of `x` into `out` (idx.len() x x.ncols, C order).
pub fn gather_rows<T: Real>(x: Rows<'_, T>, idx: &[i64], out: &mut [T]) -> KResult<()> {
    let d = x.ncols;
    if out.len() != idx.len() * d {
        return Err(KernelError::shape(
            "out",
            format!("({}, {d})", idx.len()),
            format!("{} elements", out.len()),
        ));
    }
    let rows: Vec<usize> = idx
        .iter()
        .map(|&i| wrap_index(i, x.nrows, "idx"))
        .collect::<KResult<_>>()?;
    if d == 0 {
        return Ok(());
    }
    const CHUNK: usize = 64;
    threads::for_each_chunk_mut(out, CHUNK * d, |c, block| {
        for (r, dst) in block.chunks_mut(d).enumerate() {
            dst.copy_from_slice(x.row(rows[c * CHUNK + r]));
        }
    });
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn gathers_with_repeats_and_negative_indices() {
        let x: Vec<f32> = (0..12).map(|v| v as f32).collect();
        let mut out = vec![0.0; 9];
        gather_rows(Rows::new(&x, 4, 3).unwrap(), &[3, -4, 3], &mut out).unwrap();
        assert_eq!(out, vec![9.0, 10.0, 11.0, 0.0, 1.0, 2.0, 9.0, 10.0, 11.0]);
        assert!(gather_rows(Rows::new(&x, 4, 3).unwrap(), &[4], &mut out[..3]).is_err());
    }
}
