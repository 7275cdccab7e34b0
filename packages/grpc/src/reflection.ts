import { type DescFile, fromBinary, toBinary } from '@bufbuild/protobuf';
import {
  type DescriptorProto,
  type FileDescriptorProto,
  FileDescriptorProtoSchema,
} from '@bufbuild/protobuf/wkt';
import type { Server } from '@grpc/grpc-js';
import { ReflectionService } from '@grpc/reflection';
import {
  file_tsraft_raft_v1_log,
  file_tsraft_raft_v1_messages,
  file_tsraft_raft_v1_service,
} from '@tsraft/proto';
import { service as healthService } from 'grpc-health-check';

/**
 * Registers gRPC server reflection (v1 and v1alpha) on `server`, describing the Raft service from the
 * generated protobuf-es file descriptors and `grpc.health.v1` from the descriptors grpc-health-check
 * ships, so that `buf curl` and grpcurl can list and call both without `.proto` files. `extraFiles` describe
 * further services served beside them (each file with the files it imports).
 */
export function addReflection(
  server: Pick<Server, 'addService'>,
  extraFiles: readonly DescFile[] = [],
): void {
  const raftFiles = [file_tsraft_raft_v1_log, file_tsraft_raft_v1_messages, file_tsraft_raft_v1_service].map(
    (file) => Buffer.from(toBinary(FileDescriptorProtoSchema, file.proto)),
  );
  const healthFiles = (healthService.Check?.requestType.fileDescriptorProtos ?? []).map((bytes) =>
    Buffer.from(
      toBinary(FileDescriptorProtoSchema, qualifyTypeNames(fromBinary(FileDescriptorProtoSchema, bytes))),
    ),
  );
  // @grpc/reflection reads only `fileDescriptorProtos` from each value of the package definition.
  const format = 'Protocol Buffer 3 DescriptorProto';
  const definition: Record<string, { format: string; fileDescriptorProtos: Buffer[] }> = {
    'tsraft.raft.v1': { format, fileDescriptorProtos: raftFiles },
    'grpc.health.v1': { format, fileDescriptorProtos: healthFiles },
  };
  for (const file of extraFiles) {
    const bytes = Buffer.from(toBinary(FileDescriptorProtoSchema, file.proto));
    const entry = definition[file.proto.package] ?? { format, fileDescriptorProtos: [] };
    entry.fileDescriptorProtos.push(bytes);
    definition[file.proto.package] = entry;
  }
  new ReflectionService(
    definition as unknown as ConstructorParameters<typeof ReflectionService>[0],
  ).addToServer(server);
}

/**
 * Rewrites the relative type names of a file's fields (`Statuses`) as fully qualified ones
 * (`.grpc.health.v1.HealthListResponse.Statuses`), following protobuf's scoping rules. The descriptors
 * grpc-health-check ships (made by protobufjs) use relative names, which Go-based clients such as
 * `buf curl` refuse to link, and name map entries after the field (`Statuses`) where protoc and Go
 * expect `StatusesEntry`; both are corrected here.
 */
function qualifyTypeNames(file: FileDescriptorProto): FileDescriptorProto {
  const known = new Set<string>();
  const collect = (
    scope: string,
    messages: readonly DescriptorProto[],
    enums: readonly { name: string }[],
  ) => {
    for (const e of enums) known.add(`${scope}.${e.name}`);
    for (const m of messages) {
      known.add(`${scope}.${m.name}`);
      collect(`${scope}.${m.name}`, m.nestedType, m.enumType);
    }
  };
  renameMapEntries(file.messageType);
  const root = file.package === '' ? '' : `.${file.package}`;
  collect(root, file.messageType, file.enumType);
  const resolve = (scope: string, name: string): string => {
    if (name.startsWith('.')) return name;
    for (let s = scope; ; s = s.slice(0, s.lastIndexOf('.'))) {
      if (known.has(`${s}.${name}`)) return `${s}.${name}`;
      if (s === '') return name;
    }
  };
  const visit = (scope: string, messages: readonly DescriptorProto[]) => {
    for (const m of messages) {
      const inner = `${scope}.${m.name}`;
      for (const field of m.field) if (field.typeName !== '') field.typeName = resolve(inner, field.typeName);
      visit(inner, m.nestedType);
    }
  };
  visit(root, file.messageType);
  return file;
}

/** Renames each map-entry message to the `<Field>Entry` name protoc gives it, updating the field. */
function renameMapEntries(messages: readonly DescriptorProto[]): void {
  for (const m of messages) {
    for (const field of m.field) {
      const entry = m.nestedType.find((n) => n.options?.mapEntry === true && field.typeName === n.name);
      if (entry === undefined) continue;
      const camel = field.name.replace(/(?:^|_)([a-z])/g, (_, c: string) => c.toUpperCase());
      entry.name = `${camel}Entry`;
      field.typeName = entry.name;
    }
    renameMapEntries(m.nestedType);
  }
}
