"""Sparks: learned sub-codebook selection for binary 3x3 convs (Gumbel-Sinkhorn + Permutation Straight-Through): the
numerical pieces. The layer-side parametrisation that uses them is sparksify.SparksWeight.

Codewords: id i in 0..511 has tap t = 3*ky + kx equal to +1 iff bit t of i is set, else -1 (the SNN convention).

Each sparksified layer keeps a score matrix S of shape [n, 512] (n = 2^tau): row r scores which codeword takes slot r of
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
  W' = |w| * C[k]: the weight the layer's own forward binarises (sign(W') = C[k], mean|W'| = mean|w|); gradient
  straight through to w, and |w| times the layer's gradient to C.
`freeze_selection()` fixes the selection (deterministic, no noise); `freeze_kernels()` stores the +-1 kernels, and the
export bakes W' = |W| * kernel into the weight, which the layer's own sign(W') * mean|W'| turns into initializers that
bnn-gen constant-folds into a codebook conv.
"""
import numpy as np
import torch

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
