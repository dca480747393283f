// Shape inference and semantic checks. Every error names the layer (index and name) and the field.
import { BnnError, check } from '../errors.ts';
import {
  INPUT_TENSOR,
  outDim,
  type DType,
  type Layer,
  type Model,
  type Padding,
  type Shape,
  type TensorInfo,
  type Threshold,
} from './ir.ts';

export type TensorTable = Map<string, TensorInfo>;

function where(i: number, l: Layer, field?: string): string {
  return `layers[${i}] (${l.name})${field ? '.' + field : ''}`;
}

function checkFinite(arr: Float32Array, at: string): void {
  for (let i = 0; i < arr.length; i++) {
    if (!Number.isFinite(arr[i])) throw new BnnError(`${at}[${i}]: non-finite value ${arr[i]}`);
  }
}

function checkLength(arr: ArrayLike<unknown>, n: number, at: string): void {
  check(arr.length === n, at, `expected ${n} values, got ${arr.length}`);
}

function checkWindow(k: [number, number], s: [number, number], pad: Padding, at: string): void {
  for (const v of k) check(Number.isInteger(v) && v >= 1 && v <= 15, `${at}.kernel`, `kernel size must be an integer 1..15, got ${v}`);
  for (const v of s) check(Number.isInteger(v) && v >= 1 && v <= 15, `${at}.stride`, `stride must be an integer 1..15, got ${v}`);
  const pairs: [keyof Padding, number][] = [['top', k[0]], ['bottom', k[0]], ['left', k[1]], ['right', k[1]]];
  for (const [side, kk] of pairs) {
    const v = pad[side];
    // A window made only of padding has no defined value; forbid it as PyTorch does (pad <= k/2 there).
    check(Number.isInteger(v) && v >= 0 && v < kk, `${at}.padding.${side}`, `padding must be an integer 0..${kk - 1}, got ${v}`);
  }
}

function windowOut(inShape: Shape, k: [number, number], s: [number, number], pad: Padding, at: string): [number, number] {
  const oh = outDim(inShape[1], k[0], s[0], pad.top, pad.bottom);
  const ow = outDim(inShape[2], k[1], s[1], pad.left, pad.right);
  check(oh >= 1 && ow >= 1, at, `window ${k[0]}x${k[1]} does not fit input ${inShape[1]}x${inShape[2]} with this padding`);
  return [oh, ow];
}

function checkThreshold(t: Threshold | undefined, o: number, at: string): DType {
  if (!t) return 'i32';
  checkLength(t.value, o, `${at}.threshold.value`);
  checkLength(t.flip, o, `${at}.threshold.flip`);
  for (let i = 0; i < o; i++) check(t.flip[i] <= 1, `${at}.threshold.flip[${i}]`, `must be 0 or 1, got ${t.flip[i]}`);
  return 'b1';
}

/** Integer layers accumulate in int32: bias plus the largest possible sum of products must fit. */
function checkInt32Range(bias: Int32Array, maxProducts: number, at: string): void {
  let maxBias = 0;
  for (let i = 0; i < bias.length; i++) maxBias = Math.max(maxBias, Math.abs(bias[i]));
  check(maxBias + maxProducts <= 2 ** 31 - 1, at, `the int32 accumulator could overflow (|bias| up to ${maxBias} plus up to ${maxProducts} from the products); use fewer input channels or a float layer`);
}

function checkBits(bits: Uint8Array, at: string): void {
  for (let i = 0; i < bits.length; i++) check(bits[i] <= 1, `${at}[${i}]`, `binary weight must be 0 or 1, got ${bits[i]}`);
}

function expectDType(info: TensorInfo, allowed: DType[], at: string, tensor: string): void {
  check(allowed.includes(info.dtype), at, `input '${tensor}' has type ${info.dtype}; this layer takes ${allowed.join(' or ')}`);
}

function expectVector(info: TensorInfo, at: string, tensor: string): void {
  check(info.shape[1] === 1 && info.shape[2] === 1, at, `input '${tensor}' has shape [${info.shape}]; a vector [N,1,1] is required (add a flatten layer)`);
}

/** Infer the type of one layer's output from its inputs; throw on any inconsistency. */
export function inferLayerOutput(i: number, l: Layer, ins: TensorInfo[]): TensorInfo {
  const at = where(i, l);
  const expectedInputs = l.op === 'add' ? 2 : 1;
  check(l.inputs.length === expectedInputs, `${at}.inputs`, `expected ${expectedInputs} input${expectedInputs > 1 ? 's' : ''}, got ${l.inputs.length}`);
  const x = ins[0];
  const [C, H, W] = x.shape;
  switch (l.op) {
    case 'conv2d': {
      expectDType(x, ['u8', 'i8', 'f32'], at, l.inputs[0]);
      checkWindow(l.kernel, l.stride, l.pad, at);
      const O = l.outChannels;
      check(Number.isInteger(O) && O >= 1, `${at}.outChannels`, `must be a positive integer, got ${O}`);
      checkLength(l.weights, O * C * l.kernel[0] * l.kernel[1], `${where(i, l, 'weights')}`);
      checkLength(l.bias, O, where(i, l, 'bias'));
      checkFinite(l.weights, where(i, l, 'weights'));
      checkFinite(l.bias, where(i, l, 'bias'));
      const [oh, ow] = windowOut(x.shape, l.kernel, l.stride, l.pad, at);
      return { dtype: 'f32', shape: [O, oh, ow] };
    }
    case 'qconv2d': {
      expectDType(x, ['u8', 'i8'], at, l.inputs[0]);
      checkWindow(l.kernel, l.stride, l.pad, at);
      const O = l.outChannels;
      check(Number.isInteger(O) && O >= 1, `${at}.outChannels`, `must be a positive integer, got ${O}`);
      checkLength(l.weights, O * C * l.kernel[0] * l.kernel[1], where(i, l, 'weights'));
      checkLength(l.bias, O, where(i, l, 'bias'));
      checkInt32Range(l.bias, C * l.kernel[0] * l.kernel[1] * 128 * 255, at);
      const dtype = checkThreshold(l.threshold, O, at);
      const [oh, ow] = windowOut(x.shape, l.kernel, l.stride, l.pad, at);
      return { dtype, shape: [O, oh, ow] };
    }
    case 'bconv2d': {
      expectDType(x, ['b1'], at, l.inputs[0]);
      checkWindow(l.kernel, l.stride, l.pad, at);
      check([0, 1, -1].includes(l.padValue), `${at}.padValue`, `must be 0, 1 or -1, got ${l.padValue}`);
      const O = l.outChannels;
      check(Number.isInteger(O) && O >= 1, `${at}.outChannels`, `must be a positive integer, got ${O}`);
      const w = l.weights;
      if (w.kind === 'codebook') {
        const wat = where(i, l, 'weights');
        check(l.kernel[0] === 3 && l.kernel[1] === 3, `${at}.kernel`, `a codebook layer must be 3x3, got ${l.kernel[0]}x${l.kernel[1]}`);
        check(Number.isInteger(w.bits) && w.bits >= 1 && w.bits <= 9, `${wat}.bits`, `must be an integer 1..9, got ${w.bits}`);
        const n = w.codewords.length;
        check(n >= 1 && n <= 512, `${wat}.codewords`, `a codebook holds 1..512 codewords, got ${n}`);
        check(n <= 1 << w.bits, `${wat}.codewords`, `${n} codewords do not fit ${w.bits}-bit indices (at most ${1 << w.bits})`);
        const seen = new Map<number, number>();
        for (let k = 0; k < n; k++) {
          const cw = w.codewords[k];
          check(cw < 512, `${wat}.codewords[${k}]`, `codeword id must be 0..511, got ${cw}`);
          const prev = seen.get(cw);
          check(prev === undefined, `${wat}.codewords[${k}]`, `duplicate codeword ${cw} (also at [${prev}])`);
          seen.set(cw, k);
        }
        checkLength(w.indices, O * C, `${wat}.indices`);
        for (let k = 0; k < w.indices.length; k++) {
          if (w.indices[k] >= n) {
            throw new BnnError(`${wat}.indices[${k}] (output ${Math.floor(k / C)}, input ${k % C}): index ${w.indices[k]} out of range for a codebook of ${n}`);
          }
        }
      } else {
        checkLength(w.bits, O * C * l.kernel[0] * l.kernel[1], where(i, l, 'weights.bits'));
        checkBits(w.bits, where(i, l, 'weights.bits'));
      }
      const dtype = checkThreshold(l.threshold, O, at);
      const [oh, ow] = windowOut(x.shape, l.kernel, l.stride, l.pad, at);
      return { dtype, shape: [O, oh, ow] };
    }
    case 'bdense': {
      expectDType(x, ['b1'], at, l.inputs[0]);
      expectVector(x, at, l.inputs[0]);
      const N = l.outFeatures;
      check(Number.isInteger(N) && N >= 1, `${at}.outFeatures`, `must be a positive integer, got ${N}`);
      checkLength(l.bits, N * C, where(i, l, 'bits'));
      checkBits(l.bits, where(i, l, 'bits'));
      const dtype = checkThreshold(l.threshold, N, at);
      return { dtype, shape: [N, 1, 1] };
    }
    case 'binarize': {
      expectDType(x, ['f32'], at, l.inputs[0]);
      if (l.shift) {
        checkLength(l.shift, C, where(i, l, 'shift'));
        checkFinite(l.shift, where(i, l, 'shift'));
      }
      return { dtype: 'b1', shape: [C, H, W] };
    }
    case 'affine': {
      expectDType(x, ['f32', 'i32'], at, l.inputs[0]);
      checkLength(l.scale, C, where(i, l, 'scale'));
      checkLength(l.bias, C, where(i, l, 'bias'));
      checkFinite(l.scale, where(i, l, 'scale'));
      checkFinite(l.bias, where(i, l, 'bias'));
      return { dtype: 'f32', shape: [C, H, W] };
    }
    case 'maxpool': {
      expectDType(x, ['b1', 'f32'], at, l.inputs[0]);
      checkWindow(l.kernel, l.stride, l.pad, at);
      const [oh, ow] = windowOut(x.shape, l.kernel, l.stride, l.pad, at);
      return { dtype: x.dtype, shape: [C, oh, ow] };
    }
    case 'globalavgpool':
      expectDType(x, ['b1', 'f32', 'i32'], at, l.inputs[0]);
      return { dtype: 'f32', shape: [C, 1, 1] };
    case 'flatten':
      expectDType(x, ['b1', 'f32', 'i32'], at, l.inputs[0]);
      return { dtype: x.dtype, shape: [C * H * W, 1, 1] };
    case 'dense': {
      expectDType(x, ['b1', 'f32'], at, l.inputs[0]);
      expectVector(x, at, l.inputs[0]);
      const N = l.outFeatures;
      check(Number.isInteger(N) && N >= 1, `${at}.outFeatures`, `must be a positive integer, got ${N}`);
      checkLength(l.weights, N * C, where(i, l, 'weights'));
      checkLength(l.bias, N, where(i, l, 'bias'));
      checkFinite(l.weights, where(i, l, 'weights'));
      checkFinite(l.bias, where(i, l, 'bias'));
      return { dtype: 'f32', shape: [N, 1, 1] };
    }
    case 'add': {
      const y = ins[1];
      expectDType(x, ['f32'], at, l.inputs[0]);
      expectDType(y, ['f32'], at, l.inputs[1]);
      check(x.shape.join() === y.shape.join(), `${at}.inputs`, `shapes differ: '${l.inputs[0]}' is [${x.shape}], '${l.inputs[1]}' is [${y.shape}]`);
      return { dtype: 'f32', shape: [C, H, W] };
    }
    case 'prelu': {
      expectDType(x, ['f32'], at, l.inputs[0]);
      checkLength(l.slope, C, where(i, l, 'slope'));
      checkFinite(l.slope, where(i, l, 'slope'));
      for (const [k, v] of [['shiftIn', l.shiftIn], ['shiftOut', l.shiftOut]] as const) {
        if (v) {
          checkLength(v, C, where(i, l, k));
          checkFinite(v, where(i, l, k));
        }
      }
      return { dtype: 'f32', shape: [C, H, W] };
    }
    case 'clip':
      expectDType(x, ['f32'], at, l.inputs[0]);
      check(Number.isFinite(l.min) && Number.isFinite(l.max) && l.min <= l.max, at, `clip needs finite min <= max, got [${l.min}, ${l.max}]`);
      check(Math.fround(l.min) === l.min && Math.fround(l.max) === l.max, at, `clip bounds must be float32 values, got [${l.min}, ${l.max}]`);
      return { dtype: 'f32', shape: [C, H, W] };
    case 'avgpool': {
      expectDType(x, ['f32'], at, l.inputs[0]);
      checkWindow(l.kernel, l.stride, l.pad, at);
      const [oh, ow] = windowOut(x.shape, l.kernel, l.stride, l.pad, at);
      return { dtype: 'f32', shape: [C, oh, ow] };
    }
    case 'qdense': {
      expectDType(x, ['b1'], at, l.inputs[0]);
      expectVector(x, at, l.inputs[0]);
      const N = l.outFeatures;
      check(Number.isInteger(N) && N >= 1, `${at}.outFeatures`, `must be a positive integer, got ${N}`);
      checkLength(l.weights, N * C, where(i, l, 'weights'));
      checkLength(l.bias, N, where(i, l, 'bias'));
      checkInt32Range(l.bias, C * 128, at);
      return { dtype: 'i32', shape: [N, 1, 1] };
    }
  }
}

/** Validate a whole model and return the type of every tensor. */
export function inferModel(model: Model): TensorTable {
  const table: TensorTable = new Map();
  const inp = model.input;
  const [C, H, W] = inp.shape;
  for (const [k, v] of inp.shape.entries()) {
    check(Number.isInteger(v) && v >= 1 && v <= 65535, `input.shape[${k}]`, `must be an integer 1..65535, got ${v}`);
  }
  checkLength(inp.scale, C, 'input.normalize.scale');
  checkLength(inp.bias, C, 'input.normalize.bias');
  checkFinite(inp.scale, 'input.normalize.scale');
  checkFinite(inp.bias, 'input.normalize.bias');
  const zpRange = inp.dtype === 'u8' ? [0, 255] : [-128, 127];
  check(Number.isInteger(inp.zeroPoint) && inp.zeroPoint >= zpRange[0] && inp.zeroPoint <= zpRange[1], 'input.zeroPoint', `must be an integer ${zpRange[0]}..${zpRange[1]}, got ${inp.zeroPoint}`);
  table.set(INPUT_TENSOR, { dtype: inp.dtype, shape: [C, H, W] });

  check(model.layers.length >= 1, 'layers', 'a model needs at least one layer');
  const names = new Set<string>();
  model.layers.forEach((l, i) => {
    check(/^[A-Za-z_][A-Za-z0-9_.\-/:]*$/.test(l.name), `layers[${i}].name`, `'${l.name}' is not a valid layer name (letters, digits, _ . - / :)`);
    check(!names.has(l.name), `layers[${i}].name`, `duplicate layer name '${l.name}'`);
    names.add(l.name);
    const ins = l.inputs.map((t, k) => {
      const info = table.get(t);
      check(info, `${where(i, l)}.inputs[${k}]`, `tensor '${t}' is not produced by an earlier layer`);
      return info;
    });
    check(!table.has(l.output), `${where(i, l)}.output`, `tensor '${l.output}' is already defined`);
    const info = inferLayerOutput(i, l, ins);
    // The C parameter structs hold sizes in 16 bits.
    info.shape.forEach((v, k) => check(v <= 65535, where(i, l), `output dimension ${['C', 'H', 'W'][k]} = ${v} exceeds 65535`));
    table.set(l.output, info);
  });

  const out = table.get(model.output);
  check(out, 'output', `tensor '${model.output}' is not produced by any layer`);
  check(out.dtype === 'f32' || out.dtype === 'i32', 'output', `the output tensor '${model.output}' must be f32 or i32 scores, got ${out.dtype}`);
  check(out.shape[1] === 1 && out.shape[2] === 1, 'output', `the output tensor '${model.output}' must be a vector, got [${out.shape}]`);
  const last = model.layers[model.layers.length - 1];
  check(last.output === model.output, 'output', `the output tensor must be produced by the last layer ('${last.name}')`);
  check(last.op !== 'flatten', `layers[${model.layers.length - 1}] (${last.name})`, 'the last layer cannot be a flatten (scores come from a computing layer)');
  if (model.labels) checkLength(model.labels, out.shape[0], 'labels');
  // Every tensor but the output must be consumed, or it is dead weight in flash and time.
  const used = new Set(model.layers.flatMap((l) => l.inputs));
  model.layers.forEach((l, i) => {
    check(l.output === model.output || used.has(l.output), `${where(i, l)}.output`, `tensor '${l.output}' is never used`);
  });
  return table;
}

/** Number of classes (length of the score vector). */
export function numClasses(model: Model, table: TensorTable): number {
  return table.get(model.output)!.shape[0];
}
