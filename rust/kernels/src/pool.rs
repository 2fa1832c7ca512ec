//! Max pooling over (N, C, H, W) images: forward and backward (filled in by the pooling work).
