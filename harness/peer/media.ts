/**
 * Media the probe serves under `/media/` (issue 10): the tiny samples of fixtures/media, so that
 * crafted attachments point at a real file on the run's own hosts and receivers that fetch media get
 * bytes of the announced kind. Any path under `/media/` whose last segment has a known extension is
 * served (the file of that name if fixtures/media has one, else `sample.<ext>`), so each cell can use
 * its own URLs and no receiver's media cache is shared between cells; `/media/404/…` always answers
 * 404 (the "url that 404s" variant).
 * @module
 */
import { existsSync, readFileSync } from "node:fs";

/** Media type per file extension of the samples. */
export const MEDIA_TYPES: Readonly<Record<string, string>> = {
  png: "image/png",
  jpg: "image/jpeg",
  jpeg: "image/jpeg",
  gif: "image/gif",
  webp: "image/webp",
  svg: "image/svg+xml",
  tiff: "image/tiff",
  eps: "application/postscript",
  mp3: "audio/mpeg",
  mp4: "video/mp4",
  txt: "text/plain; charset=utf-8",
  bin: "application/octet-stream",
};

const MEDIA_DIR = new URL("../../fixtures/media/", import.meta.url);
const cache = new Map<string, Buffer | null>();

function file(name: string): Buffer | undefined {
  if (!/^[A-Za-z0-9_.-]+$/.test(name)) return undefined;
  let bytes = cache.get(name);
  if (bytes === undefined) {
    const url = new URL(name, MEDIA_DIR);
    bytes = existsSync(url) ? readFileSync(url) : null;
    cache.set(name, bytes);
  }
  return bytes ?? undefined;
}

/** The sample served at `pathname` (e.g. `/media/abc/photo.png`), or undefined (then 404). */
export function mediaAt(pathname: string): { mediaType: string; bytes: Buffer } | undefined {
  const parts = pathname.split("/").filter(Boolean);
  if (parts[0] !== "media" || parts.length < 2 || parts[1] === "404") return undefined;
  let name: string;
  try {
    name = decodeURIComponent(parts[parts.length - 1]!);
  } catch {
    return undefined;
  }
  const ext = /\.([A-Za-z0-9]+)$/.exec(name)?.[1]?.toLowerCase();
  const mediaType = ext === undefined ? undefined : MEDIA_TYPES[ext];
  if (ext === undefined || mediaType === undefined) return undefined;
  const bytes = file(name) ?? file(`sample.${ext === "jpeg" ? "jpg" : ext}`);
  return bytes === undefined ? undefined : { mediaType, bytes };
}
