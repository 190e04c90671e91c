import { describe, expect, it } from "vitest";
import { allowListFor } from "./allow-list.ts";

describe("allowListFor", () => {
  it("lists host:port of every target and the probe, de-duplicated, with default ports explicit", () => {
    const list = allowListFor(
      [
        { id: "a", origin: "https://A.test" },
        { id: "b", origin: "http://127.0.0.1:4001" },
        { id: "c", origin: "http://127.0.0.1:4001/" },
        { id: "v6", origin: "http://[::1]:4002" },
      ],
      { origin: "http://127.0.0.1:4000" },
      { extraOrigins: ["https://media.a.test"] },
    );
    expect(list).toEqual([
      "a.test:443",
      "127.0.0.1:4001",
      "[::1]:4002",
      "127.0.0.1:4000",
      "media.a.test:443",
    ]);
  });

  it("can allow any port of each host, and accepts the probe's origin as a string", () => {
    expect(
      allowListFor([{ id: "a", origin: "http://a.test:8080" }], "http://127.0.0.1:1", { anyPort: true }),
    ).toEqual(["a.test", "127.0.0.1"]);
  });

  it("refuses origins that are not http(s) URLs, naming the target", () => {
    expect(() => allowListFor([{ id: "x", origin: "a.test" }], undefined)).toThrow(/target x is not a URL/);
    expect(() => allowListFor([{ id: "y", origin: "file:///etc" }], undefined)).toThrow(
      /target y is not an http/,
    );
  });
});
