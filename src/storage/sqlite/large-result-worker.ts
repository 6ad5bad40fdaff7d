// The worker thread of large-result-writer.ts: its own connection to the database, recording the
// results it is sent, one answer per message.
import { parentPort, workerData } from 'node:worker_threads';
import type { WriteAnswer, WriteRequest } from './large-result-writer.ts';
import { SqliteStorage, type SqliteOptions } from './sqlite-storage.ts';

const storage = new SqliteStorage({ ...(workerData as SqliteOptions), largeResults: 'in-place' });
const port = parentPort!;
port.on('message', ({ id, rec }: WriteRequest) => {
  storage.recordResult(rec).then(
    (value) => port.postMessage({ id, ok: true, value } satisfies WriteAnswer),
    (err: unknown) => {
      const error = err instanceof Error ? { name: err.name, message: err.message } : { name: 'Error', message: String(err) };
      port.postMessage({ id, ok: false, error } satisfies WriteAnswer);
    },
  );
});
