//! Times the fused linear loss at assignment sizes: `cargo run --release --example loss_speed`.
use cs231n_kernels::linear_loss::{linear_loss, SoftmaxCrossEntropy};
use cs231n_kernels::{threads, Rows};
use std::time::Instant;

fn main() {
    let n: usize = std::env::args().nth(1).map_or(500, |s| s.parse().unwrap());
    let (d, c) = (3073usize, 10usize);
    let x: Vec<f64> = (0..n * d)
        .map(|i| ((i * 2654435761usize) % 1000) as f64 / 500.0 - 1.0)
        .collect();
    let w: Vec<f64> = (0..d * c)
        .map(|i| ((i * 40503) % 1000) as f64 * 1e-7)
        .collect();
    let y: Vec<i64> = (0..n).map(|i| (i % c) as i64).collect();
    let mut dw = vec![0.0; d * c];
    for t in [1usize, 2] {
        threads::set_num_threads(t).unwrap();
        let mut ts = vec![];
        for _ in 0..30 {
            let s = Instant::now();
            linear_loss::<f64, SoftmaxCrossEntropy>(
                Rows::new(&w, d, c).unwrap(),
                Rows::new(&x, n, d).unwrap(),
                &y,
                None,
                1e-5,
                &mut dw,
            )
            .unwrap();
            ts.push(s.elapsed().as_secs_f64());
        }
        ts.sort_by(|a, b| a.partial_cmp(b).unwrap());
        let best = ts[ts.len() / 2];
        let gflop = 4.0 * (n * d * c) as f64 / 1e9;
        println!(
            "threads {t}: {:.3} ms, {:.1} GFLOP/s",
            best * 1e3,
            gflop / best
        );
    }
}
