#!/usr/bin/env node
// The `aspen` command. Runs the TypeScript sources through tsx, so it works in a clone without a build.
import { register } from 'tsx/esm/api';

register();
await import('../src/cli/main.ts');
