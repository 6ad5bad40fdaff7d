// A webhook receiver in a process of its own (so neither Aspen nor the bare client shares its
// event loop): answers every delivery 204 and counts them, noting when the first and the last came.
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { FromReceiver, ToReceiver } from './receiver-client.ts';

let count = 0;
let first = 0;
let last = 0;
/** A count the bench waits for: answered the moment it is reached. */
let awaited: number | null = null;
const server = createServer((req, res) => {
  req.resume();
  req.on('end', () => {
    const now = performance.timeOrigin + performance.now();
    if (count === 0) first = now;
    count += 1;
    last = now;
    res.writeHead(204).end();
    if (awaited !== null && count >= awaited) {
      awaited = null;
      tell({ kind: 'count', count, first, last });
    }
  });
});
const tell = (message: FromReceiver): void => {
  process.send!(message);
};
server.listen(0, '127.0.0.1', () => tell({ kind: 'started', url: `http://127.0.0.1:${(server.address() as AddressInfo).port}/hook` }));
process.on('message', (message: ToReceiver) => {
  if (message.kind === 'count') tell({ kind: 'count', count, first, last });
  if (message.kind === 'wait') {
    if (count >= message.count) tell({ kind: 'count', count, first, last });
    else awaited = message.count;
  }
  if (message.kind === 'reset') {
    count = 0;
    tell({ kind: 'count', count, first, last });
  }
  if (message.kind === 'stop') server.close(() => process.disconnect());
});
