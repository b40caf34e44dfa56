/**
 * When V8 starts a full garbage collection in a process that is prodmon alone (`prodmon start`: a
 * standalone monitor, the hub that agents push to).
 *
 * By default V8 starts marking the old generation (a full collection, most of it on helper threads) as
 * soon as the room left under the old generation's limit is less than the young generation's capacity.
 * A hub's live heap is small for V8 (50-90 MB: the pushed rows held until their minute settles, the
 * alert windows) while its young generation grows to 2 x 16 MB on a 64-bit Node, and the limit V8 sets
 * after a full collection leaves it about 20-30 MB of room: marking started again almost as soon as a
 * collection ended. Measured with `--trace-gc --trace-incremental-marking` on the hub of 20,000 series
 * of bench/hub.ts: 5-7 full collections in each 10 s (marking started "by task" with 43 MB used of a
 * 66 MB limit), against 1-3 scavenges.
 *
 * With the two thresholds below, V8 starts marking (as a task) once `SOFT_TRIGGER` % of the room
 * between the old generation's size at the last collection and its limit has been used, and at once
 * past `HARD_TRIGGER` %, whatever the young generation's size (`Heap::IncrementalMarkingLimitReached`
 * and `PercentToLimit` in V8's src/heap/heap.cc).
 *
 * The room itself: after a full collection V8 sets the next limit at the live heap times a factor it
 * derives from its collector's speed against the program's allocation speed (1.1 to 4; about 1.3-1.6
 * for a hub, whose program allocates slowly next to the collector: a limit of 66 MB for 43 MB live).
 * `GROWING_PERCENT` sets that factor to 2 (`MemoryController::GrowingFactor` in V8's
 * src/heap/memory-controller.cc): each full collection leaves as much room as the heap holds live, so
 * there are fewer of them, each marking the same live heap (with the thresholds alone, V8's helper
 * threads, which do most of the marking, still took about 40 % of that hub's CPU: 3.1 of 7.6 s, from
 * /proc/<pid>/task); the price is up to about the live heap's size in RSS (+27 to +31 MB mean on that
 * hub, which stays under half of Prometheus's RSS).
 *
 * V8 reads all three flags each time it uses them, so setting them once the process runs takes effect
 * (unlike the young generation's size, fixed at start); they are V8's in Node 20, 24 and 26 (tested).
 *
 * Only for a process that prodmon owns: the flags are the process's, so an app that embeds prodmon
 * keeps V8's heuristics as they are.
 */
import { setFlagsFromString } from 'node:v8';

/** The share (%) of the old generation's room, since the last collection, at which V8 starts marking in a task. */
export const SOFT_TRIGGER = 80;
/** ... and at which it starts marking at once. */
export const HARD_TRIGGER = 95;

/** The old generation's limit after a full collection: the live heap times 1 + this / 100. */
export const GROWING_PERCENT = 100;

/** The V8 flags `tuneGcForStandalone` sets. */
export const STANDALONE_GC_FLAGS: readonly string[] = [
  `--incremental-marking-soft-trigger=${SOFT_TRIGGER}`,
  `--incremental-marking-hard-trigger=${HARD_TRIGGER}`,
  `--heap-growing-percent=${GROWING_PERCENT}`,
];

/**
 * Sets `STANDALONE_GC_FLAGS` for this process (see the module comment), but not a flag that Node was
 * given on its command line (`node --incremental-marking-soft-trigger=0 ...`; Node refuses V8 flags
 * such as these in `NODE_OPTIONS`): the operator's own setting wins. Returns the flags it set.
 */
export function tuneGcForStandalone(given: readonly string[] = process.execArgv): string[] {
  const set: string[] = [];
  for (const flag of STANDALONE_GC_FLAGS) {
    const name = flag.slice(0, flag.indexOf('='));
    // V8 takes `_` for `-` in a flag's name.
    if (given.some((g) => g.split('=')[0]!.replace(/_/g, '-') === name)) continue;
    setFlagsFromString(flag);
    set.push(flag);
  }
  return set;
}
