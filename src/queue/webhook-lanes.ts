// Webhook deliveries are shared out by lane, so one tenant whose receiver hangs cannot hold every
// delivery slot of a node. A lane is the job's tenant; without one (AUTH=off) the callback's host.
// lua/claim-webhooks-1.lua computes the same lane and picks the same way; keep the two alike.
import type { Job } from '../job.js';

/** The `scheme://host[:port]` part of a URL, read as the Lua script reads it (no normalisation). */
const AUTHORITY = /^[A-Za-z][A-Za-z0-9+.-]*:\/\/([^/?#]*)/;

export function webhookLane(job: Pick<Job, 'tenant' | 'callback'>): string {
  if (typeof job.tenant === 'string') return job.tenant;
  return `@${AUTHORITY.exec(job.callback?.url ?? '')?.[1] ?? ''}`;
}

/** What a dispatcher tells the queue when it claims: its per-lane cap and what each lane has in flight. */
export interface DeliveryShares {
  /** Deliveries one lane may have in flight on this node (WEBHOOK_TENANT_CONCURRENCY). */
  perLane: number;
  /** Lane → deliveries this node is sending now. */
  inFlight: ReadonlyMap<string, number>;
}

/**
 * Picks up to `max` of the due candidates (oldest due first), round-robin across lanes: each
 * pick goes to the lane with the fewest in flight (ties: the lane due first), and no lane passes
 * its cap. Returns the picks and the lanes found at their cap, whose entries the queue moves
 * behind other lanes' so that a long backlog of one lane does not hide everyone else's.
 */
export function pickFairly<T>(candidates: ReadonlyArray<T>, laneOf: (candidate: T) => string, max: number, shares: DeliveryShares): { picked: T[]; saturated: Set<string> } {
  const byLane = new Map<string, T[]>();
  for (const candidate of candidates) {
    const lane = laneOf(candidate);
    const queue = byLane.get(lane);
    if (queue) queue.push(candidate);
    else byLane.set(lane, [candidate]);
  }
  const load = new Map<string, number>();
  for (const lane of byLane.keys()) load.set(lane, shares.inFlight.get(lane) ?? 0);
  const picked: T[] = [];
  while (picked.length < max) {
    let best: string | undefined;
    for (const [lane, queue] of byLane) {
      if (queue.length === 0 || load.get(lane)! >= shares.perLane) continue;
      if (best === undefined || load.get(lane)! < load.get(best)!) best = lane;
    }
    if (best === undefined) break;
    picked.push(byLane.get(best)!.shift()!);
    load.set(best, load.get(best)! + 1);
  }
  const saturated = new Set<string>();
  for (const [lane, queue] of byLane) if (queue.length > 0 && load.get(lane)! >= shares.perLane) saturated.add(lane);
  return { picked, saturated };
}
