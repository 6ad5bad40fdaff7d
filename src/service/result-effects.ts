// What some results change besides their own record. A DeviceInformation answer updates what the
// server knows of the device (its inventory; OS version and supervision also gate commands). An
// acknowledged DeviceConfigured ends Await Configuration (Setup Assistant continues). An
// acknowledged EraseDevice releases the device's certificates: the wiped device comes back with a
// new identity (from a new MDM profile, by hand or through Automated Device Enrollment), and its
// next Authenticate must be able to bind it, as an admin's release would allow.
//
// A replayed result runs these again (the first run may have been cut off by a crash after the
// result was stored), so each is idempotent.
import type { ResolvedEnrollment } from '../protocol/enrollment-id.ts';
import { isDict, plistToJson, type PlistDict } from '../protocol/plist.ts';
import type { EnrollmentStore, InventoryRecord, RecordedResult } from '../storage/storage.ts';
import type { ResultHook } from './command-loop.ts';
import type { IdentityRelease } from './enrollment-directory.ts';

export function resultEffects(storage: Pick<EnrollmentStore, 'recordInventory' | 'recordDeviceConfigured'>, releaseIdentities: IdentityRelease): ResultHook {
  return async ({ requestType }: RecordedResult, message: PlistDict, who: ResolvedEnrollment, at: string) => {
    if (message.Status !== 'Acknowledged' || who.channel !== 'device') return;
    if (requestType === 'DeviceInformation') {
      const inventory = inventoryFrom(message, who.deviceId, at);
      if (inventory) await storage.recordInventory(inventory);
    } else if (requestType === 'EraseDevice') {
      await releaseIdentities(who.deviceId);
    } else if (requestType === 'DeviceConfigured') {
      await storage.recordDeviceConfigured(who.id);
    }
  };
}

/** The QueryResponses of a DeviceInformation result; undefined when it has none. */
export function inventoryFrom(message: PlistDict, deviceId: string, at: string): InventoryRecord | undefined {
  const responses = message.QueryResponses;
  if (!isDict(responses)) return undefined;
  const text = (key: string) => (typeof responses[key] === 'string' && responses[key] !== '' ? (responses[key] as string) : undefined);
  const flag = (key: string) => (typeof responses[key] === 'boolean' ? (responses[key] as boolean) : undefined);
  return {
    deviceId,
    values: plistToJson(responses) as Record<string, unknown>,
    deviceName: text('DeviceName'),
    model: text('ModelName') ?? text('Model'),
    serialNumber: text('SerialNumber'),
    osVersion: text('OSVersion'),
    supervised: flag('IsSupervised'),
    multiUser: flag('IsMultiUser'),
    at,
  };
}
