"""BNN building blocks that export to the ONNX patterns the bnn-gen importer recognises (docs/onnx.md).

- Activations: `Sign` in eval/export (plain torch.sign, or sign(0) = +1 when SIGN_RULE == 'tie', bnn-gen's rule);
  in training a straight-through estimator (Bi-Real ApproxSign gradient by default, or the clipped identity).
- Binary conv weights are binarised in forward as sign(W) * alpha with alpha = mean|W| over (C_in, kh, kw) per output
  channel, so the export keeps Sign/Abs/ReduceMean/Mul on initializers, which the importer constant-folds.
"""
import torch
import torch.nn as nn
import torch.nn.functional as F

SIGN_RULE = 'torch'  # 'torch': torch.sign (sign(0) = 0); 'tie': +1 where x == 0 (bnn-gen's rule, semantics §8)
RECORD = None  # when a list, every activation Sign output is appended (eval only), in forward order


def eval_sign(x):
    y = torch.sign(x) if SIGN_RULE == 'torch' else torch.where(x >= 0, torch.ones_like(x), -torch.ones_like(x))
    if RECORD is not None:
        RECORD.append(y)
    return y


class _Sign(torch.autograd.Function):
    """Forward sign (sign(0) = +1); subclasses choose the surrogate gradient."""

    @staticmethod
    def forward(ctx, x):
        ctx.save_for_backward(x)
        return torch.where(x >= 0, torch.ones_like(x), -torch.ones_like(x))


class _ApproxSign(_Sign):
    """Backward: Bi-Real's piecewise-quadratic ApproxSign derivative 2 - 2|x| on |x| < 1."""

    @staticmethod
    def backward(ctx, g):
        (x,) = ctx.saved_tensors
        return g * torch.clamp(2 - 2 * x.abs(), min=0)


class _SteSign(_Sign):
    """Backward: clipped identity (straight-through, |x| <= 1)."""

    @staticmethod
    def backward(ctx, g):
        (x,) = ctx.saved_tensors
        return g * (x.abs() <= 1).to(g.dtype)


def binary_sign(x, approx=True):
    return (_ApproxSign if approx else _SteSign).apply(x)


class BinaryActivation(nn.Module):
    """sign(x): STE/ApproxSign in training, a plain ONNX `Sign` in eval/export."""

    def __init__(self, approx=True):
        super().__init__()
        self.approx = approx

    def forward(self, x):
        return binary_sign(x, self.approx) if self.training else eval_sign(x)


class RSign(nn.Module):
    """ReActNet's RSign: sign(x + shift_c) with a learnable per-channel shift (exports as Add constant -> Sign)."""

    def __init__(self, channels, approx=True):
        super().__init__()
        self.shift = nn.Parameter(torch.zeros(1, channels, 1, 1))
        self.approx = approx

    def forward(self, x):
        x = x + self.shift
        return binary_sign(x, self.approx) if self.training else eval_sign(x)


class RPReLU(nn.Module):
    """ReActNet's RPReLU: PReLU(x - gamma) + zeta, per channel (exports as Sub/Add -> PRelu -> Add)."""

    def __init__(self, channels, init=0.25):
        super().__init__()
        self.shift_in = nn.Parameter(torch.zeros(1, channels, 1, 1))
        self.prelu = nn.PReLU(channels, init=init)
        self.shift_out = nn.Parameter(torch.zeros(1, channels, 1, 1))

    def forward(self, x):
        return self.prelu(x - self.shift_in) + self.shift_out


def channel_scale(w):
    """alpha_o = mean |W| over (C_in, kh, kw), shape [O, 1, 1, 1]."""
    return w.abs().mean(dim=(1, 2, 3), keepdim=True)


class BinaryConv2d(nn.Module):
    """Binary conv (no bias) with latent real weights; effective weight sign(W) * alpha_o.

    Training: straight-through estimator on the weights (gradient of sign taken as identity, clipped to |W| <= 1).
    Eval/export: torch.sign(W) * mean|W| computed in forward, folded by the importer. Note torch.sign(0) = 0: latent
    weights are never exactly zero after initialisation/training in practice; `binarised_weight` maps 0 to +1 anyway
    in training.
    """

    def __init__(self, cin, cout, kernel_size=3, stride=1, padding=None):
        super().__init__()
        self.weight = nn.Parameter(torch.randn(cout, cin, kernel_size, kernel_size) * 0.05)
        self.stride = stride
        self.padding = kernel_size // 2 if padding is None else padding

    def binarised_weight(self):
        w = self.weight
        alpha = channel_scale(w)
        if self.training:
            b = torch.where(w >= 0, torch.ones_like(w), -torch.ones_like(w))
            wc = w.clamp(-1, 1)
            return alpha * (b + wc - wc.detach())
        return torch.sign(w) * alpha

    def forward(self, x):
        return F.conv2d(x, self.binarised_weight(), stride=self.stride, padding=self.padding)
