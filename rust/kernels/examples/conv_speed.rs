//! Times convolution forward + backward at the sizes, f64 and f32:
//! `cargo run --release --example conv_speed -- [threads]`.
use cs231n_kernels::conv::{conv_backward, conv_forward, ConvGeom};
use cs231n_kernels::Real;
use ndarray::Array4;
use std::time::Instant;

fn run<T: Real>(xd: [usize; 4], wd: [usize; 4]) {
    let g = ConvGeom::new(xd, wd, 1, 1).unwrap();
    let x = Array4::from_shape_fn(xd, |(a, b, c, d)| {
        T::of(((a * 31 + b * 7 + c * 3 + d) % 17) as f64 / 8.0 - 1.0)
    });
    let w: Vec<T> = (0..g.f * g.k())
        .map(|i| T::of(((i * 13) % 11) as f64 / 10.0 - 0.5))
        .collect();
    let b = vec![T::one(); g.f];
    let dout: Vec<T> = (0..g.n * g.f * g.p())
        .map(|i| T::of(((i * 7) % 23) as f64 / 11.0 - 1.0))
        .collect();
    let mut out = vec![T::zero(); g.n * g.f * g.p()];
    let mut dx = vec![T::zero(); x.len()];
    let (mut dw, mut db) = (vec![T::zero(); w.len()], vec![T::zero(); g.f]);
    let mut best = [f64::INFINITY; 2];
    for _ in 0..15 {
        let t = Instant::now();
        conv_forward(&g, x.view(), &w, &b, &mut out).unwrap();
        let t1 = t.elapsed().as_secs_f64();
        conv_backward(&g, &dout, x.view(), &w, Some(&mut dx), &mut dw, &mut db).unwrap();
        let t2 = t.elapsed().as_secs_f64();
        best[0] = best[0].min(t1);
        best[1] = best[1].min(t2 - t1);
    }
    let gflop = 2.0 * (g.n * g.f * g.k() * g.p()) as f64 / 1e9;
    println!(
        "{} x {:?} w {:?}: forward {:.2} ms ({:.0} GFLOP/s), backward {:.2} ms ({:.0} GFLOP/s), total {:.2} ms",
        T::NAME, xd, wd, best[0] * 1e3, gflop / best[0], best[1] * 1e3, 2.0 * gflop / best[1], (best[0] + best[1]) * 1e3
    );
}

fn main() {
    let threads: usize = std::env::args().nth(1).map(|s| s.parse().unwrap()).unwrap_or(2);
    cs231n_kernels::threads::set_num_threads(threads).unwrap();
    if std::env::args().nth(2).is_some() {
        im2col_only::<f64>([64, 3, 32, 32], [32, 3, 3, 3]);
        im2col_only::<f64>([64, 32, 16, 16], [64, 32, 3, 3]);
        return;
    }
    for (xd, wd) in [
        ([64, 3, 32, 32], [32, 3, 3, 3]),
        ([64, 32, 16, 16], [64, 32, 3, 3]),
        ([50, 3, 32, 32], [32, 3, 7, 7]),
    ] {
        run::<f64>(xd, wd);
        run::<f32>(xd, wd);
    }
}

#[allow(dead_code)]
fn im2col_only<T: Real>(xd: [usize; 4], wd: [usize; 4]) {
    let g = ConvGeom::new(xd, wd, 1, 1).unwrap();
    let x = Array4::from_shape_fn(xd, |(a, b, c, d)| {
        T::of(((a * 31 + b * 7 + c * 3 + d) % 17) as f64 / 8.0 - 1.0)
    });
    let mut cols = vec![T::zero(); g.k() * g.n * g.p()];
    let mut best = f64::INFINITY;
    for _ in 0..15 {
        let t = Instant::now();
        cs231n_kernels::conv::im2col(&g, x.view(), &mut cols, false).unwrap();
        best = best.min(t.elapsed().as_secs_f64());
    }
    println!("im2col {} {:?}: {:.2} ms", T::NAME, xd, best * 1e3);
}
