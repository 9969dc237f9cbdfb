import { describe, expect, it } from 'vitest';
import { DEMO_SCRIPTS, scriptInput } from '../../server/src/script-library/index.ts';
import { jsapiSignature, rankScripts, scoreContact, type ScoreFacts } from '../../server/src/sidebar-api/index.ts';
import { STAGES } from '../../server/src/sop/index.ts';
import { STAGES as BROWSER_STAGES } from '../../sidebar/src/shared/stages.ts';

describe('JS-SDK signature', () => {
  it('matches the official vector (path/90506)', () => {
    expect(
      jsapiSignature({
        ticket: 'sM4AOVdWfPE4DxkXGEs8VMCPGGVi4C3VM0P37wVUCFvkVAy_90u5h9nbSlYy3-Sl-HhTdfl2fzFy1AOcHKP7qg',
        nonceStr: 'Wm3WZYTPz0wzccnW',
        timestamp: 1414587457,
        url: 'http://mp.weixin.qq.com?params=value',
      }),
    ).toBe('0f9de62fce790f9a083d5c99e95740ceb90c27ed');
  });

  it('signs the URL without its fragment', () => {
    const base = { ticket: 't', nonceStr: 'n', timestamp: 1 };
    expect(jsapiSignature({ ...base, url: 'https://x.test/sidebar/?a=1#tab' })).toBe(jsapiSignature({ ...base, url: 'https://x.test/sidebar/?a=1' }));
  });
});

describe('lead score', () => {
  const now = new Date('2026-06-01T00:00:00Z');
  const daysAgo = (n: number) => new Date(now.getTime() - n * 86_400_000);
  const none: ScoreFacts = { lastActivityAt: null, recentReplies: 0, orders: 0, tagNames: [], groupCount: 0 };

  it('is 0 with no signal at all', () => {
    expect(scoreContact(none, now)).toEqual({ value: 0, reasons: [] });
  });

  it('adds up each rule and says why', () => {
    const score = scoreContact({ lastActivityAt: daysAgo(2), recentReplies: 3, orders: 1, tagNames: ['抖音', 'B类-跟进中'], groupCount: 1 }, now);
    expect(score.reasons.map((r) => [r.code, r.points])).toEqual([
      ['active_7d', 25],
      ['replies', 15],
      ['orders', 20],
      ['intent_tag', 10],
      ['groups', 5],
    ]);
    expect(score.value).toBe(75);
    expect(score.reasons.find((r) => r.code === 'intent_tag')!.text).toBe('意向标签：B类-跟进中');
  });

  it('reaches exactly 100 with every signal at its cap, and counts the strongest intent tag once', () => {
    const score = scoreContact({ lastActivityAt: daysAgo(0), recentReplies: 9, orders: 3, tagNames: ['B类-跟进中', 'A类-高意向'], groupCount: 2 }, now);
    expect(score.value).toBe(100);
    expect(score.reasons.filter((r) => r.code === 'intent_tag').map((r) => r.value)).toEqual(['A类-高意向']);
  });

  it('gives less for activity within 30 days than within 7, and nothing beyond', () => {
    expect(scoreContact({ ...none, lastActivityAt: daysAgo(20) }, now).value).toBe(10);
    expect(scoreContact({ ...none, lastActivityAt: daysAgo(31) }, now).value).toBe(0);
  });
});

describe('script ranking', () => {
  const library = DEMO_SCRIPTS.map(({ key, ...input }) => ({ key, ...scriptInput.parse(input) }));

  it('puts the active SOP step first, then what the customer asked, then tags and stage, each with its reason', () => {
    const ranked = rankScripts(library, {
      stage: 'new',
      tagNames: ['抖音', 'B类-跟进中'],
      activeSteps: ['renewal/first-notice'],
      recentTexts: ['你们专业版多少钱？'],
    });
    const renewal = library.find((s) => s.sopSteps.includes('renewal/first-notice'))!;
    expect(ranked[0]!.key).toBe(renewal.key);
    expect(ranked[0]!.reasons[0]).toMatchObject({ code: 'sop_step', text: '当前 SOP 步骤：renewal/first-notice' });
    expect(ranked[1]).toMatchObject({ key: 'greet-douyin', fit: 35 });
    expect(ranked[1]!.reasons.map((r) => r.text)).toEqual(['匹配标签：抖音', '适合阶段：新客']);
    const price = ranked.find((s) => s.key === 'price-overview')!;
    expect(price.reasons).toEqual([{ code: 'keyword', value: '多少钱', text: '客户提到：多少钱' }]);
    const fits = ranked.map((s) => s.fit);
    expect(fits).toEqual([...fits].sort((a, b) => b - a));
  });

  it('keeps the library order for scripts that fit nothing', () => {
    const ranked = rankScripts(library, { stage: null, tagNames: [], activeSteps: [], recentTexts: [] });
    expect(ranked.map((s) => s.key)).toEqual(library.map((s) => s.key));
    expect(ranked.every((s) => s.fit === 0 && s.reasons.length === 0)).toBe(true);
  });
});

describe('browser copy of the lifecycle stages', () => {
  it('lists exactly the stages the server computes, in its order', () => {
    expect([...BROWSER_STAGES]).toEqual([...STAGES]);
  });
});
