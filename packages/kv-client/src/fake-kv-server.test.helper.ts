// A fake KV cluster for the tests: in-process grpc-js servers over one in-memory map, with session dedupe
// and hooks to inject failures. Not a Raft cluster: every member applies writes directly, but while a
// `leader` is set the others act as followers that forward writes: they answer them with the leader's id in
// the header, as a tsraft follower passes on the leader's answer. Each member serves the Session stream too:
// its requests go through the same handlers as the unary calls.
import { create } from '@bufbuild/protobuf';
import {
  Server,
  ServerCredentials,
  type ServerDuplexStream,
  type ServerUnaryCall,
  type StatusObject,
  type sendUnaryData,
} from '@grpc/grpc-js';
import {
  type CompareAndSwapRequest,
  CompareAndSwapResponseSchema,
  type DeleteRequest,
  DeleteResponseSchema,
  type GetRequest,
  GetResponseSchema,
  OpenSessionResponseSchema,
  type PutRequest,
  PutResponseSchema,
  ResponseHeaderSchema,
  type SessionRef,
  type SessionRequest,
  type SessionResponse,
  SessionResponseSchema,
  StatusResponseSchema,
} from '@tsraft/proto';
import { KvError } from './kv-error.js';
import { KV_SERVICE_DEFINITION, kvMalformedReason } from './kv-service.js';

/** What a hook may do instead of answering normally: answer an error, or never answer. */
export type Fault = KvError | 'hang';

/** Failure injection of one member. */
export interface FakeHooks {
  /** Before a request is handled: a fault replaces the handling. */
  before?: ((method: string, request: unknown) => Fault | undefined) | undefined;
  /** After a write was applied: an error replaces the answer (the write stays applied). */
  after?: ((method: string, request: unknown) => KvError | undefined) | undefined;
}

/** A request as a member saw it. */
export interface SeenRequest {
  readonly member: number;
  readonly method: string;
  /** How it arrived: a unary call, or a request on a Session stream. */
  readonly via: 'unary' | 'stream';
  readonly session: { sessionId: bigint; sequence: bigint; firstIncomplete: bigint } | undefined;
}

/** A running fake cluster. */
export interface FakeKvCluster {
  readonly addresses: string[];
  /** The member id of each member (`m0`, `m1`, ...), in the order of `addresses`. */
  readonly ids: string[];
  /**
   * The member that leads, or undefined (the default) for every member to answer writes as itself. While
   * set, the other members answer writes (Put, Delete, CompareAndSwap, OpenSession) with the leader's id in
   * the header, as if forwarded; reads and Status are answered as themselves. Status reports it as leader
   * (member 0 when undefined).
   */
  leader: number | undefined;
  readonly hooks: FakeHooks[];
  readonly seen: SeenRequest[];
  /** Fired with each request as it is seen. */
  onRequest: ((request: SeenRequest) => void) | undefined;
  /** Writes applied (dedupe hits excluded). */
  readonly applied: () => number;
  /** Sessions opened. */
  readonly opened: () => number;
  /** Forgets every session, as a leader change past their lease would. */
  expireSessions(): void;
  /** Session streams each member accepted so far. */
  readonly streamsOpened: number[];
  /** Ends every open Session stream of `member` with `status`, leaving its requests in progress unanswered. */
  endStreams(member: number, status: Partial<StatusObject>): void;
  close(): void;
}

interface FakeSession {
  firstIncomplete: bigint;
  readonly results: Map<bigint, unknown>;
}

/** Starts `size` members on 127.0.0.1, each on its own port, sharing one store. */
export async function startFakeKvCluster(size = 1): Promise<FakeKvCluster> {
  const store = new Map<string, Uint8Array>();
  const sessions = new Map<bigint, FakeSession>();
  const seen: SeenRequest[] = [];
  const hooks: FakeHooks[] = [];
  const servers: Server[] = [];
  const addresses: string[] = [];
  const ids = Array.from({ length: size }, (_, i) => `m${i}`);
  const streamsOpened = Array.from({ length: size }, () => 0);
  const openStreams = Array.from(
    { length: size },
    () => new Set<ServerDuplexStream<SessionRequest, SessionResponse>>(),
  );
  let applied = 0;
  let opened = 0;
  let index = 0n;
  const keyOf = (key: Uint8Array): string => Buffer.from(key).toString('hex');

  function sessionWrite<R>(ref: SessionRef | undefined, apply: () => R): R {
    if (ref === undefined) return apply();
    const session = sessions.get(ref.sessionId);
    if (session === undefined) throw new KvError('SESSION_EXPIRED', `no session ${ref.sessionId}`);
    if (ref.sequence < session.firstIncomplete)
      throw new KvError('STALE_REQUEST', `sequence ${ref.sequence}`);
    if (ref.firstIncomplete > session.firstIncomplete) {
      session.firstIncomplete = ref.firstIncomplete;
      for (const sequence of session.results.keys()) {
        if (sequence < ref.firstIncomplete) session.results.delete(sequence);
      }
    }
    if (session.results.has(ref.sequence)) return session.results.get(ref.sequence) as R;
    const result = apply();
    applied++;
    session.results.set(ref.sequence, result);
    return result;
  }

  for (let member = 0; member < size; member++) {
    const memberHooks: FakeHooks = {};
    hooks.push(memberHooks);
    const memberId = ids[member]!;
    /** The header of a read (answered here). */
    const header = () => create(ResponseHeaderSchema, { memberId, term: 1n, index });
    /** The header of a write: the leader's, when a follower "forwarded" it. */
    const writeHeader = () =>
      create(ResponseHeaderSchema, {
        memberId: cluster.leader === undefined ? memberId : ids[cluster.leader]!,
        term: 1n,
        index,
      });

    /** The part of a call a handler reads: a unary call, or one request of a Session stream. */
    type Call<Req> = Pick<ServerUnaryCall<Req, unknown>, 'request'> & { readonly via?: 'stream' };

    function handler<Req extends object, Res>(method: string, handle: (request: Req) => Res) {
      return (call: Call<Req>, callback: sendUnaryData<Res>): void => {
        const malformed = kvMalformedReason(call.request);
        if (malformed !== undefined) {
          callback(new KvError('INVALID_ARGUMENT', malformed).toStatus());
          return;
        }
        const ref = (call.request as { session?: SessionRef }).session;
        const request: SeenRequest = {
          member,
          method,
          via: call.via ?? 'unary',
          session:
            ref === undefined
              ? undefined
              : { sessionId: ref.sessionId, sequence: ref.sequence, firstIncomplete: ref.firstIncomplete },
        };
        seen.push(request);
        cluster.onRequest?.(request);
        const fault = memberHooks.before?.(method, call.request);
        if (fault === 'hang') return;
        if (fault !== undefined) {
          callback(fault.toStatus());
          return;
        }
        try {
          const response = handle(call.request);
          const after = memberHooks.after?.(method, call.request);
          if (after !== undefined) callback(after.toStatus());
          else callback(null, response);
        } catch (error) {
          callback(KvError.from(error).toStatus());
        }
      };
    }

    const unary = {
      Put: handler('Put', (req: PutRequest) =>
        sessionWrite(req.session, () => {
          store.set(keyOf(req.key), req.value);
          index++;
          return create(PutResponseSchema, { header: writeHeader() });
        }),
      ),
      Get: handler('Get', (req: GetRequest) => {
        const value = store.get(keyOf(req.key));
        return create(GetResponseSchema, {
          header: header(),
          found: value !== undefined,
          value: value ?? new Uint8Array(0),
        });
      }),
      Delete: handler('Delete', (req: DeleteRequest) =>
        sessionWrite(req.session, () => {
          const deleted = store.delete(keyOf(req.key));
          index++;
          return create(DeleteResponseSchema, { header: writeHeader(), deleted });
        }),
      ),
      CompareAndSwap: handler('CompareAndSwap', (req: CompareAndSwapRequest) =>
        sessionWrite(req.session, () => {
          const current = store.get(keyOf(req.key));
          const matches =
            req.expected === undefined
              ? current === undefined
              : current !== undefined && Buffer.from(current).equals(req.expected);
          if (matches) store.set(keyOf(req.key), req.value);
          index++;
          const after = store.get(keyOf(req.key));
          return create(CompareAndSwapResponseSchema, {
            header: writeHeader(),
            succeeded: matches,
            found: after !== undefined,
            value: after ?? new Uint8Array(0),
          });
        }),
      ),
      OpenSession: handler('OpenSession', () => {
        index++;
        opened++;
        sessions.set(index, { firstIncomplete: 1n, results: new Map() });
        return create(OpenSessionResponseSchema, { header: writeHeader(), sessionId: index });
      }),
      Status: handler('Status', () =>
        create(StatusResponseSchema, {
          memberId,
          role: member === (cluster.leader ?? 0) ? 'leader' : 'follower',
          term: 1n,
          leaderId: ids[cluster.leader ?? 0]!,
          commitIndex: index,
          appliedIndex: index,
          stateDigest: 'ab',
          voters: [...ids],
        }),
      ),
    };
    // Each request of a stream goes to the unary handler of its kind; its answer (or error) comes back
    // under its id.
    const session = (call: ServerDuplexStream<SessionRequest, SessionResponse>): void => {
      call.on('error', () => {});
      streamsOpened[member]!++;
      openStreams[member]!.add(call);
      const forget = () => openStreams[member]!.delete(call);
      call.on('cancelled', forget);
      call.on('finish', forget);
      call.on('end', () => call.end());
      call.on('data', (message: SessionRequest) => {
        const answer = (response: SessionResponse['response']) => {
          if (openStreams[member]!.has(call)) {
            call.write(create(SessionResponseSchema, { id: message.id, response }));
          }
        };
        const fail = (error: KvError) => answer({ case: 'error', value: error.toRequestError() });
        const request = message.request;
        if (request.case === undefined) {
          fail(new KvError('INVALID_ARGUMENT', 'no request'));
          return;
        }
        const method =
          `${request.case.charAt(0).toUpperCase()}${request.case.slice(1)}` as keyof typeof unary;
        const handle = unary[method] as (call: Call<object>, callback: sendUnaryData<unknown>) => void;
        handle({ request: request.value, via: 'stream' }, (error, value) => {
          if (error) fail(KvError.from(error));
          else answer({ case: request.case, value } as SessionResponse['response']);
        });
      });
    };
    const server = new Server();
    server.addService(KV_SERVICE_DEFINITION, { ...unary, Session: session });
    const port = await new Promise<number>((resolve, reject) =>
      server.bindAsync('127.0.0.1:0', ServerCredentials.createInsecure(), (error, bound) =>
        error ? reject(error) : resolve(bound),
      ),
    );
    servers.push(server);
    addresses.push(`127.0.0.1:${port}`);
  }

  const cluster: FakeKvCluster = {
    addresses,
    ids,
    leader: undefined,
    hooks,
    seen,
    onRequest: undefined,
    applied: () => applied,
    opened: () => opened,
    expireSessions: () => sessions.clear(),
    streamsOpened,
    endStreams: (member, status) => {
      for (const call of [...openStreams[member]!]) {
        openStreams[member]!.delete(call);
        call.emit('error', status);
      }
    },
    close: () => {
      for (const server of servers) server.forceShutdown();
    },
  };
  return cluster;
}
