// Static memory plan: every activation buffer and scratch area gets a fixed offset in one arena.
// Buffers are (lifetime x size) rectangles; placing the largest first at the lowest offset that does not
// collide with a buffer alive at the same time gives an exact arena size known at generation time.
import { ARENA_ALIGN } from '../ir/layout.ts';

export interface BufferRequest {
  id: string;
  bytes: number;
  /** First and last step (layer index) at which the buffer must hold its data. */
  first: number;
  last: number;
  /** Placed at the offset of this request, whose last step is this one's first: an output its kernel writes over the
   *  start of its dying input (a pool that shrinks its map in place). The rest of the input's buffer is then free. */
  at?: string;
}

export interface Placement extends BufferRequest {
  offset: number;
}

export interface ArenaPlan {
  size: number;
  placements: Map<string, Placement>;
}

const align = (n: number) => Math.ceil(n / ARENA_ALIGN) * ARENA_ALIGN;

/** Bytes of the buffers alive at `step` (each rounded up to the arena's alignment when `aligned`). A request placed
 *  over another (`at`) shares its bytes at the step where both are alive. */
export function liveBytes(requests: BufferRequest[], step: number, aligned = false): number {
  const alive = (r: BufferRequest) => r.first <= step && step <= r.last;
  const anchors = new Set(requests.filter(alive).map((r) => r.id));
  return requests.reduce((s, r) => s + (alive(r) && !(r.at && anchors.has(r.at)) ? (aligned ? align(r.bytes) : r.bytes) : 0), 0);
}

const clash = (offset: number, r: BufferRequest, p: Placement) => p.first <= r.last && r.first <= p.last && offset < p.offset + p.bytes && p.offset < offset + r.bytes;

/** The lowest offset where every request of `group` (placed at one offset) collides with nothing placed. */
function lowestFit(placed: Placement[], group: BufferRequest[]): number {
  const candidates = [0, ...placed.map((p) => align(p.offset + p.bytes))].sort((a, b) => a - b);
  return candidates.find((o) => group.every((r) => placed.every((p) => !clash(o, r, p))))!;
}

export function planArena(requests: BufferRequest[]): ArenaPlan {
  // A request placed over another (`at`) goes with it, at its offset: the two are one group.
  const over = new Map(requests.filter((r) => r.at && r.bytes > 0).map((r) => [r.at!, r]));
  const groupOf = (r: BufferRequest) => {
    const g = [r];
    for (let n = over.get(r.id); n; n = over.get(n.id)) g.push(n);
    return g;
  };
  const order = [...requests].filter((r) => r.bytes > 0 && !r.at).sort((a, b) => b.bytes - a.bytes || a.first - b.first || a.id.localeCompare(b.id));
  const placed: Placement[] = [];
  for (const r of order) {
    const group = groupOf(r);
    if (group.length > 1) {
      const offset = lowestFit(placed, group);
      for (const m of group) placed.push({ ...m, offset });
      continue;
    }
    const live = placed.filter((p) => p.first <= r.last && r.first <= p.last).sort((a, b) => a.offset - b.offset);
    let offset = 0;
    for (const p of live) {
      if (offset + r.bytes <= p.offset) break;
      offset = Math.max(offset, align(p.offset + p.bytes));
    }
    placed.push({ ...r, offset });
  }
  const placements = new Map(placed.map((p) => [p.id, p]));
  for (const r of requests) if (r.bytes === 0) placements.set(r.id, { ...r, offset: 0 });
  const size = placed.reduce((m, p) => Math.max(m, p.offset + p.bytes), 0);
  return { size, placements };
}
