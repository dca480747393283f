// Sparks as a library (training/__init__.py): sparksify + SparksSchedule + recompute_bn + export_onnx applied to a
// BNN defined only here (the field's HardBinaryConv style: a flat `weights` parameter and a `shape`, sign * mean|W|
// with its own STE), trained a few steps on random data, exported and read by bnn-gen with codebooks of the requested
// tau; the generic trainer on a DATA.npz with a validation split; two-process DistributedDataParallel with torchrun.
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { importOnnxFile } from '../generator/src/import/onnx/index.ts';
import { loadBoard } from '../generator/src/model/board.ts';
import { haveTool } from '../generator/src/toolchain/tools.ts';
import { runFirmware } from '../generator/src/verify/firmware-run.ts';
import { compareWithTorch, npy, slice } from './torch-compare.ts';

const PYTHON = '/usr/bin/python3';
const ROOT = join(import.meta.dirname, '..');
const hasTorch = spawnSync(PYTHON, ['-c', 'import torch, onnx'], { stdio: 'ignore' }).status === 0;
const work = mkdtempSync(join(tmpdir(), 'bnn-train-api-'));
afterAll(() => rmSync(work, { recursive: true, force: true }));

function py(args: string[], env: NodeJS.ProcessEnv = {}) {
  const r = spawnSync(PYTHON, args, { cwd: ROOT, encoding: 'utf8', env: { ...process.env, PYTHONPATH: ROOT, ...env }, timeout: 600_000 });
  if (r.status !== 0) throw new Error(`python ${args.join(' ')} failed (${r.status}):\n${r.stdout}\n${r.stderr}`);
  return r.stdout;
}

const USER_MODEL = `
import sys, json, torch, torch.nn as nn, torch.nn.functional as F
from training import sparksify, SparksSchedule, recompute_bn, export_onnx, param_groups

class HardBinaryConv(nn.Module):  # as the field writes it: flat weights, a shape, sign * mean|W|, clipped STE
    def __init__(self, cin, cout, stride=1):
        super().__init__()
        self.stride, self.shape = stride, (cout, cin, 3, 3)
        self.weights = nn.Parameter(torch.rand((cout * cin * 9, 1)) * 0.001)
    def forward(self, x):
        w = self.weights.view(self.shape)
        scale = w.abs().mean(dim=3, keepdim=True).mean(dim=2, keepdim=True).mean(dim=1, keepdim=True).detach()
        b = scale * torch.sign(w)
        c = torch.clamp(w, -1.0, 1.0)
        return F.conv2d(x, b.detach() - c.detach() + c, stride=self.stride, padding=1)

def act(x, training):  # sign in eval, a clipped identity while training
    return x.clamp(-1, 1) if training else torch.sign(x)

class UserNet(nn.Module):
    def __init__(self):
        super().__init__()
        self.stem, self.bn0 = nn.Conv2d(1, 16, 3, padding=1, bias=False), nn.BatchNorm2d(16)
        self.c1, self.bn1 = HardBinaryConv(16, 32), nn.BatchNorm2d(32)
        self.c2, self.bn2 = HardBinaryConv(32, 32, stride=2), nn.BatchNorm2d(32)
        self.fc = nn.Linear(32 * 7 * 7, 10)
    def forward(self, x):
        x = act(self.bn0(self.stem(x)), self.training)
        x = act(self.bn1(self.c1(x)), self.training)
        x = F.max_pool2d(act(self.bn2(self.c2(x)), self.training), 2)
        return self.fc(torch.flatten(x, 1))

tau, out = int(sys.argv[1]), sys.argv[2]
torch.manual_seed(0)
model, report = sparksify(UserNet(), tau)
print(report)
steps = 12
opt = torch.optim.Adam(param_groups(model, 1e-3))
schedule = SparksSchedule(model, steps, log=print)
g = torch.Generator().manual_seed(1)
for step in range(steps):
    x, y = torch.rand(32, 1, 28, 28, generator=g), torch.randint(0, 10, (32,), generator=g)
    model.train()
    loss = F.cross_entropy(model(x), y)
    opt.zero_grad(); loss.backward(); opt.step()
    schedule.step()
recompute_bn(model, [torch.rand(32, 1, 28, 28, generator=g) for _ in range(4)])
export_onnx(model, torch.rand(1, 1, 28, 28), out)
json.dump({'phase': schedule.phase, 'replaced': [n for n, _ in report.replaced], 'skipped': [n for n, _ in report.skipped]}, open(out + '.json', 'w'))
`;

describe.skipIf(!hasTorch)('training as a library: sparksify a model written outside training/', () => {
  for (const tau of [4, 2]) {
    it(`tau ${tau}: the HardBinaryConv layers are found (the real stem is not), trained, exported; bnn-gen imports 2^${tau}-codeword codebooks`, () => {
      const script = join(work, 'user_model.py');
      writeFileSync(script, USER_MODEL);
      const onnx = join(work, `user-${tau}.onnx`);
      const out = py([script, String(tau), onnx]);
      expect(out).toMatch(new RegExp(`sparksify: tau ${tau} \\(${2 ** tau} codewords\\) on 2 layer\\(s\\)`));
      expect(out).toMatch(/step 4: selection starts/);
      const info = JSON.parse(readFileSync(onnx + '.json', 'utf8'));
      expect(info).toEqual({ phase: 'kernels frozen', replaced: ['c1', 'c2'], skipped: ['stem'] });
      const m = importOnnxFile(onnx).model;
      const convs = m.layers.filter((l) => l.op === 'bconv2d');
      expect(convs).toHaveLength(2);
      for (const l of convs) {
        if (l.op !== 'bconv2d' || l.weights.kind !== 'codebook') throw new Error(`${l.name}: not a codebook conv`);
        expect(l.weights.bits).toBeLessThanOrEqual(tau);
        expect(new Set(l.weights.codewords).size).toBe(l.weights.codewords.length);
      }
    }, 300_000);
  }

  it('sparksify refuses a model without binary 3x3 convolutions, and tau outside 1..8, with one line', () => {
    const r = spawnSync(PYTHON, ['-c', 'import torch.nn as nn\nfrom training import sparksify\nsparksify(nn.Sequential(nn.Conv2d(1, 4, 3)), 4)'], { cwd: ROOT, encoding: 'utf8' });
    expect(r.status).not.toBe(0);
    expect(r.stderr.trim().split('\n').pop()).toMatch(/ValueError: sparksify: no binary 3x3 convolution found \(pass select=\.\.\. to name them\)/);
    const t = spawnSync(PYTHON, ['-c', 'import torch.nn as nn\nfrom training import sparksify\nsparksify(nn.Sequential(), 9)'], { cwd: ROOT, encoding: 'utf8' });
    expect(t.stderr.trim().split('\n').pop()).toMatch(/ValueError: tau must be 1\.\.8/);
  });
});

describe.skipIf(!hasTorch)('the generic trainer: --data DATA.npz, a seeded validation split', () => {
  it('trains from an .npz, reports validation and test accuracy separately, and the export imports', () => {
    const data = join(work, 'mnist');
    py(['-m', 'training.data', '--out', data]);
    expect(existsSync(join(data, 'split.npz'))).toBe(true);
    const out = join(work, 'npz-run');
    const log = py(['-m', 'training.train', '--smoke', '--model', 'mnist-small', '--data', join(data, 'split.npz'), '--tau', '3', '--out', out]);
    expect(log).toMatch(/train=7200 val=800 test=2000/);
    const meta = JSON.parse(readFileSync(join(out, 'meta.json'), 'utf8'));
    expect(meta).toMatchObject({ model: 'mnist-small', val_frac: 0.1, val_seed: 0, val_images: 80, test_images: 200, method: 'sparks', tau: 3 });
    expect(typeof meta.val_accuracy).toBe('number');
    const m = importOnnxFile(join(out, 'model.onnx')).model;
    for (const l of m.layers) if (l.op === 'bconv2d') expect(l.weights.kind === 'codebook' && l.weights.bits <= 3).toBe(true);
  }, 300_000);

  it('a bad --data file is one line naming the file and the missing arrays', () => {
    const bad = join(work, 'bad.npz');
    py(['-c', `import numpy as np; np.savez('${bad}', images=np.zeros((2, 1, 4, 4), np.uint8))`]);
    const r = spawnSync(PYTHON, ['-m', 'training.train', '--smoke', '--data', bad, '--out', join(work, 'bad')], { cwd: ROOT, encoding: 'utf8' });
    expect(r.status).toBe(1);
    expect(r.stderr.trim()).toBe(`--data ${bad}: needs arrays train_x and train_y (has ['images'])`);
  });
});

describe.skipIf(!hasTorch)('mnist-resnet: the ReActNet-style residual BNN through the trainer', () => {
  it('Sparks tau 4 (smoke): 8 binary convs with codebooks, every sign activation equal to PyTorch\'s, firmware PASS on the M4', async () => {
    const out = join(work, 'resnet');
    py(['-m', 'training.train', '--smoke', '--model', 'mnist-resnet', '--tau', '4', '--dump', '4', '--out', out]);
    const meta = JSON.parse(readFileSync(join(out, 'meta.json'), 'utf8'));
    expect(Object.keys(meta.layers)).toHaveLength(8);
    const imported = importOnnxFile(join(out, 'model.onnx'));
    const convs = imported.model.layers.filter((l) => l.op === 'bconv2d');
    expect(convs).toHaveLength(8);
    for (const l of convs) expect(l.op === 'bconv2d' && l.weights.kind === 'codebook' && l.weights.bits <= 4).toBe(true);
    for (const op of ['add', 'prelu', 'globalavgpool']) expect(imported.model.layers.some((l) => l.op === op), `a ${op} layer`).toBe(true);
    compareWithTorch('mnist-resnet', out, imported, meta.signs);
    if (!haveTool('arm-none-eabi-gcc') || !haveTool('qemu-system-arm')) return;
    const x = npy(join(out, 'inputs.npy'));
    const inputs = [0, 1].map((i) => Uint8Array.from(slice(x, i)));
    const fw = await runFirmware(imported.model, loadBoard('mps2-an386'), inputs);
    expect(fw.passed, fw.stdout.slice(-400)).toBe(true);
  }, 600_000);
});

describe.skipIf(!hasTorch || !existsSync('/usr/bin/torchrun'))('multi-process training: torchrun --nproc_per_node=2 (gloo)', () => {
  it('both ranks end with the same selections and weights, and rank 0 exports a model bnn-gen imports', () => {
    const out = join(work, 'ddp');
    // --redirects 1 --tee 1: Debian's torch 1.13 on Python 3.11 cannot parse torchrun's default "0" (docs/training.md).
    const r = spawnSync('/usr/bin/torchrun', ['--nproc_per_node=2', '--master_port=29531', '--redirects', '1', '--tee', '1',
      '-m', 'training.train', '--smoke', '--tau', '4', '--seed', '2', '--out', out], { cwd: ROOT, encoding: 'utf8', timeout: 600_000 });
    if (r.status !== 0) throw new Error(`torchrun failed:\n${r.stdout}\n${r.stderr}`);
    expect(r.stdout).toMatch(/ranks=2/);
    const [a, b] = [0, 1].map((i) => JSON.parse(readFileSync(join(out, `rank${i}.json`), 'utf8')));
    expect(Object.keys(a.selected)).toEqual(['b1', 'b2', 'b3']);
    for (const sel of Object.values(a.selected) as number[][]) expect(new Set(sel).size).toBe(16);
    expect(b).toEqual(a);
    const meta = JSON.parse(readFileSync(join(out, 'meta.json'), 'utf8'));
    expect(meta.ranks).toBe(2);
    const m = importOnnxFile(join(out, 'model.onnx')).model;
    const convs = m.layers.filter((l) => l.op === 'bconv2d');
    convs.forEach((l, i) => {
      if (l.op !== 'bconv2d' || l.weights.kind !== 'codebook') throw new Error('codebook conv expected');
      const selected = new Set(a.selected[`b${i + 1}`] as number[]);
      for (const c of l.weights.codewords) expect(selected.has(c), `${l.name}: codeword ${c} was not selected`).toBe(true);
    });
  }, 600_000);
});
