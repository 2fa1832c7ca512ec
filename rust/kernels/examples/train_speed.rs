//! Times SGD-like calls: a random minibatch of N rows out of a large X, each call new rows:
//! `cargo run --release --example train_speed -- [N] [rows] [f32|f64]`.
use cs231n_kernels::linear_loss::{linear_loss, SoftmaxCrossEntropy};
use cs231n_kernels::{threads, Real, Rows};
use std::time::Instant;

fn run<T: Real>(n: usize, rows: usize) {
    let (d, c) = (3073usize, 10usize);
    let x: Vec<T> = (0..rows * d)
        .map(|i| T::of(((i * 2654435761usize) % 1000) as f64 / 500.0 - 1.0))
        .collect();
    let w: Vec<T> = (0..d * c)
        .map(|i| T::of(((i * 40503) % 1000) as f64 * 1e-7))
        .collect();
    let y: Vec<i64> = (0..n).map(|i| (i % c) as i64).collect();
    let mut dw = vec![T::zero(); d * c];
    let mut state = 12345u64;
    for t in [1usize, 2] {
        threads::set_num_threads(t).unwrap();
        let start = Instant::now();
        let iters = 300;
        for _ in 0..iters {
            let idx: Vec<i64> = (0..n)
                .map(|_| {
                    state = state
                        .wrapping_mul(6364136223846793005)
                        .wrapping_add(1442695040888963407);
                    ((state >> 33) % rows as u64) as i64
                })
                .collect();
            let (wr, xr) = (Rows::new(&w, d, c).unwrap(), Rows::new(&x, rows, d).unwrap());
            linear_loss::<T, SoftmaxCrossEntropy>(wr, xr, &y, Some(&idx), T::of(1e-5), &mut dw).unwrap();
        }
        println!(
            "threads {t}: {:.3} ms per call",
            start.elapsed().as_secs_f64() * 1e3 / iters as f64
        );
    }
}

fn main() {
    let mut args = std::env::args().skip(1);
    let n = args.next().map_or(200, |s| s.parse().unwrap());
    let rows = args.next().map_or(49000, |s| s.parse().unwrap());
    match args.next().as_deref() {
        Some("f32") => run::<f32>(n, rows),
        _ => run::<f64>(n, rows),
    }
}
