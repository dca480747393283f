"""Sparks on anyone's BNN: `sparksify(model, tau)` gives every binary 3x3 convolution a learned sub-codebook of
n = 2^tau distinct codewords, without touching the model's forward.

How: a `torch.nn.utils.parametrize` parametrisation of the layer's latent weight W. The layer's own forward keeps
binarising its weight exactly as before (sign(W) * mean|W|, sign(W) alone, with its own STE); it now reads

    W' = |W| * c        c = the kernel's nearest selected codeword (+-1 per tap; nearest = largest <c, w>)

so sign(W') is the codeword, mean|W'| = mean|W| (the layer's scaling is unchanged), and the gradient reaches W as the
identity (straight-through) and the codebook through c (|W| times the layer's gradient; the PSTE carries it on to the
selection scores). While the layer is plain (warm-up), W' = W.

Which layers (`select=None`): a module with a 3x3 latent weight that its forward binarises. Latent weight: a direct
parameter `weight` of shape [O, C, 3, 3], or a direct parameter `weight`/`weights` with O*C*9 elements and an
attribute `shape` == (O, C, 3, 3) (the field's HardBinaryConv keeps a flat parameter). Binarises: the forward's
output does not change when the weight magnitudes are redistributed within each output channel while every sign and
each channel's mean |W| stay (probed once on a random input), which holds for sign(W), sign(W) * mean|W| per channel
or per layer, and for nothing that multiplies by the real values (nn.Conv2d fails it). Pass `select=lambda m: ...`
to name the layers yourself (the probe is then skipped).
"""
from dataclasses import dataclass, field

import numpy as np
import torch
import torch.nn as nn
import torch.nn.utils.parametrize as parametrize

from .sparks import CODEBOOK, assignment, gumbel, kernel_ids, sinkhorn_log

TINY = 1e-30  # |W| of an exactly-zero latent weight, so sign(W') is still the codeword


class SparksWeight(nn.Module):
    """The parametrisation: latent W -> |W| * (nearest selected codeword). Modes, set by SparksSchedule:
    plain (identity), selecting (Gumbel-Sinkhorn + PSTE at `temperature`/`noise`), selection frozen (`selected`),
    kernels frozen (`qsign`: the +-1 kernels, fixed)."""

    def __init__(self, shape, tau, sinkhorn_iters=20):
        super().__init__()
        assert 1 <= tau <= 9 and len(shape) == 4 and tuple(shape[2:]) == (3, 3)
        self.shape, self.tau, self.n = tuple(shape), tau, 2 ** tau
        self.scores = nn.Parameter(torch.zeros(self.n, 512))
        self.register_buffer('selected', torch.full((self.n,), -1, dtype=torch.long))
        self.register_buffer('qsign', torch.zeros(0))
        self.plain = True
        self.temperature, self.noise = 1.0, 1.0
        self.sinkhorn_iters = sinkhorn_iters
        self.noise_seed = 0  # Gumbel noise comes from (noise_seed, step): identical on every rank of a DDP run
        self.step = 0
        self.solve_every = 1
        self._cols = None  # the hard assignment, reused for `solve_every` steps
        self._cols_step = None
        self.last_selection = None

    # ---- the parametrisation ---------------------------------------------------------------------------------------
    def forward(self, w):
        if self.plain:
            return w
        k = w.reshape(-1, 9)
        if self.qsign.dim() == 2:
            q = self.qsign
        else:
            c = self.codebook()
            slot = torch.argmax(k.detach() @ c.detach().t(), dim=1)
            q = c[slot]
        # Value |W| * q exactly (k - k.detach() is exactly 0); gradient: identity to W, |W| to the codewords.
        out = k.detach().abs().clamp_min(TINY) * q + (k - k.detach())
        return out.reshape(w.shape)

    # ---- selection -------------------------------------------------------------------------------------------------
    def soft_perm(self, noise=True):
        """log P_soft [n, 512], differentiable in the scores (first n rows of a 512 x 512 soft permutation; the other
        512 - n rows are one slack row of that mass)."""
        s = self.scores / self.temperature
        la = torch.cat([s, torch.zeros(1, 512, dtype=s.dtype, device=s.device)], 0)
        if noise and self.noise > 0:
            g = torch.Generator().manual_seed(self.noise_seed * 1_000_003 + self.step)
            la = la + self.noise * gumbel(la.shape, g).to(s.device)
        mass = torch.tensor([1.0] * self.n + [512.0 - self.n], dtype=s.dtype, device=s.device)
        return sinkhorn_log(la, mass, self.sinkhorn_iters)[: self.n]

    def select(self, noise=True):
        """(C [n, 9] with the PSTE gradient, ids [n]). The hard assignment (Hungarian on log P_soft) is solved at most
        once per schedule step, or every `solve_every` steps; the soft matrix is recomputed on every call."""
        log_p = self.soft_perm(noise)
        p_soft = torch.exp(log_p)
        due = self._cols is None or not noise or self._cols_step is None or self.step - self._cols_step >= self.solve_every
        if due:
            # Log, not P: at low temperature P_soft underflows to exact 0/1 and a solve on P would break ties at random.
            cols = torch.as_tensor(assignment(log_p.detach().cpu().numpy()))
            if not noise:
                return CODEBOOK.to(p_soft.device)[cols], cols
            self._cols, self._cols_step = cols, self.step
        cols = self._cols
        p_hard = torch.zeros_like(p_soft)
        p_hard[torch.arange(self.n), cols.to(p_soft.device)] = 1.0
        p = p_hard + p_soft - p_soft.detach()
        self.last_selection = cols.numpy()
        return p @ CODEBOOK.to(p.device), cols

    def codebook(self):
        if self.is_selection_frozen():
            return CODEBOOK.to(self.scores.device)[self.selected]
        if self.training and self.scores.requires_grad:
            return self.select(noise=True)[0]
        return self.select(noise=False)[0].detach()

    def is_selection_frozen(self):
        return bool((self.selected >= 0).all())

    # ---- starting points and freezes (called by SparksSchedule) ------------------------------------------------------
    def _latent(self, w):
        return w.detach().reshape(-1, 9)

    def greedy_codewords(self, w):
        """n codewords picked one at a time to maximise sum over kernels of max_c <c, w> (the quantisation objective)."""
        with torch.no_grad():
            g = self._latent(w) @ CODEBOOK.to(w.device).t()
            best = torch.full((g.shape[0], 1), -float('inf'), device=w.device)
            picks = []
            for _ in range(self.n):
                gain = torch.maximum(g, best).sum(0)
                if picks:
                    gain[torch.as_tensor(picks)] = -float('inf')
                c = int(torch.argmax(gain))  # ties: smallest id
                picks.append(c)
                best = torch.maximum(best, g[:, c:c + 1])
            return picks

    def init_scores(self, w, how='greedy', spread=4.0, jitter=0.01, gen=None):
        """Scores from the latent kernels: greedy = start at the greedy quantisation-error choice (+spread), every
        other codeword ordered by its kernel frequency below it; histogram = frequent codewords ahead."""
        with torch.no_grad():
            counts = torch.bincount(kernel_ids(self._latent(w).reshape(-1, 3, 3)).flatten().cpu(), minlength=512).float()
            z = torch.log1p(counts)
            z = (z - z.mean()) / (z.std() + 1e-8)
            if how == 'greedy':
                base = 0.25 * spread * z.clamp(-2, 2) / 2
                base[torch.as_tensor(self.greedy_codewords(w)).cpu()] += spread
            else:
                base = spread * z
            noise = torch.randn(self.n, 512, generator=gen)
            self.scores.copy_((base[None, :].expand(self.n, 512) + jitter * noise).to(self.scores.device))
        self.plain = False

    def select_most_frequent(self, w):
        """The post-hoc baseline: the n most frequent codewords of sign(latent kernels), ties to the smaller id."""
        with torch.no_grad():
            counts = torch.bincount(kernel_ids(self._latent(w).reshape(-1, 3, 3)).flatten().cpu(), minlength=512)
            order = sorted(range(512), key=lambda i: (-int(counts[i]), i))
            self.selected.copy_(torch.as_tensor(order[: self.n]))
        self.plain = False
        self.scores.requires_grad_(False)

    def freeze_selection(self):
        """The deterministic (noise-free) assignment at the current temperature, fixed from now on."""
        with torch.no_grad():
            _, ids = self.select(noise=False)
        self.selected.copy_(ids.to(self.selected.device))
        self.scores.requires_grad_(False)

    def freeze_kernels(self, w):
        """The +-1 kernels, fixed: each latent kernel's nearest selected codeword, now and for export."""
        with torch.no_grad():
            if not self.is_selection_frozen():
                self.plain = False
                self.freeze_selection()
            c = CODEBOOK.to(w.device)[self.selected]
            k = self._latent(w)
            self.qsign = c[torch.argmax(k @ c.t(), dim=1)].clone()

    def kernel_ids(self, w):
        """Codeword id of every kernel as the layer computes it now ([O*C])."""
        with torch.no_grad():
            if self.plain:
                return kernel_ids(self._latent(w).reshape(-1, 3, 3))
            return kernel_ids(self.forward(w.detach()).reshape(-1, 3, 3))


# ---- which modules ---------------------------------------------------------------------------------------------------

def _latent_name(m):
    """(parameter name, [O, C, 3, 3]) of a module's 3x3 latent weight, or None."""
    for name in ('weight', 'weights'):
        p = m._parameters.get(name) if hasattr(m, '_parameters') else None
        if p is None:
            continue
        if p.dim() == 4 and tuple(p.shape[2:]) == (3, 3):
            return name, tuple(p.shape)
        shape = getattr(m, 'shape', None)
        if isinstance(shape, (tuple, list, torch.Size)) and len(shape) == 4 and tuple(shape[2:]) == (3, 3) \
                and p.numel() == int(np.prod(shape)):
            return name, tuple(int(s) for s in shape)
    return None


def binarises(m, name, shape, seed=0):
    """The probe: is m's output unchanged when |W| is redistributed within each output channel, keeping every sign
    and the channel's mean |W|? (sign(W) * mean|W| passes; a real convolution does not.)"""
    p = getattr(m, name)
    g = torch.Generator().manual_seed(seed)
    x = torch.randn(2, shape[1], 8, 8, generator=g)
    was = m.training
    m.eval()
    try:
        with torch.no_grad():
            w = p.detach().clone()
            k = w.reshape(shape[0], -1)
            mag = torch.rand(k.shape, generator=g) + 0.5
            mag = mag * (k.abs().mean(1, keepdim=True) / mag.mean(1, keepdim=True))
            y0 = m(x)
            p.copy_((torch.where(k >= 0, 1.0, -1.0) * mag).reshape(w.shape))
            y1 = m(x)
            p.copy_(w)
            y2 = m(x)
        changed = not torch.allclose(y0, y2)  # a stateful forward: refuse to guess
        return (not changed) and torch.allclose(y0, y1, rtol=1e-4, atol=1e-5) and not torch.allclose(y0, torch.zeros_like(y0))
    except Exception:  # a forward that needs more than one tensor, or other shapes: not a plain binary conv
        return False
    finally:
        m.train(was)


@dataclass
class SparksReport:
    """What sparksify did: the layers it gave a codebook (name, shape) and the 3x3 candidates it left alone."""
    tau: int
    replaced: list = field(default_factory=list)
    skipped: list = field(default_factory=list)

    def __str__(self):
        lines = [f'sparksify: tau {self.tau} ({2 ** self.tau} codewords) on {len(self.replaced)} layer(s)']
        lines += [f'  {n}: {list(s)}' for n, s in self.replaced]
        lines += [f'  left as they are: {n} ({why})' for n, why in self.skipped]
        return '\n'.join(lines)


def sparksify(model, tau, *, select=None, sinkhorn_iters=20):
    """Give every binary 3x3 convolution of `model` (in place) a learned codebook of 2^tau distinct codewords; returns
    (model, SparksReport). Layers start plain (W' = W) until SparksSchedule starts the selection."""
    if not 1 <= tau <= 8:
        raise ValueError(f'tau must be 1..8 (2..256 codewords of the 512), got {tau}')
    report = SparksReport(tau)
    for name, m in list(model.named_modules()):
        if parametrize.is_parametrized(m):
            continue
        latent = _latent_name(m)
        if latent is None:
            continue
        pname, shape = latent
        if select is not None:
            if not select(m):
                continue
        elif not binarises(m, pname, shape):
            report.skipped.append((name, 'its forward does not binarise the weight'))
            continue
        parametrize.register_parametrization(m, pname, SparksWeight(shape, tau, sinkhorn_iters))
        report.replaced.append((name, shape))
    if not report.replaced:
        raise ValueError('sparksify: no binary 3x3 convolution found (pass select=... to name them)')
    return model, report


def sparks_layers(model):
    """(name, module, parameter name, SparksWeight) of every sparksified layer, in module order."""
    out = []
    for name, m in model.named_modules():
        if not parametrize.is_parametrized(m):
            continue
        for pname, plist in m.parametrizations.items():
            for p in plist:
                if isinstance(p, SparksWeight):
                    out.append((name, m, pname, p))
    return out


def latent_weight(m, pname):
    """The latent (unparametrised) weight W of a sparksified layer."""
    return getattr(m.parametrizations, pname).original


def param_groups(model, lr, score_lr=1e-2):
    """Optimiser groups: the selection scores at their own (higher) rate, everything else at `lr`."""
    scores = [p for n, p in model.named_parameters() if n.endswith('.scores')]
    ids = {id(p) for p in scores}
    other = [p for p in model.parameters() if id(p) not in ids]
    return [{'params': other, 'lr': lr}] + ([{'params': scores, 'lr': score_lr}] if scores else [])
