//! NumPy's legacy global generator (`np.random.rand`) reproduced word for word: the MT19937 state
//! is read from `np.random.get_state()`, advanced here, and written back with `set_state`, so a
//! draw made here is the draw NumPy would have made and leaves the generator where NumPy would.
//!
//! MT19937 (Matsumoto & Nishimura): 624 words of state; `twist` makes the next 624 from the last,
//!   y = (k[i] & 0x8000_0000) | (k[i+1] & 0x7fff_ffff);   k'[i] = k[i+397] ^ (y >> 1) ^ (0x9908_b0df if y odd)
//! each output word is the state word tempered (`temper`), and NumPy's `random_sample` makes a double
//! of two words:  u = ((a >> 5) * 2^26 + (b >> 6)) / 2^53.
//!
//! The twist is serial block to block but vectorizes within a block; tempering and everything done
//! with the doubles run in parallel over fixed chunks (same bits for any thread count).

use crate::error::KernelError;
use crate::KResult;

/// Words of state.
pub const STATE_LEN: usize = 624;
const SHIFT: usize = 397;
const MATRIX_A: u32 = 0x9908_b0df;

/// The generator's state as NumPy stores it: the key and the position of the next word.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct MtState {
    pub key: Vec<u32>,
    pub pos: usize,
}

impl MtState {
    pub fn new(key: Vec<u32>, pos: usize) -> KResult<Self> {
        if key.len() != STATE_LEN {
            return Err(KernelError::shape(
                "key",
                format!("({STATE_LEN},)"),
                format!("({},)", key.len()),
            ));
        }
        if pos > STATE_LEN {
            return Err(KernelError::value(
                "pos",
                format!("must be at most {STATE_LEN}, got {pos}"),
            ));
        }
        Ok(MtState { key, pos })
    }
}

#[inline(always)]
fn mix(upper: u32, lower: u32, far: u32) -> u32 {
    let y = (upper & 0x8000_0000) | (lower & 0x7fff_ffff);
    far ^ (y >> 1) ^ ((y & 1).wrapping_neg() & MATRIX_A)
}

/// The next state block, in place (the textbook order: k'[i] reads k[i + 1] and k[i + 397] before
/// they are overwritten, and k'[i - 227] after), in 8-word vectors that read before they write.
#[inline(always)]
fn twist(k: &mut [u32]) {
    let first = STATE_LEN - SHIFT; // 227
    let mut i = 0;
    while i + VEC <= first {
        let far = i + SHIFT;
        twist_vec(k, i, far);
        i += VEC;
    }
    while i < first {
        k[i] = mix(k[i], k[i + 1], k[i + SHIFT]);
        i += 1;
    }
    while i + VEC < STATE_LEN {
        twist_vec(k, i, i - first);
        i += VEC;
    }
    while i < STATE_LEN - 1 {
        k[i] = mix(k[i], k[i + 1], k[i - first]);
        i += 1;
    }
    k[STATE_LEN - 1] = mix(k[STATE_LEN - 1], k[0], k[SHIFT - 1]);
}

/// Words per step of the vectorized twist (less than 227, the distance of its dependencies).
const VEC: usize = 16;

/// k[i..i + VEC] = mix(k[i..], k[i + 1..], k[far..]), all read before any is written.
#[inline(always)]
fn twist_vec(k: &mut [u32], i: usize, far: usize) {
    let cur: [u32; VEC] = k[i..i + VEC].try_into().unwrap();
    let next: [u32; VEC] = k[i + 1..i + 1 + VEC].try_into().unwrap();
    let fars: [u32; VEC] = k[far..far + VEC].try_into().unwrap();
    let mut o = [0u32; VEC];
    for l in 0..VEC {
        o[l] = mix(cur[l], next[l], fars[l]);
    }
    k[i..i + VEC].copy_from_slice(&o);
}

#[inline(always)]
fn temper(mut y: u32) -> u32 {
    y ^= y >> 11;
    y ^= (y << 7) & 0x9d2c_5680;
    y ^= (y << 15) & 0xefc6_0000;
    y ^ (y >> 18)
}

/// Untempered words of consecutive doubles (two words each).
pub struct Words<'a> {
    raw: &'a [u32],
}

impl<'a> Words<'a> {
    pub fn new(raw: &'a [u32]) -> Self {
        Words { raw }
    }

    /// Writes `f(u_k)` for doubles `k` in `start..start + out.len()` (u as NumPy's `random_sample`
    /// makes it), eight at a time in fixed-size arrays (temper sixteen words, split them into the
    /// high and low words, pair them), which vectorizes.
    #[inline(always)]
    pub fn map_doubles<T>(&self, start: usize, out: &mut [T], f: impl Fn(f64) -> T) {
        let raw = &self.raw[2 * start..2 * (start + out.len())];
        let mut outs = out.chunks_exact_mut(8);
        let mut words = raw.chunks_exact(16);
        for (o, w) in (&mut outs).zip(&mut words) {
            let (mut hi, mut lo) = ([0u32; 8], [0u32; 8]);
            for l in 0..8 {
                hi[l] = temper(w[2 * l]);
                lo[l] = temper(w[2 * l + 1]);
            }
            for l in 0..8 {
                o[l] = f(to_double(hi[l], lo[l]));
            }
        }
        for (o, w) in outs
            .into_remainder()
            .iter_mut()
            .zip(words.remainder().chunks_exact(2))
        {
            *o = f(to_double(temper(w[0]), temper(w[1])));
        }
    }

    /// Double `k`.
    pub fn double(&self, k: usize) -> f64 {
        to_double(temper(self.raw[2 * k]), temper(self.raw[2 * k + 1]))
    }
}

/// NumPy's `random_sample` double from two tempered words:  ((a >> 5) * 2^26 + (b >> 6)) / 2^53.
#[inline(always)]
fn to_double(a: u32, b: u32) -> f64 {
    // (through i32: the values fit, and AVX2 converts only signed integers to doubles)
    (((a >> 5) as i32) as f64 * 67108864.0 + ((b >> 6) as i32) as f64) * (1.0 / 9007199254740992.0)
}

/// Fills `dst` with the next untempered words of `state` (twisting as NumPy does: only when a
/// word is needed and the key is used up).
pub fn draw_raw(state: &mut MtState, dst: &mut [u32]) {
    let mut done = 0;
    while done < dst.len() {
        if state.pos == STATE_LEN {
            crate::wide!({ twist(&mut state.key) });
            state.pos = 0;
        }
        let n = (STATE_LEN - state.pos).min(dst.len() - done);
        dst[done..done + n].copy_from_slice(&state.key[state.pos..state.pos + n]);
        state.pos += n;
        done += n;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// MT19937's reference seeding (`init_genrand`), which `np.random.seed(int)` uses for ints < 2^32.
    fn seeded(seed: u32) -> MtState {
        let mut key = vec![0u32; STATE_LEN];
        key[0] = seed;
        for i in 1..STATE_LEN {
            key[i] = 1812433253u32
                .wrapping_mul(key[i - 1] ^ (key[i - 1] >> 30))
                .wrapping_add(i as u32);
        }
        MtState { key, pos: STATE_LEN }
    }

    /// A plain one-word-at-a-time generator to check the blocked one against.
    fn scalar_next(s: &mut MtState) -> u32 {
        if s.pos == STATE_LEN {
            let prev = s.key.clone();
            for i in 0..STATE_LEN {
                let far = if i < STATE_LEN - SHIFT {
                    prev[i + SHIFT]
                } else {
                    s.key[i + SHIFT - STATE_LEN]
                };
                let lower = if i + 1 < STATE_LEN { prev[i + 1] } else { s.key[0] };
                s.key[i] = mix(prev[i], lower, far);
            }
            s.pos = 0;
        }
        s.pos += 1;
        temper(s.key[s.pos - 1])
    }

    #[test]
    fn matches_the_reference_mt19937_output() {
        // First outputs of mt19937 seeded by init_genrand(5489) (the C++ std::mt19937 default).
        let mut s = seeded(5489);
        let first: Vec<u32> = (0..3).map(|_| scalar_next(&mut s)).collect();
        assert_eq!(first, vec![3499211612, 581869302, 3890346734]);
        // The 10000th output of std::mt19937 is 4123659995 (C++ standard, [rand.predef]).
        let mut s = seeded(5489);
        let last = (0..10000).map(|_| scalar_next(&mut s)).last().unwrap();
        assert_eq!(last, 4123659995);
    }

    #[test]
    fn blocked_draws_equal_word_by_word_draws_and_state() {
        for (start, count) in [(0usize, 5usize), (100, 311), (623, 1), (624, 2000), (7, 0)] {
            let mut a = seeded(42);
            for _ in 0..start {
                scalar_next(&mut a);
            }
            let mut b = a.clone();
            let mut raw = vec![0u32; 2 * count];
            draw_raw(&mut b, &mut raw);
            let words = Words::new(&raw);
            for k in 0..count {
                let (x, y) = (scalar_next(&mut a) >> 5, scalar_next(&mut a) >> 6);
                let want = (x as f64 * 67108864.0 + y as f64) / 9007199254740992.0;
                assert_eq!(words.double(k), want);
            }
            assert_eq!(a, b);
        }
    }
}
