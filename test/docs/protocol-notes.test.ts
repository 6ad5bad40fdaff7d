// The protocol notes the code cites are in the repository, and every citation names a section
// that exists (a renumbered section would otherwise leave comments pointing nowhere).
import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';

const ROOT = fileURLToPath(new URL('../../', import.meta.url));
const notes = readFileSync(join(ROOT, 'docs/protocol.md'), 'utf8');
const sections = new Set([...notes.matchAll(/^#{2,3} (\d+(?:\.\d+)?)\.? /gm)].map((m) => m[1]));

function sourceFiles(dir: string): string[] {
  return readdirSync(join(ROOT, dir), { withFileTypes: true }).flatMap((entry) => {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) return sourceFiles(path);
    return /\.(ts|md)$/.test(entry.name) ? [path] : [];
  });
}

describe('docs/protocol.md', () => {
  const files = [...sourceFiles('src'), ...sourceFiles('bench'), 'README.md', 'deploy/README.md'];

  it('is what the code cites: no comment points at a SPEC.md outside the repository', () => {
    for (const file of files) {
      const text = readFileSync(join(ROOT, file), 'utf8');
      assert.doesNotMatch(text, /\bSPEC(\.md)?\b(?!_)/, `${file} cites SPEC instead of docs/protocol.md`);
    }
  });

  it('has every section the code cites', () => {
    let citations = 0;
    for (const file of files) {
      const text = readFileSync(join(ROOT, file), 'utf8');
      for (const cite of text.matchAll(/docs\/protocol\.md((?:,? ?(?:and )?§\d+(?:\.\d+)?)+)/g)) {
        for (const [, section] of cite[1]!.matchAll(/§(\d+(?:\.\d+)?)/g)) {
          citations++;
          assert.ok(sections.has(section!), `${file} cites docs/protocol.md §${section}, which does not exist`);
        }
      }
    }
    assert.ok(citations >= 8, `found ${citations} citations`);
  });

  it("keeps Apple's MIT notice for the tables derived from apple/device-management", () => {
    assert.match(notes, /MIT licence, Copyright \(c\) 2022-2024 Apple Inc\./);
    assert.match(readFileSync(join(ROOT, 'src/protocol/schema/LICENSE-apple-device-management.txt'), 'utf8'), /Permission is hereby granted/);
  });
});
