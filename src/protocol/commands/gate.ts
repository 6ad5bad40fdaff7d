// Whether a command may be sent to a given enrollment/channel, derived from commands.json's
// per-platform facts. Whatever the server does not know yet (platform, OS version, supervision,
// Shared iPad) is not held against the command: the device will answer with an error if needed.
import { commandRegistry } from './registry.ts';
import type { Platform } from './platform.ts';
import type { CommandRegistry, PlatformSupport } from './registry.ts';

export interface CommandTarget {
  /** Undefined until the device has told us (e.g. no ProductName in Authenticate): allow. */
  platform?: Platform | undefined;
  channel: 'device' | 'user';
  userEnrollment: boolean;
  /** iOS: the device is a Shared iPad. On iOS the user channel implies it. Undefined: unknown. */
  sharedIPad?: boolean | undefined;
  /** Undefined: unknown. */
  supervised?: boolean | undefined;
  /** e.g. "17.4.1"; enables the introduced/removed checks (docs/protocol.md §11, and §12 item 12). Undefined: unknown. */
  osVersion?: string | undefined;
}

export type GateResult = { ok: true } | { ok: false; reason: string };

export function commandAllowed(
  requestType: string,
  target: CommandTarget,
  registry: CommandRegistry = commandRegistry,
): GateResult {
  const definition = registry.get(requestType);
  if (!definition) return deny(`unknown RequestType "${requestType}"`);
  if (target.platform === undefined) return { ok: true };
  const support = definition.platforms[target.platform];
  if (!support) return deny(`${requestType} is not available on ${target.platform}`);
  const reason = versionProblem(support, target) ?? channelProblem(support, target) ?? enrollmentProblem(support, target);
  return reason === undefined ? { ok: true } : deny(`${requestType}: ${reason}`);
}

function deny(reason: string): GateResult {
  return { ok: false, reason };
}

function versionProblem(support: PlatformSupport, { platform, osVersion }: CommandTarget): string | undefined {
  if (osVersion === undefined) return undefined;
  if (compareVersions(osVersion, support.introduced) < 0) return `needs ${platform} ${support.introduced} or later`;
  if (support.removed !== undefined && compareVersions(osVersion, support.removed) >= 0) {
    return `removed in ${platform} ${support.removed}`;
  }
  return undefined;
}

function channelProblem(support: PlatformSupport, target: CommandTarget): string | undefined {
  const sharedIPad = isSharedIPad(target);
  if (target.channel === 'user' && !support.userChannel) return 'not available on the user channel';
  if (target.channel === 'device' && !support.deviceChannel) return 'not available on the device channel';
  const shared = support.sharedIPad;
  if (sharedIPad === true && shared) {
    if (shared.mode === 'forbidden') return 'not available on Shared iPad';
    if (target.channel === 'device' && !shared.deviceChannel) return 'not available on the device channel of a Shared iPad';
    if (target.channel === 'user' && !shared.userChannel) return 'not available on the user channel of a Shared iPad';
  }
  if (sharedIPad === false && shared?.mode === 'required') return 'only available on Shared iPad';
  return undefined;
}

/** true/false, or undefined when unknown. */
function isSharedIPad(target: CommandTarget): boolean | undefined {
  if (target.platform !== 'iOS') return false;
  if (target.channel === 'user') return true; // iOS has a user channel only on Shared iPad
  return target.sharedIPad;
}

function enrollmentProblem(support: PlatformSupport, target: CommandTarget): string | undefined {
  if (target.userEnrollment && support.userEnrollment === 'forbidden') return 'not available under user enrollment';
  if (!target.userEnrollment && support.userEnrollment === 'required') return 'only available under user enrollment';
  if (target.supervised === false && support.supervised) return 'needs a supervised device';
  return undefined;
}

/** Numeric dotted-version comparison ("10.11.5" < "27.0"); missing parts count as 0. */
export function compareVersions(a: string, b: string): number {
  const left = a.split('.').map(Number);
  const right = b.split('.').map(Number);
  for (let i = 0; i < Math.max(left.length, right.length); i++) {
    const diff = (left[i] || 0) - (right[i] || 0);
    if (diff !== 0) return Math.sign(diff);
  }
  return 0;
}
