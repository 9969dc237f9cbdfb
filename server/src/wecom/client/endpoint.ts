import type { FormData } from 'undici';
import type { z } from 'zod';

/** One qyapi operation: where it lives and what a successful answer must contain. */
export interface Endpoint<T> {
  /** Path relative to the API base, exactly as qyapi names it; also the `api` label in logs, errors and metrics. */
  path: string;
  method: 'GET' | 'POST';
  /**
   * Whether the call may be repeated after a network failure or a 5xx, when we cannot tell
   * whether WeCom carried it out. Reads are; sends and creations are not.
   */
  idempotent: boolean;
  response: z.ZodType<T>;
}

export type Query = Record<string, string | number | undefined>;

export interface CallInput {
  query?: Query;
  /** Sent as JSON. */
  body?: unknown;
  /** Sent as multipart/form-data instead of `body` (media/upload); undici writes the boundary. */
  form?: FormData;
}

/** Performs one authenticated API call with the client's token, throttling and retry policy. */
export type Call = <T>(endpoint: Endpoint<T>, input?: CallInput) => Promise<T>;

export function get<T>(path: string, response: z.ZodType<T>): Endpoint<T> {
  return { path, method: 'GET', idempotent: true, response };
}

export function post<T>(path: string, response: z.ZodType<T>, options: { idempotent: boolean }): Endpoint<T> {
  return { path, method: 'POST', idempotent: options.idempotent, response };
}
