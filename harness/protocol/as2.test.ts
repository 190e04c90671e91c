import { describe, expect, it } from "vitest";
import { jsonDepth } from "./as2.ts";

describe("jsonDepth", () => {
  it("counts nested arrays and objects, scalars being 0", () => {
    expect(jsonDepth("x")).toBe(0);
    expect(jsonDepth(null)).toBe(0);
    expect(jsonDepth({})).toBe(1);
    expect(jsonDepth({ a: [1, { b: [] }], c: 2 })).toBe(4);
  });

  it("measures 10 000 levels without recursion", () => {
    const deep = JSON.parse(`${"[".repeat(10_000)}${"]".repeat(10_000)}`);
    expect(jsonDepth({ object: deep })).toBe(10_001);
  });

  it("stops just past a limit", () => {
    const deep = JSON.parse(`${"[".repeat(10_000)}${"]".repeat(10_000)}`);
    expect(jsonDepth(deep, 64)).toBe(65);
    expect(jsonDepth([[1]], 64)).toBe(2);
  });
});
