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
    declarations: await declarativeState(storage, enrollments.map((e) => e.id)),
  });
}

/** Declarations, sets, assignments, hosted assets and what each enrollment reported. */
async function declarativeState(storage: Storage, enrollmentIds: string[]) {
  const d = storage.declarations;
  const sets = await d.listSets();
  return {
    declarations: await Promise.all((await d.listDeclarations()).map((id) => d.getDeclaration(id))),
    sets: await Promise.all(sets.map(async (set) => [set, await d.setDeclarations(set)])),
    globalSets: await d.globalSets(),
    assets: await d.listAssets(),
    enrollments: await Promise.all(
      enrollmentIds.map(async (id) => ({
        id,
        sets: await d.enrollmentSets(id),
        status: await d.statusSnapshot(id),
        lastReport: await d.statusReport(id, { index: 0 }),
        errors: await d.statusErrors(id),
        served: (await d.enrollmentDeclarations(id)).token,
      })),
    ),
  };
}
