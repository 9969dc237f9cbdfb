import { z } from 'zod';
import { route, type Route } from './route.ts';

const AddBody = z.object({
  type: z.union([z.literal(1), z.literal(2)]),
  scene: z.union([z.literal(1), z.literal(2)]),
  state: z.string().max(30).optional(),
  user: z.array(z.string()).min(1),
  skip_verify: z.boolean().default(true),
  remark: z.string().optional(),
});

export const contactWayRoutes: Record<string, Route> = {
  '/externalcontact/add_contact_way': route(({ body, state }) => {
    const request = AddBody.parse(body);
    const way = state.addContactWay({
      type: request.type,
      scene: request.scene,
      user: request.user,
      skipVerify: request.skip_verify,
      ...(request.state === undefined ? {} : { state: request.state }),
      ...(request.remark === undefined ? {} : { remark: request.remark }),
    });
    return { config_id: way.configId, ...(way.scene === 2 ? { qr_code: way.qrCode } : {}) };
  }),
};
