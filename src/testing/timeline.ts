/**
 * The one timeline factory-made records share: every record takes the next tick of a module-wide counter, which
 * sets its default sequence number and time. Records built in order are therefore in shard order, as on a real
 * shard, and records built in different tests never share a sequence number.
 */

/** 2026-01-01T00:00:00Z in epoch seconds: where the timeline starts. */
export const TIMELINE_START_SECONDS = 1_767_225_600;

let ticks = 0;

/** The next tick, from 1. */
export function nextTick(): number {
  return ++ticks;
}

/** A sequence number `tick` places after `base` (a real sequence number, so the default ones look real). */
export function sequenceNumberAt(base: bigint, tick: number): string {
  return (base + BigInt(tick)).toString();
}
