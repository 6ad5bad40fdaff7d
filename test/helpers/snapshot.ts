// Everything a server's storage holds, read through the storage contract (so it works on every
// backend and sees what the server would see): "nothing changed" means two snapshots are equal.
import type { Storage } from '../../src/storage/storage.ts';

export async function snapshotStorage(storage: Storage): Promise<string> {
  const enrollments = [];
  for (let after: string | undefined; ; ) {
    const page = await storage.listEnrollments({}, { after, limit: 500 });
    enrollments.push(...page);
    if (page.length < 500) break;
    after = page.at(-1)!.id;
  }
  const perEnrollment = await Promise.all(
    enrollments.map(async (e) => ({
      enrollment: e,
      queue: await storage.listQueue(e.id),
      history: await storage.listEnrollmentCommands(e.id, { limit: 10_000 }),
      identities: await storage.listIdentityBindings(e.deviceId),
    })),
  );
  const commands = [...new Set(perEnrollment.flatMap((e) => e.history?.map((h) => h.commandUuid) ?? []))].sort();
  return JSON.stringify({
    enrollments: perEnrollment,
    commands: await Promise.all(commands.map((uuid) => storage.getCommand(uuid))),
    pushCertificate: await storage.getPushCertificate(),
  });
}
