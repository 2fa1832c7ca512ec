//! Times NumPy-exact dropout on a 200 x 100 batch (a FullyConnectedNet layer), many calls.
use cs231n_kernels::dropout::dropout_forward;
use cs231n_kernels::mt19937::{MtState, STATE_LEN};
use std::time::Instant;

fn main() {
    let n = 200 * 100;
    let key: Vec<u32> = (0..STATE_LEN as u32)
        .map(|i| i.wrapping_mul(2654435761))
        .collect();
    let mut st = MtState::new(key, STATE_LEN).unwrap();
    let x = vec![1.0f64; n];
    let (mut m, mut o) = (vec![0.0; n], vec![0.0; n]);
    draw_only();
    for _ in 0..5 {
        let t = Instant::now();
        for _ in 0..1000 {
            dropout_forward(&mut st, 0.5, &x, &mut m, &mut o).unwrap();
        }
        println!(
            "dropout 200x100: {:.1} us per call",
            t.elapsed().as_secs_f64() * 1e3
        );
    }
}

#[allow(dead_code)]
fn draw_only() {
    use cs231n_kernels::mt19937::draw_raw;
    let key: Vec<u32> = (0..STATE_LEN as u32)
        .map(|i| i.wrapping_mul(2654435761))
        .collect();
    let mut st = MtState::new(key, STATE_LEN).unwrap();
    let mut raw = vec![0u32; 40000];
    let t = Instant::now();
    for _ in 0..1000 {
        draw_raw(&mut st, &mut raw);
    }
    println!(
        "draw 40K words: {:.1} us per call",
        t.elapsed().as_secs_f64() * 1e3
    );
}
