import { describe, expect, it } from "vitest";
import { HttpClientError } from "../protocol/http-client.ts";
import type { HttpClient, HttpResponse } from "../protocol/types.ts";
import { type BlameContext, blameStop, createActivityTracker, httpClientErrorIn } from "./blame.ts";
import { CellTimeoutError } from "./runner.ts";

const context: BlameContext = {
  targets: [
    { id: "probe", origin: "http://127.0.0.1:4000" },
    { id: "evil", origin: "http://127.0.0.1:4001" },
  ],
  probeOrigin: "http://127.0.0.1:4000",
};

describe("blameStop", () => {
  it("blames the target for limits broken on its origin, naming it and the limit", () => {
    const error = new HttpClientError(
      "too-large",
      "http://127.0.0.1:4001/endless",
      "GET …: exceeds 5242880 bytes",
    );
    expect(blameStop(error, context)).toEqual({
      blame: "target",
      message: "target evil broke the size limit (too-large): GET …: exceeds 5242880 bytes",
    });
  });

  it("blames the cell's non-probe target for a refused off-run host, and finds wrapped errors", () => {
    const inner = new HttpClientError("forbidden-host", "http://127.0.0.9:1/x", "not in the allowed hosts");
    const wrapped = new Error("could not read the inbox", { cause: inner });
    expect(httpClientErrorIn(wrapped)).toBe(inner);
    const verdict = blameStop(wrapped, context);
    expect(verdict.blame).toBe("target");
    expect(verdict.message).toMatch(
      /^target evil broke the run's allow-list \(forbidden-host\): .*\(could not read the inbox\)$/,
    );
  });

  it("blames the harness for limits broken by the probe, and for plain errors", () => {
    const onProbe = new HttpClientError("invalid-json", "http://127.0.0.1:4000/users/a", "bad");
    expect(blameStop(onProbe, context).blame).toBe("harness");
    expect(blameStop(new TypeError("x is undefined"), context)).toEqual({
      blame: "harness",
      message: "harness or infrastructure error: x is undefined",
    });
  });

  it("blames the infrastructure for connection failures and interruptions, and honours an error's own blame", () => {
    const refused = new HttpClientError("connect", "http://127.0.0.1:4001/", "ECONNREFUSED");
    expect(blameStop(refused, context).blame).toBe("infrastructure");
    expect(blameStop(new Error("the run was interrupted"), { ...context, interrupted: true }).blame).toBe(
      "infrastructure",
    );
    expect(
      blameStop(Object.assign(new Error("boot failed"), { blame: "infrastructure" }), context).blame,
    ).toBe("infrastructure");
  });

  it("blames a cell timeout on the target it was waiting on, else on the infrastructure", () => {
    const timeout = new CellTimeoutError(300);
    const waiting = blameStop(timeout, {
      ...context,
      pending: [{ description: "GET http://127.0.0.1:4001/slow", url: "http://127.0.0.1:4001/slow" }],
    });
    expect(waiting).toEqual({
      blame: "target",
      message:
        "the cell exceeded its budget of 300 ms while waiting on target evil: GET http://127.0.0.1:4001/slow",
    });
    const onProbe = blameStop(timeout, {
      ...context,
      pending: [{ description: "GET probe", url: "http://127.0.0.1:4000/x" }],
    });
    expect(onProbe.blame).toBe("infrastructure");
    expect(blameStop(timeout, context).blame).toBe("infrastructure");
  });
});

describe("createActivityTracker", () => {
  it("lists requests while they run and gives them the cell's signal", async () => {
    const tracker = createActivityTracker();
    let seen: AbortSignal | undefined;
    let release: (r: HttpResponse) => void = () => {};
    const client: HttpClient = {
      request: (_url, init) => {
        seen = init?.signal;
        return new Promise((resolve) => {
          release = resolve;
        });
      },
      close: async () => {},
    };
    const controller = new AbortController();
    const tracked = tracker.http(client, controller.signal);
    const pending = tracked.request("http://127.0.0.1:4001/slow");
    expect(tracker.pending()).toEqual([
      { description: "GET http://127.0.0.1:4001/slow", url: "http://127.0.0.1:4001/slow" },
    ]);
    expect(seen).toBe(controller.signal);
    release({} as HttpResponse);
    await pending;
    expect(tracker.pending()).toEqual([]);
  });
});
