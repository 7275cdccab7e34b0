import * as assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { fromBinary, toBinary } from '@bufbuild/protobuf';
import { decodeRaftMessage, encodeRaftMessage } from '@tsraft/codec';
import { RaftMessageSchema } from '@tsraft/proto';
import { createAppendFixture } from './append-fixture.js';
import { createHotPathFixtures, hotPathBigint, hotPathNumber } from './hot-path.js';
import {
  BATCH_ENTRIES,
  buildGeneratedAppend,
  createWireTypesSuite,
  encodePlainWithCreate,
  lastConsumed,
  PAYLOAD_BYTES,
} from './suite.js';

describe('wire-types suite: the compared cases do the same work', () => {
  it('the number and bigint hot paths compute the same result, run after run, with either quorum method', () => {
    const fixtures = createHotPathFixtures(BATCH_ENTRIES);
    const numberLog: number[] = [];
    const bigintLog: bigint[] = [];
    for (const method of ['sort', 'insertion', 'sort', 'insertion'] as const) {
      const n = hotPathNumber(fixtures.number, numberLog, method);
      const b = hotPathBigint(fixtures.bigint, bigintLog, method);
      assert.equal(n.appended, BATCH_ENTRIES);
      assert.equal(b.appended, n.appended);
      assert.equal(b.followerCommit, BigInt(n.followerCommit));
      assert.equal(b.leaderCommit, BigInt(n.leaderCommit));
      assert.equal(b.pendingSum, BigInt(n.pendingSum));
      assert.ok(n.leaderCommit > fixtures.number.leaderCommit, 'the leader commits part of the batch');
      assert.ok(n.pendingSum > 0, 'some commits complete a pending proposal');
    }
  });

  it('the generated, codec and create() encodings are byte-identical', () => {
    const fixture = createAppendFixture(BATCH_ENTRIES, PAYLOAD_BYTES);
    const generated = toBinary(RaftMessageSchema, buildGeneratedAppend(fixture));
    assert.deepEqual(encodeRaftMessage(fixture.plain, fixture.clusterId), generated);
    assert.deepEqual(encodePlainWithCreate(fixture), generated);
    assert.ok(generated.byteLength > BATCH_ENTRIES * PAYLOAD_BYTES);
  });

  it('both decodings read the same message', () => {
    const fixture = createAppendFixture(BATCH_ENTRIES, PAYLOAD_BYTES);
    const bytes = encodeRaftMessage(fixture.plain, fixture.clusterId);
    const decoded = decodeRaftMessage(bytes);
    assert.deepEqual(decoded.message, fixture.plain);
    const generated = fromBinary(RaftMessageSchema, bytes);
    if (generated.body.case !== 'appendEntriesRequest') assert.fail(generated.body.case);
    assert.equal(generated.body.value.entries.length, BATCH_ENTRIES);
  });

  it('every case runs', () => {
    const suite = createWireTypesSuite();
    for (const [name, run] of Object.entries(suite.cases)) {
      run();
      assert.notEqual(lastConsumed(), undefined, name);
    }
    for (const c of suite.comparisons) {
      assert.ok(c.numerator in suite.cases && c.denominator in suite.cases, c.name);
    }
  });
});
