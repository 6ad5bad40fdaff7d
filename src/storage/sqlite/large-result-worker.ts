// The worker thread of large-result-writer.ts: its own connection to the database, recording the
// results it is sent, one answer per message.
import { workerData } from 'node:worker_threads';
import type { RecordedResult, ResultRecord } from '../storage.ts';
import { answerRequests } from '../../threads/request-worker.ts';
import { SqliteStorage, type SqliteOptions } from './sqlite-storage.ts';

const storage = new SqliteStorage({ ...(workerData as SqliteOptions), largeResults: 'in-place' });
// storeResult: the main thread's storage buffers the result's "last seen", where its reads flush it.
answerRequests<ResultRecord, RecordedResult>((rec) => storage.storeResult(rec));
