// The algorithm must stay pure: no I/O, no clock, no ambient randomness (see docs/design.md). This test
// reads the TypeScript sources this package is compiled from and fails on any use of them outside the
// driver (src/node/), the in-memory implementations (src/memory/) and test helpers (src/test-support/), which may do I/O.
import * as assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import { builtinModules } from 'node:module';
import { join, relative, sep } from 'node:path';
import { describe, test } from 'node:test';
import { fileURLToPath } from 'node:url';

/** This file runs from dist/; the sources sit in ../src beside it. */
const SRC = fileURLToPath(new URL('../src/', import.meta.url));

/** Folders (relative to src/) allowed to do I/O. */
const IMPURE_FOLDERS = ['node', 'memory', 'test-support'];

/** Globals the algorithm must not touch: clocks, timers, randomness, the process, and ways around the ban. */
const FORBIDDEN_GLOBALS = [
  'Date',
  'setTimeout',
  'setInterval',
  'setImmediate',
  'queueMicrotask',
  'performance',
  'process',
  'crypto',
  'globalThis',
  'require',
];

/** Strips comments, and the contents of string and template literals, keeping positions and template `${}` code. */
function lex(source: string): { code: string; specifiers: string[] } {
  let code = '';
  const specifiers: string[] = [];
  /** Open template literals, each with the brace depth of its innermost `${`. */
  const templates: number[] = [];
  let depth = 0;
  let i = 0;
  const blank = (text: string): string => text.replace(/[^\n]/g, ' ');
  const readQuoted = (quote: string): string => {
    let j = i + 1;
    while (j < source.length && source[j] !== quote && source[j] !== '\n') j += source[j] === '\\' ? 2 : 1;
    const literal = source.slice(i + 1, j);
    code += quote + blank(literal) + quote;
    i = j + 1;
    return literal;
  };
  const readTemplateText = (): void => {
    // From just after "`" or "}" to the closing "`" or the next "${".
    let j = i;
    while (j < source.length && source[j] !== '`' && !(source[j] === '$' && source[j + 1] === '{')) {
      j += source[j] === '\\' ? 2 : 1;
    }
    code += blank(source.slice(i, j));
    if (source[j] === '`') {
      code += '`';
      i = j + 1;
    } else {
      code += '${';
      templates.push(depth);
      depth++;
      i = j + 2;
    }
  };
  while (i < source.length) {
    const c = source[i]!;
    const next = source[i + 1];
    if (c === '/' && next === '/') {
      const end = source.indexOf('\n', i);
      const stop = end === -1 ? source.length : end;
      code += blank(source.slice(i, stop));
      i = stop;
    } else if (c === '/' && next === '*') {
      const end = source.indexOf('*/', i + 2);
      const stop = end === -1 ? source.length : end + 2;
      code += blank(source.slice(i, stop));
      i = stop;
    } else if (c === "'" || c === '"') {
      // A string right after `from`, `import` or `import(`/`require(` is a module specifier.
      const isSpecifier = /(?:\bfrom|\bimport|\bimport\s*\(|\brequire\s*\()\s*$/.test(code.slice(-40));
      const literal = readQuoted(c);
      if (isSpecifier) specifiers.push(literal);
    } else if (c === '`') {
      code += '`';
      i++;
      readTemplateText();
    } else if (c === '{') {
      depth++;
      code += c;
      i++;
    } else if (c === '}') {
      depth--;
      if (templates.length > 0 && templates[templates.length - 1] === depth) {
        templates.pop();
        code += '}';
        i++;
        readTemplateText();
      } else {
        code += c;
        i++;
      }
    } else {
      code += c;
      i++;
    }
  }
  return { code, specifiers };
}

const BUILTINS = new Set(builtinModules.flatMap((name) => [name, name.split('/')[0]!]));

/** The reasons `source` is not pure, one line each (empty when it is). */
function impurities(source: string): string[] {
  const { code, specifiers } = lex(source);
  const found: string[] = [];
  for (const specifier of specifiers) {
    if (specifier.startsWith('node:') || BUILTINS.has(specifier) || BUILTINS.has(specifier.split('/')[0]!)) {
      found.push(`imports the Node builtin '${specifier}'`);
    }
  }
  for (const name of FORBIDDEN_GLOBALS) {
    // Not a property access (`x.process`) and not part of a longer identifier.
    const pattern = new RegExp(`(?<![\\w$.])${name}(?![\\w$])`, 'g');
    for (const match of code.matchAll(pattern)) {
      const line = code.slice(0, match.index).split('\n').length;
      found.push(`uses ${name} (line ${line})`);
    }
  }
  for (const match of code.matchAll(/(?<![\w$.])Math\s*\.\s*random(?![\w$])/g)) {
    found.push(`uses Math.random (line ${code.slice(0, match.index).split('\n').length})`);
  }
  return found;
}

/** Every `.ts` file under `dir`, as paths relative to src/. */
function listSources(dir: string): string[] {
  const out: string[] = [];
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) out.push(...listSources(path));
    else if (entry.name.endsWith('.ts') && !entry.name.endsWith('.d.ts')) out.push(relative(SRC, path));
  }
  return out;
}

const coreSources = listSources(SRC)
  .filter((path) => !IMPURE_FOLDERS.includes(path.split(sep)[0]!))
  .filter((path) => !path.endsWith('.test.ts'))
  .sort();

describe('the core is pure', () => {
  test('the scan covers the algorithm', () => {
    for (const expected of ['raft.ts', 'raw-node.ts', 'ready.ts', 'raft-log.ts', 'config.ts']) {
      assert.ok(
        coreSources.includes(expected),
        `${expected} must be scanned (found: ${coreSources.join(', ')})`,
      );
    }
    assert.ok(!coreSources.some((p) => p.startsWith(`node${sep}`) || p.startsWith(`memory${sep}`)));
  });

  for (const path of coreSources) {
    test(`${path} does no I/O and reads no clock or ambient randomness`, () => {
      assert.deepEqual(impurities(readFileSync(join(SRC, path), 'utf8')), []);
    });
  }
});

describe('the purity checker itself', () => {
  test('flags builtin imports and forbidden globals', () => {
    assert.equal(impurities("import { readFileSync } from 'node:fs';").length, 1);
    assert.equal(impurities("import { EventEmitter } from 'events';").length, 1);
    assert.equal(impurities("export * from 'fs/promises';").length, 1);
    assert.equal(impurities("const m = await import('node:os');").length, 1);
    assert.equal(impurities('const now = Date.now();').length, 1);
    assert.equal(impurities('const r = Math.random();').length, 1);
    assert.equal(impurities('setTimeout(f, 1);').length, 1);
    // biome-ignore lint/suspicious/noTemplateCurlyInString: the checked source holds a template literal
    assert.equal(impurities('const t = `${performance.now()}`;').length, 1);
    assert.equal(impurities('if (process.env.X) {}').length, 1);
    assert.equal(impurities('const b = crypto.getRandomValues(a);').length, 1);
  });

  test('ignores comments, strings, template text, property names and longer identifiers', () => {
    assert.deepEqual(impurities("// setTimeout(f) and Date.now()\nimport { x } from './x.js';"), []);
    assert.deepEqual(impurities('/* Math.random() */ const s = "process Date";'), []);
    // biome-ignore lint/suspicious/noTemplateCurlyInString: the checked source holds a template literal
    assert.deepEqual(impurities('const t = `setInterval ${a.process} crypto`;'), []);
    assert.deepEqual(impurities('const cryptographic = 1; const lastUpdate = 2; this.process();'), []);
  });
});
