"""Export check of the bnn.py building blocks: a tiny seeded net with BinaryConv2d, RSign and RPReLU, a few training
steps on MNIST digits (so the STE paths run), then the same dumps as training.train for the bnn-gen comparison.

    /usr/bin/python3 -m training.blocks_check OUT

  stem Conv 1->16 + BN -> RSign -> BinaryConv2d 16->16 + BN -> RPReLU -> (+ stem residual) -> RSign
  -> BinaryConv2d 16->32 stride 2 + BN -> MaxPool 2 -> sign -> Linear 1568 -> 10
"""
import json
import os
import sys

import torch
import torch.nn as nn
import torch.nn.functional as F

from . import bnn, data
from .train import dump_eval


class BlocksNet(nn.Module):
    def __init__(self):
        super().__init__()
        self.stem = nn.Conv2d(1, 16, 3, padding=1, bias=False)
        self.bn0 = nn.BatchNorm2d(16)
        self.rs1 = bnn.RSign(16)
        self.c1 = bnn.BinaryConv2d(16, 16)
        self.bn1 = nn.BatchNorm2d(16)
        self.rp1 = bnn.RPReLU(16)
        self.rs2 = bnn.RSign(16)
        self.c2 = bnn.BinaryConv2d(16, 32, stride=2)
        self.bn2 = nn.BatchNorm2d(32)
        self.act = bnn.BinaryActivation()
        self.pool = nn.MaxPool2d(2)
        self.fc = nn.Linear(32 * 7 * 7, 10)

    def forward(self, x):
        x = self.bn0(self.stem(x))
        x = self.rp1(self.bn1(self.c1(self.rs1(x)))) + x
        x = self.act(self.pool(self.bn2(self.c2(self.rs2(x)))))
        return self.fc(torch.flatten(x, 1))


def main(out):
    torch.manual_seed(5)
    torch.set_num_threads(1)
    os.makedirs(out, exist_ok=True)
    (trx, try_), (tex, _) = data.split()
    model = BlocksNet()
    with torch.no_grad():  # non-trivial shifts so the RSign / RPReLU constants matter
        for m in (model.rs1, model.rs2):
            m.shift.normal_(0, 0.2)
        for p in (model.rp1.shift_in, model.rp1.shift_out):
            p.normal_(0, 0.2)
    opt = torch.optim.Adam(model.parameters(), 1e-3)
    model.train()
    for i in range(4):
        x, y = data.to_float(trx[i * 64:(i + 1) * 64]), torch.as_tensor(try_[i * 64:(i + 1) * 64])
        loss = F.cross_entropy(model(x), y)
        opt.zero_grad()
        loss.backward()
        opt.step()
    assert model.c1.weight.grad is not None and model.rs1.shift.grad is not None
    model.eval()
    n = 8
    q = tex[::250][:n]
    signs = dump_eval(model, out, q)
    torch.onnx.export(model, data.to_float(q[:1]), os.path.join(out, 'model.onnx'), opset_version=13,
                      input_names=['image'], output_names=['scores'])
    with open(os.path.join(out, 'meta.json'), 'w') as f:
        json.dump({'signs': signs, 'dumped': n}, f)


if __name__ == '__main__':
    main(sys.argv[1])
