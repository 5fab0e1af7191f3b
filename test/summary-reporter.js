// Prints jest's totals as one plain line ("tests: N passed, N failed, N skipped") after the
// default reporter, so CI logs carry a closing line any tool can read; with CHOS_TEST_TOTALS set
// (scripts/test, which runs two tiers side by side) also writes "PASSED FAILED SKIPPED" there.
const fs = require("node:fs");

class SummaryReporter {
  onRunComplete(_contexts, results) {
    const skipped = results.numPendingTests + results.numTodoTests;
    if (process.env.CHOS_TEST_TOTALS) {
      fs.writeFileSync(
        process.env.CHOS_TEST_TOTALS,
        `${results.numPassedTests} ${results.numFailedTests} ${skipped}\n`,
      );
    }
    process.stdout.write(
      `\ntests: ${results.numPassedTests} passed, ${results.numFailedTests} failed, ${skipped} skipped\n`,
    );
  }
}
module.exports = SummaryReporter;
