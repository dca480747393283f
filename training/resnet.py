"""A ReActNet-style residual BNN for 28x28 MNIST digits (`mnist-resnet`), sized for a Cortex-M4 with 128 KiB RAM.

  image [1,28,28] (float, byte/255)
  stem: Conv 1->32 3x3 stride 2 (real) + BN                                   28 -> 14   (ReActNet-A's stem)
  stage 1, 14x14, 32 ch:  2 units 32->32
  stage 2,  7x7,  64 ch:  unit 32->64 stride 2 (shortcut AvgPool 2 + real 1x1 conv + BN), 2 units 64->64
  stage 3,  7x7, 128 ch:  unit 64->128 (shortcut real 1x1 conv + BN), 2 units 128->128
  head: global average pool + Linear 128->10 (real, bias)

Every unit is ReActNet-18's / Bi-Real's basic unit on a real-valued residual stream:

  y = RPReLU( BN( BinaryConv3x3( RSign(x) ) ) + shortcut(x) )

with RSign = sign(x + b_c), BinaryConv2d weights sign(W) * mean|W| per output channel (training/bnn.py), RPReLU =
PReLU(x - g_c) + z_c; shortcut = identity, or the projection above when the shape changes. The stem, the 1x1
shortcut convs and the last layer stay real-valued (as in Sparks / SNN: only the binary 3x3 convs are compacted).

Sizes: 8 binary 3x3 convs (2 + 3 + 3), 479,232 binary weights, 26.2 M binary MACs and 0.56 M real MACs per digit.
The real residual stream is at most 32x14x14 or 128x7x7 floats (25 KiB per map), so bnn-gen's arena is 74,128 B
(fits a 128 KiB Cortex-M4 beside a 16 KiB stack); a stride-1 stem (28x28x32 floats, 100 KB per map) needs ~225 KB.

`binary_convs()` lists the BinaryConv2d layers (qualified names 'units.{i}.conv', forward order) for a codebook pass;
forward only calls them as `conv(x)`, so they can be swapped for another module with the same call (e.g. a Sparks
conv: `setattr(model.units[i], 'conv', new)`).
"""
import torch
import torch.nn as nn

from .bnn import BinaryConv2d, RPReLU, RSign


class Duplicate(nn.Module):
    """Parameter-free shortcut (ReActNet-A's channel doubling): AvgPool2d(stride) when strided, then the input
    repeated `times` along the channels (exports as AveragePool -> Concat)."""

    def __init__(self, stride, times):
        super().__init__()
        self.pool = nn.AvgPool2d(stride) if stride != 1 else None
        self.times = times

    def forward(self, x):
        if self.pool is not None:
            x = self.pool(x)
        return torch.cat([x] * self.times, 1) if self.times > 1 else x


class Unit(nn.Module):
    """ReActNet / Bi-Real unit: RSign -> binary 3x3 conv (stride s) -> BN, + shortcut, -> RPReLU.

    Shortcut: identity when the shape is kept; else with shortcut='conv' AvgPool2d(2) (when strided) + real 1x1 conv
    + BN (ReActNet-18's / Bi-Real's downsample; ResNet's projection shortcut when only the width changes), with
    shortcut='concat' AvgPool2d(2) (when strided) + the input repeated along the channels (ReActNet-A's doubling)."""

    def __init__(self, cin, cout, stride=1, shortcut='conv'):
        super().__init__()
        self.rsign = RSign(cin)
        self.conv = BinaryConv2d(cin, cout, 3, stride=stride)
        self.bn = nn.BatchNorm2d(cout)
        if stride == 1 and cin == cout:
            self.down = None
        elif shortcut == 'conv':
            pool = [nn.AvgPool2d(stride)] if stride != 1 else []
            self.down = nn.Sequential(*pool, nn.Conv2d(cin, cout, 1, bias=False), nn.BatchNorm2d(cout))
        elif shortcut == 'concat':
            if cout % cin:
                raise ValueError(f'shortcut concat: {cout} channels are not a multiple of {cin}')
            self.down = Duplicate(stride, cout // cin)
        else:
            raise ValueError(f'shortcut {shortcut!r}: conv or concat')
        self.rprelu = RPReLU(cout)

    def forward(self, x):
        out = self.bn(self.conv(self.rsign(x)))
        return self.rprelu(out + (x if self.down is None else self.down(x)))


class MnistResNet(nn.Module):
    """widths: channels of the stem/stage 1, stage 2, stage 3; depths: units per stage; strides: of each stage's
    first unit (the stem's stride 2 already brings 28 -> 14); shortcut: 'conv' or 'concat' where the shape changes
    (see Unit)."""

    def __init__(self, widths=(32, 64, 128), depths=(2, 3, 3), strides=(1, 2, 1), shortcut='conv', classes=10):
        super().__init__()
        c0 = widths[0]
        self.stem = nn.Conv2d(1, c0, 3, stride=2, padding=1, bias=False)
        self.bn0 = nn.BatchNorm2d(c0)
        units, cin = [], c0
        for width, depth, stride in zip(widths, depths, strides):
            for i in range(depth):
                units.append(Unit(cin, width, stride if i == 0 else 1, shortcut))
                cin = width
        self.units = nn.Sequential(*units)
        self.pool = nn.AdaptiveAvgPool2d(1)
        self.fc = nn.Linear(cin, classes)

    def binary_convs(self):
        """(qualified name, module) of every binary 3x3 conv ('units.{i}.conv'), in forward order."""
        return [(f'units.{i}.conv', u.conv) for i, u in enumerate(self.units)]

    def forward(self, x):
        x = self.units(self.bn0(self.stem(x)))
        return self.fc(torch.flatten(self.pool(x), 1))
