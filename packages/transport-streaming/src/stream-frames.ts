import { create } from '@bufbuild/protobuf';
import { splitSnapshot } from '@tsraft/grpc';
import { type RaftMessage, type StreamRequest, StreamRequestSchema } from '@tsraft/proto';
import type { QueuedMessage } from './peer-queue.js';

/** One `StreamRequest` to write, with its estimated size for the unacknowledged-bytes window. */
export interface Frame {
  readonly request: StreamRequest;
  readonly bytes: number;
}

/** Per-message overhead assumed for a snapshot piece. */
const PIECE_OVERHEAD_BYTES = 64;

/**
 * Turns a batch into the frame to write now; when the batch holds a snapshot larger than a chunk, the
 * messages before it go first and the snapshot's pieces (then the rest of the batch) are appended to
 * `later`, one frame each, so order is kept and no frame exceeds about one chunk.
 */
export function toFrames(batch: readonly QueuedMessage[], chunkBytes: number, later: Frame[]): Frame {
  const groups: { messages: RaftMessage[]; bytes: number }[] = [{ messages: [], bytes: 0 }];
  for (const item of batch) {
    const pieces = item.type === 'snapshot' ? splitSnapshot(item.proto, chunkBytes) : [item.proto];
    if (pieces.length > 1) {
      for (const piece of pieces) {
        const data = piece.body.case === 'installSnapshot' ? piece.body.value.data.byteLength : 0;
        groups.push({ messages: [piece], bytes: data + PIECE_OVERHEAD_BYTES });
      }
      groups.push({ messages: [], bytes: 0 });
    } else {
      const group = groups[groups.length - 1]!;
      group.messages.push(item.proto);
      group.bytes += item.bytes;
    }
  }
  const [now, ...rest] = groups
    .filter((g, i) => i === 0 || g.messages.length > 0)
    .map((g): Frame => ({ request: create(StreamRequestSchema, { messages: g.messages }), bytes: g.bytes }));
  later.push(...rest);
  return now!;
}
