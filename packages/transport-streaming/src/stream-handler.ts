import { create } from '@bufbuild/protobuf';
import { Metadata, type ServerDuplexStream } from '@grpc/grpc-js';
import { fromProtoMessage, fromProtoSnapshotMessage } from '@tsraft/codec';
import type { Message, NodeId } from '@tsraft/core';
import {
  callerIdOf,
  checkEnvelope,
  createSnapshotAssembler,
  type PeerPolicy,
  type SnapshotAssembler,
  TransportError,
} from '@tsraft/grpc';
import {
  type RaftMessage,
  type StreamRequest,
  type StreamResponse,
  StreamResponseSchema,
} from '@tsraft/proto';

/** A server-side `Raft.Stream` call. */
export type InboundStream = ServerDuplexStream<StreamRequest, StreamResponse>;

/** The receiving half of a streaming transport: serves `Raft.Stream` calls from peers. */
export interface StreamHandler {
  /** The grpc-js handler of `Raft.Stream`. */
  readonly handle: (call: InboundStream) => void;
  /** Inbound streams open now. */
  readonly openStreams: number;
  /** Messages that did not convert to core's form and were dropped. */
  readonly refusedMessages: number;
  /** Snapshots whose sender stopped sending them half-way (their pieces were dropped). */
  readonly abandonedSnapshots: number;
  /**
   * Stops delivering, ends every inbound stream with UNAVAILABLE (`SHUTTING_DOWN`) and refuses new ones;
   * resolves when all ended or at `deadline` (a `performance.now()` time).
   */
  close(deadline: number): Promise<void>;
}

/** Options of {@link createStreamHandler}. */
export interface StreamHandlerOptions {
  /** This node's id: a message addressed to another node ends its stream. */
  readonly id: NodeId;
  /** This node's cluster id: a message naming another ends its stream with WRONG_CLUSTER. */
  readonly clusterId: string;
  /** The largest snapshot reassembled from pieces, in bytes. */
  readonly maxSnapshotBytes: number;
  /** Where inbound messages go; `null` while the transport is not started or is closing. */
  readonly deliver: () => ((message: Message) => void) | null;
}

/** The acknowledgement of one frame: an empty batch. */
const ACK: StreamResponse = create(StreamResponseSchema, { messages: [] });

/**
 * Creates the `Raft.Stream` handler. It expects the checks of `@tsraft/grpc`'s server (caller's cluster and
 * membership, well-formed bytes) to have run. Each inbound frame's envelopes are checked (cluster, sender,
 * receiver), snapshot pieces kept as they arrive and delivered as one snapshot whose data is the list of
 * pieces (`SnapshotData.fromChunks`, never joined), messages delivered in order, and the frame acknowledged
 * with one empty `StreamResponse`, which the sender's acknowledgement timeout watches.
 *
 * A sender that fails to read a snapshot half-way (a storage error) stops sending its pieces and goes on
 * with its other messages: while a snapshot is incomplete, a message that is not a snapshot piece, or a
 * piece at offset 0 (a new snapshot), drops the incomplete one, which is never delivered.
 */
export function createStreamHandler(options: StreamHandlerOptions): StreamHandler {
  const open = new Set<InboundStream>();
  const policy: PeerPolicy = { clusterId: options.clusterId, nodeId: options.id, isMember: () => true };
  let closed = false;
  let refused = 0;
  let abandoned = 0;

  const fail = (call: InboundStream, error: TransportError): void => {
    open.delete(call);
    const s = error.toStatus();
    call.emit('error', { code: s.code, details: s.details, metadata: s.metadata });
  };

  const handle = (call: InboundStream): void => {
    call.on('error', () => {});
    if (closed || options.deliver() === null) {
      fail(call, new TransportError('SHUTTING_DOWN', `node ${options.id} is not accepting streams`));
      return;
    }
    open.add(call);
    const forget = (): void => {
      open.delete(call);
    };
    call.on('close', forget);
    call.on('finish', forget);
    call.on('cancelled', forget);
    // Tell the sender at once that the stream is accepted (its session moves from connecting to open).
    call.sendMetadata(new Metadata());
    const caller = callerIdOf(call.metadata);
    let assembler: SnapshotAssembler | null = null;

    /**
     * The message to deliver now, or null while a snapshot's pieces are still arriving.
     * @throws TransportError when a piece does not fit (MALFORMED) or the snapshot is too large.
     */
    const reassemble = (proto: RaftMessage): Message | null => {
      const piece = proto.body.case === 'installSnapshot' ? proto.body.value : undefined;
      if (assembler !== null && (piece === undefined || piece.offset === 0n)) {
        // The sender gave up on the incomplete snapshot (reading it failed): drop its pieces.
        assembler = null;
        abandoned++;
      }
      if (piece === undefined) return fromProtoMessage(proto).message;
      assembler ??= createSnapshotAssembler(options.maxSnapshotBytes);
      assembler.push(proto);
      if (!assembler.complete) return null;
      const { envelope, data } = assembler.take();
      assembler = null;
      return fromProtoSnapshotMessage(envelope, data).message;
    };

    call.on('data', (request: StreamRequest) => {
      if (closed) return;
      try {
        for (const proto of request.messages) {
          checkEnvelope(proto, caller ?? proto.from, policy);
          let message: Message | null;
          try {
            message = reassemble(proto);
          } catch (error) {
            // Pieces that do not fit together end the stream; a message that does not convert is dropped.
            if (error instanceof TransportError) throw error;
            refused++;
            continue;
          }
          if (message === null) continue;
          options.deliver()?.(message);
        }
      } catch (error) {
        fail(call, TransportError.from(error));
        return;
      }
      call.write(ACK);
    });
    call.on('end', () => {
      // The sender half-closed: finish our half with OK.
      open.delete(call);
      call.end();
    });
  };

  return {
    handle,
    get openStreams() {
      return open.size;
    },
    get refusedMessages() {
      return refused;
    },
    get abandonedSnapshots() {
      return abandoned;
    },
    close: async (deadline) => {
      closed = true;
      for (const call of [...open]) {
        fail(call, new TransportError('SHUTTING_DOWN', `node ${options.id} is shutting down`));
      }
      while (open.size > 0 && performance.now() < deadline) {
        await new Promise((resolve) => setTimeout(resolve, 5));
      }
    },
  };
}
