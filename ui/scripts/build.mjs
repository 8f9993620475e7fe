// Bundles the settings UI into dist/ (what the Tauri shell loads) and, with --harness, the
// test-only IPC mock into test-build/ (never into dist/, so the app can't ship a mock).
// --harness-only builds the mock alone and leaves dist/ as it is (scripts/test.sh tests the
// dist/ it built, while cargo compiles it into the app beside the tests).
import { build } from "esbuild";
import { copyFile, mkdir, rm } from "node:fs/promises";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";

const root = join(dirname(fileURLToPath(import.meta.url)), "..");
const dist = join(root, "dist");
const harnessOnly = process.argv.includes("--harness-only");
const harness = harnessOnly || process.argv.includes("--harness");
const common = { bundle: true, minify: true, target: "es2021", logLevel: "warning", legalComments: "eof" };

if (!harnessOnly) {
  await rm(dist, { recursive: true, force: true });
  await mkdir(dist, { recursive: true });
  await build({ ...common, entryPoints: [join(root, "src/main.tsx")], outfile: join(dist, "app.js"), format: "iife" });
  await build({ ...common, entryPoints: [join(root, "src/styles/app.css")], outfile: join(dist, "app.css") });
  await copyFile(join(root, "src/index.html"), join(dist, "index.html"));
}

if (harness) {
  const out = join(root, "test-build");
  await rm(out, { recursive: true, force: true });
  await build({ ...common, minify: false, entryPoints: [join(root, "tests/harness/harness.ts")], outfile: join(out, "harness.js"), format: "iife" });
}
