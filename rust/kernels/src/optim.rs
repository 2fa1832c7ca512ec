//! The four update rules of cs231n's `optim.py`, each one fused pass over the parameter array.
//!
//! Every rule does exactly the operations of cs231n's NumPy formula, in the same order and in the
//! array's precision (scalars are rounded to it first, as NumPy does with Python floats), without
//! fused multiply-adds: float64 results equal NumPy's bit for bit. The scalars that NumPy computes
//! in Python (`1 - beta1`, `1 - beta1**t`, ...) are computed by the caller and passed in.
//!
//! `next_w` is written over `w` ([`Weights::InPlace`], what `sgd` and the Solver's fast path do) or
//! to a separate array ([`Weights::Out`]); state arrays (velocity, cache, m, v) are updated in place.
//! Large arrays are cut into chunks of [`CHUNK`] elements run on the thread pool; every element is
//! computed by the same code whichever thread runs it, so results do not depend on the thread count.

use crate::error::KernelError;
use crate::simd::{isa, Isa};
use crate::threads;
use crate::{KResult, Real};

/// Elements per parallel chunk (fixed: results never depend on how chunks meet threads).
pub const CHUNK: usize = 1 << 15;
/// Arrays shorter than this run on the calling thread only (waking the pool costs more).
pub const PARALLEL_MIN: usize = 1 << 17;

/// An update rule with its hyper-parameters (as `f64`; rounded to the array's precision).
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum Rule {
    /// `w -= learning_rate * dw`
    Sgd { learning_rate: f64 },
    /// `v = momentum * v - learning_rate * dw;  next_w = w + v`
    SgdMomentum { learning_rate: f64, momentum: f64 },
    /// `cache = decay_rate * cache + one_minus_decay * (dw * dw);`
    /// `next_w = w - (learning_rate * dw) / (sqrt(cache) + epsilon)`
    RmsProp {
        learning_rate: f64,
        decay_rate: f64,
        one_minus_decay: f64,
        epsilon: f64,
    },
    /// `m = beta1 * m + one_minus_beta1 * dw;  mt = m / bias1;`
    /// `v = beta2 * v + one_minus_beta2 * (dw * dw);  vt = v / bias2;`
    /// `next_w = w - (learning_rate * mt) / (sqrt(vt) + epsilon)`
    /// with `bias1 = 1 - beta1**t`, `bias2 = 1 - beta2**t` (t already incremented).
    Adam {
        learning_rate: f64,
        beta1: f64,
        one_minus_beta1: f64,
        bias1: f64,
        beta2: f64,
        one_minus_beta2: f64,
        bias2: f64,
        epsilon: f64,
    },
}

impl Rule {
    /// Builds a rule from its name (`sgd`, `sgd_momentum`, `rmsprop`, `adam`) and its scalars in
    /// the order of the variant's fields.
    pub fn from_name(name: &str, s: &[f64]) -> KResult<Rule> {
        let want = match name {
            "sgd" => 1,
            "sgd_momentum" => 2,
            "rmsprop" => 4,
            "adam" => 8,
            _ => {
                return Err(KernelError::value(
                    "rule",
                    format!("expected 'sgd', 'sgd_momentum', 'rmsprop' or 'adam', got {name:?}"),
                ))
            }
        };
        if s.len() != want {
            return Err(KernelError::value(
                "scalars",
                format!("{name} takes {want} scalars, got {}", s.len()),
            ));
        }
        Ok(match name {
            "sgd" => Rule::Sgd { learning_rate: s[0] },
            "sgd_momentum" => Rule::SgdMomentum {
                learning_rate: s[0],
                momentum: s[1],
            },
            "rmsprop" => Rule::RmsProp {
                learning_rate: s[0],
                decay_rate: s[1],
                one_minus_decay: s[2],
                epsilon: s[3],
            },
            _ => Rule::Adam {
                learning_rate: s[0],
                beta1: s[1],
                one_minus_beta1: s[2],
                bias1: s[3],
                beta2: s[4],
                one_minus_beta2: s[5],
                bias2: s[6],
                epsilon: s[7],
            },
        })
    }

    /// Number of state arrays the rule keeps (velocity; cache; m and v).
    pub fn num_states(&self) -> usize {
        match self {
            Rule::Sgd { .. } => 0,
            Rule::SgdMomentum { .. } | Rule::RmsProp { .. } => 1,
            Rule::Adam { .. } => 2,
        }
    }

    /// Names of the state arrays, for error messages.
    pub fn state_names(&self) -> &'static [&'static str] {
        match self {
            Rule::Sgd { .. } => &[],
            Rule::SgdMomentum { .. } => &["velocity"],
            Rule::RmsProp { .. } => &["cache"],
            Rule::Adam { .. } => &["m", "v"],
        }
    }
}

/// Where `next_w` goes.
pub enum Weights<'a, T> {
    /// Overwrite `w` with `next_w`.
    InPlace(&'a mut [T]),
    /// Read `w`, write `next_w` to `out` (same length).
    Out { w: &'a [T], out: &'a mut [T] },
}

impl<T> Weights<'_, T> {
    fn len(&self) -> usize {
        match self {
            Weights::InPlace(w) => w.len(),
            Weights::Out { w, .. } => w.len(),
        }
    }
}

/// One element of a rule: takes `w`, `dw` and the state values, updates the state, returns `next_w`.
trait Elem<T>: Sync {
    const STATES: usize;
    fn apply(&self, w: T, g: T, s: &mut [T; 2]) -> T;
}

/// `next_w = w - lr * dw`
struct SgdE<T> {
    lr: T,
}
impl<T: Real> Elem<T> for SgdE<T> {
    const STATES: usize = 0;
    #[inline(always)]
    fn apply(&self, w: T, g: T, _s: &mut [T; 2]) -> T {
        w - self.lr * g
    }
}

/// `v = momentum * v - lr * dw;  next_w = w + v`
struct MomentumE<T> {
    lr: T,
    momentum: T,
}
impl<T: Real> Elem<T> for MomentumE<T> {
    const STATES: usize = 1;
    #[inline(always)]
    fn apply(&self, w: T, g: T, s: &mut [T; 2]) -> T {
        let v = self.momentum * s[0] - self.lr * g;
        s[0] = v;
        w + v
    }
}

/// `cache = decay * cache + (1 - decay) * (dw * dw);  next_w = w - (lr * dw) / (sqrt(cache) + eps)`
struct RmsPropE<T> {
    lr: T,
    decay: T,
    one_minus_decay: T,
    eps: T,
}
impl<T: Real> Elem<T> for RmsPropE<T> {
    const STATES: usize = 1;
    #[inline(always)]
    fn apply(&self, w: T, g: T, s: &mut [T; 2]) -> T {
        let cache = self.decay * s[0] + self.one_minus_decay * (g * g);
        s[0] = cache;
        w - (self.lr * g) / (cache.sqrt() + self.eps)
    }
}

/// `m = beta1 * m + (1 - beta1) * dw;  v = beta2 * v + (1 - beta2) * (dw * dw);`
/// `next_w = w - (lr * (m / bias1)) / (sqrt(v / bias2) + eps)`
struct AdamE<T> {
    lr: T,
    beta1: T,
    one_minus_beta1: T,
    bias1: T,
    beta2: T,
    one_minus_beta2: T,
    bias2: T,
    eps: T,
}
impl<T: Real> Elem<T> for AdamE<T> {
    const STATES: usize = 2;
    #[inline(always)]
    fn apply(&self, w: T, g: T, s: &mut [T; 2]) -> T {
        let m = self.beta1 * s[0] + self.one_minus_beta1 * g;
        let mt = m / self.bias1;
        let v = self.beta2 * s[1] + self.one_minus_beta2 * (g * g);
        let vt = v / self.bias2;
        s[0] = m;
        s[1] = v;
        w - (self.lr * mt) / (vt.sqrt() + self.eps)
    }
}

/// One chunk: plain slice loops (all the same length), which the compiler vectorises.
#[inline(always)]
fn chunk_in_place<T: Real, E: Elem<T>>(e: &E, w: &mut [T], g: &[T], s0: &mut [T], s1: &mut [T]) {
    let n = w.len();
    let g = &g[..n];
    let s0 = &mut s0[..if E::STATES > 0 { n } else { 0 }];
    let s1 = &mut s1[..if E::STATES > 1 { n } else { 0 }];
    for i in 0..n {
        let mut st = [T::zero(); 2];
        if E::STATES > 0 {
            st[0] = s0[i];
        }
        if E::STATES > 1 {
            st[1] = s1[i];
        }
        w[i] = e.apply(w[i], g[i], &mut st);
        if E::STATES > 0 {
            s0[i] = st[0];
        }
        if E::STATES > 1 {
            s1[i] = st[1];
        }
    }
}

#[inline(always)]
fn chunk_out<T: Real, E: Elem<T>>(e: &E, w: &[T], out: &mut [T], g: &[T], s0: &mut [T], s1: &mut [T]) {
    let n = w.len();
    let out = &mut out[..n];
    let g = &g[..n];
    let s0 = &mut s0[..if E::STATES > 0 { n } else { 0 }];
    let s1 = &mut s1[..if E::STATES > 1 { n } else { 0 }];
    for i in 0..n {
        let mut st = [T::zero(); 2];
        if E::STATES > 0 {
            st[0] = s0[i];
        }
        if E::STATES > 1 {
            st[1] = s1[i];
        }
        out[i] = e.apply(w[i], g[i], &mut st);
        if E::STATES > 0 {
            s0[i] = st[0];
        }
        if E::STATES > 1 {
            s1[i] = st[1];
        }
    }
}

/// The same loops compiled for AVX2 (wider vectors; no FMA: the rounding stays NumPy's).
#[cfg(target_arch = "x86_64")]
mod avx2 {
    use super::*;

    #[target_feature(enable = "avx2")]
    pub(super) unsafe fn chunk_in_place<T: Real, E: Elem<T>>(
        e: &E,
        w: &mut [T],
        g: &[T],
        s0: &mut [T],
        s1: &mut [T],
    ) {
        super::chunk_in_place(e, w, g, s0, s1)
    }

    #[target_feature(enable = "avx2")]
    pub(super) unsafe fn chunk_out<T: Real, E: Elem<T>>(
        e: &E,
        w: &[T],
        out: &mut [T],
        g: &[T],
        s0: &mut [T],
        s1: &mut [T],
    ) {
        super::chunk_out(e, w, out, g, s0, s1)
    }
}

/// Base pointers of the arrays of one call, shareable across the pool's threads.
#[derive(Clone, Copy)]
struct Ptrs {
    w: usize,
    out: usize, // 0: in place
    g: usize,
    s0: usize,
    s1: usize,
}

fn run_elem<T: Real, E: Elem<T>>(e: &E, weights: Weights<'_, T>, g: &[T], states: &mut [&mut [T]]) {
    let n = weights.len();
    let wide = isa() != Isa::Portable;
    let (w, out) = match weights {
        Weights::InPlace(w) => (w.as_mut_ptr() as usize, 0usize),
        Weights::Out { w, out } => (w.as_ptr() as usize, out.as_mut_ptr() as usize),
    };
    let mut state_ptr = |k: usize| {
        if k < E::STATES {
            states[k].as_mut_ptr() as usize
        } else {
            std::ptr::NonNull::<T>::dangling().as_ptr() as usize
        }
    };
    let p = Ptrs {
        w,
        out,
        g: g.as_ptr() as usize,
        s0: state_ptr(0),
        s1: state_ptr(1),
    };
    let body = |i: usize| {
        let start = i * CHUNK;
        let len = CHUNK.min(n - start);
        let slen = |k: usize| if k < E::STATES { len } else { 0 };
        // SAFETY: the pointers come from slices of length n (checked by the caller); chunks are
        // disjoint, each index is run once, and in place `w` is only ever seen as one `&mut`.
        unsafe {
            let gs = std::slice::from_raw_parts((p.g as *const T).add(start), len);
            let s0 = std::slice::from_raw_parts_mut(
                (p.s0 as *mut T).add(if slen(0) > 0 { start } else { 0 }),
                slen(0),
            );
            let s1 = std::slice::from_raw_parts_mut(
                (p.s1 as *mut T).add(if slen(1) > 0 { start } else { 0 }),
                slen(1),
            );
            if p.out == 0 {
                let ws = std::slice::from_raw_parts_mut((p.w as *mut T).add(start), len);
                #[cfg(target_arch = "x86_64")]
                if wide {
                    return avx2::chunk_in_place(e, ws, gs, s0, s1);
                }
                let _ = wide;
                chunk_in_place(e, ws, gs, s0, s1)
            } else {
                let ws = std::slice::from_raw_parts((p.w as *const T).add(start), len);
                let os = std::slice::from_raw_parts_mut((p.out as *mut T).add(start), len);
                #[cfg(target_arch = "x86_64")]
                if wide {
                    return avx2::chunk_out(e, ws, os, gs, s0, s1);
                }
                let _ = wide;
                chunk_out(e, ws, os, gs, s0, s1)
            }
        }
    };
    let chunks = n.div_ceil(CHUNK);
    if n < PARALLEL_MIN {
        (0..chunks).for_each(body);
    } else {
        threads::for_each_index(chunks, body);
    }
}

/// Applies `rule` to one parameter array: `weights` (in place or into `out`), its gradient `dw`
/// and the rule's state arrays (updated in place), all of the same length.
pub fn step<T: Real>(rule: &Rule, weights: Weights<'_, T>, dw: &[T], states: &mut [&mut [T]]) -> KResult<()> {
    let n = weights.len();
    if let Weights::Out { out, .. } = &weights {
        if out.len() != n {
            return Err(KernelError::shape(
                "out",
                format!("({n},)"),
                format!("({},)", out.len()),
            ));
        }
    }
    if dw.len() != n {
        return Err(KernelError::shape(
            "dw",
            format!("({n},)"),
            format!("({},)", dw.len()),
        ));
    }
    let names = rule.state_names();
    if states.len() != names.len() {
        return Err(KernelError::value(
            "states",
            format!("expected {} state array(s), got {}", names.len(), states.len()),
        ));
    }
    for (s, name) in states.iter().zip(names) {
        if s.len() != n {
            return Err(KernelError::shape(
                name,
                format!("({n},)"),
                format!("({},)", s.len()),
            ));
        }
    }
    let t = |x: f64| T::of(x);
    match *rule {
        Rule::Sgd { learning_rate } => run_elem(&SgdE { lr: t(learning_rate) }, weights, dw, states),
        Rule::SgdMomentum {
            learning_rate,
            momentum,
        } => run_elem(
            &MomentumE {
                lr: t(learning_rate),
                momentum: t(momentum),
            },
            weights,
            dw,
            states,
        ),
        Rule::RmsProp {
            learning_rate,
            decay_rate,
            one_minus_decay,
            epsilon,
        } => run_elem(
            &RmsPropE {
                lr: t(learning_rate),
                decay: t(decay_rate),
                one_minus_decay: t(one_minus_decay),
                eps: t(epsilon),
            },
            weights,
            dw,
            states,
        ),
        Rule::Adam {
            learning_rate,
            beta1,
            one_minus_beta1,
            bias1,
            beta2,
            one_minus_beta2,
            bias2,
            epsilon,
        } => run_elem(
            &AdamE {
                lr: t(learning_rate),
                beta1: t(beta1),
                one_minus_beta1: t(one_minus_beta1),
                bias1: t(bias1),
                beta2: t(beta2),
                one_minus_beta2: t(one_minus_beta2),
                bias2: t(bias2),
                eps: t(epsilon),
            },
            weights,
            dw,
            states,
        ),
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The NumPy formulas, element by element, written independently of the kernel.
    fn reference(rule: &Rule, w: &[f64], g: &[f64], s: &mut [Vec<f64>]) -> Vec<f64> {
        let mut out = vec![0.0; w.len()];
        for i in 0..w.len() {
            out[i] = match *rule {
                Rule::Sgd { learning_rate } => w[i] - learning_rate * g[i],
                Rule::SgdMomentum {
                    learning_rate,
                    momentum,
                } => {
                    let v = momentum * s[0][i] - learning_rate * g[i];
                    s[0][i] = v;
                    w[i] + v
                }
                Rule::RmsProp {
                    learning_rate,
                    decay_rate,
                    one_minus_decay,
                    epsilon,
                } => {
                    let c = decay_rate * s[0][i] + one_minus_decay * g[i].powi(2);
                    s[0][i] = c;
                    w[i] - learning_rate * g[i] / (c.sqrt() + epsilon)
                }
                Rule::Adam {
                    learning_rate,
                    beta1,
                    one_minus_beta1,
                    bias1,
                    beta2,
                    one_minus_beta2,
                    bias2,
                    epsilon,
                } => {
                    let m = beta1 * s[0][i] + one_minus_beta1 * g[i];
                    let v = beta2 * s[1][i] + one_minus_beta2 * g[i].powi(2);
                    s[0][i] = m;
                    s[1][i] = v;
                    w[i] - learning_rate * (m / bias1) / ((v / bias2).sqrt() + epsilon)
                }
            };
        }
        out
    }

    fn rules(t: i32) -> Vec<Rule> {
        vec![
            Rule::from_name("sgd", &[1e-2]).unwrap(),
            Rule::from_name("sgd_momentum", &[1e-2, 0.9]).unwrap(),
            Rule::from_name("rmsprop", &[1e-2, 0.99, 1.0 - 0.99, 1e-8]).unwrap(),
            Rule::from_name(
                "adam",
                &[
                    1e-3,
                    0.9,
                    1.0 - 0.9,
                    1.0 - 0.9f64.powi(t),
                    0.999,
                    1.0 - 0.999,
                    1.0 - 0.999f64.powi(t),
                    1e-8,
                ],
            )
            .unwrap(),
        ]
    }

    /// Deterministic pseudo-random values in [-1, 1) (a small LCG: no dependency).
    fn values(n: usize, seed: u64) -> Vec<f64> {
        let mut x = seed
            .wrapping_mul(6364136223846793005)
            .wrapping_add(1442695040888963407);
        (0..n)
            .map(|_| {
                x = x
                    .wrapping_mul(6364136223846793005)
                    .wrapping_add(1442695040888963407);
                ((x >> 11) as f64 / (1u64 << 53) as f64) * 2.0 - 1.0
            })
            .collect()
    }

    #[test]
    fn f64_equals_the_formula_bit_for_bit_over_several_steps() {
        // sizes around the chunk and parallel boundaries, and tiny ones
        for &n in &[0usize, 1, 7, 33, CHUNK + 3, PARALLEL_MIN + 5] {
            for (r, rule) in rules(1).iter().enumerate() {
                let mut w = values(n, 1 + r as u64);
                let mut s_ref: Vec<Vec<f64>> =
                    (0..rule.num_states()).map(|k| values(n, 10 + k as u64)).collect();
                s_ref.iter_mut().flatten().for_each(|x| *x = x.abs()); // caches and v are >= 0
                let mut s = s_ref.clone();
                for step_no in 1..4 {
                    let rule = rules(step_no)[r];
                    let g = values(n, 100 + step_no as u64);
                    let want = reference(&rule, &w, &g, &mut s_ref);
                    let mut out = vec![0.0; n];
                    {
                        let mut st: Vec<&mut [f64]> = s.iter_mut().map(|v| v.as_mut_slice()).collect();
                        step(&rule, Weights::Out { w: &w, out: &mut out }, &g, &mut st).unwrap();
                    }
                    assert!(
                        out.iter().zip(&want).all(|(a, b)| a.to_bits() == b.to_bits()),
                        "{rule:?} n={n}"
                    );
                    assert_eq!(s, s_ref);
                    w = out;
                }
            }
        }
    }

    #[test]
    fn in_place_equals_out_of_place_and_threads_do_not_matter() {
        let n = PARALLEL_MIN + CHUNK / 2 + 11;
        for rule in rules(3) {
            let w0 = values(n, 5);
            let g = values(n, 6);
            let s0: Vec<Vec<f64>> = (0..rule.num_states()).map(|k| values(n, 7 + k as u64)).collect();
            let s0: Vec<Vec<f64>> = s0
                .into_iter()
                .map(|v| v.into_iter().map(f64::abs).collect())
                .collect();
            let mut results = vec![];
            for threads in [1usize, 2, 3] {
                threads::set_num_threads(threads).unwrap();
                let mut w = w0.clone();
                let mut s = s0.clone();
                let mut st: Vec<&mut [f64]> = s.iter_mut().map(|v| v.as_mut_slice()).collect();
                step(&rule, Weights::InPlace(&mut w), &g, &mut st).unwrap();
                results.push((w, s));
                let mut out = vec![0.0; n];
                let mut s = s0.clone();
                let mut st: Vec<&mut [f64]> = s.iter_mut().map(|v| v.as_mut_slice()).collect();
                step(
                    &rule,
                    Weights::Out {
                        w: &w0,
                        out: &mut out,
                    },
                    &g,
                    &mut st,
                )
                .unwrap();
                results.push((out, s));
            }
            for r in &results[1..] {
                assert_eq!(r, &results[0], "{rule:?}");
            }
        }
    }

    #[test]
    fn f32_rounds_scalars_first_and_computes_in_f32() {
        let n = 100;
        let w: Vec<f32> = values(n, 1).iter().map(|&x| x as f32).collect();
        let g: Vec<f32> = values(n, 2).iter().map(|&x| x as f32).collect();
        let rule = rules(2)[3];
        let mut m = vec![0.0f32; n];
        let mut v = vec![0.0f32; n];
        let mut out = vec![0.0f32; n];
        step(
            &rule,
            Weights::Out { w: &w, out: &mut out },
            &g,
            &mut [&mut m, &mut v],
        )
        .unwrap();
        let (b1, b2) = (0.9f32, 0.999f32);
        let bias1 = (1.0 - 0.9f64.powi(2)) as f32;
        let bias2 = (1.0 - 0.999f64.powi(2)) as f32;
        for i in 0..n {
            let mi = b1 * 0.0 + ((1.0 - 0.9f64) as f32) * g[i];
            let vi = b2 * 0.0 + ((1.0 - 0.999f64) as f32) * (g[i] * g[i]);
            let want = w[i] - (1e-3f64 as f32 * (mi / bias1)) / ((vi / bias2).sqrt() + 1e-8f64 as f32);
            assert_eq!(out[i].to_bits(), want.to_bits());
            assert_eq!(m[i], mi);
            assert_eq!(v[i], vi);
        }
    }

    #[test]
    fn nan_and_inf_propagate() {
        let w = [1.0, f64::NAN, 3.0];
        let g = [f64::INFINITY, 1.0, f64::NAN];
        let mut out = [0.0; 3];
        step(&rules(1)[0], Weights::Out { w: &w, out: &mut out }, &g, &mut []).unwrap();
        assert_eq!(out[0], f64::NEG_INFINITY);
        assert!(out[1].is_nan() && out[2].is_nan());
    }

    #[test]
    fn mismatched_lengths_and_names_are_errors() {
        let w = [1.0f64; 4];
        let mut out = [0.0f64; 4];
        let rule = rules(1)[3];
        let mut m = [0.0f64; 4];
        let mut v = [0.0f64; 3];
        let e = step(
            &rule,
            Weights::Out { w: &w, out: &mut out },
            &[0.0; 4],
            &mut [&mut m, &mut v],
        )
        .unwrap_err();
        assert!(e.to_string().starts_with("v: expected shape (4,)"), "{e}");
        let e = step(
            &rule,
            Weights::Out { w: &w, out: &mut out },
            &[0.0; 5],
            &mut [&mut m],
        )
        .unwrap_err();
        assert!(e.to_string().starts_with("dw:"), "{e}");
        let e = step(
            &rule,
            Weights::Out { w: &w, out: &mut out },
            &[0.0; 4],
            &mut [&mut m],
        )
        .unwrap_err();
        assert!(e.to_string().contains("expected 2 state"), "{e}");
        let mut short = [0.0f64; 2];
        let e = step(
            &rules(1)[0],
            Weights::Out {
                w: &w,
                out: &mut short,
            },
            &[0.0; 4],
            &mut [],
        )
        .unwrap_err();
        assert!(e.to_string().starts_with("out:"), "{e}");
        assert!(Rule::from_name("adagrad", &[]).is_err());
        assert!(Rule::from_name("adam", &[1.0]).is_err());
    }
}
