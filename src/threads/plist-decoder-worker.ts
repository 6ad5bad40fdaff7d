// The decoder thread of plist-decoder.ts: reads the bodies it is sent, one answer per body.
import { decodePlistDict, PlistError } from '../protocol/plist.ts';
import type { DecodeAnswer, DecodeRequest } from './plist-decoder.ts';
import { answerRequests, runInBackground } from './request-worker.ts';

// Reading a large body is work for when the CPUs have time: small requests go first.
runInBackground();

answerRequests<DecodeRequest, DecodeAnswer>(({ body, options }) => {
  try {
    return { dict: decodePlistDict(body, options) };
  } catch (err) {
    if (err instanceof PlistError) return { refused: { reason: err.reason, ...(err.keyPath === undefined ? {} : { keyPath: err.keyPath }) } };
    throw err;
  }
});
