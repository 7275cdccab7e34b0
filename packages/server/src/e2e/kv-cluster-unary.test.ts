// End-to-end: real `tsraft serve` processes on loopback, on the unary transport.
import { describeKvCluster } from '../test-support/kv-cluster-scenarios.js';

describeKvCluster('unary');
