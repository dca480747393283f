"""Finish trained runs again: BN statistics recomputed, accuracy, dumps, ONNX and meta.json, from the run's
model.pt (trained weights, selected codewords, frozen kernels), without retraining.

    /usr/bin/python3 -m training.refinish runs/sweep/s1/sparks-4 [RUN ...]
    /usr/bin/python3 -m training.refinish --all runs/sweep       # every run folder below (meta.json + model.pt)

Why: the BN recompute changed twice. It first read the training set class by class (now a shuffled order), then
recomputed every layer in one train-mode pass (now layer by layer, so each layer's statistics are measured on the
signs the exported model computes; see train.recompute_bn). Both mis-estimated the statistics. Training never reads
the running statistics (train-mode batch norm uses batch statistics; --bn-freeze runs are the exception), so the
trained weights are exactly what a fresh run would learn; only the finishing step changes.
The previous accuracy is kept in meta.json as test_accuracy_class_ordered_bn or test_accuracy_one_pass_bn.
"""
import argparse
import json
import os
import sys

import torch

from . import train
from .models import build
from .sparksify import sparks_layers, sparksify


def load_run(run, meta):
    """The run's model as it finished: its architecture, sparksified at its tau, every weight, selection and frozen
    kernel from model.pt."""
    state = torch.load(os.path.join(run, 'model.pt'), map_location='cpu')
    model = build(meta.get('model', 'mnist-small'))
    if meta['tau'] < 9:
        sparksify(model, meta['tau'])
        for name, _, pname, sw in sparks_layers(model):
            q = state.get(f'{name}.parametrizations.{pname}.0.qsign')
            if q is not None and q.dim() == 2:
                sw.qsign = q.clone()  # frozen kernels: the buffer's shape is set before loading
                sw.plain = False
    model.load_state_dict(state)
    return model


def refinish(run):
    meta_path = os.path.join(run, 'meta.json')
    meta = json.load(open(meta_path))
    model = load_run(run, meta)
    keep = {k: v for k, v in meta.items() if k not in ('test_accuracy', 'test_images', 'val_accuracy', 'val_images', 'bn', 'torch', 'signs', 'dumped', 'split', 'layers')}
    if 'bn' not in meta:
        keep['test_accuracy_class_ordered_bn'] = meta['test_accuracy']
    elif 'layer by layer' not in meta['bn']:
        keep['test_accuracy_one_pass_bn'] = meta['test_accuracy']
    before = meta['test_accuracy']
    new = train.finish(model, run, keep, smoke=bool(meta.get('smoke')), dump=meta.get('dumped', 16))
    print(f'{run}: {100 * before:.2f} % -> {100 * new["test_accuracy"]:.2f} %', flush=True)
    return new


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument('runs', nargs='+')
    ap.add_argument('--all', action='store_true', help='the arguments are folders to search for runs')
    ap.add_argument('--threads', type=int, default=1)
    args = ap.parse_args(argv)
    torch.set_num_threads(args.threads)
    runs = []
    for r in args.runs:
        if args.all:
            runs += sorted(d for d, _, files in os.walk(r) if 'meta.json' in files and 'model.pt' in files)
        else:
            runs.append(r)
    if not runs:
        sys.exit('no runs found')
    for r in runs:
        refinish(r)


if __name__ == '__main__':
    main()
