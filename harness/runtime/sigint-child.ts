/**
 * Test helper for container.test.ts: starts one fedify-ref target in containers, prints
 * `STARTED <runId>` and waits to be interrupted (SIGINT) or killed (SIGKILL), so the test can check
 * that nothing is left behind either way.
 *
 *   node bin/run-ts.js harness/runtime/sigint-child.ts <runId>
 * @module
 */
import { startContainerTargets } from "./container.ts";
import { createTestCa } from "./test-ca.ts";

const runId = process.argv[2];
if (!runId) {
  console.error("usage: sigint-child.ts <runId>");
  process.exit(2);
}
const run = await startContainerTargets([{ id: "fedify-a", implementation: "fedify-ref" }], {
  runId,
  ca: await createTestCa(),
  probe: "relay",
});
console.log(`STARTED ${run.runId}`);
// Keep the process alive until a signal arrives; the runtime's own handler cleans up and exits.
setInterval(() => {}, 1 << 30);
