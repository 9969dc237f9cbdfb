import type { SimState } from './state.ts';

/** A small, plausible corp for demo mode: a sales team, its tag library, customers and groups. */

const REPS = [
  { userid: 'zhangwei', name: '张伟', position: '销售经理' },
  { userid: 'lina', name: '李娜', position: '客户成功经理' },
  { userid: 'wangfang', name: '王芳', position: '销售顾问' },
  { userid: 'liuyang', name: '刘洋', position: '销售顾问' },
];

const TAG_LIBRARY: Record<string, string[]> = {
  客户等级: ['A类-高意向', 'B类-跟进中', 'C类-观望'],
  意向产品: ['企业版', '专业版', '私有化部署'],
  来源渠道: ['抖音', '百度推广', '线下展会', '老客转介绍'],
  生命周期: ['新客', '活跃', '沉睡', '已成交'],
};

/** Channel QR states, the way operators name them: channel_campaign. */
const CHANNELS = [
  { state: 'douyin_618', user: ['wangfang'], remark: '抖音 618 直播间' },
  { state: 'baidu_sem', user: ['liuyang'], remark: '百度推广落地页' },
  { state: 'expo_sh_2024', user: ['zhangwei', 'lina'], remark: '上海零售展展位' },
  { state: 'referral', user: ['lina'], remark: '老客转介绍海报' },
];

interface DemoCustomer {
  name: string;
  gender: 1 | 2;
  corpName: string;
  rep: string;
  remark: string;
  description: string;
  state: string;
  daysAgo: number;
  tags: string[];
  /** The rep's 备注手机号, as a rep types it. */
  mobiles?: string[];
}

const CUSTOMERS: DemoCustomer[] = [
  { name: '陈静', gender: 2, corpName: '杭州云帆科技有限公司', rep: 'zhangwei', remark: '陈静-云帆科技-CTO', description: '关注私有化部署，预算已批', state: 'expo_sh_2024', daysAgo: 40, tags: ['A类-高意向', '私有化部署', '线下展会', '活跃'], mobiles: ['+86 138-0571-2233'] },
  { name: '赵磊', gender: 1, corpName: '深圳微光电子有限公司', rep: 'wangfang', remark: '赵磊-微光电子', description: '直播间咨询价格', state: 'douyin_618', daysAgo: 12, tags: ['B类-跟进中', '专业版', '抖音', '新客'] },
  { name: '孙丽', gender: 2, corpName: '成都蜀香餐饮管理有限公司', rep: 'liuyang', remark: '孙丽-蜀香餐饮-运营总监', description: '12 家门店，想做会员私域', state: 'baidu_sem', daysAgo: 25, tags: ['A类-高意向', '企业版', '百度推广', '活跃'] },
  { name: '周强', gender: 1, corpName: '北京启明教育科技有限公司', rep: 'lina', remark: '周强-启明教育', description: '老客户，续费季', state: 'referral', daysAgo: 380, tags: ['已成交', '企业版', '老客转介绍'] },
  { name: '吴敏', gender: 2, corpName: '上海悦己美妆有限公司', rep: 'lina', remark: '吴敏-悦己美妆-品牌负责人', description: '试用中', state: 'expo_sh_2024', daysAgo: 33, tags: ['B类-跟进中', '专业版', '线下展会'] },
  { name: '郑浩', gender: 1, corpName: '广州速达物流有限公司', rep: 'liuyang', remark: '郑浩-速达物流', description: '三个月未回复', state: 'baidu_sem', daysAgo: 120, tags: ['C类-观望', '百度推广', '沉睡'] },
  { name: '黄婷', gender: 2, corpName: '苏州织梦家纺有限公司', rep: 'wangfang', remark: '黄婷-织梦家纺', description: '直播间下单了体验包', state: 'douyin_618', daysAgo: 5, tags: ['A类-高意向', '专业版', '抖音', '新客'] },
  { name: '林涛', gender: 1, corpName: '厦门海岸咖啡有限公司', rep: 'zhangwei', remark: '林涛-海岸咖啡-创始人', description: '门店扩张期，关注社群运营', state: 'expo_sh_2024', daysAgo: 60, tags: ['B类-跟进中', '企业版', '线下展会', '活跃'] },
];

const GROUPS = [
  { name: '云帆客户企业版交流群', owner: 'zhangwei', admins: ['lina'], reps: ['zhangwei', 'lina'], customers: ['陈静', '孙丽', '周强', '林涛'] },
  { name: '美妆行业私域增长群', owner: 'lina', admins: [], reps: ['lina', 'wangfang'], customers: ['吴敏', '黄婷', '赵磊'] },
];

const DAY_S = 86_400;

export function seedDemoCorp(state: SimState): void {
  for (const rep of REPS) state.addRep(rep);

  const tagIds = new Map<string, string>();
  Object.entries(TAG_LIBRARY).forEach(([groupName, names], order) => {
    const group = state.addTags({ groupName, order, tags: names.map((name, i) => ({ name, order: i })) });
    for (const tag of group.tags) tagIds.set(tag.name, tag.id);
  });

  for (const channel of CHANNELS) {
    state.addContactWay({ type: channel.user.length > 1 ? 2 : 1, scene: 2, skipVerify: true, ...channel });
  }

  const now = state.nowSeconds();
  const customerIds = new Map<string, string>();
  for (const customer of CUSTOMERS) {
    const contact = state.addContact(
      { name: customer.name, gender: customer.gender, corpName: customer.corpName },
      [
        {
          userid: customer.rep,
          remark: customer.remark,
          description: customer.description,
          createtime: now - customer.daysAgo * DAY_S,
          state: customer.state,
          addWay: 1,
          tagIds: customer.tags.map((name) => tagIds.get(name)!),
          ...(customer.mobiles ? { remarkMobiles: customer.mobiles } : {}),
        },
      ],
    );
    customerIds.set(customer.name, contact.externalUserid);
  }

  for (const group of GROUPS) {
    const joined = now - 30 * DAY_S;
    state.addGroupChat({
      name: group.name,
      owner: group.owner,
      admins: group.admins,
      createTime: joined,
      members: [
        ...group.reps.map((userid) => ({ userid, type: 1 as const, joinTime: joined, joinScene: 1 as const })),
        ...group.customers.map((name) => ({
          userid: customerIds.get(name)!,
          type: 2 as const,
          joinTime: joined + DAY_S,
          joinScene: 3 as const,
          invitor: group.owner,
          name,
        })),
      ],
    });
  }
}
