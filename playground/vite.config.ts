// The playground is a static site: `npm run build:playground` writes it to
// dist/playground-site with relative URLs, so it can be served from any path.
import { defineConfig } from 'vite';
import { fileURLToPath } from 'node:url';

const root = fileURLToPath(new URL('.', import.meta.url));

export default defineConfig({
  root,
  base: './',
  resolve: { alias: { 'tsbpf/core': fileURLToPath(new URL('../src/core.ts', import.meta.url)) } },
  build: {
    outDir: fileURLToPath(new URL('../dist/playground-site', import.meta.url)),
    emptyOutDir: true,
    target: 'es2022',
    chunkSizeWarningLimit: 2000,
    // Every asset a file of its own: the page fetches the objects it shows, nothing else.
    assetsInlineLimit: 0,
    // The editor and tsbpf in two chunks the browser fetches and compiles in parallel.
    rollupOptions: { output: { manualChunks: (id) => (id.includes('node_modules') ? 'editor' : undefined) } },
  },
});
