/** The small PNG codec: sizes, a round trip through every row filter Chromium uses, and bad input. */
import { deflateSync } from "node:zlib";
import { describe, expect, it } from "vitest";
import { decodePng, distinctColours, encodePng, pngSize } from "./png.ts";

function gradient(width: number, height: number): Uint8Array {
  const data = new Uint8Array(width * height * 4);
  for (let y = 0; y < height; y++) {
    for (let x = 0; x < width; x++) {
      const i = (y * width + x) * 4;
      data.set([(x * 255) / (width - 1), (y * 255) / (height - 1), 128, 255], i);
    }
  }
  return data;
}

describe("png", () => {
  it("encodes and decodes RGBA unchanged, and reads the size", () => {
    const image = { width: 7, height: 5, data: gradient(7, 5) };
    const png = encodePng(image);
    expect(pngSize(png)).toEqual({ width: 7, height: 5 });
    expect(decodePng(png)).toEqual(image);
    expect(distinctColours(image)).toBe(35);
  });

  it("undoes the sub, up, average and paeth filters of an RGB image", () => {
    // Build an RGB PNG by hand, one row per filter type 0..4, and check the pixels come back.
    const width = 3;
    const rows = [
      [10, 20, 30, 40, 50, 60, 70, 80, 90],
      [11, 21, 31, 41, 51, 61, 71, 81, 91],
      [12, 22, 32, 42, 52, 62, 72, 82, 92],
      [13, 23, 33, 43, 53, 63, 73, 83, 93],
      [14, 24, 34, 44, 54, 64, 74, 84, 94],
    ];
    const paeth = (a: number, b: number, c: number) => {
      const p = a + b - c;
      const [pa, pb, pc] = [Math.abs(p - a), Math.abs(p - b), Math.abs(p - c)];
      return pa <= pb && pa <= pc ? a : pb <= pc ? b : c;
    };
    const raw: number[] = [];
    rows.forEach((row, y) => {
      raw.push(y);
      row.forEach((v, x) => {
        const a = x >= 3 ? row[x - 3]! : 0;
        const b = y > 0 ? rows[y - 1]![x]! : 0;
        const c = x >= 3 && y > 0 ? rows[y - 1]![x - 3]! : 0;
        const predicted = [0, a, b, (a + b) >> 1, paeth(a, b, c)][y]!;
        raw.push((v - predicted) & 0xff);
      });
    });
    const rgba = encodePng({ width, height: rows.length, data: new Uint8Array(width * rows.length * 4) });
    // Reuse the encoder's framing, swapping in an RGB header and our filtered data.
    const ihdr = Buffer.from(rgba.subarray(8, 33));
    ihdr[8 + 9] = 2; // colour type RGB
    // The decoder does not check CRCs, so the hand-built IDAT can carry a zero one.
    const idatData = deflateSync(Buffer.from(raw));
    const idat = Buffer.alloc(12 + idatData.length);
    idat.writeUInt32BE(idatData.length, 0);
    idat.write("IDAT", 4, "latin1");
    idatData.copy(idat, 8);
    const png = Buffer.concat([rgba.subarray(0, 8), ihdr, idat]);
    const decoded = decodePng(png);
    expect(decoded.width).toBe(3);
    const rgb = [...decoded.data].filter((_, i) => i % 4 !== 3);
    expect(rgb).toEqual(rows.flat());
  });

  it("rejects what is not a PNG", () => {
    expect(() => pngSize(Buffer.from("GIF89a........................"))).toThrow(/not a PNG/);
  });
});
