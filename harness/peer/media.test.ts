import { readFileSync } from "node:fs";
import { request } from "undici";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { mediaAt } from "./media.ts";
import { startProbe } from "./probe.ts";
import type { Probe } from "./types.ts";

const sample = (name: string) => readFileSync(new URL(`../../fixtures/media/${name}`, import.meta.url));

describe("mediaAt", () => {
  it("serves a sample by extension under any folder, with its media type", () => {
    expect(mediaAt("/media/cell-1/photo.jpg")).toEqual({
      mediaType: "image/jpeg",
      bytes: sample("sample.jpg"),
    });
    expect(mediaAt("/media/x/y/clip.MP4")?.mediaType).toBe("video/mp4");
    expect(mediaAt("/media/sample.svg")?.mediaType).toBe("image/svg+xml");
  });

  it("answers nothing for /media/404/, unknown extensions, other paths and bad escapes", () => {
    expect(mediaAt("/media/404/missing.png")).toBeUndefined();
    expect(mediaAt("/media/x/model.fcx")).toBeUndefined();
    expect(mediaAt("/media/x/noext")).toBeUndefined();
    expect(mediaAt("/objects/a.png")).toBeUndefined();
    expect(mediaAt("/media/x/%E0%A4%A.png")).toBeUndefined();
    expect(mediaAt("/media/x/..%2Fetc.png")?.bytes).toEqual(sample("sample.png"));
  });
});

describe("the probe's /media/ route", () => {
  let probe: Probe;
  beforeAll(async () => {
    probe = await startProbe();
  });
  afterAll(() => probe.close());

  it("serves the bytes unchanged, with the media type", async () => {
    const response = await request(`${probe.origin}/media/abc/picture.png`);
    const bytes = Buffer.from(await response.body.arrayBuffer());
    expect(response.statusCode).toBe(200);
    expect(response.headers["content-type"]).toBe("image/png");
    expect(bytes.equals(sample("sample.png"))).toBe(true);
    const mp3 = await request(`${probe.origin}/media/abc/sound.mp3`);
    expect(Buffer.from(await mp3.body.arrayBuffer()).equals(sample("sample.mp3"))).toBe(true);
  });

  it("answers 404 under /media/404/ and for unknown kinds", async () => {
    for (const path of ["/media/404/missing.png", "/media/abc/model.fcx"]) {
      const response = await request(`${probe.origin}${path}`);
      await response.body.dump();
      expect(response.statusCode, path).toBe(404);
    }
  });
});
