"""Ship a trained run as bnn-gen's example model (the CLI default): import its ONNX with bnn-gen and add labelled
held-out digits for the on-board accuracy check.

    /usr/bin/python3 -m training.ship runs/sweep/s1/sparks-4 --out examples/mnist-sparks

Writes to OUT (replacing what is there):
  model.json, model.bin   `bnn-gen import RUN/model.onnx --name NAME` (the native format; no ONNX needed at run time)
  digits.npy              uint8 [100, 1, 28, 28]: test digits 0, 20, 40, ... of the 2,000 (about ten of each class;
                          the test split is ordered by class), none of them seen in training
  labels.npy              int64 [100]: their classes
  training.json           the run's meta.json (command options, accuracy on the 2,000 test digits, selected codewords)
"""
import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile

import numpy as np

from . import data

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
STRIDE = 20  # every 20th test digit: 100 digits spread over the class-ordered test split


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument('run', help='a training.train output folder (model.onnx, meta.json)')
    ap.add_argument('--out', default='examples/mnist-sparks')
    ap.add_argument('--name', default='mnist-sparks')
    args = ap.parse_args(argv)
    meta = json.load(open(os.path.join(args.run, 'meta.json')))
    if meta.get('smoke'):
        sys.exit(f'{args.run}: a smoke run is not a model to ship')

    (_, _), (tex, tey) = data.split()
    idx = np.arange(0, len(tex), STRIDE)
    tmp = tempfile.mkdtemp(dir=os.path.dirname(os.path.abspath(args.out)) or '.', prefix='.ship-')
    try:
        out = subprocess.run(['node', os.path.join(ROOT, 'bin', 'bnn-gen.js'), 'import', os.path.join(args.run, 'model.onnx'),
                              '-o', os.path.join(tmp, 'model.json'), '--name', args.name], cwd=ROOT, capture_output=True, text=True)
        if out.returncode != 0:
            sys.exit(f'bnn-gen import failed: {out.stderr.strip()}')
        # The importer's per-layer report, without its file paths (they name the temporary folder).
        print('\n'.join(l for l in out.stdout.splitlines() if not l.startswith('next:') and ' -> ' not in l))
        np.save(os.path.join(tmp, 'digits.npy'), np.ascontiguousarray(tex[idx]))
        np.save(os.path.join(tmp, 'labels.npy'), tey[idx].astype(np.int64))
        meta = dict(meta, shipped_digits=f'test digits {STRIDE}*k, k = 0..{len(idx) - 1}', source_run=args.run)
        with open(os.path.join(tmp, 'training.json'), 'w') as f:
            json.dump(meta, f, indent=1)
        if os.path.exists(args.out):
            shutil.rmtree(args.out)
        os.rename(tmp, args.out)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    print(f'{args.out}: {args.name} (tau {meta["tau"]}, {100 * meta["test_accuracy"]:.2f} % on {meta["test_images"]} test digits), '
          f'{len(idx)} labelled digits; classes {np.bincount(tey[idx], minlength=10).tolist()}')


if __name__ == '__main__':
    main()
