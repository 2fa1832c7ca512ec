//! Times single-threaded GEMMs of the convolution's per-image shapes in both orientations.
use cs231n_kernels::matmul::{gemm, Operand};
use std::time::Instant;

fn time(label: &str, m: usize, n: usize, k: usize, f: impl Fn()) {
    let mut best = f64::INFINITY;
    for _ in 0..200 {
        let t = Instant::now();
        f();
        best = best.min(t.elapsed().as_secs_f64());
    }
    println!(
        "{label:>40}: {:.1} us, {:.1} GFLOP/s",
        best * 1e6,
        2.0 * (m * n * k) as f64 / best / 1e9
    );
}

fn main() {
    for (f, k, p) in [(32usize, 27usize, 1024usize), (64, 288, 256), (32, 147, 1024)] {
        let w: Vec<f64> = (0..f * k).map(|i| i as f64 * 1e-3).collect();
        let cols: Vec<f64> = (0..k * p).map(|i| (i % 7) as f64).collect();
        let mut out = vec![0.0f64; f * p];
        let o = out.as_mut_ptr() as usize;
        time(&format!("out(F,P)=W cols {f}x{k}x{p}"), f, p, k, || unsafe {
            gemm(
                f,
                p,
                k,
                o as *mut f64,
                p,
                false,
                Operand::rows(w.as_ptr(), k),
                Operand::rows(cols.as_ptr(), p),
                1.0,
            )
        });
        time(&format!("short-k out=W cols {f}x{k}x{p}"), f, p, k, || unsafe {
            cs231n_kernels::matmul_small::gemm_short_k(
                f,
                p,
                k,
                o as *mut f64,
                p,
                false,
                Operand::rows(w.as_ptr(), k),
                cols.as_ptr(),
                p,
            )
        });
        let dout: Vec<f64> = (0..f * p).map(|i| (i % 5) as f64).collect();
        let mut dw = vec![0.0f64; f * k];
        let d = dw.as_mut_ptr() as usize;
        time(&format!("dw=dout cols^T {f}x{p}x{k}"), f, k, p, || unsafe {
            gemm(
                f,
                k,
                p,
                d as *mut f64,
                k,
                false,
                Operand::rows(dout.as_ptr(), p),
                Operand::transposed(cols.as_ptr(), p),
                1.0,
            )
        });
        let mut dc = vec![0.0f64; k * p];
        let dcp = dc.as_mut_ptr() as usize;
        time(
            &format!("short-k dcols=W^T dout {k}x{f}x{p}"),
            k,
            p,
            f,
            || unsafe {
                cs231n_kernels::matmul_small::gemm_short_k(
                    k,
                    p,
                    f,
                    dcp as *mut f64,
                    p,
                    false,
                    Operand::transposed(w.as_ptr(), k),
                    dout.as_ptr(),
                    p,
                )
            },
        );
        time(&format!("dcols=W^T dout {k}x{f}x{p}"), k, p, f, || unsafe {
            gemm(
                k,
                p,
                f,
                dcp as *mut f64,
                p,
                false,
                Operand::transposed(w.as_ptr(), k),
                Operand::rows(dout.as_ptr(), p),
                1.0,
            )
        });
    }
}
