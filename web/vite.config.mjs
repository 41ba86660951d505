// Vite builds web/src into web/dist; build.mjs adds the WebAssembly core
// and the precompressed files. Fixed names for the entry chunks keep the
// index.html the server embeds stable; content hashes are on the assets.
import { defineConfig } from 'vite';

export default defineConfig({
  base: '/',
  esbuild: { jsx: 'automatic', jsxImportSource: 'preact', legalComments: 'none' },
  build: {
    outDir: 'dist',
    emptyOutDir: true,
    target: 'es2022',
    modulePreload: { polyfill: false },
    reportCompressedSize: false,
    assetsInlineLimit: 0,
    // Two entries: the messenger (index.html, with the WebAssembly core)
    // and the business app (business.html, served at /business/).
    rollupOptions: { input: { index: 'index.html', business: 'business.html' } },
  },
});
