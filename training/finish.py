"""After training, before evaluation and export: batch-norm statistics recomputed layer by layer, and the ONNX export
bnn-gen reads. Both work on any model (sparksified or not).

recompute_bn: running statistics at the end of BNN training are unreliable (their inputs' signs changed while they
were averaged), and one pass with every BatchNorm in train mode measures layer l on signs that the earlier layers
computed with *batch* statistics, while the exported model computes them with the recomputed population statistics;
in small BNNs many pre-activations sit near their thresholds and the two differ (a tau-4 MNIST model: 86.85 % one
pass, 98.15 % layer by layer). So: one train-mode pass over the data per BatchNorm, in forward order, every earlier
BatchNorm already in eval mode on its recomputed statistics, cumulative averages (momentum None). The loader should
visit the training set in a fixed shuffled order (batches of one class bias the statistics).
"""
import copy

import torch
import torch.nn as nn
import torch.nn.utils.parametrize as parametrize

from .sparksify import sparks_layers


def batchnorms(model):
    return [m for m in model.modules() if isinstance(m, nn.modules.batchnorm._BatchNorm)]


class _StopForward(Exception):
    pass


def _stop_forward(module, inputs, output):
    raise _StopForward  # nothing after this BatchNorm changes its statistics


def _inputs(batch):
    return batch[0] if isinstance(batch, (tuple, list)) else batch


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


def recompute_bn(model, loader, max_batches=None):
    """Reset and recompute every BatchNorm's statistics layer by layer over `loader` (an iterable of input batches,
    or of (inputs, labels)); leaves the model in eval mode. Re-iterates the loader once per BatchNorm."""
    def batches():
        for i, b in enumerate(loader):
            if max_batches is not None and i >= max_batches:
                return
            yield _inputs(b)
    first = next(iter(batches()), None)
    if first is None:
        raise ValueError('recompute_bn: the loader yields no batch')
    bns = forward_order(model, first)
    for bn in bns:
        bn.reset_running_stats()
    for bn in bns:
        model.eval()
        bn.train()
        saved, bn.momentum = bn.momentum, None
        hook = bn.register_forward_hook(_stop_forward)
        try:
            with torch.no_grad():
                for x in batches():
                    try:
                        model(x)
                    except _StopForward:
                        pass
        finally:
            hook.remove()
            bn.momentum = saved
    model.eval()


def exportable(model):
    """A copy of `model` in eval mode with every Sparks parametrisation baked into its weight (W' = |W| * codeword):
    the user's forward then binarises a plain tensor, which ONNX holds as an initializer that bnn-gen folds."""
    layers = sparks_layers(model)
    unfrozen = [name for name, _, _, sw in layers if sw.qsign.dim() != 2]
    if unfrozen:
        raise ValueError(f'export: the kernels of {unfrozen} are not frozen yet (call SparksSchedule.finish() first)')
    m = copy.deepcopy(model)
    for name, mod, pname, _ in sparks_layers(m):
        parametrize.remove_parametrizations(mod, pname, leave_parametrized=True)
    return m.eval()


def export_onnx(model, example_input, path, *, input_names=('image',), output_names=('scores',), opset=13):
    """ONNX (opset 13) of the model as bnn-gen imports it (`npx bnn-gen import path -o model.json`): kernels frozen,
    BatchNorms in eval mode. `example_input`: one batch of the model's input (float, as the model takes it)."""
    m = exportable(model)
    with torch.no_grad():
        torch.onnx.export(m, example_input, path, opset_version=opset, input_names=list(input_names),
                          output_names=list(output_names))
    return path
