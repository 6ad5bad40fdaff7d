import assert from 'node:assert/strict';
import { after, describe, it } from 'node:test';
import { RequestWorker } from '../../src/threads/request-worker.ts';

describe('RequestWorker', () => {
  const worker = new RequestWorker<{ echo?: unknown; throw?: string; exit?: number }, unknown>(new URL('./fixtures/echo-worker.ts', import.meta.url));
  after(() => worker.close());

  it('answers each request with its own answer, structured values intact', async () => {
    const values = [1, 'two', { three: [new Date(3), new Uint8Array([3])] }];
    assert.deepEqual(await Promise.all(values.map((echo) => worker.request({ echo }))), values);
  });

  it('rejects with the error the worker threw, by name and message', async () => {
    await assert.rejects(worker.request({ throw: 'no such thing' }), { name: 'TypeError', message: 'no such thing' });
    assert.equal(await worker.request({ echo: 'still there' }), 'still there');
  });

  it('fails what a worker that stops was given, and starts a new one for the next request', async () => {
    const exiting = worker.request({ exit: 3 });
    // Sent to the same thread, behind the request that ends it: failed, not left hanging.
    const behind = worker.request({ echo: 'behind the exit' });
    await assert.rejects(exiting, /stopped \(exit 3\)/);
    await assert.rejects(behind, /stopped \(exit 3\)/);
    assert.equal(await worker.request({ echo: 'new worker' }), 'new worker');
  });
});
