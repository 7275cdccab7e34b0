/**
 * The tsraft wire schemas as protobuf-es types and schemas generated from `proto/`: `tsraft.raft.v1` (between
 * peers), `tsraft.kv.v1` (the KV client service and the KV state machine's log commands) and `tsraft.cluster.v1`
 * (membership administration).
 *
 * Everything here is generated; build messages with `create(XSchema, init)` and serialize them with
 * `toBinary`/`fromBinary` from `@bufbuild/protobuf`. 64-bit fields (terms, indexes) are `bigint`.
 * tsraft's core does not use these types: `@tsraft/codec` converts at the edge (see docs/wire-contract.md).
 *
 * @packageDocumentation
 */

export * from './gen/tsraft/cluster/v1/cluster_pb.js';
export * from './gen/tsraft/kv/v1/command_pb.js';
export * from './gen/tsraft/kv/v1/kv_pb.js';
export * from './gen/tsraft/raft/v1/log_pb.js';
export * from './gen/tsraft/raft/v1/messages_pb.js';
export * from './gen/tsraft/raft/v1/service_pb.js';
