/**
 * `fedicheck` command-line entry: dispatches to one module per subcommand. Each module exports
 * `run(argv): Promise<number>` returning the exit code; usage errors are exit 2 and never print a
 * stack trace unless `--debug` is given.
 * @module
 */

/** A subcommand: a one-line summary and a lazy loader (keeps `fedicheck validate` fast to start). */
interface Command {
  summary: string;
  load: () => Promise<{ run(argv: string[]): Promise<number> }>;
}

const COMMANDS: Record<string, Command> = {
  run: {
    summary: "replay the suites across targets and write the matrix reports",
    load: () => import("./run.ts"),
  },
  peer: {
    summary: "run the probe standalone and print every request it receives",
    load: () => import("./peer.ts"),
  },
  replay: {
    summary: "replay a recorded capture to a target and report what it made of each activity",
    load: () => import("./replay.ts"),
  },
  validate: {
    summary: "validate AS2, WebFinger and NodeInfo documents offline",
    load: () => import("./validate.ts"),
  },
  report: {
    summary: "render junit.xml, summary.md and the HTML dashboard from results files",
    load: () => import("./report.ts"),
  },
  merge: {
    summary: "merge results files (shards, several runs) into one results.json",
    load: () => import("./merge.ts"),
  },
  history: {
    summary: "list, add and prune the runs kept for diffs, trends and flake rates",
    load: () => import("./history.ts"),
  },
  stack: {
    summary: "build images, bring container stacks up/down, status, docker-compose.yml",
    load: () => import("./stack.ts"),
  },
};

/** Error a subcommand throws for bad input: printed as one line, exit code 2. */
export class UsageError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "UsageError";
  }
}

/** Runs a subcommand's argument parser, turning its complaints into a UsageError pointing at --help. */
export function parseOrUsage<T>(command: string, parse: () => T): T {
  try {
    return parse();
  } catch (error) {
    throw new UsageError(
      `${error instanceof Error ? error.message : String(error)}; see fedicheck ${command} --help`,
    );
  }
}

function usage(): string {
  const lines = Object.entries(COMMANDS).map(([name, c]) => `  ${name.padEnd(10)} ${c.summary}`);
  return [
    "usage: fedicheck <command> [options]",
    "",
    "commands:",
    ...lines,
    "",
    "fedicheck <command> --help for details.",
  ].join("\n");
}

/** Runs the CLI with the given arguments (without `node` and the script) and returns the exit code. */
export async function main(argv: string[]): Promise<number> {
  const debug = argv.includes("--debug");
  const args = argv.filter((a) => a !== "--debug");
  const [name, ...rest] = args;
  if (name === undefined || name === "--help" || name === "-h" || name === "help") {
    console.log(usage());
    return name === undefined ? 2 : 0;
  }
  const command = COMMANDS[name];
  if (!command) {
    console.error(
      `fedicheck: unknown command '${name}'. Expected one of: ${Object.keys(COMMANDS).join(", ")}.`,
    );
    return 2;
  }
  try {
    const mod = await command.load();
    return await mod.run(rest);
  } catch (error) {
    if (debug) console.error(error);
    else console.error(`fedicheck ${name}: ${error instanceof Error ? error.message : String(error)}`);
    return error instanceof UsageError ? 2 : 3;
  }
}
