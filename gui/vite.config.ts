/// <reference types="vitest" />
import { defineConfig } from "vite";

// No React plugin: esbuild compiles TSX with the automatic runtime, which is all we need.
// `npm run dev` serves the sources and passes every API path to a local `cdpd serve`
// (CDPD_API=http://127.0.0.1:PORT for another management listener).
export default defineConfig({
  base: "./",
  esbuild: { jsx: "automatic" },
  build: {
    outDir: "dist",
    assetsDir: "assets",
    sourcemap: false,
    chunkSizeWarningLimit: 800,
    rollupOptions: {
      // "use client" markers of React libraries mean nothing to a client-only bundle
      onwarn(w, warn) {
        if (w.code !== "MODULE_LEVEL_DIRECTIVE") warn(w);
      },
    },
  },
  server: {
    proxy: { "^/(?!@|src/|node_modules/|index\\.html|$).*": process.env.CDPD_API ?? "http://127.0.0.1:8687" },
  },
  test: { include: ["src/**/*.test.ts"], environment: "node" },
});
