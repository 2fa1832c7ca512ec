//! Times NumPy-exact dropout on a 128 x 4096 batch: `cargo run --release --example dropout_speed`.
use cs231n_kernels::dropout::dropout_forward;
use cs231n_kernels::mt19937::{draw_raw, MtState, Words, STATE_LEN};
use std::time::Instant;

fn main() {
    let n = 128 * 4096;
    let key: Vec<u32> = (0..STATE_LEN as u32)
        .map(|i| i.wrapping_mul(2654435761))
        .collect();
    let mut st = MtState::new(key, STATE_LEN).unwrap();
    let x = vec![1.0f64; n];
    let (mut m, mut o) = (vec![0.0; n], vec![0.0; n]);
    for _ in 0..3 {
        let t = Instant::now();
        let mut raw = vec![0u32; 2 * n];
        draw_raw(&mut st, &mut raw);
        let w = Words::new(&raw);
        let t1 = t.elapsed();
        let mut s = 0.0;
        for k in 0..n {
            s += w.double(k);
        }
        let t2 = t.elapsed();
        dropout_forward(&mut st, 0.5, &x, &mut m, &mut o).unwrap();
        println!(
            "draw {:?}  doubles {:?}  dropout {:?} ({s})",
            t1,
            t2 - t1,
            t.elapsed() - t2
        );
    }
}
