"""The small MCU-sized BNN for 28x28 MNIST digits.

  image [1,28,28] (float, byte/255)
  stem: Conv 1->32 3x3 (real) + BN + sign
  b1: BinaryConv 32->64 3x3 + BN + maxpool 2 + sign   (28 -> 14)
  b2: BinaryConv 64->64 3x3 + BN + maxpool 2 + sign   (14 -> 7)
  b3: BinaryConv 64->128 3x3 + BN + maxpool 2 + sign  (7 -> 3)
  fc: Linear 1152 -> 10 (real, bias)
A plain BNN as defined; `sparksify(model, tau)` gives b1..b3 their codebooks (training.train does it for tau < 9).
"""
import torch
import torch.nn as nn

from .bnn import BinaryActivation, BinaryConv2d


class MnistBNN(nn.Module):
    def __init__(self, widths=(32, 64, 64, 128)):
        super().__init__()
        c0, c1, c2, c3 = widths
        self.stem = nn.Conv2d(1, c0, 3, padding=1, bias=False)
        self.bn0 = nn.BatchNorm2d(c0)
        self.act0 = BinaryActivation()
        self.b1 = BinaryConv2d(c0, c1)
        self.bn1 = nn.BatchNorm2d(c1)
        self.act1 = BinaryActivation()
        self.b2 = BinaryConv2d(c1, c2)
        self.bn2 = nn.BatchNorm2d(c2)
        self.act2 = BinaryActivation()
        self.b3 = BinaryConv2d(c2, c3)
        self.bn3 = nn.BatchNorm2d(c3)
        self.act3 = BinaryActivation()
        self.pool = nn.MaxPool2d(2)
        self.fc = nn.Linear(c3 * 3 * 3, 10)

    def forward(self, x):
        x = self.act0(self.bn0(self.stem(x)))
        x = self.act1(self.pool(self.bn1(self.b1(x))))
        x = self.act2(self.pool(self.bn2(self.b2(x))))
        x = self.act3(self.pool(self.bn3(self.b3(x))))
        return self.fc(torch.flatten(x, 1))
