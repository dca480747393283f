import { describe, expect, it } from 'vitest';
import { formatInspect, inspectModel, inspectPlot } from '../generator/src/inspect/index.ts';
import type { BConv2dLayer, Model } from '../generator/src/model/ir.ts';
import { randomModel } from '../generator/src/model/random.ts';
import { head, stem } from './fixtures/layers.ts';

/** A one-layer model: 5x5 input, 3x3 conv pad 1 stride 1 (5x5 output), O x C kernels given as raw [O, C, 3, 3] bits. */
function layerModel(bits: Uint8Array, O: number, C: number, extra?: BConv2dLayer): Model {
  const conv: BConv2dLayer = {
    op: 'bconv2d', name: 'conv', inputs: ['x'], output: 'y', outChannels: O, kernel: [3, 3], stride: [1, 1],
    pad: { top: 1, left: 1, bottom: 1, right: 1 }, padValue: 0, weights: { kind: 'dense', bits },
  };
  return {
    name: 'hand',
    input: { shape: [C, 5, 5], dtype: 'u8', zeroPoint: 0, scale: new Float32Array(C).fill(1), bias: new Float32Array(C) },
    layers: [stem(C), conv, ...(extra ? [extra] : []), ...head(extra ? extra.output : 'y', extra ? extra.outChannels : O)],
    output: 'scores',
  };
}

/** Minimal strict XML well-formedness check: tags nest and close, attributes quoted, one root. Returns element list. */
function parseXml(s: string): { name: string; attrs: Record<string, string>; parents: string[] }[] {
  const out: { name: string; attrs: Record<string, string>; parents: string[] }[] = [];
  const stack: { name: string; cls: string }[] = [];
  let roots = 0;
  const re = /<(\/?)([A-Za-z_][\w:.-]*)((?:\s+[\w:.-]+\s*=\s*"[^"<]*")*)\s*(\/?)>|<!--[\s\S]*?-->|<\?[\s\S]*?\?>|([^<]+)|(<)/g;
  let m: RegExpExecArray | null;
  while ((m = re.exec(s))) {
    if (m[6]) throw new Error(`malformed tag at ${m.index}: ${s.slice(m.index, m.index + 40)}`);
    if (m[5] !== undefined) {
      if (!stack.length && m[5].trim()) throw new Error('text outside the root');
      if (/&(?!(amp|lt|gt|quot|apos|#\d+|#x[0-9a-fA-F]+);)/.test(m[5])) throw new Error('bad entity');
      continue;
    }
    if (!m[2]) continue;
    if (m[1]) {
      const top = stack.pop();
      if (!top || top.name !== m[2]) throw new Error(`</${m[2]}> closes ${top?.name}`);
      continue;
    }
    const attrs: Record<string, string> = {};
    for (const a of m[3].matchAll(/([\w:.-]+)\s*=\s*"([^"]*)"/g)) {
      if (a[1] in attrs) throw new Error(`duplicate attribute ${a[1]}`);
      attrs[a[1]] = a[2];
    }
    if (!stack.length) roots++;
    out.push({ name: m[2], attrs, parents: stack.map((x) => x.cls) });
    if (!m[4]) stack.push({ name: m[2], cls: attrs.class ?? '' });
  }
  if (stack.length) throw new Error(`unclosed ${stack.map((x) => x.name).join(',')}`);
  if (roots !== 1) throw new Error(`${roots} roots`);
  return out;
}

describe('inspectModel on a hand-made layer', () => {
  // O = 2, C = 4: 8 kernels with codeword ids 3, 3, 3, 3, 7, 7, 100, 511.
  // Kernel 6 is built tap by tap: id 100 = 0b001100100 -> taps 2, 5, 6 are +1 = (ky,kx) (0,2), (1,2), (2,0).
  const ids = [3, 3, 3, 3, 7, 7, 100, 511];
  const bits = new Uint8Array(8 * 9);
  ids.forEach((id, k) => {
    if (k === 6) return;
    for (let t = 0; t < 9; t++) bits[k * 9 + t] = (id >> t) & 1;
  });
  for (const [ky, kx] of [[0, 2], [1, 2], [2, 0]]) bits[6 * 9 + 3 * ky + kx] = 1;
  const r = inspectModel(layerModel(bits, 2, 4), { coverage: [1, 2, 3, 4] });

  it('histogram, ranking, coverage, entropy', () => {
    expect(r.layers.length).toBe(1);
    const l = r.layers[0];
    expect(l.kernels).toBe(8);
    expect(l.distinct).toBe(4);
    expect(l.histogram[3]).toBe(4);
    expect(l.histogram[7]).toBe(2);
    expect(l.histogram[100]).toBe(1);
    expect(l.histogram[511]).toBe(1);
    expect(l.histogram.reduce((a, b) => a + b, 0)).toBe(8);
    expect(l.ranked.map((x) => x.codeword)).toEqual([3, 7, 100, 511]);
    expect(l.coverage.map((c) => c.fraction)).toEqual([0.5, 0.75, 0.875, 1]);
    // p = 1/2, 1/4, 1/8, 1/8: H = 0.5 + 0.5 + 0.375 + 0.375
    expect(l.entropy).toBeCloseTo(1.75, 12);
    expect(l.codebook).toBeNull();
  });

  it('sizes and BOPs per τ (5x5 output, C_in 4, C_out 2)', () => {
    const l = r.layers[0];
    expect(l.denseBits).toBe(72);
    expect(l.denseBops).toBe(25 * 4 * 2 * 9);
    const t3 = l.costs.find((c) => c.tau === 3)!;
    expect(t3).toEqual({ tau: 3, n: 8, indexBits: 24, codebookBits: 72, totalBits: 96, responses: 7200, accumulations: 200, bops: 7300 });
    const t9 = l.costs.find((c) => c.tau === 9)!;
    expect(t9.totalBits).toBe(9 * 8 + 9 * 512);
    expect(l.costs.map((c) => c.tau)).toEqual([3, 4, 5, 6, 7, 8, 9]);
    const text = formatInspect(r);
    expect(text).toContain('conv');
    expect(text).toContain('1.750');
  });

  it('reports an existing codebook', () => {
    const cb: BConv2dLayer = {
      op: 'bconv2d', name: 'cb', inputs: ['y'], output: 'z', outChannels: 3, kernel: [3, 3], stride: [1, 1],
      pad: { top: 1, left: 1, bottom: 1, right: 1 }, padValue: 0,
      weights: { kind: 'codebook', bits: 2, codewords: Uint16Array.from([9, 40, 1]), indices: Uint16Array.from([0, 0, 1, 2, 2, 2]) },
    };
    const m = layerModel(bits, 2, 4, cb);
    (m.layers[1] as BConv2dLayer).threshold = { value: new Int32Array(2), flip: new Uint8Array(2) };
    const res = inspectModel(m);
    const l = res.layers[1];
    expect(l.codebook).toEqual({ n: 3, tau: 2 });
    expect(l.ranked).toEqual([{ codeword: 1, count: 3 }, { codeword: 9, count: 2 }, { codeword: 40, count: 1 }]);
  });
});

describe('inspectPlot', () => {
  it('is well-formed SVG with one line path per layer and labelled axes', async () => {
    let model: Model | null = null;
    for (let s = 1; s < 60 && !model; s++) {
      const m = randomModel(s);
      if (inspectModel(m).layers.length >= 2) model = m;
    }
    expect(model).not.toBeNull();
    const r = inspectModel(model!);
    const svg = await inspectPlot(r);
    const els = parseXml(svg);
    expect(els[0].name).toBe('svg');
    const lines = els.filter((e) => e.name === 'path' && e.parents.some((p) => p.includes('mark-line')));
    expect(lines.length).toBe(r.layers.length);
    const labels = svg.match(/<text[^>]*>([^<]*)<\/text>/g)!.join(' ');
    expect(labels).toContain('codeword rank');
    expect(labels).toContain('fraction of kernels');
    for (const l of r.layers) expect(labels).toContain(`${l.index}: ${l.name}`);
  });
});
