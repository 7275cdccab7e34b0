import type { DescMessage } from '@bufbuild/protobuf';
import type { MethodDefinition, ServiceDefinition } from '@grpc/grpc-js';
import {
  Cluster as ClusterService,
  type JoinRequest,
  JoinRequestSchema,
  type JoinResponse,
  JoinResponseSchema,
  type MemberAddRequest,
  MemberAddRequestSchema,
  type MemberAddResponse,
  MemberAddResponseSchema,
  type MemberListRequest,
  MemberListRequestSchema,
  type MemberListResponse,
  MemberListResponseSchema,
  type MemberPromoteRequest,
  MemberPromoteRequestSchema,
  type MemberPromoteResponse,
  MemberPromoteResponseSchema,
  type MemberRemoveRequest,
  MemberRemoveRequestSchema,
  type MemberRemoveResponse,
  MemberRemoveResponseSchema,
  type MemberReplaceRequest,
  MemberReplaceRequestSchema,
  type MemberReplaceResponse,
  MemberReplaceResponseSchema,
  type TransferLeaderRequest,
  TransferLeaderRequestSchema,
  type TransferLeaderResponse,
  TransferLeaderResponseSchema,
} from '@tsraft/proto';
import { unaryMethod } from './unary-method.js';

/** Full name of the membership service; every method path starts with `/` + this + `/`. */
export const CLUSTER_SERVICE_NAME: string = ClusterService.typeName;

const method = <I extends DescMessage, O extends DescMessage>(name: string, input: I, output: O) =>
  unaryMethod(CLUSTER_SERVICE_NAME, name, input, output);

/** The methods of `tsraft.cluster.v1.Cluster`, typed by their protobuf-es messages; all are unary. */
export interface ClusterServiceDefinition extends ServiceDefinition {
  /** The members as the leader sees them. */
  readonly MemberList: MethodDefinition<MemberListRequest, MemberListResponse>;
  /** Adds a voter or a learner. */
  readonly MemberAdd: MethodDefinition<MemberAddRequest, MemberAddResponse>;
  /** Makes a learner a voter. */
  readonly MemberPromote: MethodDefinition<MemberPromoteRequest, MemberPromoteResponse>;
  /** Removes a member. */
  readonly MemberRemove: MethodDefinition<MemberRemoveRequest, MemberRemoveResponse>;
  /** Replaces a voter by a learner in one (joint) change. */
  readonly MemberReplace: MethodDefinition<MemberReplaceRequest, MemberReplaceResponse>;
  /** Hands leadership to a voter. */
  readonly TransferLeader: MethodDefinition<TransferLeaderRequest, TransferLeaderResponse>;
  /** A new node asking to be added as a learner. */
  readonly Join: MethodDefinition<JoinRequest, JoinResponse>;
}

/**
 * The `tsraft.cluster.v1.Cluster` service for grpc-js, built like {@link KV_SERVICE_DEFINITION} from the
 * generated protobuf-es schemas. Check `kvMalformedReason` on each request a server receives.
 */
export const CLUSTER_SERVICE_DEFINITION: ClusterServiceDefinition = {
  MemberList: method('MemberList', MemberListRequestSchema, MemberListResponseSchema),
  MemberAdd: method('MemberAdd', MemberAddRequestSchema, MemberAddResponseSchema),
  MemberPromote: method('MemberPromote', MemberPromoteRequestSchema, MemberPromoteResponseSchema),
  MemberRemove: method('MemberRemove', MemberRemoveRequestSchema, MemberRemoveResponseSchema),
  MemberReplace: method('MemberReplace', MemberReplaceRequestSchema, MemberReplaceResponseSchema),
  TransferLeader: method('TransferLeader', TransferLeaderRequestSchema, TransferLeaderResponseSchema),
  Join: method('Join', JoinRequestSchema, JoinResponseSchema),
};
