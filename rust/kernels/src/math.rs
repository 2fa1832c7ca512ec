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
    // n = nearest integer to x / ln2, read from the low mantissa bits of t (no float-to-int
    // conversion, which does not vectorize as Rust's saturating `as` needs)
    const SHIFTER: f64 = 6755399441055744.0; // 1.5 * 2^52
    let t = xc * INV_LN2 + SHIFTER;
    let n = t - SHIFTER;
    let ni = (t.to_bits() as u32 as i32) as i64;
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
    let half = ni >> 1;
    let y = p * pow2(half) * pow2(ni - half);
    if x.is_nan() {
        x
    } else {
        y
    }
}

/// ln x for f64 with an error of about 1 ulp; 0 -> -inf, negative -> NaN, inf and NaN as libm:
///   x = 2^e m with m in [sqrt(1/2), sqrt(2));  ln m = 2 atanh(t) = 2 (t + t^3/3 + ... + t^23/23),
///   t = (m - 1) / (m + 1), |t| <= 0.1716 (truncation < 1e-19);  ln x = e ln2 + ln m.
#[inline(always)]
pub fn ln(x: f64) -> f64 {
    const LN2_HI: f64 = 0.693_147_180_369_123_8;
    const LN2_LO: f64 = 1.908_214_929_270_587_7e-10;
    // subnormals: scale into the normal range first
    let sub = x < f64::MIN_POSITIVE;
    let xs = if sub { x * 18014398509481984.0 } else { x }; // 2^54
    let bits = xs.to_bits();
    let mut e = ((bits >> 52) & 0x7ff) as i64 - 1023;
    let mut m = f64::from_bits((bits & 0x000f_ffff_ffff_ffff) | 0x3ff0_0000_0000_0000);
    if m > std::f64::consts::SQRT_2 {
        m *= 0.5;
        e += 1;
    }
    let e = (e - if sub { 54 } else { 0 }) as f64;
    let t = (m - 1.0) / (m + 1.0);
    let t2 = t * t;
    let mut p = 1.0 / 23.0;
    for c in [
        1.0 / 21.0,
        1.0 / 19.0,
        1.0 / 17.0,
        1.0 / 15.0,
        1.0 / 13.0,
        1.0 / 11.0,
        1.0 / 9.0,
        1.0 / 7.0,
        1.0 / 5.0,
        1.0 / 3.0,
        1.0,
    ] {
        p = p * t2 + c;
    }
    let y = e * LN2_HI + (2.0 * t * p + e * LN2_LO);
    if x.is_nan() || x < 0.0 {
        f64::NAN
    } else if x == 0.0 {
        f64::NEG_INFINITY
    } else if x == f64::INFINITY {
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

    #[test]
    fn ln_matches_libm_to_an_ulp_or_two() {
        let mut worst = 0.0f64;
        for i in 0..200000 {
            let x = 1e-310 * 1.0037f64.powi(i);
            if !x.is_finite() {
                break;
            }
            let (a, b) = (ln(x), x.ln());
            worst = worst.max(((a - b) / b.abs().max(1e-300)).abs());
        }
        for x in [1.0, 1.0 + 1e-12, 0.999999, 2.0, 10.0, 0.5] {
            let (a, b) = (ln(x), f64::ln(x));
            assert!((a - b).abs() <= 3e-16 * b.abs().max(1e-16), "{x}: {a} vs {b}");
        }
        assert!(worst < 4.5e-16, "worst relative error {worst}");
        assert_eq!(ln(0.0), f64::NEG_INFINITY);
        assert_eq!(ln(f64::INFINITY), f64::INFINITY);
        assert!(ln(-1.0).is_nan() && ln(f64::NAN).is_nan());
    }
}
