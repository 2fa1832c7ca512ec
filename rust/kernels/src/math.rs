//! Elementary functions written so that loops over them vectorize (libm's are opaque calls).

/// e^x for f64 with an error of about 1 ulp; inf, NaN, overflow and underflow (to subnormals and
/// zero) as libm:
///   x = n ln2 + r, |r| <= ln2 / 2 (ln2 split in two for an exact reduction);
///   e^r by its Taylor series to r^13 / 13! (truncation < 2e-16 relative);
///   2^n applied as two exact powers of two, so subnormal results come out right.
#[inline(always)]
pub fn exp(x: f64) -> f64 {
    const LN2_HI: f64 = 0.693_147_180_369_123_8; // 0x3fe62e42fee00000: n * LN2_HI is exact
    const LN2_LO: f64 = 1.908_214_929_270_587_7e-10;
    const INV_LN2: f64 = std::f64::consts::LOG2_E;
    // clamp keeps 2^n finite; results beyond the clamps are inf or 0 anyway
    let xc = x.clamp(-746.0, 710.0);
    let n = (xc * INV_LN2).round();
    let r = (xc - n * LN2_HI) - n * LN2_LO;
    let mut p = 1.0 / 6227020800.0; // 1/13!
    for c in [
        1.0 / 479001600.0,
        1.0 / 39916800.0,
        1.0 / 3628800.0,
        1.0 / 362880.0,
        1.0 / 40320.0,
        1.0 / 5040.0,
        1.0 / 720.0,
        1.0 / 120.0,
        1.0 / 24.0,
        1.0 / 6.0,
        0.5,
        1.0,
        1.0,
    ] {
        p = p * r + c;
    }
    let ni = n as i64;
    let half = ni / 2;
    let y = p * pow2(half) * pow2(ni - half);
    if x.is_nan() {
        x
    } else {
        y
    }
}

/// 2^k for -1022 <= k <= 1023 (built from the exponent bits).
#[inline(always)]
fn pow2(k: i64) -> f64 {
    f64::from_bits(((k + 1023) as u64) << 52)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn matches_libm_to_an_ulp_or_two() {
        let mut worst = 0.0f64;
        let mut x = -745.5;
        while x < 709.8 {
            let (a, b) = (exp(x), x.exp());
            if b != 0.0 && b.is_normal() {
                worst = worst.max(((a - b) / b).abs());
            } else {
                assert!(a == b || (a - b).abs() <= 1e-320, "{x}: {a} vs {b}");
            }
            x += 0.0137;
        }
        assert!(worst < 4.5e-16, "worst relative error {worst}");
        assert_eq!(exp(0.0), 1.0);
        assert_eq!(exp(f64::NEG_INFINITY), 0.0);
        assert_eq!(exp(f64::INFINITY), f64::INFINITY);
        assert_eq!(exp(710.0), f64::INFINITY);
        assert!(exp(f64::NAN).is_nan());
        assert_eq!(exp(-800.0), 0.0);
    }
}
