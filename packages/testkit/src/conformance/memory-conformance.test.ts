import { createMemoryNetwork, type Transport } from '@tsraft/core';
import { runTransportConformance } from './transport-conformance.js';

runTransportConformance({
  name: 'in-memory',
  checksClusterId: false,
  supportsTls: false,
  createNetwork: () => {
    const network = createMemoryNetwork();
    const open: Transport[] = [];
    return {
      transport: (id) => {
        const transport = network.transport(id);
        open.push(transport);
        return transport;
      },
      close: async () => {
        await Promise.all(open.map((t) => t.close()));
      },
    };
  },
});
