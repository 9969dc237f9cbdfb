import { z } from 'zod';
import { SimError } from '../errors.ts';
import { renderTagGroup } from './render.ts';
import { route, type Route } from './route.ts';

const ListBody = z.object({ tag_id: z.array(z.string()).optional(), group_id: z.array(z.string()).optional() });

const AddBody = z.object({
  group_id: z.string().optional(),
  group_name: z.string().optional(),
  order: z.number().int().optional(),
  tag: z.array(z.object({ name: z.string().min(1).max(30), order: z.number().int().optional() })).min(1),
});

const EditBody = z.object({ id: z.string(), name: z.string().min(1).max(30).optional(), order: z.number().int().optional() });

const DeleteBody = z.object({ tag_id: z.array(z.string()).default([]), group_id: z.array(z.string()).default([]) });

const MarkBody = z.object({
  userid: z.string(),
  external_userid: z.string(),
  add_tag: z.array(z.string()).default([]),
  remove_tag: z.array(z.string()).default([]),
});

export const tagRoutes: Record<string, Route> = {
  '/externalcontact/get_corp_tag_list': route(({ body, state }) => {
    const request = ListBody.parse(body ?? {});
    // As in WeCom, tag_id wins over group_id when both are given.
    if (request.tag_id?.length) {
      const wanted = new Set(request.tag_id);
      const groups = state.tagGroups.filter((g) => g.tags.some((t) => wanted.has(t.id)));
      return { tag_group: groups.map((g) => renderTagGroup(g, wanted)) };
    }
    const groups = request.group_id?.length
      ? state.tagGroups.filter((g) => request.group_id!.includes(g.groupId))
      : state.tagGroups;
    return { tag_group: groups.map((g) => renderTagGroup(g)) };
  }),

  '/externalcontact/add_corp_tag': route(({ body, state }) => {
    const request = AddBody.parse(body);
    const before = new Set(state.tagGroups.flatMap((g) => g.tags.map((t) => t.id)));
    const group = state.addTags({
      ...(request.group_id === undefined ? {} : { groupId: request.group_id }),
      ...(request.group_name === undefined ? {} : { groupName: request.group_name }),
      ...(request.order === undefined ? {} : { order: request.order }),
      tags: request.tag,
    });
    // WeCom answers with the group and only the tags this call created.
    const created = new Set(group.tags.filter((t) => !before.has(t.id)).map((t) => t.id));
    return { tag_group: renderTagGroup(group, created) };
  }),

  '/externalcontact/edit_corp_tag': route(({ body, state }) => {
    const request = EditBody.parse(body);
    const group = state.tagGroups.find((g) => g.groupId === request.id);
    if (group) {
      // As in WeCom, group names are unique in the corp and tag names within their group (40071).
      if (request.name !== undefined && state.tagGroups.some((g) => g !== group && g.groupName === request.name)) throw new SimError(40071);
      if (request.name !== undefined) group.groupName = request.name;
      if (request.order !== undefined) group.order = request.order;
    } else {
      const { group: owner, tag } = state.requireTag(request.id);
      if (request.name !== undefined && owner.tags.some((t) => t !== tag && t.name === request.name)) throw new SimError(40071);
      if (request.name !== undefined) tag.name = request.name;
      if (request.order !== undefined) tag.order = request.order;
    }
    return {};
  }),

  '/externalcontact/del_corp_tag': route(({ body, state }) => {
    const request = DeleteBody.parse(body);
    if (!request.tag_id.length && !request.group_id.length) throw new SimError(40058, 'tag_id or group_id required');
    state.deleteTags(request.tag_id, request.group_id);
    return {};
  }),

  '/externalcontact/mark_tag': route(({ body, state }) => {
    const request = MarkBody.parse(body);
    if (!request.add_tag.length && !request.remove_tag.length) throw new SimError(40058, 'add_tag or remove_tag required');
    state.markTags(request.userid, request.external_userid, request.add_tag, request.remove_tag);
    return {};
  }),
};
