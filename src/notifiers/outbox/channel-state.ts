/** Channels disabled after their endpoint answered 410 Gone, persisted in `store.state`. */
import type { StateRepository } from '../../domain/state.js';

/** Why and when a channel was disabled. */
export interface DisabledChannel {
  reason: string;
  at: number;
}

const keyOf = (channel: string) => `notifications.disabled.${channel}`;

/** Whether (and why) a channel is disabled. */
export async function disabledState(
  state: StateRepository,
  channel: string,
): Promise<DisabledChannel | undefined> {
  const v = await state.get<Partial<DisabledChannel> & { enabledAt?: number }>(keyOf(channel));
  return v && typeof v.reason === 'string' && typeof v.at === 'number'
    ? { reason: v.reason, at: v.at }
    : undefined;
}

/** Marks a channel disabled. */
export async function disableChannel(
  state: StateRepository,
  channel: string,
  reason: string,
  now: number,
): Promise<void> {
  await state.set(keyOf(channel), { reason, at: now } satisfies DisabledChannel, now);
}

/** Enables a channel again; returns whether it was disabled. */
export async function enableChannel(state: StateRepository, channel: string, now: number): Promise<boolean> {
  const was = await disabledState(state, channel);
  if (was) await state.set(keyOf(channel), { enabledAt: now }, now);
  return was !== undefined;
}
