import type { ContactSnapshot, GroupSnapshot } from '../../contacts/index.ts';
import type { CorpTagGroup, ExternalContactDetail, ExternalContactWithFollow, GroupChatDetail } from '../client/index.ts';

const fromUnix = (seconds: number) => new Date(seconds * 1000);

/** WeCom's externalcontact/get answer → the pool's snapshot. Only corp tags (type 1) carry ids we can mirror. */
export function contactSnapshot(detail: ExternalContactDetail): ContactSnapshot {
  const c = detail.external_contact;
  return {
    externalUserId: c.external_userid,
    unionId: c.unionid ?? null,
    name: c.name,
    avatar: c.avatar ?? '',
    type: c.type === 2 ? 2 : 1,
    gender: c.gender === 1 || c.gender === 2 ? c.gender : 0,
    corpName: c.corp_name ?? '',
    corpFullName: c.corp_full_name ?? '',
    position: c.position ?? '',
    follows: detail.follow_user.map((f) => ({
      userId: f.userid,
      remark: f.remark ?? '',
      description: f.description ?? '',
      remarkMobiles: f.remark_mobiles ?? [],
      addedAt: fromUnix(f.createtime),
      tagIds: f.tags.filter((t) => t.type === 1 && t.tag_id).map((t) => t.tag_id!),
      state: f.state ?? null,
      addWay: f.add_way ?? null,
    })),
  };
}

export function groupSnapshot(chat: GroupChatDetail): GroupSnapshot {
  return {
    chatId: chat.chat_id,
    name: chat.name,
    owner: chat.owner,
    notice: chat.notice ?? '',
    adminList: chat.admin_list.map((a) => a.userid),
    createdAt: fromUnix(chat.create_time),
    members: chat.member_list.map((m) => ({
      userId: m.userid,
      type: m.type,
      unionId: m.unionid ?? null,
      name: m.name ?? m.group_nickname ?? '',
      joinTime: fromUnix(m.join_time),
      joinScene: m.join_scene,
      invitor: m.invitor?.userid ?? null,
    })),
  };
}

export function tagRows(groups: CorpTagGroup[]) {
  return groups
    .filter((g) => !g.deleted)
    .flatMap((g) =>
      g.tag
        .filter((t) => !t.deleted)
        .map((t) => ({ tagId: t.id, name: t.name, groupId: g.group_id, groupName: g.group_name, order: t.order ?? 0, groupOrder: g.order ?? 0 })),
    );
}

/** One (customer, rep) pair from batch/get_by_user → a snapshot with that single follow. */
export function pairSnapshot(pair: ExternalContactWithFollow): ContactSnapshot {
  const f = pair.follow_info;
  return contactSnapshot({
    external_contact: pair.external_contact,
    follow_user: [{ ...f, tags: f.tag_id.map((tag_id) => ({ type: 1, tag_id })) }],
  });
}
