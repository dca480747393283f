"""Check of train.recompute_bn against statistics computed another way: a seeded MnistBNN with a few training steps
(so its BatchNorms are not at their initial values), then every BatchNorm's recomputed statistics are compared with the
population statistics of that layer's input in the eval-mode model, gathered with forward hooks from the same batches:
mean = mean of the batch means, variance = mean of the unbiased batch variances (what a cumulative train-mode
BatchNorm stores). Prints one JSON line; exits non-zero when a layer differs by more than float rounding, or when
a one-pass recompute would not differ (the check could not tell the two apart).

    /usr/bin/python3 -m training.bn_check
"""
import json
import sys

import numpy as np
import torch
import torch.nn.functional as F

from . import data, train
from .model import MnistBNN

BATCH, IMAGES = 50, 300


def expected_stats(model, xs):
    """Per BatchNorm (forward order): (mean, variance) of its input in the eval-mode model, per channel."""
    order = np.random.default_rng(train.BN_ORDER_SEED).permutation(len(xs))
    bns = train.forward_order(model, data.to_float(xs[:1]))
    feats = {bn: [] for bn in bns}
    hooks = [bn.register_forward_hook(lambda m, i, o: feats[m].append(i[0].double())) for bn in bns]
    model.eval()
    with torch.no_grad():
        for i in range(0, len(xs), BATCH):
            model(data.to_float(xs[order[i:i + BATCH]]))
    for h in hooks:
        h.remove()
    out = []
    for bn in bns:
        means = [f.mean((0, 2, 3)) for f in feats[bn]]
        variances = [f.transpose(0, 1).reshape(f.shape[1], -1).var(1, unbiased=True) for f in feats[bn]]
        out.append((torch.stack(means).mean(0), torch.stack(variances).mean(0)))
    return bns, out


def main():
    torch.manual_seed(0)
    (trx, try_), _ = data.split()
    pick = np.random.default_rng(1).permutation(len(trx))[:IMAGES]
    xs, ys = trx[pick], try_[pick]
    model = MnistBNN()
    opt = torch.optim.Adam(model.parameters(), 1e-2)
    model.train()
    for i in range(0, IMAGES, BATCH):
        loss = F.cross_entropy(model(data.to_float(xs[i:i + BATCH])), torch.as_tensor(ys[i:i + BATCH]))
        opt.zero_grad()
        loss.backward()
        opt.step()
    train.recompute_bn(model, xs, batch=BATCH)
    got = [(bn.running_mean.double(), bn.running_var.double()) for bn in train.forward_order(model, data.to_float(xs[:1]))]
    bns, want = expected_stats(model, xs)
    report = []
    for (gm, gv), (wm, wv) in zip(got, want):
        report.append({'mean_err': float((gm - wm).abs().max() / (wm.abs().max() + 1e-12)),
                       'var_err': float(((gv - wv).abs() / wv).max())})
    # The one-pass recompute (every BatchNorm in train mode at once) measures later layers on other signs: it must
    # differ somewhere, or this check would not tell the two apart.
    for bn in bns:
        bn.reset_running_stats()
        bn.momentum = None
    model.train()
    order = np.random.default_rng(train.BN_ORDER_SEED).permutation(len(xs))
    with torch.no_grad():
        for i in range(0, len(xs), BATCH):
            model(data.to_float(xs[order[i:i + BATCH]]))
    one_pass = max(float(((bn.running_var.double() - wv).abs() / wv).max()) for bn, (_, wv) in zip(bns, want))
    ok = all(r['mean_err'] < 1e-5 and r['var_err'] < 1e-4 for r in report) and one_pass > 1e-3
    print(json.dumps({'layers': report, 'one_pass_var_err': one_pass, 'ok': ok}))
    sys.exit(0 if ok else 1)


if __name__ == '__main__':
    main()
