export {
  generateTestCertificates,
  hasOpenssl,
  type TestCertificates,
  type TestTlsFiles,
} from './test-certificates.js';
export {
  type ConformanceNetwork,
  type ConformanceNetworkOptions,
  type ConformanceNodeOptions,
  runTransportConformance,
  type TransportConformanceTarget,
} from './transport-conformance.js';
