import { readFileSync } from 'node:fs';
import { checkXml } from './xml.js';

/**
 * `node bench/dist/report/check-svg.js FILE...`: checks that each file is a well-formed XML document whose
 * root element is `<svg>`; prints what is wrong and exits 1 if any is not. Used by
 * `scripts/check-bench-outputs.sh`.
 */
let failed = 0;
const files = process.argv.slice(2);
if (files.length === 0) {
  console.error('usage: check-svg FILE...');
  process.exit(2);
}
for (const file of files) {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (error) {
    console.error(`${file}: ${(error as Error).message}`);
    failed++;
    continue;
  }
  const check = checkXml(text);
  if (!check.ok) {
    console.error(`${file}: not well-formed XML: ${check.error}`);
    failed++;
  } else if (check.root !== 'svg') {
    console.error(`${file}: root element is <${check.root}>, not <svg>`);
    failed++;
  }
}
process.exitCode = failed === 0 ? 0 : 1;
