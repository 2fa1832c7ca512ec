//! Inverted dropout with NumPy's own random numbers (see `mt19937`).
//!
//! Training forward, p = keep probability:  u ~ U[0, 1) (`np.random.rand(*x.shape)`),
//!   mask = [u < p] / p   (in x's dtype),   out = x * mask.
//! Backward:  dx = dout * mask   (`elementwise::mul`).

use crate::error::try_zeros;
use crate::error::KernelError;
use crate::mt19937::{draw_raw, MtState, Words};
use crate::threads::{self, Disjoint};
use crate::{KResult, Real};

/// Doubles drawn serially at a time (their words, 512 KB, stay in L2 for the parallel pass).
const SERIAL: usize = 64 * 1024;
/// Doubles per parallel chunk.
const CHUNK: usize = 32 * 1024;

/// Draws the mask for `x` from `state` (advanced past the draws) and applies it.
pub fn dropout_forward<T: Real>(
    state: &mut MtState,
    p: f64,
    x: &[T],
    mask: &mut [T],
    out: &mut [T],
) -> KResult<()> {
    // NaN fails both comparisons
    if !(p > 0.0 && p <= 1.0) {
        return Err(KernelError::value(
            "p",
            format!("the keep probability must be in (0, 1], got {p}"),
        ));
    }
    for (arg, v) in [("mask", mask.len()), ("out", out.len())] {
        if v != x.len() {
            return Err(KernelError::shape(
                arg,
                format!("{} elements", x.len()),
                format!("{v}"),
            ));
        }
    }
    let keep = T::of(1.0 / p);
    let mut raw = try_zeros::<u32>(2 * SERIAL.min(x.len()), "the random words")?;
    let (om, oo) = (Disjoint::new(mask), Disjoint::new(out));
    for s0 in (0..x.len()).step_by(SERIAL) {
        let n = SERIAL.min(x.len() - s0);
        draw_raw(state, &mut raw[..2 * n]);
        let words = Words::new(&raw[..2 * n]);
        threads::for_each_index(n.div_ceil(CHUNK), |c| {
            let start = c * CHUNK;
            let len = CHUNK.min(n - start);
            // SAFETY: elements s0 + start.. of this chunk are written by this task only.
            let (m, o) = unsafe { (om.part(s0 + start, len), oo.part(s0 + start, len)) };
            let xs = &x[s0 + start..s0 + start + len];
            let (p, keep) = (p, keep); // by value: the loop must not reload them through a reference
            crate::wide!({
                words.map_doubles(
                    start,
                    m,
                    #[inline(always)]
                    move |u| if u < p { keep } else { T::zero() },
                );
                for ((o, &m), &x) in o.iter_mut().zip(m.iter()).zip(xs) {
                    *o = x * m;
                }
            })
        });
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::mt19937::STATE_LEN;

    #[test]
    fn keeps_about_p_and_scales_by_one_over_p() {
        let key: Vec<u32> = (0..STATE_LEN as u32)
            .map(|i| i.wrapping_mul(2654435761) ^ 12345)
            .collect();
        let mut st = MtState::new(key, STATE_LEN).unwrap();
        let x = vec![2.0f32; 40000];
        let (mut m, mut o) = (vec![0.0; x.len()], vec![0.0; x.len()]);
        dropout_forward(&mut st, 0.3, &x, &mut m, &mut o).unwrap();
        let kept = m.iter().filter(|&&v| v != 0.0).count() as f64 / x.len() as f64;
        assert!((kept - 0.3).abs() < 0.01, "{kept}");
        assert!(m.iter().all(|&v| v == 0.0 || v == (1.0 / 0.3) as f32));
        assert!(o.iter().zip(&m).all(|(&a, &b)| a == 2.0 * b));
        for bad in [0.0, -0.5, 1.5, f64::NAN] {
            assert!(dropout_forward(&mut st, bad, &x, &mut m, &mut o).is_err());
        }
    }
}
