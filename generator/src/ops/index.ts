// Operator registry: adding an operator means one file here, one reference function and one C kernel.
import type { Layer, OpName } from '../model/ir.ts';
import { bconv2d } from './bconv2d.ts';
import { bdense } from './bdense.ts';
import { conv2d } from './conv2d.ts';
import { dense, qdense } from './dense.ts';
import { affine, binarize } from './elementwise.ts';
import { flatten, globalavgpool, maxpool } from './pool.ts';
import { qconv2d } from './qconv2d.ts';
import { add, avgpool, clip, prelu } from './residual.ts';
import type { OpDef } from './types.ts';

const OPS: { [K in OpName]: OpDef<Extract<Layer, { op: K }>> } = {
  conv2d,
  qconv2d,
  bconv2d,
  bdense,
  binarize,
  affine,
  maxpool,
  globalavgpool,
  flatten,
  dense,
  qdense,
  add,
  prelu,
  clip,
  avgpool,
};

export function opDef(l: Layer): OpDef {
  return OPS[l.op] as OpDef;
}
