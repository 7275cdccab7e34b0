#!/usr/bin/env bash
# Packs every public package as npm would publish it, installs the tarballs into an empty project and
# imports each one: proves the packages are installable and usable on their own (exports, types, files).
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT
packages=(core proto codec testkit log-storage grpc transport-unary transport-streaming statemachine-kv kv-client server)
(cd "$root" && npx -y pnpm@10.34.9 build --output-logs=errors-only >/dev/null)
for p in "${packages[@]}"; do
  (cd "$root/packages/$p" && npx -y pnpm@10.34.9 pack --pack-destination "$work" >/dev/null)
done
cd "$work"
npm init -y >/dev/null
npm install --no-audit --no-fund --loglevel=error ./*.tgz >/dev/null
cat > check.mjs <<'JS'
import * as core from '@tsraft/core';
import * as testing from '@tsraft/core/testing';
import * as proto from '@tsraft/proto';
import * as codec from '@tsraft/codec';
import * as testkit from '@tsraft/testkit';
import * as logStorage from '@tsraft/log-storage';
import * as grpc from '@tsraft/grpc';
import * as unary from '@tsraft/transport-unary';
import * as streaming from '@tsraft/transport-streaming';
import * as kvMachine from '@tsraft/statemachine-kv';
import * as kvClient from '@tsraft/kv-client';
import * as server from '@tsraft/server';
const need = { core: [core, 'RawNode', 'createNode', 'MemoryStorage', 'RaftError'], testing: [testing, 'createRawNodeWithFaults'],
  proto: [proto, 'RaftMessageSchema'], codec: [codec, 'encodeRaftMessage', 'decodeRaftMessage'], testkit: [testkit, 'runSeed', 'checkLinearizable', 'describeLogStorageConformance'],
  'log-storage': [logStorage, 'openLogStorage', 'LogStorageError', 'SnapshotStore'], grpc: [grpc, 'createRaftServer', 'TransportError'],
  'transport-unary': [unary, 'createUnaryTransport'], 'transport-streaming': [streaming, 'createStreamingTransport'],
  'statemachine-kv': [kvMachine, 'createKvStateMachine', 'encodeKvCommand'], 'kv-client': [kvClient, 'createKvClient', 'KvError'],
  server: [server, 'startKvServer', 'ConfigError'] };
for (const [name, [mod, ...exports]] of Object.entries(need)) {
  for (const e of exports) if (!(e in mod)) throw new Error(`@tsraft/${name} does not export ${e}`);
}
const report = testkit.runSeed(1, { steps: 300 });
if (!report.ok) throw new Error('simulated seed failed from the packed packages');
console.log(`packed packages install and import: ${Object.keys(need).join(', ')}`);
JS
node check.mjs
# No test files or sources ship; declarations do.
for f in node_modules/@tsraft/*/; do
  if find "$f" -name '*.test.*' -o -name 'test-support' | grep -q .; then echo "test files shipped in $f" >&2; exit 1; fi
  [ -f "$f/dist/index.d.ts" ] || { echo "no type declarations in $f" >&2; exit 1; }
done
# A 3-node cluster composed from the tarballs alone (core + transport + log-storage + statemachine-kv).
cp "$root/scripts/packed-cluster.mjs" .
node packed-cluster.mjs
# The installed `tsraft` command runs.
npx --no-install tsraft help >/dev/null
