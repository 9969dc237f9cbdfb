import { describe, expect, it } from 'vitest';
import { decideReply, normalize, tagsFor, type FaqEntry } from '../../server/src/bot/replies.ts';

const FAQ: FaqEntry[] = [
  { key: 'price', content: '{{name}}，专业版 3,980 元/年', keywords: ['价格', '多少钱'] },
  { key: 'price-discount', content: '年付 8.5 折', keywords: ['价格优惠', '折扣'] },
  { key: 'trial', content: '可以免费试用 14 天', keywords: ['试用', 'Demo'] },
];

describe('reply logic', () => {
  it('answers with the FAQ entry whose keyword matches, the most specific keyword winning', () => {
    expect(decideReply('请问价格是多少？', FAQ)).toMatchObject({ kind: 'answer', entry: { key: 'price' }, keyword: '价格' });
    expect(decideReply('有价格优惠吗', FAQ)).toMatchObject({ kind: 'answer', entry: { key: 'price-discount' } });
    expect(decideReply('能看个 DEMO 吗', FAQ)).toMatchObject({ kind: 'answer', entry: { key: 'trial' } });
  });

  it('hands off when the customer asks for a person, even if a keyword also matches', () => {
    for (const text of ['转人工', '我要找人工', '客服在吗', '价格我想和客服聊']) {
      expect(decideReply(text, FAQ)).toEqual({ kind: 'handoff', reason: 'asked_for_human' });
    }
  });

  it('hands off a question the FAQ cannot answer, and ignores small talk', () => {
    expect(decideReply('你们支持 Salesforce 集成吗', FAQ)).toEqual({ kind: 'handoff', reason: 'unanswered' });
    expect(decideReply('发票怎么开?', FAQ)).toEqual({ kind: 'handoff', reason: 'unanswered' });
    expect(decideReply('好的，谢谢', FAQ)).toEqual({ kind: 'ignore' });
    expect(decideReply('   ', FAQ)).toEqual({ kind: 'ignore' });
  });

  it('matches on what was said, not on the @mention of a room message', () => {
    expect(normalize('@小微\u2005价格 ')).toBe('价格');
    expect(decideReply('@价格助手 好的', FAQ)).toEqual({ kind: 'ignore' });
  });

  it('gives each tag whose keywords appear, once', () => {
    const rules = [
      { tag: 'A类-高意向', keywords: ['报价', '多少钱'] },
      { tag: '私有化部署', keywords: ['私有化'] },
      { tag: '试用', keywords: ['试用'] },
    ];
    expect(tagsFor('报价多少钱？能私有化吗', rules)).toEqual(['A类-高意向', '私有化部署']);
    expect(tagsFor('你好', rules)).toEqual([]);
  });
});
