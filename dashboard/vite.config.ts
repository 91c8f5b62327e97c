import preact from '@preact/preset-vite';
import { defineConfig } from 'vite';
import { trustedDocuments } from './vite-plugin-trusted-documents.ts';

const root = import.meta.dirname;
// `npm run dev:dashboard` proxies the API to a running gateway (GATEWAY_URL, default :4000).
const gateway = process.env.GATEWAY_URL ?? 'http://127.0.0.1:4000';

export default defineConfig({
  root,
  // The gateway serves the page at / and /dashboard, and its hashed files under /dashboard/assets/.
  base: '/dashboard/',
  plugins: [preact(), trustedDocuments(root)],
  build: {
    outDir: '../dist/dashboard',
    emptyOutDir: true,
    assetsDir: 'assets',
    // Everything as files: the CSP allows scripts, styles and images only from the gateway.
    assetsInlineLimit: 0,
    sourcemap: true,
    target: 'es2022',
  },
  server: {
    proxy: {
      '/graphql': { target: gateway, changeOrigin: false },
      '/files': { target: gateway },
      '/auth': { target: gateway },
    },
  },
});
