import { execFileSync } from "node:child_process";
import { readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { buffer } from "node:stream/consumers";
import { describe, expect, it } from "vitest";
import { tempDir } from "../../tests/temp-dir.ts";
import { tarStream } from "./tar.ts";

describe("tarStream", () => {
  it("writes an archive GNU tar extracts with names, modes, links and contents intact", async () => {
    const dir = await tempDir("fc-tar-");
    const source = join(dir, "source.bin");
    writeFileSync(source, Buffer.alloc(1500, 7));
    const longName = `deep/${"d".repeat(120)}/file.txt`;
    const archive = await buffer(
      tarStream([
        { type: "dir", path: "deep", mode: 0o1777 },
        { type: "file", path: "bin/tool", mode: 0o755, content: "#!/bin/sh\n" },
        { type: "file", path: "data/source.bin", source, size: 1500 },
        { type: "file", path: longName, content: "long" },
        { type: "symlink", path: "bin/alias", target: "tool" },
      ]),
    );
    expect(archive.length % 512).toBe(0);
    const out = join(dir, "out");
    execFileSync("mkdir", ["-p", out]);
    writeFileSync(join(dir, "a.tar"), archive);
    execFileSync("tar", ["-xf", join(dir, "a.tar"), "-C", out]);
    expect(readFileSync(join(out, "bin/tool"), "utf8")).toBe("#!/bin/sh\n");
    expect(readFileSync(join(out, "data/source.bin")).equals(Buffer.alloc(1500, 7))).toBe(true);
    expect(readFileSync(join(out, longName), "utf8")).toBe("long");
    expect(readFileSync(join(out, "bin/alias"), "utf8")).toBe("#!/bin/sh\n");
    const listing = execFileSync("tar", ["-tvf", join(dir, "a.tar")], { encoding: "utf8" });
    expect(listing).toMatch(/^-rwxr-xr-x .* bin\/tool$/m);
    expect(listing).toMatch(/^drwxrwxrwt .* deep\/$/m);
  });

  it("refuses a file whose size changed since it was listed", async () => {
    const dir = await tempDir("fc-tar-");
    const source = join(dir, "grown");
    writeFileSync(source, "12345");
    await expect(buffer(tarStream([{ type: "file", path: "x", source, size: 3 }]))).rejects.toThrow(
      /changed size/,
    );
  });
});
