import type { SimState } from '../state.ts';

/** The `media` part of a multipart/form-data request (media/upload). */
export interface SimUpload {
  filename: string;
  contentType: string;
  bytes: Buffer;
}

export interface SimRequest {
  query: Record<string, string>;
  body: unknown;
  /** Present for a multipart request carrying a `media` file. */
  upload?: SimUpload;
  state: SimState;
}

export interface Route {
  /** Whether the request must carry a valid access_token (all but gettoken). */
  auth: boolean;
  /** Returns the answer's fields besides errcode/errmsg; throws SimError for a WeCom error. */
  handle(request: SimRequest): Record<string, unknown>;
}

export const route = (handle: Route['handle']): Route => ({ auth: true, handle });
