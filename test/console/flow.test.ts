import { describe, expect, it } from 'vitest';
import type { Step } from '../../sidebar/src/shared/journey.ts';
import { findNode, insertNode, makeNode, moveNode, newStepId, removeNode, toFlow, toSteps, type BranchNode, type Lane } from '../../sidebar/src/console/pages/journeys/flow.ts';

const send = (id: string, extra: Partial<Step> = {}): Step => ({ id, type: 'mass_send', content: { text: id, attachments: [] }, ...extra }) as Step;
const branch = (id: string, then?: string, otherwise?: string): Step => ({ id, type: 'branch', if: { replied: true }, ...(then ? { then } : {}), ...(otherwise ? { else: otherwise } : {}) });
const ids = (lane: Lane): string[] => lane.nodes.map((n) => n.step.id);
const order = (steps: Step[]) => steps.map((s) => (s.type === 'branch' ? `${s.id}(${s.then ?? '∅'}|${s.else ?? '∅'})` : s.id));

/** Runs the journey the way the engine does: next in order, or where a branch points. */
function path(steps: Step[], replied: boolean): string[] {
  const seen: string[] = [];
  let i = 0;
  while (i < steps.length) {
    const s = steps[i]!;
    if (s.type !== 'branch') {
      seen.push(s.id);
      i += 1;
      continue;
    }
    const to = replied ? s.then : s.else;
    if (to === undefined) break;
    i = steps.findIndex((x) => x.id === to);
  }
  return seen;
}

describe('journey flow ↔ step list', () => {
  it('draws the nurture template as two lanes that rejoin, and saves it back with the same paths', () => {
    const steps = [
      send('d1'),
      branch('check', 'case', 'nudge'),
      send('nudge'),
      branch('skip', 'offer', 'offer'),
      send('case'),
      send('offer'),
      branch('still', undefined, 'call'),
      { id: 'call', type: 'rep_task', title: 'call', dueInDays: 2 } as Step,
    ];
    const { root, lossy } = toFlow(steps);
    expect(lossy).toBe(false);
    expect(ids(root)).toEqual(['d1', 'check', 'offer', 'still']);
    const check = findNode(root, 'check') as BranchNode;
    expect(ids(check.yes)).toEqual(['case']);
    expect(ids(check.no)).toEqual(['nudge']);
    expect(check.jumpIds).toEqual(['skip']);
    const still = findNode(root, 'still') as BranchNode;
    expect(ids(still.yes)).toEqual([]);
    expect(ids(still.no)).toEqual(['call']);

    const saved = toSteps(root).steps;
    // The hidden jump keeps its id, now after the yes lane.
    expect(order(saved)).toEqual(['d1', 'check(case|nudge)', 'case', 'skip(offer|offer)', 'nudge', 'offer', 'still(∅|call)', 'call']);
    for (const replied of [true, false]) expect(path(saved, replied)).toEqual(path(steps, replied));
  });

  it('reads a lane that ends the journey', () => {
    const { root } = toFlow([branch('b', 'y', undefined), send('y'), send('after')]);
    const b = findNode(root, 'b') as BranchNode;
    expect(ids(b.yes)).toEqual(['y', 'after']);
    expect(ids(b.no)).toEqual([]);
    expect(toSteps(root).steps.map((s) => s.id)).toEqual(['b', 'y', 'after']);
  });

  it('writes jumps only where a lane would fall into the other one', () => {
    const root: Lane = { nodes: [], end: false };
    insertNode(root, { branchId: null }, 0, makeNode('mass_send', 'a', 'a'));
    insertNode(root, { branchId: null }, 1, makeNode('branch', 'b', 'b'));
    insertNode(root, { branchId: null }, 2, makeNode('rep_task', 'z', 'z'));
    insertNode(root, { branchId: 'b', side: 'yes' }, 0, makeNode('mass_send', 'y1', 'y1'));
    insertNode(root, { branchId: 'b', side: 'no' }, 0, makeNode('mass_send', 'n1', 'n1'));
    const { steps, owners } = toSteps(root);
    expect(order(steps)).toEqual(['a', 'b(y1|n1)', 'y1', 'join-1(z|z)', 'n1', 'z']);
    expect(owners.get('join-1')).toBe('b');
    expect(path(steps, true)).toEqual(['a', 'y1', 'z']);
    expect(path(steps, false)).toEqual(['a', 'n1', 'z']);
    // And it reads back into the same picture.
    const again = toFlow(steps).root;
    expect(ids(again)).toEqual(['a', 'b', 'z']);
    expect(ids((findNode(again, 'b') as BranchNode).yes)).toEqual(['y1']);
  });

  it('ends one lane while the other rejoins', () => {
    const root: Lane = { nodes: [makeNode('branch', 'b', 'b'), makeNode('mass_send', 'z', 'z')], end: false };
    const b = findNode(root, 'b') as BranchNode;
    b.yes.nodes.push(makeNode('mass_send', 'y', 'y'));
    b.yes.end = true;
    const { steps } = toSteps(root);
    expect(order(steps)).toEqual(['b(y|z)', 'y', 'join-1(∅|∅)', 'z']);
    expect(path(steps, true)).toEqual(['y']);
    expect(path(steps, false)).toEqual(['z']);
    // Read back, what only the "no" lane reaches is drawn inside it: the same journey, drawn plainer.
    const back = findNode(toFlow(steps).root, 'b') as BranchNode;
    expect(ids(back.yes)).toEqual(['y']);
    expect(ids(back.no)).toEqual(['z']);
    expect(order(toSteps(toFlow(steps).root).steps)).toEqual(order(steps));
  });

  it('an empty lane goes straight to the step after the branch; nested branches rejoin the outer flow', () => {
    const root: Lane = { nodes: [makeNode('branch', 'outer', 'o'), makeNode('mass_send', 'z', 'z')], end: false };
    const outer = findNode(root, 'outer') as BranchNode;
    outer.yes.nodes.push(makeNode('branch', 'inner', 'i'));
    const inner = findNode(root, 'inner') as BranchNode;
    inner.yes.nodes.push(makeNode('mass_send', 'iy', 'iy'));
    const { steps } = toSteps(root);
    expect(order(steps)).toEqual(['outer(inner|z)', 'inner(iy|z)', 'iy', 'z']);
    const back = toFlow(steps);
    expect(back.lossy).toBe(false);
    expect(ids((findNode(back.root, 'inner') as BranchNode).yes)).toEqual(['iy']);
  });

  it('moves within a lane, deletes a branch with its lanes, and never reuses an id', () => {
    const root: Lane = { nodes: [makeNode('mass_send', 'send-1', 's'), makeNode('branch', 'branch-1', 'b'), makeNode('mass_send', 'send-2', 's')], end: false };
    (findNode(root, 'branch-1') as BranchNode).no.nodes.push(makeNode('mass_send', 'send-3', 's'));
    expect(moveNode(root, 'send-2', -1)).toBe(true);
    expect(ids(root)).toEqual(['send-1', 'send-2', 'branch-1']);
    expect(moveNode(root, 'send-1', -1)).toBe(false);
    expect(moveNode(root, 'send-3', 1)).toBe(false);
    expect(newStepId(root, 'mass_send')).toBe('send-4');
    expect(removeNode(root, 'branch-1')).toBe(true);
    expect(ids(root)).toEqual(['send-1', 'send-2']);
    expect(findNode(root, 'send-3')).toBeUndefined();
  });

  it('flags a journey it cannot draw in full instead of dropping steps silently', () => {
    expect(toFlow([branch('b', 'x', 'x'), send('lost'), send('x')]).lossy).toBe(true);
    expect(toFlow([send('a'), send('b')]).lossy).toBe(false);
  });
});
