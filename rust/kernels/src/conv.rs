//! Convolution over (N, C, H, W) images: im2col, col2im, forward, backward.
