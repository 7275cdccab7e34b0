import type {
  JoinRequest,
  JoinResponse,
  MemberAddRequest,
  MemberAddResponse,
  MemberListRequest,
  MemberListResponse,
  MemberPromoteRequest,
  MemberPromoteResponse,
  MemberRemoveRequest,
  MemberRemoveResponse,
  MemberReplaceRequest,
  MemberReplaceResponse,
  TransferLeaderRequest,
  TransferLeaderResponse,
} from '@tsraft/proto';
import { CLUSTER_SERVICE_DEFINITION } from './cluster-service.js';
import { openKvChannel } from './kv-channel.js';
import type { CallOptions, KvStubOptions } from './kv-stub.js';

/** Low-level stub of one member's `tsraft.cluster.v1.Cluster` service; every method rejects with a `KvError`. */
export interface ClusterStub {
  /** The `host:port` this stub calls. */
  readonly address: string;
  memberList(req: MemberListRequest, opts: CallOptions): Promise<MemberListResponse>;
  memberAdd(req: MemberAddRequest, opts: CallOptions): Promise<MemberAddResponse>;
  memberPromote(req: MemberPromoteRequest, opts: CallOptions): Promise<MemberPromoteResponse>;
  memberRemove(req: MemberRemoveRequest, opts: CallOptions): Promise<MemberRemoveResponse>;
  memberReplace(req: MemberReplaceRequest, opts: CallOptions): Promise<MemberReplaceResponse>;
  transferLeader(req: TransferLeaderRequest, opts: CallOptions): Promise<TransferLeaderResponse>;
  join(req: JoinRequest, opts: CallOptions): Promise<JoinResponse>;
  /** Closes the channel; later calls reject with `CLOSED`. Idempotent. */
  close(): void;
}

/** Creates the stub (one grpc-js channel, reused for every call) of the member at `address`. */
export function createClusterStub(address: string, options: KvStubOptions = {}): ClusterStub {
  const channel = openKvChannel(address, options.tls);
  const unary = channel.call;
  const d = CLUSTER_SERVICE_DEFINITION;
  return {
    address,
    memberList: (req, opts) => unary(d.MemberList, req, opts),
    memberAdd: (req, opts) => unary(d.MemberAdd, req, opts),
    memberPromote: (req, opts) => unary(d.MemberPromote, req, opts),
    memberRemove: (req, opts) => unary(d.MemberRemove, req, opts),
    memberReplace: (req, opts) => unary(d.MemberReplace, req, opts),
    transferLeader: (req, opts) => unary(d.TransferLeader, req, opts),
    join: (req, opts) => unary(d.Join, req, opts),
    close: channel.close,
  };
}
