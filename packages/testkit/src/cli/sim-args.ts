import { UNSAFE_CORE_FAULTS, type UnsafeCoreFault } from '../sim/run-seeds.js';

/** The parsed command line of `pnpm sim`. */
export interface SimArgs {
  readonly seeds: number;
  readonly start: number;
  readonly steps: number;
  /** `undefined`: one worker per core. */
  readonly workers: number | undefined;
  readonly trace: boolean;
  /** `false` with `--no-membership`. */
  readonly membership: boolean;
  readonly unsafeCore: UnsafeCoreFault | undefined;
  /** Path or URL of a workload module (`createWorkload(plan)`). */
  readonly workload: string | undefined;
  readonly help: boolean;
}

/** The usage text of `pnpm sim`. */
export const SIM_USAGE = `Usage: pnpm sim [options]

Runs the deterministic Raft simulator over a range of seeds. Each seed draws a cluster, a fault
schedule, membership changes and a client workload, runs --steps events with faults, heals everything, then checks
liveness and the linearizability of the client history. Safety is checked after every step.

Options:
  --seeds N        how many seeds to run (default 100)
  --start S        the first seed (default 1)
  --steps M        events per seed before healing (default 2000)
  --workers K      worker threads (default: one per core; 0 runs in the main thread)
  --trace          print every seed's whole event log (meant for one seed)
  --no-membership  no membership changes (by default about four runs in five add, remove
                   and replace servers, the leader included)
  --workload PATH  run your state machine: a module exporting createWorkload(plan)
  --unsafe-core F  run a core with a deliberate bug: ${UNSAFE_CORE_FAULTS.join(' | ')}
  -h, --help       show this text

Prints each failing seed with the property it broke, the last events and the command that replays
it, then a line "N passed, F failed". Exits 1 if any seed failed, 2 on a usage error.`;

/** Parses `argv` (without the node and script paths). @throws Error with a readable message on bad input. */
export function parseSimArgs(argv: readonly string[]): SimArgs {
  let seeds = 100;
  let start = 1;
  let steps = 2000;
  let workers: number | undefined;
  let trace = false;
  let membership = true;
  let unsafeCore: UnsafeCoreFault | undefined;
  let workload: string | undefined;
  let help = false;
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i]!;
    const [flag, inline] = arg.startsWith('--') && arg.includes('=') ? splitOnce(arg) : [arg, undefined];
    const value = (): string => {
      const v = inline ?? argv[++i];
      if (v === undefined) throw new Error(`${flag} needs a value`);
      return v;
    };
    switch (flag) {
      case '--seeds':
        seeds = integer(flag, value(), 0);
        break;
      case '--start':
        start = integer(flag, value(), 0);
        break;
      case '--steps':
        steps = integer(flag, value(), 0);
        break;
      case '--workers':
        workers = integer(flag, value(), 0);
        break;
      case '--trace':
        trace = true;
        break;
      case '--no-membership':
        membership = false;
        break;
      case '--unsafe-core': {
        const v = value();
        if (!(UNSAFE_CORE_FAULTS as readonly string[]).includes(v)) {
          throw new Error(`--unsafe-core must be one of ${UNSAFE_CORE_FAULTS.join(', ')}, got ${v}`);
        }
        unsafeCore = v as UnsafeCoreFault;
        break;
      }
      case '--workload':
        workload = value();
        break;
      case '-h':
      case '--help':
        help = true;
        break;
      case '--':
        break;
      default:
        throw new Error(`unknown option ${arg}`);
    }
  }
  return { seeds, start, steps, workers, trace, membership, unsafeCore, workload, help };
}

function splitOnce(arg: string): [string, string] {
  const k = arg.indexOf('=');
  return [arg.slice(0, k), arg.slice(k + 1)];
}

function integer(flag: string, text: string, min: number): number {
  const n = Number(text);
  if (!/^\d+$/.test(text) || !Number.isSafeInteger(n) || n < min) {
    throw new Error(`${flag} must be an integer >= ${min}, got ${text}`);
  }
  return n;
}
