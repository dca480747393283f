// Shape inference and semantic checks of a whole model: each layer's own checks are its op's infer(); here the
// graph's (names, tensors produced before use, one output, nothing unused). Every error names the layer and field.
import { check } from '../core/errors.ts';
import { opOf } from '../ops/registry.ts';
import { checkFinite, checkLength } from '../ops/shared/checks.ts';
import { INPUT_TENSOR, type Layer, type Model, type TensorInfo } from './ir.ts';

export type TensorTable = Map<string, TensorInfo>;

function where(i: number, l: Layer): string {
  return `layers[${i}] (${l.name})`;
}

/** Infer the type of one layer's output from its inputs (its op's infer()); throw on any inconsistency. */
export function inferLayerOutput(i: number, l: Layer, ins: TensorInfo[]): TensorInfo {
  const at = where(i, l);
  const op = opOf(l);
  if (typeof op.arity === 'number') {
    check(l.inputs.length === op.arity, `${at}.inputs`, `expected ${op.arity} input${op.arity > 1 ? 's' : ''}, got ${l.inputs.length}`);
  } else {
    const [lo, hi] = op.arity;
    check(l.inputs.length >= lo && l.inputs.length <= hi, `${at}.inputs`, `expected ${lo} to ${hi} inputs, got ${l.inputs.length}`);
  }
  return op.infer(l, ins, at);
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
  check(!opOf(last).reshapesOnly, `layers[${model.layers.length - 1}] (${last.name})`, `the last layer cannot be a ${last.op} (scores come from a computing layer)`);
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
