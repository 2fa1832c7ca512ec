//! The float types every kernel is generic over.

use num_traits::{Float, FromPrimitive, NumAssign, ToPrimitive};

/// `f32` or `f64`.
pub trait Real:
    Float
    + FromPrimitive
    + ToPrimitive
    + NumAssign
    + Default
    + Send
    + Sync
    + std::fmt::Debug
    + crate::simd::Lanes
    + 'static
{
    /// NumPy's name of the type.
    const NAME: &'static str;
    /// Conversion from `f64` (rounding for `f32`).
    fn of(x: f64) -> Self;
    /// Widening to `f64`.
    fn wide(self) -> f64;
    /// e^self, vectorizable (see `math::exp`; f32 computes in f64 and rounds once).
    fn exp_v(self) -> Self;
    /// ln(self), vectorizable (see `math::ln`).
    fn ln_v(self) -> Self;
    /// NumPy's `maximum`: NaN wins, unlike `f64::max`.
    #[inline(always)]
    fn nan_max(self, other: Self) -> Self {
        if self.is_nan() || self > other {
            self
        } else if other.is_nan() {
            other
        } else {
            other.max(self)
        }
    }
}

impl Real for f32 {
    const NAME: &'static str = "float32";
    #[inline(always)]
    fn of(x: f64) -> Self {
        x as f32
    }
    #[inline(always)]
    fn exp_v(self) -> Self {
        crate::math::exp(self as f64) as f32
    }
    #[inline(always)]
    fn ln_v(self) -> Self {
        crate::math::ln(self as f64) as f32
    }
    #[inline(always)]
    fn wide(self) -> f64 {
        self as f64
    }
}

impl Real for f64 {
    const NAME: &'static str = "float64";
    #[inline(always)]
    fn of(x: f64) -> Self {
        x
    }
    #[inline(always)]
    fn exp_v(self) -> Self {
        crate::math::exp(self)
    }
    #[inline(always)]
    fn ln_v(self) -> Self {
        crate::math::ln(self)
    }
    #[inline(always)]
    fn wide(self) -> f64 {
        self
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn nan_max_propagates_nan_like_numpy() {
        assert!(f64::NAN.nan_max(1.0).is_nan());
        assert!(1.0f64.nan_max(f64::NAN).is_nan());
        assert_eq!(2.0f32.nan_max(1.0), 2.0);
        assert_eq!(f64::NEG_INFINITY.nan_max(-3.0), -3.0);
    }
}
