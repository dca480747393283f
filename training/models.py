"""The trainer's --model names: a built-in architecture, or any callable that returns an nn.Module.

    mnist-small         training.model.MnistBNN (the shipped example's architecture)
    mnist-resnet        training.resnet.MnistResNet (ReActNet-style residual BNN: RSign, RPReLU, residual adds)
    package.module:fn   fn() from an importable module (your own BNN; its binary 3x3 convs are found by sparksify)
"""
import importlib


def build(spec):
    if spec == 'mnist-small':
        from .model import MnistBNN
        return MnistBNN()
    if spec == 'mnist-resnet':
        from .resnet import MnistResNet
        return MnistResNet()
    if ':' not in spec:
        raise SystemExit(f"--model {spec}: expected mnist-small, mnist-resnet or module:callable")
    mod, _, fn = spec.partition(':')
    try:
        model = getattr(importlib.import_module(mod), fn)()
    except (ImportError, AttributeError) as e:
        raise SystemExit(f'--model {spec}: {e}')
    return model
