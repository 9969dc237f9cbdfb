export { withWorkFields, workFieldsFor, type WorkFields, type WorkStatus } from './fields.ts';
export { DeferWork, PermanentFailure, QueueWorker, type WorkOutcome, type WorkerOptions } from './worker.ts';
