"""A correct net_visualization_pytorch.py, written the way students usually do (backward passes and
``.grad`` instead of torch.autograd.grad). Test fixture of ``cs231n-rs check``."""

import random  # noqa: F401

import numpy as np  # noqa: F401
import torch
import torchvision.transforms as T  # noqa: F401


def compute_saliency_maps(X, y, model):
    model.eval()
    X.requires_grad_()
    saliency = None
    # *****START OF YOUR CODE (DO NOT DELETE/MODIFY THIS LINE)*****
    scores = model(X)
    correct = scores.gather(1, y.view(-1, 1)).squeeze(1)
    correct.backward(torch.ones_like(correct))
    saliency = X.grad.abs().max(dim=1)[0]
    # *****END OF YOUR CODE (DO NOT DELETE/MODIFY THIS LINE)*****
    return saliency


def make_fooling_image(X, target_y, model):
    X_fooling = X.clone()
    X_fooling = X_fooling.requires_grad_()
    learning_rate = 1
    # *****START OF YOUR CODE (DO NOT DELETE/MODIFY THIS LINE)*****
    for _ in range(100):
        scores = model(X_fooling)
        if scores.argmax(dim=1).item() == target_y:
            break
        scores[0, target_y].backward()
        g = X_fooling.grad
        X_fooling.data += learning_rate * g / g.norm()
        X_fooling.grad.zero_()
    # *****END OF YOUR CODE (DO NOT DELETE/MODIFY THIS LINE)*****
    return X_fooling


def class_visualization_update_step(img, model, target_y, l2_reg, learning_rate):
    # *****START OF YOUR CODE (DO NOT DELETE/MODIFY THIS LINE)*****
    score = model(img)[0, target_y] - l2_reg * img.norm() ** 2
    score.backward()
    img.data += learning_rate * img.grad / img.grad.norm()
    img.grad.zero_()
    # *****END OF YOUR CODE (DO NOT DELETE/MODIFY THIS LINE)*****
