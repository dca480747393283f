// Conv: a binary convolution (plain or codebook weights, their scale a pending step) on a Sign output, else a
// real-valued conv2d.
import type { BConv2dLayer, Conv2dLayer } from '../../../model/ir.ts';
import { binaryWeights, packKernels3x3 } from '../binary.ts';
import type { Step } from '../chain.ts';
import type { Lowerer } from '../lowerer.ts';
import { realInput } from '../materialise.ts';
import { windowOf, windowShape } from '../patterns.ts';
import { attrInt, type OnnxNode } from '../proto.ts';
import { f32s } from '../values.ts';

export function conv(lw: Lowerer, n: OnnxNode): void {
  const w = lw.constant(n.inputs[1], 'weights');
  const bias = lw.optionalConstant(n.inputs[2], 'bias');
  if (w.dims.length !== 4) lw.fail(`only 2-D convolutions are supported (weights of shape [${w.dims}])`);
  if (attrInt(n, 'group', 1) !== 1) lw.fail(`grouped/depthwise convolution (group=${attrInt(n, 'group', 1)}) is not supported`);
  const [O, Cw, kh, kw] = w.dims;
  const x = lw.value(n.inputs[0]);
  if (x.shape[0] !== Cw) lw.fail(`weights expect ${Cw} input channels, the input has ${x.shape[0]}`);
  const kernel: [number, number] = [kh, kw];
  const { stride, pad } = windowOf(n, x.shape, kernel);
  const shape = windowShape(x.shape, O, kernel, stride, pad);
  if (shape[1] < 1 || shape[2] < 1) lw.fail('the window does not fit the input');
  const biasData = bias ? f32s(bias.data) : new Float32Array(O);

  if (x.kind === 'bin') {
    const bw = binaryWeights(w.data, O);
    if (typeof bw === 'string') lw.fail(`a Conv on a binary (Sign) activation must have binary weights: ${bw}`);
    let weights: BConv2dLayer['weights'] = { kind: 'dense', bits: bw.bits };
    let how = `plain 1-bit ${kh}x${kw}`;
    let alpha = bw.alpha;
    if (kh === 3 && kw === 3) {
      const packed = packKernels3x3(bw.bits, lw.opts.bits, O);
      if (typeof packed === 'string') lw.fail(`${packed}${lw.opts.bits !== undefined ? ` (--bits ${lw.opts.bits}); import with a larger --bits (or none), then choose ${2 ** lw.opts.bits} codewords with: bnn-gen compact MODEL.json --bits ${lw.opts.bits}` : ''}`);
      weights = packed.weights;
      how = packed.weights.kind === 'codebook' ? `codebook τ=${packed.weights.bits} (${packed.distinct} distinct kernels)` : `plain 1-bit 3x3 (${packed.distinct} distinct kernels: a codebook saves nothing)`;
      if (packed.negated.length) {
        // -α·(-k) = α·k exactly (float32 negation is exact), so the channel keeps its values.
        alpha = alpha.slice();
        for (const o of packed.negated) alpha[o] = -alpha[o];
        how += `; ${packed.negated.length} output channels stored negated (α < 0) to share codewords, as after folding a batch norm with γ < 0`;
      }
    }
    const layer = lw.emit<BConv2dLayer>({ op: 'bconv2d', outChannels: O, kernel, stride, pad, padValue: 0, weights }, x.tensor, n.name);
    const dev = bw.deviation > 0 ? `; |w| = α up to relative ${bw.deviation.toExponential(1)}` : '';
    lw.report.push(`${layer.name}: bconv2d ${Cw}→${O} ${kh}x${kw}, ${how}${dev}`);
    const first: Step = { kind: 'affine', mul: alpha, add: biasData, fused: false, node: `${n.name}:alpha` };
    lw.set(n.outputs[0], { kind: 'acc', tensor: layer.output, shape, baseShape: shape, rank: 4, steps: [first], layer, K: Cw * kh * kw });
    return;
  }
  const src = realInput(lw, n.inputs[0]);
  const layer = lw.emit<Conv2dLayer>({ op: 'conv2d', outChannels: O, kernel, stride, pad, weights: f32s(w.data), bias: biasData }, src.tensor, n.name);
  lw.report.push(`${layer.name}: conv2d ${Cw}→${O} ${kh}x${kw} (real-valued)`);
  const openBias = !bias && lw.readers.get(n.outputs[0]) === 1 ? layer : undefined;
  lw.set(n.outputs[0], { kind: 'real', tensor: layer.output, shape, baseShape: shape, rank: 4, steps: [], openBias });
}
