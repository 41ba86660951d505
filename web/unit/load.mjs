// load transpiles one TypeScript module of src/ (one without imports)
// with esbuild, which Vite brings along, and imports it: node runs the
// unit tests without a TypeScript loader.

import { transform } from 'esbuild';
import { readFileSync, writeFileSync, mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { basename, join } from 'node:path';

export async function load(name) {
  const src = readFileSync(new URL('../src/' + name, import.meta.url), 'utf8');
  const { code } = await transform(src, { loader: 'ts', format: 'esm', target: 'es2022' });
  const file = join(mkdtempSync(join(tmpdir(), 'parley-unit-')), basename(name).replace(/\.ts$/, '.mjs'));
  writeFileSync(file, code);
  return import(file);
}
