"""Sparks: learned sub-codebook selection for binary 3x3 convs (Gumbel-Sinkhorn + Permutation Straight-Through).

Codewords: id i in 0..511 has tap t = 3*ky + kx equal to +1 iff bit t of i is set, else -1 (the SNN convention).

Each SparksConv2d keeps a score matrix S of shape [n, 512] (n = 2^tau): row r scores which codeword takes slot r of
the sub-codebook, i.e. S is the first n rows of a 512x512 permutation's score matrix. The remaining 512 - n rows of that
permutation are interchangeable, so they are one slack row with mass 512 - n and score 0 (an exact balanced
transport problem), which keeps Sinkhorn at (n+1) x 512 instead of 512 x 512.

Training forward:
  log_alpha = S / T + g * G      (G Gumbel noise; only the scores are divided by the temperature T, so the noise
                                  shrinks relative to them as T anneals and the selection settles)
  P_soft = exp(Sinkhorn_log(log_alpha))[:n]   (rows sum to 1, columns to <= 1)
  P_hard = assignment(log P_soft)             (rectangular Hungarian, maximising sum of log P_soft; distinct columns)
  P = P_hard + P_soft - P_soft.detach()       (Permutation Straight-Through Estimator)
  C = P @ CODEBOOK                            ([n, 9], +-1 in forward: distinct codewords by construction)
  each latent kernel w -> the codeword of C with the largest inner product <C_k, w> (nearest in L2);
  effective weight = alpha_o * (C[k] + w - w.detach())  (straight-through to the latent weights, gradient to C too).
`freeze_selection()` fixes the selection (deterministic, no noise); `freeze_kernels()` stores the +-1 kernels as a buffer, so eval/export is
`qsign * mean|W|` on initializers, which bnn-gen constant-folds into a codebook conv.
"""
import math

import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F

from .bnn import channel_scale

CODEBOOK = (((torch.arange(512)[:, None] >> torch.arange(9)[None, :]) & 1).float() * 2 - 1)  # [512, 9]


def kernel_ids(signs):
    """+-1 (or real: sign with 0 -> +1) kernels [..., 3, 3] -> codeword ids [...] (bit t set iff tap t >= 0)."""
    bits = (signs.reshape(*signs.shape[:-2], 9) >= 0).long()
    return (bits << torch.arange(9)).sum(-1)


def assignment(score):
    """Rectangular linear assignment maximising sum score[r, col[r]] (n rows <= m columns), distinct columns.

    Shortest augmenting path Hungarian algorithm (Kuhn-Munkres with potentials, O(n^2 m)), vectorised over columns.
    `score`: numpy array [n, m]. Returns int64 array col[n].
    """
    cost = -np.asarray(score, dtype=np.float64)
    n, m = cost.shape
    assert n <= m
    u = np.zeros(n + 1)
    v = np.zeros(m + 1)
    p = np.zeros(m + 1, dtype=np.int64)  # p[j]: row (1-based) matched to column j (1-based), 0 = none
    way = np.zeros(m + 1, dtype=np.int64)
    for i in range(1, n + 1):
        p[0] = i
        j0 = 0
        minv = np.full(m + 1, np.inf)
        used = np.zeros(m + 1, dtype=bool)
        while True:
            used[j0] = True
            i0 = p[j0]
            cur = cost[i0 - 1] - u[i0] - v[1:]
            free = ~used[1:]
            mv = minv[1:]
            way1 = way[1:]
            upd = free & (cur < mv)
            mv[upd] = cur[upd]
            way1[upd] = j0
            cand = np.where(free, mv, np.inf)
            j1 = int(np.argmin(cand)) + 1
            delta = cand[j1 - 1]
            u[p[used]] += delta
            v[used] -= delta
            mv[free] -= delta
            j0 = j1
            if p[j0] == 0:
                break
        while True:
            j1 = way[j0]
            p[j0] = p[j1]
            j0 = j1
            if j0 == 0:
                break
    col = np.zeros(n, dtype=np.int64)
    for j in range(1, m + 1):
        if p[j]:
            col[p[j] - 1] = j - 1
    return col


def sinkhorn_log(log_alpha, row_mass, iters=20):
    """Log-space Sinkhorn: rows sum to row_mass (tensor [R]), columns to 1. Returns the normalised log matrix."""
    log_r = torch.log(row_mass)[:, None]
    for _ in range(iters):
        log_alpha = log_alpha - (torch.logsumexp(log_alpha, dim=1, keepdim=True) - log_r)
        log_alpha = log_alpha - torch.logsumexp(log_alpha, dim=0, keepdim=True)
    return log_alpha


def gumbel(shape, gen=None):
    u = torch.rand(shape, generator=gen).clamp(1e-10, 1 - 1e-10)
    return -torch.log(-torch.log(u))


class SparksConv2d(nn.Module):
    """Binary 3x3 conv whose kernels come from a learned sub-codebook of n = 2^tau distinct codewords.

    Modes: `plain` (tau = 9 or warm-up: sign(W) * alpha, a plain BNN layer); selection (Gumbel-Sinkhorn + PSTE, the
    temperature and noise set by the trainer); frozen (selection fixed, kernels still re-assigned to the nearest
    codeword while the latent weights train); `freeze_kernels()` then fixes the +-1 kernels for eval/export.
    """

    def __init__(self, cin, cout, tau, stride=1, sinkhorn_iters=20):
        super().__init__()
        assert 1 <= tau <= 9
        self.tau, self.n = tau, 2 ** tau
        self.stride = stride
        self.weight = nn.Parameter(torch.randn(cout, cin, 3, 3) * 0.05)
        self.scores = nn.Parameter(torch.zeros(self.n, 512)) if tau < 9 else None
        self.register_buffer('selected', torch.full((self.n,), -1, dtype=torch.long))  # frozen codeword ids
        self.register_buffer('qsign', torch.zeros(0))  # frozen +-1 kernels [O, C, 3, 3] (empty: not frozen)
        self.plain = tau >= 9
        self.temperature = 1.0
        self.noise = 1.0
        self.sinkhorn_iters = sinkhorn_iters
        self.last_selection = None  # codeword ids of the last hard selection (numpy), for monitoring

    # ---- selection -------------------------------------------------------------------------------------------------
    def init_scores_from_weights(self, spread=4.0, jitter=0.01):
        """Scores from the kernel histogram of the current latent weights: frequent codewords start ahead."""
        if self.scores is None:
            return
        with torch.no_grad():
            ids = kernel_ids(self.weight.detach())
            counts = torch.bincount(ids.flatten(), minlength=512).float()
            z = torch.log1p(counts)
            z = (z - z.mean()) / (z.std() + 1e-8)
            self.scores.copy_(spread * z[None, :].expand(self.n, 512) + jitter * torch.randn(self.n, 512))

    def greedy_codewords(self):
        """The n codewords chosen greedily to maximise sum over kernels of max_c <c, w> (the latent kernel's inner
        product with its nearest chosen codeword: the quantisation objective), in pick order."""
        with torch.no_grad():
            g = self.weight.detach().reshape(-1, 9) @ CODEBOOK.t()  # [K, 512]
            best = torch.full((g.shape[0], 1), -float('inf'))
            picks = []
            for _ in range(self.n):
                gain = torch.maximum(g, best).sum(0)
                if picks:
                    gain[torch.as_tensor(picks)] = -float('inf')
                c = int(torch.argmax(gain))  # ties: smallest id
                picks.append(c)
                best = torch.maximum(best, g[:, c:c + 1])
            return picks

    def init_scores_greedy(self, spread=4.0, jitter=0.01):
        """Scores that start the selection at the greedy quantisation-error choice (+spread), every other codeword
        ordered by its kernel frequency below it; Gumbel-Sinkhorn then moves from there with the task loss."""
        if self.scores is None:
            return
        with torch.no_grad():
            counts = torch.bincount(kernel_ids(self.weight.detach()).flatten(), minlength=512).float()
            z = torch.log1p(counts)
            z = (z - z.mean()) / (z.std() + 1e-8)
            base = 0.25 * spread * z.clamp(-2, 2) / 2
            base[torch.as_tensor(self.greedy_codewords())] += spread
            self.scores.copy_(base[None, :].expand(self.n, 512) + jitter * torch.randn(self.n, 512))

    def select_most_frequent(self):
        """Fix the selection to the n most frequent codewords of sign(latent kernels) (ties: smaller id first): the
        post-hoc baseline. Kernels are then mapped to the nearest of them, as in every other mode."""
        if self.scores is None:
            return
        with torch.no_grad():
            counts = torch.bincount(kernel_ids(self.weight.detach()).flatten(), minlength=512)
            order = sorted(range(512), key=lambda i: (-int(counts[i]), i))
            self.selected.copy_(torch.as_tensor(order[: self.n]))

    def soft_perm(self, noise=True):
        """log P_soft [n, 512] (P_soft: rows sum to 1, columns <= 1), differentiable in the scores."""
        s = self.scores / self.temperature
        slack = torch.zeros(1, 512, dtype=s.dtype)
        la = torch.cat([s, slack], 0)
        if noise and self.noise > 0:
            la = la + self.noise * gumbel(la.shape)
        mass = torch.tensor([1.0] * self.n + [512.0 - self.n], dtype=s.dtype)
        return sinkhorn_log(la, mass, self.sinkhorn_iters)[: self.n]

    def select(self, noise=True):
        """(C [n, 9] with the PSTE gradient, ids [n]): the hard selection in forward, the soft gradient in backward."""
        log_p = self.soft_perm(noise)
        p_soft = torch.exp(log_p)
        # The assignment maximises sum log P_soft (not sum P_soft): at low temperature P_soft underflows to exact 0/1
        # entries, where a solve on P would break ties arbitrarily; the log matrix keeps the order of every entry.
        cols = assignment(log_p.detach().numpy())
        p_hard = torch.zeros_like(p_soft)
        p_hard[torch.arange(self.n), torch.as_tensor(cols)] = 1.0
        p = p_hard + p_soft - p_soft.detach()
        self.last_selection = cols
        return p @ CODEBOOK, torch.as_tensor(cols)

    def freeze_selection(self):
        """Fix the selection: the deterministic (noise-free) assignment at the current temperature."""
        if self.scores is None:
            return
        with torch.no_grad():
            _, ids = self.select(noise=False)
        self.selected.copy_(ids)

    def is_selection_frozen(self):
        return bool((self.selected >= 0).all())

    def codebook(self):
        """Current codewords [n, 9] (with gradient when selecting)."""
        if self.is_selection_frozen():
            return CODEBOOK[self.selected]
        if self.training:
            return self.select(noise=True)[0]
        return self.select(noise=False)[0].detach()

    # ---- kernels ---------------------------------------------------------------------------------------------------
    def quantised(self):
        """(+-1 kernels [O, C, 3, 3] differentiable w.r.t. the codebook, codeword slot of each kernel)."""
        w = self.weight
        c = self.codebook()
        flat = w.reshape(-1, 9)
        slot = torch.argmax(flat.detach() @ c.detach().t(), dim=1)  # nearest codeword = largest inner product
        return c[slot].reshape(w.shape), slot.reshape(w.shape[:2])

    def freeze_kernels(self):
        """Freeze selection and the +-1 kernels; eval/export then uses qsign * mean|W| (foldable initializers)."""
        with torch.no_grad():
            if self.plain or self.scores is None:
                q = torch.where(self.weight >= 0, 1.0, -1.0)
            else:
                if not self.is_selection_frozen():
                    self.freeze_selection()
                q, _ = self.quantised()
            self.qsign = q.detach().clone()

    def kernel_codewords(self):
        """Codeword ids of every kernel [O, C] as the layer currently computes them."""
        with torch.no_grad():
            if self.qsign.dim() == 4:
                return kernel_ids(self.qsign)
            if self.plain or self.scores is None:
                return kernel_ids(self.weight)
            was = self.training
            self.eval()
            q, _ = self.quantised()
            self.train(was)
            return kernel_ids(q)

    def effective_weight(self):
        w = self.weight
        alpha = channel_scale(w)
        if self.qsign.dim() == 4 and not self.training:
            return self.qsign * alpha
        if self.plain or self.scores is None:
            b = torch.where(w >= 0, torch.ones_like(w), -torch.ones_like(w))
        else:
            b, _ = self.quantised()
        if self.training:
            wc = w.clamp(-1, 1)
            b = b + wc - wc.detach()
        return b * alpha

    def forward(self, x):
        return F.conv2d(x, self.effective_weight(), stride=self.stride, padding=1)
