// Live check-ins for the console (server-sent events at /ui/live). The source is the database, not
// this process: one poller per instance reads the channels seen since it last looked (an index on
// last_seen_at), so a check-in any instance handled reaches every console. Each read looks back a
// few seconds and skips what it already sent, so a row committed late (or stamped by an instance
// whose clock is a little behind) is still seen.
import type { FleetStore } from '../../storage/fleet.ts';
import type { Enrollment } from '../../storage/storage.ts';

export interface SeenEvent {
  id: string;
  device_id: string;
  channel: string;
  device_name: string | null;
  serial_number: string | null;
  platform: string | null;
  state: string;
  last_seen_at: string;
  last_status: string;
}

const LOOKBACK_MS = 10_000;
const PAGE = 500;

export class LiveFeed {
  private readonly listeners = new Set<(event: SeenEvent) => void>();
  /** What was sent, by enrollment: its last-seen time (entries leave once out of the window). */
  private readonly sent = new Map<string, string>();
  private timer: NodeJS.Timeout | null = null;
  private running: Promise<void> | null = null;
  private floor = '';

  constructor(
    private readonly fleet: FleetStore,
    private readonly pollMs: number,
    private readonly onError: (err: unknown) => void,
  ) {}

  subscribe(listener: (event: SeenEvent) => void): () => void {
    if (this.listeners.size === 0) this.start();
    this.listeners.add(listener);
    return () => {
      this.listeners.delete(listener);
      if (this.listeners.size === 0) this.stop();
    };
  }

  private start(): void {
    // What happened before anyone watched is on the pages already.
    this.floor = new Date().toISOString();
    this.sent.clear();
    this.timer = setInterval(() => {
      this.running ??= this.poll()
        .catch(this.onError)
        .finally(() => (this.running = null));
    }, this.pollMs);
  }

  private stop(): void {
    if (this.timer) clearInterval(this.timer);
    this.timer = null;
  }

  async close(): Promise<void> {
    this.stop();
    this.listeners.clear();
    await this.running;
  }

  private async poll(): Promise<void> {
    const lookback = new Date(Date.now() - LOOKBACK_MS).toISOString();
    const since = lookback > this.floor ? lookback : this.floor;
    for (const [id, at] of this.sent) if (at < since) this.sent.delete(id);
    let after: { lastSeenAt: string; id: string } | undefined;
    for (;;) {
      const page = await this.fleet.seen(since, after, PAGE);
      for (const e of page) {
        if (this.sent.get(e.id) === e.lastSeenAt) continue;
        this.sent.set(e.id, e.lastSeenAt);
        const event = seenEvent(e);
        for (const listener of this.listeners) listener(event);
      }
      if (page.length < PAGE) return;
      const last = page.at(-1)!;
      after = { lastSeenAt: last.lastSeenAt, id: last.id };
    }
  }
}

function seenEvent(e: Enrollment): SeenEvent {
  return {
    id: e.id,
    device_id: e.deviceId,
    channel: e.channel,
    device_name: e.deviceName,
    serial_number: e.serialNumber,
    platform: e.platform,
    state: e.state,
    last_seen_at: e.lastSeenAt,
    last_status: e.lastStatus,
  };
}
