import { SERVE_OPTIONS } from '../config/serve-options.js';

/** How far behind the leader's commit index a learner may be for `member promote` without `--force`. */
export const DEFAULT_PROMOTE_MAX_LAG = 1_000;

/** Endpoints the client commands use when neither `--endpoints` nor `TSRAFT_ENDPOINTS` is given. */
export const DEFAULT_ENDPOINTS = '127.0.0.1:7001,127.0.0.1:7002,127.0.0.1:7003';

const CLIENT_FLAGS = `Client flags:
  --endpoints host:port,...  members to talk to (env TSRAFT_ENDPOINTS; default ${DEFAULT_ENDPOINTS})
  --timeout-ms N             deadline of each request in ms (env TSRAFT_TIMEOUT_MS; default the client's)
  --tls-ca FILE              PEM CA bundle that verifies the members' certificates; turns TLS on
                             (env TSRAFT_TLS_CA; default plaintext)
  --tls-cert FILE            PEM client certificate, for clusters that require mutual TLS; needs
                             --tls-key and --tls-ca (env TSRAFT_TLS_CERT)
  --tls-key FILE             PEM private key of --tls-cert (env TSRAFT_TLS_KEY)
`;

/** `tsraft help`: every command, one line each. */
export const MAIN_USAGE = `Usage: tsraft <command> [flags]

Commands:
  serve     run one node of a replicated key-value cluster
  put       put KEY VALUE                        write a key
  get       get KEY [--consistency MODE]         read a key
  del       del KEY                              delete a key
  cas       cas KEY EXPECTED VALUE | cas --absent KEY VALUE
                                                 compare and swap
  status    status [--json]                      the state of every member
  member    member list [--json]                 the members, as the leader sees them
            member add ID HOST:PORT [--learner]  add a voter (or a learner)
            member promote ID                    make a learner a voter
            member remove ID                     remove a member
            member replace OLD NEW               learner NEW takes voter OLD's place
  transfer-leader ID                             hand leadership to a voter
  cluster   cluster [--dir DIR] [--nodes N]      run a local cluster of child processes
  help      help [COMMAND]                       this text, or a command's

Run "tsraft <command> --help" for a command's flags.
Exit status: 0 success, 1 failure (an error answer, a missing key, a failed compare-and-swap, a crash),
2 usage or configuration error, 3 (serve) the node was removed from the cluster.
`;

function serveUsage(): string {
  const names = SERVE_OPTIONS.map((o) => `--${o.flag} ${o.placeholder}`.trimEnd());
  const width = Math.max(...names.map((n) => n.length));
  const lines = SERVE_OPTIONS.map((o, i) => `  ${names[i]!.padEnd(width)}  ${o.help}`);
  return `Usage: tsraft serve --id ID --listen HOST:PORT --peers ID=HOST:PORT,... --data-dir DIR [flags]
       tsraft serve --id ID --listen HOST:PORT --join HOST:PORT,... --data-dir DIR [flags]

Runs one node of a replicated key-value cluster until SIGTERM or SIGINT (graceful), logging JSON to stderr.
With --peers, the first start on an empty data directory bootstraps a new cluster of those members. With
--join, the first start asks a member of a running cluster to add this node as a learner; it catches up, then
asks to be promoted to voter (unless --learner). Later starts use the membership stored in the data directory.

Flags (each also as --flag=value):
${lines.join('\n')}
  ${'--config FILE'.padEnd(width)}  YAML (.yaml, .yml) or JSON (.json) file of camelCase keys (dataDir,
  ${''.padEnd(width)}  tlsCert, ...); peers as {n1: "host:port"} or "n1=host:port,..."

Every flag can also be set as TSRAFT_ and its name in upper snake case (--data-dir: TSRAFT_DATA_DIR,
--config: TSRAFT_CONFIG). Precedence: flags, then environment, then the config file, then defaults.
Exit status: 0 after a graceful stop, 1 if the node crashed, 2 for a configuration error (including a port
already in use, or a join the cluster refused), 3 once the node was removed from the cluster.
`;
}

/** Usage of each command, by name. */
export const COMMAND_USAGE: Readonly<Record<string, () => string>> = {
  serve: serveUsage,
  put: () => `Usage: tsraft put KEY VALUE [client flags]

Writes VALUE (UTF-8) at KEY and prints OK.

${CLIENT_FLAGS}`,
  get: () => `Usage: tsraft get KEY [--consistency linearizable|lease|stale] [client flags]

Prints the value at KEY (UTF-8) and a newline. A missing key prints nothing on stdout, "tsraft: key not
found" on stderr, and exits 1.
  --consistency linearizable  (default) confirmed with a quorum, sees every write acknowledged before it
  --consistency lease         served by the leader under its lease, no quorum round trip
  --consistency stale         served by any member, may be behind

${CLIENT_FLAGS}`,
  del: () => `Usage: tsraft del KEY [client flags]

Deletes KEY; prints "deleted", or "not found" if it did not exist (both exit 0).

${CLIENT_FLAGS}`,
  cas: () => `Usage: tsraft cas KEY EXPECTED VALUE [client flags]
       tsraft cas --absent KEY VALUE [client flags]

Sets KEY to VALUE only if its value is EXPECTED (or, with --absent, only if KEY does not exist). Prints OK,
or "FAILED (current: <value or (absent)>)" and exits 1.

${CLIENT_FLAGS}`,
  status: () => `Usage: tsraft status [--json] [client flags]

Asks every endpoint for its state and prints a table: endpoint, id, role, term, leader, commit index,
applied index, state digest (first 12 hex digits), or the error of a member that did not answer.
  --json   print a JSON array instead, one object per endpoint
Exit status: 0 if every member answered, 1 otherwise.

${CLIENT_FLAGS}`,
  member: () => `Usage: tsraft member list [--json] [client flags]
       tsraft member add ID HOST:PORT [--learner] [--expect-config CONFIG] [--json] [client flags]
       tsraft member promote ID [--max-lag N | --force] [--expect-config CONFIG] [--json] [client flags]
       tsraft member remove ID [--expect-config CONFIG] [--json] [client flags]
       tsraft member replace OLD NEW [--max-lag N | --force] [--expect-config CONFIG] [--json] [client flags]

Lists or changes the members of the cluster, one change at a time. Any endpoint will do: the call is
answered by the leader (a follower forwards it). Each change prints one line with the configuration id after
it; a refused change prints "tsraft: CODE: reason" and exits 1 (CONF_CHANGE_IN_PROGRESS is waited out until
the deadline).
  list               every member: role (voter, learner, outgoing-voter while joint), whether it leads, its
                     address, the log index the leader knows it holds (MATCH) and how far that is behind the
                     leader's commit index (LAG)
  add ID HOST:PORT   add ID, reached at HOST:PORT, as a voter; with --learner, as a learner (receives the
                     log, does not vote). A new node is simpler to add with "tsraft serve --join", which adds
                     it as a learner and promotes it once it caught up
  promote ID         make the learner ID a voter; refused (NOT_CAUGHT_UP) while its log is more than
                     --max-lag entries behind the leader's commit index (default ${DEFAULT_PROMOTE_MAX_LAG}); --force skips the check
  remove ID          remove ID (voter or learner); its process then exits with status 3. Removing the
                     leader is allowed: it hands leadership to another voter once the change is applied
  replace OLD NEW    in one change, make the learner NEW a voter and remove the voter OLD (through a joint
                     configuration, which the leader leaves by itself; answered once it is left): replaces a
                     dead or retiring voter without a moment with an even number of voters. NEW must be a
                     caught-up learner, as for promote
  --expect-config CONFIG   refuse (CONFIG_MISMATCH) unless the configuration is still CONFIG, the "config"
                           that "member list" printed: a change decided on what you saw, not on what changed since
  --json             print the membership after the change (or the list) as JSON
Exit status: 0 if the change was applied, 1 if it was refused or failed, 2 for bad arguments.

${CLIENT_FLAGS}`,
  'transfer-leader': () => `Usage: tsraft transfer-leader ID [--json] [client flags]

Hands leadership to the voter ID (it must be caught up; the transfer is asked again each election timeout
until the deadline) and prints "leader is now ID (term T)".

${CLIENT_FLAGS}`,
  cluster: () => `Usage: tsraft cluster [--dir DIR] [--base-port N] [--nodes N] [--transport streaming|unary]

Runs a local cluster: one "tsraft serve" child process per node, node K (n1, n2, ...) listening on
127.0.0.1:<base-port + K - 1> with metrics on 127.0.0.1:<base-port + 100 + K - 1>, its data in DIR/nK
and its output appended to DIR/nK.log. Waits until every node answers and a leader is elected, prints how to
use the cluster, and stays up until Ctrl-C or SIGTERM, which stops every node. Running it again with the
same DIR resumes the same cluster and data.
  --dir DIR          cluster directory (default ./.tsraft-cluster)
  --base-port N      first node's port (default 7001)
  --nodes N          number of nodes (default 3)
  --transport KIND   peer transport, streaming or unary (default streaming)
Exit status: 0 after Ctrl-C or SIGTERM, 1 if the cluster did not come up, 2 for bad flags or a port in use.
`,
  help: () => MAIN_USAGE,
};
