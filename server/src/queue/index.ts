export { withWorkFields, workFieldsDefinition, type WorkFields, type WorkStatus } from './fields.ts';
export { PermanentFailure, QueueWorker, type WorkOutcome, type WorkerOptions } from './worker.ts';
