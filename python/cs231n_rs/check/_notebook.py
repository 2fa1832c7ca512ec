"""What the notebooks print as the expected error of each function (cs231n's own words), reported
next to ours in the JSON (``notebook_expects``).

The notebooks compare against fixed vectors; the check compares against the reference on random
cases (odd sizes, float32, near-zero entries), with the tolerances of :mod:`._context`: float64
results within 1e-7 of the reference (the notebooks' "e-7 or less" for most layers and the update
rules), float32 within 1e-3, analytic gradients within 1e-5 of the numeric ones."""

EXPECTS = {
    "layers.affine_forward": "The error should be around e-9 or less.",
    "layers.affine_backward": "The error should be around e-10 or less",
    "layers.relu_forward": "The error should be on the order of e-8",
    "layers.relu_backward": "The error should be on the order of e-12",
    "layers.svm_loss": "Loss should be around 9 and dx error should be around the order of e-9",
    "layers.softmax_loss": "Loss should be close to 2.3 and dx error should be around e-8",
    "layers.batchnorm_backward": "You should expect to see relative errors between 1e-13 and 1e-8.",
    "layers.batchnorm_backward_alt": "nearly identical results (to batchnorm_backward)",
    "layers.layernorm_backward": "You should expect to see relative errors between 1e-12 and 1e-8.",
    "layers.dropout_backward": "Error should be around e-10 or less.",
    "layers.conv_forward_naive": "difference should be around e-8",
    "layers.conv_backward_naive": "Your errors should be around e-8 or less.",
    "layers.max_pool_forward_naive": "Difference should be on the order of e-8.",
    "layers.max_pool_backward_naive": "Your error should be on the order of e-12",
    "layers.spatial_batchnorm_backward": "You should expect errors of magnitudes between 1e-12~1e-06",
    "layers.spatial_groupnorm_backward": "You should expect errors of magnitudes between 1e-12 and 1e-07.",
    "optim.sgd_momentum": "You should see errors less than e-8",
    "optim.rmsprop": "You should see relative errors around e-7 or less",
    "optim.adam": "You should see relative errors around e-7 or less",
    "layer_utils.affine_relu_backward": "Relative error should be around e-10 or less",
    "layer_utils.conv_relu_backward": "Relative errors should be around e-8 or less",
    "layer_utils.conv_relu_pool_backward": "Relative errors should be around e-8 or less",
    "classifiers.k_nearest_neighbor.KNearestNeighbor.compute_distances_one_loop":
        "Frobenius difference < 0.001 from the two-loop distances",
    "classifiers.k_nearest_neighbor.KNearestNeighbor.compute_distances_no_loops":
        "Frobenius difference < 0.001 from the two-loop distances",
    "classifiers.linear_svm.svm_loss_naive": "gradient check should match almost exactly",
    "classifiers.softmax.softmax_loss_naive": "loss close to -log(0.1); gradient check should match almost exactly",
    "classifiers.fc_net.TwoLayerNet": "scores < 1e-6 (sum), loss < 1e-10, gradients around e-7 or less",
    "classifiers.fc_net.FullyConnectedNet": "errors around 1e-7 or less (W2 may reach e-5 at reg = 0)",
    "classifiers.cnn.ThreeLayerConvNet": "relative errors up to the order of e-2 (numeric, h = 1e-6)",
}
