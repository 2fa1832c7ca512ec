//! The crate's own small thread pool, in which the calling thread works too.
//!
//! A parallel call publishes a job (a function of an index and a counter), wakes the helpers and
//! starts pulling indices itself; helpers that wake late find the work taken and go back to sleep,
//! so a short call never waits for a sleeping thread to wake up (on a virtual machine that can
//! cost a millisecond). Which thread runs which index varies; kernels make results independent of
//! it by writing each index's result to its own place and combining in index order.
//!
//! The size comes from [`set_num_threads`], else the `CS231N_RS_NUM_THREADS` environment variable,
//! else the number of available cores. A pool made before a `fork()` has no threads in the child:
//! the pool remembers the process id that made it and is rebuilt after a fork.

use crate::affinity::{current_cpu, thread_id, CpuMask};
use crate::error::KernelError;
use std::panic::{catch_unwind, AssertUnwindSafe};
use std::sync::atomic::{AtomicBool, AtomicI32, AtomicU64, AtomicUsize, Ordering};
use std::sync::{Arc, Condvar, Mutex, TryLockError};
use std::time::{Duration, Instant};

/// Environment variable read for the default thread count.
pub const ENV_VAR: &str = "CS231N_RS_NUM_THREADS";

/// The most threads a pool may have (each is an OS thread; more only costs memory and start-up).
pub const MAX_THREADS: usize = 1024;

/// How long an idle helper polls for the next job before it sleeps: long enough to bridge the
/// Python work between the calls of a training loop, short enough not to slow the code after it.
const SPIN: Duration = Duration::from_micros(200);

static REQUESTED: Mutex<Option<usize>> = Mutex::new(None);
static POOL: Mutex<Option<Arc<Pool>>> = Mutex::new(None);

fn default_threads() -> usize {
    let from_env = std::env::var(ENV_VAR)
        .ok()
        .and_then(|s| s.trim().parse::<usize>().ok());
    let n = match from_env {
        Some(n) if n >= 1 => n,
        _ => std::thread::available_parallelism().map(|n| n.get()).unwrap_or(1),
    };
    n.min(MAX_THREADS)
}

/// The thread count kernels use now.
pub fn num_threads() -> usize {
    let requested = *REQUESTED.lock().unwrap_or_else(|e| e.into_inner());
    requested.unwrap_or_else(default_threads)
}

/// Sets the thread count (at least 1). Results do not depend on it, only speed does.
pub fn set_num_threads(n: usize) -> Result<(), KernelError> {
    if n == 0 || n > MAX_THREADS {
        let message = format!("the number of threads must be between 1 and {MAX_THREADS}, got {n}");
        return Err(KernelError::value("n", message));
    }
    *REQUESTED.lock().unwrap_or_else(|e| e.into_inner()) = Some(n);
    Ok(())
}

/// A published job: `f(i)` for every `i < n`, indices handed out by `next`.
#[derive(Clone, Copy)]
struct Job {
    /// Erased `&(dyn Fn(usize) + Sync)`; valid while the job is open (the caller waits for it).
    f: *const (dyn Fn(usize) + Sync + 'static),
    n: usize,
    next: *const AtomicUsize,
    panicked: *const AtomicBool,
}

// SAFETY: the pointers are only dereferenced while the publishing caller keeps them alive.
unsafe impl Send for Job {}

struct State {
    job: Option<Job>,
    /// Helpers currently running the open job.
    active: usize,
    shutdown: bool,
}

struct Pool {
    pid: u32,
    helpers: usize,
    state: Mutex<State>,
    wake: Condvar,
    idle: Condvar,
    /// Bumped for every job, so spinning helpers notice one without the lock.
    generation: AtomicU64,
    /// One caller at a time publishes; others run their work inline.
    submit: Mutex<()>,
    /// The process's CPUs, and each helper's kernel thread id (0 until it has started).
    cpus: Option<CpuMask>,
    helper_tids: Vec<AtomicI32>,
    /// The caller CPU the helpers were last kept off (usize::MAX: none yet).
    kept_off: AtomicUsize,
}

impl Pool {
    fn new(helpers: usize) -> Arc<Pool> {
        let pool = Arc::new(Pool {
            pid: std::process::id(),
            helpers,
            state: Mutex::new(State {
                job: None,
                active: 0,
                shutdown: false,
            }),
            wake: Condvar::new(),
            idle: Condvar::new(),
            generation: AtomicU64::new(0),
            submit: Mutex::new(()),
            cpus: CpuMask::of_this_thread(),
            helper_tids: (0..helpers).map(|_| AtomicI32::new(0)).collect(),
            kept_off: AtomicUsize::new(usize::MAX),
        });
        for i in 0..helpers {
            let p = pool.clone();
            let spawned = std::thread::Builder::new()
                .name(format!("cs231n-rs-{i}"))
                .spawn(move || {
                    p.helper_tids[i].store(thread_id(), Ordering::Release);
                    p.helper()
                });
            if spawned.is_err() {
                break; // fewer helpers: the caller does more of the work
            }
        }
        pool
    }

    /// Keeps the helpers off the caller's current CPU (see `affinity`), when that CPU changed.
    fn keep_helpers_off_caller_cpu(&self) {
        let (Some(cpus), Some(cpu)) = (self.cpus.as_ref(), current_cpu()) else {
            return;
        };
        if self.kept_off.swap(cpu, Ordering::Relaxed) == cpu {
            return;
        }
        for tid in &self.helper_tids {
            let tid = tid.load(Ordering::Acquire);
            if tid != 0 && !cpus.apply_excluding(tid, cpu) {
                self.kept_off.store(usize::MAX, Ordering::Relaxed);
            }
        }
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, State> {
        self.state.lock().unwrap_or_else(|e| e.into_inner())
    }

    fn helper(&self) {
        let mut seen = self.generation.load(Ordering::Acquire);
        loop {
            let start = Instant::now();
            while self.generation.load(Ordering::Acquire) == seen && start.elapsed() < SPIN {
                std::hint::spin_loop();
            }
            let job = {
                let mut st = self.lock();
                while st.job.is_none() && !st.shutdown && self.generation.load(Ordering::Acquire) == seen {
                    st = self.wake.wait(st).unwrap_or_else(|e| e.into_inner());
                }
                if st.shutdown {
                    return;
                }
                seen = self.generation.load(Ordering::Acquire);
                match st.job {
                    Some(job) => {
                        st.active += 1;
                        job
                    }
                    None => continue,
                }
            };
            // SAFETY: the job is open and we are counted in `active`: the caller keeps it alive.
            unsafe { run_job(job) };
            let mut st = self.lock();
            st.active -= 1;
            if st.active == 0 {
                self.idle.notify_all();
            }
        }
    }
}

/// Pulls indices until none are left. Panics are caught and reported through the job.
unsafe fn run_job(job: Job) {
    let f = &*job.f;
    let next = &*job.next;
    let result = catch_unwind(AssertUnwindSafe(|| loop {
        let i = next.fetch_add(1, Ordering::Relaxed);
        if i >= job.n {
            break;
        }
        f(i);
    }));
    if result.is_err() {
        (*job.panicked).store(true, Ordering::Relaxed);
        next.store(job.n, Ordering::Relaxed);
    }
}

fn pool() -> Option<Arc<Pool>> {
    let want = num_threads();
    if want <= 1 {
        return None;
    }
    let pid = std::process::id();
    let mut slot = POOL.lock().unwrap_or_else(|e| e.into_inner());
    if let Some(p) = slot.as_ref() {
        if p.pid == pid && p.helpers == want - 1 {
            return Some(p.clone());
        }
    }
    let fresh = Pool::new(want - 1);
    if let Some(old) = slot.replace(fresh.clone()) {
        if old.pid == pid {
            old.lock().shutdown = true;
            old.wake.notify_all();
        } else {
            // Made before a fork: its threads do not exist here, and its locks may be held.
            std::mem::forget(old);
        }
    }
    Some(fresh)
}

/// Runs `f(i)` for every `i < n`, on the calling thread and the pool's helpers.
pub fn for_each_index<F>(n: usize, f: F)
where
    F: Fn(usize) + Send + Sync,
{
    let pool = if n > 1 { pool() } else { None };
    let Some(pool) = pool else {
        (0..n).for_each(f);
        return;
    };
    let _submit = match pool.submit.try_lock() {
        Ok(g) => g,
        Err(TryLockError::Poisoned(e)) => e.into_inner(),
        // Another caller is using the helpers: do this work inline (same results, fewer threads).
        Err(TryLockError::WouldBlock) => {
            (0..n).for_each(f);
            return;
        }
    };
    let next = AtomicUsize::new(0);
    let panicked = AtomicBool::new(false);
    let f_ref: &(dyn Fn(usize) + Sync) = &f;
    // SAFETY: the lifetime is erased only until this function has closed the job and seen every
    // helper leave it (below), so no helper can use `f`, `next` or `panicked` after they drop.
    let f_static: &'static (dyn Fn(usize) + Sync) = unsafe { std::mem::transmute(f_ref) };
    let job = Job {
        f: f_static,
        n,
        next: &next,
        panicked: &panicked,
    };
    pool.keep_helpers_off_caller_cpu();
    {
        let mut st = pool.lock();
        st.job = Some(job);
        pool.generation.fetch_add(1, Ordering::AcqRel);
    }
    pool.wake.notify_all();
    // SAFETY: everything the job points to lives on this stack frame.
    unsafe { run_job(job) };
    let mut st = pool.lock();
    st.job = None;
    while st.active > 0 {
        st = pool.idle.wait(st).unwrap_or_else(|e| e.into_inner());
    }
    drop(st);
    if panicked.load(Ordering::Relaxed) {
        panic!("a cs231n-rs kernel panicked on a helper thread");
    }
}

/// Splits `out` into chunks of `chunk` elements and runs `f(chunk_index, chunk)` on each in parallel.
pub fn for_each_chunk_mut<T: Send, F>(out: &mut [T], chunk: usize, f: F)
where
    F: Fn(usize, &mut [T]) + Send + Sync,
{
    let chunk = chunk.max(1);
    let len = out.len();
    let base = out.as_mut_ptr() as usize;
    for_each_index(len.div_ceil(chunk), |i| {
        let start = i * chunk;
        let end = (start + chunk).min(len);
        // SAFETY: chunks are disjoint sub-slices of `out`, each handed to exactly one call.
        let part = unsafe { std::slice::from_raw_parts_mut((base as *mut T).add(start), end - start) };
        f(i, part);
    });
}

/// An output buffer whose disjoint parts parallel tasks write (each part by exactly one task).
#[derive(Clone, Copy)]
pub struct Disjoint<T>(*mut T, usize);
// SAFETY: callers of `part` promise that no two tasks take overlapping parts.
unsafe impl<T: Send> Send for Disjoint<T> {}
unsafe impl<T: Send> Sync for Disjoint<T> {}
impl<T> Disjoint<T> {
    pub fn new(s: &mut [T]) -> Self {
        Disjoint(s.as_mut_ptr(), s.len())
    }
    /// The first element (for tasks that write interleaved elements rather than one slice).
    pub fn as_mut_ptr(&self) -> *mut T {
        self.0
    }
    /// Elements `start..start + len`.
    ///
    /// # Safety
    /// No other task may use an overlapping part while this one is alive.
    #[allow(clippy::mut_from_ref)]
    pub unsafe fn part(&self, start: usize, len: usize) -> &mut [T] {
        assert!(start + len <= self.1, "Disjoint::part out of bounds");
        std::slice::from_raw_parts_mut(self.0.add(start), len)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn zero_threads_is_an_error() {
        assert!(set_num_threads(0).is_err());
        assert!(set_num_threads(MAX_THREADS + 1).is_err());
    }

    #[test]
    fn chunks_cover_everything_once() {
        set_num_threads(3).unwrap();
        for _ in 0..100 {
            let mut v = vec![0usize; 1000];
            for_each_chunk_mut(&mut v, 7, |i, c| c.iter_mut().for_each(|x| *x += 1 + i));
            assert!(v.iter().enumerate().all(|(k, &x)| x == 1 + k / 7));
        }
    }

    #[test]
    fn a_panicking_index_becomes_a_panic_in_the_caller() {
        set_num_threads(2).unwrap();
        let r = catch_unwind(|| for_each_index(64, |i| assert!(i != 40)));
        assert!(r.is_err());
        // the pool still works afterwards
        let hits = AtomicUsize::new(0);
        for_each_index(64, |_| {
            hits.fetch_add(1, Ordering::Relaxed);
        });
        assert_eq!(hits.load(Ordering::Relaxed), 64);
    }
}
