import { describe, expect, it } from "vitest";
import { ConfigError, parseTargetSpec } from "./config.ts";

describe("parseTargetSpec", () => {
  it("reads defects and the authorized-fetch flag", () => {
    expect(parseTargetSpec("zoo=fedify-ref,defects=ignore-delete+no-cors")).toEqual({
      id: "zoo",
      implementation: "fedify-ref",
      defects: ["ignore-delete", "no-cors"],
    });
    expect(parseTargetSpec("af=fedify-ref,authorized-fetch")).toMatchObject({ authorizedFetch: true });
    expect(parseTargetSpec("af=fedify-ref,authorized-fetch=false")).toMatchObject({ authorizedFetch: false });
  });

  it("names the options it knows when given another", () => {
    expect(() => parseTargetSpec("a=fedify-ref,secure=1")).toThrow(ConfigError);
    expect(() => parseTargetSpec("a=fedify-ref,secure=1")).toThrow(/authorized-fetch/);
  });
});
