// Builds the console into dist/console, which the server serves at /ui/ on its
// client URLs (server/http/console.ts). Everything the page needs is in the
// bundle: the server's networks may have no internet.
import { defineConfig } from 'vite';

export default defineConfig({
  root: import.meta.dirname,
  base: '/ui/',
  // No dev-time preview of the public/ folder: there is none.
  publicDir: false,
  oxc: { jsx: { runtime: 'automatic', importSource: 'preact' } },
  build: {
    outDir: '../dist/console',
    emptyOutDir: true,
    target: 'es2022',
    // One small bundle: no module preload polyfill (every supported browser has it), no inline assets.
    modulePreload: { polyfill: false },
    assetsInlineLimit: 0,
    reportCompressedSize: false,
  },
});
