//! Times the affine layer's forward + backward at the size (N=128, D=3072, M=1024):
//! `cargo run --release --example affine_speed -- [f32]`.
use cs231n_kernels::dense::{affine_backward, affine_forward};
use cs231n_kernels::matmul::MatRef;
use cs231n_kernels::Real;
use std::time::Instant;

fn run<T: Real>() {
    let (n, d, m) = (128, 3072, 1024);
    let x: Vec<T> = (0..n * d)
        .map(|i| T::of(((i * 7919) % 1000) as f64 / 500.0 - 1.0))
        .collect();
    let w: Vec<T> = (0..d * m)
        .map(|i| T::of(((i * 104729) % 1000) as f64 / 5e4))
        .collect();
    let b = vec![T::one(); m];
    let dout: Vec<T> = (0..n * m)
        .map(|i| T::of(((i * 31) % 100) as f64 / 100.0))
        .collect();
    let (xm, wm, dm) = (
        MatRef::c_order(&x, n, d).unwrap(),
        MatRef::c_order(&w, d, m).unwrap(),
        MatRef::c_order(&dout, n, m).unwrap(),
    );
    let (mut out, mut dx, mut dw, mut db) = (
        vec![T::zero(); n * m],
        vec![T::zero(); n * d],
        vec![T::zero(); d * m],
        vec![T::zero(); m],
    );
    let mut best = [f64::INFINITY; 3];
    for _ in 0..10 {
        let t = Instant::now();
        affine_forward(xm, wm, &b, &mut out).unwrap();
        let t1 = t.elapsed().as_secs_f64();
        affine_backward(dm, xm, wm, Some(&mut dx), &mut dw, &mut db).unwrap();
        let t2 = t.elapsed().as_secs_f64();
        best[0] = best[0].min(t1);
        best[1] = best[1].min(t2 - t1);
        best[2] = best[2].min(t2);
    }
    let gf = 3.0 * 2.0 * (n * d * m) as f64 / best[2] / 1e9;
    println!(
        "{}: forward {:.2} ms, backward {:.2} ms, total {:.2} ms ({gf:.0} GFLOP/s)",
        T::NAME,
        best[0] * 1e3,
        best[1] * 1e3,
        best[2] * 1e3
    );
}

fn main() {
    if std::env::args().any(|a| a == "f32") {
        run::<f32>()
    } else {
        run::<f64>()
    }
}
