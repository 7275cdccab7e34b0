import { create } from '@bufbuild/protobuf';
import { BinaryReader, WireType } from '@bufbuild/protobuf/wire';
import type { MethodDefinition } from '@grpc/grpc-js';
import {
  type SessionRequest,
  SessionRequestSchema,
  type SessionResponse,
  SessionResponseSchema,
} from '@tsraft/proto';
import { deserializer, serializer } from './unary-method.js';

/** Field number of `SessionRequest.id`. */
const ID_FIELD = 1;

/**
 * The `id` of a `SessionRequest` whose bytes do not decode as a whole, read from its top-level fields up to
 * the first one that does not parse; 0 when none is found. So a request whose body is malformed is still
 * answered (INVALID_ARGUMENT) under its own id.
 */
export function sessionRequestIdOf(bytes: Uint8Array): bigint {
  try {
    const reader = new BinaryReader(bytes);
    while (reader.pos < reader.len) {
      const [field, wireType] = reader.tag();
      if (field === ID_FIELD && wireType === WireType.Varint) return BigInt(reader.uint64());
      reader.skip(wireType, field);
    }
  } catch {
    // Past what parses: no id there.
  }
  return 0n;
}

/**
 * The bidirectional `Session` method of `service`. Like the unary methods' deserializers, its deserializers
 * never throw: a request that does not decode arrives as a `SessionRequest` with only its id (see
 * {@link sessionRequestIdOf}) and no request, marked for {@link kvMalformedReason}.
 */
export function sessionMethod(service: string): MethodDefinition<SessionRequest, SessionResponse> {
  return {
    path: `/${service}/Session`,
    requestStream: true,
    responseStream: true,
    requestSerialize: serializer(SessionRequestSchema),
    requestDeserialize: deserializer(SessionRequestSchema, (bytes) =>
      create(SessionRequestSchema, { id: sessionRequestIdOf(bytes) }),
    ),
    responseSerialize: serializer(SessionResponseSchema),
    responseDeserialize: deserializer(SessionResponseSchema),
    originalName: 'session',
  };
}
