import { create } from '@bufbuild/protobuf';
import { type RaftMessage, type StreamRequest, StreamRequestSchema } from '@tsraft/proto';
import type { QueuedMessage } from './peer-queue.js';

/** One `StreamRequest` to write, with its estimated size for the unacknowledged-bytes window. */
export interface Frame {
  readonly request: StreamRequest;
  readonly bytes: number;
}

/** Per-message overhead assumed for a snapshot piece. */
const PIECE_OVERHEAD_BYTES = 64;

function pieceBytes(piece: RaftMessage): number {
  return piece.body.case === 'installSnapshot' ? piece.body.value.data.byteLength : 0;
}

/**
 * Turns a batch into frames, produced lazily as the generator is read (the session takes one frame each
 * time the stream has room), keeping the batch's order and never yielding an empty frame.
 *
 * Messages go together into one frame. A snapshot of at most `chunkBytes` bytes has its pieces read at once
 * into the current frame. A larger one ends the current frame; its pieces are then read from its data only
 * as frames are taken, packed into frames of at most `chunkBytes` data bytes (a piece is never cut or
 * copied here), and the rest of the batch follows in a new frame.
 *
 * When reading a snapshot's pieces throws (its storage failed), `onSnapshotFailed` is called, the snapshot's
 * pieces not yet written are dropped, and the rest of the batch goes on. A receiver left with part of the
 * snapshot drops it when the next message on the stream is not its next piece.
 *
 * `dropIfObsolete` is asked before each message is put in a frame and before each piece of a large snapshot
 * is read; when it says the message became obsolete (a message of a higher term to the peer was queued
 * meanwhile), the message is skipped, or the snapshot's remaining pieces are not produced (its reader is
 * closed), and the rest of the batch goes on.
 */
export function* toFrames(
  batch: readonly QueuedMessage[],
  chunkBytes: number,
  onSnapshotFailed: (error: unknown) => void,
  dropIfObsolete: (item: QueuedMessage) => boolean = () => false,
): Generator<Frame, void, undefined> {
  let messages: RaftMessage[] = [];
  let bytes = 0;
  const take = (): Frame => {
    const frame: Frame = { request: create(StreamRequestSchema, { messages }), bytes };
    messages = [];
    bytes = 0;
    return frame;
  };

  for (const item of batch) {
    if (dropIfObsolete(item)) {
      if (item.type === 'snapshot') item.pieces.return?.();
      continue;
    }
    if (item.type !== 'snapshot') {
      messages.push(item.proto);
      bytes += item.bytes;
      continue;
    }
    if (item.byteLength <= chunkBytes) {
      // Small: all its pieces (views of its data) fit in this frame.
      const pieces: RaftMessage[] = [];
      try {
        for (let next = item.pieces.next(); next.done !== true; next = item.pieces.next())
          pieces.push(next.value);
      } catch (error) {
        onSnapshotFailed(error);
        continue;
      }
      messages.push(...pieces);
      bytes += item.bytes;
      continue;
    }
    if (messages.length > 0) yield take();
    let frameData = 0;
    try {
      for (;;) {
        // Became obsolete while its earlier frames were written: its remaining pieces are not produced.
        if (dropIfObsolete(item)) {
          messages = [];
          bytes = 0;
          break;
        }
        let next: IteratorResult<RaftMessage>;
        try {
          next = item.pieces.next();
        } catch (error) {
          onSnapshotFailed(error);
          messages = [];
          bytes = 0;
          break;
        }
        if (next.done === true) break;
        const size = pieceBytes(next.value);
        if (messages.length > 0 && frameData + size > chunkBytes) {
          yield take();
          frameData = 0;
        }
        messages.push(next.value);
        bytes += size + PIECE_OVERHEAD_BYTES;
        frameData += size;
      }
    } finally {
      // Closes the snapshot's reader if the frames were abandoned (the stream failed) half-way.
      item.pieces.return?.();
    }
    if (messages.length > 0) yield take();
  }
  if (messages.length > 0) yield take();
}
