// Which device a certificate was bound to, remembered for a short while: every signed request asks,
// and the answer almost never changes. Other instances sharing the database may unbind, so an
// entry is only trusted for `ttlMs` (the documented bound on how long such an unbind can go
// unseen); what this instance unbinds itself is forgotten at once.
import { LruCache } from '../identity/lru-cache.ts';

/** A few hundred bytes each; least recently used first out. */
const CAPACITY = 20_000;

export class BindingCache {
  readonly #entries = new LruCache<string, { deviceId: string; until: number }>(CAPACITY);

  constructor(private readonly ttlMs: number) {}

  get(fingerprint: string, now: Date): string | undefined {
    const entry = this.#entries.get(fingerprint);
    if (entry === undefined || entry.until <= now.getTime()) return undefined;
    return entry.deviceId;
  }

  set(fingerprint: string, deviceId: string, now: Date): void {
    if (this.ttlMs > 0) this.#entries.set(fingerprint, { deviceId, until: now.getTime() + this.ttlMs });
  }

  forget(fingerprint: string): void {
    this.#entries.delete(fingerprint);
  }

  clear(): void {
    this.#entries.clear();
  }
}
