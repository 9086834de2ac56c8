import { MemoryStore } from '../../../src/state/memory-store.js';
import { describeKeyValueStoreContract } from './key-value-store-contract.js';

describeKeyValueStoreContract('MemoryStore', async () => new MemoryStore('test'));
