// Tests run the BUILT app (dist/) in Debian's Chromium, headless; no browser is downloaded.
import { defineConfig } from "@playwright/test";

export default defineConfig({
  testDir: "tests",
  testMatch: "*.spec.ts",
  timeout: 15_000,
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
