// The deterministic simulator: run a cluster of real cores under faults, check it, replay any seed.

export * from './conformance/index.js';
// Conformance suites that every implementation of a core interface must pass.
export {
  describeLogStorageConformance,
  type LogStorageFactory,
  type LogStorageUnderTest,
} from './conformance/log-storage-conformance.js';
// The linearizability checker (Wing & Gong with Lowe's memoization) and its register model.
export * from './linearizability/index.js';
// Network test helpers.
export { type FreezableProxy, freezableProxy } from './net/freezable-proxy.js';
// Building blocks, for custom drivers of the simulation.
export { type ClientOptions, ClientPool, type ProbeState } from './sim/client-pool.js';
export { EventQueue, type Scheduled } from './sim/event-queue.js';
export { FaultInjector, type FaultKind, type FaultProfile } from './sim/fault-injector.js';
export {
  type MembershipAction,
  MembershipChanger,
  type MembershipProfile,
  type MembershipStats,
} from './sim/membership-changer.js';
export { type NetworkProfile, RELIABLE_NETWORK, type Route, SimNetwork } from './sim/network.js';
export type { NodeRequest, RequestOutcome } from './sim/node-request.js';
export {
  decodeRegisterCommand,
  encodeRegisterCommand,
  type RegisterCommand,
  type RegisterResult,
  RegisterStateMachine,
} from './sim/register-state-machine.js';
export {
  checkRegisterHistory,
  createRegisterWorkload,
  type RegisterWorkloadOptions,
} from './sim/register-workload.js';
export {
  BASE_TICK_MS,
  chooseRunPlan,
  describeRunPlan,
  type RunPlan,
  type RunPlanOptions,
  type RunStyle,
} from './sim/run-plan.js';
export {
  LIVENESS_BOUND_ELECTION_TIMEOUTS,
  livenessBacklogAllowanceMs,
  type RunSeedOptions,
  runSeed,
  type SeedFailure,
  type SeedReport,
} from './sim/run-seed.js';
export {
  importWorkloadModule,
  type RunSeedsOptions,
  type RunSeedsResult,
  rawNodeFactoryFor,
  runSeeds,
  UNSAFE_CORE_FAULTS,
  type UnsafeCoreFault,
  type WorkloadModule,
} from './sim/run-seeds.js';
export { type CheckerClock, type DurableView, describeConf, SafetyChecker } from './sim/safety-checker.js';
export { formatSeedReport, type SeedReportFormat } from './sim/seed-report-format.js';
export { ShadowLog } from './sim/shadow-log.js';
export type {
  CallEvent,
  DeliverEvent,
  PersistEvent,
  ReportEvent,
  RequestEvent,
  SimEvent,
  TickEvent,
} from './sim/sim-events.js';
export type { SimMembership } from './sim/sim-node.js';
export { SimRandom } from './sim/sim-random.js';
export { type RequestHandle, type SimNodeStatus, type SimStats, Simulation } from './sim/simulation.js';
export type {
  DiskProfile,
  RawNodeFactory,
  SimRaftSettings,
  SimulationOptions,
} from './sim/simulation-options.js';
export { formatEvent, formatMessage, type TraceOptions, TraceRecorder } from './sim/trace.js';
export { type InvariantCode, InvariantViolation } from './sim/violation.js';
// Workloads: the register workload (linearizability-checked) and your own state machine.
export {
  type ClientOperation,
  type ClientOperationStatus,
  type CommandWorkloadOptions,
  createCommandWorkload,
  type SimRequest,
  type SimWorkload,
  type WorkloadVerdict,
} from './sim/workload.js';
