"""Sparks for PyTorch BNNs: sparksify a model, train it with SparksSchedule, recompute its batch norms, export ONNX.

    from training import sparksify, SparksSchedule, recompute_bn, export_onnx
"""
from .finish import export_onnx, recompute_bn
from .schedule import SparksSchedule
from .sparksify import SparksReport, param_groups, sparks_layers, sparksify

__all__ = ['sparksify', 'SparksSchedule', 'recompute_bn', 'export_onnx', 'param_groups', 'sparks_layers', 'SparksReport']
