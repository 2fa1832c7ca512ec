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

use crate::error::{try_zeros, KernelError};
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

/// The next state block from the previous one (written out of place, in 8-word vectors).
fn twist(prev: &[u32], next: &mut [u32]) {
    const L: usize = 8;
    let first = STATE_LEN - SHIFT; // 227: k'[i] uses old words only
    let mut i = 0;
    while i + L <= first {
        let mut o = [0u32; L];
        for l in 0..L {
            o[l] = mix(prev[i + l], prev[i + l + 1], prev[i + l + SHIFT]);
        }
        next[i..i + L].copy_from_slice(&o);
        i += L;
    }
    while i < first {
        next[i] = mix(prev[i], prev[i + 1], prev[i + SHIFT]);
        i += 1;
    }
    // i >= 227: k'[i] uses the new word k'[i - 227] (computed at least 8 words earlier)
    while i + L < STATE_LEN {
        let mut o = [0u32; L];
        for l in 0..L {
            o[l] = mix(prev[i + l], prev[i + l + 1], next[i + l - first]);
        }
        next[i..i + L].copy_from_slice(&o);
        i += L;
    }
    while i < STATE_LEN - 1 {
        next[i] = mix(prev[i], prev[i + 1], next[i - first]);
        i += 1;
    }
    next[STATE_LEN - 1] = mix(prev[STATE_LEN - 1], next[0], next[SHIFT - 1]);
}

#[inline(always)]
fn temper(mut y: u32) -> u32 {
    y ^= y >> 11;
    y ^= (y << 7) & 0x9d2c_5680;
    y ^= (y << 15) & 0xefc6_0000;
    y ^ (y >> 18)
}

/// The untempered words of the next `count` doubles, and the generator advanced past them.
pub struct Words {
    raw: Vec<u32>,
}

impl Words {
    /// Double `k` of the stream, exactly as NumPy's `random_sample`.
    #[inline(always)]
    pub fn double(&self, k: usize) -> f64 {
        let a = temper(self.raw[2 * k]) >> 5;
        let b = temper(self.raw[2 * k + 1]) >> 6;
        (a as f64 * 67108864.0 + b as f64) / 9007199254740992.0
    }
}

/// Draws the words of `count` doubles from `state` (advancing it).
pub fn draw_doubles(state: &mut MtState, count: usize) -> KResult<Words> {
    let need = count.checked_mul(2).ok_or(KernelError::OutOfMemory {
        what: "the random stream",
    })?;
    let have = STATE_LEN - state.pos;
    let from_key = need.min(have);
    let blocks = (need - from_key).div_ceil(STATE_LEN);
    let mut raw: Vec<u32> = try_zeros(from_key + blocks * STATE_LEN, "the random stream")?;
    raw[..from_key].copy_from_slice(&state.key[state.pos..state.pos + from_key]);
    let mut prev_block: Option<usize> = None; // start of the last full block written in `raw`
    for b in 0..blocks {
        let start = from_key + b * STATE_LEN;
        let (done, rest) = raw.split_at_mut(start);
        let prev: &[u32] = match prev_block {
            None => &state.key,
            Some(p) => &done[p..p + STATE_LEN],
        };
        twist(prev, &mut rest[..STATE_LEN]);
        prev_block = Some(start);
    }
    match prev_block {
        None => state.pos += from_key,
        Some(p) => {
            state.key.copy_from_slice(&raw[p..p + STATE_LEN]);
            state.pos = need - from_key - (blocks - 1) * STATE_LEN;
        }
    }
    raw.truncate(need);
    Ok(Words { raw })
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
            twist(&prev, &mut s.key);
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
            let words = draw_doubles(&mut b, count).unwrap();
            for k in 0..count {
                let (x, y) = (scalar_next(&mut a) >> 5, scalar_next(&mut a) >> 6);
                let want = (x as f64 * 67108864.0 + y as f64) / 9007199254740992.0;
                assert_eq!(words.double(k), want);
            }
            // same state, up to NumPy's convention that a used-up key (pos 624) is not yet twisted
            let (mut a2, mut b2) = (a.clone(), b.clone());
            assert_eq!(scalar_next(&mut a2), scalar_next(&mut b2));
            assert_eq!(a2, b2);
        }
    }
}
