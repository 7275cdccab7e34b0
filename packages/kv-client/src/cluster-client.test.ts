import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { create } from '@bufbuild/protobuf';
import { Server, ServerCredentials, type ServerUnaryCall, type sendUnaryData } from '@grpc/grpc-js';
import {
  MemberAddResponseSchema,
  MemberListResponseSchema,
  MemberRole,
  MemberSchema,
  MembershipSchema,
} from '@tsraft/proto';
import { createClusterClient } from './cluster-client.js';
import { CLUSTER_SERVICE_DEFINITION, CLUSTER_SERVICE_NAME } from './cluster-service.js';
import { KvError } from './kv-error.js';

const TEST_TIMEOUT = { timeout: 20_000 };

/** What the fake member answers to each call, in turn; an error is sent as its status. */
let script: (KvError | 'ok')[] = [];
let calls: string[] = [];
let server: Server;
let address: string;

const membership = create(MembershipSchema, {
  clusterId: 'c',
  configId: '0123456789abcdef',
  members: [
    create(MemberSchema, {
      id: 'n1',
      address: '127.0.0.1:1',
      role: MemberRole.VOTER,
      leader: true,
      matchIndex: 9n,
    }),
    create(MemberSchema, { id: 'n4', address: '', role: MemberRole.LEARNER }),
    create(MemberSchema, { id: 'n3', address: '127.0.0.1:3', role: MemberRole.OUTGOING_VOTER }),
  ],
  joint: true,
  leaderId: 'n1',
  term: 3n,
  commitIndex: 10n,
  answeredBy: 'n1',
});

function handler<Res>(method: string, answer: () => Res) {
  return (_call: ServerUnaryCall<unknown, Res>, callback: sendUnaryData<Res>): void => {
    calls.push(method);
    const next = script.shift() ?? 'ok';
    if (next === 'ok') callback(null, answer());
    else callback(next.toStatus());
  };
}

before(async () => {
  server = new Server();
  server.addService(CLUSTER_SERVICE_DEFINITION, {
    MemberList: handler('MemberList', () => create(MemberListResponseSchema, { membership })),
    MemberAdd: handler('MemberAdd', () => create(MemberAddResponseSchema, { membership })),
  });
  const port = await new Promise<number>((resolve, reject) =>
    server.bindAsync('127.0.0.1:0', ServerCredentials.createInsecure(), (error, p) =>
      error ? reject(error) : resolve(p),
    ),
  );
  address = `127.0.0.1:${port}`;
});

after(() => server.forceShutdown());

test('the service is tsraft.cluster.v1.Cluster with seven unary methods', () => {
  assert.equal(CLUSTER_SERVICE_NAME, 'tsraft.cluster.v1.Cluster');
  assert.deepEqual(Object.keys(CLUSTER_SERVICE_DEFINITION).sort(), [
    'Join',
    'MemberAdd',
    'MemberList',
    'MemberPromote',
    'MemberRemove',
    'MemberReplace',
    'TransferLeader',
  ]);
});

test('list maps the membership to plain values', TEST_TIMEOUT, async () => {
  script = [];
  calls = [];
  const client = createClusterClient({ endpoints: [address] });
  try {
    assert.deepEqual(await client.list(), {
      clusterId: 'c',
      configId: '0123456789abcdef',
      members: [
        { id: 'n1', address: '127.0.0.1:1', role: 'voter', leader: true, matchIndex: 9 },
        { id: 'n4', address: undefined, role: 'learner', leader: false, matchIndex: undefined },
        { id: 'n3', address: '127.0.0.1:3', role: 'outgoing-voter', leader: false, matchIndex: undefined },
      ],
      joint: true,
      leaderId: 'n1',
      term: 3,
      commitIndex: 10,
      answeredBy: 'n1',
    });
  } finally {
    client.close();
  }
});

test('a change is retried while it certainly was not applied', TEST_TIMEOUT, async () => {
  script = [
    new KvError('NOT_LEADER', 'no leader yet'),
    new KvError('CONF_CHANGE_IN_PROGRESS', 'one at a time'),
    new KvError('UNAVAILABLE', 'shutting down'),
    'ok',
  ];
  calls = [];
  const client = createClusterClient({ endpoints: [address] });
  try {
    const result = await client.add('n4', '127.0.0.1:4', { learner: true });
    assert.equal(result.configId, '0123456789abcdef');
    assert.equal(calls.length, 4);
  } finally {
    client.close();
  }
});

test('a change whose fate is unknown, or that is refused, is not retried', TEST_TIMEOUT, async () => {
  const client = createClusterClient({ endpoints: [address] });
  try {
    for (const [error, unknown] of [
      [new KvError('DEADLINE_EXCEEDED', 'too slow'), true],
      [new KvError('OUTCOME_UNKNOWN', 'lost'), true],
      [new KvError('CONFIG_MISMATCH', 'changed meanwhile'), false],
      [new KvError('INVALID_ARGUMENT', 'n4 is already a voter'), false],
    ] as const) {
      script = [error];
      calls = [];
      await assert.rejects(client.add('n4', '127.0.0.1:4'), (thrown: unknown) => {
        assert.ok(thrown instanceof KvError);
        assert.equal(thrown.code, error.code);
        assert.equal(thrown.outcomeUnknown, unknown, error.code);
        return true;
      });
      assert.equal(calls.length, 1, error.code);
    }
  } finally {
    client.close();
  }
});

test('a list is retried on any transient failure; a dead endpoint is skipped', TEST_TIMEOUT, async () => {
  script = [new KvError('DEADLINE_EXCEEDED', 'slow'), new KvError('NOT_LEADER', 'x')];
  calls = [];
  const client = createClusterClient({ endpoints: ['127.0.0.1:1', address], timeoutMs: 5_000 });
  try {
    assert.equal((await client.list()).leaderId, 'n1');
    assert.equal(calls.length, 3);
  } finally {
    client.close();
  }
});
