//! Times the fused linear loss at assignment sizes:
//! `cargo run --release --example loss_speed -- [N] [pause_ms] [f32|f64] [rows]`.
//!
//! Without `rows`: the same N x 3073 X every call (median of 21 calls, `pause_ms` before each).
//! With `rows`: SGD-like, a new random minibatch of N rows of a rows x 3073 X every call (mean of 300).
use cs231n_kernels::linear_loss::{linear_loss, SoftmaxCrossEntropy};
use cs231n_kernels::{threads, Real, Rows};
use std::time::{Duration, Instant};

fn run<T: Real>(n: usize, pause: u64, rows: Option<usize>) {
    let (d, c) = (3073usize, 10usize);
    let total = rows.unwrap_or(n);
    let x: Vec<T> = (0..total * d)
        .map(|i| T::of(((i * 2654435761usize) % 1000) as f64 / 500.0 - 1.0))
        .collect();
    let w: Vec<T> = (0..d * c)
        .map(|i| T::of(((i * 40503) % 1000) as f64 * 1e-7))
        .collect();
    let y: Vec<i64> = (0..n).map(|i| (i % c) as i64).collect();
    let mut dw = vec![T::zero(); d * c];
    let mut state = 12345u64;
    let mut minibatch = || -> Vec<i64> {
        (0..n)
            .map(|_| {
                state = state
                    .wrapping_mul(6364136223846793005)
                    .wrapping_add(1442695040888963407);
                ((state >> 33) % total as u64) as i64
            })
            .collect()
    };
    for t in [1usize, 2] {
        threads::set_num_threads(t).unwrap();
        let calls = if rows.is_some() { 300 } else { 21 };
        let mut ts = vec![];
        for _ in 0..calls {
            std::thread::sleep(Duration::from_millis(pause));
            let idx = rows.map(|_| minibatch());
            let (wr, xr) = (Rows::new(&w, d, c).unwrap(), Rows::new(&x, total, d).unwrap());
            let s = Instant::now();
            linear_loss::<T, SoftmaxCrossEntropy>(wr, xr, &y, idx.as_deref(), T::of(1e-5), &mut dw).unwrap();
            ts.push(s.elapsed().as_secs_f64());
        }
        ts.sort_by(|a, b| a.partial_cmp(b).unwrap());
        let time = if rows.is_some() {
            ts.iter().sum::<f64>() / ts.len() as f64
        } else {
            ts[ts.len() / 2]
        };
        let gflop = 4.0 * (n * d * c) as f64 / 1e9;
        println!("threads {t}: {:.3} ms, {:.1} GFLOP/s", time * 1e3, gflop / time);
    }
}

fn main() {
    let mut args = std::env::args().skip(1);
    let n = args.next().map_or(500, |s| s.parse().unwrap());
    let pause = args.next().map_or(0, |s| s.parse().unwrap());
    let dtype = args.next();
    let rows = args.next().map(|s| s.parse().unwrap());
    match dtype.as_deref() {
        Some("f32") => run::<f32>(n, pause, rows),
        _ => run::<f64>(n, pause, rows),
    }
}
