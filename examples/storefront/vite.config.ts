import { defineConfig } from 'vite';

/** Two pages: the storefront, and the Apollo Client set-up at work. */
export default defineConfig({
  build: { rollupOptions: { input: { main: 'index.html', apollo: 'apollo.html' } } },
});
