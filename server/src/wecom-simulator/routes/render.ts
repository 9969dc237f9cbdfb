import type { SimContact, SimFollow, SimGroupChat, SimTagGroup } from '../model.ts';
import type { SimState } from '../state.ts';

/** The model in qyapi's JSON shapes. */

export function renderProfile(contact: SimContact) {
  return {
    external_userid: contact.externalUserid,
    name: contact.name,
    type: contact.type,
    avatar: contact.avatar,
    gender: contact.gender,
    ...(contact.unionid === undefined ? {} : { unionid: contact.unionid }),
    ...(contact.position === undefined ? {} : { position: contact.position }),
    ...(contact.corpName === undefined ? {} : { corp_name: contact.corpName, corp_full_name: contact.corpFullName }),
  };
}

function followFields(follow: SimFollow) {
  return {
    userid: follow.userid,
    remark: follow.remark,
    description: follow.description,
    createtime: follow.createtime,
    add_way: follow.addWay,
    oper_userid: follow.userid,
    remark_mobiles: follow.remarkMobiles,
    ...(follow.remarkCorpName === undefined ? {} : { remark_corp_name: follow.remarkCorpName }),
    ...(follow.state === undefined ? {} : { state: follow.state }),
  };
}

/** externalcontact/get expands tags with their names. */
export function renderFollowUser(state: SimState, follow: SimFollow) {
  return {
    ...followFields(follow),
    tags: follow.tagIds.flatMap((id) => {
      const found = state.findTag(id);
      return found ? [{ group_name: found.group.groupName, tag_name: found.tag.name, type: 1, tag_id: id }] : [];
    }),
  };
}

/** batch/get_by_user gives bare tag ids. */
export function renderFollowInfo(follow: SimFollow) {
  return { ...followFields(follow), tag_id: follow.tagIds };
}

export function renderTagGroup(group: SimTagGroup, tagIds?: ReadonlySet<string>) {
  return {
    group_id: group.groupId,
    group_name: group.groupName,
    create_time: group.createTime,
    order: group.order,
    tag: group.tags
      .filter((t) => !tagIds || tagIds.has(t.id))
      .map((t) => ({ id: t.id, name: t.name, create_time: t.createTime, order: t.order })),
  };
}

export function renderGroupChat(chat: SimGroupChat, needName: boolean) {
  return {
    chat_id: chat.chatId,
    name: chat.name,
    owner: chat.owner,
    create_time: chat.createTime,
    notice: chat.notice,
    member_list: chat.members.map((m) => ({
      userid: m.userid,
      type: m.type,
      join_time: m.joinTime,
      join_scene: m.joinScene,
      ...(m.invitor === undefined ? {} : { invitor: { userid: m.invitor } }),
      group_nickname: m.groupNickname ?? '',
      ...(needName && m.name !== undefined ? { name: m.name } : {}),
    })),
    admin_list: chat.admins.map((userid) => ({ userid })),
  };
}
