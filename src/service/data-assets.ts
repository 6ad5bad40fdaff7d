// Data assets Aspen hosts for devices: bytes an admin uploads, served at /ddm/assets/<name> to a
// device whose effective set has an asset declaration referencing that URL (Reference.DataURL).
//
// The device proves itself as on /mdm, but with Authentication {Type: MDM} it fetches without an
// Mdm-Signature: its identity is the TLS client certificate (Aspen serving TLS itself) or the one a
// TLS-terminating proxy forwards (DEVICE_CERT_HEADER). Only a certificate already bound to an
// enrollment opens an asset, and only one its device's channels are assigned; anything else is
// a 404 (nothing says whether the asset exists) or a 403 for no or an unknown identity.
import { createHash } from 'node:crypto';
import type { DeclarationChange, DataAssetInfo, DeclarationStore } from '../storage/declarations.ts';
import type { EnrollmentStore } from '../storage/storage.ts';
import type { DeclarativeSync } from './declarative-sync.ts';
import type { DeviceAuth, DeviceCredentials } from './device-auth.ts';
import type { DeviceReply } from './device-reply.ts';

/** Where devices fetch hosted assets; a declaration's DataURL is `https://<host>` + this + name. */
export const ASSET_PATH = '/ddm/assets/';
const NAME = /^[A-Za-z0-9][A-Za-z0-9._-]{0,199}$/;
/** The user channels of one device a fetch may speak for (a Shared iPad has many users). */
const MAX_CHANNELS = 500;

export function assetNameProblem(name: string): string | undefined {
  return NAME.test(name) ? undefined : 'expected 1-200 letters, digits, ".", "_" or "-", starting with a letter or digit';
}

export class DataAssets {
  constructor(
    private readonly store: DeclarationStore,
    private readonly enrollments: Pick<EnrollmentStore, 'listEnrollments'>,
    private readonly sync: DeclarativeSync,
    /** null when device identity checks are off (DEVICE_IDENTITY=off): assets are then served to anyone. */
    private readonly auth: DeviceAuth | null,
    private readonly now: () => Date = () => new Date(),
  ) {}

  async put(name: string, contentType: string, data: Uint8Array): Promise<{ change: DeclarationChange; asset: DataAssetInfo }> {
    const sha256 = createHash('sha256').update(data).digest('hex');
    const at = this.now().toISOString();
    const change = await this.store.putAsset({ name, contentType, data, sha256, size: data.byteLength }, at);
    const asset = (await this.store.listAssets()).find((a) => a.name === name);
    return { change, asset: asset ?? { name, contentType, sha256, size: data.byteLength, updatedAt: at } };
  }

  list(): Promise<DataAssetInfo[]> {
    return this.store.listAssets();
  }

  delete(name: string): Promise<boolean> {
    return this.store.deleteAsset(name);
  }

  /** A device's fetch of /ddm/assets/<name>. */
  async fetch(name: string, credentials: DeviceCredentials): Promise<DeviceReply> {
    const summary = { message: 'asset' };
    const deviceId = this.auth === null ? null : await this.auth.boundDevice(credentials, this.now());
    const notFound: DeviceReply = { status: 404, body: null, summary: { ...summary, ...(deviceId ? { enrollmentId: deviceId } : {}), outcome: `no asset ${name}` } };
    if (assetNameProblem(name) !== undefined) return notFound;
    if (deviceId !== null && !(await this.assignedTo(deviceId, name))) return notFound;
    const asset = await this.store.getAsset(name);
    if (asset === undefined) return notFound;
    return { status: 200, body: asset.data, contentType: asset.contentType, summary: { ...summary, ...(deviceId ? { enrollmentId: deviceId } : {}), outcome: `asset ${name}` } };
  }

  /** Whether an asset declaration in the effective set of one of the device's channels points here. */
  private async assignedTo(deviceId: string, name: string): Promise<boolean> {
    const channels = await this.enrollments.listEnrollments({ deviceId }, { limit: MAX_CHANNELS });
    for (const channel of channels) {
      const declarations = await this.sync.effective(channel.id);
      if (declarations.some((d) => d.kind === 'asset' && referencesAsset(d.payload.Reference, name))) return true;
    }
    return false;
  }
}

function referencesAsset(reference: unknown, name: string): boolean {
  const url = typeof reference === 'object' && reference !== null ? (reference as { DataURL?: unknown }).DataURL : undefined;
  if (typeof url !== 'string') return false;
  try {
    return decodeURIComponent(new URL(url).pathname) === `${ASSET_PATH}${name}`;
  } catch {
    return false;
  }
}
