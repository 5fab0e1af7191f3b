// One jest run for every tier: unit, C core through the addon, PAM (pamtester), ssh, and the
// kernel module in QEMU. System tiers need root; CI runs as root and must not skip them.
/** @type {import('jest').Config} */
module.exports = {
  testEnvironment: "node",
  transform: { "^.+\\.ts$": ["ts-jest", { tsconfig: "tsconfig.json", diagnostics: { warnOnly: false } }] },
  testMatch: ["<rootDir>/test/**/*.test.ts", "<rootDir>/policy/**/*.test.ts"],
  testPathIgnorePatterns: ["/node_modules/", "/dist/", "/build/"],
  // npm run package copies the tree to build/deb/chos-VERSION, package.json included.
  modulePathIgnorePatterns: ["<rootDir>/build/"],
  testTimeout: 120000,
  reporters: ["default", "<rootDir>/test/summary-reporter.js"],
};
