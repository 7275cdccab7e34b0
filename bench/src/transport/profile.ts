import { writeFileSync } from 'node:fs';
import { Session } from 'node:inspector/promises';
import { createTransportSuite } from './suite.js';
import { BENCH_TRANSPORTS } from './transports.js';

/**
 * Profiles one case of the `transport` suite: runs it in a loop for a few seconds under the V8 CPU
 * profiler (sender and receiver in this process, as in the suite) and prints messages/s and where the
 * CPU time went, by self time grouped into layers, with the top functions.
 *
 *   node bench/dist/transport/profile.js <transport> <payload> <concurrency> [seconds] [out.cpuprofile]
 *   e.g. node bench/dist/transport/profile.js streaming 1KiB 256 5 /tmp/streaming.cpuprofile
 */

interface ProfileNode {
  readonly id: number;
  readonly callFrame: { readonly functionName: string; readonly url: string; readonly lineNumber: number };
  readonly children?: readonly number[];
}

interface CpuProfile {
  readonly nodes: readonly ProfileNode[];
  readonly samples: readonly number[];
  readonly timeDeltas: readonly number[];
}

/** The layer a frame belongs to, from its script URL and line (or V8's pseudo-frames). */
function layerOf(frame: ProfileNode['callFrame']): string {
  const { functionName, url, lineNumber } = frame;
  if (url === '') {
    if (functionName === '(garbage collector)') return 'GC';
    if (functionName === '(idle)') return 'idle';
    if (functionName === '(program)') return 'V8 (unattributed)';
    return 'native bindings (http2, libuv, buffers, microtasks)';
  }
  if (url.includes('@bufbuild/protobuf')) {
    if (url.includes('to-binary')) return 'protobuf-es encode (toBinary + BinaryWriter)';
    if (url.includes('from-binary')) return 'protobuf-es decode (fromBinary + BinaryReader)';
    if (url.includes('binary-encoding')) {
      // BinaryWriter is defined before BinaryReader in this file.
      return lineNumber < BINARY_READER_LINE
        ? 'protobuf-es encode (toBinary + BinaryWriter)'
        : 'protobuf-es decode (fromBinary + BinaryReader)';
    }
    return 'protobuf-es create / reflection (message objects)';
  }
  if (url.includes('@grpc/grpc-js')) return 'grpc-js';
  if (url.includes('/packages/codec/')) return 'codec: Message <-> proto conversion';
  if (url.includes('/packages/proto/')) return 'generated proto code';
  if (/\/packages\/(transport-unary|transport-streaming|grpc)\//.test(url))
    return 'tsraft transport + grpc glue';
  if (url.includes('/packages/core/') || url.includes('/bench/')) return 'core / bench driver';
  if (/node:(internal\/)?(http2|stream|net)/.test(url)) return 'node http2 / net / streams';
  if (url.includes('node:buffer')) return 'node Buffer (copies)';
  if (url.startsWith('node:')) return 'node internals (events, timers, other)';
  return `other: ${url.replace(/^.*node_modules\//, '')}`;
}

/** 0-based line of `export class BinaryReader` in @bufbuild/protobuf 2.17.0 dist/esm/wire/binary-encoding.js. */
const BINARY_READER_LINE = 461;

function label(node: ProfileNode): string {
  const { functionName, url, lineNumber } = node.callFrame;
  const file = url.replace(/^.*\/(node_modules\/(?:\.pnpm\/[^/]+\/node_modules\/)?|packages\/)/, '');
  return `${functionName || '(anonymous)'} ${file}${url === '' ? '' : `:${lineNumber + 1}`}`;
}

/** Self time per layer and per function, in ms, from a V8 `.cpuprofile`. */
export function summarize(profile: CpuProfile): {
  readonly totalMs: number;
  readonly layers: [string, number][];
  readonly functions: [string, number][];
} {
  const byId = new Map(profile.nodes.map((n) => [n.id, n]));
  const selfUs = new Map<number, number>();
  for (let i = 0; i < profile.samples.length; i++) {
    const id = profile.samples[i]!;
    selfUs.set(id, (selfUs.get(id) ?? 0) + (profile.timeDeltas[i] ?? 0));
  }
  const layers = new Map<string, number>();
  const functions = new Map<string, number>();
  let total = 0;
  for (const [id, us] of selfUs) {
    const node = byId.get(id)!;
    const layer = layerOf(node.callFrame);
    if (layer === 'idle') continue;
    total += us;
    layers.set(layer, (layers.get(layer) ?? 0) + us);
    const fn = label(node);
    functions.set(fn, (functions.get(fn) ?? 0) + us);
  }
  const ms = (m: Map<string, number>): [string, number][] =>
    [...m].map(([k, us]): [string, number] => [k, us / 1000]).sort((x, y) => y[1] - x[1]);
  return { totalMs: total / 1000, layers: ms(layers), functions: ms(functions) };
}

async function main(): Promise<void> {
  const [transport = 'streaming', payload = '1KiB', concurrency = '256', seconds = '5', out] =
    process.argv.slice(2);
  const factory = BENCH_TRANSPORTS[transport];
  if (factory === undefined)
    throw new Error(`unknown transport ${transport}; one of ${Object.keys(BENCH_TRANSPORTS)}`);
  const suite = createTransportSuite({ [transport]: factory });
  const name = `${transport}/${payload}/c${concurrency}`;
  const run = suite.cases[name];
  if (run === undefined) throw new Error(`no case ${name}`);
  try {
    // Warm up (connect, JIT) outside the profile.
    const warmUntil = Date.now() + 1000;
    while (Date.now() < warmUntil) await run();

    const session = new Session();
    session.connect();
    await session.post('Profiler.enable');
    await session.post('Profiler.setSamplingInterval', { interval: 100 });
    await session.post('Profiler.start');
    const start = process.hrtime.bigint();
    const until = Date.now() + Number(seconds) * 1000;
    let ops = 0;
    while (Date.now() < until) {
      await run();
      ops++;
    }
    const elapsedS = Number(process.hrtime.bigint() - start) / 1e9;
    const { profile } = (await session.post('Profiler.stop')) as { profile: CpuProfile };
    session.disconnect();
    if (out !== undefined) writeFileSync(out, JSON.stringify(profile));

    const { totalMs, layers, functions } = summarize(profile);
    const pct = (v: number): string => `${((100 * v) / totalMs).toFixed(1).padStart(5)}%`;
    console.log(
      `${name}: ${ops} ops in ${elapsedS.toFixed(2)} s = ${Math.round((ops * Number(concurrency)) / elapsedS)} msg/s; ` +
        `busy CPU ${(totalMs / 1000).toFixed(2)} s (${((100 * totalMs) / 1000 / elapsedS).toFixed(0)}% of one core)`,
    );
    const messages = ops * Number(concurrency);
    const perMessage = (v: number): string => `${((v * 1000) / messages).toFixed(2).padStart(6)} µs/msg`;
    console.log(`\nself time by layer (CPU per message: ${perMessage(totalMs).trim()}):`);
    for (const [layer, v] of layers) console.log(`${pct(v)}  ${perMessage(v)}  ${layer}`);
    console.log('\ntop functions (self time):');
    for (const [fn, v] of functions.slice(0, 25)) console.log(`${pct(v)}  ${fn}`);
  } finally {
    await suite.close();
  }
}

await main();
