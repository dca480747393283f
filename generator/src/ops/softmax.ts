// softmax: probabilities (or log-probabilities with `log`) over an f32 vector of scores, for models whose authors end
// them with Softmax / LogSoftmax. float32 with every step rounded, and exp/log computed by the short range-reduced
// polynomials below, written identically in runtime-c/bnn_softmax.c: a libm's expf differs between newlib, emscripten
// and the host, so the C never calls one (docs/semantics.md §9).
//   m = max x;  e_i = exp(x_i - m);  s = e_0 + e_1 + ... (in order)
//   softmax: y_i = e_i / s        log: y_i = (x_i - m) - log(s)
import { z } from 'zod';
import type { Tensor } from '../ir/tensor.ts';
import { f32 } from '../ir/tensor.ts';
import { layerBase } from '../ir/spec.ts';
import type { LayerBase } from '../ir/types.ts';
import { check } from '../core/errors.ts';
import { expectDType } from './shared/checks.ts';
import type { OpDef } from './types.ts';

export interface SoftmaxLayer extends LayerBase {
  op: 'softmax';
  /** LogSoftmax: log-probabilities instead of probabilities. */
  log: boolean;
}

const schema = z.strictObject({ ...layerBase, op: z.literal('softmax'), log: z.boolean().optional() });

// ---- float32 exp and log, step for step as in bnn_softmax.c ------------------------------------------------------

const bits = new DataView(new ArrayBuffer(4));
const fromBits = (u: number): number => (bits.setUint32(0, u >>> 0), bits.getFloat32(0));
const toBits = (x: number): number => (bits.setFloat32(0, x), bits.getUint32(0));

// ln 2 split so that k * LN2_HI is exact for |k| <= 127 (Cody-Waite); the literals are the C source's.
const LN2_HI = f32(0.693359375);
const LN2_LO = f32(-2.12194440e-4);
const LOG2E = f32(1.44269504);
/** Below this, exp(x) < 2^-125 is returned as 0 (keeps 2^k normal; NaN lands here too). */
const EXP_MIN = f32(-87.0);
const EXP_POLY = [1.98412698e-4, 1.38888889e-3, 8.33333333e-3, 4.16666667e-2, 1.66666667e-1, 0.5, 1, 1].map(f32);
const LOG_POLY = [1.11111111e-1, 1.42857143e-1, 2.0e-1, 3.33333333e-1, 1].map(f32);
const SQRT2 = f32(1.41421356);

/** e^x for x <= 0: x = k ln2 + r, |r| <= ln2/2, e^r by its degree-7 Taylor polynomial (Horner), times 2^k. */
export function expf(x: number): number {
  if (!(x >= EXP_MIN)) return 0;
  const k = -Math.trunc(f32(0.5 - f32(x * LOG2E)));
  const r = f32(f32(x - f32(k * LN2_HI)) - f32(k * LN2_LO));
  let p = EXP_POLY[0];
  for (let i = 1; i < EXP_POLY.length; i++) p = f32(f32(p * r) + EXP_POLY[i]);
  return f32(p * fromBits((k + 127) << 23));
}

/** log(x) for a positive normal x: x = 2^e m, m in [sqrt(1/2), sqrt(2)), log m = 2 atanh(s), s = (m-1)/(m+1). */
export function logf(x: number): number {
  const u = toBits(x);
  let e = (u >>> 23) - 127;
  let m = fromBits((u & 0x7fffff) | 0x3f800000);
  if (m > SQRT2) {
    m = f32(m * 0.5);
    e += 1;
  }
  const f = f32(m - 1);
  const s = f32(f / f32(2 + f));
  const z = f32(s * s);
  let q = LOG_POLY[0];
  for (let i = 1; i < LOG_POLY.length; i++) q = f32(f32(q * z) + LOG_POLY[i]);
  const lm = f32(f32(s + s) * q);
  return f32(f32(e * LN2_HI) + f32(f32(e * LN2_LO) + lm));
}

// ---- the op ---------------------------------------------------------------------------------------------------------

export const softmax: OpDef<SoftmaxLayer, typeof schema> = {
  op: 'softmax',
  arity: 1,
  schema,
  read: (s) => ({ name: s.name, inputs: s.inputs, output: s.output, op: 'softmax', log: s.log ?? false }),
  write: (l) => (l.log ? { log: true } : {}),
  infer(l, [x], at) {
    expectDType(x, ['f32'], at, l.inputs[0]);
    check(x.shape[1] === 1 && x.shape[2] === 1, at, `softmax takes a vector [N,1,1] of scores, got [${x.shape}] (flatten first)`);
    return { dtype: 'f32', shape: x.shape };
  },
  run(l, [x]) {
    const n = x.data.length;
    let m = x.data[0];
    for (let i = 1; i < n; i++) if (x.data[i] > m) m = x.data[i];
    const out = new Float32Array(n);
    let s = 0;
    for (let i = 0; i < n; i++) {
      const e = expf(f32(x.data[i] - m));
      out[i] = e;
      s = f32(s + e);
    }
    if (l.log) {
      const ls = logf(s);
      for (let i = 0; i < n; i++) out[i] = f32(f32(x.data[i] - m) - ls);
    } else {
      for (let i = 0; i < n; i++) out[i] = f32(out[i] / s);
    }
    return { dtype: 'f32', shape: x.shape, data: out } satisfies Tensor;
  },
  lower: (l, ctx) => ({
    kernel: l.log ? 'bnn_softmax_f32_f32_log' : 'bnn_softmax_f32_f32',
    args: [{ value: { u32: ctx.output.shape[0] } }, 'in', 'out'],
    scratchBytes: 0,
    runtime: ['bnn_softmax.c'],
    inPlace: true,
  }),
  cost: () => ({ binaryMacs: 0, realMacs: 0 }),
  bits: () => ({}),
  describe: (l) => (l.log ? 'log' : ''),
  random: (r, x, names) => (x.dtype === 'f32' && x.shape[1] === 1 && x.shape[2] === 1 ? { ...names, op: 'softmax', log: r.bool() } : null),
};
