/**
 * A small tar writer (ustar, with pax headers for long names) that streams entries from disk or from
 * memory. It feeds `docker import` and `docker build` contexts without a staging copy of the files,
 * with fixed owners and times so the same inputs give the same archive.
 * @module
 */
import { createReadStream } from "node:fs";
import { Readable } from "node:stream";

/** One archive member. Paths are relative (no leading `/`); directories need no trailing slash. */
export type TarEntry =
  | { type: "file"; path: string; mode?: number; uid?: number; gid?: number; content: Uint8Array | string }
  | { type: "file"; path: string; mode?: number; uid?: number; gid?: number; source: string; size: number }
  | { type: "dir"; path: string; mode?: number; uid?: number; gid?: number }
  | { type: "symlink"; path: string; target: string };

const BLOCK = 512;

/** Streams a tar archive of `entries` (an iterable, so huge trees need not sit in memory). */
export function tarStream(entries: Iterable<TarEntry> | AsyncIterable<TarEntry>): Readable {
  return Readable.from(generate(entries), { objectMode: false });
}

async function* generate(entries: Iterable<TarEntry> | AsyncIterable<TarEntry>): AsyncGenerator<Buffer> {
  for await (const entry of entries) {
    const path = entry.type === "dir" ? `${entry.path.replace(/\/+$/, "")}/` : entry.path;
    const base = { path, uid: 0, gid: 0 };
    if (entry.type === "dir") {
      yield* headers({
        ...base,
        uid: entry.uid ?? 0,
        gid: entry.gid ?? 0,
        mode: entry.mode ?? 0o755,
        size: 0,
        flag: "5",
      });
    } else if (entry.type === "symlink") {
      yield* headers({ ...base, mode: 0o777, size: 0, flag: "2", linkname: entry.target });
    } else if ("content" in entry) {
      const data =
        typeof entry.content === "string" ? Buffer.from(entry.content) : Buffer.from(entry.content);
      const owner = { uid: entry.uid ?? 0, gid: entry.gid ?? 0 };
      yield* headers({ ...base, ...owner, mode: entry.mode ?? 0o644, size: data.length, flag: "0" });
      yield data;
      yield padding(data.length);
    } else {
      const owner = { uid: entry.uid ?? 0, gid: entry.gid ?? 0 };
      yield* headers({ ...base, ...owner, mode: entry.mode ?? 0o644, size: entry.size, flag: "0" });
      let written = 0;
      for await (const chunk of createReadStream(entry.source)) {
        const buffer = chunk as Buffer;
        written += buffer.length;
        // A file that grew since it was listed would corrupt the archive: stop at the declared size.
        if (written > entry.size) throw new Error(`${entry.source} changed size while being archived`);
        yield buffer;
      }
      if (written !== entry.size) throw new Error(`${entry.source} changed size while being archived`);
      yield padding(entry.size);
    }
  }
  yield Buffer.alloc(BLOCK * 2);
}

interface Header {
  path: string;
  mode: number;
  uid: number;
  gid: number;
  size: number;
  flag: "0" | "2" | "5" | "x";
  linkname?: string;
}

function* headers(header: Header): Generator<Buffer> {
  const longName = Buffer.byteLength(header.path) > 100;
  const longLink = header.linkname !== undefined && Buffer.byteLength(header.linkname) > 100;
  if (longName || longLink) {
    // pax extended header: records "<len> key=value\n", where len counts the whole record.
    let records = "";
    if (longName) records += paxRecord("path", header.path);
    if (longLink && header.linkname) records += paxRecord("linkpath", header.linkname);
    const data = Buffer.from(records);
    yield ustar({ path: "PaxHeader", mode: 0o644, uid: 0, gid: 0, size: data.length, flag: "x" });
    yield data;
    yield padding(data.length);
  }
  yield ustar({
    ...header,
    path: longName ? truncate(header.path, 100) : header.path,
    linkname: header.linkname && longLink ? truncate(header.linkname, 100) : header.linkname,
  });
}

function paxRecord(key: string, value: string): string {
  const body = ` ${key}=${value}\n`;
  let length = Buffer.byteLength(body) + 1;
  while (String(length).length + Buffer.byteLength(body) !== length) length++;
  return `${length}${body}`;
}

function truncate(text: string, bytes: number): string {
  return Buffer.from(text).subarray(0, bytes).toString();
}

function ustar(header: Header): Buffer {
  const block = Buffer.alloc(BLOCK);
  block.write(header.path, 0, 100);
  octal(block, 100, 8, header.mode);
  octal(block, 108, 8, header.uid);
  octal(block, 116, 8, header.gid);
  octal(block, 124, 12, header.size);
  octal(block, 136, 12, 0); // mtime: fixed, so archives are reproducible
  block.fill(" ", 148, 156); // checksum field counts as spaces while summing
  block.write(header.flag, 156, 1);
  if (header.linkname) block.write(header.linkname, 157, 100);
  block.write("ustar\u0000", 257, 6);
  block.write("00", 263, 2);
  let sum = 0;
  for (const byte of block) sum += byte;
  block.write(`${sum.toString(8).padStart(6, "0")}\u0000 `, 148, 8);
  return block;
}

function octal(block: Buffer, offset: number, length: number, value: number): void {
  block.write(`${value.toString(8).padStart(length - 1, "0")}\u0000`, offset, length);
}

function padding(size: number): Buffer {
  const rest = size % BLOCK;
  return Buffer.alloc(rest === 0 ? 0 : BLOCK - rest);
}
