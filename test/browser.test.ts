// The `--target wasm` output in a real browser: Debian's Chromium (headless, driven by puppeteer-core) loads the
// generated module from a static server on 127.0.0.1. Its scores must equal `bnn-gen run --engine ts` bit for bit;
// the generated demo.html must classify digits drawn on it with mouse, touch and pen input.
// UPDATE_SCREENSHOT=1 also writes docs/img/wasm-demo.png (CI leaves the repository as it is).
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { extname, join, normalize, sep } from 'node:path';
import type { Browser, Page } from 'puppeteer-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { main } from '../generator/src/cli/main.ts';
import { readInputs } from '../generator/src/import/inputs.ts';
import { loadModel } from '../generator/src/import/load.ts';
import { randomInput } from '../generator/src/model/random.ts';
import { DEFAULT_DIGITS, DEFAULT_MODEL, PROJECT_ROOT } from '../generator/src/core/paths.ts';
import { runReference } from '../generator/src/reference/interpreter.ts';

const CHROMIUM = '/usr/bin/chromium';
const haveChromium = existsSync(CHROMIUM);
const SCREENSHOT = join(PROJECT_ROOT, 'docs', 'img', 'wasm-demo.png');

const TYPES: Record<string, string> = {
  '.html': 'text/html; charset=utf-8', '.js': 'text/javascript; charset=utf-8', '.wasm': 'application/wasm',
  '.ts': 'text/plain; charset=utf-8', '.json': 'application/json',
};

/** A static server for `root` on 127.0.0.1 (a free port); `/` is an empty page. */
async function serve(root: string): Promise<{ server: Server; url: string }> {
  const server = createServer((req, res) => {
    const path = decodeURIComponent(new URL(req.url ?? '/', 'http://x').pathname);
    if (path === '/') {
      res.writeHead(200, { 'content-type': TYPES['.html'] }).end('<!doctype html><link rel="icon" href="data:,"><title>blank</title>');
      return;
    }
    const file = normalize(join(root, path));
    if (!file.startsWith(root + sep) || !existsSync(file)) {
      res.writeHead(404).end();
      return;
    }
    res.writeHead(200, { 'content-type': TYPES[extname(file)] ?? 'application/octet-stream', 'cache-control': 'no-store' }).end(readFileSync(file));
  });
  await new Promise<void>((ok) => server.listen(0, '127.0.0.1', ok));
  return { server, url: `http://127.0.0.1:${(server.address() as AddressInfo).port}` };
}

/** Run the CLI in-process; its stdout and stderr as text. */
async function cli(...argv: string[]): Promise<{ code: number; out: string; err: string }> {
  const r = { code: 0, out: '', err: '' };
  const io = { out: (l: string) => (r.out += l + '\n'), err: (t: string) => (r.err += t), errIsTTY: false, progress: { phase() {}, count() {} } };
  r.code = await main(argv, io, { signals: false });
  return r;
}

/** float32 (or int32) scores as their 32-bit patterns, so equality is bit for bit (-0 vs 0, NaN payloads). */
function bits(scores: ArrayLike<number>, float: boolean): number[] {
  return Array.from(new Uint32Array((float ? Float32Array : Int32Array).from(scores).buffer));
}

// Digits as strokes in the unit square of the drawing canvas (x right, y down).
const ellipse = (cx: number, cy: number, rx: number, ry: number, n = 48): [number, number][] =>
  Array.from({ length: n + 3 }, (_, i) => [cx + rx * Math.sin((2 * Math.PI * i) / n), cy - ry * Math.cos((2 * Math.PI * i) / n)]);
const DIGITS: { digit: number; strokes: [number, number][][] }[] = [
  { digit: 0, strokes: [ellipse(0.5, 0.5, 0.24, 0.34)] },
  { digit: 1, strokes: [[[0.54, 0.16], [0.46, 0.84]]] },
  { digit: 7, strokes: [[[0.26, 0.2], [0.74, 0.2], [0.44, 0.84]]] },
  { digit: 2, strokes: [[[0.28, 0.32], [0.34, 0.2], [0.5, 0.15], [0.66, 0.2], [0.72, 0.33], [0.66, 0.48], [0.28, 0.84], [0.76, 0.84]]] },
  { digit: 3, strokes: [[[0.28, 0.22], [0.45, 0.15], [0.64, 0.18], [0.7, 0.3], [0.62, 0.43], [0.45, 0.48], [0.64, 0.53], [0.72, 0.66], [0.66, 0.8], [0.47, 0.86], [0.28, 0.8]]] },
  { digit: 4, strokes: [[[0.58, 0.16], [0.28, 0.6], [0.76, 0.6]], [[0.6, 0.36], [0.6, 0.86]]] },
];

/** Points every few pixels along a polyline (in page coordinates), as a hand would report them. */
function densify(points: [number, number][], step = 6): [number, number][] {
  const out: [number, number][] = [points[0]];
  for (let i = 1; i < points.length; i++) {
    const [ax, ay] = points[i - 1];
    const [bx, by] = points[i];
    const n = Math.max(1, Math.ceil(Math.hypot(bx - ax, by - ay) / step));
    for (let k = 1; k <= n; k++) out.push([ax + ((bx - ax) * k) / n, ay + ((by - ay) * k) / n]);
  }
  return out;
}

type Device = 'mouse' | 'touch' | 'pen';

/** What the generated bnn_model.js exports (as the page sees it). */
interface GeneratedModule {
  INPUT_SHAPE: readonly number[];
  NUM_CLASSES: number;
  Model: { load(): Promise<{ run(x: ArrayLike<number>): Float32Array | Int32Array }>; argmax(s: Float32Array | Int32Array): number };
}

const SKIPPED = haveChromium ? '' : ` (skipped: ${CHROMIUM} is missing; bash scripts/install.sh --test installs Debian's chromium)`;

describe.skipIf(!haveChromium)(`--target wasm in Chromium${SKIPPED}`, () => {
  const model = loadModel(DEFAULT_MODEL);
  let work = '';
  let server: Server | undefined;
  let base = '';
  let browser: Browser | undefined;

  beforeAll(async () => {
    work = mkdtempSync(join(tmpdir(), 'bnn-browser-'));
    const out = join(work, 'web');
    const g = await cli(DEFAULT_MODEL, '--target', 'wasm', '-o', out);
    expect(g.code, g.err).toBe(0);
    expect(existsSync(join(out, 'demo.html'))).toBe(true);
    ({ server, url: base } = await serve(out));
    const profile = join(work, 'profile'); // a fresh Chromium profile
    mkdirSync(profile);
    const puppeteer = (await import('puppeteer-core')).default;
    browser = await puppeteer.launch({
      executablePath: CHROMIUM,
      headless: true,
      userDataDir: profile,
      args: ['--headless=new', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'],
    });
  });

  afterAll(async () => {
    await browser?.close();
    server?.closeAllConnections();
    await new Promise((ok) => (server ? server.close(ok) : ok(undefined)));
    if (work) rmSync(work, { recursive: true, force: true });
  });

  /** A new page that fails the test on any uncaught page error. */
  async function newPage(errors: string[]): Promise<Page> {
    const page = await browser!.newPage();
    page.on('pageerror', (e) => errors.push(String(e)));
    page.on('console', (m) => m.type() === 'error' && errors.push(m.text()));
    return page;
  }

  it('the module classifies digits and random inputs with the scores of `bnn-gen run --engine ts`, bit for bit', async () => {
    const inputs = [...readInputs(DEFAULT_DIGITS, model).slice(0, 20), ...[1, 2, 3, 4].map((s) => randomInput(model, 900 + s))];
    const file = join(work, 'inputs.bin');
    writeFileSync(file, Buffer.concat(inputs.map((x) => Buffer.from(x.buffer, x.byteOffset, x.length))));
    const ref = await cli('run', DEFAULT_MODEL, '--engine', 'ts', '--input', file, '--json');
    expect(ref.code, ref.err).toBe(0);
    const expected = (JSON.parse(ref.out) as { results: { scores: number[] }[] }).results.map((r) => r.scores);
    expect(expected).toHaveLength(inputs.length);

    const errors: string[] = [];
    const page = await newPage(errors);
    await page.goto(`${base}/`);
    // The import is evaluated as a string: vitest would rewrite an import() inside a function passed to evaluate.
    await page.evaluate(`import(${JSON.stringify(`${base}/bnn_model.js`)}).then((m) => { window.bnnModule = m; })`);
    const got = await page.evaluate(async (xs: number[][]) => {
      const m = (window as unknown as { bnnModule: GeneratedModule }).bnnModule;
      const net = await m.Model.load();
      return {
        shape: Array.from(m.INPUT_SHAPE),
        classes: m.NUM_CLASSES,
        runs: xs.map((x) => {
          const s = net.run(x);
          return { float: s instanceof Float32Array, bits: Array.from(new Uint32Array(s.buffer, s.byteOffset, s.length)), argmax: m.Model.argmax(s) };
        }),
      };
    }, inputs.map((x) => Array.from(x)));
    await page.close();
    expect(errors, errors.join('\n')).toEqual([]);
    expect(got.shape).toEqual(model.input.shape);
    expect(got.classes).toBe(expected[0].length);
    for (let i = 0; i < inputs.length; i++) {
      expect(got.runs[i].float, `input ${i}`).toBe(true);
      expect(got.runs[i].bits, `input ${i}`).toEqual(bits(expected[i], true));
      expect(got.runs[i].argmax).toBe(expected[i].indexOf(Math.max(...expected[i])));
    }
  });

  it('demo.html: digits drawn with mouse, touch and pen are classified live', async () => {
    const errors: string[] = [];
    const page = await newPage(errors);
    await page.setViewport({ width: 800, height: 600, hasTouch: true });
    await page.goto(`${base}/demo.html`);
    // The page loaded the model and ran its first update (the cleared canvas).
    await page.waitForFunction(() => document.body.dataset.updates !== undefined, { timeout: 10_000 });
    expect(await page.$eval('#status', (e) => `${e.className} ${e.textContent}`)).toBe(' draw');
    // Which kinds of pointer reached the canvas (the page draws from pointer events).
    await page.evaluate(() => {
      const kinds = new Set<string>();
      (window as unknown as { pointerKinds: Set<string> }).pointerKinds = kinds;
      document.getElementById('pad')!.addEventListener('pointerdown', (e) => kinds.add(e.pointerType));
    });
    const box = (await (await page.$('#pad'))!.boundingBox())!;
    const cdp = await page.createCDPSession();
    const settled = () => page.evaluate(() => new Promise((ok) => requestAnimationFrame(() => requestAnimationFrame(ok))));

    async function draw(strokes: [number, number][][], device: Device): Promise<void> {
      for (const stroke of strokes) {
        const pts = densify(stroke.map(([u, v]) => [box.x + u * box.width, box.y + v * box.height]));
        if (device === 'mouse') {
          await page.mouse.move(pts[0][0], pts[0][1]);
          await page.mouse.down();
          for (const [x, y] of pts.slice(1)) await page.mouse.move(x, y);
          await page.mouse.up();
        } else if (device === 'touch') {
          await page.touchscreen.touchStart(pts[0][0], pts[0][1]);
          for (const [x, y] of pts.slice(1)) await page.touchscreen.touchMove(x, y);
          await page.touchscreen.touchEnd();
        } else {
          const ev = (type: string, [x, y]: [number, number]) =>
            cdp.send('Input.dispatchMouseEvent', { type: type as 'mouseMoved', x, y, button: type === 'mouseMoved' ? 'none' : 'left', buttons: type === 'mouseReleased' ? 0 : 1, clickCount: 1, pointerType: 'pen' });
          await ev('mousePressed', pts[0]);
          for (const p of pts.slice(1)) await ev('mouseMoved', p);
          await ev('mouseReleased', pts[pts.length - 1]);
        }
      }
      await settled();
    }

    /** What the page shows: the predicted class, every score, and the model input it ran (the preview's pixels). */
    const shown = () => page.evaluate(() => {
      const pv = document.getElementById('preview') as HTMLCanvasElement;
      const px = pv.getContext('2d')!.getImageData(0, 0, pv.width, pv.height).data;
      return {
        cls: document.getElementById('prediction')!.dataset.class ?? '',
        text: document.getElementById('prediction')!.textContent ?? '',
        scores: Array.from(document.querySelectorAll<HTMLElement>('#scores .value'), (e) => Number(e.dataset.value)),
        input: Array.from({ length: pv.width * pv.height }, (_, i) => px[4 * i]),
      };
    });
    const clear = async () => {
      await page.click('#clear');
      await settled();
      expect((await shown()).cls).toBe('');
    };

    const cases: { digit: number; device: Device; strokes: [number, number][][] }[] = [
      ...DIGITS.map((d) => ({ ...d, device: 'mouse' as Device })),
      { ...DIGITS.find((d) => d.digit === 7)!, device: 'touch' },
      { ...DIGITS.find((d) => d.digit === 0)!, device: 'pen' },
    ];
    const seen: string[] = [];
    for (const c of cases) {
      await clear();
      await draw(c.strokes, c.device);
      const s = await shown();
      seen.push(`${c.digit} (${c.device}): predicted ${s.text}, scores ${s.scores.map((v) => v.toFixed(2)).join(' ')}`);
      // The page shows the scores of the input it shows, as the reference computes them.
      const ref = runReference(model, Uint8Array.from(s.input)).scores;
      expect(bits(s.scores, true), `digit ${c.digit} (${c.device})`).toEqual(bits(ref, true));
      expect(s.input.reduce((a, b) => a + b, 0)).toBeGreaterThan(0);
      expect(Number(s.cls), seen.join('\n')).toBe(c.digit);
      expect(s.text).toBe(String(c.digit));
    }
    if (process.env.BNN_BROWSER_LOG) console.log(seen.join('\n'));
    expect(await page.evaluate(() => [...(window as unknown as { pointerKinds: Set<string> }).pointerKinds].sort())).toEqual(['mouse', 'pen', 'touch']);

    // The screenshot of the README: a 7 drawn with the mouse.
    await clear();
    await draw(DIGITS.find((d) => d.digit === 7)!.strokes, 'mouse');
    expect((await shown()).cls).toBe('7');
    if (process.env.UPDATE_SCREENSHOT === '1') {
      mkdirSync(join(PROJECT_ROOT, 'docs', 'img'), { recursive: true });
      writeFileSync(SCREENSHOT, await page.screenshot({ type: 'png', fullPage: true }));
    }
    await page.close();
    expect(errors, errors.join('\n')).toEqual([]);
  });
});
