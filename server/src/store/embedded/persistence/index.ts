export { createPersistence } from './persistence.ts';
export type * from './contract.ts';
