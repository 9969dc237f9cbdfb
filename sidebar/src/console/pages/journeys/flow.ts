import { cloneJson, type BranchStep, type Step, type StepType, type Target } from '../../../shared/journey.ts';

/**
 * The editor's picture of a journey: a vertical flow in which a branch owns two lanes (是 / 否)
 * that rejoin at the node after it. The server stores steps as one ordered list where a step runs
 * after the one before it unless a branch jumps ahead; a lane that must skip the other lane does so
 * with a hidden "jump" (a branch whose then and else are equal). toFlow/toSteps translate both ways.
 */
export type PlainStep = Exclude<Step, BranchStep>;
export interface Lane { nodes: FlowNode[]; /** The lane ends the journey instead of rejoining. */ end: boolean }
export interface StepNode { kind: 'step'; step: PlainStep }
export interface BranchNode {
  kind: 'branch';
  /** then/else are not kept here: toSteps works them out from the lanes. */
  step: Omit<BranchStep, 'then' | 'else'>;
  yes: Lane;
  no: Lane;
  /** Ids of the hidden jumps this branch had when loaded, reused so saves keep ids stable. */
  jumpIds: string[];
}
export type FlowNode = StepNode | BranchNode;
export type Side = 'yes' | 'no';
/** Where a node sits: the main flow (branchId null) or one lane of a branch. */
export interface LaneRef { branchId: string | null; side?: Side }

/** A hidden jump (then === else): only there so a lane skips the other one; the operator never drew it. */
export const isJump = (s: Step): boolean => s.type === 'branch' && s.then === s.else;

export function toFlow(steps: readonly Step[]): { root: Lane; lossy: boolean } {
  const END = steps.length;
  const index = new Map<string, number>();
  steps.forEach((s, i) => index.has(s.id) || index.set(s.id, i));
  const target = (id: string | undefined) => (id === undefined ? END : (index.get(id) ?? END));
  const successors = (i: number): number[] => {
    const s = steps[i];
    if (!s) return [];
    return s.type === 'branch' ? [target(s.then), target(s.else)] : [i + 1];
  };
  const memo = new Map<number, Set<number>>();
  const reach = (i: number): Set<number> => {
    let out = memo.get(i);
    if (out) return out;
    out = new Set([i]);
    // Jumps only go forward (rules.ts), so this terminates; a broken backward one is cut off here.
    for (const j of successors(i)) if (j > i) for (const k of reach(j)) out.add(k);
    memo.set(i, out);
    return out;
  };
  /** Where two paths meet again: the first step both reach (the end of the journey at worst). */
  const join = (a: number, b: number) => {
    const other = reach(b);
    return Math.min(END, ...[...reach(a)].filter((k) => other.has(k)));
  };

  const used = new Set<number>();
  let lossy = false;
  const parse = (start: number, stop: number, jumps: string[]): Lane => {
    const lane: Lane = { nodes: [], end: false };
    let i = start;
    while (i !== stop) {
      if (i >= END) {
        lane.end = true;
        break;
      }
      if (i > stop) {
        lossy = true;
        break;
      }
      const s = steps[i]!;
      if (used.has(i)) lossy = true;
      used.add(i);
      // A backward jump (rules.ts forbids them) would loop here: the journey is then only partly shown.
      const forward = (j: number) => (j > i ? j : ((lossy = true), END));
      if (s.type === 'branch' && isJump(s)) {
        jumps.push(s.id);
        i = forward(target(s.then));
      } else if (s.type === 'branch') {
        const { then: yesId, else: noId, ...step } = s;
        const a = forward(target(yesId));
        const b = forward(target(noId));
        const meet = Math.min(join(a, b), stop);
        const node: BranchNode = { kind: 'branch', step, yes: { nodes: [], end: false }, no: { nodes: [], end: false }, jumpIds: [] };
        node.yes = parse(a, meet, node.jumpIds);
        node.no = parse(b, meet, node.jumpIds);
        lane.nodes.push(node);
        i = meet;
      } else {
        lane.nodes.push({ kind: 'step', step: cloneJson(s) });
        i += 1;
      }
    }
    return lane;
  };
  const root = parse(0, END, []);
  if (used.size !== steps.length) lossy = true;
  return { root, lossy };
}

type Item = { step: Step } | { goto: string | undefined; owner: string };

/** The ordered step list the server stores, and which branch each generated jump belongs to. */
export function toSteps(root: Lane): { steps: Step[]; owners: Map<string, string> } {
  const items: Item[] = [];
  const branches = new Map<string, BranchNode>();
  const entry = (lane: Lane, cont: string | undefined) => lane.nodes[0]?.step.id ?? (lane.end ? undefined : cont);

  const emit = (lane: Lane, cont: string | undefined, owner: string | null) => {
    lane.nodes.forEach((node, k) => {
      const next = lane.nodes[k + 1]?.step.id ?? (lane.end ? undefined : cont);
      if (node.kind === 'step') {
        items.push({ step: node.step });
        return;
      }
      branches.set(node.step.id, node);
      const yes = entry(node.yes, next);
      const no = entry(node.no, next);
      items.push({ step: { ...node.step, ...(yes === undefined ? {} : { then: yes }), ...(no === undefined ? {} : { else: no }) } });
      emit(node.yes, next, node.step.id);
      emit(node.no, next, node.step.id);
    });
    if (owner !== null) items.push({ goto: lane.end ? undefined : cont, owner });
  };
  emit(root, undefined, null);

  // A jump is needed only where a step would otherwise fall through into the wrong lane.
  const reachable: Item[] = [];
  for (const item of items) {
    const prev = reachable[reachable.length - 1];
    if ('step' in item || (prev && 'step' in prev && prev.step.type !== 'branch')) reachable.push(item);
  }
  const needed = reachable.filter((item, k) => {
    if ('step' in item) return true;
    const next = reachable[k + 1];
    return next ? !('step' in next && next.step.id === item.goto) : item.goto !== undefined;
  });

  const taken = new Set(needed.flatMap((item) => ('step' in item ? [item.step.id] : [])));
  const owners = new Map<string, string>();
  const steps = needed.map((item): Step => {
    if ('step' in item) return item.step;
    const pool = branches.get(item.owner)?.jumpIds ?? [];
    const id = pool.find((j) => !taken.has(j)) ?? freshId(taken, 'join');
    taken.add(id);
    owners.set(id, item.owner);
    return { id, type: 'branch', if: { replied: true }, ...(item.goto === undefined ? {} : { then: item.goto, else: item.goto }) };
  });
  return { steps, owners };
}

function freshId(taken: ReadonlySet<string>, base: string): string {
  for (let n = 1; ; n++) if (!taken.has(`${base}-${n}`)) return `${base}-${n}`;
}

// --- editing ------------------------------------------------------------------------------------

export function* walk(lane: Lane): Generator<FlowNode> {
  for (const node of lane.nodes) {
    yield node;
    if (node.kind === 'branch') {
      yield* walk(node.yes);
      yield* walk(node.no);
    }
  }
}

export const findNode = (root: Lane, id: string) => [...walk(root)].find((n) => n.step.id === id);

export function laneOf(root: Lane, ref: LaneRef): Lane | undefined {
  if (ref.branchId === null) return root;
  const node = findNode(root, ref.branchId);
  return node?.kind === 'branch' ? node[ref.side ?? 'yes'] : undefined;
}

/** The lane holding the node with this id, and the node's place in it. */
export function locate(lane: Lane, id: string): { lane: Lane; index: number } | undefined {
  const index = lane.nodes.findIndex((n) => n.step.id === id);
  if (index >= 0) return { lane, index };
  for (const node of lane.nodes) {
    if (node.kind !== 'branch') continue;
    const found = locate(node.yes, id) ?? locate(node.no, id);
    if (found) return found;
  }
  return undefined;
}

export function insertNode(root: Lane, ref: LaneRef, index: number, node: FlowNode): boolean {
  const lane = laneOf(root, ref);
  if (!lane) return false;
  lane.nodes.splice(Math.max(0, Math.min(index, lane.nodes.length)), 0, node);
  return true;
}

/** Moves a node one place up (-1) or down (+1) within its lane; false at the lane's edge. */
export function moveNode(root: Lane, id: string, delta: -1 | 1): boolean {
  const at = locate(root, id);
  if (!at) return false;
  const to = at.index + delta;
  if (to < 0 || to >= at.lane.nodes.length) return false;
  const [node] = at.lane.nodes.splice(at.index, 1);
  at.lane.nodes.splice(to, 0, node!);
  return true;
}

/** Removes a node; a branch goes with both its lanes. */
export function removeNode(root: Lane, id: string): boolean {
  const at = locate(root, id);
  if (!at) return false;
  at.lane.nodes.splice(at.index, 1);
  return true;
}

const ID_BASE: Record<StepType, string> = { send_welcome: 'welcome', mass_send: 'send', bot_send: 'bot', tag: 'tag', rep_task: 'task', branch: 'branch' };

export function newStepId(root: Lane, type: StepType): string {
  const taken = new Set<string>();
  for (const node of walk(root)) {
    taken.add(node.step.id);
    if (node.kind === 'branch') node.jumpIds.forEach((j) => taken.add(j));
  }
  return freshId(taken, ID_BASE[type]);
}

/** A new node with the defaults an operator would pick; names are filled by the page (i18n). */
export function makeNode(type: StepType, id: string, name: string): FlowNode {
  const base = { id, name };
  switch (type) {
    case 'branch':
      return { kind: 'branch', step: { ...base, type, if: { replied: true }, after: { days: 1 } }, yes: { nodes: [], end: false }, no: { nodes: [], end: false }, jumpIds: [] };
    case 'tag':
      return { kind: 'step', step: { ...base, type, add: [], remove: [] } };
    case 'rep_task':
      return { kind: 'step', step: { ...base, type, title: name, dueInDays: 1 } };
    case 'send_welcome':
      return { kind: 'step', step: { ...base, type, content: { text: '', attachments: [] } } };
    default:
      return { kind: 'step', step: { ...base, type, after: { days: 1 }, content: { text: '', attachments: [] } } };
  }
}

/** Step types a target can use (rules.ts: a group journey sends only). */
export function stepTypesFor(target: Target): StepType[] {
  return target === 'group' ? ['mass_send', 'bot_send'] : ['send_welcome', 'mass_send', 'bot_send', 'tag', 'rep_task', 'branch'];
}
