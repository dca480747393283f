// MaxPool (a pending step on real values, or on bits), GlobalAveragePool / ReduceMean and AveragePool.
import type { Shape } from '../../../model/ir.ts';
import type { Lowerer } from '../lowerer.ts';
import { materialise, realInput } from '../materialise.ts';
import { maxPoolOf, windowOf, windowShape } from '../patterns.ts';
import { attrInt, attrInts, type OnnxNode } from '../proto.ts';

export function maxPool(lw: Lowerer, n: OnnxNode): void {
  const x = lw.value(n.inputs[0]);
  if (n.outputs[1] && lw.g.nodes.some((m) => m.inputs.includes(n.outputs[1]))) lw.fail('the indices output is used');
  if (x.kind === 'input') lw.fail('max pooling of the model input is not supported');
  const { step, shape } = maxPoolOf(n, x.shape);
  const { kernel, stride, pad } = step;
  if (x.kind === 'bin') {
    const l = lw.emit({ op: 'maxpool', kernel, stride, pad }, x.tensor, n.name);
    return lw.set(n.outputs[0], { kind: 'bin', tensor: l.output, rank: 4, shape });
  }
  // A second pool in one chain: materialise the first part, then pool pending on the result.
  const base = x.steps.some((s) => s.kind === 'pool') ? materialise(lw, x) : x;
  lw.set(n.outputs[0], { ...base, shape, steps: [...base.steps, step] });
}

export function globalAvgPool(lw: Lowerer, n: OnnxNode): void {
  const x = lw.value(n.inputs[0]);
  let keep = true;
  if (n.op === 'ReduceMean') {
    const raw = n.inputs[1] ? Array.from(lw.constant(n.inputs[1], 'axes').data) : attrInts(n, 'axes') ?? [];
    const axes = raw.map((a) => (a < 0 ? a + x.rank : a)).sort();
    if (x.rank !== 4 || axes.join() !== '2,3') lw.fail(`ReduceMean over axes [${raw}]: only the spatial mean (axes 2, 3) is supported`);
    keep = attrInt(n, 'keepdims', 1) === 1;
  }
  if (x.kind === 'input') lw.fail('pooling the model input is not supported');
  const src = x.kind === 'bin' ? x : realInput(lw, n.inputs[0]);
  const l = lw.emit({ op: 'globalavgpool' }, src.tensor, n.name);
  const shape: Shape = [x.shape[0], 1, 1];
  lw.set(n.outputs[0], { kind: 'real', tensor: l.output, shape, baseShape: shape, rank: keep ? 4 : 2, steps: [] });
}

/**
 * AveragePool on real values (Bi-Real/ReActNet shortcuts, XNOR-Net's padded pools); one over the whole map is a global
 * average pool. Zeros a Pad node put in front are the pool's own padding with count_include_pad: the sum skips them
 * (adding +0 changes no float sum) and the divisor counts them.
 */
export function avgPool(lw: Lowerer, n: OnnxNode): void {
  const x = lw.value(n.inputs[0]);
  const k = attrInts(n, 'kernel_shape') ?? [];
  if (k.length !== 2) lw.fail(`kernel_shape [${k}]: only 2-D pooling is supported`);
  const kernel: [number, number] = [k[0], k[1]];
  const extra = lw.pads.get(n.inputs[0]);
  const padded: Shape = extra ? [x.shape[0], x.shape[1] + extra.top + extra.bottom, x.shape[2] + extra.left + extra.right] : x.shape;
  const { stride, pad: own } = windowOf(n, padded, kernel);
  let countIncludePad = attrInt(n, 'count_include_pad', 0) === 1;
  let pad = own;
  if (extra) {
    if (!countIncludePad && own.top + own.left + own.bottom + own.right > 0) lw.fail('padding of its own without count_include_pad after a Pad node is not supported (the divisor would count some zeros and not others)');
    pad = { top: own.top + extra.top, left: own.left + extra.left, bottom: own.bottom + extra.bottom, right: own.right + extra.right };
    countIncludePad = true;
    for (const side of ['top', 'left', 'bottom', 'right'] as const) {
      const kk = side === 'top' || side === 'bottom' ? kernel[0] : kernel[1];
      if (pad[side] >= kk) lw.fail(`padding ${pad[side]} on the ${side} (the Pad node's and the pool's) is not smaller than the kernel (${kk})`);
    }
  }
  const global = kernel[0] === x.shape[1] && kernel[1] === x.shape[2] && pad.top + pad.left + pad.bottom + pad.right === 0;
  if (global) return globalAvgPool(lw, n);
  if (attrInt(n, 'ceil_mode', 0)) lw.fail('ceil_mode=1 is not supported');
  if (x.kind === 'input' || x.kind === 'bin') lw.fail(`average pooling of ${x.kind === 'bin' ? 'a binary (Sign) activation' : 'the model input'} is not supported`);
  const src = realInput(lw, n.inputs[0]);
  const l = lw.emit({ op: 'avgpool', kernel, stride, pad, countIncludePad }, src.tensor, n.name);
  if (extra) lw.report.push(`${l.name}: AveragePool with the zero padding of the Pad before it (count_include_pad)`);
  const shape = windowShape(x.shape, x.shape[0], kernel, stride, pad);
  lw.set(n.outputs[0], { kind: 'real', tensor: l.output, shape, baseShape: shape, rank: 4, steps: [] });
}
