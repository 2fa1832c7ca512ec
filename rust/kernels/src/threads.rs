//! The crate's own rayon pool (never rayon's global one, which cannot be resized).
//!
//! The size comes from [`set_num_threads`], else the `CS231N_RS_NUM_THREADS` environment variable,
//! else the number of available cores. A pool made before a `fork()` is useless in the child (its
//! threads are gone), so the pool remembers the process id that made it and is rebuilt after a fork.

use crate::error::KernelError;
use rayon::prelude::*;
use rayon::{ThreadPool, ThreadPoolBuilder};
use std::sync::{Arc, Mutex};

/// Environment variable read for the default thread count.
pub const ENV_VAR: &str = "CS231N_RS_NUM_THREADS";

struct Pool {
    pid: u32,
    threads: usize,
    pool: Arc<ThreadPool>,
}

static STATE: Mutex<Option<Pool>> = Mutex::new(None);
static REQUESTED: Mutex<Option<usize>> = Mutex::new(None);

fn default_threads() -> usize {
    if let Some(n) = std::env::var(ENV_VAR)
        .ok()
        .and_then(|s| s.trim().parse::<usize>().ok())
    {
        if n >= 1 {
            return n;
        }
    }
    std::thread::available_parallelism()
        .map(|n| n.get())
        .unwrap_or(1)
}

/// The thread count kernels use now.
pub fn num_threads() -> usize {
    let requested = *REQUESTED.lock().unwrap_or_else(|e| e.into_inner());
    requested.unwrap_or_else(default_threads)
}

/// Sets the thread count (at least 1). Results do not depend on it, only speed does.
pub fn set_num_threads(n: usize) -> Result<(), KernelError> {
    if n == 0 {
        return Err(KernelError::value(
            "n",
            "the number of threads must be at least 1, got 0",
        ));
    }
    *REQUESTED.lock().unwrap_or_else(|e| e.into_inner()) = Some(n);
    Ok(())
}

fn pool() -> Arc<ThreadPool> {
    let want = num_threads();
    let pid = std::process::id();
    let mut state = STATE.lock().unwrap_or_else(|e| e.into_inner());
    if let Some(p) = state.as_ref() {
        if p.pid == pid && p.threads == want {
            return p.pool.clone();
        }
    }
    let built = ThreadPoolBuilder::new()
        .num_threads(want)
        .thread_name(|i| format!("cs231n-rs-{i}"))
        .build()
        .map(Arc::new);
    let pool = match built {
        Ok(p) => p,
        // Could not start threads (resource limits): run on a one-thread pool built lazily.
        Err(_) => Arc::new(
            ThreadPoolBuilder::new()
                .num_threads(1)
                .build()
                .expect("one-thread pool"),
        ),
    };
    let stale = state.replace(Pool {
        pid,
        threads: want,
        pool: pool.clone(),
    });
    if let Some(old) = stale {
        if old.pid != pid {
            // The old pool's threads do not exist in this (forked) process: never drop it here.
            std::mem::forget(old);
        }
    }
    pool
}

/// Runs `f(i)` for every `i < n`: inline when `n <= 1`, else on the pool. Which `i` runs on which
/// thread varies; callers make results independent of it by writing only to the `i`-th output.
pub fn for_each_index<F>(n: usize, f: F)
where
    F: Fn(usize) + Send + Sync,
{
    if n <= 1 || num_threads() == 1 {
        (0..n).for_each(f);
    } else {
        pool().install(|| (0..n).into_par_iter().for_each(f));
    }
}

/// Runs `f` inside the pool, so that rayon-parallel code it calls (GEMM) uses our threads.
pub fn install<R: Send>(f: impl FnOnce() -> R + Send) -> R {
    pool().install(f)
}

/// Splits `out` into chunks of `chunk` elements and runs `f(chunk_index, chunk)` on each in parallel.
pub fn for_each_chunk_mut<T: Send, F>(out: &mut [T], chunk: usize, f: F)
where
    F: Fn(usize, &mut [T]) + Send + Sync,
{
    let chunk = chunk.max(1);
    if out.len() <= chunk || num_threads() == 1 {
        out.chunks_mut(chunk).enumerate().for_each(|(i, c)| f(i, c));
    } else {
        pool().install(|| {
            out.par_chunks_mut(chunk)
                .enumerate()
                .for_each(|(i, c)| f(i, c))
        });
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn zero_threads_is_an_error() {
        assert!(set_num_threads(0).is_err());
    }

    #[test]
    fn chunks_cover_everything_once() {
        let mut v = vec![0usize; 1000];
        for_each_chunk_mut(&mut v, 7, |i, c| c.iter_mut().for_each(|x| *x += 1 + i));
        assert!(v.iter().enumerate().all(|(k, &x)| x == 1 + k / 7));
    }
}
