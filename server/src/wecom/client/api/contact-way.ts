import { z } from 'zod';
import { post, type Call } from '../endpoint.ts';

export interface AddContactWayRequest {
  /** 1 = one rep, 2 = several reps. */
  type: 1 | 2;
  /** 1 = mini-program button, 2 = QR code. */
  scene: 1 | 2;
  /** Comes back as State in add_external_contact; at most 30 characters. */
  state?: string;
  user?: string[];
  party?: number[];
  skip_verify?: boolean;
  remark?: string;
  style?: number;
}

const AddResponse = z.object({ config_id: z.string(), qr_code: z.string().optional() });
export type ContactWay = z.infer<typeof AddResponse>;

// Each call creates another channel QR.
const ADD = post('/externalcontact/add_contact_way', AddResponse, { idempotent: false });

export function contactWayApi(call: Call) {
  return {
    add: (request: AddContactWayRequest) => call(ADD, { body: request }),
  };
}
