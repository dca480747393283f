"""Check of training/resnet.py's MnistResNet: a short plain training run, BN statistics, ONNX export and the dumps
for the bnn-gen comparison (the same files as training.train / training.blocks_check).

    /usr/bin/python3 -m training.resnet_check OUT [--steps 200] [--seed 1] [--bn recompute|running]
        [--shortcut conv|concat] [--depths 2 3 3] [--bnn-gen bin/bnn-gen.js]

- trains N steps (Adam lr 1e-3, cross-entropy, batch 100, shuffled training split, one torch thread) and prints the
  time per step, the per-epoch estimate (8,000 digits), the parameter count and the binary / real MACs per digit;
- BN statistics: `recompute` (default) resets them and recomputes them layer by layer over the training split
  (training.finish.recompute_bn: one train-mode pass per BatchNorm in forward order, every earlier one already in eval
  mode; batches of 100 in a fixed shuffled order), or `running` keeps the running statistics of training;
- test accuracy on the 2,000 test digits; then writes to OUT:
    model.onnx       opset 13, input 'image' = data.to_float(uint8 digits), output 'scores'
    model.pt         state dict
    inputs.npy       uint8 [N,1,28,28]: test digits 0, 250, 500, ... (every class)
    tie_scores.npy   float32 [N,10]: PyTorch eval forward with sign(0) = +1 (bnn-gen's rule)
    tie_sign{j}.npy  int8: every RSign output, in forward order
    meta.json
- with --bnn-gen CLI (path to bin/bnn-gen.js): `node CLI run OUT/model.onnx --input inputs.npy --json` (TS reference)
  and the scores compared with tie_scores.npy (max |diff| <= 1e-4 of the largest score, same argmax); exit 1 if not.
"""
import argparse
import json
import os
import subprocess
import sys
import time

import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F

from . import bnn, data, finish
from .resnet import MnistResNet

BN_ORDER_SEED = 0


def recompute_bn(model, xs, batch=100):
    """training.finish.recompute_bn (layer by layer) over `xs` in a fixed shuffled order; returns the BatchNorm count."""
    order = np.random.default_rng(BN_ORDER_SEED).permutation(len(xs))
    loader = [data.to_float(xs[order[i:i + batch]]) for i in range(0, len(xs), batch)]
    finish.recompute_bn(model, loader)
    return len(finish.batchnorms(model))


def count_macs(model, x):
    """(binary MACs, real MACs) of one digit: BinaryConv2d = binary; nn.Conv2d, nn.Linear = real."""
    counts = {'binary': 0, 'real': 0}

    def hook(kind):
        def f(m, inputs, out):
            cin = inputs[0].shape[1]
            if isinstance(m, nn.Linear):
                counts[kind] += m.in_features * m.out_features
            else:
                k = m.weight.shape[2] * m.weight.shape[3]
                counts[kind] += out.shape[1] * out.shape[2] * out.shape[3] * cin * k
        return f

    hooks = []
    for m in model.modules():
        if isinstance(m, bnn.BinaryConv2d):
            hooks.append(m.register_forward_hook(hook('binary')))
        elif isinstance(m, (nn.Conv2d, nn.Linear)):
            hooks.append(m.register_forward_hook(hook('real')))
    model.eval()
    with torch.no_grad():
        model(x[:1])
    for h in hooks:
        h.remove()
    return counts['binary'], counts['real']


def evaluate(model, xs, ys, batch=500):
    model.eval()
    correct = 0
    with torch.no_grad():
        for i in range(0, len(xs), batch):
            correct += int((model(data.to_float(xs[i:i + batch])).argmax(1) == torch.as_tensor(ys[i:i + batch])).sum())
    return correct / len(xs)


def dump(model, out, q):
    """inputs.npy, tie_scores.npy, tie_sign{j}.npy: eval forward with sign(0) = +1, one digit at a time."""
    np.save(os.path.join(out, 'inputs.npy'), q)
    bnn.SIGN_RULE = 'tie'
    scores, signs = [], []
    try:
        with torch.no_grad():
            for i in range(len(q)):
                bnn.RECORD = []
                scores.append(model(data.to_float(q[i:i + 1])).numpy()[0])
                signs.append([r.numpy()[0].astype(np.int8) for r in bnn.RECORD])
    finally:
        bnn.RECORD = None
        bnn.SIGN_RULE = 'torch'
    scores = np.stack(scores).astype(np.float32)
    np.save(os.path.join(out, 'tie_scores.npy'), scores)
    for j in range(len(signs[0])):
        np.save(os.path.join(out, f'tie_sign{j}.npy'), np.stack([s[j] for s in signs]))
    return scores, len(signs[0])


def compare_bnn_gen(cli, out, scores):
    """bnn-gen's TS reference on inputs.npy against PyTorch's tie_scores: (ok, worst relative difference)."""
    r = subprocess.run(['node', cli, 'run', os.path.join(out, 'model.onnx'), '--input', os.path.join(out, 'inputs.npy'),
                        '--json', '-q'], capture_output=True, text=True)
    if r.returncode != 0:
        print(r.stdout + r.stderr)
        return False, None
    results = json.loads(r.stdout)['results']
    ok, worst = True, 0.0
    for i, (res, want) in enumerate(zip(results, scores)):
        mine = np.asarray(res['scores'], dtype=np.float64)
        err = float(np.abs(mine - want).max() / max(1.0, float(np.abs(want).max())))
        worst = max(worst, err)
        same = int(np.argmax(mine)) == int(np.argmax(want))
        ok &= err <= 1e-4 and same and len(results) == len(scores)
        print(f'  digit {i}: bnn-gen argmax {int(np.argmax(mine))}, PyTorch {int(np.argmax(want))}, '
              f'max |diff| / max |score| {err:.2e}')
    return ok, worst


def main(argv=None):
    ap = argparse.ArgumentParser(description='MnistResNet: short training, BN statistics, ONNX export and dumps')
    ap.add_argument('out')
    ap.add_argument('--steps', type=int, default=200)
    ap.add_argument('--seed', type=int, default=1)
    ap.add_argument('--batch', type=int, default=100)
    ap.add_argument('--lr', type=float, default=1e-3)
    ap.add_argument('--threads', type=int, default=1)
    ap.add_argument('--bn', choices=['recompute', 'running'], default='recompute')
    ap.add_argument('--dump', type=int, default=8, help='test digits dumped (0, 250, 500, ...)')
    ap.add_argument('--depths', type=int, nargs=3, default=None, help='units per stage (default: the model\'s)')
    ap.add_argument('--shortcut', choices=['conv', 'concat'], default='conv', help='shortcut where the shape changes')
    ap.add_argument('--bnn-gen', dest='cli', default=None, help='path to bin/bnn-gen.js: compare scores with bnn-gen')
    args = ap.parse_args(argv)

    torch.manual_seed(args.seed)
    torch.set_num_threads(args.threads)
    os.makedirs(args.out, exist_ok=True)
    (trx, try_), (tex, tey) = data.split()
    model = MnistResNet(shortcut=args.shortcut, **({'depths': tuple(args.depths)} if args.depths else {}))
    params = sum(p.numel() for p in model.parameters())
    binary_macs, real_macs = count_macs(model, data.to_float(tex[:1]))
    binary_weights = sum(c.weight.numel() for _, c in model.binary_convs())
    print(f'MnistResNet: {len(model.binary_convs())} binary 3x3 convs, {params:,} parameters '
          f'({binary_weights:,} binary weights), {binary_macs:,} binary MACs, {real_macs:,} real MACs per digit',
          flush=True)

    opt = torch.optim.Adam(model.parameters(), args.lr)
    rng = np.random.default_rng(args.seed)
    per_epoch = len(trx) // args.batch
    order = rng.permutation(len(trx))
    times, t_start = [], time.time()
    model.train()
    for step in range(args.steps):
        k = step % per_epoch
        if k == 0 and step > 0:
            order = rng.permutation(len(trx))
        idx = order[k * args.batch:(k + 1) * args.batch]
        t = time.perf_counter()
        loss = F.cross_entropy(model(data.to_float(trx[idx])), torch.as_tensor(try_[idx]))
        opt.zero_grad()
        loss.backward()
        opt.step()
        times.append(time.perf_counter() - t)
        if (step + 1) % 50 == 0 or step + 1 == args.steps:
            print(f'  step {step + 1}/{args.steps}: loss {loss.item():.4f}, {np.median(times[-50:]) * 1e3:.0f} ms/step',
                  flush=True)
    train_seconds = time.time() - t_start
    step_s = float(np.median(times[min(5, len(times) - 1):]))  # skip the first steps (allocator warm-up)
    print(f'time per step (batch {args.batch}, {args.threads} thread(s)): median {step_s * 1e3:.0f} ms; '
          f'epoch of {len(trx):,} digits ({per_epoch} steps) ~ {step_s * per_epoch:.1f} s', flush=True)

    t = time.time()
    if args.bn == 'recompute':
        n = recompute_bn(model, trx, args.batch)
        bn_note = f'recomputed layer by layer ({n} BatchNorms), batch {args.batch}, shuffled order (seed {BN_ORDER_SEED})'
    else:
        bn_note = 'running statistics of training'
    bn_seconds = time.time() - t
    model.eval()
    acc = evaluate(model, tex, tey)
    print(f'BN statistics: {bn_note} ({bn_seconds:.1f} s); test accuracy {acc:.4f} on {len(tex)} digits', flush=True)

    q = tex[::250][:args.dump]
    scores, signs = dump(model, args.out, q)
    path = os.path.join(args.out, 'model.onnx')
    torch.onnx.export(model, data.to_float(q[:1]), path, opset_version=13, input_names=['image'],
                      output_names=['scores'])
    torch.save(model.state_dict(), os.path.join(args.out, 'model.pt'))
    meta = {
        'model': 'mnist-resnet', 'shortcut': args.shortcut, 'units': len(model.units), 'steps': args.steps,
        'seed': args.seed, 'batch': args.batch, 'lr': args.lr,
        'threads': args.threads, 'step_seconds': round(step_s, 4), 'epoch_seconds_estimate': round(step_s * per_epoch, 1),
        'train_seconds': round(train_seconds, 1), 'parameters': params, 'binary_weights': binary_weights,
        'binary_macs': binary_macs, 'real_macs': real_macs, 'bn': bn_note, 'test_accuracy': acc,
        'signs': signs, 'dumped': len(q), 'torch': torch.__version__,
    }
    with open(os.path.join(args.out, 'meta.json'), 'w') as f:
        json.dump(meta, f, indent=1)
    print(f'wrote {path}, inputs.npy, tie_scores.npy, tie_sign0..{signs - 1}.npy ({len(q)} digits), meta.json',
          flush=True)

    if args.cli:
        ok, worst = compare_bnn_gen(args.cli, args.out, scores)
        print(f'bnn-gen vs PyTorch (sign(0) = +1): {"OK" if ok else "FAIL"}'
              + (f', largest difference {worst:.2e} of the largest score' if worst is not None else ''))
        if not ok:
            sys.exit(1)


if __name__ == '__main__':
    main()
