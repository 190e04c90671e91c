import { describe, expect, it } from "vitest";
import { MAX_KEPT_DEPTH, NESTING_DEPTHS } from "./security.ts";

describe("nesting depths (SEC-04)", () => {
  it("sends nesting well past what a held copy may keep", () => {
    for (const depth of NESTING_DEPTHS) expect(depth).toBeGreaterThan(MAX_KEPT_DEPTH * 5);
  });
});
