// What the orchestrator and the device simulator process say to each other (over the IPC channel).

export interface FleetSpec {
  /** Fleets are kept by name, so figures can interleave without rebuilding each other's. */
  name: string;
  /** Device ids (UDIDs), one simulated device each. */
  ids: string[];
  /** Rounds of commands each device will be handed (see workload.ts roundCommands). */
  rounds: number;
  commandsPerRound: number;
  /** Issue each device a certificate from this CA and sign every body ahead of time; null: unsigned. */
  signing: { caCertPem: string; caKeyPem: string } | null;
}

export type Phase =
  /** Authenticate then TokenUpdate, each answered by an empty 200. */
  | { kind: 'enroll' }
  /** Idle, then an Acknowledged for every command of the round as it is handed over, until the
   *  zero-length 200. Each answer must be the exact bytes of the expected command. */
  | { kind: 'session'; round: number }
  /** Idle only; the answer must be this command (a next-command round trip). */
  | { kind: 'first-command'; expect: string }
  /** Idle `repeats` times per device, each answered by an empty 200 (nothing is queued). */
  | { kind: 'idle'; repeats: number };

/** One device of another fleet uploading large results back to back while the phase runs: Idle,
 *  then for each command it is handed an Acknowledged of `bytes` bytes holding `keys` keys, signed
 *  as it is sent. Its requests are not counted in the phase's latencies. */
export interface LargeResults {
  fleet: string;
  /** The commands queued to it, in the order it will be handed them (more than the phase needs). */
  commands: string[];
  bytes: number;
  keys: number;
}

export interface RunSpec {
  fleet: string;
  /** Servers behind one imaginary load balancer: device i talks to urls[i % urls.length]. */
  urls: string[];
  phase: Phase;
  /** Send the Mdm-Signature header (the fleet must have been prepared with signing). */
  signed: boolean;
  /** Devices talking at once (each one's requests are sequential, as on a real device). */
  concurrency: number;
  /** Sent alongside, until the phase's own devices are done. */
  largeResults?: LargeResults;
}

export interface RunResult {
  requests: number;
  /** Requests answered with anything but the expected status and bytes, or not answered. */
  errors: number;
  errorSamples: string[];
  wallSeconds: number;
  /** CPU seconds the simulator itself used during the phase: the client's share of the machine. */
  clientCpuSeconds: number;
  p50Ms: number;
  p99Ms: number;
  /** With `largeResults`: how many were answered while the phase ran, and their median latency. */
  large?: { sent: number; p50Ms: number };
}

export type ToSimulator = { kind: 'prepare'; fleet: FleetSpec } | { kind: 'run'; run: RunSpec };
export type FromSimulator = { kind: 'prepared'; seconds: number } | { kind: 'result'; result: RunResult } | { kind: 'failed'; error: string };
