import { describe, expect, it } from "vitest";
import { ConfigError, parseTargetSpec, type RunConfig, resolveConfig } from "./config.ts";

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

describe("resolveConfig", () => {
  it("refuses a screenshots value it does not know, naming the ones it does", () => {
    // A config file's `"screenshots": false` once turned screenshots on (it is not "off").
    const bad = { screenshots: false } as unknown as Partial<RunConfig>;
    expect(() => resolveConfig(bad)).toThrow(ConfigError);
    expect(() => resolveConfig(bad)).toThrow(/failed, all, off, got false/);
    expect(resolveConfig({ screenshots: "off" }).screenshots).toBe("off");
  });

  it("refuses an allure or tls value that is not true or false", () => {
    for (const bad of [{ allure: "false" }, { tls: 1 }] as unknown as Partial<RunConfig>[]) {
      expect(() => resolveConfig(bad)).toThrow(ConfigError);
      expect(() => resolveConfig(bad)).toThrow(/must be true or false, got/);
    }
    expect(resolveConfig({ allure: false }).allure).toBe(false);
  });

  it("refuses a pair naming a target the run does not have, listing those it has", () => {
    // The default targets are fedify-a and fedify-b; such a pair used to plan no cell and pass.
    expect(() => resolveConfig({ pairs: [{ sender: "probe", receiver: "fedify-c" }] })).toThrow(
      /pairs: probe->fedify-c names 'fedify-c', which is not a target of this run \(targets: probe, fedify-a, fedify-b\)/,
    );
    const fine = resolveConfig({ pairs: [{ sender: "fedify-b", receiver: "probe" }] });
    expect(fine.pairs).toEqual([{ sender: "fedify-b", receiver: "probe" }]);
  });
});
