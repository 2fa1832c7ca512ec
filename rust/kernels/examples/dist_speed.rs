//! Times the distance matrix at assignment sizes: `cargo run --release --example dist_speed`.
use cs231n_kernels::distances::l2_distances;
use cs231n_kernels::{threads, Real, Rows};
use std::time::Instant;

fn run<T: Real>(name: &str) {
    let (m, n, d) = (500usize, 5000usize, 3072usize);
    let a: Vec<T> = (0..m * d)
        .map(|i| T::of(((i * 2654435761usize) % 1000) as f64 / 500.0 - 1.0))
        .collect();
    let b: Vec<T> = (0..n * d)
        .map(|i| T::of(((i * 40503usize) % 1000) as f64 / 500.0 - 1.0))
        .collect();
    let mut out = vec![T::zero(); m * n];
    for t in [1usize, 2] {
        threads::set_num_threads(t).unwrap();
        let mut ts = vec![];
        for _ in 0..7 {
            let s = Instant::now();
            l2_distances(
                Rows::new(&a, m, d).unwrap(),
                Rows::new(&b, n, d).unwrap(),
                &mut out,
            )
            .unwrap();
            ts.push(s.elapsed().as_secs_f64());
        }
        ts.sort_by(|x, y| x.partial_cmp(y).unwrap());
        let best = ts[ts.len() / 2];
        println!(
            "{name} threads {t}: {:.1} ms, {:.1} GFLOP/s",
            best * 1e3,
            2.0 * (m * n * d) as f64 / 1e9 / best
        );
    }
}

fn main() {
    run::<f64>("f64");
    run::<f32>("f32");
}
