"""net_visualization_pytorch.py with one classic mistake per function. Test fixture of
``cs231n-rs check``."""

import torch  # noqa: F401
import torchvision.transforms as T  # noqa: F401


def compute_saliency_maps(X, y, model):
    model.eval()
    X.requires_grad_()
    saliency = None
    # *****START OF YOUR CODE (DO NOT DELETE/MODIFY THIS LINE)*****
    scores = model(X)
    scores.gather(1, y.view(-1, 1)).sum().backward()
    saliency = X.grad.abs().sum(dim=1)  # mistake: a sum over the channels instead of the max
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
        X_fooling.data -= learning_rate * g / g.norm()  # mistake: descent
        X_fooling.grad.zero_()
    # *****END OF YOUR CODE (DO NOT DELETE/MODIFY THIS LINE)*****
    return X_fooling


def class_visualization_update_step(img, model, target_y, l2_reg, learning_rate):
    # *****START OF YOUR CODE (DO NOT DELETE/MODIFY THIS LINE)*****
    score = model(img)[0, target_y] + l2_reg * (img * img).sum()  # mistake: the L2 term's sign
    score.backward()
    img.data += learning_rate * img.grad  # an unnormalized step (accepted)
    img.grad.zero_()
    # *****END OF YOUR CODE (DO NOT DELETE/MODIFY THIS LINE)*****
