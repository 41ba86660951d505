// Builds web/dist: the UI with Vite, the Go core as WebAssembly (fixed
// flags, so the same sources give the same bytes), Go's wasm_exec.js, and
// gzip copies that the server sends to browsers that accept gzip.
// parley.wasm is kept only gzipped (the server unpacks it for the rare
// client without gzip), which keeps the repository small.
// Usage: npm ci && npm run build   (check-build.sh compares with git)

import { execFileSync } from 'node:child_process';
import { copyFileSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { build } from 'vite';

const here = new URL('.', import.meta.url).pathname;
const dist = join(here, 'dist');
const go = process.env.GO || 'go';

await build({ root: here, configFile: join(here, 'vite.config.mjs'), logLevel: 'warn' });

const env = { ...process.env, GOOS: 'js', GOARCH: 'wasm', CGO_ENABLED: '0' };
const wasm = join(dist, 'parley.wasm');
execFileSync(go, ['build', '-trimpath', '-buildvcs=false', '-ldflags=-s -w', '-o', wasm, './web/wasm'],
  { cwd: join(here, '..'), env, stdio: 'inherit' });
const goroot = execFileSync(go, ['env', 'GOROOT'], { encoding: 'utf8' }).trim();
copyFileSync(join(goroot, 'lib', 'wasm', 'wasm_exec.js'), join(dist, 'wasm_exec.js'));

// gzip -9 copies of everything compressible; the .gz is the only copy of
// the wasm. gzipSync writes no name and a zero time: reproducible.
function walk(dir) {
  for (const name of readdirSync(dir)) {
    const p = join(dir, name);
    if (statSync(p).isDirectory()) { walk(p); continue; }
    if (!/\.(js|css|html|wasm|svg|json)$/.test(name)) continue;
    const data = readFileSync(p);
    if (data.length < 1024 && !name.endsWith('.wasm')) continue;
    writeFileSync(p + '.gz', gzipSync(data, { level: 9 }));
    if (name.endsWith('.wasm')) rmSync(p);
  }
}
walk(dist);
