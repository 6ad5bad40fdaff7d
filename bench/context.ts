// What every figure gets from the orchestrator: the sizes of this run, the device simulator, the
// device CA all Aspen servers trust, and a way to start servers in fresh temp directories.
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { startBenchPostgres, type BenchPostgres } from './postgres.ts';
import { startReceiverProcess, type ReceiverProcess } from './webhooks/receiver-client.ts';
import type { Simulator } from './simulator/client.ts';
import { startAspen, startServer, type ServerProcess, type SpawnOptions } from './server-process.ts';

export interface Sizes {
  loop: { devices: number; commandsPerRound: number; measuredRounds: number; concurrency: number };
  fanOut: { enrollments: number; repetitions: number };
  scale: { smallEnrollments: number; largeEnrollments: number; queuedPerLargeDevice: number; sample: number; concurrency: number };
  push: { tokens: number; repetitions: number; concurrency: number };
  webhooks: { events: number; chains: number };
  enrollment: { devices: number; warmup: number };
  largeResults: { devices: number; idleRepeats: number; rounds: number; concurrency: number; resultBytes: number; resultKeys: number; commandsPerRound: number };
}

export const FULL: Sizes = {
  loop: { devices: 1000, commandsPerRound: 2, measuredRounds: 5, concurrency: 16 },
  fanOut: { enrollments: 100_000, repetitions: 2 },
  scale: { smallEnrollments: 1000, largeEnrollments: 100_000, queuedPerLargeDevice: 10, sample: 1000, concurrency: 4 },
  push: { tokens: 100_000, repetitions: 2, concurrency: 100 },
  webhooks: { events: 10_000, chains: 500 },
  enrollment: { devices: 1000, warmup: 3000 },
  largeResults: { devices: 200, idleRepeats: 10, rounds: 5, concurrency: 16, resultBytes: 4 * 1024 * 1024 - 4096, resultKeys: 100_000, commandsPerRound: 200 },
};

export const QUICK: Sizes = {
  loop: { devices: 200, commandsPerRound: 2, measuredRounds: 1, concurrency: 16 },
  fanOut: { enrollments: 10_000, repetitions: 1 },
  scale: { smallEnrollments: 1000, largeEnrollments: 10_000, queuedPerLargeDevice: 10, sample: 200, concurrency: 4 },
  push: { tokens: 10_000, repetitions: 1, concurrency: 100 },
  webhooks: { events: 2_000, chains: 100 },
  enrollment: { devices: 300, warmup: 300 },
  largeResults: { devices: 100, idleRepeats: 5, rounds: 1, concurrency: 16, resultBytes: 4 * 1024 * 1024 - 4096, resultKeys: 100_000, commandsPerRound: 200 },
};

export interface DeviceCaFiles {
  certPath: string;
  certPem: string;
  keyPem: string;
}

export class BenchContext {
  private readonly servers = new Set<string>();
  private cluster: Promise<BenchPostgres> | undefined;
  private receiver: Promise<ReceiverProcess> | undefined;

  constructor(
    readonly sizes: Sizes,
    readonly simulator: Simulator,
    readonly deviceCa: DeviceCaFiles,
    private readonly tempRoot: string,
    /** Set with --profile: each Aspen server writes a CPU profile into a folder under it. */
    readonly profileRoot: string | undefined,
    readonly log: (message: string) => void,
  ) {}

  /** A new empty directory under the run's temp root (removed with it at the end). */
  dir(name: string): string {
    const path = join(this.tempRoot, name);
    mkdirSync(path, { recursive: true });
    return path;
  }

  /** Aspen on a fresh data directory `name`, trusting the bench's device CA unless `env` says otherwise. */
  startAspen(name: string, env: Record<string, string>): Promise<ServerProcess> {
    if (this.servers.has(name)) throw new Error(`two servers named ${name}`);
    this.servers.add(name);
    const profileDir = this.profileRoot && join(this.profileRoot, name);
    return startAspen(this.dir(name), { DEVICE_CA: this.deviceCa.certPath, ...env }, profileDir);
  }

  startServer(name: string, options: Omit<SpawnOptions, 'dir'>): Promise<ServerProcess> {
    return startServer({ ...options, dir: this.dir(name) });
  }

  /** The run's PostgreSQL cluster, started on first use. */
  postgres(): Promise<BenchPostgres> {
    this.cluster ??= startBenchPostgres();
    return this.cluster;
  }

  /** The run's webhook receiver (its own process), started on first use. */
  webhookReceiver(): Promise<ReceiverProcess> {
    this.receiver ??= startReceiverProcess();
    return this.receiver;
  }

  /** Stops what the run started on demand. */
  async close(): Promise<void> {
    await this.receiver?.then((r) => r.stop(), () => {});
    await this.cluster?.then(
      (cluster) => cluster.stop(),
      () => {}, // it never started: the figures that asked for it have failed already
    );
  }
}
