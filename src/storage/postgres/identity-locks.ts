// Identity decisions about one certificate and one device are serialized across instances with
// transaction-scoped advisory locks: the certificate's first, then the device's, always in that
// order (so no two transactions can wait on each other). Admission, unbinding, revocation and
// renewal all take them.
import type { PoolClient } from 'pg';

export async function lockIdentity(c: PoolClient, fingerprint: string | null, deviceId: string | null): Promise<void> {
  if (fingerprint !== null) await c.query(`SELECT pg_advisory_xact_lock(hashtextextended('aspen.certificate:' || $1, 0))`, [fingerprint]);
  if (deviceId !== null) await c.query(`SELECT pg_advisory_xact_lock(hashtextextended('aspen.device:' || $1, 0))`, [deviceId]);
}
