//! Times the fused linear loss at assignment sizes:
//! `cargo run --release --example loss_speed -- [N] [pause_ms] [f32|f64]`.
use cs231n_kernels::linear_loss::{linear_loss, SoftmaxCrossEntropy};
use cs231n_kernels::{threads, Real, Rows};
use std::time::{Duration, Instant};

fn run<T: Real>(n: usize, pause: u64) {
    let (d, c) = (3073usize, 10usize);
    let x: Vec<T> = (0..n * d)
        .map(|i| T::of(((i * 2654435761usize) % 1000) as f64 / 500.0 - 1.0))
        .collect();
    let w: Vec<T> = (0..d * c)
        .map(|i| T::of(((i * 40503) % 1000) as f64 * 1e-7))
        .collect();
    let y: Vec<i64> = (0..n).map(|i| (i % c) as i64).collect();
    let mut dw = vec![T::zero(); d * c];
    for t in [1usize, 2] {
        threads::set_num_threads(t).unwrap();
        let mut ts = vec![];
        for _ in 0..21 {
            std::thread::sleep(Duration::from_millis(pause));
            let s = Instant::now();
            linear_loss::<T, SoftmaxCrossEntropy>(
                Rows::new(&w, d, c).unwrap(),
                Rows::new(&x, n, d).unwrap(),
                &y,
                None,
                T::of(1e-5),
                &mut dw,
            )
            .unwrap();
            ts.push(s.elapsed().as_secs_f64());
        }
        ts.sort_by(|a, b| a.partial_cmp(b).unwrap());
        let med = ts[ts.len() / 2];
        let gflop = 4.0 * (n * d * c) as f64 / 1e9;
        println!("threads {t}: {:.3} ms, {:.1} GFLOP/s", med * 1e3, gflop / med);
    }
}

fn main() {
    let mut args = std::env::args().skip(1);
    let n = args.next().map_or(500, |s| s.parse().unwrap());
    let pause = args.next().map_or(0, |s| s.parse().unwrap());
    match args.next().as_deref() {
        Some("f32") => run::<f32>(n, pause),
        _ => run::<f64>(n, pause),
    }
}
