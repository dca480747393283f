// A bug (anything thrown that is not a BnnError) is one `bnn-gen: internal error:` line with exit 3; the stack only
// with --debug. The report command is replaced by one that fails the way a bug would.
import { describe, expect, it, vi } from 'vitest';
import { main } from '../generator/src/cli/main.ts';

vi.mock('../generator/src/cli/commands/report.ts', () => ({
  reportCommand: () => {
    const o = undefined as unknown as { field: number };
    return o.field; // TypeError, as from a real slip
  },
}));

function capture() {
  const io = { out: '', err: '', errIsTTY: false, progress: { phase() {}, count() {} } };
  return { io: { ...io, out: (l: string) => (io.out += l + '\n'), err: (t: string) => (io.err += t) }, text: io };
}

describe('internal errors', () => {
  it('one line, exit 3, asking for a report', async () => {
    const { io, text } = capture();
    expect(await main(['report'], io, { signals: false })).toBe(3);
    expect(text.err).toMatch(/^bnn-gen: internal error: Cannot read properties of undefined \(reading 'field'\) \(please report it; --debug shows where\)\n$/);
    expect(text.out).toBe('');
  });

  it('--debug adds the stack', async () => {
    const { io, text } = capture();
    expect(await main(['report', '--debug'], io, { signals: false })).toBe(3);
    const lines = text.err.trim().split('\n');
    expect(lines[0]).toMatch(/^bnn-gen: internal error: /);
    expect(lines.slice(1).some((l) => /^\s+at /.test(l))).toBe(true);
  });
});
