/** Thrown by {@link encodeKvCommand} and {@link decodeKvCommand} for a command that is not well formed. */
export class KvCommandError extends Error {
  override readonly name = 'KvCommandError';
}
