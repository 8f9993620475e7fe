// Tests run the BUILT app (dist/) in Debian's Chromium, headless; no browser is downloaded.
import { defineConfig } from "@playwright/test";

export default defineConfig({
  testDir: "tests",
  testMatch: "*.spec.ts",
  // Limits for a hang only: what works shows at once, and is seen as soon as it does, however
  // busy the machine (CI runs these beside cargo builds on two cores).
  timeout: 180_000,
  expect: { timeout: 60_000 },
  fullyParallel: true,
  workers: 2,
  reporter: [["list"]],
  use: {
    browserName: "chromium",
    headless: true,
    launchOptions: { executablePath: process.env.CHROMIUM ?? "/usr/bin/chromium" },
    viewport: { width: 1000, height: 720 },
    // The app formats times in the local zone and locale: pin both so "14:05" reads the same everywhere.
    timezoneId: "UTC",
    locale: "en-GB",
    colorScheme: "light",
    trace: "off",
  },
});
