/**
 * Runs one load suite directly, without the bench runner:
 *
 *   node bench/dist/cluster/main.js cluster|etcd [--quick] [--json FILE] [filter ...]
 *
 * A case runs when its name contains any filter (all when none is given). Prints the tables; `--json`
 * also writes the report.
 */
import { writeFileSync } from 'node:fs';
import { createEtcdSuite } from '../etcd/suite.js';
import { formatLoadReport, type LoadSuite } from './load-suite.js';
import { createClusterSuite } from './suite.js';

const args = process.argv.slice(2);
const suiteName = args.shift();
const quick = args.includes('--quick');
const jsonIndex = args.indexOf('--json');
const jsonFile = jsonIndex >= 0 ? args[jsonIndex + 1] : undefined;
const filters = args.filter((arg, i) => !arg.startsWith('--') && (jsonIndex < 0 || i !== jsonIndex + 1));

let suite: LoadSuite;
if (suiteName === 'cluster') suite = createClusterSuite({ quick });
else if (suiteName === 'etcd') suite = createEtcdSuite({ quick });
else {
  console.error('usage: node bench/dist/cluster/main.js cluster|etcd [--quick] [--json FILE] [filter ...]');
  process.exit(2);
}

const report = await suite.runAll({
  select: (name) => filters.length === 0 || filters.some((f) => name.includes(f)),
  onProgress: (p) =>
    process.stderr.write(
      `${suite.name}: ${p.case} (${p.index + 1}/${p.total}, about ${Math.ceil(p.remainingMs / 1000)} s left)\n`,
    ),
});
console.log(formatLoadReport(report));
if (jsonFile !== undefined) writeFileSync(jsonFile, `${JSON.stringify(report, null, 2)}\n`);
