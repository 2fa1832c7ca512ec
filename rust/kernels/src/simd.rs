//! Runtime instruction-set dispatch for the hand-blocked kernels.
//!
//! SIMD kernels are written once over [`Lanes`] (256-bit vectors of f32 or f64) with
//! `#[inline(always)]` bodies; thin `#[target_feature]` wrappers compile them for AVX2+FMA or
//! AVX-512VL, and portable loops serve other CPUs. Wheels are built for baseline x86-64 (no `target-cpu=native`).

use std::sync::OnceLock;

/// The instruction sets a kernel can be compiled for.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Isa {
    /// x86-64 with AVX2 and FMA (16 vector registers).
    Avx2Fma,
    /// x86-64 with AVX-512F/VL as well: the same 256-bit code, but 32 vector registers.
    Avx512,
    /// Anything else: portable code (still auto-vectorised for the baseline).
    Portable,
}

/// Vector registers available to a kernel compiled for `isa`.
pub fn vector_registers(isa: Isa) -> usize {
    match isa {
        Isa::Avx512 => 32,
        _ => 16,
    }
}

/// The best instruction set of this CPU (detected once).
pub fn isa() -> Isa {
    static ISA: OnceLock<Isa> = OnceLock::new();
    *ISA.get_or_init(|| {
        #[cfg(target_arch = "x86_64")]
        {
            if std::is_x86_feature_detected!("avx2") && std::is_x86_feature_detected!("fma") {
                if std::is_x86_feature_detected!("avx512f") && std::is_x86_feature_detected!("avx512vl") {
                    return Isa::Avx512;
                }
                return Isa::Avx2Fma;
            }
        }
        Isa::Portable
    })
}

/// Runs `f` compiled for the CPU's widest instruction set, so that the plain loops of an inlined
/// `f` auto-vectorize for AVX2 or AVX-512 (the crate itself is built for baseline x86-64).
/// The arithmetic is the same in every case (no FMA contraction happens without `mul_add`), so
/// results are bit-identical whichever path runs.
#[inline(always)]
pub fn wide<R>(f: impl FnOnce() -> R) -> R {
    #[cfg(target_arch = "x86_64")]
    {
        match isa() {
            // SAFETY: the features were detected at run time.
            Isa::Avx512 => return unsafe { run_avx512(f) },
            Isa::Avx2Fma => return unsafe { run_avx2(f) },
            Isa::Portable => {}
        }
    }
    f()
}

/// `wide!({ ... })`: the block run through [`wide`], its closure forced inline so that its loops are
/// compiled inside the `#[target_feature]` function.
#[macro_export]
macro_rules! wide {
    ($body:block) => {
        $crate::simd::wide(
            #[inline(always)]
            || $body,
        )
    };
}

#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx2,fma,avx512f,avx512vl,avx512dq,avx512bw")]
unsafe fn run_avx512<R>(f: impl FnOnce() -> R) -> R {
    f()
}

#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx2,fma")]
unsafe fn run_avx2<R>(f: impl FnOnce() -> R) -> R {
    f()
}

/// 256-bit vectors of a float type: the building block of the AVX2 micro-kernels. Methods are only
/// sound to call on a CPU with AVX2 and FMA (callers dispatch through [`isa`]).
pub trait Lanes: Copy {
    /// A vector of `LANES` values.
    type V: Copy;
    const LANES: usize;
    /// # Safety
    /// AVX2+FMA must be available; pointers must be valid for `LANES` elements.
    unsafe fn splat(x: Self) -> Self::V;
    /// # Safety
    /// As [`Lanes::splat`].
    unsafe fn load(p: *const Self) -> Self::V;
    /// # Safety
    /// As [`Lanes::splat`].
    unsafe fn store(p: *mut Self, v: Self::V);
    /// `a * b + c` in one rounding.
    /// # Safety
    /// As [`Lanes::splat`].
    unsafe fn fma(a: Self::V, b: Self::V, c: Self::V) -> Self::V;
    /// `a + b`.
    /// # Safety
    /// As [`Lanes::splat`].
    unsafe fn add(a: Self::V, b: Self::V) -> Self::V;
}

#[cfg(target_arch = "x86_64")]
mod x86 {
    use super::Lanes;
    use std::arch::x86_64::*;

    impl Lanes for f64 {
        type V = __m256d;
        const LANES: usize = 4;
        #[inline(always)]
        unsafe fn splat(x: f64) -> __m256d {
            _mm256_set1_pd(x)
        }
        #[inline(always)]
        unsafe fn load(p: *const f64) -> __m256d {
            _mm256_loadu_pd(p)
        }
        #[inline(always)]
        unsafe fn store(p: *mut f64, v: __m256d) {
            _mm256_storeu_pd(p, v)
        }
        #[inline(always)]
        unsafe fn fma(a: __m256d, b: __m256d, c: __m256d) -> __m256d {
            _mm256_fmadd_pd(a, b, c)
        }
        #[inline(always)]
        unsafe fn add(a: __m256d, b: __m256d) -> __m256d {
            _mm256_add_pd(a, b)
        }
    }

    impl Lanes for f32 {
        type V = __m256;
        const LANES: usize = 8;
        #[inline(always)]
        unsafe fn splat(x: f32) -> __m256 {
            _mm256_set1_ps(x)
        }
        #[inline(always)]
        unsafe fn load(p: *const f32) -> __m256 {
            _mm256_loadu_ps(p)
        }
        #[inline(always)]
        unsafe fn store(p: *mut f32, v: __m256) {
            _mm256_storeu_ps(p, v)
        }
        #[inline(always)]
        unsafe fn fma(a: __m256, b: __m256, c: __m256) -> __m256 {
            _mm256_fmadd_ps(a, b, c)
        }
        #[inline(always)]
        unsafe fn add(a: __m256, b: __m256) -> __m256 {
            _mm256_add_ps(a, b)
        }
    }
}

#[cfg(not(target_arch = "x86_64"))]
mod scalar {
    use super::Lanes;
    macro_rules! scalar_lanes {
        ($t:ty) => {
            impl Lanes for $t {
                type V = $t;
                const LANES: usize = 1;
                unsafe fn splat(x: $t) -> $t {
                    x
                }
                unsafe fn load(p: *const $t) -> $t {
                    *p
                }
                unsafe fn store(p: *mut $t, v: $t) {
                    *p = v
                }
                unsafe fn fma(a: $t, b: $t, c: $t) -> $t {
                    a * b + c
                }
                unsafe fn add(a: $t, b: $t) -> $t {
                    a + b
                }
            }
        };
    }
    scalar_lanes!(f32);
    scalar_lanes!(f64);
}
