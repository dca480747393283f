// The model input: its shape and type, and the normalisation folded into input.scale/bias the first time a layer reads it.
import { BnnError } from '../../core/errors.ts';
import type { InputSpec, Shape } from '../../model/ir.ts';
import type { Lowerer } from './lowerer.ts';
import { DT } from './proto.ts';
import { f32s, type InputValue } from './values.ts';

export function startInput(lw: Lowerer): void {
  const ins = lw.g.inputs;
  if (ins.length !== 1) throw new BnnError(`the model must have exactly one input, it has ${ins.length}${ins.length ? ` (${ins.map((i) => i.name).join(', ')})` : ''}`);
  const [x] = ins;
  const d = x.dims;
  const dimsOk = d.length === 4 && (d[0] === 1 || typeof d[0] === 'string') && d.slice(1).every((v) => typeof v === 'number' && v >= 1);
  if (!dimsOk) throw new BnnError(`model input '${x.name}': shape [${d}] is not [1 (or batch), C, H, W] with fixed C, H, W`);
  if (![DT.UINT8, DT.INT8, DT.FLOAT].includes(x.elemType as 1 | 2 | 3)) {
    throw new BnnError(`model input '${x.name}': element type ${x.elemType} is not supported (uint8, int8 or float)`);
  }
  const C = d[1] as number;
  const shape: Shape = [C, d[2] as number, d[3] as number];
  lw.set(x.name, { kind: 'input', shape, rank: 4, scale: new Float64Array(C).fill(1), bias: new Float64Array(C), byteDiv: false, ops: [] });
}

/** Fix input.scale/bias the first time a layer reads the normalised input. */
export function finishInput(lw: Lowerer, v: InputValue): void {
  const x = lw.g.inputs[0];
  const dtype = x.elemType === DT.INT8 ? 'i8' : 'u8';
  let perByte = 1;
  let note = '';
  if (x.elemType === DT.FLOAT) {
    // A float input is read as bytes: raw 0..255 when the model divides by 255 itself, else ToTensor's byte/255.
    perByte = lw.opts.inputScale ?? (v.byteDiv ? 1 : 1 / 255);
    note = lw.opts.inputScale !== undefined
      ? `float input taken as ${perByte} per byte step (--input-scale)`
      : v.byteDiv
        ? 'float input holds raw bytes 0..255 (the model divides by 255)'
        : 'float input assumed to be byte/255 (ToTensor convention; give --input-scale otherwise)';
  }
  const spec: InputSpec = {
    shape: v.shape,
    dtype,
    zeroPoint: 0,
    scale: f32s(Array.from(v.scale, (s) => s * perByte)),
    bias: f32s(v.bias),
  };
  if (lw.input) {
    const same = lw.input.scale.every((s, i) => s === spec.scale[i]) && lw.input.bias.every((b, i) => b === spec.bias[i]);
    if (!same) lw.fail('the model input is read with two different normalisations');
    return;
  }
  lw.input = spec;
  const folded = v.ops.length ? ` (${v.ops.join(', ')} folded)` : '';
  lw.report.push(`input '${x.name}': ${dtype === 'u8' ? 'uint8' : 'int8'} [${v.shape}]; real layers see q·scale + bias, scale [${Array.from(spec.scale, (s) => s.toPrecision(6))}], bias [${Array.from(spec.bias, (s) => s.toPrecision(6))}]${folded}${note ? '; ' + note : ''}`);
}
