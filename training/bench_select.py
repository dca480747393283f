"""Time per training step while the selection is learned, and the share of the Hungarian solve, at tau 4 and 6:
one solve per step per layer (solve_every 1) against one every k steps. Prints a table; times are wall-clock medians
on this machine (noisy when it is shared), so compare within one run.

    /usr/bin/python3 -m training.bench_select [--steps 30] [--every 10] [--model mnist-small]
"""
import argparse
import statistics
import sys
import time

import torch
import torch.nn.functional as F

from . import data
from .models import build
from .schedule import SparksSchedule
from .sparksify import param_groups, sparksify


def time_steps(model_name, tau, steps, every, batch=100):
    """(median seconds per step, mean Hungarian seconds per step); tau 9: the plain BNN, no selection."""
    torch.manual_seed(1)
    model = build(model_name)
    schedule = None
    if tau < 9:
        model, _ = sparksify(model, tau)
        schedule = SparksSchedule(model, steps * 10, plain_frac=0.0, freeze_frac=1.0, solve_every=every)
    opt = torch.optim.Adam(param_groups(model, 1e-3))
    (x, y), _ = data.split()
    solve = []
    sp = sys.modules['training.sparksify']  # the module (the package's name `sparksify` is the function)
    real = sp.assignment

    def timed(score):  # count the solves' own time
        t = time.perf_counter()
        r = real(score)
        solve.append(time.perf_counter() - t)
        return r
    sp.assignment = timed
    per = []
    try:
        for i in range(steps):
            xb, yb = data.to_float(x[i * batch:(i + 1) * batch]), torch.as_tensor(y[i * batch:(i + 1) * batch])
            t = time.perf_counter()
            model.train()
            loss = F.cross_entropy(model(xb), yb)
            opt.zero_grad()
            loss.backward()
            opt.step()
            if schedule:
                schedule.step()
            per.append(time.perf_counter() - t)
    finally:
        sp.assignment = real
    return statistics.median(per[2:]), sum(solve) / steps


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument('--steps', type=int, default=30)
    ap.add_argument('--every', type=int, default=10)
    ap.add_argument('--model', default='mnist-small')
    ap.add_argument('--threads', type=int, default=1)
    ap.add_argument('--rounds', type=int, default=2)
    args = ap.parse_args(argv)
    torch.set_num_threads(args.threads)
    print(f'{args.model}, batch 100, {args.threads} thread(s), selection phase, median of {args.steps - 2} steps')
    print('| tau | solve every | s / step | Hungarian s / step |')
    print('|---|---|---|---|')
    for _ in range(args.rounds):  # interleaved rounds: a busy machine slows every row alike
        step, _ = time_steps(args.model, 9, args.steps, 1)
        print(f'| plain BNN | - | {step:.3f} | - |', flush=True)
        for tau in (4, 6):
            for every in (1, args.every):
                step, solve = time_steps(args.model, tau, args.steps, every)
                print(f'| {tau} | {every} | {step:.3f} | {solve:.4f} |', flush=True)


if __name__ == '__main__':
    main()
