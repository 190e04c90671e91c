/**
 * Turns scenarios and targets into the list of cells a run executes, deterministically, so that
 * shards and reruns agree on what a cell is.
 * @module
 */
import type { Capability, Target } from "./model.ts";
import type { Scenario } from "./scenario.ts";

/** Which sender→receiver pairs to run: all, only those involving the probe, or an explicit list. */
export type PairSelection = "all" | "probe" | Array<{ sender: string; receiver: string }>;

/** One planned execution of a scenario on one sender→receiver pair. */
export interface PlannedCell {
  /** Stable key: `<scenarioId>@<sender>-><receiver>`. */
  key: string;
  scenario: Scenario;
  sender: Target;
  receiver: Target;
  /** Capabilities the roles lack; when non-empty the cell's checks are `unsupported`. */
  missing: Array<{ role: "sender" | "receiver"; capability: Capability }>;
}

/** Options of {@link planCells}. */
export interface PlanOptions {
  scenarios: readonly Scenario[];
  targets: Target[];
  /** Id of the probe target. Default `probe`. */
  probeId?: string;
  /** Default `all`. */
  pairs?: PairSelection;
  /** Keep only scenarios deciding at least one of these check ids (globs with `*` allowed). */
  checks?: string[];
  /** Keep only scenarios of these suites. */
  suites?: string[];
  /** Run only shard `index` (1-based) of `count`. */
  shard?: { index: number; count: number };
}

/** True when `id` matches one of the patterns (`*` matches any run of characters). */
export function matchesAny(id: string, patterns: string[]): boolean {
  return patterns.some((p) => new RegExp(`^${p.split("*").map(escapeRegExp).join(".*")}$`, "i").test(id));
}

function escapeRegExp(s: string): string {
  return s.replace(/[.*+?^${}()|[\]\\]/g, "\\$&");
}

function pairAllowed(selection: PairSelection, sender: Target, receiver: Target, probeId: string): boolean {
  if (selection === "all") return true;
  if (selection === "probe") return sender.id === probeId || receiver.id === probeId;
  return selection.some((p) => p.sender === sender.id && p.receiver === receiver.id);
}

function missingCapabilities(scenario: Scenario, sender: Target, receiver: Target): PlannedCell["missing"] {
  const missing: PlannedCell["missing"] = [];
  for (const capability of scenario.requires?.sender ?? []) {
    if (!sender.capabilities.includes(capability)) missing.push({ role: "sender", capability });
  }
  for (const capability of scenario.requires?.receiver ?? []) {
    if (!receiver.capabilities.includes(capability)) missing.push({ role: "receiver", capability });
  }
  return missing;
}

/**
 * Plans the cells: `pair` scenarios on every ordered pair of different targets (respecting
 * probe-only flags and the pair selection), `single` scenarios once per target with the probe as
 * sender. Sorted by key; sharding takes every n-th cell of that order.
 */
export function planCells(options: PlanOptions): PlannedCell[] {
  const probeId = options.probeId ?? "probe";
  const probe = options.targets.find((t) => t.id === probeId);
  if (!probe)
    throw new Error(
      `the plan needs the probe target '${probeId}', but the targets are: ${options.targets.map((t) => t.id).join(", ")}`,
    );
  const selection = options.pairs ?? "all";
  const scenarios = options.scenarios.filter(
    (s) =>
      (!options.suites || options.suites.includes(s.suite)) &&
      (!options.checks || s.checks.some((c) => matchesAny(c, options.checks ?? []))),
  );
  const cells: PlannedCell[] = [];
  for (const scenario of scenarios) {
    if (scenario.shape === "single") {
      for (const target of options.targets) {
        if (selection !== "all" && selection !== "probe" && !selection.some((p) => p.receiver === target.id))
          continue;
        cells.push(cell(scenario, probe, target));
      }
      continue;
    }
    for (const sender of options.targets) {
      for (const receiver of options.targets) {
        if (sender.id === receiver.id) continue;
        if (scenario.probeSenderOnly && sender.id !== probeId) continue;
        if (scenario.probeReceiverOnly && receiver.id !== probeId) continue;
        if (!pairAllowed(selection, sender, receiver, probeId)) continue;
        cells.push(cell(scenario, sender, receiver));
      }
    }
  }
  cells.sort((a, b) => (a.key < b.key ? -1 : a.key > b.key ? 1 : 0));
  if (!options.shard) return cells;
  const { index, count } = options.shard;
  return cells.filter((_, i) => i % count === index - 1);
}

function cell(scenario: Scenario, sender: Target, receiver: Target): PlannedCell {
  return {
    key: `${scenario.id}@${sender.id}->${receiver.id}`,
    scenario,
    sender,
    receiver,
    missing: missingCapabilities(scenario, sender, receiver),
  };
}

/** Parses `--shard 2/3`; throws a message saying the expected form. */
export function parseShard(text: string): { index: number; count: number } {
  const m = /^(\d+)\/(\d+)$/.exec(text.trim());
  const index = Number(m?.[1]);
  const count = Number(m?.[2]);
  if (!m || count < 1 || index < 1 || index > count) {
    throw new Error(`--shard expects i/n with 1 ≤ i ≤ n (e.g. 2/3), got '${text}'`);
  }
  return { index, count };
}

/** Parses `--pairs all|probe|a->b,c->d`. */
export function parsePairs(text: string): PairSelection {
  if (text === "all" || text === "probe") return text;
  return text.split(",").map((part) => {
    const [sender, receiver] = part.split("->").map((s) => s.trim());
    if (!sender || !receiver)
      throw new Error(`--pairs expects all, probe, or sender->receiver[,…], got '${part}'`);
    return { sender, receiver };
  });
}
