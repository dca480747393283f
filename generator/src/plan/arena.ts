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
}

export interface Placement extends BufferRequest {
  offset: number;
}

export interface ArenaPlan {
  size: number;
  placements: Map<string, Placement>;
}

const align = (n: number) => Math.ceil(n / ARENA_ALIGN) * ARENA_ALIGN;

/** Bytes of the buffers alive at `step` (each rounded up to the arena's alignment when `aligned`). */
export function liveBytes(requests: BufferRequest[], step: number, aligned = false): number {
  return requests.reduce((s, r) => s + (r.first <= step && step <= r.last ? (aligned ? align(r.bytes) : r.bytes) : 0), 0);
}

export function planArena(requests: BufferRequest[]): ArenaPlan {
  const order = [...requests].filter((r) => r.bytes > 0).sort((a, b) => b.bytes - a.bytes || a.first - b.first || a.id.localeCompare(b.id));
  const placed: Placement[] = [];
  for (const r of order) {
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
