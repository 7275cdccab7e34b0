import { type DescMessage, fromBinary, type MessageShape, toBinary } from '@bufbuild/protobuf';
import type { MethodDefinition } from '@grpc/grpc-js';

/** Messages whose bytes did not decode, with the reason; servers answer them INVALID_ARGUMENT. */
const malformed = new WeakMap<object, string>();

/**
 * Why the bytes of a message decoded by a deserializer of `KV_SERVICE_DEFINITION` or
 * `CLUSTER_SERVICE_DEFINITION` did not decode, or `undefined` when they did. A malformed message arrives as
 * an empty one carrying this mark, so that a server can answer INVALID_ARGUMENT (grpc-js would answer
 * INTERNAL for a throwing deserializer).
 */
export function kvMalformedReason(message: unknown): string | undefined {
  return typeof message === 'object' && message !== null ? malformed.get(message) : undefined;
}

/** The serializer of `schema` for a grpc-js method definition: `toBinary`, no copy of the result. */
export function serializer<Desc extends DescMessage>(schema: Desc): (value: MessageShape<Desc>) => Buffer {
  return (value) => {
    const bytes = toBinary(schema, value);
    return Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  };
}

/**
 * The deserializer of `schema` for a grpc-js method definition. It never throws: bytes that do not decode
 * give `placeholder(bytes)` (default: the empty message), marked with the reason (see
 * {@link kvMalformedReason}).
 */
export function deserializer<Desc extends DescMessage>(
  schema: Desc,
  placeholder: (bytes: Uint8Array) => MessageShape<Desc> = () => fromBinary(schema, new Uint8Array(0)),
): (bytes: Buffer) => MessageShape<Desc> {
  return (bytes) => {
    try {
      return fromBinary(schema, bytes);
    } catch (error) {
      const message = placeholder(bytes);
      malformed.set(message, error instanceof Error ? error.message : String(error));
      return message;
    }
  };
}

/** A unary method of `service` whose messages are the protobuf-es `input` and `output`. */
export function unaryMethod<I extends DescMessage, O extends DescMessage>(
  service: string,
  name: string,
  input: I,
  output: O,
): MethodDefinition<MessageShape<I>, MessageShape<O>> {
  return {
    path: `/${service}/${name}`,
    requestStream: false,
    responseStream: false,
    requestSerialize: serializer(input),
    requestDeserialize: deserializer(input),
    responseSerialize: serializer(output),
    responseDeserialize: deserializer(output),
    originalName: name.charAt(0).toLowerCase() + name.slice(1),
  };
}
