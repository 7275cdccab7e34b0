/**
 * The tsraft wire schema, `tsraft.raft.v1`, as protobuf-es types and schemas generated from `proto/`.
 *
 * Everything here is generated; build messages with `create(XSchema, init)` and serialize them with
 * `toBinary`/`fromBinary` from `@bufbuild/protobuf`. 64-bit fields (terms, indexes) are `bigint`.
 * tsraft's core does not use these types: `@tsraft/codec` converts at the edge (see docs/wire-contract.md).
 *
 * @packageDocumentation
 */
export * from './gen/tsraft/raft/v1/log_pb.js';
export * from './gen/tsraft/raft/v1/messages_pb.js';
export * from './gen/tsraft/raft/v1/service_pb.js';
