// End-to-end: real `tsraft serve` processes on loopback, on the streaming transport.
import { describeKvCluster } from '../test-support/kv-cluster-scenarios.js';

describeKvCluster('streaming');
