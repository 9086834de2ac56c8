import { afterAll, beforeAll } from 'vitest';
import { createKafkaTransport } from '../../src/topology/transport/kafka-transport.js';
import type { Transport } from '../../src/topology/transport/types.js';
import type { ScratchBroker } from './scratch-broker.js';

/** Tests that kill their own broker all start it, and a transport over it, before the suite and remove both after, so the lifecycle lives here once. */
export function scratchBrokerTransport(broker: ScratchBroker): () => Transport {
  let transport: Transport | undefined;

  beforeAll(async () => {
    await broker.start();
    transport = createKafkaTransport({ brokers: broker.address });
  });

  afterAll(async () => {
    await transport?.close();
    await broker.remove();
  });

  return () => transport!;
}
